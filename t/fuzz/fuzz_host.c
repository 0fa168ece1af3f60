/*
 * fuzz_host.c -- libFuzzer target: the host-call boundary.
 *
 * One handler module, generated here in binary form, imports EVERY function the
 * wasi:http host provides (wd_host_http_import_at) and every WASI preview1 function
 * (the tables of src/host/wasi), and exports memory, cabi_realloc and the wasi:http
 * handle function. The handle function is an interpreter of a call script in its own
 * linear memory: records { u32 import index, u32 pad, i64 args[10] }, dispatched with
 * br_table to a direct `call` of that import (i32 params take the low half of their
 * slot), results dropped, until an index past the end.
 *
 * The fuzz input is decoded into that script and a data blob, written into the pristine
 * instance, then one request is run through the real host (wd_host_http_start/resume,
 * with a fake backend) and the instance is reset (wd_host_http_reset, wd_host_wasi_reset,
 * wd_wasm_restore) as the server's pool does after every request. The host must never
 * crash, leak or keep a handle: every bad handle, pointer or length (including pointer +
 * length wrapping past 4 GiB) must become a trap or an error return.
 *
 * Input format (missing bytes read as 0):
 *   u16 BE  L, then L bytes (L mod 4097) copied to guest address 0x100 (strings etc.)
 *   records until the end (at most 256): u8 selector (import = selector mod N), then per
 *   parameter a kind byte k and its payload:
 *     k&7 = 0  small integer / handle k>>3 (0..31)      (no payload)
 *           1  pointer into the blob: 0x100 + 16*b     (1 byte)
 *           2  end of memory minus b                   (1 byte)
 *           3  wraps past 4 GiB: 2^32-1-b (i64: 2^64-1-b) (1 byte)
 *           4  raw 32-bit value                        (4 bytes, LE)
 *           5  raw 64-bit value                        (8 bytes, LE)
 *           6  a length b                              (1 byte)
 *           7  pointer into the guest heap 0x8000 + (2 bytes)
 * The WASI context has one preopened, writable scratch directory (emptied after every
 * input) so the path_* functions reach the file system sandbox code.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>
#include <stdarg.h>

#include "wd_wasm.h"
#include "http/wd_host_http.h"
#include "wasi/wd_host_wasi.h"
#include "wasi/wd_host_wasi_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MEM_PAGES   2
#define MEM_SIZE    (MEM_PAGES * 65536u)
#define BLOB_ADDR   0x100u
#define BLOB_MAX    4096u
#define HEAP_CELL   0x10u
#define HEAP_LO     0x8000u
#define HEAP_HI     0x18000u
#define SCRIPT_ADDR 0x18000u
#define NARGS       10
#define REC_SIZE    (8 + 8 * NARGS)
#define MAX_CALLS   ((MEM_SIZE - SCRIPT_ADDR) / REC_SIZE - 1)

typedef struct {
    char module[96];
    const char *name;
    char params[NARGS + 1];      /* 'i' / 'I' */
    char results[4];
} fz_import_t;

static fz_import_t fz_imports[256];
static unsigned fz_nimports;

