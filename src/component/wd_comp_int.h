/*
 * wd_comp_int.h -- internals of the component loader (src/component/wd_comp_*.c).
 *
 * Ownership: everything a load allocates (types, names, parsed components, the plan)
 * comes from one arena (wd_comp_arena_t) freed with the wd_comp_t; compiled core modules
 * are freed one by one. Nothing is referenced from the input bytes after load.
 */
#ifndef WD_COMP_INT_H
#define WD_COMP_INT_H

#include <string.h>
#include "wd_comp.h"

/* ---- limits (wasmparser's are of the same order) ---- */
#define WD_COMP_MAX_ITEMS        100000   /* entries in one index space */
#define WD_COMP_MAX_TYPE_WEIGHT  1000000  /* nodes reachable from one type (sum) */
#define WD_COMP_MAX_ELEMS        10000    /* fields/cases/params/exports of one type */
#define WD_COMP_MAX_INLINE_STEPS 1000000  /* definitions evaluated while flattening */

/* ---- arena ---- */
typedef struct wd_comp_chunk wd_comp_chunk_t;
typedef struct {
    wd_comp_chunk_t *head;
    size_t used, cap;
} wd_comp_arena_t;
void *wd_comp_alloc(wd_comp_arena_t *a, size_t n);          /* zeroed, 8-aligned; NULL on OOM */
char *wd_comp_strndup(wd_comp_arena_t *a, const char *s, size_t n);
void wd_comp_arena_free(wd_comp_arena_t *a);

/* growable array in the arena (old storage is abandoned to the arena on growth) */
int wd_comp_grow(wd_comp_arena_t *a, void **elts, uint32_t *cap, uint32_t n, size_t size);

/* ---- types ---- */
/* binary codes of value types (Binary.md defvaltype / primvaltype) */
enum {
    WD_CB_BOOL = 0x7f, WD_CB_STRING = 0x73, WD_CB_ERROR_CONTEXT = 0x64,
    WD_CB_RECORD = 0x72, WD_CB_VARIANT = 0x71, WD_CB_LIST = 0x70, WD_CB_FIXED_LIST = 0x67,
    WD_CB_TUPLE = 0x6f, WD_CB_FLAGS = 0x6e, WD_CB_ENUM = 0x6d, WD_CB_OPTION = 0x6b,
    WD_CB_RESULT = 0x6a, WD_CB_OWN = 0x69, WD_CB_BORROW = 0x68, WD_CB_STREAM = 0x66,
    WD_CB_FUTURE = 0x65, WD_CB_MAP = 0x63,
    WD_CB_FUNC = 0x40, WD_CB_FUNC_ASYNC = 0x43, WD_CB_COMPONENT = 0x41, WD_CB_INSTANCE = 0x42,
    WD_CB_RESOURCE = 0x3f
};

/* component sorts (Binary.md `sort`); core sorts are 0x100 | core:sort */
enum {
    WD_SORT_FUNC = 0x01, WD_SORT_VALUE = 0x02, WD_SORT_TYPE = 0x03, WD_SORT_COMPONENT = 0x04,
    WD_SORT_INSTANCE = 0x05,
    WD_SORT_CORE_FUNC = 0x100, WD_SORT_CORE_TABLE = 0x101, WD_SORT_CORE_MEMORY = 0x102,
    WD_SORT_CORE_GLOBAL = 0x103, WD_SORT_CORE_TAG = 0x104, WD_SORT_CORE_TYPE = 0x110,
    WD_SORT_CORE_MODULE = 0x111, WD_SORT_CORE_INSTANCE = 0x112
};

/* a deftype of a component's type index space, or the type of any item */
typedef enum {
    WD_DT_VAL = 1,                /* val */
    WD_DT_FUNC,                   /* func */
    WD_DT_COMPONENT,              /* imports/exports */
    WD_DT_INSTANCE,               /* exports */
    WD_DT_RESOURCE,               /* resource (local, or abstract for (sub resource)) */
    WD_DT_CORE_FUNC,              /* core */
    WD_DT_CORE_MODULE,            /* (core module types: only validated) */
    WD_DT_CORE_OTHER              /* core table/memory/global: no type kept */
} wd_comp_dt_kind_t;

typedef struct wd_comp_deftype wd_comp_deftype_t;

typedef struct {
    const char *name;
    uint16_t sort;                /* WD_SORT_* */
    const wd_comp_deftype_t *type;
} wd_comp_extern_t;

