/*
 * wd_wasm_int.h -- the engine's internal module representation.
 *
 * The decoder (wd_wasm_decode.c) turns the binary into a wd_wasm_module_t that
 * keeps a private copy of the module bytes; function bodies, constant
 * expressions and data segment payloads are referenced as (offset, length)
 * into that copy. The validator (validate/, owned by the VALID helper) then
 * checks it, and the translator (wd_wasm_translate.c) turns each validated
 * function body into the interpreter's internal code. After load, a module is
 * never written again: it may be shared by any number of instances, including
 * across fork().
 *
 * Index spaces are unified the way the spec defines them: imported entities
 * come first, so func_types[], tables[], mems[] and globals[] cover imports
 * and definitions alike (the *_imported counters say where definitions start).
 *
 * Sizes derived from untrusted counts are computed in 64 bits.
 */
#ifndef WD_WASM_INT_H
#define WD_WASM_INT_H

#include <stddef.h>
#include <stdint.h>
#include "wd_wasm.h"

/* allocation: wd_wasm_malloc & co. (wd_wasm.h) */

/* Fill err (if not NULL) with a formatted message, byte offset and function index. */
void wd_wasm_set_error(wd_wasm_error_t *err, int64_t offset, int64_t func_index,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A byte range inside wd_wasm_module_t.bytes. */
typedef struct {
    uint32_t off;
    uint32_t len;
} wd_wasm_span_t;

/* Locals are declared as runs of (count, type); totals are 64-bit so that a
 * hostile sum is detected before it can wrap. */
typedef struct {
    uint32_t count;
    uint8_t type;                 /* wd_wasm_valtype_t */
} wd_wasm_local_run_t;

struct wd_wasm_code;              /* translated code (wd_wasm_translate.c) */

typedef struct {
    uint32_t type_index;          /* into types[] */
    uint32_t nruns;
    wd_wasm_local_run_t *runs;    /* declared locals (parameters not included) */
    uint64_t nlocals;             /* sum of runs[].count (parameters not included) */
    uint8_t *local_types;         /* nlocals types, expanded (decoder fills; <= max_locals) */
    uint32_t body_off;            /* offset of the body's size-prefixed entry (error reports) */
    wd_wasm_span_t expr;          /* the instruction sequence, ending with its final 0x0b */
    struct wd_wasm_code *code;    /* set by the translator */
} wd_wasm_func_decl_t;

typedef struct {
    uint8_t reftype;              /* WD_WASM_FUNCREF / WD_WASM_EXTERNREF */
    uint8_t has_max;
    uint32_t min, max;
} wd_wasm_table_decl_t;

typedef struct {
    uint8_t has_max;
    uint32_t min, max;            /* pages; at most 65536 */
} wd_wasm_mem_decl_t;

typedef struct {
    uint8_t type;                 /* wd_wasm_valtype_t */
    uint8_t mutable_;
    uint8_t imported;
    wd_wasm_span_t init;          /* constant expression incl. final 0x0b (definitions only) */
} wd_wasm_global_decl_t;

typedef enum {
    WD_WASM_SEG_ACTIVE = 0,
    WD_WASM_SEG_PASSIVE = 1,
    WD_WASM_SEG_DECLARATIVE = 2
} wd_wasm_seg_mode_t;

typedef struct {
    wd_wasm_seg_mode_t mode;
    uint32_t table;               /* active only */
    wd_wasm_span_t offset;        /* active only: constant expression incl. 0x0b */
    uint8_t reftype;
    uint32_t nitems;
    uint32_t *func_indices;       /* flags 0..3: items are function indices, else NULL */
    wd_wasm_span_t *exprs;        /* flags 4..7: items are constant expressions, else NULL */
    uint32_t seg_off;             /* byte offset of the segment (errors) */
} wd_wasm_elem_decl_t;

typedef struct {
    wd_wasm_seg_mode_t mode;      /* ACTIVE or PASSIVE */
    uint32_t memory;              /* active only */
    wd_wasm_span_t offset;        /* active only */
    wd_wasm_span_t bytes;         /* payload */
    uint32_t seg_off;
} wd_wasm_data_decl_t;

struct wd_wasm_module {
    uint8_t *bytes;               /* private copy of the binary */
    size_t len;

    uint32_t ntypes;
    wd_wasm_functype_t *types;    /* params/results point into typepool */
    uint8_t *typepool;
    uint32_t *type_canon;         /* type_canon[i]: smallest j with types[j] == types[i] */

    uint32_t nimports;
    wd_wasm_import_desc_t *imports;
    uint32_t *import_type_index;  /* per import: type index for FUNC imports, else 0 */

    /* Function index space: imports first. */
    uint32_t nfuncs;              /* imported + defined */
    uint32_t nfuncs_imported;
    uint32_t *func_types;         /* nfuncs type indices */
    wd_wasm_func_decl_t *funcs;   /* nfuncs - nfuncs_imported definitions */

    uint32_t ntables, ntables_imported;
    wd_wasm_table_decl_t *tables;
    uint32_t nmems, nmems_imported;
    wd_wasm_mem_decl_t *mems;
    uint32_t nglobals, nglobals_imported;
    wd_wasm_global_decl_t *globals;

    uint32_t nexports;
    wd_wasm_export_desc_t *exports;

    uint8_t has_start;
    uint32_t start;

    uint32_t nelems;
    wd_wasm_elem_decl_t *elems;

    uint8_t has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    wd_wasm_data_decl_t *datas;

    /* Section offsets (for error reporting): code section start, or 0. */
    uint32_t code_section_off;

    /* Owners: the embedder (wd_wasm_module_load) plus one per instance made from it, even a
     * failed one that stays in its store because its functions may sit in a shared table.
     * wd_wasm_module_free drops the embedder's reference; the last one frees. Changed only
     * with atomics (pooled instances may live on other threads). */
    uint32_t refs;
    uint32_t compile_threads;     /* threads that validated+translated the bodies (1 = none) */
    struct wd_wasm_jit *jit;      /* compiled code (wd_wasm_jit_x64.c), or NULL */
};

/* ---- pipeline stages (each returns 0 or -1 with *err filled) ---- */
int wd_wasm_decode(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
/* Implemented by the VALID helper in validate/. Returns 0 if valid, else -1 with
 * a message, byte offset and function index (index space incl. imports) in *err. */
int wd_wasm_validate(const struct wd_wasm_module *m, const wd_wasm_load_opts_t *opts,
                     wd_wasm_error_t *err);
int wd_wasm_translate(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
/* The same stages one function body at a time (the loader runs them on
 * several threads for big modules, wd_wasm_compile.c). A validator is made by
 * the module-level checks (NULL + *err if they fail); clones share its
 * results and may run concurrently. fidx counts imports; the translator's i
 * does not. Contexts are freed clones first. */
typedef struct wd_wasm_validator wd_wasm_validator_t;
typedef struct wd_wasm_translator wd_wasm_translator_t;
wd_wasm_validator_t *wd_wasm_validator_new(const struct wd_wasm_module *m,
                                           const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
wd_wasm_validator_t *wd_wasm_validator_clone(const wd_wasm_validator_t *parent);
int wd_wasm_validate_func(wd_wasm_validator_t *v, uint32_t fidx, wd_wasm_error_t *err);
void wd_wasm_validator_free(wd_wasm_validator_t *v);
wd_wasm_translator_t *wd_wasm_translator_new(void);
int wd_wasm_translate_func(wd_wasm_translator_t *t, wd_wasm_module_t *m, uint32_t i,
                           const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
void wd_wasm_translator_free(wd_wasm_translator_t *t);
/* Validate and translate every body: wd_wasm_validate + wd_wasm_translate with the
 * same result and error, on several threads when the code is big enough. */
int wd_wasm_compile(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err);
int wd_wasm_allocator_is_default(void);
void wd_wasm_module_release(wd_wasm_module_t *m);  /* frees everything the decoder/translator built */
void wd_wasm_module_ref(const wd_wasm_module_t *m);    /* one more owner */
void wd_wasm_module_unref(const wd_wasm_module_t *m);  /* the last owner releases */
/* Diagnostics: print function func_index's translated code (FILE * passed as void *). */
void wd_wasm_code_dump(const wd_wasm_module_t *m, uint32_t func_index, void *out);

/* Effective load limits (defaults applied). */
#define WD_WASM_DEFAULT_MAX_LOCALS      50000u
#define WD_WASM_DEFAULT_MAX_BR_TABLE    1000000u
#define WD_WASM_DEFAULT_MAX_MODULE_SIZE ((size_t)256 << 20)

/* LEB128 readers shared by decoder, validator and translator. *p advances;
 * return 0 on success, else -1 with a reason ("unexpected end", "integer too
 * large", "integer representation too long"). */
int wd_wasm_read_u32(const uint8_t **p, const uint8_t *end, uint32_t *out, const char **why);
int wd_wasm_read_s32(const uint8_t **p, const uint8_t *end, int32_t *out, const char **why);
int wd_wasm_read_s33(const uint8_t **p, const uint8_t *end, int64_t *out, const char **why);
int wd_wasm_read_s64(const uint8_t **p, const uint8_t *end, int64_t *out, const char **why);

#endif /* WD_WASM_INT_H */
