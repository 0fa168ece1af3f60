/*
 * test_host_http.c -- the wasi:http host side (src/host/http/) against a fake
 * backend: real handler modules (objs/handlers/NAME.wasm: the SDK examples and the
 * t/handlers test handlers, built by `make handlers`) are instantiated the way
 * the server does it (link, instantiate, _initialize, snapshot), driven through
 * wd_host_http_start/resume with a body source that says "would block" and a
 * response sink with simulated back-pressure, and restored after each request.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "wd_wasm.h"
#include "http/wd_host_http.h"
#include "wasi/wd_host_wasi.h"

/* ---- fake backend ---- */

typedef struct {
    const char *chunks[8];        /* NULL entry = "would block" until the test moves past it */
    size_t chunk_len[8];
    size_t nchunks, cur, off;
    int body_fail;
    int status, head_calls;
    char headers[4096];
    int64_t cl;
    char *body;
    size_t body_len, body_cap;
    int finished, aborted, error_status;
    size_t pending, pending_cap;  /* pending grows with writes up to the test's drain */
    int grow_pending;
    char log[8192];
    int waits_body, waits_write;
} fake_t;

static int fk_read(void *be, uint8_t *buf, size_t len, size_t *n)
{
    fake_t *f = be;
    if (f->body_fail)
        return WD_HOST_HTTP_ERROR;
    if (f->cur >= f->nchunks)
        return WD_HOST_HTTP_DONE;
    if (f->chunks[f->cur] == NULL)
        return WD_HOST_HTTP_AGAIN;
    size_t left = f->chunk_len[f->cur] - f->off;
    size_t k = left < len ? left : len;
    memcpy(buf, f->chunks[f->cur] + f->off, k);
    f->off += k;
    if (f->off == f->chunk_len[f->cur]) {
        f->cur++;
        f->off = 0;
    }
    *n = k;
    return WD_HOST_HTTP_OK;
}

static int fk_ready(void *be)
{
    fake_t *f = be;
    return f->cur >= f->nchunks || f->chunks[f->cur] != NULL;
}

static int fk_head(void *be, int status, const wd_host_http_header_t *h, size_t nh, int64_t cl)
{
    fake_t *f = be;
    f->status = status;
    f->cl = cl;
    f->head_calls++;
    for (size_t i = 0; i < nh; i++) {
        size_t l = strlen(f->headers);
        snprintf(f->headers + l, sizeof f->headers - l, "%.*s: %.*s\n", (int)h[i].name_len,
                 h[i].name, (int)h[i].value_len, h[i].value);
    }
    return WD_HOST_HTTP_OK;
}

static int fk_write(void *be, const uint8_t *p, size_t n)
{
    fake_t *f = be;
    if (f->body_len + n > f->body_cap) {
        f->body_cap = (f->body_len + n) * 2;
        f->body = realloc(f->body, f->body_cap);
    }
    memcpy(f->body + f->body_len, p, n);
    f->body_len += n;
    if (f->grow_pending)
        f->pending += n;
    return WD_HOST_HTTP_OK;
}

static size_t fk_pending(void *be) { return ((fake_t *)be)->pending; }
static int fk_finish(void *be) { ((fake_t *)be)->finished = 1; return WD_HOST_HTTP_OK; }
static void fk_abort(void *be) { ((fake_t *)be)->aborted = 1; }
static void fk_error(void *be, int status) { ((fake_t *)be)->error_status = status; }
static void fk_log(void *be, int is_err, const char *line, size_t len)
{
    fake_t *f = be;
    size_t l = strlen(f->log);
    snprintf(f->log + l, sizeof f->log - l, "%s:%.*s\n", is_err ? "err" : "out", (int)len, line);
}

static const wd_host_http_backend_t fk_backend = {
    fk_read, fk_ready, fk_head, fk_write, fk_pending, fk_finish, fk_abort, fk_error, fk_log
};

/* ---- instances, set up like the server's pool ---- */

typedef struct {
    wd_wasm_module_t *m;
    wd_wasm_store_t *s;
    wd_wasm_instance_t *inst;
    wd_host_http_t *h;
    wd_host_wasi_t *w;
} ti_t;

static wd_wasm_module_t *load_file(const char *name, wd_wasm_error_t *err)
{
    char path[256];
    snprintf(path, sizeof path, "objs/handlers/%s.wasm", name);
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s missing: run make handlers", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert(fread(b, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    wd_wasm_module_t *m = wd_wasm_module_load(b, (size_t)n, NULL, err);
    free(b);
    return m;
}

