/*
 * wd_comp_decode_types.c -- the type section (Binary.md "Type Definitions"): value types
 * into the Canonical ABI layer's representation (wd_comp_types.h; each node laid out by
 * wd_comp_type_layout() right after its children, so size, alignment, flattening and
 * depth limits are checked once, bottom-up, without recursion), function types,
 * resource types, component and instance type declarators (each its own scope with an
 * empty type index space, reaching outward only through outer aliases), core function
 * types and core module types, and externtypes.
 */
#include <stdlib.h>
#include <strings.h>
#include "wd_comp_int.h"

wd_comp_deftype_t *
wd_comp_new_deftype(wd_comp_pctx_t *x, uint8_t kind)
{
    wd_comp_deftype_t *d = wd_comp_alloc(&x->c->arena, sizeof(*d));
    if (d) {
        d->kind = kind;
        d->weight = 1;
    }
    return d;
}

wd_comp_resource_t *
wd_comp_new_resource(wd_comp_pctx_t *x, const char *name)
{
    wd_comp_resource_t *res = wd_comp_alloc(&x->c->arena, sizeof(*res));
    if (res) {
        res->name = name;
        res->id = x->nresources++;
    }
    return res;
}

static const char *const *wd_comp_sort_names;   /* qsort context (loading is single-threaded per call) */

static int
wd_comp_idxcmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    int c = strcasecmp(wd_comp_sort_names[x], wd_comp_sort_names[y]);
    return c ? c : (x < y ? -1 : x > y);
}

int
wd_comp_find_dup(const char *const *names, uint32_t n)
{
    uint32_t *v;
    int dup = -1;

    if (n < 2) {
        return -1;
    }
    if (n <= 16) {
        for (uint32_t j = 1; j < n; j++) {
            for (uint32_t i = 0; i < j; i++) {
                if (strcasecmp(names[i], names[j]) == 0) {
                    return (int) j;
                }
            }
        }
        return -1;
    }
    v = wd_wasm_malloc(n * sizeof(*v));
    if (v == NULL) {
        return -2;
    }
    for (uint32_t i = 0; i < n; i++) {
        v[i] = i;
    }
    wd_comp_sort_names = names;
    qsort(v, n, sizeof(*v), wd_comp_idxcmp);
    for (uint32_t i = 1; i < n; i++) {
        if (strcasecmp(names[v[i - 1]], names[v[i]]) == 0 && (dup < 0 || v[i] < (uint32_t) dup)) {
            dup = (int) v[i];
        }
    }
    wd_wasm_free(v);
    return dup;
}

int
wd_comp_check_unique(wd_comp_pctx_t *x, const char *const *names, uint32_t n, const char *what,
                     int64_t offset)
{
    int d = wd_comp_find_dup(names, n);
    if (d == -2) {
        wd_comp_err(x->err, offset, "out of memory");
        return -1;
    }
    if (d >= 0) {
        wd_comp_err(x->err, offset, "duplicate %s \"%.80s\"", what, names[d]);
        return -1;
    }
    return 0;
}

const wd_comp_extern_t *
wd_comp_find_extern(const wd_comp_extern_t *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(v[i].name, name) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

static uint32_t
wd_comp_wadd(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static int
wd_comp_rd_label(wd_comp_pctx_t *x, wd_comp_rd_t *r, const char **out)
{
    int64_t off = WD_COMP_OFF(r);
    uint32_t len;
    if (wd_comp_rd_name(r, &x->c->arena, out, &len) != 0) {
        return -1;
    }
    if (!wd_comp_is_label(*out, len)) {
        wd_comp_err(x->err, off, "\"%.64s\" is not a kebab-case label", *out);
        return -1;
    }
    return 0;
}

static int
wd_comp_rd_count(wd_comp_pctx_t *x, wd_comp_rd_t *r, uint32_t *n, uint32_t max, const char *what)
{
    int64_t off = WD_COMP_OFF(r);
    if (wd_comp_rd_u32(r, n) != 0) {
        return -1;
    }
    if (*n > max) {
        wd_comp_err(x->err, off, "too many %s (%u, limit %u)", what, *n, max);
        return -1;
    }
    return 0;
}

/* valtype ::= typeidx | primvaltype (read as s33: a single byte 0x40..0x7f is a primitive) */
int
wd_comp_decode_valtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                       const wd_comp_type_t **out, uint32_t *weight)
{
    int64_t off = WD_COMP_OFF(r);
    uint32_t idx;
    wd_comp_item_t *it;

    if (r->p < r->end && (*r->p & 0xc0) == 0x40) {
        uint8_t b = *r->p++;
        if (b >= 0x73 && b <= 0x7f) {
            *out = wd_comp_prim(WD_CT_BOOL + (0x7f - b));
        } else if (b == WD_CB_ERROR_CONTEXT) {
            *out = wd_comp_prim(WD_CT_ERROR_CONTEXT);
        } else {
            wd_comp_err(x->err, off, "invalid value type 0x%02x", b);
            return -1;
        }
        if (*out == NULL) {
            wd_comp_err(x->err, off, "invalid value type 0x%02x", b);
            return -1;
        }
        *weight = 1;
        return 0;
    }
    if (wd_comp_rd_u32(r, &idx) != 0) {
        return -1;
    }
    it = wd_comp_get_item(x, sc, WD_SP_TYPE, idx, off);
    if (it == NULL) {
        return -1;
    }
    if (it->type == NULL || it->type->kind != WD_DT_VAL) {
        wd_comp_err(x->err, off, "type %u is not a value type", idx);
        return -1;
    }
    *out = it->type->val;
    *weight = it->type->weight;
    return 0;
}

static int
wd_comp_opt_valtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                    const wd_comp_type_t **out, uint32_t *weight)
{
    int64_t off = WD_COMP_OFF(r);
    uint8_t b;
    *out = NULL;
    *weight = 0;
    if (wd_comp_rd_byte(r, &b) != 0) {
        return -1;
    }
    if (b == 0) {
        return 0;
    }
    if (b != 1) {
        wd_comp_err(x->err, off, "invalid optional value type flag 0x%02x", b);
        return -1;
    }
    return wd_comp_decode_valtype(x, r, sc, out, weight);
}

