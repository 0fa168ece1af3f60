/*
 * Layout of component value types (CanonicalABI.md: alignment, elem_size, flatten_type,
 * discriminant_type, flatten_functype), equality and printing. See wd_comp_types.h.
 */
#include "wd_comp_types.h"

#include <stdio.h>
#include <string.h>

#define I32 WD_CFLAT_I32
#define I64 WD_CFLAT_I64
#define F32 WD_CFLAT_F32
#define F64 WD_CFLAT_F64

#define PRIM(k, al, sz, fl, pl) \
    [k] = { .kind = k, .laid_out = 1, .align = al, .size = sz, .depth = 1, .plain = pl, \
            .flat_n = 1, .flat = { fl } }

const wd_comp_type_t wd_comp_prim_types[WD_CT__COUNT] = {
    PRIM(WD_CT_BOOL, 1, 1, I32, 0),
    PRIM(WD_CT_S8, 1, 1, I32, 1),
    PRIM(WD_CT_U8, 1, 1, I32, 1),
    PRIM(WD_CT_S16, 2, 2, I32, 1),
    PRIM(WD_CT_U16, 2, 2, I32, 1),
    PRIM(WD_CT_S32, 4, 4, I32, 1),
    PRIM(WD_CT_U32, 4, 4, I32, 1),
    PRIM(WD_CT_S64, 8, 8, I64, 1),
    PRIM(WD_CT_U64, 8, 8, I64, 1),
    PRIM(WD_CT_F32, 4, 4, F32, 0),      /* NaNs are canonicalised: not copied as is */
    PRIM(WD_CT_F64, 8, 8, F64, 0),
    PRIM(WD_CT_CHAR, 4, 4, I32, 0),     /* checked: no surrogates, < 0x110000 */
    [WD_CT_STRING] = { .kind = WD_CT_STRING, .laid_out = 1, .align = 4, .size = 8, .depth = 1,
                       .has_ptr = 1, .flat_n = 2, .flat = { I32, I32 } },
    PRIM(WD_CT_ERROR_CONTEXT, 4, 4, I32, 0),
};

const wd_comp_type_t *
wd_comp_prim(unsigned kind)
{
    if ((kind >= WD_CT_BOOL && kind <= WD_CT_STRING) || kind == WD_CT_ERROR_CONTEXT)
        return &wd_comp_prim_types[kind];
    return NULL;
}

static const char *const kind_names[WD_CT__COUNT] = {
    [WD_CT_NONE] = "none", [WD_CT_BOOL] = "bool", [WD_CT_S8] = "s8", [WD_CT_U8] = "u8",
    [WD_CT_S16] = "s16", [WD_CT_U16] = "u16", [WD_CT_S32] = "s32", [WD_CT_U32] = "u32",
    [WD_CT_S64] = "s64", [WD_CT_U64] = "u64", [WD_CT_F32] = "f32", [WD_CT_F64] = "f64",
    [WD_CT_CHAR] = "char", [WD_CT_STRING] = "string", [WD_CT_LIST] = "list",
    [WD_CT_RECORD] = "record", [WD_CT_TUPLE] = "tuple", [WD_CT_VARIANT] = "variant",
    [WD_CT_ENUM] = "enum", [WD_CT_OPTION] = "option", [WD_CT_RESULT] = "result",
    [WD_CT_FLAGS] = "flags", [WD_CT_OWN] = "own", [WD_CT_BORROW] = "borrow",
    [WD_CT_MAP] = "map", [WD_CT_STREAM] = "stream", [WD_CT_FUTURE] = "future",
    [WD_CT_ERROR_CONTEXT] = "error-context",
};

const char *
wd_comp_kind_name(unsigned kind)
{
    return kind < WD_CT__COUNT && kind_names[kind] ? kind_names[kind] : "?";
}

static uint32_t
align_to(uint64_t v, uint32_t a)
{
    return (uint32_t)((v + a - 1) / a * a);
}

static uint8_t
join(uint8_t a, uint8_t b)
{
    if (a == b)
        return a;
    if ((a == I32 && b == F32) || (a == F32 && b == I32))
        return I32;
    return I64;
}

