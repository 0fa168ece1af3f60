/*
 * wd_http_wasm_outbound.c -- outgoing HTTP for wasi:http handlers: policy and glue.
 *
 *   location /proxy {
 *       wasm_handler          proxy.wasm;
 *       wasm_outbound_allow   https://api.example.com http://127.0.0.1:8080
 *                             *://localhost:*;
 *       wasm_outbound_limits  16 256 32k;   # in flight, total per request, response head
 *       wasm_outbound_ca      /etc/wasmd/extra-ca.pem;   # trusted besides the system store
 *   }
 *   wasm_outbound_pool 64 256 15s;   # http{} only: idle connections kept per upstream, in
 *                                    # all, and how long (per worker)
 *
 * Default deny: a request whose scheme://host:port matches no pattern fails with
 * HTTP-request-denied before any DNS lookup or connect. Patterns: scheme `http`,
 * `https` or `*`; host exact (case-insensitive), `*.suffix` (any name under suffix, not
 * suffix itself) or `*`; port a number, `*`, or omitted (the scheme's default port).
 * All three directives are inherited (http -> server -> location) like the other wasm_*
 * directives; a level that sets one replaces its parent's.
 *
 * The host (src/host/http) sees only wd_host_http_outbound_t; this file implements it
 * with src/http's client: per-request limits (in flight, total), timeouts from
 * request-options, client errors mapped to wasi:http error-code cases, and the wake-up
 * of the suspended handler when one of its requests progresses. Every client request is
 * closed when the guest drops it or when the request's instance is reset (trap, timeout,
 * client gone, reload), which returns a cleanly finished connection to the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "wd_http_wasm.h"
#include "wd_http_client.h"
#include "wd_http_variables.h"
#include "wd_event_connect.h"

typedef struct {
    int        scheme;          /* 0 http, 1 https, -1 any */
    wd_str_t   host;            /* lowercase; "*" any; "*.x" suffix */
    int        port;            /* -1 any, 0 the scheme's default */
} wd_wasm_ob_pattern_t;

typedef struct {
    wd_array_t *allow;          /* wd_wasm_ob_pattern_t; NULL: unset */
    wd_int_t    max_inflight, max_total;
    size_t      max_head;
    wd_str_t    ca;             /* extra CA file (absolute), or empty */
    unsigned    ca_set:1;
    void       *tls_ctx;        /* SSL_CTX for https (made in the master) */
} wd_wasm_ob_conf_t;

typedef struct {
    wd_int_t    idle_per_upstream, idle_total;
    wd_int_t    idle_ms;
} wd_wasm_ob_main_conf_t;

typedef struct {
    wd_hc_req_t         *q;
    wd_http_wasm_ctx_t  *ctx;
    uint64_t             start_ms;
} wd_wasm_ob_req_t;

static char *wd_wasm_ob_allow_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_wasm_ob_limits_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_wasm_ob_ca_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_wasm_ob_pool_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_wasm_ob_create_main_conf(wd_conf_t *cf);
static char *wd_wasm_ob_init_main_conf(wd_conf_t *cf, void *conf);
static void *wd_wasm_ob_create_loc_conf(wd_conf_t *cf);
static char *wd_wasm_ob_merge_loc_conf(wd_conf_t *cf, void *prev, void *conf);
static void  wd_wasm_ob_exit_worker(wd_cycle_t *cycle);
static int   wd_wasm_ob_init_worker(wd_cycle_t *cycle);

#define WD_WASM_OB_LEVELS (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)

