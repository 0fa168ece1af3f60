/*
 * wd_wasm_interp.c -- the interpreter loop.
 *
 * Executes translated code (see wd_wasm_rt.h): every instruction names frame
 * slots, so an operator is one load per operand plus one store. Dispatch is
 * direct-threaded with computed goto: each code cell holding an opcode holds
 * its handler's offset from a base label (filled in once by
 * wd_wasm_interp_init), and every handler ends with its own indirect jump.
 * With -DWD_WASM_SWITCH_DISPATCH=1 the cells hold opcode numbers and a plain
 * switch in a loop dispatches them.
 *
 * Calls never recurse in C: a Wasm call pushes a wd_wasm_frame_t on the
 * running ("thread") instance's frame array and continues in this same loop
 * with the callee's frame starting at the caller's argument slots (so the
 * arguments are already the callee's first locals and the results come back
 * in the same slots). A call into another instance's function switches the
 * cached instance state (functions, globals, tables, memory base and size)
 * and the return switches back. Host functions are called from the loop; a
 * WD_WASM_HOST_SUSPEND saves ip (at the call instruction), fp and the
 * function, so resuming re-executes the call and thus re-invokes the host.
 * A yield request (wd_wasm_request_yield) is honoured at a fuel check point
 * (block/loop head, taken back-edge, call entry) the same way: the charge just
 * taken is given back and ip/fp/function/depth are saved at the charging cell,
 * so resuming re-executes that cell. Interrupt and yield are bits of one
 * attention word, so the hot check stays `fuel < 0 || attn`.
 *
 * The hot state (ip, fp, memory base/size, fuel) lives in C locals; it is
 * written back to the instance only when leaving the loop or calling out.
 * Linear memory accesses are bounds-checked explicitly against the cached
 * size with 64-bit arithmetic (address + offset + width cannot wrap), or,
 * with -DWD_WASM_GUARD_PAGES=1, not at all: the 8 GiB reservation's
 * PROT_NONE pages fault and the fault handler turns that into the trap.
 * Measured on bench/engine (sieve/hash/sort/matmul) both strategies were
 * within noise (e.g. sieve 7.18 s vs 7.05 s, matmul 37.4 s vs 39.3 s), so the
 * simpler, signal-free explicit checks are the default.
 */
#include <stdio.h>
#include <string.h>
#include <math.h>
#include "wd_wasm_rt.h"
#include "wd_wasm_numeric.h"
#include "wd_wasm_simd.h"

uint32_t wd_wasm_xop_cell[WD_XOP_LIMIT_];

#if WD_WASM_GUARD_PAGES
static void wd_guard_install(void);
#endif

static wd_wasm_status_t wd_wasm_interp_loop(wd_wasm_instance_t *thread, const uint32_t *ip,
                                            uint64_t *fp, wd_wasm_func_t *cur);
static volatile int wd_wasm_interp_ready;

void wd_wasm_interp_init(void)
{
    if (wd_wasm_interp_ready) return;
#if WD_WASM_GUARD_PAGES
    wd_guard_install();     /* both dispatch modes: out-of-bounds accesses fault into the trap */
#endif
#if !WD_WASM_SWITCH_DISPATCH
    /* direct threading: cells hold each handler's offset from the loop's base label */
    wd_wasm_interp_loop(NULL, NULL, NULL, NULL);
    wd_wasm_interp_ready = 1;
    return;
#endif
    for (uint32_t i = 0; i < WD_XOP_LIMIT_; i++) wd_wasm_xop_cell[i] = i;
    wd_wasm_interp_ready = 1;
}

static const char *const wd_wasm_trap_msgs[] = {
    [WD_TRAP_NONE] = "no trap",
    [WD_TRAP_UNREACHABLE] = "unreachable",
    [WD_TRAP_DIV_ZERO] = "integer divide by zero",
    [WD_TRAP_INT_OVERFLOW] = "integer overflow",
    [WD_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
    [WD_TRAP_OOB_MEMORY] = "out of bounds memory access",
    [WD_TRAP_OOB_TABLE] = "out of bounds table access",
    [WD_TRAP_INDIRECT_TYPE] = "indirect call type mismatch",
    [WD_TRAP_UNINIT_ELEMENT] = "uninitialized element",
    [WD_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [WD_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [WD_TRAP_FUEL] = "fuel exhausted",
    [WD_TRAP_MEMORY_LIMIT] = "memory limit exceeded",
    [WD_TRAP_INTERRUPT] = "deadline exceeded",
    [WD_TRAP_HOST] = "host trap",
    [WD_TRAP_EXIT] = "exit",
};

const char *wd_wasm_trap_kind_message(wd_wasm_trap_kind_t k)
{
    if ((unsigned)k >= sizeof(wd_wasm_trap_msgs) / sizeof(wd_wasm_trap_msgs[0])) return "trap";
    return wd_wasm_trap_msgs[k];
}

int wd_wasm_trap_set(wd_wasm_instance_t *thread, wd_wasm_trap_kind_t k, wd_wasm_func_t *f)
{
    thread->trap.kind = k;
    if (k == WD_TRAP_HOST || k == WD_TRAP_EXIT) {
        snprintf(thread->trap.msg, sizeof(thread->trap.msg), "%s", thread->host_msg);
    } else {
        snprintf(thread->trap.msg, sizeof(thread->trap.msg), "%s", wd_wasm_trap_kind_message(k));
    }
    thread->trap.func_index = f ? (int64_t)f->index : -1;
    return -1;
}

static int wd_wasm_types_equal(const wd_wasm_functype_t *a, const wd_wasm_functype_t *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           !memcmp(a->params, b->params, a->nparams) && !memcmp(a->results, b->results, a->nresults);
}

static inline float wd_f32(uint64_t s) { float f; uint32_t u = (uint32_t)s; memcpy(&f, &u, 4); return f; }
static inline double wd_f64(uint64_t s) { double d; memcpy(&d, &s, 8); return d; }
static inline uint64_t wd_bf32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t wd_bf64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

#if WD_WASM_SWITCH_DISPATCH
#define CASE(x) case x:
#define NEXT() goto dispatch
#else
#define CASE(x) L_##x:
#if WD_WASM_PROFILE
/* make PROFILE=1 (objs/prof): a diagnostic build counting, per function, the handlers
 * dispatched in it (self), its calls, the dispatches between its entry and return
 * (inclusive) and the caller->callee edges; plus the bytes of memory.fill/copy and the
 * host calls. Process-wide counters, not thread-safe: for one thread running one
 * instance graph (bench/component/micro). wd_wasm_profile_dump() writes them out. */
static uint64_t wd_prof_total, wd_prof_fill[2], wd_prof_copy[2], wd_prof_host;
static uint64_t wd_prof_start[1 << 16];
static const wd_wasm_code_t *wd_prof_caller[1 << 16];
#define WD_PROF_EDGES (1u << 20)
static struct { const wd_wasm_code_t *from, *to; uint64_t n, incl; } wd_prof_edges[WD_PROF_EDGES];
static void wd_prof_edge(const wd_wasm_code_t *from, const wd_wasm_code_t *to, uint64_t incl)
{
    uint64_t k = (uint64_t)(uintptr_t)from * 31 + (uint64_t)(uintptr_t)to;
    uint32_t h = (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 44);
    while (wd_prof_edges[h].to && (wd_prof_edges[h].from != from || wd_prof_edges[h].to != to))
        h = (h + 1) & (WD_PROF_EDGES - 1);
    wd_prof_edges[h].from = from;
    wd_prof_edges[h].to = to;
    wd_prof_edges[h].n++;
    wd_prof_edges[h].incl += incl;
}
#if WD_WASM_SWITCH_DISPATCH
#error "WD_WASM_PROFILE instruments the direct-threaded dispatch only"
#endif
#define NEXT() do { wd_wasm_fn_code(cur)->prof_ops++; wd_prof_total++; goto *(void *)((char *)&&L_BAD + (int32_t)*ip); } while (0)
#else
#define NEXT() goto *(void *)((char *)&&L_BAD + (int32_t)*ip)
#endif
#endif

#define S(k) fp[ip[k]]
#define U32(k) ((uint32_t)fp[ip[k]])
#define REL(k) ((int32_t)ip[k])

#define RELOAD_MEM() do { \
        if (inst->mem) { mem_base = inst->mem->base; mem_size = inst->mem->size; } \
        else { mem_base = NULL; mem_size = 0; } \
    } while (0)
#define RELOAD_INST() do { \
        funcs = inst->funcs; globals = inst->globals; \
        RELOAD_MEM(); \
        WD_GUARD_SET_MEM(inst->mem); \
    } while (0)

#if WD_WASM_GUARD_PAGES
#include <setjmp.h>
#include <sys/mman.h>
/* The running interpreter's memory and escape point, for the fault handler. */
static __thread wd_wasm_memory_t *volatile wd_guard_mem;
static __thread sigjmp_buf *volatile wd_guard_jmp;
static struct sigaction wd_guard_old_segv, wd_guard_old_bus;
#define WD_GUARD_SET_MEM(m) (wd_guard_mem = (m))
#define WD_GUARD_LIVE() do { thread->live_func = cur; thread->live_depth = depth; } while (0)
#define OOB_CHECK(ea, w) 0

static void wd_guard_handler(int sig, siginfo_t *si, void *uc)
{
    wd_wasm_memory_t *m = wd_guard_mem;
    uint8_t *a = si->si_addr;
    if (wd_guard_jmp && m && a >= m->base && a < m->base + m->reserved)
        siglongjmp(*wd_guard_jmp, 1);
    /* not ours: put the previous disposition back and let the access fault again */
    struct sigaction *old = sig == SIGBUS ? &wd_guard_old_bus : &wd_guard_old_segv;
    if (old->sa_flags & SA_SIGINFO && old->sa_sigaction) { old->sa_sigaction(sig, si, uc); return; }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
}

static void wd_guard_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = wd_guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &wd_guard_old_segv);
    sigaction(SIGBUS, &sa, &wd_guard_old_bus);
}
#else
#define WD_GUARD_SET_MEM(m) ((void)0)
#define WD_GUARD_LIVE() ((void)0)
#define OOB_CHECK(ea, w) (__builtin_expect((ea) + (w) > mem_size, 0))
#endif