static uint32_t
sat_add(uint32_t a, uint32_t b)
{
    uint64_t s = (uint64_t)a + b;
    return s > WD_CABI_FLAT_SAT ? WD_CABI_FLAT_SAT : (uint32_t)s;
}

/* append child's flattening to t's */
static void
flat_append(wd_comp_type_t *t, const wd_comp_type_t *c)
{
    uint32_t n = c->flat_n < WD_CABI_FLAT_CAP ? c->flat_n : WD_CABI_FLAT_CAP;
    for (uint32_t i = 0; i < n && t->flat_n + i < WD_CABI_FLAT_CAP; i++)
        t->flat[t->flat_n + i] = c->flat[i];
    t->flat_n = sat_add(t->flat_n, c->flat_n);
}

static const char *
child_ok(wd_comp_type_t *t, const wd_comp_type_t *c)
{
    if (!c)
        return "missing child type";
    if (!c->laid_out)
        return "child type not laid out";
    if (c->depth + 1 > t->depth)
        t->depth = c->depth + 1;
    if (t->depth > WD_COMP_MAX_TYPE_DEPTH)
        return "type nested too deeply";
    t->has_borrow |= c->has_borrow;
    t->has_resource |= c->has_resource;
    t->has_ptr |= c->has_ptr;
    return NULL;
}

static void
set_disc(wd_comp_type_t *t, uint32_t ncases)
{
    t->disc_size = ncases <= 256 ? 1 : ncases <= 65536 ? 2 : 4;
}

/* the cases of a variant-like type, as (type or NULL) by index */
static const wd_comp_type_t *
case_type(const wd_comp_type_t *t, uint32_t i)
{
    switch (t->kind) {
    case WD_CT_VARIANT: return t->fields[i].type;
    case WD_CT_OPTION:  return i == 1 ? t->elem : NULL;
    case WD_CT_RESULT:  return i == 0 ? t->elem : t->err;
    default:            return NULL;  /* enum */
    }
}

static uint32_t
case_count(const wd_comp_type_t *t)
{
    switch (t->kind) {
    case WD_CT_OPTION:
    case WD_CT_RESULT:
        return 2;
    default:
        return t->n;
    }
}

static const char *
layout_variant(wd_comp_type_t *t)
{
    uint32_t n = case_count(t);
    const char *err;
    if (n == 0)
        return t->kind == WD_CT_ENUM ? "enum without labels" : "variant without cases";
    if (t->kind == WD_CT_VARIANT && !t->fields)
        return "variant without cases";
    if (t->kind == WD_CT_ENUM && !t->labels)
        return "enum without labels";
    if (t->kind == WD_CT_OPTION && !t->elem)
        return "option without a type";
    set_disc(t, n);
    uint32_t calign = 1, csize = 0;
    uint8_t flat[WD_CABI_FLAT_CAP];
    uint32_t nflat = 0;  /* saturated joined payload length */
    for (uint32_t i = 0; i < n; i++) {
        const wd_comp_type_t *c = case_type(t, i);
        if (!c)
            continue;
        if ((err = child_ok(t, c)))
            return err;
        if (c->align > calign)
            calign = c->align;
        if (c->size > csize)
            csize = c->size;
        uint32_t cn = c->flat_n;
        for (uint32_t j = 0; j < cn && j < WD_CABI_FLAT_CAP; j++)
            flat[j] = j < nflat ? join(flat[j], c->flat[j]) : c->flat[j];
        if (cn > nflat)
            nflat = cn;
    }
    t->align = calign > t->disc_size ? calign : t->disc_size;
    t->payload_off = align_to(t->disc_size, calign);
    uint64_t sz = align_to((uint64_t)t->payload_off + csize, t->align);
    if (sz > WD_COMP_MAX_TYPE_SIZE)
        return "type too large";
    t->size = (uint32_t)sz;
    t->flat_n = 1;
    t->flat[0] = I32;
    for (uint32_t j = 0; j < nflat && 1 + j < WD_CABI_FLAT_CAP; j++)
        t->flat[1 + j] = flat[j];
    t->flat_n = sat_add(1, nflat);
    return NULL;
}

