/*
 * wasmd.h -- a small C SDK for writing wasmd request handlers (wasi:http 0.2).
 *
 * A handler is a core WebAssembly module that exports
 * `wasi:http/incoming-handler@0.2.0#handle`, `memory` and `cabi_realloc`, and
 * imports the Canonical ABI lowering of the wasi:http proxy world. This header
 * hides all of that: include it in exactly one .c file, define
 *
 *     void wasmd_handle(wasmd_request *req, wasmd_response *resp);
 *
 * and build with `clang --target=wasm32-wasi -mexec-model=reactor -O2`.
 * (Other files of the same handler include it with WASMD_DECLARATIONS_ONLY
 * defined: they get the API but not the exports.)
 *
 * Request side: method, path (with query), authority, headers by name or by
 * index, and a streaming body read that waits for data (the server suspends
 * the handler's instance; the worker keeps serving others meanwhile).
 * Response side: status and headers, then body writes (streamed to the client
 * as they come, waiting while the client is slow), then wasmd_finish(). The
 * response head goes out at the first write or at finish; wasmd_finish() is
 * called for you if the handler returns without it. A response whose handler
 * sets Content-Length must write exactly that many bytes.
 *
 * Every instance is restored to its pristine state after each request, so a
 * handler may leak memory freely within one request; allocations live until
 * the response is done. Strings returned by the request accessors are
 * NUL-terminated and stay valid for the whole request.
 *
 * The ABI underneath is described in the README ("Handler ABI"); the import
 * signatures below follow the Canonical ABI flattening rules (more than one
 * flat result -> a trailing return-area pointer parameter).
 */
#ifndef WASMD_H
#define WASMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmd_request wasmd_request;
typedef struct wasmd_response wasmd_response;

/* ---- the function you write ---- */
void wasmd_handle(wasmd_request *req, wasmd_response *resp);

/* ---- request ---- */
/* "GET", "POST", ... (or the extension method as sent). */
const char *wasmd_method(wasmd_request *req);
/* Path with query, e.g. "/api/items?id=3"; "" if none. */
const char *wasmd_path(wasmd_request *req);
/* The query part without '?', or "" (points into wasmd_path's string). */
const char *wasmd_query(wasmd_request *req);
/* Host header / URI authority, or "" if none. */
const char *wasmd_authority(wasmd_request *req);
/* First value of header `name` (case-insensitive), NUL-terminated, or NULL. */
const char *wasmd_header(wasmd_request *req, const char *name);
/* Number of request header fields, and the i-th one (name/value NUL-terminated). */
size_t wasmd_header_count(wasmd_request *req);
int wasmd_header_at(wasmd_request *req, size_t i, const char **name, const char **value);
/* Reads up to len bytes of the request body, waiting until at least one byte
 * arrives. Returns the byte count, WASMD_BODY_END (0) at the end of the body,
 * or WASMD_BODY_ERROR (-1) when the body failed: malformed framing (e.g. a bad
 * chunk), too large, timed out, or the client went away. The two are never
 * confused: after WASMD_BODY_ERROR the body is incomplete and must not be
 * treated as the whole request. Just return from wasmd_handle: the server
 * answers the client's error itself (400/408/413) if no byte of the response
 * was sent, else it aborts the response (no complete-looking reply). Any
 * response the handler still makes is refused. */
#define WASMD_BODY_END    0
#define WASMD_BODY_ERROR  (-1)
long wasmd_read(wasmd_request *req, void *buf, size_t len);
/* Nonzero once wasmd_read has returned WASMD_BODY_ERROR. */
int wasmd_body_failed(wasmd_request *req);

/* ---- response ---- */
/* Status code (100-599 not counting 1xx which are refused; default 200).
 * Returns 0, or -1 if the code is invalid or the head was already sent. */
int wasmd_set_status(wasmd_response *resp, int status);
/* Adds a header field. Returns 0, or -1 if the server refused it (invalid
 * characters, a hop-by-hop or forbidden name) or the head was already sent. */
int wasmd_add_header(wasmd_response *resp, const char *name, const char *value);
/* Writes body bytes (sends the head first if needed); waits while the client
 * is behind. Returns 0, or -1 if the client has gone or the write was refused
 * (e.g. more bytes than the Content-Length you set). */
int wasmd_write(wasmd_response *resp, const void *data, size_t len);
int wasmd_write_str(wasmd_response *resp, const char *s);
/* Ends the response. Returns 0, or -1 if the server refused the body (e.g. a
 * Content-Length mismatch). Further writes fail. */
int wasmd_finish(wasmd_response *resp);
/* Convenience: status + Content-Type + whole body + finish. */
int wasmd_respond(wasmd_response *resp, int status, const char *content_type,
                  const void *body, size_t len);

/* ---- small helpers (no libc stdio needed) ---- */
/* Formats v in decimal into buf (>= 21 bytes); returns the length. */
size_t wasmd_fmt_int(char *buf, long long v);
/* Writes s JSON-escaped (without the surrounding quotes). */
int wasmd_write_json_string(wasmd_response *resp, const char *s, size_t len);
/* Writes to the server's error log (tagged with the route). */
void wasmd_log(const char *msg);

/* ---- outgoing requests (wasi:http/outgoing-handler) ----
 * The route must allow the destination (`wasm_outbound_allow`). Every call that
 * waits suspends the instance (the worker serves others meanwhile). */
