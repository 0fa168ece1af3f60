/*
 * wd_host_http_int.h -- internals shared by the wasi:http host files.
 *
 * Layout: wd_host_http.c (context, handle table, Canonical ABI helpers, import
 * table and linking, request lifecycle, response head/body emission),
 * wd_host_http_fields.c (the fields resource), wd_host_http_types.c (the rest
 * of wasi:http/types and outgoing-handler), wd_host_http_io.c (wasi:io, cli,
 * clocks, random).
 *
 * Objects: a handle-table entry either carries its state inline (singletons
 * such as the incoming request, streams, pollables) or points to a
 * reference-counted object (fields, outgoing-response, error, outgoing-request,
 * request-options). Objects live on the context's list and are freed when their
 * last reference goes, or at reset.
 */
#ifndef WD_HOST_HTTP_INT_H
#define WD_HOST_HTTP_INT_H

#include <stdint.h>
#include <stddef.h>
#include "wd_wasm.h"
#include "wd_host_http.h"

typedef wd_wasm_host_rc_t wd_hh_rc_t;
#define WD_HH_ARGS wd_wasm_instance_t *caller, const uint64_t *a, uint64_t *r, void *ud
#define WD_HH_FN(name) wd_hh_rc_t name(WD_HH_ARGS)

/* Resource types (handle-table entry types). */
enum {
    WD_HH_FREE = 0,
    WD_HH_FIELDS,
    WD_HH_INREQ,
    WD_HH_INBODY,
    WD_HH_FUTTRAIL,
    WD_HH_OUTRESP,
    WD_HH_OUTBODY,
    WD_HH_OUTPARAM,
    WD_HH_INSTREAM,
    WD_HH_OUTSTREAM,
    WD_HH_POLLABLE,
    WD_HH_ERROR,
    WD_HH_OUTREQ,
    WD_HH_REQOPTS,
    WD_HH_INRESP,         /* obj: the exchange (wd_hh_exch_t) */
    WD_HH_FUTINRESP,      /* obj: the exchange */
    WD_HH_FOREIGN,        /* an index of a component's resource kept by src/host/comp (one
                             index space per component instance) */
    WD_HH_NTYPES
};

/* Stream kinds (entry.kind for INSTREAM/OUTSTREAM) and pollable kinds. */
enum { WD_HH_S_BODY = 0, WD_HH_S_STDIN, WD_HH_S_STDOUT, WD_HH_S_STDERR,
       WD_HH_S_FILE,        /* input-stream: a file of wasi:filesystem (file, aux = offset) */
       WD_HH_S_RBODY,       /* input-stream: an outgoing request's response body */
       WD_HH_S_QBODY };     /* output-stream: an outgoing request's body */
enum { WD_HH_P_READY = 0, WD_HH_P_BODY, WD_HH_P_OUTPUT, WD_HH_P_TIMER, WD_HH_P_TRAILERS,
       WD_HH_P_FUTRESP,     /* obj: exchange; its response head (or failure) is here */
       WD_HH_P_RBODY,       /* response body readable */
       WD_HH_P_QBODY,       /* request body writable */
       WD_HH_P_RTRAIL };    /* response body over */
/* entry.kind of INBODY / FUTTRAIL / OUTBODY handles that belong to an outgoing request */
#define WD_HH_K_OUTBOUND 1

typedef struct wd_hh_obj {
    struct wd_hh_obj *prev, *next;
    uint32_t refs;
    uint8_t type;
} wd_hh_obj_t;

typedef struct {
    char *name;                   /* not NUL-terminated */
    uint8_t *value;
    uint32_t name_len, value_len;
} wd_hh_field_t;

typedef struct {
    wd_hh_obj_t obj;
    wd_hh_field_t *v;             /* kept (cap entries) when the object is recycled */
    uint32_t n, cap;
    uint8_t borrowed;             /* strings point into the request head: not freed */
} wd_hh_fields_t;

typedef struct {
    wd_hh_obj_t obj;
    int status;
    wd_hh_fields_t *fields;       /* owned reference */
    uint8_t body_taken;
    uint8_t is_set;               /* it is the response given to response-outparam.set */
    uint8_t finished;             /* outgoing-body.finish succeeded */
    uint8_t broken;               /* body dropped without finish / framing error */
    uint8_t stream_taken;
    uint32_t stream_live;         /* live output-stream handles (children of the body) */
    int64_t declared_cl;          /* Content-Length set by the handler, or -1 */
    uint64_t written;             /* body bytes accepted */
    uint8_t *pre;                 /* held-back body bytes (before the head went out); the
                                     buffer (pre_cap bytes) is kept when the object is recycled */
    size_t pre_len, pre_cap;
} wd_hh_resp_t;