static int
wd_comp_resource_of(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                    const wd_comp_resource_t **res)
{
    int64_t off = WD_COMP_OFF(r);
    uint32_t idx;
    wd_comp_item_t *it;
    if (wd_comp_rd_u32(r, &idx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_TYPE, idx, off)) == NULL) {
        return -1;
    }
    if (it->type == NULL || it->type->kind != WD_DT_RESOURCE) {
        wd_comp_err(x->err, off, "own/borrow of type %u, which is not a resource type", idx);
        return -1;
    }
    *res = it->type->resource;
    return 0;
}

static int
wd_comp_decode_defvaltype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, uint8_t code,
                          int64_t off, wd_comp_deftype_t *d)
{
    wd_comp_arena_t *a = &x->c->arena;
    wd_comp_type_t *t = wd_comp_alloc(a, sizeof(*t));
    uint32_t n, w, weight = 1;
    const char *why;

    if (t == NULL) {
        goto oom;
    }
    switch (code) {
    case WD_CB_RECORD:
    case WD_CB_VARIANT:
    case WD_CB_TUPLE: {
        const char **labels;
        const char *what = code == WD_CB_RECORD ? "record fields" : code == WD_CB_VARIANT
                           ? "variant cases" : "tuple members";
        t->kind = code == WD_CB_RECORD ? WD_CT_RECORD : code == WD_CB_VARIANT ? WD_CT_VARIANT
                  : WD_CT_TUPLE;
        if (wd_comp_rd_count(x, r, &n, WD_COMP_MAX_ELEMS, what) != 0) {
            return -1;
        }
        if (n == 0) {
            wd_comp_err(x->err, off, "a %s needs at least one %s", code == WD_CB_RECORD ? "record"
                        : code == WD_CB_VARIANT ? "variant" : "tuple",
                        code == WD_CB_RECORD ? "field" : code == WD_CB_VARIANT ? "case" : "member");
            return -1;
        }
        t->n = n;
        t->fields = wd_comp_alloc(a, n * sizeof(*t->fields));
        labels = wd_comp_alloc(a, n * sizeof(*labels));
        if (t->fields == NULL || labels == NULL) {
            goto oom;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (code == WD_CB_TUPLE) {
                char lb[16];
                snprintf(lb, sizeof(lb), "%u", i);
                t->fields[i].label = labels[i] = wd_comp_strndup(a, lb, strlen(lb));
                if (labels[i] == NULL) {
                    goto oom;
                }
                if (wd_comp_decode_valtype(x, r, sc, &t->fields[i].type, &w) != 0) {
                    return -1;
                }
            } else {
                if (wd_comp_rd_label(x, r, &labels[i]) != 0) {
                    return -1;
                }
                t->fields[i].label = labels[i];
                if (code == WD_CB_RECORD) {
                    if (wd_comp_decode_valtype(x, r, sc, &t->fields[i].type, &w) != 0) {
                        return -1;
                    }
                } else {
                    uint8_t z;
                    int64_t zo;
                    if (wd_comp_opt_valtype(x, r, sc, &t->fields[i].type, &w) != 0) {
                        return -1;
                    }
                    zo = WD_COMP_OFF(r);
                    if (wd_comp_rd_byte(r, &z) != 0) {
                        return -1;
                    }
                    if (z != 0) {
                        wd_comp_err(x->err, zo, "variant case refinements are not supported (0x%02x)", z);
                        return -1;
                    }
                }
            }
            weight = wd_comp_wadd(weight, w);
        }
        if (code != WD_CB_TUPLE
            && wd_comp_check_unique(x, labels, n, code == WD_CB_RECORD ? "record field"
                                    : "variant case", off) != 0) {
            return -1;
        }
        break;
    }
    case WD_CB_LIST:
        t->kind = WD_CT_LIST;
        if (wd_comp_decode_valtype(x, r, sc, &t->elem, &w) != 0) {
            return -1;
        }
        weight = wd_comp_wadd(weight, w);
        break;
    case WD_CB_FIXED_LIST:
        t->kind = WD_CT_LIST;
        if (wd_comp_decode_valtype(x, r, sc, &t->elem, &w) != 0 || wd_comp_rd_u32(r, &t->len) != 0) {
            return -1;
        }
        if (t->len == 0) {
            wd_comp_err(x->err, off, "a fixed-length list needs a length above 0");
            return -1;
        }
        weight = wd_comp_wadd(weight, w);
        break;
    case WD_CB_FLAGS:
    case WD_CB_ENUM: {
        const char **labels;
        t->kind = code == WD_CB_FLAGS ? WD_CT_FLAGS : WD_CT_ENUM;
        if (wd_comp_rd_count(x, r, &n, WD_COMP_MAX_ELEMS, "labels") != 0) {
            return -1;
        }
        if (n == 0 || (code == WD_CB_FLAGS && n > 32)) {
            wd_comp_err(x->err, off, "%s with %u labels (%s)", code == WD_CB_FLAGS ? "flags" : "enum", n,
                        code == WD_CB_FLAGS ? "1 to 32 allowed" : "at least 1 needed");
            return -1;
        }
        labels = wd_comp_alloc(a, n * sizeof(*labels));
        if (labels == NULL) {
            goto oom;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (wd_comp_rd_label(x, r, &labels[i]) != 0) {
                return -1;
            }
        }
        if (wd_comp_check_unique(x, labels, n, code == WD_CB_FLAGS ? "flag" : "enum case", off) != 0) {
            return -1;
        }
        t->n = n;
        t->labels = labels;
        weight = wd_comp_wadd(weight, n);
        break;
    }
    case WD_CB_OPTION:
        t->kind = WD_CT_OPTION;
        if (wd_comp_decode_valtype(x, r, sc, &t->elem, &w) != 0) {
            return -1;
        }
        weight = wd_comp_wadd(weight, w);
        break;
    case WD_CB_RESULT: {
        uint32_t w2;
        t->kind = WD_CT_RESULT;
        if (wd_comp_opt_valtype(x, r, sc, &t->elem, &w) != 0
            || wd_comp_opt_valtype(x, r, sc, &t->err, &w2) != 0) {
            return -1;
        }
        weight = wd_comp_wadd(wd_comp_wadd(weight, w), w2);
        break;
    }
    case WD_CB_OWN:
    case WD_CB_BORROW:
        t->kind = code == WD_CB_OWN ? WD_CT_OWN : WD_CT_BORROW;
        if (wd_comp_resource_of(x, r, sc, &t->resource) != 0) {
            return -1;
        }
        break;
    case WD_CB_STREAM:
    case WD_CB_FUTURE:            /* (stream t?) / (future t?): an i32 handle (CanonicalABI.md) */
        t->kind = code == WD_CB_STREAM ? WD_CT_STREAM : WD_CT_FUTURE;
        if (wd_comp_opt_valtype(x, r, sc, &t->elem, &w) != 0) {
            return -1;
        }
        if (t->elem && t->elem->has_borrow) {
            wd_comp_err(x->err, off, "a %s element may not contain a borrow handle",
                        code == WD_CB_STREAM ? "stream" : "future");
            return -1;
        }
        if (code == WD_CB_STREAM && t->elem && t->elem->kind == WD_CT_CHAR) {
            /* Explainer.md: stream<char> is reserved (a future string stream) */
            wd_comp_err(x->err, off, "stream<char> is not allowed");
            return -1;
        }
        weight = wd_comp_wadd(weight, w);
        break;
    case WD_CB_ERROR_CONTEXT:
        t->kind = WD_CT_ERROR_CONTEXT;
        break;
    case WD_CB_MAP:
        wd_comp_err(x->err, off, "map types are not supported");
        return -1;
    default:
        wd_comp_err(x->err, off, "invalid type opcode 0x%02x", code);
        return -1;
    }
    if (weight > WD_COMP_MAX_TYPE_WEIGHT) {
        wd_comp_err(x->err, off, "type too large (more than %u nodes)", WD_COMP_MAX_TYPE_WEIGHT);
        return -1;
    }
    why = wd_comp_type_layout(t);
    if (why != NULL) {
        wd_comp_err(x->err, off, "invalid type: %s", why);
        return -1;
    }
    d->kind = WD_DT_VAL;
    d->val = t;
    d->weight = weight;
    return 0;
oom:
    wd_comp_err(x->err, off, "out of memory");
    return -1;
}

