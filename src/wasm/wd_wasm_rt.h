/*
 * wd_wasm_rt.h -- runtime objects shared by the translator, the interpreter
 * and the runtime (store, instances, memories, tables, globals, functions).
 *
 * Translated code ("xcode") is an array of 32-bit cells: an internal opcode
 * followed by its operands. Operands are frame slot indices: a frame is an
 * array of 64-bit slots whose first slots are the function's parameters and
 * locals and whose following slots hold the operand stack at the heights the
 * translator computed statically (a v128 value takes two adjacent slots,
 * low half first; code's nparams/nresults/nlocals count slots). Branch targets are cell offsets relative to
 * the cell that holds them. Internal opcodes 0..WD_OP_LIMIT_-1 are the Wasm
 * opcodes themselves (same operand layout for every plain numeric op: dst
 * then sources then immediates); WD_XOP_* below are the engine's own.
 */
#ifndef WD_WASM_RT_H
#define WD_WASM_RT_H

#include <signal.h>
#include "wd_wasm_int.h"
#include "wd_wasm_opcodes.h"

/* Linear memory bounds strategy (compile time):
 *   0: explicit checks (address + offset + width <= size, in 64 bits);
 *   1: guard pages: every memory reserves 8 GiB + 64 KiB of address space, only
 *      [0, size) is accessible, so any 32-bit address + 32-bit offset lands in
 *      the reservation and an access past size faults; the SIGSEGV/SIGBUS
 *      handler turns a fault inside the running memory's reservation into the
 *      trap (other faults crash as usual). */
#ifndef WD_WASM_GUARD_PAGES
#define WD_WASM_GUARD_PAGES 0
#endif
#define WD_WASM_GUARD_RESERVE (((size_t)8 << 30) + 65536)

