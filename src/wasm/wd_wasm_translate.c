/*
 * wd_wasm_translate.c -- validated Wasm bodies -> register-style internal code.
 *
 * One pass per function. The translator keeps a virtual operand stack whose
 * entries are either materialized (the value lives in the entry's home slot,
 * nlocals + height) or pending references to a local or a constant. Operators
 * read their operands straight from the slots the entries name, so
 * `local.get a; local.get b; i32.add; local.set c` becomes one
 * `i32.add c, a, b` (the producer's destination is retargeted by local.set).
 * Constants feed *_IMM superinstructions; a compare followed by br_if becomes
 * one compare-and-branch.
 *
 * Control flow: every block boundary (block/loop/if entry, else, end) puts
 * the values crossing it in their home slots; branches copy their carried
 * values to the target's home slots and jump to a precomputed relative
 * target. Code after br/br_table/return/unreachable is dead until the
 * enclosing else/end and is not emitted (the polymorphic stack never has to
 * be modelled). The module was validated first, so operands are trusted;
 * only implementation limits are checked.
 *
 * Superinstructions: compare + br_if / if become one compare-and-branch;
 * i32 operators with a constant operand take it as an immediate; a load or
 * store whose address was just computed by i32.add (or add/sub of a constant)
 * does the add itself (same 32-bit wrap); a binary operator whose operand was
 * just loaded folds the load.
 *
 * Fuel: the function's entry FUEL cell holds the number of its Wasm
 * instructions outside loops (calls charge it and enter after it); every
 * backward branch to a loop charges the loop body's instruction count up to
 * that branch (nested loops excluded) when taken. So fuel is charged per
 * basic-block-ish region, never per instruction, and every unbounded
 * execution (loops, recursion) passes a check.
 */
#include <stdio.h>
#include <string.h>
#include "wd_wasm_rt.h"

enum { WD_VE_STACK = 0, WD_VE_LOCAL = 1, WD_VE_CONST = 2 };

/* Values take one 64-bit slot, v128 values two (adjacent, low half first): a
 * local's slot is the sum of the widths before it (lslot[]), and a stack
 * entry's home is LS (slots of all locals) + its slot height sh. */
typedef struct {
    uint8_t kind;
    uint8_t w;                    /* width in slots: 1, or 2 for v128 */
    uint32_t slot;                /* LOCAL: local slot */
    uint32_t sh;                  /* slot height: home = LS + sh */
    uint64_t c;                   /* CONST: value (never v128) */
} wd_ve_t;

static inline uint8_t wd_tr_tw(uint8_t type) { return type == WD_WASM_V128 ? 2 : 1; }

/* valtype -> a one-element type list (block types [t]) */
static const uint8_t wd_tr_single[256] = {
    [WD_WASM_I32] = WD_WASM_I32, [WD_WASM_I64] = WD_WASM_I64, [WD_WASM_F32] = WD_WASM_F32,
    [WD_WASM_F64] = WD_WASM_F64, [WD_WASM_V128] = WD_WASM_V128,
    [WD_WASM_FUNCREF] = WD_WASM_FUNCREF, [WD_WASM_EXTERNREF] = WD_WASM_EXTERNREF,
};

typedef struct {
    int op;                       /* WD_OP_BLOCK/LOOP/IF, or -1 for the function */
    uint8_t unreachable;          /* rest of this block is dead */
    uint8_t dead;                 /* the whole construct is dead code */
    uint8_t has_else;
    uint32_t height;              /* vstack height at entry, below the params */
    uint32_t sh;                  /* slot height at entry (the label's values start at LS + sh) */
    uint32_t nparams, nresults;
    const uint8_t *ptypes, *rtypes;
    uint32_t loop_pos;            /* LOOP: branch target cell */
    uint32_t fixups;              /* chain of cells to patch with the end position (pos+1, 0 = none) */
    uint32_t else_fix;            /* IF: cell of the BR_UNLESS target (pos+1) */
    int prev_loop;                /* LOOP: enclosing live loop's ctl index, or -1 */
    uint32_t fuel_count;          /* LOOP: instructions of its body so far (outside nested loops) */
} wd_ctl_t;

typedef struct {
    const wd_wasm_module_t *m;
    const uint8_t *p, *end;
    wd_wasm_error_t *err;
    uint32_t max_br_table;
    int64_t func_index;
    uint32_t L;                   /* locals incl. params */
    uint32_t LS;                  /* their slots (v128 locals take two) */
    uint32_t *lslot;              /* local index -> slot (L entries) */
    size_t lslot_cap;
    uint32_t *cells;
    size_t ncells, cap;
    wd_ve_t *vs;
    size_t vh, vcap, vmax;
    wd_ctl_t *ctl;
    size_t nctl, ctlcap;
    uint32_t fuel_pos;            /* the function's entry FUEL count cell */
    int loop_ctl;                 /* innermost live loop (ctl index), or -1 */
    int64_t last_dst;             /* cell index of the last emitted producer's dst, or -1 */
    int last_op;                  /* internal op of that producer */
    size_t last_op_pos;
    uint32_t scratch;             /* extra slots needed above the stack (calls) */
    int oom;
} wd_tr_t;

#define WD_CELL(op) (wd_wasm_xop_cell[(op)])

static int wd_tr_reserve_slow(wd_tr_t *t, size_t n)
{
    size_t nc = t->cap ? t->cap * 2 : 256;
    while (nc < t->ncells + n) nc *= 2;
    uint32_t *c = wd_wasm_realloc(t->cells, nc * sizeof(uint32_t));
    if (c == NULL) { t->oom = 1; return -1; }
    t->cells = c;
    t->cap = nc;
    return 0;
}

static inline __attribute__((always_inline)) int wd_tr_reserve(wd_tr_t *t, size_t n)
{
    if (__builtin_expect(t->ncells + n <= t->cap, 1)) return 0;
    return wd_tr_reserve_slow(t, n);
}

static void wd_tr_emit_slow(wd_tr_t *t, uint32_t v)
{
    if (wd_tr_reserve(t, 1) < 0) return;
    t->cells[t->ncells++] = v;
}

static inline __attribute__((always_inline)) void wd_tr_emit(wd_tr_t *t, uint32_t v)
{
    if (__builtin_expect(t->ncells < t->cap, 1)) { t->cells[t->ncells++] = v; return; }
    wd_tr_emit_slow(t, v);
}

static void wd_tr_op(wd_tr_t *t, int op)
{
    t->last_dst = -1;
    t->last_op = op;
    t->last_op_pos = t->ncells;
    wd_tr_emit(t, WD_CELL(op));
}

/* Room for n more virtual stack entries (reserved before an instruction
 * pushes, so a push itself never fails). */
static int wd_tr_vreserve_slow(wd_tr_t *t, size_t n)
{
    size_t nc = t->vcap ? t->vcap * 2 : 64;
    while (nc < t->vh + n) nc *= 2;
    wd_ve_t *v = wd_wasm_realloc(t->vs, nc * sizeof(*v));
    if (v == NULL) { t->oom = 1; return -1; }
    t->vs = v;
    t->vcap = nc;
    return 0;
}

static inline __attribute__((always_inline)) int wd_tr_vreserve(wd_tr_t *t, size_t n)
{
    if (__builtin_expect(t->vh + n <= t->vcap, 1)) return 0;
    return wd_tr_vreserve_slow(t, n);
}

/* slot height above the top entry */
static inline uint32_t wd_tr_nsh(const wd_tr_t *t)
{
    return t->vh ? t->vs[t->vh - 1].sh + t->vs[t->vh - 1].w : 0;
}

static inline __attribute__((always_inline)) int wd_tr_pushw(wd_tr_t *t, uint8_t kind, uint32_t slot,
                                                             uint64_t c, uint8_t w)
{
    if (t->vh == t->vcap && wd_tr_vreserve(t, 1) < 0) return -1;
    uint32_t sh = wd_tr_nsh(t);
    t->vs[t->vh].kind = kind;
    t->vs[t->vh].w = w;
    t->vs[t->vh].slot = slot;
    t->vs[t->vh].sh = sh;
    t->vs[t->vh].c = c;
    t->vh++;
    if (sh + w > t->vmax) t->vmax = sh + w;
    return 0;
}

