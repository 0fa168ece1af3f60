/*
 * wd_http_wasm_cgi.c -- CGI mode: a plain WASI command (`_start`) per request,
 * like WAGI.
 *
 * The request body is read completely first (client_max_body_size applies),
 * so no instance is held while a slow client uploads. Then an instance runs
 * `_start` once with the CGI/1.1 meta-variables in its environment
 * (REQUEST_METHOD, PATH_INFO, SCRIPT_NAME, QUERY_STRING, CONTENT_TYPE,
 * CONTENT_LENGTH, SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL, REMOTE_ADDR,
 * REQUEST_URI, GATEWAY_INTERFACE, SERVER_SOFTWARE, HTTP_* for each request
 * header except Proxy (httpoxy)), followed by the route's wasm_env; the body on
 * stdin; stdout captured (up to 64 MiB); stderr to the error log. Then the
 * output is parsed as a CGI response: header lines up to a blank line
 * ("Status: 404 Not Found" sets the status, "Location:" alone means 302), the
 * rest is the body (sent with a Content-Length). Invalid or hop-by-hop
 * header lines make it a 500 (logged), never emitted. A trap, a non-zero
 * exit, or output without the header block also give a 500; the deadline
 * (watchdog interrupt) a 504.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include "wd_http_wasm.h"

int
wd_http_wasm_cgi_check(const wd_wasm_module_t *m, wd_wasm_error_t *err)
{
    const wd_wasm_export_desc_t *e = wd_wasm_module_find_export(m, "_start", 6);

    if (e == NULL || e->kind != WD_WASM_EXTERN_FUNC) {
        snprintf(err->msg, sizeof(err->msg), "neither a wasi:http handler (no export "
                 "\"wasi:http/incoming-handler@0.2.x#handle\") nor a WASI command (no \"_start\")");
        return -1;
    }
    for (uint32_t i = 0; i < wd_wasm_module_import_count(m); i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        if (!(d->module_len == 22 && memcmp(d->module, "wasi_snapshot_preview1", 22) == 0)) {
            snprintf(err->msg, sizeof(err->msg), "unknown import: %.*s::%.*s (a CGI module may "
                     "only import wasi_snapshot_preview1)", (int) d->module_len, d->module,
                     (int) d->name_len, d->name);
            return -1;
        }
    }
    return 0;
}

static void
wd_http_wasm_cgi_body_done(wd_http_request_t *r)
{
    wd_http_wasm_ctx_t *ctx = r->ctx;
    wd_http_wasm_inst_t *it;

    if (ctx == NULL) {
        return;
    }
    if (r->body_status) {
        ctx->final_status = (int) r->body_status;
        wd_http_wasm_finalize(ctx);
        return;
    }
    it = wd_http_wasm_pool_get(ctx->conf->pool, wd_cycle->log);
    if (it == NULL) {
        ctx->state = WD_HTTP_WASM_QUEUED;
        wd_http_wasm_status_queued(ctx);
        wd_queue_insert_tail(&ctx->conf->pool->waiting, &ctx->link);
        wd_http_wasm_arm_timer(ctx, wd_http_wasm_now_ns() + 1000000000u);
        return;
    }
    wd_http_wasm_start_request(ctx, it);
}

int
wd_http_wasm_cgi_handler(wd_http_request_t *r, wd_http_wasm_ctx_t *ctx)
{
    ctx->state = WD_HTTP_WASM_BODY;
    wd_http_wasm_arm_timer(ctx, ctx->deadline_ns);
    wd_http_read_body(r, wd_http_wasm_cgi_body_done);
    return WD_DONE;
}

/* ---- environment ---- */

typedef struct {
    char   **v;
    size_t   n, cap;
} wd_http_wasm_env_t;

static int
wd_http_wasm_env_add(wd_http_wasm_env_t *e, const char *name, size_t nl, const char *val,
                     size_t vl)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        char **v = realloc(e->v, cap * sizeof(char *));
        if (v == NULL) {
            return -1;
        }
        e->v = v;
        e->cap = cap;
    }
    char *s = malloc(nl + vl + 2);
    if (s == NULL) {
        return -1;
    }
    memcpy(s, name, nl);
    s[nl] = '=';
    for (size_t i = 0; i < vl; i++) {      /* NUL would cut the variable short */
        s[nl + 1 + i] = val[i] ? val[i] : ' ';
    }
    s[nl + 1 + vl] = '\0';
    e->v[e->n++] = s;
    return 0;
}

