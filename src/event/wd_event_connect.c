/*
 * wd_event_connect.c -- outbound TCP/TLS streams on the worker's loop (see the header).
 *
 * Life of a connection: RESOLVE (uv_getaddrinfo on libuv's threadpool) -> CONNECT (each
 * address in turn; a failed attempt's handle is closed and a fresh one tries the next) ->
 * HANDSHAKE (TLS only: SSL_connect over memory BIOs, the ciphertext moved by the same
 * read/write paths as data) -> OPEN. Handles (the tcp handle, the idle handle that
 * delivers plaintext OpenSSL kept while the owner was not reading) and the resolver
 * request are counted in `refs`; wd_oconn_close() marks the object closed (no callback
 * runs after it), cancels or closes what is outstanding, and the last close callback
 * frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "wd_event_connect.h"

#define WD_OCONN_CHUNK 65536

enum { WD_OC_RESOLVE = 0, WD_OC_CONNECT, WD_OC_HANDSHAKE, WD_OC_OPEN, WD_OC_DEAD };

struct wd_oconn_s {
    uv_loop_t          *loop;
    uv_tcp_t            tcp;
    uv_idle_t           idle;
    uv_getaddrinfo_t    gai;
    uv_connect_t        creq;
    struct addrinfo    *ai, *ai_next;
    const wd_oconn_handler_t *h;
    void               *data;
    SSL                *ssl;
    BIO                *rbio, *wbio;
    char               *host;
    char               *tls_name;   /* SNI and verification name (NULL: host) */
    char               *sess_key;   /* session reuse: "ctx name|host|port" */
    unsigned            port;
    int                 state;
    int                 refs;
    int                 last_err;
    size_t              pending;
    char                errmsg[160];
    unsigned            closed:1;
    unsigned            tcp_live:1;
    unsigned            reading:1;   /* the owner wants input */
    unsigned            sock_reading:1;
    unsigned            idle_on:1;
    unsigned            eof:1;
    unsigned            ai_own:1;    /* ai is ours (an IP literal), not getaddrinfo's */
};

typedef struct {
    uv_write_t   req;
    wd_oconn_t  *oc;
    size_t       n;
    char         data[];
} wd_oconn_wreq_t;

static unsigned wd_oconn_live;
static char wd_oconn_rbuf[WD_OCONN_CHUNK];
static char wd_oconn_pbuf[WD_OCONN_CHUNK];

static void wd_oconn_retry_closed(uv_handle_t *hd);
static void wd_oconn_sock_start(wd_oconn_t *oc);
static void wd_oconn_tls_pump(wd_oconn_t *oc);

unsigned
wd_oconn_count(void)
{
    return wd_oconn_live;
}

void *
wd_oconn_data(wd_oconn_t *oc)
{
    return oc->data;
}

void
wd_oconn_set_handler(wd_oconn_t *oc, const wd_oconn_handler_t *h, void *data)
{
    oc->h = h;
    oc->data = data;
}

const char *
wd_oconn_error(wd_oconn_t *oc)
{
    return oc->errmsg;
}

size_t
wd_oconn_pending(wd_oconn_t *oc)
{
    /* bytes the kernel took are not pending, whether or not libuv ran the write
     * callbacks yet (they run in a later loop iteration, possibly after the answer) */
    if (oc->tcp_live && oc->state == WD_OC_OPEN
        && uv_stream_get_write_queue_size((uv_stream_t *) &oc->tcp) == 0
        && (oc->ssl == NULL || BIO_ctrl_pending(oc->wbio) == 0))
    {
        return 0;
    }
    return oc->pending;
}

static void
wd_oconn_unref(wd_oconn_t *oc)
{
    if (--oc->refs > 0) {
        return;
    }
    if (oc->ai && oc->ai_own) {
        free(oc->ai);
    } else if (oc->ai) {
        uv_freeaddrinfo(oc->ai);
    }
    if (oc->ssl) {
        SSL_free(oc->ssl);
    }
    free(oc->host);
    free(oc->tls_name);
    free(oc->sess_key);
    free(oc);
    wd_oconn_live--;
}

static void
wd_oconn_handle_closed(uv_handle_t *hd)
{
    wd_oconn_unref(hd->data);
}

