/*
 * wd_host_http_types.c -- wasi:http/types (all but fields) and
 * wasi:http/outgoing-handler, lowered per the Canonical ABI.
 *
 * Memory layouts used here (wasm32, CanonicalABI.md "Alignment"/"Element Size"):
 *   method / scheme         u8 case @0, string (ptr @4, len @8): 12 bytes, align 4
 *   option<string>          u8 tag @0, ptr @4, len @8: 12 bytes
 *   option<scheme>          u8 tag @0, scheme @4: 16 bytes
 *   result<own<T>>          u8 tag @0, handle @4: 8 bytes
 *   error-code              u8 case @0, payload @8: 32 bytes, align 8
 *   result<_, error-code>   u8 tag @0, error-code @8: 40 bytes, align 8
 *   option<error-code>      same shape as result<_, error-code>
 *   future-trailers.get     option<result<result<option<trailers>, error-code>>>:
 *                           tags @0, @8, @16, then option<trailers> tag @24, handle @28
 *   response-outparam.set   (param, result tag, then result<outgoing-response,
 *                           error-code> flattened: i32, i32, i64, i32 x4) = 9 params
 *
 * Resource rules: the incoming request's body can be consumed once, its stream
 * taken once; incoming-body.finish traps while the input-stream child lives;
 * outgoing-body.finish and its drop trap while the output-stream child lives.
 * Dropping an outgoing-body without finish marks the response broken (500 if
 * nothing was sent, else the response is aborted).
 *
 * Outgoing requests and request options are data objects here; sending them
 * (outgoing-handler.handle), their bodies and responses are in
 * wd_host_http_outgoing.c: handles of kind WD_HH_K_OUTBOUND are passed there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "wd_host_http_int.h"

static const char *const wd_hh_methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"
};

static int wd_hh_method_case(const char *m, size_t n)
{
    for (int i = 0; i < 9; i++)
        if (strlen(wd_hh_methods[i]) == n && memcmp(wd_hh_methods[i], m, n) == 0)
            return i;
    return 9;
}

/* Store an option<string> / string-carrying variant at ret (12 bytes, align 4). */
static wd_hh_rc_t wd_hh_store_tagged_string(wd_host_http_t *h, uint32_t g, uint8_t tag,
                                            const char *s, size_t n, int with_string)
{
    uint32_t sp = 0, sl = (uint32_t)n;
    if (wd_hh_ret(h, g, 12, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (with_string && wd_hh_lower_bytes(h, s, n, &sp) < 0)
        return WD_WASM_HOST_TRAP;
    uint8_t *p = wd_hh_ret(h, g, 12, 4);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 12);
    p[0] = tag;
    if (with_string) {
        memcpy(p + 4, &sp, 4);
        memcpy(p + 8, &sl, 4);
    }
    return WD_WASM_HOST_OK;
}

static wd_hh_rc_t wd_hh_store_result_handle(wd_host_http_t *h, uint32_t g, uint32_t handle)
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
    (void)self

/* ---------------------------------------------------------------- incoming-request */

static WD_HH_FN(wd_hh_inreq_method)
{
    WD_HH_SELF(WD_HH_INREQ);
    int c = wd_hh_method_case(h->req->method, h->req->method_len);
    return wd_hh_store_tagged_string(h, (uint32_t)a[1], (uint8_t)c, h->req->method,
                                     h->req->method_len, c == 9);
}

static WD_HH_FN(wd_hh_inreq_path)
{
    WD_HH_SELF(WD_HH_INREQ);
    return wd_hh_store_tagged_string(h, (uint32_t)a[1], 1, h->req->path, h->req->path_len, 1);
}

static WD_HH_FN(wd_hh_inreq_authority)
{
    WD_HH_SELF(WD_HH_INREQ);
    if (h->req->authority == NULL)
        return wd_hh_store_tagged_string(h, (uint32_t)a[1], 0, NULL, 0, 0);
    return wd_hh_store_tagged_string(h, (uint32_t)a[1], 1, h->req->authority,
                                     h->req->authority_len, 1);
}

/* scheme() -> option<scheme>: tag @0, scheme case @4 (HTTP 0, HTTPS 1). */
static WD_HH_FN(wd_hh_inreq_scheme)
{
    WD_HH_SELF(WD_HH_INREQ);
    uint8_t *p = wd_hh_ret(h, (uint32_t)a[1], 16, 4);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 16);
    p[0] = 1;
    p[4] = h->req->https ? 1 : 0;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_inreq_headers)
{
    WD_HH_SELF(WD_HH_INREQ);
    wd_hh_fields_t *f = wd_hh_request_fields(h);
    if (f == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    wd_hh_obj_ref(&f->obj);
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &f->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &f->obj);
        return WD_WASM_HOST_TRAP;
    }
    h->tab[idx].owns = 0;         /* immutable view */
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_inreq_consume)
{
    WD_HH_SELF(WD_HH_INREQ);
    uint32_t idx = 0;
    if (wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (!h->req_consumed) {
        idx = wd_hh_new(h, WD_HH_INBODY, 0, NULL);
        if (idx == 0)
            return WD_WASM_HOST_TRAP;
        h->req_consumed = 1;
    }
    return wd_hh_store_result_handle(h, (uint32_t)a[1], idx);
}

/* Generic drop of a handle of one type. */
#define WD_HH_DROP(fname, type) \
    static WD_HH_FN(fname) \
    { \
        WD_HH_SELF(type); \
        wd_hh_remove(h, (uint32_t)a[0]); \
        return WD_WASM_HOST_OK; \
    }

WD_HH_DROP(wd_hh_inreq_drop, WD_HH_INREQ)
WD_HH_DROP(wd_hh_outparam_drop, WD_HH_OUTPARAM)
WD_HH_DROP(wd_hh_futtrail_drop, WD_HH_FUTTRAIL)

/* ---------------------------------------------------------------- incoming-body */

static WD_HH_FN(wd_hh_inbody_stream)
{
    WD_HH_SELF(WD_HH_INBODY);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 0, a, r);
    uint32_t idx = 0;
    if (wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (!h->body_stream_taken) {
        idx = wd_hh_new(h, WD_HH_INSTREAM, WD_HH_S_BODY, NULL);
        if (idx == 0)
            return WD_WASM_HOST_TRAP;
        h->tab[idx].parent = (uint32_t)a[0];
        h->tab[a[0]].children++;
        h->body_stream_taken = 1;
    }
    return wd_hh_store_result_handle(h, (uint32_t)a[1], idx);
}

static WD_HH_FN(wd_hh_inbody_finish)
{
    WD_HH_SELF(WD_HH_INBODY);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 1, a, r);
    if (self->children)
        return wd_hh_trap(h, "wasi:http: incoming-body.finish while its input-stream is alive");
    wd_hh_remove(h, (uint32_t)a[0]);
    uint32_t idx = wd_hh_new(h, WD_HH_FUTTRAIL, 0, NULL);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_inbody_drop)
{
    WD_HH_SELF(WD_HH_INBODY);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 2, a, r);
    if (self->children)
        return wd_hh_trap(h, "wasi:http: incoming-body dropped while its input-stream is alive");
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- future-trailers */

