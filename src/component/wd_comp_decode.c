/*
 * wd_comp_decode.c -- the section walker (Binary.md): one streaming pass per component,
 * nested components parsed in place (bounded nesting). Each definition is appended to its
 * index space (core func/table/memory/global/type/module/instance; func, value, type,
 * component, instance) and to the component's ordered definition list, which the planner
 * (wd_comp_plan.c) evaluates. What a host relies on is checked here, with the byte offset
 * of the offending definition: every index against its own space, sorts, names, core
 * instantiation arguments against the module's imports (kinds and function types), alias
 * targets, canonopts, and every canon lift/lower against its core function type by
 * flatten_functype (CanonicalABI.md). Core modules are compiled once by the engine.
 * Features outside what wasmd runs (values, start, async/thread built-ins, GC types) are
 * refused by name.
 */
#include <stdlib.h>
#include "wd_comp_int.h"

/* ---- reader ---- */

int
wd_comp_rd_byte(wd_comp_rd_t *r, uint8_t *b)
{
    if (r->p >= r->end) {
        wd_comp_err(r->err, WD_COMP_OFF(r), "unexpected end of section or component");
        return -1;
    }
    *b = *r->p++;
    return 0;
}

/* One unsigned LEB128 reader for both widths: the last byte (at shift `last`) may only
 * carry the bits that still fit, and may not continue. */
static int
wd_comp_rd_uleb(wd_comp_rd_t *r, uint64_t *v, unsigned bits)
{
    unsigned last = (bits - 1) / 7 * 7;
    uint8_t over = (uint8_t) (0x7f & ~((1u << (bits - last)) - 1));
    uint64_t x = 0;
    int64_t off = WD_COMP_OFF(r);
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b;
        if (r->p >= r->end) {
            wd_comp_err(r->err, off, "unexpected end of section or component");
            return -1;
        }
        b = *r->p++;
        if (shift == last && (b & over)) {
            wd_comp_err(r->err, off, "integer too large");
            return -1;
        }
        x |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            break;
        }
        if (shift >= last) {
            wd_comp_err(r->err, off, "integer representation too long");
            return -1;
        }
    }
    *v = x;
    return 0;
}

int
wd_comp_rd_u64(wd_comp_rd_t *r, uint64_t *v)
{
    return wd_comp_rd_uleb(r, v, 64);
}

int
wd_comp_rd_u32(wd_comp_rd_t *r, uint32_t *v)
{
    uint64_t x;
    if (wd_comp_rd_uleb(r, &x, 32) < 0) {
        return -1;
    }
    *v = (uint32_t) x;
    return 0;
}

static int
wd_comp_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp, min;
        int k;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            k = 1; cp = c & 0x1f; min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2; cp = c & 0x0f; min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        if (i + k >= n) {
            return 0;
        }
        for (int j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += k + 1;
    }
    return 1;
}

int
wd_comp_rd_name(wd_comp_rd_t *r, wd_comp_arena_t *a, const char **out, uint32_t *len)
{
    int64_t off = WD_COMP_OFF(r);
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    if (n > (size_t) (r->end - r->p)) {
        wd_comp_err(r->err, off, "name of %u bytes runs past the end of its section", n);
        return -1;
    }
    if (!wd_comp_utf8_ok(r->p, n) || memchr(r->p, 0, n) != NULL) {
        wd_comp_err(r->err, off, "malformed UTF-8 name");
        return -1;
    }
    *out = wd_comp_strndup(a, (const char *) r->p, n);
    if (*out == NULL) {
        wd_comp_err(r->err, off, "out of memory");
        return -1;
    }
    *len = n;
    r->p += n;
    return 0;
}

/* ---- index spaces ---- */

int
wd_comp_sort_space(uint16_t sort)
{
    switch (sort) {
    case WD_SORT_FUNC: return WD_SP_FUNC;
    case WD_SORT_VALUE: return WD_SP_VALUE;
    case WD_SORT_TYPE: return WD_SP_TYPE;
    case WD_SORT_COMPONENT: return WD_SP_COMPONENT;
    case WD_SORT_INSTANCE: return WD_SP_INSTANCE;
    case WD_SORT_CORE_FUNC: return WD_SP_CORE_FUNC;
    case WD_SORT_CORE_TABLE: return WD_SP_CORE_TABLE;
    case WD_SORT_CORE_MEMORY: return WD_SP_CORE_MEMORY;
    case WD_SORT_CORE_GLOBAL: return WD_SP_CORE_GLOBAL;
    case WD_SORT_CORE_TYPE: return WD_SP_CORE_TYPE;
    case WD_SORT_CORE_MODULE: return WD_SP_CORE_MODULE;
    case WD_SORT_CORE_INSTANCE: return WD_SP_CORE_INSTANCE;
    }
    return -1;
}

static const char *const wd_comp_space_names[WD_SP_COUNT] = {
    "core func", "core table", "core memory", "core global", "core type", "core module",
    "core instance", "func", "value", "type", "component", "instance"
};

const char *
wd_comp_sort_name(uint16_t sort)
{
    int sp = wd_comp_sort_space(sort);
    return sort == WD_SORT_CORE_TAG ? "core tag" : sp < 0 ? "?" : wd_comp_space_names[sp];
}

wd_comp_item_t *
wd_comp_add_item(wd_comp_pctx_t *x, wd_comp_static_t *sc, int space, uint8_t def, int64_t offset)
{
    wd_comp_space_t *s = &sc->sp[space];
    wd_comp_item_t *it;
    if (s->n >= WD_COMP_MAX_ITEMS) {
        wd_comp_err(x->err, offset, "too many %s definitions (limit %u)", wd_comp_space_names[space],
                    WD_COMP_MAX_ITEMS);
        return NULL;
    }
    if (wd_comp_grow(&x->c->arena, (void **) &s->items, &s->cap, s->n, sizeof(*s->items)) != 0
        || (!sc->is_type && wd_comp_grow(&x->c->arena, (void **) &sc->defs, &sc->defs_cap, sc->ndefs,
                                         sizeof(*sc->defs)) != 0)) {
        wd_comp_err(x->err, offset, "out of memory");
        return NULL;
    }
    if (!sc->is_type) {
        sc->defs[sc->ndefs].space = (uint8_t) space;
        sc->defs[sc->ndefs].index = s->n;
        sc->ndefs++;
    }
    it = &s->items[s->n++];
    memset(it, 0, sizeof(*it));
    it->def = def;
    it->offset = (uint32_t) offset;
    return it;
}

wd_comp_item_t *
wd_comp_get_item(wd_comp_pctx_t *x, wd_comp_static_t *sc, int space, uint32_t idx, int64_t offset)
{
    if (idx >= sc->sp[space].n) {
        wd_comp_err(x->err, offset, "%s index %u out of range (%u defined)", wd_comp_space_names[space],
                    idx, sc->sp[space].n);
        return NULL;
    }
    return &sc->sp[space].items[idx];
}

int
wd_comp_functype_eq(const wd_wasm_functype_t *a, const wd_wasm_functype_t *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults
           && (a->nparams == 0 || memcmp(a->params, b->params, a->nparams) == 0)
           && (a->nresults == 0 || memcmp(a->results, b->results, a->nresults) == 0);
}

static const char *
wd_comp_core_vt_name(uint8_t t)
{
    switch (t) {
    case 0x7f: return "i32";
    case 0x7e: return "i64";
    case 0x7d: return "f32";
    case 0x7c: return "f64";
    case 0x7b: return "v128";
    case 0x70: return "funcref";
    case 0x6f: return "externref";
    }
    return "?";
}

void
wd_comp_functype_str(const wd_wasm_functype_t *f, char *buf, size_t size)
{
    size_t n = 0;
    const uint8_t *v;
    uint32_t c;
    if (size == 0) {
        return;
    }
    buf[0] = '\0';
    for (int k = 0; k < 2; k++) {
        v = k ? f->results : f->params;
        c = k ? f->nresults : f->nparams;
        n += snprintf(buf + n, n < size ? size - n : 0, "%s(", k ? " -> " : "");
        for (uint32_t i = 0; i < c && n < size; i++) {
            n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", i ? " " : "", wd_comp_core_vt_name(v[i]));
        }
        n += snprintf(buf + n, n < size ? size - n : 0, ")");
    }
}

static wd_comp_deftype_t *
wd_comp_core_func_deftype(wd_comp_pctx_t *x, const wd_wasm_functype_t *f)
{
    wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_CORE_FUNC);
    if (d) {
        d->core = *f;
    }
    return d;
}

static wd_comp_deftype_t wd_comp_core_other = { .kind = WD_DT_CORE_OTHER, .weight = 1 };

/* ---- names ---- */

int
wd_comp_decode_externname(wd_comp_pctx_t *x, wd_comp_rd_t *r, const char **name)
{
    int64_t off = WD_COMP_OFF(r);
    uint8_t k;
    uint32_t len;
    const char *why;
    if (wd_comp_rd_byte(r, &k) != 0) {
        return -1;
    }
    if (k > 0x01) {
        wd_comp_err(x->err, off, "name attributes (0x%02x: implements/versionsuffix) are not supported", k);
        return -1;
    }
    off = WD_COMP_OFF(r);
    if (wd_comp_rd_name(r, &x->c->arena, name, &len) != 0) {
        return -1;
    }
    if (wd_comp_check_externname(*name, len, &why) != 0) {
        wd_comp_err(x->err, off, "invalid import/export name \"%.80s\": %s", *name, why);
        return -1;
    }
    return 0;
}