/* ---------------------------------------------------------------- failure */

static void
wd_oconn_fail(wd_oconn_t *oc, int err, const char *fmt, const char *detail)
{
    int st = oc->state;

    if (oc->state == WD_OC_DEAD) {
        return;
    }
    if (oc->errmsg[0] == '\0') {
        snprintf(oc->errmsg, sizeof(oc->errmsg), fmt, detail ? detail : "");
    }
    oc->state = WD_OC_DEAD;
    oc->last_err = err;
    if (oc->sock_reading && oc->tcp_live) {
        uv_read_stop((uv_stream_t *) &oc->tcp);
        oc->sock_reading = 0;
    }
    if (oc->closed) {
        return;
    }
    if (st < WD_OC_OPEN) {
        oc->h->on_connect(oc, err);
    } else if (oc->reading || err != WD_OCONN_EOF) {
        oc->h->on_read(oc, NULL, 0, err);
    } else {
        oc->eof = 1;           /* delivered when the owner reads again */
    }
}

/* ---------------------------------------------------------------- output */

static void
wd_oconn_write_cb(uv_write_t *req, int status)
{
    wd_oconn_wreq_t *w = (wd_oconn_wreq_t *) req;
    wd_oconn_t *oc = w->oc;

    oc->pending -= w->n;
    free(w);
    if (oc->closed) {
        wd_oconn_unref(oc);
        return;
    }
    if (status < 0) {
        wd_oconn_fail(oc, WD_OCONN_ERESET, "write failed: %s", uv_strerror(status));
    } else if (oc->pending == 0 && oc->state == WD_OC_OPEN && oc->h->on_drain) {
        oc->h->on_drain(oc);        /* the write's own reference keeps oc alive through it */
    }
    wd_oconn_unref(oc);             /* ... and is dropped here on every path */
}

/* Put bytes on the socket (ciphertext or plain). 0 / -1. The socket takes what it can
 * at once (uv_try_write: one write(2) or writev(2), no copy, no write request, no
 * poll-set change or callback afterwards, so nothing "drains" for it); only the rest is
 * copied and queued behind whatever is queued already (uv_try_write refuses while the
 * queue is not empty, which keeps the order). `counted` plaintext bytes are pending
 * until the queued part's callback (none when the socket took everything). */
static int
wd_oconn_sock_writev(wd_oconn_t *oc, const uv_buf_t *bufs, unsigned nbufs, size_t counted)
{
    wd_oconn_wreq_t *w;
    uv_buf_t b;
    size_t n = 0, skip = 0, off = 0;

    for (unsigned i = 0; i < nbufs; i++) {
        n += bufs[i].len;
    }
    if (n == 0) {
        return 0;
    }
    if (oc->state == WD_OC_OPEN) {
        int k = uv_try_write((uv_stream_t *) &oc->tcp, bufs, nbufs);
        if (k == (int) n) {
            return 0;
        }
        if (k > 0) {
            skip = (size_t) k;
        }
        /* k < 0: EAGAIN, or a dead socket, whose error the queued write's callback
         * reports as before (a stale pooled connection is then retried) */
    }
    w = malloc(sizeof(*w) + (n - skip));
    if (w == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < nbufs; i++) {
        size_t l = bufs[i].len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(w->data + off, bufs[i].base + skip, l - skip);
        off += l - skip;
        skip = 0;
    }
    w->oc = oc;
    w->n = counted;
    b = uv_buf_init(w->data, (unsigned) off);
    if (uv_write(&w->req, (uv_stream_t *) &oc->tcp, &b, 1, wd_oconn_write_cb) < 0) {
        free(w);
        return -1;
    }
    oc->pending += counted;
    oc->refs++;
    return 0;
}

static int
wd_oconn_sock_write(wd_oconn_t *oc, const void *p, size_t n, size_t counted)
{
    uv_buf_t b = uv_buf_init((char *) p, (unsigned) n);
    return wd_oconn_sock_writev(oc, &b, 1, counted);
}

