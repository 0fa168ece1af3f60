/*
 * wd_host_http.c -- the wasi:http host context: handle table, Canonical ABI
 * helpers (guest pointer checks, cabi_realloc lowering), import matching and
 * linking, the request lifecycle and the response emitter.
 *
 * Canonical ABI rules applied everywhere (CanonicalABI.md "Loading",
 * "Storing", "Flattening"): a string/list argument is (ptr, len), its bytes
 * must lie inside memory and be aligned to the element alignment, strings must
 * be valid UTF-8; a result with more than one flat value is stored through a
 * trailing return-area pointer, which must be aligned to the result type and
 * inside memory; lists and strings returned to the guest are allocated with
 * the guest's cabi_realloc(0, 0, align, size), whose result is checked the
 * same way. While cabi_realloc runs, any import call traps (the ABI's
 * may_leave rule), so a hostile allocator cannot re-enter the host.
 *
 * Response emission: body bytes first go to a small per-response buffer so
 * that a short response finished without a flush gets a Content-Length; the
 * first flush, a buffer overflow, or a blocking write commits the head and
 * streams from then on. The backend's pending() count drives back-pressure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "wd_host_http_int.h"
#include "kv/wd_host_kv.h"

/* ---------------------------------------------------------------- helpers */

wd_hh_rc_t wd_hh_trap(wd_host_http_t *h, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h->caller)                /* a component's import called from another core instance */
        wd_wasm_host_trap(h->caller, msg);
    else if (h->inst)
        wd_wasm_host_trap(h->inst, msg);
    return WD_WASM_HOST_TRAP;
}

int wd_hh_enter(wd_host_http_t *h, int need_req)
{
    if (h->in_realloc) {
        wd_hh_trap(h, "wasi:http: import called from cabi_realloc");
        return -1;
    }
    if (need_req && !h->active && !h->stdio) {
        wd_hh_trap(h, "wasi:http: resource call outside a request");
        return -1;
    }
    return 0;
}

static void wd_hh_oob(wd_host_http_t *h, uint64_t off, uint64_t len)
{
    wd_hh_trap(h, "wasi:http: guest pointer out of bounds (%llu+%llu)",
               (unsigned long long)off, (unsigned long long)len);
}

uint8_t *wd_hh_mem(wd_host_http_t *h, uint64_t off, uint64_t len)
{
    uint8_t *p = h->mem ? wd_wasm_memory_ptr(h->mem, off, len) : NULL;
    if (p == NULL)
        wd_hh_oob(h, off, len);
    return p;
}

/* a range the host only reads (strings, lists, bodies): costs the restore nothing */
const uint8_t *wd_hh_cmem(wd_host_http_t *h, uint64_t off, uint64_t len)
{
    const uint8_t *p = h->mem ? wd_wasm_memory_cptr(h->mem, off, len) : NULL;
    if (p == NULL)
        wd_hh_oob(h, off, len);
    return p;
}

uint8_t *wd_hh_ret(wd_host_http_t *h, uint64_t off, uint64_t len, uint32_t align)
{
    if (off & (align - 1)) {
        wd_hh_trap(h, "wasi:http: misaligned return pointer %llu", (unsigned long long)off);
        return NULL;
    }
    return wd_hh_mem(h, off, len);
}