/* sort ::= 0x00 core:sort | 0x01..0x05 */
static int
wd_comp_rd_sort(wd_comp_pctx_t *x, wd_comp_rd_t *r, uint16_t *sort)
{
    int64_t off = WD_COMP_OFF(r);
    uint8_t b, c;
    if (wd_comp_rd_byte(r, &b) != 0) {
        return -1;
    }
    if (b == 0x00) {
        if (wd_comp_rd_byte(r, &c) != 0) {
            return -1;
        }
        if (c > 0x04 && c != 0x10 && c != 0x11 && c != 0x12) {
            wd_comp_err(x->err, off, "invalid core sort 0x%02x", c);
            return -1;
        }
        *sort = 0x100 | c;
        return 0;
    }
    if (b < 0x01 || b > 0x05) {
        wd_comp_err(x->err, off, "invalid sort 0x%02x", b);
        return -1;
    }
    *sort = b;
    return 0;
}

/* ---- lookups through instances ---- */

/* export `name` of core instance `inst`: its sort and type */
static int
wd_comp_core_export(wd_comp_pctx_t *x, wd_comp_static_t *sc, uint32_t inst, const char *name,
                    int64_t off, uint16_t *sort, const wd_comp_deftype_t **type)
{
    wd_comp_item_t *ci = &sc->sp[WD_SP_CORE_INSTANCE].items[inst];
    if (ci->def == WD_DEF_CORE_INSTANTIATE) {
        const wd_wasm_module_t *m = sc->sp[WD_SP_CORE_MODULE].items[ci->a].module;
        const wd_wasm_export_desc_t *e = wd_wasm_module_find_export(m, name, strlen(name));
        if (e == NULL) {
            return 1;
        }
        *sort = 0x100 | e->kind;
        if (e->kind == WD_WASM_EXTERN_FUNC) {
            *type = wd_comp_core_func_deftype(x, wd_wasm_module_func_type(m, e->index));
            if (*type == NULL) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
        } else {
            *type = &wd_comp_core_other;
        }
        return 0;
    }
    for (uint32_t i = 0; i < ci->nargs; i++) {
        if (strcmp(ci->args[i].name, name) == 0) {
            *sort = ci->args[i].sort;
            *type = sc->sp[wd_comp_sort_space(ci->args[i].sort)].items[ci->args[i].index].type;
            return 0;
        }
    }
    return 1;
}

/* ---- sections ---- */

static int
wd_comp_section_core_module(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    int64_t off = WD_COMP_OFF(r);
    wd_comp_t *c = x->c;
    wd_wasm_error_t werr;
    wd_wasm_module_t *m;
    wd_comp_item_t *it;

    if (c->nmodules >= 10000) {
        wd_comp_err(x->err, off, "too many core modules");
        return -1;
    }
    memset(&werr, 0, sizeof(werr));
    werr.offset = -1;
    m = wd_wasm_module_load(r->p, r->end - r->p, x->opts ? &x->opts->engine : NULL, &werr);
    if (m == NULL) {
        wd_comp_err(x->err, werr.offset >= 0 ? off + werr.offset : off, "core module %u: %.200s",
                    c->nmodules, werr.msg);
        return -1;
    }
    if (wd_comp_grow(&c->arena, (void **) &c->modules, &c->modules_cap, c->nmodules,
                     sizeof(*c->modules)) != 0) {
        wd_wasm_module_free(m);
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    c->modules[c->nmodules] = m;
    it = wd_comp_add_item(x, sc, WD_SP_CORE_MODULE, WD_DEF_MODULE, off);
    if (it == NULL) {
        c->nmodules++;            /* still freed with the component */
        return -1;
    }
    it->module = m;
    it->module_index = c->nmodules++;
    r->p = r->end;
    return 0;
}

static int
wd_comp_core_instantiate(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int64_t off)
{
    wd_comp_arena_t *a = &x->c->arena;
    uint32_t midx, n;
    int64_t mo = WD_COMP_OFF(r);
    wd_comp_item_t *mi, *it;
    wd_comp_arg_t *args;
    const wd_wasm_module_t *m;

    if (wd_comp_rd_u32(r, &midx) != 0 || (mi = wd_comp_get_item(x, sc, WD_SP_CORE_MODULE, midx, mo)) == NULL) {
        return -1;
    }
    if (mi->module == NULL) {
        wd_comp_err(x->err, mo, "instantiating an imported core module is not supported");
        return -1;
    }
    m = mi->module;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    if (n > WD_COMP_MAX_ELEMS) {
        wd_comp_err(x->err, off, "too many instantiation arguments (%u)", n);
        return -1;
    }
    args = wd_comp_alloc(a, (n ? n : 1) * sizeof(*args));
    if (args == NULL) {
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t ao = WD_COMP_OFF(r);
        uint32_t len;
        uint8_t k;
        if (wd_comp_rd_name(r, a, &args[i].name, &len) != 0 || wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        if (k != 0x12) {
            wd_comp_err(x->err, ao, "core instantiation argument \"%s\" must be a core instance (sort 0x%02x)",
                        args[i].name, k);
            return -1;
        }
        ao = WD_COMP_OFF(r);
        if (wd_comp_rd_u32(r, &args[i].index) != 0
            || wd_comp_get_item(x, sc, WD_SP_CORE_INSTANCE, args[i].index, ao) == NULL) {
            return -1;
        }
        args[i].sort = WD_SORT_CORE_INSTANCE;
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(args[j].name, args[i].name) == 0) {
                wd_comp_err(x->err, ao, "duplicate core instantiation argument \"%s\"", args[i].name);
                return -1;
            }
        }
    }
    /* every import of the module from an argument of the right kind and type */
    for (uint32_t i = 0; i < wd_wasm_module_import_count(m); i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        const wd_comp_arg_t *arg = NULL;
        uint16_t sort;
        const wd_comp_deftype_t *t;
        int rc;
        for (uint32_t j = 0; j < n; j++) {
            if (strlen(args[j].name) == d->module_len && memcmp(args[j].name, d->module, d->module_len) == 0) {
                arg = &args[j];
                break;
            }
        }
        if (arg == NULL) {
            wd_comp_err(x->err, off, "core module %u import \"%.60s\" \"%.60s\": no instantiation argument named \"%.60s\"",
                        mi->module_index, d->module, d->name, d->module);
            return -1;
        }
        rc = wd_comp_core_export(x, sc, arg->index, d->name, off, &sort, &t);
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            wd_comp_err(x->err, off, "core module %u import \"%.60s\" \"%.60s\": core instance %u has no such export",
                        mi->module_index, d->module, d->name, arg->index);
            return -1;
        }
        if (sort != (0x100 | d->kind)) {
            wd_comp_err(x->err, off, "core module %u import \"%.60s\" \"%.60s\": expects a %s, core instance %u exports a %s",
                        mi->module_index, d->module, d->name, wd_comp_sort_name(0x100 | d->kind),
                        arg->index, wd_comp_sort_name(sort));
            return -1;
        }
        if (d->kind == WD_WASM_EXTERN_FUNC && !wd_comp_functype_eq(&d->func, &t->core)) {
            char b1[160], b2[160];
            wd_comp_functype_str(&d->func, b1, sizeof(b1));
            wd_comp_functype_str(&t->core, b2, sizeof(b2));
            wd_comp_err(x->err, off, "core module %u import \"%.40s\" \"%.40s\": expects %.50s, the argument has %.50s",
                        mi->module_index, d->module, d->name, b1, b2);
            return -1;
        }
    }
    it = wd_comp_add_item(x, sc, WD_SP_CORE_INSTANCE, WD_DEF_CORE_INSTANTIATE, off);
    if (it == NULL) {
        return -1;
    }
    it->a = midx;
    it->module = m;
    it->module_index = mi->module_index;
    it->args = args;
    it->nargs = n;
    return 0;
}

