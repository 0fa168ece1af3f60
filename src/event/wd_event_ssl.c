/*
 * wd_event_ssl.c -- TLS over a connection's libuv stream, with OpenSSL memory BIOs.
 *
 * The socket is read into a per-worker scratch buffer and the ciphertext is appended to
 * the SSL's read BIO; SSL_read() then decrypts straight into the buffer the protocol's
 * alloc_cb hands out, and the protocol's read_cb sees plaintext exactly as it would see
 * bytes from a plain socket (same nread conventions: UV_EOF after close_notify or FIN,
 * other negative codes for errors).  Writes go the other way: SSL_write() into the write
 * BIO, whose content is moved into one heap block per uv_write (libuv keeps writes in
 * order); the protocol's write callback runs when the block carrying its data completed.
 * Everything else OpenSSL produces (handshake records, session tickets, alerts,
 * close_notify) leaves through the same path, so records never interleave.
 *
 * Back-pressure: the socket is read only while the protocol wants input (or during the
 * handshake).  Plaintext may remain buffered inside OpenSSL when the protocol stops
 * reading; when it starts again such data is delivered from the worker's idle handle
 * (never synchronously from wd_ssl_read_start: the caller may be in the middle of a
 * handler).
 *
 * Lifetime: the wd_ssl_conn_t and its SSL are freed with the connection object
 * (wd_ssl_free from the close callback), never while a callback may still be on the stack.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_cycle.h"
#include "wd_event.h"

#include <openssl/ssl.h>
#include <openssl/err.h>

#define WD_SSL_READ_CHUNK  65536

struct wd_ssl_conn_s {
    SSL                *ssl;
    BIO                *rbio;       /* ciphertext from the client (owned by ssl) */
    BIO                *wbio;       /* ciphertext to the client (owned by ssl) */
    wd_connection_t    *c;
    uv_alloc_cb         alloc_cb;   /* the protocol's plaintext callbacks */
    uv_read_cb          read_cb;
    wd_connection_handler_pt handshake_done;
    wd_log_t            log;
    wd_queue_t          pending;    /* in worker->ssl_pending while queued */
    int                 eof;        /* socket read result < 0 (UV_EOF, ...), 0: none */
    unsigned            handshaked:1;
    unsigned            want_read:1;     /* the protocol is reading */
    unsigned            sock_reading:1;  /* uv_read_start active on the socket */
    unsigned            eof_delivered:1;
    unsigned            shutdown_sent:1;
    unsigned            failed:1;        /* fatal TLS error: no close_notify */
    unsigned            queued:1;
};

typedef struct {
    uv_write_t          req;
    uv_write_t         *user;
    uv_write_cb         cb;
    char                data[];
} wd_ssl_wreq_t;

static char wd_ssl_rbuf[WD_SSL_READ_CHUNK];

static void wd_ssl_sock_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void wd_ssl_pump(wd_ssl_conn_t *t);

static void
wd_ssl_error_text(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0) {
        snprintf(buf, len, "no OpenSSL error");
    } else {
        ERR_error_string_n(e, buf, len);
    }
    ERR_clear_error();
}

/* ---- output ---- */

static void
wd_ssl_write_cb(uv_write_t *req, int status)
{
    wd_ssl_wreq_t *w = (wd_ssl_wreq_t *) req;

    if (w->cb) {
        w->cb(w->user, status);
    }
    free(w);
}

/* Moves the write BIO's content to the socket; user/cb (may be NULL) are notified when
 * it completed.  0 or a libuv error. */
static int
wd_ssl_flush(wd_ssl_conn_t *t, uv_write_t *user, uv_write_cb cb)
{
    size_t n = BIO_ctrl_pending(t->wbio);
    wd_ssl_wreq_t *w;
    uv_buf_t b;
    int rc;

    if (t->c->closed) {
        return UV_ECANCELED;
    }
    if (n == 0 && cb == NULL) {
        return 0;
    }
    w = malloc(sizeof(*w) + n);
    if (w == NULL) {
        return UV_ENOMEM;
    }
    if (n > 0 && BIO_read(t->wbio, w->data, (int) n) != (int) n) {
        free(w);
        return UV_EIO;
    }
    w->user = user;
    w->cb = cb;
    b = uv_buf_init(w->data, (unsigned) n);
    rc = uv_write(&w->req, (uv_stream_t *) &t->c->tcp, &b, 1, wd_ssl_write_cb);
    if (rc < 0) {
        free(w);
    }
    return rc;
}