static inline __attribute__((always_inline)) int wd_tr_push(wd_tr_t *t, uint8_t kind, uint32_t slot, uint64_t c)
{
    return wd_tr_pushw(t, kind, slot, c, 1);
}

/* Home slot of entry pos (pos == vh: where the next push goes). */
static uint32_t wd_tr_home(wd_tr_t *t, size_t pos)
{
    return t->LS + (pos < t->vh ? t->vs[pos].sh : wd_tr_nsh(t));
}

/* Push n materialized values of the given types. */
static void wd_tr_push_types(wd_tr_t *t, uint32_t n, const uint8_t *types)
{
    for (uint32_t i = 0; i < n; i++) wd_tr_pushw(t, WD_VE_STACK, 0, 0, wd_tr_tw(types[i]));
}

/* Put entry pos into its home slot. */
static void wd_tr_mat(wd_tr_t *t, size_t pos)
{
    wd_ve_t *e = &t->vs[pos];
    uint32_t home = wd_tr_home(t, pos);
    if (e->kind == WD_VE_LOCAL) {
        wd_tr_op(t, e->w == 2 ? WD_XOP_MOV2 : WD_XOP_MOV);
        wd_tr_emit(t, home);
        wd_tr_emit(t, e->slot);
    } else if (e->kind == WD_VE_CONST) {
        if (e->c <= 0xffffffffu) {
            wd_tr_op(t, WD_XOP_CONST32);
            wd_tr_emit(t, home);
            wd_tr_emit(t, (uint32_t)e->c);
        } else {
            wd_tr_op(t, WD_XOP_CONST64);
            wd_tr_emit(t, home);
            wd_tr_emit(t, (uint32_t)e->c);
            wd_tr_emit(t, (uint32_t)(e->c >> 32));
        }
    } else {
        return;
    }
    e->kind = WD_VE_STACK;
    t->last_dst = -1;
}

static void wd_tr_mat_top(wd_tr_t *t, size_t n)
{
    for (size_t i = t->vh - n; i < t->vh; i++) wd_tr_mat(t, i);
}

static void wd_tr_mat_all(wd_tr_t *t) { wd_tr_mat_top(t, t->vh); }

/* Slot of an entry for reading; constants are materialized first. */
static uint32_t wd_tr_src(wd_tr_t *t, size_t pos)
{
    wd_ve_t *e = &t->vs[pos];
    if (e->kind == WD_VE_CONST) wd_tr_mat(t, pos);
    return e->kind == WD_VE_LOCAL ? e->slot : wd_tr_home(t, pos);
}

/* Push a materialized result at the current height; returns its home slot and
 * remembers it as the last producer (for local.set retargeting). */
static uint32_t wd_tr_resultw(wd_tr_t *t, uint8_t w)
{
    uint32_t home = wd_tr_home(t, t->vh);
    wd_tr_pushw(t, WD_VE_STACK, 0, 0, w);
    return home;
}

static uint32_t wd_tr_result(wd_tr_t *t) { return wd_tr_resultw(t, 1); }

static void wd_tr_dst(wd_tr_t *t, uint32_t home)
{
    t->last_dst = (int64_t)t->ncells;
    wd_tr_emit(t, home);
}

static void wd_tr_fail(wd_tr_t *t, const char *msg)
{
    wd_wasm_set_error(t->err, t->p - t->m->bytes, t->func_index, "%s", msg);
}

/* LEB128 of validated code: well-formed and within the section, so no checks. */
static inline uint32_t wd_tr_u32(wd_tr_t *t)
{
    uint32_t v = 0;
    unsigned sh = 0;
    uint8_t b;
    do { b = *t->p++; v |= (uint32_t)(b & 0x7f) << sh; sh += 7; } while ((b & 0x80) && sh < 35);
    return v;
}

static inline int64_t wd_tr_sleb(wd_tr_t *t, unsigned bits)
{
    uint64_t v = 0;
    unsigned sh = 0;
    uint8_t b;
    do { b = *t->p++; v |= (uint64_t)(b & 0x7f) << sh; sh += 7; } while ((b & 0x80) && sh < bits + 7);
    if (sh < 64 && (b & 0x40)) v |= ~(uint64_t)0 << sh;
    return (int64_t)v;
}

static void wd_tr_blocktype(wd_tr_t *t, uint32_t *np, uint32_t *nr, const uint8_t **pt,
                            const uint8_t **rt)
{
    uint8_t b = *t->p;
    *pt = *rt = NULL;
    if (b == 0x40) { t->p++; *np = 0; *nr = 0; return; }
    if (wd_tr_single[b]) { t->p++; *np = 0; *nr = 1; *rt = &wd_tr_single[b]; return; }
    int64_t idx = 0;
    const char *why;
    wd_wasm_read_s33(&t->p, t->end, &idx, &why);
    *np = t->m->types[idx].nparams;
    *nr = t->m->types[idx].nresults;
    *pt = t->m->types[idx].params;
    *rt = t->m->types[idx].results;
}

/* Skip the immediates of op (dead code). */
static void wd_tr_skip_imm(wd_tr_t *t, int op)
{
    uint32_t n;
    switch (wd_wasm_opinfo[op].imm) {
    case WD_IMM_NONE: case WD_IMM_MEM_MEM: break;
    case WD_IMM_BLOCK: { uint32_t a, b; const uint8_t *pa, *pb; wd_tr_blocktype(t, &a, &b, &pa, &pb); break; }
    case WD_IMM_BR_TABLE:
        n = wd_tr_u32(t);
        for (uint32_t i = 0; i <= n; i++) wd_tr_u32(t);
        break;
    case WD_IMM_CALL_IND: case WD_IMM_MEMARG: case WD_IMM_ELEM_TABLE: case WD_IMM_TABLE_TABLE:
        wd_tr_u32(t); wd_tr_u32(t); break;
    case WD_IMM_MEM: case WD_IMM_REFTYPE: t->p++; break;
    case WD_IMM_DATA_MEM: wd_tr_u32(t); t->p++; break;
    case WD_IMM_I32: (void)wd_tr_sleb(t, 32); break;
    case WD_IMM_I64: (void)wd_tr_sleb(t, 64); break;
    case WD_IMM_F32: t->p += 4; break;
    case WD_IMM_F64: t->p += 8; break;
    case WD_IMM_SELECT_T: n = wd_tr_u32(t); t->p += n; break;
    case WD_IMM_LANE: t->p++; break;
    case WD_IMM_MEMARG_LANE: wd_tr_u32(t); wd_tr_u32(t); t->p++; break;
    case WD_IMM_V128: case WD_IMM_SHUFFLE: t->p += 16; break;
    default: wd_tr_u32(t); break;
    }
}

static int wd_tr_read_op(wd_tr_t *t)
{
    uint8_t b = *t->p++;
    if (b == WD_WASM_PREFIX_FC) return WD_OP_FC_BASE + (int)wd_tr_u32(t);
    if (b == WD_WASM_PREFIX_FD) return WD_OP_FD_BASE + (int)wd_tr_u32(t);
    return b;
}

/* Chain a fixup cell for ctl c (patched at its end). */
static void wd_tr_fixup(wd_tr_t *t, wd_ctl_t *c)
{
    uint32_t pos = (uint32_t)t->ncells;
    wd_tr_emit(t, c->fixups);
    c->fixups = pos + 1;
}

static void wd_tr_patch_chain(wd_tr_t *t, uint32_t chain, uint32_t target)
{
    while (chain && !t->oom) {
        uint32_t pos = chain - 1;
        chain = t->cells[pos];
        t->cells[pos] = target - pos;
    }
}

/* Emit the branch target cell for ctl c: forward fixup, or for a loop the
 * backward offset followed by the fuel charged per iteration (the loop body's
 * instruction count up to this branch). */
static void wd_tr_target(wd_tr_t *t, wd_ctl_t *c)
{
    if (c->op == WD_OP_LOOP) {
        uint32_t pos = (uint32_t)t->ncells;
        wd_tr_emit(t, c->loop_pos - pos);
        wd_tr_emit(t, c->fuel_count ? c->fuel_count : 1);
    } else {
        wd_tr_fixup(t, c);
    }
}