/* vec(inlineexport) for core (core != 0) or component instances */
static int
wd_comp_inline_exports(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int core,
                       wd_comp_arg_t **out, uint32_t *nout)
{
    wd_comp_arena_t *a = &x->c->arena;
    int64_t off = WD_COMP_OFF(r);
    uint32_t n;
    wd_comp_arg_t *v;
    const char **names;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    if (n > WD_COMP_MAX_ELEMS) {
        wd_comp_err(x->err, off, "too many inline exports (%u)", n);
        return -1;
    }
    v = wd_comp_alloc(a, (n ? n : 1) * sizeof(*v));
    names = wd_comp_alloc(a, (n ? n : 1) * sizeof(*names));
    if (v == NULL || names == NULL) {
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t eo = WD_COMP_OFF(r);
        uint32_t len;
        int sp;
        if (core) {
            uint8_t cs;
            if (wd_comp_rd_name(r, a, &v[i].name, &len) != 0 || wd_comp_rd_byte(r, &cs) != 0) {
                return -1;
            }
            if (cs > 0x03) {
                wd_comp_err(x->err, eo, "core inline export \"%s\" of sort 0x%02x (only func, table, memory, global)",
                            v[i].name, cs);
                return -1;
            }
            v[i].sort = 0x100 | cs;
        } else {
            if (wd_comp_decode_externname(x, r, &v[i].name) != 0 || wd_comp_rd_sort(x, r, &v[i].sort) != 0) {
                return -1;
            }
        }
        names[i] = v[i].name;
        sp = wd_comp_sort_space(v[i].sort);
        eo = WD_COMP_OFF(r);
        if (sp < 0 || sp == WD_SP_VALUE || (!core && v[i].sort > 0x100 && v[i].sort != WD_SORT_CORE_MODULE)) {
            wd_comp_err(x->err, eo, "cannot export a %s from an instance", wd_comp_sort_name(v[i].sort));
            return -1;
        }
        if (wd_comp_rd_u32(r, &v[i].index) != 0 || wd_comp_get_item(x, sc, sp, v[i].index, eo) == NULL) {
            return -1;
        }
    }
    if (core) {
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t j = 0; j < i; j++) {
                if (strcmp(names[i], names[j]) == 0) {
                    wd_comp_err(x->err, off, "duplicate export \"%s\"", names[i]);
                    return -1;
                }
            }
        }
    } else if (wd_comp_check_unique(x, names, n, "export name", off) != 0) {
        return -1;
    }
    *out = v;
    *nout = n;
    return 0;
}

static int
wd_comp_section_core_instances(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r);
        uint8_t k;
        if (wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        if (k == 0x00) {
            if (wd_comp_core_instantiate(x, r, sc, off) != 0) {
                return -1;
            }
        } else if (k == 0x01) {
            wd_comp_item_t *it;
            wd_comp_arg_t *v;
            uint32_t nv;
            if (wd_comp_inline_exports(x, r, sc, 1, &v, &nv) != 0
                || (it = wd_comp_add_item(x, sc, WD_SP_CORE_INSTANCE, WD_DEF_CORE_INLINE, off)) == NULL) {
                return -1;
            }
            it->args = v;
            it->nargs = nv;
        } else {
            wd_comp_err(x->err, off, "invalid core instance expression 0x%02x", k);
            return -1;
        }
    }
    return 0;
}

static int
wd_comp_section_core_types(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r);
        const wd_comp_deftype_t *t;
        wd_comp_item_t *it;
        if (wd_comp_decode_core_type(x, r, sc, &t) != 0
            || (it = wd_comp_add_item(x, sc, WD_SP_CORE_TYPE, WD_DEF_TYPE, off)) == NULL) {
            return -1;
        }
        it->type = t;
    }
    return 0;
}

/* an instance type out of a list of (name, sort, index) */
static const wd_comp_deftype_t *
wd_comp_instance_type_of(wd_comp_pctx_t *x, wd_comp_static_t *sc, const wd_comp_arg_t *v, uint32_t n)
{
    wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_INSTANCE);
    if (d == NULL || (d->exports = wd_comp_alloc(&x->c->arena, (n ? n : 1) * sizeof(*d->exports))) == NULL) {
        return NULL;
    }
    d->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        d->exports[i].name = v[i].name;
        d->exports[i].sort = v[i].sort;
        d->exports[i].type = sc->sp[wd_comp_sort_space(v[i].sort)].items[v[i].index].type;
    }
    return d;
}

static int
wd_comp_section_instances(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r);
        uint8_t k;
        wd_comp_item_t *it;
        if (wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        if (k == 0x00) {
            uint32_t cidx, na;
            int64_t co = WD_COMP_OFF(r);
            wd_comp_item_t *ci;
            wd_comp_arg_t *args;
            const char **names;
            const wd_comp_deftype_t *ct;
            if (wd_comp_rd_u32(r, &cidx) != 0 || (ci = wd_comp_get_item(x, sc, WD_SP_COMPONENT, cidx, co)) == NULL) {
                return -1;
            }
            if (ci->comp == NULL) {
                wd_comp_err(x->err, co, "instantiating an imported component is not supported");
                return -1;
            }
            ct = ci->type;
            if (wd_comp_rd_u32(r, &na) != 0) {
                return -1;
            }
            if (na > WD_COMP_MAX_ELEMS) {
                wd_comp_err(x->err, off, "too many instantiation arguments (%u)", na);
                return -1;
            }
            args = wd_comp_alloc(&x->c->arena, (na ? na : 1) * sizeof(*args));
            names = wd_comp_alloc(&x->c->arena, (na ? na : 1) * sizeof(*names));
            if (args == NULL || names == NULL) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
            for (uint32_t j = 0; j < na; j++) {
                int64_t ao = WD_COMP_OFF(r);
                uint32_t len;
                int sp;
                if (wd_comp_rd_name(r, &x->c->arena, &args[j].name, &len) != 0
                    || wd_comp_rd_sort(x, r, &args[j].sort) != 0) {
                    return -1;
                }
                names[j] = args[j].name;
                sp = wd_comp_sort_space(args[j].sort);
                if (sp < 0 || sp == WD_SP_VALUE) {
                    wd_comp_err(x->err, ao, "instantiation argument \"%s\" of sort %s", args[j].name,
                                wd_comp_sort_name(args[j].sort));
                    return -1;
                }
                ao = WD_COMP_OFF(r);
                if (wd_comp_rd_u32(r, &args[j].index) != 0 || wd_comp_get_item(x, sc, sp, args[j].index, ao) == NULL) {
                    return -1;
                }
            }
            if (wd_comp_check_unique(x, names, na, "instantiation argument", off) != 0) {
                return -1;
            }
            /* each import of the component needs an argument of its sort */
            for (uint32_t j = 0; j < ct->nimports; j++) {
                const wd_comp_arg_t *arg = NULL;
                for (uint32_t q = 0; q < na; q++) {
                    if (strcmp(args[q].name, ct->imports[j].name) == 0) {
                        arg = &args[q];
                    }
                }
                if (arg == NULL) {
                    wd_comp_err(x->err, off, "instantiation of component %u: missing argument \"%s\"", cidx,
                                ct->imports[j].name);
                    return -1;
                }
                if (arg->sort != ct->imports[j].sort) {
                    wd_comp_err(x->err, off, "instantiation of component %u: argument \"%s\" is a %s, the import is a %s",
                                cidx, arg->name, wd_comp_sort_name(arg->sort), wd_comp_sort_name(ct->imports[j].sort));
                    return -1;
                }
                if (arg->sort == WD_SORT_FUNC) {
                    /* resources of the nested component's imports are not substituted by the
                       arguments' here, so compare arity and the Canonical ABI signatures */
                    const wd_comp_func_type_t *af = sc->sp[WD_SP_FUNC].items[arg->index].type->func;
                    const wd_comp_func_type_t *wf = ct->imports[j].type->func;
                    if (af->nparams != wf->nparams || (af->result == NULL) != (wf->result == NULL)
                        || af->lift_params_n != wf->lift_params_n || af->lift_results_n != wf->lift_results_n
                        || memcmp(af->lift_params, wf->lift_params, af->lift_params_n) != 0
                        || memcmp(af->lift_results, wf->lift_results, af->lift_results_n) != 0) {
                        wd_comp_err(x->err, off, "instantiation of component %u: function argument \"%s\" has the wrong type",
                                    cidx, arg->name);
                        return -1;
                    }
                }
            }
            if ((it = wd_comp_add_item(x, sc, WD_SP_INSTANCE, WD_DEF_INSTANTIATE, off)) == NULL) {
                return -1;
            }
            it->a = cidx;
            it->comp = ci->comp;
            it->args = args;
            it->nargs = na;
            {
                wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_INSTANCE);
                if (d == NULL) {
                    wd_comp_err(x->err, off, "out of memory");
                    return -1;
                }
                d->exports = ct->exports;
                d->nexports = ct->nexports;
                it->type = d;
            }
        } else if (k == 0x01) {
            wd_comp_arg_t *v;
            uint32_t nv;
            if (wd_comp_inline_exports(x, r, sc, 0, &v, &nv) != 0
                || (it = wd_comp_add_item(x, sc, WD_SP_INSTANCE, WD_DEF_INLINE, off)) == NULL) {
                return -1;
            }
            it->args = v;
            it->nargs = nv;
            if ((it->type = wd_comp_instance_type_of(x, sc, v, nv)) == NULL) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
        } else {
            wd_comp_err(x->err, off, "invalid instance expression 0x%02x", k);
            return -1;
        }
    }
    return 0;
}

/* does a type (transitively) refer to a resource? (outer aliases across components) */
static int
wd_comp_deftype_has_resource(const wd_comp_deftype_t *t)
{
    if (t == NULL) {
        return 0;
    }
    switch (t->kind) {
    case WD_DT_RESOURCE:
        return 1;
    case WD_DT_VAL:
        return t->val->has_resource;
    case WD_DT_FUNC:
        for (uint32_t i = 0; i < t->func->nparams; i++) {
            if (t->func->params[i].type->has_resource) {
                return 1;
            }
        }
        return t->func->result && t->func->result->has_resource;
    case WD_DT_INSTANCE:
    case WD_DT_COMPONENT:
        for (uint32_t i = 0; i < t->nimports; i++) {
            if (wd_comp_deftype_has_resource(t->imports[i].type)) {
                return 1;
            }
        }
        for (uint32_t i = 0; i < t->nexports; i++) {
            if (t->exports[i].sort != WD_SORT_TYPE && wd_comp_deftype_has_resource(t->exports[i].type)) {
                return 1;
            }
        }
    }
    return 0;
}

