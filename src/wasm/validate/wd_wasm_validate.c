/*
 * wd_wasm_validate.c -- Wasm 2.0 core validation (spec valid/ *.rst).
 *
 * Runs after the decoder on the decoded module (wd_wasm_int.h) and checks
 * everything the binary format leaves open: index bounds, limits, constant
 * expressions, export names, the start function, the `C.refs` rule for
 * ref.func, and the typing of every function body.
 *
 * Bodies are checked with the algorithm of spec appendix/algorithm.rst: an
 * operand stack of value types where WD_VAL_UNKNOWN stands for the bottom
 * of a polymorphic (unreachable) stack, and a control stack of frames
 * {kind, start types, end types, stack height, unreachable}. Both stacks live
 * in one validator context whose arrays grow geometrically and are reused for
 * every function, so the cost is linear in the code size with no allocation
 * per instruction. Instruction immediates are re-read from the module bytes
 * with the shared LEB128 readers; the opcode table's "pops:pushes" signature
 * drives every instruction whose typing is fixed, and the rest (control,
 * variables, references, tables, calls, select) are handled explicitly.
 *
 * Errors use the spec testsuite's wording ("type mismatch", "unknown local 3",
 * ...) and carry the byte offset of the offending instruction (or section
 * entry) and the function index (imports included), or -1.
 */
#include <string.h>

#include "wd_wasm_int.h"
#include "wd_wasm_opcodes.h"

#define WD_VAL_UNKNOWN 0                    /* polymorphic stack bottom */
#define WD_VAL_ANYREF  1                    /* internal: any reference type (ref.is_null) */

enum { WD_CTRL_FUNC, WD_CTRL_BLOCK, WD_CTRL_LOOP, WD_CTRL_IF, WD_CTRL_ELSE };

typedef struct {
    uint8_t kind;
    uint8_t unreachable;
    uint32_t height;                        /* operand stack height at entry */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
} wd_val_ctrl_t;

typedef struct {
    const wd_wasm_module_t *m;
    wd_wasm_error_t *err;
    uint32_t max_br_table;

    uint8_t *refs;                          /* C.refs as a bitmap over functions */

    uint8_t *vals;                          /* operand stack */
    uint32_t nvals, cap_vals;
    wd_val_ctrl_t *ctrls;
    uint32_t nctrls, cap_ctrls;
    uint8_t *scratch;                       /* br_table: popped label operands */
    uint32_t cap_scratch;

    /* the function being checked */
    int64_t func;
    uint32_t nparams;
    const uint8_t *params;
    uint64_t nlocals;                       /* params + declared locals */
    const uint8_t *local_types;
    const uint8_t *at;                      /* start of the current instruction */
    const uint8_t *p, *end;
} wd_val_t;

/* valtype -> a one-element type list (block types [t]) */
static const uint8_t wd_val_single[256] = {
    [WD_WASM_I32] = WD_WASM_I32, [WD_WASM_I64] = WD_WASM_I64, [WD_WASM_F32] = WD_WASM_F32,
    [WD_WASM_F64] = WD_WASM_F64, [WD_WASM_V128] = WD_WASM_V128,
    [WD_WASM_FUNCREF] = WD_WASM_FUNCREF, [WD_WASM_EXTERNREF] = WD_WASM_EXTERNREF,
};

#define WD_VAL_FAIL(v, at, ...) do { \
        wd_wasm_set_error((v)->err, (int64_t)((const uint8_t *)(at) - (v)->m->bytes), (v)->func, \
                          __VA_ARGS__); \
        return -1; } while (0)

static int wd_val_is_num(uint8_t t)
{
    return t == WD_VAL_UNKNOWN || t == WD_WASM_I32 || t == WD_WASM_I64 || t == WD_WASM_F32
           || t == WD_WASM_F64 || t == WD_WASM_V128;      /* numeric or vector (select) */
}

static int wd_val_is_ref(uint8_t t)
{
    return t == WD_VAL_UNKNOWN || t == WD_WASM_FUNCREF || t == WD_WASM_EXTERNREF;
}

static int wd_val_is_valtype(uint8_t t)
{
    return t == WD_WASM_I32 || t == WD_WASM_I64 || t == WD_WASM_F32 || t == WD_WASM_F64
           || t == WD_WASM_V128 || t == WD_WASM_FUNCREF || t == WD_WASM_EXTERNREF;
}

/* ------------------------------------------------------------- immediates */

static inline int wd_val_u32(wd_val_t *v, uint32_t *out)
{
    const char *why;
    if (__builtin_expect(v->p < v->end && *v->p < 0x80, 1)) {   /* one-byte LEB128 */
        *out = *v->p++;
        return 0;
    }
    const uint8_t *at = v->p;
    if (wd_wasm_read_u32(&v->p, v->end, out, &why) < 0) WD_VAL_FAIL(v, at, "%s", why);
    return 0;
}

static inline int wd_val_byte(wd_val_t *v, uint8_t *out)
{
    if (v->p >= v->end) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
    *out = *v->p++;
    return 0;
}

static int wd_val_skip(wd_val_t *v, size_t n)
{
    if ((size_t)(v->end - v->p) < n) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
    v->p += n;
    return 0;
}

/* Reads an opcode (0xFC ops as WD_OP_FC_BASE + sub, 0xFD ops as WD_OP_FD_BASE + sub). */
static inline int wd_val_opcode(wd_val_t *v, int *op)
{
    uint8_t b;
    if (wd_val_byte(v, &b) < 0) return -1;
    if (__builtin_expect(b < WD_WASM_PREFIX_FC && wd_wasm_opinfo[b].name != NULL, 1)) {
        *op = b;
        return 0;
    }
    if (b == WD_WASM_PREFIX_FC) {
        uint32_t sub;
        if (wd_val_u32(v, &sub) < 0) return -1;
        if (sub >= WD_OP_FC_LIMIT_ - WD_OP_FC_BASE) WD_VAL_FAIL(v, v->at, "illegal opcode");
        *op = WD_OP_FC_BASE + (int)sub;
        return 0;
    }
    if (b == WD_WASM_PREFIX_FD) {
        uint32_t sub;
        if (wd_val_u32(v, &sub) < 0) return -1;
        if (sub >= WD_OP_FD_LIMIT_ - WD_OP_FD_BASE || wd_wasm_opinfo[WD_OP_FD_BASE + sub].name == NULL)
            WD_VAL_FAIL(v, v->at, "illegal opcode");
        *op = WD_OP_FD_BASE + (int)sub;
        return 0;
    }
    if (wd_wasm_opinfo[b].name == NULL) WD_VAL_FAIL(v, v->at, "illegal opcode");
    *op = b;
    return 0;
}