#define TRAP(k) do { trap_kind = (k); goto do_trap; } while (0)

#define BIN32(OP, expr) CASE(WD_OP_##OP) { uint32_t a = U32(2), b = U32(3); (void)a; (void)b; \
        S(1) = (uint32_t)(expr); ip += 4; NEXT(); }
#define BIN64(OP, expr) CASE(WD_OP_##OP) { uint64_t a = S(2), b = S(3); (void)a; (void)b; \
        S(1) = (uint64_t)(expr); ip += 4; NEXT(); }
#define UN32(OP, expr) CASE(WD_OP_##OP) { uint32_t a = U32(2); S(1) = (uint32_t)(expr); ip += 3; NEXT(); }
#define UN64(OP, expr) CASE(WD_OP_##OP) { uint64_t a = S(2); S(1) = (uint64_t)(expr); ip += 3; NEXT(); }
#define BINF32(OP, expr) CASE(WD_OP_##OP) { float a = wd_f32(S(2)), b = wd_f32(S(3)); \
        S(1) = wd_bf32(expr); ip += 4; NEXT(); }
#define BINF64(OP, expr) CASE(WD_OP_##OP) { double a = wd_f64(S(2)), b = wd_f64(S(3)); \
        S(1) = wd_bf64(expr); ip += 4; NEXT(); }
#define CMPF32(OP, expr) CASE(WD_OP_##OP) { float a = wd_f32(S(2)), b = wd_f32(S(3)); \
        S(1) = (expr) ? 1 : 0; ip += 4; NEXT(); }
#define CMPF64(OP, expr) CASE(WD_OP_##OP) { double a = wd_f64(S(2)), b = wd_f64(S(3)); \
        S(1) = (expr) ? 1 : 0; ip += 4; NEXT(); }
#define UNF32(OP, expr) CASE(WD_OP_##OP) { float a = wd_f32(S(2)); S(1) = wd_bf32(expr); ip += 3; NEXT(); }
#define UNF64(OP, expr) CASE(WD_OP_##OP) { double a = wd_f64(S(2)); S(1) = wd_bf64(expr); ip += 3; NEXT(); }
#define CONV(OP, expr) CASE(WD_OP_##OP) { uint64_t a = S(2); S(1) = (expr); ip += 3; NEXT(); }
#define IMM32(XOP, expr) CASE(WD_XOP_##XOP) { uint32_t a = U32(2), b = ip[3]; \
        S(1) = (uint32_t)(expr); ip += 4; NEXT(); }
/* backward branches charge the loop's fuel when taken (the check shared with FUEL) */
#define FUEL_CHARGE(n) do { fuel -= (n); \
        if (__builtin_expect(fuel < 0 || thread->attn, 0)) { charged = (n); goto fuel_out; } } while (0)
#define BRCMP(XOP, expr) \
    CASE(WD_XOP_BR_IF_##XOP) { uint32_t a = U32(1), b = U32(2); \
        if (expr) ip += 3 + REL(3); else ip += 4; NEXT(); } \
    CASE(WD_XOP_BRB_IF_##XOP) { uint32_t a = U32(1), b = U32(2); \
        if (expr) { FUEL_CHARGE(ip[4]); ip += 3 + REL(3); } else ip += 5; NEXT(); }
#define BRCMPI(XOP, expr) \
    CASE(WD_XOP_BR_IF_##XOP) { uint32_t a = U32(1), b = ip[2]; \
        if (expr) ip += 3 + REL(3); else ip += 4; NEXT(); } \
    CASE(WD_XOP_BRB_IF_##XOP) { uint32_t a = U32(1), b = ip[2]; \
        if (expr) { FUEL_CHARGE(ip[4]); ip += 3 + REL(3); } else ip += 5; NEXT(); }

/* address + offset + width is computed in 64 bits: it cannot wrap */
#define LOADBODY(T, conv, len) \
        if (OOB_CHECK(ea, sizeof(T))) TRAP(WD_TRAP_OOB_MEMORY); \
        T v; memcpy(&v, mem_base + ea, sizeof(T)); S(1) = (conv); ip += (len); NEXT();
