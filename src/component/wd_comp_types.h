/*
 * Component Model value and function types, as the Canonical ABI layer (wd_cabi_*) walks them.
 *
 * One representation serves two producers:
 *   - the component loader (wd_comp_decode*.c) builds types from a component's type section:
 *     it allocates wd_comp_type_t nodes (from its own arena), fills `kind` and the children,
 *     and calls wd_comp_type_layout() on each node right after its children (types only refer
 *     to earlier ones, so a single bottom-up pass lays out everything without recursion);
 *   - host interfaces described once as static data (their WIT functions and types), with the
 *     WD_CT_* initialiser macros below and one wd_comp_type_layout_deep() /
 *     wd_comp_func_layout() call at start-up.
 * Layout follows CanonicalABI.md (canonical-abi-definitions.py: despecialize, alignment,
 * elem_size, flatten_type, discriminant_type, flatten_functype) for 32-bit memories.
 *
 * Specialised types (tuple, enum, option, result, map) keep their own kind so host code and
 * error messages can name them, but their layout is the one of their despecialisation
 * (record of "0".."n-1" / variant without payloads / variant none|some / variant ok|error /
 * list of tuple<k,v>), and the lift/lower layer treats them as such.
 *
 * Types form a DAG (children are shared pointers); nothing here owns memory.
 */
#ifndef WD_COMP_TYPES_H
#define WD_COMP_TYPES_H

#include <stdint.h>
#include <stddef.h>

typedef enum {
    WD_CT_NONE = 0,
    /* primitive value types (Binary.md primvaltype) */
    WD_CT_BOOL, WD_CT_S8, WD_CT_U8, WD_CT_S16, WD_CT_U16, WD_CT_S32, WD_CT_U32,
    WD_CT_S64, WD_CT_U64, WD_CT_F32, WD_CT_F64, WD_CT_CHAR, WD_CT_STRING,
    /* defined value types */
    WD_CT_LIST,          /* list<elem>; fixed-length list<elem, len> when `len` != 0 */
    WD_CT_RECORD,        /* fields[0..n) (labels, types) */
    WD_CT_TUPLE,         /* fields[0..n) (labels NULL or "0".."n-1") */
    WD_CT_VARIANT,       /* cases in fields[0..n); a case's type may be NULL */
    WD_CT_ENUM,          /* labels[0..n) */
    WD_CT_OPTION,        /* elem */
    WD_CT_RESULT,        /* elem = ok type or NULL, err = error type or NULL */
    WD_CT_FLAGS,         /* labels[0..n), 0 < n <= 32 */
    WD_CT_OWN,           /* resource */
    WD_CT_BORROW,        /* resource */
    WD_CT_MAP,           /* map<k, v> = list<tuple<k,v>>: fields[0..2) are k and v (layout sets
                            elem, err to them); use WD_CT_MAP_OF */
    /* WASI 0.3 / async (🔀, 📝): laid out (an i32 handle), not yet liftable or lowerable:
       the lift/lower layer traps with "unsupported type" */
    WD_CT_STREAM,        /* elem or NULL */
    WD_CT_FUTURE,        /* elem or NULL */
    WD_CT_ERROR_CONTEXT,
    WD_CT__COUNT
} wd_comp_kind_t;

/* Core (flat) value types: the engine's codes (wd_wasm_valtype_t). */
#define WD_CFLAT_I32 0x7f
#define WD_CFLAT_I64 0x7e
#define WD_CFLAT_F32 0x7d
#define WD_CFLAT_F64 0x7c

#define WD_CABI_MAX_FLAT_PARAMS  16
#define WD_CABI_MAX_FLAT_RESULTS 1
/* Flattened-type storage per node: enough to decide and to hold any flattening that can
   be passed flat (a longer one goes through memory, where only flat_n > 16 matters). */
#define WD_CABI_FLAT_CAP         WD_CABI_MAX_FLAT_PARAMS
/* flat_n saturates here (a fixed list can nominally flatten to 2^32 * ...). */
#define WD_CABI_FLAT_SAT         0xffffu
/* Nesting limit: layout refuses deeper types, so lift/lower recursion is bounded. */
#define WD_COMP_MAX_TYPE_DEPTH   100
/* Largest elem_size accepted (a fixed-length list can ask for more). */
#define WD_COMP_MAX_TYPE_SIZE    ((uint32_t)1 << 28)

/* A resource type. Identity is the pointer: a handle of one resource type presented where
   another is expected traps. The component runtime creates one per `(type (resource ...))`
   definition of its plan (so all pooled instances of a plan share them), the host one per
   host resource (wasi:http fields, streams, ...). */