/* Emit a branch opcode, in its backward (fuel-charging) form when c is a loop. */
static void wd_tr_brop(wd_tr_t *t, int op, wd_ctl_t *c)
{
    if (c->op == WD_OP_LOOP) {
        if (op == WD_XOP_BR) op = WD_XOP_BRB;
        else if (op == WD_XOP_BR_IF) op = WD_XOP_BRB_IF;
        else if (op == WD_XOP_BR_IF_EQZ) op = WD_XOP_BRB_IF_EQZ;
        else op = WD_XOP_BRB_IF_I32_EQ + (op - WD_XOP_BR_IF_I32_EQ);
    }
    wd_tr_op(t, op);
}

static uint32_t wd_tr_arity(wd_ctl_t *c) { return c->op == WD_OP_LOOP ? c->nparams : c->nresults; }
static const uint8_t *wd_tr_label_types(wd_ctl_t *c) { return c->op == WD_OP_LOOP ? c->ptypes : c->rtypes; }

/* Does branching to c need value moves? (each value must already be in its target slot) */
static int wd_tr_needs_moves(wd_tr_t *t, wd_ctl_t *c)
{
    uint32_t n = wd_tr_arity(c);
    const uint8_t *types = wd_tr_label_types(c);
    uint32_t dst = t->LS + c->sh;
    for (uint32_t i = 0; i < n; i++) {
        size_t pos = t->vh - n + i;
        wd_ve_t *e = &t->vs[pos];
        if (e->kind != WD_VE_STACK || wd_tr_home(t, pos) != dst) return 1;
        dst += wd_tr_tw(types[i]);
    }
    return 0;
}

static void wd_tr_moves(wd_tr_t *t, wd_ctl_t *c)
{
    uint32_t n = wd_tr_arity(c);
    const uint8_t *types = wd_tr_label_types(c);
    uint32_t next = t->LS + c->sh;
    for (uint32_t i = 0; i < n; i++) {
        size_t pos = t->vh - n + i;
        wd_ve_t *e = &t->vs[pos];
        uint32_t dst = next;
        next += wd_tr_tw(types[i]);
        if (e->kind == WD_VE_CONST) {
            if (e->c <= 0xffffffffu) {
                wd_tr_op(t, WD_XOP_CONST32); wd_tr_emit(t, dst); wd_tr_emit(t, (uint32_t)e->c);
            } else {
                wd_tr_op(t, WD_XOP_CONST64); wd_tr_emit(t, dst); wd_tr_emit(t, (uint32_t)e->c);
                wd_tr_emit(t, (uint32_t)(e->c >> 32));
            }
            continue;
        }
        uint32_t src = e->kind == WD_VE_LOCAL ? e->slot : wd_tr_home(t, pos);
        if (src != dst) {
            wd_tr_op(t, e->w == 2 ? WD_XOP_MOV2 : WD_XOP_MOV); wd_tr_emit(t, dst); wd_tr_emit(t, src);
        }
    }
    t->last_dst = -1;
}

/* Results of the function into slots 0..n, then RETURN. */
static void wd_tr_return(wd_tr_t *t)
{
    uint32_t n = t->ctl[0].nresults;
    if (n == 1 && t->vs[t->vh - 1].w == 1) {
        uint32_t src = wd_tr_src(t, t->vh - 1);
        wd_tr_op(t, WD_XOP_RETURN1);
        wd_tr_emit(t, src);
        return;
    }
    wd_tr_mat_top(t, n);
    uint32_t dst = 0;          /* sources sit at or above their targets: moves in order are safe */
    for (uint32_t i = 0; i < n; i++) {
        size_t pos = t->vh - n + i;
        uint32_t src = wd_tr_home(t, pos);
        if (src != dst) {
            wd_tr_op(t, t->vs[pos].w == 2 ? WD_XOP_MOV2 : WD_XOP_MOV); wd_tr_emit(t, dst); wd_tr_emit(t, src);
        }
        dst += t->vs[pos].w;
    }
    wd_tr_op(t, WD_XOP_RETURN);
}

static void wd_tr_set_unreachable(wd_tr_t *t)
{
    wd_ctl_t *c = &t->ctl[t->nctl - 1];
    c->unreachable = 1;
    t->vh = c->height;
    t->last_dst = -1;
}

static int wd_tr_push_ctl(wd_tr_t *t, int op, uint32_t np, uint32_t nr, const uint8_t *pt,
                          const uint8_t *rt, int dead)
{
    if (t->nctl == t->ctlcap) {
        size_t nc = t->ctlcap ? t->ctlcap * 2 : 16;
        wd_ctl_t *c = wd_wasm_realloc(t->ctl, nc * sizeof(*c));
        if (c == NULL) { t->oom = 1; return -1; }
        t->ctl = c;
        t->ctlcap = nc;
    }
    wd_ctl_t *c = &t->ctl[t->nctl++];
    memset(c, 0, sizeof(*c));
    c->op = op;
    c->dead = (uint8_t)dead;
    c->unreachable = (uint8_t)dead;
    c->nparams = np;
    c->nresults = nr;
    c->ptypes = pt;
    c->rtypes = rt;
    c->height = dead ? (uint32_t)t->vh : (uint32_t)(t->vh - np);
    c->sh = c->height < t->vh ? t->vs[c->height].sh : wd_tr_nsh(t);
    c->prev_loop = -1;
    return 0;
}

static int wd_tr_is_cmp_i32(int op)
{
    return op >= WD_OP_I32_EQ && op <= WD_OP_I32_GE_U;
}

static int wd_tr_imm_variant(int op)
{
    switch (op) {
    case WD_OP_I32_ADD: return WD_XOP_I32_ADD_IMM;
    case WD_OP_I32_SUB: return WD_XOP_I32_SUB_IMM;
    case WD_OP_I32_AND: return WD_XOP_I32_AND_IMM;
    case WD_OP_I32_OR: return WD_XOP_I32_OR_IMM;
    case WD_OP_I32_XOR: return WD_XOP_I32_XOR_IMM;
    case WD_OP_I32_SHL: return WD_XOP_I32_SHL_IMM;
    case WD_OP_I32_SHR_U: return WD_XOP_I32_SHR_U_IMM;
    case WD_OP_I32_SHR_S: return WD_XOP_I32_SHR_S_IMM;
    case WD_OP_I32_MUL: return WD_XOP_I32_MUL_IMM;
    case WD_OP_I32_EQ: return WD_XOP_I32_EQ_IMM;
    case WD_OP_I32_NE: return WD_XOP_I32_NE_IMM;
    case WD_OP_I32_LT_S: return WD_XOP_I32_LT_S_IMM;
    case WD_OP_I32_LT_U: return WD_XOP_I32_LT_U_IMM;
    case WD_OP_I32_GT_S: return WD_XOP_I32_GT_S_IMM;
    case WD_OP_I32_GT_U: return WD_XOP_I32_GT_U_IMM;
    case WD_OP_I32_LE_S: return WD_XOP_I32_LE_S_IMM;
    case WD_OP_I32_LE_U: return WD_XOP_I32_LE_U_IMM;
    case WD_OP_I32_GE_S: return WD_XOP_I32_GE_S_IMM;
    case WD_OP_I32_GE_U: return WD_XOP_I32_GE_U_IMM;
    case WD_OP_I64_ADD: return WD_XOP_I64_ADD_IMM;
    case WD_OP_I64_SUB: return WD_XOP_I64_ADD_IMM;     /* with the constant negated */
    case WD_OP_I64_MUL: return WD_XOP_I64_MUL_IMM;
    case WD_OP_I64_AND: return WD_XOP_I64_AND_IMM;
    case WD_OP_I64_OR: return WD_XOP_I64_OR_IMM;
    case WD_OP_I64_XOR: return WD_XOP_I64_XOR_IMM;
    case WD_OP_I64_SHL: return WD_XOP_I64_SHL_IMM;
    case WD_OP_I64_SHR_U: return WD_XOP_I64_SHR_U_IMM;
    case WD_OP_I64_SHR_S: return WD_XOP_I64_SHR_S_IMM;
    default: return -1;
    }
}

#define WD_TR_MEMFUSED_(X, op) case WD_OP_##op: return la ? WD_XOP_LA_##op : WD_XOP_LI_##op;
static int wd_tr_memfused(int op, int la)
{
    switch (op) {
    WD_WASM_MEMOPS(WD_TR_MEMFUSED_, _)
    default: return -1;
    }
}
#undef WD_TR_MEMFUSED_

