/*
 * wd_http_client.c -- the HTTP/1.1 client (see wd_http_client.h for the contract).
 *
 * Response head: the bytes are gathered in q->hbuf until the blank line (at most
 * max_head), checked by wd_hc_check_head (line ends, obs-fold, names, framing headers),
 * then given to llhttp in one piece, so the header pointers llhttp reports stay valid in
 * hbuf. Interim 1xx heads are checked and skipped; 101 is refused unless the request
 * asked to upgrade (rq.upgrade), then the exchange becomes a raw tunnel. The body is fed to
 * the same llhttp parser as it arrives; on_body appends to q->rbuf. While rbuf holds
 * WD_HC_RBUF_HIGH bytes or more the socket is not read (back-pressure to the upstream),
 * so a response of any size runs in bounded memory.
 *
 * A chunked body is decoded by the server's own chunked state machine
 * (wd_http_chunked.c: exact CRLF on every framing line, no bare CR/LF, sizes bounded),
 * not by llhttp, which takes any two bytes after chunk data as the CRLF.
 *
 * Request bodies: bytes written before the connection is up wait in q->wbuf (the caller
 * bounds them through wd_hc_pending); chunked framing is added here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <llhttp.h>
#include "wd_http_client.h"
#include "wd_event_connect.h"
#include "wd_http_chunked.h"

#define WD_HC_RBUF_HIGH  65536
#define WD_HC_RBUF_LOW   16384

typedef struct wd_hc_conn_s wd_hc_conn_t;

/* The idle connections of one upstream (key); exists while it has any. */
typedef struct wd_hc_up_s wd_hc_up_t;
struct wd_hc_up_s {
    char          *key;
    unsigned       nidle;
    wd_hc_conn_t  *khead, *ktail;    /* most recently parked first */
    wd_hc_up_t    *next;
};

struct wd_hc_conn_s {
    wd_oconn_t    *oc;
    char          *key;
    wd_hc_req_t   *q;                /* the exchange using it; NULL while idle */
    wd_hc_conn_t  *prev, *next;      /* idle list (all upstreams), most recent first */
    wd_hc_conn_t  *kprev, *knext;    /* idle list of its upstream */
    wd_hc_up_t    *up;               /* while idle */
    uint64_t       idle_since;
    unsigned       requests;
};

struct wd_hc_req_s {
    uv_loop_t     *loop;
    uv_timer_t     timer;
    wd_hc_conn_t  *conn;
    llhttp_t       parser;
    char          *key, *host, *head, *tls_name;
    size_t         head_len;
    unsigned       port;
    void          *tls_ctx;
    int            https;
    int            state, err;
    char           errtext[160];
    /* request body */
    char          *wbuf;
    size_t         wbuf_len, wbuf_cap;
    int64_t        cl, sent;
    /* response */
    char          *hbuf;
    size_t         hlen, hcap, max_head, head_end;
    int            status;
    wd_hc_header_t *hdrs;
    size_t         nh, nhcap;
    const char    *cur_name;
    size_t         cur_name_len;
    char          *rbuf;
    size_t         rlen, roff, rcap;
    wd_http_chunked_t ck;
    char          *tail;             /* chunked framing since the last data (trailers) */
    size_t         tail_len, tail_cap;
    wd_hc_header_t *trl;             /* response trailers (point into tail) */
    size_t         ntrl;
    uint64_t       t_connect, t_first, t_between;
    int            pool_max;
    wd_hc_req_t   *fl_prev, *fl_next;  /* awaiting the loop's flush (wd_hc_flush_cb) */
    void         (*notify)(void *data);
    void          *data;
    unsigned       body:1, chunked_req:1, body_finished:1, head_done:1, msg_done:1,
                   keepalive:1, closed:1, paused:1, head_req:1, got_byte:1, chunked:1,
                   retried:1, reused:1, needs_eof:1, head_out:1, fl_on:1,
                   upgrade:1, tunnel:1;
};

static unsigned wd_hc_nactive;
static wd_hc_conn_t *wd_hc_idle_head, *wd_hc_idle_tail;
static wd_hc_up_t *wd_hc_ups;
static unsigned wd_hc_nidle;
static unsigned wd_hc_max_idle_up = 64, wd_hc_max_idle = 256;
static uint64_t wd_hc_idle_ms = 15000;
static uv_timer_t wd_hc_sweep;
static int wd_hc_sweep_on;
static uv_loop_t *wd_hc_sweep_loop;
static int wd_hc_shutdown;          /* the worker is exiting: nothing is pooled any more */
static uv_prepare_t wd_hc_flusher;
static int wd_hc_flusher_on;
static wd_hc_req_t *wd_hc_fl_head;

static void wd_hc_fail(wd_hc_req_t *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void wd_hc_conn_drop(wd_hc_conn_t *c);
static void wd_hc_connect(wd_hc_req_t *q);
static void wd_hc_arm(wd_hc_req_t *q);
static void wd_hc_unflush(wd_hc_req_t *q);

static const wd_oconn_handler_t wd_hc_conn_handler;
static void wd_hc_trailers(wd_hc_req_t *q);

/* ---------------------------------------------------------------- helpers */

static void
wd_hc_notify(wd_hc_req_t *q)
{
    if (!q->closed && q->notify) {
        q->notify(q->data);
    }
}

static void
wd_hc_fail(wd_hc_req_t *q, int err, const char *fmt, ...)
{
    va_list ap;

    if (q->state == WD_HC_FAILED) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(q->errtext, sizeof(q->errtext), fmt, ap);
    va_end(ap);
    q->err = err;
    q->state = WD_HC_FAILED;
    uv_timer_stop(&q->timer);
    wd_hc_unflush(q);
    if (q->conn) {
        wd_hc_conn_drop(q->conn);
        q->conn = NULL;
    }
}

static int
wd_hc_append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *len + n) {
            c *= 2;
        }
        char *b = realloc(*buf, c);
        if (b == NULL) {
            return -1;
        }
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

/* ---------------------------------------------------------------- pool */

static wd_hc_up_t *
wd_hc_up_find(const char *key)
{
    for (wd_hc_up_t *u = wd_hc_ups; u; u = u->next) {
        if (strcmp(u->key, key) == 0) {
            return u;
        }
    }
    return NULL;
}