typedef struct wasmd_fetch wasmd_fetch;
/* Starts METHOD url ("http://host[:port]/path?query" or https://...). headers is
 * NULL or a NULL-terminated list of name, value pairs. With has_body, the body is
 * written with wasmd_fetch_write and ended with wasmd_fetch_end (chunked unless a
 * content-length header is given). Returns NULL only when out of handles; a refused
 * request (denied, limits) reports its error through wasmd_fetch_wait. */
wasmd_fetch *wasmd_fetch_start(const char *method, const char *url,
                               const char *const *headers, int has_body);
/* The same with request-options timeouts in milliseconds (0: none): connect (resolve,
 * connect, TLS), first byte of the response, between bytes of the response. */
wasmd_fetch *wasmd_fetch_start_timeouts(const char *method, const char *url,
                                        const char *const *headers, int has_body,
                                        unsigned connect_ms, unsigned first_byte_ms,
                                        unsigned between_bytes_ms);
/* Request body: waits while the upstream is behind. 0 or -1. */
int wasmd_fetch_write(wasmd_fetch *f, const void *data, size_t len);
int wasmd_fetch_end(wasmd_fetch *f);
/* Waits for the response head: the status, or -1 (wasmd_fetch_error says why). */
int wasmd_fetch_wait(wasmd_fetch *f);
/* Waits until one of n requests has its head (or failed); returns its index. */
size_t wasmd_fetch_wait_any(wasmd_fetch **fs, size_t n);
/* 1 if the head (or the failure) is here, without waiting. */
int wasmd_fetch_ready(wasmd_fetch *f);
/* The wasi:http error-code case of a failed request (15 HTTP-request-denied, 35
 * HTTP-protocol-error, ...), or -1. */
int wasmd_fetch_error(wasmd_fetch *f);
/* First response header named name, NUL-terminated, or NULL. */
const char *wasmd_fetch_header(wasmd_fetch *f, const char *name);
/* Number of response header fields, and the i-th (NUL-terminated). */
size_t wasmd_fetch_header_count(wasmd_fetch *f);
int wasmd_fetch_header_at(wasmd_fetch *f, size_t i, const char **name, const char **value);
/* Reads the response body, waiting for data: bytes, 0 at the end, -1 on error. */
long wasmd_fetch_read(wasmd_fetch *f, void *buf, size_t len);
/* Drops everything (the connection is reused only if the exchange completed). */
void wasmd_fetch_close(wasmd_fetch *f);
/* Ends the request body with trailer fields (NULL-terminated name, value, ... list; a
 * chunked body carries them, one with a Content-Length cannot). 0 or -1. */
int wasmd_fetch_end_trailers(wasmd_fetch *f, const char *const *trailers);
/* A response trailer field (chunked responses), once wasmd_fetch_read returned 0 (the
 * end of the body); NULL if absent. The first call waits for the trailer section. */
const char *wasmd_fetch_trailer(wasmd_fetch *f, const char *name);

#ifndef WASMD_DECLARATIONS_ONLY

/* ------------------------------------------------------------------------- *
 * Implementation: Canonical ABI lowering of the imports we use.
 * Handles are i32 indices owned by the server; 0 is never a valid handle.
 * ------------------------------------------------------------------------- */
#define WASMD__IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define WASMD__T "wasi:http/types@0.2.0"
#define WASMD__S "wasi:io/streams@0.2.0"

/* wasi:http/types */
WASMD__IMPORT(WASMD__T, "[method]incoming-request.method")
void wasmd__req_method(int32_t self, void *ret);                  /* variant method, 12 bytes */
WASMD__IMPORT(WASMD__T, "[method]incoming-request.path-with-query")
void wasmd__req_path(int32_t self, void *ret);                    /* option<string>, 12 bytes */
WASMD__IMPORT(WASMD__T, "[method]incoming-request.authority")
void wasmd__req_authority(int32_t self, void *ret);               /* option<string>, 12 bytes */
WASMD__IMPORT(WASMD__T, "[method]incoming-request.headers")
int32_t wasmd__req_headers(int32_t self);                         /* own<fields> */
WASMD__IMPORT(WASMD__T, "[method]incoming-request.consume")
void wasmd__req_consume(int32_t self, void *ret);                 /* result<own<incoming-body>> */
WASMD__IMPORT(WASMD__T, "[resource-drop]incoming-request")
void wasmd__req_drop(int32_t self);
WASMD__IMPORT(WASMD__T, "[method]incoming-body.stream")
void wasmd__body_stream(int32_t self, void *ret);                 /* result<own<input-stream>> */
WASMD__IMPORT(WASMD__T, "[resource-drop]incoming-body")
void wasmd__body_drop(int32_t self);
WASMD__IMPORT(WASMD__T, "[constructor]fields")
int32_t wasmd__fields_new(void);
WASMD__IMPORT(WASMD__T, "[method]fields.append")
void wasmd__fields_append(int32_t self, const char *n, size_t nlen, const void *v, size_t vlen,
                          void *ret);                             /* result<_, header-error>, 2 bytes */