/* ---- a tiny wasm binary writer ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} fz_buf_t;

static void
fz_byte(fz_buf_t *b, uint8_t v)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) abort();
    }
    b->p[b->len++] = v;
}

static void
fz_bytes(fz_buf_t *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) fz_byte(b, ((const uint8_t *) p)[i]);
}

static void
fz_uleb(fz_buf_t *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        fz_byte(b, c | (v ? 0x80 : 0));
    } while (v);
}

static void
fz_sleb(fz_buf_t *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) {
            fz_byte(b, c);
            return;
        }
        fz_byte(b, c | 0x80);
    }
}

static void
fz_name(fz_buf_t *b, const char *s)
{
    fz_uleb(b, strlen(s));
    fz_bytes(b, s, strlen(s));
}

static void
fz_section(fz_buf_t *mod, uint8_t id, fz_buf_t *sec)
{
    fz_byte(mod, id);
    fz_uleb(mod, sec->len);
    fz_bytes(mod, sec->p, sec->len);
    sec->len = 0;
}

static uint8_t
fz_vt(char c)
{
    return c == 'I' ? 0x7e : 0x7f;
}

static void
fz_i32c(fz_buf_t *b, int64_t v)
{
    fz_byte(b, 0x41);
    fz_sleb(b, (int32_t) v);
}

static void
fz_add_import(const char *module, const char *name, const char *params, const char *results)
{
    fz_import_t *f = &fz_imports[fz_nimports++];
    if (fz_nimports > 256 || strlen(params) > NARGS) {
        fprintf(stderr, "fuzz_host: import table too large (%s %s)\n", module, name);
        abort();
    }
    snprintf(f->module, sizeof(f->module), "%s", module);
    f->name = name;
    snprintf(f->params, sizeof(f->params), "%s", params);
    snprintf(f->results, sizeof(f->results), "%s", results);
}

static void
fz_collect_imports(void)
{
    const char *iface, *name, *sig;
    static const wd_host_wasi_func_t *const wasi[] = {
        wd_host_wasi_proc_funcs, wd_host_wasi_fd_funcs, wd_host_wasi_path_funcs
    };

    for (size_t i = 0; wd_host_http_import_at(i, &iface, &name, &sig) == 0; i++) {
        char mod[96], params[NARGS + 1];
        const char *colon = strchr(sig, ':');
        snprintf(mod, sizeof(mod), "%s@0.2.0", iface);
        snprintf(params, sizeof(params), "%.*s", (int) (colon - sig), sig);
        fz_add_import(mod, name, params, colon + 1);
    }
    for (size_t t = 0; t < sizeof(wasi) / sizeof(wasi[0]); t++) {
        for (const wd_host_wasi_func_t *f = wasi[t]; f->name; f++) {
            fz_add_import(WD_HOST_WASI_MODULE, f->name, f->params, f->nresults ? "i" : "");
        }
    }
}

static uint8_t *
fz_build_module(size_t *len)
{
    fz_buf_t mod = { 0 }, sec = { 0 }, code = { 0 };
    const unsigned n = fz_nimports;

    fz_bytes(&mod, "\0asm\1\0\0\0", 8);

    /* types: one per import, then handle (i32 i32)->(), cabi_realloc (i32 x4)->i32 */
    fz_uleb(&sec, n + 2);
    for (unsigned i = 0; i < n; i++) {
        fz_byte(&sec, 0x60);
        fz_uleb(&sec, strlen(fz_imports[i].params));
        for (const char *p = fz_imports[i].params; *p; p++) fz_byte(&sec, fz_vt(*p));
        fz_uleb(&sec, strlen(fz_imports[i].results));
        for (const char *p = fz_imports[i].results; *p; p++) fz_byte(&sec, fz_vt(*p));
    }
    fz_bytes(&sec, "\x60\x02\x7f\x7f\x00", 5);
    fz_bytes(&sec, "\x60\x04\x7f\x7f\x7f\x7f\x01\x7f", 8);
    fz_section(&mod, 1, &sec);

    fz_uleb(&sec, n);
    for (unsigned i = 0; i < n; i++) {
        fz_name(&sec, fz_imports[i].module);
        fz_name(&sec, fz_imports[i].name);
        fz_byte(&sec, 0x00);
        fz_uleb(&sec, i);
    }
    fz_section(&mod, 2, &sec);

    fz_uleb(&sec, 2);
    fz_uleb(&sec, n);
    fz_uleb(&sec, n + 1);
    fz_section(&mod, 3, &sec);

    fz_bytes(&sec, "\x01\x01", 2);       /* one memory, min = max = MEM_PAGES */
    fz_uleb(&sec, MEM_PAGES);
    fz_uleb(&sec, MEM_PAGES);
    fz_section(&mod, 5, &sec);

    fz_uleb(&sec, 3);
    fz_name(&sec, "memory");
    fz_byte(&sec, 0x02);
    fz_uleb(&sec, 0);
    fz_name(&sec, "wasi:http/incoming-handler@0.2.0#handle");
    fz_byte(&sec, 0x00);
    fz_uleb(&sec, n);
    fz_name(&sec, "cabi_realloc");
    fz_byte(&sec, 0x00);
    fz_uleb(&sec, n + 1);
    fz_section(&mod, 7, &sec);

    /* the handle function: local 2 = record pointer */
    fz_bytes(&code, "\x01\x01\x7f", 3);
    fz_i32c(&code, SCRIPT_ADDR);
    fz_bytes(&code, "\x21\x02", 2);                  /* local.set 2 */
    fz_bytes(&code, "\x03\x40", 2);                  /* loop */
    fz_bytes(&code, "\x02\x40", 2);                  /* block $exit */
    for (unsigned i = 0; i < n; i++) fz_bytes(&code, "\x02\x40", 2);
    fz_bytes(&code, "\x20\x02\x28\x02\x00", 5);      /* local.get 2; i32.load */
    fz_byte(&code, 0x0e);                            /* br_table 0..n-1, default n */
    fz_uleb(&code, n);
    for (unsigned i = 0; i < n; i++) fz_uleb(&code, i);
    fz_uleb(&code, n);
    for (unsigned j = 0; j < n; j++) {
        const fz_import_t *f = &fz_imports[j];
        fz_byte(&code, 0x0b);                        /* end of block c_j */
        for (unsigned k = 0; f->params[k]; k++) {
            fz_bytes(&code, "\x20\x02", 2);
            fz_byte(&code, f->params[k] == 'I' ? 0x29 : 0x28);
            fz_byte(&code, f->params[k] == 'I' ? 0x03 : 0x02);
            fz_uleb(&code, 8 + 8 * k);
        }
        fz_byte(&code, 0x10);
        fz_uleb(&code, j);
        for (const char *r = f->results; *r; r++) fz_byte(&code, 0x1a);
        fz_bytes(&code, "\x20\x02", 2);
        fz_i32c(&code, REC_SIZE);
        fz_bytes(&code, "\x6a\x21\x02", 3);          /* i32.add; local.set 2 */
        fz_byte(&code, 0x0c);                        /* br to the loop */
        fz_uleb(&code, n - j);
    }
    fz_bytes(&code, "\x0b\x0b\x0b", 3);              /* end exit, end loop, end func */

    fz_uleb(&sec, 2);
    fz_uleb(&sec, code.len);
    fz_bytes(&sec, code.p, code.len);
    code.len = 0;

    /* cabi_realloc(old, old_size, align, size): bump allocator in [HEAP_LO, HEAP_HI) */
    fz_bytes(&code, "\x01\x01\x7f", 3);              /* local 4: p */
    fz_bytes(&code, "\x20\x03", 2);
    fz_i32c(&code, 0x4000);
    fz_bytes(&code, "\x4b\x04\x40", 3);              /* i32.gt_u; if */
    fz_i32c(&code, 0);
    fz_bytes(&code, "\x0f\x0b", 2);                  /* return; end */
    fz_i32c(&code, HEAP_CELL);
    fz_bytes(&code, "\x28\x02\x00\x21\x04", 5);      /* i32.load; local.set 4 */
    fz_bytes(&code, "\x20\x04", 2);
    fz_i32c(&code, HEAP_LO);
    fz_byte(&code, 0x49);                            /* i32.lt_u */
    fz_bytes(&code, "\x20\x04\x20\x03\x6a", 5);      /* p + size */
    fz_i32c(&code, HEAP_HI - 8);
    fz_bytes(&code, "\x4b\x72\x04\x40", 4);          /* i32.gt_u; i32.or; if */
    fz_i32c(&code, HEAP_LO);
    fz_bytes(&code, "\x21\x04\x0b", 3);              /* local.set 4; end */
    fz_bytes(&code, "\x20\x04", 2);
    fz_i32c(&code, 7);
    fz_byte(&code, 0x6a);
    fz_i32c(&code, -8);
    fz_bytes(&code, "\x71\x21\x04", 3);              /* i32.and; local.set 4 */
    fz_i32c(&code, HEAP_CELL);
    fz_bytes(&code, "\x20\x04\x20\x03\x6a", 5);
    fz_bytes(&code, "\x36\x02\x00", 3);              /* i32.store */
    fz_bytes(&code, "\x20\x04\x0b", 3);              /* local.get 4; end */
    fz_uleb(&sec, code.len);
    fz_bytes(&sec, code.p, code.len);
    fz_section(&mod, 10, &sec);

    free(sec.p);
    free(code.p);
    *len = mod.len;
    return mod.p;
}