static int
wd_comp_decode_functype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int64_t off,
                        wd_comp_deftype_t *d, int async)
{
    wd_comp_arena_t *a = &x->c->arena;
    wd_comp_func_type_t *ft = wd_comp_alloc(a, sizeof(*ft));
    const char **labels;
    uint32_t n, w, weight = 1;
    uint8_t b;
    int64_t ro;
    const char *why;

    if (ft == NULL || wd_comp_rd_count(x, r, &n, WD_COMP_MAX_ELEMS, "parameters") != 0) {
        return -1;
    }
    ft->nparams = n;
    ft->async = (uint8_t) async;
    ft->params = wd_comp_alloc(a, (n ? n : 1) * sizeof(*ft->params));
    labels = wd_comp_alloc(a, (n ? n : 1) * sizeof(*labels));
    if (ft->params == NULL || labels == NULL) {
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (wd_comp_rd_label(x, r, &labels[i]) != 0
            || wd_comp_decode_valtype(x, r, sc, &ft->params[i].type, &w) != 0) {
            return -1;
        }
        ft->params[i].label = labels[i];
        weight = wd_comp_wadd(weight, w);
    }
    if (wd_comp_check_unique(x, labels, n, "parameter", off) != 0) {
        return -1;
    }
    ro = WD_COMP_OFF(r);
    if (wd_comp_rd_byte(r, &b) != 0) {
        return -1;
    }
    if (b == 0x00) {
        if (wd_comp_decode_valtype(x, r, sc, &ft->result, &w) != 0) {
            return -1;
        }
        weight = wd_comp_wadd(weight, w);
        if (ft->result->has_borrow) {
            wd_comp_err(x->err, ro, "a function result may not contain a borrow handle");
            return -1;
        }
    } else if (b == 0x01) {
        uint8_t z;
        if (wd_comp_rd_byte(r, &z) != 0) {
            return -1;
        }
        if (z != 0) {
            wd_comp_err(x->err, ro, "named function results are not supported");
            return -1;
        }
    } else {
        wd_comp_err(x->err, ro, "invalid result list 0x%02x", b);
        return -1;
    }
    if (weight > WD_COMP_MAX_TYPE_WEIGHT) {
        wd_comp_err(x->err, off, "type too large (more than %u nodes)", WD_COMP_MAX_TYPE_WEIGHT);
        return -1;
    }
    why = wd_comp_func_layout(ft);
    if (why != NULL) {
        wd_comp_err(x->err, off, "invalid function type: %s", why);
        return -1;
    }
    d->kind = WD_DT_FUNC;
    d->func = ft;
    d->weight = weight;
    return 0;
}

