/*
 * wd_wasm_jit_x64.c -- the baseline x86-64 compiler (issue 17, JIT-DESIGN.md).
 *
 * Input is the translator's slot code (wd_wasm_rt.h), one template per cell, so
 * fuel is charged at exactly the interpreter's cells. Compiled code runs on the
 * interpreter's own frames and stack and never calls anything: it keeps no state
 * of its own between cells, so at any cell it can hand the rest of the work back
 * to the interpreter by returning the address of a cell to interpret next:
 *
 *  - a cell it does not compile, every call, return and indirect call, and the
 *    slow path of a store (first write to a dirty-map granule) or of a fuel
 *    charge (fuel out, interrupt, yield) leave through the function's "shadow"
 *    cells: a copy of that one cell followed by [JIT lo hi], which re-enters the
 *    code right after it (a fuel charge: [FUEL n][JIT target]). A call pushes the
 *    shadow's JIT cell as its return address, so a return resumes compiled code;
 *    a suspended host call or a yield saves a shadow cell and resumes there.
 *    Calls therefore never grow the C stack, and suspension, traps, fuel, the
 *    call depth limit and mixed compiled/interpreted/host/other-instance calls
 *    are the interpreter's own.
 *  - a cell that would trap (memory bounds, divide by zero, unreachable) hands
 *    back the original cell: the interpreter executes it and traps the same way.
 *
 * A compiled function's entry is its shadow's [FUEL entry_fuel][JIT body], which
 * the runtime uses instead of the cells (wd_wasm_code_entry), so calls from the
 * interpreter and the embedder enter it with no change to their paths.
 *
 * Registers while compiled code runs (all callee-saved): rbx = fp (slot k at
 * 8k(%rbx)), r12 = memory base, r13 = memory size, r14 = the running ("thread")
 * instance (fuel, attention word), r15 = fuel, rbp = the function's instance
 * (globals). The entry stub (one per process) saves them and jumps to the
 * address; each module's code region starts with the exit stub (rax = next
 * cell), which writes fuel back and returns.
 *
 * Code is compiled when the module is loaded (in the master, before workers
 * fork and install their seccomp filter, which forbids PROT_EXEC): emitted into
 * a heap buffer, copied into a fresh anonymous mapping, then mprotect'ed
 * read+execute, so no page is ever writable and executable. After
 * wd_wasm_jit_seal() (the sandbox calls it before its filter) nothing is
 * compiled and modules stay interpreted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/mman.h>
#include "wd_wasm_rt.h"

wd_wasm_jit_enter_fn wd_wasm_jit_enter;

#if defined(__x86_64__)

struct wd_wasm_jit {
    uint8_t *code;                /* the region (read+execute) */
    size_t code_len;
    uint32_t *shadow;             /* every function's shadow cells */
    size_t nshadow;
    uint32_t ncompiled;
};

static volatile int wd_jit_sealed;

void wd_wasm_jit_seal(void) { wd_jit_sealed = 1; }

/* ---- byte buffer ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wd_jbuf_t;

static void jb_need(wd_jbuf_t *b, size_t k)
{
    if (b->n + k <= b->cap) return;
    size_t nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->n + k) nc *= 2;
    uint8_t *q = wd_wasm_realloc(b->p, nc);
    if (q == NULL) { b->oom = 1; b->n = 0; return; }
    b->p = q;
    b->cap = nc;
}
static void e8(wd_jbuf_t *b, uint32_t v) { jb_need(b, 1); if (!b->oom) b->p[b->n++] = (uint8_t)v; }
static void e32(wd_jbuf_t *b, uint32_t v) { jb_need(b, 4); if (!b->oom) { memcpy(b->p + b->n, &v, 4); b->n += 4; } }
static void e64(wd_jbuf_t *b, uint64_t v) { jb_need(b, 8); if (!b->oom) { memcpy(b->p + b->n, &v, 8); b->n += 8; } }

/* ---- encoder ---- */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };
#define NOIDX (-1)
#define R_FP RBX
#define R_MB R12
#define R_MS R13
#define R_TH R14
#define R_FU R15
#define R_IN RBP

/* [prefix] [REX] opcode(1-3 bytes) modrm [sib] [disp32]: reg, [base + index + disp] */
static void op_mem(wd_jbuf_t *b, int w, uint32_t op, int oplen, int reg, int base, int index, int32_t disp)
{
    int rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index >= 0 && (index & 8)) ? 2 : 0) | ((base & 8) ? 1 : 0);
    if (rex != 0x40) e8(b, (uint32_t)rex);
    for (int i = oplen - 1; i >= 0; i--) e8(b, (op >> (8 * i)) & 0xff);
    if (index >= 0 || (base & 7) == RSP) {
        e8(b, 0x80 | ((reg & 7) << 3) | 4);
        e8(b, (uint32_t)(((index >= 0 ? index : RSP) & 7) << 3) | (base & 7));
    } else {
        e8(b, 0x80 | ((reg & 7) << 3) | (base & 7));
    }
    e32(b, (uint32_t)disp);
}
/* register-direct form: reg, rm */
static void op_rr(wd_jbuf_t *b, int w, uint32_t op, int oplen, int reg, int rm)
{
    int rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);
    if (rex != 0x40) e8(b, (uint32_t)rex);
    for (int i = oplen - 1; i >= 0; i--) e8(b, (op >> (8 * i)) & 0xff);
    e8(b, 0xc0 | ((reg & 7) << 3) | (rm & 7));
}
#define SLOT(k) ((int32_t)((k) * 8))
static void ld32(wd_jbuf_t *b, int r, uint32_t slot) { op_mem(b, 0, 0x8b, 1, r, R_FP, NOIDX, SLOT(slot)); }
static void ld64(wd_jbuf_t *b, int r, uint32_t slot) { op_mem(b, 1, 0x8b, 1, r, R_FP, NOIDX, SLOT(slot)); }
static void st64(wd_jbuf_t *b, uint32_t slot, int r) { op_mem(b, 1, 0x89, 1, r, R_FP, NOIDX, SLOT(slot)); }
static void mov_rr(wd_jbuf_t *b, int w, int dst, int src) { op_rr(b, w, 0x8b, 1, dst, src); }
static void mov_imm64(wd_jbuf_t *b, int r, uint64_t v)
{
    e8(b, 0x48 | ((r & 8) ? 1 : 0));
    e8(b, 0xb8 + (uint32_t)(r & 7));
    e64(b, v);
}
static void mov_imm32(wd_jbuf_t *b, int r, uint32_t v)
{
    if (r & 8) e8(b, 0x41);
    e8(b, 0xb8 + (uint32_t)(r & 7));
    e32(b, v);
}
/* group-1 ALU digit: add 0, or 1, and 4, sub 5, xor 6, cmp 7 */
static void alu_imm(wd_jbuf_t *b, int w, int digit, int r, uint32_t imm)
{
    op_rr(b, w, 0x81, 1, digit, r);
    e32(b, imm);
}
static void setcc_store(wd_jbuf_t *b, int cc, uint32_t dst)
{
    e8(b, 0x0f); e8(b, 0x90 + (uint32_t)cc); e8(b, 0xc0);   /* setcc al */
    e8(b, 0x0f); e8(b, 0xb6); e8(b, 0xc0);                  /* movzx eax, al */
    st64(b, dst, RAX);
}
static size_t jcc32(wd_jbuf_t *b, int cc) { e8(b, 0x0f); e8(b, 0x80 + (uint32_t)cc); e32(b, 0); return b->n - 4; }
static size_t jmp32(wd_jbuf_t *b) { e8(b, 0xe9); e32(b, 0); return b->n - 4; }
static void patch_to(wd_jbuf_t *b, size_t at, size_t target)
{
    if (b->oom) return;
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(b->p + at, &rel, 4);
}
static void bind(wd_jbuf_t *b, size_t at) { patch_to(b, at, b->n); }

/* ---- per-module compile state ---- */