/* Drain (discard) the request body without blocking; 1 when it has fully arrived. */
int wd_hh_drain_body(wd_host_http_t *h)
{
    uint8_t buf[4096];
    while (!h->body_eof && !h->body_error) {
        size_t n = 0;
        int rc = h->be->read_body(h->be_data, buf, sizeof buf, &n);
        if (rc == WD_HOST_HTTP_AGAIN)
            return 0;
        if (rc == WD_HOST_HTTP_DONE)
            h->body_eof = 1;
        else if (rc != WD_HOST_HTTP_OK)
            h->body_error = 1;
    }
    return 1;
}

static WD_HH_FN(wd_hh_futtrail_subscribe)
{
    WD_HH_SELF(WD_HH_FUTTRAIL);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 3, a, r);
    uint32_t idx = wd_hh_new(h, WD_HH_POLLABLE, WD_HH_P_TRAILERS, NULL);
    if (idx == 0)
        return WD_WASM_HOST_TRAP;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_futtrail_get)
{
    WD_HH_SELF(WD_HH_FUTTRAIL);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 4, a, r);
    uint8_t *p = wd_hh_ret(h, (uint32_t)a[1], 56, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    if (!wd_hh_drain_body(h)) {
        memset(p, 0, 56);         /* none: not ready */
        return WD_WASM_HOST_OK;
    }
    memset(p, 0, 56);
    p[0] = 1;                     /* some */
    if (h->trailers_taken) {
        p[8] = 1;                 /* err(): already retrieved */
        return WD_WASM_HOST_OK;
    }
    h->trailers_taken = 1;
    p[8] = 0;
    if (h->body_error) {
        p[16] = 1;                /* err(error-code) */
        if (wd_hh_store_error_code(h, (uint32_t)a[1] + 24, 7 /* connection-terminated */,
                                   NULL) < 0)
            return WD_WASM_HOST_TRAP;
        return WD_WASM_HOST_OK;
    }
    p[16] = 0;                    /* ok(none): HTTP/1.1 trailers are not surfaced */
    p[24] = 0;
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- outgoing-response */

static WD_HH_FN(wd_hh_outresp_ctor)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *fe = wd_hh_get(h, a[0], WD_HH_FIELDS);
    if (fe == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_resp_t *rs = wd_hh_obj_new(h, sizeof *rs, WD_HH_OUTRESP);
    if (rs == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    wd_hh_fields_t *f = (wd_hh_fields_t *)fe->obj;
    if (fe->owns) {               /* move the guest's fields into the response */
        wd_hh_obj_ref(&f->obj);
        rs->fields = f;
    } else {
        rs->fields = wd_hh_fields_clone(h, f);
        if (rs->fields == NULL) {
            wd_hh_obj_release(h, &rs->obj);
            return wd_hh_trap(h, "wasi:http: out of memory");
        }
    }
    wd_hh_remove(h, (uint32_t)a[0]);
    rs->status = 200;
    rs->declared_cl = wd_hh_fields_content_length(rs->fields);
    uint32_t idx = wd_hh_new(h, WD_HH_OUTRESP, 0, &rs->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &rs->obj);
        return WD_WASM_HOST_TRAP;
    }
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outresp_status)
{
    WD_HH_SELF(WD_HH_OUTRESP);
    r[0] = (uint32_t)((wd_hh_resp_t *)self->obj)->status;
    return WD_WASM_HOST_OK;
}

/* set-status-code(u16) -> result: a single i32 (0 ok, 1 err). 1xx is not a final status. */
static WD_HH_FN(wd_hh_outresp_set_status)
{
    WD_HH_SELF(WD_HH_OUTRESP);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)self->obj;
    uint32_t code = (uint32_t)a[1] & 0xffff;
    if (code < 200 || code > 599 || rs->is_set) {
        r[0] = 1;
        return WD_WASM_HOST_OK;
    }
    rs->status = (int)code;
    r[0] = 0;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outresp_headers)
{
    WD_HH_SELF(WD_HH_OUTRESP);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)self->obj;
    wd_hh_obj_ref(&rs->fields->obj);
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &rs->fields->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &rs->fields->obj);
        return WD_WASM_HOST_TRAP;
    }
    h->tab[idx].owns = 0;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outresp_body)
{
    WD_HH_SELF(WD_HH_OUTRESP);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)self->obj;
    uint32_t idx = 0;
    if (wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (!rs->body_taken) {
        wd_hh_obj_ref(&rs->obj);
        idx = wd_hh_new(h, WD_HH_OUTBODY, 0, &rs->obj);
        if (idx == 0) {
            wd_hh_obj_release(h, &rs->obj);
            return WD_WASM_HOST_TRAP;
        }
        rs->body_taken = 1;
    }
    return wd_hh_store_result_handle(h, (uint32_t)a[1], idx);
}

