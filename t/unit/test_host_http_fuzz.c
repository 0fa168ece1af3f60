/*
 * test_host_http_fuzz.c -- every wasi:http-world import called with hostile arguments.
 *
 * For each import the host provides, small modules are generated (WAT, compiled with
 * wat2wasm) that call it 24 times per request with arguments drawn from a seeded PRNG:
 * valid and invalid handles of every type, pointers inside, at the edge of and outside
 * memory, misaligned pointers, huge lengths and i64 extremes. Each module runs several
 * requests through the real host with a fake backend. The host must never crash or leak
 * (run under ASan), every request must end with a sane outcome, no handle may survive the
 * reset, and the instance must still serve a correct request afterwards.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "wd_wasm.h"
#include "http/wd_host_http.h"

static int fk_read(void *be, uint8_t *buf, size_t len, size_t *n)
{
    int *state = be;
    if ((*state)++ % 3 == 1)
        return WD_HOST_HTTP_AGAIN;
    if (*state > 12)
        return WD_HOST_HTTP_DONE;
    size_t k = len < 5 ? len : 5;
    memcpy(buf, "fuzz!", k);
    *n = k;
    return WD_HOST_HTTP_OK;
}
static int fk_ready(void *be) { return *(int *)be % 3 != 1; }
static int fk_head(void *be, int s, const wd_host_http_header_t *h, size_t n, int64_t cl)
{
    (void)be;
    ck_assert(s >= 200 && s <= 599);
    for (size_t i = 0; i < n; i++)
        ck_assert(memchr(h[i].value, '\n', h[i].value_len) == NULL);
    (void)cl;
    return WD_HOST_HTTP_OK;
}
static size_t pend;
static int fk_write(void *be, const uint8_t *p, size_t n) { (void)be; (void)p; pend += n; return WD_HOST_HTTP_OK; }
static size_t fk_pending(void *be) { (void)be; return pend; }
static int fk_finish(void *be) { (void)be; return WD_HOST_HTTP_OK; }
static void fk_abort(void *be) { (void)be; }
static int last_error;
static void fk_error(void *be, int s) { (void)be; last_error = s; }
static void fk_log(void *be, int e, const char *l, size_t n) { (void)be; (void)e; (void)l; (void)n; }
static const wd_host_http_backend_t fk = {
    fk_read, fk_ready, fk_head, fk_write, fk_pending, fk_finish, fk_abort, fk_error, fk_log
};

/* A WAT module calling import (iface, name, sig) with PRNG-drawn arguments. */
static void gen_wat(FILE *f, const char *iface, const char *name, const char *sig, uint32_t seed)
{
    const char *colon = strchr(sig, ':');
    fprintf(f, "(module\n");
    fprintf(f, "  (import \"wasi:http/types@0.2.0\" \"[constructor]fields\" (func $mk (result i32)))\n");
    fprintf(f, "  (import \"wasi:random/random@0.2.0\" \"get-random-u64\" (func $rand (result i64)))\n");
    fprintf(f, "  (import \"wasi:http/types@0.2.0\" \"[method]incoming-request.consume\" (func $consume (param i32 i32)))\n");
    fprintf(f, "  (import \"wasi:http/types@0.2.0\" \"[method]incoming-body.stream\" (func $stream (param i32 i32)))\n");
    fprintf(f, "  (import \"wasi:http/types@0.2.0\" \"[constructor]outgoing-response\" (func $resp (param i32) (result i32)))\n");
    fprintf(f, "  (import \"wasi:http/types@0.2.0\" \"[method]outgoing-response.body\" (func $obody (param i32 i32)))\n");
    fprintf(f, "  (import \"wasi:http/types@0.2.0\" \"[method]outgoing-body.write\" (func $owrite (param i32 i32)))\n");
    fprintf(f, "  (import \"wasi:io/streams@0.2.0\" \"[method]input-stream.subscribe\" (func $isub (param i32) (result i32)))\n");
    fprintf(f, "  (import \"wasi:clocks/monotonic-clock@0.2.0\" \"subscribe-duration\" (func $tsub (param i64) (result i32)))\n");
    fprintf(f, "  (import \"%s@0.2.0\" \"%s\" (func $f", iface, name);
    if (colon != sig) {
        fprintf(f, " (param");
        for (const char *p = sig; p < colon; p++)
            fprintf(f, *p == 'I' ? " i64" : " i32");
        fprintf(f, ")");
    }
    if (colon[1])
        fprintf(f, " (result %s)", colon[1] == 'I' ? "i64" : "i32");
    fprintf(f, "))\n");
    fprintf(f, "  (memory (export \"memory\") 1)\n");
    fprintf(f, "  (global $s (mut i32) (i32.const %u))\n", seed | 1);
    fprintf(f, "  (global $heap (mut i32) (i32.const 32768))\n");
    fprintf(f, "  (func $r (result i32) (local $x i32)\n"
               "    (local.set $x (global.get $s))\n"
               "    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))\n"
               "    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))\n"
               "    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))\n"
               "    (global.set $s (local.get $x)) (local.get $x))\n");
    /* argument: a handle (0..9), a small int, an in-bounds pointer, an edge pointer,
       a misaligned pointer, a huge value, or a random one */
    fprintf(f, "  (func $a (result i32) (local $k i32)\n"
               "    (local.set $k (i32.rem_u (call $r) (i32.const 8)))\n"
               "    (if (i32.eq (local.get $k) (i32.const 0)) (then (return (i32.rem_u (call $r) (i32.const 12)))))\n"
               "    (if (i32.eq (local.get $k) (i32.const 1)) (then (return (i32.rem_u (call $r) (i32.const 40)))))\n"
               "    (if (i32.eq (local.get $k) (i32.const 2)) (then (return (i32.and (i32.rem_u (call $r) (i32.const 30000)) (i32.const -8)))))\n"
               "    (if (i32.eq (local.get $k) (i32.const 3)) (then (return (i32.sub (i32.const 65536) (i32.rem_u (call $r) (i32.const 48))))))\n"
               "    (if (i32.eq (local.get $k) (i32.const 4)) (then (return (i32.or (i32.rem_u (call $r) (i32.const 30000)) (i32.const 1)))))\n"
               "    (if (i32.eq (local.get $k) (i32.const 5)) (then (return (i32.const -1))))\n"
               "    (if (i32.eq (local.get $k) (i32.const 6)) (then (return (i32.rem_u (call $r) (i32.const 12)))))\n"
               "    (call $r))\n");
    /* the receiver: usually one of the live handles */
    fprintf(f, "  (func $h (result i32)\n"
               "    (if (i32.rem_u (call $r) (i32.const 4)) (then (return (i32.add (i32.const 1) (i32.rem_u (call $r) (i32.const 10))))))\n"
               "    (call $a))\n");
    fprintf(f, "  (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (local $p i32)\n"
               "    (if (i32.gt_u (local.get 3) (i32.const 16384)) (then (return (i32.const 0))))\n"
               "    (if (i32.gt_u (i32.add (global.get $heap) (local.get 3)) (i32.const 64000)) (then (global.set $heap (i32.const 32768))))\n"
               "    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))\n"
               "    (global.set $heap (i32.add (local.get $p) (local.get 3))) (local.get $p))\n");
    fprintf(f, "  (func (export \"wasi:http/incoming-handler@0.2.0#handle\") (param i32 i32) (local $i i32)\n"
               /* handles: 1 request, 2 outparam, 3 fields, 4 outgoing-response, 5 incoming-body,
                  6 input-stream, 7 outgoing-body, 8 output-stream, 9 pollable (body),
                  10 pollable (timer) */
               "    (global.set $s (i32.or (i32.wrap_i64 (call $rand)) (i32.const 1)))\n"
               "    (drop (call $mk)) (drop (call $resp (call $mk)))\n"
               "    (call $consume (local.get 0) (i32.const 64)) (call $stream (i32.load (i32.const 68)) (i32.const 64))\n"
               "    (call $obody (i32.const 4) (i32.const 64)) (call $owrite (i32.load (i32.const 68)) (i32.const 64))\n"
               "    (drop (call $isub (i32.const 6))) (drop (call $tsub (i64.const 1000)))\n"
               "    (loop $l\n      ");
    if (colon[1])
        fprintf(f, "(drop ");
    fprintf(f, "(call $f");
    for (const char *p = sig; p < colon; p++)
        fprintf(f, *p == 'I' ? " (i64.extend_i32_u (call $a))" : p == sig ? " (call $h)" : " (call $a)");
    fprintf(f, ")%s\n", colon[1] ? ")" : "");
    fprintf(f, "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
               "      (br_if $l (i32.lt_u (local.get $i) (i32.const 24))))))\n");
}

