/*
 * wd_host_http_outgoing.c -- wasi:http/outgoing-handler and the resources of an
 * outgoing request: its body (outgoing-body, output-stream), the
 * future-incoming-response, the incoming-response, its body (incoming-body,
 * input-stream, future-trailers).
 *
 * Every one of them refers to one reference-counted exchange (wd_hh_exch_t); the
 * embedder's request behind it (wd_host_http_outbound_t, e.g. src/http's client) is
 * closed when the last handle goes, or at the request's reset: a connection is only
 * reused when the whole exchange completed. A blocked guest waits with
 * WD_HOST_HTTP_WAIT_OUTBOUND; the embedder resumes it on any progress and the call
 * looks again (spurious resumes are harmless).
 *
 * Layouts (wasm32):
 *   handle -> result<own<future-incoming-response>, error-code>: tag @0, payload @8 (40 B)
 *   future-incoming-response.get -> option<result<result<own<incoming-response>,
 *       error-code>>>: tags @0, @8, @16, payload @24 (56 B, align 8)
 *   incoming-response.consume -> result<own<incoming-body>>: tag @0, handle @4
 *
 * Request body bytes written before handle() wait in the exchange (at most
 * WD_HOST_HTTP_HIGH_WATER); afterwards check-write's budget is HIGH_WATER minus what
 * the client has not sent yet, so a proxied body of any size runs in bounded memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "wd_host_http_int.h"

#define WD_HH_RC(x) ((x) < 0 ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK)
#define WD_HH_OB_READ_MAX 65536u

static const char *const wd_hh_ob_methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"
};

/* ---------------------------------------------------------------- the exchange */

static wd_hh_exch_t *wd_hh_exch_new(wd_host_http_t *h)
{
    wd_hh_exch_t *x = wd_hh_obj_new(h, sizeof *x, WD_HH_FUTINRESP);
    if (x) {
        x->code = -1;
        x->ob = h->be ? h->be->outbound : NULL;
    }
    return x;
}

static void wd_hh_exch_close(wd_hh_exch_t *x)
{
    if (x->q) {
        void *q = x->q;
        x->q = NULL;
        x->ob->close(q);
    }
}

/* Record a failure (the first one wins). */
static void wd_hh_exch_fail(wd_hh_exch_t *x, int code, const char *msg)
{
    if (x->code >= 0)
        return;
    x->code = code;
    wd_wasm_free(x->msg);
    x->msg = wd_wasm_strdup(msg ? msg : "");
}

void wd_hh_exch_destroy(wd_host_http_t *h, wd_hh_exch_t *x)
{
    wd_hh_exch_close(x);
    wd_wasm_free(x->pre);
    wd_wasm_free(x->msg);
    x->pre = NULL;
    x->msg = NULL;
    if (x->resp_fields && !h->resetting) {
        wd_hh_obj_t *f = &x->resp_fields->obj;
        x->resp_fields = NULL;
        wd_hh_obj_release(h, f);
    }
}

/* 0 waiting, 1 response head here, -1 failed (code in x). */
static int wd_hh_exch_state(wd_hh_exch_t *x)
{
    if (x->code >= 0)
        return -1;
    if (x->q == NULL)
        return x->handled ? -1 : 0;
    int code = 38;
    const char *msg = NULL;
    int st = x->ob->head_state(x->q, &code, &msg);
    if (st < 0)
        wd_hh_exch_fail(x, code, msg);
    return st;
}

static uint32_t wd_hh_exch_handle(wd_host_http_t *h, wd_hh_exch_t *x, uint8_t type, uint8_t kind)
{
    wd_hh_obj_ref(&x->obj);
    uint32_t idx = wd_hh_new(h, type, kind, &x->obj);
    if (idx == 0)
        wd_hh_obj_release(h, &x->obj);
    return idx;
}

static wd_hh_rc_t wd_hh_ob_store_result_handle(wd_host_http_t *h, uint32_t g, uint32_t handle)
{
    uint8_t *p = wd_hh_ret(h, g, 8, 4);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 8);
    p[0] = handle ? 0 : 1;
    memcpy(p + 4, &handle, 4);
    return WD_WASM_HOST_OK;
}

#define WD_HH_SELF(type) \
    wd_host_http_t *h = WD_HH_H; \
    WD_HH_ENTER(h, 1); \
    wd_hh_handle_t *self = wd_hh_get(h, a[0], (type)); \
    if (self == NULL) \
        return WD_WASM_HOST_TRAP; \
    wd_hh_exch_t *x = (wd_hh_exch_t *)self->obj; \
    (void)x

/* ---------------------------------------------------------------- outgoing-request.body */