typedef struct wd_comp_resource_s {
    const char *name;            /* for messages, e.g. "wasi:http/types#fields"; an imported
                                    (sub resource) gets the name it is exported under in
                                    its instance type ("descriptor") */
    const char *iface;           /* imported resource: the root import (instance) it comes
                                    from ("wasi:filesystem/types@0.2.0"): the first one
                                    exporting it; NULL otherwise */
    uint32_t id;                 /* the definer's index (plan slot / host enum), free use */
    uint8_t host;                /* 1: defined by the host (rep is the host's), 0: a guest's */
    uint8_t has_dtor;            /* guest resource with a destructor (dtor_func meaningful) */
    uint32_t dtor_func;          /* definer's reference to its destructor (plan func index) */
    void *ud;                    /* definer's data */
} wd_comp_resource_t;

typedef struct wd_comp_type_s wd_comp_type_t;

/* A record field, tuple member, variant case or function parameter. */
typedef struct {
    const char *label;           /* NUL-terminated, kebab-case; may be NULL for tuple members */
    const wd_comp_type_t *type;  /* NULL: a case without payload */
    uint32_t offset;             /* layout: byte offset in the record/tuple (param tuple for a
                                    function); 0 for variant cases (payload at payload_off) */
} wd_comp_field_t;

struct wd_comp_type_s {
    /* --- filled by the builder --- */
    uint8_t kind;                        /* wd_comp_kind_t */
    uint32_t n;                          /* fields / cases / labels count */
    uint32_t len;                        /* WD_CT_LIST: 0 = variable length, else fixed length */
    const wd_comp_type_t *elem;          /* list, option, result ok, stream/future payload,
                                            map key */
    const wd_comp_type_t *err;           /* result error, map value */
    wd_comp_field_t *fields;             /* record, tuple, variant, map (n entries); writable:
                                            layout fills the offsets */
    const char *const *labels;           /* enum, flags (n entries) */
    const wd_comp_resource_t *resource;  /* own, borrow */

    /* --- filled by wd_comp_type_layout() --- */
    uint8_t laid_out;                    /* 1 once layout succeeded */
    uint8_t align;                       /* 1, 2, 4 or 8 */
    uint8_t disc_size;                   /* variant-like: discriminant bytes (1, 2, 4);
                                            flags: bytes (1, 2, 4) */
    uint8_t depth;                       /* 1 for primitives, 1 + deepest child otherwise */
    uint8_t plain;                       /* 1 if every byte pattern of elem_size bytes is a valid
                                            value stored as is (integers, floats without NaN
                                            canonicalisation needs, records of them without
                                            padding): lists of it copy in bulk */
    uint8_t has_borrow;                  /* contains a borrow (not allowed in results) */
    uint8_t has_resource;                /* contains own or borrow (lift/lower touch tables) */
    uint8_t has_ptr;                     /* contains a string or variable-length list (lift/lower
                                            touch memory / need realloc to lower) */
    uint32_t size;                       /* elem_size */
    uint32_t payload_off;                /* variant-like: payload offset from the start */
    uint32_t esize;                      /* list/map: element (entry) stride in memory */
    uint8_t ealign;                      /* list/map: element (entry) alignment */
    uint8_t eplain;                      /* list/map: elements copy in bulk (see plain) */
    uint32_t flat_n;                     /* flattened length (saturates at WD_CABI_FLAT_SAT) */
    uint8_t flat[WD_CABI_FLAT_CAP];      /* flattened core types, valid for i < min(flat_n, CAP) */
};

/* A function type: named params and 0 or 1 result (Binary.md resultlist). */
typedef struct {
    /* --- filled by the builder --- */
    uint32_t nparams;
    wd_comp_field_t *params;             /* labels and types; `offset` filled by layout */
    const wd_comp_type_t *result;        /* NULL: no result */
    uint8_t async;                       /* 🔀 func async: not supported by the lift/lower layer
                                            yet (layout records it; calls trap) */

    /* --- filled by wd_comp_func_layout() (flatten_functype, sync) --- */
    uint8_t laid_out;
    uint8_t params_in_memory;            /* > MAX_FLAT_PARAMS: one i32 pointer to the tuple */
    uint8_t result_in_memory;            /* > MAX_FLAT_RESULTS: lift: i32 result is a pointer;
                                            lower: an extra i32 out-param, no core result */
    uint8_t has_borrow_param;            /* lifting params may lend handles (borrow scope) */
    uint32_t params_size, params_align;  /* the params as a tuple (for the memory path) */
    uint32_t flat_params_n;              /* flattened params (saturated), before the spill */
    uint32_t flat_result_n;              /* flattened result (saturated), before the spill */
    /* The core signatures, for validating `canon lift` / `canon lower`: */
    uint8_t lift_params_n, lift_results_n;      /* core func being lifted (a guest export) */
    uint8_t lift_params[WD_CABI_MAX_FLAT_PARAMS];
    uint8_t lift_results[1];
    uint8_t lower_params_n, lower_results_n;    /* core func made by `canon lower` (an import) */
    uint8_t lower_params[WD_CABI_MAX_FLAT_PARAMS + 1];
    uint8_t lower_results[1];
} wd_comp_func_type_t;