static int
wd_comp_core_valtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, uint8_t *vt)
{
    int64_t off = WD_COMP_OFF(r);
    if (wd_comp_rd_byte(r, vt) != 0) {
        return -1;
    }
    switch (*vt) {
    case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x7b: case 0x70: case 0x6f:
        return 0;
    }
    wd_comp_err(x->err, off, "invalid core value type 0x%02x", *vt);
    return -1;
}

static int
wd_comp_core_functype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_wasm_functype_t *f)
{
    uint32_t n;
    uint8_t *v;
    for (int k = 0; k < 2; k++) {
        if (wd_comp_rd_count(x, r, &n, 1000, "core function parameters/results") != 0) {
            return -1;
        }
        v = wd_comp_alloc(&x->c->arena, n ? n : 1);
        if (v == NULL) {
            return -1;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (wd_comp_core_valtype(x, r, &v[i]) != 0) {
                return -1;
            }
        }
        if (k == 0) {
            f->nparams = n;
            f->params = v;
        } else {
            f->nresults = n;
            f->results = v;
        }
    }
    return 0;
}

static int
wd_comp_limits(wd_comp_pctx_t *x, wd_comp_rd_t *r)
{
    int64_t off = WD_COMP_OFF(r);
    uint8_t fl;
    uint64_t v;
    if (wd_comp_rd_byte(r, &fl) != 0) {
        return -1;
    }
    if (fl > 0x07) {
        wd_comp_err(x->err, off, "invalid limits flags 0x%02x", fl);
        return -1;
    }
    if (wd_comp_rd_u64(r, &v) != 0 || ((fl & 1) && wd_comp_rd_u64(r, &v) != 0)) {
        return -1;
    }
    return 0;
}