int
wd_ssl_write(wd_connection_t *c, uv_write_t *req, const uv_buf_t *bufs, unsigned n,
             uv_write_cb cb)
{
    wd_ssl_conn_t *t = c->ssl;
    unsigned i;

    if (c->closed || t->failed || t->shutdown_sent || !t->handshaked) {
        return UV_EPIPE;
    }
    for (i = 0; i < n; i++) {
        size_t off = 0;
        while (off < bufs[i].len) {
            size_t len = bufs[i].len - off;
            int k;
            ERR_clear_error();
            k = SSL_write(t->ssl, bufs[i].base + off, len > INT_MAX ? INT_MAX : (int) len);
            if (k <= 0) {
                char e[256];
                wd_ssl_error_text(e, sizeof(e));
                t->failed = 1;
                wd_log_error(WD_LOG_INFO, &t->log, 0, "SSL_write() failed (%s), client: %s",
                             e, c->addr_text);
                return UV_EPIPE;
            }
            off += k;
        }
    }
    return wd_ssl_flush(t, req, cb);
}

int
wd_ssl_shutdown(wd_connection_t *c, uv_shutdown_t *req, uv_shutdown_cb cb)
{
    wd_ssl_conn_t *t = c->ssl;

    if (t->handshaked && !t->failed && !t->shutdown_sent) {
        t->shutdown_sent = 1;
        ERR_clear_error();
        (void) SSL_shutdown(t->ssl);
        ERR_clear_error();
        (void) wd_ssl_flush(t, NULL, NULL);
    }
    return uv_shutdown(req, (uv_stream_t *) &c->tcp, cb);
}

/* ---- input ---- */

static void
wd_ssl_sock_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) h;
    (void) suggested;
    /* the bytes are copied into the read BIO before anything else runs */
    buf->base = wd_ssl_rbuf;
    buf->len = sizeof(wd_ssl_rbuf);
}

static void
wd_ssl_sock_start(wd_ssl_conn_t *t)
{
    if (!t->sock_reading && !t->eof && !t->c->closed) {
        if (uv_read_start((uv_stream_t *) &t->c->tcp, wd_ssl_sock_alloc_cb,
                          wd_ssl_sock_read_cb) == 0)
        {
            t->sock_reading = 1;
        }
    }
}

static void
wd_ssl_sock_stop(wd_ssl_conn_t *t)
{
    if (t->sock_reading && !t->c->closed) {
        uv_read_stop((uv_stream_t *) &t->c->tcp);
    }
    t->sock_reading = 0;
}

static void
wd_ssl_unqueue(wd_ssl_conn_t *t)
{
    if (t->queued) {
        wd_queue_remove(&t->pending);
        t->queued = 0;
        if (wd_worker && wd_queue_empty(&wd_worker->ssl_pending)) {
            uv_idle_stop(&wd_worker->ssl_idle);
        }
    }
}

static void
wd_ssl_idle_cb(uv_idle_t *h)
{
    wd_worker_t *w = h->data;

    wd_queue_t batch;
    unsigned n = 0;

    wd_event_time_update();
    /* only the connections queued so far: one queued again while it is pumped (its
     * protocol stopped and restarted reading) waits for the next loop iteration */
    wd_queue_init(&batch);
    while (!wd_queue_empty(&w->ssl_pending)) {
        wd_queue_t *q = w->ssl_pending.next;
        wd_queue_remove(q);
        wd_queue_insert_tail(&batch, q);
        n++;
    }
    while (n-- > 0 && !wd_queue_empty(&batch)) {
        wd_ssl_conn_t *t = wd_queue_data(batch.next, wd_ssl_conn_t, pending);
        wd_queue_remove(&t->pending);
        t->queued = 0;
        if (!t->c->closed) {
            wd_ssl_pump(t);
        }
    }
    if (wd_queue_empty(&w->ssl_pending)) {
        uv_idle_stop(h);
    }
}

static int
wd_ssl_has_input(wd_ssl_conn_t *t)
{
    return SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(t->rbio) > 0
           || (t->eof && !t->eof_delivered);
}

int
wd_ssl_read_start(wd_connection_t *c, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
    wd_ssl_conn_t *t = c->ssl;
    wd_worker_t *w = c->worker;

    if (c->closed) {
        return UV_EINVAL;
    }
    t->alloc_cb = alloc_cb;
    t->read_cb = read_cb;
    t->want_read = 1;
    wd_ssl_sock_start(t);
    if (!t->queued && wd_ssl_has_input(t)) {
        if (wd_queue_empty(&w->ssl_pending)) {
            uv_idle_start(&w->ssl_idle, wd_ssl_idle_cb);
        }
        wd_queue_insert_tail(&w->ssl_pending, &t->pending);
        t->queued = 1;
    }
    return 0;
}