WD_HH_DROP(wd_hh_outresp_drop, WD_HH_OUTRESP)

/* ---------------------------------------------------------------- outgoing-body */

static WD_HH_FN(wd_hh_outbody_write)
{
    WD_HH_SELF(WD_HH_OUTBODY);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 5, a, r);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)self->obj;
    uint32_t idx = 0;
    if (wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (!rs->stream_taken) {
        wd_hh_obj_ref(&rs->obj);
        idx = wd_hh_new(h, WD_HH_OUTSTREAM, WD_HH_S_BODY, &rs->obj);
        if (idx == 0) {
            wd_hh_obj_release(h, &rs->obj);
            return WD_WASM_HOST_TRAP;
        }
        h->tab[idx].parent = (uint32_t)a[0];
        h->tab[a[0]].children++;
        rs->stream_taken = 1;
    }
    return wd_hh_store_result_handle(h, (uint32_t)a[1], idx);
}

/* finish(this, option<trailers>) -> result<_, error-code> (40 bytes, align 8). */
static WD_HH_FN(wd_hh_outbody_finish)
{
    WD_HH_SELF(WD_HH_OUTBODY);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 6, a, r);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)self->obj;
    uint32_t g = (uint32_t)a[3];
    if (self->children)
        return wd_hh_trap(h, "wasi:http: outgoing-body.finish while its output-stream is alive");
    if ((uint32_t)a[1] > 1)
        return wd_hh_trap(h, "wasi:http: invalid option tag %u", (uint32_t)a[1]);
    if ((uint32_t)a[1] == 1) {
        /* Trailers are consumed; HTTP/1.1 responses here carry none (documented). */
        if (wd_hh_get(h, a[2], WD_HH_FIELDS) == NULL)
            return WD_WASM_HOST_TRAP;
    }
    uint8_t *p = wd_hh_ret(h, g, 40, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    if ((uint32_t)a[1] == 1)
        wd_hh_remove(h, (uint32_t)a[2]);
    wd_hh_obj_ref(&rs->obj);
    wd_hh_remove(h, (uint32_t)a[0]);
    int rc = wd_hh_body_finish(h, rs);
    int64_t declared = rs->declared_cl;
    wd_hh_obj_release(h, &rs->obj);
    p = wd_hh_mem(h, g, 40);
    memset(p, 0, 40);
    if (rc == 0)
        return WD_WASM_HOST_OK;
    p[0] = 1;
    (void)declared;
    if (rc == -2)
        return wd_hh_store_error_code(h, g + 8, 28 /* HTTP-response-body-size(none) */, NULL)
               < 0 ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK;
    return wd_hh_store_error_code(h, g + 8, 7 /* connection-terminated */, NULL) < 0
           ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outbody_drop)
{
    WD_HH_SELF(WD_HH_OUTBODY);
    if (self->kind == WD_HH_K_OUTBOUND)
        return wd_hh_ob_body_call(h, (uint32_t)a[0], self, 7, a, r);
    wd_hh_resp_t *rs = (wd_hh_resp_t *)self->obj;
    if (self->children)
        return wd_hh_trap(h, "wasi:http: outgoing-body dropped while its output-stream is alive");
    if (!rs->finished)
        rs->broken = 1;           /* incomplete body: never sent as complete */
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- response-outparam */

static int wd_hh_error_status(int code)
{
    switch (code) {
    case 15: return 403;          /* HTTP-request-denied */
    case 16: return 411;          /* HTTP-request-length-required */
    case 17: return 413;          /* HTTP-request-body-size */
    case 18: return 405;          /* HTTP-request-method-invalid */
    case 19: return 400;          /* HTTP-request-URI-invalid */
    case 20: return 414;          /* HTTP-request-URI-too-long */
    case 21: case 22: return 431; /* HTTP-request-header-(section-)size */
    case 33: return 504;          /* HTTP-response-timeout */
    case 3: case 6: case 7: return 502;
    default: return 500;
    }
}

/* set(param: own<response-outparam>, response: result<own<outgoing-response>, error-code>)
 * flattened: (param, tag, case-or-handle, i32, i64, i32, i32, i32, i32). */
static WD_HH_FN(wd_hh_outparam_set)
{
    WD_HH_SELF(WD_HH_OUTPARAM);
    uint32_t tag = (uint32_t)a[1];
    if (tag > 1)
        return wd_hh_trap(h, "wasi:http: invalid result tag %u", tag);
    if (tag == 0) {
        wd_hh_handle_t *re = wd_hh_get(h, a[2], WD_HH_OUTRESP);
        if (re == NULL)
            return WD_WASM_HOST_TRAP;
        wd_hh_resp_t *rs = (wd_hh_resp_t *)re->obj;
        wd_hh_obj_ref(&rs->obj);              /* the context keeps it until reset */
        wd_hh_remove(h, (uint32_t)a[2]);
        wd_hh_remove(h, (uint32_t)a[0]);
        h->outparam_set = 1;
        wd_hh_response_set(h, rs);
        return WD_WASM_HOST_OK;
    }
    uint32_t code = (uint32_t)a[2];
    if (code > 38)
        return wd_hh_trap(h, "wasi:http: invalid error-code case %u", code);
    /* lift the message before consuming anything: a bad pointer traps with the outparam
     * untouched (and the trap, not an error response, is what gets logged) */
    const uint8_t *msg = NULL;
    uint64_t sl = 0;
    if (code == 38 && (uint32_t)a[3] == 1) {  /* internal-error(some(msg)): log the message */
        sl = (uint32_t)a[5];
        msg = wd_hh_string(h, (uint32_t)a[4], sl);   /* i64 slot joined from i32: wrap */
        if (msg == NULL)
            return WD_WASM_HOST_TRAP;
    }
    wd_hh_remove(h, (uint32_t)a[0]);
    h->outparam_set = 1;
    h->err_status = wd_hh_error_status((int)code);
    if (msg)
        snprintf(h->out.reason, sizeof h->out.reason, "handler responded with internal-error: %.*s",
                 (int)(sl > 160 ? 160 : sl), (const char *)msg);
    else
        snprintf(h->out.reason, sizeof h->out.reason, "handler responded with error-code case %u",
                 code);
    return WD_WASM_HOST_OK;
}

/* send-informational(self, status, own<headers>) -> result<_, error-code>: 1xx responses are
 * not forwarded by this server: HTTP-protocol-error for a non-1xx status (as the WIT says),
 * else internal-error(some("not supported")). */
static WD_HH_FN(wd_hh_outparam_informational)
{
    WD_HH_SELF(WD_HH_OUTPARAM);
    if (wd_hh_get(h, a[2], WD_HH_FIELDS) == NULL || wd_hh_ret(h, (uint32_t)a[3], 40, 8) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_remove(h, (uint32_t)a[2]);
    uint8_t *p = wd_hh_mem(h, (uint32_t)a[3], 40);
    memset(p, 0, 40);
    p[0] = 1;
    uint32_t st = (uint32_t)a[1] & 0xffff;
    if (st < 100 || st > 199)
        return wd_hh_store_error_code(h, (uint32_t)a[3] + 8, 35, NULL) < 0 ? WD_WASM_HOST_TRAP
                                                                          : WD_WASM_HOST_OK;
    return wd_hh_store_error_code(h, (uint32_t)a[3] + 8, 38,
                                  "informational responses are not supported")
           < 0 ? WD_WASM_HOST_TRAP : WD_WASM_HOST_OK;
}

/* http-error-code(borrow<io-error>) -> option<error-code> (40 bytes, align 8) */
static WD_HH_FN(wd_hh_http_error_code)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_ERROR);
    uint8_t *p = e ? wd_hh_ret(h, (uint32_t)a[1], 40, 8) : NULL;
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 40);
    int code = ((wd_hh_error_t *)e->obj)->code;
    if (code < 0)
        return WD_WASM_HOST_OK;
    p[0] = 1;
    return wd_hh_store_error_code(h, (uint32_t)a[1] + 8, code, NULL) < 0 ? WD_WASM_HOST_TRAP
                                                                        : WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- outgoing-request */

