/*
 * wd_host_http.h -- the wasi:http 0.2 host side: what a pooled handler instance
 * imports, and how the server drives one request through it.
 *
 * A handler is a core module exporting `wasi:http/incoming-handler@0.2.N#handle`
 * (or the unversioned name), `memory` and `cabi_realloc`, and importing the
 * Canonical ABI lowering of the wasi:http proxy world (wasi:http/types,
 * wasi:io/{streams,poll,error}, wasi:cli/{stdin,stdout,stderr,environment,exit},
 * wasi:clocks/{monotonic-clock,wall-clock}, wasi:random/{random,insecure,
 * insecure-seed}, wasi:http/outgoing-handler), each at any @0.2.x version.
 *
 * One wd_host_http_t belongs to one pooled instance for its whole life
 * (created before instantiation, bound to the instance's store by
 * wd_host_http_link). Per request, it owns a handle table: resources the guest
 * sees as i32 indices (0 is never valid), checked for existence and type on
 * every call; a bad handle, a bad pointer/length or a Canonical ABI violation
 * traps the instance, never the host. wd_host_http_reset() drops every handle.
 *
 * The server side is abstract (wd_host_http_backend_t): a request head, a body
 * source that may say "would block", and a response sink with a pending-bytes
 * count for back-pressure. When a guest call would block (blocking-read with no
 * data, a write while the sink is behind, poll on unready pollables), the host
 * function returns WD_WASM_HOST_SUSPEND; wd_host_http_start/resume then report
 * WD_HOST_HTTP_WAIT and wd_host_http_waiting() says on what. The embedder
 * calls wd_host_http_resume() when anything relevant happened (spurious
 * resumes are harmless: the host function re-checks and suspends again).
 *
 * The host owns framing: the response head is built from validated fields
 * (token names; no CR/LF/NUL in values; hop-by-hop names refused; one
 * consistent Content-Length), status 200-599 (set-status-code refuses others),
 * a body never longer than a declared Content-Length. Bodies up to
 * WD_HOST_HTTP_PREBUF bytes finished without a flush get a Content-Length;
 * longer or flushed ones are streamed (the backend chunks them when no
 * Content-Length was declared).
 *
 * Outcomes: when the export returns, traps, or is cancelled, the host has
 * already told the backend what to do: a complete response (finish), an error
 * response (500 for traps/fuel/memory/no response, 504 for a deadline) when no
 * head was sent yet, or abort (connection closed, no final chunk) when the head
 * was already out. wd_host_http_outcome() describes what happened for the log.
 */
#ifndef WD_HOST_HTTP_H
#define WD_HOST_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "wd_wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wd_host_http wd_host_http_t;

/* Backend return codes (same values as src/core's WD_OK/WD_ERROR/WD_AGAIN/WD_DONE). */
#define WD_HOST_HTTP_OK      0
#define WD_HOST_HTTP_ERROR  -1
#define WD_HOST_HTTP_AGAIN  -2
#define WD_HOST_HTTP_DONE   -4

/* Bytes of response body held back (to send a Content-Length) before streaming starts. */
#define WD_HOST_HTTP_PREBUF  16384
/* The sink is "behind" above this many pending bytes (check-write budget = HIGH - pending). */
#define WD_HOST_HTTP_HIGH_WATER  65536
#define WD_HOST_HTTP_LOW_WATER   16384

typedef struct {
    const char *name, *value;
    size_t name_len, value_len;
} wd_host_http_header_t;

/* The request as the guest sees it; everything must stay valid until the request ends. */
typedef struct {
    const char *method;           /* "GET", ... */
    size_t method_len;
    const char *path;             /* path with query as received */
    size_t path_len;
    const char *authority;        /* Host, or NULL */
    size_t authority_len;
    int https;
    const wd_host_http_header_t *headers;
    size_t nheaders;
} wd_host_http_request_head_t;

/* Outgoing HTTP (wasi:http/outgoing-handler): what the guest asked for, and the
 * embedder's client behind an abstract interface (the host stays free of sockets). */
typedef struct {
    const char *method;               /* "GET", ... (a token) */
    int https;                        /* scheme: 0 http, 1 https, -1 other (scheme below) */
    const char *scheme;               /* "http", "https" or the guest's other scheme */
    const char *authority;            /* host[:port] */
    const char *path;                 /* path-with-query, "/" if none */
    const wd_host_http_header_t *headers;
    size_t nheaders;
    int body;                         /* a body follows (outgoing-body) */
    int64_t content_length;           /* the guest's Content-Length, or -1 */
    uint64_t timeout_ns[3];           /* connect, first-byte, between-bytes; 0 = none */
} wd_host_http_ob_request_t;

