/*
 * wd_http_proxy_handler.c -- proxy_pass at run time, on the outbound HTTP client.
 *
 * One request: choose a peer (smooth weighted round robin over the servers not failed,
 * then the backups), build the request as nginx does (request line with the URI
 * replaced per proxy_pass, the proxy_set_header list with nginx's defaults, the client's
 * headers not named there), start a wd_hc exchange and stream:
 *   - the request body from the client (wd_http_body_read) to the upstream (wd_hc_write)
 *     once the connection is up, while less than 64 KiB waits to be sent to it;
 *   - the response body from wd_hc_read to wd_http_write; when the client falls behind
 *     (WD_AGAIN), with proxy_buffering on, into proxy_buffers then a temporary file
 *     (proxy_max_temp_file_size) so the upstream is read to its end and released early;
 *     with it off (or the buffers and file full) reading stops until the client drained
 *     (the client then stops reading the upstream at 64 KiB).
 * A failure before the response head (error, timeout, invalid header) or a status named
 * in proxy_next_upstream goes to the next peer while tries remain and nothing of the
 * request body was consumed (a non-idempotent request only with non_idempotent, or
 * when the connection was never made); else 502 (504 for timeouts). A failure after the
 * head closes the client connection (the response is truncated, as nginx does).
 */
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"
#include "wd_http_client.h"
#include "wd_http_proxy.h"

#define WD_PROXY_PENDING_MAX  (64 * 1024)
#define WD_PROXY_PIECE        (16 * 1024)

typedef struct {
    wd_str_t     proxy_host;       /* $proxy_host / $proxy_port for this request */
    wd_str_t     proxy_port;
    wd_str_t     upstream_addr;    /* "a:p, b:p" ($upstream_addr) */
    wd_str_t     upstream_status;  /* "502, 200" ($upstream_status) */
} wd_http_proxy_vars_t;

typedef struct {
    wd_http_request_t         *r;
    wd_http_proxy_loc_conf_t  *plcf;
    wd_http_proxy_upstream_t  *up;          /* NULL: a one-off peer (variables) */
    wd_http_proxy_peer_t      *peer;
    wd_http_proxy_peer_t       oneoff;
    wd_http_proxy_vars_t      *vars;
    wd_hc_req_t               *hc;
    wd_hc_request_t            rq;
    wd_hc_header_t            *hdrs;
    size_t                     nhdrs;
    char                      *target, *authority;
    u_char                    *tried;       /* per peer */
    wd_uint_t                  tries;
    wd_msec_t                  start;
    uv_timer_t                 send_timer;
    int64_t                    body_len;    /* request body: -1 chunked */
    /* proxy_buffering: the response bytes the client has not taken yet, oldest first:
     * mem[mem_head .. mem_head + mem_len), then the temporary file [f_read, f_write) */
    u_char                    *mem;
    size_t                     mem_cap, mem_head, mem_len;
    int                        tmp_fd;      /* -1: none yet */
    off_t                      f_read, f_write, f_total;
    unsigned                   has_body:1, body_done:1, body_touched:1, head_sent:1,
                               timer_on:1, buffered_body:1, nopool:1, https:1,
                               buffering:1, client_full:1, up_done:1, file_full:1,
                               tunnel:1;
} wd_http_proxy_ctx_t;

static void wd_http_proxy_notify(void *data);
static void wd_http_proxy_next_peer(wd_http_proxy_ctx_t *ctx, int ft);
static void wd_http_proxy_response_pump(wd_http_request_t *r);
static void wd_http_proxy_body_pump(wd_http_request_t *r);
static void wd_http_proxy_tunnel_pump(wd_http_request_t *r);
static void wd_http_proxy_tunnel_head(wd_http_proxy_ctx_t *ctx);

static wd_msec_t
wd_http_proxy_now(void)
{
    return (wd_msec_t) uv_now(&wd_worker->loop);
}

/* ---------------------------------------------------------------- variables */

static wd_http_proxy_vars_t *
wd_http_proxy_vars(wd_http_request_t *r, int create)
{
    if (r->module_ctx == NULL) {
        if (!create) {
            return NULL;
        }
        r->module_ctx = wd_pcalloc(r->pool, wd_http_modules_n * sizeof(void *));
        if (r->module_ctx == NULL) {
            return NULL;
        }
    }
    wd_http_proxy_vars_t *v = r->module_ctx[wd_http_proxy_module.ctx_index];
    if (v == NULL && create) {
        v = wd_pcalloc(r->pool, sizeof(*v));
        r->module_ctx[wd_http_proxy_module.ctx_index] = v;
    }
    return v;
}

/* $proxy_host, $proxy_port, $upstream_addr, $upstream_status: one field of the request's
   proxy state, empty before the proxy ran */
static int
wd_http_proxy_var_field(wd_http_request_t *r, wd_str_t *v, size_t off)
{
    wd_http_proxy_vars_t *pv = wd_http_proxy_vars(r, 0);

    if (pv == NULL) {
        v->len = 0;
        v->data = NULL;
    } else {
        *v = *(wd_str_t *) ((char *) pv + off);
    }
    return WD_OK;
}

static int
wd_http_proxy_var_host(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_proxy_var_field(r, v, offsetof(wd_http_proxy_vars_t, proxy_host));
}

static int
wd_http_proxy_var_port(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_proxy_var_field(r, v, offsetof(wd_http_proxy_vars_t, proxy_port));
}

static int
wd_http_proxy_is_xff(const wd_http_header_t *h)
{
    return h->name.len == 15 && strncasecmp((char *) h->name.data, "x-forwarded-for", 15) == 0;
}

static int
wd_http_proxy_var_xff(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    const char *ra = r->connection->addr_text;
    size_t ral = r->connection->addr_text_len, total = 0;
    wd_http_header_t *h = r->headers_in.elts;
    u_char *p;

    /* every X-Forwarded-For the client sent, joined by ", ", then $remote_addr */
    for (unsigned i = 0; i < r->headers_in.nelts; i++) {
        if (wd_http_proxy_is_xff(&h[i])) {
            total += h[i].value.len + 2;
        }
    }
    if (total == 0) {
        v->data = (u_char *) ra;
        v->len = ral;
        return WD_OK;
    }
    p = wd_pnalloc(r->pool, total + ral);
    if (p == NULL) {
        return WD_ERROR;
    }
    v->data = p;
    for (unsigned i = 0; i < r->headers_in.nelts; i++) {
        if (wd_http_proxy_is_xff(&h[i])) {
            memcpy(p, h[i].value.data, h[i].value.len);
            p += h[i].value.len;
            *p++ = ',';
            *p++ = ' ';
        }
    }
    memcpy(p, ra, ral);
    p += ral;
    v->len = p - v->data;
    return WD_OK;
}

static int
wd_http_proxy_var_up_addr(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_proxy_var_field(r, v, offsetof(wd_http_proxy_vars_t, upstream_addr));
}

static int
wd_http_proxy_var_up_status(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    return wd_http_proxy_var_field(r, v, offsetof(wd_http_proxy_vars_t, upstream_status));
}

static int
wd_http_proxy_var_scheme(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    int tls = r->connection->ssl != NULL;
    v->data = (u_char *) (tls ? "https" : "http");
    v->len = tls ? 5 : 4;
    return WD_OK;
}

