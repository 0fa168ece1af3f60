/*
 * wd_wasm_decode.c -- binary decoder (spec binary/modules.rst).
 *
 * Reads the module copy in m->bytes into the structures of wd_wasm_int.h.
 * Every malformed input is rejected with the testsuite's wording and the
 * byte offset where the problem was found. Counts read from the binary are
 * checked against the bytes left before anything is allocated (each entry
 * needs at least one byte), sizes are computed in 64 bits, and the load
 * options' implementation limits are applied here (locals) or by the
 * translator (br_table). Instruction sequences are skipped, not checked: the
 * validator owns instruction typing; the decoder only needs to find where
 * constant expressions end.
 */
#include <string.h>
#include "wd_wasm_int.h"
#include "wd_wasm_opcodes.h"

typedef struct {
    wd_wasm_module_t *m;
    const uint8_t *base, *p, *end;  /* end: current section (or body) end */
    wd_wasm_error_t *err;
    const wd_wasm_load_opts_t *opts;
    int64_t func;                   /* function being decoded, for errors */
} wd_dec_t;

#define WD_DEC_FAIL(d, at, ...) do { \
        wd_wasm_set_error((d)->err, (int64_t)((at) - (d)->base), (d)->func, __VA_ARGS__); \
        return -1; } while (0)

static int wd_dec_u32(wd_dec_t *d, uint32_t *out)
{
    const char *why;
    const uint8_t *at = d->p;
    if (wd_wasm_read_u32(&d->p, d->end, out, &why) < 0) WD_DEC_FAIL(d, at, "%s", why);
    return 0;
}

static int wd_dec_byte(wd_dec_t *d, uint8_t *out)
{
    if (d->p >= d->end) WD_DEC_FAIL(d, d->p, "unexpected end");
    *out = *d->p++;
    return 0;
}

/* A vector count: each element takes at least min_bytes bytes. */
static int wd_dec_count(wd_dec_t *d, uint32_t *out, size_t min_bytes)
{
    const uint8_t *at = d->p;
    if (wd_dec_u32(d, out) < 0) return -1;
    if ((uint64_t)*out * min_bytes > (uint64_t)(d->end - d->p))
        WD_DEC_FAIL(d, at, "unexpected end of section or function");
    return 0;
}

/* spec binary/values.rst names: UTF-8 as in Unicode 3.9 (no overlongs, no surrogates, <= U+10FFFF). */
static int wd_dec_utf8_ok(const uint8_t *s, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp, need;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; need = 1; }
        else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; need = 2; }
        else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; need = 3; }
        else return 0;
        if (need >= n - i) return 0;
        for (uint32_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000))
            return 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += need + 1;
    }
    return 1;
}

static int wd_dec_name(wd_dec_t *d, const char **out, uint32_t *out_len)
{
    uint32_t n;
    const uint8_t *at = d->p;
    if (wd_dec_u32(d, &n) < 0) return -1;
    if (n > (uint64_t)(d->end - d->p)) WD_DEC_FAIL(d, at, "unexpected end of section or function");
    if (!wd_dec_utf8_ok(d->p, n)) WD_DEC_FAIL(d, d->p, "malformed UTF-8 encoding");
    if (out) {
        char *s = wd_wasm_malloc((size_t)n + 1);
        if (s == NULL) WD_DEC_FAIL(d, at, "out of memory");
        memcpy(s, d->p, n);
        s[n] = 0;
        *out = s;
        *out_len = n;
    }
    d->p += n;
    return 0;
}

static int wd_dec_valtype(wd_dec_t *d, uint8_t *out)
{
    const uint8_t *at = d->p;
    uint8_t b;
    if (wd_dec_byte(d, &b) < 0) return -1;
    switch (b) {
    case WD_WASM_I32: case WD_WASM_I64: case WD_WASM_F32: case WD_WASM_F64:
    case WD_WASM_FUNCREF: case WD_WASM_EXTERNREF: case WD_WASM_V128:
        *out = b;
        return 0;
    default:
        WD_DEC_FAIL(d, at, "malformed value type");
    }
}