int
wd_comp_decode_alias(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int decl)
{
    int64_t off = WD_COMP_OFF(r);
    uint16_t sort;
    uint8_t k;
    int sp;
    wd_comp_item_t *it;

    if (wd_comp_rd_sort(x, r, &sort) != 0 || wd_comp_rd_byte(r, &k) != 0) {
        return -1;
    }
    sp = wd_comp_sort_space(sort);
    if (sp < 0 || sp == WD_SP_VALUE) {
        wd_comp_err(x->err, off, "cannot alias a %s", wd_comp_sort_name(sort));
        return -1;
    }
    if (k == 0x00) {              /* export of a component instance */
        uint32_t idx, len;
        const char *name;
        wd_comp_item_t *ii;
        const wd_comp_extern_t *e;
        int64_t io = WD_COMP_OFF(r);
        if (decl && sort != WD_SORT_INSTANCE && sort != WD_SORT_TYPE) {
            wd_comp_err(x->err, off, "type declarators only alias instance and type exports");
            return -1;
        }
        if (wd_comp_rd_u32(r, &idx) != 0 || (ii = wd_comp_get_item(x, sc, WD_SP_INSTANCE, idx, io)) == NULL
            || wd_comp_rd_name(r, &x->c->arena, &name, &len) != 0) {
            return -1;
        }
        e = ii->type ? wd_comp_find_extern(ii->type->exports, ii->type->nexports, name) : NULL;
        if (e == NULL) {
            wd_comp_err(x->err, off, "alias: instance %u has no export \"%.80s\"", idx, name);
            return -1;
        }
        if (e->sort != sort) {
            wd_comp_err(x->err, off, "alias: export \"%.80s\" of instance %u is a %s, not a %s", name, idx,
                        wd_comp_sort_name(e->sort), wd_comp_sort_name(sort));
            return -1;
        }
        if ((it = wd_comp_add_item(x, sc, sp, WD_DEF_ALIAS_EXPORT, off)) == NULL) {
            return -1;
        }
        it->a = idx;
        it->name = name;
        it->type = e->type;
        return 0;
    }
    if (k == 0x01) {              /* export of a core instance */
        uint32_t idx, len;
        const char *name;
        uint16_t es;
        const wd_comp_deftype_t *t;
        int rc;
        int64_t io = WD_COMP_OFF(r);
        if (decl) {
            wd_comp_err(x->err, off, "type declarators may not alias core instance exports");
            return -1;
        }
        if (sort < WD_SORT_CORE_FUNC || sort > WD_SORT_CORE_TAG) {
            wd_comp_err(x->err, off, "a core export alias must be a core func, table, memory or global, not a %s",
                        wd_comp_sort_name(sort));
            return -1;
        }
        if (wd_comp_rd_u32(r, &idx) != 0 || wd_comp_get_item(x, sc, WD_SP_CORE_INSTANCE, idx, io) == NULL
            || wd_comp_rd_name(r, &x->c->arena, &name, &len) != 0) {
            return -1;
        }
        rc = wd_comp_core_export(x, sc, idx, name, off, &es, &t);
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            wd_comp_err(x->err, off, "alias: core instance %u has no export \"%.80s\"", idx, name);
            return -1;
        }
        if (es != sort) {
            wd_comp_err(x->err, off, "alias: export \"%.80s\" of core instance %u is a %s, not a %s", name, idx,
                        wd_comp_sort_name(es), wd_comp_sort_name(sort));
            return -1;
        }
        if ((it = wd_comp_add_item(x, sc, sp, WD_DEF_ALIAS_CORE_EXPORT, off)) == NULL) {
            return -1;
        }
        it->a = idx;
        it->name = name;
        it->type = t;
        return 0;
    }
    if (k == 0x02) {              /* outer */
        uint32_t ct, idx;
        wd_comp_static_t *t = sc;
        int crosses = 0;
        wd_comp_item_t *src;
        if (sort != WD_SORT_CORE_MODULE && sort != WD_SORT_CORE_TYPE && sort != WD_SORT_TYPE
            && sort != WD_SORT_COMPONENT) {
            wd_comp_err(x->err, off, "outer aliases may only refer to core modules, core types, types and components, not a %s",
                        wd_comp_sort_name(sort));
            return -1;
        }
        if (decl && sort != WD_SORT_TYPE && sort != WD_SORT_CORE_TYPE) {
            wd_comp_err(x->err, off, "type declarators only alias outer types and core types");
            return -1;
        }
        if (wd_comp_rd_u32(r, &ct) != 0 || wd_comp_rd_u32(r, &idx) != 0) {
            return -1;
        }
        for (uint32_t j = 0; j < ct; j++) {
            if (t == NULL) {
                break;
            }
            if (!t->is_type) {
                crosses = 1;
            }
            t = t->parent;
        }
        if (t == NULL) {
            wd_comp_err(x->err, off, "outer alias count %u out of range", ct);
            return -1;
        }
        if ((src = wd_comp_get_item(x, t, sp, idx, off)) == NULL) {
            return -1;
        }
        if (crosses && sort == WD_SORT_TYPE && wd_comp_deftype_has_resource(src->type)) {
            wd_comp_err(x->err, off, "outer alias of type %u crosses a component boundary and refers to a resource", idx);
            return -1;
        }
        if ((it = wd_comp_add_item(x, sc, sp, WD_DEF_ALIAS_OUTER, off)) == NULL) {
            return -1;
        }
        it->a = ct;
        it->b = idx;
        it->type = src->type;
        it->comp = src->comp;
        it->module = src->module;
        it->module_index = src->module_index;
        return 0;
    }
    wd_comp_err(x->err, off, "invalid alias target 0x%02x", k);
    return -1;
}

static int
wd_comp_section_aliases(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (wd_comp_decode_alias(x, r, sc, 0) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
wd_comp_section_types(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r);
        const wd_comp_deftype_t *t;
        wd_comp_item_t *it;
        if (wd_comp_decode_deftype(x, r, sc, &t) != 0
            || (it = wd_comp_add_item(x, sc, WD_SP_TYPE, WD_DEF_TYPE, off)) == NULL) {
            return -1;
        }
        it->type = t;
    }
    return 0;
}

/* ---- canon ---- */

const char *
wd_comp_builtin_name(unsigned op)
{
    static const char *const names[] = {
        [0x05] = "task.cancel", [0x06] = "subtask.cancel", [0x07] = "resource.drop async",
        [0x08] = "backpressure.set", [0x09] = "task.return", [0x0a] = "context.get",
        [0x0b] = "context.set", [0x0c] = "thread.yield", [0x0d] = "subtask.drop",
        [0x0e] = "stream.new", [0x0f] = "stream.read", [0x10] = "stream.write",
        [0x11] = "stream.cancel-read", [0x12] = "stream.cancel-write",
        [0x13] = "stream.drop-readable", [0x14] = "stream.drop-writable", [0x15] = "future.new",
        [0x16] = "future.read", [0x17] = "future.write", [0x18] = "future.cancel-read",
        [0x19] = "future.cancel-write", [0x1a] = "future.drop-readable",
        [0x1b] = "future.drop-writable", [0x1c] = "error-context.new",
        [0x1d] = "error-context.debug-message", [0x1e] = "error-context.drop",
        [0x1f] = "waitable-set.new", [0x20] = "waitable-set.wait", [0x21] = "waitable-set.poll",
        [0x22] = "waitable-set.drop", [0x23] = "waitable.join", [0x24] = "backpressure.inc",
        [0x25] = "backpressure.dec", [0x26] = "thread.index", [0x27] = "thread.new-indirect",
        [0x28] = "thread.resume-later", [0x29] = "thread.suspend",
        [0x2a] = "thread.suspend-then-resume", [0x2b] = "thread.yield-then-resume",
        [0x2c] = "thread.suspend-then-promote", [0x2d] = "thread.yield-then-promote",
        [0x40] = "thread.spawn-ref", [0x41] = "thread.spawn-indirect",
        [0x42] = "thread.available-parallelism"
    };
    return op < sizeof(names) / sizeof(names[0]) ? names[op] : NULL;
}

static int
wd_comp_has_ptr_params(const wd_comp_func_type_t *ft)
{
    for (uint32_t i = 0; i < ft->nparams; i++) {
        if (ft->params[i].type->has_ptr) {
            return 1;
        }
    }
    return 0;
}

/* opts for lift (lift != 0) or lower of ft; checks each option and what ft needs */
/* opts for lift (lift == 1), lower (0) or a built-in (2: no post-return, no callback);
 * checks each option; what the function type needs is checked by the caller */