int
wd_http_proxy_add_variables(void)
{
    /* the registry outlives a reload: names already there are this module's own */
    (void) wd_http_add_variable("proxy_host", wd_http_proxy_var_host, 0);
    (void) wd_http_add_variable("proxy_port", wd_http_proxy_var_port, 0);
    (void) wd_http_add_variable("proxy_add_x_forwarded_for", wd_http_proxy_var_xff, 0);
    (void) wd_http_add_variable("upstream_addr", wd_http_proxy_var_up_addr, 0);
    (void) wd_http_add_variable("upstream_status", wd_http_proxy_var_up_status, 0);
    (void) wd_http_add_variable("scheme", wd_http_proxy_var_scheme, 0);
    return WD_OK;
}

static void
wd_http_proxy_append(wd_http_request_t *r, wd_str_t *s, const char *add, size_t n)
{
    u_char *p = wd_pnalloc(r->pool, s->len + 2 + n);
    if (p == NULL) {
        return;
    }
    if (s->len) {
        memcpy(p, s->data, s->len);
        memcpy(p + s->len, ", ", 2);
        memcpy(p + s->len + 2, add, n);
        s->len += 2 + n;
    } else {
        memcpy(p, add, n);
        s->len = n;
    }
    s->data = p;
}

/* ---------------------------------------------------------------- peers */

static int
wd_http_proxy_peer_usable(wd_http_proxy_ctx_t *ctx, wd_uint_t i, wd_msec_t now)
{
    wd_http_proxy_peer_t *p = (wd_http_proxy_peer_t *) ctx->up->peers->elts + i;

    if (p->down || ctx->tried[i]) {
        return 0;
    }
    if (ctx->up->single) {
        return 1;
    }
    if (p->max_fails && p->fails >= (wd_uint_t) p->max_fails
        && now - p->checked <= p->fail_timeout) {
        return 0;
    }
    return 1;
}

/* nginx's smooth weighted round robin, primaries first, then backups */
static wd_http_proxy_peer_t *
wd_http_proxy_choose(wd_http_proxy_ctx_t *ctx)
{
    wd_http_proxy_peer_t *p = ctx->up->peers->elts, *best = NULL;
    wd_msec_t now = wd_http_proxy_now();
    wd_uint_t n = ctx->up->peers->nelts, bi = 0;

    for (int backup = 0; backup < 2 && best == NULL; backup++) {
        wd_int_t total = 0;
        for (wd_uint_t i = 0; i < n; i++) {
            if ((int) p[i].backup != backup || !wd_http_proxy_peer_usable(ctx, i, now)) {
                continue;
            }
            p[i].current_weight += p[i].effective_weight;
            total += p[i].effective_weight;
            if (p[i].effective_weight < p[i].weight) {
                p[i].effective_weight++;
            }
            if (best == NULL || p[i].current_weight > best->current_weight) {
                best = &p[i];
                bi = i;
            }
        }
        if (best) {
            best->current_weight -= total;
        }
    }
    if (best) {
        ctx->tried[bi] = 1;
        if (best->max_fails && now - best->checked > best->fail_timeout) {
            best->checked = now;            /* a new window: one more chance */
        }
    }
    return best;
}

static void
wd_http_proxy_peer_failed(wd_http_proxy_ctx_t *ctx)
{
    wd_http_proxy_peer_t *p = ctx->peer;

    if (ctx->up == NULL || p == NULL) {
        return;
    }
    p->fails++;
    p->checked = wd_http_proxy_now();
    if (p->max_fails) {
        p->effective_weight -= p->weight / p->max_fails;
        if (p->effective_weight < 0) {
            p->effective_weight = 0;
        }
        if (p->fails >= (wd_uint_t) p->max_fails && !ctx->up->single) {
            wd_log_error(WD_LOG_WARN, wd_http_log(ctx->r->hc), 0,
                         "upstream server temporarily disabled while connecting to upstream, "
                         "upstream: \"%.*s\"", wd_str_pf(&p->name));
        }
    }
}

/* ---------------------------------------------------------------- request building */

/* nginx's NGX_ESCAPE_URI: controls, space, '#', '%', '?', DEL and bytes >= 0x80 */
static size_t
wd_http_proxy_escape(u_char *dst, const u_char *src, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        u_char c = src[i];
        if (c <= ' ' || c == '#' || c == '%' || c == '?' || c >= 0x7f) {
            if (dst) {
                dst[k] = '%';
                dst[k + 1] = hex[c >> 4];
                dst[k + 2] = hex[c & 15];
            }
            k += 3;
        } else {
            if (dst) {
                dst[k] = c;
            }
            k++;
        }
    }
    return k;
}

/* the request target: nginx's rules for proxy_pass with and without a URI part */
static char *
wd_http_proxy_target(wd_http_request_t *r, wd_http_proxy_loc_conf_t *plcf, const wd_str_t *uri,
                     int has_uri, int from_vars)
{
    u_char *p, *t;
    size_t n;

    if (!has_uri) {
        if (!r->internal && r->unparsed_uri.len && r->unparsed_uri.data[0] == '/') {
            p = wd_pnalloc(r->pool, r->unparsed_uri.len + 1);
            if (p) {
                memcpy(p, r->unparsed_uri.data, r->unparsed_uri.len);
                p[r->unparsed_uri.len] = '\0';
            }
            return (char *) p;
        }
        /* a changed URI: the whole normalized one, escaped, with the arguments */
        n = wd_http_proxy_escape(NULL, r->uri.data, r->uri.len);
        t = p = wd_pnalloc(r->pool, n + 2 + r->args.len);
        if (p == NULL) {
            return NULL;
        }
        p += wd_http_proxy_escape(p, r->uri.data, r->uri.len);
        if (r->args.len) {
            *p++ = '?';
            memcpy(p, r->args.data, r->args.len);
            p += r->args.len;
        }
        *p = '\0';
        return (char *) t;
    }
    if (from_vars) {
        /* proxy_pass with variables and a URI: that URI is the whole target */
        p = wd_pnalloc(r->pool, uri->len + 1);
        if (p) {
            memcpy(p, uri->data, uri->len);
            p[uri->len] = '\0';
        }
        return (char *) p;
    }
    size_t loc = plcf->location.len;
    if (loc > r->uri.len) {
        loc = r->uri.len;
    }
    n = wd_http_proxy_escape(NULL, r->uri.data + loc, r->uri.len - loc);
    t = p = wd_pnalloc(r->pool, uri->len + n + 2 + r->args.len);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, uri->data, uri->len);
    p += uri->len;
    p += wd_http_proxy_escape(p, r->uri.data + loc, r->uri.len - loc);
    if (r->args.len) {
        *p++ = '?';
        memcpy(p, r->args.data, r->args.len);
        p += r->args.len;
    }
    *p = '\0';
    return (char *) t;
}