/* core:externtype inside a core module type */
static int
wd_comp_core_externtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    int64_t off = WD_COMP_OFF(r);
    uint8_t k, b;
    uint32_t idx;
    if (wd_comp_rd_byte(r, &k) != 0) {
        return -1;
    }
    switch (k) {
    case 0x00:                    /* func typeidx */
        off = WD_COMP_OFF(r);
        if (wd_comp_rd_u32(r, &idx) != 0) {
            return -1;
        }
        {
            wd_comp_item_t *it = wd_comp_get_item(x, sc, WD_SP_CORE_TYPE, idx, off);
            if (it == NULL) {
                return -1;
            }
            if (it->type->kind != WD_DT_CORE_FUNC) {
                wd_comp_err(x->err, off, "core type %u is not a function type", idx);
                return -1;
            }
        }
        return 0;
    case 0x01:                    /* table: reftype limits */
        if (wd_comp_core_valtype(x, r, &b) != 0) {
            return -1;
        }
        return wd_comp_limits(x, r);
    case 0x02:
        return wd_comp_limits(x, r);
    case 0x03:
        if (wd_comp_core_valtype(x, r, &b) != 0 || wd_comp_rd_byte(r, &b) != 0) {
            return -1;
        }
        if (b > 1) {
            wd_comp_err(x->err, WD_COMP_OFF(r) - 1, "invalid global mutability 0x%02x", b);
            return -1;
        }
        return 0;
    case 0x04:
        wd_comp_err(x->err, off, "core tags (exception handling) are not supported");
        return -1;
    }
    wd_comp_err(x->err, off, "invalid core extern type 0x%02x", k);
    return -1;
}

static wd_comp_static_t *
wd_comp_new_scope(wd_comp_pctx_t *x, wd_comp_static_t *parent, uint32_t offset)
{
    wd_comp_static_t *s = wd_comp_alloc(&x->c->arena, sizeof(*s));
    if (s) {
        s->parent = parent;
        s->is_type = 1;
        s->offset = offset;
    }
    return s;
}