/* ---- the fake server side ---- */

typedef struct {
    unsigned reads;
    size_t pending;
} fz_backend_t;

static int
fk_read(void *be, uint8_t *buf, size_t len, size_t *n)
{
    fz_backend_t *b = be;
    unsigned k = b->reads++;
    if (k % 3 == 1) return WD_HOST_HTTP_AGAIN;
    if (k > 12) return WD_HOST_HTTP_DONE;
    size_t m = len < 7 ? len : 7;
    memcpy(buf, "body..!", m);
    *n = m;
    return WD_HOST_HTTP_OK;
}
static int fk_ready(void *be) { return ((fz_backend_t *) be)->reads % 3 != 1; }
static int
fk_head(void *be, int s, const wd_host_http_header_t *h, size_t n, int64_t cl)
{
    (void) be; (void) cl;
    if (s < 200 || s > 599) __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        if (memchr(h[i].value, '\n', h[i].value_len) || memchr(h[i].value, '\r', h[i].value_len)
            || memchr(h[i].name, ':', h[i].name_len) || h[i].name_len == 0)
        {
            fprintf(stderr, "fuzz_host: unsafe response header reached the backend\n");
            __builtin_trap();
        }
    }
    return WD_HOST_HTTP_OK;
}
static int fk_write(void *be, const uint8_t *p, size_t n) { (void) p; ((fz_backend_t *) be)->pending += n; return WD_HOST_HTTP_OK; }
static size_t fk_pending(void *be) { return ((fz_backend_t *) be)->pending; }
static int fk_finish(void *be) { (void) be; return WD_HOST_HTTP_OK; }
static void fk_abort(void *be) { (void) be; }
static void fk_error(void *be, int s) { (void) be; if (s < 500 || s > 599) __builtin_trap(); }
static void fk_log(void *be, int e, const char *l, size_t n) { (void) be; (void) e; (void) l; (void) n; }
static const wd_host_http_backend_t fz_be = {
    fk_read, fk_ready, fk_head, fk_write, fk_pending, fk_finish, fk_abort, fk_error, fk_log
};

