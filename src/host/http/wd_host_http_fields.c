/*
 * wd_host_http_fields.c -- the wasi:http `fields` resource (headers and trailers).
 *
 * A fields object is an ordered list of (name, value) byte strings; names
 * compare case-insensitively. Handles from the constructor, from-list and
 * clone own a mutable object; handles returned by incoming-request.headers
 * and outgoing-response.headers are immutable views (set/append/delete fail
 * with header-error.immutable).
 *
 * The server owns framing, so every mutation validates: a name must be an
 * RFC 9110 token, a value may not contain CR, LF, NUL or other controls but
 * HTAB (invalid-syntax); hop-by-hop and framing names (connection,
 * keep-alive, proxy-connection, transfer-encoding, upgrade, te, trailer,
 * http2-settings) are forbidden; content-length values must be decimal and
 * agree with each other (invalid-syntax otherwise).
 *
 * header-error is an enum-like variant (u8): 0 invalid-syntax, 1 forbidden,
 * 2 immutable; result<_, header-error> is 2 bytes (tag, payload) with align 1.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "wd_host_http_int.h"

enum { WD_HH_HE_SYNTAX = 0, WD_HH_HE_FORBIDDEN = 1, WD_HH_HE_IMMUTABLE = 2 };

wd_hh_fields_t *wd_hh_fields_new(wd_host_http_t *h)
{
    return wd_hh_obj_new(h, sizeof(wd_hh_fields_t), WD_HH_FIELDS);
}

void wd_hh_fields_free_entries(wd_hh_fields_t *f)
{
    if (!f->borrowed)
        for (uint32_t i = 0; i < f->n; i++)
            wd_wasm_free(f->v[i].name);           /* name and value share one allocation */
    f->n = 0;
    if (f->cap > 32) {
        wd_wasm_free(f->v);
        f->v = NULL;
        f->cap = 0;
    }
}

/* Header bytes a request's guest may make the host hold (fields live in host memory,
 * outside wasm_memory_limit): past this, the mutation traps. */
#define WD_HH_MAX_FIELD_BYTES (1u << 20)

static int wd_hh_fields_push(wd_host_http_t *h, wd_hh_fields_t *f, const uint8_t *name,
                             size_t nl, const uint8_t *value, size_t vl, int copy)
{
    if (copy) {
        if (h->field_bytes + nl + vl + 32 > WD_HH_MAX_FIELD_BYTES) {
            wd_hh_trap(h, "wasi:http: more than %u bytes of header fields in one request",
                       WD_HH_MAX_FIELD_BYTES);
            return -2;
        }
        h->field_bytes += nl + vl + 32;
    }
    if (f->n == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 8;
        wd_hh_field_t *v = wd_wasm_realloc(f->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        f->v = v;
        f->cap = cap;
    }
    wd_hh_field_t *e = &f->v[f->n];
    if (copy) {
        e->name = wd_wasm_malloc(nl + vl ? nl + vl : 1);
        if (e->name == NULL)
            return -1;
        e->value = (uint8_t *)e->name + nl;
        memcpy(e->name, name, nl);
        memcpy(e->value, value, vl);
    } else {
        e->name = (char *)name;
        e->value = (uint8_t *)value;
    }
    e->name_len = (uint32_t)nl;
    e->value_len = (uint32_t)vl;
    f->n++;
    return 0;
}

wd_hh_fields_t *wd_hh_fields_clone(wd_host_http_t *h, const wd_hh_fields_t *src)
{
    wd_hh_fields_t *f = wd_hh_fields_new(h);
    if (f == NULL)
        return NULL;
    for (uint32_t i = 0; src && i < src->n; i++)
        if (wd_hh_fields_push(h, f, (const uint8_t *)src->v[i].name, src->v[i].name_len,
                              src->v[i].value, src->v[i].value_len, 1) < 0) {
            wd_hh_obj_release(h, &f->obj);
            return NULL;
        }
    return f;
}

int wd_hh_field_name_ok(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 8192)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        switch (c) {              /* the other tchars: !#$%&'*+-.^_`|~ */
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~':
            continue;
        default:
            return 0;
        }
    }
    return 1;
}

