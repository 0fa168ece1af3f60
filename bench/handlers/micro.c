/*
 * micro.c -- micro-benchmarks of the wasi:http host path, no network:
 *   1. acquire + run the hello handler + reset (handle table dropped, wd_wasm_restore),
 *      i.e. the per-request cost the pool adds around a trivial handler (ns/request);
 *   2. the same with test-state, which grows memory by a page (restore shrinks it back:
 *      two system calls) and writes 3 pages;
 *   3. memory per idle pooled instance of hello: RSS growth over N instances / N.
 * Usage: micro [DIR]   (DIR holds hello.wasm, test-state.wasm; default objs/handlers)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "wd_wasm.h"
#include "http/wd_host_http.h"
#include "wasi/wd_host_wasi.h"

static int rd(void *be, uint8_t *b, size_t l, size_t *n) { (void)be; (void)b; (void)l; (void)n; return WD_HOST_HTTP_DONE; }
static int ready(void *be) { (void)be; return 1; }
static int head(void *be, int s, const wd_host_http_header_t *h, size_t n, int64_t cl)
{ (void)be; (void)s; (void)h; (void)n; (void)cl; return WD_HOST_HTTP_OK; }
static size_t bytes;
static int wr(void *be, const uint8_t *p, size_t n) { (void)be; (void)p; bytes += n; return WD_HOST_HTTP_OK; }
static size_t pend(void *be) { (void)be; return 0; }
static int fin(void *be) { (void)be; return WD_HOST_HTTP_OK; }
static void ab(void *be) { (void)be; }
static void er(void *be, int s) { (void)be; fprintf(stderr, "error %d\n", s); exit(1); }
static void lg(void *be, int e, const char *l, size_t n) { (void)be; (void)e; (void)l; (void)n; }
static const wd_host_http_backend_t be = { rd, ready, head, wr, pend, fin, ab, er, lg };

typedef struct { wd_wasm_store_t *s; wd_wasm_instance_t *i; wd_host_http_t *h; wd_host_wasi_t *w; } inst_t;

static wd_wasm_module_t *load(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n);
    if (fread(b, 1, n, f) != (size_t)n) exit(1);
    fclose(f);
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(b, n, NULL, &err);
    free(b);
    if (!m) { fprintf(stderr, "%s: %s\n", path, err.msg); exit(1); }
    return m;
}

static void mk(inst_t *t, wd_wasm_module_t *m)
{
    wd_wasm_error_t err;
    uint32_t n = wd_wasm_module_import_count(m);
    wd_wasm_extern_t *imp = calloc(n + 1, sizeof *imp);
    t->s = wd_wasm_store_new();
    t->h = wd_host_http_new(NULL);
    t->w = wd_host_wasi_new();
    if (wd_host_http_link(t->h, t->s, m, imp, &err) < 0 || wd_host_wasi_link(t->w, t->s, m, imp, &err) < 0) {
        fprintf(stderr, "link: %s\n", err.msg); exit(1);
    }
    wd_wasm_limits_t lim = { 64 << 20, 0, 0, 0 };
    t->i = wd_wasm_instantiate(t->s, m, imp, n, &lim, &err);
    free(imp);
    if (!t->i) { fprintf(stderr, "instantiate: %s\n", err.msg); exit(1); }
    wd_wasm_extern_t x;
    if (wd_wasm_instance_export(t->i, "_initialize", 11, &x) == 0)
        wd_wasm_call(t->i, x.of.func, NULL, 0, NULL, 0);
    if (wd_host_http_attach(t->h, t->i, &err) != 0 || wd_wasm_snapshot(t->i) != 0) {
        fprintf(stderr, "attach: %s\n", err.msg); exit(1);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    if (f) fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static double restore_share;

static double per_request(wd_wasm_module_t *m, int iters)
{
    inst_t t;
    static const wd_host_http_header_t hd[] = { { "host", "bench", 4, 5 } };
    wd_host_http_request_head_t rq = { "GET", 3, "/hello", 6, "bench", 5, 0, hd, 1 };
    mk(&t, m);
    double best = 1e9, best_restore = 0;
    for (int round = 0; round < 5; round++) {
        double t0 = now(), in_restore = 0;
        for (int k = 0; k < iters; k++) {
            wd_wasm_set_fuel(t.i, 1000000000);
            if (wd_host_http_start(t.h, &rq, &be, NULL) != WD_HOST_HTTP_FINISHED
                || wd_host_http_outcome(t.h)->kind != WD_HOST_HTTP_OUT_OK) {
                fprintf(stderr, "request failed: %s\n", wd_host_http_outcome(t.h)->reason);
                exit(1);
            }
            wd_host_http_reset(t.h);
            double r0 = now();
            wd_wasm_restore(t.i);
            in_restore += now() - r0;
        }
        double dt = (now() - t0) / iters;
        if (dt < best) {
            best = dt;
            best_restore = in_restore / iters;
        }
    }
    restore_share = best_restore * 1e9;
    wd_wasm_store_free(t.s);
    wd_host_http_free(t.h);
    wd_host_wasi_free(t.w);
    return best * 1e9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "objs/handlers";
    wd_wasm_module_t *hello = load(dir, "hello"), *state = load(dir, "test-state");
    int iters = 20000;
    printf("engine: %s\n", wd_wasm_build_info());
    double h = per_request(hello, iters);
    printf("acquire+run+reset, hello (SDK, ~18 B body):    %8.0f ns/request (goal <= 2000); "
           "wd_wasm_restore alone %.0f ns\n", h, restore_share);
    double s = per_request(state, iters);
    printf("acquire+run+reset, test-state (grows memory):   %8.0f ns/request; "
           "wd_wasm_restore alone %.0f ns\n", s, restore_share);
    enum { N = 200 };
    static inst_t pool[N];
    long r0 = rss_kib();
    for (int i = 0; i < N; i++)
        mk(&pool[i], hello);
    long r1 = rss_kib();
    printf("idle pooled hello instance: %ld KiB RSS each beyond the shared module (goal <= 256)\n",
           (r1 - r0) / N);
    for (int i = 0; i < N; i++) {
        wd_wasm_store_free(pool[i].s);
        wd_host_http_free(pool[i].h);
        wd_host_wasi_free(pool[i].w);
    }
    wd_wasm_module_free(hello);
    wd_wasm_module_free(state);
    return 0;
}