/* Load-operand form of a binary operator: its XOP, the load it folds and
 * whether the operator is commutative; -1 if none. */
#define WD_TR_LDOP_(X, op, ld, comm) case WD_OP_##op: *load = WD_OP_##ld; *li_load = WD_XOP_LI_##ld; \
        *commutes = comm; *ldi = WD_XOP_LDI_##op; return WD_XOP_LD_##op;
static int wd_tr_ldop(int op, int *load, int *li_load, int *commutes, int *ldi)
{
    switch (op) {
    WD_WASM_LDOPS(WD_TR_LDOP_, _)
    default: return -1;
    }
}
#undef WD_TR_LDOP_

/* Plain operators: "pops:pushes" signature, dst then sources then immediates. */
static uint8_t wd_tr_npop[WD_OP_LIMIT_], wd_tr_npush[WD_OP_LIMIT_], wd_tr_opw[WD_OP_LIMIT_];

/* Operand counts of the plain operators, from the signatures in the opcode table. */
static void wd_tr_init_sigs(void)
{
    if (wd_tr_npush[WD_OP_I32_ADD]) return;
    for (int op = 0; op < WD_OP_LIMIT_; op++) {
        const char *sig = wd_wasm_opinfo[op].sig;
        const char *colon = sig ? strchr(sig, ':') : NULL;
        if (colon == NULL) continue;
        wd_tr_npop[op] = (uint8_t)(colon - sig);
        wd_tr_npush[op] = (uint8_t)strlen(colon + 1);
        wd_tr_opw[op] = colon[1] == 'v' ? 2 : 1;
    }
}

static void wd_tr_plain(wd_tr_t *t, int op)
{
    const wd_wasm_opinfo_t *oi = &wd_wasm_opinfo[op];
    uint32_t npop = wd_tr_npop[op];
    uint32_t npush = wd_tr_npush[op];
    uint32_t imm[4];
    int nimm = 0;
    switch (oi->imm) {
    case WD_IMM_MEMARG: wd_tr_u32(t); imm[nimm++] = wd_tr_u32(t); break;
    case WD_IMM_MEMARG_LANE: wd_tr_u32(t); imm[nimm++] = wd_tr_u32(t); imm[nimm++] = *t->p++; break;
    case WD_IMM_LANE: imm[nimm++] = *t->p++; break;
    case WD_IMM_SHUFFLE: memcpy(imm, t->p, 16); t->p += 16; nimm = 4; break;
    case WD_IMM_MEM: t->p++; break;
    case WD_IMM_MEM_MEM: t->p += 2; break;
    case WD_IMM_DATA_MEM: imm[nimm++] = wd_tr_u32(t); t->p++; break;
    case WD_IMM_DATA: case WD_IMM_ELEM: case WD_IMM_TABLE: imm[nimm++] = wd_tr_u32(t); break;
    case WD_IMM_ELEM_TABLE: case WD_IMM_TABLE_TABLE:
        imm[nimm++] = wd_tr_u32(t); imm[nimm++] = wd_tr_u32(t); break;
    default: break;
    }
    /* load/store whose address was just computed by i32.add: one fused instruction */
    if (oi->imm == WD_IMM_MEMARG && !t->oom && t->last_dst >= 0 && wd_tr_memfused(op, 1) >= 0) {
        size_t apos = t->vh - npop;
        int vok = npop == 1 || t->vs[t->vh - 1].kind == WD_VE_LOCAL;
        if (t->vs[apos].kind == WD_VE_STACK && vok && t->cells[t->last_dst] == wd_tr_home(t, apos) &&
            (t->last_op == WD_OP_I32_ADD || t->last_op == WD_XOP_I32_ADD_IMM)) {
            size_t at = t->last_op_pos;
            uint32_t a = t->cells[at + 2], b = t->cells[at + 3];
            int xop = wd_tr_memfused(op, t->last_op == WD_OP_I32_ADD);
            uint32_t val = npop == 2 ? t->vs[t->vh - 1].slot : 0;
            t->ncells = at;
            t->vh -= npop;
            uint32_t d = npush ? wd_tr_result(t) : 0;
            wd_tr_op(t, xop);
            if (npush) wd_tr_dst(t, d);
            wd_tr_emit(t, a);
            wd_tr_emit(t, b);
            if (npop == 2) wd_tr_emit(t, val);
            wd_tr_emit(t, imm[0]);
            return;
        }
    }
    /* binop whose operand was just loaded: fold the load into it */
    if (npop == 2 && npush == 1 && !t->oom && t->last_dst >= 0) {
        int ld, lild, comm, ldi, x = wd_tr_ldop(op, &ld, &lild, &comm, &ldi);
        if (x >= 0 && (t->last_op == ld || t->last_op == lild)) {
            int viali = t->last_op == lild;
            size_t r = t->vh - 1, l = t->vh - 2;
            uint32_t prod = t->cells[t->last_dst];
            int rhs = t->vs[r].kind == WD_VE_STACK && prod == wd_tr_home(t, r) && t->vs[l].kind != WD_VE_CONST;
            int lhs = comm && t->vs[l].kind == WD_VE_STACK && prod == wd_tr_home(t, l) &&
                      t->vs[r].kind == WD_VE_LOCAL;
            if (rhs || lhs) {
                size_t at = t->last_op_pos;   /* [load dst addr off] or [LI_load dst base imm off] */
                uint32_t addr = t->cells[at + 2], off = t->cells[at + 3];
                uint32_t off2 = viali ? t->cells[at + 4] : 0;
                uint32_t other = rhs ? (t->vs[l].kind == WD_VE_LOCAL ? t->vs[l].slot : wd_tr_home(t, l))
                                     : t->vs[r].slot;
                t->ncells = at;
                t->vh -= 2;
                uint32_t d = wd_tr_result(t);
                wd_tr_op(t, viali ? ldi : x);
                wd_tr_dst(t, d);
                wd_tr_emit(t, other);
                wd_tr_emit(t, addr);
                wd_tr_emit(t, off);
                if (viali) wd_tr_emit(t, off2);
                return;
            }
        }
    }
    /* i32 binop with a constant right operand -> *_IMM form */
    if (npop == 2 && npush == 1 && t->vs[t->vh - 1].kind == WD_VE_CONST) {
        int x = wd_tr_imm_variant(op);
        uint64_t cv = t->vs[t->vh - 1].c;
        int is64 = op >= WD_OP_I64_CLZ && op <= WD_OP_I64_ROTR;
        if (op == WD_OP_I64_SUB) cv = 0 - cv;               /* x - c == x + (-c) */
        if (x >= 0 && is64 && (int64_t)cv != (int32_t)cv) {
            /* a constant that needs 64 bits: K64 form for the common operators */
            int k = op == WD_OP_I64_ADD || op == WD_OP_I64_SUB ? WD_XOP_I64_ADD_K64
                  : op == WD_OP_I64_MUL ? WD_XOP_I64_MUL_K64 : op == WD_OP_I64_AND ? WD_XOP_I64_AND_K64
                  : op == WD_OP_I64_OR ? WD_XOP_I64_OR_K64 : op == WD_OP_I64_XOR ? WD_XOP_I64_XOR_K64 : -1;
            if (k >= 0) {
                uint32_t a = wd_tr_src(t, t->vh - 2);
                t->vh -= 2;
                uint32_t d = wd_tr_result(t);
                wd_tr_op(t, k);
                wd_tr_dst(t, d);
                wd_tr_emit(t, a);
                wd_tr_emit(t, (uint32_t)cv);
                wd_tr_emit(t, (uint32_t)(cv >> 32));
                return;
            }
        }
        if (x >= 0 && (!is64 || (int64_t)cv == (int32_t)cv)) {
            uint32_t c = (uint32_t)cv;
            if (x == WD_XOP_I32_SUB_IMM) { x = WD_XOP_I32_ADD_IMM; c = 0u - c; }  /* feeds address fusion */
            uint32_t a = wd_tr_src(t, t->vh - 2);
            t->vh -= 2;
            uint32_t d = wd_tr_result(t);
            wd_tr_op(t, x);
            wd_tr_dst(t, d);
            wd_tr_emit(t, a);
            wd_tr_emit(t, c);
            return;
        }
    }
    uint32_t src[3];
    for (uint32_t i = 0; i < npop; i++) src[i] = wd_tr_src(t, t->vh - npop + i);
    t->vh -= npop;
    uint32_t d = npush ? wd_tr_resultw(t, wd_tr_opw[op]) : 0;
    wd_tr_op(t, op);
    if (npush) wd_tr_dst(t, d);
    for (uint32_t i = 0; i < npop; i++) wd_tr_emit(t, src[i]);
    for (int i = 0; i < nimm; i++) wd_tr_emit(t, imm[i]);
}