static WD_HH_FN(wd_hh_outreq_body)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *self = wd_hh_get(h, a[0], WD_HH_OUTREQ);
    if (self == NULL || wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_outreq_t *rq = (wd_hh_outreq_t *)self->obj;
    uint32_t idx = 0;
    if (!rq->body_taken) {
        wd_hh_exch_t *x = wd_hh_exch_new(h);
        if (x == NULL)
            return wd_hh_trap(h, "wasi:http: out of memory");
        idx = wd_hh_exch_handle(h, x, WD_HH_OUTBODY, WD_HH_K_OUTBOUND);
        if (idx == 0) {
            wd_hh_obj_release(h, &x->obj);
            return WD_WASM_HOST_TRAP;
        }
        rq->exch = x;             /* the request keeps the first reference */
        rq->body_taken = 1;
    }
    return wd_hh_ob_store_result_handle(h, (uint32_t)a[1], idx);
}

/* ---------------------------------------------------------------- handle */

static wd_hh_rc_t wd_hh_handle_err(wd_host_http_t *h, uint32_t g, int code, const char *msg)
{
    uint8_t *p = wd_hh_ret(h, g, 40, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 40);
    p[0] = 1;
    return wd_hh_store_error_code(h, g + 8, code, code == 38 ? msg : NULL) < 0
           ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK;
}

/* outgoing-handler.handle(own<outgoing-request>, option<own<request-options>>)
 *   -> result<own<future-incoming-response>, error-code> */
static WD_HH_FN(wd_hh_outgoing_handle)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *re = wd_hh_get(h, a[0], WD_HH_OUTREQ);
    if (re == NULL)
        return WD_WASM_HOST_TRAP;
    if ((uint32_t)a[1] > 1)
        return wd_hh_trap(h, "wasi:http: invalid option tag");
    wd_hh_handle_t *oe = NULL;
    if ((uint32_t)a[1] == 1 && (oe = wd_hh_get(h, a[2], WD_HH_REQOPTS)) == NULL)
        return WD_WASM_HOST_TRAP;
    uint32_t g = (uint32_t)a[3];
    if (wd_hh_ret(h, g, 40, 8) == NULL)
        return WD_WASM_HOST_TRAP;

    wd_hh_outreq_t *rq = (wd_hh_outreq_t *)re->obj;
    wd_host_http_ob_request_t d;
    memset(&d, 0, sizeof d);
    if (oe) {
        wd_hh_reqopts_t *o = (wd_hh_reqopts_t *)oe->obj;
        for (int i = 0; i < 3; i++)
            d.timeout_ns[i] = o->has[i] ? (o->val[i] ? o->val[i] : 1) : 0;
    }
    d.method = rq->method == 9 ? rq->method_other : wd_hh_ob_methods[rq->method];
    if (!rq->has_scheme || rq->scheme == 0) {
        d.https = 0;
        d.scheme = "http";
    } else if (rq->scheme == 1) {
        d.https = 1;
        d.scheme = "https";
    } else {
        d.https = -1;
        d.scheme = rq->scheme_other;
    }
    d.authority = rq->has_authority ? rq->authority : NULL;
    d.path = rq->has_path && rq->path && rq->path[0] ? rq->path : "/";
    wd_hh_exch_t *x = rq->exch;
    d.body = x != NULL;

    /* the request is consumed whatever happens next; keep what we need */
    wd_hh_obj_ref(&rq->obj);
    wd_hh_remove(h, (uint32_t)a[0]);
    if (oe)
        wd_hh_remove(h, (uint32_t)a[2]);

    int code = 38;
    char msg[200];
    msg[0] = '\0';
    const char *fail = NULL;
    wd_host_http_header_t stack[32], *hv = stack;
    wd_hh_fields_t *f = rq->headers;
    int64_t cl = wd_hh_fields_content_length(f);
    if (h->be == NULL || h->be->outbound == NULL) {
        fail = "outgoing HTTP requests are not available here";
    } else if (d.authority == NULL || d.authority[0] == '\0') {
        code = 19;                 /* HTTP-request-URI-invalid */
        fail = "no authority";
    } else if (cl == -2) {
        code = 35;
        fail = "invalid Content-Length";
    } else if (x && x->body_broken) {
        code = 17;
        fail = "request body dropped before it was finished";
    } else if (x && x->body_finished && cl >= 0 && (uint64_t)cl != x->pre_len) {
        code = 17;
        fail = "request body does not match its Content-Length";
    }
    if (fail == NULL && f && f->n > 32 && (hv = wd_wasm_malloc(f->n * sizeof *hv)) == NULL)
        fail = "out of memory";
    void *q = NULL;
    if (fail == NULL) {
        for (uint32_t i = 0; f && i < f->n; i++) {
            hv[i].name = f->v[i].name;
            hv[i].name_len = f->v[i].name_len;
            hv[i].value = (const char *)f->v[i].value;
            hv[i].value_len = f->v[i].value_len;
        }
        d.headers = hv;
        d.nheaders = f ? f->n : 0;
        d.content_length = d.body ? cl : -1;
        q = h->be->outbound->start(h->be_data, &d, &code, msg, sizeof msg);
        if (q == NULL)
            fail = msg[0] ? msg : "cannot start the request";
    }
    if (hv != stack)
        wd_wasm_free(hv);
    if (fail) {
        wd_hh_rc_t rc = wd_hh_handle_err(h, g, code, fail);
        wd_hh_obj_release(h, &rq->obj);
        return rc;
    }
    if (x == NULL && (x = wd_hh_exch_new(h)) == NULL) {
        h->be->outbound->close(q);
        wd_hh_obj_release(h, &rq->obj);
        return wd_hh_trap(h, "wasi:http: out of memory");
    }
    if (x != rq->exch)
        ;                          /* a new exchange: its creation reference is ours */
    else
        wd_hh_obj_ref(&x->obj);
    x->ob = h->be->outbound;
    x->q = q;
    x->handled = 1;
    wd_hh_obj_release(h, &rq->obj);
    if (x->pre_len && x->ob->write(q, x->pre, x->pre_len) != 0)
        wd_hh_exch_fail(x, 7, "cannot send the request body");
    wd_wasm_free(x->pre);
    x->pre = NULL;
    x->pre_len = 0;
    if (x->body_finished && x->code < 0 && x->ob->finish(q) != 0)
        wd_hh_exch_fail(x, 17, "request body does not match its Content-Length");
    uint32_t idx = wd_hh_new(h, WD_HH_FUTINRESP, 0, &x->obj);   /* takes our reference */
    if (idx == 0) {
        wd_hh_obj_release(h, &x->obj);
        return WD_WASM_HOST_TRAP;
    }
    uint8_t *p = wd_hh_ret(h, g, 40, 8);
    memset(p, 0, 40);
    memcpy(p + 8, &idx, 4);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- future-incoming-response */

