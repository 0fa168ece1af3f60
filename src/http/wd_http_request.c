/*
 * wd_http_request.c -- the request lifecycle on a connection.
 *
 * States of a connection (hc->phase) and what its one timer means in each:
 *   IDLE     waiting for the first byte of a request: keepalive_timeout (fresh
 *            connections: client_header_timeout); closed silently on expiry.
 *   HEADER   reading the header: client_header_timeout counted from the first byte and
 *            NOT re-armed by later bytes (slowloris) -> 408 + close.
 *   HANDLER  content handler running / response being written: send_timeout while output
 *            is queued (-> close), client_body_timeout while the handler waits for body
 *            bytes (-> body error 408).
 *   DISCARD  response done, reading and dropping an unread request body
 *            (client_body_timeout -> close).
 *   LINGER   after an error response: write side shut down, input drained and dropped
 *            for up to 2 s so the client sees the response instead of a reset.
 *
 * Reading: the socket is read whenever the connection buffer has room, also while a
 * handler runs; bytes of a pipelined request wait in the buffer and are parsed only after
 * the current response was written completely.  wd_http_run() is the only place that
 * starts requests, and it loops instead of recursing when a buffer holds many pipelined
 * requests.
 *
 * Writing (wd_http_output): try a vectored write at once (uv_try_write: header and body
 * in one writev); whatever the socket does not take is copied into the connection's
 * output buffer and written with uv_write; two buffers swap so that new output can be
 * queued while one write is in flight.  A request is done when its response is finished
 * AND all its bytes left the output buffers.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

#define WD_HTTP_LINGER_MS     2000
/* what "OPTIONS *" lists: the methods the server passes to handlers (CONNECT is refused) */
#define WD_HTTP_ALLOW  "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"
#define WD_HTTP_INITIAL_BUF   4096

int wd_http_is_field_value(const u_char *p, size_t len);   /* wd_http_parse.c */
static void wd_http_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void wd_http_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void wd_http_timer_cb(uv_timer_t *t);
static void wd_http_run(wd_http_connection_t *hc);
static void wd_http_request_start(wd_http_connection_t *hc);
static void wd_http_handle_request(wd_http_request_t *r);
static void wd_http_error_close(wd_http_request_t *r, unsigned status);
static void wd_http_lingering_close(wd_http_connection_t *hc);
static void wd_http_abort_request(wd_http_request_t *r);
static void wd_http_discard(wd_http_connection_t *hc);
static void wd_http_close_idle(wd_connection_t *c);
static int wd_http_run_return(wd_http_request_t *r, wd_int_t code, wd_str_t *text);

/*
 * Idle keep-alive connections own no buffer and no request object (which carries the
 * request's pool): both go back to these per-worker LIFO caches when a connection goes
 * idle and are taken again at its next byte.  With many connections this keeps the working
 * set to the requests in flight (the most recently released memory is cache-hot), which
 * is what makes nginx fast with 1000 connections: a request object embedded in each
 * connection (712 bytes) was a dozen cold cache lines per request.
 */
#define WD_HTTP_CACHE_MAX   1024
#define WD_HTTP_POOL_SIZE   8192

static u_char    *wd_http_buf_cache[WD_HTTP_CACHE_MAX];
static unsigned   wd_http_nbuf_cache;
static wd_http_request_t *wd_http_req_cache[WD_HTTP_CACHE_MAX];
static unsigned   wd_http_nreq_cache;

/* Under AddressSanitizer a cached request object is poisoned: a pointer kept past the end
 * of its request (it would see another connection's next request) is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define WD_HTTP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WD_HTTP_ASAN 1
#endif
#endif
#ifdef WD_HTTP_ASAN
#include <sanitizer/asan_interface.h>
/* all but r->pool: LeakSanitizer skips poisoned words, and the pool would look leaked */
#define wd_http_req_poison(r) do {                                                        \
        __asan_poison_memory_region((r), offsetof(wd_http_request_t, pool));                \
        __asan_poison_memory_region(&(r)->pool + 1,                                         \
            sizeof(*(r)) - offsetof(wd_http_request_t, pool) - sizeof((r)->pool));          \
    } while (0)
#define wd_http_req_unpoison(r) __asan_unpoison_memory_region((r), sizeof(*(r)))
#else
#define wd_http_req_poison(r)
#define wd_http_req_unpoison(r)
#endif

static void
wd_http_free_request(wd_http_request_t *r)
{
    wd_pool_destroy(r->pool);
    free(r);
}

static void
wd_http_release_buffers(wd_http_connection_t *hc)
{
    if (hc->buf) {
        if (hc->size == WD_HTTP_INITIAL_BUF && wd_http_nbuf_cache < WD_HTTP_CACHE_MAX) {
            wd_http_buf_cache[wd_http_nbuf_cache++] = hc->buf;
        } else {
            free(hc->buf);
        }
        hc->buf = NULL;
        hc->size = hc->pos = hc->last = 0;
    }
    if (hc->r) {
        wd_http_request_t *r = hc->r;
        hc->r = NULL;
        wd_pool_reset(r->pool);
        if (wd_http_nreq_cache < WD_HTTP_CACHE_MAX) {
            wd_http_req_poison(r);
            wd_http_req_cache[wd_http_nreq_cache++] = r;
        } else {
            wd_http_free_request(r);
        }
    }
}

/* The connection's request object with an empty pool: its own (the previous request's,
 * reset here) or one from the cache (reset when it went there). */
static int
wd_http_get_request(wd_http_connection_t *hc)
{
    wd_http_request_t *r;

    if (hc->r) {
        wd_pool_reset(hc->r->pool);
        return WD_OK;
    }
    if (wd_http_nreq_cache) {
        r = wd_http_req_cache[--wd_http_nreq_cache];
        wd_http_req_unpoison(r);
    } else {
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
            return WD_ERROR;
        }
        r->pool = wd_pool_create(WD_HTTP_POOL_SIZE);
        if (r->pool == NULL) {
            free(r);
            return WD_ERROR;
        }
    }
    hc->r = r;
    return WD_OK;
}

/* Resets the connection's request object for a request starting now. */
static void
wd_http_request_reset(wd_http_connection_t *hc)
{
    wd_http_request_t *r = hc->r;
    wd_pool_t *pool = r->pool;

    memset(r, 0, sizeof(*r));
    r->pool = pool;
    r->hc = hc;
    r->connection = hc->c;
    r->content_length_n = -1;
    r->content_length_out = -1;
    wd_http_parser_start(r);
}

static wd_http_core_loc_conf_t *
wd_http_clcf(wd_http_connection_t *hc)
{
    return hc->clcf ? hc->clcf : hc->default_clcf;
}