static int
wd_comp_decode_module_type(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int64_t off,
                           wd_comp_deftype_t *d)
{
    wd_comp_static_t *ms = wd_comp_new_scope(x, sc, off);
    uint32_t n;
    if (ms == NULL || wd_comp_rd_count(x, r, &n, WD_COMP_MAX_ELEMS, "module type declarations") != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t o = WD_COMP_OFF(r);
        uint8_t k;
        const char *s1;
        uint32_t l;
        if (wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        switch (k) {
        case 0x00:                /* import */
            if (wd_comp_rd_name(r, &x->c->arena, &s1, &l) != 0
                || wd_comp_rd_name(r, &x->c->arena, &s1, &l) != 0
                || wd_comp_core_externtype(x, r, ms) != 0) {
                return -1;
            }
            break;
        case 0x01: {              /* type: function types only */
            const wd_comp_deftype_t *t;
            wd_comp_item_t *it;
            int64_t to = WD_COMP_OFF(r);
            if (r->p < r->end && *r->p == 0x50) {
                wd_comp_err(x->err, to, "a module type may not declare a module type");
                return -1;
            }
            if (wd_comp_decode_core_type(x, r, ms, &t) != 0) {
                return -1;
            }
            it = wd_comp_add_item(x, ms, WD_SP_CORE_TYPE, WD_DEF_TYPE, to);
            if (it == NULL) {
                return -1;
            }
            it->type = t;
            break;
        }
        case 0x02: {              /* alias outer core type */
            uint8_t s0, s1b, k2;
            uint32_t ct, idx;
            wd_comp_static_t *t = ms;
            wd_comp_item_t *src, *it;
            if (wd_comp_rd_byte(r, &s0) != 0 || wd_comp_rd_byte(r, &k2) != 0) {
                return -1;
            }
            (void) s1b;
            if (s0 != 0x10 || k2 != 0x01) {
                wd_comp_err(x->err, o, "module types only alias outer core types");
                return -1;
            }
            if (wd_comp_rd_u32(r, &ct) != 0 || wd_comp_rd_u32(r, &idx) != 0) {
                return -1;
            }
            for (uint32_t j = 0; j < ct && t; j++) {
                t = t->parent;
            }
            if (t == NULL) {
                wd_comp_err(x->err, o, "outer alias count %u out of range", ct);
                return -1;
            }
            src = wd_comp_get_item(x, t, WD_SP_CORE_TYPE, idx, o);
            if (src == NULL) {
                return -1;
            }
            if (src->type->kind == WD_DT_CORE_MODULE) {
                wd_comp_err(x->err, o, "a module type may not alias a module type");
                return -1;
            }
            it = wd_comp_add_item(x, ms, WD_SP_CORE_TYPE, WD_DEF_ALIAS_OUTER, o);
            if (it == NULL) {
                return -1;
            }
            it->type = src->type;
            break;
        }
        case 0x03:                /* export */
            if (wd_comp_rd_name(r, &x->c->arena, &s1, &l) != 0 || wd_comp_core_externtype(x, r, ms) != 0) {
                return -1;
            }
            break;
        default:
            wd_comp_err(x->err, o, "invalid module type declaration 0x%02x", k);
            return -1;
        }
    }
    d->kind = WD_DT_CORE_MODULE;
    return 0;
}

int
wd_comp_decode_core_type(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                         const wd_comp_deftype_t **out)
{
    int64_t off = WD_COMP_OFF(r);
    wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_CORE_FUNC);
    uint8_t k;
    if (d == NULL) {
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    if (wd_comp_rd_byte(r, &k) != 0) {
        return -1;
    }
    switch (k) {
    case 0x60:
        if (wd_comp_core_functype(x, r, &d->core) != 0) {
            return -1;
        }
        break;
    case 0x50:
        if (wd_comp_decode_module_type(x, r, sc, off, d) != 0) {
            return -1;
        }
        break;
    case 0x4e: case 0x4f: case 0x00: case 0x5e: case 0x5f:
        wd_comp_err(x->err, off, "core GC types (rec/sub/struct/array) are not supported");
        return -1;
    default:
        wd_comp_err(x->err, off, "invalid core type 0x%02x", k);
        return -1;
    }
    *out = d;
    return 0;
}

static int wd_comp_decode_decls(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *ts,
                                int component, wd_comp_deftype_t *d);

int
wd_comp_decode_externtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                          uint16_t *sort, const wd_comp_deftype_t **type)
{
    int64_t off = WD_COMP_OFF(r);
    uint8_t k, b;
    uint32_t idx;
    wd_comp_item_t *it;
    int want;

    if (wd_comp_rd_byte(r, &k) != 0) {
        return -1;
    }
    switch (k) {
    case 0x00:
        if (wd_comp_rd_byte(r, &b) != 0) {
            return -1;
        }
        if (b != 0x11) {
            wd_comp_err(x->err, off, "invalid extern type 0x00 0x%02x (core module expected)", b);
            return -1;
        }
        off = WD_COMP_OFF(r);
        if (wd_comp_rd_u32(r, &idx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_CORE_TYPE, idx, off)) == NULL) {
            return -1;
        }
        if (it->type->kind != WD_DT_CORE_MODULE) {
            wd_comp_err(x->err, off, "core type %u is not a module type", idx);
            return -1;
        }
        *sort = WD_SORT_CORE_MODULE;
        *type = it->type;
        return 0;
    case 0x01:
        want = WD_DT_FUNC;
        *sort = WD_SORT_FUNC;
        break;
    case 0x02:
        wd_comp_err(x->err, off, "value imports/exports are not supported");
        return -1;
    case 0x03:
        *sort = WD_SORT_TYPE;
        if (wd_comp_rd_byte(r, &b) != 0) {
            return -1;
        }
        if (b == 0x01) {          /* (sub resource): a fresh abstract resource */
            wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_RESOURCE);
            if (d == NULL || (d->resource = wd_comp_new_resource(x, NULL)) == NULL) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
            d->rep = 0x7f;
            *type = d;
            return 0;
        }
        if (b != 0x00) {
            wd_comp_err(x->err, off, "invalid type bound 0x%02x", b);
            return -1;
        }
        off = WD_COMP_OFF(r);
        if (wd_comp_rd_u32(r, &idx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_TYPE, idx, off)) == NULL) {
            return -1;
        }
        *type = it->type;
        return 0;
    case 0x04:
        want = WD_DT_COMPONENT;
        *sort = WD_SORT_COMPONENT;
        break;
    case 0x05:
        want = WD_DT_INSTANCE;
        *sort = WD_SORT_INSTANCE;
        break;
    default:
        wd_comp_err(x->err, off, "invalid extern type 0x%02x", k);
        return -1;
    }
    off = WD_COMP_OFF(r);
    if (wd_comp_rd_u32(r, &idx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_TYPE, idx, off)) == NULL) {
        return -1;
    }
    if (it->type == NULL || it->type->kind != want) {
        wd_comp_err(x->err, off, "type %u is not a %s type", idx,
                    want == WD_DT_FUNC ? "function" : want == WD_DT_COMPONENT ? "component" : "instance");
        return -1;
    }
    *type = it->type;
    return 0;
}