static void wd_tr_local_set(wd_tr_t *t, uint32_t x, int tee)
{
    size_t top = t->vh - 1;
    int refs = 0;
    for (size_t i = 0; i < top; i++)
        if (t->vs[i].kind == WD_VE_LOCAL && t->vs[i].slot == x) refs = 1;
    wd_ve_t e = t->vs[top];
    if (refs) {
        for (size_t i = 0; i < top; i++)
            if (t->vs[i].kind == WD_VE_LOCAL && t->vs[i].slot == x) wd_tr_mat(t, i);
        t->last_dst = -1;
    }
    if (e.kind == WD_VE_STACK && t->last_dst >= 0 && !t->oom && t->cells[t->last_dst] == wd_tr_home(t, top)) {
        t->cells[t->last_dst] = x;               /* the producer writes the local directly */
    } else if (e.kind == WD_VE_CONST) {
        if (e.c <= 0xffffffffu) {
            wd_tr_op(t, WD_XOP_CONST32); wd_tr_emit(t, x); wd_tr_emit(t, (uint32_t)e.c);
        } else {
            wd_tr_op(t, WD_XOP_CONST64); wd_tr_emit(t, x); wd_tr_emit(t, (uint32_t)e.c);
            wd_tr_emit(t, (uint32_t)(e.c >> 32));
        }
    } else {
        uint32_t s = e.kind == WD_VE_LOCAL ? e.slot : wd_tr_home(t, top);
        if (s != x) { wd_tr_op(t, e.w == 2 ? WD_XOP_MOV2 : WD_XOP_MOV); wd_tr_emit(t, x); wd_tr_emit(t, s); }
    }
    t->last_dst = -1;
    t->vh--;
    if (tee) wd_tr_pushw(t, WD_VE_LOCAL, x, 0, e.w);
}

static void wd_tr_end_block(wd_tr_t *t, wd_ctl_t *c)
{
    uint32_t here = (uint32_t)t->ncells;
    wd_tr_patch_chain(t, c->fixups, here);
    if (c->else_fix) wd_tr_patch_chain(t, c->else_fix, here);
    t->vh = c->height;
    wd_tr_push_types(t, c->nresults, c->rtypes);
    t->last_dst = -1;
}