#define WD_ENV(e, name, val, vl) wd_http_wasm_env_add(e, name, sizeof(name) - 1, val, vl)

static int
wd_http_wasm_cgi_env(wd_http_wasm_ctx_t *ctx, wd_http_wasm_env_t *e)
{
    wd_http_request_t *r = ctx->r;
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    char num[32], port[8] = "";
    const char *script = "", *pinfo = (const char *) r->uri.data;
    size_t slen = 0, plen = r->uri.len;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    int rc = 0;

    /* SCRIPT_NAME = the prefix location, PATH_INFO = the rest of the path */
    if ((clcf->kind == 1 /* prefix */ || clcf->kind == 3 /* ^~ */ || clcf->kind == 2)
        && clcf->name.len <= r->uri.len
        && memcmp(clcf->name.data, r->uri.data, clcf->name.len) == 0) {
        slen = clcf->name.len;
        if (slen && clcf->name.data[slen - 1] == '/') {
            slen--;
        }
        script = (const char *) r->uri.data;
        pinfo = (const char *) r->uri.data + slen;
        plen = r->uri.len - slen;
    }
    if (uv_tcp_getsockname(&r->connection->tcp, (struct sockaddr *) &ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            snprintf(port, sizeof(port), "%u", ntohs(((struct sockaddr_in *) &ss)->sin_port));
        } else if (ss.ss_family == AF_INET6) {
            snprintf(port, sizeof(port), "%u", ntohs(((struct sockaddr_in6 *) &ss)->sin6_port));
        }
    }
    rc |= WD_ENV(e, "GATEWAY_INTERFACE", "CGI/1.1", 7);
    rc |= WD_ENV(e, "SERVER_SOFTWARE", "wasmd", 5);
    rc |= WD_ENV(e, "REQUEST_METHOD", (const char *) r->method_name.data, r->method_name.len);
    rc |= WD_ENV(e, "SCRIPT_NAME", script, slen);
    rc |= WD_ENV(e, "PATH_INFO", pinfo, plen);
    rc |= WD_ENV(e, "QUERY_STRING", (const char *) r->args.data, r->args.len);
    rc |= WD_ENV(e, "REQUEST_URI", (const char *) r->unparsed_uri.data, r->unparsed_uri.len);
    rc |= WD_ENV(e, "SERVER_PROTOCOL", (const char *) r->http_protocol.data,
                 r->http_protocol.len);
    rc |= WD_ENV(e, "SERVER_NAME", (const char *) r->host.data, r->host.len);
    rc |= WD_ENV(e, "SERVER_PORT", port, strlen(port));
    rc |= WD_ENV(e, "REMOTE_ADDR", r->connection->addr_text, r->connection->addr_text_len);
    int n = snprintf(num, sizeof(num), "%zu", r->body.len);
    rc |= WD_ENV(e, "CONTENT_LENGTH", num, (size_t) n);
    for (unsigned i = 0; i < r->headers_in.nelts; i++) {
        wd_http_header_t *h = &r->headers_in.elts[i];
        char name[128];
        size_t k = 0;
        if (h->name.len + 5 >= sizeof(name)) {
            continue;
        }
        if (h->name.len == 12 && strncasecmp((char *) h->name.data, "content-type", 12) == 0) {
            rc |= WD_ENV(e, "CONTENT_TYPE", (const char *) h->value.data, h->value.len);
            continue;
        }
        if ((h->name.len == 14 && strncasecmp((char *) h->name.data, "content-length", 14) == 0)
            || (h->name.len == 5 && strncasecmp((char *) h->name.data, "proxy", 5) == 0)) {
            continue;
        }
        memcpy(name, "HTTP_", 5);
        k = 5;
        for (size_t j = 0; j < h->name.len; j++) {
            char c = (char) h->name.data[j];
            name[k++] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char) (c - 32) : c;
        }
        rc |= wd_http_wasm_env_add(e, name, k, (const char *) h->value.data, h->value.len);
    }
    for (size_t i = 0; i < ctx->conf->env_n; i++) {
        const char *kv = ctx->conf->env_v[i], *eq = strchr(kv, '=');
        rc |= wd_http_wasm_env_add(e, kv, (size_t) (eq - kv), eq + 1, strlen(eq + 1));
    }
    return rc ? -1 : 0;
}