/* appends nginx's context to error log lines about a connection */
static u_char *
wd_http_log_context(wd_log_t *log, u_char *buf, size_t len)
{
    wd_http_connection_t *hc = log->data;
    wd_http_request_t *r = hc->r;
    wd_http_core_srv_conf_t *srv = r ? r->srv_conf : NULL;
    int n;

    n = snprintf((char *) buf, len, ", client: %s", hc->c->addr_text);
    if (n < 0 || (size_t) n >= len) {
        return buf;
    }
    buf += n;
    len -= n;
    if (srv && srv->server_name.len) {
        n = snprintf((char *) buf, len, ", server: %.*s", wd_str_pf(&srv->server_name));
        if (n > 0 && (size_t) n < len) {
            buf += n;
            len -= n;
        }
    }
    if (hc->in_request && r && r->request_line.len) {
        n = snprintf((char *) buf, len, ", request: \"%.*s\"", wd_str_pf(&r->request_line));
        if (n > 0 && (size_t) n < len) {
            buf += n;
            len -= n;
        }
    }
    if (hc->in_request && r && r->host.len) {
        n = snprintf((char *) buf, len, ", host: \"%.*s\"", wd_str_pf(&r->host));
        if (n > 0 && (size_t) n < len) {
            buf += n;
        }
    }
    return buf;
}

wd_log_t *
wd_http_log(wd_http_connection_t *hc)
{
    wd_http_core_loc_conf_t *clcf = wd_http_clcf(hc);

    hc->log = clcf && clcf->error_log ? *clcf->error_log : *wd_cycle->log;
    hc->log.connection = hc->c->number;
    hc->log.handler = wd_http_log_context;
    hc->log.data = hc;
    return &hc->log;
}

/* The request body is bad (status 400, r->body_error says why) or too large (413): the
 * request fails with that status and the connection closes after it.  Logged like nginx
 * logs client errors (400 at info, 413 at error). */
void
wd_http_body_failed(wd_http_request_t *r, unsigned status)
{
    wd_http_connection_t *hc = r->hc;

    if (r->body_state == WD_HTTP_BODY_ERROR) {
        return;
    }
    r->body_state = WD_HTTP_BODY_ERROR;
    r->body_status = status;
    r->close_after = 1;
    if (status == 413) {
        wd_log_error(WD_LOG_ERR, wd_http_log(hc), 0,
                     "client intended to send too large chunked body: %llu bytes",
                     (unsigned long long) r->ck.declared);
    } else {
        wd_log_error(WD_LOG_INFO, wd_http_log(hc), 0, "client sent invalid %s body: %s",
                     r->chunked ? "chunked" : "request",
                     r->body_error ? r->body_error : "malformed");
    }
}

/* Before a response goes out for a request whose body is still unread: are the body
 * bytes already buffered bad?  Then the request fails with 400 instead (nothing consumed:
 * a handler may still read the body).  WD_OK, or WD_ERROR with r->body_status set. */
int
wd_http_body_precheck(wd_http_request_t *r)
{
    if (r->body_state == WD_HTTP_BODY_PENDING && !r->header_written) {
        unsigned status = wd_http_check_buffered_body(r);
        if (status != WD_OK) {
            wd_http_body_failed(r, status);
        }
    }
    return r->body_state == WD_HTTP_BODY_ERROR ? WD_ERROR : WD_OK;
}

void
wd_http_set_timer(wd_http_connection_t *hc, wd_msec_t ms)
{
    uint64_t now;

    /* Lazy re-arming: the uv timer is restarted only when the new deadline is earlier
     * than the armed one; a later deadline is noticed when the timer fires.  Saves two
     * timer-heap operations per request on keep-alive connections. */
    if (hc->closed) {
        return;
    }
    if (ms <= 0) {
        hc->deadline = 0;
        return;
    }
    now = uv_now(&hc->c->worker->loop);
    hc->deadline = now + ms;
    if (hc->timer_due == 0 || hc->timer_due > hc->deadline) {
        uv_timer_start(&hc->c->timer, wd_http_timer_cb, ms, 0);
        hc->timer_due = hc->deadline;
    }
}

static void
wd_http_read_start(wd_http_connection_t *hc)
{
    int rc;

    if (hc->reading || hc->closed || hc->eof) {
        return;
    }
    rc = wd_conn_read_start(hc->c, wd_http_alloc_cb, wd_http_read_cb);
    if (rc < 0) {
        wd_log_error(WD_LOG_INFO, wd_cycle->log, 0, "uv_read_start() failed: %s", uv_strerror(rc));
        wd_http_close_connection(hc);
        return;
    }
    hc->reading = 1;
}

static void
wd_http_read_stop(wd_http_connection_t *hc)
{
    if (hc->reading && !hc->closed) {
        wd_conn_read_stop(hc->c);
    }
    hc->reading = 0;
}

void
wd_http_free_connection_data(wd_connection_t *c)
{
    wd_http_connection_t *hc = c->data;

    if (hc == NULL) {
        return;
    }
    free(hc->buf);
    free(hc->out[0].data);
    free(hc->out[1].data);
    if (hc->r) {
        wd_http_free_request(hc->r);
    }
    free(hc);
    c->data = NULL;
    while (wd_http_nbuf_cache) {
        free(wd_http_buf_cache[--wd_http_nbuf_cache]);
    }
    while (wd_http_nreq_cache) {
        wd_http_request_t *r = wd_http_req_cache[--wd_http_nreq_cache];
        wd_http_req_unpoison(r);
        wd_http_free_request(r);
    }
}

void
wd_http_connection_freed(wd_connection_t *c)
{
    wd_http_connection_t *hc = c->data;

    if (hc) {
        wd_http_release_buffers(hc);
    }
}

