/*
 * wd_comp.h -- the component loader: binary, validation, instantiation plan.
 *
 * A component (Binary.md: preamble 00 61 73 6d 0d 00 01 00) is read in one streaming
 * pass per (nested) component: every section is decoded, every index checked against its
 * own index space, names and types validated, every embedded core module compiled once
 * with the engine (wd_wasm_module_load), and every canon lift/lower checked against its
 * core function type by the Canonical ABI flattening rules. The root component is then
 * instantiated *symbolically* (nested components inlined, aliases resolved, names gone)
 * into an immutable plan: core instances in order with their import vectors, host
 * functions to create (canon lower of an import, resource intrinsics) bound to their
 * canonopts' memory/realloc, and the canon lift of every export. wd_comp_instantiate()
 * runs the plan in one engine store; the host supplies its functions through a resolver
 * whose interface names are matched semver-compatibly (@0.2.0 and @0.2.12 are one track).
 *
 * Uses libc and the engine's public API only; knows nothing of HTTP or the event loop.
 * Contract: functions returning a pointer return NULL on failure and fill *err.
 */
#ifndef WD_COMP_H
#define WD_COMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "wd_wasm.h"
#include "wd_comp_types.h"     /* value and function types (the Canonical ABI layer's) */

typedef struct wd_comp wd_comp_t;

typedef struct {
    char msg[256];
    int64_t offset;               /* byte offset in the component file, or -1 */
} wd_comp_error_t;

typedef struct {
    wd_wasm_load_opts_t engine;   /* passed to wd_wasm_module_load for every core module */
    uint32_t max_nesting;         /* nested components; 0 = 16 */
    uint32_t max_core_instances;  /* in the flattened plan; 0 = 1000 */
} wd_comp_load_opts_t;

/* 1 if bytes start with a component preamble (layer 1), else 0. */
int wd_comp_is_component(const uint8_t *bytes, size_t len);

/* Parse, validate, compile and plan. The bytes are not referenced after return. */
wd_comp_t *wd_comp_load(const uint8_t *bytes, size_t len, const wd_comp_load_opts_t *opts,
                        wd_comp_error_t *err);
void wd_comp_free(wd_comp_t *c);

/* ---- the plan (immutable; shared by every instance, also across fork) ---- */

typedef enum {
    WD_COMP_CD_EXPORT = 0,        /* export `name` of runtime core instance `instance` */
    WD_COMP_CD_HOST = 1           /* host function slot `slot` (made by a WD_COMP_OP_HOST op) */
} wd_comp_coredef_kind_t;

typedef struct {
    uint8_t kind;                 /* wd_comp_coredef_kind_t */
    uint8_t extern_kind;          /* wd_wasm_extern_kind_t */
    uint32_t instance;            /* CD_EXPORT */
    uint32_t slot;                /* CD_HOST */
    const char *name;             /* CD_EXPORT */
    uint32_t name_len;
} wd_comp_coredef_t;

typedef enum {
    WD_COMP_STR_UTF8 = 0,
    WD_COMP_STR_UTF16 = 1,
    WD_COMP_STR_LATIN1_UTF16 = 2
} wd_comp_string_encoding_t;

/* canonopts with memory, realloc and post-return resolved to core definitions */
typedef struct {
    uint8_t string_encoding;      /* wd_comp_string_encoding_t */
    uint8_t has_memory, has_realloc, has_post_return;
    uint8_t async, has_callback;  /* 🔀 async; (callback f) of an async lift */
    wd_comp_coredef_t memory, realloc, post_return, callback;
} wd_comp_canonopts_t;

typedef enum {
    WD_COMP_HOST_LOWER = 0,       /* canon lower of an imported function */
    WD_COMP_HOST_RESOURCE_NEW,    /* resource intrinsics: local resource `resource` */
    WD_COMP_HOST_RESOURCE_REP,
    WD_COMP_HOST_RESOURCE_DROP,   /* local resource, or an imported one (interface + name) */
    WD_COMP_HOST_BUILTIN          /* 🔀 async built-in: `builtin` is its canon opcode (Binary.md:
                                     0x05 task.cancel .. 0x25 backpressure.dec, WD_COMP_BI_*) */
} wd_comp_host_kind_t;