static int
wd_http_proxy_build_headers(wd_http_proxy_ctx_t *ctx)
{
    wd_http_request_t *r = ctx->r;
    wd_http_proxy_loc_conf_t *plcf = ctx->plcf;
    wd_http_proxy_header_t *set = plcf->headers->elts;
    wd_uint_t nset = plcf->headers->nelts;
    wd_http_header_t *in = r->headers_in.elts;
    size_t cap = nset + (plcf->pass_request_headers ? r->headers_in.nelts : 0), n = 0;

    ctx->hdrs = wd_palloc(r->pool, (cap + 1) * sizeof(wd_hc_header_t));
    if (ctx->hdrs == NULL) {
        return WD_ERROR;
    }
    ctx->authority = NULL;
    for (wd_uint_t i = 0; i < nset; i++) {
        wd_str_t v;
        if (set[i].empty) {
            continue;
        }
        if (wd_http_complex_value(r, &set[i].value, &v) != WD_OK) {
            return WD_ERROR;
        }
        if (v.len == 0) {
            continue;                   /* an empty value: the field is not sent (nginx) */
        }
        for (size_t k = 0; k < v.len; k++) {
            if (v.data[k] == '\r' || v.data[k] == '\n' || v.data[k] == '\0') {
                return WD_ERROR;        /* a variable may not split the header */
            }
        }
        if (set[i].name.len == 4 && strncasecmp((char *) set[i].name.data, "host", 4) == 0) {
            ctx->authority = wd_pnalloc(r->pool, v.len + 1);
            if (ctx->authority == NULL) {
                return WD_ERROR;
            }
            memcpy(ctx->authority, v.data, v.len);
            ctx->authority[v.len] = '\0';
            continue;
        }
        if (set[i].name.len == 10 && strncasecmp((char *) set[i].name.data, "connection", 10) == 0
            && v.len >= 5 && memmem(v.data, v.len, "close", 5)) {
            ctx->nopool = 1;            /* we asked the upstream to close */
        }
        ctx->hdrs[n].name = (char *) set[i].name.data;
        ctx->hdrs[n].name_len = set[i].name.len;
        ctx->hdrs[n].value = (char *) v.data;
        ctx->hdrs[n].value_len = v.len;
        n++;
    }
    if (plcf->pass_request_headers) {
        for (unsigned i = 0; i < r->headers_in.nelts; i++) {
            wd_uint_t k;
            for (k = 0; k < nset; k++) {
                if (set[k].name.len == in[i].name.len
                    && strncasecmp((char *) set[k].name.data, (char *) in[i].name.data,
                                   in[i].name.len) == 0) {
                    break;
                }
            }
            if (k < nset) {
                continue;               /* proxy_set_header (or a default) names it */
            }
            ctx->hdrs[n].name = (char *) in[i].name.data;
            ctx->hdrs[n].name_len = in[i].name.len;
            ctx->hdrs[n].value = (char *) in[i].value.data;
            ctx->hdrs[n].value_len = in[i].value.len;
            n++;
        }
    }
    ctx->nhdrs = n;
    return WD_OK;
}

/* ---------------------------------------------------------------- lifecycle */

static void
wd_http_proxy_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void
wd_http_proxy_free(wd_http_proxy_ctx_t *ctx)
{
    if (ctx->hc) {
        wd_hc_close(ctx->hc);
        ctx->hc = NULL;
    }
    if (ctx->tmp_fd >= 0) {
        close(ctx->tmp_fd);             /* O_TMPFILE (or unlinked): the space goes with it */
        ctx->tmp_fd = -1;
    }
    free(ctx->mem);
    ctx->mem = NULL;
    if (ctx->r->ctx == ctx) {
        ctx->r->ctx = NULL;
    }
    uv_close((uv_handle_t *) &ctx->send_timer, wd_http_proxy_timer_closed);
}

static void
wd_http_proxy_cleanup(wd_http_request_t *r)
{
    wd_http_proxy_ctx_t *ctx = r->ctx;
    if (ctx) {
        wd_http_proxy_free(ctx);
    }
}

static void
wd_http_proxy_finalize(wd_http_proxy_ctx_t *ctx, int rc)
{
    wd_http_request_t *r = ctx->r;

    r->cleanup = NULL;
    r->read_event_handler = NULL;
    r->write_event_handler = NULL;
    wd_http_proxy_free(ctx);
    wd_http_finalize_request(r, rc);
}

static void
wd_http_proxy_note_status(wd_http_proxy_ctx_t *ctx, const char *s)
{
    wd_http_proxy_append(ctx->r, &ctx->vars->upstream_status, s, strlen(s));
}

static void
wd_http_proxy_send_timeout(uv_timer_t *t)
{
    wd_http_proxy_ctx_t *ctx = t->data;

    ctx->timer_on = 0;
    if (ctx->hc && !ctx->head_sent && wd_hc_pending(ctx->hc) > 0) {
        wd_log_error(WD_LOG_ERR, wd_http_log(ctx->r->hc), 0,
                     "upstream timed out (110: Connection timed out) while sending request to "
                     "upstream, upstream: \"%.*s\"", wd_str_pf(&ctx->peer->name));
        wd_http_proxy_note_status(ctx, "504");
        wd_http_proxy_peer_failed(ctx);
        wd_http_proxy_finalize(ctx, 504);
    }
}

static void
wd_http_proxy_arm_send(wd_http_proxy_ctx_t *ctx)
{
    if (ctx->hc && wd_hc_pending(ctx->hc) > 0) {
        if (!ctx->timer_on) {
            uv_timer_start(&ctx->send_timer, wd_http_proxy_send_timeout,
                           ctx->plcf->send_timeout, 0);
            ctx->timer_on = 1;
        }
    } else if (ctx->timer_on) {
        uv_timer_stop(&ctx->send_timer);
        ctx->timer_on = 0;
    }
}

static int
wd_http_proxy_connect(wd_http_proxy_ctx_t *ctx)
{
    wd_http_proxy_peer_t *p = ctx->up ? wd_http_proxy_choose(ctx) : NULL;

    if (ctx->up == NULL) {
        if (ctx->tries > 0) {
            return 502;
        }
        p = &ctx->oneoff;
    }
    if (p == NULL) {
        wd_log_error(WD_LOG_ERR, wd_http_log(ctx->r->hc), 0,
                     "no live upstreams while connecting to upstream, upstream: \"%.*s\"",
                     wd_str_pf(&ctx->up->name));
        wd_http_proxy_append(ctx->r, &ctx->vars->upstream_addr, (char *) ctx->up->name.data,
                             ctx->up->name.len);
        wd_http_proxy_note_status(ctx, "502");
        return 502;
    }
    ctx->peer = p;
    ctx->tries++;
    wd_http_proxy_append(ctx->r, &ctx->vars->upstream_addr, (char *) p->name.data, p->name.len);
    ctx->rq.host = p->host;
    ctx->rq.port = p->port;
    ctx->hc = wd_hc_start(&wd_worker->loop, &ctx->rq);
    if (ctx->hc == NULL) {
        return 500;
    }
    if (ctx->buffered_body) {
        if (ctx->r->body.len
            && wd_hc_write(ctx->hc, ctx->r->body.data, ctx->r->body.len) != 0) {
            return 500;
        }
        wd_hc_finish(ctx->hc);
        ctx->body_done = 1;
    } else if (ctx->has_body && wd_hc_state(ctx->hc) != WD_HC_CONNECTING) {
        /* a pooled connection: the head is out already and no notify will come before
         * the upstream has the body, so start sending it now */
        wd_http_proxy_body_pump(ctx->r);
    }
    return WD_OK;
}

/* Sends more of the client's body while the upstream keeps up. */
static void
wd_http_proxy_body_pump(wd_http_request_t *r)
{
    wd_http_proxy_ctx_t *ctx = r->ctx;
    u_char buf[WD_PROXY_PIECE];

    if (ctx == NULL || ctx->hc == NULL || ctx->body_done || wd_hc_state(ctx->hc) == WD_HC_CONNECTING
        || wd_hc_state(ctx->hc) == WD_HC_FAILED) {
        return;
    }
    while (wd_hc_pending(ctx->hc) < WD_PROXY_PENDING_MAX) {
        ssize_t n = wd_http_body_read(r, buf, sizeof(buf));
        if (n > 0) {
            ctx->body_touched = 1;
            if (wd_hc_write(ctx->hc, buf, n) != 0) {
                break;                  /* failed: the notify that follows says why */
            }
            continue;
        }
        if (n == 0) {
            ctx->body_done = 1;
            wd_hc_finish(ctx->hc);
            break;
        }
        if (n == WD_AGAIN) {
            r->read_event_handler = wd_http_proxy_body_pump;
            break;
        }
        /* a bad, too large or timed-out client body */
        if (!ctx->head_sent) {
            wd_http_proxy_finalize(ctx, (int) r->body_status);
        } else {
            wd_http_proxy_finalize(ctx, WD_ERROR);
        }
        return;
    }
    wd_http_proxy_arm_send(ctx);
}