static WD_HH_FN(wd_hh_futinresp_subscribe)
{
    WD_HH_SELF(WD_HH_FUTINRESP);
    uint32_t idx = wd_hh_exch_handle(h, x, WD_HH_POLLABLE, WD_HH_P_FUTRESP);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_futinresp_get)
{
    WD_HH_SELF(WD_HH_FUTINRESP);
    uint32_t g = (uint32_t)a[1];
    uint8_t *p = wd_hh_ret(h, g, 56, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    int st = wd_hh_exch_state(x);
    memset(p, 0, 56);
    if (st == 0)
        return WD_WASM_HOST_OK;   /* none: not ready */
    p[0] = 1;
    if (x->got) {
        p[8] = 1;                 /* err(): already taken */
        return WD_WASM_HOST_OK;
    }
    x->got = 1;
    if (st < 0) {
        p[16] = 1;
        return wd_hh_store_error_code(h, g + 24, x->code, x->code == 38 ? x->msg : NULL) < 0
               ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK;
    }
    uint32_t idx = wd_hh_exch_handle(h, x, WD_HH_INRESP, 0);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    p = wd_hh_mem(h, g, 56);
    memcpy(p + 24, &idx, 4);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_futinresp_drop)
{
    WD_HH_SELF(WD_HH_FUTINRESP);
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- incoming-response */

static WD_HH_FN(wd_hh_inresp_status)
{
    WD_HH_SELF(WD_HH_INRESP);
    r[0] = x->q ? (uint32_t)x->ob->status(x->q) & 0xffff : 0;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_inresp_headers)
{
    WD_HH_SELF(WD_HH_INRESP);
    if (x->resp_fields == NULL) {
        wd_hh_fields_t *f = wd_hh_fields_new(h);
        if (f == NULL)
            return wd_hh_trap(h, "wasi:http: out of memory");
        size_t n = x->q ? x->ob->nheaders(x->q) : 0;
        for (size_t i = 0; i < n; i++) {
            wd_host_http_header_t hd;
            x->ob->header(x->q, i, &hd);
            int rc = wd_hh_fields_add(h, f, (const uint8_t *)hd.name, hd.name_len,
                                      (const uint8_t *)hd.value, hd.value_len);
            if (rc < 0) {
                wd_hh_obj_release(h, &f->obj);
                return rc == -2 ? WD_WASM_HOST_TRAP : wd_hh_trap(h, "wasi:http: out of memory");
            }
        }
        x->resp_fields = f;
    }
    wd_hh_obj_ref(&x->resp_fields->obj);
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &x->resp_fields->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &x->resp_fields->obj);
        return WD_WASM_HOST_TRAP;
    }
    h->tab[idx].owns = 0;         /* immutable */
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_inresp_consume)
{
    WD_HH_SELF(WD_HH_INRESP);
    uint32_t idx = 0;
    if (wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (!x->consumed) {
        idx = wd_hh_exch_handle(h, x, WD_HH_INBODY, WD_HH_K_OUTBOUND);
        if (idx == 0)
            return WD_WASM_HOST_TRAP;
        x->consumed = 1;
    }
    return wd_hh_ob_store_result_handle(h, (uint32_t)a[1], idx);
}

static WD_HH_FN(wd_hh_inresp_drop)
{
    WD_HH_SELF(WD_HH_INRESP);
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- response body */

/* Reads up to want bytes of the response body into h->scratch: n > 0, 0 would block,
 * -1 end, -2 failed. */
static long wd_hh_ob_body_read(wd_host_http_t *h, wd_hh_exch_t *x, uint64_t want)
{
    if (x->body_eof)
        return -1;
    if (x->q == NULL || x->code >= 0)
        return -2;
    if (want > WD_HH_OB_READ_MAX)
        want = WD_HH_OB_READ_MAX;
    if (h->scratch_len < want) {
        uint8_t *s = wd_wasm_realloc(h->scratch, WD_HH_OB_READ_MAX);
        if (s == NULL)
            return -2;
        h->scratch = s;
        h->scratch_len = WD_HH_OB_READ_MAX;
    }
    long n = x->ob->read(x->q, h->scratch, (size_t)want);
    if (n == -1)
        x->body_eof = 1;
    if (n == -2)
        (void)wd_hh_exch_state(x);
    return n;
}

static int wd_hh_ob_body_readable(wd_hh_exch_t *x)
{
    return x->body_eof || x->q == NULL || x->code >= 0 || x->ob->readable(x->q);
}

wd_hh_rc_t wd_hh_ob_in_read(wd_host_http_t *h, wd_hh_handle_t *e, uint64_t want, uint32_t g,
                            int blocking, int skip)
{
    wd_hh_exch_t *x = (wd_hh_exch_t *)e->obj;
    uint32_t size = skip ? 16 : 12, align = skip ? 8 : 4, off = skip ? 8 : 4;
    if (want == 0 && !x->body_eof)
        return skip ? wd_hh_store_u64_ok(h, g, 0) : wd_hh_store_list(h, g, 0, 0);
    long n = x->body_eof ? -1 : wd_hh_ob_body_read(h, x, want);
    if (n == 0) {
        if (blocking) {
            h->wait |= WD_HOST_HTTP_WAIT_OUTBOUND;
            return WD_WASM_HOST_SUSPEND;
        }
        return skip ? wd_hh_store_u64_ok(h, g, 0) : wd_hh_store_list(h, g, 0, 0);
    }
    if (n == -1)
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 0, NULL, -1));
    if (n < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, off, size, align, 1,
                                         x->msg && x->msg[0] ? x->msg : "response body failed",
                                         x->code >= 0 ? x->code : 7));
    if (skip)
        return wd_hh_store_u64_ok(h, g, (uint64_t)n);
    uint32_t lp;
    if (wd_hh_lower_bytes(h, h->scratch, (size_t)n, &lp) < 0)
        return WD_WASM_HOST_TRAP;
    return wd_hh_store_list(h, g, lp, (uint32_t)n);
}