/* Move what OpenSSL produced to the socket; `counted` plaintext bytes ride with it. */
static int
wd_oconn_tls_flush(wd_oconn_t *oc, size_t counted)
{
    static char out[WD_OCONN_CHUNK];
    size_t n;

    while ((n = BIO_ctrl_pending(oc->wbio)) > 0) {
        int k = BIO_read(oc->wbio, out, (int) (n < sizeof(out) ? n : sizeof(out)));
        if (k <= 0) {
            return -1;
        }
        if (wd_oconn_sock_write(oc, out, (size_t) k, counted) < 0) {
            return -1;
        }
        if (uv_stream_get_write_queue_size((uv_stream_t *) &oc->tcp) != 0) {
            counted = 0;        /* the plaintext is counted with the first queued piece */
        }
    }
    return 0;
}

int
wd_oconn_writev(wd_oconn_t *oc, const uv_buf_t *bufs, unsigned nbufs)
{
    size_t n = 0;

    if (oc->closed || oc->state != WD_OC_OPEN) {
        return -1;
    }
    for (unsigned i = 0; i < nbufs; i++) {
        n += bufs[i].len;
    }
    if (oc->ssl == NULL) {
        return wd_oconn_sock_writev(oc, bufs, nbufs, n);
    }
    for (unsigned i = 0; i < nbufs; i++) {
        size_t off = 0;
        while (off < bufs[i].len) {
            size_t len = bufs[i].len - off;
            ERR_clear_error();
            int k = SSL_write(oc->ssl, bufs[i].base + off, len > INT_MAX ? INT_MAX : (int) len);
            if (k <= 0) {
                ERR_clear_error();
                return -1;
            }
            off += k;
        }
    }
    return wd_oconn_tls_flush(oc, n);
}

int
wd_oconn_write(wd_oconn_t *oc, const void *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *) p, (unsigned) n);
    return wd_oconn_writev(oc, &b, 1);
}

/* ---------------------------------------------------------------- input */

static void
wd_oconn_alloc_cb(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    buf->base = wd_oconn_rbuf;
    buf->len = sizeof(wd_oconn_rbuf);
}

static void wd_oconn_tls_handshake(wd_oconn_t *oc);

static void
wd_oconn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    wd_oconn_t *oc = s->data;

    if (oc->closed || nread == 0) {
        return;
    }
    if (nread < 0) {
        if (oc->ssl && oc->state == WD_OC_OPEN && nread == UV_EOF) {
            oc->eof = 1;       /* let OpenSSL deliver what it holds first */
            uv_read_stop(s);
            oc->sock_reading = 0;
            wd_oconn_tls_pump(oc);
            return;
        }
        wd_oconn_fail(oc, nread == UV_EOF ? (oc->state == WD_OC_HANDSHAKE ? WD_OCONN_ETLS
                                                                           : WD_OCONN_EOF)
                                          : WD_OCONN_ERESET,
                      "read: %s", uv_strerror((int) nread));
        return;
    }
    if (oc->ssl == NULL) {
        oc->refs++;
        oc->h->on_read(oc, buf->base, (size_t) nread, 0);
        wd_oconn_unref(oc);
        return;
    }
    BIO_write(oc->rbio, buf->base, (int) nread);
    if (oc->state == WD_OC_HANDSHAKE) {
        wd_oconn_tls_handshake(oc);
    } else {
        wd_oconn_tls_pump(oc);
    }
}

static void
wd_oconn_sock_start(wd_oconn_t *oc)
{
    if (!oc->sock_reading && oc->tcp_live && oc->state != WD_OC_DEAD && !oc->eof) {
        if (uv_read_start((uv_stream_t *) &oc->tcp, wd_oconn_alloc_cb, wd_oconn_read_cb) == 0) {
            oc->sock_reading = 1;
        }
    }
}