static uint64_t
fz_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int
fz_sleep(void *ud, uint64_t deadline_ns)
{
    (void) ud;
    return fz_now_ns() >= deadline_ns ? WD_HOST_WASI_SLEEP_DONE : WD_HOST_WASI_SLEEP_SUSPEND;
}

static int64_t fz_stdin(void *ud, uint8_t *buf, size_t len) { (void) ud; if (len) buf[0] = 'x'; return len ? 1 : 0; }
static int64_t fz_stdout(void *ud, const uint8_t *buf, size_t len) { (void) ud; (void) buf; return (int64_t) len; }

/* ---- structured seed programs (FUZZ_HOST_MKSEED=DIR: written by t/fuzz/mkseed_inputs.sh) ----
 * Handles are allocated in order from 1 after every reset: 1 = incoming-request,
 * 2 = response-outparam, then 3, 4, ... for what the program creates; WASI fd 3 is the
 * preopened directory. Results are dropped, so the programs rely on that numbering. */

static FILE *fz_seed;
static char *fz_mem;
static size_t fz_memlen;

static int
fz_find(const char *module_prefix, const char *name)
{
    for (unsigned i = 0; i < fz_nimports; i++) {
        if (strncmp(fz_imports[i].module, module_prefix, strlen(module_prefix)) == 0
            && strcmp(fz_imports[i].name, name) == 0) {
            return (int) i;
        }
    }
    fprintf(stderr, "fuzz_host: no import %s %s\n", module_prefix, name);
    exit(1);
}

/* one call: args as unsigned values ('i' low 32 bits, 'I' 64 bits) */
static void
fz_emit(const char *mod, const char *name, int n, ...)
{
    int idx = fz_find(mod, name);
    va_list ap;
    fputc(idx, fz_seed);
    va_start(ap, n);
    for (int k = 0; k < n; k++) {
        uint64_t v = va_arg(ap, uint64_t);
        if (fz_imports[idx].params[k] == 'I') {
            fputc(5, fz_seed);
            for (int b = 0; b < 8; b++) fputc((int) (v >> (8 * b)) & 0xff, fz_seed);
        } else if (v < 32) {
            fputc((int) (v << 3), fz_seed);
        } else {
            fputc(4, fz_seed);
            for (int b = 0; b < 4; b++) fputc((int) (v >> (8 * b)) & 0xff, fz_seed);
        }
    }
    va_end(ap);
}