WASMD__IMPORT(WASMD__T, "[method]fields.get")
void wasmd__fields_get(int32_t self, const char *n, size_t nlen, void *ret); /* list<list<u8>> */
WASMD__IMPORT(WASMD__T, "[method]fields.entries")
void wasmd__fields_entries(int32_t self, void *ret);              /* list<tuple<string,list<u8>>> */
WASMD__IMPORT(WASMD__T, "[resource-drop]fields")
void wasmd__fields_drop(int32_t self);
WASMD__IMPORT(WASMD__T, "[constructor]outgoing-response")
int32_t wasmd__resp_new(int32_t headers);
WASMD__IMPORT(WASMD__T, "[method]outgoing-response.set-status-code")
int32_t wasmd__resp_set_status(int32_t self, int32_t code);       /* result: 0 ok, 1 err */
WASMD__IMPORT(WASMD__T, "[method]outgoing-response.body")
void wasmd__resp_body(int32_t self, void *ret);                   /* result<own<outgoing-body>> */
WASMD__IMPORT(WASMD__T, "[method]outgoing-body.write")
void wasmd__obody_write(int32_t self, void *ret);                 /* result<own<output-stream>> */
WASMD__IMPORT(WASMD__T, "[static]outgoing-body.finish")
void wasmd__obody_finish(int32_t self, int32_t has_trailers, int32_t trailers,
                         void *ret);                              /* result<_, error-code>, 40 bytes */
WASMD__IMPORT(WASMD__T, "[static]response-outparam.set")
void wasmd__outparam_set(int32_t param, int32_t is_err, int32_t a, int32_t b, int64_t c,
                         int32_t d, int32_t e, int32_t f, int32_t g);

/* wasi:io/streams */
WASMD__IMPORT(WASMD__S, "[method]input-stream.blocking-read")
void wasmd__in_blocking_read(int32_t self, int64_t len, void *ret); /* result<list<u8>, stream-error> */
WASMD__IMPORT(WASMD__S, "[resource-drop]input-stream")
void wasmd__in_drop(int32_t self);
WASMD__IMPORT(WASMD__S, "[method]output-stream.check-write")
void wasmd__out_check_write(int32_t self, void *ret);             /* result<u64, stream-error>, 16 bytes */
WASMD__IMPORT(WASMD__S, "[method]output-stream.write")
void wasmd__out_write(int32_t self, const void *p, size_t len, void *ret); /* result<_, stream-error> */
WASMD__IMPORT(WASMD__S, "[method]output-stream.blocking-flush")
void wasmd__out_blocking_flush(int32_t self, void *ret);
WASMD__IMPORT(WASMD__S, "[resource-drop]output-stream")
void wasmd__out_drop(int32_t self);
WASMD__IMPORT("wasi:io/error@0.2.0", "[resource-drop]error")
void wasmd__error_drop(int32_t self);
WASMD__IMPORT("wasi:cli/stderr@0.2.0", "get-stderr")
int32_t wasmd__get_stderr(void);
WASMD__IMPORT(WASMD__S, "[method]output-stream.blocking-write-and-flush")
void wasmd__out_blocking_write_and_flush(int32_t self, const void *p, size_t len, void *ret);

/* Canonical ABI return areas (layouts per the Canonical ABI, wasm32). */
typedef struct { uint8_t tag; uint8_t _p[3]; const char *ptr; size_t len; } wasmd__opt_string;
typedef struct { uint8_t is_err; uint8_t _p[3]; int32_t val; } wasmd__result_handle;
typedef struct { const uint8_t *ptr; size_t len; } wasmd__list;
typedef struct { uint8_t is_err; uint8_t _p[3]; union { wasmd__list ok;
                 struct { uint8_t tag; uint8_t _q[3]; int32_t err; } err; } u; } wasmd__read_result;
typedef struct { uint8_t is_err; uint8_t _p[7]; union { uint64_t ok;
                 struct { uint8_t tag; uint8_t _q[3]; int32_t err; } err; } u; } wasmd__u64_result;
typedef struct { uint8_t is_err; uint8_t _p[3]; uint8_t tag; uint8_t _q[3]; int32_t err; } wasmd__unit_result;
typedef struct { uint8_t is_err; uint8_t _p[7]; uint8_t payload[32]; } __attribute__((aligned(8))) wasmd__ec_result;

struct wasmd_request {
    int32_t handle, headers, body, stream;
    int eof, failed;
    const char *method, *path, *query, *authority;
    size_t nentries;
    const char **names, **values;
    int entries_loaded;
};

struct wasmd_response {
    int32_t outparam, fields, resp, body, stream;
    int status;
    int head_sent, finished, failed;
};

/* cabi_realloc: the server allocates every string/list it returns to us
 * through this. wasmd_read() points the next allocation at the caller's
 * buffer so body bytes land there without a copy. */
static void *wasmd__next_buf;
static size_t wasmd__next_len;

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
    (void)old_size;
    if (old == NULL && wasmd__next_buf != NULL && new_size <= wasmd__next_len && align <= 8
        && ((uintptr_t)wasmd__next_buf & (align - 1)) == 0) {
        void *p = wasmd__next_buf;
        wasmd__next_buf = NULL;
        return p;
    }
    if (new_size == 0)
        return (void *)align;       /* never dereferenced */
    void *p = realloc(old, new_size);
    if (p == NULL)
        __builtin_trap();
    return p;
}

static char *wasmd__strndup(const char *s, size_t n)
{
    char *d = (char *)malloc(n + 1);
    if (d == NULL)
        __builtin_trap();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static const char *const wasmd__methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"
};