static void
wd_hc_idle_unlink(wd_hc_conn_t *c)
{
    wd_hc_up_t *u = c->up;

    if (c->prev) {
        c->prev->next = c->next;
    } else {
        wd_hc_idle_head = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    } else {
        wd_hc_idle_tail = c->prev;
    }
    c->prev = c->next = NULL;
    wd_hc_nidle--;
    if (c->kprev) {
        c->kprev->knext = c->knext;
    } else {
        u->khead = c->knext;
    }
    if (c->knext) {
        c->knext->kprev = c->kprev;
    } else {
        u->ktail = c->kprev;
    }
    c->kprev = c->knext = NULL;
    c->up = NULL;
    if (--u->nidle == 0) {
        wd_hc_up_t **pp = &wd_hc_ups;
        while (*pp != u) {
            pp = &(*pp)->next;
        }
        *pp = u->next;
        free(u->key);
        free(u);
    }
}

/* Closes a connection that is not idle-listed. */
static void
wd_hc_conn_drop(wd_hc_conn_t *c)
{
    wd_oconn_close(c->oc);
    free(c->key);
    free(c);
}

static void
wd_hc_sweep_cb(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    wd_hc_conn_t *c = wd_hc_idle_head, *n;

    for (; c; c = n) {
        n = c->next;
        if (now - c->idle_since >= wd_hc_idle_ms) {
            wd_hc_idle_unlink(c);
            wd_hc_conn_drop(c);
        }
    }
    if (wd_hc_idle_head == NULL) {
        uv_timer_stop(t);
    }
}

static void
wd_hc_idle_read(wd_oconn_t *oc, const char *p, size_t n, int err)
{
    /* an idle connection has nothing to say: input or its end closes it */
    wd_hc_conn_t *c = wd_oconn_data(oc);
    wd_hc_idle_unlink(c);
    wd_hc_conn_drop(c);
}

static void
wd_hc_idle_connect(wd_oconn_t *oc, int err)
{
}

static const wd_oconn_handler_t wd_hc_idle_handler = { wd_hc_idle_connect, wd_hc_idle_read, NULL };

static void
wd_hc_conn_park(wd_hc_conn_t *c, uv_loop_t *loop, unsigned max_up)
{
    wd_hc_up_t *u = wd_hc_up_find(c->key);

    if (u && u->nidle >= max_up) {
        wd_hc_conn_t *oldest = u->ktail;
        wd_hc_idle_unlink(oldest);              /* may free u */
        wd_hc_conn_drop(oldest);
        u = wd_hc_up_find(c->key);
    }
    if (wd_hc_nidle >= wd_hc_max_idle && wd_hc_idle_tail) {
        wd_hc_conn_t *x = wd_hc_idle_tail;
        int same = x->up == u;
        wd_hc_idle_unlink(x);
        wd_hc_conn_drop(x);
        if (same) {
            u = wd_hc_up_find(c->key);
        }
    }
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL || (u->key = strdup(c->key)) == NULL) {
            free(u);
            wd_hc_conn_drop(c);                 /* out of memory: not kept */
            return;
        }
        u->next = wd_hc_ups;
        wd_hc_ups = u;
    }
    c->q = NULL;
    c->idle_since = uv_now(loop);
    wd_oconn_set_handler(c->oc, &wd_hc_idle_handler, c);
    wd_oconn_read_start(c->oc);
    c->prev = NULL;
    c->next = wd_hc_idle_head;
    if (wd_hc_idle_head) {
        wd_hc_idle_head->prev = c;
    } else {
        wd_hc_idle_tail = c;
    }
    wd_hc_idle_head = c;
    wd_hc_nidle++;
    c->up = u;
    c->kprev = NULL;
    c->knext = u->khead;
    if (u->khead) {
        u->khead->kprev = c;
    } else {
        u->ktail = c;
    }
    u->khead = c;
    u->nidle++;
    if (!wd_hc_sweep_on) {
        uv_timer_init(loop, &wd_hc_sweep);
        uv_unref((uv_handle_t *) &wd_hc_sweep);
        wd_hc_sweep_on = 1;
        wd_hc_sweep_loop = loop;
    }
    if (!uv_is_active((uv_handle_t *) &wd_hc_sweep)) {
        uint64_t every = wd_hc_idle_ms < 1000 ? wd_hc_idle_ms : 1000;
        uv_timer_start(&wd_hc_sweep, wd_hc_sweep_cb, every ? every : 1, every ? every : 1);
    }
}

static wd_hc_conn_t *
wd_hc_conn_take(const char *key)
{
    wd_hc_up_t *u = wd_hc_up_find(key);
    wd_hc_conn_t *c = u ? u->khead : NULL;

    if (c) {
        wd_hc_idle_unlink(c);
    }
    return c;
}

void
wd_hc_pool_config(unsigned max_idle_per_upstream, unsigned max_idle, uint64_t idle_ms)
{
    wd_hc_max_idle_up = max_idle_per_upstream;
    wd_hc_max_idle = max_idle;
    wd_hc_idle_ms = idle_ms;
}

unsigned
wd_hc_pool_idle(void)
{
    return wd_hc_nidle;
}

unsigned
wd_hc_active(void)
{
    return wd_hc_nactive;
}

void
wd_hc_pool_close_all(void)
{
    wd_hc_shutdown = 1;
    while (wd_hc_idle_head) {
        wd_hc_conn_t *c = wd_hc_idle_head;
        wd_hc_idle_unlink(c);
        wd_hc_conn_drop(c);
    }
    if (wd_hc_sweep_on) {
        uv_timer_stop(&wd_hc_sweep);
        uv_close((uv_handle_t *) &wd_hc_sweep, NULL);
        wd_hc_sweep_on = 0;
    }
    if (wd_hc_flusher_on) {
        uv_prepare_stop(&wd_hc_flusher);
        uv_close((uv_handle_t *) &wd_hc_flusher, NULL);
        wd_hc_flusher_on = 0;
    }
}

/* ---------------------------------------------------------------- response parsing */

static wd_hc_req_t *
wd_hc_of(llhttp_t *p)
{
    return p->data;
}