#define U(x) ((uint64_t) (x))
#define B(off) U(BLOB_ADDR + (off))
#define RET U(0x9000)
#define HT "wasi:http/types"
#define IO "wasi:io/streams"
#define W1 WD_HOST_WASI_MODULE

/* the blob: strings at fixed offsets, iovecs, a poll subscription */
static void
fz_seed_open(const char *dir, const char *name)
{
    static uint8_t blob[256];
    char path[512];
    if (dir == NULL) {                        /* in memory: the canary program */
        fz_seed = open_memstream(&fz_mem, &fz_memlen);
    } else {
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fz_seed = fopen(path, "wb");
    }
    if (fz_seed == NULL) { perror(name); exit(1); }
    memset(blob, 0, sizeof(blob));
    memcpy(blob + 0, "x-name", 6);            /* 0: header name */
    memcpy(blob + 16, "value 1", 7);          /* 16: header value */
    memcpy(blob + 32, "hello body", 10);      /* 32: body bytes */
    memcpy(blob + 48, "file.txt", 8);         /* 48: path */
    memcpy(blob + 64, "sub/dir", 7);          /* 64: path */
    memcpy(blob + 80, "../escape", 9);        /* 80: path */
    uint32_t iov[2] = { BLOB_ADDR + 32, 10 }; /* 96: iovec */
    memcpy(blob + 96, iov, 8);
    uint32_t riov[2] = { 0xA000, 64 };        /* 104: read iovec */
    memcpy(blob + 104, riov, 8);
    uint32_t plist[2] = { 3, 6 };             /* 120: list<pollable> */
    memcpy(blob + 120, plist, 8);
    fputc((int) (sizeof(blob) >> 8), fz_seed);
    fputc((int) (sizeof(blob) & 0xff), fz_seed);
    fwrite(blob, 1, sizeof(blob), fz_seed);
}

/* a complete response; f = the next fresh handle: fields f, then the response takes over
 * the fields' slot (the constructor consumes them; freed slots are reused first), body f+1,
 * stream f+2 */
static void
fz_response(int status, uint64_t f)
{
    fz_emit(HT, "[constructor]fields", 0);
    fz_emit(HT, "[method]fields.append", 6, f, B(0), U(6), B(16), U(7), RET);
    fz_emit(HT, "[constructor]outgoing-response", 1, f);
    fz_emit(HT, "[method]outgoing-response.set-status-code", 2, f, U(status));
    fz_emit(HT, "[method]outgoing-response.body", 2, f, RET);
    fz_emit(HT, "[method]outgoing-body.write", 2, f + 1, RET);
    fz_emit(HT, "[static]response-outparam.set", 9, U(2), U(0), f, U(0), U(0), U(0), U(0), U(0), U(0));
    fz_emit(IO, "[method]output-stream.check-write", 2, f + 2, RET);
    fz_emit(IO, "[method]output-stream.blocking-write-and-flush", 4, f + 2, B(32), U(10), RET);
    fz_emit(IO, "[method]output-stream.write", 4, f + 2, B(32), U(5), RET);
    fz_emit(IO, "[method]output-stream.flush", 2, f + 2, RET);
    fz_emit(IO, "[resource-drop]output-stream", 1, f + 2);
    fz_emit(HT, "[static]outgoing-body.finish", 4, f + 1, U(0), U(0), RET);
}