const char *wasmd_method(wasmd_request *req)
{
    if (req->method == NULL) {
        struct { uint8_t tag; uint8_t _p[3]; const char *ptr; size_t len; } m;
        wasmd__req_method(req->handle, &m);
        req->method = m.tag < 9 ? wasmd__methods[m.tag] : wasmd__strndup(m.ptr, m.len);
    }
    return req->method;
}

const char *wasmd_path(wasmd_request *req)
{
    if (req->path == NULL) {
        wasmd__opt_string o;
        wasmd__req_path(req->handle, &o);
        req->path = o.tag ? wasmd__strndup(o.ptr, o.len) : "";
        const char *q = strchr(req->path, '?');
        req->query = q ? q + 1 : "";
    }
    return req->path;
}

const char *wasmd_query(wasmd_request *req)
{
    wasmd_path(req);
    return req->query;
}

const char *wasmd_authority(wasmd_request *req)
{
    if (req->authority == NULL) {
        wasmd__opt_string o;
        wasmd__req_authority(req->handle, &o);
        req->authority = o.tag ? wasmd__strndup(o.ptr, o.len) : "";
    }
    return req->authority;
}

static int32_t wasmd__headers(wasmd_request *req)
{
    if (req->headers == 0)
        req->headers = wasmd__req_headers(req->handle);
    return req->headers;
}

const char *wasmd_header(wasmd_request *req, const char *name)
{
    wasmd__list vals;
    wasmd__fields_get(wasmd__headers(req), name, strlen(name), &vals);
    if (vals.len == 0)
        return NULL;
    const wasmd__list *first = (const wasmd__list *)vals.ptr;
    return wasmd__strndup((const char *)first->ptr, first->len);
}

static void wasmd__load_entries(wasmd_request *req)
{
    if (req->entries_loaded)
        return;
    struct { const char *nptr; size_t nlen; const char *vptr; size_t vlen; } *e;
    wasmd__list l;
    wasmd__fields_entries(wasmd__headers(req), &l);
    e = (void *)l.ptr;
    req->nentries = l.len;
    req->names = (const char **)malloc((l.len + 1) * sizeof(char *));
    req->values = (const char **)malloc((l.len + 1) * sizeof(char *));
    if (req->names == NULL || req->values == NULL)
        __builtin_trap();
    for (size_t i = 0; i < l.len; i++) {
        req->names[i] = wasmd__strndup(e[i].nptr, e[i].nlen);
        req->values[i] = wasmd__strndup(e[i].vptr, e[i].vlen);
    }
    req->entries_loaded = 1;
}

size_t wasmd_header_count(wasmd_request *req)
{
    wasmd__load_entries(req);
    return req->nentries;
}

int wasmd_header_at(wasmd_request *req, size_t i, const char **name, const char **value)
{
    wasmd__load_entries(req);
    if (i >= req->nentries)
        return -1;
    *name = req->names[i];
    *value = req->values[i];
    return 0;
}

int wasmd_body_failed(wasmd_request *req)
{
    return req->failed;
}

long wasmd_read(wasmd_request *req, void *buf, size_t len)
{
    if (req->eof)
        return WASMD_BODY_END;
    if (req->failed)
        return WASMD_BODY_ERROR;
    if (req->stream == 0) {
        wasmd__result_handle r;
        wasmd__req_consume(req->handle, &r);
        if (r.is_err)
            return WASMD_BODY_ERROR;      /* already consumed: a usage error, not the body's */
        req->body = r.val;
        wasmd__body_stream(req->body, &r);
        if (r.is_err)
            return WASMD_BODY_ERROR;
        req->stream = r.val;
    }
    if (len == 0)
        return 0;
    wasmd__read_result rr;
    wasmd__next_buf = buf;
    wasmd__next_len = len;
    wasmd__in_blocking_read(req->stream, (int64_t)len, &rr);
    wasmd__next_buf = NULL;
    if (rr.is_err) {
        if (rr.u.err.tag == 1) {          /* closed: end of body */
            req->eof = 1;
            return WASMD_BODY_END;
        }
        wasmd__error_drop(rr.u.err.err);  /* last-operation-failed: the body is bad */
        req->failed = 1;
        return WASMD_BODY_ERROR;
    }
    if (rr.u.ok.ptr != buf && rr.u.ok.len > 0) {  /* host allocated elsewhere */
        memcpy(buf, rr.u.ok.ptr, rr.u.ok.len);
        free((void *)rr.u.ok.ptr);
    }
    return (long)rr.u.ok.len;
}

int wasmd_set_status(wasmd_response *resp, int status)
{
    if (resp->head_sent || status < 200 || status > 599)
        return -1;
    resp->status = status;
    return 0;
}

int wasmd_add_header(wasmd_response *resp, const char *name, const char *value)
{
    uint8_t r[2];
    if (resp->head_sent)
        return -1;
    if (resp->fields == 0)
        resp->fields = wasmd__fields_new();
    wasmd__fields_append(resp->fields, name, strlen(name), value, strlen(value), r);
    return r[0] == 0 ? 0 : -1;
}