static const wd_command_t wd_wasm_ob_commands[] = {
    { "wasm_outbound_allow", WD_WASM_OB_LEVELS | WD_CONF_1MORE, wd_wasm_ob_allow_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_outbound_limits", WD_WASM_OB_LEVELS | WD_CONF_TAKE23, wd_wasm_ob_limits_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_outbound_ca", WD_WASM_OB_LEVELS | WD_CONF_TAKE1, wd_wasm_ob_ca_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_outbound_pool", WD_HTTP_MAIN_CONF | WD_CONF_TAKE23, wd_wasm_ob_pool_cmd,
      WD_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static int wd_wasm_ob_preconfiguration(wd_conf_t *cf);

static const wd_module_ctx_t wd_wasm_ob_module_ctx = {
    .preconfiguration = wd_wasm_ob_preconfiguration,
    .create_main_conf = wd_wasm_ob_create_main_conf,
    .init_main_conf = wd_wasm_ob_init_main_conf,
    .create_loc_conf = wd_wasm_ob_create_loc_conf,
    .merge_loc_conf = wd_wasm_ob_merge_loc_conf,
};

wd_module_t wd_wasm_outbound_module = {
    .name = "wd_wasm_outbound_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_wasm_ob_commands,
    .ctx = &wd_wasm_ob_module_ctx,
    .init_worker = wd_wasm_ob_init_worker,
    .exit_worker = wd_wasm_ob_exit_worker,
};

/* ---------------------------------------------------------------- configuration */

static void *
wd_wasm_ob_create_main_conf(wd_conf_t *cf)
{
    wd_wasm_ob_main_conf_t *m = wd_pcalloc(cf->pool, sizeof(*m));

    if (m) {
        m->idle_per_upstream = WD_CONF_UNSET;
        m->idle_total = WD_CONF_UNSET;
        m->idle_ms = WD_CONF_UNSET;
    }
    return m;
}

static char *
wd_wasm_ob_init_main_conf(wd_conf_t *cf, void *conf)
{
    wd_wasm_ob_main_conf_t *m = conf;

    wd_conf_init_value(m->idle_per_upstream, 64);
    wd_conf_init_value(m->idle_total, 256);
    wd_conf_init_value(m->idle_ms, 15000);
    return WD_CONF_OK;
}

/* wasm_outbound_pool PER_UPSTREAM TOTAL [IDLE_TIMEOUT]; (0 keeps no idle connection) */
static char *
wd_wasm_ob_pool_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_wasm_ob_main_conf_t *m = conf;
    wd_str_t *args = cf->args->elts;

    if (m->idle_per_upstream != WD_CONF_UNSET) {
        return "is duplicate";
    }
    m->idle_per_upstream = wd_atoi(args[1].data, args[1].len);
    m->idle_total = wd_atoi(args[2].data, args[2].len);
    if (m->idle_per_upstream == WD_ERROR || m->idle_per_upstream > 100000) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (m->idle_total == WD_ERROR || m->idle_total > 100000) {
        return wd_conf_invalid_value(cf, &args[2]);
    }
    if (cf->args->nelts == 4) {
        m->idle_ms = wd_parse_time(&args[3], 0);
        if (m->idle_ms == WD_ERROR || m->idle_ms < 1) {
            return wd_conf_invalid_value(cf, &args[3]);
        }
    }
    return WD_CONF_OK;
}

static void *
wd_wasm_ob_create_loc_conf(wd_conf_t *cf)
{
    wd_wasm_ob_conf_t *c = wd_pcalloc(cf->pool, sizeof(*c));

    if (c) {
        c->max_inflight = WD_CONF_UNSET;
        c->max_total = WD_CONF_UNSET;
        c->max_head = WD_CONF_UNSET_SIZE;
    }
    return c;
}

static void
wd_wasm_ob_ctx_cleanup(void *data)
{
    wd_oconn_tls_ctx_free(*(void **) data);
}

static char *
wd_wasm_ob_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_wasm_ob_conf_t *prev = parent, *conf = child;
    char err[256];

    if (conf->allow == NULL) {
        conf->allow = prev->allow;
    }
    wd_conf_merge_value(conf->max_inflight, prev->max_inflight, 16);
    wd_conf_merge_value(conf->max_total, prev->max_total, 256);
    wd_conf_merge_size_value(conf->max_head, prev->max_head, 32768);
    if (!conf->ca_set) {
        conf->ca = prev->ca;
        conf->ca_set = prev->ca_set;
        conf->tls_ctx = prev->tls_ctx;
    }
    if (conf->tls_ctx == NULL && conf->allow) {
        wd_wasm_ob_pattern_t *p = conf->allow->elts;
        int https = 0;
        for (wd_uint_t i = 0; i < conf->allow->nelts; i++) {
            https |= p[i].scheme != 0;
        }
        if (https) {
            /* the store is loaded here, in the master: workers never read it */
            conf->tls_ctx = wd_oconn_tls_ctx(conf->ca.len ? (char *) conf->ca.data : NULL,
                                             err, sizeof(err));
            if (conf->tls_ctx == NULL) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_outbound_ca: %s", err);
                return WD_CONF_ERROR;
            }
            wd_pool_cleanup_t *cln = wd_pool_cleanup_add(cf->pool, sizeof(void *));
            if (cln == NULL) {
                wd_oconn_tls_ctx_free(conf->tls_ctx);
                return WD_CONF_ERROR;
            }
            *(void **) cln->data = conf->tls_ctx;
            cln->handler = wd_wasm_ob_ctx_cleanup;
            if (!conf->ca_set && prev->tls_ctx == NULL && prev->allow == conf->allow) {
                prev->tls_ctx = conf->tls_ctx;     /* siblings inheriting it share one */
            }
        }
    }
    return WD_CONF_OK;
}