static WD_HH_FN(wd_hh_outreq_ctor)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *fe = wd_hh_get(h, a[0], WD_HH_FIELDS);
    if (fe == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_outreq_t *q = wd_hh_obj_new(h, sizeof *q, WD_HH_OUTREQ);
    if (q == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    wd_hh_fields_t *f = (wd_hh_fields_t *)fe->obj;
    if (fe->owns) {
        wd_hh_obj_ref(&f->obj);
        q->headers = f;
    } else if ((q->headers = wd_hh_fields_clone(h, f)) == NULL) {
        wd_hh_obj_release(h, &q->obj);
        return wd_hh_trap(h, "wasi:http: out of memory");
    }
    wd_hh_remove(h, (uint32_t)a[0]);
    uint32_t idx = wd_hh_new(h, WD_HH_OUTREQ, 0, &q->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &q->obj);
        return WD_WASM_HOST_TRAP;
    }
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outreq_method)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    const char *s = q->method_other ? q->method_other : "";
    return wd_hh_store_tagged_string(h, (uint32_t)a[1], q->method, s, strlen(s), q->method == 9);
}

/* Replace *dst with a copy of a guest string (ptr, len); -1 trap. */
static int wd_hh_take_string(wd_host_http_t *h, char **dst, uint64_t ptr, uint64_t len)
{
    const uint8_t *s = wd_hh_string(h, ptr, len);
    if (s == NULL)
        return -1;
    char *c = wd_wasm_malloc(len + 1);
    if (c == NULL) {
        wd_hh_trap(h, "wasi:http: out of memory");
        return -1;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    wd_wasm_free(*dst);
    *dst = c;
    return 0;
}

static WD_HH_FN(wd_hh_outreq_set_method)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    uint32_t c = (uint32_t)a[1];
    if (c > 9)
        return wd_hh_trap(h, "wasi:http: invalid method case %u", c);
    if (c == 9) {
        const uint8_t *s = wd_hh_string(h, (uint32_t)a[2], (uint32_t)a[3]);
        if (s == NULL)
            return WD_WASM_HOST_TRAP;
        if (!wd_hh_field_name_ok(s, (uint32_t)a[3])) {   /* a method is a token */
            r[0] = 1;
            return WD_WASM_HOST_OK;
        }
        if (wd_hh_take_string(h, &q->method_other, (uint32_t)a[2], (uint32_t)a[3]) < 0)
            return WD_WASM_HOST_TRAP;
    }
    q->method = (uint8_t)c;
    r[0] = 0;
    return WD_WASM_HOST_OK;
}