wd_hh_rc_t wd_hh_ob_in_subscribe(wd_host_http_t *h, wd_hh_handle_t *e, uint64_t *r)
{
    uint32_t idx = wd_hh_exch_handle(h, (wd_hh_exch_t *)e->obj, WD_HH_POLLABLE, WD_HH_P_RBODY);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

/* Discard the rest of the response body without blocking: 1 when it is over. */
static int wd_hh_ob_drain(wd_host_http_t *h, wd_hh_exch_t *x)
{
    for (int i = 0; i < 64; i++) {
        long n = wd_hh_ob_body_read(h, x, WD_HH_OB_READ_MAX);
        if (n == 0)
            return 0;
        if (n < 0)
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- request body */

static size_t wd_hh_ob_pending(wd_hh_exch_t *x)
{
    return x->q ? x->ob->pending(x->q) : x->pre_len;
}

static size_t wd_hh_ob_budget(wd_hh_exch_t *x)
{
    size_t p = wd_hh_ob_pending(x);
    return p >= WD_HOST_HTTP_HIGH_WATER ? 0 : WD_HOST_HTTP_HIGH_WATER - p;
}

static int wd_hh_ob_out_closed(wd_hh_exch_t *x)
{
    return x->body_finished || x->body_broken || (x->handled && x->q == NULL) || x->code >= 0;
}

static int wd_hh_ob_drained(wd_hh_exch_t *x)
{
    return x->q == NULL || wd_hh_ob_out_closed(x) || x->ob->pending(x->q) <= WD_HOST_HTTP_LOW_WATER;
}

/* Queue n bytes (zeroes if p is NULL): 0, -1 failed (code set), -2 too long. */
static int wd_hh_ob_put(wd_host_http_t *h, wd_hh_exch_t *x, const uint8_t *p, uint64_t n)
{
    static const uint8_t zeros[4096];
    while (n > 0) {
        size_t k = n;
        const uint8_t *src = p;
        if (p == NULL) {
            k = n < sizeof zeros ? n : sizeof zeros;
            src = zeros;
        }
        if (x->q) {
            int rc = x->ob->write(x->q, src, k);
            if (rc != 0) {
                if (rc == -2)
                    return -2;
                (void)wd_hh_exch_state(x);
                wd_hh_exch_fail(x, 7, "cannot send the request body");
                return -1;
            }
        } else {
            uint8_t *b = wd_wasm_realloc(x->pre, x->pre_len + k);
            if (b == NULL)
                return -1;
            memcpy(b + x->pre_len, src, k);
            x->pre = b;
            x->pre_len += k;
        }
        n -= k;
        if (p)
            p += k;
    }
    return 0;
}

static wd_hh_rc_t wd_hh_ob_put_result(wd_host_http_t *h, wd_hh_exch_t *x, int rc, uint32_t g)
{
    if (rc == -2)
        return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1,
                                         "request body longer than its Content-Length", 17));
    if (rc < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 1,
                                         x->msg ? x->msg : "request failed",
                                         x->code >= 0 ? x->code : 7));
    return wd_hh_store_unit_ok(h, g);
}