static int
wd_wasm_ob_parse_port(const u_char *p, size_t n)
{
    int v = 0;
    if (n == 0 || n > 5) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit(p[i])) {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

static char *
wd_wasm_ob_allow_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_wasm_ob_conf_t *c = conf;
    wd_str_t *args = cf->args->elts;

    if (c->allow) {
        return "is duplicate";
    }
    c->allow = wd_array_create(cf->pool, cf->args->nelts, sizeof(wd_wasm_ob_pattern_t));
    if (c->allow == NULL) {
        return WD_CONF_ERROR;
    }
    for (wd_uint_t i = 1; i < cf->args->nelts; i++) {
        u_char *s = args[i].data, *e = s + args[i].len, *h, *he, *colon;
        wd_wasm_ob_pattern_t *p = wd_array_push(c->allow);
        if (p == NULL) {
            return WD_CONF_ERROR;
        }
        u_char *sep = (u_char *) strstr((char *) s, "://");
        if (sep == NULL || sep >= e) {
            goto bad;
        }
        if (sep - s == 4 && strncasecmp((char *) s, "http", 4) == 0) {
            p->scheme = 0;
        } else if (sep - s == 5 && strncasecmp((char *) s, "https", 5) == 0) {
            p->scheme = 1;
        } else if (sep - s == 1 && s[0] == '*') {
            p->scheme = -1;
        } else {
            goto bad;
        }
        h = sep + 3;
        if (e > h && e[-1] == '/') {
            e--;                                  /* "https://api.example.com/" */
        }
        if (h < e && *h == '[') {
            he = memchr(h, ']', e - h);
            if (he == NULL) {
                goto bad;
            }
            he++;
        } else {
            he = memchr(h, ':', e - h);
            if (he == NULL) {
                he = e;
            }
        }
        p->port = 0;
        if (he < e) {
            colon = he;
            if (*colon != ':') {
                goto bad;
            }
            if (e - colon == 2 && colon[1] == '*') {
                p->port = -1;
            } else if ((p->port = wd_wasm_ob_parse_port(colon + 1, e - colon - 1)) < 0) {
                goto bad;
            }
        }
        if (he == h || memchr(h, '/', he - h) || memchr(h, '@', he - h)
            || (memchr(h, '*', he - h) && !(he - h == 1 || (h[0] == '*' && h[1] == '.'
                                                            && he - h > 2
                                                            && !memchr(h + 1, '*', he - h - 1)))))
        {
            goto bad;
        }
        p->host.len = he - h;
        p->host.data = wd_pnalloc(cf->pool, p->host.len + 1);
        if (p->host.data == NULL) {
            return WD_CONF_ERROR;
        }
        for (size_t k = 0; k < p->host.len; k++) {
            p->host.data[k] = tolower(h[k]);
        }
        p->host.data[p->host.len] = '\0';
        continue;
bad:
        wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                          "invalid pattern \"%.*s\" in \"wasm_outbound_allow\" (expected "
                          "SCHEME://HOST[:PORT] with SCHEME http, https or *, HOST a name, "
                          "*.suffix or *, PORT a number or *)", wd_str_pf(&args[i]));
        return WD_CONF_ERROR;
    }
    return WD_CONF_OK;
}