/* ---------------------------------------------------------- operand stack */

static int wd_val_grow(void **arr, uint32_t *cap, uint64_t need, size_t elt)
{
    if (need <= *cap) return 0;
    if (need > UINT32_MAX / 2) return -1;
    uint32_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *p = wd_wasm_realloc(*arr, (size_t)nc * elt);
    if (p == NULL) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static inline int wd_val_push(wd_val_t *v, uint8_t t)
{
    if (__builtin_expect(v->nvals < v->cap_vals, 1)) {
        v->vals[v->nvals++] = t;
        return 0;
    }
    if (v->nvals == v->cap_vals
        && wd_val_grow((void **)&v->vals, &v->cap_vals, (uint64_t)v->nvals + 1, 1) < 0)
        WD_VAL_FAIL(v, v->at, "out of memory");
    v->vals[v->nvals++] = t;
    return 0;
}

/* spec pop_val(): Unknown below an unreachable frame's height. */
static int wd_val_pop(wd_val_t *v, uint8_t *out)
{
    wd_val_ctrl_t *c = &v->ctrls[v->nctrls - 1];
    if (v->nvals == c->height) {
        if (c->unreachable) { *out = WD_VAL_UNKNOWN; return 0; }
        WD_VAL_FAIL(v, v->at, "type mismatch");
    }
    *out = v->vals[--v->nvals];
    return 0;
}

/* spec pop_val(expect); WD_VAL_ANYREF accepts either reference type. */
static inline int wd_val_pop_expect(wd_val_t *v, uint8_t expect, uint8_t *got)
{
    uint8_t t;
    /* fast path: a concrete value of the expected type above the frame's height */
    if (__builtin_expect(v->nvals > v->ctrls[v->nctrls - 1].height, 1)
        && v->vals[v->nvals - 1] == expect) {
        v->nvals--;
        if (got) *got = expect;
        return 0;
    }
    if (wd_val_pop(v, &t) < 0) return -1;
    if (expect == WD_VAL_ANYREF) {
        if (!wd_val_is_ref(t)) WD_VAL_FAIL(v, v->at, "type mismatch");
    } else if (t != expect && t != WD_VAL_UNKNOWN && expect != WD_VAL_UNKNOWN) {
        WD_VAL_FAIL(v, v->at, "type mismatch");
    }
    if (got) *got = t;
    return 0;
}

static int wd_val_pop_list(wd_val_t *v, uint32_t n, const uint8_t *types)
{
    for (uint32_t i = n; i-- > 0;)
        if (wd_val_pop_expect(v, types[i], NULL) < 0) return -1;
    return 0;
}

static int wd_val_push_list(wd_val_t *v, uint32_t n, const uint8_t *types)
{
    if (wd_val_grow((void **)&v->vals, &v->cap_vals, (uint64_t)v->nvals + n, 1) < 0)
        WD_VAL_FAIL(v, v->at, "out of memory");
    if (n) memcpy(v->vals + v->nvals, types, n);
    v->nvals += n;
    return 0;
}

/* ---------------------------------------------------------- control stack */

static int wd_val_push_ctrl(wd_val_t *v, uint8_t kind, uint32_t np, const uint8_t *params,
                            uint32_t nr, const uint8_t *results)
{
    if (v->nctrls == v->cap_ctrls
        && wd_val_grow((void **)&v->ctrls, &v->cap_ctrls, (uint64_t)v->nctrls + 1,
                       sizeof(wd_val_ctrl_t)) < 0)
        WD_VAL_FAIL(v, v->at, "out of memory");
    wd_val_ctrl_t *c = &v->ctrls[v->nctrls++];
    c->kind = kind;
    c->unreachable = 0;
    c->height = v->nvals;
    c->nparams = np;
    c->params = params;
    c->nresults = nr;
    c->results = results;
    return wd_val_push_list(v, np, params);
}

/* spec pop_ctrl(): the frame's results must be exactly what is left above its height. */
static int wd_val_pop_ctrl(wd_val_t *v, wd_val_ctrl_t *out)
{
    wd_val_ctrl_t *c = &v->ctrls[v->nctrls - 1];
    if (wd_val_pop_list(v, c->nresults, c->results) < 0) return -1;
    if (v->nvals != c->height) WD_VAL_FAIL(v, v->at, "type mismatch");
    *out = *c;
    v->nctrls--;
    return 0;
}

static void wd_val_label_types(const wd_val_ctrl_t *c, uint32_t *n, const uint8_t **types)
{
    if (c->kind == WD_CTRL_LOOP) { *n = c->nparams; *types = c->params; }
    else { *n = c->nresults; *types = c->results; }
}

static void wd_val_unreachable(wd_val_t *v)
{
    wd_val_ctrl_t *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = 1;
}

static int wd_val_label(wd_val_t *v, uint32_t depth, wd_val_ctrl_t **out)
{
    if (depth >= v->nctrls) WD_VAL_FAIL(v, v->at, "unknown label");
    *out = &v->ctrls[v->nctrls - 1 - depth];
    return 0;
}

/* blocktype: 0x40 | valtype | s33 type index */
static int wd_val_blocktype(wd_val_t *v, uint32_t *np, const uint8_t **params, uint32_t *nr,
                            const uint8_t **results)
{
    if (v->p >= v->end) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
    uint8_t b = *v->p;
    *np = 0;
    *params = NULL;
    if (b == 0x40) { v->p++; *nr = 0; *results = NULL; return 0; }
    if (wd_val_is_valtype(b)) { v->p++; *nr = 1; *results = &wd_val_single[b]; return 0; }
    int64_t idx;
    const char *why;
    const uint8_t *at = v->p;
    if (wd_wasm_read_s33(&v->p, v->end, &idx, &why) < 0) WD_VAL_FAIL(v, at, "%s", why);
    if (idx < 0) WD_VAL_FAIL(v, at, "malformed value type");
    if ((uint64_t)idx >= v->m->ntypes) WD_VAL_FAIL(v, at, "unknown type");
    const wd_wasm_functype_t *ft = &v->m->types[idx];
    *np = ft->nparams;
    *params = ft->params;
    *nr = ft->nresults;
    *results = ft->results;
    return 0;
}

/* ------------------------------------------------------------ instructions */

static int wd_val_sig_type(char c)
{
    switch (c) {
    case 'i': return WD_WASM_I32;
    case 'I': return WD_WASM_I64;
    case 'f': return WD_WASM_F32;
    case 'F': return WD_WASM_F64;
    case 'v': return WD_WASM_V128;
    }
    return -1;
}

/* The opcode table's fixed "pops:pushes" signatures, decoded once at load time
 * (a constructor, so there is no lazy initialization to race on). */
typedef struct {
    uint8_t npop, npush;
    uint8_t pop[3], push[1];
} wd_val_sig_t;

static wd_val_sig_t wd_val_sigs[WD_OP_LIMIT_];

__attribute__((constructor)) static void wd_val_sigs_init(void)
{
    for (int op = 0; op < WD_OP_LIMIT_; op++) {
        const char *sig = wd_wasm_opinfo[op].sig;
        wd_val_sig_t *d = &wd_val_sigs[op];
        if (sig == NULL || sig[0] == '*') continue;
        const char *s = sig;
        for (; *s && *s != ':'; s++)
            if (d->npop < sizeof(d->pop)) d->pop[d->npop++] = (uint8_t)wd_val_sig_type(*s);
        if (*s == ':') s++;
        for (; *s; s++)
            if (d->npush < sizeof(d->push)) d->push[d->npush++] = (uint8_t)wd_val_sig_type(*s);
    }
}

/* Applies a fixed "pops:pushes" signature. */
static inline int wd_val_apply_sig(wd_val_t *v, int op)
{
    const wd_val_sig_t *d = &wd_val_sigs[op];
    for (int i = d->npop; i-- > 0;)
        if (wd_val_pop_expect(v, d->pop[i], NULL) < 0) return -1;
    if (d->npush) return wd_val_push(v, d->push[0]);
    return 0;
}

static int wd_val_need_mem(wd_val_t *v, uint32_t idx)
{
    if (idx >= v->m->nmems) WD_VAL_FAIL(v, v->at, "unknown memory %u", idx);
    return 0;
}

static int wd_val_table(wd_val_t *v, uint32_t *idx, uint8_t *reftype)
{
    if (wd_val_u32(v, idx) < 0) return -1;
    if (*idx >= v->m->ntables) WD_VAL_FAIL(v, v->at, "unknown table %u", *idx);
    *reftype = v->m->tables[*idx].reftype;
    return 0;
}

static int wd_val_need_datacount(wd_val_t *v, uint32_t idx)
{
    /* spec binary/modules.rst: data indices in code need the data count section
     * (without one, an index past every data segment is reported as unknown) */
    if (!v->m->has_datacount) {
        if (idx >= v->m->ndatas) WD_VAL_FAIL(v, v->at, "unknown data segment %u", idx);
        WD_VAL_FAIL(v, v->at, "data count section required");
    }
    if (idx >= v->m->datacount) WD_VAL_FAIL(v, v->at, "unknown data segment %u", idx);
    return 0;
}

static int wd_val_zero_byte(wd_val_t *v)
{
    uint8_t b;
    if (wd_val_byte(v, &b) < 0) return -1;
    if (b != 0) WD_VAL_FAIL(v, v->p - 1, "zero byte expected");
    return 0;
}

static int wd_val_br_table(wd_val_t *v)
{
    uint32_t n, depth, dflt;
    if (wd_val_u32(v, &n) < 0) return -1;
    if (n > v->max_br_table)
        WD_VAL_FAIL(v, v->at, "br_table has %u labels (limit %u)", n, v->max_br_table);
    /* each label needs at least one byte: reject absurd counts before looping */
    if (n > (uint64_t)(v->end - v->p)) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
    const uint8_t *labels = v->p;
    for (uint32_t i = 0; i < n; i++)
        if (wd_val_u32(v, &depth) < 0) return -1;
    if (wd_val_u32(v, &dflt) < 0) return -1;
    if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
    wd_val_ctrl_t *dc;
    if (wd_val_label(v, dflt, &dc) < 0) return -1;
    uint32_t arity;
    const uint8_t *dtypes;
    wd_val_label_types(dc, &arity, &dtypes);
    if (wd_val_grow((void **)&v->scratch, &v->cap_scratch, (uint64_t)arity + 1, 1) < 0)
        WD_VAL_FAIL(v, v->at, "out of memory");
    const uint8_t *q = labels;
    for (uint32_t i = 0; i < n; i++) {
        const char *why;
        (void)wd_wasm_read_u32(&q, v->end, &depth, &why);   /* already read once above */
        wd_val_ctrl_t *c;
        uint32_t na;
        const uint8_t *types;
        if (wd_val_label(v, depth, &c) < 0) return -1;
        wd_val_label_types(c, &na, &types);
        if (na != arity) WD_VAL_FAIL(v, v->at, "type mismatch");
        /* push_vals(pop_vals(label_types)) */
        for (uint32_t k = na; k-- > 0;)
            if (wd_val_pop_expect(v, types[k], &v->scratch[k]) < 0) return -1;
        if (wd_val_push_list(v, na, v->scratch) < 0) return -1;
    }
    if (wd_val_pop_list(v, arity, dtypes) < 0) return -1;
    wd_val_unreachable(v);
    return 0;
}

static inline int wd_val_local(wd_val_t *v, uint8_t *type)
{
    uint32_t idx;
    if (wd_val_u32(v, &idx) < 0) return -1;
    if (idx >= v->nlocals) WD_VAL_FAIL(v, v->at, "unknown local %u", idx);
    *type = idx < v->nparams ? v->params[idx] : v->local_types[idx - v->nparams];
    return 0;
}

static int wd_val_global(wd_val_t *v, const wd_wasm_global_decl_t **g)
{
    uint32_t idx;
    if (wd_val_u32(v, &idx) < 0) return -1;
    if (idx >= v->m->nglobals) WD_VAL_FAIL(v, v->at, "unknown global %u", idx);
    *g = &v->m->globals[idx];
    return 0;
}

static int wd_val_func_idx(wd_val_t *v, uint32_t *idx)
{
    if (wd_val_u32(v, idx) < 0) return -1;
    if (*idx >= v->m->nfuncs) WD_VAL_FAIL(v, v->at, "unknown function %u", *idx);
    return 0;
}

static int wd_val_call_type(wd_val_t *v, const wd_wasm_functype_t *ft)
{
    if (wd_val_pop_list(v, ft->nparams, ft->params) < 0) return -1;
    return wd_val_push_list(v, ft->nresults, ft->results);
}

static int wd_val_instr(wd_val_t *v, int op)
{
    const wd_wasm_module_t *m = v->m;
    const wd_wasm_opinfo_t *info = &wd_wasm_opinfo[op];
    uint32_t idx, idx2, np, nr;
    const uint8_t *params, *results;
    uint8_t t, t1, t2, rt, rt2;
    wd_val_ctrl_t frame, *c;
    const wd_wasm_global_decl_t *g;

    switch (op) {
    case WD_OP_UNREACHABLE:
        wd_val_unreachable(v);
        return 0;
    case WD_OP_NOP:
        return 0;
    case WD_OP_BLOCK:
    case WD_OP_LOOP:
        if (wd_val_blocktype(v, &np, &params, &nr, &results) < 0) return -1;
        if (wd_val_pop_list(v, np, params) < 0) return -1;
        return wd_val_push_ctrl(v, op == WD_OP_BLOCK ? WD_CTRL_BLOCK : WD_CTRL_LOOP, np, params,
                                nr, results);
    case WD_OP_IF:
        if (wd_val_blocktype(v, &np, &params, &nr, &results) < 0) return -1;
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        if (wd_val_pop_list(v, np, params) < 0) return -1;
        return wd_val_push_ctrl(v, WD_CTRL_IF, np, params, nr, results);
    case WD_OP_ELSE:
        if (v->ctrls[v->nctrls - 1].kind != WD_CTRL_IF) WD_VAL_FAIL(v, v->at, "else without if");
        if (wd_val_pop_ctrl(v, &frame) < 0) return -1;
        return wd_val_push_ctrl(v, WD_CTRL_ELSE, frame.nparams, frame.params, frame.nresults,
                                frame.results);
    case WD_OP_END:
        if (wd_val_pop_ctrl(v, &frame) < 0) return -1;
        /* an if without else behaves as if its else branch passed the params through */
        if (frame.kind == WD_CTRL_IF
            && (frame.nparams != frame.nresults
                || (frame.nparams && memcmp(frame.params, frame.results, frame.nparams) != 0)))
            WD_VAL_FAIL(v, v->at, "type mismatch");
        if (frame.kind == WD_CTRL_FUNC) return 0;
        return wd_val_push_list(v, frame.nresults, frame.results);
    case WD_OP_BR:
        if (wd_val_u32(v, &idx) < 0 || wd_val_label(v, idx, &c) < 0) return -1;
        wd_val_label_types(c, &nr, &results);
        if (wd_val_pop_list(v, nr, results) < 0) return -1;
        wd_val_unreachable(v);
        return 0;
    case WD_OP_BR_IF:
        if (wd_val_u32(v, &idx) < 0 || wd_val_label(v, idx, &c) < 0) return -1;
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        wd_val_label_types(c, &nr, &results);
        if (wd_val_pop_list(v, nr, results) < 0) return -1;
        return wd_val_push_list(v, nr, results);
    case WD_OP_BR_TABLE:
        return wd_val_br_table(v);
    case WD_OP_RETURN:
        c = &v->ctrls[0];
        if (wd_val_pop_list(v, c->nresults, c->results) < 0) return -1;
        wd_val_unreachable(v);
        return 0;
    case WD_OP_CALL:
        if (wd_val_func_idx(v, &idx) < 0) return -1;
        return wd_val_call_type(v, &m->types[m->func_types[idx]]);
    case WD_OP_CALL_INDIRECT:
        if (wd_val_u32(v, &idx) < 0) return -1;
        if (wd_val_u32(v, &idx2) < 0) return -1;
        if (idx2 >= m->ntables) WD_VAL_FAIL(v, v->at, "unknown table %u", idx2);
        if (idx >= m->ntypes) WD_VAL_FAIL(v, v->at, "unknown type %u", idx);
        if (m->tables[idx2].reftype != WD_WASM_FUNCREF) WD_VAL_FAIL(v, v->at, "type mismatch");
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        return wd_val_call_type(v, &m->types[idx]);
    case WD_OP_DROP:
        return wd_val_pop(v, &t);
    case WD_OP_SELECT:
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        if (wd_val_pop(v, &t1) < 0 || wd_val_pop(v, &t2) < 0) return -1;
        if (!wd_val_is_num(t1) || !wd_val_is_num(t2)) WD_VAL_FAIL(v, v->at, "type mismatch");
        if (t1 != t2 && t1 != WD_VAL_UNKNOWN && t2 != WD_VAL_UNKNOWN)
            WD_VAL_FAIL(v, v->at, "type mismatch");
        return wd_val_push(v, t1 == WD_VAL_UNKNOWN ? t2 : t1);
    case WD_OP_SELECT_T:
        if (wd_val_u32(v, &idx) < 0) return -1;
        if (idx != 1) WD_VAL_FAIL(v, v->at, "invalid result arity");
        if (wd_val_byte(v, &t) < 0) return -1;
        if (!wd_val_is_valtype(t)) WD_VAL_FAIL(v, v->p - 1, "malformed value type");
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        if (wd_val_pop_expect(v, t, NULL) < 0 || wd_val_pop_expect(v, t, NULL) < 0) return -1;
        return wd_val_push(v, t);
    case WD_OP_LOCAL_GET:
        if (wd_val_local(v, &t) < 0) return -1;
        return wd_val_push(v, t);
    case WD_OP_LOCAL_SET:
        if (wd_val_local(v, &t) < 0) return -1;
        return wd_val_pop_expect(v, t, NULL);
    case WD_OP_LOCAL_TEE:
        if (wd_val_local(v, &t) < 0) return -1;
        if (wd_val_pop_expect(v, t, NULL) < 0) return -1;
        return wd_val_push(v, t);
    case WD_OP_GLOBAL_GET:
        if (wd_val_global(v, &g) < 0) return -1;
        return wd_val_push(v, g->type);
    case WD_OP_GLOBAL_SET:
        if (wd_val_global(v, &g) < 0) return -1;
        if (!g->mutable_) WD_VAL_FAIL(v, v->at, "global is immutable");
        return wd_val_pop_expect(v, g->type, NULL);
    case WD_OP_TABLE_GET:
        if (wd_val_table(v, &idx, &rt) < 0) return -1;
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        return wd_val_push(v, rt);
    case WD_OP_TABLE_SET:
        if (wd_val_table(v, &idx, &rt) < 0) return -1;
        if (wd_val_pop_expect(v, rt, NULL) < 0) return -1;
        return wd_val_pop_expect(v, WD_WASM_I32, NULL);
    case WD_OP_MEMORY_SIZE:
    case WD_OP_MEMORY_GROW:
        if (wd_val_zero_byte(v) < 0 || wd_val_need_mem(v, 0) < 0) return -1;
        return wd_val_apply_sig(v, op);
    case WD_OP_I32_CONST:
    case WD_OP_I64_CONST: {
        int64_t x;
        const char *why;
        const uint8_t *at = v->p;
        /* the value does not matter here: a LEB128 shorter than the maximum
         * length (5 / 10 bytes) cannot be out of range, so just skip it */
        size_t maxlen = op == WD_OP_I32_CONST ? 5 : 10, k = 0;
        while (k < maxlen - 1 && at + k < v->end && (at[k] & 0x80)) k++;
        if (k < maxlen - 1 && at + k < v->end) {
            v->p = at + k + 1;
            return wd_val_push(v, op == WD_OP_I32_CONST ? WD_WASM_I32 : WD_WASM_I64);
        }
        int rc = op == WD_OP_I32_CONST ? wd_wasm_read_s32(&v->p, v->end, &(int32_t){0}, &why)
                                       : wd_wasm_read_s64(&v->p, v->end, &x, &why);
        if (rc < 0) WD_VAL_FAIL(v, at, "%s", why);
        return wd_val_push(v, op == WD_OP_I32_CONST ? WD_WASM_I32 : WD_WASM_I64);
    }
    case WD_OP_F32_CONST:
        if (wd_val_skip(v, 4) < 0) return -1;
        return wd_val_push(v, WD_WASM_F32);
    case WD_OP_F64_CONST:
        if (wd_val_skip(v, 8) < 0) return -1;
        return wd_val_push(v, WD_WASM_F64);
    case WD_OP_REF_NULL:
        if (wd_val_byte(v, &t) < 0) return -1;
        if (t != WD_WASM_FUNCREF && t != WD_WASM_EXTERNREF)
            WD_VAL_FAIL(v, v->p - 1, "malformed reference type");
        return wd_val_push(v, t);
    case WD_OP_REF_IS_NULL:
        if (wd_val_pop_expect(v, WD_VAL_ANYREF, NULL) < 0) return -1;
        return wd_val_push(v, WD_WASM_I32);
    case WD_OP_REF_FUNC:
        if (wd_val_func_idx(v, &idx) < 0) return -1;
        if (!v->refs[idx]) WD_VAL_FAIL(v, v->at, "undeclared function reference");
        return wd_val_push(v, WD_WASM_FUNCREF);

    /* 0xFC: bulk memory and tables */
    case WD_OP_MEMORY_INIT:
        if (wd_val_u32(v, &idx) < 0) return -1;
        if (wd_val_zero_byte(v) < 0) return -1;
        if (wd_val_need_mem(v, 0) < 0 || wd_val_need_datacount(v, idx) < 0) return -1;
        return wd_val_apply_sig(v, op);
    case WD_OP_DATA_DROP:
        if (wd_val_u32(v, &idx) < 0) return -1;
        return wd_val_need_datacount(v, idx);
    case WD_OP_MEMORY_COPY:
        if (wd_val_zero_byte(v) < 0 || wd_val_zero_byte(v) < 0) return -1;
        if (wd_val_need_mem(v, 0) < 0) return -1;
        return wd_val_apply_sig(v, op);
    case WD_OP_MEMORY_FILL:
        if (wd_val_zero_byte(v) < 0 || wd_val_need_mem(v, 0) < 0) return -1;
        return wd_val_apply_sig(v, op);
    case WD_OP_TABLE_INIT:
        if (wd_val_u32(v, &idx) < 0) return -1;          /* elem segment */
        if (wd_val_table(v, &idx2, &rt) < 0) return -1;
        if (idx >= m->nelems) WD_VAL_FAIL(v, v->at, "unknown elem segment %u", idx);
        if (m->elems[idx].reftype != rt) WD_VAL_FAIL(v, v->at, "type mismatch");
        return wd_val_apply_sig(v, op);
    case WD_OP_ELEM_DROP:
        if (wd_val_u32(v, &idx) < 0) return -1;
        if (idx >= m->nelems) WD_VAL_FAIL(v, v->at, "unknown elem segment %u", idx);
        return 0;
    case WD_OP_TABLE_COPY:
        if (wd_val_table(v, &idx, &rt) < 0) return -1;    /* destination */
        if (wd_val_table(v, &idx2, &rt2) < 0) return -1;  /* source */
        if (rt != rt2) WD_VAL_FAIL(v, v->at, "type mismatch");
        return wd_val_apply_sig(v, op);
    case WD_OP_TABLE_GROW:
        if (wd_val_table(v, &idx, &rt) < 0) return -1;
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        if (wd_val_pop_expect(v, rt, NULL) < 0) return -1;
        return wd_val_push(v, WD_WASM_I32);
    case WD_OP_TABLE_SIZE:
        if (wd_val_table(v, &idx, &rt) < 0) return -1;
        return wd_val_push(v, WD_WASM_I32);
    case WD_OP_TABLE_FILL:
        if (wd_val_table(v, &idx, &rt) < 0) return -1;
        if (wd_val_pop_expect(v, WD_WASM_I32, NULL) < 0) return -1;
        if (wd_val_pop_expect(v, rt, NULL) < 0) return -1;
        return wd_val_pop_expect(v, WD_WASM_I32, NULL);
    }

    if (info->imm == WD_IMM_MEMARG || info->imm == WD_IMM_MEMARG_LANE) {
        uint32_t align, offset;
        if (wd_val_u32(v, &align) < 0) return -1;
        if (align >= 32) WD_VAL_FAIL(v, v->at, "malformed memop flags");
        if (wd_val_u32(v, &offset) < 0) return -1;
        if (info->imm == WD_IMM_MEMARG_LANE) {
            if (wd_val_byte(v, &t) < 0) return -1;
            if (t >= (16u >> info->align)) WD_VAL_FAIL(v, v->p - 1, "invalid lane index");
        }
        if (wd_val_need_mem(v, 0) < 0) return -1;
        if (align > info->align) WD_VAL_FAIL(v, v->at, "alignment must not be larger than natural");
        return wd_val_apply_sig(v, op);
    }
    if (info->imm == WD_IMM_LANE) {
        if (wd_val_byte(v, &t) < 0) return -1;
        if (t >= (16u >> info->align)) WD_VAL_FAIL(v, v->p - 1, "invalid lane index");
        return wd_val_apply_sig(v, op);
    }
    if (info->imm == WD_IMM_V128) {
        if (wd_val_skip(v, 16) < 0) return -1;
        return wd_val_apply_sig(v, op);
    }
    if (info->imm == WD_IMM_SHUFFLE) {
        if ((size_t)(v->end - v->p) < 16) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
        for (int k = 0; k < 16; k++)
            if (v->p[k] >= 32) WD_VAL_FAIL(v, v->p + k, "invalid lane index");
        v->p += 16;
        return wd_val_apply_sig(v, op);
    }
    if (info->imm != WD_IMM_NONE || info->sig[0] == '*')
        WD_VAL_FAIL(v, v->at, "internal error: unhandled opcode %s", info->name);
    return wd_val_apply_sig(v, op);
}

static int wd_val_function(wd_val_t *v, uint32_t fidx)
{
    const wd_wasm_module_t *m = v->m;
    const wd_wasm_func_decl_t *f = &m->funcs[fidx - m->nfuncs_imported];
    const wd_wasm_functype_t *ft = &m->types[m->func_types[fidx]];
    v->func = fidx;
    v->nparams = ft->nparams;
    v->params = ft->params;
    v->nlocals = (uint64_t)ft->nparams + f->nlocals;
    v->local_types = f->local_types;
    v->p = m->bytes + f->expr.off;
    v->end = v->p + f->expr.len;
    v->at = v->p;
    v->nvals = 0;
    v->nctrls = 0;
    if (wd_val_push_ctrl(v, WD_CTRL_FUNC, 0, NULL, ft->nresults, ft->results) < 0) return -1;
    while (v->nctrls > 0) {
        int op;
        v->at = v->p;
        if (v->p >= v->end) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
        if (wd_val_opcode(v, &op) < 0) return -1;
        if (wd_val_instr(v, op) < 0) return -1;
    }
    if (v->p != v->end) WD_VAL_FAIL(v, v->p, "END opcode expected");
    return 0;
}

/* ---------------------------------------------------------- module level */

/* spec valid/instructions.rst "Constant Expressions", restricted per valid/modules.rst:
 * global.get may only name an imported, immutable global. */
static int wd_val_const_expr(wd_val_t *v, wd_wasm_span_t span, uint8_t expect)
{
    const wd_wasm_module_t *m = v->m;
    uint8_t stack[8];
    uint32_t n = 0;
    v->p = m->bytes + span.off;
    v->end = v->p + span.len;
    for (;;) {
        int op;
        uint32_t idx;
        uint8_t t = 0;
        v->at = v->p;
        if (v->p >= v->end) WD_VAL_FAIL(v, v->p, "unexpected end of section or function");
        if (wd_val_opcode(v, &op) < 0) return -1;
        switch (op) {
        case WD_OP_END:
            if (n != 1 || stack[0] != expect) WD_VAL_FAIL(v, v->at, "type mismatch");
            return 0;
        case WD_OP_I32_CONST: {
            int32_t x;
            const char *why;
            if (wd_wasm_read_s32(&v->p, v->end, &x, &why) < 0) WD_VAL_FAIL(v, v->at + 1, "%s", why);
            t = WD_WASM_I32;
            break;
        }
        case WD_OP_I64_CONST: {
            int64_t x;
            const char *why;
            if (wd_wasm_read_s64(&v->p, v->end, &x, &why) < 0) WD_VAL_FAIL(v, v->at + 1, "%s", why);
            t = WD_WASM_I64;
            break;
        }
        case WD_OP_F32_CONST:
            if (wd_val_skip(v, 4) < 0) return -1;
            t = WD_WASM_F32;
            break;
        case WD_OP_F64_CONST:
            if (wd_val_skip(v, 8) < 0) return -1;
            t = WD_WASM_F64;
            break;
        case WD_OP_V128_CONST:
            if (wd_val_skip(v, 16) < 0) return -1;
            t = WD_WASM_V128;
            break;
        case WD_OP_REF_NULL:
            if (wd_val_byte(v, &t) < 0) return -1;
            if (t != WD_WASM_FUNCREF && t != WD_WASM_EXTERNREF)
                WD_VAL_FAIL(v, v->p - 1, "malformed reference type");
            break;
        case WD_OP_REF_FUNC:
            if (wd_val_func_idx(v, &idx) < 0) return -1;
            t = WD_WASM_FUNCREF;
            break;
        case WD_OP_GLOBAL_GET:
            if (wd_val_u32(v, &idx) < 0) return -1;
            if (idx >= m->nglobals_imported) WD_VAL_FAIL(v, v->at, "unknown global %u", idx);
            if (m->globals[idx].mutable_) WD_VAL_FAIL(v, v->at, "constant expression required");
            t = m->globals[idx].type;
            break;
        default:
            WD_VAL_FAIL(v, v->at, "constant expression required");
        }
        if (n == sizeof(stack)) WD_VAL_FAIL(v, v->at, "type mismatch");
        stack[n++] = t;
    }
}

/* Marks the function indices a ref.func in a constant expression names (C.refs). */
static void wd_val_refs_in_expr(wd_val_t *v, wd_wasm_span_t span)
{
    const uint8_t *p = v->m->bytes + span.off, *end = p + span.len;
    const char *why;
    uint32_t idx;
    /* only the simplest shape matters: a well-formed const expr is one instruction + end;
     * anything else is rejected later by wd_val_const_expr */
    if (p < end && *p == WD_OP_REF_FUNC) {
        p++;
        if (wd_wasm_read_u32(&p, end, &idx, &why) == 0 && idx < v->m->nfuncs) v->refs[idx] = 1;
    }
}

static int wd_val_limits(wd_val_t *v, const uint8_t *at, uint64_t min, uint64_t max, int has_max,
                         uint64_t range, const char *range_msg)
{
    if (min > range) WD_VAL_FAIL(v, at, "%s", range_msg);
    if (has_max) {
        if (max > range) WD_VAL_FAIL(v, at, "%s", range_msg);
        if (min > max) WD_VAL_FAIL(v, at, "size minimum must not be greater than maximum");
    }
    return 0;
}


/* Module-level errors: the decoded module keeps no offsets for most entries, so
 * on the (cold) error path walk the section headers again to point at the
 * section (id) -- or, with entry >= 0, at that entry of a section whose entries
 * are all "name"-free fixed shapes we can skip (exports: name, kind, index). */
static const uint8_t *wd_val_where(const wd_wasm_module_t *m, uint8_t id, int64_t entry)
{
    const uint8_t *p = m->bytes + 8, *end = m->bytes + m->len;
    const char *why;
    while (p < end) {
        uint8_t sid = *p++;
        uint32_t size, n, len;
        if (wd_wasm_read_u32(&p, end, &size, &why) < 0 || size > (size_t)(end - p)) break;
        const uint8_t *content = p, *send = p + size;
        p = send;
        if (sid != id) continue;
        if (entry < 0 || id != 7) return content;
        const uint8_t *q = content;
        if (wd_wasm_read_u32(&q, send, &n, &why) < 0) return content;
        for (int64_t i = 0; i < n && q < send; i++) {
            if (i == entry) return q;
            if (wd_wasm_read_u32(&q, send, &len, &why) < 0 || len > (size_t)(send - q)) break;
            q += len + 1;                                   /* name, kind */
            if (wd_wasm_read_u32(&q, send, &len, &why) < 0) break;
        }
        return content;
    }
    return m->bytes;
}

#define WD_VAL_MEM_RANGE_MSG "memory size must be at most 65536 pages (4GiB)"

static uint32_t wd_val_name_hash(const char *s, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int wd_val_exports(wd_val_t *v)
{
    const wd_wasm_module_t *m = v->m;
    const uint8_t *at = wd_val_where(m, 7, -1);
    uint32_t cap = 16;
    while (cap < (uint64_t)m->nexports * 2) cap *= 2;
    uint32_t *slots = wd_wasm_calloc(cap, sizeof(uint32_t));   /* export index + 1, 0 = empty */
    if (slots == NULL) WD_VAL_FAIL(v, at, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wd_wasm_export_desc_t *e = &m->exports[i];
        uint32_t lim = 0;
        const char *what = "";
        switch (e->kind) {
        case WD_WASM_EXTERN_FUNC: lim = m->nfuncs; what = "function"; break;
        case WD_WASM_EXTERN_TABLE: lim = m->ntables; what = "table"; break;
        case WD_WASM_EXTERN_MEMORY: lim = m->nmems; what = "memory"; break;
        case WD_WASM_EXTERN_GLOBAL: lim = m->nglobals; what = "global"; break;
        }
        if (e->index >= lim) {
            wd_wasm_free(slots);
            WD_VAL_FAIL(v, wd_val_where(m, 7, i), "unknown %s %u", what, e->index);
        }
        uint32_t h = wd_val_name_hash(e->name, e->name_len) & (cap - 1);
        while (slots[h]) {
            const wd_wasm_export_desc_t *o = &m->exports[slots[h] - 1];
            if (o->name_len == e->name_len && memcmp(o->name, e->name, e->name_len) == 0) {
                wd_wasm_free(slots);
                WD_VAL_FAIL(v, wd_val_where(m, 7, i), "duplicate export name");
            }
            h = (h + 1) & (cap - 1);
        }
        slots[h] = i + 1;
    }
    wd_wasm_free(slots);
    return 0;
}

static int wd_val_module(wd_val_t *v)
{
    const wd_wasm_module_t *m = v->m;
    const uint8_t *at = m->bytes;

    /* types of functions (imports included) */
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->func_types[i] >= m->ntypes) {
            if (i >= m->nfuncs_imported) v->func = i;
            WD_VAL_FAIL(v, wd_val_where(m, i >= m->nfuncs_imported ? 3 : 2, -1), "unknown type %u",
                        m->func_types[i]);
        }
    v->func = -1;
    for (uint32_t i = 0; i < m->ntables; i++)
        if (wd_val_limits(v, wd_val_where(m, i >= m->ntables_imported ? 4 : 2, -1), m->tables[i].min, m->tables[i].max, m->tables[i].has_max,
                          UINT32_MAX, "table size must be at most 2^32-1") < 0)
            return -1;
    if (m->nmems > 1) WD_VAL_FAIL(v, wd_val_where(m, m->nmems > m->nmems_imported ? 5 : 2, -1),
                                  "multiple memories");
    for (uint32_t i = 0; i < m->nmems; i++)
        if (wd_val_limits(v, wd_val_where(m, i >= m->nmems_imported ? 5 : 2, -1), m->mems[i].min, m->mems[i].max, m->mems[i].has_max, 65536,
                          WD_VAL_MEM_RANGE_MSG) < 0)
            return -1;
    /* imports keep their own limits (the decoder may clamp into the decl arrays) */
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wd_wasm_import_desc_t *d = &m->imports[i];
        if (d->kind == WD_WASM_EXTERN_MEMORY
            && wd_val_limits(v, wd_val_where(m, 2, -1), d->min, d->max, d->has_max, 65536, WD_VAL_MEM_RANGE_MSG) < 0)
            return -1;
        if (d->kind == WD_WASM_EXTERN_TABLE
            && wd_val_limits(v, wd_val_where(m, 2, -1), d->min, d->max, d->has_max, UINT32_MAX,
                             "table size must be at most 2^32-1") < 0)
            return -1;
    }

    /* C.refs: functions named in element segments, exports and global initializers
     * (spec valid/modules.rst; every ref.func in a function body must be in it) */
    v->refs = wd_wasm_calloc((size_t)m->nfuncs + 1, 1);
    if (v->refs == NULL) WD_VAL_FAIL(v, at, "out of memory");
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wd_wasm_elem_decl_t *e = &m->elems[i];
        for (uint32_t k = 0; k < e->nitems; k++) {
            if (e->func_indices && e->func_indices[k] < m->nfuncs) v->refs[e->func_indices[k]] = 1;
            if (e->exprs) wd_val_refs_in_expr(v, e->exprs[k]);
        }
    }
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WD_WASM_EXTERN_FUNC && m->exports[i].index < m->nfuncs)
            v->refs[m->exports[i].index] = 1;
    for (uint32_t i = m->nglobals_imported; i < m->nglobals; i++)
        wd_val_refs_in_expr(v, m->globals[i].init);

    /* globals: initializers are constant and of the global's type */
    for (uint32_t i = m->nglobals_imported; i < m->nglobals; i++)
        if (wd_val_const_expr(v, m->globals[i].init, m->globals[i].type) < 0) return -1;

    if (wd_val_exports(v) < 0) return -1;

    if (m->has_start) {
        const uint8_t *sat = wd_val_where(m, 8, -1);
        if (m->start >= m->nfuncs) WD_VAL_FAIL(v, sat, "unknown function %u", m->start);
        const wd_wasm_functype_t *ft = &m->types[m->func_types[m->start]];
        if (ft->nparams || ft->nresults) WD_VAL_FAIL(v, sat, "start function");
    }

    for (uint32_t i = 0; i < m->nelems; i++) {
        const wd_wasm_elem_decl_t *e = &m->elems[i];
        const uint8_t *eat = m->bytes + e->seg_off;
        if (e->mode == WD_WASM_SEG_ACTIVE) {
            if (e->table >= m->ntables) WD_VAL_FAIL(v, eat, "unknown table %u", e->table);
            if (wd_val_const_expr(v, e->offset, WD_WASM_I32) < 0) return -1;
            if (m->tables[e->table].reftype != e->reftype) WD_VAL_FAIL(v, eat, "type mismatch");
        }
        for (uint32_t k = 0; k < e->nitems; k++) {
            if (e->func_indices) {
                if (e->func_indices[k] >= m->nfuncs)
                    WD_VAL_FAIL(v, eat, "unknown function %u", e->func_indices[k]);
            } else if (e->exprs) {
                if (wd_val_const_expr(v, e->exprs[k], e->reftype) < 0) return -1;
            }
        }
    }

    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wd_wasm_data_decl_t *d = &m->datas[i];
        if (d->mode != WD_WASM_SEG_ACTIVE) continue;
        if (d->memory >= m->nmems) WD_VAL_FAIL(v, m->bytes + d->seg_off, "unknown memory %u", d->memory);
        if (wd_val_const_expr(v, d->offset, WD_WASM_I32) < 0) return -1;
    }

    v->func = -1;
    return 0;
}