static const char *
layout_fields(wd_comp_type_t *t, wd_comp_field_t *f, uint32_t n, uint32_t *size_out,
              uint8_t *align_out, uint8_t *plain_out)
{
    uint64_t off = 0;
    uint32_t al = 1;
    uint8_t plain = 1;
    const char *err;
    for (uint32_t i = 0; i < n; i++) {
        const wd_comp_type_t *c = f[i].type;
        if ((err = child_ok(t, c)))
            return err;
        uint64_t o = align_to(off, c->align);
        if (o != off)
            plain = 0;
        f[i].offset = (uint32_t)o;
        off = o + c->size;
        if (off > WD_COMP_MAX_TYPE_SIZE)
            return "type too large";
        if (c->align > al)
            al = c->align;
        if (!c->plain)
            plain = 0;
        flat_append(t, c);
    }
    uint64_t sz = align_to(off, al);
    if (sz != off)
        plain = 0;
    if (sz > WD_COMP_MAX_TYPE_SIZE)
        return "type too large";
    *size_out = (uint32_t)sz;
    *align_out = (uint8_t)al;
    *plain_out = plain;
    return NULL;
}

const char *
wd_comp_type_layout(wd_comp_type_t *t)
{
    const char *err = NULL;
    if (t->laid_out)
        return NULL;
    t->depth = 1;
    t->flat_n = 0;
    t->plain = 0;
    t->has_borrow = t->has_resource = t->has_ptr = 0;
    switch (t->kind) {
    case WD_CT_BOOL: case WD_CT_S8: case WD_CT_U8: case WD_CT_S16: case WD_CT_U16:
    case WD_CT_S32: case WD_CT_U32: case WD_CT_S64: case WD_CT_U64: case WD_CT_F32:
    case WD_CT_F64: case WD_CT_CHAR: case WD_CT_STRING: case WD_CT_ERROR_CONTEXT: {
        const wd_comp_type_t *p = &wd_comp_prim_types[t->kind];
        t->align = p->align;
        t->size = p->size;
        t->plain = p->plain;
        t->has_ptr = p->has_ptr;
        t->flat_n = p->flat_n;
        memcpy(t->flat, p->flat, sizeof t->flat);
        break;
    }
    case WD_CT_LIST: {
        const wd_comp_type_t *e = t->elem;
        if ((err = child_ok(t, e)))
            return err;
        t->esize = e->size;
        t->ealign = e->align;
        t->eplain = e->plain;
        if (t->len == 0) {
            t->align = 4;
            t->size = 8;
            t->has_ptr = 1;
            t->flat_n = 2;
            t->flat[0] = t->flat[1] = I32;
        } else {
            uint64_t sz = (uint64_t)t->len * e->size;
            if (sz > WD_COMP_MAX_TYPE_SIZE)
                return "type too large";
            t->align = e->align;
            t->size = (uint32_t)sz;
            t->plain = e->plain;
            for (uint32_t i = 0; i < t->len && t->flat_n < WD_CABI_FLAT_SAT; i++)
                flat_append(t, e);
        }
        break;
    }
    case WD_CT_MAP: {
        if (!t->fields || t->n != 2)
            return "map without key and value types";
        uint8_t plain;
        uint32_t esize;
        uint8_t ealign;
        if ((err = layout_fields(t, t->fields, 2, &esize, &ealign, &plain)))
            return err;
        t->elem = t->fields[0].type;
        t->err = t->fields[1].type;
        t->esize = esize;
        t->ealign = ealign;
        t->eplain = plain;
        t->align = 4;
        t->size = 8;
        t->has_ptr = 1;
        t->flat_n = 2;
        t->flat[0] = t->flat[1] = I32;
        break;
    }
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
        if (t->n == 0 || !t->fields)
            return t->kind == WD_CT_RECORD ? "record without fields" : "tuple without types";
        if ((err = layout_fields(t, t->fields, t->n, &t->size, &t->align, &t->plain)))
            return err;
        break;
    case WD_CT_VARIANT:
    case WD_CT_ENUM:
    case WD_CT_OPTION:
    case WD_CT_RESULT:
        if ((err = layout_variant(t)))
            return err;
        break;
    case WD_CT_FLAGS:
        if (t->n == 0 || !t->labels)
            return "flags without labels";
        if (t->n > 32)
            return "flags with more than 32 labels";
        t->size = t->align = t->disc_size = t->n <= 8 ? 1 : t->n <= 16 ? 2 : 4;
        t->flat_n = 1;
        t->flat[0] = I32;
        break;
    case WD_CT_OWN:
    case WD_CT_BORROW:
        if (!t->resource)
            return "handle without a resource type";
        t->align = 4;
        t->size = 4;
        t->has_resource = 1;
        t->has_borrow = t->kind == WD_CT_BORROW;
        t->flat_n = 1;
        t->flat[0] = I32;
        break;
    case WD_CT_STREAM:
    case WD_CT_FUTURE:
        if (t->elem && (err = child_ok(t, t->elem)))
            return err;
        /* a handle: what the element holds is not in this value's memory */
        t->has_ptr = t->has_borrow = 0;
        t->has_resource = 1;
        t->align = 4;
        t->size = 4;
        t->flat_n = 1;
        t->flat[0] = I32;
        break;
    default:
        return "unknown value type kind";
    }
    if (t->size == 0)
        return "type of size 0";
    t->laid_out = 1;
    return NULL;
}