static int
wd_hc_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    wd_hc_req_t *q = wd_hc_of(p);
    if (q->head_done) {
        return 0;                   /* trailer fields: ignored */
    }
    q->cur_name = at;               /* the head is parsed in one piece: contiguous */
    q->cur_name_len = len;
    return 0;
}

static int
wd_hc_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    wd_hc_req_t *q = wd_hc_of(p);
    if (q->head_done) {
        return 0;
    }
    if (q->nh == q->nhcap) {
        size_t c = q->nhcap ? q->nhcap * 2 : 16;
        wd_hc_header_t *h = realloc(q->hdrs, c * sizeof(*h));
        if (h == NULL) {
            return -1;
        }
        q->hdrs = h;
        q->nhcap = c;
    }
    q->hdrs[q->nh].name = q->cur_name;
    q->hdrs[q->nh].name_len = q->cur_name_len;
    q->hdrs[q->nh].value = at;
    q->hdrs[q->nh].value_len = len;
    q->nh++;
    return 0;
}

static int
wd_hc_on_headers_complete(llhttp_t *p)
{
    wd_hc_req_t *q = wd_hc_of(p);
    q->status = p->status_code;
    q->head_done = 1;
    q->chunked = (p->flags & F_CHUNKED) != 0;
    q->keepalive = llhttp_should_keep_alive(p);
    if (q->head_req || q->tunnel) {
        q->chunked = 0;
        return 1;                   /* a response to HEAD (or a 101) has no body */
    }
    /* a chunked body is ours to decode (below): llhttp stops after the head */
    return q->chunked ? HPE_PAUSED : 0;
}

static int
wd_hc_on_body(llhttp_t *p, const char *at, size_t len)
{
    wd_hc_req_t *q = wd_hc_of(p);
    return wd_hc_append(&q->rbuf, &q->rlen, &q->rcap, at, len) < 0 ? -1 : 0;
}

static int
wd_hc_on_message_complete(llhttp_t *p)
{
    wd_hc_req_t *q = wd_hc_of(p);
    q->msg_done = 1;
    q->keepalive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

static const llhttp_settings_t wd_hc_settings = {
    .on_header_field = wd_hc_on_header_field,
    .on_header_value = wd_hc_on_header_value,
    .on_headers_complete = wd_hc_on_headers_complete,
    .on_body = wd_hc_on_body,
    .on_message_complete = wd_hc_on_message_complete,
};

static int
wd_hc_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Our checks on a raw head [0, n) ending with CRLF CRLF. 0 ok, else an error code. */
static int
wd_hc_check_head(wd_hc_req_t *q, const char *h, size_t n, const char **why)
{
    size_t i, ls = 0;
    int ncl = 0, nte = 0, line = 0;
    int64_t clv = -1;

    for (i = 0; i < n; i++) {
        if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r')) {
            *why = "bare LF in the response head";
            return WD_HC_E_PROTOCOL;
        }
        if (h[i] == '\r' && (i + 1 >= n || h[i + 1] != '\n')) {
            *why = "bare CR in the response head";
            return WD_HC_E_PROTOCOL;
        }
    }
    for (i = 0; i < n; i++) {
        if (h[i] != '\n') {
            continue;
        }
        size_t le = i - 1;          /* the line is [ls, le) */
        if (line > 0 && le > ls) {
            const char *s = h + ls, *colon;
            size_t len = le - ls, k;
            if (s[0] == ' ' || s[0] == '\t') {
                *why = "obsolete line folding in the response head";
                return WD_HC_E_PROTOCOL;
            }
            colon = memchr(s, ':', len);
            if (colon == NULL || colon == s) {
                *why = "malformed response header line";
                return WD_HC_E_PROTOCOL;
            }
            for (k = 0; s + k < colon; k++) {
                if (!wd_hc_tchar((unsigned char) s[k])) {
                    *why = "invalid response header name";
                    return WD_HC_E_PROTOCOL;
                }
            }
            const char *v = colon + 1, *ve = s + len;
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            for (const char *x = v; x < ve; x++) {
                unsigned char c = (unsigned char) *x;
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    *why = "control character in a response header value";
                    return WD_HC_E_PROTOCOL;
                }
            }
            size_t nl = colon - s;
            if (nl == 14 && strncasecmp(s, "content-length", 14) == 0) {
                int64_t val = 0;
                if (v == ve || ve - v > 18) {
                    *why = "invalid Content-Length";
                    return WD_HC_E_PROTOCOL;
                }
                for (const char *x = v; x < ve; x++) {
                    if (*x < '0' || *x > '9') {
                        *why = "invalid Content-Length";
                        return WD_HC_E_PROTOCOL;
                    }
                    val = val * 10 + (*x - '0');
                }
                if (ncl++ && val != clv) {
                    *why = "differing Content-Length headers";
                    return WD_HC_E_PROTOCOL;
                }
                clv = val;
            } else if (nl == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) {
                nte++;
                if (ve - v != 7 || strncasecmp(v, "chunked", 7) != 0) {
                    *why = "unsupported Transfer-Encoding";
                    return nte > 1 || memmem(v, ve - v, "hunked", 6) ? WD_HC_E_PROTOCOL
                                                                     : WD_HC_E_CODING;
                }
            }
        }
        line++;
        ls = i + 1;
    }
    if (nte > 1) {
        *why = "more than one Transfer-Encoding header";
        return WD_HC_E_PROTOCOL;
    }
    if (nte && ncl) {
        *why = "Content-Length with Transfer-Encoding";
        return WD_HC_E_PROTOCOL;
    }
    if (ncl > 1) {
        *why = "duplicate Content-Length";
        return WD_HC_E_PROTOCOL;
    }
    return 0;
}

static void
wd_hc_parse_error(wd_hc_req_t *q)
{
    const char *r = llhttp_get_error_reason(&q->parser);
    wd_hc_fail(q, WD_HC_E_PROTOCOL, "malformed response: %s", r ? r : "parse error");
}

/* The chunked body is complete: q->tail holds [CRLF] last-chunk trailer-section CRLF,
 * already checked by the parser; index its field lines. */