static void ti_open(ti_t *t, const char *name, uint64_t mem_limit)
{
    wd_wasm_error_t err;
    memset(t, 0, sizeof *t);
    t->m = load_file(name, &err);
    ck_assert_msg(t->m != NULL, "load %s: %s", name, err.msg);
    ck_assert_msg(wd_host_http_check_module(t->m, &err) == 0, "check %s: %s", name, err.msg);
    t->s = wd_wasm_store_new();
    static const char *const env[] = { "GREETING=hi", "EMPTY=" };
    wd_host_http_conf_t conf = { env, 2 };
    t->h = wd_host_http_new(&conf);
    t->w = wd_host_wasi_new();
    uint32_t n = wd_wasm_module_import_count(t->m);
    wd_wasm_extern_t *imp = calloc(n + 1, sizeof *imp);
    ck_assert_int_ge(wd_host_http_link(t->h, t->s, t->m, imp, &err), 0);
    ck_assert_int_ge(wd_host_wasi_link(t->w, t->s, t->m, imp, &err), 0);
    wd_wasm_limits_t lim = { 0 };
    lim.max_memory_bytes = mem_limit;
    t->inst = wd_wasm_instantiate(t->s, t->m, imp, n, &lim, &err);
    free(imp);
    ck_assert_msg(t->inst != NULL, "instantiate %s: %s", name, err.msg);
    wd_wasm_extern_t x;
    if (wd_wasm_instance_export(t->inst, "_initialize", 11, &x) == 0)
        ck_assert_int_eq(wd_wasm_call(t->inst, x.of.func, NULL, 0, NULL, 0), WD_WASM_OK);
    ck_assert_int_eq(wd_wasm_snapshot(t->inst), 0);
    ck_assert_msg(wd_host_http_attach(t->h, t->inst, &err) == 0, "attach: %s", err.msg);
}

static void ti_close(ti_t *t)
{
    wd_wasm_store_free(t->s);
    wd_host_http_free(t->h);
    wd_host_wasi_free(t->w);
    wd_wasm_module_free(t->m);
}

static void fk_init(fake_t *f)
{
    memset(f, 0, sizeof *f);
    f->cl = -99;
}

static void fk_body(fake_t *f, const char *p, size_t n)
{
    f->chunks[f->nchunks] = p;
    f->chunk_len[f->nchunks++] = n;
}

static const wd_host_http_header_t test_headers[] = {
    { "host", "example.test", 4, 12 },
    { "user-agent", "check/1", 10, 7 },
    { "X-Multi", "one", 7, 3 },
    { "x-multi", "two", 7, 3 },
};

/* Run one request to completion, playing the event loop. */
static const wd_host_http_outcome_t *ti_run(ti_t *t, fake_t *f, const char *method,
                                            const char *path, uint64_t fuel)
{
    wd_host_http_request_head_t rq = {
        method, strlen(method), path, strlen(path), "example.test", 12, 0,
        test_headers, sizeof test_headers / sizeof test_headers[0]
    };
    wd_wasm_set_fuel(t->inst, fuel);
    wd_host_http_run_t st = wd_host_http_start(t->h, &rq, &fk_backend, f);
    int guard = 0;
    while (st != WD_HOST_HTTP_FINISHED && guard++ < 1000000) {
        uint64_t dl;
        unsigned w = wd_host_http_waiting(t->h, &dl);
        if (w & WD_HOST_HTTP_WAIT_BODY) {
            f->waits_body++;
            if (f->cur < f->nchunks && f->chunks[f->cur] == NULL)
                f->cur++;               /* the data "arrives" */
        }
        if (w & WD_HOST_HTTP_WAIT_WRITE) {
            f->waits_write++;
            f->pending = 0;             /* the socket drained */
        }
        if (w & WD_HOST_HTTP_WAIT_TIMER) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
            if (dl > now + 1000000000u) {           /* past our 1 s "deadline": 504 */
                wd_host_http_cancel(t->h, WD_HOST_HTTP_CANCEL_TIMEOUT);
                break;
            }
            if (dl > now) {
                ts.tv_sec = (dl - now) / 1000000000u;
                ts.tv_nsec = (dl - now) % 1000000000u;
                nanosleep(&ts, NULL);
            }
        }
        st = wd_host_http_resume(t->h);
    }
    static wd_host_http_outcome_t out;
    out = *wd_host_http_outcome(t->h);
    wd_host_http_reset(t->h);
    ck_assert_int_eq(wd_host_http_live_handles(t->h), 0);
    ck_assert_int_eq(wd_wasm_restore(t->inst), 0);
    return &out;
}