int
wd_comp_decode_deftype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                       const wd_comp_deftype_t **out)
{
    int64_t off = WD_COMP_OFF(r);
    wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_VAL);
    uint8_t k;

    if (d == NULL) {
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    if (r->p < r->end && (*r->p & 0xc0) == 0x40 && *r->p >= 0x73) {
        /* a primitive value type used as a definition */
        uint32_t w;
        d->kind = WD_DT_VAL;
        if (wd_comp_decode_valtype(x, r, sc, &d->val, &w) != 0) {
            return -1;
        }
        *out = d;
        return 0;
    }
    if (wd_comp_rd_byte(r, &k) != 0) {
        return -1;
    }
    switch (k) {
    case WD_CB_FUNC:
    case WD_CB_FUNC_ASYNC:
        if (wd_comp_decode_functype(x, r, sc, off, d, k == WD_CB_FUNC_ASYNC) != 0) {
            return -1;
        }
        break;
    case WD_CB_COMPONENT:
    case WD_CB_INSTANCE: {
        wd_comp_static_t *ts = wd_comp_new_scope(x, sc, off);
        if (ts == NULL) {
            wd_comp_err(x->err, off, "out of memory");
            return -1;
        }
        if (x->nesting >= (x->opts && x->opts->max_nesting ? x->opts->max_nesting : 16) * 4) {
            wd_comp_err(x->err, off, "component/instance types nested too deeply");
            return -1;
        }
        x->nesting++;
        if (wd_comp_decode_decls(x, r, ts, k == WD_CB_COMPONENT, d) != 0) {
            return -1;
        }
        x->nesting--;
        break;
    }
    case WD_CB_RESOURCE: {
        uint8_t rep, has;
        if (sc->is_type) {
            wd_comp_err(x->err, off, "resource types may not be defined in a component or instance type");
            return -1;
        }
        if (wd_comp_rd_byte(r, &rep) != 0) {
            return -1;
        }
        if (rep != 0x7f) {
            wd_comp_err(x->err, off, "a resource representation must be i32 (got 0x%02x)", rep);
            return -1;
        }
        if (wd_comp_rd_byte(r, &has) != 0) {
            return -1;
        }
        d->kind = WD_DT_RESOURCE;
        d->local = 1;
        d->rep = rep;
        if ((d->resource = wd_comp_new_resource(x, NULL)) == NULL) {
            wd_comp_err(x->err, off, "out of memory");
            return -1;
        }
        if (has == 1) {
            int64_t fo = WD_COMP_OFF(r);
            uint32_t f;
            wd_comp_item_t *it;
            static const uint8_t i32[1] = { 0x7f };
            wd_wasm_functype_t want = { 1, 0, i32, NULL };
            if (wd_comp_rd_u32(r, &f) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_CORE_FUNC, f, fo)) == NULL) {
                return -1;
            }
            if (!wd_comp_functype_eq(&it->type->core, &want)) {
                char b1[128];
                wd_comp_functype_str(&it->type->core, b1, sizeof(b1));
                wd_comp_err(x->err, fo, "resource destructor (core func %u) has type %s, not (i32) -> ()", f, b1);
                return -1;
            }
            d->resource->has_dtor = 1;
            d->resource->dtor_func = f;
        } else if (has != 0) {
            wd_comp_err(x->err, off, "invalid destructor flag 0x%02x", has);
            return -1;
        }
        break;
    }
    default:
        if (wd_comp_decode_defvaltype(x, r, sc, k, off, d) != 0) {
            return -1;
        }
    }
    *out = d;
    return 0;
}

/* Binary.md: [constructor]R, [method]R.f and [static]R.f are functions, and R is a resource
 * imported or exported before them in the same scope; a method takes (param "self" (borrow R))
 * first, a constructor returns (own R) or (result (own R) E?). */
static int
wd_comp_check_annotated(wd_comp_pctx_t *x, const char *name, uint16_t sort, const wd_comp_deftype_t *t,
                        const wd_comp_extern_t *prev, uint32_t nprev, int64_t off)
{
    const char *r = strchr(name, ']') + 1, *dot = strchr(r, '.');
    size_t rl = dot ? (size_t) (dot - r) : strlen(r);
    const wd_comp_resource_t *res = NULL;
    const wd_comp_func_type_t *ft;

    if (sort != WD_SORT_FUNC) {
        wd_comp_err(x->err, off, "\"%.80s\" must be a function", name);
        return -1;
    }
    for (uint32_t i = 0; i < nprev; i++) {
        if (prev[i].sort == WD_SORT_TYPE && strlen(prev[i].name) == rl && memcmp(prev[i].name, r, rl) == 0
            && prev[i].type && prev[i].type->kind == WD_DT_RESOURCE) {
            res = prev[i].type->resource;
        }
    }
    if (res == NULL) {
        wd_comp_err(x->err, off, "\"%.80s\": no resource \"%.*s\" declared before it", name, (int) rl, r);
        return -1;
    }
    ft = t->func;
    if (strncmp(name, "[method]", 8) == 0
        && (ft->nparams == 0 || strcmp(ft->params[0].label, "self") != 0
            || ft->params[0].type->kind != WD_CT_BORROW || ft->params[0].type->resource != res)) {
        wd_comp_err(x->err, off, "\"%.80s\": a method takes (param \"self\" (borrow %.*s)) first", name, (int) rl, r);
        return -1;
    }
    if (strncmp(name, "[constructor]", 13) == 0) {
        const wd_comp_type_t *rt = ft->result;
        if (rt && rt->kind == WD_CT_RESULT) {
            rt = rt->elem;
        }
        if (rt == NULL || rt->kind != WD_CT_OWN || rt->resource != res) {
            wd_comp_err(x->err, off, "\"%.80s\": a constructor returns (own %.*s)", name, (int) rl, r);
            return -1;
        }
    }
    return 0;
}