void
wd_http_init_connection(wd_connection_t *c)
{
    wd_http_connection_t *hc = c->data;
    const wd_http_addr_conf_t *addr;
    wd_http_core_loc_conf_t *clcf;

    if (hc == NULL) {
        hc = calloc(1, sizeof(*hc));
        if (hc == NULL) {
            wd_log_error(WD_LOG_CRIT, wd_cycle->log, errno, "connection state allocation failed");
            wd_connection_close(c);
            return;
        }
        c->data = hc;
    } else {
        /* recycled: buffer and request went back to the caches when it closed */
        wd_http_buf_t out0 = hc->out[0], out1 = hc->out[1];
        memset(hc, 0, sizeof(*hc));
        hc->out[0] = out0;
        hc->out[1] = out1;
        hc->out[0].len = hc->out[1].len = 0;
    }
    hc->c = c;
    c->close_idle = wd_http_close_idle;

    addr = wd_http_addr_conf(c->listening, NULL);
    if (addr && addr->specific != NULL) {
        /* a wildcard socket that also serves specific addresses of its port */
        struct sockaddr_storage local;
        socklen_t llen = sizeof(local);
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *) &c->tcp, &fd) == 0
            && getsockname(fd, (struct sockaddr *) &local, &llen) == 0)
        {
            addr = wd_http_addr_conf(c->listening, (struct sockaddr *) &local);
        }
    }
    if (addr == NULL || addr->default_server == NULL) {
        wd_log_error(WD_LOG_ALERT, wd_cycle->log, 0, "no http server for %.*s",
                     wd_str_pf(&c->listening->addr_text));
        wd_connection_close(c);
        return;
    }
    hc->addr_conf = addr;
    clcf = addr->default_server->loc_conf;
    hc->default_clcf = clcf;
    hc->large_header = clcf->large_client_header_buffers_size;
    hc->max_header = clcf->large_client_header_buffers_size * clcf->large_client_header_buffers_num;
    if (hc->large_header < 256) {
        hc->large_header = 256;
    }
    if (hc->max_header < hc->large_header) {
        hc->max_header = hc->large_header;
    }

    wd_http_request_start(hc);
    /* a fresh connection waits client_header_timeout for its first request */
    wd_http_set_timer(hc, clcf->client_header_timeout);
    wd_http_read_start(hc);
}

static void
wd_http_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    wd_connection_t *c = h->data;
    wd_http_connection_t *hc = c->data;

    if (hc->buf == NULL) {
        /* client_header_buffer_size, but at least 4k: the same buffer carries body bytes */
        size_t size = WD_HTTP_INITIAL_BUF;
        wd_http_core_loc_conf_t *dclcf = hc->default_clcf;
        if (dclcf && dclcf->client_header_buffer_size > size) {
            size = wd_min(dclcf->client_header_buffer_size, hc->max_header);
            size = wd_max(size, WD_HTTP_INITIAL_BUF);
        }
        if (size == WD_HTTP_INITIAL_BUF && wd_http_nbuf_cache) {
            hc->buf = wd_http_buf_cache[--wd_http_nbuf_cache];
        } else {
            hc->buf = malloc(size);
        }
        if (hc->buf == NULL) {
            buf->base = NULL;
            buf->len = 0;
            return;
        }
        hc->size = size;
        hc->pos = hc->last = 0;
    }
    if (hc->phase == WD_HTTP_PHASE_LINGER || (hc->phase == WD_HTTP_PHASE_DISCARD
                                              && hc->pos == hc->last))
    {
        hc->pos = hc->last = 0;
    }
    if (hc->last == hc->size && hc->phase == WD_HTTP_PHASE_HEADER && hc->size < hc->max_header) {
        size_t size = wd_min(hc->size * 2, hc->max_header);
        u_char *n = realloc(hc->buf, size);
        if (n != NULL) {
            hc->buf = n;
            hc->size = size;
        }
    }
    buf->base = (char *) hc->buf + hc->last;
    buf->len = hc->size - hc->last;
}

static void
wd_http_close_idle(wd_connection_t *c)
{
    wd_http_connection_t *hc = c->data;

    if (hc && !hc->closed) {
        if (hc->in_request) {
            wd_http_abort_request(hc->r);
        } else {
            wd_http_close_connection(hc);
        }
    }
}

void
wd_http_close_connection(wd_http_connection_t *hc)
{
    if (hc->closed) {
        return;
    }
    hc->closed = 1;
    hc->reading = 0;
    wd_connection_close(hc->c);
    /* buffer and pool are released in wd_http_connection_freed(), once the handles are
     * closed: a handler may still be on the stack here (an abort from inside it) */
}

/* The client went away (or the response cannot be completed): release the request. */
static void
wd_http_abort_request(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;

    if (r->aborted) {
        return;
    }
    r->aborted = 1;
    if (r->cleanup) {
        wd_http_cleanup_pt cleanup = r->cleanup;
        r->cleanup = NULL;
        cleanup(r);
    }
    if (hc->in_request && !r->logged) {
        if (!r->header_sent) {
            r->status = 499;     /* nginx's "client closed request" */
        }
        r->logged = 1;
        wd_http_log_request(r);
    }
    hc->in_request = 0;
    wd_http_close_connection(hc);
}

void
wd_http_abort(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;

    if (r->body_state == WD_HTTP_BODY_ERROR && !r->header_written && !r->aborted
        && !hc->closed && !r->finalized)
    {
        /* the handler gave up because the body was bad: the client gets its 400 */
        r->cleanup = NULL;
        wd_http_finalize_request(r, (int) r->body_status);
        return;
    }
    wd_http_abort_request(r);
}

static void
wd_http_shutdown_cb(uv_shutdown_t *req, int status)
{
    /* the lingering read continues until EOF or the timer */
}

static void
wd_http_lingering_close(wd_http_connection_t *hc)
{
    int rc;

    if (hc->closed) {
        return;
    }
    if (hc->eof) {
        wd_http_close_connection(hc);
        return;
    }
    hc->phase = WD_HTTP_PHASE_LINGER;
    hc->pos = hc->last = 0;
    rc = wd_conn_shutdown(hc->c, &hc->shutdown_req, wd_http_shutdown_cb);
    if (rc < 0) {
        wd_http_close_connection(hc);
        return;
    }
    hc->shutdown = 1;
    wd_http_set_timer(hc, WD_HTTP_LINGER_MS);
    wd_http_read_start(hc);
}

/* ---- reading ---- */