static int wasmd__send_head(wasmd_response *resp)
{
    wasmd__result_handle r;
    if (resp->head_sent)
        return resp->failed ? -1 : 0;
    resp->head_sent = 1;
    if (resp->fields == 0)
        resp->fields = wasmd__fields_new();
    resp->resp = wasmd__resp_new(resp->fields);   /* takes ownership of fields */
    resp->fields = 0;
    /* a new outgoing-response is 200 already: one host call less for the usual case */
    if (resp->status != 200 && wasmd__resp_set_status(resp->resp, resp->status) != 0)
        resp->failed = 1;                         /* keeps 200 */
    wasmd__resp_body(resp->resp, &r);
    if (r.is_err)
        __builtin_trap();
    resp->body = r.val;
    wasmd__outparam_set(resp->outparam, 0, resp->resp, 0, 0, 0, 0, 0, 0);
    resp->outparam = 0;
    wasmd__obody_write(resp->body, &r);
    if (r.is_err)
        __builtin_trap();
    resp->stream = r.val;
    return resp->failed ? -1 : 0;
}

int wasmd_write(wasmd_response *resp, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    if (resp->finished)
        return -1;
    wasmd__send_head(resp);
    if (resp->stream == 0)
        return -1;
    while (len > 0) {
        wasmd__u64_result cw;
        wasmd__out_check_write(resp->stream, &cw);
        if (cw.is_err) {
            if (cw.u.err.tag == 0)
                wasmd__error_drop(cw.u.err.err);
            return -1;
        }
        if (cw.u.ok == 0) {
            wasmd__unit_result fr;
            wasmd__out_blocking_flush(resp->stream, &fr);   /* waits for the client */
            if (fr.is_err) {
                if (fr.tag == 0)
                    wasmd__error_drop(fr.err);
                return -1;
            }
            continue;
        }
        size_t n = len < cw.u.ok ? len : (size_t)cw.u.ok;
        wasmd__unit_result wr;
        wasmd__out_write(resp->stream, p, n, &wr);
        if (wr.is_err) {
            if (wr.tag == 0)
                wasmd__error_drop(wr.err);
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

int wasmd_write_str(wasmd_response *resp, const char *s)
{
    return wasmd_write(resp, s, strlen(s));
}

int wasmd_finish(wasmd_response *resp)
{
    wasmd__ec_result r;
    if (resp->finished)
        return -1;
    wasmd__send_head(resp);
    resp->finished = 1;
    if (resp->stream) {
        wasmd__out_drop(resp->stream);
        resp->stream = 0;
    }
    wasmd__obody_finish(resp->body, 0, 0, &r);
    resp->body = 0;
    return r.is_err ? -1 : 0;
}

int wasmd_respond(wasmd_response *resp, int status, const char *content_type,
                  const void *body, size_t len)
{
    if (wasmd_set_status(resp, status) < 0)
        return -1;
    if (content_type && wasmd_add_header(resp, "content-type", content_type) < 0)
        return -1;
    if (len > 0 && wasmd_write(resp, body, len) < 0)
        return -1;
    return wasmd_finish(resp);
}

size_t wasmd_fmt_int(char *buf, long long v)
{
    char tmp[24];
    size_t n = 0, i = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[i++] = '-';
    while (n)
        buf[i++] = tmp[--n];
    buf[i] = '\0';
    return i;
}

int wasmd_write_json_string(wasmd_response *resp, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c; n = 2;
        } else if (c < 0x20) {
            esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; n = 6;
        } else {
            continue;
        }
        if (wasmd_write(resp, s + start, i - start) < 0 || wasmd_write(resp, esc, n) < 0)
            return -1;
        start = i + 1;
    }
    return wasmd_write(resp, s + start, len - start);
}

void wasmd_log(const char *msg)
{
    static int32_t err_stream;
    wasmd__unit_result r;
    size_t len = strlen(msg);
    if (err_stream == 0)
        err_stream = wasmd__get_stderr();
    do {                          /* the WIT allows at most 4096 bytes per call */
        size_t n = len < 4096 ? len : 4096;
        wasmd__out_blocking_write_and_flush(err_stream, msg, n, &r);
        if (r.is_err) {
            if (r.tag == 0)
                wasmd__error_drop(r.err);
            return;
        }
        msg += n;
        len -= n;
    } while (len > 0);
}

/* ---- outgoing requests ---- */
WASMD__IMPORT(WASMD__T, "[constructor]outgoing-request")
int32_t wasmd__oreq_new(int32_t fields);
WASMD__IMPORT(WASMD__T, "[method]outgoing-request.set-method")
int32_t wasmd__oreq_set_method(int32_t self, int32_t c, const char *p, size_t n);
WASMD__IMPORT(WASMD__T, "[method]outgoing-request.set-scheme")
int32_t wasmd__oreq_set_scheme(int32_t self, int32_t tag, int32_t c, const char *p, size_t n);
WASMD__IMPORT(WASMD__T, "[method]outgoing-request.set-authority")
int32_t wasmd__oreq_set_authority(int32_t self, int32_t tag, const char *p, size_t n);
WASMD__IMPORT(WASMD__T, "[method]outgoing-request.set-path-with-query")
int32_t wasmd__oreq_set_path(int32_t self, int32_t tag, const char *p, size_t n);
WASMD__IMPORT(WASMD__T, "[method]outgoing-request.body")
void wasmd__oreq_body(int32_t self, void *ret);
WASMD__IMPORT("wasi:http/outgoing-handler@0.2.0", "handle")
void wasmd__handle(int32_t req, int32_t has_opts, int32_t opts, void *ret);
WASMD__IMPORT(WASMD__T, "[constructor]request-options")
int32_t wasmd__ropts_new(void);
WASMD__IMPORT(WASMD__T, "[method]request-options.set-connect-timeout")
int32_t wasmd__ropts_connect(int32_t self, int32_t tag, uint64_t ns);
WASMD__IMPORT(WASMD__T, "[method]request-options.set-first-byte-timeout")
int32_t wasmd__ropts_first(int32_t self, int32_t tag, uint64_t ns);
WASMD__IMPORT(WASMD__T, "[method]request-options.set-between-bytes-timeout")
int32_t wasmd__ropts_between(int32_t self, int32_t tag, uint64_t ns);
WASMD__IMPORT(WASMD__T, "[method]future-incoming-response.subscribe")
int32_t wasmd__fut_subscribe(int32_t self);
WASMD__IMPORT(WASMD__T, "[method]future-incoming-response.get")
void wasmd__fut_get(int32_t self, void *ret);
WASMD__IMPORT(WASMD__T, "[resource-drop]future-incoming-response")
void wasmd__fut_drop(int32_t self);
WASMD__IMPORT(WASMD__T, "[method]incoming-response.status")
int32_t wasmd__iresp_status(int32_t self);
WASMD__IMPORT(WASMD__T, "[method]incoming-response.headers")
int32_t wasmd__iresp_headers(int32_t self);
WASMD__IMPORT(WASMD__T, "[method]incoming-response.consume")
void wasmd__iresp_consume(int32_t self, void *ret);
WASMD__IMPORT(WASMD__T, "[resource-drop]incoming-response")
void wasmd__iresp_drop(int32_t self);
WASMD__IMPORT(WASMD__T, "[resource-drop]outgoing-body")
void wasmd__obody_drop(int32_t self);
WASMD__IMPORT(WASMD__T, "[static]incoming-body.finish")
int32_t wasmd__body_finish(int32_t self);                         /* own<future-trailers> */
WASMD__IMPORT(WASMD__T, "[method]future-trailers.subscribe")
int32_t wasmd__ftrail_subscribe(int32_t self);
WASMD__IMPORT(WASMD__T, "[method]future-trailers.get")
void wasmd__ftrail_get(int32_t self, void *ret);
WASMD__IMPORT(WASMD__T, "[resource-drop]future-trailers")
void wasmd__ftrail_drop(int32_t self);
WASMD__IMPORT("wasi:io/poll@0.2.0", "[method]pollable.block")
void wasmd__pollable_block(int32_t self);
WASMD__IMPORT("wasi:io/poll@0.2.0", "[method]pollable.ready")
int32_t wasmd__pollable_ready(int32_t self);
WASMD__IMPORT("wasi:io/poll@0.2.0", "poll")
void wasmd__poll(const int32_t *list, size_t n, void *ret);
WASMD__IMPORT("wasi:io/poll@0.2.0", "[resource-drop]pollable")
void wasmd__pollable_drop(int32_t self);

struct wasmd_fetch {
    int32_t future, pollable, resp, headers, body, in, obody, out, trailers;
    int trailers_done;
    int status, error, done, eof;
    size_t nentries;
    const char **names, **values;
};

typedef struct { uint8_t tag; uint8_t _a[7]; uint8_t tag2; uint8_t _b[7]; uint8_t tag3;
                 uint8_t _c[7]; union { int32_t h; uint8_t ec[32]; } u; }
    __attribute__((aligned(8))) wasmd__fut_result;

static wasmd_fetch *wasmd__fetch_start(const char *method, const char *url,
                                       const char *const *headers, int has_body,
                                       const unsigned *t);

wasmd_fetch *wasmd_fetch_start(const char *method, const char *url,
                               const char *const *headers, int has_body)
{
    return wasmd__fetch_start(method, url, headers, has_body, NULL);
}

wasmd_fetch *wasmd_fetch_start_timeouts(const char *method, const char *url,
                                        const char *const *headers, int has_body,
                                        unsigned connect_ms, unsigned first_byte_ms,
                                        unsigned between_bytes_ms)
{
    unsigned t[3] = { connect_ms, first_byte_ms, between_bytes_ms };
    return wasmd__fetch_start(method, url, headers, has_body, t);
}

static wasmd_fetch *wasmd__fetch_start(const char *method, const char *url,
                                       const char *const *headers, int has_body,
                                       const unsigned *t)
{
    wasmd_fetch *f = (wasmd_fetch *)calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->error = -1;
    int32_t fields = wasmd__fields_new();
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
        uint8_t r[2];
        wasmd__fields_append(fields, headers[i], strlen(headers[i]), headers[i + 1],
                             strlen(headers[i + 1]), r);
    }
    int32_t rq = wasmd__oreq_new(fields);
    int mc = 9;
    for (int i = 0; i < 9; i++)
        if (strcmp(wasmd__methods[i], method) == 0)
            mc = i;
    wasmd__oreq_set_method(rq, mc, method, mc == 9 ? strlen(method) : 0);
    const char *p = strstr(url, "://");
    const char *auth = url;
    if (p) {
        size_t sl = (size_t)(p - url);
        int sc = sl == 4 && memcmp(url, "http", 4) == 0 ? 0
               : sl == 5 && memcmp(url, "https", 5) == 0 ? 1 : 2;
        wasmd__oreq_set_scheme(rq, 1, sc, url, sc == 2 ? sl : 0);
        auth = p + 3;
    }
    const char *path = strchr(auth, '/');
    size_t al = path ? (size_t)(path - auth) : strlen(auth);
    wasmd__oreq_set_authority(rq, 1, auth, al);
    wasmd__oreq_set_path(rq, 1, path ? path : "/", path ? strlen(path) : 1);
    if (has_body) {
        wasmd__result_handle r;
        wasmd__oreq_body(rq, &r);
        if (!r.is_err)
            f->obody = r.val;
    }
    struct { uint8_t is_err; uint8_t _p[7]; union { int32_t h; uint8_t ec[32]; } u; }
        __attribute__((aligned(8))) hr;
    int32_t opts = 0;
    if (t) {
        opts = wasmd__ropts_new();
        if (t[0])
            wasmd__ropts_connect(opts, 1, (uint64_t)t[0] * 1000000u);
        if (t[1])
            wasmd__ropts_first(opts, 1, (uint64_t)t[1] * 1000000u);
        if (t[2])
            wasmd__ropts_between(opts, 1, (uint64_t)t[2] * 1000000u);
    }
    wasmd__handle(rq, opts != 0, opts, &hr);
    if (hr.is_err) {
        f->error = hr.u.ec[0];
        f->done = 1;
        if (f->obody) {
            wasmd__obody_drop(f->obody);
            f->obody = 0;
        }
        return f;
    }
    f->future = hr.u.h;
    if (f->obody) {
        wasmd__result_handle r;
        wasmd__obody_write(f->obody, &r);
        if (!r.is_err)
            f->out = r.val;
    }
    return f;
}

