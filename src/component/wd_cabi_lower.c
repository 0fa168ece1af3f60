/*
 * Lowering: host values -> guest memory (`store`) and core values (`lower_flat`). Lists and
 * strings are allocated with the guest's realloc exactly as the spec does (same calls, same
 * order) and checked (alignment, bounds) before anything is written; raw lists of plain
 * elements are one copy. A host value that does not match its type (wrong field count, case
 * index, fixed length, char) traps rather than writing garbage.
 */
#include "wd_cabi_int.h"

#include <string.h>

static inline void
wr32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline uint32_t
f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu))
        b = WD_CANON_NAN32;
    return b;
}

static inline uint64_t
f64_bits(double f)
{
    uint64_t b;
    memcpy(&b, &f, 8);
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0x000fffffffffffffull))
        b = WD_CANON_NAN64;
    return b;
}

static inline int
char_ok(uint64_t c)
{
    return c < 0xd800 || (c > 0xdfff && c < 0x110000);
}

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

static int store_at(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v,
                    uint32_t off);

/* Guest memory does not move (the engine reserves it), but re-derive pointers from offsets
   after anything that may have called realloc: store_at takes guest offsets. */
static inline uint8_t *
at(wd_cabi_cx_t *cx, uint32_t off, uint32_t len)
{
    return wd_cabi_wptr(cx, off, len);
}

/* store_list_into_range */
static int
store_list_range(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v,
                 uint32_t *ptr_out)
{
    uint32_t n = v->n, ptr;
    uint64_t bytes = (uint64_t)n * t->esize;
    if (bytes > UINT32_MAX)
        return wd_cabi_trap(cx, "list too long");
    if (!cx->mem)
        return wd_cabi_trap(cx, "list without a memory");
    if (v->raw && !t->eplain)
        return wd_cabi_trap(cx, "host value does not match its type (raw list)");
    if (wd_cabi_realloc(cx, 0, 0, t->ealign, (uint32_t)bytes, &ptr) < 0)
        return -1;
    if (ptr & (t->ealign - 1))
        return wd_cabi_trap(cx, "misaligned realloc result");
    uint8_t *p = at(cx, ptr, (uint32_t)bytes);
    if (!p)
        return wd_cabi_trap(cx, "realloc result out of bounds");
    *ptr_out = ptr;
    if (v->raw) {
        if (bytes)
            memmove(p, v->p, bytes);
        return 0;
    }
    if (t->kind == WD_CT_MAP) {
        for (uint32_t i = 0; i < n; i++) {
            const wd_cabi_val_t *e = &v->vals[i];
            if (e->n != 2)
                return wd_cabi_trap(cx, "host value does not match its type (map entry)");
            uint32_t o = ptr + i * t->esize;
            if (store_at(cx, t->fields[0].type, &e->vals[0], o + t->fields[0].offset) < 0 ||
                store_at(cx, t->fields[1].type, &e->vals[1], o + t->fields[1].offset) < 0)
                return -1;
        }
        return 0;
    }
    for (uint32_t i = 0; i < n; i++)
        if (store_at(cx, t->elem, &v->vals[i], ptr + i * t->esize) < 0)
            return -1;
    return 0;
}