typedef struct {
    wd_hh_obj_t obj;
    char *msg;
    int code;                     /* wasi:http error-code case, or -1 */
} wd_hh_error_t;

/* One outgoing request and its response (wd_host_http_outgoing.c): shared by the
 * outgoing-request (its body), the future, the incoming-response, its body and stream. */
typedef struct {
    wd_hh_obj_t obj;
    const wd_host_http_outbound_t *ob;
    void *q;                      /* the embedder's request (NULL before handle / after close) */
    uint8_t *pre;                 /* body bytes written before handle() */
    size_t pre_len;
    wd_hh_fields_t *resp_fields;  /* response headers, built on first use */
    int code;                     /* failure: error-code case, else -1 */
    char *msg;
    uint8_t handled, got, consumed, stream_taken, trailers_taken;
    uint8_t body_finished, body_broken, body_eof;
} wd_hh_exch_t;

typedef struct {
    wd_hh_obj_t obj;
    wd_hh_fields_t *headers;
    wd_hh_exch_t *exch;           /* created by body() (owned reference) */
    uint8_t body_taken;
    uint8_t method;               /* method variant case */
    char *method_other, *path, *authority, *scheme_other;
    uint8_t has_path, has_authority, has_scheme, scheme;
} wd_hh_outreq_t;

typedef struct {
    wd_hh_obj_t obj;
    uint8_t has[3];
    uint64_t val[3];
} wd_hh_reqopts_t;

typedef struct {
    uint8_t type;
    uint8_t kind;
    uint8_t owns;                 /* FIELDS: 1 = owned & mutable, 0 = immutable view */
    uint32_t children;            /* live children (input-stream of a body, ...) */
    uint32_t parent;              /* handle of the parent, or 0 */
    uint32_t next_free;
    wd_hh_obj_t *obj;
    uint64_t aux;                 /* pollable: deadline; file stream: offset */
    uint32_t file;                /* file stream: the component host's descriptor */
} wd_hh_handle_t;

#define WD_HH_MAX_HANDLES 10000u    /* live handles per request */

struct wd_host_http {
    /* instance binding */
    wd_wasm_instance_t *inst;
    wd_wasm_func_t *handle_fn, *realloc_fn;
    wd_wasm_memory_t *mem;
    const char *const *env;
    size_t nenv;
    /* component bindings (wd_host_http_bind.c): while a bound import runs, the instance
     * that called it (trap messages go there) and its canonopts memory; the export's
     * post-return; the bindings made, freed with the context */
    wd_wasm_instance_t *caller;
    wd_wasm_memory_t *bound_mem;
    wd_host_http_alloc_fn alloc;  /* instead of realloc_fn (wd_host_http_call_in) */
    void *alloc_ud;
    wd_host_http_file_read_fn file_read;   /* wasi:filesystem streams */
    void *file_ud;
    const char *const *args;      /* wasmd run */
    size_t nargs;
    int stdio;
    wd_wasm_func_t *post_return_fn;
    struct wd_hh_binding *bindings;

    /* per request */
    const wd_host_http_request_head_t *req;
    const wd_host_http_backend_t *be;
    void *be_data;
    int active;                   /* a request is running */
    int in_realloc;               /* inside a cabi_realloc call: host calls trap */
    wd_wasm_trap_kind_t nested_trap;  /* why a nested cabi_realloc call trapped */
    wd_hh_handle_t *tab;
    uint32_t ntab, captab, free_head, live;
    wd_hh_obj_t objs;             /* list head of live objects */
    int resetting;
    size_t field_bytes;           /* header bytes copied for the guest this request */
    wd_hh_fields_t *req_fields;   /* request headers, built on first use */
    uint8_t req_consumed, body_stream_taken, body_eof, body_error, trailers_taken;
    uint8_t outparam_set;
    wd_hh_resp_t *resp;           /* the response set into the outparam */
    int err_status;               /* response-outparam.set(err): status to send */
    uint8_t head_sent, response_done, aborted;
    uint8_t flush_wanted;         /* the guest flushed a held-back body: commit the head when it
                                     next waits or yields (coalescing), unless it finishes first */
    unsigned wait;
    uint64_t wait_deadline;
    uint64_t pending_flush;       /* a blocking flush/write in progress (re-entry marker) */
    uint8_t *scratch;             /* body read buffer */
    size_t scratch_len;
    char outbuf[2][512];          /* stdout/stderr line buffers */
    size_t outlen[2];
    uint32_t log_lines;           /* lines logged this request (rate limit) */
    wd_host_http_outcome_t out;
    /* destroyed fields / outgoing-response objects kept for the next ones (every request
     * makes one of each): linked through obj.next, scrubbed when taken */
    wd_hh_obj_t *spare[2];
    uint32_t nspare[2];
};