/* canon opcodes of the async built-ins (Binary.md `canon`) */
enum {
    WD_COMP_BI_TASK_CANCEL = 0x05, WD_COMP_BI_SUBTASK_CANCEL = 0x06, WD_COMP_BI_TASK_RETURN = 0x09,
    WD_COMP_BI_CONTEXT_GET = 0x0a, WD_COMP_BI_CONTEXT_SET = 0x0b, WD_COMP_BI_YIELD = 0x0c,
    WD_COMP_BI_SUBTASK_DROP = 0x0d, WD_COMP_BI_STREAM_NEW = 0x0e, WD_COMP_BI_STREAM_READ = 0x0f,
    WD_COMP_BI_STREAM_WRITE = 0x10, WD_COMP_BI_STREAM_CANCEL_READ = 0x11,
    WD_COMP_BI_STREAM_CANCEL_WRITE = 0x12, WD_COMP_BI_STREAM_DROP_READABLE = 0x13,
    WD_COMP_BI_STREAM_DROP_WRITABLE = 0x14, WD_COMP_BI_FUTURE_NEW = 0x15,
    WD_COMP_BI_FUTURE_READ = 0x16, WD_COMP_BI_FUTURE_WRITE = 0x17,
    WD_COMP_BI_FUTURE_CANCEL_READ = 0x18, WD_COMP_BI_FUTURE_CANCEL_WRITE = 0x19,
    WD_COMP_BI_FUTURE_DROP_READABLE = 0x1a, WD_COMP_BI_FUTURE_DROP_WRITABLE = 0x1b,
    WD_COMP_BI_ERROR_NEW = 0x1c, WD_COMP_BI_ERROR_DEBUG_MESSAGE = 0x1d, WD_COMP_BI_ERROR_DROP = 0x1e,
    WD_COMP_BI_WSET_NEW = 0x1f, WD_COMP_BI_WSET_WAIT = 0x20, WD_COMP_BI_WSET_POLL = 0x21,
    WD_COMP_BI_WSET_DROP = 0x22, WD_COMP_BI_WAITABLE_JOIN = 0x23, WD_COMP_BI_BACKPRESSURE_INC = 0x24,
    WD_COMP_BI_BACKPRESSURE_DEC = 0x25
};
/* The canon name of a built-in opcode ("stream.read"), or NULL. */
const char *wd_comp_builtin_name(unsigned op);

typedef struct {
    uint8_t kind;                 /* wd_comp_host_kind_t */
    const char *interface;        /* import name ("wasi:io/streams@0.2.0"), or NULL for a
                                     function imported by itself or a local resource */
    const char *name;             /* function or resource name */
    const wd_comp_func_type_t *type; /* LOWER: the component function type */
    int32_t resource;             /* local resource index, or -1 */
    wd_wasm_functype_t core_type; /* the flattened core type the guest sees */
    wd_comp_canonopts_t opts;     /* LOWER; BUILTIN (memory of waitable-set.wait|poll too) */
    uint8_t builtin;              /* BUILTIN: WD_COMP_BI_* */
    uint8_t flag;                 /* BUILTIN: async? (subtask.cancel, *.cancel-*) or
                                     cancellable? (waitable-set.wait|poll, yield) */
    uint32_t imm;                 /* BUILTIN: context.get|set slot */
    const wd_comp_type_t *vtype;  /* BUILTIN: the stream/future type; task.return's result
                                     type (NULL: none) */
} wd_comp_hostfunc_t;

typedef struct {
    uint32_t module;              /* index in plan modules */
    uint32_t nargs;               /* == wd_wasm_module_import_count(module) */
    wd_comp_coredef_t *args;      /* in the module's import order */
} wd_comp_core_instance_t;

typedef enum {
    WD_COMP_OP_INSTANTIATE = 0,   /* index: core instance */
    WD_COMP_OP_HOST = 1           /* index: host function slot */
} wd_comp_op_kind_t;

typedef struct {
    uint8_t op;
    uint32_t index;
} wd_comp_op_t;

typedef struct {
    const char *name;             /* "wasi:http/incoming-handler@0.2.0#handle", or "run" */
    const wd_comp_func_type_t *type;
    wd_comp_coredef_t func;
    wd_wasm_functype_t core_type; /* flatten_functype(type, 'lift') */
    wd_comp_canonopts_t opts;
    int64_t offset;               /* of the root export that names it */
} wd_comp_lift_t;

typedef struct {
    uint8_t rep;                  /* core value type of the representation (i32) */
    uint8_t has_dtor;
    wd_comp_coredef_t dtor;
} wd_comp_plan_resource_t;

typedef struct {
    const char *name;             /* a root import: interface or plain name */
    uint8_t sort;                 /* 1 func, 5 instance */
    uint32_t offset;
} wd_comp_import_t;