static int wd_dec_reftype(wd_dec_t *d, uint8_t *out)
{
    const uint8_t *at = d->p;
    uint8_t b;
    if (wd_dec_byte(d, &b) < 0) return -1;
    if (b != WD_WASM_FUNCREF && b != WD_WASM_EXTERNREF) WD_DEC_FAIL(d, at, "malformed reference type");
    *out = b;
    return 0;
}

static int wd_dec_limits(wd_dec_t *d, uint32_t *min, uint32_t *max, uint8_t *has_max)
{
    const uint8_t *at = d->p;
    uint8_t flag;
    if (wd_dec_byte(d, &flag) < 0) return -1;
    if (flag > 1) WD_DEC_FAIL(d, at, "integer too large");
    if (wd_dec_u32(d, min) < 0) return -1;
    *has_max = flag;
    *max = 0;
    if (flag && wd_dec_u32(d, max) < 0) return -1;
    return 0;
}

static int wd_dec_globaltype(wd_dec_t *d, wd_wasm_global_decl_t *g)
{
    if (wd_dec_valtype(d, &g->type) < 0) return -1;
    const uint8_t *at = d->p;
    uint8_t mut;
    if (wd_dec_byte(d, &mut) < 0) return -1;
    if (mut > 1) WD_DEC_FAIL(d, at, "malformed mutability");
    g->mutable_ = mut;
    return 0;
}

/* Skip one instruction's immediates (opcode already read). */
static int wd_dec_skip_imm(wd_dec_t *d, int op, const uint8_t *at)
{
    const char *why;
    uint32_t u, n;
    int64_t s;
    const uint8_t *q;
    switch (wd_wasm_opinfo[op].imm) {
    case WD_IMM_NONE: return 0;
    case WD_IMM_BLOCK:
        if (d->p < d->end && (*d->p == 0x40 || *d->p == WD_WASM_I32 || *d->p == WD_WASM_I64 ||
                              *d->p == WD_WASM_F32 || *d->p == WD_WASM_F64 ||
                              *d->p == WD_WASM_FUNCREF || *d->p == WD_WASM_EXTERNREF ||
                              *d->p == WD_WASM_V128)) {
            d->p++;
            return 0;
        }
        q = d->p;
        if (wd_wasm_read_s33(&d->p, d->end, &s, &why) < 0) WD_DEC_FAIL(d, q, "%s", why);
        if (s < 0) WD_DEC_FAIL(d, q, "malformed block type");
        return 0;
    case WD_IMM_LABEL: case WD_IMM_FUNC: case WD_IMM_LOCAL: case WD_IMM_GLOBAL:
    case WD_IMM_TABLE: case WD_IMM_DATA: case WD_IMM_ELEM:
        return wd_dec_u32(d, &u);
    case WD_IMM_CALL_IND: case WD_IMM_MEMARG: case WD_IMM_ELEM_TABLE: case WD_IMM_TABLE_TABLE:
        if (wd_dec_u32(d, &u) < 0) return -1;
        return wd_dec_u32(d, &u);
    case WD_IMM_MEMARG_LANE:
        if (wd_dec_u32(d, &u) < 0 || wd_dec_u32(d, &u) < 0) return -1;
        if (d->end - d->p < 1) WD_DEC_FAIL(d, d->p, "unexpected end");
        d->p += 1;
        return 0;
    case WD_IMM_LANE:
        if (d->end - d->p < 1) WD_DEC_FAIL(d, d->p, "unexpected end");
        d->p += 1;
        return 0;
    case WD_IMM_V128: case WD_IMM_SHUFFLE:
        if (d->end - d->p < 16) WD_DEC_FAIL(d, d->p, "unexpected end");
        d->p += 16;
        return 0;
    case WD_IMM_BR_TABLE:
        if (wd_dec_count(d, &n, 1) < 0) return -1;
        for (uint32_t i = 0; i <= n; i++)
            if (wd_dec_u32(d, &u) < 0) return -1;
        return 0;
    case WD_IMM_MEM: {
        uint8_t b;
        if (wd_dec_byte(d, &b) < 0) return -1;
        if (b != 0) WD_DEC_FAIL(d, d->p - 1, "zero byte expected");
        return 0;
    }
    case WD_IMM_DATA_MEM: {
        uint8_t b;
        if (wd_dec_u32(d, &u) < 0 || wd_dec_byte(d, &b) < 0) return -1;
        if (b != 0) WD_DEC_FAIL(d, d->p - 1, "zero byte expected");
        return 0;
    }
    case WD_IMM_MEM_MEM: {
        uint8_t b, c;
        if (wd_dec_byte(d, &b) < 0 || wd_dec_byte(d, &c) < 0) return -1;
        if (b != 0 || c != 0) WD_DEC_FAIL(d, d->p - 2, "zero byte expected");
        return 0;
    }
    case WD_IMM_I32: {
        int32_t v;
        q = d->p;
        if (wd_wasm_read_s32(&d->p, d->end, &v, &why) < 0) WD_DEC_FAIL(d, q, "%s", why);
        return 0;
    }
    case WD_IMM_I64:
        q = d->p;
        if (wd_wasm_read_s64(&d->p, d->end, &s, &why) < 0) WD_DEC_FAIL(d, q, "%s", why);
        return 0;
    case WD_IMM_F32:
        if (d->end - d->p < 4) WD_DEC_FAIL(d, d->p, "unexpected end");
        d->p += 4;
        return 0;
    case WD_IMM_F64:
        if (d->end - d->p < 8) WD_DEC_FAIL(d, d->p, "unexpected end");
        d->p += 8;
        return 0;
    case WD_IMM_REFTYPE: {
        uint8_t t;
        return wd_dec_reftype(d, &t);
    }
    case WD_IMM_SELECT_T: {
        uint8_t t;
        if (wd_dec_count(d, &n, 1) < 0) return -1;
        for (uint32_t i = 0; i < n; i++)
            if (wd_dec_valtype(d, &t) < 0) return -1;
        return 0;
    }
    }
    (void)at;
    return 0;
}