static void
wd_hc_trailers(wd_hc_req_t *q)
{
    char *p = q->tail, *end = q->tail + q->tail_len, *e;
    size_t n = 0;

    if (q->tail_len >= 2 && p[0] == '\r' && p[1] == '\n') {
        p += 2;                                 /* the end of the last data chunk */
    }
    p = memmem(p, end - p, "\r\n", 2);        /* past the last-chunk line */
    if (p == NULL) {
        return;
    }
    p += 2;
    for (char *x = p; x < end && (e = memmem(x, end - x, "\r\n", 2)) != NULL && e > x;
         x = e + 2) {
        n++;
    }
    if (n == 0 || (q->trl = calloc(n, sizeof(*q->trl))) == NULL) {
        return;
    }
    for (; p < end && (e = memmem(p, end - p, "\r\n", 2)) != NULL && e > p; p = e + 2) {
        char *colon = memchr(p, ':', e - p), *v, *ve = e;
        if (colon == NULL) {
            continue;
        }
        for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++) {
        }
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }
        q->trl[q->ntrl].name = p;
        q->trl[q->ntrl].name_len = colon - p;
        q->trl[q->ntrl].value = v;
        q->trl[q->ntrl].value_len = ve - v;
        q->ntrl++;
    }
}

/* Feed body bytes to llhttp. */
static void
wd_hc_feed_body(wd_hc_req_t *q, const char *p, size_t n)
{
    if (n == 0 || q->state == WD_HC_FAILED) {
        return;
    }
    if (q->tunnel) {
        /* raw bytes of the new protocol */
        if (wd_hc_append(&q->rbuf, &q->rlen, &q->rcap, p, n) < 0) {
            wd_hc_fail(q, WD_HC_E_INTERNAL, "out of memory");
        }
        return;
    }
    if (q->msg_done) {
        /* bytes after the response: the connection cannot be reused */
        q->keepalive = 0;
        return;
    }
    if (q->chunked) {
        const unsigned char *pos = (const unsigned char *) p, *end = pos + n, *d;
        size_t dn;
        for (;;) {
            const unsigned char *from = pos;
            int rc = wd_http_chunked_parse(&q->ck, &pos, end, (size_t) -1, &d, &dn);
            if (rc == WD_HTTP_CHUNKED_DATA) {
                q->tail_len = 0;       /* framing before data is no trailer section */
                if (wd_hc_append(&q->rbuf, &q->rlen, &q->rcap, d, dn) < 0) {
                    wd_hc_fail(q, WD_HC_E_INTERNAL, "out of memory");
                    return;
                }
                continue;
            }
            /* framing bytes only: keep them (bounded by the parser's line and trailer
             * limits) so the trailer fields can be read once the body is complete */
            if ((rc == WD_HTTP_CHUNKED_AGAIN || rc == WD_HTTP_CHUNKED_DONE) && pos > from
                && wd_hc_append(&q->tail, &q->tail_len, &q->tail_cap, from, pos - from) < 0)
            {
                wd_hc_fail(q, WD_HC_E_INTERNAL, "out of memory");
                return;
            }
            if (rc == WD_HTTP_CHUNKED_DONE) {
                wd_hc_trailers(q);
                q->msg_done = 1;
                if (pos < end) {
                    q->keepalive = 0;   /* bytes after the response */
                }
            } else if (rc == WD_HTTP_CHUNKED_ERROR) {
                wd_hc_fail(q, WD_HC_E_PROTOCOL, "malformed chunked response body: %s",
                           q->ck.error ? q->ck.error : "bad framing");
            }
            return;
        }
    }
    llhttp_errno_t e = llhttp_execute(&q->parser, p, n);
    if (e == HPE_PAUSED) {
        const char *stop = llhttp_get_error_pos(&q->parser);
        llhttp_resume(&q->parser);
        if (stop && stop < p + n) {
            q->keepalive = 0;       /* trailing garbage after the message */
        }
    } else if (e != HPE_OK) {
        wd_hc_parse_error(q);
    }
}

/* A complete head at hbuf[0, end). */
static void
wd_hc_head(wd_hc_req_t *q, size_t end)
{
    const char *why = NULL;
    int rc = wd_hc_check_head(q, q->hbuf, end, &why);

    if (rc) {
        wd_hc_fail(q, rc, "%s", why);
        return;
    }
    /* interim responses: checked, then skipped (101 switches protocols: refused) */
    if (end >= 12 && memcmp(q->hbuf, "HTTP/1.", 7) == 0 && q->hbuf[9] == '1') {
        if (memcmp(q->hbuf + 9, "101", 3) == 0) {
            if (!q->upgrade || q->body) {
                wd_hc_fail(q, WD_HC_E_UPGRADE, "upstream switched protocols (101)");
                return;
            }
            q->tunnel = 1;          /* parsed below as a head with no body */
        } else {
            memmove(q->hbuf, q->hbuf + end, q->hlen - end);
            q->hlen -= end;
            return;
        }
    }
    llhttp_init(&q->parser, HTTP_RESPONSE, &wd_hc_settings);
    q->parser.data = q;
    wd_http_chunked_init(&q->ck);
    llhttp_errno_t e = llhttp_execute(&q->parser, q->hbuf, end);
    if (e == HPE_PAUSED) {
        llhttp_resume(&q->parser);
    } else if (e == HPE_PAUSED_UPGRADE && q->tunnel) {
        llhttp_resume_after_upgrade(&q->parser);
    } else if (e != HPE_OK) {
        wd_hc_parse_error(q);
        return;
    }
    if (!q->head_done) {
        wd_hc_fail(q, WD_HC_E_PROTOCOL, "malformed response head");
        return;
    }
    q->head_end = end;
    if (q->tunnel) {
        q->msg_done = 0;            /* the tunnel ends when the upstream closes */
        q->keepalive = 0;
        q->state = WD_HC_BODY;
        wd_hc_feed_body(q, q->hbuf + end, q->hlen - end);
        return;
    }
    q->needs_eof = llhttp_message_needs_eof(&q->parser);
    q->state = q->msg_done ? WD_HC_DONE : WD_HC_BODY;
    wd_hc_feed_body(q, q->hbuf + end, q->hlen - end);
}