#define FUEL 200000000ull

/* ---- tests ---- */

START_TEST(test_hello)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "hello", 64 << 20);
    for (int i = 0; i < 3; i++) {
        fk_init(&f);
        const wd_host_http_outcome_t *o = ti_run(&t, &f, "GET", "/hello", FUEL);
        ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_OK);
        ck_assert_int_eq(f.status, 200);
        ck_assert_int_eq(f.cl, 18);             /* short body: Content-Length, not chunked */
        ck_assert_int_eq(f.body_len, 18);
        ck_assert(memcmp(f.body, "Hello from wasmd!\n", 18) == 0);
        ck_assert_ptr_nonnull(strstr(f.headers, "content-type: text/plain"));
        ck_assert_int_eq(f.finished, 1);
        free(f.body);
    }
    ti_close(&t);
}
END_TEST

START_TEST(test_echo_streams_with_suspension)
{
    ti_t t;
    fake_t f;
    static char big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    ti_open(&t, "echo", 64 << 20);
    fk_init(&f);
    fk_body(&f, "hello ", 6);
    fk_body(&f, NULL, 0);                      /* would block: the instance must suspend */
    fk_body(&f, big, sizeof big);
    fk_body(&f, NULL, 0);
    fk_body(&f, "end", 3);
    f.grow_pending = 1;
    const wd_host_http_outcome_t *o = ti_run(&t, &f, "POST", "/echo", FUEL);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_OK);
    ck_assert_int_ge(f.waits_body, 2);
    ck_assert_int_eq(f.cl, -1);                /* streamed */
    ck_assert_int_eq(f.body_len, 6 + sizeof big + 3);
    ck_assert(memcmp(f.body, "hello ", 6) == 0);
    ck_assert(memcmp(f.body + 6, big, sizeof big) == 0);
    ck_assert(memcmp(f.body + 6 + sizeof big, "end", 3) == 0);
    ck_assert_int_eq(f.finished, 1);
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_big_backpressure)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "test-big", 64 << 20);
    fk_init(&f);
    f.grow_pending = 1;
    const wd_host_http_outcome_t *o = ti_run(&t, &f, "GET", "/big?mib=2", FUEL * 5);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_OK);
    ck_assert_int_eq(f.body_len, 2u << 20);
    ck_assert_int_ge(f.waits_write, 10);       /* it waited for the "socket" repeatedly */
    for (size_t i = 0; i < f.body_len; i += 4099)
        ck_assert_int_eq((unsigned char)f.body[i], i % 251);
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_headers_json)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "headers", 64 << 20);
    fk_init(&f);
    ti_run(&t, &f, "PATCH", "/headers?x=1", FUEL);
    ck_assert_int_eq(f.status, 200);
    f.body = realloc(f.body, f.body_len + 1);
    f.body[f.body_len] = 0;
    ck_assert_ptr_nonnull(strstr(f.body, "\"method\":\"PATCH\""));
    ck_assert_ptr_nonnull(strstr(f.body, "\"path\":\"/headers?x=1\""));
    ck_assert_ptr_nonnull(strstr(f.body, "[\"user-agent\",\"check/1\"]"));
    ck_assert_ptr_nonnull(strstr(f.body, "[\"x-multi\",\"two\"]"));
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_state_isolated)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "test-state", 64 << 20);
    for (int i = 0; i < 3; i++) {
        fk_init(&f);
        ti_run(&t, &f, "GET", "/state", FUEL);
        ck_assert_int_eq(f.status, 200);
        ck_assert_int_eq(f.body_len, 11);
        ck_assert_msg(memcmp(f.body, "g0 t1 m1 b0", 11) == 0, "request %d saw %.11s", i, f.body);
        free(f.body);
    }
    ti_close(&t);
}
END_TEST

