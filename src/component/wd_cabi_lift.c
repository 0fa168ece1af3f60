/*
 * Lifting: guest memory (`load`) and core values (`lift_flat`) -> host values, walking the
 * precomputed layout of wd_comp_types.h. Every guest range is bounds-checked once (a list's
 * or string's whole range, a params tuple) and then read through the host pointer; lists of
 * plain elements become raw views (no per-element work).
 */
#include "wd_cabi_int.h"

#include <string.h>

int
wd_cabi_trap(wd_cabi_cx_t *cx, const char *msg)
{
    cx->trap = msg;
    return -1;
}

static inline uint32_t
rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t
rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline float
f32_canon(uint32_t bits)
{
    float f;
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu))
        bits = WD_CANON_NAN32;
    memcpy(&f, &bits, 4);
    return f;
}

static inline double
f64_canon(uint64_t bits)
{
    double f;
    if ((bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (bits & 0x000fffffffffffffull))
        bits = WD_CANON_NAN64;
    memcpy(&f, &bits, 8);
    return f;
}

static inline int
char_ok(uint32_t c)
{
    return c < 0xd800 || (c > 0xdfff && c < 0x110000);
}

/* the payload type of case i of a variant-like type (NULL: none) */
static inline const wd_comp_type_t *
case_type(const wd_comp_type_t *t, uint32_t i)
{
    switch (t->kind) {
    case WD_CT_VARIANT: return t->fields[i].type;
    case WD_CT_OPTION:  return i == 1 ? t->elem : NULL;
    case WD_CT_RESULT:  return i == 0 ? t->elem : t->err;
    default:            return NULL;
    }
}

static inline uint32_t
case_count(const wd_comp_type_t *t)
{
    return t->kind == WD_CT_OPTION || t->kind == WD_CT_RESULT ? 2 : t->n;
}

static inline wd_cabi_val_t *
vals_alloc(wd_cabi_cx_t *cx, uint64_t n)
{
    if (n > ((size_t)1 << 32) / sizeof(wd_cabi_val_t))
        return NULL;
    return wd_cabi_arena_alloc(cx->arena, n ? n * sizeof(wd_cabi_val_t) : 1, 8);
}

static int load_at(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const uint8_t *p,
                   wd_cabi_val_t *out);

static int
load_entry(wd_cabi_cx_t *cx, const wd_comp_type_t *m, const uint8_t *p, wd_cabi_val_t *kv,
           wd_cabi_val_t *out)
{
    out->kind = WD_CT_TUPLE;
    out->raw = 0;
    out->n = 2;
    out->vals = kv;
    if (load_at(cx, m->fields[0].type, p + m->fields[0].offset, &kv[0]) < 0)
        return -1;
    return load_at(cx, m->fields[1].type, p + m->fields[1].offset, &kv[1]);
}

/* load_list_from_range */
static int
load_list_range(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t begin, uint32_t length,
                wd_cabi_val_t *out)
{
    uint64_t bytes = (uint64_t)length * t->esize;
    if (bytes > WD_CABI_MAX_LIST_BYTES)
        return wd_cabi_trap(cx, "list too long");
    if (begin & (t->ealign - 1))
        return wd_cabi_trap(cx, "misaligned list");
    if (!cx->mem)
        return wd_cabi_trap(cx, "list without a memory");
    const uint8_t *p = wd_wasm_memory_cptr(cx->mem, begin, bytes);
    if (!p)
        return wd_cabi_trap(cx, "list out of bounds");
    out->kind = t->kind;
    out->n = length;
    if (t->eplain) {
        if (cx->copy_views && bytes) {
            if (wd_cabi_charge(cx, bytes) < 0)
                return -1;
            uint8_t *c = wd_cabi_arena_alloc(cx->arena, bytes, 8);
            if (!c)
                return wd_cabi_trap(cx, "out of memory for values");
            memcpy(c, p, bytes);
            p = c;
        }
        out->raw = 1;
        out->p = p;
        return 0;
    }
    out->raw = 0;
    if (wd_cabi_charge(cx, (uint64_t)length * sizeof(wd_cabi_val_t)) < 0)
        return -1;
    wd_cabi_val_t *v = vals_alloc(cx, t->kind == WD_CT_MAP ? 3 * (uint64_t)length : length);
    if (!v)
        return wd_cabi_trap(cx, "out of memory for values");
    out->vals = v;
    if (t->kind == WD_CT_MAP) {
        wd_cabi_val_t *kv = v + length;
        for (uint32_t i = 0; i < length; i++)
            if (load_entry(cx, t, p + (size_t)i * t->esize, kv + 2 * (size_t)i, &v[i]) < 0)
                return -1;
        return 0;
    }
    for (uint32_t i = 0; i < length; i++)
        if (load_at(cx, t->elem, p + (size_t)i * t->esize, &v[i]) < 0)
            return -1;
    return 0;
}

static int
load_at(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const uint8_t *p, wd_cabi_val_t *out)
{
    out->kind = t->kind;
    out->raw = 0;
    out->n = 0;
    switch (t->kind) {
    case WD_CT_BOOL: out->u = p[0] != 0; return 0;
    case WD_CT_U8:   out->u = p[0]; return 0;
    case WD_CT_S8:   out->s = (int8_t)p[0]; return 0;
    case WD_CT_U16:  { uint16_t v; memcpy(&v, p, 2); out->u = v; return 0; }
    case WD_CT_S16:  { int16_t v; memcpy(&v, p, 2); out->s = v; return 0; }
    case WD_CT_U32:  out->u = rd32(p); return 0;
    case WD_CT_S32:  out->s = (int32_t)rd32(p); return 0;
    case WD_CT_U64:  out->u = rd64(p); return 0;
    case WD_CT_S64:  out->s = (int64_t)rd64(p); return 0;
    case WD_CT_F32:  out->u = 0; out->f32 = f32_canon(rd32(p)); return 0;
    case WD_CT_F64:  out->f64 = f64_canon(rd64(p)); return 0;
    case WD_CT_CHAR: {
        uint32_t c = rd32(p);
        if (!char_ok(c))
            return wd_cabi_trap(cx, "invalid char");
        out->u = c;
        return 0;
    }
    case WD_CT_STRING:
        return wd_cabi_lift_string(cx, rd32(p), rd32(p + 4), out);
    case WD_CT_LIST:
        if (t->len == 0)
            return load_list_range(cx, t, rd32(p), rd32(p + 4), out);
        /* fixed length: inline elements */
        out->n = t->len;
        if (t->eplain && t->elem->kind <= WD_CT_U64) {   /* integers: a raw view */
            const uint8_t *src = p;
            if (cx->copy_views) {
                uint8_t *c = wd_cabi_arena_alloc(cx->arena, t->size, 8);
                if (!c)
                    return wd_cabi_trap(cx, "out of memory for values");
                memcpy(c, p, t->size);
                src = c;
            }
            out->raw = 1;
            out->p = src;
            return 0;
        }
        if (!(out->vals = vals_alloc(cx, t->len)))
            return wd_cabi_trap(cx, "out of memory for values");
        for (uint32_t i = 0; i < t->len; i++)
            if (load_at(cx, t->elem, p + (size_t)i * t->esize, &out->vals[i]) < 0)
                return -1;
        return 0;
    case WD_CT_MAP:
        return load_list_range(cx, t, rd32(p), rd32(p + 4), out);
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        out->n = t->n;
        if (!(out->vals = vals_alloc(cx, t->n)))
            return wd_cabi_trap(cx, "out of memory for values");
        for (uint32_t i = 0; i < t->n; i++)
            if (load_at(cx, t->fields[i].type, p + t->fields[i].offset, &out->vals[i]) < 0)
                return -1;
        return 0;
    case WD_CT_VARIANT:
    case WD_CT_ENUM:
    case WD_CT_OPTION:
    case WD_CT_RESULT: {
        uint32_t d = t->disc_size == 1 ? p[0] : t->disc_size == 2 ? (uint32_t)(p[0] | p[1] << 8)
                                                                 : rd32(p);
        if (d >= case_count(t))
            return wd_cabi_trap(cx, "invalid variant discriminant");
        out->n = d;
        out->vals = NULL;
        const wd_comp_type_t *c = case_type(t, d);
        if (!c)
            return 0;
        if (!(out->vals = vals_alloc(cx, 1)))
            return wd_cabi_trap(cx, "out of memory for values");
        return load_at(cx, c, p + t->payload_off, out->vals);
    }
    case WD_CT_FLAGS: {
        uint32_t v = t->size == 1 ? p[0] : t->size == 2 ? (uint32_t)(p[0] | p[1] << 8) : rd32(p);
        out->u = t->n >= 32 ? v : v & ((1u << t->n) - 1);
        return 0;
    }
    case WD_CT_OWN: {
        uint32_t rep;
        if (wd_cabi_lift_own(cx, t, rd32(p), &rep) < 0)
            return -1;
        out->u = rep;
        return 0;
    }
    case WD_CT_BORROW: {
        uint32_t rep;
        if (wd_cabi_lift_borrow(cx, t, rd32(p), &rep) < 0)
            return -1;
        out->u = rep;
        return 0;
    }
    case WD_CT_STREAM:
    case WD_CT_FUTURE:
        return wd_cabi_lift_async(cx, t, rd32(p), out);
    default:
        return wd_cabi_trap(cx, "lifting this type is not supported");
    }
}

/* lift_stream / lift_future: the readable end leaves the guest's table for the host */
int
wd_cabi_lift_async(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t idx, wd_cabi_val_t *out)
{
    const char *msg = NULL;
    if (cx->async == NULL || cx->async_lift == NULL)
        return wd_cabi_trap(cx, "streams and futures need the component-model async runtime");
    if (cx->async_lift(cx->async, t, idx, &out->u, &msg) < 0)
        return wd_cabi_trap(cx, msg ? msg : "bad stream or future handle");
    return 0;
}

int
wd_cabi_load(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t ptr, wd_cabi_val_t *out)
{
    if (ptr & (t->align - 1))
        return wd_cabi_trap(cx, "misaligned pointer");
    if (!cx->mem)
        return wd_cabi_trap(cx, "no memory");
    const uint8_t *p = wd_wasm_memory_cptr(cx->mem, ptr, t->size);
    if (!p)
        return wd_cabi_trap(cx, "pointer out of bounds");
    return load_at(cx, t, p, out);
}

int
wd_cabi_lift_flat(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const uint64_t *flat,
                  uint32_t *pos, wd_cabi_val_t *out)
{
    uint32_t i = *pos;
    uint64_t x = flat[i];
    out->kind = t->kind;
    out->raw = 0;
    out->n = 0;
    switch (t->kind) {
    case WD_CT_BOOL: out->u = (uint32_t)x != 0; break;
    case WD_CT_U8:   out->u = (uint8_t)x; break;
    case WD_CT_S8:   out->s = (int8_t)x; break;
    case WD_CT_U16:  out->u = (uint16_t)x; break;
    case WD_CT_S16:  out->s = (int16_t)x; break;
    case WD_CT_U32:  out->u = (uint32_t)x; break;
    case WD_CT_S32:  out->s = (int32_t)x; break;
    case WD_CT_U64:  out->u = x; break;
    case WD_CT_S64:  out->s = (int64_t)x; break;
    case WD_CT_F32:  out->u = 0; out->f32 = f32_canon((uint32_t)x); break;
    case WD_CT_F64:  out->f64 = f64_canon(x); break;
    case WD_CT_CHAR:
        if (!char_ok((uint32_t)x))
            return wd_cabi_trap(cx, "invalid char");
        out->u = (uint32_t)x;
        break;
    case WD_CT_FLAGS:
        out->u = t->n >= 32 ? (uint32_t)x : (uint32_t)x & ((1u << t->n) - 1);
        break;
    case WD_CT_STRING:
        *pos = i + 2;
        return wd_cabi_lift_string(cx, (uint32_t)x, (uint32_t)flat[i + 1], out);
    case WD_CT_MAP:
        *pos = i + 2;
        return load_list_range(cx, t, (uint32_t)x, (uint32_t)flat[i + 1], out);
    case WD_CT_LIST:
        if (t->len == 0) {
            *pos = i + 2;
            return load_list_range(cx, t, (uint32_t)x, (uint32_t)flat[i + 1], out);
        }
        out->n = t->len;
        if (!(out->vals = vals_alloc(cx, t->len)))
            return wd_cabi_trap(cx, "out of memory for values");
        for (uint32_t k = 0; k < t->len; k++)
            if (wd_cabi_lift_flat(cx, t->elem, flat, pos, &out->vals[k]) < 0)
                return -1;
        return 0;
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        out->n = t->n;
        if (!(out->vals = vals_alloc(cx, t->n)))
            return wd_cabi_trap(cx, "out of memory for values");
        for (uint32_t k = 0; k < t->n; k++)
            if (wd_cabi_lift_flat(cx, t->fields[k].type, flat, pos, &out->vals[k]) < 0)
                return -1;
        return 0;
    case WD_CT_VARIANT:
    case WD_CT_ENUM:
    case WD_CT_OPTION:
    case WD_CT_RESULT: {
        uint32_t d = (uint32_t)x;
        if (d >= case_count(t))
            return wd_cabi_trap(cx, "invalid variant discriminant");
        out->n = d;
        out->vals = NULL;
        const wd_comp_type_t *c = case_type(t, d);
        if (c) {
            uint32_t p2 = i + 1;
            if (!(out->vals = vals_alloc(cx, 1)))
                return wd_cabi_trap(cx, "out of memory for values");
            /* the payload reads the joined slots with its own types: i32/f32 from the low
               32 bits of an i64 slot is the spec's wrap_i64_to_i32 coercion */
            if (wd_cabi_lift_flat(cx, c, flat, &p2, out->vals) < 0)
                return -1;
        }
        *pos = i + t->flat_n;
        return 0;
    }
    case WD_CT_OWN:
    case WD_CT_BORROW: {
        uint32_t rep;
        if ((t->kind == WD_CT_OWN ? wd_cabi_lift_own : wd_cabi_lift_borrow)(cx, t, (uint32_t)x,
                                                                           &rep) < 0)
            return -1;
        out->u = rep;
        break;
    }
    case WD_CT_STREAM:
    case WD_CT_FUTURE:
        if (wd_cabi_lift_async(cx, t, (uint32_t)x, out) < 0)
            return -1;
        break;
    default:
        return wd_cabi_trap(cx, "lifting this type is not supported");
    }
    *pos = i + 1;
    return 0;
}