#define LOAD(OP, T, conv) \
    CASE(WD_OP_##OP) { uint64_t ea = (uint64_t)U32(2) + ip[3]; LOADBODY(T, conv, 4) } \
    CASE(WD_XOP_LA_##OP) { uint64_t ea = (uint64_t)(uint32_t)(U32(2) + U32(3)) + ip[4]; LOADBODY(T, conv, 5) } \
    CASE(WD_XOP_LI_##OP) { uint64_t ea = (uint64_t)(uint32_t)(U32(2) + ip[3]) + ip[4]; LOADBODY(T, conv, 5) }
/* A store then checks the dirty map (see WD_WASM_DIRTY_MAP): the first write to a
 * granule since the last restore records it (after the write: nothing can leave
 * in between, and with guard pages a faulting store has written nothing). */
#define STOREBODY(T, vk, len) \
        if (OOB_CHECK(ea, sizeof(T))) TRAP(WD_TRAP_OOB_MEMORY); \
        T v = (T)S(vk); memcpy(mem_base + ea, &v, sizeof(T)); \
        if (__builtin_expect(!WD_WASM_DIRTY_BOTH(mem_base, ea, sizeof(T)), 0)) \
            wd_wasm_memory_mark(inst->mem, ea, sizeof(T)); \
        ip += (len); NEXT();
#define STORE(OP, T) \
    CASE(WD_OP_##OP) { uint64_t ea = (uint64_t)U32(1) + ip[3]; STOREBODY(T, 2, 4) } \
    CASE(WD_XOP_LA_##OP) { uint64_t ea = (uint64_t)(uint32_t)(U32(1) + U32(2)) + ip[4]; STOREBODY(T, 3, 5) } \
    CASE(WD_XOP_LI_##OP) { uint64_t ea = (uint64_t)(uint32_t)(U32(1) + ip[2]) + ip[4]; STOREBODY(T, 3, 5) }

/* binop whose right operand is loaded: LD [op dst a addr off] (ea = addr + off),
 * LDI [op dst a base imm off] (ea = (u32)(base + imm) + off, the i32.add wrap kept) */
#define LDOPBODY(T, GET, PUT, expr, len) \
        if (OOB_CHECK(ea, sizeof(T))) TRAP(WD_TRAP_OOB_MEMORY); \
        T raw; memcpy(&raw, mem_base + ea, sizeof(T)); \
        { __typeof__(GET(S(2))) a = GET(S(2)), b = GET((uint64_t)raw); S(1) = PUT(expr); } \
        ip += (len); NEXT();
#define LDOPS(OP, T, GET, PUT, expr) \
    CASE(WD_XOP_LD_##OP) { uint64_t ea = (uint64_t)U32(3) + ip[4]; LDOPBODY(T, GET, PUT, expr, 5) } \
    CASE(WD_XOP_LDI_##OP) { uint64_t ea = (uint64_t)(uint32_t)(U32(3) + ip[4]) + ip[5]; \
        LDOPBODY(T, GET, PUT, expr, 6) }
#define WD_ID_(x) ((uint64_t)(x))
#define WD_U32_(x) ((uint32_t)(x))

#define TRUNC(OP, fn, FT, IT, UT) CASE(WD_OP_##OP) { IT r; int k = fn(FT(S(2)), &r); \
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = (UT)r; ip += 3; NEXT(); }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wpedantic"

/* no memset calls for the few locals a call zeroes */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static wd_wasm_status_t wd_wasm_interp_loop(wd_wasm_instance_t *thread, const uint32_t *ip, uint64_t *fp,
                                            wd_wasm_func_t *cur)
{
#if !WD_WASM_SWITCH_DISPATCH
    static const void *const disp[WD_XOP_LIMIT_] = {
        [0 ... WD_XOP_LIMIT_ - 1] = &&L_BAD,
#define WD_X_(sym, code, text, imm, sig, al) [WD_OP_##sym] = &&L_WD_OP_##sym,
        WD_WASM_OPCODES(WD_X_)
#undef WD_X_
#define WD_X_(sym, code, text, imm, sig, al) [WD_OP_FC_BASE + code] = &&L_WD_OP_##sym,
        WD_WASM_OPCODES_FC(WD_X_)
#undef WD_X_
#define WD_X_(sym, code, text, imm, sig, al) [WD_OP_FD_BASE + code] = &&L_WD_OP_##sym,
        WD_WASM_OPCODES_FD(WD_X_)
#undef WD_X_
#define WD_X_(n) [WD_XOP_##n] = &&L_WD_XOP_##n,
        WD_WASM_XOPS(WD_X_)
#undef WD_X_
    };
    if (thread == NULL) {
        for (int i = 0; i < WD_XOP_LIMIT_; i++)
            wd_wasm_xop_cell[i] = (uint32_t)(int32_t)((const char *)disp[i] - (const char *)&&L_BAD);
        return WD_WASM_OK;
    }
#endif
    wd_wasm_instance_t *inst = cur->inst;
    wd_wasm_func_t **funcs;
    wd_wasm_global_t **globals;
    uint8_t *mem_base;
    uint64_t mem_size;
    int64_t fuel = thread->fuel;
    wd_wasm_frame_t *frames = thread->frames;
    uint32_t depth = thread->depth;
    const uint32_t max_depth = thread->max_depth;
    uint64_t *const stack_end = thread->stack_end;
    wd_wasm_trap_kind_t trap_kind = WD_TRAP_NONE;
    uint32_t trap_aux = 0;
    int64_t charged = 0;          /* the charge that sent us to fuel_out (undone by a yield) */
    WD_GUARD_LIVE();
    wd_wasm_func_t *f;
    uint64_t *nfp;
    const uint32_t *call_ip;
    RELOAD_INST();

#if WD_WASM_SWITCH_DISPATCH
dispatch:
    switch (*ip) {
#else
    NEXT();
#endif

    /* ---- engine instructions ---- */
    CASE(WD_XOP_MOV) { S(1) = S(2); ip += 3; NEXT(); }
    CASE(WD_XOP_CONST32) { S(1) = ip[2]; ip += 3; NEXT(); }
    CASE(WD_XOP_CONST64) { S(1) = (uint64_t)ip[2] | ((uint64_t)ip[3] << 32); ip += 4; NEXT(); }
    CASE(WD_XOP_BR) { ip += 1 + REL(1); NEXT(); }
    CASE(WD_XOP_BR_IF) { if (U32(1)) ip += 2 + REL(2); else ip += 3; NEXT(); }
    CASE(WD_XOP_BR_UNLESS) { if (!U32(1)) ip += 2 + REL(2); else ip += 3; NEXT(); }
    CASE(WD_XOP_BR_IF_EQZ) { if (!U32(1)) ip += 2 + REL(2); else ip += 3; NEXT(); }
    CASE(WD_XOP_BR_IF_NEZ) { if (U32(1)) ip += 2 + REL(2); else ip += 3; NEXT(); }
    CASE(WD_XOP_BRB) { FUEL_CHARGE(ip[2]); ip += 1 + REL(1); NEXT(); }
    CASE(WD_XOP_BRB_IF) { if (U32(1)) { FUEL_CHARGE(ip[3]); ip += 2 + REL(2); } else ip += 4; NEXT(); }
    CASE(WD_XOP_BRB_IF_EQZ) { if (!U32(1)) { FUEL_CHARGE(ip[3]); ip += 2 + REL(2); } else ip += 4; NEXT(); }
    CASE(WD_XOP_BR_TABLE) {
        uint32_t i = U32(1), n = ip[2];
        if (i > n) i = n;
        ip += 3 + i;
        ip += REL(0);
        NEXT();
    }
    CASE(WD_XOP_FUEL) {
        FUEL_CHARGE(ip[1]);
        ip += 2;
        NEXT();
    }
    CASE(WD_XOP_TRAP_UNREACHABLE) { TRAP(WD_TRAP_UNREACHABLE); }
    CASE(WD_XOP_JIT) {    /* compiled code (wd_wasm_jit_x64.c): runs until it hands a cell back */
        thread->fuel = fuel;
        ip = wd_wasm_jit_enter(thread, inst, fp, (const void *)(uintptr_t)((uint64_t)ip[1] | (uint64_t)ip[2] << 32));
        fuel = thread->fuel;
        NEXT();
    }
    CASE(WD_XOP_SELECT) { S(1) = U32(4) ? S(2) : S(3); ip += 5; NEXT(); }
    CASE(WD_XOP_GLOBAL_GET) { S(1) = globals[ip[2]]->val; ip += 3; NEXT(); }
    CASE(WD_XOP_GLOBAL_SET) { globals[ip[2]]->val = S(1); ip += 3; NEXT(); }
    CASE(WD_XOP_REF_FUNC) { S(1) = (uint64_t)(uintptr_t)funcs[ip[2]]; ip += 3; NEXT(); }
    CASE(WD_XOP_REF_IS_NULL) { S(1) = S(2) == 0; ip += 3; NEXT(); }
    CASE(WD_XOP_TABLE_GET) {
        wd_wasm_table_t *t = inst->tables[ip[3]];
        uint32_t i = U32(2);
        if (i >= t->size) TRAP(WD_TRAP_OOB_TABLE);
        S(1) = t->elems[i];
        ip += 4;
        NEXT();
    }
    CASE(WD_XOP_TABLE_SET) {
        wd_wasm_table_t *t = inst->tables[ip[3]];
        uint32_t i = U32(1);
        if (i >= t->size) TRAP(WD_TRAP_OOB_TABLE);
        t->elems[i] = S(2);
        ip += 4;
        NEXT();
    }
    CASE(WD_XOP_TABLE_GROW) {
        wd_wasm_table_t *t = inst->tables[ip[4]];
        S(1) = (uint32_t)wd_wasm_table_grow_n(t, U32(3), S(2));
        ip += 5;
        NEXT();
    }
    CASE(WD_XOP_TABLE_FILL) {
        wd_wasm_table_t *t = inst->tables[ip[4]];
        uint64_t i = U32(1), n = U32(3), v = S(2);
        if (i + n > t->size) TRAP(WD_TRAP_OOB_TABLE);
        for (uint64_t k = 0; k < n; k++) t->elems[i + k] = v;
        ip += 5;
        NEXT();
    }

    IMM32(I32_ADD_IMM, a + b)
    IMM32(I32_SUB_IMM, a - b)
    IMM32(I32_AND_IMM, a & b)
    IMM32(I32_OR_IMM, a | b)
    IMM32(I32_XOR_IMM, a ^ b)
    IMM32(I32_SHL_IMM, a << (b & 31))
    IMM32(I32_SHR_U_IMM, a >> (b & 31))
    IMM32(I32_SHR_S_IMM, (uint32_t)((int32_t)a >> (b & 31)))
    IMM32(I32_MUL_IMM, a * b)
    IMM32(I32_EQ_IMM, a == b)
    IMM32(I32_NE_IMM, a != b)
    IMM32(I32_LT_S_IMM, (int32_t)a < (int32_t)b)
    IMM32(I32_LT_U_IMM, a < b)
    IMM32(I32_GT_S_IMM, (int32_t)a > (int32_t)b)
    IMM32(I32_GT_U_IMM, a > b)
    IMM32(I32_LE_S_IMM, (int32_t)a <= (int32_t)b)
    IMM32(I32_LE_U_IMM, a <= b)
    IMM32(I32_GE_S_IMM, (int32_t)a >= (int32_t)b)
    IMM32(I32_GE_U_IMM, a >= b)
#define IMM64(XOP, expr) CASE(WD_XOP_##XOP) { uint64_t a = S(2), b = (uint64_t)(int64_t)(int32_t)ip[3]; \
        S(1) = (expr); ip += 4; NEXT(); }
    IMM64(I64_ADD_IMM, a + b)
    IMM64(I64_MUL_IMM, a * b)
    IMM64(I64_AND_IMM, a & b)
    IMM64(I64_OR_IMM, a | b)
    IMM64(I64_XOR_IMM, a ^ b)
    IMM64(I64_SHL_IMM, a << (b & 63))
    IMM64(I64_SHR_U_IMM, a >> (b & 63))
    IMM64(I64_SHR_S_IMM, (uint64_t)((int64_t)a >> (b & 63)))
#define K64(XOP, expr) CASE(WD_XOP_##XOP) { uint64_t a = S(2), b = (uint64_t)ip[3] | ((uint64_t)ip[4] << 32); \
        S(1) = (expr); ip += 5; NEXT(); }
    K64(I64_ADD_K64, a + b)
    K64(I64_MUL_K64, a * b)
    K64(I64_AND_K64, a & b)
    K64(I64_OR_K64, a | b)
    K64(I64_XOR_K64, a ^ b)

    BRCMP(I32_EQ, a == b)
    BRCMP(I32_NE, a != b)
    BRCMP(I32_LT_S, (int32_t)a < (int32_t)b)
    BRCMP(I32_LT_U, a < b)
    BRCMP(I32_GT_S, (int32_t)a > (int32_t)b)
    BRCMP(I32_GT_U, a > b)
    BRCMP(I32_LE_S, (int32_t)a <= (int32_t)b)
    BRCMP(I32_LE_U, a <= b)
    BRCMP(I32_GE_S, (int32_t)a >= (int32_t)b)
    BRCMP(I32_GE_U, a >= b)
    BRCMPI(I32_EQ_IMM, a == b)
    BRCMPI(I32_NE_IMM, a != b)
    BRCMPI(I32_LT_S_IMM, (int32_t)a < (int32_t)b)
    BRCMPI(I32_LT_U_IMM, a < b)
    BRCMPI(I32_GT_S_IMM, (int32_t)a > (int32_t)b)
    BRCMPI(I32_GT_U_IMM, a > b)
    BRCMPI(I32_LE_S_IMM, (int32_t)a <= (int32_t)b)
    BRCMPI(I32_LE_U_IMM, a <= b)
    BRCMPI(I32_GE_S_IMM, (int32_t)a >= (int32_t)b)
    BRCMPI(I32_GE_U_IMM, a >= b)

    CASE(WD_XOP_CALL) {
        call_ip = ip;
        f = funcs[ip[1]];
        nfp = fp + ip[2];
        ip += 3;
        goto do_call;
    }
    CASE(WD_XOP_CALL_INDIRECT) {
        call_ip = ip;
        wd_wasm_table_t *t = inst->tables[ip[2]];
        uint32_t i = U32(4);
        if (i >= t->size) TRAP(WD_TRAP_UNDEFINED_ELEMENT);
        f = (wd_wasm_func_t *)(uintptr_t)t->elems[i];
        if (f == NULL) { trap_aux = i; TRAP(WD_TRAP_UNINIT_ELEMENT); }
        const wd_wasm_module_t *m = inst->module;
        if (!(f->body && (f->inst == inst || f->inst->module == m) && f->canon == m->type_canon[ip[1]]) &&
            !wd_wasm_types_equal(wd_wasm_fn_type(f), &m->types[ip[1]]))
            TRAP(WD_TRAP_INDIRECT_TYPE);
        nfp = fp + ip[3];
        ip += 5;
        goto do_call;
    }
    CASE(WD_XOP_RETURN1) { fp[0] = S(1); goto do_return; }
    CASE(WD_XOP_RETURN) {
do_return:;
        wd_wasm_frame_t *fr = &frames[--depth];
#if WD_WASM_PROFILE
        if (fr->func != NULL) {
            uint64_t in = wd_prof_total - wd_prof_start[depth & 0xffff];
            wd_wasm_fn_code(cur)->prof_incl += in;
            wd_prof_edge(wd_prof_caller[depth & 0xffff], wd_wasm_fn_code(cur), in);
        }
#endif
        if (fr->func == NULL) {
            thread->depth = depth;
            thread->fuel = fuel;
            return WD_WASM_OK;
        }
        ip = fr->ret_ip;
        fp = fr->fp;
        cur = fr->func;
        if (__builtin_expect(fr->inst == inst, 1)) { WD_GUARD_LIVE(); NEXT(); }
        WD_GUARD_LIVE();
        if (cur->inst != inst) { inst = cur->inst; RELOAD_INST(); }
        NEXT();
    }

    /* ---- Wasm operators ---- */
    CASE(WD_OP_MEMORY_SIZE) { S(1) = (uint32_t)(mem_size >> 16); ip += 2; NEXT(); }
    CASE(WD_OP_MEMORY_GROW) {
        int64_t r = inst->mem ? wd_wasm_memory_grow_pages(inst->mem, U32(2)) : -1;
        S(1) = (uint32_t)r;
        RELOAD_INST();
        ip += 3;
        NEXT();
    }
    LOAD(I32_LOAD, uint32_t, v)
    LOAD(I64_LOAD, uint64_t, v)
    LOAD(F32_LOAD, uint32_t, v)
    LOAD(F64_LOAD, uint64_t, v)
    LOAD(I32_LOAD8_S, int8_t, (uint32_t)(int32_t)v)
    LOAD(I32_LOAD8_U, uint8_t, v)
    LOAD(I32_LOAD16_S, int16_t, (uint32_t)(int32_t)v)
    LOAD(I32_LOAD16_U, uint16_t, v)
    LOAD(I64_LOAD8_S, int8_t, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD8_U, uint8_t, v)
    LOAD(I64_LOAD16_S, int16_t, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD16_U, uint16_t, v)
    LOAD(I64_LOAD32_S, int32_t, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD32_U, uint32_t, v)
    STORE(I32_STORE, uint32_t)
    STORE(I64_STORE, uint64_t)
    STORE(F32_STORE, uint32_t)
    STORE(F64_STORE, uint64_t)
    STORE(I32_STORE8, uint8_t)
    STORE(I32_STORE16, uint16_t)
    STORE(I64_STORE8, uint8_t)
    STORE(I64_STORE16, uint16_t)
    STORE(I64_STORE32, uint32_t)

    LDOPS(F64_ADD, uint64_t, wd_f64, wd_bf64, a + b)
    LDOPS(F64_SUB, uint64_t, wd_f64, wd_bf64, a - b)
    LDOPS(F64_MUL, uint64_t, wd_f64, wd_bf64, a * b)
    LDOPS(F64_DIV, uint64_t, wd_f64, wd_bf64, a / b)
    LDOPS(F32_ADD, uint32_t, wd_f32, wd_bf32, a + b)
    LDOPS(F32_SUB, uint32_t, wd_f32, wd_bf32, a - b)
    LDOPS(F32_MUL, uint32_t, wd_f32, wd_bf32, a * b)
    LDOPS(F32_DIV, uint32_t, wd_f32, wd_bf32, a / b)
    LDOPS(I32_ADD, uint32_t, WD_U32_, WD_U32_, a + b)
    LDOPS(I32_SUB, uint32_t, WD_U32_, WD_U32_, a - b)
    LDOPS(I32_MUL, uint32_t, WD_U32_, WD_U32_, a * b)
    LDOPS(I32_AND, uint32_t, WD_U32_, WD_U32_, a & b)
    LDOPS(I32_OR, uint32_t, WD_U32_, WD_U32_, a | b)
    LDOPS(I32_XOR, uint32_t, WD_U32_, WD_U32_, a ^ b)
    LDOPS(I64_ADD, uint64_t, WD_ID_, WD_ID_, a + b)
    LDOPS(I64_SUB, uint64_t, WD_ID_, WD_ID_, a - b)
    LDOPS(I64_MUL, uint64_t, WD_ID_, WD_ID_, a * b)
    LDOPS(I64_AND, uint64_t, WD_ID_, WD_ID_, a & b)
    LDOPS(I64_OR, uint64_t, WD_ID_, WD_ID_, a | b)
    LDOPS(I64_XOR, uint64_t, WD_ID_, WD_ID_, a ^ b)

    UN32(I32_EQZ, a == 0)
    BIN32(I32_EQ, a == b)
    BIN32(I32_NE, a != b)
    BIN32(I32_LT_S, (int32_t)a < (int32_t)b)
    BIN32(I32_LT_U, a < b)
    BIN32(I32_GT_S, (int32_t)a > (int32_t)b)
    BIN32(I32_GT_U, a > b)
    BIN32(I32_LE_S, (int32_t)a <= (int32_t)b)
    BIN32(I32_LE_U, a <= b)
    BIN32(I32_GE_S, (int32_t)a >= (int32_t)b)
    BIN32(I32_GE_U, a >= b)
    CASE(WD_OP_I64_EQZ) { S(1) = S(2) == 0; ip += 3; NEXT(); }
    BIN64(I64_EQ, a == b)
    BIN64(I64_NE, a != b)
    BIN64(I64_LT_S, (int64_t)a < (int64_t)b)
    BIN64(I64_LT_U, a < b)
    BIN64(I64_GT_S, (int64_t)a > (int64_t)b)
    BIN64(I64_GT_U, a > b)
    BIN64(I64_LE_S, (int64_t)a <= (int64_t)b)
    BIN64(I64_LE_U, a <= b)
    BIN64(I64_GE_S, (int64_t)a >= (int64_t)b)
    BIN64(I64_GE_U, a >= b)
    CMPF32(F32_EQ, a == b)
    CMPF32(F32_NE, a != b)
    CMPF32(F32_LT, a < b)
    CMPF32(F32_GT, a > b)
    CMPF32(F32_LE, a <= b)
    CMPF32(F32_GE, a >= b)
    CMPF64(F64_EQ, a == b)
    CMPF64(F64_NE, a != b)
    CMPF64(F64_LT, a < b)
    CMPF64(F64_GT, a > b)
    CMPF64(F64_LE, a <= b)
    CMPF64(F64_GE, a >= b)

    UN32(I32_CLZ, wd_num_i32_clz(a))
    UN32(I32_CTZ, wd_num_i32_ctz(a))
    UN32(I32_POPCNT, wd_num_i32_popcnt(a))
    BIN32(I32_ADD, a + b)
    BIN32(I32_SUB, a - b)
    BIN32(I32_MUL, a * b)
    CASE(WD_OP_I32_DIV_S) { int32_t r; int k = wd_num_i32_div_s((int32_t)U32(2), (int32_t)U32(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = (uint32_t)r; ip += 4; NEXT(); }
    CASE(WD_OP_I32_DIV_U) { uint32_t r; int k = wd_num_i32_div_u(U32(2), U32(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = r; ip += 4; NEXT(); }
    CASE(WD_OP_I32_REM_S) { int32_t r; int k = wd_num_i32_rem_s((int32_t)U32(2), (int32_t)U32(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = (uint32_t)r; ip += 4; NEXT(); }
    CASE(WD_OP_I32_REM_U) { uint32_t r; int k = wd_num_i32_rem_u(U32(2), U32(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = r; ip += 4; NEXT(); }
    BIN32(I32_AND, a & b)
    BIN32(I32_OR, a | b)
    BIN32(I32_XOR, a ^ b)
    BIN32(I32_SHL, wd_num_i32_shl(a, b))
    BIN32(I32_SHR_S, wd_num_i32_shr_s(a, b))
    BIN32(I32_SHR_U, wd_num_i32_shr_u(a, b))
    BIN32(I32_ROTL, wd_num_i32_rotl(a, b))
    BIN32(I32_ROTR, wd_num_i32_rotr(a, b))
    UN64(I64_CLZ, wd_num_i64_clz(a))
    UN64(I64_CTZ, wd_num_i64_ctz(a))
    UN64(I64_POPCNT, wd_num_i64_popcnt(a))
    BIN64(I64_ADD, a + b)
    BIN64(I64_SUB, a - b)
    BIN64(I64_MUL, a * b)
    CASE(WD_OP_I64_DIV_S) { int64_t r; int k = wd_num_i64_div_s((int64_t)S(2), (int64_t)S(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = (uint64_t)r; ip += 4; NEXT(); }
    CASE(WD_OP_I64_DIV_U) { uint64_t r; int k = wd_num_i64_div_u(S(2), S(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = r; ip += 4; NEXT(); }
    CASE(WD_OP_I64_REM_S) { int64_t r; int k = wd_num_i64_rem_s((int64_t)S(2), (int64_t)S(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = (uint64_t)r; ip += 4; NEXT(); }
    CASE(WD_OP_I64_REM_U) { uint64_t r; int k = wd_num_i64_rem_u(S(2), S(3), &r);
        if (k) { TRAP((wd_wasm_trap_kind_t)k); } S(1) = r; ip += 4; NEXT(); }
    BIN64(I64_AND, a & b)
    BIN64(I64_OR, a | b)
    BIN64(I64_XOR, a ^ b)
    BIN64(I64_SHL, wd_num_i64_shl(a, b))
    BIN64(I64_SHR_S, wd_num_i64_shr_s(a, b))
    BIN64(I64_SHR_U, wd_num_i64_shr_u(a, b))
    BIN64(I64_ROTL, wd_num_i64_rotl(a, b))
    BIN64(I64_ROTR, wd_num_i64_rotr(a, b))

    CASE(WD_OP_F32_ABS) { S(1) = wd_num_f32_abs_bits(U32(2)); ip += 3; NEXT(); }
    CASE(WD_OP_F32_NEG) { S(1) = wd_num_f32_neg_bits(U32(2)); ip += 3; NEXT(); }
    UNF32(F32_CEIL, wd_num_f32_ceil(a))
    UNF32(F32_FLOOR, wd_num_f32_floor(a))
    UNF32(F32_TRUNC, wd_num_f32_trunc(a))
    UNF32(F32_NEAREST, wd_num_f32_nearest(a))
    UNF32(F32_SQRT, sqrtf(a))
    BINF32(F32_ADD, a + b)
    BINF32(F32_SUB, a - b)
    BINF32(F32_MUL, a * b)
    BINF32(F32_DIV, a / b)
    BINF32(F32_MIN, wd_num_f32_min(a, b))
    BINF32(F32_MAX, wd_num_f32_max(a, b))
    CASE(WD_OP_F32_COPYSIGN) { S(1) = wd_num_f32_copysign_bits(U32(2), U32(3)); ip += 4; NEXT(); }
    CASE(WD_OP_F64_ABS) { S(1) = wd_num_f64_abs_bits(S(2)); ip += 3; NEXT(); }
    CASE(WD_OP_F64_NEG) { S(1) = wd_num_f64_neg_bits(S(2)); ip += 3; NEXT(); }
    UNF64(F64_CEIL, wd_num_f64_ceil(a))
    UNF64(F64_FLOOR, wd_num_f64_floor(a))
    UNF64(F64_TRUNC, wd_num_f64_trunc(a))
    UNF64(F64_NEAREST, wd_num_f64_nearest(a))
    UNF64(F64_SQRT, sqrt(a))
    BINF64(F64_ADD, a + b)
    BINF64(F64_SUB, a - b)
    BINF64(F64_MUL, a * b)
    BINF64(F64_DIV, a / b)
    BINF64(F64_MIN, wd_num_f64_min(a, b))
    BINF64(F64_MAX, wd_num_f64_max(a, b))
    CASE(WD_OP_F64_COPYSIGN) { S(1) = wd_num_f64_copysign_bits(S(2), S(3)); ip += 4; NEXT(); }

    CONV(I32_WRAP_I64, (uint32_t)a)
    TRUNC(I32_TRUNC_F32_S, wd_num_i32_trunc_f32_s, wd_f32, int32_t, uint32_t)
    TRUNC(I32_TRUNC_F32_U, wd_num_i32_trunc_f32_u, wd_f32, uint32_t, uint32_t)
    TRUNC(I32_TRUNC_F64_S, wd_num_i32_trunc_f64_s, wd_f64, int32_t, uint32_t)
    TRUNC(I32_TRUNC_F64_U, wd_num_i32_trunc_f64_u, wd_f64, uint32_t, uint32_t)
    CONV(I64_EXTEND_I32_S, (uint64_t)(int64_t)(int32_t)(uint32_t)a)
    CONV(I64_EXTEND_I32_U, (uint64_t)(uint32_t)a)
    TRUNC(I64_TRUNC_F32_S, wd_num_i64_trunc_f32_s, wd_f32, int64_t, uint64_t)
    TRUNC(I64_TRUNC_F32_U, wd_num_i64_trunc_f32_u, wd_f32, uint64_t, uint64_t)
    TRUNC(I64_TRUNC_F64_S, wd_num_i64_trunc_f64_s, wd_f64, int64_t, uint64_t)
    TRUNC(I64_TRUNC_F64_U, wd_num_i64_trunc_f64_u, wd_f64, uint64_t, uint64_t)
    CONV(F32_CONVERT_I32_S, wd_bf32(wd_num_f32_convert_i32_s((int32_t)(uint32_t)a)))
    CONV(F32_CONVERT_I32_U, wd_bf32(wd_num_f32_convert_i32_u((uint32_t)a)))
    CONV(F32_CONVERT_I64_S, wd_bf32(wd_num_f32_convert_i64_s((int64_t)a)))
    CONV(F32_CONVERT_I64_U, wd_bf32(wd_num_f32_convert_i64_u(a)))
    CONV(F32_DEMOTE_F64, wd_bf32(wd_num_f32_demote_f64(wd_f64(a))))
    CONV(F64_CONVERT_I32_S, wd_bf64(wd_num_f64_convert_i32_s((int32_t)(uint32_t)a)))
    CONV(F64_CONVERT_I32_U, wd_bf64(wd_num_f64_convert_i32_u((uint32_t)a)))
    CONV(F64_CONVERT_I64_S, wd_bf64(wd_num_f64_convert_i64_s((int64_t)a)))
    CONV(F64_CONVERT_I64_U, wd_bf64(wd_num_f64_convert_i64_u(a)))
    CONV(F64_PROMOTE_F32, wd_bf64(wd_num_f64_promote_f32(wd_f32(a))))
    CONV(I32_REINTERPRET_F32, (uint32_t)a)
    CONV(I64_REINTERPRET_F64, a)
    CONV(F32_REINTERPRET_I32, (uint32_t)a)
    CONV(F64_REINTERPRET_I64, a)
    CONV(I32_EXTEND8_S, wd_num_i32_extend8_s((uint32_t)a))
    CONV(I32_EXTEND16_S, wd_num_i32_extend16_s((uint32_t)a))
    CONV(I64_EXTEND8_S, wd_num_i64_extend8_s(a))
    CONV(I64_EXTEND16_S, wd_num_i64_extend16_s(a))
    CONV(I64_EXTEND32_S, wd_num_i64_extend32_s(a))

    CONV(I32_TRUNC_SAT_F32_S, (uint32_t)wd_num_i32_trunc_sat_f32_s(wd_f32(a)))
    CONV(I32_TRUNC_SAT_F32_U, (uint32_t)wd_num_i32_trunc_sat_f32_u(wd_f32(a)))
    CONV(I32_TRUNC_SAT_F64_S, (uint32_t)wd_num_i32_trunc_sat_f64_s(wd_f64(a)))
    CONV(I32_TRUNC_SAT_F64_U, (uint32_t)wd_num_i32_trunc_sat_f64_u(wd_f64(a)))
    CONV(I64_TRUNC_SAT_F32_S, (uint64_t)wd_num_i64_trunc_sat_f32_s(wd_f32(a)))
    CONV(I64_TRUNC_SAT_F32_U, (uint64_t)wd_num_i64_trunc_sat_f32_u(wd_f32(a)))
    CONV(I64_TRUNC_SAT_F64_S, (uint64_t)wd_num_i64_trunc_sat_f64_s(wd_f64(a)))
    CONV(I64_TRUNC_SAT_F64_U, (uint64_t)wd_num_i64_trunc_sat_f64_u(wd_f64(a)))

    /* bulk memory: [op d s n imm...] */
    CASE(WD_OP_MEMORY_INIT) {
        uint64_t d = U32(1), s = U32(2), n = U32(3);
        uint32_t seg = ip[4];
        uint64_t slen = inst->data_len[seg];
        if (s + n > slen || d + n > mem_size) TRAP(WD_TRAP_OOB_MEMORY);
        if (n) {
            wd_wasm_memory_mark(inst->mem, d, n);
            memcpy(mem_base + d, inst->module->bytes + inst->module->datas[seg].bytes.off + s, n);
        }
        ip += 5;
        NEXT();
    }
    CASE(WD_OP_DATA_DROP) { inst->data_len[ip[1]] = 0; ip += 2; NEXT(); }
    CASE(WD_OP_MEMORY_COPY) {
        uint64_t d = U32(1), s = U32(2), n = U32(3);
        if (s + n > mem_size || d + n > mem_size) TRAP(WD_TRAP_OOB_MEMORY);
#if WD_WASM_PROFILE
        wd_prof_copy[0] += n; wd_prof_copy[1]++;
#endif
        if (n) {
            wd_wasm_memory_mark(inst->mem, d, n);
            memmove(mem_base + d, mem_base + s, n);
        }
        ip += 4;
        NEXT();
    }
    CASE(WD_OP_MEMORY_FILL) {
        uint64_t d = U32(1), n = U32(3);
        if (d + n > mem_size) TRAP(WD_TRAP_OOB_MEMORY);
#if WD_WASM_PROFILE
        wd_prof_fill[0] += n; wd_prof_fill[1]++;
#endif
        if (n) {
            wd_wasm_memory_mark(inst->mem, d, n);
            memset(mem_base + d, (int)(uint8_t)U32(2), n);
        }
        ip += 4;
        NEXT();
    }
    CASE(WD_OP_TABLE_INIT) {
        uint64_t d = U32(1), s = U32(2), n = U32(3);
        uint32_t seg = ip[4];
        wd_wasm_table_t *t = inst->tables[ip[5]];
        if (s + n > inst->elem_len[seg] || d + n > t->size) TRAP(WD_TRAP_OOB_TABLE);
        if (n) memcpy(t->elems + d, inst->elem_items[seg] + s, n * sizeof(uint64_t));
        ip += 6;
        NEXT();
    }
    CASE(WD_OP_ELEM_DROP) { inst->elem_len[ip[1]] = 0; ip += 2; NEXT(); }
    CASE(WD_OP_TABLE_COPY) {
        uint64_t d = U32(1), s = U32(2), n = U32(3);
        wd_wasm_table_t *td = inst->tables[ip[4]], *ts = inst->tables[ip[5]];
        if (s + n > ts->size || d + n > td->size) TRAP(WD_TRAP_OOB_TABLE);
        if (n) memmove(td->elems + d, ts->elems + s, n * sizeof(uint64_t));
        ip += 6;
        NEXT();
    }
    CASE(WD_OP_TABLE_SIZE) { S(1) = inst->tables[ip[2]]->size; ip += 3; NEXT(); }

    /* ---- fixed-width SIMD (v128 in two slots) ---- */
#include "wd_wasm_simd_ops.h"

#if WD_WASM_SWITCH_DISPATCH
    default: goto bad;
    }
#endif

#if !WD_WASM_SWITCH_DISPATCH
    /* opcodes the translator never emits as such */
L_WD_OP_UNREACHABLE: L_WD_OP_NOP: L_WD_OP_BLOCK: L_WD_OP_LOOP: L_WD_OP_IF: L_WD_OP_ELSE:
L_WD_OP_END: L_WD_OP_BR: L_WD_OP_BR_IF: L_WD_OP_BR_TABLE: L_WD_OP_RETURN: L_WD_OP_CALL:
L_WD_OP_CALL_INDIRECT: L_WD_OP_DROP: L_WD_OP_SELECT: L_WD_OP_SELECT_T: L_WD_OP_LOCAL_GET:
L_WD_OP_LOCAL_SET: L_WD_OP_LOCAL_TEE: L_WD_OP_GLOBAL_GET: L_WD_OP_GLOBAL_SET: L_WD_OP_TABLE_GET:
L_WD_OP_TABLE_SET: L_WD_OP_I32_CONST: L_WD_OP_I64_CONST: L_WD_OP_F32_CONST: L_WD_OP_F64_CONST:
L_WD_OP_REF_NULL: L_WD_OP_REF_IS_NULL: L_WD_OP_REF_FUNC: L_WD_OP_TABLE_GROW: L_WD_OP_TABLE_FILL:
L_BAD:
#endif
    goto bad;
bad:
    TRAP(WD_TRAP_UNREACHABLE);

do_call:
    if (f->body) {
        if (__builtin_expect(depth >= max_depth || nfp + f->max_slots > stack_end, 0)) {
            ip = call_ip;
            TRAP(WD_TRAP_STACK_EXHAUSTED);
        }
        /* the callee's entry FUEL cell is charged here and skipped */
        fuel -= f->entry_fuel;
        if (__builtin_expect(fuel < 0 || thread->attn, 0)) {
            ip = call_ip;
            charged = f->entry_fuel;
            goto fuel_out;
        }
#if WD_WASM_PROFILE
        wd_wasm_fn_code(f)->prof_calls++;
        wd_prof_start[depth & 0xffff] = wd_prof_total;
        wd_prof_caller[depth & 0xffff] = wd_wasm_fn_code(cur);
#endif
        frames[depth].ret_ip = ip;
        frames[depth].fp = fp;
        frames[depth].func = cur;
        frames[depth].inst = inst;
        depth++;
        for (uint32_t k = f->nparams, nl = f->nlocals; k < nl; k++) nfp[k] = 0;
        fp = nfp;
        cur = f;
        WD_GUARD_LIVE();
        ip = f->body;
        if (f->inst != inst) { inst = f->inst; RELOAD_INST(); }
        NEXT();
    } else {
        uint32_t nres = f->nresults;
        uint64_t *res = nfp + f->nparams;
        if (res + nres + 1 > stack_end) { ip = call_ip; TRAP(WD_TRAP_STACK_EXHAUSTED); }
        thread->fuel = fuel;
        thread->depth = depth;
        uint64_t *saved_base = thread->s_direct_args;
        thread->s_direct_args = res + nres;   /* re-entrant calls start above */
        inst->host_msg[0] = 0;
#if WD_WASM_PROFILE
        wd_prof_host++;
#endif
        wd_wasm_host_rc_t rc = f->host(inst, nfp, res, f->ud);
        thread->s_direct_args = saved_base;
        fuel = thread->fuel;
        if (__builtin_expect(thread->yield_deferred, 0)) {
            /* a yield requested while the host ran Wasm: honour it from this run */
            thread->yield_deferred = 0;
            __atomic_fetch_or(&thread->attn, WD_ATTN_YIELD, __ATOMIC_RELAXED);
        }
        RELOAD_INST();
        if (rc == WD_WASM_HOST_OK) {
            memmove(nfp, res, nres * sizeof(uint64_t));
            NEXT();
        }
        if (rc == WD_WASM_HOST_SUSPEND) {
            thread->suspended = 1;
            thread->yielded = 0;
            thread->s_ip = call_ip;
            thread->s_fp = fp;
            thread->s_func = cur;
            thread->depth = depth;
            thread->fuel = fuel;
            return WD_WASM_SUSPENDED;
        }
        memcpy(thread->host_msg, inst->host_msg, sizeof(thread->host_msg));
        if (inst->host_exited) {
            thread->host_exited = 1;
            thread->exit_code = inst->exit_code;
            trap_kind = WD_TRAP_EXIT;
        } else {
            if (!thread->host_msg[0]) snprintf(thread->host_msg, sizeof(thread->host_msg), "host trap");
            trap_kind = WD_TRAP_HOST;
        }
        wd_wasm_trap_set(thread, trap_kind, f);
        goto unwind;
    }

fuel_out:
    /* fuel ran out or an attention bit is set (ip still at the charging instruction,
     * whose charge `charged` is already taken from fuel). An interrupt wins over a
     * yield, a yield over fuel exhaustion (the resumed charge then runs out again). */
    {
        int attn = __atomic_load_n(&thread->attn, __ATOMIC_RELAXED);
        if (attn & WD_ATTN_INTERRUPT) TRAP(WD_TRAP_INTERRUPT);
        int slice_end = fuel < 0 && thread->fuel_reserve > 0;
        if ((attn & WD_ATTN_YIELD) || slice_end) {
            if (attn & WD_ATTN_YIELD)
                __atomic_fetch_and(&thread->attn, ~WD_ATTN_YIELD, __ATOMIC_RELAXED);
            if (slice_end) {          /* wd_wasm_set_slice: the rest of the fuel is back */
                fuel += thread->fuel_reserve;
                thread->fuel_reserve = 0;
            }
            fuel += charged;          /* re-executing the charging cell charges it again */
            if (thread->s_direct_args != NULL) {
                /* nested run (a host function called Wasm): its caller cannot take a
                 * suspension, so the outer run honours the request when the host returns */
                thread->yield_deferred = 1;
                NEXT();
            }
            thread->suspended = 1;
            thread->yielded = 1;
            thread->s_ip = ip;
            thread->s_fp = fp;
            thread->s_func = cur;
            thread->depth = depth;
            thread->fuel = fuel;
            return WD_WASM_SUSPENDED;
        }
    }
    if (thread->fuel_limited) { fuel = 0; TRAP(WD_TRAP_FUEL); }
    fuel = INT64_MAX;    /* unlimited: 2^63 units were spent, start over */
    NEXT();

do_trap:
    wd_wasm_trap_set(thread, trap_kind, cur);
    if (trap_kind == WD_TRAP_UNINIT_ELEMENT)   /* the reference interpreter names the index */
        snprintf(thread->trap.msg, sizeof(thread->trap.msg), "uninitialized element %u", trap_aux);
unwind:
    /* pop frames up to and including this run's entry sentinel */
    while (depth > 0) {
        depth--;
        if (frames[depth].func == NULL) break;
    }
    thread->depth = depth;
    thread->fuel = fuel;
    return WD_WASM_TRAP;
}

#pragma GCC diagnostic pop

#if WD_WASM_GUARD_PAGES
/* Run with an escape point for memory faults: a fault in the running memory's
 * reservation comes back here as the "out of bounds memory access" trap. */
wd_wasm_status_t wd_wasm_interp_run(wd_wasm_instance_t *thread, const uint32_t *ip, uint64_t *fp,
                                    wd_wasm_func_t *cur)
{
    sigjmp_buf env;
    sigjmp_buf *volatile prev_jmp = wd_guard_jmp;
    wd_wasm_memory_t *volatile prev_mem = wd_guard_mem;
    if (sigsetjmp(env, 0)) {
        wd_guard_jmp = prev_jmp;
        wd_guard_mem = prev_mem;
        wd_wasm_trap_set(thread, WD_TRAP_OOB_MEMORY, thread->live_func);
        uint32_t depth = thread->live_depth;
        while (depth > 0) {
            depth--;
            if (thread->frames[depth].func == NULL) break;
        }
        thread->depth = depth;
        return WD_WASM_TRAP;
    }
    wd_guard_jmp = &env;
    wd_wasm_status_t st = wd_wasm_interp_loop(thread, ip, fp, cur);
    wd_guard_jmp = prev_jmp;
    wd_guard_mem = prev_mem;
    return st;
}
#else
wd_wasm_status_t wd_wasm_interp_run(wd_wasm_instance_t *thread, const uint32_t *ip, uint64_t *fp,
                                    wd_wasm_func_t *cur)
{
    return wd_wasm_interp_loop(thread, ip, fp, cur);
}
#endif

#if WD_WASM_PROFILE
#include "wd_wasm_int.h"
/* One line per function of inst's module that ran ("F index self calls inclusive"), per
 * edge into one of them ("E caller-index callee-index calls inclusive"; the caller may be
 * another module's), after a "T" line of process-wide totals; then resets the module's
 * counters. bench/component/profile.py names and sorts them. */
void wd_wasm_profile_dump(const wd_wasm_instance_t *inst, FILE *out)
{
    const wd_wasm_module_t *m = inst->module;
    uint32_t n = m->nfuncs - m->nfuncs_imported;
    fprintf(out, "T dispatches %llu fill %llu bytes %llu copy %llu bytes %llu host-calls %llu\n",
            (unsigned long long)wd_prof_total, (unsigned long long)wd_prof_fill[1],
            (unsigned long long)wd_prof_fill[0], (unsigned long long)wd_prof_copy[1],
            (unsigned long long)wd_prof_copy[0], (unsigned long long)wd_prof_host);
    for (uint32_t i = 0; i < n; i++) {
        const wd_wasm_code_t *c = m->funcs[i].code;
        if (c->prof_calls || c->prof_ops)
            fprintf(out, "F %u %llu %llu %llu\n", c->func_index, (unsigned long long)c->prof_ops,
                    (unsigned long long)c->prof_calls, (unsigned long long)c->prof_incl);
    }
    for (uint32_t i = 0; i < WD_PROF_EDGES; i++) {
        const wd_wasm_code_t *to = wd_prof_edges[i].to;
        if (to == NULL || to->func_index < m->nfuncs_imported || to->func_index >= m->nfuncs ||
            m->funcs[to->func_index - m->nfuncs_imported].code != to)
            continue;
        fprintf(out, "E %u %u %llu %llu\n", wd_prof_edges[i].from->func_index, to->func_index,
                (unsigned long long)wd_prof_edges[i].n, (unsigned long long)wd_prof_edges[i].incl);
        wd_prof_edges[i].n = wd_prof_edges[i].incl = 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        wd_wasm_code_t *c = m->funcs[i].code;
        c->prof_ops = c->prof_calls = c->prof_incl = 0;
    }
}
#endif