START_TEST(test_abi_hostile)
{
    static const struct { const char *path; const char *want; } cases[] = {
        { "/a", "invalid handle" },
        { "/b", "out of bounds" },
        { "/c", "expected fields" },
        { "/d", "invalid handle" },
        { "/e", "misaligned" },
        { "/f", "cabi_realloc" },
        { "/j", "bytes of header fields" },
    };
    ti_t t;
    fake_t f;
    ti_open(&t, "test-abi", 64 << 20);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fk_init(&f);
        const wd_host_http_outcome_t *o = ti_run(&t, &f, "GET", cases[i].path, FUEL);
        ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ERROR);
        ck_assert_int_eq(f.error_status, 500);
        ck_assert_int_eq(f.head_calls, 0);
        ck_assert_msg(strstr(o->reason, cases[i].want) != NULL, "%s: reason '%s'", cases[i].path,
                      o->reason);
        /* the same instance serves a correct request right after */
        fk_init(&f);
        o = ti_run(&t, &f, "GET", "/z", FUEL);
        ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_OK);
        ck_assert_int_eq(f.body_len, 2);
        ck_assert(memcmp(f.body, "ok", 2) == 0);
        free(f.body);
    }
    fk_init(&f);                               /* response from a headers view: a copy */
    ck_assert_int_eq(ti_run(&t, &f, "GET", "/i", FUEL)->kind, WD_HOST_HTTP_OUT_OK);
    ck_assert(f.body_len == 2 && memcmp(f.body, "ok", 2) == 0);
    free(f.body);
    for (int i = 0; i < 2; i++) {             /* CR/LF value, status 700: refused, no trap */
        fk_init(&f);
        const wd_host_http_outcome_t *o = ti_run(&t, &f, "GET", i ? "/h" : "/g", FUEL);
        ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_OK);
        ck_assert_int_eq(f.body_len, 7);
        ck_assert(memcmp(f.body, "refused", 7) == 0);
        free(f.body);
    }
    ti_close(&t);
}
END_TEST

START_TEST(test_framing)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "test-framing", 64 << 20);
    const wd_host_http_outcome_t *o;

    fk_init(&f);
    o = ti_run(&t, &f, "GET", "/framing/cl-short", FUEL);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ERROR);
    ck_assert_int_eq(f.error_status, 500);
    ck_assert_int_eq(f.body_len, 0);

    fk_init(&f);
    o = ti_run(&t, &f, "GET", "/framing/cl-long", FUEL);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ERROR);
    ck_assert_int_eq(f.body_len, 0);

    fk_init(&f);
    ti_run(&t, &f, "GET", "/framing/headers", FUEL);
    ck_assert_int_eq(f.status, 200);
    f.body = realloc(f.body, f.body_len + 1);
    f.body[f.body_len] = 0;
    ck_assert_str_eq(f.body, "x-good:ok\nx-crlf:refused\nx-lf:refused\nconnection:refused\n"
                     "transfer-encoding:refused\nbad name:refused\nkeep-alive:refused\n"
                     "x-nul:refused\nupgrade:refused\n");
    ck_assert_ptr_nonnull(strstr(f.headers, "x-good: fine"));
    ck_assert_ptr_null(strstr(f.headers, "Injected"));
    free(f.body);

    fk_init(&f);
    ti_run(&t, &f, "GET", "/framing/status", FUEL);
    ck_assert_int_eq(f.status, 299);
    free(f.body);

    fk_init(&f);
    ti_run(&t, &f, "GET", "/framing/log", FUEL);
    ck_assert_int_eq(f.status, 200);
    ck_assert_str_eq(f.log, "err:first line from the guest\nerr:second line\n");
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_fuel_timeout_and_traps)
{
    ti_t t;
    fake_t f;
    const wd_host_http_outcome_t *o;
    ti_open(&t, "test-loop", 64 << 20);
    fk_init(&f);
    o = ti_run(&t, &f, "GET", "/loop", 5000000);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ERROR);
    ck_assert_int_eq(o->trap, WD_TRAP_FUEL);
    ck_assert_int_eq(f.error_status, 500);
    fk_init(&f);
    o = ti_run(&t, &f, "GET", "/loop?sleep", 5000000);  /* waits on a timer: deadline cancels */
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ERROR);
    ck_assert_int_eq(f.error_status, 504);
    ti_close(&t);

    ti_open(&t, "test-recurse", 64 << 20);
    fk_init(&f);
    o = ti_run(&t, &f, "GET", "/recurse", FUEL);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ERROR);
    ck_assert_int_eq(f.error_status, 500);
    ti_close(&t);

    ti_open(&t, "test-trapmid", 64 << 20);
    fk_init(&f);
    o = ti_run(&t, &f, "GET", "/trapmid", FUEL);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_ABORTED);
    ck_assert_int_eq(f.head_calls, 1);
    ck_assert_int_eq(f.cl, -1);
    ck_assert_int_eq(f.aborted, 1);
    ck_assert_int_eq(f.finished, 0);
    ck_assert_int_ge(f.body_len, 16384);
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_wasi_imports)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "test-wasi", 64 << 20);
    fk_init(&f);
    fk_body(&f, "abc", 3);
    fk_body(&f, NULL, 0);
    fk_body(&f, "defghij", 7);
    const wd_host_http_outcome_t *o = ti_run(&t, &f, "POST", "/wasi", FUEL);
    ck_assert_int_eq(o->kind, WD_HOST_HTTP_OUT_OK);
    ck_assert_int_eq(f.status, 201);
    f.body = realloc(f.body, f.body_len + 1);
    f.body[f.body_len] = 0;
    ck_assert_msg(strstr(f.body, "FAIL") == NULL, "%s", f.body);
    ck_assert_msg(strstr(f.body, "ok outgoing-handler -> error") != NULL, "%s", f.body);
    int lines = 0;
    for (char *p = f.body; *p; p++)
        lines += *p == '\n';
    if (getenv("T_VERBOSE"))
        fputs(f.body, stderr);
    ck_assert_int_eq(lines, 30);          /* every check reported */
    ck_assert_int_ge(f.waits_body, 1);
    ck_assert_str_eq(f.log, "out:hello stdout\n");
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_memory_limit)
{
    ti_t t;
    fake_t f;
    ti_open(&t, "test-grow", 4 << 20);
    fk_init(&f);
    ti_run(&t, &f, "GET", "/grow", FUEL);
    ck_assert_int_eq(f.status, 200);
    f.body = realloc(f.body, f.body_len + 1);
    f.body[f.body_len] = 0;
    int mib = -1;
    ck_assert_int_eq(sscanf(f.body, "grew %d MiB", &mib), 1);
    ck_assert_int_ge(mib, 1);
    ck_assert_int_le(mib, 4);
    free(f.body);
    ti_close(&t);
}
END_TEST