/* Lay out one node whose children are laid out already (the loader's bottom-up pass).
   Returns NULL on success, else a static message ("type nested too deeply", "flags with
   more than 32 labels", "empty record", "type too large", "child type not laid out", ...).
   Idempotent. */
const char *wd_comp_type_layout(wd_comp_type_t *t);
/* The same, laying out children first (static host tables; recursion bounded by the
   depth limit). The children must be writable, i.e. not `const` objects, unless laid out. */
const char *wd_comp_type_layout_deep(wd_comp_type_t *t);
/* Lay out a function type (params/result laid out already, or use _deep). */
const char *wd_comp_func_layout(wd_comp_func_type_t *ft);
const char *wd_comp_func_layout_deep(wd_comp_func_type_t *ft);

/* Structural equality of two laid-out types (labels, kinds, children; resources by
   identity), for matching a component's imports against host definitions. */
int wd_comp_type_equal(const wd_comp_type_t *a, const wd_comp_type_t *b);
int wd_comp_func_type_equal(const wd_comp_func_type_t *a, const wd_comp_func_type_t *b);
/* The same, but any own<R> matches any own<S> (and borrow likewise): a component's
   imported resource types are its own objects, not the host's, so a host function described
   as data is matched this way and checks the reps it gets. */
int wd_comp_func_type_match(const wd_comp_func_type_t *a, const wd_comp_func_type_t *b);

/* Names for messages: "u32", "record", "list", ... */
const char *wd_comp_kind_name(unsigned kind);
/* Writes a WIT-like rendering of t (e.g. "result<list<u8>, string>") into buf (always
   NUL-terminated, truncated with "..." if needed); returns buf. */
char *wd_comp_type_str(const wd_comp_type_t *t, char *buf, size_t cap);

/* Laid-out primitive types, shared by everyone: wd_comp_prim(WD_CT_U32) etc. Valid for
   kinds WD_CT_BOOL..WD_CT_STRING and WD_CT_ERROR_CONTEXT; NULL for others. */
const wd_comp_type_t *wd_comp_prim(unsigned kind);
extern const wd_comp_type_t wd_comp_prim_types[WD_CT__COUNT];
#define WD_CT_P(kind) (&wd_comp_prim_types[WD_CT_##kind])    /* WD_CT_P(U32), WD_CT_P(STRING) */

/* Static initialisers for host descriptions (lay out with wd_comp_type_layout_deep):
 *   static wd_comp_field_t req_fields[] = {{"method", WD_CT_P(STRING)}, ...};
 *   static wd_comp_type_t req = WD_CT_RECORD_OF(req_fields);
 *   static wd_comp_type_t bytes = WD_CT_LIST_OF(WD_CT_P(U8));
 */
#define WD_CT_ARRLEN(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))
#define WD_CT_LIST_OF(e)          { .kind = WD_CT_LIST, .elem = (e) }
#define WD_CT_FIXED_LIST_OF(e, l) { .kind = WD_CT_LIST, .elem = (e), .len = (l) }
#define WD_CT_OPTION_OF(e)        { .kind = WD_CT_OPTION, .elem = (e) }
#define WD_CT_RESULT_OF(ok, er)   { .kind = WD_CT_RESULT, .elem = (ok), .err = (er) }
#define WD_CT_RECORD_OF(f)        { .kind = WD_CT_RECORD, .fields = (f), .n = WD_CT_ARRLEN(f) }
#define WD_CT_TUPLE_OF(f)         { .kind = WD_CT_TUPLE, .fields = (f), .n = WD_CT_ARRLEN(f) }
#define WD_CT_VARIANT_OF(f)       { .kind = WD_CT_VARIANT, .fields = (f), .n = WD_CT_ARRLEN(f) }
#define WD_CT_ENUM_OF(l)          { .kind = WD_CT_ENUM, .labels = (l), .n = WD_CT_ARRLEN(l) }
#define WD_CT_FLAGS_OF(l)         { .kind = WD_CT_FLAGS, .labels = (l), .n = WD_CT_ARRLEN(l) }
#define WD_CT_OWN_OF(r)           { .kind = WD_CT_OWN, .resource = (r) }
#define WD_CT_BORROW_OF(r)        { .kind = WD_CT_BORROW, .resource = (r) }
/* map<k, v>: kv is a writable 2-entry wd_comp_field_t array {{"0", k}, {"1", v}}; the
   layout of an entry is the one of tuple<k, v> (offsets land in kv[].offset) */
#define WD_CT_MAP_OF(kv)          { .kind = WD_CT_MAP, .fields = (kv), .n = 2 }
#define WD_CT_FUNC_OF(p, r)       { .params = (p), .nparams = WD_CT_ARRLEN(p), .result = (r) }
#define WD_CT_FUNC_NOPARAMS(r)    { .params = NULL, .nparams = 0, .result = (r) }

#endif