typedef struct {
    /* Start a request; NULL with *code (a wasi:http error-code case, e.g. 15
     * HTTP-request-denied) and msg when it cannot be. The embedder resumes the host
     * whenever anything happens on one of its requests (WD_HOST_HTTP_WAIT_OUTBOUND). */
    void *(*start)(void *be, const wd_host_http_ob_request_t *rq, int *code, char *msg,
                   size_t msglen);
    /* 0 response head not yet here, 1 here, -1 failed (*code, *msg). Also tells why a
     * body read failed. */
    int (*head_state)(void *q, int *code, const char **msg);
    int (*status)(void *q);
    size_t (*nheaders)(void *q);
    void (*header)(void *q, size_t i, wd_host_http_header_t *hd);
    /* Response body: > 0 bytes, 0 nothing now, -1 end, -2 failed (head_state says why). */
    long (*read)(void *q, uint8_t *buf, size_t len);
    int (*readable)(void *q);
    /* Request body: 0, -1 failed, -2 longer than its Content-Length; bytes not yet sent;
     * the end (0, -1, -2 shorter than its Content-Length). */
    int (*write)(void *q, const uint8_t *p, size_t n);
    size_t (*pending)(void *q);
    int (*finish)(void *q);
    /* The guest is done with it (every handle dropped, or the request ended). */
    void (*close)(void *q);
    /* Optional (NULL: no trailers either way). Response trailers once the body ended;
     * the end of a request body with trailer fields (as finish). */
    size_t (*ntrailers)(void *q);
    void (*trailer)(void *q, size_t i, wd_host_http_header_t *hd);
    int (*finish_trailers)(void *q, const wd_host_http_header_t *t, size_t n);
} wd_host_http_outbound_t;

/* The server side of one request. Every function gets the `be` pointer passed to
 * wd_host_http_start. */
typedef struct {
    /* Request body: copy up to len bytes into buf. Returns OK with *n > 0, AGAIN
     * (nothing now: the backend resumes the host when data or EOF arrives), DONE
     * (end of body), ERROR (client gone / bad framing). */
    int (*read_body)(void *be, uint8_t *buf, size_t len, size_t *n);
    /* Nonzero if read_body would not return AGAIN. */
    int (*body_ready)(void *be);
    /* Response head: status, validated header fields (hop-by-hop free), and
     * content_length >= 0 if known (the fields then contain exactly that
     * Content-Length), -1 to stream (chunked). Returns OK or ERROR (client gone). */
    int (*send_head)(void *be, int status, const wd_host_http_header_t *h, size_t nh,
                     int64_t content_length);
    /* Queue body bytes (always accepted unless the client is gone: OK / ERROR). */
    int (*write)(void *be, const uint8_t *p, size_t n);
    /* Bytes queued but not yet written to the socket (back-pressure). */
    size_t (*pending)(void *be);
    /* End of the response body (final chunk if chunked). OK / ERROR. */
    int (*finish)(void *be);
    /* Abandon a response whose head was sent: close without completing it. */
    void (*abort)(void *be);
    /* An error response before any head: status (400 after a request body error,
     * 500/503/504), generic body. */
    void (*error)(void *be, int status);
    /* Guest output (wasi:cli stdout/stderr): one line at a time, already rate-limited. */
    void (*log)(void *be, int is_stderr, const char *line, size_t len);
    /* Outgoing requests; NULL: outgoing-handler.handle fails with an internal error. */
    const wd_host_http_outbound_t *outbound;
} wd_host_http_backend_t;

typedef enum {
    WD_HOST_HTTP_FINISHED = 0,    /* the call is over; the backend has been told the outcome */
    WD_HOST_HTTP_WAIT = 1,        /* suspended on I/O or a timer: see wd_host_http_waiting */
    WD_HOST_HTTP_YIELD = 2        /* suspended by the engine's fuel slice: resume when fair */
} wd_host_http_run_t;

/* What a suspended guest waits for (bit set), and the earliest timer deadline. */
#define WD_HOST_HTTP_WAIT_BODY   1u   /* request body data / EOF */
#define WD_HOST_HTTP_WAIT_WRITE  2u   /* response sink pending <= LOW_WATER */
#define WD_HOST_HTTP_WAIT_TIMER  4u   /* *deadline_ns (CLOCK_MONOTONIC) */
#define WD_HOST_HTTP_WAIT_OUTBOUND 8u /* an outgoing request's progress */
unsigned wd_host_http_waiting(const wd_host_http_t *h, uint64_t *deadline_ns);