typedef struct {
    uint32_t nmodules;
    wd_wasm_module_t **modules;   /* compiled once, in section order */
    uint32_t ncore_instances;
    wd_comp_core_instance_t *core_instances;
    uint32_t nops;
    wd_comp_op_t *ops;
    uint32_t nhostfuncs;
    wd_comp_hostfunc_t *hostfuncs;
    uint32_t nlifts;
    wd_comp_lift_t *lifts;
    uint32_t nresources;
    wd_comp_plan_resource_t *resources;
    uint32_t nimports;
    wd_comp_import_t *imports;
} wd_comp_plan_t;

const wd_comp_plan_t *wd_comp_get_plan(const wd_comp_t *c);
/* The lift exported as name ("iface@v#func" or a plain name), or NULL. */
const wd_comp_lift_t *wd_comp_find_lift(const wd_comp_t *c, const char *name);

/* Human-readable plan (wasmd component-info). */
void wd_comp_dump(const wd_comp_t *c, FILE *out);

/* ---- names ---- */

/* Semver-compatible match of an import name against the host's names ("ns:pkg/iface@x.y.z";
 * names without a version match exactly). Returns the index in names of the match (exact
 * first, then the highest version on the same compatibility track: @1.2.3 -> 1, @0.2.3 ->
 * 0.2; 0.0.x and pre-releases only exactly), or -1. On -1, *nearest (if not NULL) is the
 * index of a host name of the same interface with another version, or -1. */
int wd_comp_name_match(const char *import, const char *const *names, uint32_t n, int *nearest);

/* ---- instantiation ---- */

typedef struct {
    wd_wasm_memory_t *memory;     /* the canonopts' memory, or NULL */
    wd_wasm_func_t *realloc;      /* or NULL */
} wd_comp_bound_opts_t;

typedef struct {
    const char *const *interfaces;/* host interface names with versions ("wasi:io/streams@0.2.3") */
    uint32_t ninterfaces;
    /* Make the core function for one host slot. host_interface is the matched host name
     * (NULL when hf->interface is NULL). Return NULL and fill err to refuse. */
    wd_wasm_func_t *(*make_func)(void *ud, wd_wasm_store_t *s, const wd_comp_hostfunc_t *hf,
                                 const char *host_interface, const wd_comp_bound_opts_t *bound,
                                 wd_comp_error_t *err);
    void *ud;
} wd_comp_host_t;

/* Check that every root import resolves against host->interfaces ("component imports
 * \"X\", which the host does not provide (it has \"Y\")"). */
int wd_comp_check_imports(const wd_comp_t *c, const wd_comp_host_t *host, wd_comp_error_t *err);

typedef struct wd_comp_instance wd_comp_instance_t;

typedef struct {
    wd_wasm_func_t *func;
    wd_wasm_memory_t *memory;
    wd_wasm_func_t *realloc, *post_return;
    wd_wasm_func_t *callback;     /* 🔀 async lift with a callback */
} wd_comp_bound_lift_t;

/* Build every core instance of the plan in store s (in plan order). */
wd_comp_instance_t *wd_comp_instantiate(const wd_comp_t *c, wd_wasm_store_t *s,
                                        const wd_comp_host_t *host, const wd_wasm_limits_t *limits,
                                        wd_comp_error_t *err);
void wd_comp_instance_free(wd_comp_instance_t *ci);   /* the store keeps the objects */
uint32_t wd_comp_instance_core_count(const wd_comp_instance_t *ci);
wd_wasm_instance_t *wd_comp_instance_core(const wd_comp_instance_t *ci, uint32_t i);
/* The bound export lift i (plan order). */
const wd_comp_bound_lift_t *wd_comp_instance_lift(const wd_comp_instance_t *ci, uint32_t i);

/* ---- debugging ---- */
/* A host whose functions all trap ("stub host function X called"), with the interface names
 * the server will provide (at @0.2.8): for component-info --instantiate and the fuzzer. */
const wd_comp_host_t *wd_comp_stub_host(void);
/* `wasmd component-info [--instantiate] [--stub] [--fuel N] FILE`; argv[0] is
 * "component-info". Imports are checked and instantiated against host (the server's,
 * src/host/wd_host_comp.h), or the stub host when host is NULL or --stub is given. */
int wd_comp_info_main(int argc, char **argv, const wd_comp_host_t *host);

#endif /* WD_COMP_H */