static wd_hh_rc_t wd_hh_opt_string_get(wd_host_http_t *h, uint32_t g, uint8_t has,
                                       const char *s)
{
    return wd_hh_store_tagged_string(h, g, has, s ? s : "", s ? strlen(s) : 0, has);
}

static WD_HH_FN(wd_hh_outreq_path)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    return wd_hh_opt_string_get(h, (uint32_t)a[1], q->has_path, q->path);
}

static WD_HH_FN(wd_hh_outreq_authority)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    return wd_hh_opt_string_get(h, (uint32_t)a[1], q->has_authority, q->authority);
}

static int wd_hh_uri_part_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

/* set-path-with-query / set-authority(option<string>) -> result (i32) */
static wd_hh_rc_t wd_hh_outreq_set_opt(wd_host_http_t *h, const uint64_t *a, uint64_t *r,
                                       char **dst, uint8_t *has)
{
    uint32_t tag = (uint32_t)a[1];
    if (tag > 1)
        return wd_hh_trap(h, "wasi:http: invalid option tag %u", tag);
    if (tag == 1) {
        const uint8_t *s = wd_hh_string(h, (uint32_t)a[2], (uint32_t)a[3]);
        if (s == NULL)
            return WD_WASM_HOST_TRAP;
        if (!wd_hh_uri_part_ok(s, (uint32_t)a[3])) {
            r[0] = 1;
            return WD_WASM_HOST_OK;
        }
        if (wd_hh_take_string(h, dst, (uint32_t)a[2], (uint32_t)a[3]) < 0)
            return WD_WASM_HOST_TRAP;
    }
    *has = (uint8_t)tag;
    r[0] = 0;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outreq_set_path)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    return wd_hh_outreq_set_opt(h, a, r, &q->path, &q->has_path);
}