/* How the request ended (valid after FINISHED). */
typedef enum {
    WD_HOST_HTTP_OUT_OK = 0,      /* response completed */
    WD_HOST_HTTP_OUT_ERROR,       /* error response sent (status below) */
    WD_HOST_HTTP_OUT_ABORTED      /* head was sent, then the response was aborted */
} wd_host_http_outcome_kind_t;

typedef struct {
    wd_host_http_outcome_kind_t kind;
    int status;                   /* status sent (handler's, or 500/504) */
    wd_wasm_trap_kind_t trap;     /* WD_TRAP_NONE if the export returned */
    char reason[256];             /* why it failed ("" if OK) */
    uint64_t body_bytes;          /* response body bytes handed to the backend */
} wd_host_http_outcome_t;

typedef struct {
    /* Environment for wasi:cli/environment (NAME=VALUE strings, not copied). */
    const char *const *env;
    size_t nenv;
    /* wasmd run (a command): wasi:cli/environment get-arguments (not copied) */
    const char *const *args;
    size_t nargs;
    /* wasmd run: 1 = stdin reads fd 0, stdout/stderr write fds 1 and 2 as is, and host
     * functions are callable without a request (no backend) */
    int stdio;
} wd_host_http_conf_t;

wd_host_http_t *wd_host_http_new(const wd_host_http_conf_t *conf);
void wd_host_http_free(wd_host_http_t *h);

/* Nonzero if (module, name) is an import this host provides (any 0.2.x version);
 * then *sig is its core signature, e.g. "iiiiii:" (params:results; i = i32, I = i64). */
int wd_host_http_provides(const char *module, size_t mlen, const char *name, size_t nlen,
                          const char **sig);
/* The i-th provided import (interface without version, function name, core signature);
 * 0, or -1 past the end. */
int wd_host_http_import_at(size_t i, const char **iface, const char **name, const char **sig);
/* Checks that m is a wasi:http handler: the handle export (type (i32,i32)->()), memory,
 * cabi_realloc ((i32,i32,i32,i32)->i32), and every non-preview1 import is one of ours with
 * the right type. Returns 0, or -1 with err->msg set (err->offset -1). Preview1 imports
 * are left to the WASI host. */
int wd_host_http_check_module(const wd_wasm_module_t *m, wd_wasm_error_t *err);
/* One import: 1 if it is ours and well-typed, 0 if it is not ours (wasi_snapshot_preview1),
 * -1 with err->msg ("unknown import: MOD::NAME", "incompatible import type: ..."). */
int wd_host_http_check_import(const wd_wasm_import_desc_t *d, wd_wasm_error_t *err);
/* Nonzero if m exports a wasi:http handle function (else it may be a `_start` command). */
int wd_host_http_is_handler(const wd_wasm_module_t *m);

/* Create host functions in s for every wasi:http-world import of m and store them in
 * imports[i]; entries of other modules (wasi_snapshot_preview1) are left untouched.
 * Returns the number linked or -1 with err filled ("unknown import: MOD::NAME",
 * "incompatible import type: MOD::NAME"). */
int wd_host_http_link(wd_host_http_t *h, wd_wasm_store_t *s, const wd_wasm_module_t *m,
                      wd_wasm_extern_t *imports, wd_wasm_error_t *err);
/* After instantiation: find the exports (handle, cabi_realloc, memory). 0 or -1. */
int wd_host_http_attach(wd_host_http_t *h, wd_wasm_instance_t *inst, wd_wasm_error_t *err);

/* ---- components (src/host/wd_host_comp.h binds these) ----
 * 1 if NAME of interface IFACE (any @0.2.N) is a function of ours whose core signature is
 * type, 0 if not ours at all, -1 if IFACE is ours but NAME is not or has another type
 * (msg says so). */
int wd_host_http_has(const char *iface, const char *name, const wd_wasm_functype_t *type,
                     char *msg, size_t msglen);
/* The core function for a component's `canon lower` of IFACE#NAME (UTF-8 strings), bound to
 * its canonopts memory and realloc (either may be NULL when the type needs none). NULL with
 * msg when not provided. Freed with h. */