static char *
wd_wasm_ob_limits_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_wasm_ob_conf_t *c = conf;
    wd_str_t *args = cf->args->elts;

    if (c->max_inflight != WD_CONF_UNSET) {
        return "is duplicate";
    }
    c->max_inflight = wd_atoi(args[1].data, args[1].len);
    c->max_total = wd_atoi(args[2].data, args[2].len);
    if (c->max_inflight == WD_ERROR || c->max_inflight < 1 || c->max_inflight > 10000) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (c->max_total == WD_ERROR || c->max_total < 1 || c->max_total > 1000000) {
        return wd_conf_invalid_value(cf, &args[2]);
    }
    if (cf->args->nelts == 4) {
        ssize_t sz = wd_parse_size(&args[3]);
        if (sz < 1024 || sz > (1 << 20)) {
            return wd_conf_invalid_value(cf, &args[3]);
        }
        c->max_head = sz;
    }
    return WD_CONF_OK;
}

static char *
wd_wasm_ob_ca_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_wasm_ob_conf_t *c = conf;
    wd_str_t *args = cf->args->elts, path = args[1];

    if (c->ca_set) {
        return "is duplicate";
    }
    if (wd_conf_full_name(cf->cycle, &path, 0) != WD_OK) {
        return WD_CONF_ERROR;
    }
    c->ca.data = (u_char *) wd_pstrdup(cf->pool, &path);
    c->ca.len = path.len;
    c->ca_set = 1;
    return c->ca.data ? WD_CONF_OK : WD_CONF_ERROR;
}

/* ---------------------------------------------------------------- policy */

/* Split an authority into a lowercase host (no brackets) and a port. -1 if malformed. */
static int
wd_wasm_ob_authority(const char *a, char *host, size_t hlen, int *port)
{
    const char *e = a + strlen(a), *he, *hs = a;
    size_t n;

    *port = 0;
    if (*a == '[') {
        he = strchr(a, ']');
        if (he == NULL) {
            return -1;
        }
        hs = a + 1;
        n = he - hs;
        he++;
    } else {
        he = strchr(a, ':');
        if (he == NULL) {
            he = e;
        }
        n = he - a;
    }
    if (n == 0 || n >= hlen) {
        return -1;
    }
    if (*he == ':') {
        if ((*port = wd_wasm_ob_parse_port((const u_char *) he + 1, e - he - 1)) < 0) {
            return -1;
        }
    } else if (he != e) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = hs[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("/?#@[]\\", ch)) {
            if (!(*a == '[' && ch != '/' && ch != '?' && ch != '#' && ch != '@')) {
                return -1;
            }
        }
        host[i] = tolower(ch);
    }
    host[n] = '\0';
    return 0;
}