static int
store_at(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v, uint32_t off)
{
    uint8_t *p;
    switch (t->kind) {
    case WD_CT_BOOL:
    case WD_CT_S8:
    case WD_CT_U8:
    case WD_CT_S16:
    case WD_CT_U16:
    case WD_CT_S32:
    case WD_CT_U32:
    case WD_CT_S64:
    case WD_CT_U64: {
        uint64_t u = t->kind == WD_CT_BOOL ? (v->u != 0) : v->u;
        if (!(p = at(cx, off, t->size)))
            return wd_cabi_trap(cx, "store out of bounds");
        memcpy(p, &u, t->size);   /* little-endian: the low bytes */
        return 0;
    }
    case WD_CT_F32: {
        uint32_t b = f32_bits(v->f32);
        if (!(p = at(cx, off, 4)))
            return wd_cabi_trap(cx, "store out of bounds");
        wr32(p, b);
        return 0;
    }
    case WD_CT_F64: {
        uint64_t b = f64_bits(v->f64);
        if (!(p = at(cx, off, 8)))
            return wd_cabi_trap(cx, "store out of bounds");
        memcpy(p, &b, 8);
        return 0;
    }
    case WD_CT_CHAR:
        if (!char_ok(v->u))
            return wd_cabi_trap(cx, "invalid char in a host value");
        if (!(p = at(cx, off, 4)))
            return wd_cabi_trap(cx, "store out of bounds");
        wr32(p, (uint32_t)v->u);
        return 0;
    case WD_CT_STRING: {
        uint32_t sp, units;
        if (wd_cabi_lower_string(cx, v->str, v->n, &sp, &units) < 0)
            return -1;
        if (!(p = at(cx, off, 8)))
            return wd_cabi_trap(cx, "store out of bounds");
        wr32(p, sp);
        wr32(p + 4, units);
        return 0;
    }
    case WD_CT_LIST:
        if (t->len) {
            if (v->n != t->len)
                return wd_cabi_trap(cx, "host value does not match its type (fixed list)");
            if (v->raw) {
                if (!t->eplain)
                    return wd_cabi_trap(cx, "host value does not match its type (raw list)");
                if (!(p = at(cx, off, t->size)))
                    return wd_cabi_trap(cx, "store out of bounds");
                memmove(p, v->p, t->size);
                return 0;
            }
            for (uint32_t i = 0; i < t->len; i++)
                if (store_at(cx, t->elem, &v->vals[i], off + i * t->esize) < 0)
                    return -1;
            return 0;
        }
        /* fall through */
    case WD_CT_MAP: {
        uint32_t lp;
        if (store_list_range(cx, t, v, &lp) < 0)
            return -1;
        if (!(p = at(cx, off, 8)))
            return wd_cabi_trap(cx, "store out of bounds");
        wr32(p, lp);
        wr32(p + 4, v->n);
        return 0;
    }
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        if (v->n != t->n)
            return wd_cabi_trap(cx, "host value does not match its type (field count)");
        for (uint32_t i = 0; i < t->n; i++)
            if (store_at(cx, t->fields[i].type, &v->vals[i], off + t->fields[i].offset) < 0)
                return -1;
        return 0;
    case WD_CT_VARIANT:
    case WD_CT_ENUM:
    case WD_CT_OPTION:
    case WD_CT_RESULT: {
        uint32_t d = v->n;
        if (d >= case_count(t))
            return wd_cabi_trap(cx, "host value does not match its type (case index)");
        const wd_comp_type_t *c = case_type(t, d);
        if (c && !v->vals)
            return wd_cabi_trap(cx, "host value does not match its type (missing payload)");
        if (!(p = at(cx, off, t->disc_size)))
            return wd_cabi_trap(cx, "store out of bounds");
        memcpy(p, &d, t->disc_size);
        return c ? store_at(cx, c, v->vals, off + t->payload_off) : 0;
    }
    case WD_CT_FLAGS: {
        uint32_t b = t->n >= 32 ? (uint32_t)v->u : (uint32_t)v->u & ((1u << t->n) - 1);
        if (!(p = at(cx, off, t->size)))
            return wd_cabi_trap(cx, "store out of bounds");
        memcpy(p, &b, t->size);
        return 0;
    }
    case WD_CT_OWN:
    case WD_CT_BORROW: {
        uint32_t idx;
        if ((t->kind == WD_CT_OWN ? wd_cabi_lower_own : wd_cabi_lower_borrow)(cx, t,
                                                                             (uint32_t)v->u,
                                                                             &idx) < 0)
            return -1;
        if (!(p = at(cx, off, 4)))
            return wd_cabi_trap(cx, "store out of bounds");
        wr32(p, idx);
        return 0;
    }
    case WD_CT_STREAM:
    case WD_CT_FUTURE: {
        uint32_t idx;
        if (wd_cabi_lower_async(cx, t, v, &idx) < 0)
            return -1;
        if (!(p = at(cx, off, 4)))
            return wd_cabi_trap(cx, "store out of bounds");
        wr32(p, idx);
        return 0;
    }
    default:
        return wd_cabi_trap(cx, "lowering this type is not supported");
    }
}

/* lower_stream / lower_future: a readable end the host made joins the guest's table */
int
wd_cabi_lower_async(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v, uint32_t *idx)
{
    const char *msg = NULL;
    if (cx->async == NULL || cx->async_lower == NULL)
        return wd_cabi_trap(cx, "streams and futures need the component-model async runtime");
    if (cx->async_lower(cx->async, t, v->u, idx, &msg) < 0)
        return wd_cabi_trap(cx, msg ? msg : "bad stream or future");
    return 0;
}

int
wd_cabi_store(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v, uint32_t ptr)
{
    if (ptr & (t->align - 1))
        return wd_cabi_trap(cx, "misaligned pointer");
    if (!cx->mem)
        return wd_cabi_trap(cx, "no memory");
    if (!wd_wasm_memory_cptr(cx->mem, ptr, t->size))
        return wd_cabi_trap(cx, "pointer out of bounds");
    return store_at(cx, t, v, ptr);
}