static WD_HH_FN(wd_hh_outreq_set_authority)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    return wd_hh_outreq_set_opt(h, a, r, &q->authority, &q->has_authority);
}

static WD_HH_FN(wd_hh_outreq_scheme)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    uint32_t g = (uint32_t)a[1], sp = 0, sl = 0;
    if (wd_hh_ret(h, g, 16, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    if (q->has_scheme && q->scheme == 2) {
        sl = (uint32_t)strlen(q->scheme_other);
        if (wd_hh_lower_bytes(h, q->scheme_other, sl, &sp) < 0)
            return WD_WASM_HOST_TRAP;
    }
    uint8_t *p = wd_hh_mem(h, g, 16);
    memset(p, 0, 16);
    p[0] = q->has_scheme;
    p[4] = q->scheme;
    memcpy(p + 8, &sp, 4);
    memcpy(p + 12, &sl, 4);
    return WD_WASM_HOST_OK;
}

/* set-scheme(option<scheme>) flattened: (self, tag, case, ptr, len) -> i32 */
static WD_HH_FN(wd_hh_outreq_set_scheme)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    uint32_t tag = (uint32_t)a[1], c = (uint32_t)a[2];
    if (tag > 1 || (tag == 1 && c > 2))
        return wd_hh_trap(h, "wasi:http: invalid option<scheme>");
    if (tag == 1 && c == 2) {
        const uint8_t *s = wd_hh_string(h, (uint32_t)a[3], (uint32_t)a[4]);
        if (s == NULL)
            return WD_WASM_HOST_TRAP;
        if ((uint32_t)a[4] == 0 || !wd_hh_field_name_ok(s, (uint32_t)a[4])) {
            r[0] = 1;
            return WD_WASM_HOST_OK;
        }
        if (wd_hh_take_string(h, &q->scheme_other, (uint32_t)a[3], (uint32_t)a[4]) < 0)
            return WD_WASM_HOST_TRAP;
    }
    q->has_scheme = (uint8_t)tag;
    q->scheme = (uint8_t)(tag ? c : 0);
    r[0] = 0;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_outreq_headers)
{
    WD_HH_SELF(WD_HH_OUTREQ);
    wd_hh_outreq_t *q = (wd_hh_outreq_t *)self->obj;
    wd_hh_obj_ref(&q->headers->obj);
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &q->headers->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &q->headers->obj);
        return WD_WASM_HOST_TRAP;
    }
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