static void
wd_http_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    wd_connection_t *c = s->data;
    wd_http_connection_t *hc = c->data;
    wd_http_request_t *r = hc->r;        /* NULL while idle */

    if (hc->closed) {
        return;
    }
    wd_event_time_update();

    if (nread == 0 || nread == UV_ENOBUFS) {
        if (nread == UV_ENOBUFS) {
            wd_http_read_stop(hc);
        }
        return;
    }
    if (nread < 0) {
        hc->eof = 1;
        wd_http_read_stop(hc);
        if (nread != UV_EOF) {
            /* reset / error: nothing can be delivered any more */
            if (hc->in_request) {
                wd_http_abort_request(r);
            } else {
                wd_http_close_connection(hc);
            }
            return;
        }
        switch (hc->phase) {
        case WD_HTTP_PHASE_IDLE:
        case WD_HTTP_PHASE_LINGER:
        case WD_HTTP_PHASE_DISCARD:
            wd_http_close_connection(hc);
            return;
        case WD_HTTP_PHASE_HEADER:
            wd_log_error(WD_LOG_INFO, wd_http_log(hc), 0,
                         "client prematurely closed connection while reading the header");
            wd_http_close_connection(hc);
            return;
        default:
            break;
        }
        if (r->tunnel) {
            /* a tunnel's client closed its side: the handler reads the end */
            if (r->read_event_handler) {
                r->read_event_handler(r);
            }
            return;
        }
        /* HANDLER: the body cannot complete any more; an asynchronous handler that has
         * not finished its response loses its client */
        if (r->body_state == WD_HTTP_BODY_PENDING && hc->pos == hc->last) {
            r->body_state = WD_HTTP_BODY_ERROR;
            r->body_status = 400;
            r->close_after = 1;
        }
        if (r->async && !r->response_done) {
            wd_http_abort_request(r);
            return;
        }
        if (r->read_event_handler && r->body_reading) {
            r->read_event_handler(r);
        }
        return;
    }

    hc->last += nread;

    switch (hc->phase) {
    case WD_HTTP_PHASE_LINGER:
        hc->pos = hc->last = 0;
        return;

    case WD_HTTP_PHASE_IDLE:
        hc->phase = WD_HTTP_PHASE_HEADER;
        hc->header_start = wd_current_msec;
        wd_connection_set_idle(c, 0);
        if (wd_http_get_request(hc) != WD_OK) {
            wd_http_close_connection(hc);
            return;
        }
        wd_http_request_reset(hc);
        wd_http_set_timer(hc, wd_http_clcf(hc)->client_header_timeout);
        /* fall through */
    case WD_HTTP_PHASE_HEADER:
        wd_http_run(hc);
        break;

    case WD_HTTP_PHASE_DISCARD:
        /* client_body_timeout is between two reads, like nginx */
        wd_http_set_timer(hc, wd_http_clcf(hc)->client_body_timeout);
        wd_http_discard(hc);
        break;

    case WD_HTTP_PHASE_HANDLER:
        if (r->tunnel) {
            if (r->read_event_handler) {
                r->read_event_handler(r);
            }
            break;
        }
        if (r->body_state == WD_HTTP_BODY_PENDING && r->body_reading) {
            if (!hc->writing) {
                wd_http_set_timer(hc, wd_http_clcf(hc)->client_body_timeout);
            }
            if (r->read_event_handler) {
                r->read_event_handler(r);
            }
        }
        break;
    }

    if (!hc->closed && hc->reading && hc->buf && hc->last == hc->size
        && !(hc->phase == WD_HTTP_PHASE_HEADER && hc->size < hc->max_header))
    {
        wd_http_read_stop(hc);   /* back-pressure: resumed when the buffer drains */
    }
}

/* Starts the next request on the connection: parsing when bytes of it are in the buffer
 * (pipelined), else idle (buffer and request object go back to the caches). */
static void
wd_http_request_start(wd_http_connection_t *hc)
{
    hc->clcf = NULL;
    hc->hdr_buf = NULL;
    hc->hdr_len = 0;
    hc->max_body = 0;

    /* the request starts at offset 0 of the buffer (wd_http_parse.c keeps offsets) */
    if (hc->pos > 0) {
        if (hc->last > hc->pos) {
            memmove(hc->buf, hc->buf + hc->pos, hc->last - hc->pos);
        }
        hc->last -= hc->pos;
        hc->pos = 0;
    }

    if (hc->last > 0) {
        hc->phase = WD_HTTP_PHASE_HEADER;
        hc->header_start = wd_current_msec;
        if (wd_http_get_request(hc) != WD_OK) {
            wd_http_close_connection(hc);
            return;
        }
        wd_http_request_reset(hc);
    } else {
        hc->phase = WD_HTTP_PHASE_IDLE;
        wd_http_release_buffers(hc);
        wd_connection_set_idle(hc->c, 1);
    }
}

/* A request head we refuse: logged at info, as nginx logs client errors. */
static void
wd_http_header_failed(wd_http_request_t *r, int status)
{
    const char *why;

    switch (status) {
    case 414: why = "too long URI"; break;
    case 431: why = "too large request header"; break;
    case 501: why = "unimplemented method or transfer coding"; break;
    case 505: why = "unsupported HTTP version"; break;
    case 405: why = "CONNECT method"; break;
    case 500: why = "a request header we could not store"; break;
    default:  why = "invalid request header"; break;
    }
    wd_log_error(WD_LOG_INFO, wd_http_log(r->hc), 0, "client sent %s (%d)", why, status);
}

/* Parses and runs requests while complete ones are in the buffer (no recursion). */
static void
wd_http_run(wd_http_connection_t *hc)
{
    wd_http_request_t *r;
    int rc;

    if (hc->running) {
        return;
    }
    hc->running = 1;

    while (!hc->closed && hc->phase == WD_HTTP_PHASE_HEADER && hc->pos < hc->last) {
        r = hc->r;                       /* set in the HEADER phase */
        rc = wd_http_parse_header(r);
        if (rc == WD_AGAIN) {
            if (hc->eof) {
                wd_http_close_connection(hc);   /* the rest will never come */
            }
            break;
        }
        if (rc == WD_OK) {
            rc = wd_http_process_request_header(r);
        }
        if (rc != WD_OK) {
            wd_http_header_failed(r, rc);
            wd_http_error_close(r, rc);
            break;
        }
        hc->next_pending = 0;
        wd_http_handle_request(r);

        if (hc->next_pending && !hc->closed) {
            /* the request finished synchronously: start the next one */
            hc->next_pending = 0;
            wd_http_request_start(hc);
            if (hc->phase == WD_HTTP_PHASE_IDLE) {
                wd_http_set_timer(hc, wd_http_clcf(hc)->keepalive_timeout);
            } else {
                wd_http_set_timer(hc, wd_http_clcf(hc)->client_header_timeout);
            }
            wd_http_read_start(hc);
        }
    }
    hc->running = 0;

    if (!hc->closed && hc->phase == WD_HTTP_PHASE_HEADER && hc->last == hc->size
        && hc->size < hc->max_header)
    {
        wd_http_read_start(hc);
    }
}

/* After the handler: keep-alive or close, and start the next request. */
void
wd_http_request_done(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    wd_http_core_loc_conf_t *clcf = wd_http_clcf(hc);

    if (hc->closed) {
        return;
    }
    if (!r->logged) {
        r->logged = 1;
        wd_http_log_request(r);
    }
    hc->in_request = 0;
    hc->c->requests++;

    if (!r->keepalive || r->close_after || (hc->eof && hc->pos == hc->last)
        || clcf->keepalive_timeout <= 0
        || hc->c->requests >= clcf->keepalive_requests
        || hc->c->worker->quitting || hc->c->worker->terminating)
    {
        /* linger only when the client may still be sending: an unread body, bytes we
         * will not parse, or an error response to a request we did not understand */
        if (r->body_state == WD_HTTP_BODY_PENDING || hc->pos < hc->last || r->lingering) {
            wd_http_lingering_close(hc);
        } else {
            wd_http_close_connection(hc);
        }
        return;
    }

    if (r->body_state == WD_HTTP_BODY_PENDING) {
        if (r->expect_continue && !r->continue_sent) {
            /* the client waits for 100 before sending the body: we will not read it */
            wd_http_lingering_close(hc);
            return;
        }
        hc->phase = WD_HTTP_PHASE_DISCARD;
        wd_http_set_timer(hc, clcf->client_body_timeout);
        wd_http_read_start(hc);
        wd_http_discard(hc);
        return;
    }

    if (hc->running) {
        hc->next_pending = 1;
        return;
    }
    wd_http_request_start(hc);
    wd_http_read_start(hc);
    if (hc->phase == WD_HTTP_PHASE_IDLE) {
        wd_http_set_timer(hc, clcf->keepalive_timeout);
    } else {
        wd_http_set_timer(hc, clcf->client_header_timeout);
        wd_http_run(hc);
    }
}