/* Engine-only instructions (numbered after the Wasm opcodes). */
#define WD_WASM_XOPS(X) \
    X(MOV)            /* dst src */ \
    X(CONST32)        /* dst imm32 */ \
    X(CONST64)        /* dst lo hi */ \
    X(BR)             /* rel */ \
    X(BR_IF)          /* cond rel */ \
    X(BR_UNLESS)      /* cond rel */ \
    X(BR_TABLE)       /* idx n rel*(n+1) */ \
    X(CALL)           /* funcidx argbase */ \
    X(CALL_INDIRECT)  /* typeidx tableidx argbase idxslot */ \
    X(RETURN)         /* (results already moved to slots 0..n) */ \
    X(FUEL)           /* n */ \
    X(TRAP_UNREACHABLE) \
    X(SELECT)         /* dst a b cond */ \
    X(GLOBAL_GET)     /* dst idx */ \
    X(GLOBAL_SET)     /* src idx */ \
    X(TABLE_GET)      /* dst idx table */ \
    X(TABLE_SET)      /* idx val table */ \
    X(TABLE_GROW)     /* dst init n table */ \
    X(TABLE_FILL)     /* i val n table */ \
    X(REF_FUNC)       /* dst funcidx */ \
    X(REF_IS_NULL)    /* dst a */ \
    X(I32_ADD_IMM)    /* dst a imm */ \
    X(I32_SUB_IMM) \
    X(I32_AND_IMM) \
    X(I32_OR_IMM) \
    X(I32_XOR_IMM) \
    X(I32_SHL_IMM) \
    X(I32_SHR_U_IMM) \
    X(I32_SHR_S_IMM) \
    X(I32_MUL_IMM) \
    X(I32_EQ_IMM) \
    X(I32_NE_IMM) \
    X(I32_LT_S_IMM) \
    X(I32_LT_U_IMM) \
    X(I32_GT_S_IMM) \
    X(I32_GT_U_IMM) \
    X(I32_LE_S_IMM) \
    X(I32_LE_U_IMM) \
    X(I32_GE_S_IMM) \
    X(I32_GE_U_IMM) \
    X(I64_ADD_IMM)    /* i64 forms: imm is a sign-extended 32-bit constant */ \
    X(I64_MUL_IMM) \
    X(I64_AND_IMM) \
    X(I64_OR_IMM) \
    X(I64_XOR_IMM) \
    X(I64_SHL_IMM) \
    X(I64_SHR_U_IMM) \
    X(I64_SHR_S_IMM) \
    X(I64_ADD_K64)    /* dst a lo hi: a full 64-bit constant operand */ \
    X(I64_MUL_K64) \
    X(I64_AND_K64) \
    X(I64_OR_K64) \
    X(I64_XOR_K64) \
    X(BR_IF_EQZ)      /* a rel   (i32.eqz + br_if) */ \
    X(BR_IF_I32_EQ)   /* a b rel  compare + br_if */ \
    X(BR_IF_I32_NE) \
    X(BR_IF_I32_LT_S) \
    X(BR_IF_I32_LT_U) \
    X(BR_IF_I32_GT_S) \
    X(BR_IF_I32_GT_U) \
    X(BR_IF_I32_LE_S) \
    X(BR_IF_I32_LE_U) \
    X(BR_IF_I32_GE_S) \
    X(BR_IF_I32_GE_U) \
    X(BR_IF_I32_EQ_IMM) /* a imm rel */ \
    X(BR_IF_I32_NE_IMM) \
    X(BR_IF_I32_LT_S_IMM) \
    X(BR_IF_I32_LT_U_IMM) \
    X(BR_IF_I32_GT_S_IMM) \
    X(BR_IF_I32_GT_U_IMM) \
    X(BR_IF_I32_LE_S_IMM) \
    X(BR_IF_I32_LE_U_IMM) \
    X(BR_IF_I32_GE_S_IMM) \
    X(BR_IF_I32_GE_U_IMM) \
    X(BR_IF_NEZ)      /* a rel  (i32.eqz + if: branch to else when a != 0) */ \
    X(BRB)            /* backward branches (to a loop) charge fuel n when taken: */ \
    X(BRB_IF)         /*   same operands as the forward form, then n */ \
    X(BRB_IF_EQZ) \
    X(BRB_IF_I32_EQ) X(BRB_IF_I32_NE) X(BRB_IF_I32_LT_S) X(BRB_IF_I32_LT_U) X(BRB_IF_I32_GT_S) \
    X(BRB_IF_I32_GT_U) X(BRB_IF_I32_LE_S) X(BRB_IF_I32_LE_U) X(BRB_IF_I32_GE_S) X(BRB_IF_I32_GE_U) \
    X(BRB_IF_I32_EQ_IMM) X(BRB_IF_I32_NE_IMM) X(BRB_IF_I32_LT_S_IMM) X(BRB_IF_I32_LT_U_IMM) \
    X(BRB_IF_I32_GT_S_IMM) X(BRB_IF_I32_GT_U_IMM) X(BRB_IF_I32_LE_S_IMM) X(BRB_IF_I32_LE_U_IMM) \
    X(BRB_IF_I32_GE_S_IMM) X(BRB_IF_I32_GE_U_IMM) \
    X(RETURN1)        /* src: fp[0] = fp[src]; return */ \
    X(MOV2)           /* dst src: a v128 (two slots) */ \
    X(CONST128)       /* dst w0 w1 w2 w3 */ \
    X(SELECT2)        /* dst a b cond: v128 operands */ \
    X(GLOBAL_GET2)    /* dst idx: a v128 global */ \
    X(GLOBAL_SET2)    /* src idx */ \
    X(JIT)            /* lo hi: enter compiled code at this address (wd_wasm_jit_x64.c) */ \
    WD_WASM_MEMOPS(WD_WASM_XOP_LOADADD_, X) \
    WD_WASM_LDOPS(WD_WASM_XOP_LD_, X) \
    WD_WASM_LDOPS(WD_WASM_XOP_LDI_, X)

/* Binary operators whose right operand comes straight from memory (the load
 * right before them is folded in): [LD_op dst a addr offset]. */
