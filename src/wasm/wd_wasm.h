/*
 * wd_wasm.h -- the one public header of wasmd's WebAssembly engine.
 *
 * The engine depends on libc only. Its pipeline is: load (decode + validate +
 * translate, once; the resulting module is immutable and may be shared by any
 * number of instances, including across fork()), instantiate (link imports,
 * allocate memory/tables/globals, run data/elem init and the start function),
 * then call exports. Wasm-to-Wasm calls never recurse in C: frames live on the
 * instance's own stack, so a host function may return WD_WASM_HOST_SUSPEND and
 * the embedder later continues the same call with wd_wasm_resume().
 *
 * Objects (functions, tables, memories, globals) belong to a store. Instances
 * created in one store may import each other's exports (the spec tests need
 * this). Freeing the store frees everything created in it. The server gives
 * each pooled instance a store of its own.
 *
 * Values cross this API as wd_wasm_val_t: a type tag plus raw bits. Floats are
 * carried as their bit patterns so NaN payloads survive.
 *
 * Contract conventions: functions returning a pointer return NULL on failure
 * and fill *err when err is not NULL; functions returning int return 0 on
 * success and -1 on failure.
 */
#ifndef WD_WASM_H
#define WD_WASM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wd_wasm_module   wd_wasm_module_t;
typedef struct wd_wasm_store    wd_wasm_store_t;
typedef struct wd_wasm_instance wd_wasm_instance_t;
typedef struct wd_wasm_func     wd_wasm_func_t;
typedef struct wd_wasm_table    wd_wasm_table_t;
typedef struct wd_wasm_memory   wd_wasm_memory_t;
typedef struct wd_wasm_global   wd_wasm_global_t;

typedef enum {
    WD_WASM_I32 = 0x7f,
    WD_WASM_I64 = 0x7e,
    WD_WASM_F32 = 0x7d,
    WD_WASM_F64 = 0x7c,
    WD_WASM_V128 = 0x7b,
    WD_WASM_FUNCREF = 0x70,
    WD_WASM_EXTERNREF = 0x6f
} wd_wasm_valtype_t;

typedef struct {
    uint8_t type;                 /* wd_wasm_valtype_t */
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;             /* bit pattern */
        uint64_t f64;             /* bit pattern */
        wd_wasm_func_t *func;     /* funcref; NULL is ref.null func */
        uintptr_t extern_ref;     /* externref; 0 is ref.null extern, host values are opaque */
        uint8_t v128[16];         /* v128: the 16 bytes in memory order (lane 0 first) */
    } of;
} wd_wasm_val_t;

/* Load/link/instantiate errors: message, byte offset in the module (or -1),
 * function index (or -1). Messages follow the spec testsuite's wording where one exists. */
typedef struct {
    char msg[256];
    int64_t offset;
    int64_t func_index;
} wd_wasm_error_t;

/* ---- allocation (one interface, so tests can fail the Nth allocation) ---- */
typedef struct {
    void *(*malloc_fn)(size_t size, void *ud);
    void *(*realloc_fn)(void *p, size_t size, void *ud);
    void (*free_fn)(void *p, void *ud);
    void *ud;
} wd_wasm_allocator_t;
/* Replace the engine's allocator (process-wide; call before any other engine call). NULL restores libc. */
void wd_wasm_set_allocator(const wd_wasm_allocator_t *a);
/* Allocate through it: the engine does, and so do host functions (src/host) for
 * per-request state, so a test failing the Nth allocation covers requests too. */
void *wd_wasm_malloc(size_t n);
void *wd_wasm_calloc(size_t n, size_t size);   /* overflow-checked, zeroed */
void *wd_wasm_realloc(void *p, size_t n);
void wd_wasm_free(void *p);
char *wd_wasm_strdup(const char *s);