static void
fz_write_seeds(const char *dir)
{
    fz_seed_open(dir, "prog-response");
    fz_response(200, 3);
    fclose(fz_seed);

    fz_seed_open(dir, "prog-echo");
    fz_emit(HT, "[method]incoming-request.method", 2, U(1), RET);
    fz_emit(HT, "[method]incoming-request.path-with-query", 2, U(1), RET);
    fz_emit(HT, "[method]incoming-request.headers", 1, U(1));            /* 3 */
    fz_emit(HT, "[method]fields.entries", 2, U(3), RET);
    fz_emit(HT, "[method]fields.get", 4, U(3), B(0), U(6), RET);
    fz_emit(HT, "[method]incoming-request.consume", 2, U(1), RET);       /* body 4 */
    fz_emit(HT, "[method]incoming-body.stream", 2, U(4), RET);           /* stream 5 */
    fz_emit(IO, "[method]input-stream.blocking-read", 3, U(5), U(64), RET);
    fz_emit(IO, "[method]input-stream.read", 3, U(5), U(64), RET);
    fz_emit(IO, "[method]input-stream.subscribe", 1, U(5));              /* pollable 6 */
    fz_emit("wasi:io/poll", "[method]pollable.block", 1, U(6));
    fz_emit(IO, "[method]input-stream.blocking-read", 3, U(5), U(4096), RET);
    fz_response(201, 7);
    fclose(fz_seed);

    fz_seed_open(dir, "prog-poll");
    fz_emit("wasi:clocks/monotonic-clock", "subscribe-duration", 1, U(1000));   /* 3 */
    fz_emit(HT, "[method]incoming-request.consume", 2, U(1), RET);              /* 4 */
    fz_emit(HT, "[method]incoming-body.stream", 2, U(4), RET);                  /* 5 */
    fz_emit(IO, "[method]input-stream.subscribe", 1, U(5));                     /* 6 */
    fz_emit("wasi:io/poll", "poll", 3, B(120), U(2), RET);
    fz_response(404, 7);
    fclose(fz_seed);

    fz_seed_open(dir, "prog-wasi");
    fz_emit(W1, "fd_prestat_get", 2, U(3), RET);
    fz_emit(W1, "path_open", 9, U(3), U(0), B(48), U(8), U(1), ~U(0), ~U(0), U(0), RET);  /* fd 4 */
    fz_emit(W1, "fd_write", 4, U(4), B(96), U(1), RET);
    fz_emit(W1, "fd_seek", 4, U(4), U(0), U(0), RET);
    fz_emit(W1, "fd_read", 4, U(4), B(104), U(1), RET);
    fz_emit(W1, "path_create_directory", 3, U(3), B(64), U(3));
    fz_emit(W1, "path_symlink", 5, B(80), U(9), U(3), B(64), U(3));
    fz_emit(W1, "path_readlink", 6, U(3), B(64), U(3), U(0xA000), U(64), RET);
    fz_emit(W1, "path_rename", 6, U(3), B(48), U(8), U(3), B(80), U(9));
    fz_emit(W1, "path_filestat_get", 5, U(3), U(1), B(48), U(8), U(0xA000));
    fz_emit(W1, "fd_readdir", 5, U(3), U(0xA000), U(256), U(0), RET);
    fz_emit(W1, "path_unlink_file", 3, U(3), B(48), U(8));
    fz_emit(W1, "fd_write", 4, U(1), B(96), U(1), RET);
    fz_emit(W1, "fd_close", 1, U(4));
    fz_response(200, 3);
    fclose(fz_seed);
}

static wd_wasm_module_t *fz_mod;
static wd_wasm_store_t *fz_store;
static wd_wasm_instance_t *fz_inst;
static wd_host_http_t *fz_hh;
static wd_host_wasi_t *fz_wasi;
static char fz_dir[64];