static int
wd_http_proxy_hidden(wd_http_proxy_loc_conf_t *plcf, const wd_hc_header_t *h)
{
    static const char *const hide[] = { "date", "server", "x-pad", "connection", "keep-alive",
                                        "transfer-encoding", "te", "trailer", "upgrade",
                                        "proxy-connection", NULL };
    for (int i = 0; hide[i]; i++) {
        if (h->name_len == strlen(hide[i]) && strncasecmp(h->name, hide[i], h->name_len) == 0) {
            return 1;
        }
    }
    if (h->name_len > 8 && strncasecmp(h->name, "x-accel-", 8) == 0) {
        return 1;
    }
    if (plcf->hide_headers) {
        wd_str_t *s = plcf->hide_headers->elts;
        for (wd_uint_t i = 0; i < plcf->hide_headers->nelts; i++) {
            if (s[i].len == h->name_len && strncasecmp((char *) s[i].data, h->name, h->name_len)
                == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int
wd_http_proxy_status_ft(int status)
{
    switch (status) {
    case 500: return WD_PROXY_FT_HTTP_500;
    case 502: return WD_PROXY_FT_HTTP_502;
    case 503: return WD_PROXY_FT_HTTP_503;
    case 504: return WD_PROXY_FT_HTTP_504;
    case 403: return WD_PROXY_FT_HTTP_403;
    case 404: return WD_PROXY_FT_HTTP_404;
    case 429: return WD_PROXY_FT_HTTP_429;
    }
    return 0;
}

/* May this failed attempt (ft) go to another peer? */
static int
wd_http_proxy_can_retry(wd_http_proxy_ctx_t *ctx, int ft)
{
    wd_http_request_t *r = ctx->r;
    wd_http_proxy_loc_conf_t *plcf = ctx->plcf;
    int e = ctx->hc ? wd_hc_error(ctx->hc) : 0;
    /* was the request (possibly) seen by the upstream? not when it never connected */
    int sent = ctx->hc && !(wd_hc_state(ctx->hc) == WD_HC_FAILED && !wd_hc_has_head(ctx->hc)
                            && (e == WD_HC_E_REFUSED || e == WD_HC_E_CONNECT
                                || e == WD_HC_E_UNREACH || e == WD_HC_E_DNS
                                || e == WD_HC_E_CONNECT_TIMEOUT || e == WD_HC_E_TLS
                                || e == WD_HC_E_CERT || e == WD_HC_E_TLS_ALERT));
    int idempotent = r->method == HTTP_GET || r->method == HTTP_HEAD
                     || r->method == HTTP_PUT || r->method == HTTP_DELETE
                     || r->method == HTTP_OPTIONS || r->method == HTTP_TRACE;
    wd_msec_t now = wd_http_proxy_now();

    if (!(plcf->next_upstream & ft) || (plcf->next_upstream & WD_PROXY_FT_OFF)
        || ctx->up == NULL
        || (ctx->body_touched && !ctx->buffered_body)
        || (!idempotent && sent && !(plcf->next_upstream & WD_PROXY_FT_NON_IDEMPOTENT))
        || (plcf->next_upstream_tries && ctx->tries >= plcf->next_upstream_tries)
        || (plcf->next_upstream_timeout && now - ctx->start >= plcf->next_upstream_timeout))
    {
        return 0;
    }
    for (wd_uint_t i = 0; i < ctx->up->peers->nelts; i++) {
        if (wd_http_proxy_peer_usable(ctx, i, now)) {
            return 1;
        }
    }
    return 0;
}

/* A "~regex replacement" rule on the value from `prefix`: WD_DECLINED (no match), WD_OK
 * with the new whole value in *out, or WD_ERROR. */
static int
wd_http_proxy_redirect_regex(wd_http_request_t *r, wd_http_proxy_redirect_t *rd,
                             const wd_hc_header_t *h, size_t prefix, wd_str_t *out)
{
    regmatch_t m[10];
    size_t n = h->value_len - prefix, total = prefix;
    wd_http_proxy_rpart_t *rp = rd->parts->elts;
    wd_str_t *vals;
    char *z;
    u_char *p;

    z = wd_pnalloc(r->pool, n + 1);
    vals = wd_palloc(r->pool, (rd->parts->nelts + 1) * sizeof(wd_str_t));
    if (z == NULL || vals == NULL) {
        return WD_ERROR;
    }
    memcpy(z, h->value + prefix, n);
    z[n] = '\0';
    if (memchr(z, '\0', n) != NULL || regexec(rd->re, z, 10, m, 0) != 0) {
        return WD_DECLINED;
    }
    for (wd_uint_t i = 0; i < rd->parts->nelts; i++) {
        if (rp[i].capture < 0) {
            if (wd_http_complex_value(r, &rp[i].text, &vals[i]) != WD_OK) {
                return WD_ERROR;
            }
        } else if (m[rp[i].capture].rm_so >= 0) {
            vals[i].data = (u_char *) z + m[rp[i].capture].rm_so;
            vals[i].len = m[rp[i].capture].rm_eo - m[rp[i].capture].rm_so;
        } else {
            vals[i].len = 0;
            vals[i].data = NULL;
        }
        total += vals[i].len;
    }
    p = wd_pnalloc(r->pool, total + 1);
    if (p == NULL) {
        return WD_ERROR;
    }
    out->data = p;
    memcpy(p, h->value, prefix);
    p += prefix;
    for (wd_uint_t i = 0; i < rd->parts->nelts; i++) {
        if (vals[i].len) {
            memcpy(p, vals[i].data, vals[i].len);
            p += vals[i].len;
        }
    }
    *p = '\0';
    out->len = total;
    return WD_OK;
}

/* proxy_redirect: a Location, or the url= of a Refresh, starting with a rule's redirect
 * gets that prefix replaced by the rule's replacement (the first rule that matches);
 * a rewritten Location that is then relative is made absolute, as nginx's header filter
 * does (an upstream's own relative Location passes unchanged). h->value is changed to
 * point to the new value (in r->pool, kept in *buf). */
static int
wd_http_proxy_rewrite_redirect(wd_http_request_t *r, wd_http_proxy_loc_conf_t *plcf,
                               wd_hc_header_t *h, wd_str_t *buf)
{
    wd_http_proxy_redirect_t *rd = plcf->redirects->elts;
    size_t prefix = 0, n;
    int location = h->name_len == 8 && strncasecmp(h->name, "location", 8) == 0;
    wd_str_t pat, rep;
    u_char *p;

    if (!location) {
        const char *u;
        if (h->name_len != 7 || strncasecmp(h->name, "refresh", 7) != 0) {
            return WD_OK;
        }
        u = memmem(h->value, h->value_len, "url=", 4);
        if (u == NULL) {
            for (n = 0; n + 4 <= h->value_len; n++) {
                if (strncasecmp(h->value + n, "url=", 4) == 0) {
                    u = h->value + n;
                    break;
                }
            }
        }
        if (u == NULL) {
            return WD_OK;
        }
        prefix = u + 4 - h->value;
    }
    for (wd_uint_t i = 0; i < plcf->redirects->nelts; i++) {
        if (rd[i].re) {
            int rc = wd_http_proxy_redirect_regex(r, &rd[i], h, prefix, buf);
            if (rc == WD_DECLINED) {
                continue;
            }
            if (rc != WD_OK) {
                return WD_ERROR;
            }
            if (location && buf->len && buf->data[0] == '/'
                && wd_http_redirect_url(r, buf->data, buf->len, WD_HTTP_URL_RAW, buf) != WD_OK) {
                return WD_ERROR;
            }
            h->value = (const char *) buf->data;
            h->value_len = buf->len;
            return WD_OK;
        }
        if (wd_http_complex_value(r, &rd[i].pattern, &pat) != WD_OK) {
            return WD_ERROR;
        }
        if (pat.len > h->value_len - prefix
            || memcmp(h->value + prefix, pat.data, pat.len) != 0) {
            continue;
        }
        if (wd_http_complex_value(r, &rd[i].replacement, &rep) != WD_OK) {
            return WD_ERROR;
        }
        n = h->value_len - pat.len + rep.len;
        p = wd_pnalloc(r->pool, n + 1);
        if (p == NULL) {
            return WD_ERROR;
        }
        memcpy(p, h->value, prefix);
        memcpy(p + prefix, rep.data, rep.len);
        memcpy(p + prefix + rep.len, h->value + prefix + pat.len,
               h->value_len - prefix - pat.len);
        p[n] = '\0';
        buf->data = p;
        buf->len = n;
        if (location && n && p[0] == '/'
            && wd_http_redirect_url(r, p, n, WD_HTTP_URL_RAW, buf) != WD_OK) {
            return WD_ERROR;
        }
        h->value = (const char *) buf->data;
        h->value_len = buf->len;
        return WD_OK;
    }
    return WD_OK;
}

/* The response head arrived: pass it on (or try the next peer for a listed status). */
static void
wd_http_proxy_head(wd_http_proxy_ctx_t *ctx)
{
    wd_http_request_t *r = ctx->r;
    int status = wd_hc_status(ctx->hc);
    int ft = wd_http_proxy_status_ft(status);
    wd_str_t rewritten;
    char sb[8];

    snprintf(sb, sizeof(sb), "%d", status);
    wd_http_proxy_note_status(ctx, sb);
    if (ft && (ctx->plcf->next_upstream & ft)) {
        if (status == 500 || status == 502 || status == 503 || status == 504 || status == 429) {
            /* nginx counts these as failures only when proxy_next_upstream names them */
            wd_http_proxy_peer_failed(ctx);
        }
        if (wd_http_proxy_can_retry(ctx, ft)) {
            wd_http_proxy_next_peer(ctx, ft);
            return;
        }
        /* no other peer: this response goes to the client as it is (nginx) */
    } else if (ctx->peer && ctx->up) {
        ctx->peer->fails = 0;
    }
    if (status == 101 && wd_hc_tunnel(ctx->hc)) {
        wd_http_proxy_tunnel_head(ctx);
        return;
    }
    ctx->head_sent = 1;
    ctx->buffering = ctx->plcf->buffering ? 1 : 0;
    wd_http_set_status(r, status);
    for (size_t i = 0, n = wd_hc_nheaders(ctx->hc); i < n; i++) {
        wd_hc_header_t h;
        wd_hc_header(ctx->hc, i, &h);
        if (h.name_len == 17 && strncasecmp(h.name, "x-accel-buffering", 17) == 0) {
            /* nginx: the upstream turns buffering on or off for its response */
            if (h.value_len == 2 && strncasecmp(h.value, "no", 2) == 0) {
                ctx->buffering = 0;
            } else if (h.value_len == 3 && strncasecmp(h.value, "yes", 3) == 0) {
                ctx->buffering = 1;
            }
        }
        if (wd_http_proxy_hidden(ctx->plcf, &h)) {
            continue;
        }
        if (ctx->plcf->redirects
            && wd_http_proxy_rewrite_redirect(r, ctx->plcf, &h, &rewritten) != WD_OK) {
            wd_http_proxy_finalize(ctx, 500);
            return;
        }
        if (wd_http_add_header(r, h.name, h.name_len, h.value, h.value_len) != WD_OK) {
            wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "upstream header \"%.*s\" not "
                         "passed", (int) h.name_len, h.name);
        }
    }
    if (wd_http_send_header(r) != WD_OK) {
        wd_http_proxy_finalize(ctx, WD_ERROR);
        return;
    }
    /* proxy_buffers: allocated when the client first falls behind */
    ctx->mem_cap = ctx->plcf->buffers_num * ctx->plcf->buffers_size;
    r->write_event_handler = wd_http_proxy_response_pump;
    wd_http_proxy_response_pump(r);
}

/* ---------------------------------------------------------------- the response body */

/* The temporary file of a buffered response: an unnamed file (O_TMPFILE) in
 * proxy_temp_path, or a named one unlinked at once where the filesystem has no O_TMPFILE. */
static int
wd_http_proxy_temp_open(wd_http_proxy_ctx_t *ctx)
{
    const char *dir = (const char *) ctx->plcf->temp_path.data;
    static unsigned long seq;
    char name[PATH_MAX];

    ctx->tmp_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (ctx->tmp_fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        for (int i = 0; i < 10 && ctx->tmp_fd < 0; i++) {
            snprintf(name, sizeof(name), "%s/%010lu.%ld", dir, ++seq, (long) getpid());
            ctx->tmp_fd = open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
            if (ctx->tmp_fd >= 0) {
                (void) unlink(name);
            } else if (errno != EEXIST) {
                break;
            }
        }
    }
    if (ctx->tmp_fd < 0) {
        wd_log_error(WD_LOG_CRIT, wd_http_log(ctx->r->hc), errno,
                     "cannot create a temporary file in \"%s\" (proxy_temp_path)", dir);
        return WD_ERROR;
    }
    wd_log_error(WD_LOG_WARN, wd_http_log(ctx->r->hc), 0,
                 "an upstream response is buffered to a temporary file in %s while reading "
                 "upstream, upstream: \"%.*s\"", dir, wd_str_pf(&ctx->peer->name));
    return WD_OK;
}

/* How many more bytes the buffers take now (0: none; the upstream waits). */
static size_t
wd_http_proxy_room(wd_http_proxy_ctx_t *ctx)
{
    wd_http_proxy_loc_conf_t *plcf = ctx->plcf;
    off_t left;

    if (!ctx->buffering) {
        return 0;
    }
    if (ctx->f_write == ctx->f_read && ctx->mem_len < ctx->mem_cap) {
        return ctx->mem_cap - ctx->mem_len;     /* memory, while nothing waits in the file */
    }
    if (plcf->max_temp_file_size == 0 || ctx->file_full) {
        return 0;
    }
    if (ctx->tmp_fd < 0 && wd_http_proxy_temp_open(ctx) != WD_OK) {
        ctx->file_full = 1;             /* no file: the upstream waits for the client */
        return 0;
    }
    left = plcf->max_temp_file_size - ctx->f_total;
    if (left <= 0) {
        return 0;
    }
    return (size_t) wd_min((off_t) plcf->temp_file_write_size, left);
}

/* Keeps n bytes the client cannot take now. WD_OK or WD_ERROR. */
static int
wd_http_proxy_keep(wd_http_proxy_ctx_t *ctx, const u_char *p, size_t n)
{
    if (ctx->f_write == ctx->f_read && ctx->mem_len + n <= ctx->mem_cap) {
        if (ctx->mem == NULL && (ctx->mem = malloc(ctx->mem_cap)) == NULL) {
            return WD_ERROR;
        }
        if (ctx->mem_head + ctx->mem_len + n > ctx->mem_cap) {
            memmove(ctx->mem, ctx->mem + ctx->mem_head, ctx->mem_len);
            ctx->mem_head = 0;
        }
        memcpy(ctx->mem + ctx->mem_head + ctx->mem_len, p, n);
        ctx->mem_len += n;
        return WD_OK;
    }
    while (n > 0) {
        ssize_t w = pwrite(ctx->tmp_fd, p, n, ctx->f_write);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            wd_log_error(WD_LOG_CRIT, wd_http_log(ctx->r->hc), errno, "pwrite() to the "
                         "temporary file of \"%s\" failed",
                         (const char *) ctx->plcf->temp_path.data);
            return WD_ERROR;
        }
        ctx->f_write += w;
        ctx->f_total += w;
        p += w;
        n -= (size_t) w;
    }
    return WD_OK;
}

/* Gives the client what is buffered until it is full or nothing is left. WD_OK, WD_AGAIN
 * (client full) or WD_ERROR. */
static int
wd_http_proxy_flush(wd_http_proxy_ctx_t *ctx, u_char *buf, size_t size)
{
    wd_http_request_t *r = ctx->r;
    int rc;

    while (ctx->mem_len || ctx->f_read < ctx->f_write) {
        if (ctx->mem_len) {
            size_t n = wd_min(ctx->mem_len, size);
            rc = wd_http_write(r, ctx->mem + ctx->mem_head, n);
            ctx->mem_head += n;
            ctx->mem_len -= n;
            if (ctx->mem_len == 0) {
                ctx->mem_head = 0;
            }
        } else {
            size_t want = (size_t) wd_min((off_t) size, ctx->f_write - ctx->f_read);
            ssize_t n = pread(ctx->tmp_fd, buf, want, ctx->f_read);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), n < 0 ? errno : 0, "pread() "
                             "from the temporary file of \"%s\" failed",
                             (const char *) ctx->plcf->temp_path.data);
                return WD_ERROR;
            }
            ctx->f_read += n;
            if (ctx->f_read == ctx->f_write) {
                /* all sent: the file starts again (its blocks are given back) */
                ctx->f_read = ctx->f_write = 0;
                if (ftruncate(ctx->tmp_fd, 0) != 0) {
                    wd_log_error(WD_LOG_WARN, wd_http_log(r->hc), errno, "ftruncate() of a "
                                 "temporary file failed");
                }
            }
            rc = wd_http_write(r, buf, (size_t) n);
        }
        if (rc != WD_OK) {
            return rc;
        }
    }
    return WD_OK;
}