#define WD_WASM_LDOPS(Y, X) \
    Y(X, F64_ADD, F64_LOAD, 1) Y(X, F64_SUB, F64_LOAD, 0) Y(X, F64_MUL, F64_LOAD, 1) \
    Y(X, F64_DIV, F64_LOAD, 0) Y(X, F32_ADD, F32_LOAD, 1) Y(X, F32_SUB, F32_LOAD, 0) \
    Y(X, F32_MUL, F32_LOAD, 1) Y(X, F32_DIV, F32_LOAD, 0) Y(X, I32_ADD, I32_LOAD, 1) \
    Y(X, I32_SUB, I32_LOAD, 0) Y(X, I32_MUL, I32_LOAD, 1) Y(X, I32_AND, I32_LOAD, 1) \
    Y(X, I32_OR, I32_LOAD, 1) Y(X, I32_XOR, I32_LOAD, 1) Y(X, I64_ADD, I64_LOAD, 1) \
    Y(X, I64_SUB, I64_LOAD, 0) Y(X, I64_MUL, I64_LOAD, 1) Y(X, I64_AND, I64_LOAD, 1) \
    Y(X, I64_OR, I64_LOAD, 1) Y(X, I64_XOR, I64_LOAD, 1)
#define WD_WASM_XOP_LD_(X, op, ld, comm) X(LD_##op)
#define WD_WASM_XOP_LDI_(X, op, ld, comm) X(LDI_##op)   /* [LDI_op dst a base imm offset] */

/* Loads/stores whose address is an i32.add of two slots (LA: addr = a + b) or of a
 * slot and a constant (LI: addr = a + imm), computed with the same 32-bit wrap. */
#define WD_WASM_MEMOPS(Y, X) \
    Y(X, I32_LOAD) Y(X, I64_LOAD) Y(X, F32_LOAD) Y(X, F64_LOAD) Y(X, I32_LOAD8_S) \
    Y(X, I32_LOAD8_U) Y(X, I32_LOAD16_S) Y(X, I32_LOAD16_U) Y(X, I64_LOAD8_S) \
    Y(X, I64_LOAD8_U) Y(X, I64_LOAD16_S) Y(X, I64_LOAD16_U) Y(X, I64_LOAD32_S) \
    Y(X, I64_LOAD32_U) Y(X, I32_STORE) Y(X, I64_STORE) Y(X, F32_STORE) Y(X, F64_STORE) \
    Y(X, I32_STORE8) Y(X, I32_STORE16) Y(X, I64_STORE8) Y(X, I64_STORE16) Y(X, I64_STORE32)
#define WD_WASM_XOP_LOADADD_(X, op) X(LA_##op) X(LI_##op)

enum {
    WD_XOP_FIRST_ = WD_OP_LIMIT_ - 1,
#define WD_X_(n) WD_XOP_##n,
    WD_WASM_XOPS(WD_X_)
#undef WD_X_
    WD_XOP_LIMIT_
};

typedef struct wd_wasm_code {
    uint32_t *cells;
    uint32_t entry_fuel;          /* charged by calls, which enter after the entry FUEL cell */
    uint32_t ncells;
    uint32_t nparams, nresults;
    uint32_t nlocals;             /* params + declared locals */
    uint32_t max_slots;           /* frame size in slots (locals + operand stack + call scratch) */
    uint32_t func_index;
    const uint32_t *jit_cells;    /* compiled (wd_wasm_jit_x64.c): [FUEL entry_fuel][JIT body]
                                     run instead of cells; NULL: interpreted */
#if WD_WASM_PROFILE
    uint64_t prof_ops, prof_calls, prof_incl;   /* see wd_wasm_profile_dump (make PROFILE=1) */
#endif
} wd_wasm_code_t;

typedef struct wd_wasm_obj {
    struct wd_wasm_obj *next;
    void (*free_fn)(struct wd_wasm_obj *o);
} wd_wasm_obj_t;

struct wd_wasm_store {
    wd_wasm_obj_t *objs;          /* every object, newest first */
};