/* Read one opcode (0xFC family folded into the enum space); -1 = malformed. */
static int wd_dec_opcode(wd_dec_t *d, int *op)
{
    const uint8_t *at = d->p;
    uint8_t b;
    if (wd_dec_byte(d, &b) < 0) return -1;
    if (b == WD_WASM_PREFIX_FC) {
        uint32_t sub;
        if (wd_dec_u32(d, &sub) < 0) return -1;
        if (sub >= WD_OP_FC_LIMIT_ - WD_OP_FC_BASE) WD_DEC_FAIL(d, at, "illegal opcode");
        *op = WD_OP_FC_BASE + (int)sub;
        return 0;
    }
    if (b == WD_WASM_PREFIX_FD) {
        uint32_t sub;
        if (wd_dec_u32(d, &sub) < 0) return -1;
        if (sub >= WD_OP_FD_LIMIT_ - WD_OP_FD_BASE || wd_wasm_opinfo[WD_OP_FD_BASE + sub].name == NULL)
            WD_DEC_FAIL(d, at, "illegal opcode");
        *op = WD_OP_FD_BASE + (int)sub;
        return 0;
    }
    if (wd_wasm_opinfo[b].name == NULL) WD_DEC_FAIL(d, at, "illegal opcode");
    *op = b;
    return 0;
}

/* A constant expression: scan to its matching end (nesting counted so that a
 * malformed block inside is still skipped correctly); the validator checks constness. */
static int wd_dec_expr(wd_dec_t *d, wd_wasm_span_t *span)
{
    const uint8_t *start = d->p;
    uint32_t depth = 0;
    for (;;) {
        const uint8_t *at = d->p;
        int op;
        if (d->p >= d->end) WD_DEC_FAIL(d, d->p, "unexpected end of section or function");
        if (wd_dec_opcode(d, &op) < 0) return -1;
        if (wd_dec_skip_imm(d, op, at) < 0) return -1;
        if (op == WD_OP_BLOCK || op == WD_OP_LOOP || op == WD_OP_IF) depth++;
        else if (op == WD_OP_END) {
            if (depth == 0) break;
            depth--;
        }
    }
    span->off = (uint32_t)(start - d->base);
    span->len = (uint32_t)(d->p - start);
    return 0;
}