wd_hh_rc_t wd_hh_ob_out(wd_host_http_t *h, uint32_t idx, wd_hh_handle_t *e, int op,
                        const uint8_t *p, uint64_t n, uint32_t g, uint64_t *r)
{
    wd_hh_exch_t *x = (wd_hh_exch_t *)e->obj;
    switch (op) {
    case 0:                       /* check-write */
        if (wd_hh_ob_out_closed(x))
            return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
        return wd_hh_store_u64_ok(h, g, wd_hh_ob_budget(x));
    case 1:                       /* write */
    case 6:                       /* write-zeroes */
        if (wd_hh_ob_out_closed(x))
            return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 0, NULL, -1));
        if (n > wd_hh_ob_budget(x))
            return wd_hh_trap(h, "wasi:io: output-stream.write of %llu bytes exceeds the "
                              "check-write permit", (unsigned long long)n);
        return wd_hh_ob_put_result(h, x, wd_hh_ob_put(h, x, p, n), g);
    case 2:                       /* blocking-write-and-flush */
    case 7:
        if (h->pending_flush != idx) {
            if (wd_hh_ob_out_closed(x))
                return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 0, NULL, -1));
            if (n > wd_hh_ob_budget(x)) {
                if (x->q == NULL)
                    return wd_hh_trap(h, "wasi:http: more than %u bytes of request body "
                                      "written before outgoing-handler.handle",
                                      WD_HOST_HTTP_HIGH_WATER);
                h->wait |= WD_HOST_HTTP_WAIT_OUTBOUND;
                return WD_WASM_HOST_SUSPEND;
            }
            int rc = wd_hh_ob_put(h, x, p, n);
            if (rc < 0)
                return wd_hh_ob_put_result(h, x, rc, g);
        }
        /* fall through */
    case 4:                       /* blocking-flush */
        if (!wd_hh_ob_drained(x)) {
            h->pending_flush = idx;
            h->wait |= WD_HOST_HTTP_WAIT_OUTBOUND;
            return WD_WASM_HOST_SUSPEND;
        }
        h->pending_flush = 0;
        if (x->code >= 0 && !x->body_finished)
            return wd_hh_ob_put_result(h, x, -1, g);
        return wd_hh_store_unit_ok(h, g);
    case 3:                       /* flush */
        if (wd_hh_ob_out_closed(x))
            return WD_HH_RC(wd_hh_stream_err(h, g, 4, 12, 4, 0, NULL, -1));
        return wd_hh_store_unit_ok(h, g);
    case 5: {                     /* subscribe */
        uint32_t k = wd_hh_exch_handle(h, x, WD_HH_POLLABLE, WD_HH_P_QBODY);
        if (k == 0)
            return WD_WASM_HOST_TRAP;
        r[0] = k;
        return WD_WASM_HOST_OK;
    }
    }
    return wd_hh_trap(h, "wasi:http: bad output-stream operation");
}

/* splice(dst, src, len) where either side belongs to an outgoing request. Sources: the
 * incoming request's body or a response body; destinations: a request body or the
 * response body (through the shared emitter). result<u64, stream-error> at g. */
long wd_hh_in_body_read_any(wd_host_http_t *h, wd_hh_handle_t *src, uint64_t want, int *readable);