static int wd_tr_body(wd_tr_t *t, const wd_wasm_func_decl_t *fd, const wd_wasm_functype_t *ft)
{
    /* function entry: fuel cell */
    if (wd_tr_push_ctl(t, -1, 0, ft->nresults, NULL, ft->results, 0) < 0) {
        wd_tr_fail(t, "out of memory");
        return -1;
    }
    t->ctl[0].height = 0;
    t->ctl[0].sh = 0;
    wd_tr_op(t, WD_XOP_FUEL);
    t->fuel_pos = (uint32_t)t->ncells;
    wd_tr_emit(t, 0);

    while (t->nctl > 0 && !t->oom) {
        if (t->p >= t->end) { wd_tr_fail(t, "unexpected end"); return -1; }
        if (wd_tr_vreserve(t, 8) < 0 || wd_tr_reserve(t, 16) < 0) break;
        int op = wd_tr_read_op(t);
        wd_ctl_t *c = &t->ctl[t->nctl - 1];
        if (c->unreachable) {
            /* dead code: follow nesting only */
            switch (op) {
            case WD_OP_BLOCK: case WD_OP_LOOP: case WD_OP_IF: {
                uint32_t np, nr;
                const uint8_t *pt, *rt;
                wd_tr_blocktype(t, &np, &nr, &pt, &rt);
                wd_tr_push_ctl(t, op, np, nr, pt, rt, 1);
                continue;
            }
            case WD_OP_ELSE:
                if (c->dead) continue;
                break;            /* live if whose then-arm ended unreachable */
            case WD_OP_END:
                if (c->dead) { t->nctl--; continue; }
                break;
            default:
                wd_tr_skip_imm(t, op);
                continue;
            }
        }
        if (t->loop_ctl >= 0) t->ctl[t->loop_ctl].fuel_count++;
        else if (!t->oom) t->cells[t->fuel_pos]++;
        switch (op) {
        case WD_OP_UNREACHABLE:
            wd_tr_op(t, WD_XOP_TRAP_UNREACHABLE);
            wd_tr_set_unreachable(t);
            break;
        case WD_OP_NOP:
            break;
        case WD_OP_BLOCK: case WD_OP_LOOP: case WD_OP_IF: {
            uint32_t np, nr;
            const uint8_t *pt, *rt;
            wd_tr_blocktype(t, &np, &nr, &pt, &rt);
            uint32_t cond = 0, fa = 0, fb = 0;
            int fop = -1;
            if (op == WD_OP_IF) {
                /* a compare right before `if` becomes one inverted compare-and-branch to else */
                size_t ctop = t->vh - 1;
                int pop = -1;
                if (t->vs[ctop].kind == WD_VE_STACK && t->last_dst >= 0 && !t->oom &&
                    t->cells[t->last_dst] == wd_tr_home(t, ctop))
                    pop = t->last_op;
                static const uint8_t inv[10] = { 1, 0, 8, 9, 6, 7, 4, 5, 2, 3 };
                if (pop == WD_OP_I32_EQZ) fop = WD_XOP_BR_IF_NEZ;
                else if (wd_tr_is_cmp_i32(pop)) fop = WD_XOP_BR_IF_I32_EQ + inv[pop - WD_OP_I32_EQ];
                else if (pop >= WD_XOP_I32_EQ_IMM && pop <= WD_XOP_I32_GE_U_IMM)
                    fop = WD_XOP_BR_IF_I32_EQ_IMM + inv[pop - WD_XOP_I32_EQ_IMM];
                if (fop >= 0) {
                    size_t at = t->last_op_pos;
                    fa = t->cells[at + 2];
                    fb = pop == WD_OP_I32_EQZ ? 0 : t->cells[at + 3];
                    t->ncells = at;
                } else {
                    cond = wd_tr_src(t, ctop);
                }
                t->vh--;
            }
            wd_tr_mat_all(t);
            if (wd_tr_push_ctl(t, op, np, nr, pt, rt, 0) < 0) return -1;
            c = &t->ctl[t->nctl - 1];
            if (op == WD_OP_LOOP) {
                c->loop_pos = (uint32_t)t->ncells;
                c->prev_loop = t->loop_ctl;
                c->fuel_count = 1;
                t->loop_ctl = (int)(t->nctl - 1);
            } else if (op == WD_OP_IF) {
                if (fop >= 0) {
                    wd_tr_op(t, fop);
                    wd_tr_emit(t, fa);
                    if (fop != WD_XOP_BR_IF_NEZ) wd_tr_emit(t, fb);
                } else {
                    wd_tr_op(t, WD_XOP_BR_UNLESS);
                    wd_tr_emit(t, cond);
                }
                c->else_fix = (uint32_t)t->ncells + 1;
                wd_tr_emit(t, 0);
            }
            t->last_dst = -1;
            break;
        }
        case WD_OP_ELSE: {
            if (!c->unreachable) {
                wd_tr_mat_top(t, c->nresults);
                wd_tr_op(t, WD_XOP_BR);
                wd_tr_fixup(t, c);
            }
            wd_tr_patch_chain(t, c->else_fix, (uint32_t)t->ncells);
            c->else_fix = 0;
            c->has_else = 1;
            if (wd_tr_vreserve(t, c->nparams) < 0) break;
            c->unreachable = 0;
            t->vh = c->height;
            wd_tr_push_types(t, c->nparams, c->ptypes);
            t->last_dst = -1;
            break;
        }
        case WD_OP_END: {
            if (!c->unreachable) {
                if (t->nctl == 1) {
                    wd_tr_return(t);
                    t->nctl--;
                    break;
                }
                wd_tr_mat_top(t, c->nresults);
            }
            if (t->nctl == 1) {
                /* function end after unreachable code: branches to the function label land here */
                uint32_t here = (uint32_t)t->ncells;
                wd_tr_patch_chain(t, c->fixups, here);
                if (c->fixups) {
                    t->vh = 0;
                    if (wd_tr_vreserve(t, c->nresults) < 0) break;
                    wd_tr_push_types(t, c->nresults, c->rtypes);
                    wd_tr_return(t);
                } else {
                    wd_tr_op(t, WD_XOP_TRAP_UNREACHABLE);   /* never reached */
                }
                t->nctl--;
                break;
            }
            if (c->op == WD_OP_LOOP) t->loop_ctl = c->prev_loop;
            if (wd_tr_vreserve(t, c->nresults) < 0) break;
            int reachable_after = !c->unreachable || c->fixups || c->else_fix ||
                                  (c->op == WD_OP_IF && !c->has_else);
            wd_tr_end_block(t, c);
            t->nctl--;
            if (!reachable_after) wd_tr_set_unreachable(t);
            break;
        }
        case WD_OP_BR: {
            uint32_t l = wd_tr_u32(t);
            wd_ctl_t *tc = &t->ctl[t->nctl - 1 - l];
            if (tc->op == -1) { wd_tr_return(t); wd_tr_set_unreachable(t); break; }
            wd_tr_moves(t, tc);
            wd_tr_brop(t, WD_XOP_BR, tc);
            wd_tr_target(t, tc);
            wd_tr_set_unreachable(t);
            break;
        }
        case WD_OP_BR_IF: {
            uint32_t l = wd_tr_u32(t);
            wd_ctl_t *tc = &t->ctl[t->nctl - 1 - l];
            /* fused compare-and-branch when the condition was just computed */
            size_t ctop = t->vh - 1;
            int fuse = t->vs[ctop].kind == WD_VE_STACK && t->last_dst >= 0 && !t->oom &&
                       t->cells[t->last_dst] == wd_tr_home(t, ctop);
            int pop = fuse ? t->last_op : -1;
            uint32_t cond = wd_tr_src(t, ctop);
            t->vh--;
            if (tc->op == -1 || wd_tr_needs_moves(t, tc)) {
                /* pending values are materialized on both paths, before the test */
                wd_tr_mat_top(t, wd_tr_arity(tc));
                wd_tr_op(t, WD_XOP_BR_UNLESS);
                wd_tr_emit(t, cond);
                uint32_t skip = (uint32_t)t->ncells;
                wd_tr_emit(t, 0);
                if (tc->op == -1) {
                    wd_tr_return(t);
                } else {
                    wd_tr_moves(t, tc);
                    wd_tr_brop(t, WD_XOP_BR, tc);
                    wd_tr_target(t, tc);
                }
                if (!t->oom) t->cells[skip] = (uint32_t)t->ncells - skip;
                t->last_dst = -1;
                break;
            }
            if (pop >= 0 && (pop == WD_OP_I32_EQZ || wd_tr_is_cmp_i32(pop) ||
                             (pop >= WD_XOP_I32_EQ_IMM && pop <= WD_XOP_I32_GE_U_IMM))) {
                /* rewrite the compare in place: [op dst a (b|imm)] -> [brop a (b|imm) rel] */
                size_t at = t->last_op_pos;
                uint32_t a = t->cells[at + 2];
                int nop;
                if (pop == WD_OP_I32_EQZ) {
                    nop = WD_XOP_BR_IF_EQZ;
                    t->ncells = at;
                    wd_tr_brop(t, nop, tc); wd_tr_emit(t, a);
                } else {
                    uint32_t b = t->cells[at + 3];
                    if (pop >= WD_XOP_I32_EQ_IMM) nop = WD_XOP_BR_IF_I32_EQ_IMM + (pop - WD_XOP_I32_EQ_IMM);
                    else nop = WD_XOP_BR_IF_I32_EQ + (pop - WD_OP_I32_EQ);
                    t->ncells = at;
                    wd_tr_brop(t, nop, tc); wd_tr_emit(t, a); wd_tr_emit(t, b);
                }
                wd_tr_target(t, tc);
                t->last_dst = -1;
                break;
            }
            wd_tr_brop(t, WD_XOP_BR_IF, tc);
            wd_tr_emit(t, cond);
            wd_tr_target(t, tc);
            break;
        }
        case WD_OP_BR_TABLE: {
            uint32_t n = wd_tr_u32(t);
            /* same definition as the validator: n labels besides the default */
            if (n > t->max_br_table) {
                wd_wasm_set_error(t->err, t->p - t->m->bytes, t->func_index,
                                  "br_table too large: %u labels (implementation limit %u, load option max_br_table)",
                                  n, t->max_br_table);
                return -1;
            }
            uint32_t *labels = wd_wasm_calloc((size_t)n + 1, sizeof(uint32_t));
            if (labels == NULL) { t->oom = 1; return -1; }
            for (uint32_t i = 0; i <= n; i++) labels[i] = wd_tr_u32(t);
            uint32_t idx = wd_tr_src(t, t->vh - 1);
            t->vh--;
            wd_tr_mat_top(t, wd_tr_arity(&t->ctl[t->nctl - 1 - labels[n]]));
            wd_tr_op(t, WD_XOP_BR_TABLE);
            wd_tr_emit(t, idx);
            wd_tr_emit(t, n);
            if (wd_tr_reserve(t, (size_t)n + 1) < 0) { wd_wasm_free(labels); return -1; }
            size_t tab = t->ncells;
            for (uint32_t i = 0; i <= n; i++) wd_tr_emit(t, 0);
            for (uint32_t i = 0; i <= n && !t->oom; i++) {
                wd_ctl_t *tc = &t->ctl[t->nctl - 1 - labels[i]];
                size_t cell = tab + i;
                if (tc->op != -1 && tc->op != WD_OP_LOOP && !wd_tr_needs_moves(t, tc)) {
                    t->cells[cell] = tc->fixups;
                    tc->fixups = (uint32_t)cell + 1;
                    continue;
                }
                t->cells[cell] = (uint32_t)t->ncells - (uint32_t)cell;   /* offset of the trampoline emitted below */
                if (tc->op == -1) {
                    wd_tr_return(t);
                } else {
                    wd_tr_moves(t, tc);
                    wd_tr_brop(t, WD_XOP_BR, tc);
                    wd_tr_target(t, tc);
                }
            }
            wd_wasm_free(labels);
            wd_tr_set_unreachable(t);
            break;
        }
        case WD_OP_RETURN:
            wd_tr_return(t);
            wd_tr_set_unreachable(t);
            break;
        case WD_OP_CALL: case WD_OP_CALL_INDIRECT: {
            uint32_t fi = wd_tr_u32(t), ti = 0, tab = 0, idx = 0;
            const wd_wasm_functype_t *ft2;
            if (op == WD_OP_CALL) {
                ft2 = &t->m->types[t->m->func_types[fi]];
            } else {
                ti = fi;
                tab = wd_tr_u32(t);
                ft2 = &t->m->types[ti];
                idx = wd_tr_src(t, t->vh - 1);
                t->vh--;
            }
            wd_tr_mat_top(t, ft2->nparams);
            uint32_t base = wd_tr_home(t, t->vh - ft2->nparams);
            uint32_t need = base - t->LS;
            for (uint32_t i = 0; i < ft2->nparams; i++) need += wd_tr_tw(ft2->params[i]);
            for (uint32_t i = 0; i < ft2->nresults; i++) need += wd_tr_tw(ft2->results[i]);
            if (need > t->scratch) t->scratch = need;
            t->vh -= ft2->nparams;
            if (wd_tr_vreserve(t, ft2->nresults) < 0) break;
            wd_tr_push_types(t, ft2->nresults, ft2->results);
            if (op == WD_OP_CALL) {
                wd_tr_op(t, WD_XOP_CALL);
                wd_tr_emit(t, fi);
                wd_tr_emit(t, base);
            } else {
                wd_tr_op(t, WD_XOP_CALL_INDIRECT);
                wd_tr_emit(t, ti);
                wd_tr_emit(t, tab);
                wd_tr_emit(t, base);
                wd_tr_emit(t, idx);
            }
            t->last_dst = -1;
            break;
        }
        case WD_OP_DROP:
            t->vh--;
            t->last_dst = -1;
            break;
        case WD_OP_SELECT: case WD_OP_SELECT_T: {
            if (op == WD_OP_SELECT_T) { uint32_t n = wd_tr_u32(t); t->p += n; }
            uint32_t a = wd_tr_src(t, t->vh - 3), b = wd_tr_src(t, t->vh - 2);
            uint32_t cnd = wd_tr_src(t, t->vh - 1);
            uint8_t w = t->vs[t->vh - 3].w;
            t->vh -= 3;
            uint32_t d = wd_tr_resultw(t, w);
            wd_tr_op(t, w == 2 ? WD_XOP_SELECT2 : WD_XOP_SELECT);
            wd_tr_dst(t, d);
            wd_tr_emit(t, a); wd_tr_emit(t, b); wd_tr_emit(t, cnd);
            break;
        }
        case WD_OP_LOCAL_GET: {
            uint32_t x = wd_tr_u32(t);
            uint32_t sl = t->lslot[x];
            wd_tr_pushw(t, WD_VE_LOCAL, sl, 0, (uint8_t)(t->lslot[x + 1] - sl));
            t->last_dst = -1;
            break;
        }
        case WD_OP_LOCAL_SET:
            wd_tr_local_set(t, t->lslot[wd_tr_u32(t)], 0);
            break;
        case WD_OP_LOCAL_TEE:
            wd_tr_local_set(t, t->lslot[wd_tr_u32(t)], 1);
            break;
        case WD_OP_GLOBAL_GET: {
            uint32_t g = wd_tr_u32(t);
            uint8_t w = wd_tr_tw(t->m->globals[g].type);
            uint32_t d = wd_tr_resultw(t, w);
            wd_tr_op(t, w == 2 ? WD_XOP_GLOBAL_GET2 : WD_XOP_GLOBAL_GET);
            wd_tr_dst(t, d);
            wd_tr_emit(t, g);
            break;
        }
        case WD_OP_GLOBAL_SET: {
            uint32_t g = wd_tr_u32(t);
            uint32_t s = wd_tr_src(t, t->vh - 1);
            t->vh--;
            wd_tr_op(t, t->m->globals[g].type == WD_WASM_V128 ? WD_XOP_GLOBAL_SET2 : WD_XOP_GLOBAL_SET);
            wd_tr_emit(t, s);
            wd_tr_emit(t, g);
            break;
        }
        case WD_OP_TABLE_GET: {
            uint32_t tb = wd_tr_u32(t);
            uint32_t i = wd_tr_src(t, t->vh - 1);
            t->vh--;
            uint32_t d = wd_tr_result(t);
            wd_tr_op(t, WD_XOP_TABLE_GET);
            wd_tr_dst(t, d); wd_tr_emit(t, i); wd_tr_emit(t, tb);
            break;
        }
        case WD_OP_TABLE_SET: {
            uint32_t tb = wd_tr_u32(t);
            uint32_t i = wd_tr_src(t, t->vh - 2), v = wd_tr_src(t, t->vh - 1);
            t->vh -= 2;
            wd_tr_op(t, WD_XOP_TABLE_SET);
            wd_tr_emit(t, i); wd_tr_emit(t, v); wd_tr_emit(t, tb);
            break;
        }
        case WD_OP_TABLE_GROW: {
            uint32_t tb = wd_tr_u32(t);
            uint32_t v = wd_tr_src(t, t->vh - 2), n = wd_tr_src(t, t->vh - 1);
            t->vh -= 2;
            uint32_t d = wd_tr_result(t);
            wd_tr_op(t, WD_XOP_TABLE_GROW);
            wd_tr_dst(t, d); wd_tr_emit(t, v); wd_tr_emit(t, n); wd_tr_emit(t, tb);
            break;
        }
        case WD_OP_TABLE_FILL: {
            uint32_t tb = wd_tr_u32(t);
            uint32_t i = wd_tr_src(t, t->vh - 3), v = wd_tr_src(t, t->vh - 2);
            uint32_t n = wd_tr_src(t, t->vh - 1);
            t->vh -= 3;
            wd_tr_op(t, WD_XOP_TABLE_FILL);
            wd_tr_emit(t, i); wd_tr_emit(t, v); wd_tr_emit(t, n); wd_tr_emit(t, tb);
            break;
        }
        case WD_OP_REF_NULL:
            t->p++;
            wd_tr_push(t, WD_VE_CONST, 0, 0);
            t->last_dst = -1;
            break;
        case WD_OP_REF_IS_NULL: {
            uint32_t a = wd_tr_src(t, t->vh - 1);
            t->vh--;
            uint32_t d = wd_tr_result(t);
            wd_tr_op(t, WD_XOP_REF_IS_NULL);
            wd_tr_dst(t, d); wd_tr_emit(t, a);
            break;
        }
        case WD_OP_REF_FUNC: {
            uint32_t f = wd_tr_u32(t);
            uint32_t d = wd_tr_result(t);
            wd_tr_op(t, WD_XOP_REF_FUNC);
            wd_tr_dst(t, d); wd_tr_emit(t, f);
            break;
        }
        case WD_OP_I32_CONST: {
            uint32_t v = (uint32_t)wd_tr_sleb(t, 32);
            wd_tr_push(t, WD_VE_CONST, 0, v);
            t->last_dst = -1;
            break;
        }
        case WD_OP_I64_CONST: {
            uint64_t v = (uint64_t)wd_tr_sleb(t, 64);
            wd_tr_push(t, WD_VE_CONST, 0, v);
            t->last_dst = -1;
            break;
        }
        case WD_OP_F32_CONST: {
            uint32_t v;
            memcpy(&v, t->p, 4);
            t->p += 4;
            wd_tr_push(t, WD_VE_CONST, 0, v);
            t->last_dst = -1;
            break;
        }
        case WD_OP_F64_CONST: {
            uint64_t v;
            memcpy(&v, t->p, 8);
            t->p += 8;
            wd_tr_push(t, WD_VE_CONST, 0, v);
            t->last_dst = -1;
            break;
        }
        case WD_OP_V128_CONST: {
            uint32_t d = wd_tr_resultw(t, 2);
            wd_tr_op(t, WD_XOP_CONST128);
            wd_tr_dst(t, d);
            for (int k = 0; k < 4; k++) {
                uint32_t v;
                memcpy(&v, t->p, 4);
                t->p += 4;
                wd_tr_emit(t, v);
            }
            break;
        }
        default:
            if (op < WD_OP_LIMIT_ && wd_wasm_opinfo[op].name && wd_wasm_opinfo[op].sig[0] != '*') {
                wd_tr_plain(t, op);
                break;
            }
            wd_tr_fail(t, "illegal opcode");
            return -1;
        }
    }
    if (t->oom) { wd_tr_fail(t, "out of memory"); return -1; }
    (void)fd;
    return 0;
}