void
wd_ssl_read_stop(wd_connection_t *c)
{
    wd_ssl_conn_t *t = c->ssl;

    t->want_read = 0;
    wd_ssl_unqueue(t);
    if (t->handshaked) {
        wd_ssl_sock_stop(t);
    }
}

/* Decrypts into the protocol's buffers while it wants input. */
static void
wd_ssl_pump(wd_ssl_conn_t *t)
{
    wd_connection_t *c = t->c;
    uv_stream_t *s = (uv_stream_t *) &c->tcp;

    while (!c->closed && t->want_read) {
        uv_buf_t b = uv_buf_init(NULL, 0);
        int n, err;

        if (!wd_ssl_has_input(t)) {
            break;
        }
        t->alloc_cb((uv_handle_t *) s, WD_SSL_READ_CHUNK, &b);
        if (b.base == NULL || b.len == 0) {
            t->read_cb(s, UV_ENOBUFS, &b);
            break;
        }
        ERR_clear_error();
        n = SSL_read(t->ssl, b.base, b.len > INT_MAX ? INT_MAX : (int) b.len);
        if (n > 0) {
            t->read_cb(s, n, &b);
            continue;
        }
        err = SSL_get_error(t->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            if (t->eof && !t->eof_delivered && BIO_ctrl_pending(t->rbio) == 0) {
                t->eof_delivered = 1;
                t->read_cb(s, t->eof, &b);
            }
            break;      /* a partial record waits for more ciphertext */
        }
        t->eof_delivered = 1;
        if (err == SSL_ERROR_ZERO_RETURN) {
            /* close_notify from the client */
            t->eof = UV_EOF;
            t->read_cb(s, UV_EOF, &b);
        } else {
            char e[256];
            wd_ssl_error_text(e, sizeof(e));
            t->failed = 1;
            t->eof = UV_ECONNRESET;
            wd_log_error(WD_LOG_INFO, &t->log, 0, "SSL_read() failed (%s), client: %s",
                         e, c->addr_text);
            t->read_cb(s, UV_ECONNRESET, &b);
        }
        break;
    }
    if (!c->closed) {
        (void) wd_ssl_flush(t, NULL, NULL);    /* alerts, key updates */
    }
}

static void
wd_ssl_handshake_fail(wd_ssl_conn_t *t, const char *what, int send_alert)
{
    t->failed = 1;
    wd_log_error(WD_LOG_INFO, &t->log, 0, "%s while SSL handshaking, client: %s",
                 what, t->c->addr_text);
    if (send_alert && BIO_ctrl_pending(t->wbio) > 0) {
        char buf[1024];
        int n = BIO_read(t->wbio, buf, sizeof(buf));
        if (n > 0) {
            uv_buf_t b = uv_buf_init(buf, n);
            (void) uv_try_write((uv_stream_t *) &t->c->tcp, &b, 1);
        }
    }
    wd_connection_close(t->c);
}

static void
wd_ssl_do_handshake(wd_ssl_conn_t *t)
{
    int n, err;

    ERR_clear_error();
    n = SSL_do_handshake(t->ssl);
    if (n == 1) {
        t->handshaked = 1;
        if (wd_ssl_flush(t, NULL, NULL) < 0) {
            wd_ssl_handshake_fail(t, "writing handshake data failed", 0);
            return;
        }
        uv_timer_stop(&t->c->timer);
        wd_ssl_sock_stop(t);
        t->handshake_done(t->c);
        return;
    }
    err = SSL_get_error(t->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        if (wd_ssl_flush(t, NULL, NULL) < 0) {
            wd_ssl_handshake_fail(t, "writing handshake data failed", 0);
        }
        return;
    }
    {
        char e[256], msg[400];
        unsigned long code = ERR_peek_last_error();
        int plain = ERR_GET_LIB(code) == ERR_LIB_SSL
                    && (ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST
                        || ERR_GET_REASON(code) == SSL_R_HTTPS_PROXY_REQUEST);
        wd_ssl_error_text(e, sizeof(e));
        snprintf(msg, sizeof(msg), "%sSSL_do_handshake() failed (%s)",
                 plain ? "client sent plain HTTP request to the TLS port: " : "", e);
        /* a plaintext client gets no TLS alert it could not read anyway */
        wd_ssl_handshake_fail(t, msg, !plain);
    }
}