wd_hh_rc_t wd_hh_ob_splice(wd_host_http_t *h, wd_hh_handle_t *dst, wd_hh_handle_t *src,
                           uint64_t len, uint32_t g, int blocking)
{
    int to_ob = dst->kind == WD_HH_S_QBODY;
    wd_hh_exch_t *dx = to_ob ? (wd_hh_exch_t *)dst->obj : NULL;
    wd_hh_resp_t *rs = to_ob ? NULL : (wd_hh_resp_t *)dst->obj;
    uint64_t budget;

    if (to_ob) {
        if (wd_hh_ob_out_closed(dx))
            return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
        budget = wd_hh_ob_budget(dx);
    } else if (dst->kind == WD_HH_S_BODY) {
        if (rs->broken || rs->finished || h->aborted)
            return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
        budget = wd_hh_body_budget(h, rs);
    } else {
        budget = 4096;
    }
    if (blocking) {
        int drained = to_ob ? (dx->q != NULL && wd_hh_ob_drained(dx))
                    : dst->kind == WD_HH_S_BODY ? wd_hh_body_drained(h, rs) : 1;
        if (budget == 0 || !drained) {
            if (!to_ob && dst->kind == WD_HH_S_BODY) {
                wd_hh_body_flush(h, rs);
                h->wait |= WD_HOST_HTTP_WAIT_WRITE;
            } else {
                h->wait |= WD_HOST_HTTP_WAIT_OUTBOUND;
            }
            return WD_WASM_HOST_SUSPEND;
        }
    }
    uint64_t want = len < budget ? len : budget;
    if (want == 0)
        return wd_hh_store_u64_ok(h, g, 0);
    int readable = 1;
    long n = wd_hh_in_body_read_any(h, src, want, &readable);
    if (n == 0) {
        if (blocking) {
            h->wait |= src->kind == WD_HH_S_RBODY ? WD_HOST_HTTP_WAIT_OUTBOUND
                                                 : WD_HOST_HTTP_WAIT_BODY;
            return WD_WASM_HOST_SUSPEND;
        }
        return wd_hh_store_u64_ok(h, g, 0);
    }
    if (n == -1)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 0, NULL, -1));
    if (n < 0)
        return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1, "input stream failed", 7));
    int rc;
    if (to_ob) {
        rc = wd_hh_ob_put(h, dx, h->scratch, (uint64_t)n);
        if (rc < 0)
            return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1,
                                             rc == -2 ? "request body longer than its "
                                             "Content-Length" : "request failed",
                                             rc == -2 ? 17 : dx->code >= 0 ? dx->code : 7));
    } else if (dst->kind == WD_HH_S_BODY) {
        rc = wd_hh_body_write(h, rs, h->scratch, (size_t)n);
        if (rc < 0)
            return WD_HH_RC(wd_hh_stream_err(h, g, 8, 16, 8, 1, rc == -2
                                             ? "response body longer than its Content-Length"
                                             : "client connection closed", rc == -2 ? 28 : 7));
    } else {
        wd_hh_guest_output(h, dst->kind == WD_HH_S_STDERR, h->scratch, (size_t)n);
    }
    return wd_hh_store_u64_ok(h, g, (uint64_t)n);
}

/* Reads from any input-stream kind into h->scratch (the incoming request's body or a
 * response body): n > 0, 0 would block, -1 end, -2 failed. */
long wd_hh_in_body_read_any(wd_host_http_t *h, wd_hh_handle_t *src, uint64_t want, int *readable)
{
    if (src->kind == WD_HH_S_RBODY)
        return wd_hh_ob_body_read(h, (wd_hh_exch_t *)src->obj, want);
    if (src->kind != WD_HH_S_BODY || !h->active || h->body_eof)
        return -1;
    if (h->body_error)
        return -2;
    if (want > WD_HH_OB_READ_MAX)
        want = WD_HH_OB_READ_MAX;
    if (h->scratch_len < want) {
        uint8_t *s = wd_wasm_realloc(h->scratch, WD_HH_OB_READ_MAX);
        if (s == NULL)
            return -2;
        h->scratch = s;
        h->scratch_len = WD_HH_OB_READ_MAX;
    }
    size_t n = 0;
    int rc = h->be->read_body(h->be_data, h->scratch, (size_t)want, &n);
    if (rc == WD_HOST_HTTP_AGAIN)
        return 0;
    if (rc == WD_HOST_HTTP_DONE) {
        h->body_eof = 1;
        return -1;
    }
    if (rc != WD_HOST_HTTP_OK || n == 0 || n > want) {
        h->body_error = 1;
        return -2;
    }
    return (long)n;
}

/* ---------------------------------------------------------------- bodies, trailers */

/* Calls on INBODY / FUTTRAIL / OUTBODY handles of an outgoing request:
 * 0 incoming-body.stream, 1 incoming-body.finish, 2 incoming-body drop,
 * 3 future-trailers.subscribe, 4 future-trailers.get,
 * 5 outgoing-body.write, 6 outgoing-body.finish, 7 outgoing-body drop. */