static int
wd_comp_canonopts(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int lift,
                  wd_comp_canon_t *o, int64_t off)
{
    uint32_t n;
    int seen_enc = 0;
    static const uint8_t i32x4[4] = { 0x7f, 0x7f, 0x7f, 0x7f };
    wd_wasm_functype_t realloc_t = { 4, 1, i32x4, i32x4 };

    memset(o, 0, sizeof(*o));
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    if (n > 16) {
        wd_comp_err(x->err, off, "too many canonical options (%u)", n);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t oo = WD_COMP_OFF(r);
        uint8_t k;
        uint32_t idx;
        wd_comp_item_t *it;
        if (wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        switch (k) {
        case 0x00: case 0x01: case 0x02:
            if (seen_enc++) {
                wd_comp_err(x->err, oo, "duplicate string-encoding canonical option");
                return -1;
            }
            o->string_encoding = k;
            break;
        case 0x03:
            if (o->has_memory) {
                wd_comp_err(x->err, oo, "duplicate memory canonical option");
                return -1;
            }
            if (wd_comp_rd_u32(r, &idx) != 0 || wd_comp_get_item(x, sc, WD_SP_CORE_MEMORY, idx, oo) == NULL) {
                return -1;
            }
            o->has_memory = 1;
            o->memory = idx;
            break;
        case 0x04:
        case 0x05:
            if ((k == 0x04 && o->has_realloc) || (k == 0x05 && o->has_post_return)) {
                wd_comp_err(x->err, oo, "duplicate %s canonical option", k == 0x04 ? "realloc" : "post-return");
                return -1;
            }
            if (wd_comp_rd_u32(r, &idx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_CORE_FUNC, idx, oo)) == NULL) {
                return -1;
            }
            if (k == 0x04) {
                if (!wd_comp_functype_eq(&it->type->core, &realloc_t)) {
                    char b[160];
                    wd_comp_functype_str(&it->type->core, b, sizeof(b));
                    wd_comp_err(x->err, oo, "realloc (core func %u) has type %s, not (i32 i32 i32 i32) -> (i32)", idx, b);
                    return -1;
                }
                o->has_realloc = 1;
                o->realloc = idx;
            } else {
                if (lift != 1) {
                    wd_comp_err(x->err, oo, "post-return is only allowed on canon lift");
                    return -1;
                }
                o->has_post_return = 1;
                o->post_return = idx;
            }
            break;
        case 0x06:
            if (o->async_) {
                wd_comp_err(x->err, oo, "duplicate async canonical option");
                return -1;
            }
            o->async_ = 1;
            break;
        case 0x07: {
            static const wd_wasm_functype_t cb_t = { 3, 1, i32x4, i32x4 };
            if (o->has_callback) {
                wd_comp_err(x->err, oo, "duplicate callback canonical option");
                return -1;
            }
            if (wd_comp_rd_u32(r, &idx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_CORE_FUNC, idx, oo)) == NULL) {
                return -1;
            }
            if (lift != 1) {
                wd_comp_err(x->err, oo, "callback is only allowed on canon lift");
                return -1;
            }
            if (!wd_comp_functype_eq(&it->type->core, &cb_t)) {
                char b[160];
                wd_comp_functype_str(&it->type->core, b, sizeof(b));
                wd_comp_err(x->err, oo, "callback (core func %u) has type %s, not (i32 i32 i32) -> (i32)", idx, b);
                return -1;
            }
            o->has_callback = 1;
            o->callback = idx;
            break;
        }
        default:
            wd_comp_err(x->err, oo, "invalid canonical option 0x%02x", k);
            return -1;
        }
    }
    if (o->has_callback && !o->async_) {
        wd_comp_err(x->err, off, "the callback canonical option needs async");
        return -1;
    }
    if (o->async_ && o->has_post_return) {
        wd_comp_err(x->err, off, "post-return may not be given with async");
        return -1;
    }
    return 0;
}

static int
wd_comp_copy_flat(wd_comp_pctx_t *x, wd_wasm_functype_t *f, const uint8_t *p, uint32_t np,
                  const uint8_t *res, uint32_t nr)
{
    uint8_t *v = wd_comp_alloc(&x->c->arena, np + nr + 1);
    if (v == NULL) {
        return -1;
    }
    memcpy(v, p, np);
    memcpy(v + np, res, nr);
    f->nparams = np;
    f->params = v;
    f->nresults = nr;
    f->results = v + np;
    return 0;
}

static int
wd_comp_canon_needs(wd_comp_pctx_t *x, const wd_comp_func_type_t *ft, const wd_comp_canon_t *o, int lift,
                    int64_t off)
{
    int ptr_params = wd_comp_has_ptr_params(ft);
    int ptr_result = ft->result && ft->result->has_ptr;
    int need_mem = ptr_params || ptr_result || ft->params_in_memory || ft->result_in_memory;
    /* lift: the caller (host) allocates the params in guest memory; lower: the host allocates
       the results (CanonicalABI.md lift_flat/lower_flat, store via realloc) */
    int need_realloc = lift ? (ptr_params || ft->params_in_memory) : ptr_result;
    if (need_mem && !o->has_memory) {
        wd_comp_err(x->err, off, "canon %s: the function type passes strings, lists or spilled values "
                    "through memory, but no memory canonical option is given", lift ? "lift" : "lower");
        return -1;
    }
    if (need_realloc && !o->has_realloc) {
        wd_comp_err(x->err, off, "canon %s: the function type needs a realloc canonical option", lift ? "lift" : "lower");
        return -1;
    }
    if (o->has_realloc && !o->has_memory) {
        wd_comp_err(x->err, off, "canon %s: realloc given without memory", lift ? "lift" : "lower");
        return -1;
    }
    return 0;
}

/* flatten_functype(opts, ft, 'lift'|'lower') with opts.async_ (CanonicalABI.md): lift passes
 * params flat up to MAX_FLAT_PARAMS (results go through task.return: none, or the callback
 * code); lower passes at most MAX_FLAT_ASYNC_PARAMS (4), a result pointer when there is a
 * result, and returns the subtask state */
static int
wd_comp_async_flat(wd_comp_pctx_t *x, const wd_comp_func_type_t *ft, int lift, int callback,
                   wd_wasm_functype_t *out)
{
    static const uint8_t i32[1] = { 0x7f };
    uint8_t p[WD_CABI_MAX_FLAT_PARAMS + 1];
    uint32_t n = 0;
    if (ft->flat_params_n > (lift ? WD_CABI_MAX_FLAT_PARAMS : 4)) {
        p[n++] = 0x7f;
    } else {
        memcpy(p, ft->lift_params, ft->flat_params_n);
        n = ft->flat_params_n;
    }
    if (!lift && ft->result != NULL && ft->result->flat_n > 0) {
        p[n++] = 0x7f;
    }
    return wd_comp_copy_flat(x, out, p, n, i32, lift ? (callback ? 1 : 0) : 1);
}

/* options an async lift/lower of ft needs: strings/lists in params or result, spilled params,
 * a result stored through a pointer (lower) or passed to task.return spilled (lift) */
static int
wd_comp_async_needs(wd_comp_pctx_t *x, const wd_comp_func_type_t *ft, const wd_comp_canon_t *o,
                    int lift, int64_t off)
{
    int ptr_params = wd_comp_has_ptr_params(ft);
    int ptr_result = ft->result && ft->result->has_ptr;
    int spill = ft->flat_params_n > (lift ? WD_CABI_MAX_FLAT_PARAMS : 4);
    int res_mem = ft->result && (lift ? ft->result->flat_n > WD_CABI_MAX_FLAT_PARAMS : 1);
    if ((ptr_params || ptr_result || spill || res_mem) && !o->has_memory) {
        wd_comp_err(x->err, off, "canon %s async: the function type passes values through memory, "
                    "but no memory canonical option is given", lift ? "lift" : "lower");
        return -1;
    }
    if ((lift ? (ptr_params || spill) : ptr_result) && !o->has_realloc) {
        wd_comp_err(x->err, off, "canon %s async: the function type needs a realloc canonical option",
                    lift ? "lift" : "lower");
        return -1;
    }
    if (o->has_realloc && !o->has_memory) {
        wd_comp_err(x->err, off, "canon %s: realloc given without memory", lift ? "lift" : "lower");
        return -1;
    }
    return 0;
}

/* the (stream t?) / (future t?) type a built-in names */
static const wd_comp_type_t *
wd_comp_builtin_vtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, unsigned kind,
                      const char *name)
{
    int64_t to = WD_COMP_OFF(r);
    uint32_t tidx;
    wd_comp_item_t *it;
    if (wd_comp_rd_u32(r, &tidx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_TYPE, tidx, to)) == NULL) {
        return NULL;
    }
    if (it->type->kind != WD_DT_VAL || it->type->val->kind != kind) {
        wd_comp_err(x->err, to, "canon %s: type %u is not a %s type", name, tidx,
                    kind == WD_CT_STREAM ? "stream" : "future");
        return NULL;
    }
    return it->type->val;
}

/* One async built-in (Binary.md canon 0x05..0x25, CanonicalABI.md "Canonical definitions"):
 * its immediates, options and the core function type it is given. */