static void
wd_hc_input(wd_hc_req_t *q, const char *p, size_t n)
{
    if (!q->head_done) {
        size_t from = q->hlen > 3 ? q->hlen - 3 : 0;
        size_t room = q->max_head + 1 - q->hlen;   /* one byte more: "too large" */
        size_t take = n < room ? n : room;
        if (wd_hc_append(&q->hbuf, &q->hlen, &q->hcap, p, take) < 0) {
            wd_hc_fail(q, WD_HC_E_INTERNAL, "out of memory");
            return;
        }
        for (;;) {
            char *e = memmem(q->hbuf + from, q->hlen - from, "\r\n\r\n", 4);
            size_t lim = e ? (size_t) (e + 4 - q->hbuf) : q->hlen;
            /* bare LF / CR are refused at once, not at the end of a head that never comes */
            for (size_t i = from; i < lim; i++) {
                if ((q->hbuf[i] == '\n' && (i == 0 || q->hbuf[i - 1] != '\r'))
                    || (q->hbuf[i] == '\r' && i + 1 < q->hlen && q->hbuf[i + 1] != '\n'))
                {
                    wd_hc_fail(q, WD_HC_E_PROTOCOL, "bare %s in the response head",
                               q->hbuf[i] == '\n' ? "LF" : "CR");
                    return;
                }
            }
            if (e == NULL) {
                if (q->hlen > q->max_head) {
                    wd_hc_fail(q, WD_HC_E_HEAD_SIZE, "response head larger than %zu bytes",
                               q->max_head);
                }
                return;
            }
            size_t end = e + 4 - q->hbuf;
            size_t before = q->hlen;
            wd_hc_head(q, end);
            if (q->state == WD_HC_FAILED || q->head_done) {
                if (take < n && q->state != WD_HC_FAILED) {
                    wd_hc_feed_body(q, p + take, n - take);
                }
                return;
            }
            from = 0;                  /* a 1xx head was skipped: look again */
            (void) before;
        }
    }
    wd_hc_feed_body(q, p, n);
}

/* ---------------------------------------------------------------- connection events */

static void
wd_hc_flow(wd_hc_req_t *q)
{
    if (q->conn == NULL) {
        return;
    }
    if (q->rlen - q->roff >= WD_HC_RBUF_HIGH && !q->paused) {
        q->paused = 1;
        wd_oconn_read_stop(q->conn->oc);
        uv_timer_stop(&q->timer);
    } else if (q->paused && q->rlen - q->roff <= WD_HC_RBUF_LOW) {
        q->paused = 0;
        wd_oconn_read_start(q->conn->oc);
        wd_hc_arm(q);
    }
}

/* The response is complete: the connection goes back to the pool if it can. */
static void
wd_hc_settle(wd_hc_req_t *q)
{
    if (q->state == WD_HC_BODY && q->msg_done) {
        q->state = WD_HC_DONE;
    }
    if (q->state == WD_HC_DONE) {
        uv_timer_stop(&q->timer);
    }
}

static void
wd_hc_on_read(wd_oconn_t *oc, const char *p, size_t n, int err)
{
    wd_hc_conn_t *c = wd_oconn_data(oc);
    wd_hc_req_t *q = c->q;

    if (n > 0) {
        q->got_byte = 1;
        wd_hc_input(q, p, n);
        if (q->state != WD_HC_FAILED) {
            wd_hc_settle(q);
            wd_hc_flow(q);
            if (q->state == WD_HC_BODY || q->state == WD_HC_WAITING) {
                wd_hc_arm(q);
            }
        }
        wd_hc_notify(q);
        return;
    }
    /* the end of the upstream's stream, or a failure */
    if (!q->got_byte && q->reused && !q->retried && !q->body) {
        /* a pooled connection the upstream had closed: once more on a fresh one */
        q->retried = 1;
        wd_hc_conn_drop(c);
        q->conn = NULL;
        q->state = WD_HC_CONNECTING;
        q->reused = 0;
        q->head_out = 0;
        wd_hc_connect(q);
        return;
    }
    if (err == WD_OCONN_EOF && q->tunnel) {
        q->msg_done = 1;            /* the upstream closed its side of the tunnel */
        q->state = WD_HC_DONE;
        uv_timer_stop(&q->timer);
        wd_hc_notify(q);
        return;
    }
    if (err == WD_OCONN_EOF && q->head_done && !q->msg_done && q->needs_eof) {
        llhttp_errno_t e = llhttp_finish(&q->parser);
        if (e == HPE_OK || e == HPE_PAUSED) {
            q->msg_done = 1;
            q->keepalive = 0;
            wd_hc_settle(q);
            wd_hc_notify(q);
            return;
        }
    }
    if (q->msg_done) {
        q->keepalive = 0;          /* closed after a complete response: fine */
        wd_hc_notify(q);
        return;
    }
    if (err == WD_OCONN_EOF) {
        wd_hc_fail(q, WD_HC_E_INCOMPLETE, "upstream closed the connection %s",
                   q->head_done ? "in the middle of the body" : "before the response head");
    } else if (err == WD_OCONN_ETLS) {
        wd_hc_fail(q, WD_HC_E_TLS, "%s", wd_oconn_error(oc));
    } else {
        wd_hc_fail(q, WD_HC_E_RESET, "%s", wd_oconn_error(oc));
    }
    wd_hc_notify(q);
}

/* ---------------------------------------------------------------- request output */

/*
 * Everything the request sends (head, body, chunk framing, trailers) leaves through
 * wd_hc_emit, which coalesces: while the message is not complete (a body is still to
 * come) and less than WD_HC_CORK bytes wait, the bytes are kept in wbuf and sent by
 * the loop's flush (a prepare handle: before the loop next waits for I/O, so nothing is
 * delayed beyond the current loop iteration); the end of the message, or WD_HC_CORK
 * bytes, sends all that waits with one writev. So a head with a body written in the same
 * turn goes out in one write, as does a chunk with its size line and CRLF. What is held
 * stays below WD_HC_CORK, under every caller's "drained" mark (the proxy's 64 KiB, the
 * wasi:http host's 16 KiB low water), so no caller ever waits for the flush.
 */
#define WD_HC_CORK 8192

static void
wd_hc_unflush(wd_hc_req_t *q)
{
    if (!q->fl_on) {
        return;
    }
    if (q->fl_prev) {
        q->fl_prev->fl_next = q->fl_next;
    } else {
        wd_hc_fl_head = q->fl_next;
    }
    if (q->fl_next) {
        q->fl_next->fl_prev = q->fl_prev;
    }
    q->fl_prev = q->fl_next = NULL;
    q->fl_on = 0;
    if (wd_hc_fl_head == NULL && wd_hc_flusher_on) {
        uv_prepare_stop(&wd_hc_flusher);
    }
}