wd_hh_rc_t wd_hh_ob_body_call(wd_host_http_t *h, uint32_t idx, wd_hh_handle_t *e, int op,
                              const uint64_t *a, uint64_t *r)
{
    wd_hh_exch_t *x = (wd_hh_exch_t *)e->obj;
    uint32_t k;
    switch (op) {
    case 0:
    case 5: {
        uint32_t g = (uint32_t)a[1];
        if (wd_hh_ret(h, g, 8, 4) == NULL)
            return WD_WASM_HOST_TRAP;
        uint8_t bit = op == 0 ? 1 : 2;
        k = 0;
        if (!(x->stream_taken & bit)) {
            k = wd_hh_exch_handle(h, x, op == 0 ? WD_HH_INSTREAM : WD_HH_OUTSTREAM,
                                  op == 0 ? WD_HH_S_RBODY : WD_HH_S_QBODY);
            if (k == 0)
                return WD_WASM_HOST_TRAP;
            h->tab[k].parent = idx;
            h->tab[idx].children++;
            x->stream_taken |= bit;
        }
        return wd_hh_ob_store_result_handle(h, g, k);
    }
    case 1:
        if (e->children)
            return wd_hh_trap(h, "wasi:http: incoming-body.finish while its input-stream is alive");
        wd_hh_obj_ref(&x->obj);
        wd_hh_remove(h, idx);
        k = wd_hh_new(h, WD_HH_FUTTRAIL, WD_HH_K_OUTBOUND, &x->obj);
        if (k == 0) {
            wd_hh_obj_release(h, &x->obj);
            return WD_WASM_HOST_TRAP;
        }
        r[0] = k;
        return WD_WASM_HOST_OK;
    case 2:
        if (e->children)
            return wd_hh_trap(h, "wasi:http: incoming-body dropped while its input-stream is alive");
        wd_hh_remove(h, idx);
        return WD_WASM_HOST_OK;
    case 3:
        k = wd_hh_exch_handle(h, x, WD_HH_POLLABLE, WD_HH_P_RTRAIL);
        if (k == 0)
            return WD_WASM_HOST_TRAP;
        r[0] = k;
        return WD_WASM_HOST_OK;
    case 4: {
        uint32_t g = (uint32_t)a[1];
        uint8_t *p = wd_hh_ret(h, g, 56, 8);
        if (p == NULL)
            return WD_WASM_HOST_TRAP;
        memset(p, 0, 56);
        if (!wd_hh_ob_drain(h, x))
            return WD_WASM_HOST_OK;
        p[0] = 1;
        if (x->trailers_taken) {
            p[8] = 1;
            return WD_WASM_HOST_OK;
        }
        x->trailers_taken = 1;
        if (!x->body_eof) {
            p[16] = 1;
            return wd_hh_store_error_code(h, g + 24, x->code >= 0 ? x->code : 25,
                                          x->code == 38 ? x->msg : NULL) < 0
                   ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK;
        }
        size_t nt = x->q && x->ob->ntrailers ? x->ob->ntrailers(x->q) : 0;
        if (nt == 0)
            return WD_WASM_HOST_OK;   /* ok(none) */
        /* ok(some(trailers)): an immutable fields resource */
        wd_hh_fields_t *f = wd_hh_fields_new(h);
        if (f == NULL)
            return wd_hh_trap(h, "wasi:http: out of memory");
        for (size_t i = 0; i < nt; i++) {
            wd_host_http_header_t hd;
            x->ob->trailer(x->q, i, &hd);
            int rc = wd_hh_fields_add(h, f, (const uint8_t *)hd.name, hd.name_len,
                                      (const uint8_t *)hd.value, hd.value_len);
            if (rc < 0) {
                wd_hh_obj_release(h, &f->obj);
                return rc == -2 ? WD_WASM_HOST_TRAP : wd_hh_trap(h, "wasi:http: out of memory");
            }
        }
        k = wd_hh_new(h, WD_HH_FIELDS, 0, &f->obj);
        if (k == 0) {
            wd_hh_obj_release(h, &f->obj);
            return WD_WASM_HOST_TRAP;
        }
        h->tab[k].owns = 0;       /* immutable */
        p = wd_hh_mem(h, g, 56);
        p[24] = 1;
        memcpy(p + 28, &k, 4);
        return WD_WASM_HOST_OK;
    }
    case 6: {
        uint32_t g = (uint32_t)a[3];
        if (e->children)
            return wd_hh_trap(h, "wasi:http: outgoing-body.finish while its output-stream is alive");
        if ((uint32_t)a[1] > 1)
            return wd_hh_trap(h, "wasi:http: invalid option tag %u", (uint32_t)a[1]);
        wd_hh_handle_t *te = NULL;
        if ((uint32_t)a[1] == 1 && (te = wd_hh_get(h, a[2], WD_HH_FIELDS)) == NULL)
            return WD_WASM_HOST_TRAP;
        if (wd_hh_ret(h, g, 40, 8) == NULL)
            return WD_WASM_HOST_TRAP;
        /* trailers: kept (referenced) until the finish below, sent in a chunked body's
         * last chunk; a body with a Content-Length has no room for them */
        wd_hh_fields_t *tf = te ? (wd_hh_fields_t *)te->obj : NULL;
        if (tf) {
            wd_hh_obj_ref(&tf->obj);
            wd_hh_remove(h, (uint32_t)a[2]);
        }
        wd_hh_obj_ref(&x->obj);
        wd_hh_remove(h, idx);
        int rc = 0, code = 7;
        if (x->body_broken || x->body_finished || (x->handled && x->q == NULL) || x->code >= 0) {
            rc = -1;
            code = x->code >= 0 ? x->code : 7;
        } else if (x->q && tf && tf->n && x->ob->finish_trailers) {
            wd_host_http_header_t st[16], *tv = st;
            if (tf->n > 16 && (tv = wd_wasm_malloc(tf->n * sizeof *tv)) == NULL) {
                rc = -1;
            } else {
                for (uint32_t i = 0; i < tf->n; i++) {
                    tv[i].name = tf->v[i].name;
                    tv[i].name_len = tf->v[i].name_len;
                    tv[i].value = (const char *)tf->v[i].value;
                    tv[i].value_len = tf->v[i].value_len;
                }
                rc = x->ob->finish_trailers(x->q, tv, tf->n);
                if (tv != st)
                    wd_wasm_free(tv);
            }
            if (rc == -2)
                code = 17;
            else if (rc < 0) {
                (void)wd_hh_exch_state(x);
                code = x->code >= 0 ? x->code : 7;
            }
        } else if (x->q) {
            rc = x->ob->finish(x->q);
            if (rc == -2)
                code = 17;
            else if (rc < 0) {
                (void)wd_hh_exch_state(x);
                code = x->code >= 0 ? x->code : 7;
            }
        }
        if (tf)
            wd_hh_obj_release(h, &tf->obj);
        if (rc == 0)
            x->body_finished = 1;
        else
            wd_hh_exch_fail(x, code, "request body not finished");
        wd_hh_obj_release(h, &x->obj);
        uint8_t *p = wd_hh_mem(h, g, 40);
        memset(p, 0, 40);
        if (rc == 0)
            return WD_WASM_HOST_OK;
        p[0] = 1;
        return wd_hh_store_error_code(h, g + 8, code, NULL) < 0 ? WD_WASM_HOST_TRAP
                                                                : WD_WASM_HOST_OK;
    }
    case 7:
        if (e->children)
            return wd_hh_trap(h, "wasi:http: outgoing-body dropped while its output-stream is alive");
        if (!x->body_finished) {
            /* an unfinished body: the request can never complete */
            x->body_broken = 1;
            if (x->handled) {
                wd_hh_exch_fail(x, 17, "request body dropped before it was finished");
                wd_hh_exch_close(x);
            }
        }
        wd_hh_remove(h, idx);
        return WD_WASM_HOST_OK;
    }
    return wd_hh_trap(h, "wasi:http: bad body operation");
}