int wd_hh_field_value_ok(const uint8_t *p, size_t n)
{
    if (n > 65536)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

static int wd_hh_name_is(const uint8_t *p, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp((const char *)p, s, n) == 0;
}

int wd_hh_field_forbidden(const uint8_t *p, size_t n)
{
#define WD_HH_NAME(s) { s, sizeof(s) - 1 }
    static const struct { const char *s; size_t n; } names[] = {
        WD_HH_NAME("connection"), WD_HH_NAME("keep-alive"), WD_HH_NAME("proxy-connection"),
        WD_HH_NAME("transfer-encoding"), WD_HH_NAME("upgrade"), WD_HH_NAME("te"),
        WD_HH_NAME("trailer"), WD_HH_NAME("http2-settings")
    };
#undef WD_HH_NAME
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)   /* lengths first */
        if (names[i].n == n && strncasecmp((const char *)p, names[i].s, n) == 0)
            return 1;
    return 0;
}

static int64_t wd_hh_parse_cl(const uint8_t *p, size_t n)
{
    int64_t v = 0;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    if (n == 0 || n > 18)
        return -2;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -2;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int64_t wd_hh_fields_content_length(const wd_hh_fields_t *f)
{
    int64_t cl = -1;
    for (uint32_t i = 0; f && i < f->n; i++) {
        if (!wd_hh_name_is((const uint8_t *)f->v[i].name, f->v[i].name_len, "content-length"))
            continue;
        int64_t v = wd_hh_parse_cl(f->v[i].value, f->v[i].value_len);
        if (v < 0 || (cl >= 0 && v != cl))
            return -2;
        cl = v;
    }
    return cl;
}

/* 0 ok, else header-error case + 1. `skip_name` ignores existing values of that name (set). */
static int wd_hh_check_field(const wd_hh_fields_t *f, const uint8_t *n, size_t nl,
                             const uint8_t *v, size_t vl, int replacing)
{
    if (!wd_hh_field_name_ok(n, nl) || !wd_hh_field_value_ok(v, vl))
        return WD_HH_HE_SYNTAX + 1;
    if (wd_hh_field_forbidden(n, nl))
        return WD_HH_HE_FORBIDDEN + 1;
    if (wd_hh_name_is(n, nl, "content-length")) {
        int64_t nv = wd_hh_parse_cl(v, vl);
        if (nv < 0)
            return WD_HH_HE_SYNTAX + 1;
        if (!replacing) {
            int64_t cur = wd_hh_fields_content_length(f);
            if (cur == -2 || (cur >= 0 && cur != nv))
                return WD_HH_HE_SYNTAX + 1;
        }
    }
    return 0;
}

static void wd_hh_fields_delete(wd_hh_fields_t *f, const uint8_t *n, size_t nl)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        if (f->v[i].name_len == nl && strncasecmp(f->v[i].name, (const char *)n, nl) == 0) {
            if (!f->borrowed)
                wd_wasm_free(f->v[i].name);       /* value shares the allocation */
            continue;
        }
        f->v[j++] = f->v[i];
    }
    f->n = j;
}

int wd_hh_fields_add(wd_host_http_t *h, wd_hh_fields_t *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl)
{
    return wd_hh_fields_push(h, f, name, nl, value, vl, 1);
}

wd_hh_fields_t *wd_hh_request_fields(wd_host_http_t *h)
{
    if (h->req_fields)
        return h->req_fields;
    wd_hh_fields_t *f = wd_hh_fields_new(h);
    if (f == NULL)
        return NULL;
    f->borrowed = 1;
    for (size_t i = 0; i < h->req->nheaders; i++) {
        const wd_host_http_header_t *e = &h->req->headers[i];
        if (wd_hh_fields_push(h, f, (const uint8_t *)e->name, e->name_len,
                              (const uint8_t *)e->value, e->value_len, 0) < 0) {
            wd_hh_obj_release(h, &f->obj);
            return NULL;
        }
    }
    h->req_fields = f;            /* the context keeps this first reference until reset */
    return f;
}

/* ---- host functions ---- */

static WD_HH_FN(wd_hh_fields_ctor)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_fields_t *f = wd_hh_fields_new(h);
    if (f == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &f->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &f->obj);
        return WD_WASM_HOST_TRAP;
    }
    h->tab[idx].owns = 1;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