/* ------------------------------------------------------------- public API */

/* A validator is the module-level result (C.refs) plus the per-function
 * stacks. Bodies are independent of each other, so the loader may check them
 * on several threads, one clone of the validator each (clones share C.refs,
 * which is read-only once the module-level checks are done). */
struct wd_wasm_validator {
    wd_val_t v;
    int owns_refs;
};

wd_wasm_validator_t *wd_wasm_validator_new(const struct wd_wasm_module *m,
                                           const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    wd_wasm_validator_t *vr = wd_wasm_calloc(1, sizeof(*vr));
    if (vr == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory"); return NULL; }
    vr->v.m = m;
    vr->v.err = err;
    vr->v.func = -1;
    vr->v.max_br_table = opts && opts->max_br_table ? opts->max_br_table : WD_WASM_DEFAULT_MAX_BR_TABLE;
    vr->owns_refs = 1;
    if (wd_val_module(&vr->v) < 0) {
        wd_wasm_validator_free(vr);
        return NULL;
    }
    return vr;
}

wd_wasm_validator_t *wd_wasm_validator_clone(const wd_wasm_validator_t *parent)
{
    wd_wasm_validator_t *vr = wd_wasm_calloc(1, sizeof(*vr));
    if (vr == NULL) return NULL;
    vr->v.m = parent->v.m;
    vr->v.func = -1;
    vr->v.max_br_table = parent->v.max_br_table;
    vr->v.refs = parent->v.refs;
    return vr;
}

int wd_wasm_validate_func(wd_wasm_validator_t *vr, uint32_t fidx, wd_wasm_error_t *err)
{
    vr->v.err = err;
    int rc = wd_val_function(&vr->v, fidx);
    vr->v.func = -1;
    return rc;
}

void wd_wasm_validator_free(wd_wasm_validator_t *vr)
{
    if (vr == NULL) return;
    if (vr->owns_refs) wd_wasm_free(vr->v.refs);
    wd_wasm_free(vr->v.vals);
    wd_wasm_free(vr->v.ctrls);
    wd_wasm_free(vr->v.scratch);
    wd_wasm_free(vr);
}

int wd_wasm_validate(const struct wd_wasm_module *m, const wd_wasm_load_opts_t *opts,
                     wd_wasm_error_t *err)
{
    wd_wasm_validator_t *vr = wd_wasm_validator_new(m, opts, err);
    if (vr == NULL) return -1;
    int rc = 0;
    for (uint32_t i = m->nfuncs_imported; i < m->nfuncs && rc == 0; i++)
        rc = wd_wasm_validate_func(vr, i, err);
    wd_wasm_validator_free(vr);
    return rc;
}