WD_HH_DROP(wd_hh_outreq_drop, WD_HH_OUTREQ)

/* ---------------------------------------------------------------- request-options */

static WD_HH_FN(wd_hh_reqopts_ctor)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_reqopts_t *o = wd_hh_obj_new(h, sizeof *o, WD_HH_REQOPTS);
    if (o == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    uint32_t idx = wd_hh_new(h, WD_HH_REQOPTS, 0, &o->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &o->obj);
        return WD_WASM_HOST_TRAP;
    }
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

/* option<duration>: tag @0, u64 @8 (16 bytes, align 8) */
static wd_hh_rc_t wd_hh_reqopts_get(WD_HH_ARGS, int which)
{
    WD_HH_SELF(WD_HH_REQOPTS);
    wd_hh_reqopts_t *o = (wd_hh_reqopts_t *)self->obj;
    uint8_t *p = wd_hh_ret(h, (uint32_t)a[1], 16, 8);
    if (p == NULL)
        return WD_WASM_HOST_TRAP;
    memset(p, 0, 16);
    p[0] = o->has[which];
    memcpy(p + 8, &o->val[which], 8);
    return WD_WASM_HOST_OK;
}

static wd_hh_rc_t wd_hh_reqopts_set(WD_HH_ARGS, int which)
{
    WD_HH_SELF(WD_HH_REQOPTS);
    wd_hh_reqopts_t *o = (wd_hh_reqopts_t *)self->obj;
    if ((uint32_t)a[1] > 1)
        return wd_hh_trap(h, "wasi:http: invalid option tag");
    o->has[which] = (uint8_t)a[1];
    o->val[which] = a[1] ? a[2] : 0;
    r[0] = 0;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_ro_get0) { return wd_hh_reqopts_get(caller, a, r, ud, 0); }
static WD_HH_FN(wd_hh_ro_get1) { return wd_hh_reqopts_get(caller, a, r, ud, 1); }
static WD_HH_FN(wd_hh_ro_get2) { return wd_hh_reqopts_get(caller, a, r, ud, 2); }
static WD_HH_FN(wd_hh_ro_set0) { return wd_hh_reqopts_set(caller, a, r, ud, 0); }
static WD_HH_FN(wd_hh_ro_set1) { return wd_hh_reqopts_set(caller, a, r, ud, 1); }
static WD_HH_FN(wd_hh_ro_set2) { return wd_hh_reqopts_set(caller, a, r, ud, 2); }
WD_HH_DROP(wd_hh_reqopts_drop, WD_HH_REQOPTS)