/* Reads and drops the rest of a body nobody read, then goes on with keep-alive. */
static void
wd_http_discard(wd_http_connection_t *hc)
{
    wd_http_request_t *r = hc->r;        /* the request whose body is dropped */
    size_t produced, before;
    int rc;

    for (;;) {
        if (hc->pos == hc->last) {
            hc->pos = hc->last = 0;
            if (hc->eof) {
                wd_http_close_connection(hc);
            }
            return;
        }
        before = hc->pos;
        rc = wd_http_parse_body(r, NULL, 0, &produced);
        r->request_length += hc->pos - before;
        if (rc == WD_DONE) {
            r->body_state = WD_HTTP_BODY_DONE;
            break;
        }
        if (rc != WD_AGAIN) {
            /* the response is out: nothing to answer, the connection cannot go on */
            wd_http_body_failed(r, rc);
            wd_http_close_connection(hc);
            return;
        }
    }

    /* body gone: the next request */
    if (hc->running) {
        hc->phase = WD_HTTP_PHASE_HANDLER;
        hc->next_pending = 1;
        return;
    }
    wd_http_request_start(hc);
    wd_http_read_start(hc);
    if (hc->phase == WD_HTTP_PHASE_IDLE) {
        wd_http_set_timer(hc, wd_http_clcf(hc)->keepalive_timeout);
    } else {
        wd_http_set_timer(hc, wd_http_clcf(hc)->client_header_timeout);
        wd_http_run(hc);
    }
}

static void
wd_http_timer_cb(uv_timer_t *t)
{
    wd_connection_t *c = t->data;
    wd_http_connection_t *hc = c->data;
    wd_http_request_t *r;

    if (hc == NULL || hc->closed) {
        return;
    }
    r = hc->r;                           /* NULL while idle */
    hc->timer_due = 0;
    if (hc->deadline == 0) {
        return;
    }
    uint64_t now = uv_now(&c->worker->loop);
    if (now < hc->deadline) {
        uv_timer_start(&hc->c->timer, wd_http_timer_cb, hc->deadline - now, 0);
        hc->timer_due = hc->deadline;
        return;
    }
    hc->deadline = 0;
    wd_event_time_update();

    switch (hc->phase) {
    case WD_HTTP_PHASE_IDLE:
    case WD_HTTP_PHASE_LINGER:
    case WD_HTTP_PHASE_DISCARD:
        wd_http_close_connection(hc);
        return;

    case WD_HTTP_PHASE_HEADER:
        wd_log_error(WD_LOG_INFO, wd_http_log(hc), 0,
                     "client timed out while reading the request header");
        wd_http_error_close(r, 408);
        return;

    case WD_HTTP_PHASE_HANDLER:
        if (hc->writing) {
            wd_log_error(WD_LOG_INFO, wd_http_log(hc), 0, "client timed out (send_timeout)");
            wd_http_abort_request(r);
            return;
        }
        if (r->body_state == WD_HTTP_BODY_PENDING) {
            wd_log_error(WD_LOG_INFO, wd_http_log(hc), 0,
                         "client timed out while reading the request body");
            r->body_state = WD_HTTP_BODY_ERROR;
            r->body_status = 408;
            r->close_after = 1;
            if (r->read_event_handler) {
                r->read_event_handler(r);
            }
        }
        return;
    }
}

/* ---- the request ---- */

/* A header-phase error: answer status, then close. */
static void
wd_http_error_close(wd_http_request_t *r, unsigned status)
{
    wd_http_connection_t *hc = r->hc;

    if (hc->phase == WD_HTTP_PHASE_HEADER) {
        hc->phase = WD_HTTP_PHASE_HANDLER;
        hc->in_request = 1;
        wd_http_set_timer(hc, 0);
        if (r->request_line.data == NULL) {
            /* the header was not complete: show what we have of the request line */
            u_char *e = memchr(hc->buf, '\r', hc->last);
            size_t n = e ? (size_t) (e - hc->buf) : hc->last;
            if (n > 2048) {
                n = 2048;
            }
            r->request_line.data = wd_pnalloc(r->pool, n + 1);
            if (r->request_line.data) {
                memcpy(r->request_line.data, hc->buf, n);
                r->request_line.len = n;
                for (size_t i = 0; i < n; i++) {
                    if (r->request_line.data[i] < 0x20 || r->request_line.data[i] >= 0x7f) {
                        r->request_line.data[i] = '?';
                    }
                }
            }
            r->request_length = hc->last;
        }
        if (r->start_msec == 0) {
            r->start_msec = hc->header_start ? hc->header_start : wd_current_msec;
        }
    }
    hc->pos = hc->last;     /* whatever follows is not parsed any more */
    r->keepalive = 0;
    r->close_after = 1;
    r->lingering = 1;
    r->header_only = r->method == HTTP_HEAD && r->request_line.data && r->http_protocol.len;
    if (status == 444) {
        wd_http_abort_request(r);
        return;
    }
    r->finalized = 1;
    wd_http_special_response(r, status);
    if (!hc->closed && r->response_done && !hc->writing && hc->out[hc->fill].len == 0) {
        wd_http_request_done(r);
    }
}

static int
wd_http_run_return(wd_http_request_t *r, wd_int_t code, wd_str_t *text)
{
    if (r->body_state >= WD_HTTP_BODY_PENDING && wd_http_body_precheck(r) != WD_OK) {
        return (int) r->body_status;     /* the body already buffered is bad */
    }
    if (code == 444) {
        wd_http_abort_request(r);
        return WD_DONE;
    }
    if (code >= 301 && code <= 308 && code != 304 && code != 305 && code != 306) {
        r->location = *text;
        return wd_http_special_response(r, code) == WD_OK ? WD_OK : WD_ERROR;
    }
    if (text->len || code < 300) {
        if (wd_http_send_simple(r, code, "text/plain", text->data, text->len) != WD_OK) {
            return WD_ERROR;
        }
        return WD_OK;
    }
    return code;
}