typedef struct { size_t at; uint32_t target; size_t tab; } wd_jfix_t;   /* rel32 -> cell (tab: jump table base, else 0) */
typedef struct { size_t at; int kind; uint32_t arg; uint32_t fuel; } wd_jstub_t;
enum { STUB_ORIG, STUB_SHADOW };

typedef struct {
    wd_jbuf_t b;
    /* shadow cells (module-wide), with the positions of JIT operands to relocate */
    uint32_t *sh;
    size_t nsh, capsh;
    size_t *shjit;                /* shadow index of a JIT cell's lo operand; its value: native offset */
    size_t nshjit, capshjit;
    size_t *shref;                /* code offsets of imm64 operands holding a shadow index */
    size_t nshref, capshref;
    /* per function */
    uint32_t *native;             /* per cell position: code offset + 1 (0: not an opcode position) */
    uint32_t cap_native;
    wd_jfix_t *fix;
    size_t nfix, capfix;
    wd_jstub_t *stub;
    size_t nstub, capstub;
    int oom;
} wd_jc_t;

#define GROW(arr, n, cap, oomflag) do { \
        if ((n) == (cap)) { size_t nc_ = (cap) ? (cap) * 2 : 64; \
            void *q_ = wd_wasm_realloc((arr), nc_ * sizeof(*(arr))); \
            if (q_ == NULL) { (oomflag) = 1; break; } (arr) = q_; (cap) = nc_; } } while (0)

static size_t sh_push(wd_jc_t *c, uint32_t v)
{
    GROW(c->sh, c->nsh, c->capsh, c->oom);
    if (c->oom) return 0;
    c->sh[c->nsh] = v;
    return c->nsh++;
}
/* [JIT lo hi] re-entering at code offset `native` */
static void sh_jit(wd_jc_t *c, size_t native)
{
    sh_push(c, wd_wasm_xop_cell[WD_XOP_JIT]);
    size_t lo = sh_push(c, (uint32_t)native);
    sh_push(c, 0);
    GROW(c->shjit, c->nshjit, c->capshjit, c->oom);
    if (!c->oom) c->shjit[c->nshjit++] = lo;
}
/* mov rax, <shadow + idx> (relocated when the shadow is placed) */
static void mov_rax_shadow(wd_jc_t *c, size_t idx)
{
    mov_imm64(&c->b, RAX, idx);
    GROW(c->shref, c->nshref, c->capshref, c->oom);
    if (!c->oom) c->shref[c->nshref++] = c->b.n - 8;
}
static void jmp_leave(wd_jc_t *c)
{
    size_t at = jmp32(&c->b);
    patch_to(&c->b, at, 0);       /* the exit stub is at the region's start */
}
static void add_fix(wd_jc_t *c, size_t at, uint32_t target)
{
    GROW(c->fix, c->nfix, c->capfix, c->oom);
    if (!c->oom) { c->fix[c->nfix].at = at; c->fix[c->nfix].target = target; c->fix[c->nfix].tab = 0; c->nfix++; }
}
static void add_stub(wd_jc_t *c, size_t at, int kind, uint32_t arg, uint32_t fuel)
{
    GROW(c->stub, c->nstub, c->capstub, c->oom);
    if (!c->oom) { wd_jstub_t *s = &c->stub[c->nstub++]; s->at = at; s->kind = kind; s->arg = arg; s->fuel = fuel; }
}

/* ---- cell -> opcode ---- */

static struct { uint32_t cell; int op; } *wd_jit_rev;
static int wd_jit_nrev;
static pthread_once_t wd_jit_once = PTHREAD_ONCE_INIT;
static uint8_t *wd_jit_entry_page;

static int rev_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void wd_jit_init(void)
{
    /* the reverse map (plain malloc: process-wide, kept for the process's life) */
    wd_jit_rev = malloc(sizeof(*wd_jit_rev) * WD_XOP_LIMIT_);
    if (wd_jit_rev == NULL) return;
    for (int i = 0; i < WD_XOP_LIMIT_; i++) {
        wd_jit_rev[wd_jit_nrev].cell = wd_wasm_xop_cell[i];
        wd_jit_rev[wd_jit_nrev].op = i;
        wd_jit_nrev++;
    }
    qsort(wd_jit_rev, (size_t)wd_jit_nrev, sizeof(*wd_jit_rev), rev_cmp);
    /* the entry stub: (thread rdi, inst rsi, fp rdx, addr rcx) */
    uint8_t buf[128];
    wd_jbuf_t b = { buf, 0, sizeof(buf), 0 };
    e8(&b, 0xf3); e8(&b, 0x0f); e8(&b, 0x1e); e8(&b, 0xfa);      /* endbr64 (an indirect call's target) */
    e8(&b, 0x53); e8(&b, 0x55);                                  /* push rbx, rbp */
    e8(&b, 0x41); e8(&b, 0x54); e8(&b, 0x41); e8(&b, 0x55);      /* push r12, r13 */
    e8(&b, 0x41); e8(&b, 0x56); e8(&b, 0x41); e8(&b, 0x57);      /* push r14, r15 */
    alu_imm(&b, 1, 5, RSP, 8);                                   /* sub rsp, 8: aligned */
    mov_rr(&b, 1, R_TH, RDI);
    mov_rr(&b, 1, R_IN, RSI);
    mov_rr(&b, 1, R_FP, RDX);
    op_mem(&b, 1, 0x8b, 1, R_FU, R_TH, NOIDX, (int32_t)offsetof(wd_wasm_instance_t, fuel));
    op_rr(&b, 0, 0x33, 1, R_MB, R_MB);                           /* xor r12d, r12d */
    op_rr(&b, 0, 0x33, 1, R_MS, R_MS);
    op_mem(&b, 1, 0x8b, 1, RAX, R_IN, NOIDX, (int32_t)offsetof(wd_wasm_instance_t, mem));
    op_rr(&b, 1, 0x85, 1, RAX, RAX);                             /* test rax, rax */
    size_t nomem = jcc32(&b, CC_E);
    op_mem(&b, 1, 0x8b, 1, R_MB, RAX, NOIDX, (int32_t)offsetof(wd_wasm_memory_t, base));
    op_mem(&b, 1, 0x8b, 1, R_MS, RAX, NOIDX, (int32_t)offsetof(wd_wasm_memory_t, size));
    bind(&b, nomem);
    e8(&b, 0xff); e8(&b, 0xe1);                                  /* jmp rcx */
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    memcpy(p, buf, b.n);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) { munmap(p, 4096); return; }
    wd_jit_entry_page = p;
    wd_wasm_jit_enter = (wd_wasm_jit_enter_fn)(uintptr_t)p;
}