const wd_hh_import_t wd_hh_types_imports[] = {
    { "[method]incoming-request.method", "ii:", wd_hh_inreq_method },
    { "[method]incoming-request.path-with-query", "ii:", wd_hh_inreq_path },
    { "[method]incoming-request.scheme", "ii:", wd_hh_inreq_scheme },
    { "[method]incoming-request.authority", "ii:", wd_hh_inreq_authority },
    { "[method]incoming-request.headers", "i:i", wd_hh_inreq_headers },
    { "[method]incoming-request.consume", "ii:", wd_hh_inreq_consume },
    { "[resource-drop]incoming-request", "i:", wd_hh_inreq_drop },
    { "[method]incoming-body.stream", "ii:", wd_hh_inbody_stream },
    { "[static]incoming-body.finish", "i:i", wd_hh_inbody_finish },
    { "[resource-drop]incoming-body", "i:", wd_hh_inbody_drop },
    { "[method]future-trailers.subscribe", "i:i", wd_hh_futtrail_subscribe },
    { "[method]future-trailers.get", "ii:", wd_hh_futtrail_get },
    { "[resource-drop]future-trailers", "i:", wd_hh_futtrail_drop },
    { "[constructor]outgoing-response", "i:i", wd_hh_outresp_ctor },
    { "[method]outgoing-response.status-code", "i:i", wd_hh_outresp_status },
    { "[method]outgoing-response.set-status-code", "ii:i", wd_hh_outresp_set_status },
    { "[method]outgoing-response.headers", "i:i", wd_hh_outresp_headers },
    { "[method]outgoing-response.body", "ii:", wd_hh_outresp_body },
    { "[resource-drop]outgoing-response", "i:", wd_hh_outresp_drop },
    { "[method]outgoing-body.write", "ii:", wd_hh_outbody_write },
    { "[static]outgoing-body.finish", "iiii:", wd_hh_outbody_finish },
    { "[resource-drop]outgoing-body", "i:", wd_hh_outbody_drop },
    { "[static]response-outparam.set", "iiiiIiiii:", wd_hh_outparam_set },
    { "[method]response-outparam.send-informational", "iiii:", wd_hh_outparam_informational },
    { "[resource-drop]response-outparam", "i:", wd_hh_outparam_drop },
    { "http-error-code", "ii:", wd_hh_http_error_code },
    { "[constructor]outgoing-request", "i:i", wd_hh_outreq_ctor },
    { "[method]outgoing-request.method", "ii:", wd_hh_outreq_method },
    { "[method]outgoing-request.set-method", "iiii:i", wd_hh_outreq_set_method },
    { "[method]outgoing-request.path-with-query", "ii:", wd_hh_outreq_path },
    { "[method]outgoing-request.set-path-with-query", "iiii:i", wd_hh_outreq_set_path },
    { "[method]outgoing-request.scheme", "ii:", wd_hh_outreq_scheme },
    { "[method]outgoing-request.set-scheme", "iiiii:i", wd_hh_outreq_set_scheme },
    { "[method]outgoing-request.authority", "ii:", wd_hh_outreq_authority },
    { "[method]outgoing-request.set-authority", "iiii:i", wd_hh_outreq_set_authority },
    { "[method]outgoing-request.headers", "i:i", wd_hh_outreq_headers },
    { "[resource-drop]outgoing-request", "i:", wd_hh_outreq_drop },
    { "[constructor]request-options", ":i", wd_hh_reqopts_ctor },
    { "[method]request-options.connect-timeout", "ii:", wd_hh_ro_get0 },
    { "[method]request-options.set-connect-timeout", "iiI:i", wd_hh_ro_set0 },
    { "[method]request-options.first-byte-timeout", "ii:", wd_hh_ro_get1 },
    { "[method]request-options.set-first-byte-timeout", "iiI:i", wd_hh_ro_set1 },
    { "[method]request-options.between-bytes-timeout", "ii:", wd_hh_ro_get2 },
    { "[method]request-options.set-between-bytes-timeout", "iiI:i", wd_hh_ro_set2 },
    { "[resource-drop]request-options", "i:", wd_hh_reqopts_drop },
    { NULL, NULL, NULL }
};