static int wd_dec_types(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 3) < 0) return -1;
    /* pool: every type's valtypes fit in the section bytes */
    m->typepool = wd_wasm_malloc((size_t)(d->end - d->p) + 1);
    m->types = wd_wasm_calloc(n, sizeof(*m->types));
    m->type_canon = wd_wasm_calloc(n, sizeof(uint32_t));
    if (!m->typepool || !m->types || !m->type_canon) WD_DEC_FAIL(d, d->p, "out of memory");
    m->ntypes = n;
    size_t pool = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = d->p;
        uint8_t form;
        if (wd_dec_byte(d, &form) < 0) return -1;
        if (form != 0x60) WD_DEC_FAIL(d, at, "malformed functype");
        wd_wasm_functype_t *t = &m->types[i];
        uint32_t np, nr;
        if (wd_dec_count(d, &np, 1) < 0) return -1;
        t->params = m->typepool + pool;
        for (uint32_t k = 0; k < np; k++)
            if (wd_dec_valtype(d, &m->typepool[pool++]) < 0) return -1;
        if (wd_dec_count(d, &nr, 1) < 0) return -1;
        t->results = m->typepool + pool;
        for (uint32_t k = 0; k < nr; k++)
            if (wd_dec_valtype(d, &m->typepool[pool++]) < 0) return -1;
        t->nparams = np;
        t->nresults = nr;
        m->type_canon[i] = i;
        for (uint32_t j = 0; j < i; j++) {
            const wd_wasm_functype_t *u = &m->types[j];
            if (u->nparams == np && u->nresults == nr && !memcmp(u->params, t->params, np) &&
                !memcmp(u->results, t->results, nr)) {
                m->type_canon[i] = j;
                break;
            }
        }
    }
    return 0;
}

static int wd_dec_imports(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 4) < 0) return -1;
    m->imports = wd_wasm_calloc(n, sizeof(*m->imports));
    m->import_type_index = wd_wasm_calloc(n, sizeof(uint32_t));
    /* index spaces grow as imports are read; definitions are appended later */
    m->func_types = wd_wasm_calloc(n, sizeof(uint32_t));
    m->tables = wd_wasm_calloc(n, sizeof(*m->tables));
    m->mems = wd_wasm_calloc(n, sizeof(*m->mems));
    m->globals = wd_wasm_calloc(n, sizeof(*m->globals));
    if (!m->imports || !m->import_type_index || !m->func_types || !m->tables || !m->mems ||
        !m->globals)
        WD_DEC_FAIL(d, d->p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_import_desc_t *im = &m->imports[i];
        if (wd_dec_name(d, &im->module, &im->module_len) < 0) { m->nimports = i + 1; return -1; }
        m->nimports = i + 1;
        if (wd_dec_name(d, &im->name, &im->name_len) < 0) return -1;
        const uint8_t *at = d->p;
        uint8_t kind;
        if (wd_dec_byte(d, &kind) < 0) return -1;
        switch (kind) {
        case 0: {
            uint32_t ti;
            if (wd_dec_u32(d, &ti) < 0) return -1;
            im->kind = WD_WASM_EXTERN_FUNC;
            m->import_type_index[i] = ti;
            m->func_types[m->nfuncs++] = ti;
            if (ti < m->ntypes) im->func = m->types[ti];
            break;
        }
        case 1: {
            wd_wasm_table_decl_t *t = &m->tables[m->ntables++];
            im->kind = WD_WASM_EXTERN_TABLE;
            if (wd_dec_reftype(d, &t->reftype) < 0) return -1;
            if (wd_dec_limits(d, &t->min, &t->max, &t->has_max) < 0) return -1;
            im->valtype = t->reftype;
            im->min = t->min; im->max = t->max; im->has_max = t->has_max;
            break;
        }
        case 2: {
            wd_wasm_mem_decl_t *mm = &m->mems[m->nmems++];
            im->kind = WD_WASM_EXTERN_MEMORY;
            if (wd_dec_limits(d, &mm->min, &mm->max, &mm->has_max) < 0) return -1;
            im->min = mm->min; im->max = mm->max; im->has_max = mm->has_max;
            break;
        }
        case 3: {
            wd_wasm_global_decl_t *g = &m->globals[m->nglobals++];
            im->kind = WD_WASM_EXTERN_GLOBAL;
            if (wd_dec_globaltype(d, g) < 0) return -1;
            g->imported = 1;
            im->valtype = g->type;
            im->mutable_ = g->mutable_;
            break;
        }
        default:
            WD_DEC_FAIL(d, at, "malformed import kind");
        }
    }
    m->nfuncs_imported = m->nfuncs;
    m->ntables_imported = m->ntables;
    m->nmems_imported = m->nmems;
    m->nglobals_imported = m->nglobals;
    return 0;
}