static int wd_tr_func(const wd_wasm_module_t *m, uint32_t i, const wd_wasm_load_opts_t *opts,
                      wd_wasm_error_t *err, wd_tr_t *t)
{
    wd_wasm_func_decl_t *fd = &m->funcs[i];
    const wd_wasm_functype_t *ft = &m->types[fd->type_index];
    t->m = m;
    t->p = m->bytes + fd->expr.off;
    t->end = t->p + fd->expr.len;
    t->err = err;
    t->max_br_table = opts && opts->max_br_table ? opts->max_br_table : WD_WASM_DEFAULT_MAX_BR_TABLE;
    t->func_index = m->nfuncs_imported + i;
    t->L = ft->nparams + (uint32_t)fd->nlocals;
    if ((size_t)t->L + 1 > t->lslot_cap) {
        uint32_t *ls = wd_wasm_realloc(t->lslot, ((size_t)t->L + 1) * sizeof(uint32_t));
        if (ls == NULL) { wd_wasm_set_error(err, fd->body_off, t->func_index, "out of memory"); return -1; }
        t->lslot = ls;
        t->lslot_cap = (size_t)t->L + 1;
    }
    uint32_t ls = 0, pslots = 0;
    for (uint32_t k = 0; k < t->L; k++) {
        t->lslot[k] = ls;
        ls += wd_tr_tw(k < ft->nparams ? ft->params[k] : fd->local_types[k - ft->nparams]);
        if (k + 1 == ft->nparams) pslots = ls;
    }
    t->lslot[t->L] = ls;
    t->LS = ls;
    uint32_t rslots = 0;
    for (uint32_t k = 0; k < ft->nresults; k++) rslots += wd_tr_tw(ft->results[k]);
    t->ncells = 0;
    t->vh = t->vmax = 0;
    t->nctl = 0;
    t->fuel_pos = 0;
    t->loop_ctl = -1;
    t->last_dst = -1;
    t->scratch = 0;
    t->oom = 0;
    if (wd_tr_body(t, fd, ft) < 0) return -1;
    wd_wasm_code_t *code = wd_wasm_calloc(1, sizeof(*code));
    uint32_t *cells = wd_wasm_malloc(t->ncells * sizeof(uint32_t));
    if (code == NULL || cells == NULL) {
        wd_wasm_free(code); wd_wasm_free(cells);
        wd_wasm_set_error(err, fd->body_off, t->func_index, "out of memory");
        return -1;
    }
    memcpy(cells, t->cells, t->ncells * sizeof(uint32_t));
    code->cells = cells;
    code->ncells = (uint32_t)t->ncells;
    code->nparams = pslots;
    code->nresults = rslots;
    code->nlocals = t->LS;
    uint64_t slots = (uint64_t)t->LS + t->vmax + t->scratch + 4;
    if (slots < rslots) slots = rslots;
    code->max_slots = (uint32_t)slots;
    code->func_index = (uint32_t)t->func_index;
    code->entry_fuel = cells[1];
    fd->code = code;
    return 0;
}