static int
wd_comp_canon_builtin(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, uint8_t k, int64_t off)
{
    static const uint8_t I[3] = { 0x7f, 0x7f, 0x7f };
    static const uint8_t L[1] = { 0x7e };
    const char *name = wd_comp_builtin_name(k);
    const wd_comp_type_t *vt = NULL;
    wd_comp_canon_t o;
    uint8_t flag = 0, np = 0, nr = 0, b;
    const uint8_t *rt = I;
    uint32_t imm = 0;
    wd_comp_deftype_t *d;
    wd_comp_item_t *it;
    int64_t fo;

    memset(&o, 0, sizeof(o));
    switch (k) {
    case 0x05: case 0x24: case 0x25:                      /* task.cancel, backpressure.inc|dec: (func) */
        break;
    case 0x06: case 0x0c:                                 /* subtask.cancel async?, yield cancellable? */
        fo = WD_COMP_OFF(r);
        if (wd_comp_rd_byte(r, &flag) != 0) {
            return -1;
        }
        if (flag > 1) {
            wd_comp_err(x->err, fo, "canon %s: invalid %s byte 0x%02x", name, k == 0x06 ? "async?" : "cancel?", flag);
            return -1;
        }
        np = k == 0x06;
        nr = 1;
        break;
    case 0x09: {                                          /* task.return (result t)? opts */
        fo = WD_COMP_OFF(r);
        if (wd_comp_rd_byte(r, &b) != 0) {
            return -1;
        }
        if (b == 0x00) {
            uint32_t w;
            if (wd_comp_decode_valtype(x, r, sc, &vt, &w) != 0) {
                return -1;
            }
            if (vt->has_borrow) {
                wd_comp_err(x->err, fo, "canon task.return: a result may not contain a borrow handle");
                return -1;
            }
        } else if (b == 0x01) {
            if (wd_comp_rd_byte(r, &b) != 0) {
                return -1;
            }
            if (b != 0) {
                wd_comp_err(x->err, fo, "canon task.return: named results are not allowed");
                return -1;
            }
        } else {
            wd_comp_err(x->err, fo, "canon task.return: invalid result list 0x%02x", b);
            return -1;
        }
        if (wd_comp_canonopts(x, r, sc, 2, &o, off) != 0) {
            return -1;
        }
        if (o.has_realloc || o.async_) {
            wd_comp_err(x->err, off, "canon task.return: only memory and string-encoding options are allowed");
            return -1;
        }
        if (vt != NULL && (vt->has_ptr || vt->flat_n > WD_CABI_MAX_FLAT_PARAMS) && !o.has_memory) {
            wd_comp_err(x->err, off, "canon task.return: the result is passed through memory, but no memory "
                        "canonical option is given");
            return -1;
        }
        d = wd_comp_new_deftype(x, WD_DT_CORE_FUNC);
        if (d == NULL) {
            goto oom;
        }
        if (vt == NULL) {
            d->core.nparams = 0;
        } else if (vt->flat_n > WD_CABI_MAX_FLAT_PARAMS) {
            d->core.nparams = 1;
            d->core.params = I;
        } else {
            d->core.nparams = vt->flat_n;
            d->core.params = vt->flat;
        }
        goto add;
    }
    case 0x0a: case 0x0b: {                               /* context.get|set i32 i */
        fo = WD_COMP_OFF(r);
        if (wd_comp_rd_byte(r, &b) != 0 || wd_comp_rd_u32(r, &imm) != 0) {
            return -1;
        }
        if (b != 0x7f) {
            wd_comp_err(x->err, fo, "canon %s: the type must be i32 (got 0x%02x)", name, b);
            return -1;
        }
        if (imm >= 2) {
            wd_comp_err(x->err, fo, "canon %s: slot %u (only 0 and 1 exist)", name, imm);
            return -1;
        }
        np = k == 0x0b;
        nr = k == 0x0a;
        break;
    }
    case 0x0d: case 0x1e: case 0x22:                      /* subtask.drop, error-context.drop, waitable-set.drop */
        np = 1;
        break;
    case 0x0e: case 0x15:                                 /* stream.new / future.new t */
        if ((vt = wd_comp_builtin_vtype(x, r, sc, k == 0x0e ? WD_CT_STREAM : WD_CT_FUTURE, name)) == NULL) {
            return -1;
        }
        nr = 1;
        rt = L;
        break;
    case 0x0f: case 0x10: case 0x16: case 0x17: {         /* stream|future.read|write t opts */
        int stream = k <= 0x10, rd = k == 0x0f || k == 0x16;
        if ((vt = wd_comp_builtin_vtype(x, r, sc, stream ? WD_CT_STREAM : WD_CT_FUTURE, name)) == NULL
            || wd_comp_canonopts(x, r, sc, 2, &o, off) != 0) {
            return -1;
        }
        if (vt->elem != NULL && !o.has_memory) {
            wd_comp_err(x->err, off, "canon %s: the element type needs a memory canonical option", name);
            return -1;
        }
        if (vt->elem != NULL && rd && vt->elem->has_ptr && !o.has_realloc) {
            wd_comp_err(x->err, off, "canon %s: the element type needs a realloc canonical option", name);
            return -1;
        }
        if (o.has_realloc && !o.has_memory) {
            wd_comp_err(x->err, off, "canon %s: realloc given without memory", name);
            return -1;
        }
        np = stream ? 3 : 2;
        nr = 1;
        break;
    }
    case 0x11: case 0x12: case 0x18: case 0x19:          /* *.cancel-read|write t async? */
    case 0x13: case 0x14: case 0x1a: case 0x1b:          /* *.drop-readable|writable t */
        if ((vt = wd_comp_builtin_vtype(x, r, sc, k <= 0x14 ? WD_CT_STREAM : WD_CT_FUTURE, name)) == NULL) {
            return -1;
        }
        np = 1;
        if (k == 0x11 || k == 0x12 || k == 0x18 || k == 0x19) {
            fo = WD_COMP_OFF(r);
            if (wd_comp_rd_byte(r, &flag) != 0) {
                return -1;
            }
            if (flag > 1) {
                wd_comp_err(x->err, fo, "canon %s: invalid async? byte 0x%02x", name, flag);
                return -1;
            }
            nr = 1;
        }
        break;
    case 0x1c: case 0x1d:                                 /* error-context.new|debug-message opts */
        if (wd_comp_canonopts(x, r, sc, 2, &o, off) != 0) {
            return -1;
        }
        if (o.async_) {
            wd_comp_err(x->err, off, "canon %s: the async option is not allowed", name);
            return -1;
        }
        if (!o.has_memory || (k == 0x1d && !o.has_realloc)) {
            wd_comp_err(x->err, off, "canon %s: needs the memory%s canonical option%s", name,
                        k == 0x1d ? " and realloc" : "", k == 0x1d ? "s" : "");
            return -1;
        }
        np = 2;
        nr = k == 0x1c;
        break;
    case 0x1f:                                            /* waitable-set.new */
        nr = 1;
        break;
    case 0x20: case 0x21: {                               /* waitable-set.wait|poll cancel? (memory m) */
        uint32_t m;
        fo = WD_COMP_OFF(r);
        if (wd_comp_rd_byte(r, &flag) != 0) {
            return -1;
        }
        if (flag > 1) {
            wd_comp_err(x->err, fo, "canon %s: invalid cancel? byte 0x%02x", name, flag);
            return -1;
        }
        fo = WD_COMP_OFF(r);
        if (wd_comp_rd_u32(r, &m) != 0 || wd_comp_get_item(x, sc, WD_SP_CORE_MEMORY, m, fo) == NULL) {
            return -1;
        }
        o.has_memory = 1;
        o.memory = m;
        np = 2;
        nr = 1;
        break;
    }
    case 0x23:                                            /* waitable.join */
        np = 2;
        break;
    default:
        wd_comp_err(x->err, off, "invalid canonical definition 0x%02x", k);
        return -1;
    }
    d = wd_comp_new_deftype(x, WD_DT_CORE_FUNC);
    if (d == NULL) {
        goto oom;
    }
    d->core.nparams = np;
    d->core.params = I;
    d->core.nresults = nr;
    d->core.results = rt;
add:
    if ((it = wd_comp_add_item(x, sc, WD_SP_CORE_FUNC, WD_DEF_BUILTIN, off)) == NULL) {
        return -1;
    }
    it->a = k;
    it->b = imm;
    it->flag = flag;
    it->vtype = vt;
    it->canon = o;
    it->type = d;
    return 0;
oom:
    wd_comp_err(x->err, off, "out of memory");
    return -1;
}