static int wd_hc_emit(wd_hc_req_t *q, const uv_buf_t *parts, unsigned np, int force);

static void
wd_hc_flush_cb(uv_prepare_t *p)
{
    while (wd_hc_fl_head) {
        wd_hc_req_t *q = wd_hc_fl_head;
        wd_hc_unflush(q);
        if (wd_hc_emit(q, NULL, 0, 1) < 0) {
            wd_hc_fail(q, WD_HC_E_RESET, "cannot write the request");
            wd_hc_notify(q);
        }
    }
}

static void
wd_hc_schedule(wd_hc_req_t *q)
{
    if (q->fl_on) {
        return;
    }
    if (!wd_hc_flusher_on) {
        uv_prepare_init(q->loop, &wd_hc_flusher);
        uv_unref((uv_handle_t *) &wd_hc_flusher);
        wd_hc_flusher_on = 1;
    }
    if (wd_hc_fl_head == NULL) {
        uv_prepare_start(&wd_hc_flusher, wd_hc_flush_cb);
    }
    q->fl_prev = NULL;
    q->fl_next = wd_hc_fl_head;
    if (wd_hc_fl_head) {
        wd_hc_fl_head->fl_prev = q;
    }
    wd_hc_fl_head = q;
    q->fl_on = 1;
}

/* Sends parts (after the head, if not out yet, and what waits in wbuf), or keeps them
 * for the flush (see above); force sends now. Before the connection is open all waits
 * in wbuf. 0, or -1 (out of memory, or the connection is dead). */
static int
wd_hc_emit(wd_hc_req_t *q, const uv_buf_t *parts, unsigned np, int force)
{
    uv_buf_t iov[8];
    unsigned n = 0;
    size_t total = q->wbuf_len + (q->head_out ? 0 : q->head_len);
    int open = q->conn && q->state != WD_HC_CONNECTING && q->state != WD_HC_FAILED;
    int complete = !q->body || q->body_finished;

    for (unsigned i = 0; i < np; i++) {
        total += parts[i].len;
    }
    if (!open || (!force && !complete && total < WD_HC_CORK && !wd_hc_shutdown)) {
        for (unsigned i = 0; i < np; i++) {
            if (wd_hc_append(&q->wbuf, &q->wbuf_len, &q->wbuf_cap, parts[i].base,
                             parts[i].len) < 0) {
                return -1;
            }
        }
        if (open && total > 0) {
            wd_hc_schedule(q);
        }
        return 0;
    }
    wd_hc_unflush(q);
    if (!q->head_out) {
        iov[n++] = uv_buf_init(q->head, (unsigned) q->head_len);
    }
    if (q->wbuf_len) {
        iov[n++] = uv_buf_init(q->wbuf, (unsigned) q->wbuf_len);
    }
    for (unsigned i = 0; i < np && n < sizeof(iov) / sizeof(iov[0]); i++) {
        if (parts[i].len) {
            iov[n++] = parts[i];
        }
    }
    int rc = n ? wd_oconn_writev(q->conn->oc, iov, n) : 0;
    q->head_out = 1;
    q->wbuf_len = 0;
    if (q->wbuf_cap > 4 * WD_HC_CORK) {
        free(q->wbuf);              /* a large pre-connect body: do not keep its buffer */
        q->wbuf = NULL;
        q->wbuf_cap = 0;
    }
    return rc;
}

static void
wd_hc_send_queued(wd_hc_req_t *q)
{
    q->state = WD_HC_WAITING;
    if (wd_hc_emit(q, NULL, 0, 0) < 0) {
        wd_hc_fail(q, WD_HC_E_RESET, "cannot write the request");
        return;
    }
    wd_hc_arm(q);
}

static void
wd_hc_on_connect(wd_oconn_t *oc, int err)
{
    wd_hc_conn_t *c = wd_oconn_data(oc);
    wd_hc_req_t *q = c->q;

    if (err) {
        int e = err == WD_OCONN_EDNS ? WD_HC_E_DNS : err == WD_OCONN_EREFUSED ? WD_HC_E_REFUSED
              : err == WD_OCONN_EUNREACH ? WD_HC_E_UNREACH : err == WD_OCONN_ECERT ? WD_HC_E_CERT
              : err == WD_OCONN_EALERT ? WD_HC_E_TLS_ALERT
              : err == WD_OCONN_ETLS || (q->https && err == WD_OCONN_ERESET) ? WD_HC_E_TLS
              : WD_HC_E_CONNECT;
        wd_hc_fail(q, e, "%s", wd_oconn_error(oc));
        wd_hc_notify(q);
        return;
    }
    wd_hc_send_queued(q);
    wd_hc_notify(q);
}

static void
wd_hc_on_drain(wd_oconn_t *oc)
{
    wd_hc_conn_t *c = wd_oconn_data(oc);
    wd_hc_notify(c->q);
}

static const wd_oconn_handler_t wd_hc_conn_handler = { wd_hc_on_connect, wd_hc_on_read,
                                                       wd_hc_on_drain };

/* ---------------------------------------------------------------- timers */

static void
wd_hc_timer_cb(uv_timer_t *t)
{
    wd_hc_req_t *q = t->data;

    switch (q->state) {
    case WD_HC_CONNECTING:
        wd_hc_fail(q, WD_HC_E_CONNECT_TIMEOUT, "connect timed out");
        break;
    case WD_HC_WAITING:
        wd_hc_fail(q, WD_HC_E_FIRST_BYTE_TIMEOUT, "no response within the first-byte timeout");
        break;
    case WD_HC_BODY:
        wd_hc_fail(q, WD_HC_E_BETWEEN_BYTES_TIMEOUT, q->tunnel
                   ? "tunnel idle (no byte either way within the timeout)"
                   : "response stalled (between-bytes timeout)");
        break;
    default:
        return;
    }
    wd_hc_notify(q);
}