int wasmd_fetch_write(wasmd_fetch *f, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    if (f->out == 0)
        return -1;
    while (len > 0) {
        wasmd__u64_result cw;
        wasmd__out_check_write(f->out, &cw);
        if (cw.is_err) {
            if (cw.u.err.tag == 0)
                wasmd__error_drop(cw.u.err.err);
            return -1;
        }
        if (cw.u.ok == 0) {
            wasmd__unit_result fr;
            wasmd__out_blocking_flush(f->out, &fr);     /* waits for the upstream */
            if (fr.is_err) {
                if (fr.tag == 0)
                    wasmd__error_drop(fr.err);
                return -1;
            }
            continue;
        }
        size_t n = len < cw.u.ok ? len : (size_t)cw.u.ok;
        wasmd__unit_result wr;
        wasmd__out_write(f->out, p, n, &wr);
        if (wr.is_err) {
            if (wr.tag == 0)
                wasmd__error_drop(wr.err);
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

int wasmd_fetch_end_trailers(wasmd_fetch *f, const char *const *trailers)
{
    wasmd__ec_result r;
    int32_t t = 0;
    if (f->obody == 0)
        return -1;
    if (f->out) {
        wasmd__out_drop(f->out);
        f->out = 0;
    }
    if (trailers && trailers[0]) {
        t = wasmd__fields_new();
        for (size_t i = 0; trailers[i] && trailers[i + 1]; i += 2) {
            uint8_t e[2];
            wasmd__fields_append(t, trailers[i], strlen(trailers[i]), trailers[i + 1],
                                 strlen(trailers[i + 1]), e);
        }
    }
    wasmd__obody_finish(f->obody, t != 0, t, &r);
    f->obody = 0;
    return r.is_err ? -1 : 0;
}

int wasmd_fetch_end(wasmd_fetch *f)
{
    return wasmd_fetch_end_trailers(f, NULL);
}

static int wasmd__fetch_take(wasmd_fetch *f)
{
    wasmd__fut_result r;
    if (f->done)
        return 1;
    wasmd__fut_get(f->future, &r);
    if (r.tag == 0)
        return 0;
    f->done = 1;
    if (r.tag2 != 0 || r.tag3 != 0) {
        f->error = r.tag2 != 0 ? 38 : r.u.ec[0];
        return 1;
    }
    f->resp = r.u.h;
    f->status = wasmd__iresp_status(f->resp);
    return 1;
}

int wasmd_fetch_ready(wasmd_fetch *f)
{
    return wasmd__fetch_take(f);
}

int wasmd_fetch_wait(wasmd_fetch *f)
{
    while (!wasmd__fetch_take(f)) {
        if (f->pollable == 0)
            f->pollable = wasmd__fut_subscribe(f->future);
        wasmd__pollable_block(f->pollable);
    }
    return f->resp ? f->status : -1;
}

size_t wasmd_fetch_wait_any(wasmd_fetch **fs, size_t n)
{
    int32_t *list = (int32_t *)malloc(n * sizeof *list);
    size_t *map = (size_t *)malloc(n * sizeof *map);
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (fs[i]->done)
                return i;
            if (fs[i]->pollable == 0)
                fs[i]->pollable = wasmd__fut_subscribe(fs[i]->future);
            list[k] = fs[i]->pollable;
            map[k++] = i;
        }
        wasmd__list r;
        wasmd__poll(list, k, &r);
        const uint32_t *idx = (const uint32_t *)r.ptr;
        for (size_t j = 0; j < r.len; j++)
            if (wasmd__fetch_take(fs[map[idx[j]]]))
                return map[idx[j]];
    }
}

int wasmd_fetch_error(wasmd_fetch *f)
{
    return f->error;
}

const char *wasmd_fetch_header(wasmd_fetch *f, const char *name)
{
    wasmd__list r;
    if (f->resp == 0)
        return NULL;
    if (f->headers == 0)
        f->headers = wasmd__iresp_headers(f->resp);
    wasmd__fields_get(f->headers, name, strlen(name), &r);
    if (r.len == 0)
        return NULL;
    const wasmd__list *v = (const wasmd__list *)r.ptr;
    return wasmd__strndup((const char *)v[0].ptr, v[0].len);
}

size_t wasmd_fetch_header_count(wasmd_fetch *f)
{
    if (f->resp == 0)
        return 0;
    if (f->names == NULL) {
        wasmd__list r;
        if (f->headers == 0)
            f->headers = wasmd__iresp_headers(f->resp);
        wasmd__fields_entries(f->headers, &r);
        const wasmd__list *e = (const wasmd__list *)r.ptr;   /* (name, value) pairs */
        f->names = (const char **)malloc((r.len + 1) * sizeof(char *));
        f->values = (const char **)malloc((r.len + 1) * sizeof(char *));
        for (size_t i = 0; i < r.len; i++) {
            f->names[i] = wasmd__strndup((const char *)e[2 * i].ptr, e[2 * i].len);
            f->values[i] = wasmd__strndup((const char *)e[2 * i + 1].ptr, e[2 * i + 1].len);
        }
        f->nentries = r.len;
    }
    return f->nentries;
}

int wasmd_fetch_header_at(wasmd_fetch *f, size_t i, const char **name, const char **value)
{
    if (i >= wasmd_fetch_header_count(f))
        return -1;
    *name = f->names[i];
    *value = f->values[i];
    return 0;
}

long wasmd_fetch_read(wasmd_fetch *f, void *buf, size_t len)
{
    if (f->resp == 0 || f->eof)
        return f->eof ? 0 : -1;
    if (f->in == 0) {
        wasmd__result_handle r;
        if (f->body == 0) {
            wasmd__iresp_consume(f->resp, &r);
            if (r.is_err)
                return -1;
            f->body = r.val;
        }
        wasmd__body_stream(f->body, &r);
        if (r.is_err)
            return -1;
        f->in = r.val;
    }
    for (;;) {
        wasmd__read_result r;
        wasmd__next_buf = buf;
        wasmd__next_len = len;
        wasmd__in_blocking_read(f->in, (int64_t)len, &r);
        wasmd__next_buf = NULL;
        if (r.is_err) {
            if (r.u.err.tag == 1) {
                f->eof = 1;
                return 0;
            }
            wasmd__error_drop(r.u.err.err);
            return -1;
        }
        if (r.u.ok.len == 0)
            continue;
        if (r.u.ok.ptr != buf)
            memcpy(buf, r.u.ok.ptr, r.u.ok.len);
        return (long)r.u.ok.len;
    }
}

const char *wasmd_fetch_trailer(wasmd_fetch *f, const char *name)
{
    if (!f->trailers_done) {
        if (!f->eof || f->body == 0)
            return NULL;
        f->trailers_done = 1;
        if (f->in) {
            wasmd__in_drop(f->in);
            f->in = 0;
        }
        int32_t ft = wasmd__body_finish(f->body);
        f->body = 0;
        /* option<result<result<option<own<trailers>>, error-code>>> */
        wasmd__fut_result r;
        int32_t pl = 0;
        for (;;) {
            wasmd__ftrail_get(ft, &r);
            if (r.tag != 0)
                break;
            if (pl == 0)
                pl = wasmd__ftrail_subscribe(ft);
            wasmd__pollable_block(pl);
        }
        if (pl)
            wasmd__pollable_drop(pl);
        wasmd__ftrail_drop(ft);
        if (r.tag2 == 0 && r.tag3 == 0 && r.u.ec[0] == 1)
            f->trailers = *(const int32_t *)(r.u.ec + 4);
    }
    if (f->trailers == 0)
        return NULL;
    wasmd__list v;
    wasmd__fields_get(f->trailers, name, strlen(name), &v);
    if (v.len == 0)
        return NULL;
    const wasmd__list *x = (const wasmd__list *)v.ptr;
    return wasmd__strndup((const char *)x[0].ptr, x[0].len);
}

void wasmd_fetch_close(wasmd_fetch *f)
{
    if (f == NULL)
        return;
    if (f->trailers)
        wasmd__fields_drop(f->trailers);
    if (f->out)
        wasmd__out_drop(f->out);
    if (f->obody)
        wasmd__obody_drop(f->obody);
    if (f->in)
        wasmd__in_drop(f->in);
    if (f->body)
        wasmd__body_drop(f->body);
    if (f->headers)
        wasmd__fields_drop(f->headers);
    if (f->resp)
        wasmd__iresp_drop(f->resp);
    if (f->pollable)
        wasmd__pollable_drop(f->pollable);
    if (f->future)
        wasmd__fut_drop(f->future);
    free(f);
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.0#handle")))
void wasmd__export_handle(int32_t request, int32_t outparam)
{
    wasmd_request req;
    wasmd_response resp;
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    req.handle = request;
    resp.outparam = outparam;
    resp.status = 200;
    wasmd_handle(&req, &resp);
    /* after a body error the response is left unfinished: the server answers the error
     * (or aborts a response whose head is out), never a complete-looking reply */
    if (!resp.finished && !req.failed)
        wasmd_finish(&resp);
    if (req.stream)
        wasmd__in_drop(req.stream);
    if (req.body)
        wasmd__body_drop(req.body);
    if (req.headers)
        wasmd__fields_drop(req.headers);
    wasmd__req_drop(req.handle);
}

#endif /* WASMD_DECLARATIONS_ONLY */

#ifdef __cplusplus
}
#endif
#endif /* WASMD_H */