static int cell_op(uint32_t cell)
{
    int lo = 0, hi = wd_jit_nrev - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (wd_jit_rev[mid].cell == cell) return wd_jit_rev[mid].op;
        if (wd_jit_rev[mid].cell < cell) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

static void emit_leave_stub(wd_jbuf_t *b)
{
    op_mem(b, 1, 0x89, 1, R_FU, R_TH, NOIDX, (int32_t)offsetof(wd_wasm_instance_t, fuel));
    alu_imm(b, 1, 0, RSP, 8);                                    /* add rsp, 8 */
    e8(b, 0x41); e8(b, 0x5f); e8(b, 0x41); e8(b, 0x5e);          /* pop r15, r14 */
    e8(b, 0x41); e8(b, 0x5d); e8(b, 0x41); e8(b, 0x5c);          /* pop r13, r12 */
    e8(b, 0x5d); e8(b, 0x5b); e8(b, 0xc3);                       /* pop rbp, rbx; ret */
}

/* ---- templates ---- */

static int is_branch(int op)
{
    switch (op) {
    case WD_XOP_BR: case WD_XOP_BR_IF: case WD_XOP_BR_UNLESS: case WD_XOP_BR_IF_EQZ:
    case WD_XOP_BR_IF_NEZ: case WD_XOP_BR_TABLE: case WD_XOP_BRB: case WD_XOP_BRB_IF:
    case WD_XOP_BRB_IF_EQZ:
        return 1;
    default:
        return (op >= WD_XOP_BR_IF_I32_EQ && op <= WD_XOP_BR_IF_I32_GE_U_IMM) ||
               (op >= WD_XOP_BRB_IF_I32_EQ && op <= WD_XOP_BRB_IF_I32_GE_U_IMM);
    }
}

/* condition codes of the i32 compare order EQ NE LT_S LT_U GT_S GT_U LE_S LE_U GE_S GE_U */
static const int wd_jcmp_cc[10] = { CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE };

/* the fuel charge of n: out of line when fuel runs out or attention is set, the
 * charge is given back and [FUEL n][JIT resume] hands it to the interpreter */
static void emit_fuel(wd_jc_t *c, uint32_t n, uint32_t resume_cell)
{
    wd_jbuf_t *b = &c->b;
    if (n < 0x80000000u) alu_imm(b, 1, 5, R_FU, n);
    else { mov_imm32(b, RAX, n); op_rr(b, 1, 0x2b, 1, R_FU, RAX); }
    size_t j1 = jcc32(b, CC_S);
    add_stub(c, j1, STUB_SHADOW + 100, resume_cell, n);
    /* cmp dword [r14 + attn], 0 */
    op_mem(b, 0, 0x83, 1, 7, R_TH, NOIDX, (int32_t)offsetof(wd_wasm_instance_t, attn));
    e8(b, 0);
    size_t j2 = jcc32(b, CC_NE);
    add_stub(c, j2, STUB_SHADOW + 100, resume_cell, n);
}

/* ea = address cell(s) + offset, in rdx; bounds checked against r13 (fail -> stub) */
static void emit_ea(wd_jc_t *c, int form, const uint32_t *ip, int aidx, uint32_t off, uint32_t w,
                    int stub_kind, uint32_t stub_arg)
{
    wd_jbuf_t *b = &c->b;
    ld32(b, RDX, ip[aidx]);
    if (form == 1) op_mem(b, 0, 0x03, 1, RDX, R_FP, NOIDX, SLOT(ip[aidx + 1]));   /* add edx, [b] */
    else if (form == 2) alu_imm(b, 0, 0, RDX, ip[aidx + 1]);                      /* add edx, imm */
    if (off) {
        if (off < 0x80000000u) alu_imm(b, 1, 0, RDX, off);
        else { mov_imm32(b, RCX, off); op_rr(b, 1, 0x03, 1, RDX, RCX); }
    }
    op_mem(b, 1, 0x8d, 1, RCX, RDX, NOIDX, (int32_t)w);                          /* lea rcx, [rdx + w] */
    op_rr(b, 1, 0x3b, 1, RCX, R_MS);                                             /* cmp rcx, r13 */
    size_t j = jcc32(b, CC_A);
    add_stub(c, j, stub_kind, stub_arg, 0);
}

typedef struct { uint32_t w; uint32_t op; int oplen; int rexw; } wd_jld_t;

static int load_kind(int base, wd_jld_t *k)
{
    switch (base) {
    case WD_OP_I32_LOAD: case WD_OP_F32_LOAD: *k = (wd_jld_t){ 4, 0x8b, 1, 0 }; return 1;
    case WD_OP_I64_LOAD: case WD_OP_F64_LOAD: *k = (wd_jld_t){ 8, 0x8b, 1, 1 }; return 1;
    case WD_OP_I32_LOAD8_S: *k = (wd_jld_t){ 1, 0x0fbe, 2, 0 }; return 1;
    case WD_OP_I32_LOAD8_U: case WD_OP_I64_LOAD8_U: *k = (wd_jld_t){ 1, 0x0fb6, 2, 0 }; return 1;
    case WD_OP_I32_LOAD16_S: *k = (wd_jld_t){ 2, 0x0fbf, 2, 0 }; return 1;
    case WD_OP_I32_LOAD16_U: case WD_OP_I64_LOAD16_U: *k = (wd_jld_t){ 2, 0x0fb7, 2, 0 }; return 1;
    case WD_OP_I64_LOAD8_S: *k = (wd_jld_t){ 1, 0x0fbe, 2, 1 }; return 1;
    case WD_OP_I64_LOAD16_S: *k = (wd_jld_t){ 2, 0x0fbf, 2, 1 }; return 1;
    case WD_OP_I64_LOAD32_S: *k = (wd_jld_t){ 4, 0x63, 1, 1 }; return 1;
    case WD_OP_I64_LOAD32_U: *k = (wd_jld_t){ 4, 0x8b, 1, 0 }; return 1;
    default: return 0;
    }
}
static uint32_t store_width(int base)
{
    switch (base) {
    case WD_OP_I32_STORE: case WD_OP_F32_STORE: case WD_OP_I64_STORE32: return 4;
    case WD_OP_I64_STORE: case WD_OP_F64_STORE: return 8;
    case WD_OP_I32_STORE8: case WD_OP_I64_STORE8: return 1;
    case WD_OP_I32_STORE16: case WD_OP_I64_STORE16: return 2;
    default: return 0;
    }
}

/* memory op forms: the Wasm op (0), LA_ (1: a + b), LI_ (2: a + imm) */
static int mem_op(int op, int *form)
{
    static const int ops[] = {
#define WD_J_(X, op) WD_OP_##op,
        WD_WASM_MEMOPS(WD_J_, _)
#undef WD_J_
    };
    static const int la[] = {
#define WD_J_(X, op) WD_XOP_LA_##op,
        WD_WASM_MEMOPS(WD_J_, _)
#undef WD_J_
    };
    static const int li[] = {
#define WD_J_(X, op) WD_XOP_LI_##op,
        WD_WASM_MEMOPS(WD_J_, _)
#undef WD_J_
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (op == ops[i]) { *form = 0; return ops[i]; }
        if (op == la[i]) { *form = 1; return ops[i]; }
        if (op == li[i]) { *form = 2; return ops[i]; }
    }
    return -1;
}

/* integer LD_/LDI_ forms: [LD_op dst a addr off], [LDI_op dst a base imm off] */
static int ld_op(int op, int *form, int *alu, int *w64)
{
    static const struct { int ld, ldi, alu, w64; } t[] = {
        { WD_XOP_LD_I32_ADD, WD_XOP_LDI_I32_ADD, 0x03, 0 }, { WD_XOP_LD_I32_SUB, WD_XOP_LDI_I32_SUB, 0x2b, 0 },
        { WD_XOP_LD_I32_MUL, WD_XOP_LDI_I32_MUL, 0x0faf, 0 }, { WD_XOP_LD_I32_AND, WD_XOP_LDI_I32_AND, 0x23, 0 },
        { WD_XOP_LD_I32_OR, WD_XOP_LDI_I32_OR, 0x0b, 0 }, { WD_XOP_LD_I32_XOR, WD_XOP_LDI_I32_XOR, 0x33, 0 },
        { WD_XOP_LD_I64_ADD, WD_XOP_LDI_I64_ADD, 0x03, 1 }, { WD_XOP_LD_I64_SUB, WD_XOP_LDI_I64_SUB, 0x2b, 1 },
        { WD_XOP_LD_I64_MUL, WD_XOP_LDI_I64_MUL, 0x0faf, 1 }, { WD_XOP_LD_I64_AND, WD_XOP_LDI_I64_AND, 0x23, 1 },
        { WD_XOP_LD_I64_OR, WD_XOP_LDI_I64_OR, 0x0b, 1 }, { WD_XOP_LD_I64_XOR, WD_XOP_LDI_I64_XOR, 0x33, 1 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (op == t[i].ld || op == t[i].ldi) {
            *form = op == t[i].ldi;
            *alu = t[i].alu;
            *w64 = t[i].w64;
            return 1;
        }
    }
    return 0;
}

/* integer binary ops [op d a b] -> (alu opcode, oplen, rex.w); kind: 0 alu, 1 shift digit, 2 compare cc */
typedef struct { int op; int kind; uint32_t code; int oplen; int w; } wd_jbin_t;
static const wd_jbin_t wd_jbins[] = {
    { WD_OP_I32_ADD, 0, 0x03, 1, 0 }, { WD_OP_I32_SUB, 0, 0x2b, 1, 0 }, { WD_OP_I32_MUL, 0, 0x0faf, 2, 0 },
    { WD_OP_I32_AND, 0, 0x23, 1, 0 }, { WD_OP_I32_OR, 0, 0x0b, 1, 0 }, { WD_OP_I32_XOR, 0, 0x33, 1, 0 },
    { WD_OP_I64_ADD, 0, 0x03, 1, 1 }, { WD_OP_I64_SUB, 0, 0x2b, 1, 1 }, { WD_OP_I64_MUL, 0, 0x0faf, 2, 1 },
    { WD_OP_I64_AND, 0, 0x23, 1, 1 }, { WD_OP_I64_OR, 0, 0x0b, 1, 1 }, { WD_OP_I64_XOR, 0, 0x33, 1, 1 },
    { WD_OP_I32_SHL, 1, 4, 0, 0 }, { WD_OP_I32_SHR_U, 1, 5, 0, 0 }, { WD_OP_I32_SHR_S, 1, 7, 0, 0 },
    { WD_OP_I32_ROTL, 1, 0, 0, 0 }, { WD_OP_I32_ROTR, 1, 1, 0, 0 },
    { WD_OP_I64_SHL, 1, 4, 0, 1 }, { WD_OP_I64_SHR_U, 1, 5, 0, 1 }, { WD_OP_I64_SHR_S, 1, 7, 0, 1 },
    { WD_OP_I64_ROTL, 1, 0, 0, 1 }, { WD_OP_I64_ROTR, 1, 1, 0, 1 },
    { WD_OP_I32_EQ, 2, CC_E, 0, 0 }, { WD_OP_I32_NE, 2, CC_NE, 0, 0 }, { WD_OP_I32_LT_S, 2, CC_L, 0, 0 },
    { WD_OP_I32_LT_U, 2, CC_B, 0, 0 }, { WD_OP_I32_GT_S, 2, CC_G, 0, 0 }, { WD_OP_I32_GT_U, 2, CC_A, 0, 0 },
    { WD_OP_I32_LE_S, 2, CC_LE, 0, 0 }, { WD_OP_I32_LE_U, 2, CC_BE, 0, 0 }, { WD_OP_I32_GE_S, 2, CC_GE, 0, 0 },
    { WD_OP_I32_GE_U, 2, CC_AE, 0, 0 },
    { WD_OP_I64_EQ, 2, CC_E, 0, 1 }, { WD_OP_I64_NE, 2, CC_NE, 0, 1 }, { WD_OP_I64_LT_S, 2, CC_L, 0, 1 },
    { WD_OP_I64_LT_U, 2, CC_B, 0, 1 }, { WD_OP_I64_GT_S, 2, CC_G, 0, 1 }, { WD_OP_I64_GT_U, 2, CC_A, 0, 1 },
    { WD_OP_I64_LE_S, 2, CC_LE, 0, 1 }, { WD_OP_I64_LE_U, 2, CC_BE, 0, 1 }, { WD_OP_I64_GE_S, 2, CC_GE, 0, 1 },
    { WD_OP_I64_GE_U, 2, CC_AE, 0, 1 },
};
/* [op d a imm] forms: group-1 digit (kind 0), shift digit (1), imul (3), compare cc (2) */
typedef struct { int op; int kind; int code; int w; } wd_jimm_t;
static const wd_jimm_t wd_jimms[] = {
    { WD_XOP_I32_ADD_IMM, 0, 0, 0 }, { WD_XOP_I32_SUB_IMM, 0, 5, 0 }, { WD_XOP_I32_AND_IMM, 0, 4, 0 },
    { WD_XOP_I32_OR_IMM, 0, 1, 0 }, { WD_XOP_I32_XOR_IMM, 0, 6, 0 }, { WD_XOP_I32_SHL_IMM, 1, 4, 0 },
    { WD_XOP_I32_SHR_U_IMM, 1, 5, 0 }, { WD_XOP_I32_SHR_S_IMM, 1, 7, 0 }, { WD_XOP_I32_MUL_IMM, 3, 0, 0 },
    { WD_XOP_I32_EQ_IMM, 2, CC_E, 0 }, { WD_XOP_I32_NE_IMM, 2, CC_NE, 0 }, { WD_XOP_I32_LT_S_IMM, 2, CC_L, 0 },
    { WD_XOP_I32_LT_U_IMM, 2, CC_B, 0 }, { WD_XOP_I32_GT_S_IMM, 2, CC_G, 0 }, { WD_XOP_I32_GT_U_IMM, 2, CC_A, 0 },
    { WD_XOP_I32_LE_S_IMM, 2, CC_LE, 0 }, { WD_XOP_I32_LE_U_IMM, 2, CC_BE, 0 },
    { WD_XOP_I32_GE_S_IMM, 2, CC_GE, 0 }, { WD_XOP_I32_GE_U_IMM, 2, CC_AE, 0 },
    { WD_XOP_I64_ADD_IMM, 0, 0, 1 }, { WD_XOP_I64_MUL_IMM, 3, 0, 1 }, { WD_XOP_I64_AND_IMM, 0, 4, 1 },
    { WD_XOP_I64_OR_IMM, 0, 1, 1 }, { WD_XOP_I64_XOR_IMM, 0, 6, 1 }, { WD_XOP_I64_SHL_IMM, 1, 4, 1 },
    { WD_XOP_I64_SHR_U_IMM, 1, 5, 1 }, { WD_XOP_I64_SHR_S_IMM, 1, 7, 1 },
};

/* a cell handed to the interpreter: shadow [cell...][JIT next] */
static void emit_interp_cell(wd_jc_t *c, const uint32_t *cells, uint32_t pos, uint32_t len)
{
    size_t at = c->nsh;
    for (uint32_t k = 0; k < len; k++) sh_push(c, cells[pos + k]);
    mov_rax_shadow(c, at);
    jmp_leave(c);
    sh_jit(c, c->b.n);
}

/* Compile one function; 1 = compiled, 0 = refused (stays interpreted). */
static int compile_func(wd_jc_t *c, wd_wasm_code_t *code, size_t *entry_sh)
{
    wd_jbuf_t *b = &c->b;
    const uint32_t *cells = code->cells;
    uint32_t n = code->ncells;
    if (n < 2 || cell_op(cells[0]) != WD_XOP_FUEL) return 0;
    if (n + 1 > c->cap_native) {
        uint32_t *q = wd_wasm_realloc(c->native, (size_t)(n + 1) * sizeof(uint32_t));
        if (q == NULL) { c->oom = 1; return 0; }
        c->native = q;
        c->cap_native = n + 1;
    }
    memset(c->native, 0, (size_t)(n + 1) * sizeof(uint32_t));
    /* first pass: opcode positions, every op known, branch targets on them */
    for (uint32_t pos = 2; pos < n;) {
        int op = cell_op(cells[pos]);
        if (op < 0) return 0;
        int len = wd_wasm_xop_operands(op, cells + pos);
        if (len < 0 || pos + 1 + (uint32_t)len > n) return 0;
        c->native[pos] = 1;
        pos += 1 + (uint32_t)len;
    }
    size_t b_mark = b->n, sh_mark = c->nsh, shjit_mark = c->nshjit, shref_mark = c->nshref;
    c->nfix = c->nstub = 0;
    for (uint32_t pos = 2; pos < n;) {
        int op = cell_op(cells[pos]);
        uint32_t len = 1 + (uint32_t)wd_wasm_xop_operands(op, cells + pos);
        const uint32_t *ip = cells + pos;
        c->native[pos] = (uint32_t)b->n + 1;
        int form, alu, w64;
        wd_jld_t lk;
        switch (op) {
        case WD_XOP_MOV: ld64(b, RAX, ip[2]); st64(b, ip[1], RAX); break;
        case WD_XOP_CONST32: mov_imm32(b, RAX, ip[2]); st64(b, ip[1], RAX); break;
        case WD_XOP_CONST64: mov_imm64(b, RAX, (uint64_t)ip[2] | (uint64_t)ip[3] << 32); st64(b, ip[1], RAX); break;
        case WD_XOP_FUEL: emit_fuel(c, ip[1], pos + len); break;
        case WD_XOP_BR: add_fix(c, jmp32(b), pos + 1 + ip[1]); break;
        case WD_XOP_BR_IF: case WD_XOP_BR_UNLESS: case WD_XOP_BR_IF_EQZ: case WD_XOP_BR_IF_NEZ:
            op_mem(b, 0, 0x83, 1, 7, R_FP, NOIDX, SLOT(ip[1])); e8(b, 0);   /* cmp dword [c], 0 */
            add_fix(c, jcc32(b, (op == WD_XOP_BR_IF || op == WD_XOP_BR_IF_NEZ) ? CC_NE : CC_E), pos + 2 + ip[2]);
            break;
        case WD_XOP_BRB: emit_fuel(c, ip[2], pos + 1 + ip[1]); add_fix(c, jmp32(b), pos + 1 + ip[1]); break;
        case WD_XOP_BRB_IF: case WD_XOP_BRB_IF_EQZ: {
            op_mem(b, 0, 0x83, 1, 7, R_FP, NOIDX, SLOT(ip[1])); e8(b, 0);
            size_t skip = jcc32(b, op == WD_XOP_BRB_IF ? CC_E : CC_NE);
            uint32_t t = pos + 2 + ip[2];
            emit_fuel(c, ip[3], t);
            add_fix(c, jmp32(b), t);
            bind(b, skip);
            break;
        }
        case WD_XOP_BR_TABLE: {
            uint32_t nl = ip[2];
            ld32(b, RAX, ip[1]);
            alu_imm(b, 0, 7, RAX, nl);                         /* cmp eax, n */
            size_t ok = jcc32(b, CC_BE);
            mov_imm32(b, RAX, nl);
            bind(b, ok);
            /* lea rcx, [rip + table]; movsxd rax, [rcx + rax*4]; add rax, rcx; jmp rax */
            e8(b, 0x48); e8(b, 0x8d); e8(b, 0x0d); size_t tabref = b->n; e32(b, 0);
            e8(b, 0x48); e8(b, 0x63); e8(b, 0x04); e8(b, 0x81);
            e8(b, 0x48); e8(b, 0x01); e8(b, 0xc8);
            e8(b, 0xff); e8(b, 0xe0);
            size_t tab = b->n;
            patch_to(b, tabref, tab);
            for (uint32_t i = 0; i <= nl; i++) {
                uint32_t t = pos + 3 + i + ip[3 + i];
                if (t >= n || !c->native[t]) goto refuse;
                e32(b, 0);                                     /* fixed up below: target - tab */
                GROW(c->fix, c->nfix, c->capfix, c->oom);
                if (!c->oom) { c->fix[c->nfix].at = tab + 4 * i; c->fix[c->nfix].target = t; c->fix[c->nfix].tab = tab; c->nfix++; }
            }
            break;
        }
        case WD_XOP_SELECT:
            ld64(b, RAX, ip[2]);
            op_mem(b, 0, 0x83, 1, 7, R_FP, NOIDX, SLOT(ip[4])); e8(b, 0);
            op_mem(b, 1, 0x0f44, 2, RAX, R_FP, NOIDX, SLOT(ip[3]));          /* cmove rax, [b] */
            st64(b, ip[1], RAX);
            break;
        case WD_XOP_GLOBAL_GET:
            op_mem(b, 1, 0x8b, 1, RAX, R_IN, NOIDX, (int32_t)offsetof(wd_wasm_instance_t, globals));
            op_mem(b, 1, 0x8b, 1, RAX, RAX, NOIDX, (int32_t)(8 * ip[2]));
            op_mem(b, 1, 0x8b, 1, RAX, RAX, NOIDX, (int32_t)offsetof(wd_wasm_global_t, val));
            st64(b, ip[1], RAX);
            break;
        case WD_XOP_GLOBAL_SET:
            op_mem(b, 1, 0x8b, 1, RAX, R_IN, NOIDX, (int32_t)offsetof(wd_wasm_instance_t, globals));
            op_mem(b, 1, 0x8b, 1, RAX, RAX, NOIDX, (int32_t)(8 * ip[2]));
            ld64(b, RCX, ip[1]);
            op_mem(b, 1, 0x89, 1, RCX, RAX, NOIDX, (int32_t)offsetof(wd_wasm_global_t, val));
            break;
        case WD_XOP_TRAP_UNREACHABLE:
            mov_imm64(b, RAX, (uint64_t)(uintptr_t)ip);
            jmp_leave(c);
            break;
        case WD_OP_I32_EQZ: case WD_OP_I64_EQZ:
            op_mem(b, op == WD_OP_I64_EQZ, 0x83, 1, 7, R_FP, NOIDX, SLOT(ip[2])); e8(b, 0);
            e8(b, 0x0f); e8(b, 0x94); e8(b, 0xc0); e8(b, 0x0f); e8(b, 0xb6); e8(b, 0xc0);
            st64(b, ip[1], RAX);
            break;
        case WD_OP_I32_WRAP_I64: case WD_OP_I64_EXTEND_I32_U: case WD_OP_I32_REINTERPRET_F32:
        case WD_OP_F32_REINTERPRET_I32:
            ld32(b, RAX, ip[2]); st64(b, ip[1], RAX); break;
        case WD_OP_I64_REINTERPRET_F64: case WD_OP_F64_REINTERPRET_I64:
            ld64(b, RAX, ip[2]); st64(b, ip[1], RAX); break;
        case WD_OP_I64_EXTEND_I32_S: case WD_OP_I64_EXTEND32_S:
            op_mem(b, 1, 0x63, 1, RAX, R_FP, NOIDX, SLOT(ip[2])); st64(b, ip[1], RAX); break;
        case WD_OP_I32_EXTEND8_S: case WD_OP_I64_EXTEND8_S:
            op_mem(b, op == WD_OP_I64_EXTEND8_S, 0x0fbe, 2, RAX, R_FP, NOIDX, SLOT(ip[2])); st64(b, ip[1], RAX); break;
        case WD_OP_I32_EXTEND16_S: case WD_OP_I64_EXTEND16_S:
            op_mem(b, op == WD_OP_I64_EXTEND16_S, 0x0fbf, 2, RAX, R_FP, NOIDX, SLOT(ip[2])); st64(b, ip[1], RAX); break;
        case WD_OP_I32_DIV_S: case WD_OP_I32_DIV_U: case WD_OP_I32_REM_S: case WD_OP_I32_REM_U:
        case WD_OP_I64_DIV_S: case WD_OP_I64_DIV_U: case WD_OP_I64_REM_S: case WD_OP_I64_REM_U: {
            int w = op >= WD_OP_I64_DIV_S;
            int sgn = op == WD_OP_I32_DIV_S || op == WD_OP_I32_REM_S || op == WD_OP_I64_DIV_S || op == WD_OP_I64_REM_S;
            int rem = op == WD_OP_I32_REM_S || op == WD_OP_I32_REM_U || op == WD_OP_I64_REM_S || op == WD_OP_I64_REM_U;
            op_mem(b, w, 0x8b, 1, RAX, R_FP, NOIDX, SLOT(ip[2]));
            op_mem(b, w, 0x8b, 1, RCX, R_FP, NOIDX, SLOT(ip[3]));
            op_rr(b, w, 0x85, 1, RCX, RCX);
            add_stub(c, jcc32(b, CC_E), STUB_ORIG, pos, 0);    /* divide by zero: the interpreter traps */
            size_t done = 0, normal = 0;
            int have_done = 0;
            if (sgn) {
                alu_imm(b, w, 7, RCX, 0xffffffffu);            /* cmp ecx/rcx, -1 */
                normal = jcc32(b, CC_NE);
                if (rem) {
                    op_rr(b, 0, 0x33, 1, RDX, RDX);           /* x % -1 = 0 */
                } else {
                    if (w) { mov_imm64(b, RSI, 0x8000000000000000ull); op_rr(b, 1, 0x3b, 1, RAX, RSI); }
                    else alu_imm(b, 0, 7, RAX, 0x80000000u);
                    add_stub(c, jcc32(b, CC_E), STUB_ORIG, pos, 0);   /* overflow traps */
                    op_rr(b, w, 0xf7, 1, 3, RAX);              /* neg: x / -1 */
                }
                done = jmp32(b);
                have_done = 1;
                bind(b, normal);
                if (w) e8(b, 0x48);
                e8(b, 0x99);                                   /* cdq / cqo */
                op_rr(b, w, 0xf7, 1, 7, RCX);                  /* idiv */
            } else {
                op_rr(b, 0, 0x33, 1, RDX, RDX);
                op_rr(b, w, 0xf7, 1, 6, RCX);                  /* div */
            }
            if (have_done) bind(b, done);
            if (!w) { if (rem) mov_rr(b, 0, RDX, RDX); else mov_rr(b, 0, RAX, RAX); }
            st64(b, ip[1], rem ? RDX : RAX);
            break;
        }
        default:
            if (op == WD_XOP_I64_ADD_K64 || op == WD_XOP_I64_MUL_K64 || op == WD_XOP_I64_AND_K64 ||
                op == WD_XOP_I64_OR_K64 || op == WD_XOP_I64_XOR_K64) {
                ld64(b, RAX, ip[2]);
                mov_imm64(b, RCX, (uint64_t)ip[3] | (uint64_t)ip[4] << 32);
                switch (op) {
                case WD_XOP_I64_ADD_K64: op_rr(b, 1, 0x03, 1, RAX, RCX); break;
                case WD_XOP_I64_MUL_K64: op_rr(b, 1, 0x0faf, 2, RAX, RCX); break;
                case WD_XOP_I64_AND_K64: op_rr(b, 1, 0x23, 1, RAX, RCX); break;
                case WD_XOP_I64_OR_K64: op_rr(b, 1, 0x0b, 1, RAX, RCX); break;
                default: op_rr(b, 1, 0x33, 1, RAX, RCX); break;
                }
                st64(b, ip[1], RAX);
                break;
            }
            if (op >= WD_XOP_BR_IF_I32_EQ && op <= WD_XOP_BR_IF_I32_GE_U_IMM) {
                int k = op - WD_XOP_BR_IF_I32_EQ, imm = k >= 10;
                ld32(b, RAX, ip[1]);
                if (imm) alu_imm(b, 0, 7, RAX, ip[2]);
                else op_mem(b, 0, 0x3b, 1, RAX, R_FP, NOIDX, SLOT(ip[2]));
                add_fix(c, jcc32(b, wd_jcmp_cc[k % 10]), pos + 3 + ip[3]);
                break;
            }
            if (op >= WD_XOP_BRB_IF_I32_EQ && op <= WD_XOP_BRB_IF_I32_GE_U_IMM) {
                int k = op - WD_XOP_BRB_IF_I32_EQ, imm = k >= 10;
                ld32(b, RAX, ip[1]);
                if (imm) alu_imm(b, 0, 7, RAX, ip[2]);
                else op_mem(b, 0, 0x3b, 1, RAX, R_FP, NOIDX, SLOT(ip[2]));
                size_t skip = jcc32(b, wd_jcmp_cc[k % 10] ^ 1);
                uint32_t t = pos + 3 + ip[3];
                emit_fuel(c, ip[4], t);
                add_fix(c, jmp32(b), t);
                bind(b, skip);
                break;
            }
            {
                /* f32/f64 arithmetic and compares: SSE, as the interpreter's C compiles them */
                static const struct { int op; uint32_t code; int dbl; int cmp; } fops[] = {
                    { WD_OP_F32_ADD, 0x58, 0, 0 }, { WD_OP_F32_SUB, 0x5c, 0, 0 }, { WD_OP_F32_MUL, 0x59, 0, 0 },
                    { WD_OP_F32_DIV, 0x5e, 0, 0 }, { WD_OP_F64_ADD, 0x58, 1, 0 }, { WD_OP_F64_SUB, 0x5c, 1, 0 },
                    { WD_OP_F64_MUL, 0x59, 1, 0 }, { WD_OP_F64_DIV, 0x5e, 1, 0 },
                    { WD_OP_F32_EQ, 0, 0, 1 }, { WD_OP_F32_NE, 0, 0, 2 }, { WD_OP_F32_LT, 0, 0, 3 },
                    { WD_OP_F32_GT, 0, 0, 4 }, { WD_OP_F32_LE, 0, 0, 5 }, { WD_OP_F32_GE, 0, 0, 6 },
                    { WD_OP_F64_EQ, 0, 1, 1 }, { WD_OP_F64_NE, 0, 1, 2 }, { WD_OP_F64_LT, 0, 1, 3 },
                    { WD_OP_F64_GT, 0, 1, 4 }, { WD_OP_F64_LE, 0, 1, 5 }, { WD_OP_F64_GE, 0, 1, 6 },
                };
                int fdone = 0;
                for (size_t i = 0; i < sizeof(fops) / sizeof(fops[0]); i++) {
                    if (fops[i].op != op) continue;
                    uint32_t pre = fops[i].dbl ? 0xf2 : 0xf3;
                    if (!fops[i].cmp) {
                        e8(b, pre); op_mem(b, 0, 0x0f10, 2, 0, R_FP, NOIDX, SLOT(ip[2]));        /* movs? xmm0, [a] */
                        e8(b, pre); op_mem(b, 0, 0x0f00 | fops[i].code, 2, 0, R_FP, NOIDX, SLOT(ip[3]));
                        if (fops[i].dbl) { e8(b, pre); op_mem(b, 0, 0x0f11, 2, 0, R_FP, NOIDX, SLOT(ip[1])); }
                        else { e8(b, 0x66); e8(b, 0x0f); e8(b, 0x7e); e8(b, 0xc0); st64(b, ip[1], RAX); }  /* movd eax, xmm0 */
                    } else {
                        int k = fops[i].cmp;
                        /* lt/le compare b with a (so unordered is false through CF) */
                        uint32_t x = (k == 3 || k == 5) ? ip[3] : ip[2], y = (k == 3 || k == 5) ? ip[2] : ip[3];
                        e8(b, pre); op_mem(b, 0, 0x0f10, 2, 0, R_FP, NOIDX, SLOT(x));
                        if (fops[i].dbl) e8(b, 0x66);
                        op_mem(b, 0, 0x0f2e, 2, 0, R_FP, NOIDX, SLOT(y));                          /* ucomis? xmm0, [y] */
                        if (k == 1 || k == 2) {
                            e8(b, 0x0f); e8(b, k == 1 ? 0x94 : 0x95); e8(b, 0xc0);                 /* sete/setne al */
                            e8(b, 0x0f); e8(b, k == 1 ? 0x9b : 0x9a); e8(b, 0xc1);                 /* setnp/setp cl */
                            if (k == 1) { e8(b, 0x20); e8(b, 0xc8); } else { e8(b, 0x08); e8(b, 0xc8); }  /* and/or al, cl */
                            e8(b, 0x0f); e8(b, 0xb6); e8(b, 0xc0);
                            st64(b, ip[1], RAX);
                        } else {
                            setcc_store(b, (k == 3 || k == 4) ? CC_A : CC_AE, ip[1]);
                        }
                    }
                    fdone = 1;
                    break;
                }
                if (fdone) break;
            }
            {
                int done = 0;
                for (size_t i = 0; i < sizeof(wd_jbins) / sizeof(wd_jbins[0]); i++) {
                    const wd_jbin_t *t = &wd_jbins[i];
                    if (t->op != op) continue;
                    if (t->kind == 1) op_mem(b, 0, 0x8b, 1, RCX, R_FP, NOIDX, SLOT(ip[3]));
                    op_mem(b, t->w, 0x8b, 1, RAX, R_FP, NOIDX, SLOT(ip[2]));
                    if (t->kind == 0) {
                        op_mem(b, t->w, t->code, t->oplen, RAX, R_FP, NOIDX, SLOT(ip[3]));
                        st64(b, ip[1], RAX);
                    } else if (t->kind == 1) {
                        op_rr(b, t->w, 0xd3, 1, (int)t->code, RAX);
                        st64(b, ip[1], RAX);
                    } else {
                        op_mem(b, t->w, 0x3b, 1, RAX, R_FP, NOIDX, SLOT(ip[3]));
                        setcc_store(b, (int)t->code, ip[1]);
                    }
                    done = 1;
                    break;
                }
                for (size_t i = 0; !done && i < sizeof(wd_jimms) / sizeof(wd_jimms[0]); i++) {
                    const wd_jimm_t *t = &wd_jimms[i];
                    if (t->op != op) continue;
                    op_mem(b, t->w, 0x8b, 1, RAX, R_FP, NOIDX, SLOT(ip[2]));
                    if (t->kind == 0) { alu_imm(b, t->w, t->code, RAX, ip[3]); st64(b, ip[1], RAX); }
                    else if (t->kind == 1) {
                        op_rr(b, t->w, 0xc1, 1, t->code, RAX);
                        e8(b, ip[3] & (t->w ? 63 : 31));
                        st64(b, ip[1], RAX);
                    } else if (t->kind == 3) {
                        op_rr(b, t->w, 0x69, 1, RAX, RAX);
                        e32(b, ip[3]);
                        st64(b, ip[1], RAX);
                    } else {
                        alu_imm(b, t->w, 7, RAX, ip[3]);
                        setcc_store(b, t->code, ip[1]);
                    }
                    done = 1;
                    break;
                }
                if (done) break;
            }
            {
                int base = mem_op(op, &form);
                if (base >= 0 && load_kind(base, &lk)) {
                    /* [op dst addr off] / [op dst a b off] / [op dst a imm off] */
                    emit_ea(c, form, ip, 2, form ? ip[4] : ip[3], lk.w, STUB_ORIG, pos);
                    op_mem(b, lk.rexw, lk.op, lk.oplen, RAX, R_MB, RDX, 0);
                    st64(b, ip[1], RAX);
                    break;
                }
                uint32_t sw = base >= 0 ? store_width(base) : 0;
                if (sw) {
                    /* [op addr val off] / [op a b val off] / [op a imm val off]; slow paths
                     * (bounds, first write to a granule) interpret the cell */
                    size_t at = c->nsh;
                    for (uint32_t k = 0; k < len; k++) sh_push(c, cells[pos + k]);
                    uint32_t vslot = form ? ip[3] : ip[2];
                    emit_ea(c, form, ip, 1, form ? ip[4] : ip[3], sw, STUB_SHADOW, (uint32_t)at);
                    /* dirty map: both granules of [ea, ea+w) */
                    mov_rr(b, 1, RCX, RDX);
                    op_rr(b, 1, 0xc1, 1, 5, RCX); e8(b, WD_WASM_DIRTY_SHIFT);      /* shr rcx, 10 */
                    op_mem(b, 0, 0x0fb6, 2, RSI, R_MB, RCX, -(int32_t)WD_WASM_DIRTY_MAP);
                    if (sw > 1) {
                        op_mem(b, 1, 0x8d, 1, RDI, RDX, NOIDX, (int32_t)(sw - 1));
                        op_rr(b, 1, 0xc1, 1, 5, RDI); e8(b, WD_WASM_DIRTY_SHIFT);
                        op_mem(b, 0, 0x0fb6, 2, RDI, R_MB, RDI, -(int32_t)WD_WASM_DIRTY_MAP);
                        op_rr(b, 0, 0x23, 1, RSI, RDI);                               /* and esi, edi */
                    }
                    op_rr(b, 0, 0xf7, 1, 0, RSI); e32(b, WD_WASM_DIRTY);              /* test esi, 1 */
                    add_stub(c, jcc32(b, CC_E), STUB_SHADOW, (uint32_t)at, 0);
                    ld64(b, RAX, vslot);
                    if (sw == 8) op_mem(b, 1, 0x89, 1, RAX, R_MB, RDX, 0);
                    else if (sw == 4) op_mem(b, 0, 0x89, 1, RAX, R_MB, RDX, 0);
                    else if (sw == 2) { e8(b, 0x66); op_mem(b, 0, 0x89, 1, RAX, R_MB, RDX, 0); }
                    else op_mem(b, 0, 0x88, 1, RAX, R_MB, RDX, 0);
                    sh_jit(c, b->n);
                    break;
                }
                {
                    /* float LD_/LDI_ forms: xmm0 = [a] op mem */
                    static const struct { int ld, ldi; uint32_t code; int dbl; } lf[] = {
                        { WD_XOP_LD_F64_ADD, WD_XOP_LDI_F64_ADD, 0x58, 1 }, { WD_XOP_LD_F64_SUB, WD_XOP_LDI_F64_SUB, 0x5c, 1 },
                        { WD_XOP_LD_F64_MUL, WD_XOP_LDI_F64_MUL, 0x59, 1 }, { WD_XOP_LD_F64_DIV, WD_XOP_LDI_F64_DIV, 0x5e, 1 },
                        { WD_XOP_LD_F32_ADD, WD_XOP_LDI_F32_ADD, 0x58, 0 }, { WD_XOP_LD_F32_SUB, WD_XOP_LDI_F32_SUB, 0x5c, 0 },
                        { WD_XOP_LD_F32_MUL, WD_XOP_LDI_F32_MUL, 0x59, 0 }, { WD_XOP_LD_F32_DIV, WD_XOP_LDI_F32_DIV, 0x5e, 0 },
                    };
                    int fdone = 0;
                    for (size_t i = 0; i < sizeof(lf) / sizeof(lf[0]); i++) {
                        if (op != lf[i].ld && op != lf[i].ldi) continue;
                        int fi = op == lf[i].ldi;
                        uint32_t pre = lf[i].dbl ? 0xf2 : 0xf3;
                        emit_ea(c, fi ? 2 : 0, ip, 3, fi ? ip[5] : ip[4], lf[i].dbl ? 8 : 4, STUB_ORIG, pos);
                        e8(b, pre); op_mem(b, 0, 0x0f10, 2, 0, R_FP, NOIDX, SLOT(ip[2]));
                        e8(b, pre); op_mem(b, 0, 0x0f00 | lf[i].code, 2, 0, R_MB, RDX, 0);
                        if (lf[i].dbl) { e8(b, pre); op_mem(b, 0, 0x0f11, 2, 0, R_FP, NOIDX, SLOT(ip[1])); }
                        else { e8(b, 0x66); e8(b, 0x0f); e8(b, 0x7e); e8(b, 0xc0); st64(b, ip[1], RAX); }
                        fdone = 1;
                        break;
                    }
                    if (fdone) break;
                }
                if (ld_op(op, &form, &alu, &w64)) {
                    /* [LD_op dst a addr off] ea = addr + off; [LDI_op dst a base imm off] */
                    uint32_t w = w64 ? 8 : 4;
                    emit_ea(c, form ? 2 : 0, ip, 3, form ? ip[5] : ip[4], w, STUB_ORIG, pos);
                    op_mem(b, w64, 0x8b, 1, RAX, R_FP, NOIDX, SLOT(ip[2]));
                    op_mem(b, w64, (uint32_t)alu, alu > 0xff ? 2 : 1, RAX, R_MB, RDX, 0);
                    st64(b, ip[1], RAX);
                    break;
                }
            }
            if (is_branch(op)) goto refuse;
            /* anything else: the interpreter runs this one cell */
            emit_interp_cell(c, cells, pos, len);
            break;
        }
        if (c->oom || b->oom) { c->oom = 1; return 0; }
        pos += len;
    }
    /* falling off the end cannot happen (the translator ends with a return); be safe */
    mov_imm64(b, RAX, (uint64_t)(uintptr_t)(cells + n - 1));
    jmp_leave(c);
    /* slow-path stubs */
    for (size_t i = 0; i < c->nstub; i++) {
        wd_jstub_t *s = &c->stub[i];
        bind(b, s->at);
        if (s->kind == STUB_ORIG) {
            mov_imm64(b, RAX, (uint64_t)(uintptr_t)(cells + s->arg));
        } else if (s->kind == STUB_SHADOW) {
            mov_rax_shadow(c, s->arg);
        } else {
            /* fuel: give the charge back, [FUEL n][JIT resume] */
            if (s->fuel < 0x80000000u) alu_imm(b, 1, 0, R_FU, s->fuel);
            else { mov_imm32(b, RAX, s->fuel); op_rr(b, 1, 0x03, 1, R_FU, RAX); }
            size_t at = c->nsh;
            sh_push(c, wd_wasm_xop_cell[WD_XOP_FUEL]);
            sh_push(c, s->fuel);
            if (s->arg >= n || !c->native[s->arg]) goto refuse;
            sh_jit(c, c->native[s->arg] - 1);
            mov_rax_shadow(c, at);
        }
        jmp_leave(c);
    }
    /* branches */
    for (size_t i = 0; i < c->nfix; i++) {
        uint32_t t = c->fix[i].target;
        if (t >= n || !c->native[t]) goto refuse;
        size_t dst = c->native[t] - 1;
        if (c->fix[i].tab) {
            int32_t rel = (int32_t)((int64_t)dst - (int64_t)c->fix[i].tab);
            if (!b->oom) memcpy(b->p + c->fix[i].at, &rel, 4);
        } else {
            patch_to(b, c->fix[i].at, dst);
        }
    }
    if (c->oom || b->oom) { c->oom = 1; return 0; }
    /* the entry: [FUEL entry_fuel][JIT body] */
    *entry_sh = c->nsh;
    sh_push(c, cells[0]);
    sh_push(c, cells[1]);
    sh_jit(c, c->native[2] - 1);
    return c->oom ? 0 : 1;
refuse:
    b->n = b_mark;
    c->nsh = sh_mark;
    c->nshjit = shjit_mark;
    c->nshref = shref_mark;
    return 0;
}

/* ---- modules ---- */

/* the engine a load asks for: opts->engine, else WD_WASM_ENGINE (jit, interp, mixed:SEED) */
static int wd_jit_mode(const wd_wasm_load_opts_t *opts, uint64_t *seed)
{
    if (opts && opts->engine == WD_WASM_ENGINE_INTERP) return 0;
    if (opts && opts->engine == WD_WASM_ENGINE_JIT) return 1;
    const char *e = getenv("WD_WASM_ENGINE");
    if (e == NULL) return 0;
    if (strcmp(e, "jit") == 0) return 1;
    if (strncmp(e, "mixed:", 6) == 0) { *seed = strtoull(e + 6, NULL, 10); return 2; }
    return 0;
}

int wd_wasm_jit_compile(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    uint64_t seed = 0;
    int mode = wd_jit_mode(opts, &seed);
    if (mode == 0 || wd_jit_sealed) return 0;
    pthread_once(&wd_jit_once, wd_jit_init);
    if (wd_wasm_jit_enter == NULL) return 0;
    uint32_t ndef = m->nfuncs - m->nfuncs_imported;
    if (ndef == 0) return 0;
    wd_jc_t c;
    memset(&c, 0, sizeof(c));
    size_t *entry = wd_wasm_malloc((size_t)ndef * sizeof(size_t));
    struct wd_wasm_jit *j = wd_wasm_calloc(1, sizeof(*j));
    uint32_t ncomp = 0;
    if (entry == NULL || j == NULL) goto oom;
    emit_leave_stub(&c.b);
    for (uint32_t i = 0; i < ndef; i++) {
        entry[i] = SIZE_MAX;
        if (mode == 2) {
            uint64_t h = (seed + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)(m->nfuncs_imported + i) * 0xC2B2AE3D27D4EB4Full;
            h ^= h >> 29;
            h *= 0xBF58476D1CE4E5B9ull;
            if ((h >> 40) & 1) continue;
        }
        size_t e;
        if (compile_func(&c, m->funcs[i].code, &e)) { entry[i] = e; ncomp++; }
        if (c.oom || c.b.oom) goto oom;
    }
    if (ncomp == 0) goto none;
    j->shadow = wd_wasm_malloc(c.nsh * sizeof(uint32_t));
    if (j->shadow == NULL) goto oom;
    memcpy(j->shadow, c.sh, c.nsh * sizeof(uint32_t));
    j->nshadow = c.nsh;
    size_t len = (c.b.n + 4095) & ~(size_t)4095;
    void *region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) goto none;
    for (size_t i = 0; i < c.nshref; i++) {
        uint64_t idx;
        memcpy(&idx, c.b.p + c.shref[i], 8);
        uint64_t a = (uint64_t)(uintptr_t)(j->shadow + idx);
        memcpy(c.b.p + c.shref[i], &a, 8);
    }
    memcpy(region, c.b.p, c.b.n);
    if (mprotect(region, len, PROT_READ | PROT_EXEC) != 0) { munmap(region, len); goto none; }
    j->code = region;
    j->code_len = len;
    for (size_t i = 0; i < c.nshjit; i++) {
        size_t lo = c.shjit[i];
        uint64_t a = (uint64_t)(uintptr_t)((uint8_t *)region + j->shadow[lo]);
        j->shadow[lo] = (uint32_t)a;
        j->shadow[lo + 1] = (uint32_t)(a >> 32);
    }
    j->ncompiled = ncomp;
    for (uint32_t i = 0; i < ndef; i++)
        if (entry[i] != SIZE_MAX) m->funcs[i].code->jit_cells = j->shadow + entry[i];
    m->jit = j;
    j = NULL;
none:
    if (j) { wd_wasm_free(j->shadow); wd_wasm_free(j); }
    wd_wasm_free(entry);
    wd_wasm_free(c.b.p); wd_wasm_free(c.sh); wd_wasm_free(c.shjit); wd_wasm_free(c.shref);
    wd_wasm_free(c.native); wd_wasm_free(c.fix); wd_wasm_free(c.stub);
    return 0;
oom:
    if (j) { wd_wasm_free(j->shadow); wd_wasm_free(j); }
    wd_wasm_free(entry);
    wd_wasm_free(c.b.p); wd_wasm_free(c.sh); wd_wasm_free(c.shjit); wd_wasm_free(c.shref);
    wd_wasm_free(c.native); wd_wasm_free(c.fix); wd_wasm_free(c.stub);
    wd_wasm_set_error(err, -1, -1, "out of memory");
    return -1;
}

void wd_wasm_jit_release(wd_wasm_module_t *m)
{
    struct wd_wasm_jit *j = m->jit;
    if (j == NULL) return;
    munmap(j->code, j->code_len);
    wd_wasm_free(j->shadow);
    wd_wasm_free(j);
    m->jit = NULL;
}

uint32_t wd_wasm_module_jit_count(const wd_wasm_module_t *m) { return m->jit ? m->jit->ncompiled : 0; }

#else  /* not x86-64: the interpreter only */

void wd_wasm_jit_seal(void) {}
int wd_wasm_jit_compile(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    (void)m; (void)opts; (void)err;
    return 0;
}
void wd_wasm_jit_release(wd_wasm_module_t *m) { (void)m; }
uint32_t wd_wasm_module_jit_count(const wd_wasm_module_t *m) { (void)m; return 0; }

#endif