static void
fz_rmdir(void)
{
    rmdir(fz_dir);                  /* the scratch directory (empty) */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    wd_wasm_error_t err;
    size_t len;
    uint8_t *bin;
    static const char *const env[] = { "A=1", "FUZZ=yes" };
    static const char *const args[] = { "handler", "--x" };

    (void) argc; (void) argv;
    fz_collect_imports();
    if (getenv("FUZZ_HOST_MKSEED")) {
        fz_write_seeds(getenv("FUZZ_HOST_MKSEED"));
        exit(0);
    }
    bin = fz_build_module(&len);
    fz_mod = wd_wasm_module_load(bin, len, NULL, &err);
    free(bin);
    if (fz_mod == NULL || wd_host_http_check_module(fz_mod, &err) != 0) {
        fprintf(stderr, "fuzz_host: generated module refused: %s\n", err.msg);
        exit(1);
    }
    snprintf(fz_dir, sizeof(fz_dir), "/tmp/wd-fuzzhost.XXXXXX");
    if (mkdtemp(fz_dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(fz_rmdir);
    fz_store = wd_wasm_store_new();
    fz_hh = wd_host_http_new(&(wd_host_http_conf_t) { (const char *const *) env, 2 });
    fz_wasi = wd_host_wasi_new();
    if (fz_store == NULL || fz_hh == NULL || fz_wasi == NULL) exit(1);
    wd_host_wasi_set_args(fz_wasi, 2, args);
    wd_host_wasi_set_env(fz_wasi, 2, env);
    wd_host_wasi_stdio(fz_wasi, 0, &(wd_host_wasi_stream_t) { fz_stdin, NULL, NULL });
    wd_host_wasi_stdio(fz_wasi, 1, &(wd_host_wasi_stream_t) { NULL, fz_stdout, NULL });
    wd_host_wasi_stdio(fz_wasi, 2, &(wd_host_wasi_stream_t) { NULL, fz_stdout, NULL });
    wd_host_wasi_set_sleep(fz_wasi, fz_sleep, NULL);
    if (wd_host_wasi_preopen(fz_wasi, fz_dir, "/data", WD_HOST_WASI_READWRITE) < 0) {
        perror("preopen");
        exit(1);
    }
    uint32_t n = wd_wasm_module_import_count(fz_mod);
    wd_wasm_extern_t *imp = calloc(n, sizeof(*imp));
    if (imp == NULL || wd_host_http_link(fz_hh, fz_store, fz_mod, imp, &err) < 0
        || wd_host_wasi_link(fz_wasi, fz_store, fz_mod, imp, &err) < 0)
    {
        fprintf(stderr, "fuzz_host: link: %s\n", err.msg);
        exit(1);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (imp[i].of.func == NULL) {
            fprintf(stderr, "fuzz_host: import %u (%s %s) not linked\n", i,
                    fz_imports[i].module, fz_imports[i].name);
            exit(1);
        }
    }
    wd_wasm_limits_t lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_memory_bytes = 1 << 20;
    fz_inst = wd_wasm_instantiate(fz_store, fz_mod, imp, n, &lim, &err);
    free(imp);
    if (fz_inst == NULL || wd_host_http_attach(fz_hh, fz_inst, &err) != 0
        || wd_wasm_snapshot(fz_inst) != 0)
    {
        fprintf(stderr, "fuzz_host: instantiate: %s\n", err.msg);
        exit(1);
    }
    return 0;
}

static int
fz_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb; (void) flag;
    if (ftw->level > 0) remove(path);
    return 0;
}

/* ---- one input ---- */

typedef struct {
    const uint8_t *p, *end;
} fz_in_t;

static uint64_t
fz_take(fz_in_t *in, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t b = in->p < in->end ? *in->p++ : 0;
        v |= b << (8 * i);
    }
    return v;
}

static uint64_t
fz_arg(fz_in_t *in, char type)
{
    uint8_t k = (uint8_t) fz_take(in, 1);
    switch (k & 7) {
    case 0: return k >> 3;
    case 1: return BLOB_ADDR + 16 * fz_take(in, 1);
    case 2: return MEM_SIZE - fz_take(in, 1);
    case 3: return (type == 'I' ? UINT64_MAX : UINT32_MAX) - fz_take(in, 1);
    case 4: return fz_take(in, 4);
    case 5: return fz_take(in, 8);
    case 6: return fz_take(in, 1);
    default: return HEAP_LO + fz_take(in, 2);
    }
}

static const wd_host_http_outcome_t *fz_run_one(const uint8_t *data, size_t size);

/* a well-behaved program (a complete 200 response), run after every 16th input: the
 * reset must leave nothing behind that changes how the next request is served */
static uint8_t *fz_canary;
static size_t fz_canary_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned count;
    fz_run_one(data, size);
    if (++count % 16 == 0) {
        if (fz_canary == NULL) {
            fz_seed_open(NULL, "canary");
            fz_response(200, 3);
            fclose(fz_seed);
            fz_canary = (uint8_t *) fz_mem;
            fz_canary_len = fz_memlen;
        }
        const wd_host_http_outcome_t *o = fz_run_one(fz_canary, fz_canary_len);
        if (o->kind != WD_HOST_HTTP_OUT_OK || o->status != 200) {
            fprintf(stderr, "fuzz_host: a correct request failed after a reset: %s\n", o->reason);
            __builtin_trap();
        }
    }
    return 0;
}