struct wd_comp_deftype {
    uint8_t kind;                 /* wd_comp_dt_kind_t */
    uint8_t local;                /* RESOURCE: defined by (type (resource)) here */
    uint8_t rep;                  /* RESOURCE */
    uint32_t weight;              /* type size, for limits */
    const wd_comp_type_t *val;    /* VAL */
    wd_comp_func_type_t *func;    /* FUNC */
    wd_comp_resource_t *resource; /* RESOURCE (identity) */
    uint32_t nimports, nexports;  /* COMPONENT / INSTANCE */
    wd_comp_extern_t *imports, *exports;
    wd_wasm_functype_t core;      /* CORE_FUNC */
};

int wd_comp_functype_eq(const wd_wasm_functype_t *x, const wd_wasm_functype_t *y);
void wd_comp_functype_str(const wd_wasm_functype_t *f, char *buf, size_t size);

/* ---- names (wd_comp_names.c) ---- */
int wd_comp_is_label(const char *s, size_t n);
/* A component import/export name: plainname or interfacename. 0 ok, -1 with why. */
int wd_comp_check_externname(const char *s, size_t n, const char **why);
int wd_comp_name_ieq(const char *a, const char *b);  /* ASCII case-insensitive equality */

/* ---- reader (bounds-checked; every failure sets err with the file offset) ---- */
typedef struct {
    const uint8_t *file, *p, *end;
    wd_comp_error_t *err;
} wd_comp_rd_t;

#define WD_COMP_OFF(r) ((int64_t) ((r)->p - (r)->file))
int wd_comp_rd_byte(wd_comp_rd_t *r, uint8_t *b);
int wd_comp_rd_u32(wd_comp_rd_t *r, uint32_t *v);
int wd_comp_rd_u64(wd_comp_rd_t *r, uint64_t *v);
/* a core:name (length-prefixed UTF-8), copied into the arena */
int wd_comp_rd_name(wd_comp_rd_t *r, wd_comp_arena_t *a, const char **out, uint32_t *len);

/* ---- parsed components ---- */
typedef enum {
    WD_DEF_IMPORT = 1,            /* name, type */
    WD_DEF_EXPORT,                /* re-export: a = index in the same space */
    WD_DEF_ALIAS_EXPORT,          /* a = component instance, name */
    WD_DEF_ALIAS_CORE_EXPORT,     /* a = core instance, name */
    WD_DEF_ALIAS_OUTER,           /* a = count, b = index in the outer scope */
    WD_DEF_MODULE,                /* a = plan module index */
    WD_DEF_COMPONENT,             /* comp */
    WD_DEF_CORE_INSTANTIATE,      /* a = core module, args (name -> core instance) */
    WD_DEF_CORE_INLINE,           /* args (name -> core sort index) */
    WD_DEF_INSTANTIATE,           /* a = component, args (name -> sort index) */
    WD_DEF_INLINE,                /* args (name -> sort index) */
    WD_DEF_TYPE,                  /* type definition (resource types get identity here) */
    WD_DEF_LIFT,                  /* a = core func, b = type index, canon */
    WD_DEF_LOWER,                 /* a = func, canon */
    WD_DEF_RESOURCE_NEW,          /* a = type index */
    WD_DEF_RESOURCE_DROP,
    WD_DEF_RESOURCE_REP,
    WD_DEF_BUILTIN                /* async built-in (task.return, stream.read, ...):
                                     a = canon opcode, b = immediate, vtype, flag, canon */
} wd_comp_def_kind_t;

typedef struct {
    const char *name;
    uint16_t sort;
    uint32_t index;
} wd_comp_arg_t;

typedef struct {
    uint8_t string_encoding;
    uint8_t has_memory, has_realloc, has_post_return;
    uint8_t async_, has_callback;
    uint32_t memory, realloc, post_return;   /* core memory / core func indices */
    uint32_t callback;
} wd_comp_canon_t;

typedef struct wd_comp_static wd_comp_static_t;

typedef struct {
    uint8_t def;                  /* wd_comp_def_kind_t */
    uint32_t offset;              /* where it is defined in the file */
    uint32_t a, b;
    const char *name;
    const wd_comp_deftype_t *type;/* its type (core funcs: a CORE_FUNC node) */
    wd_comp_static_t *comp;       /* DEF_COMPONENT, or the component an outer alias reaches */
    const wd_wasm_module_t *module; /* core modules */
    uint32_t module_index;
    uint32_t nargs;
    wd_comp_arg_t *args;
    wd_comp_canon_t canon;
    const wd_comp_type_t *vtype;  /* DEF_BUILTIN: the stream/future type, task.return's result */
    uint8_t flag;                 /* DEF_BUILTIN: async? / cancellable? */
    wd_wasm_functype_t lift_core; /* DEF_LIFT: the core type of the lifted function */
} wd_comp_item_t;