/* ---- modules ---- */
typedef struct {
    uint32_t max_locals;          /* per function; 0 = default 50000 */
    uint32_t max_br_table;        /* labels in one br_table; 0 = default 1000000 */
    size_t max_module_size;       /* bytes; 0 = default 256 MiB */
    uint32_t threads;             /* validate+translate threads for big modules; 0 = one per
                                     CPU (at most 8), 1 = none */
    uint32_t engine;              /* WD_WASM_ENGINE_*: 0 = the environment's WD_WASM_ENGINE
                                     (jit, interp, mixed:SEED), interpreter if unset */
} wd_wasm_load_opts_t;
#define WD_WASM_ENGINE_DEFAULT 0
#define WD_WASM_ENGINE_INTERP  1
#define WD_WASM_ENGINE_JIT     2  /* the baseline x86-64 compiler (interpreter elsewhere) */
/* Functions of m that run compiled (0: all interpreted). */
uint32_t wd_wasm_module_jit_count(const wd_wasm_module_t *m);
/* From now on no module is compiled (they run interpreted): the worker sandbox calls
 * this before its seccomp filter forbids executable mappings. */
void wd_wasm_jit_seal(void);

/* Decode, validate and translate. The bytes are not referenced after return. */
wd_wasm_module_t *wd_wasm_module_load(const uint8_t *bytes, size_t len,
                                      const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
void wd_wasm_module_free(wd_wasm_module_t *m);

typedef enum {
    WD_WASM_EXTERN_FUNC = 0,
    WD_WASM_EXTERN_TABLE = 1,
    WD_WASM_EXTERN_MEMORY = 2,
    WD_WASM_EXTERN_GLOBAL = 3
} wd_wasm_extern_kind_t;

/* A function type: params then results. */
typedef struct {
    uint32_t nparams, nresults;
    const uint8_t *params;        /* wd_wasm_valtype_t values */
    const uint8_t *results;
} wd_wasm_functype_t;

typedef struct {
    const char *module;           /* NUL-terminated copies owned by the module */
    const char *name;
    uint32_t module_len, name_len;/* names may contain NUL bytes; lengths are authoritative */
    wd_wasm_extern_kind_t kind;
    wd_wasm_functype_t func;      /* kind == FUNC */
    uint8_t valtype;              /* GLOBAL: value type; TABLE: element ref type */
    uint8_t mutable_;             /* GLOBAL */
    uint64_t min, max;            /* TABLE / MEMORY limits (in elements / 64 KiB pages) */
    uint8_t has_max;
} wd_wasm_import_desc_t;

typedef struct {
    const char *name;
    uint32_t name_len;
    wd_wasm_extern_kind_t kind;
    uint32_t index;               /* index in the module's space of that kind */
} wd_wasm_export_desc_t;

uint32_t wd_wasm_module_import_count(const wd_wasm_module_t *m);
const wd_wasm_import_desc_t *wd_wasm_module_import(const wd_wasm_module_t *m, uint32_t i);
uint32_t wd_wasm_module_export_count(const wd_wasm_module_t *m);
const wd_wasm_export_desc_t *wd_wasm_module_export(const wd_wasm_module_t *m, uint32_t i);
/* Returns the export named name (exact, length-checked) or NULL. */
const wd_wasm_export_desc_t *wd_wasm_module_find_export(const wd_wasm_module_t *m,
                                                        const char *name, size_t name_len);
/* The type of function funcidx (imports first, then definitions), or NULL when out of
 * range. Points into the module (lives as long as it). */
const wd_wasm_functype_t *wd_wasm_module_func_type(const wd_wasm_module_t *m, uint32_t funcidx);

/* ---- stores ---- */
wd_wasm_store_t *wd_wasm_store_new(void);
void wd_wasm_store_free(wd_wasm_store_t *s);  /* frees every object and instance in it */

/* ---- host functions ---- */
typedef enum {
    WD_WASM_HOST_OK = 0,          /* results written */
    WD_WASM_HOST_TRAP = 1,        /* trap; message set with wd_wasm_host_trap() */
    WD_WASM_HOST_SUSPEND = 2      /* cannot complete now: the call returns WD_WASM_SUSPENDED;
                                     wd_wasm_resume() calls this host function again with the
                                     same arguments (so it must not have produced guest-visible
                                     effects before suspending, or must track its own progress) */
} wd_wasm_host_rc_t;

/* A host function receives the calling instance (whose memory it may access),
 * its arguments and room for its results, as raw 64-bit slots: i32 in the low
 * 32 bits, f32/f64 as bit patterns, funcref as (uintptr_t)wd_wasm_func_t*,
 * externref as the uintptr_t value. Host functions cannot take or return v128:
 * wd_wasm_func_new_host refuses such a type (NULL), so a module importing one
 * fails to link with a type mismatch. */
typedef wd_wasm_host_rc_t (*wd_wasm_host_fn)(wd_wasm_instance_t *caller, const uint64_t *args,
                                             uint64_t *results, void *ud);

wd_wasm_func_t *wd_wasm_func_new_host(wd_wasm_store_t *s, const wd_wasm_functype_t *type,
                                      wd_wasm_host_fn fn, void *ud);
/* Set the trap message for a host function that returns WD_WASM_HOST_TRAP (copied). */
void wd_wasm_host_trap(wd_wasm_instance_t *caller, const char *msg);
const wd_wasm_functype_t *wd_wasm_func_type(const wd_wasm_func_t *f);

/* Standalone objects (for host-provided imports such as the spectest module). */
wd_wasm_global_t *wd_wasm_global_new(wd_wasm_store_t *s, wd_wasm_val_t init, int mutable_);
wd_wasm_val_t wd_wasm_global_get(const wd_wasm_global_t *g);
int wd_wasm_global_set(wd_wasm_global_t *g, wd_wasm_val_t v);
wd_wasm_table_t *wd_wasm_table_new(wd_wasm_store_t *s, uint8_t reftype, uint32_t min,
                                   uint32_t max, int has_max);
wd_wasm_memory_t *wd_wasm_memory_new(wd_wasm_store_t *s, uint32_t min_pages, uint32_t max_pages,
                                     int has_max);

typedef struct {
    wd_wasm_extern_kind_t kind;
    union {
        wd_wasm_func_t *func;
        wd_wasm_table_t *table;
        wd_wasm_memory_t *memory;
        wd_wasm_global_t *global;
    } of;
} wd_wasm_extern_t;

/* ---- instances ---- */
typedef struct {
    uint64_t max_memory_bytes;    /* memory.grow past this returns -1; an initial size past it
                                     fails instantiation. 0 = 4 GiB */
    uint32_t max_call_depth;      /* nested calls before "call stack exhausted"; 0 = 10000+ default */
    size_t max_stack_bytes;       /* operand+frame stack; 0 = default (sized for max_call_depth) */
    uint64_t fuel;                /* 0 = unlimited; else the budget for instantiation (start fn) */
} wd_wasm_limits_t;

/* imports[i] satisfies wd_wasm_module_import(m, i); kinds and types are checked
 * ("incompatible import type", "unknown import"). On a trap in the start
 * function or an out-of-bounds segment, returns NULL with err filled. */
wd_wasm_instance_t *wd_wasm_instantiate(wd_wasm_store_t *s, const wd_wasm_module_t *m,
                                        const wd_wasm_extern_t *imports, uint32_t nimports,
                                        const wd_wasm_limits_t *limits, wd_wasm_error_t *err);
const wd_wasm_module_t *wd_wasm_instance_module(const wd_wasm_instance_t *inst);

/* Exports of an instance. Returns 0 and fills *out, or -1 if there is no such export. */
int wd_wasm_instance_export(wd_wasm_instance_t *inst, const char *name, size_t name_len,
                            wd_wasm_extern_t *out);

/* Embedder data attached to an instance (host functions get it back from caller). */
void wd_wasm_instance_set_user(wd_wasm_instance_t *inst, void *user);
void *wd_wasm_instance_user(const wd_wasm_instance_t *inst);

/* ---- execution ---- */
typedef enum {
    WD_WASM_OK = 0,
    WD_WASM_TRAP = 1,
    WD_WASM_SUSPENDED = 2
} wd_wasm_status_t;

typedef enum {
    WD_TRAP_NONE = 0,
    WD_TRAP_UNREACHABLE,          /* "unreachable" */
    WD_TRAP_DIV_ZERO,             /* "integer divide by zero" */
    WD_TRAP_INT_OVERFLOW,         /* "integer overflow" */
    WD_TRAP_INVALID_CONVERSION,   /* "invalid conversion to integer" */
    WD_TRAP_OOB_MEMORY,           /* "out of bounds memory access" */
    WD_TRAP_OOB_TABLE,            /* "out of bounds table access" */
    WD_TRAP_INDIRECT_TYPE,        /* "indirect call type mismatch" */
    WD_TRAP_UNINIT_ELEMENT,       /* "uninitialized element" */
    WD_TRAP_UNDEFINED_ELEMENT,    /* "undefined element" */
    WD_TRAP_STACK_EXHAUSTED,      /* "call stack exhausted" */
    WD_TRAP_FUEL,                 /* "fuel exhausted" */
    WD_TRAP_MEMORY_LIMIT,         /* "memory limit exceeded" */
    WD_TRAP_INTERRUPT,            /* "deadline exceeded" (interrupt flag set) */
    WD_TRAP_HOST,                 /* message from wd_wasm_host_trap() */
    WD_TRAP_EXIT                  /* WASI proc_exit: not an error; see wd_wasm_exit_code() */
} wd_wasm_trap_kind_t;

const char *wd_wasm_trap_kind_message(wd_wasm_trap_kind_t k);

typedef struct {
    wd_wasm_trap_kind_t kind;
    char msg[256];                /* the spec wording, or the host's message */
    int64_t func_index;           /* function executing when it trapped, or -1 */
} wd_wasm_trap_t;

/* Call f (an export of inst, or any function of inst's store) with nargs args.
 * On WD_WASM_OK, results[0..nresults) are filled (with types). On WD_WASM_TRAP,
 * wd_wasm_last_trap() says why and the instance is ready for another call.
 * On WD_WASM_SUSPENDED, a host function suspended: the instance may not be
 * called again until wd_wasm_resume() returns OK or TRAP (or wd_wasm_abort()). */
wd_wasm_status_t wd_wasm_call(wd_wasm_instance_t *inst, wd_wasm_func_t *f,
                              const wd_wasm_val_t *args, uint32_t nargs,
                              wd_wasm_val_t *results, uint32_t nresults);
wd_wasm_status_t wd_wasm_resume(wd_wasm_instance_t *inst, wd_wasm_val_t *results,
                                uint32_t nresults);
/* Abandon a suspended (or yielded) call (unwinds the instance's stack). */
void wd_wasm_abort(wd_wasm_instance_t *inst);
const wd_wasm_trap_t *wd_wasm_last_trap(const wd_wasm_instance_t *inst);

/* Host functions may end execution with an exit code (WASI proc_exit): returns
 * WD_WASM_HOST_TRAP after recording the code; the call then returns WD_WASM_TRAP
 * with kind WD_TRAP_EXIT. */
wd_wasm_host_rc_t wd_wasm_host_exit(wd_wasm_instance_t *caller, int code);
int wd_wasm_exit_code(const wd_wasm_instance_t *inst);

/* ---- metering ---- */
/* Fuel is charged per basic block (block/loop heads, back-edges, calls). 0 = unlimited. */
void wd_wasm_set_fuel(wd_wasm_instance_t *inst, uint64_t fuel);
uint64_t wd_wasm_fuel_left(const wd_wasm_instance_t *inst);
uint64_t wd_wasm_fuel_used(const wd_wasm_instance_t *inst);  /* since the last set_fuel */
/* Async-signal-safe and thread-safe: makes the running (or next) call trap with
 * WD_TRAP_INTERRUPT at its next fuel check point. Cleared by wd_wasm_set_fuel/restore. */
void wd_wasm_interrupt(wd_wasm_instance_t *inst);
void wd_wasm_clear_interrupt(wd_wasm_instance_t *inst);

/* ---- cooperative yield ---- */
#define WD_WASM_HAS_YIELD 1
/* Async-signal-safe and thread-safe: the running (or next) call returns
 * WD_WASM_SUSPENDED at its next fuel check point (block/loop head, taken
 * back-edge, call entry) instead of continuing, with wd_wasm_yielded() true;
 * wd_wasm_resume() continues exactly there (fuel accounting unchanged: the
 * check point's charge is taken once). An interrupt set as well wins (trap).
 * Inside a Wasm call made by a host function (nested wd_wasm_call) the request
 * waits until that host function returns to the outer run. Cleared when
 * honoured and by wd_wasm_set_fuel/restore; wd_wasm_abort/restore discard a
 * yielded call like a host-suspended one. */
void wd_wasm_request_yield(wd_wasm_instance_t *inst);
/* A yield after `slice` more units of fuel (counted like fuel, at the same check points):
 * the call pauses exactly as on wd_wasm_request_yield once the slice is used up, and its
 * remaining fuel is whole again. One-shot; 0, wd_wasm_set_fuel and restore cancel it. A
 * slice larger than the fuel left does nothing (fuel runs out first). */
void wd_wasm_set_slice(wd_wasm_instance_t *inst, uint64_t slice);
/* 1 if the instance's pending WD_WASM_SUSPENDED call was paused by a yield
 * request (no host function to re-invoke), else 0. */
int wd_wasm_yielded(const wd_wasm_instance_t *inst);

/* ---- memory access for host functions ---- */
/* The instance's memory 0 (NULL if none). Base pointer and size may change after
 * any call into Wasm (memory.grow): re-read them after every call. */
wd_wasm_memory_t *wd_wasm_instance_memory(wd_wasm_instance_t *inst);
uint8_t *wd_wasm_memory_data(wd_wasm_memory_t *mem);
uint64_t wd_wasm_memory_size(const wd_wasm_memory_t *mem);     /* bytes */
/* Returns a pointer to [off, off+len) if it lies entirely inside memory
 * (64-bit arithmetic; no wrap), else NULL. The range counts as written (the
 * next restore copies it back): host functions write guest memory only
 * through this. */
uint8_t *wd_wasm_memory_ptr(wd_wasm_memory_t *mem, uint64_t off, uint64_t len);
/* The same check for a range the caller only reads: nothing is marked, so
 * reading a guest's strings and buffers costs its restore nothing. Never
 * write through it (cast away const and the write survives restore). */
const uint8_t *wd_wasm_memory_cptr(const wd_wasm_memory_t *mem, uint64_t off, uint64_t len);
/* Grow by delta pages honouring limits; returns old size in pages or -1. */
int64_t wd_wasm_memory_grow(wd_wasm_memory_t *mem, uint32_t delta_pages);

/* Table access for the embedder/spec runner. */
uint32_t wd_wasm_table_size(const wd_wasm_table_t *t);
int wd_wasm_table_get(const wd_wasm_table_t *t, uint32_t i, wd_wasm_val_t *out);
int wd_wasm_table_set(wd_wasm_table_t *t, uint32_t i, wd_wasm_val_t v);

/* ---- snapshot / restore ---- */
/* Record the instance's current state (memory bytes and size, globals, tables,
 * dropped segments) as its pristine state. wd_wasm_restore() returns to it at a
 * cost that scales with the memory pages written since, not the memory size. */
int wd_wasm_snapshot(wd_wasm_instance_t *inst);
int wd_wasm_restore(wd_wasm_instance_t *inst);
/* Restores keep the pages they copy back populated (no fault next time): up to
 * 48 private 4 KiB copies per instance (WD_WASM_KEPT_MAX). For an instance that
 * went idle: drop them (one madvise), so it costs the shared image again; the
 * call stack pages a call left populated go too (one more madvise, once per
 * instance that ran a call since). Only on a restored instance; returns the bytes
 * of memory released (0: nothing kept). */
size_t wd_wasm_trim(wd_wasm_instance_t *inst);

/* Build facts, for diagnostics and benchmarks: "computed-goto" or "switch", bounds strategy,
 * and the instruction sets the v128 code was compiled for ("simd sse4.1+ssse3+sse2",
 * "simd sse2", "simd portable", ...). */
const char *wd_wasm_build_info(void);

#if WD_WASM_PROFILE
#include <stdio.h>
/* make PROFILE=1 only (objs/prof): per-function dispatch, call and edge counts of the
 * instance's module since the last dump, as text (see wd_wasm_interp.c); resets them. */
void wd_wasm_profile_dump(const wd_wasm_instance_t *inst, FILE *out);
#endif

#ifdef __cplusplus
}
#endif
#endif /* WD_WASM_H */