/* from-list(list<tuple<string, list<u8>>>) -> result<fields, header-error> (8 bytes, align 4) */
static WD_HH_FN(wd_hh_fields_from_list)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    uint32_t n = (uint32_t)a[1];
    const uint8_t *l = wd_hh_bytes(h, (uint32_t)a[0], n, 16, 4);
    if (l == NULL || wd_hh_ret(h, (uint32_t)a[2], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_fields_t *f = wd_hh_fields_new(h);
    if (f == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    int bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++) {
        uint32_t np, nl, vp, vl;
        memcpy(&np, l + 16 * i, 4); memcpy(&nl, l + 16 * i + 4, 4);
        memcpy(&vp, l + 16 * i + 8, 4); memcpy(&vl, l + 16 * i + 12, 4);
        const uint8_t *name = wd_hh_string(h, np, nl);
        const uint8_t *val = name ? wd_hh_bytes(h, vp, vl, 1, 1) : NULL;
        if (val == NULL) {
            wd_hh_obj_release(h, &f->obj);
            return WD_WASM_HOST_TRAP;
        }
        bad = wd_hh_check_field(f, name, nl, val, vl, 0);
        int pr = bad ? 0 : wd_hh_fields_push(h, f, name, nl, val, vl, 1);
        if (pr < 0) {
            wd_hh_obj_release(h, &f->obj);
            return pr == -2 ? WD_WASM_HOST_TRAP : wd_hh_trap(h, "wasi:http: out of memory");
        }
    }
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[2], 8, 4);
    if (bad) {
        wd_hh_obj_release(h, &f->obj);
        ret[0] = 1;
        ret[4] = (uint8_t)(bad - 1);
        return WD_WASM_HOST_OK;
    }
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &f->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &f->obj);
        return WD_WASM_HOST_TRAP;
    }
    h->tab[idx].owns = 1;
    ret[0] = 0;
    memcpy(ret + 4, &idx, 4);
    return WD_WASM_HOST_OK;
}

/* get(name) -> list<list<u8>>, through the return pointer (8 bytes, align 4). */
static WD_HH_FN(wd_hh_fields_get)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_FIELDS);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_fields_t *f = (wd_hh_fields_t *)e->obj;
    uint32_t nl = (uint32_t)a[2];
    const uint8_t *name = wd_hh_string(h, (uint32_t)a[1], nl);
    if (name == NULL || wd_hh_ret(h, (uint32_t)a[3], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    char *key = wd_wasm_malloc(nl ? nl : 1);     /* guest memory may move during cabi_realloc */
    if (key == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    memcpy(key, name, nl);
    uint32_t cnt = 0, lp = 0;
    for (uint32_t i = 0; i < f->n; i++)
        if (f->v[i].name_len == nl && strncasecmp(f->v[i].name, key, nl) == 0)
            cnt++;
    if (wd_hh_alloc(h, 4, (uint64_t)cnt * 8, &lp) < 0)
        goto trap;
    uint32_t k = 0;
    for (uint32_t i = 0; i < f->n && k < cnt; i++) {
        if (f->v[i].name_len != nl || strncasecmp(f->v[i].name, key, nl) != 0)
            continue;
        uint32_t vp, vl = f->v[i].value_len;
        if (wd_hh_lower_bytes(h, f->v[i].value, vl, &vp) < 0)
            goto trap;
        uint8_t *slot = wd_hh_mem(h, lp + 8 * k, 8);
        if (slot == NULL)
            goto trap;
        memcpy(slot, &vp, 4);
        memcpy(slot + 4, &vl, 4);
        k++;
    }
    wd_wasm_free(key);
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[3], 8, 4);
    if (ret == NULL)
        return WD_WASM_HOST_TRAP;
    memcpy(ret, &lp, 4);
    memcpy(ret + 4, &cnt, 4);
    return WD_WASM_HOST_OK;
trap:
    wd_wasm_free(key);
    return WD_WASM_HOST_TRAP;
}

static WD_HH_FN(wd_hh_fields_has)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_FIELDS);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_fields_t *f = (wd_hh_fields_t *)e->obj;
    uint32_t nl = (uint32_t)a[2];
    const uint8_t *name = wd_hh_string(h, (uint32_t)a[1], nl);
    if (name == NULL)
        return WD_WASM_HOST_TRAP;
    r[0] = 0;
    for (uint32_t i = 0; i < f->n; i++)
        if (f->v[i].name_len == nl && strncasecmp(f->v[i].name, (const char *)name, nl) == 0) {
            r[0] = 1;
            break;
        }
    return WD_WASM_HOST_OK;
}