/* `return` whose text (body or URL) has $variables: evaluated per request. */
static int
wd_http_return_eval(wd_http_request_t *r, wd_int_t code, wd_str_t *text,
                    wd_http_complex_value_t *cv)
{
    wd_str_t v;
    if (cv == NULL) {
        return wd_http_run_return(r, code, text);
    }
    if (wd_http_complex_value(r, cv, &v) != WD_OK) {
        return 500;
    }
    return wd_http_run_return(r, code, &v);
}

static int wd_http_auto_redirect(wd_http_request_t *r);

static void
wd_http_handle_request(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;
    wd_http_core_srv_conf_t *srv;
    wd_http_core_loc_conf_t *clcf;
    int rc, redirect;

    hc->phase = WD_HTTP_PHASE_HANDLER;
    hc->in_request = 1;
    r->start_msec = hc->header_start ? hc->header_start : wd_current_msec;
    wd_http_set_timer(hc, 0);

    if (r->host.len == 0 && hc->c->ssl) {
        /* no Host (HTTP/1.0): the TLS server name chose the certificate, and the server */
        const char *sni = wd_ssl_server_name(hc->c);
        size_t len = sni ? strlen(sni) : 0;
        u_char *host = len ? wd_pnalloc(r->pool, len) : NULL;
        if (host && wd_http_validate_host((const u_char *) sni, len, host, &len) == WD_OK) {
            srv = wd_http_find_server(hc->addr_conf, host, len);
        } else {
            srv = wd_http_find_server(hc->addr_conf, NULL, 0);
        }
    } else {
        srv = wd_http_find_server(hc->addr_conf, r->host.data, r->host.len);
    }
    r->srv_conf = srv;
    clcf = srv->loc_conf;
    hc->clcf = clcf;
    r->loc_conf = clcf;

    if (srv->return_code) {
        rc = wd_http_return_eval(r, srv->return_code, &srv->return_text, srv->return_value);
        wd_http_finalize_request(r, rc);
        return;
    }

    if (r->uri.len == 1 && r->uri.data[0] == '*') {
        /* "OPTIONS * HTTP/1.1" (RFC 9112 3.2.4): about the server, not a resource */
        rc = wd_http_add_header(r, "Allow", 5, WD_HTTP_ALLOW, sizeof(WD_HTTP_ALLOW) - 1);
        if (rc == WD_OK) {
            wd_str_t none = { 0 };
            rc = wd_http_run_return(r, 200, &none);
        }
        wd_http_finalize_request(r, rc);
        return;
    }

    /* normalize the path: percent-decoding, "//", "." and ".." (a path above / -> 400) */
    {
        u_char *out = wd_pnalloc(r->pool, r->uri.len + 1);
        size_t out_len = 0;
        if (out == NULL) {
            wd_http_error_close(r, 500);
            return;
        }
        if (wd_http_normalize_uri(r->uri.data, r->uri.len, out, &out_len) != WD_OK) {
            wd_http_error_close(r, 400);
            return;
        }
        out[out_len] = '\0';
        r->uri.data = out;
        r->uri.len = out_len;
    }

    clcf = wd_http_find_location_redirect(srv, r->uri.data, r->uri.len, &redirect);
    hc->clcf = clcf;
    r->loc_conf = clcf;
    hc->max_body = clcf->client_max_body_size;

    if (hc->max_body > 0 && r->content_length_n > hc->max_body) {
        wd_log_error(WD_LOG_ERR, wd_http_log(hc), 0,
                     "client intended to send too large body: %lld bytes",
                     (long long) r->content_length_n);
        wd_http_error_close(r, 413);
        return;
    }

    wd_http_finalize_request(r, redirect ? wd_http_auto_redirect(r) : wd_http_run_location(r));
}

/* nginx's auto-redirect: "/x" when only a location "/x/" with proxy_pass matches it -> 301 to
 * the location's name (+ "?args"); the location's phases do not run. */
static int
wd_http_auto_redirect(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_str_t url;

    if (wd_http_redirect_url(r, clcf->name.data, clcf->name.len, 0, &url) != WD_OK) {
        return 500;
    }
    r->location = url;
    return 301;
}

/* ---- the content phase of the location in r->loc_conf ---- */

wd_http_handler_pt wd_http_precontent_handler;
wd_http_handler_pt wd_http_default_content_handler;

int
wd_http_run_location(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    unsigned in = r->in_handler;
    int rc;

    if (clcf->return_code) {
        return wd_http_return_eval(r, clcf->return_code, &clcf->return_text, clcf->return_value);
    }
    r->in_handler = 1;
    rc = wd_http_run_preaccess(r, NULL);
    r->in_handler = in;
    return rc;
}

wd_http_handler_pt wd_http_preaccess[WD_HTTP_PREACCESS_MAX];

void
wd_http_preaccess_add(wd_http_handler_pt h, int first)
{
    int i, n = 0;

    while (n < WD_HTTP_PREACCESS_MAX && wd_http_preaccess[n]) {
        if (wd_http_preaccess[n++] == h) {
            return;                     /* registered by an earlier configuration */
        }
    }
    if (n == WD_HTTP_PREACCESS_MAX) {
        return;
    }
    if (first) {
        for (i = n; i > 0; i--) {
            wd_http_preaccess[i] = wd_http_preaccess[i - 1];
        }
        n = 0;
    }
    wd_http_preaccess[n] = h;
}

int
wd_http_run_preaccess(wd_http_request_t *r, wd_http_handler_pt after)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    unsigned in = r->in_handler;
    int i = 0, rc;

    if (after) {
        while (i < WD_HTTP_PREACCESS_MAX && wd_http_preaccess[i] != after) {
            i++;
        }
        i++;
    }
    r->in_handler = 1;
    for (; i < WD_HTTP_PREACCESS_MAX && wd_http_preaccess[i]; i++) {
        rc = wd_http_preaccess[i](r);
        if (rc != WD_DECLINED) {
            r->in_handler = in;
            return rc;
        }
    }
    rc = WD_DECLINED;
    if (wd_http_precontent_handler) {
        rc = wd_http_precontent_handler(r);
    }
    if (rc == WD_DECLINED) {
        if (clcf->handler) {
            rc = clcf->handler(r);
        } else if (wd_http_default_content_handler) {
            rc = wd_http_default_content_handler(r);
        } else {
            rc = 404;
        }
    }
    r->in_handler = in;
    return rc;
}

static int
wd_http_enter_location(wd_http_request_t *r, wd_http_core_loc_conf_t *clcf)
{
    r->loc_conf = clcf;
    r->hc->clcf = clcf;
    r->hc->max_body = clcf->client_max_body_size;
    r->ctx = NULL;
    r->module_ctx = NULL;
    return wd_http_run_location(r);
}