/* ---- response ---- */

static int
wd_http_wasm_cgi_respond(wd_http_wasm_ctx_t *ctx, const char **why)
{
    wd_http_request_t *r = ctx->r;
    u_char *p = ctx->cgi_out, *end = p + ctx->cgi_len, *body = NULL;
    unsigned status = 0;
    int has_location = 0;

    if (p == NULL) {
        *why = "no output";
        return WD_ERROR;
    }
    /* validate the whole header block first; nothing is emitted on error */
    for (u_char *line = p; line < end; ) {
        u_char *nl = memchr(line, '\n', end - line);
        if (nl == NULL) {
            *why = "output ends inside the CGI header block";
            return WD_ERROR;
        }
        size_t len = nl - line;
        if (len && line[len - 1] == '\r') {
            len--;
        }
        if (len == 0) {
            body = nl + 1;
            break;
        }
        u_char *colon = memchr(line, ':', len);
        if (colon == NULL || colon == line) {
            *why = "malformed CGI header line";
            return WD_ERROR;
        }
        line = nl + 1;
    }
    if (body == NULL) {
        *why = "no blank line after the CGI headers";
        return WD_ERROR;
    }
    for (u_char *line = p; line < body; ) {
        u_char *nl = memchr(line, '\n', body - line);
        size_t len = nl - line;
        if (len && line[len - 1] == '\r') {
            len--;
        }
        if (len == 0) {
            break;
        }
        u_char *colon = memchr(line, ':', len);
        size_t nlen = colon - line;
        u_char *v = colon + 1, *vend = line + len;
        while (v < vend && (*v == ' ' || *v == '\t')) {
            v++;
        }
        if (nlen == 6 && strncasecmp((char *) line, "status", 6) == 0) {
            unsigned s = 0;
            int digits = 0;
            while (v < vend && *v >= '0' && *v <= '9' && digits < 4) {
                s = s * 10 + (*v++ - '0');
                digits++;
            }
            if (digits != 3 || s < 200 || s > 599) {
                *why = "invalid CGI Status";
                return WD_ERROR;
            }
            status = s;
        } else {
            if (nlen == 8 && strncasecmp((char *) line, "location", 8) == 0) {
                has_location = 1;
            }
            if (wd_http_add_header(r, (char *) line, nlen, (char *) v, vend - v) != WD_OK) {
                *why = "the server refused a CGI header (invalid or hop-by-hop)";
                r->headers_out.nelts = 0;
                return WD_ERROR;
            }
        }
        line = nl + 1;
    }
    if (status == 0) {
        status = has_location ? 302 : 200;
    }
    wd_http_set_status(r, status);
    r->content_length_out = end - body;
    if (wd_http_send_header(r) != WD_OK) {
        return WD_ABORT;
    }
    if (ctx->r == NULL || wd_http_write(r, body, end - body) == WD_ERROR || ctx->r == NULL) {
        return WD_ABORT;
    }
    return WD_OK;
}

static void wd_http_wasm_cgi_done(wd_http_wasm_ctx_t *ctx, wd_wasm_status_t st, const char *why);

/* A yielded command continues from the loop (WD_WASM_HAS_YIELD engines). */
static void
wd_http_wasm_cgi_call(wd_http_wasm_ctx_t *ctx, int first)
{
    wd_http_wasm_inst_t *it = ctx->it;
    wd_wasm_status_t st;

    ctx->state = WD_HTTP_WASM_RUNNING;
    wd_http_wasm_watchdog_arm(it->inst, ctx->deadline_ns);
    uint64_t fuel0 = wd_wasm_fuel_used(it->inst);
    st = first ? wd_wasm_call(it->inst, it->start, NULL, 0, NULL, 0)
               : wd_wasm_resume(it->inst, NULL, 0);
    wd_http_wasm_watchdog_disarm();
    wd_http_wasm_pass_charge(wd_wasm_fuel_used(it->inst) - fuel0);
    if (st == WD_WASM_SUSPENDED && it->sleep_until && ctx->r != NULL) {
        /* sleep(3) & co.: wait on the request's timer, not in the worker */
        uint64_t until = it->sleep_until;
        it->sleep_until = 0;
        ctx->state = WD_HTTP_WASM_WAITING;
        wd_http_wasm_arm_timer(ctx, wd_min(until, ctx->deadline_ns));
        return;
    }
    if (st == WD_WASM_SUSPENDED) {
#ifdef WD_WASM_HAS_YIELD
        if (wd_wasm_yielded(it->inst) && ctx->r != NULL) {
            wd_http_wasm_sched_add(ctx, WD_HTTP_WASM_YIELDED);
            wd_http_wasm_arm_timer(ctx, ctx->deadline_ns);
            return;
        }
#endif
        wd_wasm_abort(it->inst);             /* nothing else suspends a command */
        wd_http_wasm_cgi_done(ctx, WD_WASM_TRAP, ctx->r ? "the command suspended" : NULL);
        return;
    }
    wd_http_wasm_cgi_done(ctx, st, NULL);
}