/* Common prologue of set/delete/append: the mutable fields or an error code. */
static wd_hh_fields_t *wd_hh_fields_mut(wd_host_http_t *h, uint64_t idx, int *herr)
{
    wd_hh_handle_t *e = wd_hh_get(h, idx, WD_HH_FIELDS);
    if (e == NULL)
        return NULL;
    *herr = e->owns ? 0 : WD_HH_HE_IMMUTABLE + 1;
    return (wd_hh_fields_t *)e->obj;
}

static void wd_hh_store_herr(uint8_t *ret, int herr)
{
    ret[0] = herr ? 1 : 0;
    ret[1] = herr ? (uint8_t)(herr - 1) : 0;
}

/* set(name, list<list<u8>>) -> result<_, header-error> */
static WD_HH_FN(wd_hh_fields_set)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    int herr;
    wd_hh_fields_t *f = wd_hh_fields_mut(h, a[0], &herr);
    if (f == NULL)
        return WD_WASM_HOST_TRAP;
    uint32_t nl = (uint32_t)a[2], cnt = (uint32_t)a[4];
    const uint8_t *name = wd_hh_string(h, (uint32_t)a[1], nl);
    const uint8_t *l = name ? wd_hh_bytes(h, (uint32_t)a[3], cnt, 8, 4) : NULL;
    uint8_t *ret = l ? wd_hh_ret(h, (uint32_t)a[5], 2, 1) : NULL;
    if (ret == NULL)
        return WD_WASM_HOST_TRAP;
    if (!herr && !wd_hh_field_name_ok(name, nl))
        herr = WD_HH_HE_SYNTAX + 1;
    int64_t first_cl = -1;
    for (uint32_t i = 0; i < cnt && !herr; i++) {
        uint32_t vp, vl;
        memcpy(&vp, l + 8 * i, 4);
        memcpy(&vl, l + 8 * i + 4, 4);
        const uint8_t *v = wd_hh_bytes(h, vp, vl, 1, 1);
        if (v == NULL)
            return WD_WASM_HOST_TRAP;
        herr = wd_hh_check_field(f, name, nl, v, vl, 1);
        if (!herr && wd_hh_name_is(name, nl, "content-length")) {
            int64_t cl = wd_hh_parse_cl(v, vl);
            if (first_cl >= 0 && cl != first_cl)
                herr = WD_HH_HE_SYNTAX + 1;
            first_cl = cl;
        }
    }
    if (!herr) {
        wd_hh_fields_delete(f, name, nl);
        for (uint32_t i = 0; i < cnt; i++) {
            uint32_t vp, vl;
            memcpy(&vp, l + 8 * i, 4);
            memcpy(&vl, l + 8 * i + 4, 4);
            int pr = wd_hh_fields_push(h, f, name, nl, wd_hh_cmem(h, vp, vl), vl, 1);
            if (pr < 0)
                return pr == -2 ? WD_WASM_HOST_TRAP : wd_hh_trap(h, "wasi:http: out of memory");
        }
    }
    wd_hh_store_herr(ret, herr);
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_fields_delete_fn)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    int herr;
    wd_hh_fields_t *f = wd_hh_fields_mut(h, a[0], &herr);
    if (f == NULL)
        return WD_WASM_HOST_TRAP;
    uint32_t nl = (uint32_t)a[2];
    const uint8_t *name = wd_hh_string(h, (uint32_t)a[1], nl);
    uint8_t *ret = name ? wd_hh_ret(h, (uint32_t)a[3], 2, 1) : NULL;
    if (ret == NULL)
        return WD_WASM_HOST_TRAP;
    if (!herr && !wd_hh_field_name_ok(name, nl))
        herr = WD_HH_HE_SYNTAX + 1;
    if (!herr && wd_hh_field_forbidden(name, nl))
        herr = WD_HH_HE_FORBIDDEN + 1;
    if (!herr)
        wd_hh_fields_delete(f, name, nl);
    wd_hh_store_herr(ret, herr);
    return WD_WASM_HOST_OK;
}