int
wd_http_internal_redirect(wd_http_request_t *r, const wd_str_t *uri, const wd_str_t *args)
{
    wd_http_core_loc_conf_t *clcf;
    int redirect;

    if (++r->uri_changes > 10) {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0,
                     "rewrite or internal redirection cycle while internally redirecting to "
                     "\"%.*s\"", wd_str_pf(uri));
        return 500;
    }
    r->uri = *uri;
    if (args) {
        r->args = *args;
    }
    r->internal = 1;
    clcf = wd_http_find_location_redirect(r->srv_conf, uri->data, uri->len, &redirect);
    if (redirect) {
        r->loc_conf = clcf;
        r->hc->clcf = clcf;
        return wd_http_auto_redirect(r);
    }
    return wd_http_enter_location(r, clcf);
}

int
wd_http_named_location(wd_http_request_t *r, const wd_str_t *name)
{
    wd_http_core_loc_conf_t *clcf = wd_http_find_named_location(r->srv_conf, name->data,
                                                                name->len);

    if (clcf == NULL) {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "could not find named location \"%.*s\"",
                     wd_str_pf(name));
        return 500;
    }
    if (++r->uri_changes > 10) {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0,
                     "rewrite or internal redirection cycle while redirect to named location "
                     "\"%.*s\"", wd_str_pf(name));
        return 500;
    }
    r->internal = 1;
    return wd_http_enter_location(r, clcf);
}

/* Is the request completely answered (response finished and written)? */
static void
wd_http_check_done(wd_http_request_t *r)
{
    wd_http_connection_t *hc = r->hc;

    if (hc->closed || r->aborted || !r->finalized || !r->response_done) {
        return;
    }
    if (hc->writing || hc->out[hc->fill].len > 0) {
        return;     /* wd_http_write_cb will call again */
    }
    wd_http_request_done(r);
}

void
wd_http_finalize_request(wd_http_request_t *r, int rc)
{
    wd_http_connection_t *hc = r->hc;

    if (hc->closed || r->aborted) {
        return;
    }
    if (rc == WD_DONE) {
        if (!r->finalized) {
            r->async = 1;
        }
        return;
    }
    if (r->finalized) {
        return;     /* already answered (wd_http_abort turned a body error into its status) */
    }
    r->finalized = 1;
    r->async = 0;
    r->read_event_handler = NULL;
    r->write_event_handler = NULL;

    if (rc == WD_DECLINED) {
        rc = 404;
    }
    /* A bad request body (seen by the handler, or already buffered when the handler
     * answers without reading it) never gets a complete-looking response: its status
     * (400, 408, 413) if no byte of the response is out, else the response is aborted. */
    if (r->body_state >= WD_HTTP_BODY_PENDING && !r->response_done
        && wd_http_body_precheck(r) != WD_OK)
    {
        if (r->header_written) {
            wd_http_abort_request(r);
            return;
        }
        rc = (int) r->body_status;
    }
    if (rc == WD_ERROR || rc == WD_ABORT || rc == WD_AGAIN || rc == WD_BUSY) {
        if (r->header_written || r->response_done) {
            if (!r->response_done) {
                wd_http_abort_request(r);
                return;
            }
        } else {
            r->header_sent = 0;
            rc = 500;
        }
    }
    if (rc >= 100) {
        if (r->header_written) {
            if (!r->response_done) {
                wd_http_finish(r);
            }
        } else {
            if (rc == 444) {
                wd_http_abort_request(r);
                return;
            }
            r->header_sent = 0;
            r->headers_out.nelts = 0;
            r->content_length_out = -1;
            r->content_type.len = 0;
            if (rc >= 400 && (r->body_state == WD_HTTP_BODY_ERROR || rc == 413 || rc == 408)) {
                r->close_after = 1;
            }
            wd_http_special_response(r, rc);
        }
    } else if (!r->response_done) {
        wd_http_finish(r);
    }
    if (!hc->closed && !r->aborted) {
        wd_http_check_done(r);
    }
}

/* ---- output ---- */

static void wd_http_write_cb(uv_write_t *req, int status);

static int
wd_http_buf_append(wd_http_buf_t *b, const void *data, size_t len)
{
    if (b->len + len > b->size) {
        size_t size = b->size ? b->size : 4096;
        while (size < b->len + len) {
            size *= 2;
        }
        u_char *n = realloc(b->data, size);
        if (n == NULL) {
            return WD_ERROR;
        }
        b->data = n;
        b->size = size;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return WD_OK;
}

static void
wd_http_flush(wd_http_connection_t *hc)
{
    wd_http_buf_t *b = &hc->out[hc->fill];
    int rc;

    if (hc->writing || b->len == 0 || hc->closed) {
        return;
    }
    hc->wbuf = uv_buf_init((char *) b->data, b->len);
    hc->fill = 1 - hc->fill;
    rc = wd_conn_write(hc->c, &hc->wreq, &hc->wbuf, 1, wd_http_write_cb);
    if (rc < 0) {
        hc->out[1 - hc->fill].len = 0;
        if (hc->in_request) {
            wd_http_abort_request(hc->r);
        } else {
            wd_http_close_connection(hc);
        }
        return;
    }
    hc->writing = 1;
    wd_http_set_timer(hc, wd_http_clcf(hc)->send_timeout);
}

/* Queues bufs for the client: written at once when the socket takes them. WD_OK or
 * WD_ERROR (the connection failed: the request was aborted). */
int
wd_http_output(wd_http_connection_t *hc, const uv_buf_t *bufs, unsigned nbufs)
{
    size_t written = 0;
    unsigned i;

    if (hc->closed) {
        return WD_ERROR;
    }
    if (!hc->writing && hc->out[hc->fill].len == 0) {
        int n = wd_conn_try_write(hc->c, bufs, nbufs);
        if (n >= 0) {
            written = n;
        } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
            if (hc->in_request) {
                wd_http_abort_request(hc->r);
            } else {
                wd_http_close_connection(hc);
            }
            return WD_ERROR;
        }
    }
    for (i = 0; i < nbufs; i++) {
        if (written >= bufs[i].len) {
            written -= bufs[i].len;
            continue;
        }
        if (wd_http_buf_append(&hc->out[hc->fill], bufs[i].base + written,
                               bufs[i].len - written) != WD_OK)
        {
            if (hc->in_request) {
                wd_http_abort_request(hc->r);
            } else {
                wd_http_close_connection(hc);
            }
            return WD_ERROR;
        }
        written = 0;
    }
    wd_http_flush(hc);
    return hc->closed ? WD_ERROR : WD_OK;
}