struct wd_wasm_func {
    /* what a call reads, together in the first 32 bytes: copies of the code's (or the
     * host type's) call-path facts, so a call loads no other object (the interpreter's
     * call path was missing the cache on f->type and the type for every host call) */
    const uint32_t *body;         /* code->cells + 2: past the entry FUEL cell; NULL: host */
    wd_wasm_instance_t *inst;     /* wasm functions: owner instance */
    uint32_t max_slots, nparams;
    union {
        uint32_t nlocals;         /* wasm functions */
        uint32_t nresults;        /* host functions */
    };
    uint32_t entry_fuel;
    uint32_t canon;               /* canonical type index in its module (wasm functions) */
    uint32_t index;               /* in its module's function index space */
    /* host functions only. A function defined by a module lives in its instance's block
     * as the WD_WASM_FUNC_DEF_SIZE (40) bytes above (12,705 functions of a componentize-js
     * handler: 80 bytes less each per pooled instance than with every field); nothing
     * reads these fields of a function with a body. Its module, type and code are its
     * instance's module's (wd_wasm_fn_type, wd_wasm_fn_code). */
    wd_wasm_host_fn host;
    void *ud;
    wd_wasm_obj_t obj;
    wd_wasm_functype_t own_type;  /* a copy of the type */
};
#define WD_WASM_FUNC_DEF_SIZE offsetof(struct wd_wasm_func, host)

struct wd_wasm_global {
    wd_wasm_obj_t obj;
    uint64_t val;
    uint64_t val_hi;              /* v128: the high 64 bits (val holds the low ones) */
    uint8_t type, mutable_;
};

struct wd_wasm_table {
    wd_wasm_obj_t obj;
    uint64_t *elems;
    uint32_t size, max;
    uint8_t has_max, reftype;
};

/* Dirty tracking for restore (wd_wasm_snapshot.c). Every write into a linear
 * memory marks the 1 KiB granules it touches in the memory's dirty map: one
 * byte per granule, kept in the reservation right below base, so the
 * interpreter reaches it at a constant displacement from its cached mem_base
 * (no extra register, nothing to reload when memory.grow moves the size, and
 * one byte load + test per store instead of a bit extraction). A store tests
 * the map after its access succeeded, so the map only ever covers memory (at
 * most 4 GiB: 4 MiB of map, in either bounds strategy); only the part covering
 * the memory's maximum is accessible.
 * The first write to a granule since the last snapshot/restore takes the slow
 * path (wd_wasm_memory_mark), which appends it to the memory's dirty list;
 * restore copies exactly those granules back from the snapshot image. A
 * granule smaller than a page keeps that copy (and the cache lines it pulls
 * in) close to what a small request really wrote: a hello handler writes ~100
 * bytes of its stack, not 4 KiB.
 * Restored pages stay populated as private copies (RSS), so those are counted
 * per 4 KiB page, in the map byte of the page's first granule: WD_WASM_KEPT
 * (a copy a restore left populated) and WD_WASM_FRESH (written by this request
 * and not KEPT yet: counted in nfresh, becomes KEPT at restore). */
#define WD_WASM_DIRTY_SHIFT 10
#define WD_WASM_DIRTY_GRANULE ((uint64_t)1 << WD_WASM_DIRTY_SHIFT)
#define WD_WASM_PAGE_GRANULES (4096u >> WD_WASM_DIRTY_SHIFT)
#define WD_WASM_DIRTY_MAP ((size_t)1 << (32 - WD_WASM_DIRTY_SHIFT))
#define WD_WASM_DIRTY 1           /* map, per granule: written since the last snapshot/restore */
#define WD_WASM_KEPT  2           /* map, per page: a private copy a copying restore left populated */
#define WD_WASM_FRESH 4           /* map, per page: written, not KEPT, counted in nfresh */
/* Restore copies at most this many granules (2 MiB: every granule of the kept
 * pages); a request that dirtied more, or that would leave more than
 * WD_WASM_KEPT_MAX private pages (2 MiB) populated across requests, makes
 * restore drop the whole memory with madvise instead. Sized for componentize-js
 * (a hello request dirties 482 granules in 205 pages): with 192 granules, each
 * such request re-faulted all its pages after a full drop, ~20 of its 46 ms.
 * The embedder trims idle instances (wd_wasm_trim), so the kept pages cost RSS
 * only while an instance is busy. */
#define WD_WASM_DIRTY_MAX 2048
#define WD_WASM_KEPT_MAX 512