START_TEST(test_import_matching)
{
    const char *sig;
    ck_assert(wd_host_http_provides("wasi:http/types@0.2.0", 21, "[method]fields.append", 21, &sig));
    ck_assert_str_eq(sig, "iiiiii:");
    ck_assert(wd_host_http_provides("wasi:http/types@0.2.7", 21, "[static]response-outparam.set",
                                    29, &sig));
    ck_assert_str_eq(sig, "iiiiIiiii:");
    ck_assert(wd_host_http_provides("wasi:http/types", 15, "[constructor]fields", 19, &sig));
    ck_assert(wd_host_http_provides("wasi:io/streams@0.2.12", 22,
                                    "[method]input-stream.blocking-read", 34, &sig));
    ck_assert_str_eq(sig, "iIi:");
    ck_assert(wd_host_http_provides("wasi:io/streams@0.2.0", 21, "[resource-drop]input-stream", 27,
                                    &sig));
    ck_assert(wd_host_http_provides("wasi:http/types@0.2.0", 21,
                                    "[method]outgoing-response.set-status-code", 41, &sig));
    ck_assert_str_eq(sig, "ii:i");
    ck_assert(!wd_host_http_provides("wasi:http/types@0.3.0", 21, "[constructor]fields", 19, &sig));
    ck_assert(!wd_host_http_provides("wasi:http/types@0.2.", 20, "[constructor]fields", 19, &sig));
    ck_assert(!wd_host_http_provides("wasi:http/types@0.2.0-rc", 24, "[constructor]fields", 19, &sig));
    ck_assert(!wd_host_http_provides("wasi:http/types@0.2.0", 21, "[method]fields.nope", 19, &sig));
    ck_assert(!wd_host_http_provides("wasi:io/streams@0.2.0", 21, "[resource-drop]error", 20, &sig));
}
END_TEST

START_TEST(test_check_module_errors)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = load_file("cgi", &err);
    ck_assert_ptr_nonnull(m);
    ck_assert(!wd_host_http_is_handler(m));
    ck_assert_int_eq(wd_host_http_check_module(m, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "incoming-handler"));
    wd_wasm_module_free(m);
    m = load_file("hello", &err);
    ck_assert(wd_host_http_is_handler(m));
    ck_assert_int_eq(wd_host_http_check_module(m, &err), 0);
    wd_wasm_module_free(m);
}
END_TEST

/* ---- allocation failure on the request path ----
 * The engine's allocator is replaced by one that counts, offsets every block by
 * a header (a block freed with libc's free, or an libc block freed through the
 * engine, crashes) and fails the Nth allocation. For every N up to the number a
 * request makes on a fresh instance: the request ends (an error response or,
 * where the allocation was optional, the right one), the instance serves the
 * next request correctly, and closing everything frees every block. */