static void
wd_http_write_cb(uv_write_t *req, int status)
{
    wd_http_connection_t *hc = (wd_http_connection_t *) ((char *) req - offsetof(wd_http_connection_t, wreq));
    wd_http_request_t *r = hc->r;        /* NULL: the connection went idle since */

    hc->writing = 0;
    hc->out[1 - hc->fill].len = 0;
    if (hc->closed) {
        return;
    }
    wd_event_time_update();
    if (status < 0) {
        if (hc->in_request) {
            wd_http_abort_request(r);
        } else {
            wd_http_close_connection(hc);
        }
        return;
    }
    if (hc->out[hc->fill].len > 0) {
        wd_http_flush(hc);
    } else if (hc->phase == WD_HTTP_PHASE_HANDLER && r) {
        if (r->body_state == WD_HTTP_BODY_PENDING && r->body_reading) {
            wd_http_set_timer(hc, wd_http_clcf(hc)->client_body_timeout);
        } else {
            wd_http_set_timer(hc, 0);
        }
    }
    if (r && r->write_wait && !hc->closed
        && hc->out[0].len + hc->out[1].len < WD_HTTP_OUT_LOW)
    {
        r->write_wait = 0;
        if (r->write_event_handler) {
            r->write_event_handler(r);
        }
    }
    if (!hc->closed && hc->in_request) {
        wd_http_check_done(r);
    }
}

/* ---- body ---- */

ssize_t
wd_http_body_read(wd_http_request_t *r, void *buf, size_t len)
{
    wd_http_connection_t *hc = r->hc;
    size_t produced, before;
    int rc;

    if (r->body_state == WD_HTTP_BODY_NONE || r->body_state == WD_HTTP_BODY_DONE) {
        return 0;
    }
    if (r->body_state == WD_HTTP_BODY_ERROR || hc->closed || r->aborted) {
        return WD_ERROR;
    }
    if (len == 0) {
        return WD_AGAIN;
    }
    if (!r->body_reading) {
        r->body_reading = 1;
        if (r->expect_continue && !r->continue_sent && hc->pos == hc->last && !r->header_written) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            uv_buf_t b = uv_buf_init((char *) cont, sizeof(cont) - 1);
            r->continue_sent = 1;
            if (wd_http_output(hc, &b, 1) != WD_OK) {
                return WD_ERROR;
            }
        }
        r->continue_sent = 1;
    }

    for (;;) {
        if (hc->pos == hc->last) {
            hc->pos = hc->last = 0;
            if (hc->eof) {
                r->body_state = WD_HTTP_BODY_ERROR;
                r->body_status = 400;
                r->close_after = 1;
                return WD_ERROR;
            }
            wd_http_read_start(hc);
            if (!hc->writing) {
                wd_http_set_timer(hc, wd_http_clcf(hc)->client_body_timeout);
            }
            return WD_AGAIN;
        }
        before = hc->pos;
        rc = wd_http_parse_body(r, buf, len, &produced);
        r->request_length += hc->pos - before;
        if (!hc->reading && !hc->eof && hc->last < hc->size) {
            wd_http_read_start(hc);
        }
        if (rc == WD_DONE) {
            r->body_state = WD_HTTP_BODY_DONE;
            if (!hc->writing) {
                wd_http_set_timer(hc, 0);
            }
            return produced;
        }
        if (rc != WD_AGAIN) {
            wd_http_body_failed(r, rc);
            return WD_ERROR;
        }
        if (produced > 0) {
            return produced;
        }
    }
}

/* ---- tunnel ---- */

int
wd_http_tunnel_start(wd_http_request_t *r, const char *upgrade, size_t len)
{
    if (r->header_sent || r->hc->closed || r->aborted || r->http_version < 1001
        || (r->body_state != WD_HTTP_BODY_NONE && r->body_state != WD_HTTP_BODY_DONE)
        || len == 0 || !wd_http_is_field_value((const u_char *) upgrade, len))
    {
        return WD_ERROR;
    }
    r->upgrade.data = wd_pnalloc(r->pool, len);
    if (r->upgrade.data == NULL) {
        return WD_ERROR;
    }
    memcpy(r->upgrade.data, upgrade, len);
    r->upgrade.len = len;
    r->status = 101;
    r->tunnel = 1;
    return wd_http_output_header(r);
}

ssize_t
wd_http_tunnel_read(wd_http_request_t *r, void *buf, size_t len)
{
    wd_http_connection_t *hc = r->hc;
    size_t n;

    if (hc->closed || r->aborted || !r->tunnel) {
        return WD_ERROR;
    }
    if (hc->pos < hc->last && len > 0) {
        n = wd_min(len, hc->last - hc->pos);
        memcpy(buf, hc->buf + hc->pos, n);
        hc->pos += n;
        r->request_length += n;
        if (hc->pos == hc->last) {
            hc->pos = hc->last = 0;
        }
        if (!hc->reading && !hc->eof && hc->last < hc->size) {
            wd_http_read_start(hc);
        }
        return (ssize_t) n;
    }
    if (hc->pos == hc->last) {
        hc->pos = hc->last = 0;
        if (hc->eof) {
            return 0;
        }
    }
    wd_http_read_start(hc);
    return WD_AGAIN;
}

static void
wd_http_read_body_handler(wd_http_request_t *r)
{
    for (;;) {
        if (r->body.len == r->body_received_cap) {
            size_t cap;
            if (r->content_length_n >= 0) {
                cap = r->content_length_n + 1;
            } else {
                cap = r->body_received_cap ? r->body_received_cap * 2 : 16384;
            }
            u_char *n = wd_pnalloc(r->pool, cap);
            if (n == NULL) {
                r->body_state = WD_HTTP_BODY_ERROR;
                r->body_status = 500;
                break;
            }
            if (r->body.len) {
                memcpy(n, r->body.data, r->body.len);
            }
            r->body.data = n;
            r->body_received_cap = cap;
        }
        ssize_t n = wd_http_body_read(r, r->body.data + r->body.len,
                                      r->body_received_cap - r->body.len);
        if (n > 0) {
            r->body.len += n;
            continue;
        }
        if (n == WD_AGAIN) {
            return;
        }
        break;
    }
    r->read_event_handler = NULL;
    if (r->body_done) {
        wd_http_event_handler_pt done = r->body_done;
        r->body_done = NULL;
        done(r);
    }
}

int
wd_http_read_body(wd_http_request_t *r, wd_http_event_handler_pt done)
{
    r->body_done = done;
    r->read_event_handler = wd_http_read_body_handler;
    wd_http_read_body_handler(r);
    if (r->body_state == WD_HTTP_BODY_ERROR) {
        return WD_ERROR;
    }
    return r->body_done == NULL ? WD_OK : WD_AGAIN;
}