struct wd_wasm_memory {
    wd_wasm_obj_t obj;
    uint8_t *base;                /* WD_WASM_DIRTY_MAP bytes below: the dirty map */
    uint64_t size;                /* bytes */
    uint32_t pages;
    uint32_t max_pages;           /* effective maximum (declared max and limit) */
    uint32_t decl_max;
    uint8_t has_max;
    size_t reserved;              /* bytes reserved at base */
    int memfd;                    /* snapshot image (not shared), or -1 */
    uint64_t snap_size;
    const uint8_t *image;         /* the memfd mapped shared read-only (snap_size bytes): restore's source */
    const void *owner;            /* the module that defined it (key of shared images), or NULL */
    struct wd_wasm_image *shared; /* the image when shared with other memories (it owns image/fd) */
    /* dirty tracking (see WD_WASM_DIRTY_MAP) */
    uint32_t ndirty;              /* entries in dirty[] */
    uint32_t nfresh;              /* pages marked WD_WASM_FRESH */
    uint32_t nkept;               /* pages marked WD_WASM_KEPT */
    uint8_t dirty_overflow;       /* more than WD_WASM_DIRTY_MAX, or an untracked writer: drop everything */
    uint32_t dirty[WD_WASM_DIRTY_MAX];
    uint64_t restores_fast, restores_full;   /* statistics (tests, benchmarks) */
};

typedef struct {
    const uint32_t *ret_ip;
    uint64_t *fp;
    wd_wasm_func_t *func;         /* the caller's function (NULL: return to the embedder) */
    wd_wasm_instance_t *inst;     /* the caller's instance (saves a dependent load on return) */
} wd_wasm_frame_t;

/* attention bits (wd_wasm_instance.attn): any bit sends the next fuel check to its slow path */
#define WD_ATTN_INTERRUPT 1       /* wd_wasm_interrupt: trap with WD_TRAP_INTERRUPT */
#define WD_ATTN_YIELD     2       /* wd_wasm_request_yield: return WD_WASM_SUSPENDED, resumable */

struct wd_wasm_instance {
    wd_wasm_obj_t obj;
    wd_wasm_store_t *store;
    const wd_wasm_module_t *module;
    wd_wasm_func_t **funcs;
    wd_wasm_table_t **tables;
    wd_wasm_memory_t *mem;
    wd_wasm_global_t **globals;
    uint64_t **elem_items;        /* per elem segment: resolved references */
    uint32_t *elem_len;           /* 0 once dropped */
    uint32_t *data_len;           /* 0 once dropped */
    void *user;

    /* execution state: this instance's stack runs every call made through it */
    uint64_t *stack, *stack_end;
    size_t stack_bytes;
    wd_wasm_frame_t *frames;
    uint32_t max_depth, depth;
    uint8_t stack_used;           /* a call ran since the last wd_wasm_trim (pages populated) */
    int64_t fuel;                 /* remaining; INT64_MAX when unlimited */
    wd_wasm_func_t *live_func;    /* guard pages: function running (for a fault's trap) */
    uint32_t live_depth;          /* guard pages: frame depth while it runs */
    uint64_t fuel_set;
    int64_t fuel_reserve;         /* held back by wd_wasm_set_slice: fuel + fuel_reserve
                                     is what is left; added back when the slice ends */
    int fuel_limited;
    volatile int attn;            /* WD_ATTN_* bits, set from any thread or signal handler
                                     (lock-free __atomic ops); checked with fuel */
    int yield_deferred;           /* a yield arrived inside a nested (host -> Wasm) run:
                                     re-raised when the host function returns */
    int yielded;                  /* the suspended call was paused by a yield request */
    uint64_t max_memory_bytes;
    wd_wasm_trap_t trap;
    int exit_code;
    char host_msg[256];
    int host_exited;

    /* suspended call */
    int suspended;
    const uint32_t *s_ip;
    uint64_t *s_fp;
    wd_wasm_func_t *s_func;       /* function executing (wasm), or the host fn called directly */
    wd_wasm_func_t *s_entry;      /* the function wd_wasm_call was called with */
    uint64_t *s_entry_base;       /* where its results appear */
    uint64_t *s_direct_args;      /* set while a host function runs: re-entrant calls start here */