int
wd_cabi_lower_flat(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v,
                   uint64_t *flat, uint32_t *pos)
{
    uint32_t i = *pos;
    switch (t->kind) {
    case WD_CT_BOOL: flat[i] = v->u != 0; break;
    case WD_CT_U8:   flat[i] = (uint8_t)v->u; break;
    case WD_CT_S8:   flat[i] = (uint32_t)(int32_t)(int8_t)v->s; break;
    case WD_CT_U16:  flat[i] = (uint16_t)v->u; break;
    case WD_CT_S16:  flat[i] = (uint32_t)(int32_t)(int16_t)v->s; break;
    case WD_CT_U32:  flat[i] = (uint32_t)v->u; break;
    case WD_CT_S32:  flat[i] = (uint32_t)(int32_t)v->s; break;
    case WD_CT_U64:
    case WD_CT_S64:  flat[i] = v->u; break;
    case WD_CT_F32:  flat[i] = f32_bits(v->f32); break;
    case WD_CT_F64:  flat[i] = f64_bits(v->f64); break;
    case WD_CT_CHAR:
        if (!char_ok(v->u))
            return wd_cabi_trap(cx, "invalid char in a host value");
        flat[i] = (uint32_t)v->u;
        break;
    case WD_CT_FLAGS:
        flat[i] = t->n >= 32 ? (uint32_t)v->u : (uint32_t)v->u & ((1u << t->n) - 1);
        break;
    case WD_CT_STRING: {
        uint32_t sp, units;
        if (wd_cabi_lower_string(cx, v->str, v->n, &sp, &units) < 0)
            return -1;
        flat[i] = sp;
        flat[i + 1] = units;
        *pos = i + 2;
        return 0;
    }
    case WD_CT_LIST:
        if (t->len) {
            if (v->n != t->len)
                return wd_cabi_trap(cx, "host value does not match its type (fixed list)");
            for (uint32_t k = 0; k < t->len; k++) {
                if (v->raw) {
                    /* a raw fixed list: read each plain element through a temporary */
                    wd_cabi_val_t e = { .kind = t->elem->kind };
                    const uint8_t *src = (const uint8_t *)v->p + (size_t)k * t->esize;
                    if (t->elem->kind >= WD_CT_BOOL && t->elem->kind <= WD_CT_U64) {
                        uint64_t u = 0;
                        memcpy(&u, src, t->esize);
                        if (t->elem->kind == WD_CT_S8) u = (uint64_t)(int64_t)(int8_t)u;
                        if (t->elem->kind == WD_CT_S16) u = (uint64_t)(int64_t)(int16_t)u;
                        if (t->elem->kind == WD_CT_S32) u = (uint64_t)(int64_t)(int32_t)u;
                        e.u = u;
                    } else {
                        return wd_cabi_trap(cx, "raw fixed list of aggregates not supported");
                    }
                    if (wd_cabi_lower_flat(cx, t->elem, &e, flat, pos) < 0)
                        return -1;
                } else if (wd_cabi_lower_flat(cx, t->elem, &v->vals[k], flat, pos) < 0) {
                    return -1;
                }
            }
            return 0;
        }
        /* fall through */
    case WD_CT_MAP: {
        uint32_t lp;
        if (store_list_range(cx, t, v, &lp) < 0)
            return -1;
        flat[i] = lp;
        flat[i + 1] = v->n;
        *pos = i + 2;
        return 0;
    }
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        if (v->n != t->n)
            return wd_cabi_trap(cx, "host value does not match its type (field count)");
        for (uint32_t k = 0; k < t->n; k++)
            if (wd_cabi_lower_flat(cx, t->fields[k].type, &v->vals[k], flat, pos) < 0)
                return -1;
        return 0;
    case WD_CT_VARIANT:
    case WD_CT_ENUM:
    case WD_CT_OPTION:
    case WD_CT_RESULT: {
        uint32_t d = v->n, end = i + t->flat_n, p2 = i + 1;
        if (d >= case_count(t))
            return wd_cabi_trap(cx, "host value does not match its type (case index)");
        const wd_comp_type_t *c = case_type(t, d);
        if (c && !v->vals)
            return wd_cabi_trap(cx, "host value does not match its type (missing payload)");
        flat[i] = d;
        /* payload values are zero-extended bit patterns: the spec's (f32|i32 -> i64) and
           (f32 -> i32) coercions need nothing more */
        if (c && wd_cabi_lower_flat(cx, c, v->vals, flat, &p2) < 0)
            return -1;
        while (p2 < end)
            flat[p2++] = 0;
        *pos = end;
        return 0;
    }
    case WD_CT_OWN:
    case WD_CT_BORROW: {
        uint32_t idx;
        if ((t->kind == WD_CT_OWN ? wd_cabi_lower_own : wd_cabi_lower_borrow)(cx, t,
                                                                             (uint32_t)v->u,
                                                                             &idx) < 0)
            return -1;
        flat[i] = idx;
        break;
    }
    case WD_CT_STREAM:
    case WD_CT_FUTURE: {
        uint32_t idx;
        if (wd_cabi_lower_async(cx, t, v, &idx) < 0)
            return -1;
        flat[i] = idx;
        break;
    }
    default:
        return wd_cabi_trap(cx, "lowering this type is not supported");
    }
    *pos = i + 1;
    return 0;
}