#define FA_HDR 16
static struct { uint64_t count, fail_at; long live; int failed; } FA;

static void *fa_malloc(size_t n, void *ud)
{
    FA.count++;
    if (FA.fail_at && FA.count == FA.fail_at) { FA.failed = 1; return NULL; }
    unsigned char *p = malloc(n + FA_HDR);
    if (p == NULL) return NULL;
    FA.live++;
    return p + FA_HDR;
}

static void *fa_realloc(void *q, size_t n, void *ud)
{
    if (q == NULL) return fa_malloc(n, ud);
    FA.count++;
    if (FA.fail_at && FA.count == FA.fail_at) { FA.failed = 1; return NULL; }
    unsigned char *p = realloc((unsigned char *)q - FA_HDR, n + FA_HDR);
    return p ? p + FA_HDR : NULL;
}

static void fa_free(void *q, void *ud)
{
    if (q == NULL) return;
    FA.live--;
    free((unsigned char *)q - FA_HDR);
}

static const wd_wasm_allocator_t fa_allocator = { fa_malloc, fa_realloc, fa_free, NULL };

typedef struct {
    const char *handler, *method, *path, *want;
    int suspend;                  /* request body arrives in two parts, "would block" between */
} fa_case_t;

static void fa_request(ti_t *t, const fa_case_t *c, fake_t *f)
{
    fk_init(f);
    if (c->suspend) {
        fk_body(f, "abc", 3);
        fk_body(f, NULL, 0);
        fk_body(f, "defgh", 5);
    }
    ti_run(t, f, c->method, c->path, FUEL);
}

START_TEST(test_alloc_failure)
{
    static const fa_case_t cases[] = {
        { "hello", "GET", "/hello", "Hello from wasmd!\n", 0 },
        { "echo", "POST", "/echo", "abcdefgh", 1 },
        { "headers", "GET", "/headers", "\"path\":\"/headers\"", 0 },
    };
    wd_wasm_set_allocator(&fa_allocator);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const fa_case_t *c = &cases[k];
        int errors = 0, graceful = 0;
        uint64_t n;
        for (n = 1; n < 100000; n++) {
            ti_t t;
            fake_t f;
            long live0 = FA.live;
            FA.fail_at = 0;
            ti_open(&t, c->handler, 64 << 20);
            FA.count = 0;
            FA.failed = 0;
            FA.fail_at = n;
            fa_request(&t, c, &f);
            FA.fail_at = 0;
            int failed = FA.failed;
            if (failed) {
                if (f.status == 200 && f.finished && f.body_len >= strlen(c->want) &&
                    memmem(f.body, f.body_len, c->want, strlen(c->want)))
                    graceful++;
                else
                    errors++;
            }
            free(f.body);
            /* the same instance serves the next request */
            fa_request(&t, c, &f);
            ck_assert_msg(f.status == 200 && f.finished && memmem(f.body, f.body_len, c->want, strlen(c->want)),
                          "%s: the request after allocation %llu failed got %d", c->handler,
                          (unsigned long long)n, f.status);
            free(f.body);
            ti_close(&t);
            ck_assert_msg(FA.live == live0, "%s: %ld blocks leaked with allocation %llu failing",
                          c->handler, FA.live - live0, (unsigned long long)n);
            if (!failed) break;       /* past the last allocation the request makes */
        }
        ck_assert_msg(n > 1, "%s: a request on a fresh instance allocated nothing", c->handler);
        fprintf(stderr, "alloc failure %s: %llu allocations per first request, %d failed with an "
                "error, %d answered anyway\n", c->handler, (unsigned long long)(n - 1), errors, graceful);
    }
    wd_wasm_set_allocator(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("host_http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_import_matching);
    tcase_add_test(tc, test_check_module_errors);
    tcase_add_test(tc, test_hello);
    tcase_add_test(tc, test_echo_streams_with_suspension);
    tcase_add_test(tc, test_big_backpressure);
    tcase_add_test(tc, test_headers_json);
    tcase_add_test(tc, test_state_isolated);
    tcase_add_test(tc, test_abi_hostile);
    tcase_add_test(tc, test_framing);
    tcase_add_test(tc, test_fuel_timeout_and_traps);
    tcase_add_test(tc, test_memory_limit);
    tcase_add_test(tc, test_wasi_imports);
    tcase_add_test(tc, test_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
