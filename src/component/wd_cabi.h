/*
 * The Canonical ABI layer (CanonicalABI.md, canonical-abi-definitions.py): lifting guest
 * values (core values and linear memory) into WIT-level host values and lowering host values
 * back, for any component type (wd_comp_types.h) and any canonical options (memory, realloc,
 * string encoding, post-return); resource handle tables with own/borrow rules; one entry for
 * host imports (canon lower of a host function) and one for calling a guest export (canon lift).
 *
 * Memory is 32-bit (memory64 components are not supported). Floats: NaNs are canonicalised
 * both ways (the spec's DETERMINISTIC_PROFILE). Every failure is a trap for the current call:
 * functions return -1 and leave a static message in cx->trap.
 *
 * Host values (wd_cabi_val_t, 16 bytes) form a tree allocated from cx->arena; the type walks
 * alongside (the `kind` tag is there for checks and debugging). Strings are UTF-8 on the host
 * side: a string lifted from a utf8 guest is a view of guest memory (validated, not copied),
 * one from a utf16/latin1+utf16 guest is transcoded into the arena. Lists of "plain" elements
 * (integers, records of integers without padding) are raw little-endian views too
 * (WD_CABI_RAW), lowered with one copy. Views stay valid while the guest does not run; with
 * cx->copy_views set (results of a guest export, which post-return may free) they are copied.
 */
#ifndef WD_CABI_H
#define WD_CABI_H

#include <stdint.h>
#include <stddef.h>

#include "wd_comp_types.h"
#include "wd_wasm.h"

typedef enum {
    WD_CABI_UTF8 = 0,
    WD_CABI_UTF16 = 1,
    WD_CABI_LATIN1_UTF16 = 2
} wd_cabi_enc_t;

#define WD_CABI_MAX_STRING_BYTES ((1u << 28) - 1)   /* MAX_STRING_BYTE_LENGTH */
#define WD_CABI_MAX_LIST_BYTES   ((1u << 28) - 1)   /* MAX_LIST_BYTE_LENGTH */
#define WD_CABI_UTF16_TAG        (1u << 31)
#define WD_CABI_MAX_HANDLES      ((1u << 28) - 1)   /* Table.MAX_LENGTH */
#define WD_CABI_WORK_LIMIT       ((uint64_t)64 << 20)

/* ---- arena: bump allocation in chunks; reset keeps the chunks ---- */
typedef struct wd_cabi_chunk_s wd_cabi_chunk_t;
typedef struct {
    wd_cabi_chunk_t *head;      /* chunk being filled */
    wd_cabi_chunk_t *spare;     /* chunks kept by reset */
    uint8_t *cur, *end;
    size_t used_total;          /* bytes handed out since reset (for the limit) */
    size_t limit;               /* 0: 64 MiB */
} wd_cabi_arena_t;

typedef struct {
    wd_cabi_chunk_t *head;
    uint8_t *cur, *end;
    size_t used_total;
} wd_cabi_arena_mark_t;

void *wd_cabi_arena_alloc(wd_cabi_arena_t *a, size_t n, size_t align);  /* NULL: no memory */
void wd_cabi_arena_reset(wd_cabi_arena_t *a);
void wd_cabi_arena_free(wd_cabi_arena_t *a);
wd_cabi_arena_mark_t wd_cabi_arena_mark(const wd_cabi_arena_t *a);
void wd_cabi_arena_release(wd_cabi_arena_t *a, wd_cabi_arena_mark_t m);

/* ---- host values ---- */
typedef struct wd_cabi_val_s wd_cabi_val_t;
struct wd_cabi_val_s {
    uint8_t kind;               /* wd_comp_kind_t of the type it was made for */
    uint8_t raw;                /* list/map: `p` is raw element bytes (stride type->esize) */
    uint16_t pad_;
    uint32_t n;                 /* string: UTF-8 bytes; list/map: elements; record/tuple:
                                   fields; variant/enum/option/result: case index */
    union {
        uint64_t u;             /* bool (0/1), unsigned ints, flags bits, handle rep */
        int64_t s;              /* signed ints */
        float f32;
        double f64;
        uint32_t ch;            /* char: Unicode scalar value */
        const char *str;        /* string: UTF-8, not NUL-terminated */
        const void *p;          /* raw list bytes */
        wd_cabi_val_t *vals;    /* list elements, record/tuple fields, variant payload (1 value
                                   or NULL) */
    };
};