void
wd_http_wasm_cgi_resume(wd_http_wasm_ctx_t *ctx)
{
    wd_http_wasm_cgi_call(ctx, 0);
}

/* Deadline or client gone while yielded. */
void
wd_http_wasm_cgi_cancel(wd_http_wasm_ctx_t *ctx, int timeout)
{
    wd_wasm_abort(ctx->it->inst);
    if (timeout) {
        ctx->final_status = 504;
    }
    wd_http_wasm_cgi_done(ctx, WD_WASM_TRAP, timeout ? "deadline exceeded (wasm_timeout)"
                                                     : "client closed the connection");
}

void
wd_http_wasm_cgi_run(wd_http_wasm_ctx_t *ctx)
{
    wd_http_wasm_inst_t *it = ctx->it;
    wd_http_wasm_env_t env = { NULL, 0, 0 };
    const char *argv[1] = { (const char *) ctx->conf->mod->path.data };
    int rc;

    rc = wd_http_wasm_cgi_env(ctx, &env) != 0
         || wd_host_wasi_set_env(it->wasi, (int) env.n, (const char *const *) env.v) != 0
         || wd_host_wasi_set_args(it->wasi, 1, argv) != 0;
    for (size_t i = 0; i < env.n; i++) {
        free(env.v[i]);
    }
    free(env.v);
    if (rc) {
        wd_http_wasm_cgi_done(ctx, WD_WASM_TRAP, "out of memory");
        return;
    }
    wd_wasm_set_fuel(it->inst, (uint64_t) ctx->conf->fuel);
    wd_http_wasm_cgi_call(ctx, 1);
}

static void
wd_http_wasm_cgi_done(wd_http_wasm_ctx_t *ctx, wd_wasm_status_t st, const char *why)
{
    wd_http_wasm_inst_t *it = ctx->it;

    /* the route's own environment again for the next request */
    wd_host_wasi_set_env(it->wasi, (int) ctx->conf->env_n, ctx->conf->env_v);

    if (st == WD_WASM_TRAP && why == NULL) {
        const wd_wasm_trap_t *t = wd_wasm_last_trap(it->inst);
        if (t->kind == WD_TRAP_EXIT && wd_wasm_exit_code(it->inst) == 0) {
            st = WD_WASM_OK;
        } else if (t->kind == WD_TRAP_EXIT) {
            why = "exited with a non-zero status";
        } else {
            why = t->msg;
            if (t->kind == WD_TRAP_INTERRUPT) {
                ctx->final_status = 504;
            }
        }
    }
    if (st == WD_WASM_OK && ctx->cgi_overflow) {
        st = WD_WASM_TRAP;
        why = "output larger than 64 MiB";
    }
    if (ctx->r == NULL) {
        wd_http_wasm_finalize(ctx);
        return;
    }
    if (st == WD_WASM_OK) {
        int rc = wd_http_wasm_cgi_respond(ctx, &why);
        if (rc == WD_ABORT) {
            ctx->abort = 1;
        } else if (rc != WD_OK) {
            ctx->final_status = 500;
        }
    } else if (ctx->final_status == 0) {
        ctx->final_status = 500;
    }
    if (why && ctx->r) {
        wd_log_error(WD_LOG_ERR, wd_cycle->log, 0, "*%llu wasm %.*s (%.*s): CGI: %s, fuel used %llu",
                     (unsigned long long) ctx->r->connection->number,
                     wd_str_pf(&ctx->conf->route), wd_str_pf(&ctx->conf->mod->path), why,
                     (unsigned long long) wd_wasm_fuel_used(it->inst));
    }
    wd_http_wasm_finalize(ctx);
}