static int wd_hh_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; }
        else return 0;
        if (i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

const uint8_t *wd_hh_string(wd_host_http_t *h, uint64_t ptr, uint64_t len)
{
    const uint8_t *p = wd_hh_cmem(h, ptr, len);
    if (p == NULL)
        return NULL;
    if (!wd_hh_utf8_ok(p, len)) {
        wd_hh_trap(h, "wasi:http: string argument is not valid UTF-8");
        return NULL;
    }
    return p;
}

const uint8_t *wd_hh_bytes(wd_host_http_t *h, uint64_t ptr, uint64_t len, uint32_t elem_size,
                           uint32_t align)
{
    if (ptr & (align - 1)) {
        wd_hh_trap(h, "wasi:http: misaligned list pointer %llu", (unsigned long long)ptr);
        return NULL;
    }
    return wd_hh_cmem(h, ptr, len * (uint64_t)elem_size);  /* len < 2^32: no overflow */
}

int wd_hh_alloc(wd_host_http_t *h, uint32_t align, uint64_t size, uint32_t *out)
{
    wd_wasm_val_t args[4], res[1];
    if (size > 0x7fffffffu) {
        wd_hh_trap(h, "wasi:http: allocation too large");
        return -1;
    }
    if (h->alloc) {               /* a host memory (wd_host_http_call_in) */
        uint32_t p;
        if (h->alloc(h->alloc_ud, align, (uint32_t)size, &p) < 0) {
            wd_hh_trap(h, "wasi:http: out of memory for a transcoded value");
            return -1;
        }
        if (wd_hh_mem(h, p, size) == NULL)
            return -1;
        *out = p;
        return 0;
    }
    if (h->realloc_fn == NULL) {
        wd_hh_trap(h, "wasi:http: result needs memory but the import has no realloc option");
        return -1;
    }
    args[0].type = WD_WASM_I32; args[0].of.i32 = 0;
    args[1].type = WD_WASM_I32; args[1].of.i32 = 0;
    args[2].type = WD_WASM_I32; args[2].of.i32 = align;
    args[3].type = WD_WASM_I32; args[3].of.i32 = (uint32_t)size;
    /* a component's import may run before attach (a start function): its caller is the
       running instance then */
    wd_wasm_instance_t *th = h->inst ? h->inst : h->caller;
    h->in_realloc = 1;
    wd_wasm_status_t st = wd_wasm_call(th, h->realloc_fn, args, 4, res, 1);
    h->in_realloc = 0;
    if (st != WD_WASM_OK) {
        if (st == WD_WASM_SUSPENDED)
            wd_wasm_abort(th);
        const wd_wasm_trap_t *t = wd_wasm_last_trap(th);
        h->nested_trap = st == WD_WASM_TRAP ? t->kind : WD_TRAP_HOST;
        wd_hh_trap(h, "cabi_realloc failed: %s", st == WD_WASM_TRAP ? t->msg : "suspended");
        return -1;
    }
    uint32_t p = res[0].of.i32;
    if (p & (align - 1)) {
        wd_hh_trap(h, "cabi_realloc returned a misaligned pointer %u", p);
        return -1;
    }
    /* memory may have grown */
    h->mem = h->bound_mem ? h->bound_mem : wd_wasm_instance_memory(th);
    if (wd_hh_mem(h, p, size) == NULL)
        return -1;
    *out = p;
    return 0;
}

int wd_hh_lower_bytes(wd_host_http_t *h, const void *src, size_t len, uint32_t *out)
{
    if (wd_hh_alloc(h, 1, len, out) < 0)
        return -1;
    if (len)
        memcpy(wd_wasm_memory_ptr(h->mem, *out, len), src, len);
    return 0;
}

uint64_t wd_hh_now_ns(int clock)
{
    struct timespec ts;
    clock_gettime(clock ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- objects */

/* Recycled object kinds: 0 fields, 1 outgoing-response, -1 others. */
static int wd_hh_spare_kind(uint8_t type)
{
    return type == WD_HH_FIELDS ? 0 : type == WD_HH_OUTRESP ? 1 : -1;
}

#define WD_HH_SPARE_MAX 4             /* kept per kind */

void *wd_hh_obj_new(wd_host_http_t *h, size_t size, uint8_t type)
{
    int k = wd_hh_spare_kind(type);
    wd_hh_obj_t *o;
    if (k >= 0 && h->spare[k]) {
        /* a destroyed one: zero it all but the buffer it keeps (its bytes are never read
         * past the zeroed length) */
        o = h->spare[k];
        h->spare[k] = o->next;
        h->nspare[k]--;
        if (k == 0) {
            wd_hh_fields_t *f = (wd_hh_fields_t *)o;
            wd_hh_field_t *v = f->v;
            uint32_t cap = f->cap;
            memset(o, 0, size);
            f->v = v;
            f->cap = cap;
        } else {
            wd_hh_resp_t *rs = (wd_hh_resp_t *)o;
            uint8_t *pre = rs->pre;
            size_t cap = rs->pre_cap;
            memset(o, 0, size);
            rs->pre = pre;
            rs->pre_cap = cap;
        }
    } else {
        o = wd_wasm_calloc(1, size);
        if (o == NULL)
            return NULL;
    }
    o->type = type;
    o->refs = 1;
    o->next = h->objs.next;
    o->prev = &h->objs;
    h->objs.next->prev = o;
    h->objs.next = o;
    return o;
}

void wd_hh_obj_ref(wd_hh_obj_t *o)
{
    if (o)
        o->refs++;
}

/* Frees an object's memory (and the buffer a recycled one keeps). */
static void wd_hh_obj_free(wd_hh_obj_t *o)
{
    if (o->type == WD_HH_FIELDS)
        wd_wasm_free(((wd_hh_fields_t *)o)->v);
    else if (o->type == WD_HH_OUTRESP)
        wd_wasm_free(((wd_hh_resp_t *)o)->pre);
    wd_wasm_free(o);
}

static void wd_hh_obj_destroy(wd_host_http_t *h, wd_hh_obj_t *o)
{
    o->prev->next = o->next;
    o->next->prev = o->prev;
    switch (o->type) {
    case WD_HH_FIELDS:
        wd_hh_fields_free_entries((wd_hh_fields_t *)o);
        break;
    case WD_HH_OUTRESP: {
        wd_hh_resp_t *rs = (wd_hh_resp_t *)o;
        if (rs->pre_cap > WD_HOST_HTTP_PREBUF) {
            wd_wasm_free(rs->pre);
            rs->pre = NULL;
            rs->pre_cap = 0;
        }
        rs->pre_len = 0;
        if (rs->fields && !h->resetting) {     /* at reset every object goes anyway */
            wd_hh_obj_t *f = &rs->fields->obj;
            rs->fields = NULL;
            wd_hh_obj_release(h, f);
        }
        break;
    }
    case WD_HH_ERROR:
        wd_wasm_free(((wd_hh_error_t *)o)->msg);
        break;
    case WD_HH_FUTINRESP:
        wd_hh_exch_destroy(h, (wd_hh_exch_t *)o);
        break;
    case WD_HH_OUTREQ: {
        wd_hh_outreq_t *q = (wd_hh_outreq_t *)o;
        if (q->exch && !h->resetting) {
            wd_hh_obj_t *x = &q->exch->obj;
            q->exch = NULL;
            wd_hh_obj_release(h, x);
        }
        wd_wasm_free(q->method_other); wd_wasm_free(q->path); wd_wasm_free(q->authority); wd_wasm_free(q->scheme_other);
        if (q->headers && !h->resetting) {
            wd_hh_obj_t *f = &q->headers->obj;
            q->headers = NULL;
            wd_hh_obj_release(h, f);
        }
        break;
    }
    default:
        break;
    }
    int k = wd_hh_spare_kind(o->type);
    if (k >= 0 && h->nspare[k] < WD_HH_SPARE_MAX) {
        o->next = h->spare[k];
        o->prev = NULL;
        h->spare[k] = o;
        h->nspare[k]++;
        return;
    }
    wd_hh_obj_free(o);
}

void wd_hh_obj_release(wd_host_http_t *h, wd_hh_obj_t *o)
{
    if (o && --o->refs == 0) {
        if ((wd_hh_fields_t *)o == h->req_fields)
            h->req_fields = NULL;
        wd_hh_obj_destroy(h, o);
    }
}

/* ---------------------------------------------------------------- handles */

static const char *const wd_hh_type_names[WD_HH_NTYPES] = {
    "free", "fields", "incoming-request", "incoming-body", "future-trailers",
    "outgoing-response", "outgoing-body", "response-outparam", "input-stream",
    "output-stream", "pollable", "error", "outgoing-request", "request-options",
    "incoming-response", "future-incoming-response", "component resource"
};

const char *wd_hh_type_name(uint8_t type)
{
    return type < WD_HH_NTYPES ? wd_hh_type_names[type] : "?";
}

uint32_t wd_hh_new(wd_host_http_t *h, uint8_t type, uint8_t kind, wd_hh_obj_t *obj)
{
    uint32_t i;
    if (h->free_head) {
        i = h->free_head;
        h->free_head = h->tab[i].next_free;
    } else {
        if (h->ntab >= WD_HH_MAX_HANDLES) {
            wd_hh_trap(h, "wasi:http: too many live handles");
            return 0;
        }
        if (h->ntab == h->captab) {
            uint32_t cap = h->captab ? h->captab * 2 : 16;
            wd_hh_handle_t *t = wd_wasm_realloc(h->tab, cap * sizeof *t);
            if (t == NULL) {
                wd_hh_trap(h, "wasi:http: out of memory");
                return 0;
            }
            h->tab = t;
            h->captab = cap;
        }
        i = h->ntab++;
    }
    memset(&h->tab[i], 0, sizeof h->tab[i]);
    h->tab[i].type = type;
    h->tab[i].kind = kind;
    h->tab[i].obj = obj;
    h->live++;
    return i;
}

wd_hh_handle_t *wd_hh_get(wd_host_http_t *h, uint64_t idx, uint8_t type)
{
    if (idx == 0 || idx >= h->ntab || h->tab[idx].type == WD_HH_FREE) {
        wd_hh_trap(h, "wasi:http: invalid handle %llu (expected %s)", (unsigned long long)idx,
                   wd_hh_type_name(type));
        return NULL;
    }
    if (h->tab[idx].type != type) {
        wd_hh_trap(h, "wasi:http: handle %llu is a %s, expected %s", (unsigned long long)idx,
                   wd_hh_type_name(h->tab[idx].type), wd_hh_type_name(type));
        return NULL;
    }
    return &h->tab[idx];
}

void wd_hh_remove(wd_host_http_t *h, uint32_t idx)
{
    wd_hh_handle_t *e = &h->tab[idx];
    wd_hh_obj_t *o = e->obj;
    if (e->parent && e->parent < h->ntab && h->tab[e->parent].type != WD_HH_FREE
        && h->tab[e->parent].children)
        h->tab[e->parent].children--;
    e->type = WD_HH_FREE;
    e->obj = NULL;
    e->next_free = h->free_head;
    h->free_head = idx;
    h->live--;
    wd_hh_obj_release(h, o);
}

uint32_t wd_host_http_reserve_handle(wd_host_http_t *h)
{
    if (!h->free_head && h->ntab >= WD_HH_MAX_HANDLES)
        return 0;
    return wd_hh_new(h, WD_HH_FOREIGN, 0, NULL);
}

void wd_host_http_release_handle(wd_host_http_t *h, uint32_t idx)
{
    if (idx && idx < h->ntab && h->tab[idx].type == WD_HH_FOREIGN)
        wd_hh_remove(h, idx);
}

uint32_t wd_host_http_live_handles(const wd_host_http_t *h)
{
    return h->live;
}

/* ---------------------------------------------------------------- errors */

uint32_t wd_hh_new_error(wd_host_http_t *h, const char *msg, int code)
{
    wd_hh_error_t *e = wd_hh_obj_new(h, sizeof *e, WD_HH_ERROR);
    if (e == NULL || (e->msg = wd_wasm_strdup(msg)) == NULL) {
        if (e)
            wd_hh_obj_release(h, &e->obj);
        wd_hh_trap(h, "wasi:http: out of memory");
        return 0;
    }
    e->code = code;
    uint32_t idx = wd_hh_new(h, WD_HH_ERROR, 0, &e->obj);
    if (idx == 0)
        wd_hh_obj_release(h, &e->obj);
    return idx;
}

/* error-code (39 cases, u8 discriminant, payload at offset 8, 32 bytes, align 8).
 * Payload-carrying cases we produce: 17/28 option<u64> (none), 38 internal-error(option<string>). */
int wd_hh_store_error_code(wd_host_http_t *h, uint32_t g, int code, const char *msg)
{
    uint32_t sp = 0;
    size_t sl = 0;
    if (code == 38 && msg) {
        sl = strlen(msg);
        if (wd_hh_lower_bytes(h, msg, sl, &sp) < 0)
            return -1;
    }
    uint8_t *p = wd_hh_ret(h, g, 32, 8);
    if (p == NULL)
        return -1;
    memset(p, 0, 32);
    p[0] = (uint8_t)code;
    if (code == 38 && msg) {
        p[8] = 1;
        memcpy(p + 12, &sp, 4);
        uint32_t l32 = (uint32_t)sl;
        memcpy(p + 16, &l32, 4);
    }
    return 0;
}

/* ---------------------------------------------------------------- response */

static int wd_hh_send_head(wd_host_http_t *h, wd_hh_resp_t *rs, int64_t cl)
{
    wd_host_http_header_t stack[32], *hv = stack;
    size_t n = 0, cap = 32;
    wd_hh_fields_t *f = rs->fields;
    int rc;

    if (f && f->n > cap) {
        hv = wd_wasm_malloc(f->n * sizeof *hv);
        if (hv == NULL)
            return -1;
        cap = f->n;
    }
    for (uint32_t i = 0; f && i < f->n; i++) {
        if (f->v[i].name_len == 14 && strncasecmp(f->v[i].name, "content-length", 14) == 0)
            continue;         /* passed as content_length */
        hv[n].name = f->v[i].name;
        hv[n].name_len = f->v[i].name_len;
        hv[n].value = (const char *)f->v[i].value;
        hv[n].value_len = f->v[i].value_len;
        n++;
    }
    h->head_sent = 1;
    h->out.status = rs->status;
    rc = h->be->send_head(h->be_data, rs->status, n ? hv : NULL, n, cl);
    if (hv != stack)
        wd_wasm_free(hv);
    if (rc != WD_HOST_HTTP_OK) {
        rs->broken = 1;
        h->aborted = 1;
        return -1;
    }
    return 0;
}

static int wd_hh_be_write(wd_host_http_t *h, wd_hh_resp_t *rs, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    if (h->be->write(h->be_data, p, n) != WD_HOST_HTTP_OK) {
        rs->broken = 1;
        h->aborted = 1;
        return -1;
    }
    h->out.body_bytes += n;
    return 0;
}

/* Commit the head (streaming) and push the held-back bytes. */
static int wd_hh_commit(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    if (h->head_sent)
        return rs->broken ? -1 : 0;
    if (wd_hh_send_head(h, rs, rs->declared_cl) < 0)
        return -1;
    int rc = wd_hh_be_write(h, rs, rs->pre, rs->pre_len);
    rs->pre_len = 0;              /* the buffer stays with the object */
    return rc;
}

/* Returns 0, -1 closed (client gone / finished), -2 framing (more than Content-Length). */
int wd_hh_body_write(wd_host_http_t *h, wd_hh_resp_t *rs, const uint8_t *p, size_t n)
{
    if (rs->broken || rs->finished || h->aborted)
        return -1;
    if (rs->declared_cl >= 0 && rs->written + n > (uint64_t)rs->declared_cl) {
        rs->broken = 1;
        return -2;
    }
    if (!rs->is_set || !h->head_sent) {
        if (rs->pre_len + n <= WD_HOST_HTTP_PREBUF || !rs->is_set) {
            if (n) {
                if (rs->pre_len + n > rs->pre_cap) {
                    size_t cap = rs->pre_len + n;
                    if (cap < 2 * rs->pre_cap)
                        cap = 2 * rs->pre_cap;
                    if (cap < 256)
                        cap = 256;
                    uint8_t *np = wd_wasm_realloc(rs->pre, cap);
                    if (np == NULL)
                        return -1;
                    rs->pre = np;
                    rs->pre_cap = cap;
                }
                memcpy(rs->pre + rs->pre_len, p, n);
                rs->pre_len += n;
            }
            rs->written += n;
            return 0;
        }
        if (wd_hh_commit(h, rs) < 0)
            return -1;
    }
    if (wd_hh_be_write(h, rs, p, n) < 0)
        return -1;
    rs->written += n;
    return 0;
}

/* A flush of a held-back body does not reach the socket yet: nothing the guest writes needs
 * to go out before it next waits, yields or returns (wd_hh_after commits it then). A response
 * finished within the same run therefore leaves as one write with a Content-Length. */
int wd_hh_body_flush(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    if (rs->broken || h->aborted)
        return -1;
    if (rs->is_set && !h->head_sent)
        h->flush_wanted = 1;
    return 0;
}

size_t wd_hh_body_budget(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    if (!rs->is_set)
        return rs->pre_len < WD_HOST_HTTP_PREBUF ? WD_HOST_HTTP_PREBUF - rs->pre_len : 0;
    if (!h->head_sent)
        return WD_HOST_HTTP_HIGH_WATER;
    size_t pend = h->be->pending(h->be_data);
    return pend >= WD_HOST_HTTP_HIGH_WATER ? 0 : WD_HOST_HTTP_HIGH_WATER - pend;
}

int wd_hh_body_drained(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    if (!rs->is_set || !h->head_sent || rs->broken || h->aborted)
        return 1;
    return h->be->pending(h->be_data) <= WD_HOST_HTTP_LOW_WATER;
}

/* The response is complete: send it (head with Content-Length if still held back). */
static int wd_hh_complete(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    if (!h->head_sent) {
        int64_t cl = rs->declared_cl >= 0 ? rs->declared_cl : (int64_t)rs->pre_len;
        if (wd_hh_send_head(h, rs, cl) < 0)
            return -1;
        if (wd_hh_be_write(h, rs, rs->pre, rs->pre_len) < 0)
            return -1;
        rs->pre_len = 0;
    }
    if (h->be->finish(h->be_data) != WD_HOST_HTTP_OK) {
        h->aborted = 1;
        return -1;
    }
    h->response_done = 1;
    return 0;
}

/* outgoing-body.finish: -2 Content-Length mismatch, -1 closed, 0 ok. */
int wd_hh_body_finish(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    if (rs->broken || h->aborted)
        return -1;
    if (rs->declared_cl >= 0 && rs->written != (uint64_t)rs->declared_cl) {
        rs->broken = 1;
        return -2;
    }
    rs->finished = 1;
    if (rs->is_set)
        return wd_hh_complete(h, rs);
    return 0;
}

/* response-outparam.set(ok(resp)) */
int wd_hh_response_set(wd_host_http_t *h, wd_hh_resp_t *rs)
{
    h->resp = rs;
    rs->is_set = 1;
    if (rs->finished)
        return wd_hh_complete(h, rs);
    return 0;
}

/* ---------------------------------------------------------------- guest output */

static void wd_hh_log_line(wd_host_http_t *h, int is_err, const char *p, size_t n)
{
    if (h->be == NULL || h->be->log == NULL)
        return;
    if (h->log_lines == 64)
        h->be->log(h->be_data, 1, "(further guest output suppressed for this request)", 50);
    if (h->log_lines++ >= 64)
        return;
    h->be->log(h->be_data, is_err, p, n);
}

void wd_hh_guest_output(wd_host_http_t *h, int is_err, const uint8_t *p, size_t n)
{
    char *buf = h->outbuf[is_err];
    size_t *len = &h->outlen[is_err];
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' || *len == sizeof h->outbuf[0]) {
            wd_hh_log_line(h, is_err, buf, *len);
            *len = 0;
            if (p[i] == '\n')
                continue;
        }
        buf[(*len)++] = (p[i] >= 0x20 && p[i] != 0x7f) || p[i] == '\t' ? (char)p[i] : '?';
    }
}

static void wd_hh_flush_output(wd_host_http_t *h)
{
    for (int i = 0; i < 2; i++)
        if (h->outlen[i]) {
            wd_hh_log_line(h, i, h->outbuf[i], h->outlen[i]);
            h->outlen[i] = 0;
        }
}

/* ---------------------------------------------------------------- imports */

static const wd_hh_iface_t wd_hh_ifaces[] = {
    { "wasi:http/types", wd_hh_types_imports },
    { "wasi:http/types", wd_hh_fields_imports },
    { "wasi:http/types", wd_hh_outgoing_types_imports },
    { "wasi:http/outgoing-handler", wd_hh_outgoing_imports },
    { "wasi:io/streams", wd_hh_streams_imports },
    { "wasi:io/poll", wd_hh_poll_imports },
    { "wasi:io/error", wd_hh_error_imports },
    { "wasi:cli/stdin", wd_hh_stdin_imports },
    { "wasi:cli/stdout", wd_hh_stdout_imports },
    { "wasi:cli/stderr", wd_hh_stderr_imports },
    { "wasi:cli/environment", wd_hh_env_imports },
    { "wasi:cli/exit", wd_hh_exit_imports },
    { "wasi:clocks/monotonic-clock", wd_hh_monotonic_imports },
    { "wasi:clocks/wall-clock", wd_hh_wall_imports },
    { "wasi:random/random", wd_hh_random_imports },
    { "wasi:random/insecure", wd_hh_insecure_imports },
    { "wasi:random/insecure-seed", wd_hh_seed_imports },
};

/* "IFACE" or "IFACE@0.2.N" (N decimal digits). */
static int wd_hh_iface_match(const char *mod, size_t mlen, const char *iface)
{
    size_t il = strlen(iface);
    if (mlen < il || memcmp(mod, iface, il) != 0)
        return 0;
    if (mlen == il)
        return 1;
    if (mlen < il + 6 || memcmp(mod + il, "@0.2.", 5) != 0)
        return 0;
    for (size_t i = il + 5; i < mlen; i++)
        if (mod[i] < '0' || mod[i] > '9')
            return 0;
    return 1;
}

const wd_hh_import_t *wd_hh_find_import(const char *mod, size_t mlen, const char *name,
                                        size_t nlen, int *iface_known)
{
    *iface_known = 0;
    for (size_t i = 0; i < sizeof wd_hh_ifaces / sizeof wd_hh_ifaces[0]; i++) {
        if (!wd_hh_iface_match(mod, mlen, wd_hh_ifaces[i].iface))
            continue;
        *iface_known = 1;
        for (const wd_hh_import_t *f = wd_hh_ifaces[i].funcs; f->name; f++)
            if (strlen(f->name) == nlen && memcmp(f->name, name, nlen) == 0)
                return f;
    }
    return NULL;
}

int wd_host_http_import_at(size_t i, const char **iface, const char **name, const char **sig)
{
    for (size_t k = 0; k < sizeof wd_hh_ifaces / sizeof wd_hh_ifaces[0]; k++) {
        for (const wd_hh_import_t *f = wd_hh_ifaces[k].funcs; f->name; f++) {
            if (i-- == 0) {
                *iface = wd_hh_ifaces[k].iface;
                *name = f->name;
                *sig = f->sig;
                return 0;
            }
        }
    }
    return -1;
}

int wd_host_http_provides(const char *module, size_t mlen, const char *name, size_t nlen,
                          const char **sig)
{
    int known;
    const wd_hh_import_t *f = wd_hh_find_import(module, mlen, name, nlen, &known);
    if (f && sig)
        *sig = f->sig;
    return f != NULL;
}

/* Signature string of a function type: params ':' results. */
static void wd_hh_sig(const wd_wasm_functype_t *ft, char *buf, size_t len)
{
    size_t n = 0;
    for (uint32_t i = 0; i < ft->nparams && n + 3 < len; i++)
        buf[n++] = ft->params[i] == WD_WASM_I32 ? 'i' : ft->params[i] == WD_WASM_I64 ? 'I'
                 : ft->params[i] == WD_WASM_F32 ? 'f' : ft->params[i] == WD_WASM_F64 ? 'F' : '?';
    buf[n++] = ':';
    for (uint32_t i = 0; i < ft->nresults && n + 2 < len; i++)
        buf[n++] = ft->results[i] == WD_WASM_I32 ? 'i' : ft->results[i] == WD_WASM_I64 ? 'I'
                 : ft->results[i] == WD_WASM_F32 ? 'f' : ft->results[i] == WD_WASM_F64 ? 'F' : '?';
    buf[n] = '\0';
}

static int wd_hh_is_preview1(const wd_wasm_import_desc_t *d)
{
    return d->module_len == 22 && memcmp(d->module, "wasi_snapshot_preview1", 22) == 0;
}

static void wd_hh_err(wd_wasm_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void wd_hh_err(wd_wasm_error_t *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->offset = -1;
    err->func_index = -1;
}

/* Checks one import against our table: 1 ok (*out set), 0 not ours (preview1), -1 error. */
static int wd_hh_resolve(const wd_wasm_import_desc_t *d, const wd_hh_import_t **out,
                         wd_wasm_error_t *err)
{
    int known;
    char sig[64];
    if (wd_hh_is_preview1(d) || wd_host_kv_owns(d->module, d->module_len))
        return 0;           /* preview1, wasi:keyvalue, wasi:config: other hosts' */
    const wd_hh_import_t *f = wd_hh_find_import(d->module, d->module_len, d->name, d->name_len,
                                                &known);
    if (f == NULL) {
        wd_hh_err(err, "unknown import: %.*s::%.*s", (int)d->module_len, d->module,
                  (int)d->name_len, d->name);
        return -1;
    }
    if (d->kind != WD_WASM_EXTERN_FUNC) {
        wd_hh_err(err, "incompatible import type: %.*s::%.*s (not a function)",
                  (int)d->module_len, d->module, (int)d->name_len, d->name);
        return -1;
    }
    wd_hh_sig(&d->func, sig, sizeof sig);
    if (strcmp(sig, f->sig) != 0) {
        wd_hh_err(err, "incompatible import type: %.*s::%.*s: module declares (%s), "
                  "the Canonical ABI lowering is (%s)", (int)d->module_len, d->module,
                  (int)d->name_len, d->name, sig, f->sig);
        return -1;
    }
    *out = f;
    return 1;
}

static const wd_wasm_export_desc_t *wd_hh_find_handle(const wd_wasm_module_t *m)
{
    static const char pfx[] = "wasi:http/incoming-handler";
    uint32_t n = wd_wasm_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const wd_wasm_export_desc_t *e = wd_wasm_module_export(m, i);
        if (e->kind != WD_WASM_EXTERN_FUNC || e->name_len < sizeof pfx - 1 + 7
            || memcmp(e->name, pfx, sizeof pfx - 1) != 0
            || memcmp(e->name + e->name_len - 7, "#handle", 7) != 0)
            continue;
        if (wd_hh_iface_match(e->name, e->name_len - 7, pfx))
            return e;
    }
    return NULL;
}

int wd_host_http_is_handler(const wd_wasm_module_t *m)
{
    return wd_hh_find_handle(m) != NULL;
}

int wd_host_http_check_import(const wd_wasm_import_desc_t *d, wd_wasm_error_t *err)
{
    const wd_hh_import_t *f;
    return wd_hh_resolve(d, &f, err);
}

int wd_host_http_check_module(const wd_wasm_module_t *m, wd_wasm_error_t *err)
{
    const wd_wasm_export_desc_t *e;
    const wd_hh_import_t *f;
    if (wd_hh_find_handle(m) == NULL) {
        wd_hh_err(err, "no export \"wasi:http/incoming-handler@0.2.x#handle\" (nor \"_start\")");
        return -1;
    }
    e = wd_wasm_module_find_export(m, "memory", 6);
    if (e == NULL || e->kind != WD_WASM_EXTERN_MEMORY) {
        wd_hh_err(err, "wasi:http handler must export its memory as \"memory\"");
        return -1;
    }
    e = wd_wasm_module_find_export(m, "cabi_realloc", 12);
    if (e == NULL || e->kind != WD_WASM_EXTERN_FUNC) {
        wd_hh_err(err, "wasi:http handler must export the function \"cabi_realloc\"");
        return -1;
    }
    uint32_t n = wd_wasm_module_import_count(m);
    for (uint32_t i = 0; i < n; i++)
        if (wd_hh_resolve(wd_wasm_module_import(m, i), &f, err) < 0)
            return -1;
    return 0;
}

int wd_host_http_link(wd_host_http_t *h, wd_wasm_store_t *s, const wd_wasm_module_t *m,
                      wd_wasm_extern_t *imports, wd_wasm_error_t *err)
{
    int linked = 0;
    uint32_t n = wd_wasm_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        const wd_hh_import_t *f;
        int rc = wd_hh_resolve(d, &f, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        wd_wasm_func_t *fn = wd_wasm_func_new_host(s, &d->func, f->fn, h);
        if (fn == NULL) {
            wd_hh_err(err, "out of memory linking %.*s", (int)d->name_len, d->name);
            return -1;
        }
        imports[i].kind = WD_WASM_EXTERN_FUNC;
        imports[i].of.func = fn;
        linked++;
    }
    return linked;
}

int wd_host_http_attach(wd_host_http_t *h, wd_wasm_instance_t *inst, wd_wasm_error_t *err)
{
    const wd_wasm_export_desc_t *e = wd_hh_find_handle(wd_wasm_instance_module(inst));
    wd_wasm_extern_t x;
    static const uint8_t ii[] = { WD_WASM_I32, WD_WASM_I32, WD_WASM_I32, WD_WASM_I32 };
    const wd_wasm_functype_t *ft;

    if (e == NULL || wd_wasm_instance_export(inst, e->name, e->name_len, &x) < 0
        || x.kind != WD_WASM_EXTERN_FUNC) {
        wd_hh_err(err, "no wasi:http handle export");
        return -1;
    }
    ft = wd_wasm_func_type(x.of.func);
    if (ft->nparams != 2 || ft->nresults != 0 || memcmp(ft->params, ii, 2) != 0) {
        wd_hh_err(err, "export \"%.*s\" must have type (i32, i32) -> ()", (int)e->name_len,
                  e->name);
        return -1;
    }
    h->handle_fn = x.of.func;
    if (wd_wasm_instance_export(inst, "cabi_realloc", 12, &x) < 0
        || x.kind != WD_WASM_EXTERN_FUNC) {
        wd_hh_err(err, "no cabi_realloc export");
        return -1;
    }
    ft = wd_wasm_func_type(x.of.func);
    if (ft->nparams != 4 || ft->nresults != 1 || memcmp(ft->params, ii, 4) != 0
        || ft->results[0] != WD_WASM_I32) {
        wd_hh_err(err, "export \"cabi_realloc\" must have type (i32, i32, i32, i32) -> i32");
        return -1;
    }
    h->realloc_fn = x.of.func;
    h->mem = wd_wasm_instance_memory(inst);
    if (h->mem == NULL) {
        wd_hh_err(err, "wasi:http handler has no memory");
        return -1;
    }
    h->inst = inst;
    return 0;
}

/* ---------------------------------------------------------------- lifecycle */

wd_host_http_t *wd_host_http_new(const wd_host_http_conf_t *conf)
{
    wd_host_http_t *h = wd_wasm_calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->objs.next = h->objs.prev = &h->objs;
    h->ntab = 1;                  /* index 0 is never valid */
    h->captab = 16;
    h->tab = wd_wasm_calloc(h->captab, sizeof *h->tab);
    if (h->tab == NULL) {
        wd_wasm_free(h);
        return NULL;
    }
    if (conf) {
        h->env = conf->env;
        h->nenv = conf->nenv;
        h->args = conf->args;
        h->nargs = conf->nargs;
        h->stdio = conf->stdio;
    }
    return h;
}

void wd_host_http_reset(wd_host_http_t *h)
{
    wd_hh_flush_output(h);
    /* Drop handles first (they hold references), then whatever objects remain. */
    for (uint32_t i = 1; i < h->ntab; i++)
        h->tab[i].obj = NULL;
    h->resetting = 1;             /* objects may reference each other in any list order */
    while (h->objs.next != &h->objs)
        wd_hh_obj_destroy(h, h->objs.next);
    h->resetting = 0;
    h->ntab = 1;
    h->free_head = 0;
    h->live = 0;
    if (h->captab > 1024) {        /* don't keep a huge table from one greedy request */
        wd_hh_handle_t *t = wd_wasm_realloc(h->tab, 16 * sizeof *t);
        if (t) {
            h->tab = t;
            h->captab = 16;
        }
    }
    h->req_fields = NULL;
    h->req = NULL;
    h->be = NULL;
    h->be_data = NULL;
    h->active = 0;
    h->in_realloc = 0;
    h->nested_trap = WD_TRAP_NONE;
    h->req_consumed = h->body_stream_taken = h->body_eof = h->body_error = 0;
    h->trailers_taken = 0;
    h->outparam_set = 0;
    h->resp = NULL;
    h->err_status = 0;
    h->head_sent = h->response_done = h->aborted = 0;
    h->flush_wanted = 0;
    h->field_bytes = 0;
    h->wait = 0;
    h->pending_flush = 0;
    h->log_lines = 0;
    if (h->scratch_len > 65536) {
        wd_wasm_free(h->scratch);
        h->scratch = NULL;
        h->scratch_len = 0;
    }
}

void wd_host_http_free(wd_host_http_t *h)
{
    if (h == NULL)
        return;
    h->be = NULL;
    wd_host_http_reset(h);
    for (int k = 0; k < 2; k++)
        while (h->spare[k]) {
            wd_hh_obj_t *o = h->spare[k];
            h->spare[k] = o->next;
            wd_hh_obj_free(o);
        }
    wd_hh_bindings_free(h);
    wd_wasm_free(h->tab);
    wd_wasm_free(h->scratch);
    wd_wasm_free(h);
}

unsigned wd_host_http_waiting(const wd_host_http_t *h, uint64_t *deadline_ns)
{
    if (deadline_ns)
        *deadline_ns = h->wait_deadline;
    return h->wait;
}

const wd_host_http_outcome_t *wd_host_http_outcome(const wd_host_http_t *h)
{
    return &h->out;
}

static void wd_hh_fail(wd_host_http_t *h, int status, const char *reason)
{
    if (h->out.reason[0] == '\0')
        snprintf(h->out.reason, sizeof h->out.reason, "%s", reason);
    if (h->response_done) {
        h->out.kind = WD_HOST_HTTP_OUT_OK;  /* the response was complete before the failure */
        return;
    }
    if (h->head_sent || h->aborted) {
        h->out.kind = WD_HOST_HTTP_OUT_ABORTED;
        h->be->abort(h->be_data);
        h->aborted = 1;
        return;
    }
    h->out.kind = WD_HOST_HTTP_OUT_ERROR;
    h->out.status = status;
    h->be->error(h->be_data, status);
}

/* The export returned (or exited): settle the response. */
static void wd_hh_conclude_return(wd_host_http_t *h)
{
    wd_hh_resp_t *rs = h->resp;
    if (h->body_error && !h->response_done) {
        /* the request body failed (bad framing, too large, client gone): the backend
         * answers the client's error (400; it knows the exact status) or aborts */
        wd_hh_fail(h, 400, "request body failed (malformed, too large or incomplete)");
        return;
    }
    if (!h->outparam_set) {
        wd_hh_fail(h, 500, "handler returned without calling response-outparam.set");
        return;
    }
    if (h->err_status) {
        wd_hh_fail(h, h->err_status, "handler set an error response");
        return;
    }
    if (h->response_done) {
        h->out.kind = WD_HOST_HTTP_OUT_OK;
        return;
    }
    if (rs->broken) {
        wd_hh_fail(h, 500, rs->declared_cl >= 0 && rs->written != (uint64_t)rs->declared_cl
                   ? "response body does not match its Content-Length" : "response body failed");
        return;
    }
    if (!rs->body_taken) {        /* no body requested: an empty one */
        if (rs->declared_cl > 0) {
            wd_hh_fail(h, 500, "response body does not match its Content-Length");
            return;
        }
        if (wd_hh_complete(h, rs) < 0) {
            wd_hh_fail(h, 500, "client gone");
            return;
        }
        h->out.kind = WD_HOST_HTTP_OUT_OK;
        return;
    }
    wd_hh_fail(h, 500, "handler returned without finishing the response body");
}

static wd_host_http_run_t wd_hh_after(wd_host_http_t *h, wd_wasm_status_t st)
{
    if (st == WD_WASM_SUSPENDED) {
        if (h->flush_wanted) {    /* the guest waits: what it flushed goes out now (streamed) */
            h->flush_wanted = 0;
            if (h->resp && !h->head_sent && !h->response_done)
                wd_hh_commit(h, h->resp);   /* a failure marks the response broken */
        }
        return h->wait ? WD_HOST_HTTP_WAIT : WD_HOST_HTTP_YIELD;
    }
    h->flush_wanted = 0;
    if (st == WD_WASM_OK && h->post_return_fn) {
        /* a component export's post-return (the handle function returns nothing, so it
           takes no arguments); a trap there fails the request like one in the export */
        h->in_realloc = 1;
        st = wd_wasm_call(h->inst, h->post_return_fn, NULL, 0, NULL, 0);
        h->in_realloc = 0;
        if (st == WD_WASM_SUSPENDED) {
            wd_wasm_abort(h->inst);
            st = WD_WASM_TRAP;
        }
    }
    if (st == WD_WASM_OK) {
        wd_hh_conclude_return(h);
    } else {
        const wd_wasm_trap_t *t = wd_wasm_last_trap(h->inst);
        wd_wasm_trap_kind_t kind = t->kind;
        if (kind == WD_TRAP_HOST && h->nested_trap != WD_TRAP_NONE)
            kind = h->nested_trap;    /* fuel/deadline hit inside cabi_realloc */
        h->out.trap = kind;
        if (t->kind == WD_TRAP_EXIT && wd_wasm_exit_code(h->inst) == 0) {
            wd_hh_conclude_return(h);
        } else {
            char why[256];
            if (t->kind == WD_TRAP_EXIT)
                snprintf(why, sizeof why, "handler exited with status %d",
                         wd_wasm_exit_code(h->inst));
            else
                snprintf(why, sizeof why, "%s", t->msg);
            wd_hh_fail(h, kind == WD_TRAP_INTERRUPT ? 504 : 500, why);
        }
    }
    wd_hh_flush_output(h);
    h->active = 0;
    return WD_HOST_HTTP_FINISHED;
}

wd_host_http_run_t wd_host_http_start(wd_host_http_t *h, const wd_host_http_request_head_t *req,
                                      const wd_host_http_backend_t *be, void *be_data)
{
    wd_wasm_val_t args[2];
    memset(&h->out, 0, sizeof h->out);
    h->nested_trap = WD_TRAP_NONE;
    h->req = req;
    h->be = be;
    h->be_data = be_data;
    h->active = 1;
    h->mem = wd_wasm_instance_memory(h->inst);
    uint32_t rq = wd_hh_new(h, WD_HH_INREQ, 0, NULL);
    uint32_t op = wd_hh_new(h, WD_HH_OUTPARAM, 0, NULL);
    if (rq == 0 || op == 0) {
        wd_hh_fail(h, 500, "out of memory");
        h->active = 0;
        return WD_HOST_HTTP_FINISHED;
    }
    args[0].type = WD_WASM_I32; args[0].of.i32 = rq;
    args[1].type = WD_WASM_I32; args[1].of.i32 = op;
    h->wait = 0;
    return wd_hh_after(h, wd_wasm_call(h->inst, h->handle_fn, args, 2, NULL, 0));
}

wd_host_http_run_t wd_host_http_resume(wd_host_http_t *h)
{
    h->wait = 0;
    return wd_hh_after(h, wd_wasm_resume(h->inst, NULL, 0));
}

void wd_host_http_cancel(wd_host_http_t *h, int why)
{
    if (!h->active)
        return;
    wd_wasm_abort(h->inst);
    h->wait = 0;
    if (why == WD_HOST_HTTP_CANCEL_TIMEOUT) {
        h->out.trap = WD_TRAP_INTERRUPT;
        wd_hh_fail(h, 504, "deadline exceeded (wasm_timeout)");
    } else {
        snprintf(h->out.reason, sizeof h->out.reason, "client closed the connection");
        h->out.kind = WD_HOST_HTTP_OUT_ABORTED;
        h->aborted = 1;
    }
    wd_hh_flush_output(h);
    h->active = 0;
}