/* ---- resource handles ---- */
struct wd_cabi_scope_s;
typedef struct {
    const wd_comp_resource_t *rt;   /* NULL: free slot */
    uint32_t rep;
    uint32_t lends;                 /* own: borrows lent out by calls in progress */
    uint32_t next_free;             /* free slot: next free index (0 = none) */
    uint8_t own;
    struct wd_cabi_scope_s *scope;  /* borrow: the call it was lent to */
} wd_cabi_handle_t;

/* Called when an own handle is dropped (resource.drop or a host dropping what it owns):
   runs the resource's destructor (the guest's dtor function, or the host's free). Returns 0,
   or -1 to trap with a message in *msg. */
typedef int (*wd_cabi_dtor_fn)(void *ud, const wd_comp_resource_t *rt, uint32_t rep,
                               const char **msg);

typedef struct {
    wd_cabi_handle_t *slots;        /* slots[0] unused: handles start at 1 */
    uint32_t n, cap, free_head;
    uint32_t max;                   /* 0: WD_CABI_MAX_HANDLES */
    wd_cabi_dtor_fn dtor;
    void *dtor_ud;
    uint32_t no_leave;              /* the spec's !may_leave: set while this instance runs its
                                       realloc or post-return for the layer; a host call made
                                       then traps */
    /* optional: indices come from an embedder's index space shared with other handles
       (take: 0 or -1 with *msg; give: the index is free again); slots then sparse */
    int (*ix_take)(void *ud, uint32_t *idx, const char **msg);
    void (*ix_give)(void *ud, uint32_t idx);
    void *ix_ud;
    const void *impl;               /* the component whose table this is (set by the runtime):
                                       a borrow of a guest resource (rt->host == 0) with
                                       rt->ud == impl is lowered as its rep, not a handle */
} wd_cabi_table_t;

/* A call's borrow scope: handles lent by lifting borrows (host import: num_lends of the
   caller's own handles, undone when the call ends) and borrows handed to the callee by
   lowering (guest export: the callee must drop them before returning). */
#define WD_CABI_SCOPE_INLINE 8
typedef struct wd_cabi_scope_s {
    uint32_t nlenders, caplenders;
    uint32_t *lenders;              /* handle indices in the lending table */
    uint32_t inl[WD_CABI_SCOPE_INLINE];
    uint32_t num_borrows;
} wd_cabi_scope_t;

void wd_cabi_table_init(wd_cabi_table_t *t);
void wd_cabi_table_reset(wd_cabi_table_t *t);   /* drops everything, no destructors: O(1) */
void wd_cabi_table_free(wd_cabi_table_t *t);
/* Table operations with the spec's traps; return 0 or -1 (message in *msg). */
int wd_cabi_table_add(wd_cabi_table_t *t, const wd_cabi_handle_t *h, uint32_t *idx,
                      const char **msg);
wd_cabi_handle_t *wd_cabi_table_get(wd_cabi_table_t *t, uint32_t idx, const char **msg);
int wd_cabi_table_remove(wd_cabi_table_t *t, uint32_t idx, wd_cabi_handle_t *out,
                         const char **msg);
/* canon resource.new / resource.rep / resource.drop */
int wd_cabi_resource_new(wd_cabi_table_t *t, const wd_comp_resource_t *rt, uint32_t rep,
                         uint32_t *idx, const char **msg);
int wd_cabi_resource_rep(wd_cabi_table_t *t, const wd_comp_resource_t *rt, uint32_t idx,
                         uint32_t *rep, const char **msg);
int wd_cabi_resource_drop(wd_cabi_table_t *t, const wd_comp_resource_t *rt, uint32_t idx,
                          const char **msg);

/* ---- lift/lower context ---- */
typedef struct wd_cabi_cx_s wd_cabi_cx_t;
/* realloc(old, old_size, align, new_size) -> ptr; returns 0, or -1 with cx->trap set. The
   default (realloc_cb NULL) calls cx->realloc in cx->inst with wd_wasm_call. */
typedef int (*wd_cabi_realloc_fn)(wd_cabi_cx_t *cx, uint32_t old, uint32_t old_size,
                                  uint32_t align, uint32_t new_size, uint32_t *ptr);