wd_wasm_func_t *wd_host_http_bind(wd_host_http_t *h, wd_wasm_store_t *s, const char *iface,
                                  const char *name, const wd_wasm_functype_t *type,
                                  wd_wasm_memory_t *mem, wd_wasm_func_t *realloc, char *msg,
                                  size_t msglen);
/* Components lowering with another string encoding (src/host/comp transcodes their values
 * through the Canonical ABI layer): the hand-lowered function of IFACE#NAME whose core type
 * is `type` (NULL with msg, as wd_host_http_bind), and a call of it whose strings, lists and
 * return areas are in `mem` (a host scratch memory, UTF-8) and whose allocations go through
 * alloc (0, or -1: no memory) instead of a guest realloc; handles are this context's. */
typedef int (*wd_host_http_alloc_fn)(void *ud, uint32_t align, uint32_t size, uint32_t *ptr);
wd_wasm_host_fn wd_host_http_fn(const char *iface, const char *name,
                                const wd_wasm_functype_t *type, char *msg, size_t msglen);
wd_wasm_host_rc_t wd_host_http_call_in(wd_host_http_t *h, wd_wasm_host_fn fn,
                                       wd_wasm_instance_t *caller, wd_wasm_memory_t *mem,
                                       wd_host_http_alloc_fn alloc, void *alloc_ud,
                                       const uint64_t *a, uint64_t *r);
/* Instead of wd_host_http_attach for a component: the lifted handle export's core function,
 * its canonopts and post-return (or NULL), and the core instance it is called in. */
int wd_host_http_attach_export(wd_host_http_t *h, wd_wasm_instance_t *thread,
                               wd_wasm_func_t *handle, wd_wasm_memory_t *mem,
                               wd_wasm_func_t *realloc, wd_wasm_func_t *post_return,
                               char *msg, size_t msglen);

/* wasi:filesystem (src/host/comp): input-streams reading a file of the component host.
 * read: > 0 bytes, 0 at the end, -1 error. file_stream makes an input-stream handle
 * reading `file` from offset `off` (0 with a trap recorded when the table is full). */
typedef long (*wd_host_http_file_read_fn)(void *ud, uint32_t file, uint64_t off, uint8_t *buf,
                                          size_t len);
void wd_host_http_set_file_reader(wd_host_http_t *h, wd_host_http_file_read_fn fn, void *ud);
uint32_t wd_host_http_file_stream(wd_host_http_t *h, uint32_t file, uint64_t off);

/* wasmd run: the core instance a command's export runs in (traps, realloc) and the
 * canonopts of its lift. */
void wd_host_http_set_thread(wd_host_http_t *h, wd_wasm_instance_t *thread,
                             wd_wasm_memory_t *mem, wd_wasm_func_t *realloc);

/* Run one request: creates the incoming-request and response-outparam handles and calls
 * the handle export. The caller has set fuel on the instance. */
wd_host_http_run_t wd_host_http_start(wd_host_http_t *h, const wd_host_http_request_head_t *req,
                                      const wd_host_http_backend_t *be, void *be_data);
wd_host_http_run_t wd_host_http_resume(wd_host_http_t *h);
/* Cancel a suspended (or yielded) call: deadline (504 / abort) or client gone (abort,
 * nothing sent). Afterwards the request is FINISHED. */
#define WD_HOST_HTTP_CANCEL_TIMEOUT 1
#define WD_HOST_HTTP_CANCEL_CLIENT  2
void wd_host_http_cancel(wd_host_http_t *h, int why);
const wd_host_http_outcome_t *wd_host_http_outcome(const wd_host_http_t *h);
/* Drop every handle and per-request object (call after each request, with wd_wasm_restore). */
void wd_host_http_reset(wd_host_http_t *h);
/* Components: one handle index space for the whole component instance. The component host
 * keeps its own resources' handles (guest-defined, filesystem, keyvalue) at indices
 * reserved here, so no index names two handles and a handle of one kind passed where the
 * other is expected traps. 0: the table is full (WD_HH_MAX_HANDLES live handles in all).
 * Released indices are reused; wd_host_http_reset releases all. */
uint32_t wd_host_http_reserve_handle(wd_host_http_t *h);
void wd_host_http_release_handle(wd_host_http_t *h, uint32_t idx);
/* Number of live handles (tests). */
uint32_t wd_host_http_live_handles(const wd_host_http_t *h);

#ifdef __cplusplus
}
#endif
#endif /* WD_HOST_HTTP_H */