/* Grow an index-space array to hold `add` more entries. */
static int wd_dec_grow(wd_dec_t *d, void **arr, uint32_t have, uint32_t add, size_t elem)
{
    uint64_t total = (uint64_t)have + add;
    if (total > UINT32_MAX) WD_DEC_FAIL(d, d->p, "too many definitions");
    void *p = wd_wasm_realloc(*arr, (size_t)total * elem + 1);
    if (p == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
    memset((char *)p + (size_t)have * elem, 0, (size_t)add * elem);
    *arr = p;
    return 0;
}

static int wd_dec_funcs(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 1) < 0) return -1;
    if (wd_dec_grow(d, (void **)&m->func_types, m->nfuncs, n, sizeof(uint32_t)) < 0) return -1;
    m->funcs = wd_wasm_calloc(n, sizeof(*m->funcs));
    if (m->funcs == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ti;
        if (wd_dec_u32(d, &ti) < 0) return -1;
        m->func_types[m->nfuncs++] = ti;
        m->funcs[i].type_index = ti;
    }
    return 0;
}

static int wd_dec_tables(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 3) < 0) return -1;
    if (wd_dec_grow(d, (void **)&m->tables, m->ntables, n, sizeof(*m->tables)) < 0) return -1;
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_table_decl_t *t = &m->tables[m->ntables++];
        if (wd_dec_reftype(d, &t->reftype) < 0) return -1;
        if (wd_dec_limits(d, &t->min, &t->max, &t->has_max) < 0) return -1;
    }
    return 0;
}

static int wd_dec_mems(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 2) < 0) return -1;
    if (wd_dec_grow(d, (void **)&m->mems, m->nmems, n, sizeof(*m->mems)) < 0) return -1;
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_mem_decl_t *mm = &m->mems[m->nmems++];
        if (wd_dec_limits(d, &mm->min, &mm->max, &mm->has_max) < 0) return -1;
    }
    return 0;
}

static int wd_dec_globals(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 3) < 0) return -1;
    if (wd_dec_grow(d, (void **)&m->globals, m->nglobals, n, sizeof(*m->globals)) < 0) return -1;
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_global_decl_t *g = &m->globals[m->nglobals++];
        if (wd_dec_globaltype(d, g) < 0) return -1;
        if (wd_dec_expr(d, &g->init) < 0) return -1;
    }
    return 0;
}

static int wd_dec_exports(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 3) < 0) return -1;
    m->exports = wd_wasm_calloc(n, sizeof(*m->exports));
    if (m->exports == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_export_desc_t *e = &m->exports[i];
        if (wd_dec_name(d, &e->name, &e->name_len) < 0) return -1;
        m->nexports = i + 1;
        const uint8_t *at = d->p;
        uint8_t kind;
        if (wd_dec_byte(d, &kind) < 0) return -1;
        if (kind > 3) WD_DEC_FAIL(d, at, "malformed export kind");
        e->kind = (wd_wasm_extern_kind_t)kind;
        if (wd_dec_u32(d, &e->index) < 0) return -1;
    }
    return 0;
}