static int
wd_wasm_ob_allowed(wd_wasm_ob_conf_t *c, int https, const char *host, int port)
{
    wd_wasm_ob_pattern_t *p;
    size_t hl = strlen(host);

    if (c->allow == NULL) {
        return 0;
    }
    p = c->allow->elts;
    for (wd_uint_t i = 0; i < c->allow->nelts; i++) {
        int want = p[i].port == 0 ? (https ? 443 : 80) : p[i].port;
        const char *ph = (const char *) p[i].host.data;
        if (p[i].scheme >= 0 && p[i].scheme != https) {
            continue;
        }
        if (p[i].port != -1 && want != port) {
            continue;
        }
        if (p[i].host.len == 1 && ph[0] == '*') {
            return 1;
        }
        if (ph[0] == '*') {           /* "*.suffix": a name strictly under suffix */
            size_t sl = p[i].host.len - 1;   /* ".suffix" */
            if (hl > sl && strcmp(host + hl - sl, ph + 1) == 0) {
                return 1;
            }
            continue;
        }
        /* "[::1]" patterns are stored with brackets */
        if (ph[0] == '[' ? (p[i].host.len == hl + 2 && strncmp(ph + 1, host, hl) == 0)
                         : strcmp(ph, host) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the host interface */

static void
wd_wasm_ob_notify(void *data)
{
    wd_wasm_ob_req_t *w = data;
    if (w->ctx) {
        wd_http_wasm_ctx_wake(w->ctx);
    }
}

static uint64_t
wd_wasm_ob_ms(uint64_t ns)
{
    return ns ? (ns + 999999) / 1000000 : 0;
}

static void wd_wasm_ob_prepare_start(void);
static void *wd_wasm_ob_start1(void *be, const wd_host_http_ob_request_t *rq, int *code,
                               char *msg, size_t msglen);

static void *
wd_wasm_ob_start(void *be, const wd_host_http_ob_request_t *rq, int *code, char *msg,
                 size_t msglen)
{
    void *q = wd_wasm_ob_start1(be, rq, code, msg, msglen);
    if (q == NULL) {
        wd_http_wasm_status_outbound(be, *code, 0);
    }
    return q;
}

static void *
wd_wasm_ob_start1(void *be, const wd_host_http_ob_request_t *rq, int *code, char *msg,
                  size_t msglen)
{
    wd_http_wasm_ctx_t *ctx = be;
    wd_http_core_loc_conf_t *clcf = ctx->r ? ctx->r->loc_conf : NULL;
    wd_wasm_ob_conf_t *c;
    char host[256];
    int port;
    wd_hc_header_t hv[64], *hp = hv;

    if (clcf == NULL) {
        *code = 38;
        snprintf(msg, msglen, "the client went away");
        return NULL;
    }
    c = wd_http_loc_get_module_conf(clcf, wd_wasm_outbound_module);
    ctx->ob_total++;
    if (rq->https < 0) {
        *code = 15;
        snprintf(msg, msglen, "scheme \"%s\" is not allowed", rq->scheme);
        goto denied;
    }
    if (wd_wasm_ob_authority(rq->authority, host, sizeof(host), &port) < 0) {
        *code = 19;
        snprintf(msg, msglen, "invalid authority \"%s\"", rq->authority);
        return NULL;
    }
    if (port == 0) {
        port = rq->https ? 443 : 80;
    }
    if (!wd_wasm_ob_allowed(c, rq->https, host, port)) {
        *code = 15;
        snprintf(msg, msglen, "%s://%s:%d is not in wasm_outbound_allow", rq->scheme, host, port);
        goto denied;
    }
    if (ctx->ob_total > (uint64_t) c->max_total) {
        *code = 11;
        snprintf(msg, msglen, "more than %ld outgoing requests (wasm_outbound_limits)",
                 (long) c->max_total);
        return NULL;
    }
    if (ctx->ob_live >= (uint64_t) c->max_inflight) {
        *code = 11;
        snprintf(msg, msglen, "more than %ld outgoing requests in flight (wasm_outbound_limits)",
                 (long) c->max_inflight);
        return NULL;
    }
    if (rq->https && c->tls_ctx == NULL) {
        *code = 37;
        snprintf(msg, msglen, "no TLS context");
        return NULL;
    }
    wd_wasm_ob_req_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        *code = 38;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    if (rq->nheaders > 64 && (hp = malloc(rq->nheaders * sizeof(*hp))) == NULL) {
        free(w);
        *code = 38;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < rq->nheaders; i++) {
        hp[i].name = rq->headers[i].name;
        hp[i].name_len = rq->headers[i].name_len;
        hp[i].value = rq->headers[i].value;
        hp[i].value_len = rq->headers[i].value_len;
    }
    wd_hc_request_t hr = {
        .https = rq->https, .host = host, .port = port, .tls_ctx = c->tls_ctx,
        .method = rq->method, .target = rq->path, .authority = rq->authority,
        .headers = hp, .nheaders = rq->nheaders, .content_length = rq->content_length,
        .body = rq->body,
        .connect_timeout_ms = wd_wasm_ob_ms(rq->timeout_ns[0]),
        .first_byte_timeout_ms = wd_wasm_ob_ms(rq->timeout_ns[1]),
        .between_bytes_timeout_ms = wd_wasm_ob_ms(rq->timeout_ns[2]),
        .max_head = c->max_head, .notify = wd_wasm_ob_notify, .data = w,
    };
    wd_wasm_ob_prepare_start();
    w->q = wd_hc_start(&wd_worker->loop, &hr);
    if (hp != hv) {
        free(hp);
    }
    if (w->q == NULL) {
        free(w);
        *code = 38;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    w->ctx = ctx;
    w->start_ms = wd_event_now();
    if (ctx->r) {
        ctx->r->wasm_outbound++;
    }
    ctx->ob_live++;
    ctx->ob_count++;
    return w;

denied:
    wd_log_error(WD_LOG_WARN, wd_cycle->log, 0, "wasm %.*s: outgoing request denied: %s",
                 wd_str_pf(&ctx->conf->route), msg);
    return NULL;
}

static int
wd_wasm_ob_code(int e)
{
    switch (e) {
    case WD_HC_E_DNS: return 1;                    /* DNS-error */
    case WD_HC_E_REFUSED: return 6;                /* connection-refused */
    case WD_HC_E_UNREACH: return 5;                /* destination-IP-unroutable */
    case WD_HC_E_CONNECT: return 3;                /* destination-unavailable */
    case WD_HC_E_CONNECT_TIMEOUT: return 8;        /* connection-timeout */
    case WD_HC_E_TLS: return 12;                   /* TLS-protocol-error */
    case WD_HC_E_CERT: return 13;                  /* TLS-certificate-error */
    case WD_HC_E_TLS_ALERT: return 14;             /* TLS-alert-received */
    case WD_HC_E_RESET: return 7;                  /* connection-terminated */
    case WD_HC_E_FIRST_BYTE_TIMEOUT: return 33;    /* HTTP-response-timeout */
    case WD_HC_E_BETWEEN_BYTES_TIMEOUT: return 9;  /* connection-read-timeout */
    case WD_HC_E_PROTOCOL: return 35;              /* HTTP-protocol-error */
    case WD_HC_E_HEAD_SIZE: return 26;             /* HTTP-response-header-section-size */
    case WD_HC_E_INCOMPLETE: return 25;            /* HTTP-response-incomplete */
    case WD_HC_E_CODING: return 31;                /* HTTP-response-transfer-coding */
    case WD_HC_E_UPGRADE: return 34;               /* HTTP-upgrade-failed */
    case WD_HC_E_REQ_BODY: return 17;              /* HTTP-request-body-size */
    default: return 38;                            /* internal-error */
    }
}

static int
wd_wasm_ob_head_state(void *q, int *code, const char **msg)
{
    wd_wasm_ob_req_t *w = q;
    int st = wd_hc_state(w->q);

    if (st == WD_HC_FAILED) {
        *code = wd_wasm_ob_code(wd_hc_error(w->q));
        *msg = wd_hc_error_text(w->q);
        return -1;
    }
    return wd_hc_has_head(w->q) ? 1 : 0;
}

static int
wd_wasm_ob_status(void *q)
{
    return wd_hc_status(((wd_wasm_ob_req_t *) q)->q);
}

static size_t
wd_wasm_ob_nheaders(void *q)
{
    return wd_hc_nheaders(((wd_wasm_ob_req_t *) q)->q);
}

static void
wd_wasm_ob_header(void *q, size_t i, wd_host_http_header_t *hd)
{
    wd_hc_header_t x;
    wd_hc_header(((wd_wasm_ob_req_t *) q)->q, i, &x);
    hd->name = x.name;
    hd->name_len = x.name_len;
    hd->value = x.value;
    hd->value_len = x.value_len;
}

static long
wd_wasm_ob_read(void *q, uint8_t *buf, size_t len)
{
    return wd_hc_read(((wd_wasm_ob_req_t *) q)->q, buf, len);
}

static int
wd_wasm_ob_readable(void *q)
{
    return wd_hc_readable(((wd_wasm_ob_req_t *) q)->q);
}

static int
wd_wasm_ob_write(void *q, const uint8_t *p, size_t n)
{
    return wd_hc_write(((wd_wasm_ob_req_t *) q)->q, p, n);
}

static size_t
wd_wasm_ob_pending(void *q)
{
    return wd_hc_pending(((wd_wasm_ob_req_t *) q)->q);
}

static int
wd_wasm_ob_finish(void *q)
{
    return wd_hc_finish(((wd_wasm_ob_req_t *) q)->q);
}

static void
wd_wasm_ob_close(void *q)
{
    wd_wasm_ob_req_t *w = q;

    int failed = wd_hc_state(w->q) == WD_HC_FAILED;
    if (failed) {
        wd_log_error(WD_LOG_INFO, wd_cycle->log, 0, "wasm %.*s: outgoing request failed: %s",
                     w->ctx ? (int) w->ctx->conf->route.len : 0,
                     w->ctx ? (char *) w->ctx->conf->route.data : "", wd_hc_error_text(w->q));
    }
    if (w->ctx) {
        uint64_t ms = wd_event_now() - w->start_ms;
        w->ctx->ob_live--;
        w->ctx->ob_time_ms += ms;
        if (w->ctx->r) {
            w->ctx->r->wasm_outbound_ms += ms;
        }
        wd_http_wasm_status_outbound(w->ctx, failed ? wd_wasm_ob_code(wd_hc_error(w->q)) : -1,
                                     ms);
    }
    wd_hc_close(w->q);
    free(w);
}

static size_t
wd_wasm_ob_ntrailers(void *q)
{
    return wd_hc_ntrailers(((wd_wasm_ob_req_t *) q)->q);
}

static void
wd_wasm_ob_trailer(void *q, size_t i, wd_host_http_header_t *hd)
{
    wd_hc_header_t x;
    wd_hc_trailer(((wd_wasm_ob_req_t *) q)->q, i, &x);
    hd->name = x.name;
    hd->name_len = x.name_len;
    hd->value = x.value;
    hd->value_len = x.value_len;
}

static int
wd_wasm_ob_finish_trailers(void *q, const wd_host_http_header_t *t, size_t n)
{
    wd_hc_header_t st[16], *v = st;
    int rc;

    if (n == 0) {
        return wd_hc_finish(((wd_wasm_ob_req_t *) q)->q);
    }
    if (n > 16 && (v = malloc(n * sizeof(*v))) == NULL) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].name = t[i].name;
        v[i].name_len = t[i].name_len;
        v[i].value = t[i].value;
        v[i].value_len = t[i].value_len;
    }
    rc = wd_hc_finish_trailers(((wd_wasm_ob_req_t *) q)->q, v, n);
    if (v != st) {
        free(v);
    }
    return rc;
}

const wd_host_http_outbound_t wd_http_wasm_outbound = {
    wd_wasm_ob_start, wd_wasm_ob_head_state, wd_wasm_ob_status, wd_wasm_ob_nheaders,
    wd_wasm_ob_header, wd_wasm_ob_read, wd_wasm_ob_readable, wd_wasm_ob_write,
    wd_wasm_ob_pending, wd_wasm_ob_finish, wd_wasm_ob_close,
    wd_wasm_ob_ntrailers, wd_wasm_ob_trailer, wd_wasm_ob_finish_trailers
};

void
wd_http_wasm_outbound_gauges(unsigned g[3])
{
    g[0] = wd_oconn_count();
    g[1] = wd_hc_pool_idle();
    g[2] = wd_hc_active();
}

/* The gauges change in close callbacks too, which run after the loop's flush hook (the
 * status module's publish): a prepare handle republishes them, when they changed, just
 * before the loop blocks, so an idle worker's numbers are never one iteration stale. */
static uv_prepare_t wd_wasm_ob_prep;
static int          wd_wasm_ob_prep_state;   /* 0 not yet, 1 running, 2 closed */
static unsigned     wd_wasm_ob_last[3];

static void
wd_wasm_ob_prepare_cb(uv_prepare_t *p)
{
    unsigned g[3];

    wd_http_wasm_outbound_gauges(g);
    if (memcmp(g, wd_wasm_ob_last, sizeof(g)) != 0) {
        memcpy(wd_wasm_ob_last, g, sizeof(g));
        wd_http_wasm_status_publish();
    }
}

/* Started with the worker's first outgoing request (the loop exists by then). */
static void
wd_wasm_ob_prepare_start(void)
{
    if (wd_wasm_ob_prep_state == 0 && wd_worker
        && uv_prepare_init(&wd_worker->loop, &wd_wasm_ob_prep) == 0)
    {
        uv_prepare_start(&wd_wasm_ob_prep, wd_wasm_ob_prepare_cb);
        uv_unref((uv_handle_t *) &wd_wasm_ob_prep);
        wd_wasm_ob_prep_state = 1;
    }
}

static void
wd_wasm_ob_exit_worker(wd_cycle_t *cycle)
{
    wd_hc_pool_close_all();
}

static void
wd_wasm_ob_close_hook(void *data)
{
    wd_hc_pool_close_all();      /* idle upstream connections must not keep the loop alive */
    if (wd_wasm_ob_prep_state == 1) {
        uv_close((uv_handle_t *) &wd_wasm_ob_prep, NULL);
    }
    wd_wasm_ob_prep_state = 2;
}

static int
wd_wasm_ob_init_worker(wd_cycle_t *cycle)
{
    wd_wasm_ob_main_conf_t *m = wd_http_cycle_get_module_main_conf(cycle, wd_wasm_outbound_module);

    if (m) {
        wd_hc_pool_config((unsigned) m->idle_per_upstream, (unsigned) m->idle_total,
                          (uint64_t) m->idle_ms);
    }
    wd_wasm_ob_prep_state = 0;
    memset(wd_wasm_ob_last, 0, sizeof(wd_wasm_ob_last));
    return wd_event_add_close_hook(wd_wasm_ob_close_hook, NULL) == 0 ? WD_OK : WD_ERROR;
}

/* ---------------------------------------------------------------- variables */

/* $wasm_outbound: outgoing requests the handler started ("-" outside Wasm routes) */
static int
wd_wasm_ob_var_count(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    if (!r->wasm_ran) {
        return WD_OK;
    }
    v->data = wd_pnalloc(r->pool, 16);
    if (v->data == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 16, "%u", (unsigned) r->wasm_outbound);
    return WD_OK;
}

/* $wasm_outbound_time: their summed durations, seconds with millisecond resolution */
static int
wd_wasm_ob_var_time(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    uint64_t ms = r->wasm_outbound_ms;

    if (!r->wasm_ran) {
        return WD_OK;
    }
    v->data = wd_pnalloc(r->pool, 32);
    if (v->data == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 32, "%llu.%03u", (unsigned long long) (ms / 1000),
                      (unsigned) (ms % 1000));
    return WD_OK;
}

static int
wd_wasm_ob_preconfiguration(wd_conf_t *cf)
{
    if (wd_http_add_variable("wasm_outbound", wd_wasm_ob_var_count, 0) != WD_OK
        || wd_http_add_variable("wasm_outbound_time", wd_wasm_ob_var_time, 0) != WD_OK)
    {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm: cannot add variables");
        return WD_ERROR;
    }
    return WD_OK;
}