/* Moves the response body: buffered bytes first, then the upstream's, straight to the
 * client while it takes them; with proxy_buffering, into memory / the temporary file
 * while it does not (the upstream is read at its own pace and released when done);
 * otherwise the upstream waits for the client. */
static void
wd_http_proxy_response_pump(wd_http_request_t *r)
{
    wd_http_proxy_ctx_t *ctx = r->ctx;
    u_char buf[WD_PROXY_PIECE];
    int rc;

    if (ctx == NULL || (ctx->hc == NULL && !ctx->up_done)) {
        return;
    }
    if (r->write_wait == 0) {
        ctx->client_full = 0;           /* called for a drained connection (or the first time) */
    }
    for (;;) {
        if (!ctx->client_full) {
            rc = wd_http_proxy_flush(ctx, buf, sizeof(buf));
            if (rc == WD_ERROR) {
                wd_http_proxy_finalize(ctx, WD_ERROR);
                return;
            }
            if (rc == WD_AGAIN) {
                ctx->client_full = 1;
            }
        }
        if (ctx->up_done) {
            if (!ctx->client_full && ctx->mem_len == 0 && ctx->f_read == ctx->f_write) {
                wd_http_proxy_finalize(ctx, WD_OK);
            }
            return;                     /* write_event_handler resumes */
        }
        size_t want = sizeof(buf);
        int direct = !ctx->client_full && ctx->mem_len == 0 && ctx->f_read == ctx->f_write;
        if (!direct) {
            want = wd_min(want, wd_http_proxy_room(ctx));
            if (want == 0) {
                return;                 /* the upstream waits for the client */
            }
        }
        long n = wd_hc_read(ctx->hc, buf, want);
        if (n > 0) {
            if (direct) {
                rc = wd_http_write(r, buf, n);
                if (rc == WD_ERROR) {
                    wd_http_proxy_finalize(ctx, WD_ERROR);
                    return;
                }
                if (rc == WD_AGAIN) {
                    ctx->client_full = 1;
                    if (!ctx->buffering) {
                        return;         /* write_event_handler resumes */
                    }
                }
                continue;
            }
            if (wd_http_proxy_keep(ctx, buf, (size_t) n) != WD_OK) {
                wd_http_proxy_finalize(ctx, WD_ERROR);      /* truncated, logged */
                return;
            }
            continue;
        }
        if (n == 0) {
            return;                     /* notify resumes */
        }
        if (n == -1) {
            /* the whole response is read: the upstream connection goes back to the pool
             * (or closes) now, whatever the client still has to take */
            wd_hc_close(ctx->hc);
            ctx->hc = NULL;
            ctx->up_done = 1;
            continue;
        }
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "%s while reading upstream, "
                     "upstream: \"%.*s\"", wd_hc_error_text(ctx->hc),
                     wd_str_pf(&ctx->peer->name));
        wd_http_proxy_finalize(ctx, WD_ERROR);      /* truncated: the connection closes */
        return;
    }
}