/* Decrypt and deliver while the owner reads. */
static void
wd_oconn_tls_pump(wd_oconn_t *oc)
{
    oc->refs++;
    while (!oc->closed && oc->reading && oc->state == WD_OC_OPEN) {
        ERR_clear_error();
        int n = SSL_read(oc->ssl, wd_oconn_pbuf, sizeof(wd_oconn_pbuf));
        if (n > 0) {
            oc->h->on_read(oc, wd_oconn_pbuf, (size_t) n, 0);
            continue;
        }
        int e = SSL_get_error(oc->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            if (oc->eof) {
                /* FIN without close_notify: the owner decides (framing tells) */
                oc->eof = 0;
                wd_oconn_fail(oc, WD_OCONN_EOF, "connection closed%s", "");
            }
            break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            wd_oconn_fail(oc, WD_OCONN_EOF, "connection closed%s", "");
        } else {
            char eb[128];
            ERR_error_string_n(ERR_peek_last_error(), eb, sizeof(eb));
            ERR_clear_error();
            wd_oconn_fail(oc, WD_OCONN_ETLS, "TLS read: %s", eb);
        }
        break;
    }
    if (!oc->closed && oc->state == WD_OC_OPEN) {
        (void) wd_oconn_tls_flush(oc, 0);
    }
    wd_oconn_unref(oc);
}

static void
wd_oconn_idle_cb(uv_idle_t *hd)
{
    wd_oconn_t *oc = hd->data;

    uv_idle_stop(hd);
    oc->idle_on = 0;
    if (oc->closed) {
        return;
    }
    if (oc->state == WD_OC_DEAD && oc->eof && oc->reading) {
        oc->eof = 0;
        oc->h->on_read(oc, NULL, 0, WD_OCONN_EOF);
        return;
    }
    if (oc->ssl && oc->state == WD_OC_OPEN) {
        wd_oconn_tls_pump(oc);
    }
}

void
wd_oconn_read_start(wd_oconn_t *oc)
{
    if (oc->closed || oc->reading) {
        return;
    }
    oc->reading = 1;
    if (oc->state == WD_OC_OPEN) {
        wd_oconn_sock_start(oc);
    }
    if ((oc->state == WD_OC_DEAD && oc->eof)
        || (oc->ssl && oc->state == WD_OC_OPEN && SSL_pending(oc->ssl) > 0)
        || (oc->ssl && oc->state == WD_OC_OPEN && oc->eof))
    {
        if (!oc->idle_on) {
            uv_idle_start(&oc->idle, wd_oconn_idle_cb);
            oc->idle_on = 1;
        }
    }
}

void
wd_oconn_read_stop(wd_oconn_t *oc)
{
    oc->reading = 0;
    if (oc->sock_reading && oc->state == WD_OC_OPEN) {
        uv_read_stop((uv_stream_t *) &oc->tcp);
        oc->sock_reading = 0;
    }
}

/* ---------------------------------------------------------------- TLS handshake */

static void
wd_oconn_opened(wd_oconn_t *oc)
{
    oc->state = WD_OC_OPEN;
    oc->reading = 1;
    wd_oconn_sock_start(oc);
    oc->refs++;
    oc->h->on_connect(oc, 0);
    if (!oc->closed && oc->ssl && oc->reading) {
        wd_oconn_tls_pump(oc);      /* application data that came with the handshake */
    }
    wd_oconn_unref(oc);
}

static void
wd_oconn_tls_handshake(wd_oconn_t *oc)
{
    ERR_clear_error();
    int n = SSL_connect(oc->ssl);
    (void) wd_oconn_tls_flush(oc, 0);
    if (n == 1) {
        wd_oconn_opened(oc);
        return;
    }
    int e = SSL_get_error(oc->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return;
    }
    long vr = SSL_get_verify_result(oc->ssl);
    unsigned long le = ERR_peek_last_error();
    char eb[128];
    ERR_error_string_n(le, eb, sizeof(eb));
    ERR_clear_error();
    if (vr != X509_V_OK) {
        wd_oconn_fail(oc, WD_OCONN_ECERT, "certificate verify failed: %s",
                      X509_verify_cert_error_string(vr));
    } else if (ERR_GET_LIB(le) == ERR_LIB_SSL && ERR_GET_REASON(le) >= 1000) {
        wd_oconn_fail(oc, WD_OCONN_EALERT, "TLS alert received: %s", eb);
    } else {
        wd_oconn_fail(oc, WD_OCONN_ETLS, "TLS handshake failed: %s", eb);
    }
}