static int
wd_comp_section_canon(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r);
        uint8_t k, z;
        uint32_t idx, tidx;
        wd_comp_item_t *it, *src;
        wd_comp_canon_t o;
        const char *an;

        if (wd_comp_rd_byte(r, &k) != 0) {
            return -1;
        }
        switch (k) {
        case 0x00: {              /* lift */
            int64_t fo, to;
            const wd_comp_func_type_t *ft;
            wd_wasm_functype_t want;
            if (wd_comp_rd_byte(r, &z) != 0) {
                return -1;
            }
            if (z != 0x00) {
                wd_comp_err(x->err, off, "canon lift: invalid sort byte 0x%02x", z);
                return -1;
            }
            fo = WD_COMP_OFF(r);
            if (wd_comp_rd_u32(r, &idx) != 0 || (src = wd_comp_get_item(x, sc, WD_SP_CORE_FUNC, idx, fo)) == NULL
                || wd_comp_canonopts(x, r, sc, 1, &o, off) != 0) {
                return -1;
            }
            to = WD_COMP_OFF(r);
            if (wd_comp_rd_u32(r, &tidx) != 0 || (it = wd_comp_get_item(x, sc, WD_SP_TYPE, tidx, to)) == NULL) {
                return -1;
            }
            if (it->type->kind != WD_DT_FUNC) {
                wd_comp_err(x->err, to, "canon lift: type %u is not a function type", tidx);
                return -1;
            }
            ft = it->type->func;
            if (o.async_ && !ft->async) {
                wd_comp_err(x->err, off, "canon lift: the async option needs an async function type");
                return -1;
            }
            if ((o.async_ ? wd_comp_async_flat(x, ft, 1, o.has_callback, &want)
                 : wd_comp_copy_flat(x, &want, ft->lift_params, ft->lift_params_n, ft->lift_results,
                                     ft->lift_results_n)) != 0) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
            if (!wd_comp_functype_eq(&src->type->core, &want)) {
                char b1[200], b2[200];
                wd_comp_functype_str(&src->type->core, b1, sizeof(b1));
                wd_comp_functype_str(&want, b2, sizeof(b2));
                wd_comp_err(x->err, off, "canon lift: core func %u has type %.70s, but the function type flattens to %.70s",
                            idx, b1, b2);
                return -1;
            }
            if (o.has_post_return) {
                wd_wasm_functype_t pr = { want.nresults, 0, want.results, NULL };
                const wd_comp_deftype_t *pt = sc->sp[WD_SP_CORE_FUNC].items[o.post_return].type;
                if (!wd_comp_functype_eq(&pt->core, &pr)) {
                    char b1[200], b2[200];
                    wd_comp_functype_str(&pt->core, b1, sizeof(b1));
                    wd_comp_functype_str(&pr, b2, sizeof(b2));
                    wd_comp_err(x->err, off, "canon lift: post-return (core func %u) has type %.90s, not %.90s",
                                o.post_return, b1, b2);
                    return -1;
                }
            }
            if ((o.async_ ? wd_comp_async_needs(x, ft, &o, 1, off) : wd_comp_canon_needs(x, ft, &o, 1, off)) != 0) {
                return -1;
            }
            if ((it = wd_comp_add_item(x, sc, WD_SP_FUNC, WD_DEF_LIFT, off)) == NULL) {
                return -1;
            }
            it->a = idx;
            it->b = tidx;
            it->canon = o;
            it->lift_core = want;
            it->type = sc->sp[WD_SP_TYPE].items[tidx].type;
            break;
        }
        case 0x01: {              /* lower */
            int64_t fo;
            const wd_comp_func_type_t *ft;
            wd_comp_deftype_t *d;
            if (wd_comp_rd_byte(r, &z) != 0) {
                return -1;
            }
            if (z != 0x00) {
                wd_comp_err(x->err, off, "canon lower: invalid sort byte 0x%02x", z);
                return -1;
            }
            fo = WD_COMP_OFF(r);
            if (wd_comp_rd_u32(r, &idx) != 0 || (src = wd_comp_get_item(x, sc, WD_SP_FUNC, idx, fo)) == NULL
                || wd_comp_canonopts(x, r, sc, 0, &o, off) != 0) {
                return -1;
            }
            ft = src->type->func;
            if (o.async_ && !ft->async) {
                wd_comp_err(x->err, off, "canon lower: the async option needs an async function type");
                return -1;
            }
            if ((o.async_ ? wd_comp_async_needs(x, ft, &o, 0, off) : wd_comp_canon_needs(x, ft, &o, 0, off)) != 0) {
                return -1;
            }
            d = wd_comp_new_deftype(x, WD_DT_CORE_FUNC);
            if (d == NULL || (o.async_ ? wd_comp_async_flat(x, ft, 0, 0, &d->core)
                              : wd_comp_copy_flat(x, &d->core, ft->lower_params, ft->lower_params_n,
                                                  ft->lower_results, ft->lower_results_n)) != 0) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
            if ((it = wd_comp_add_item(x, sc, WD_SP_CORE_FUNC, WD_DEF_LOWER, off)) == NULL) {
                return -1;
            }
            it->a = idx;
            it->canon = o;
            it->type = d;
            break;
        }
        case 0x02: case 0x03: case 0x04: {   /* resource.new / drop / rep */
            int64_t to = WD_COMP_OFF(r);
            wd_comp_deftype_t *d;
            static const uint8_t i32[1] = { 0x7f };
            if (wd_comp_rd_u32(r, &tidx) != 0 || (src = wd_comp_get_item(x, sc, WD_SP_TYPE, tidx, to)) == NULL) {
                return -1;
            }
            if (src->type->kind != WD_DT_RESOURCE) {
                wd_comp_err(x->err, to, "canon resource.%s: type %u is not a resource type",
                            k == 0x02 ? "new" : k == 0x03 ? "drop" : "rep", tidx);
                return -1;
            }
            if (k != 0x03 && !src->type->local) {
                wd_comp_err(x->err, to, "canon resource.%s: type %u is not a resource defined by this component",
                            k == 0x02 ? "new" : "rep", tidx);
                return -1;
            }
            d = wd_comp_new_deftype(x, WD_DT_CORE_FUNC);
            if (d == NULL) {
                wd_comp_err(x->err, off, "out of memory");
                return -1;
            }
            d->core.nparams = 1;
            d->core.params = i32;
            d->core.nresults = k == 0x03 ? 0 : 1;
            d->core.results = i32;
            if ((it = wd_comp_add_item(x, sc, WD_SP_CORE_FUNC, k == 0x02 ? WD_DEF_RESOURCE_NEW : k == 0x03
                                       ? WD_DEF_RESOURCE_DROP : WD_DEF_RESOURCE_REP, off)) == NULL) {
                return -1;
            }
            it->a = tidx;
            it->type = d;
            break;
        }
        case 0x05: case 0x06: case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d:
        case 0x0e: case 0x0f: case 0x10: case 0x11: case 0x12: case 0x13: case 0x14:
        case 0x15: case 0x16: case 0x17: case 0x18: case 0x19: case 0x1a: case 0x1b:
        case 0x1c: case 0x1d: case 0x1e: case 0x1f: case 0x20: case 0x21: case 0x22:
        case 0x23: case 0x24: case 0x25:
            if (wd_comp_canon_builtin(x, r, sc, k, off) != 0) {
                return -1;
            }
            break;
        default:
            an = wd_comp_builtin_name(k);
            if (an) {
                wd_comp_err(x->err, off, "canon %s (component-model threads) is not supported", an);
            } else {
                wd_comp_err(x->err, off, "invalid canonical definition 0x%02x", k);
            }
            return -1;
        }
    }
    return 0;
}

static int
wd_comp_section_imports(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r);
        const char *name;
        uint16_t sort;
        const wd_comp_deftype_t *t;
        wd_comp_item_t *it;
        int sp;
        if (wd_comp_decode_externname(x, r, &name) != 0 || wd_comp_decode_externtype(x, r, sc, &sort, &t) != 0) {
            return -1;
        }
        sp = wd_comp_sort_space(sort);
        if ((it = wd_comp_add_item(x, sc, sp, WD_DEF_IMPORT, off)) == NULL) {
            return -1;
        }
        it->name = name;
        it->type = t;
        if (sc->parent == NULL && t->kind == WD_DT_INSTANCE) {
            /* the resources of a root instance import come from that interface (the host
               checks them by it): the first root import exporting one defines it (a later
               one can only re-export it by an outer alias, as wasi:clocks does pollable) */
            for (uint32_t j = 0; j < t->nexports; j++) {
                const wd_comp_deftype_t *et = t->exports[j].type;
                if (t->exports[j].sort == WD_SORT_TYPE && et && et->kind == WD_DT_RESOURCE
                    && !et->local) {
                    wd_comp_resource_t *res = et->resource;
                    if (res->iface == NULL) {
                        res->iface = name;
                    }
                }
            }
        }
        if (wd_comp_grow(&x->c->arena, (void **) &sc->imports, &sc->imports_cap, sc->nimports,
                         sizeof(*sc->imports)) != 0) {
            wd_comp_err(x->err, off, "out of memory");
            return -1;
        }
        sc->imports[sc->nimports].name = name;
        sc->imports[sc->nimports].sort = sort;
        sc->imports[sc->nimports].index = sc->sp[sp].n - 1;
        sc->nimports++;
    }
    return 0;
}