/* ---------------------------------------------------------------- upgraded connections */

/* The upstream answered 101 to a request that asked to upgrade: the client gets the 101
 * (the upstream's headers as for any response, Connection: upgrade and its Upgrade), then
 * bytes go both ways unchanged until either side closes, as nginx's upgraded mode. */
static void
wd_http_proxy_tunnel_head(wd_http_proxy_ctx_t *ctx)
{
    wd_http_request_t *r = ctx->r;
    const char *up = NULL;
    size_t up_len = 0;

    ctx->head_sent = 1;
    ctx->tunnel = 1;
    for (size_t i = 0, n = wd_hc_nheaders(ctx->hc); i < n; i++) {
        wd_hc_header_t h;
        wd_hc_header(ctx->hc, i, &h);
        if (h.name_len == 7 && strncasecmp(h.name, "upgrade", 7) == 0) {
            up = h.value;
            up_len = h.value_len;
            continue;
        }
        if (wd_http_proxy_hidden(ctx->plcf, &h)) {
            continue;
        }
        if (wd_http_add_header(r, h.name, h.name_len, h.value, h.value_len) != WD_OK) {
            wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "upstream header \"%.*s\" not "
                         "passed", (int) h.name_len, h.name);
        }
    }
    if (up == NULL) {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "upstream sent 101 without an "
                     "\"Upgrade\" header, upstream: \"%.*s\"", wd_str_pf(&ctx->peer->name));
        wd_http_proxy_finalize(ctx, 502);
        return;
    }
    if (wd_http_tunnel_start(r, up, up_len) != WD_OK) {
        wd_http_proxy_finalize(ctx, WD_ERROR);
        return;
    }
    r->read_event_handler = wd_http_proxy_tunnel_pump;
    r->write_event_handler = wd_http_proxy_tunnel_pump;
    wd_http_proxy_tunnel_pump(r);
}

/* Moves bytes both ways while each receiver keeps up: upstream -> client until the
 * client's output queue is full (the upstream's socket is then not read past 64 KiB),
 * client -> upstream while less than 64 KiB waits for the upstream (the client's socket
 * is then not read past its buffer). Either side's end, once what it sent has been passed
 * on, ends both; a failure or proxy_read_timeout of idleness closes both at once. */