static int
wd_oconn_is_ip(const char *host)
{
    unsigned char b[16];
    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* ---------------------------------------------------------------- TLS session reuse
 * A context made with session_reuse keeps, per process, the latest session of each
 * (context, name, host, port) -- what the server sent in its NewSessionTicket (TLS 1.3) or
 * at the end of the handshake (1.2) -- and offers it on the next connection there. */
typedef struct wd_oconn_sess_s wd_oconn_sess_t;
struct wd_oconn_sess_s {
    wd_oconn_sess_t *next;
    SSL_CTX         *ctx;
    char            *key;
    SSL_SESSION     *sess;
};
static wd_oconn_sess_t *wd_oconn_sessions;
static int wd_oconn_ex_key = -1;

static wd_oconn_sess_t *
wd_oconn_sess_find(SSL_CTX *ctx, const char *key)
{
    for (wd_oconn_sess_t *e = wd_oconn_sessions; e; e = e->next) {
        if (e->ctx == ctx && strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}

static int
wd_oconn_new_session(SSL *ssl, SSL_SESSION *sess)
{
    const char *key = wd_oconn_ex_key >= 0 ? SSL_get_ex_data(ssl, wd_oconn_ex_key) : NULL;
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    wd_oconn_sess_t *e;

    if (key == NULL || !SSL_SESSION_is_resumable(sess)) {
        return 0;
    }
    e = wd_oconn_sess_find(ctx, key);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL || (e->key = strdup(key)) == NULL) {
            free(e);
            return 0;
        }
        e->ctx = ctx;
        e->next = wd_oconn_sessions;
        wd_oconn_sessions = e;
    } else if (e->sess) {
        SSL_SESSION_free(e->sess);
    }
    e->sess = sess;
    return 1;                       /* the reference is ours */
}

static int
wd_oconn_tls_start(wd_oconn_t *oc, SSL_CTX *ctx)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    const char *name = oc->tls_name ? oc->tls_name : oc->host;

    oc->ssl = SSL_new(ctx);
    if (oc->ssl == NULL) {
        return -1;
    }
    oc->rbio = BIO_new(BIO_s_mem());
    oc->wbio = BIO_new(BIO_s_mem());
    if (oc->rbio == NULL || oc->wbio == NULL) {
        BIO_free(oc->rbio);
        BIO_free(oc->wbio);
        return -1;
    }
    SSL_set_bio(oc->ssl, oc->rbio, oc->wbio);
    SSL_set_connect_state(oc->ssl);
    SSL_set_alpn_protos(oc->ssl, alpn, sizeof(alpn) - 1);
    if (SSL_CTX_get_session_cache_mode(ctx) & SSL_SESS_CACHE_CLIENT) {
        char key[600];
        snprintf(key, sizeof(key), "%s|%s|%u", name, oc->host, oc->port);
        oc->sess_key = strdup(key);
        if (oc->sess_key && wd_oconn_ex_key >= 0) {
            wd_oconn_sess_t *e = wd_oconn_sess_find(ctx, key);
            SSL_set_ex_data(oc->ssl, wd_oconn_ex_key, oc->sess_key);
            if (e && e->sess) {
                SSL_set_session(oc->ssl, e->sess);
            }
        }
    }
    if (SSL_CTX_get_verify_mode(ctx) == SSL_VERIFY_NONE) {
        /* a context made unverified by wd_oconn_tls_ctx_options (proxy_ssl_verify off) */
        if (SSL_CTX_get_app_data(ctx) == NULL && !wd_oconn_is_ip(name)) {
            SSL_set_tlsext_host_name(oc->ssl, name);
        }
        SSL_set_verify(oc->ssl, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    if (wd_oconn_is_ip(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(oc->ssl), name);
    } else {
        if (SSL_CTX_get_app_data(ctx) == NULL) {
            SSL_set_tlsext_host_name(oc->ssl, name);
        }
        SSL_set_hostflags(oc->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(oc->ssl, name) != 1) {
            return -1;
        }
    }
    SSL_set_verify(oc->ssl, SSL_VERIFY_PEER, NULL);
    return 0;
}

/* ---------------------------------------------------------------- connect */

static void
wd_oconn_connect_cb(uv_connect_t *req, int status)
{
    wd_oconn_t *oc = req->data;

    if (oc->closed) {
        wd_oconn_unref(oc);
        return;
    }
    if (status < 0) {
        oc->last_err = status == UV_ECONNREFUSED ? WD_OCONN_EREFUSED
                     : (status == UV_ENETUNREACH || status == UV_EHOSTUNREACH)
                       ? WD_OCONN_EUNREACH : WD_OCONN_ECONNECT;
        snprintf(oc->errmsg, sizeof(oc->errmsg), "connect: %s", uv_strerror(status));
        /* close this attempt's handle; its close callback tries the next address */
        oc->tcp_live = 0;
        uv_close((uv_handle_t *) &oc->tcp, wd_oconn_retry_closed);
        wd_oconn_unref(oc);
        return;
    }
    oc->errmsg[0] = '\0';
    uv_tcp_nodelay(&oc->tcp, 1);
    if (oc->ssl) {
        oc->state = WD_OC_HANDSHAKE;
        wd_oconn_sock_start(oc);
        wd_oconn_tls_handshake(oc);
    } else {
        wd_oconn_opened(oc);
    }
    wd_oconn_unref(oc);
}

static void wd_oconn_attempt(wd_oconn_t *oc);

static void
wd_oconn_retry_closed(uv_handle_t *hd)
{
    wd_oconn_t *oc = hd->data;

    if (!oc->closed) {
        wd_oconn_attempt(oc);
    }
    wd_oconn_unref(oc);
}

static void
wd_oconn_attempt(wd_oconn_t *oc)
{
    int rc;

    while (oc->ai_next) {
        struct addrinfo *a = oc->ai_next;
        oc->ai_next = a->ai_next;
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6) {
            continue;
        }
        if (uv_tcp_init(oc->loop, &oc->tcp) != 0) {
            break;
        }
        oc->tcp.data = oc;
        oc->tcp_live = 1;
        oc->refs++;                           /* the tcp handle */
        oc->creq.data = oc;
        rc = uv_tcp_connect(&oc->creq, &oc->tcp, a->ai_addr, wd_oconn_connect_cb);
        if (rc == 0) {
            oc->refs++;                       /* the connect request */
            /* reading starts with the connect (libuv delivers nothing before the
             * connect callback): the socket enters the poll set once for both
             * events, instead of leaving it at the connect and coming back for
             * reading (an EEXIST-failing EPOLL_CTL_ADD, then a MOD, per connection) */
            oc->sock_reading = uv_read_start((uv_stream_t *) &oc->tcp, wd_oconn_alloc_cb,
                                             wd_oconn_read_cb) == 0;
            return;
        }
        oc->last_err = rc == UV_ECONNREFUSED ? WD_OCONN_EREFUSED : WD_OCONN_ECONNECT;
        snprintf(oc->errmsg, sizeof(oc->errmsg), "connect: %s", uv_strerror(rc));
        oc->tcp_live = 0;
        uv_close((uv_handle_t *) &oc->tcp, wd_oconn_retry_closed);
        return;
    }
    oc->state = WD_OC_CONNECT;
    wd_oconn_fail(oc, oc->last_err ? oc->last_err : WD_OCONN_ECONNECT, "%s",
                  oc->errmsg[0] ? oc->errmsg : "no address to connect to");
}

static void
wd_oconn_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    wd_oconn_t *oc = req->data;

    oc->ai = res;
    if (oc->closed) {
        wd_oconn_unref(oc);
        return;
    }
    if (status < 0 || res == NULL) {
        oc->state = WD_OC_RESOLVE;
        wd_oconn_fail(oc, WD_OCONN_EDNS, "cannot resolve: %s", uv_strerror(status));
        wd_oconn_unref(oc);
        return;
    }
    oc->state = WD_OC_CONNECT;
    oc->ai_next = res;
    wd_oconn_attempt(oc);
    wd_oconn_unref(oc);
}