static const char *
layout_deep(wd_comp_type_t *t, unsigned depth)
{
    const char *err;
    if (t->laid_out)
        return NULL;
    if (depth > WD_COMP_MAX_TYPE_DEPTH)
        return "type nested too deeply";
#define DEEP(c) do { if ((c) && !(c)->laid_out && \
        (err = layout_deep((wd_comp_type_t *)(uintptr_t)(c), depth + 1))) return err; } while (0)
    DEEP(t->elem);
    DEEP(t->err);
    if (t->fields && t->kind != WD_CT_ENUM && t->kind != WD_CT_FLAGS)
        for (uint32_t i = 0; i < t->n; i++)
            DEEP(t->fields[i].type);
#undef DEEP
    return wd_comp_type_layout(t);
}

const char *
wd_comp_type_layout_deep(wd_comp_type_t *t)
{
    return layout_deep(t, 1);
}

const char *
wd_comp_func_layout(wd_comp_func_type_t *ft)
{
    if (ft->laid_out)
        return NULL;
    uint64_t off = 0;
    uint32_t al = 1, nflat = 0;
    uint8_t flat[WD_CABI_MAX_FLAT_PARAMS];
    ft->has_borrow_param = 0;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        const wd_comp_type_t *c = ft->params[i].type;
        if (!c || !c->laid_out)
            return !c ? "missing parameter type" : "parameter type not laid out";
        off = align_to(off, c->align);
        ft->params[i].offset = (uint32_t)off;
        off += c->size;
        if (off > WD_COMP_MAX_TYPE_SIZE)
            return "parameters too large";
        if (c->align > al)
            al = c->align;
        for (uint32_t j = 0; j < c->flat_n && j < WD_CABI_FLAT_CAP; j++)
            if (nflat + j < WD_CABI_MAX_FLAT_PARAMS)
                flat[nflat + j] = c->flat[j];
        nflat = sat_add(nflat, c->flat_n);
        ft->has_borrow_param |= c->has_borrow;
    }
    ft->params_size = align_to(off, al);
    ft->params_align = al;
    ft->flat_params_n = nflat;
    ft->params_in_memory = nflat > WD_CABI_MAX_FLAT_PARAMS;
    const wd_comp_type_t *r = ft->result;
    if (r && !r->laid_out)
        return "result type not laid out";
    if (r && r->has_borrow)
        return "borrow in a function result";
    ft->flat_result_n = r ? r->flat_n : 0;
    ft->result_in_memory = ft->flat_result_n > WD_CABI_MAX_FLAT_RESULTS;

    /* flatten_functype(opts, ft, 'lift') and (..., 'lower'), sync */
    if (ft->params_in_memory) {
        ft->lift_params_n = ft->lower_params_n = 1;
        ft->lift_params[0] = ft->lower_params[0] = I32;
    } else {
        ft->lift_params_n = ft->lower_params_n = (uint8_t)nflat;
        memcpy(ft->lift_params, flat, nflat);
        memcpy(ft->lower_params, flat, nflat);
    }
    if (!r) {
        ft->lift_results_n = ft->lower_results_n = 0;
    } else if (ft->result_in_memory) {
        ft->lift_results_n = 1;
        ft->lift_results[0] = I32;
        ft->lower_results_n = 0;
        ft->lower_params[ft->lower_params_n++] = I32;
    } else {
        ft->lift_results_n = ft->lower_results_n = 1;
        ft->lift_results[0] = ft->lower_results[0] = r->flat[0];
    }
    ft->laid_out = 1;
    return NULL;
}