static const wd_host_http_outcome_t *
fz_run_one(const uint8_t *data, size_t size)
{
    fz_in_t in = { data, data + size };
    wd_wasm_memory_t *mem = wd_wasm_instance_memory(fz_inst);
    uint8_t *script = wd_wasm_memory_ptr(mem, SCRIPT_ADDR, MEM_SIZE - SCRIPT_ADDR);
    uint8_t *blob = wd_wasm_memory_ptr(mem, BLOB_ADDR, BLOB_MAX);
    unsigned ncalls = 0;
    size_t blen;

    if (script == NULL || blob == NULL) __builtin_trap();
    blen = (size_t) ((fz_take(&in, 1) << 8 | fz_take(&in, 1)) % (BLOB_MAX + 1));
    for (size_t i = 0; i < blen; i++) blob[i] = (uint8_t) fz_take(&in, 1);
    while (in.p < in.end && ncalls < MAX_CALLS) {
        uint8_t *rec = script + REC_SIZE * ncalls++;
        uint32_t idx = (uint32_t) fz_take(&in, 1) % fz_nimports;
        memset(rec, 0, REC_SIZE);
        memcpy(rec, &idx, 4);
        for (unsigned k = 0; fz_imports[idx].params[k]; k++) {
            uint64_t v = fz_arg(&in, fz_imports[idx].params[k]);
            memcpy(rec + 8 + 8 * k, &v, 8);
        }
    }
    memset(script + REC_SIZE * ncalls, 0xff, 4);       /* end of script */

    static const wd_host_http_header_t hd[] = {
        { "host", "fuzz.test", 4, 9 }, { "content-type", "text/plain", 12, 10 },
        { "x-dup", "1", 5, 1 }, { "x-dup", "2", 5, 1 }
    };
    wd_host_http_request_head_t rq = { "POST", 4, "/fuzz?a=b", 9, "fuzz.test", 9, 0, hd, 4 };
    fz_backend_t be = { 0, 0 };

    wd_wasm_set_fuel(fz_inst, 2000000);
    wd_host_http_run_t st = wd_host_http_start(fz_hh, &rq, &fz_be, &be);
    for (int guard = 0; st != WD_HOST_HTTP_FINISHED && guard < 64; guard++) {
        uint64_t dl = 0;
        unsigned w = wd_host_http_waiting(fz_hh, &dl);
        be.pending = 0;                                /* the client read everything */
        if ((w & WD_HOST_HTTP_WAIT_TIMER) && dl > fz_now_ns() + 1000000u) {
            wd_host_http_cancel(fz_hh, WD_HOST_HTTP_CANCEL_TIMEOUT);
            break;
        }
        st = wd_host_http_resume(fz_hh);
    }
    if (st != WD_HOST_HTTP_FINISHED) {
        wd_host_http_cancel(fz_hh, WD_HOST_HTTP_CANCEL_CLIENT);
    }
    static wd_host_http_outcome_t out;
    const wd_host_http_outcome_t *o = &out;
    out = *wd_host_http_outcome(fz_hh);
    if (o->kind > WD_HOST_HTTP_OUT_ABORTED) __builtin_trap();
    if (getenv("FUZZ_HOST_VERBOSE")) {
        fprintf(stderr, "fuzz_host: %u calls (first %s::%s): outcome %d status %d trap %d: %s\n",
                ncalls, ncalls ? fz_imports[*(uint32_t *) script].module : "-",
                ncalls ? fz_imports[*(uint32_t *) script].name : "-", (int) o->kind, o->status,
                (int) o->trap, o->reason);
    }

    wd_host_http_reset(fz_hh);
    wd_host_wasi_reset(fz_wasi);
    if (wd_host_http_live_handles(fz_hh) != 0) {
        fprintf(stderr, "fuzz_host: handles survived the reset\n");
        __builtin_trap();
    }
    if (wd_wasm_restore(fz_inst) != 0) {
        fprintf(stderr, "fuzz_host: restore failed\n");
        __builtin_trap();
    }
    nftw(fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
    return o;
}