static void
wd_http_proxy_tunnel_pump(wd_http_request_t *r)
{
    wd_http_proxy_ctx_t *ctx = r->ctx;
    u_char buf[WD_PROXY_PIECE];
    int client_eof = 0;

    if (ctx == NULL || ctx->hc == NULL) {
        return;
    }
    if (r->write_wait == 0) {
        ctx->client_full = 0;
    }
    while (!ctx->client_full && !ctx->up_done) {
        long n = wd_hc_read(ctx->hc, buf, sizeof(buf));
        if (n > 0) {
            int rc = wd_http_write(r, buf, (size_t) n);
            if (rc == WD_ERROR) {
                wd_http_proxy_finalize(ctx, WD_ERROR);
                return;
            }
            if (rc == WD_AGAIN) {
                ctx->client_full = 1;
            }
            continue;
        }
        if (n == 0) {
            break;
        }
        if (n == -1) {
            ctx->up_done = 1;           /* the upstream closed its side */
            break;
        }
        if (wd_hc_error(ctx->hc) == WD_HC_E_BETWEEN_BYTES_TIMEOUT) {
            wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "upstream timed out (110: "
                         "Connection timed out) while proxying upgraded connection, "
                         "upstream: \"%.*s\"", wd_str_pf(&ctx->peer->name));
        } else {
            wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "%s while proxying upgraded "
                         "connection, upstream: \"%.*s\"", wd_hc_error_text(ctx->hc),
                         wd_str_pf(&ctx->peer->name));
        }
        wd_http_proxy_finalize(ctx, WD_ERROR);
        return;
    }
    if (ctx->up_done) {
        /* what the client has not taken yet is flushed by the server, then it closes */
        wd_http_proxy_finalize(ctx, WD_OK);
        return;
    }
    while (wd_hc_pending(ctx->hc) < WD_PROXY_PENDING_MAX) {
        ssize_t n = wd_http_tunnel_read(r, buf, sizeof(buf));
        if (n > 0) {
            if (wd_hc_write(ctx->hc, buf, (size_t) n) != 0) {
                break;                  /* failed: the notify that follows says why */
            }
            continue;
        }
        if (n == 0) {
            client_eof = 1;
        } else if (n == WD_ERROR) {
            wd_http_proxy_finalize(ctx, WD_ERROR);
            return;
        }
        break;
    }
    if (wd_hc_state(ctx->hc) == WD_HC_FAILED) {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "%s while proxying upgraded "
                     "connection, upstream: \"%.*s\"", wd_hc_error_text(ctx->hc),
                     wd_str_pf(&ctx->peer->name));
        wd_http_proxy_finalize(ctx, WD_ERROR);
        return;
    }
    if (client_eof && wd_hc_pending(ctx->hc) == 0) {
        wd_http_proxy_finalize(ctx, WD_OK);     /* all the client sent is with the upstream */
    }
}

/* Another peer for a failed attempt (the caller checked wd_http_proxy_can_retry). */
static void
wd_http_proxy_next_peer(wd_http_proxy_ctx_t *ctx, int ft)
{
    int rc;

    if (ctx->hc) {
        wd_hc_close(ctx->hc);
        ctx->hc = NULL;
    }
    if (ctx->timer_on) {
        uv_timer_stop(&ctx->send_timer);
        ctx->timer_on = 0;
    }
    rc = wd_http_proxy_connect(ctx);
    if (rc != WD_OK) {
        wd_http_proxy_finalize(ctx, rc == 502 && ft == WD_PROXY_FT_TIMEOUT ? 504 : rc);
    }
}

static void
wd_http_proxy_failed(wd_http_proxy_ctx_t *ctx)
{
    int e = wd_hc_error(ctx->hc), ft;
    const char *what;

    switch (e) {
    case WD_HC_E_CONNECT_TIMEOUT:
    case WD_HC_E_FIRST_BYTE_TIMEOUT:
    case WD_HC_E_BETWEEN_BYTES_TIMEOUT:
        ft = WD_PROXY_FT_TIMEOUT;
        break;
    case WD_HC_E_PROTOCOL:
    case WD_HC_E_HEAD_SIZE:
    case WD_HC_E_CODING:
    case WD_HC_E_UPGRADE:
        ft = WD_PROXY_FT_INVALID_HEADER;
        break;
    default:
        ft = WD_PROXY_FT_ERROR;
    }
    what = e == WD_HC_E_CONNECT_TIMEOUT || e == WD_HC_E_REFUSED || e == WD_HC_E_CONNECT
           || e == WD_HC_E_UNREACH || e == WD_HC_E_DNS ? "connecting to upstream"
         : wd_hc_state(ctx->hc) == WD_HC_FAILED && !ctx->body_done && ctx->has_body
           ? "sending request to upstream" : "reading response header from upstream";
    wd_log_error(WD_LOG_ERR, wd_http_log(ctx->r->hc), 0,
                 "%s%s while %s, upstream: \"%s://%.*s\"",
                 ft == WD_PROXY_FT_TIMEOUT ? "upstream timed out: " :
                 ft == WD_PROXY_FT_INVALID_HEADER ? "upstream sent invalid header: " : "",
                 wd_hc_error_text(ctx->hc), what, ctx->https ? "https" : "http",
                 wd_str_pf(&ctx->peer->name));
    wd_http_proxy_note_status(ctx, ft == WD_PROXY_FT_TIMEOUT ? "504" : "502");
    wd_http_proxy_peer_failed(ctx);
    if (wd_http_proxy_can_retry(ctx, ft)) {
        wd_http_proxy_next_peer(ctx, ft);
    } else {
        wd_http_proxy_finalize(ctx, ft == WD_PROXY_FT_TIMEOUT ? 504 : 502);
    }
}

static void
wd_http_proxy_notify(void *data)
{
    wd_http_proxy_ctx_t *ctx = data;
    wd_http_request_t *r = ctx->r;

    if (ctx->hc == NULL) {
        return;
    }
    if (ctx->tunnel) {
        wd_http_proxy_tunnel_pump(r);
        return;
    }
    if (ctx->head_sent) {
        wd_http_proxy_response_pump(r);
        return;
    }
    if (wd_hc_has_head(ctx->hc) && wd_hc_state(ctx->hc) != WD_HC_FAILED) {
        wd_http_proxy_head(ctx);
        return;
    }
    if (wd_hc_state(ctx->hc) == WD_HC_FAILED) {
        wd_http_proxy_failed(ctx);
        return;
    }
    if (ctx->has_body && !ctx->body_done) {
        wd_http_proxy_body_pump(r);
        return;
    }
    wd_http_proxy_arm_send(ctx);
}

/* ---------------------------------------------------------------- the handler */

static int
wd_http_proxy_start(wd_http_proxy_ctx_t *ctx)
{
    int rc = wd_http_proxy_connect(ctx);
    if (rc != WD_OK) {
        wd_http_proxy_finalize(ctx, rc);
        return WD_DONE;
    }
    return WD_DONE;
}

static void
wd_http_proxy_body_buffered(wd_http_request_t *r)
{
    wd_http_proxy_ctx_t *ctx = r->ctx;

    if (r->body_status) {
        wd_http_proxy_finalize(ctx, (int) r->body_status);
        return;
    }
    ctx->rq.content_length = (int64_t) r->body.len;
    ctx->buffered_body = 1;
    ctx->body_touched = 1;
    wd_http_proxy_start(ctx);
}