static void
wd_hc_arm(wd_hc_req_t *q)
{
    uint64_t ms = q->state == WD_HC_CONNECTING ? q->t_connect
                : q->state == WD_HC_WAITING ? (q->got_byte ? q->t_between : q->t_first)
                : q->state == WD_HC_BODY && !q->paused ? q->t_between : 0;
    if (ms) {
        uv_timer_start(&q->timer, wd_hc_timer_cb, ms, 0);
    } else {
        uv_timer_stop(&q->timer);
    }
}

/* ---------------------------------------------------------------- API */

static void
wd_hc_connect(wd_hc_req_t *q)
{
    /* an exchange that never pools (pool_max -1) never takes a pooled connection either */
    wd_hc_conn_t *c = q->pool_max < 0 ? NULL : wd_hc_conn_take(q->key);

    if (c) {
        q->reused = 1;
        c->q = q;
        c->requests++;
        q->conn = c;
        wd_oconn_set_handler(c->oc, &wd_hc_conn_handler, c);
        wd_oconn_read_start(c->oc);
        wd_hc_send_queued(q);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->key = strdup(q->key)) == NULL) {
        free(c);
        wd_hc_fail(q, WD_HC_E_INTERNAL, "out of memory");
        return;
    }
    c->q = q;
    c->requests = 1;
    c->oc = wd_oconn_connect_name(q->loop, q->host, q->port, q->https ? q->tls_ctx : NULL,
                                  q->tls_name, &wd_hc_conn_handler, c);
    if (c->oc == NULL) {
        free(c->key);
        free(c);
        wd_hc_fail(q, WD_HC_E_INTERNAL, "cannot start connecting");
        return;
    }
    q->conn = c;
    wd_hc_arm(q);
}