static void
wd_ssl_sock_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    wd_connection_t *c = s->data;
    wd_ssl_conn_t *t = c->ssl;

    if (c->closed || t == NULL) {
        return;
    }
    wd_event_time_update();
    if (nread == 0) {
        return;
    }
    if (nread < 0) {
        t->eof = (int) nread;
        wd_ssl_sock_stop(t);
        if (!t->handshaked) {
            wd_ssl_handshake_fail(t, nread == UV_EOF ? "client closed connection"
                                                     : uv_strerror((int) nread), 0);
            return;
        }
        wd_ssl_pump(t);
        return;
    }
    if (BIO_write(t->rbio, buf->base, (int) nread) != (int) nread) {
        if (t->handshaked && t->want_read) {
            t->eof = UV_ENOMEM;
            t->eof_delivered = 1;
            t->read_cb(s, UV_ENOMEM, buf);
        } else {
            wd_connection_close(c);
        }
        return;
    }
    if (!t->handshaked) {
        wd_ssl_do_handshake(t);
        return;
    }
    wd_ssl_pump(t);
    if (!c->closed && !t->want_read) {
        wd_ssl_sock_stop(t);
    }
}

static void
wd_ssl_timer_cb(uv_timer_t *timer)
{
    wd_connection_t *c = timer->data;
    wd_ssl_conn_t *t = c->ssl;

    wd_event_time_update();
    if (c->closed || t == NULL || t->handshaked) {
        return;
    }
    wd_ssl_handshake_fail(t, "client timed out", 0);
}

static void
wd_ssl_close_idle(wd_connection_t *c)
{
    wd_connection_close(c);
}

int
wd_ssl_handshake(wd_connection_t *c, wd_ssl_t *ssl, wd_msec_t timeout, wd_log_t *log,
                 wd_connection_handler_pt done)
{
    wd_ssl_conn_t *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        SSL_free(ssl);
        wd_connection_close(c);
        return WD_ERROR;
    }
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->rbio == NULL || t->wbio == NULL) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(ssl);
        free(t);
        wd_connection_close(c);
        return WD_ERROR;
    }
    BIO_set_mem_eof_return(t->rbio, -1);   /* empty = "want more", not EOF */
    BIO_set_mem_eof_return(t->wbio, -1);
    SSL_set_bio(ssl, t->rbio, t->wbio);
    SSL_set_accept_state(ssl);
    t->ssl = ssl;
    t->c = c;
    t->log = *log;
    t->log.connection = c->number;
    t->log.handler = NULL;
    t->log.next = NULL;
    t->handshake_done = done;
    wd_queue_init(&t->pending);
    c->ssl = t;
    c->close_idle = wd_ssl_close_idle;

    if (timeout > 0) {
        uv_timer_start(&c->timer, wd_ssl_timer_cb, timeout, 0);
    }
    wd_ssl_sock_start(t);
    if (!t->sock_reading) {
        wd_connection_close(c);
        return WD_ERROR;
    }
    return WD_OK;
}

void
wd_ssl_close(wd_connection_t *c)
{
    wd_ssl_conn_t *t = c->ssl;

    wd_ssl_unqueue(t);
    if (t->handshaked && !t->failed && !t->shutdown_sent
        && c->tcp.write_queue_size == 0)
    {
        /* best effort close_notify: nothing else is queued, so it goes out in order */
        char buf[256];
        int n;
        t->shutdown_sent = 1;
        ERR_clear_error();
        (void) SSL_shutdown(t->ssl);
        ERR_clear_error();
        n = BIO_read(t->wbio, buf, sizeof(buf));
        if (n > 0) {
            uv_buf_t b = uv_buf_init(buf, n);
            (void) uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
        }
    }
}

void
wd_ssl_free(wd_connection_t *c)
{
    wd_ssl_conn_t *t = c->ssl;

    if (t == NULL) {
        return;
    }
    wd_ssl_unqueue(t);
    SSL_free(t->ssl);       /* frees both BIOs */
    free(t);
    c->ssl = NULL;
}

void
wd_ssl_worker_close(wd_worker_t *w)
{
    if (!uv_is_closing((uv_handle_t *) &w->ssl_idle)) {
        uv_close((uv_handle_t *) &w->ssl_idle, NULL);
    }
}

const char *
wd_ssl_protocol(wd_connection_t *c)
{
    return c->ssl && c->ssl->handshaked ? SSL_get_version(c->ssl->ssl) : NULL;
}

const char *
wd_ssl_cipher(wd_connection_t *c)
{
    return c->ssl && c->ssl->handshaked ? SSL_get_cipher_name(c->ssl->ssl) : NULL;
}

int
wd_ssl_session_reused(wd_connection_t *c)
{
    return c->ssl && c->ssl->handshaked ? SSL_session_reused(c->ssl->ssl) == 1 : -1;
}

const char *
wd_ssl_server_name(wd_connection_t *c)
{
    return c->ssl ? SSL_get_servername(c->ssl->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}