    /* snapshot */
    int has_snap;
    uint64_t *snap_globals;
    uint32_t *snap_elem_len, *snap_data_len;
    uint32_t *snap_table_size;
    uint64_t **snap_table_elems;
};

/* translator: internal opcode -> cell value (identity for switch dispatch) */
void wd_wasm_interp_init(void);
extern uint32_t wd_wasm_xop_cell[WD_XOP_LIMIT_];

/* interpreter: run from the state set up in inst (frames/fp/ip); returns status */
wd_wasm_status_t wd_wasm_interp_run(wd_wasm_instance_t *thread, const uint32_t *ip, uint64_t *fp,
                                    wd_wasm_func_t *func);
int wd_wasm_trap_set(wd_wasm_instance_t *thread, wd_wasm_trap_kind_t k, wd_wasm_func_t *f);

/* memory / table helpers shared by runtime and interpreter */
int64_t wd_wasm_memory_grow_pages(wd_wasm_memory_t *mem, uint32_t delta);
int64_t wd_wasm_table_grow_n(wd_wasm_table_t *t, uint32_t n, uint64_t init);
/* Record a write to [off, off+len) (clamped to the memory) in the dirty map and list. */
void wd_wasm_memory_mark(wd_wasm_memory_t *mem, uint64_t off, uint64_t len);
/* A function's type (host functions: their copy) and a defined function's code. */
static inline const wd_wasm_functype_t *wd_wasm_fn_type(const wd_wasm_func_t *f)
{
    if (f->body == NULL) return &f->own_type;
    const wd_wasm_module_t *m = f->inst->module;
    return &m->types[m->func_types[f->index]];
}
static inline wd_wasm_code_t *wd_wasm_fn_code(const wd_wasm_func_t *f)
{
    const wd_wasm_module_t *m = f->inst->module;
    return m->funcs[f->index - m->nfuncs_imported].code;
}

/* The cells a call of this code runs: compiled code's entry, else the translated cells. */
static inline const uint32_t *wd_wasm_code_entry(const wd_wasm_code_t *c)
{
    return c->jit_cells ? c->jit_cells : c->cells;
}

/* ---- the baseline compiler (wd_wasm_jit_x64.c) ----
 * Compiles a module's translated functions to x86-64 code that runs on the
 * interpreter's frames: cells it does not compile (and every call, return and
 * slow path) are handed back to the interpreter through per-function "shadow"
 * cells ending in a JIT cell that re-enters the code. */
/* Compile m's functions when the engine selection asks for it (opts->engine, or
 * WD_WASM_ENGINE=jit|interp|mixed:SEED when opts leave it at default). 0, or -1 with
 * *err (out of memory); a function or module it cannot compile stays interpreted. */
int wd_wasm_jit_compile(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
void wd_wasm_jit_release(wd_wasm_module_t *m);
/* Enters compiled code at addr with fp as frame; returns the cell to interpret next. */
typedef const uint32_t *(*wd_wasm_jit_enter_fn)(wd_wasm_instance_t *thread, wd_wasm_instance_t *inst,
                                                 uint64_t *fp, const void *addr);
extern wd_wasm_jit_enter_fn wd_wasm_jit_enter;
/* Operand cells following an opcode cell (BR_TABLE: 2 + its label count + 1). */
int wd_wasm_xop_operands(int op, const uint32_t *cell);

/* Drop the memory's snapshot image (its own, or its reference to a shared one). */
void wd_wasm_memory_image_drop(wd_wasm_memory_t *mem);

static inline uint8_t *wd_wasm_dirty_map(const wd_wasm_memory_t *mem) { return mem->base - WD_WASM_DIRTY_MAP; }
/* The map's fast test: nonzero when both granules holding [ea, ea+w) are already dirty. */
#define WD_WASM_DIRTY_BOTH(base, ea, w) \
    (((base) - WD_WASM_DIRTY_MAP)[(ea) >> WD_WASM_DIRTY_SHIFT] & \
     ((base) - WD_WASM_DIRTY_MAP)[((ea) + (w) - 1) >> WD_WASM_DIRTY_SHIFT] & WD_WASM_DIRTY)

#endif /* WD_WASM_RT_H */