/* ---- helpers (wd_host_http.c) ---- */
wd_hh_rc_t wd_hh_trap(wd_host_http_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Entry check for every host function: inside cabi_realloc -> trap. need_req: trap when no
 * request is running. Returns 0 or -1 (trap already recorded). */
int wd_hh_enter(wd_host_http_t *h, int need_req);
uint8_t *wd_hh_mem(wd_host_http_t *h, uint64_t off, uint64_t len);            /* NULL -> trap set */
const uint8_t *wd_hh_cmem(wd_host_http_t *h, uint64_t off, uint64_t len);     /* read only: not marked; NULL -> trap set */
uint8_t *wd_hh_ret(wd_host_http_t *h, uint64_t off, uint64_t len, uint32_t align);
/* Lift a guest string (UTF-8 checked) / byte list; NULL -> trap set. */
const uint8_t *wd_hh_string(wd_host_http_t *h, uint64_t ptr, uint64_t len);
const uint8_t *wd_hh_bytes(wd_host_http_t *h, uint64_t ptr, uint64_t len, uint32_t elem_size,
                           uint32_t align);
/* cabi_realloc(0, 0, align, size): returns 0 and *out, or -1 (trap set). */
int wd_hh_alloc(wd_host_http_t *h, uint32_t align, uint64_t size, uint32_t *out);
/* Allocate + copy bytes into guest memory. */
int wd_hh_lower_bytes(wd_host_http_t *h, const void *p, size_t len, uint32_t *out);

/* handles */
uint32_t wd_hh_new(wd_host_http_t *h, uint8_t type, uint8_t kind, wd_hh_obj_t *obj);  /* 0 -> trap */
wd_hh_handle_t *wd_hh_get(wd_host_http_t *h, uint64_t idx, uint8_t type);         /* NULL -> trap */
void wd_hh_remove(wd_host_http_t *h, uint32_t idx);   /* releases the obj reference */
const char *wd_hh_type_name(uint8_t type);

/* objects */
void *wd_hh_obj_new(wd_host_http_t *h, size_t size, uint8_t type);
void wd_hh_obj_ref(wd_hh_obj_t *o);
void wd_hh_obj_release(wd_host_http_t *h, wd_hh_obj_t *o);

/* fields (wd_host_http_fields.c) */
wd_hh_fields_t *wd_hh_fields_new(wd_host_http_t *h);
/* Frees the entries' bytes (n = 0); the entry array is kept unless it is large. */
void wd_hh_fields_free_entries(wd_hh_fields_t *f);
wd_hh_fields_t *wd_hh_fields_clone(wd_host_http_t *h, const wd_hh_fields_t *f);
int wd_hh_field_name_ok(const uint8_t *p, size_t n);
int wd_hh_field_value_ok(const uint8_t *p, size_t n);
int wd_hh_field_forbidden(const uint8_t *p, size_t n);
/* Content-Length of f: -1 none, -2 invalid/inconsistent, else the value. */
int64_t wd_hh_fields_content_length(const wd_hh_fields_t *f);
wd_hh_fields_t *wd_hh_request_fields(wd_host_http_t *h);

/* response emission (wd_host_http.c) */
int wd_hh_body_write(wd_host_http_t *h, wd_hh_resp_t *rs, const uint8_t *p, size_t n);
int wd_hh_body_flush(wd_host_http_t *h, wd_hh_resp_t *rs);    /* commits the head */
size_t wd_hh_body_budget(wd_host_http_t *h, wd_hh_resp_t *rs);
int wd_hh_body_drained(wd_host_http_t *h, wd_hh_resp_t *rs);  /* pending <= LOW */
int wd_hh_body_finish(wd_host_http_t *h, wd_hh_resp_t *rs);
int wd_hh_response_set(wd_host_http_t *h, wd_hh_resp_t *rs);
void wd_hh_guest_output(wd_host_http_t *h, int is_stderr, const uint8_t *p, size_t n);

/* result stores shared by wasi:io streams (wd_host_http_io.c) */
int wd_hh_stream_err(wd_host_http_t *h, uint32_t g, uint32_t off, uint32_t size,
                     uint32_t align, int failed, const char *msg, int code);
wd_hh_rc_t wd_hh_store_list(wd_host_http_t *h, uint32_t g, uint32_t ptr, uint32_t len);
wd_hh_rc_t wd_hh_store_u64_ok(wd_host_http_t *h, uint32_t g, uint64_t v);
wd_hh_rc_t wd_hh_store_unit_ok(wd_host_http_t *h, uint32_t g);

/* outgoing requests (wd_host_http_outgoing.c) */
void wd_hh_exch_destroy(wd_host_http_t *h, wd_hh_exch_t *x);
int wd_hh_ob_pollable_ready(wd_host_http_t *h, wd_hh_handle_t *e, unsigned *wait);
wd_hh_rc_t wd_hh_ob_in_read(wd_host_http_t *h, wd_hh_handle_t *e, uint64_t want, uint32_t g,
                            int blocking, int skip);
wd_hh_rc_t wd_hh_ob_in_subscribe(wd_host_http_t *h, wd_hh_handle_t *e, uint64_t *r);
/* output-stream calls on a request body: op 0 check-write, 1 write, 2 blocking-write-and-flush,
 * 3 flush, 4 blocking-flush, 5 subscribe, 6 write-zeroes, 7 blocking-write-zeroes-and-flush */
wd_hh_rc_t wd_hh_ob_out(wd_host_http_t *h, uint32_t idx, wd_hh_handle_t *e, int op,
                        const uint8_t *p, uint64_t n, uint32_t g, uint64_t *r);
wd_hh_rc_t wd_hh_ob_splice(wd_host_http_t *h, wd_hh_handle_t *dst, wd_hh_handle_t *src,
                           uint64_t len, uint32_t g, int blocking);
wd_hh_rc_t wd_hh_ob_body_call(wd_host_http_t *h, uint32_t idx, wd_hh_handle_t *e, int op,
                              const uint64_t *a, uint64_t *r);
int wd_hh_fields_add(wd_host_http_t *h, wd_hh_fields_t *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl);

/* error-code lowering: writes a 32-byte error-code at p (8-aligned guest address g). */
int wd_hh_store_error_code(wd_host_http_t *h, uint32_t g, int code, const char *msg);
uint32_t wd_hh_new_error(wd_host_http_t *h, const char *msg, int code);  /* error handle */

uint64_t wd_hh_now_ns(int clock);

/* component bindings (wd_host_http_bind.c) */
void wd_hh_bindings_free(wd_host_http_t *h);

/* import tables */
typedef struct {
    const char *name;
    const char *sig;
    wd_wasm_host_fn fn;
} wd_hh_import_t;

typedef struct {
    const char *iface;            /* "wasi:http/types" */
    const wd_hh_import_t *funcs;
} wd_hh_iface_t;

extern const wd_hh_import_t wd_hh_types_imports[];
extern const wd_hh_import_t wd_hh_outgoing_imports[];
extern const wd_hh_import_t wd_hh_outgoing_types_imports[];
extern const wd_hh_import_t wd_hh_streams_imports[];
extern const wd_hh_import_t wd_hh_poll_imports[];
extern const wd_hh_import_t wd_hh_error_imports[];
extern const wd_hh_import_t wd_hh_stdin_imports[];
extern const wd_hh_import_t wd_hh_stdout_imports[];
extern const wd_hh_import_t wd_hh_stderr_imports[];
extern const wd_hh_import_t wd_hh_env_imports[];
extern const wd_hh_import_t wd_hh_exit_imports[];
extern const wd_hh_import_t wd_hh_monotonic_imports[];
extern const wd_hh_import_t wd_hh_wall_imports[];
extern const wd_hh_import_t wd_hh_random_imports[];
extern const wd_hh_import_t wd_hh_insecure_imports[];
extern const wd_hh_import_t wd_hh_seed_imports[];
extern const wd_hh_import_t wd_hh_fields_imports[];
/* The hand-lowered function NAME of interface MOD (any @0.2.N), or NULL; *iface_known
 * says whether MOD is one of ours. */
const wd_hh_import_t *wd_hh_find_import(const char *mod, size_t mlen, const char *name,
                                        size_t nlen, int *iface_known);

#define WD_HH_H ((wd_host_http_t *)ud)
#define WD_HH_ENTER(h, need) do { (void)caller; if (wd_hh_enter((h), (need)) < 0) return WD_WASM_HOST_TRAP; } while (0)

#endif /* WD_HOST_HTTP_INT_H */