/* append(name, value) -> result<_, header-error>: 2 bytes through the return pointer. */
static WD_HH_FN(wd_hh_fields_append)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    int herr;
    wd_hh_fields_t *f = wd_hh_fields_mut(h, a[0], &herr);
    if (f == NULL)
        return WD_WASM_HOST_TRAP;
    uint32_t nl = (uint32_t)a[2], vl = (uint32_t)a[4];
    const uint8_t *name = wd_hh_string(h, (uint32_t)a[1], nl);
    const uint8_t *v = name ? wd_hh_bytes(h, (uint32_t)a[3], vl, 1, 1) : NULL;
    uint8_t *ret = v ? wd_hh_ret(h, (uint32_t)a[5], 2, 1) : NULL;
    if (ret == NULL)
        return WD_WASM_HOST_TRAP;
    if (!herr)
        herr = wd_hh_check_field(f, name, nl, v, vl, 0);
    int pr = herr ? 0 : wd_hh_fields_push(h, f, name, nl, v, vl, 1);
    if (pr < 0)
        return pr == -2 ? WD_WASM_HOST_TRAP : wd_hh_trap(h, "wasi:http: out of memory");
    wd_hh_store_herr(ret, herr);
    return WD_WASM_HOST_OK;
}

/* entries() -> list<tuple<string, list<u8>>> (elements 16 bytes, align 4) */
static WD_HH_FN(wd_hh_fields_entries)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_FIELDS);
    if (e == NULL || wd_hh_ret(h, (uint32_t)a[1], 8, 4) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_fields_t *f = (wd_hh_fields_t *)e->obj;
    uint32_t n = f->n, lp;
    if (wd_hh_alloc(h, 4, (uint64_t)n * 16, &lp) < 0)
        goto trap;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t np, vp, nl = f->v[i].name_len, vl = f->v[i].value_len;
        if (wd_hh_lower_bytes(h, f->v[i].name, nl, &np) < 0
            || wd_hh_lower_bytes(h, f->v[i].value, vl, &vp) < 0)
            goto trap;
        uint8_t *slot = wd_hh_mem(h, lp + 16 * i, 16);
        if (slot == NULL)
            goto trap;
        memcpy(slot, &np, 4); memcpy(slot + 4, &nl, 4);
        memcpy(slot + 8, &vp, 4); memcpy(slot + 12, &vl, 4);
    }
    uint8_t *ret = wd_hh_ret(h, (uint32_t)a[1], 8, 4);
    if (ret == NULL)
        goto trap;
    memcpy(ret, &lp, 4);
    memcpy(ret + 4, &n, 4);
    return WD_WASM_HOST_OK;
trap:
    return WD_WASM_HOST_TRAP;
}

static WD_HH_FN(wd_hh_fields_clone_fn)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    wd_hh_handle_t *e = wd_hh_get(h, a[0], WD_HH_FIELDS);
    if (e == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_fields_t *f = wd_hh_fields_clone(h, (wd_hh_fields_t *)e->obj);
    if (f == NULL)
        return wd_hh_trap(h, "wasi:http: out of memory");
    uint32_t idx = wd_hh_new(h, WD_HH_FIELDS, 0, &f->obj);
    if (idx == 0) {
        wd_hh_obj_release(h, &f->obj);
        return WD_WASM_HOST_TRAP;
    }
    h->tab[idx].owns = 1;
    r[0] = idx;
    return WD_WASM_HOST_OK;
}

static WD_HH_FN(wd_hh_fields_drop)
{
    wd_host_http_t *h = WD_HH_H;
    WD_HH_ENTER(h, 1);
    if (wd_hh_get(h, a[0], WD_HH_FIELDS) == NULL)
        return WD_WASM_HOST_TRAP;
    wd_hh_remove(h, (uint32_t)a[0]);
    return WD_WASM_HOST_OK;
}

const wd_hh_import_t wd_hh_fields_imports[] = {
    { "[constructor]fields", ":i", wd_hh_fields_ctor },
    { "[static]fields.from-list", "iii:", wd_hh_fields_from_list },
    { "[method]fields.get", "iiii:", wd_hh_fields_get },
    { "[method]fields.has", "iii:i", wd_hh_fields_has },
    { "[method]fields.set", "iiiiii:", wd_hh_fields_set },
    { "[method]fields.delete", "iiii:", wd_hh_fields_delete_fn },
    { "[method]fields.append", "iiiiii:", wd_hh_fields_append },
    { "[method]fields.entries", "ii:", wd_hh_fields_entries },
    { "[method]fields.clone", "i:i", wd_hh_fields_clone_fn },
    { "[resource-drop]fields", "i:", wd_hh_fields_drop },
    { NULL, NULL, NULL }
};