struct wd_cabi_cx_s {
    /* canonical options */
    wd_wasm_memory_t *mem;
    wd_wasm_func_t *realloc;
    wd_wasm_func_t *post_return;
    uint8_t enc;                    /* wd_cabi_enc_t */
    /* environment */
    wd_wasm_instance_t *inst;       /* the instance to run realloc / post-return / exports in */
    wd_cabi_realloc_fn realloc_cb;  /* override (tests) */
    void *realloc_ud;
    wd_cabi_arena_t *arena;
    wd_cabi_table_t *table;         /* the guest component instance's handle table */
    wd_cabi_scope_t *scope;         /* the current call's borrow scope */
    uint8_t copy_views;             /* lifted strings / raw lists are copied into the arena */
    wd_cabi_scope_t call_scope;     /* the scope of a guest export call (export_begin/finish) */
    uint8_t lifted_own;             /* set when a lift removed an own handle */
    uint8_t raw_handles;            /* own/borrow pass as the i32 they are, no table: the
                                       callee keeps its own handle table (src/host/http's
                                       resources, transcoded for another string encoding) */
    const wd_comp_resource_t *lifted_rt;   /* the resource type of the last own lifted (a host function
                                       that suspends puts the handle back with it) */
    /* Lifting work bound: bytes of strings and lists decoded or copied (raw views are free)
       since the call began; past work_limit (0: WD_CABI_WORK_LIMIT) the lift traps ("value
       too large"), so nested lists pointing at the same guest bytes cannot make one call
       decode gigabytes. wd_cabi_host_call / wd_cabi_export_finish reset it. */
    uint64_t work, work_limit;
    /* stream/future handles: the component-model async runtime (wd_comp_async.h sets these
       with wd_comp_async_cx); NULL: lifting or lowering one traps */
    void *async;
    int (*async_lift)(void *async, const wd_comp_type_t *t, uint32_t idx, uint64_t *out,
                      const char **msg);
    int (*async_lower)(void *async, const wd_comp_type_t *t, uint64_t v, uint32_t *idx,
                       const char **msg);
    const char *trap;               /* message of the last trap */
    char trapbuf[96];
};

/* Trap helper: sets cx->trap, returns -1. */
int wd_cabi_trap(wd_cabi_cx_t *cx, const char *msg);

/* Loading and storing at a guest address (`load`/`store`: ptr must be aligned and in
   bounds, which these check too), flat lifting and lowering (`lift_flat`/`lower_flat`) from
   and to core value slots (uint64_t, the engine's convention: i32/f32 in the low bits).
   *pos is the slot cursor; lift_flat reads type->flat_n slots, lower_flat writes them. */
int wd_cabi_load(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t ptr, wd_cabi_val_t *out);
int wd_cabi_store(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v,
                  uint32_t ptr);
int wd_cabi_lift_flat(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const uint64_t *flat,
                      uint32_t *pos, wd_cabi_val_t *out);
int wd_cabi_lower_flat(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v,
                       uint64_t *flat, uint32_t *pos);

/* stream/future handles (through cx->async, wd_comp_async.h): lifting gives the host the
   readable end (.u), lowering gives the guest one */
int wd_cabi_lift_async(wd_cabi_cx_t *cx, const wd_comp_type_t *t, uint32_t idx,
                       wd_cabi_val_t *out);
int wd_cabi_lower_async(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const wd_cabi_val_t *v,
                        uint32_t *idx);

/* Strings, list-style: lift a string from (ptr, tagged code units) per cx->enc (the spec's
   load_string_from_range), lower a host UTF-8 string (store_string_into_range with a utf8
   source). */
int wd_cabi_lift_string(wd_cabi_cx_t *cx, uint32_t ptr, uint32_t tagged_units,
                        wd_cabi_val_t *out);
int wd_cabi_lower_string(wd_cabi_cx_t *cx, const char *s, uint32_t len, uint32_t *ptr,
                         uint32_t *tagged_units);

/* ---- transcoders: leaf functions, no allocation, no bounds beyond (src,len)/(dst,cap) ----
   Each returns 0 and sets *read (source units consumed) and *written (destination units
   produced), stopping early (return 0) when dst is full; -1 on invalid input (at *read). */
int wd_cabi_utf8_to_utf16(const uint8_t *src, size_t len, uint16_t *dst, size_t cap,
                          size_t *read, size_t *written);