const char *
wd_comp_func_layout_deep(wd_comp_func_type_t *ft)
{
    const char *err;
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (ft->params[i].type && !ft->params[i].type->laid_out &&
            (err = wd_comp_type_layout_deep((wd_comp_type_t *)(uintptr_t)ft->params[i].type)))
            return err;
    if (ft->result && !ft->result->laid_out &&
        (err = wd_comp_type_layout_deep((wd_comp_type_t *)(uintptr_t)ft->result)))
        return err;
    return wd_comp_func_layout(ft);
}

static int
label_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static int
type_eq(const wd_comp_type_t *a, const wd_comp_type_t *b, unsigned depth, int any_res)
{
    if (a == b)
        return 1;
    if (!a || !b || a->kind != b->kind || depth > WD_COMP_MAX_TYPE_DEPTH + 1)
        return 0;
    switch (a->kind) {
    case WD_CT_LIST:
        return a->len == b->len && type_eq(a->elem, b->elem, depth + 1, any_res);
    case WD_CT_OPTION:
    case WD_CT_STREAM:
    case WD_CT_FUTURE:
        return type_eq(a->elem, b->elem, depth + 1, any_res);
    case WD_CT_RESULT:
        return type_eq(a->elem, b->elem, depth + 1, any_res) && type_eq(a->err, b->err, depth + 1, any_res);
    case WD_CT_MAP:
        return type_eq(a->fields[0].type, b->fields[0].type, depth + 1, any_res) &&
               type_eq(a->fields[1].type, b->fields[1].type, depth + 1, any_res);
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
    case WD_CT_VARIANT:
        if (a->n != b->n)
            return 0;
        for (uint32_t i = 0; i < a->n; i++) {
            if (a->kind != WD_CT_TUPLE && !label_eq(a->fields[i].label, b->fields[i].label))
                return 0;
            if (!type_eq(a->fields[i].type, b->fields[i].type, depth + 1, any_res))
                return 0;
        }
        return 1;
    case WD_CT_ENUM:
    case WD_CT_FLAGS:
        if (a->n != b->n)
            return 0;
        for (uint32_t i = 0; i < a->n; i++)
            if (!label_eq(a->labels[i], b->labels[i]))
                return 0;
        return 1;
    case WD_CT_OWN:
    case WD_CT_BORROW:
        return any_res || a->resource == b->resource;
    default:
        return 1;  /* primitives */
    }
}

int
wd_comp_type_equal(const wd_comp_type_t *a, const wd_comp_type_t *b)
{
    return type_eq(a, b, 0, 0);
}

static int
func_eq(const wd_comp_func_type_t *a, const wd_comp_func_type_t *b, int any_res)
{
    if (a->nparams != b->nparams || a->async != b->async)
        return 0;
    for (uint32_t i = 0; i < a->nparams; i++)
        if (!label_eq(a->params[i].label, b->params[i].label) ||
            !type_eq(a->params[i].type, b->params[i].type, 0, any_res))
            return 0;
    return type_eq(a->result, b->result, 0, any_res);
}