/* componentdecl* / instancedecl* into ts; fills d (COMPONENT or INSTANCE) */
static int
wd_comp_decode_decls(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *ts, int component,
                     wd_comp_deftype_t *d)
{
    wd_comp_arena_t *a = &x->c->arena;
    uint32_t n, ni = 0, ne = 0, capi = 0, cape = 0;
    wd_comp_extern_t *imps = NULL, *exps = NULL;
    const char **names = NULL;
    uint32_t ncap = 0, nn = 0;
    int64_t off0 = WD_COMP_OFF(r);

    d->kind = component ? WD_DT_COMPONENT : WD_DT_INSTANCE;
    if (wd_comp_rd_count(x, r, &n, WD_COMP_MAX_ELEMS, "type declarations") != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t o = WD_COMP_OFF(r);
        uint8_t k;
        if (wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        switch (k) {
        case 0x00: {              /* core:type */
            const wd_comp_deftype_t *t;
            wd_comp_item_t *it;
            if (wd_comp_decode_core_type(x, r, ts, &t) != 0
                || (it = wd_comp_add_item(x, ts, WD_SP_CORE_TYPE, WD_DEF_TYPE, o)) == NULL) {
                return -1;
            }
            it->type = t;
            break;
        }
        case 0x01: {              /* type */
            const wd_comp_deftype_t *t;
            wd_comp_item_t *it;
            if (wd_comp_decode_deftype(x, r, ts, &t) != 0
                || (it = wd_comp_add_item(x, ts, WD_SP_TYPE, WD_DEF_TYPE, o)) == NULL) {
                return -1;
            }
            it->type = t;
            d->weight = d->weight + t->weight > d->weight ? d->weight + t->weight : UINT32_MAX;
            break;
        }
        case 0x02:
            if (wd_comp_decode_alias(x, r, ts, 1) != 0) {
                return -1;
            }
            break;
        case 0x03:                /* importdecl (component types only) */
        case 0x04: {              /* exportdecl */
            const char *name;
            uint16_t sort;
            const wd_comp_deftype_t *t;
            wd_comp_extern_t *e;
            int sp;
            wd_comp_item_t *it;
            if (k == 0x03 && !component) {
                wd_comp_err(x->err, o, "an instance type may not declare imports");
                return -1;
            }
            if (wd_comp_decode_externname(x, r, &name) != 0
                || wd_comp_decode_externtype(x, r, ts, &sort, &t) != 0) {
                return -1;
            }
            if (k == 0x03) {
                if (wd_comp_grow(a, (void **) &imps, &capi, ni, sizeof(*imps)) != 0) {
                    goto oom;
                }
                e = &imps[ni++];
            } else {
                if (wd_comp_grow(a, (void **) &exps, &cape, ne, sizeof(*exps)) != 0) {
                    goto oom;
                }
                e = &exps[ne++];
            }
            if (wd_comp_grow(a, (void **) &names, &ncap, nn, sizeof(*names)) != 0) {
                goto oom;
            }
            names[nn++] = name;
            if (sort == WD_SORT_TYPE && t->kind == WD_DT_RESOURCE && !t->local
                && t->resource->name == NULL) {
                t->resource->name = name;         /* (export "descriptor" (type (sub resource))) */
            }
            e->name = name;
            e->sort = sort;
            e->type = t;
            if (name[0] == '[' && wd_comp_check_annotated(x, name, sort, t, k == 0x03 ? imps : exps,
                                                          k == 0x03 ? ni - 1 : ne - 1, o) != 0) {
                return -1;
            }
            sp = wd_comp_sort_space(sort);
            if (sp >= 0 && (it = wd_comp_add_item(x, ts, sp, WD_DEF_IMPORT, o)) != NULL) {
                it->name = name;
                it->type = t;
            } else if (sp >= 0) {
                return -1;
            }
            break;
        }
        default:
            wd_comp_err(x->err, o, "invalid %s type declaration 0x%02x", component ? "component" : "instance", k);
            return -1;
        }
    }
    /* imports and exports each strongly-unique (ignoring case) */
    (void) names;
    (void) nn;
    for (int pass = 0; pass < 2; pass++) {
        wd_comp_extern_t *v = pass ? exps : imps;
        uint32_t cnt = pass ? ne : ni;
        const char **nv = cnt ? wd_comp_alloc(a, cnt * sizeof(*nv)) : NULL;
        if (cnt && nv == NULL) {
            goto oom;
        }
        for (uint32_t j = 0; j < cnt; j++) {
            nv[j] = v[j].name;
        }
        if (wd_comp_check_unique(x, nv, cnt, pass ? "export name" : "import name", off0) != 0) {
            return -1;
        }
    }
    d->imports = imps;
    d->nimports = ni;
    d->exports = exps;
    d->nexports = ne;
    return 0;
oom:
    wd_comp_err(x->err, off0, "out of memory");
    return -1;
}