static wd_wasm_module_t *compile(const char *iface, const char *name, const char *sig, uint32_t seed)
{
    char wat[] = "/tmp/wd_fuzz_XXXXXX";
    int fd = mkstemp(wat);
    ck_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    gen_wat(f, iface, name, sig, seed);
    fclose(f);
    char wasm[64], cmd[256];
    snprintf(wasm, sizeof wasm, "%s.wasm", wat);
    snprintf(cmd, sizeof cmd, "wat2wasm %s -o %s", wat, wasm);
    int rc = system(cmd);
    unlink(wat);
    ck_assert_msg(rc == 0, "wat2wasm failed for %s %s", iface, name);
    FILE *w = fopen(wasm, "rb");
    fseek(w, 0, SEEK_END);
    long n = ftell(w);
    fseek(w, 0, SEEK_SET);
    uint8_t *b = malloc(n);
    ck_assert(fread(b, 1, n, w) == (size_t)n);
    fclose(w);
    unlink(wasm);
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(b, n, NULL, &err);
    free(b);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_msg(wd_host_http_check_module(m, &err) == 0, "%s %s: %s", iface, name, err.msg);
    return m;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int fuzz_one(const char *iface, const char *name, const char *sig, uint32_t seed)
{
    wd_wasm_module_t *m = compile(iface, name, sig, seed);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_host_http_t *h = wd_host_http_new(NULL);
    uint32_t n = wd_wasm_module_import_count(m);
    wd_wasm_extern_t *imp = calloc(n, sizeof *imp);
    wd_wasm_error_t err;
    ck_assert_int_ge(wd_host_http_link(h, s, m, imp, &err), 0);
    wd_wasm_limits_t lim = { 1 << 20, 0, 0, 0 };
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, imp, n, &lim, &err);
    free(imp);
    ck_assert_msg(inst != NULL, "%s", err.msg);
    ck_assert_int_eq(wd_host_http_attach(h, inst, &err), 0);
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);
    static const wd_host_http_header_t hd[] = { { "host", "fuzz", 4, 4 }, { "x-a", "b", 3, 1 } };
    wd_host_http_request_head_t rq = { "PUT", 3, "/f?x", 4, "fuzz", 4, 0, hd, 2 };
    int traps = 0;
    for (int k = 0; k < 4; k++) {
        int body = 0;
        pend = 0;
        wd_wasm_set_fuel(inst, 10000000);
        wd_host_http_run_t st = wd_host_http_start(h, &rq, &fk, &body);
        for (int guard = 0; st != WD_HOST_HTTP_FINISHED && guard < 100; guard++) {
            uint64_t dl;
            unsigned w = wd_host_http_waiting(h, &dl);
            pend = 0;
            if ((w & WD_HOST_HTTP_WAIT_TIMER) && dl > now_ns() + 5000000u) {
                wd_host_http_cancel(h, WD_HOST_HTTP_CANCEL_TIMEOUT);
                break;
            }
            if (w & WD_HOST_HTTP_WAIT_TIMER)
                while (now_ns() < dl)
                    ;
            st = wd_host_http_resume(h);
        }
        if (st != WD_HOST_HTTP_FINISHED)
            wd_host_http_cancel(h, WD_HOST_HTTP_CANCEL_CLIENT);
        const wd_host_http_outcome_t *o = wd_host_http_outcome(h);
        ck_assert(o->kind <= WD_HOST_HTTP_OUT_ABORTED);
        traps += o->trap != WD_TRAP_NONE;
        if (getenv("T_VERBOSE") && getenv("T_VERBOSE")[0] == '2')
            fprintf(stderr, "%s %s: %s\n", iface, name, o->reason);
        wd_host_http_reset(h);
        ck_assert_int_eq(wd_host_http_live_handles(h), 0);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
    }
    wd_wasm_store_free(s);
    wd_host_http_free(h);
    wd_wasm_module_free(m);
    return traps;
}

START_TEST(test_fuzz_every_import)
{
    const char *iface, *name, *sig;
    int total = 0, traps = 0;
    for (size_t i = 0; wd_host_http_import_at(i, &iface, &name, &sig) == 0; i++) {
        if (strcmp(iface, "wasi:cli/exit") == 0)
            continue;                         /* ends the call by design */
        for (uint32_t seed = 1; seed <= 8; seed++) {
            traps += fuzz_one(iface, name, sig, seed * 2654435761u + (uint32_t)i);
            total += 4;
        }
    }
    if (getenv("T_VERBOSE"))
        fprintf(stderr, "%d requests, %d trapped\n", total, traps);
    ck_assert_int_gt(total, 400);
    ck_assert_int_gt(traps, total / 4);       /* the hostile arguments were noticed */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("host_http_fuzz");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fuzz_every_import);
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