int
wd_comp_func_type_equal(const wd_comp_func_type_t *a, const wd_comp_func_type_t *b)
{
    return func_eq(a, b, 0);
}

int
wd_comp_func_type_match(const wd_comp_func_type_t *a, const wd_comp_func_type_t *b)
{
    return func_eq(a, b, 1);
}

/* ---- printing ---- */

typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

static void
put(sbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n >= b->cap) {
        n = b->cap - 1 - b->len;
        memcpy(b->p + b->len, s, n);
        b->len += n;
        if (b->cap >= 4)
            memcpy(b->p + b->cap - 4, "...", 3);
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void
print_type(sbuf_t *b, const wd_comp_type_t *t, unsigned depth)
{
    char num[24];
    if (b->len + 1 >= b->cap)
        return;
    if (!t) {
        put(b, "_");
        return;
    }
    if (depth > 12) {
        put(b, "...");
        return;
    }
    put(b, wd_comp_kind_name(t->kind));
    switch (t->kind) {
    case WD_CT_LIST:
        put(b, "<");
        print_type(b, t->elem, depth + 1);
        if (t->len) {
            snprintf(num, sizeof num, ", %u", t->len);
            put(b, num);
        }
        put(b, ">");
        break;
    case WD_CT_OPTION:
        put(b, "<");
        print_type(b, t->elem, depth + 1);
        put(b, ">");
        break;
    case WD_CT_RESULT:
        if (t->elem || t->err) {
            put(b, "<");
            print_type(b, t->elem, depth + 1);
            put(b, ", ");
            print_type(b, t->err, depth + 1);
            put(b, ">");
        }
        break;
    case WD_CT_MAP:
        put(b, "<");
        print_type(b, t->fields ? t->fields[0].type : NULL, depth + 1);
        put(b, ", ");
        print_type(b, t->fields ? t->fields[1].type : NULL, depth + 1);
        put(b, ">");
        break;
    case WD_CT_RECORD:
    case WD_CT_TUPLE:
    case WD_CT_VARIANT:
        put(b, t->kind == WD_CT_TUPLE ? "<" : " { ");
        for (uint32_t i = 0; t->fields && i < t->n && b->len + 1 < b->cap; i++) {
            if (i)
                put(b, ", ");
            if (t->kind != WD_CT_TUPLE) {
                put(b, t->fields[i].label ? t->fields[i].label : "?");
                if (t->kind == WD_CT_RECORD)
                    put(b, ": ");
                else if (t->fields[i].type)
                    put(b, "(");
            }
            if (t->kind != WD_CT_VARIANT || t->fields[i].type)
                print_type(b, t->fields[i].type, depth + 1);
            if (t->kind == WD_CT_VARIANT && t->fields[i].type)
                put(b, ")");
        }
        put(b, t->kind == WD_CT_TUPLE ? ">" : " }");
        break;
    case WD_CT_ENUM:
    case WD_CT_FLAGS:
        put(b, " { ");
        for (uint32_t i = 0; t->labels && i < t->n && b->len + 1 < b->cap; i++) {
            if (i)
                put(b, ", ");
            put(b, t->labels[i] ? t->labels[i] : "?");
        }
        put(b, " }");
        break;
    case WD_CT_OWN:
    case WD_CT_BORROW:
        put(b, "<");
        put(b, t->resource && t->resource->name ? t->resource->name : "?");
        put(b, ">");
        break;
    case WD_CT_STREAM:
    case WD_CT_FUTURE:
        if (t->elem) {
            put(b, "<");
            print_type(b, t->elem, depth + 1);
            put(b, ">");
        }
        break;
    default:
        break;
    }
}

char *
wd_comp_type_str(const wd_comp_type_t *t, char *buf, size_t cap)
{
    sbuf_t b = { buf, 0, cap };
    if (!cap)
        return buf;
    print_type(&b, t, 0);
    buf[b.len < cap ? b.len : cap - 1] = '\0';
    return buf;
}