/* ---------------------------------------------------------------- poll */

int wd_hh_ob_pollable_ready(wd_host_http_t *h, wd_hh_handle_t *e, unsigned *wait)
{
    wd_hh_exch_t *x = (wd_hh_exch_t *)e->obj;
    int ready;
    switch (e->kind) {
    case WD_HH_P_FUTRESP:
        ready = wd_hh_exch_state(x) != 0 || !x->handled;
        break;
    case WD_HH_P_RBODY:
        ready = wd_hh_ob_body_readable(x);
        break;
    case WD_HH_P_QBODY:
        ready = x->q == NULL || wd_hh_ob_out_closed(x) || wd_hh_ob_budget(x) > 0;
        break;
    case WD_HH_P_RTRAIL:
        ready = x->q == NULL || x->code >= 0 || wd_hh_ob_drain(h, x);
        break;
    default:
        ready = 1;
    }
    if (!ready)
        *wait |= WD_HOST_HTTP_WAIT_OUTBOUND;
    return ready || !h->active;
}

/* ---------------------------------------------------------------- tables */

const wd_hh_import_t wd_hh_outgoing_types_imports[] = {
    { "[method]outgoing-request.body", "ii:", wd_hh_outreq_body },
    { "[method]incoming-response.status", "i:i", wd_hh_inresp_status },
    { "[method]incoming-response.headers", "i:i", wd_hh_inresp_headers },
    { "[method]incoming-response.consume", "ii:", wd_hh_inresp_consume },
    { "[resource-drop]incoming-response", "i:", wd_hh_inresp_drop },
    { "[method]future-incoming-response.subscribe", "i:i", wd_hh_futinresp_subscribe },
    { "[method]future-incoming-response.get", "ii:", wd_hh_futinresp_get },
    { "[resource-drop]future-incoming-response", "i:", wd_hh_futinresp_drop },
    { NULL, NULL, NULL }
};

const wd_hh_import_t wd_hh_outgoing_imports[] = {
    { "handle", "iiii:", wd_hh_outgoing_handle },
    { NULL, NULL, NULL }
};