static int
wd_comp_section_exports(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    uint32_t n;
    if (wd_comp_rd_u32(r, &n) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t off = WD_COMP_OFF(r), io;
        const char *name;
        uint16_t sort, asort;
        uint32_t idx;
        uint8_t has;
        const wd_comp_deftype_t *at;
        wd_comp_item_t *it, *src;
        int sp;
        if (wd_comp_decode_externname(x, r, &name) != 0 || wd_comp_rd_sort(x, r, &sort) != 0) {
            return -1;
        }
        sp = wd_comp_sort_space(sort);
        if (sp < 0 || sp == WD_SP_VALUE || (sort > 0x100 && sort != WD_SORT_CORE_MODULE)) {
            wd_comp_err(x->err, off, "a component cannot export a %s", wd_comp_sort_name(sort));
            return -1;
        }
        io = WD_COMP_OFF(r);
        if (wd_comp_rd_u32(r, &idx) != 0 || (src = wd_comp_get_item(x, sc, sp, idx, io)) == NULL
            || wd_comp_rd_byte(r, &has) != 0) {
            return -1;
        }
        if (has == 1) {
            int64_t ao = WD_COMP_OFF(r);
            if (wd_comp_decode_externtype(x, r, sc, &asort, &at) != 0) {
                return -1;
            }
            if (asort != sort) {
                wd_comp_err(x->err, ao, "export \"%s\": ascribed a %s type, exports a %s", name,
                            wd_comp_sort_name(asort), wd_comp_sort_name(sort));
                return -1;
            }
        } else if (has != 0) {
            wd_comp_err(x->err, off, "invalid export type flag 0x%02x", has);
            return -1;
        }
        if ((it = wd_comp_add_item(x, sc, sp, WD_DEF_EXPORT, off)) == NULL) {
            return -1;
        }
        src = &sc->sp[sp].items[idx];     /* the space may have moved */
        it->a = idx;
        it->name = name;
        it->type = src->type;
        it->comp = src->comp;
        it->module = src->module;
        it->module_index = src->module_index;
        if (wd_comp_grow(&x->c->arena, (void **) &sc->exports, &sc->exports_cap, sc->nexports,
                         sizeof(*sc->exports)) != 0) {
            wd_comp_err(x->err, off, "out of memory");
            return -1;
        }
        sc->exports[sc->nexports].name = name;
        sc->exports[sc->nexports].sort = sort;
        sc->exports[sc->nexports].index = sc->sp[sp].n - 1;
        sc->nexports++;
    }
    return 0;
}

static int wd_comp_parse_component(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *parent,
                                   wd_comp_static_t **out);

static int
wd_comp_section_component(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc)
{
    int64_t off = WD_COMP_OFF(r);
    wd_comp_static_t *nested;
    wd_comp_item_t *it;
    uint32_t max = x->opts && x->opts->max_nesting ? x->opts->max_nesting : 16;
    if (x->nesting >= max) {
        wd_comp_err(x->err, off, "components nested too deeply (limit %u)", max);
        return -1;
    }
    x->nesting++;
    if (wd_comp_parse_component(x, r, sc, &nested) != 0) {
        return -1;
    }
    x->nesting--;
    if ((it = wd_comp_add_item(x, sc, WD_SP_COMPONENT, WD_DEF_COMPONENT, off)) == NULL) {
        return -1;
    }
    it->comp = nested;
    it->type = nested->ctype;
    return 0;
}

/* the component type of a parsed component; imports and exports strongly-unique */
static int
wd_comp_finish_component(wd_comp_pctx_t *x, wd_comp_static_t *sc)
{
    wd_comp_deftype_t *d = wd_comp_new_deftype(x, WD_DT_COMPONENT);
    const char **names;
    uint32_t m = sc->nimports > sc->nexports ? sc->nimports : sc->nexports;

    names = wd_comp_alloc(&x->c->arena, (m ? m : 1) * sizeof(*names));
    if (d == NULL || names == NULL) {
        wd_comp_err(x->err, sc->offset, "out of memory");
        return -1;
    }
    d->nimports = sc->nimports;
    d->nexports = sc->nexports;
    d->imports = wd_comp_alloc(&x->c->arena, (sc->nimports + 1) * sizeof(*d->imports));
    d->exports = wd_comp_alloc(&x->c->arena, (sc->nexports + 1) * sizeof(*d->exports));
    if (d->imports == NULL || d->exports == NULL) {
        wd_comp_err(x->err, sc->offset, "out of memory");
        return -1;
    }
    for (uint32_t pass = 0; pass < 2; pass++) {
        wd_comp_arg_t *v = pass ? sc->exports : sc->imports;
        wd_comp_extern_t *e = pass ? d->exports : d->imports;
        uint32_t n = pass ? sc->nexports : sc->nimports;
        for (uint32_t i = 0; i < n; i++) {
            wd_comp_item_t *it = &sc->sp[wd_comp_sort_space(v[i].sort)].items[v[i].index];
            names[i] = v[i].name;
            e[i].name = v[i].name;
            e[i].sort = v[i].sort;
            e[i].type = it->type;
            if (pass == 1 && v[i].sort == WD_SORT_FUNC && it->type->func->result
                && it->type->func->result->has_borrow) {
                wd_comp_err(x->err, it->offset, "export \"%s\" returns a borrow handle", v[i].name);
                return -1;
            }
        }
        int dup = wd_comp_find_dup(names, n);
        if (dup != -1) {
            int64_t o = dup >= 0 ? sc->sp[wd_comp_sort_space(v[dup].sort)].items[v[dup].index].offset : sc->offset;
            if (dup >= 0) {
                wd_comp_err(x->err, o, "duplicate %s \"%.80s\"", pass ? "export name" : "import name", names[dup]);
            } else {
                wd_comp_err(x->err, o, "out of memory");
            }
            return -1;
        }
    }
    sc->ctype = d;
    return 0;
}

static int
wd_comp_parse_component(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *parent,
                        wd_comp_static_t **out)
{
    static const uint8_t pre[8] = { 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00 };
    wd_comp_static_t *sc = wd_comp_alloc(&x->c->arena, sizeof(*sc));
    int64_t off = WD_COMP_OFF(r);

    if (sc == NULL) {
        wd_comp_err(x->err, off, "out of memory");
        return -1;
    }
    sc->parent = parent;
    sc->offset = (uint32_t) off;
    if (r->end - r->p < 8 || memcmp(r->p, pre, 4) != 0) {
        wd_comp_err(x->err, off, "not a WebAssembly component (bad magic)");
        return -1;
    }
    if (memcmp(r->p + 4, pre + 4, 4) != 0) {
        if (r->p[6] == 0 && r->p[7] == 0) {
            wd_comp_err(x->err, off + 4, "a core module where a component is expected");
        } else {
            wd_comp_err(x->err, off + 4, "unknown component binary version 0x%02x%02x, layer 0x%02x%02x "
                        "(wasmd reads version 0x0d, layer 1)", r->p[5], r->p[4], r->p[7], r->p[6]);
        }
        return -1;
    }
    r->p += 8;
    while (r->p < r->end) {
        int64_t so = WD_COMP_OFF(r);
        uint8_t id;
        uint32_t size;
        wd_comp_rd_t sr;
        int rc = 0;
        if (wd_comp_rd_byte(r, &id) != 0 || wd_comp_rd_u32(r, &size) != 0) {
            return -1;
        }
        if (size > (size_t) (r->end - r->p)) {
            wd_comp_err(x->err, so, "section %u of %u bytes runs past the end (%zu left)", id, size,
                        (size_t) (r->end - r->p));
            return -1;
        }
        sr = *r;
        sr.end = r->p + size;
        switch (id) {
        case 0: {
            const char *name;
            uint32_t len;
            rc = wd_comp_rd_name(&sr, &x->c->arena, &name, &len);
            sr.p = sr.end;
            break;
        }
        case 1: rc = wd_comp_section_core_module(x, &sr, sc); break;
        case 2: rc = wd_comp_section_core_instances(x, &sr, sc); break;
        case 3: rc = wd_comp_section_core_types(x, &sr, sc); break;
        case 4: rc = wd_comp_section_component(x, &sr, sc); break;
        case 5: rc = wd_comp_section_instances(x, &sr, sc); break;
        case 6: rc = wd_comp_section_aliases(x, &sr, sc); break;
        case 7: rc = wd_comp_section_types(x, &sr, sc); break;
        case 8: rc = wd_comp_section_canon(x, &sr, sc); break;
        case 9:
            wd_comp_err(x->err, so, "component start functions (value definitions) are not supported");
            return -1;
        case 10: rc = wd_comp_section_imports(x, &sr, sc); break;
        case 11: rc = wd_comp_section_exports(x, &sr, sc); break;
        case 12:
            wd_comp_err(x->err, so, "component value definitions are not supported");
            return -1;
        default:
            wd_comp_err(x->err, so, "unknown section id %u", id);
            return -1;
        }
        if (rc != 0) {
            return -1;
        }
        if (sr.p != sr.end) {
            wd_comp_err(x->err, WD_COMP_OFF(&sr), "section %u has %zu bytes left over", id,
                        (size_t) (sr.end - sr.p));
            return -1;
        }
        r->p = sr.end;
    }
    if (wd_comp_finish_component(x, sc) != 0) {
        return -1;
    }
    *out = sc;
    return 0;
}

int
wd_comp_parse(wd_comp_t *c, const uint8_t *bytes, size_t len, const wd_comp_load_opts_t *opts,
              wd_comp_error_t *err)
{
    wd_comp_pctx_t x;
    wd_comp_rd_t r;

    memset(&x, 0, sizeof(x));
    x.c = c;
    x.opts = opts;
    x.err = err;
    r.file = r.p = bytes;
    r.end = bytes + len;
    r.err = err;
    return wd_comp_parse_component(&x, &r, NULL, &c->root);
}