int
wd_http_proxy_handler(wd_http_request_t *r)
{
    wd_http_proxy_loc_conf_t *plcf = wd_http_loc_get_module_conf(
        (wd_http_core_loc_conf_t *) r->loc_conf, wd_http_proxy_module);
    wd_http_proxy_ctx_t *ctx;
    wd_str_t uri = plcf->uri;
    int has_uri = plcf->has_uri, https = plcf->https;
    wd_http_proxy_vars_t *pv = wd_http_proxy_vars(r, 1);

    if (pv == NULL) {
        return 500;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return 500;
    }
    ctx->r = r;
    ctx->plcf = plcf;
    ctx->vars = pv;
    ctx->tmp_fd = -1;
    ctx->start = wd_http_proxy_now();
    uv_timer_init(&wd_worker->loop, &ctx->send_timer);
    ctx->send_timer.data = ctx;
    r->ctx = ctx;
    r->cleanup = wd_http_proxy_cleanup;

    if (plcf->url_cv) {
        /* proxy_pass with variables: the URL is known now */
        wd_str_t url, hp;
        const u_char *p, *slash;
        size_t skip;
        char *host;
        unsigned port;
        if (wd_http_complex_value(r, plcf->url_cv, &url) != WD_OK) {
            goto fail500;
        }
        if (url.len > 7 && strncasecmp((char *) url.data, "http://", 7) == 0) {
            skip = 7;
            https = 0;
        } else if (url.len > 8 && strncasecmp((char *) url.data, "https://", 8) == 0) {
            skip = 8;
            https = 1;
        } else {
            wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "invalid URL prefix in \"%.*s\"",
                         wd_str_pf(&url));
            goto fail500;
        }
        p = url.data + skip;
        slash = memchr(p, '/', url.data + url.len - p);
        hp.data = (u_char *) p;
        hp.len = (slash ? slash : url.data + url.len) - p;
        has_uri = slash != NULL;
        if (slash) {
            uri.data = (u_char *) slash;
            uri.len = url.data + url.len - slash;
        }
        if (wd_http_proxy_parse_hostport(r->pool, hp.data, hp.len, &host, &port) != WD_OK) {
            wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "invalid host in \"%.*s\"",
                         wd_str_pf(&url));
            goto fail500;
        }
        wd_http_proxy_main_conf_t *pmcf = wd_http_cycle_get_module_main_conf(wd_cycle,
                                                                         wd_http_proxy_module);
        ctx->up = port == 0 && pmcf ? wd_http_proxy_find_block(pmcf, (u_char *) host,
                                                               strlen(host)) : NULL;
        pv->proxy_host = hp;
        unsigned def = https ? 443 : 80;
        if (port == def) {
            pv->proxy_host.len = (u_char *) memrchr(hp.data, ':', hp.len) - hp.data;
        }
        char pb[8];
        int pn = snprintf(pb, sizeof(pb), "%u", port ? port : def);
        pv->proxy_port.data = wd_pnalloc(r->pool, pn);
        if (pv->proxy_port.data == NULL) {
            goto fail500;
        }
        memcpy(pv->proxy_port.data, pb, pn);
        pv->proxy_port.len = pn;
        if (ctx->up == NULL) {
            char nb[300];
            int nn = snprintf(nb, sizeof(nb), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
                              port ? port : def);
            ctx->oneoff.host = host;
            ctx->oneoff.port = port ? port : def;
            ctx->oneoff.name.data = wd_pnalloc(r->pool, nn);
            if (ctx->oneoff.name.data == NULL) {
                goto fail500;
            }
            memcpy(ctx->oneoff.name.data, nb, nn);
            ctx->oneoff.name.len = nn;
        }
    } else {
        ctx->up = plcf->upstream;
        pv->proxy_host = plcf->proxy_host;
        pv->proxy_port = plcf->proxy_port;
    }
    ctx->https = https;
    if (ctx->up) {
        ctx->tried = wd_pcalloc(r->pool, ctx->up->peers->nelts);
        if (ctx->tried == NULL) {
            goto fail500;
        }
    }
    ctx->target = wd_http_proxy_target(r, plcf, &uri, has_uri, plcf->url_cv != NULL);
    if (ctx->target == NULL || wd_http_proxy_build_headers(ctx) != WD_OK) {
        goto fail500;
    }
    ctx->has_body = plcf->pass_request_body && r->body_state != WD_HTTP_BODY_NONE;
    ctx->rq.https = https;
    ctx->rq.tls_ctx = plcf->tls_ctx;
    if (https) {
        /* proxy_ssl_name (default $proxy_host), its port stripped as nginx does: the name
         * verified in the upstream's certificate and sent as SNI */
        wd_str_t nm = pv->proxy_host;
        u_char *p, *e;
        char *z;
        if (plcf->ssl_name && wd_http_complex_value(r, plcf->ssl_name, &nm) != WD_OK) {
            goto fail500;
        }
        p = nm.data;
        e = nm.data + nm.len;
        if (nm.len && p[0] == '[') {
            u_char *rb = memchr(p, ']', nm.len);
            if (rb) {
                nm.data++;
                nm.len = rb - nm.data;      /* an IPv6 literal, without its brackets */
                p = e;
            }
        }
        if (p < e) {
            u_char *colon = memchr(p, ':', e - p);
            if (colon) {
                nm.len = colon - nm.data;
            }
        }
        z = wd_pnalloc(r->pool, nm.len + 1);
        if (z == NULL) {
            goto fail500;
        }
        memcpy(z, nm.data, nm.len);
        z[nm.len] = '\0';
        ctx->rq.tls_name = nm.len ? z : NULL;
    }
    {
        char *m = wd_pnalloc(r->pool, r->method_name.len + 1);
        if (m == NULL) {
            goto fail500;
        }
        memcpy(m, r->method_name.data, r->method_name.len);
        m[r->method_name.len] = '\0';
        ctx->rq.method = m;
    }
    ctx->rq.target = ctx->target;
    ctx->rq.authority = ctx->authority;
    ctx->rq.headers = ctx->hdrs;
    ctx->rq.nheaders = ctx->nhdrs;
    ctx->rq.body = ctx->has_body;
    ctx->rq.content_length = ctx->has_body ? r->content_length_n : -1;
    if (ctx->has_body && r->chunked) {
        ctx->rq.content_length = -1;
    }
    ctx->rq.connect_timeout_ms = plcf->connect_timeout;
    ctx->rq.first_byte_timeout_ms = plcf->read_timeout;
    ctx->rq.between_bytes_timeout_ms = plcf->read_timeout;
    ctx->rq.max_head = plcf->buffer_size < 1024 ? 1024 : plcf->buffer_size;
    ctx->rq.notify = wd_http_proxy_notify;
    ctx->rq.data = ctx;
    ctx->rq.http10 = plcf->http_version == 10;
    /* nginx switches to a tunnel on a 101 only when the client asked to upgrade */
    ctx->rq.upgrade = !ctx->has_body && wd_http_find_header(&r->headers_in, "upgrade", 7) != NULL;
    /* nginx caches connections only for upstream blocks with `keepalive`; whether one is
     * kept then depends on the response (an upstream told "Connection: close" closes) */
    ctx->rq.pool_max = ctx->up == NULL || ctx->up->keepalive == 0 ? -1 : (int) ctx->up->keepalive;
    if (ctx->has_body && ctx->rq.content_length < 0 && ctx->rq.http10) {
        /* HTTP/1.0 has no chunked bodies: read it all first (client_max_body_size bounds
         * it), then send it with a Content-Length, as nginx does */
        ctx->rq.content_length = 0;
        wd_http_read_body(r, wd_http_proxy_body_buffered);
        return WD_DONE;
    }
    return wd_http_proxy_start(ctx);

fail500:
    r->cleanup = NULL;
    r->ctx = NULL;
    uv_close((uv_handle_t *) &ctx->send_timer, wd_http_proxy_timer_closed);
    return 500;
}