wd_oconn_t *
wd_oconn_connect(uv_loop_t *loop, const char *host, unsigned port, void *tls_ctx,
                 const wd_oconn_handler_t *h, void *data)
{
    return wd_oconn_connect_name(loop, host, port, tls_ctx, NULL, h, data);
}

wd_oconn_t *
wd_oconn_connect_name(uv_loop_t *loop, const char *host, unsigned port, void *tls_ctx,
                      const char *tls_name, const wd_oconn_handler_t *h, void *data)
{
    struct addrinfo hints;
    char serv[16];
    wd_oconn_t *oc = calloc(1, sizeof(*oc));

    if (oc == NULL || (oc->host = strdup(host)) == NULL) {
        free(oc);
        return NULL;
    }
    if (tls_name && (oc->tls_name = strdup(tls_name)) == NULL) {
        free(oc->host);
        free(oc);
        return NULL;
    }
    wd_oconn_live++;
    oc->loop = loop;
    oc->h = h;
    oc->data = data;
    oc->port = port;
    oc->refs = 1;                    /* the owner's reference, dropped by close */
    uv_idle_init(loop, &oc->idle);
    oc->idle.data = oc;
    oc->refs++;                      /* the idle handle */
    if (tls_ctx && wd_oconn_tls_start(oc, tls_ctx) != 0) {
        snprintf(oc->errmsg, sizeof(oc->errmsg), "cannot set up TLS");
        goto fail;
    }
    /* an IP literal needs no resolver (no threadpool round trip): one address, ours */
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    int lit = uv_ip4_addr(host, (int) port, &a4) == 0 ? AF_INET
            : uv_ip6_addr(host, (int) port, &a6) == 0 ? AF_INET6 : 0;
    if (lit) {
        size_t sl = lit == AF_INET ? sizeof(a4) : sizeof(a6);
        struct addrinfo *ai = calloc(1, sizeof(*ai) + sl);
        if (ai == NULL) {
            snprintf(oc->errmsg, sizeof(oc->errmsg), "out of memory");
            goto fail;
        }
        ai->ai_family = lit;
        ai->ai_socktype = SOCK_STREAM;
        ai->ai_addrlen = sl;
        ai->ai_addr = (struct sockaddr *) (ai + 1);
        memcpy(ai->ai_addr, lit == AF_INET ? (void *) &a4 : (void *) &a6, sl);
        oc->ai = ai;
        oc->ai_own = 1;
        oc->ai_next = ai;
        oc->state = WD_OC_CONNECT;
        wd_oconn_attempt(oc);         /* connect completes (or fails) in a callback */
        return oc;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = 0;            /* no AI_ADDRCONFIG: its netlink query (socket+bind) is outside the workers' seccomp allow-list; unreachable families fail over to the next address */
    snprintf(serv, sizeof(serv), "%u", port);
    oc->gai.data = oc;
    if (uv_getaddrinfo(loop, &oc->gai, wd_oconn_gai_cb, host, serv, &hints) != 0) {
        snprintf(oc->errmsg, sizeof(oc->errmsg), "cannot start resolving");
        goto fail;
    }
    oc->refs++;                      /* the resolver request */
    return oc;

fail:
    oc->closed = 1;
    uv_close((uv_handle_t *) &oc->idle, wd_oconn_handle_closed);
    wd_oconn_unref(oc);
    return NULL;
}

void
wd_oconn_close(wd_oconn_t *oc)
{
    if (oc == NULL || oc->closed) {
        return;
    }
    oc->closed = 1;
    if (oc->state == WD_OC_RESOLVE) {
        uv_cancel((uv_req_t *) &oc->gai);    /* its callback still runs and unrefs */
    }
    if (oc->idle_on) {
        uv_idle_stop(&oc->idle);
    }
    uv_close((uv_handle_t *) &oc->idle, wd_oconn_handle_closed);
    if (oc->tcp_live) {
        oc->tcp_live = 0;
        if (oc->ssl && oc->state == WD_OC_OPEN) {
            ERR_clear_error();
            (void) SSL_shutdown(oc->ssl);     /* close_notify, best effort */
            ERR_clear_error();
            (void) wd_oconn_tls_flush(oc, 0);
        }
        uv_close((uv_handle_t *) &oc->tcp, wd_oconn_handle_closed);
    }
    wd_oconn_unref(oc);
}

/* ---------------------------------------------------------------- contexts */

void *
wd_oconn_tls_ctx(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    const char *sys = getenv(X509_get_default_cert_file_env());

    if (ctx == NULL) {
        snprintf(err, errlen, "SSL_CTX_new failed");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* the system store is read now, in the master: workers never open it */
    if (sys == NULL) {
        sys = X509_get_default_cert_file();
    }
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx, sys, NULL) != 1) {
        ERR_clear_error();        /* no system store: only the extra CA file then */
    }
    if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        char eb[128];
        ERR_error_string_n(ERR_peek_last_error(), eb, sizeof(eb));
        ERR_clear_error();
        snprintf(err, errlen, "cannot load CA file \"%s\": %s", ca_file, eb);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void
wd_oconn_tls_ctx_options(void *ctx, int verify, int sni)
{
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_app_data(ctx, sni ? NULL : (void *) 1);   /* non-NULL: no SNI */
}

void
wd_oconn_tls_ctx_free(void *ctx)
{
    for (wd_oconn_sess_t **pp = &wd_oconn_sessions; *pp; ) {
        wd_oconn_sess_t *e = *pp;
        if (e->ctx == ctx) {
            *pp = e->next;
            SSL_SESSION_free(e->sess);
            free(e->key);
            free(e);
        } else {
            pp = &e->next;
        }
    }
    SSL_CTX_free(ctx);
}

static int
wd_oconn_tls_err(char *err, size_t errlen, const char *what, const char *arg)
{
    char eb[160];
    ERR_error_string_n(ERR_peek_last_error(), eb, sizeof(eb));
    ERR_clear_error();
    snprintf(err, errlen, "%s \"%s\": %s", what, arg, eb);
    return -1;
}

void *
wd_oconn_tls_ctx_conf(const wd_oconn_tls_conf_t *c, char *err, size_t errlen)
{
    SSL_CTX *ctx = wd_oconn_tls_ctx(c->ca_file, err, errlen);
    static const struct { unsigned bit; int version; } vers[] = {
        { WD_OCONN_TLSv1, TLS1_VERSION }, { WD_OCONN_TLSv1_1, TLS1_1_VERSION },
        { WD_OCONN_TLSv1_2, TLS1_2_VERSION }, { WD_OCONN_TLSv1_3, TLS1_3_VERSION } };
    static const struct { unsigned bit; unsigned long op; } no[] = {
        { WD_OCONN_TLSv1, SSL_OP_NO_TLSv1 }, { WD_OCONN_TLSv1_1, SSL_OP_NO_TLSv1_1 },
        { WD_OCONN_TLSv1_2, SSL_OP_NO_TLSv1_2 }, { WD_OCONN_TLSv1_3, SSL_OP_NO_TLSv1_3 } };

    if (ctx == NULL) {
        return NULL;
    }
    ERR_clear_error();
    if (c->protocols) {
        int lo = 0, hi = 0;
        if (c->protocols & WD_OCONN_SSLv3) {
            lo = SSL3_VERSION;
            hi = SSL3_VERSION;
        }
        for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
            if (c->protocols & vers[i].bit) {
                lo = lo ? lo : vers[i].version;
                hi = vers[i].version;
            }
        }
        if (lo == 0) {
            snprintf(err, errlen, "no protocol this OpenSSL can use");
            goto fail;
        }
        SSL_CTX_set_min_proto_version(ctx, lo);
        SSL_CTX_set_max_proto_version(ctx, hi);
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
            if (!(c->protocols & no[i].bit)) {
                SSL_CTX_set_options(ctx, no[i].op);     /* a gap in the list */
            }
        }
    }
    if (c->ciphers && SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1) {
        wd_oconn_tls_err(err, errlen, "invalid cipher list", c->ciphers);
        goto fail;
    }
    if (c->cert) {
        if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
            wd_oconn_tls_err(err, errlen, "cannot load certificate", c->cert);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
            wd_oconn_tls_err(err, errlen, "cannot load certificate key", c->key);
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            wd_oconn_tls_err(err, errlen, "the key does not match the certificate", c->key);
            goto fail;
        }
    }
    if (c->verify_depth >= 0) {
        SSL_CTX_set_verify_depth(ctx, c->verify_depth);
    }
    if (c->session_reuse) {
        if (wd_oconn_ex_key < 0) {
            wd_oconn_ex_key = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        }
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT
                                            | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, wd_oconn_new_session);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    wd_oconn_tls_ctx_options(ctx, c->verify, c->sni);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int
wd_oconn_tls_reused(wd_oconn_t *oc)
{
    return oc->ssl && SSL_session_reused(oc->ssl);
}