static int wd_dec_elems(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    if (wd_dec_count(d, &n, 2) < 0) return -1;
    m->elems = wd_wasm_calloc(n, sizeof(*m->elems));
    if (m->elems == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_elem_decl_t *e = &m->elems[i];
        m->nelems = i + 1;
        e->seg_off = (uint32_t)(d->p - d->base);
        const uint8_t *at = d->p;
        uint32_t flags;
        if (wd_dec_u32(d, &flags) < 0) return -1;
        if (flags > 7) WD_DEC_FAIL(d, at, "malformed elements segment kind");
        e->mode = (flags & 1) ? ((flags & 2) ? WD_WASM_SEG_DECLARATIVE : WD_WASM_SEG_PASSIVE)
                              : WD_WASM_SEG_ACTIVE;
        e->reftype = WD_WASM_FUNCREF;
        if (!(flags & 1)) {
            if (flags & 2) { if (wd_dec_u32(d, &e->table) < 0) return -1; }
            if (wd_dec_expr(d, &e->offset) < 0) return -1;
        }
        int exprs = (flags & 4) != 0;
        if (flags & 3) {      /* elemkind (0x00) or reftype follows */
            if (exprs) {
                if (wd_dec_reftype(d, &e->reftype) < 0) return -1;
            } else {
                uint8_t k;
                at = d->p;
                if (wd_dec_byte(d, &k) < 0) return -1;
                if (k != 0) WD_DEC_FAIL(d, at, "malformed element kind");
            }
        }
        uint32_t cnt;
        if (wd_dec_count(d, &cnt, 1) < 0) return -1;
        e->nitems = cnt;
        if (exprs) {
            e->exprs = wd_wasm_calloc(cnt, sizeof(*e->exprs));
            if (e->exprs == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
            for (uint32_t k = 0; k < cnt; k++)
                if (wd_dec_expr(d, &e->exprs[k]) < 0) return -1;
        } else {
            e->func_indices = wd_wasm_calloc(cnt, sizeof(uint32_t));
            if (e->func_indices == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
            for (uint32_t k = 0; k < cnt; k++)
                if (wd_dec_u32(d, &e->func_indices[k]) < 0) return -1;
        }
    }
    return 0;
}

static int wd_dec_datas(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    const uint8_t *at0 = d->p;
    if (wd_dec_count(d, &n, 2) < 0) return -1;
    if (m->has_datacount && n != m->datacount)
        WD_DEC_FAIL(d, at0, "data count and data section have inconsistent lengths");
    m->datas = wd_wasm_calloc(n, sizeof(*m->datas));
    if (m->datas == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_data_decl_t *g = &m->datas[i];
        m->ndatas = i + 1;
        g->seg_off = (uint32_t)(d->p - d->base);
        const uint8_t *at = d->p;
        uint32_t flags;
        if (wd_dec_u32(d, &flags) < 0) return -1;
        if (flags > 2) WD_DEC_FAIL(d, at, "malformed data segment kind");
        g->mode = flags == 1 ? WD_WASM_SEG_PASSIVE : WD_WASM_SEG_ACTIVE;
        if (flags == 2 && wd_dec_u32(d, &g->memory) < 0) return -1;
        if (flags != 1 && wd_dec_expr(d, &g->offset) < 0) return -1;
        uint32_t len;
        at = d->p;
        if (wd_dec_u32(d, &len) < 0) return -1;
        if (len > (uint64_t)(d->end - d->p)) WD_DEC_FAIL(d, at, "unexpected end of section or function");
        g->bytes.off = (uint32_t)(d->p - d->base);
        g->bytes.len = len;
        d->p += len;
    }
    return 0;
}

static int wd_dec_code(wd_dec_t *d)
{
    wd_wasm_module_t *m = d->m;
    uint32_t n;
    const uint8_t *at0 = d->p;
    if (wd_dec_count(d, &n, 2) < 0) return -1;
    uint32_t ndef = m->nfuncs - m->nfuncs_imported;
    if (n != ndef) WD_DEC_FAIL(d, at0, "function and code section have inconsistent lengths");
    uint32_t max_locals = d->opts && d->opts->max_locals ? d->opts->max_locals
                                                         : WD_WASM_DEFAULT_MAX_LOCALS;
    const uint8_t *sec_end = d->end;
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_func_decl_t *f = &m->funcs[i];
        d->func = m->nfuncs_imported + i;
        f->body_off = (uint32_t)(d->p - d->base);
        uint32_t size;
        const uint8_t *at = d->p;
        if (wd_dec_u32(d, &size) < 0) return -1;
        if (size > (uint64_t)(sec_end - d->p)) WD_DEC_FAIL(d, at, "unexpected end of section or function");
        const uint8_t *body_end = d->p + size;
        d->end = body_end;
        uint32_t nruns;
        if (wd_dec_count(d, &nruns, 2) < 0) return -1;
        f->runs = wd_wasm_calloc(nruns, sizeof(*f->runs));
        if (f->runs == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
        f->nruns = nruns;
        uint64_t total = 0;
        for (uint32_t k = 0; k < nruns; k++) {
            at = d->p;
            if (wd_dec_u32(d, &f->runs[k].count) < 0) return -1;
            total += f->runs[k].count;
            if (total > UINT32_MAX) WD_DEC_FAIL(d, at, "too many locals");
            if (wd_dec_valtype(d, &f->runs[k].type) < 0) return -1;
        }
        f->nlocals = total;
        if (total > max_locals)
            WD_DEC_FAIL(d, d->p, "too many locals: %llu (implementation limit %u, load option max_locals)",
                        (unsigned long long)total, max_locals);
        f->local_types = wd_wasm_malloc((size_t)total + 1);
        if (f->local_types == NULL) WD_DEC_FAIL(d, d->p, "out of memory");
        size_t pos = 0;
        for (uint32_t k = 0; k < nruns; k++) {
            memset(f->local_types + pos, f->runs[k].type, f->runs[k].count);
            pos += f->runs[k].count;
        }
        f->expr.off = (uint32_t)(d->p - d->base);
        f->expr.len = (uint32_t)(body_end - d->p);
        /* instructions (incl. SIMD rejection at the exact offset) are the validator's */
        if (f->expr.len == 0 || body_end[-1] != WD_OP_END)
            WD_DEC_FAIL(d, body_end, "END opcode expected");
        d->p = body_end;
        d->end = sec_end;
    }
    d->func = -1;
    return 0;
}

int wd_wasm_decode(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    wd_dec_t dd = { m, m->bytes, m->bytes, m->bytes + m->len, err, opts, -1 };
    wd_dec_t *d = &dd;
    static const uint8_t magic[4] = { 0, 'a', 's', 'm' };
    if (m->len < 4 || memcmp(m->bytes, magic, 4) != 0) WD_DEC_FAIL(d, d->p, "magic header not detected");
    if (m->len < 8) WD_DEC_FAIL(d, d->p + 4, "unexpected end");
    if (!(m->bytes[4] == 1 && m->bytes[5] == 0 && m->bytes[6] == 0 && m->bytes[7] == 0))
        WD_DEC_FAIL(d, d->p + 4, "unknown binary version");
    d->p += 8;
    const uint8_t *mod_end = d->end;
    /* spec order: type import func table mem global export start elem datacount code data */
    static const int order[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };
    int last = 0, seen_func = 0, seen_code = 0;
    while (d->p < mod_end) {
        const uint8_t *at = d->p;
        uint8_t id;
        d->end = mod_end;
        if (wd_dec_byte(d, &id) < 0) return -1;
        uint32_t size;
        if (wd_dec_u32(d, &size) < 0) return -1;
        if (size > (uint64_t)(mod_end - d->p)) WD_DEC_FAIL(d, d->p, "length out of bounds");
        if (id > 12) WD_DEC_FAIL(d, at, "malformed section id");
        const uint8_t *sec_end = d->p + size;
        d->end = sec_end;
        if (id == 0) {
            if (wd_dec_name(d, NULL, NULL) < 0) return -1;
            d->p = sec_end;
            continue;
        }
        if (order[id] <= last) WD_DEC_FAIL(d, at, "unexpected content after last section");
        last = order[id];
        int rc = 0;
        switch (id) {
        case 1: rc = wd_dec_types(d); break;
        case 2: rc = wd_dec_imports(d); break;
        case 3: rc = wd_dec_funcs(d); seen_func = 1; break;
        case 4: rc = wd_dec_tables(d); break;
        case 5: rc = wd_dec_mems(d); break;
        case 6: rc = wd_dec_globals(d); break;
        case 7: rc = wd_dec_exports(d); break;
        case 8: rc = wd_dec_u32(d, &m->start); m->has_start = 1; break;
        case 9: rc = wd_dec_elems(d); break;
        case 10: rc = wd_dec_code(d); seen_code = 1; m->code_section_off = (uint32_t)(at - d->base); break;
        case 11: rc = wd_dec_datas(d); break;
        case 12: rc = wd_dec_u32(d, &m->datacount); m->has_datacount = 1; break;
        }
        if (rc < 0) return -1;
        if (d->p != sec_end) WD_DEC_FAIL(d, d->p, "section size mismatch");
    }
    (void)seen_func;
    if (!seen_code && m->nfuncs != m->nfuncs_imported)
        WD_DEC_FAIL(d, mod_end, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        WD_DEC_FAIL(d, mod_end, "data count and data section have inconsistent lengths");
    return 0;
}