int wd_cabi_utf16_to_utf8(const uint16_t *src, size_t len, uint8_t *dst, size_t cap,
                          size_t *read, size_t *written);
int wd_cabi_latin1_to_utf8(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *read, size_t *written);
/* UTF-8 to latin1: stops (return 0) at the first code point >= 256, *read at its start. */
int wd_cabi_utf8_to_latin1(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *read, size_t *written);
/* Strict UTF-8 validation (no overlongs, surrogates or > U+10FFFF): 0 valid, -1 not.
   *units (optional) gets the UTF-16 length. */
int wd_cabi_utf8_validate(const uint8_t *s, size_t len, size_t *units16);

/* ---- calls ---- */
typedef enum {
    WD_CABI_OK = 0,
    WD_CABI_TRAP = 1,
    WD_CABI_SUSPEND = 2             /* host function: try again later (see wd_cabi_host_call) */
} wd_cabi_rc_t;

/* A host function written against WIT values: args[0..nparams), *result (if the type has
   one) to fill, values allocated from cx->arena. */
typedef wd_cabi_rc_t (*wd_cabi_host_fn)(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                        wd_cabi_val_t *result, void *ud);

/* `canon lower` of a host function, called from a guest with its core arguments (as the
   engine passes them to a host function): lifts the params (flat or from the params pointer),
   calls fn within a borrow scope, lowers the result (flat into core_results[0], or stored at
   the return pointer), ends the scope. Arena space used by the call is released before
   return. WD_CABI_SUSPEND from fn is passed on (nothing lowered; the engine calls again with
   the same arguments), unless an own handle was lifted (it left the guest's table): then it
   traps. */
wd_cabi_rc_t wd_cabi_host_call(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft,
                               const uint64_t *core_args, uint64_t *core_results,
                               wd_cabi_host_fn fn, void *ud);

/* `canon lift` of a guest export, driven by the host, in two halves around the core call
   (which the caller makes, e.g. with wd_wasm_call, so it can suspend and resume):
   begin lowers args into core_args (realloc'ing the params tuple if they spill) and opens
   the borrow scope; finish lifts the result from core_results (copying views, since
   post-return may free them), checks that every borrow lent to the callee was dropped, and
   calls post-return. Both return 0 or -1 (trap). *ncore_args receives the count. */
int wd_cabi_export_begin(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft,
                         const wd_cabi_val_t *args, uint64_t *core_args, uint32_t *ncore_args);
int wd_cabi_export_finish(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft,
                          const uint64_t *core_results, wd_cabi_val_t *result);
/* Both halves around wd_wasm_call(cx->inst, fn); a suspension is a trap here. */
int wd_cabi_call_export(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft, wd_wasm_func_t *fn,
                        const wd_cabi_val_t *args, wd_cabi_val_t *result);

/* ---- value constructors for host functions ---- */
static inline wd_cabi_val_t wd_cabi_v_u(unsigned kind, uint64_t u)
{ wd_cabi_val_t v = { .kind = (uint8_t)kind, .u = u }; return v; }
static inline wd_cabi_val_t wd_cabi_v_s(unsigned kind, int64_t s)
{ wd_cabi_val_t v = { .kind = (uint8_t)kind, .s = s }; return v; }
static inline wd_cabi_val_t wd_cabi_v_str(const char *s, uint32_t len)
{ wd_cabi_val_t v = { .kind = WD_CT_STRING, .n = len, .str = s }; return v; }
static inline wd_cabi_val_t wd_cabi_v_bytes(const void *p, uint32_t n)
{ wd_cabi_val_t v = { .kind = WD_CT_LIST, .raw = 1, .n = n, .p = p }; return v; }
/* variant-like (variant, enum, option, result): payload NULL for none */
static inline wd_cabi_val_t wd_cabi_v_case(unsigned kind, uint32_t disc, wd_cabi_val_t *payload)
{ wd_cabi_val_t v = { .kind = (uint8_t)kind, .n = disc, .vals = payload }; return v; }
/* record/tuple/list of values */
static inline wd_cabi_val_t wd_cabi_v_vals(unsigned kind, wd_cabi_val_t *vals, uint32_t n)
{ wd_cabi_val_t v = { .kind = (uint8_t)kind, .n = n, .vals = vals }; return v; }

#endif