enum {
    WD_SP_CORE_FUNC, WD_SP_CORE_TABLE, WD_SP_CORE_MEMORY, WD_SP_CORE_GLOBAL, WD_SP_CORE_TYPE,
    WD_SP_CORE_MODULE, WD_SP_CORE_INSTANCE, WD_SP_FUNC, WD_SP_VALUE, WD_SP_TYPE,
    WD_SP_COMPONENT, WD_SP_INSTANCE, WD_SP_COUNT
};

typedef struct {
    uint32_t n, cap;
    wd_comp_item_t *items;
} wd_comp_space_t;

typedef struct {
    uint8_t space;
    uint32_t index;
} wd_comp_defref_t;

struct wd_comp_static {
    wd_comp_static_t *parent;
    uint8_t is_type;              /* a component-type or instance-type declarator scope */
    uint32_t offset;              /* of its preamble */
    wd_comp_space_t sp[WD_SP_COUNT];
    uint32_t ndefs, defs_cap;     /* definitions in order, for the inliner */
    wd_comp_defref_t *defs;
    uint32_t nimports, imports_cap, nexports, exports_cap;
    wd_comp_arg_t *imports;       /* name, sort, index in its space */
    wd_comp_arg_t *exports;
    wd_comp_deftype_t *ctype;     /* its component type (imports/exports with types) */
};

struct wd_comp {
    wd_comp_arena_t arena;
    wd_comp_static_t *root;
    wd_comp_plan_t plan;
    uint32_t nmodules, modules_cap;
    wd_wasm_module_t **modules;
};

int wd_comp_sort_space(uint16_t sort);   /* WD_SP_* or -1 */
const char *wd_comp_sort_name(uint16_t sort);

/* ---- decoding (wd_comp_decode.c, wd_comp_decode_types.c) ---- */
typedef struct {
    wd_comp_t *c;
    const wd_comp_load_opts_t *opts;
    wd_comp_error_t *err;
    uint32_t nesting;
    uint32_t nresources;
} wd_comp_pctx_t;

wd_comp_item_t *wd_comp_add_item(wd_comp_pctx_t *x, wd_comp_static_t *sc, int space, uint8_t def,
                                 int64_t offset);
/* checks idx against space: returns the item or NULL with "<what> index N out of range" */
wd_comp_item_t *wd_comp_get_item(wd_comp_pctx_t *x, wd_comp_static_t *sc, int space, uint32_t idx,
                                 int64_t offset);
int wd_comp_decode_valtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                           const wd_comp_type_t **out, uint32_t *weight);
int wd_comp_decode_deftype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                           const wd_comp_deftype_t **out);
int wd_comp_decode_core_type(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                             const wd_comp_deftype_t **out);
int wd_comp_decode_externtype(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc,
                              uint16_t *sort, const wd_comp_deftype_t **type);
int wd_comp_decode_alias(wd_comp_pctx_t *x, wd_comp_rd_t *r, wd_comp_static_t *sc, int decl);
/* import/export name (nameattributes): read, validate, check uniqueness against list */
int wd_comp_decode_externname(wd_comp_pctx_t *x, wd_comp_rd_t *r, const char **name);
/* index of the first name that repeats an earlier one (ignoring ASCII case), -1 if none,
 * -2 out of memory */
int wd_comp_find_dup(const char *const *names, uint32_t n);
int wd_comp_check_unique(wd_comp_pctx_t *x, const char *const *names, uint32_t n, const char *what,
                         int64_t offset);
wd_comp_deftype_t *wd_comp_new_deftype(wd_comp_pctx_t *x, uint8_t kind);
wd_comp_resource_t *wd_comp_new_resource(wd_comp_pctx_t *x, const char *name);
/* the static type an item has (for lookups through instances) */
const wd_comp_extern_t *wd_comp_find_extern(const wd_comp_extern_t *v, uint32_t n, const char *name);

/* wd_comp_parse.c */
int wd_comp_parse(wd_comp_t *c, const uint8_t *bytes, size_t len, const wd_comp_load_opts_t *opts,
                  wd_comp_error_t *err);
/* wd_comp_plan.c */
int wd_comp_build_plan(wd_comp_t *c, const wd_comp_load_opts_t *opts, wd_comp_error_t *err);

#define wd_comp_err(e, off, ...)                                                          \
    do {                                                                                  \
        if (e) {                                                                          \
            snprintf((e)->msg, sizeof((e)->msg), __VA_ARGS__);                            \
            (e)->offset = (off);                                                          \
        }                                                                                 \
    } while (0)

#endif /* WD_COMP_INT_H */