wd_hc_req_t *
wd_hc_start(uv_loop_t *loop, const wd_hc_request_t *rq)
{
    wd_hc_req_t *q = calloc(1, sizeof(*q));
    char key[512];
    size_t i;

    if (q == NULL) {
        return NULL;
    }
    q->loop = loop;
    q->https = rq->https;
    q->port = rq->port;
    q->tls_ctx = rq->tls_ctx;
    q->cl = rq->content_length;
    q->body = rq->body != 0;
    q->chunked_req = q->body && rq->content_length < 0;
    q->max_head = rq->max_head ? rq->max_head : 65536;
    q->t_connect = rq->connect_timeout_ms;
    q->t_first = rq->first_byte_timeout_ms;
    q->t_between = rq->between_bytes_timeout_ms;
    q->notify = rq->notify;
    q->data = rq->data;
    q->pool_max = rq->pool_max;
    q->upgrade = rq->upgrade != 0;
    q->head_req = strcmp(rq->method, "HEAD") == 0;
    q->keepalive = 0;
    snprintf(key, sizeof(key), "%d|%s|%u|%p|%s", rq->https, rq->host, rq->port,
             rq->https ? rq->tls_ctx : NULL, rq->https && rq->tls_name ? rq->tls_name : "");
    q->key = strdup(key);
    q->host = strdup(rq->host);
    if (rq->https && rq->tls_name && (q->tls_name = strdup(rq->tls_name)) == NULL) {
        free(q->key);
        free(q->host);
        free(q);
        return NULL;
    }
    /* the request head */
    char *h = NULL;
    size_t hl = 0, hc = 0;
    int ok = q->key && q->host;
    ok = ok && wd_hc_append(&h, &hl, &hc, rq->method, strlen(rq->method)) == 0
         && wd_hc_append(&h, &hl, &hc, " ", 1) == 0
         && wd_hc_append(&h, &hl, &hc, rq->target, strlen(rq->target)) == 0
         && wd_hc_append(&h, &hl, &hc, rq->http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n", 11) == 0;
    if (ok && rq->authority) {
        ok = wd_hc_append(&h, &hl, &hc, "Host: ", 6) == 0
             && wd_hc_append(&h, &hl, &hc, rq->authority, strlen(rq->authority)) == 0
             && wd_hc_append(&h, &hl, &hc, "\r\n", 2) == 0;
    }
    for (i = 0; ok && i < rq->nheaders; i++) {
        const wd_hc_header_t *x = &rq->headers[i];
        if ((x->name_len == 4 && strncasecmp(x->name, "host", 4) == 0)
            || (x->name_len == 14 && strncasecmp(x->name, "content-length", 14) == 0)) {
            continue;               /* the authority is the Host; framing is ours */
        }
        ok = wd_hc_append(&h, &hl, &hc, x->name, x->name_len) == 0
             && wd_hc_append(&h, &hl, &hc, ": ", 2) == 0
             && wd_hc_append(&h, &hl, &hc, x->value, x->value_len) == 0
             && wd_hc_append(&h, &hl, &hc, "\r\n", 2) == 0;
    }
    if (ok) {
        char fr[64];
        int n = 0;
        if (rq->content_length >= 0) {
            n = snprintf(fr, sizeof(fr), "Content-Length: %lld\r\n",
                         (long long) rq->content_length);
        } else if (q->body) {
            n = snprintf(fr, sizeof(fr), "Transfer-Encoding: chunked\r\n");
        } else if (!strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT")
                   || !strcmp(rq->method, "PATCH")) {
            n = snprintf(fr, sizeof(fr), "Content-Length: 0\r\n");
        }
        ok = wd_hc_append(&h, &hl, &hc, fr, n) == 0 && wd_hc_append(&h, &hl, &hc, "\r\n", 2) == 0;
    }
    if (!ok) {
        free(h);
        free(q->key);
        free(q->host);
        free(q->tls_name);
        free(q);
        return NULL;
    }
    q->head = h;
    q->head_len = hl;
    uv_timer_init(loop, &q->timer);
    q->timer.data = q;
    wd_hc_nactive++;
    q->state = WD_HC_CONNECTING;
    wd_hc_connect(q);
    return q;
}

int wd_hc_state(wd_hc_req_t *q) { return q->state; }
int wd_hc_error(wd_hc_req_t *q) { return q->err; }
const char *wd_hc_error_text(wd_hc_req_t *q) { return q->errtext; }
int wd_hc_status(wd_hc_req_t *q) { return q->status; }
int wd_hc_has_head(wd_hc_req_t *q) { return q->head_done; }
size_t wd_hc_nheaders(wd_hc_req_t *q) { return q->head_done ? q->nh : 0; }
int wd_hc_reused(wd_hc_req_t *q) { return q->reused; }
size_t wd_hc_ntrailers(wd_hc_req_t *q) { return q->msg_done ? q->ntrl : 0; }

void
wd_hc_trailer(wd_hc_req_t *q, size_t i, wd_hc_header_t *h)
{
    *h = q->trl[i];
}

void
wd_hc_header(wd_hc_req_t *q, size_t i, wd_hc_header_t *h)
{
    *h = q->hdrs[i];
}

int
wd_hc_readable(wd_hc_req_t *q)
{
    return q->rlen > q->roff || q->msg_done || q->state == WD_HC_FAILED;
}

long
wd_hc_read(wd_hc_req_t *q, void *buf, size_t len)
{
    if (q->rlen > q->roff) {
        size_t n = q->rlen - q->roff;
        if (n > len) {
            n = len;
        }
        memcpy(buf, q->rbuf + q->roff, n);
        q->roff += n;
        if (q->roff == q->rlen) {
            q->roff = q->rlen = 0;
            if (q->rcap > 2 * WD_HC_RBUF_HIGH) {
                free(q->rbuf);
                q->rbuf = NULL;
                q->rcap = 0;
            }
        }
        wd_hc_flow(q);
        return (long) n;
    }
    if (q->msg_done) {
        return -1;
    }
    if (q->state == WD_HC_FAILED) {
        return -2;
    }
    wd_hc_flow(q);
    return 0;
}

int
wd_hc_tunnel(wd_hc_req_t *q)
{
    return q->tunnel;
}

int
wd_hc_write(wd_hc_req_t *q, const void *p, size_t n)
{
    char fr[24];
    uv_buf_t parts[3];
    unsigned np = 0;

    if (q->tunnel) {
        if (q->state == WD_HC_FAILED || q->conn == NULL) {
            return -1;
        }
        if (n == 0) {
            return 0;
        }
        parts[0] = uv_buf_init((char *) p, (unsigned) n);
        if (q->state == WD_HC_BODY && !q->paused) {
            wd_hc_arm(q);           /* the idle time counts both directions */
        }
        return wd_hc_emit(q, parts, 1, 1) < 0 ? -1 : 0;
    }

    if (q->state == WD_HC_FAILED || !q->body || q->body_finished) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    if (q->cl >= 0 && q->sent + (int64_t) n > q->cl) {
        return -2;
    }
    q->sent += n;
    if (q->chunked_req) {
        parts[np++] = uv_buf_init(fr, (unsigned) snprintf(fr, sizeof(fr), "%zx\r\n", n));
    }
    parts[np++] = uv_buf_init((char *) p, (unsigned) n);
    if (q->chunked_req) {
        parts[np++] = uv_buf_init("\r\n", 2);
    }
    return wd_hc_emit(q, parts, np, 0) < 0 ? -1 : 0;
}

size_t
wd_hc_pending(wd_hc_req_t *q)
{
    size_t n = q->wbuf_len;
    if (q->conn && q->state != WD_HC_CONNECTING) {
        n += wd_oconn_pending(q->conn->oc);
    }
    return n;
}

int
wd_hc_finish(wd_hc_req_t *q)
{
    if (q->state == WD_HC_FAILED || !q->body || q->body_finished) {
        return -1;
    }
    if (q->cl >= 0 && q->sent != q->cl) {
        return -2;
    }
    q->body_finished = 1;
    uv_buf_t end = uv_buf_init("0\r\n\r\n", 5);
    return wd_hc_emit(q, &end, q->chunked_req ? 1 : 0, 0) < 0 ? -1 : 0;
}

int
wd_hc_finish_trailers(wd_hc_req_t *q, const wd_hc_header_t *t, size_t n)
{
    char *b = NULL;
    size_t bl = 0, bc = 0;
    int rc;

    if (n == 0 || !q->chunked_req) {
        return wd_hc_finish(q);     /* no chunked body: nowhere to put trailers */
    }
    if (q->state == WD_HC_FAILED || !q->body || q->body_finished) {
        return -1;
    }
    int ok = wd_hc_append(&b, &bl, &bc, "0\r\n", 3) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = wd_hc_append(&b, &bl, &bc, t[i].name, t[i].name_len) == 0
             && wd_hc_append(&b, &bl, &bc, ": ", 2) == 0
             && wd_hc_append(&b, &bl, &bc, t[i].value, t[i].value_len) == 0
             && wd_hc_append(&b, &bl, &bc, "\r\n", 2) == 0;
    }
    ok = ok && wd_hc_append(&b, &bl, &bc, "\r\n", 2) == 0;
    if (!ok) {
        free(b);
        return -1;
    }
    q->body_finished = 1;
    uv_buf_t part = uv_buf_init(b, (unsigned) bl);
    rc = wd_hc_emit(q, &part, 1, 0) < 0 ? -1 : 0;
    free(b);
    return rc;
}

static void
wd_hc_free_cb(uv_handle_t *hd)
{
    wd_hc_req_t *q = hd->data;
    free(q->tail);
    free(q->trl);
    free(q->hbuf);
    free(q->rbuf);
    free(q->wbuf);
    free(q->hdrs);
    free(q->head);
    free(q->key);
    free(q->host);
    free(q->tls_name);
    free(q);
}

void
wd_hc_close(wd_hc_req_t *q)
{
    if (q == NULL || q->closed) {
        return;
    }
    q->closed = 1;
    wd_hc_nactive--;
    uv_timer_stop(&q->timer);
    wd_hc_unflush(q);
    if (q->conn) {
        wd_hc_conn_t *c = q->conn;
        q->conn = NULL;
        unsigned max_up = q->pool_max > 0 ? (unsigned) q->pool_max : wd_hc_max_idle_up;
        int clean = q->state == WD_HC_DONE && q->msg_done && q->keepalive
                    && (!q->body || q->body_finished)
                    && wd_oconn_pending(c->oc) == 0 && !wd_hc_shutdown && q->pool_max >= 0
                    && max_up > 0 && wd_hc_max_idle > 0;   /* a pool of 0 keeps nothing */
        if (clean) {
            wd_hc_conn_park(c, q->loop, max_up);
        } else {
            wd_hc_conn_drop(c);
        }
    }
    uv_close((uv_handle_t *) &q->timer, wd_hc_free_cb);
}