/* A translator holds the growable buffers reused for every function; one per
 * thread when the loader translates on several threads (each function's code
 * is written only to its own wd_wasm_func_decl_t). */
struct wd_wasm_translator {
    wd_tr_t t;
};

wd_wasm_translator_t *wd_wasm_translator_new(void)
{
    /* process-wide tables, filled before any translator can run on another thread */
    wd_wasm_interp_init();
    wd_tr_init_sigs();
    return wd_wasm_calloc(1, sizeof(wd_wasm_translator_t));
}

int wd_wasm_translate_func(wd_wasm_translator_t *tr, wd_wasm_module_t *m, uint32_t i,
                           const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    return wd_tr_func(m, i, opts, err, &tr->t);
}

void wd_wasm_translator_free(wd_wasm_translator_t *tr)
{
    if (tr == NULL) return;
    wd_wasm_free(tr->t.cells);
    wd_wasm_free(tr->t.vs);
    wd_wasm_free(tr->t.ctl);
    wd_wasm_free(tr->t.lslot);
    wd_wasm_free(tr);
}

int wd_wasm_translate(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    wd_wasm_translator_t *tr = wd_wasm_translator_new();
    if (tr == NULL) { wd_wasm_set_error(err, -1, -1, "out of memory"); return -1; }
    int rc = 0;
    for (uint32_t i = 0; i < m->nfuncs - m->nfuncs_imported && rc == 0; i++)
        rc = wd_wasm_translate_func(tr, m, i, opts, err);
    wd_wasm_translator_free(tr);
    return rc;
}

/* ---- diagnostics: print a function's translated code ---- */

static int wd_tr_xop_operands(int op)
{
    switch (op) {
    case WD_XOP_MOV: case WD_XOP_MOV2: case WD_XOP_CONST32: return 2;
    case WD_XOP_CONST128: return 5;
    case WD_XOP_SELECT2: return 4;
    case WD_XOP_GLOBAL_GET2: case WD_XOP_GLOBAL_SET2: case WD_XOP_JIT: return 2;
    case WD_XOP_CONST64: return 3;
    case WD_XOP_BR: case WD_XOP_FUEL: return 1;
    case WD_XOP_BRB: return 2;
    case WD_XOP_BRB_IF: case WD_XOP_BRB_IF_EQZ: return 3;
    case WD_XOP_BR_IF: case WD_XOP_BR_UNLESS: case WD_XOP_BR_IF_EQZ: case WD_XOP_BR_IF_NEZ: return 2;
    case WD_XOP_RETURN1: return 1;
    case WD_XOP_CALL: return 2;
    case WD_XOP_CALL_INDIRECT: return 4;
    case WD_XOP_RETURN: case WD_XOP_TRAP_UNREACHABLE: return 0;
    case WD_XOP_SELECT: return 4;
    case WD_XOP_GLOBAL_GET: case WD_XOP_GLOBAL_SET: case WD_XOP_REF_FUNC: case WD_XOP_REF_IS_NULL: return 2;
    case WD_XOP_TABLE_GET: case WD_XOP_TABLE_SET: return 3;
    case WD_XOP_TABLE_GROW: case WD_XOP_TABLE_FILL: return 4;
    default:
        if (op >= WD_XOP_I32_ADD_IMM && op <= WD_XOP_I64_SHR_S_IMM) return 3;
        if (op >= WD_XOP_I64_ADD_K64 && op <= WD_XOP_I64_XOR_K64) return 4;
        if (op >= WD_XOP_BR_IF_I32_EQ && op <= WD_XOP_BR_IF_I32_GE_U_IMM) return 3;
        if (op >= WD_XOP_BRB_IF_I32_EQ && op <= WD_XOP_BRB_IF_I32_GE_U_IMM) return 4;
        if (op >= WD_XOP_LDI_F64_ADD && op < WD_XOP_LIMIT_) return 5;   /* LDI forms */
        if (op >= WD_XOP_LA_I32_LOAD && op < WD_XOP_LIMIT_) return 4;   /* LA/LI and LD forms */
        break;
    }
    if (op < WD_OP_LIMIT_ && wd_wasm_opinfo[op].name) {
        const wd_wasm_opinfo_t *oi = &wd_wasm_opinfo[op];
        const char *colon = strchr(oi->sig, ':');
        if (colon == NULL) return 0;
        int n = (int)(colon - oi->sig) + (int)strlen(colon + 1);
        switch (oi->imm) {
        case WD_IMM_MEMARG: case WD_IMM_DATA_MEM: case WD_IMM_DATA: case WD_IMM_ELEM: case WD_IMM_TABLE: n += 1; break;
        case WD_IMM_ELEM_TABLE: case WD_IMM_TABLE_TABLE: case WD_IMM_MEMARG_LANE: n += 2; break;
        case WD_IMM_LANE: n += 1; break;
        case WD_IMM_SHUFFLE: n += 4; break;
        default: break;
        }
        return n;
    }
    return 0;
}

static const char *wd_tr_xop_name(int op)
{
    static const char *const names[] = {
#define WD_X_(n) #n,
        WD_WASM_XOPS(WD_X_)
#undef WD_X_
    };
    if (op > WD_XOP_FIRST_ && op < WD_XOP_LIMIT_) return names[op - WD_XOP_FIRST_ - 1];
    if (op < WD_OP_LIMIT_ && wd_wasm_opinfo[op].name) return wd_wasm_opinfo[op].name;
    return "?";
}

int wd_wasm_xop_operands(int op, const uint32_t *cell)
{
    return op == WD_XOP_BR_TABLE ? 2 + (int)cell[2] + 1 : wd_tr_xop_operands(op);
}

void wd_wasm_code_dump(const wd_wasm_module_t *m, uint32_t func_index, void *outp)
{
    FILE *out = outp;
    if (func_index < m->nfuncs_imported || func_index >= m->nfuncs) return;
    const wd_wasm_code_t *c = m->funcs[func_index - m->nfuncs_imported].code;
    if (c == NULL) return;
    fprintf(out, "func %u: params %u locals %u slots %u cells %u\n", func_index, c->nparams,
            c->nlocals, c->max_slots, c->ncells);
    uint32_t i = 0;
    while (i < c->ncells) {
        int op = -1;
        for (int k = 0; k < WD_XOP_LIMIT_; k++) if (wd_wasm_xop_cell[k] == c->cells[i]) { op = k; break; }
        int n = op == WD_XOP_BR_TABLE ? 2 + (int)c->cells[i + 2] + 1 : wd_tr_xop_operands(op);
        fprintf(out, "  %5u %-22s", i, wd_tr_xop_name(op));
        for (int k = 1; k <= n && i + k < c->ncells; k++) fprintf(out, " %d", (int32_t)c->cells[i + k]);
        fputc('\n', out);
        i += 1 + (uint32_t)n;
    }
}
