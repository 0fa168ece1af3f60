/*
 * wd_bench_load.c -- engine timing: load (decode + validate + translate) of a
 * big module, and instantiation of a small one, through the public API only.
 *
 *   wd_bench_load BIG.wasm SMALL.wasm
 *
 * Load: the module is loaded and freed repeatedly (at least 5 times and ~2 s),
 * with the default options (function bodies validated and translated on one
 * thread per CPU) and with one thread; prints the minimum and the median wall
 * time and the median CPU time of all threads, in ms. Instantiate: batches of 200
 * instantiations into one store (the store is freed between batches, outside
 * the timed region); prints the median per-instance time in microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wd_wasm.h"

static double wd_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (all threads) */
static double wd_bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *wd_bench_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) { perror(path); return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(b); return NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int wd_bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s BIG.wasm SMALL.wasm\n", argv[0]); return 2; }
    size_t blen, slen;
    uint8_t *big = wd_bench_read(argv[1], &blen), *small = wd_bench_read(argv[2], &slen);
    wd_wasm_error_t err;
    if (big == NULL || small == NULL) return 1;

    /* default options (bodies on one thread per CPU for a module this big), then one thread */
    for (int pass = 0; pass < 2; pass++) {
        wd_wasm_load_opts_t opts;
        memset(&opts, 0, sizeof(opts));
        opts.threads = pass == 0 ? 0 : 1;
        double t[200], cpu[200];
        int n = 0;
        double start = wd_bench_now();
        while (n < 200 && (n < 5 || wd_bench_now() - start < 2.0)) {
            double t0 = wd_bench_now(), c0 = wd_bench_cpu();
            wd_wasm_module_t *m = wd_wasm_module_load(big, blen, &opts, &err);
            double t1 = wd_bench_now(), c1 = wd_bench_cpu();
            if (m == NULL) { fprintf(stderr, "load %s: %s at byte offset %lld\n", argv[1], err.msg, (long long)err.offset); return 1; }
            wd_wasm_module_free(m);
            t[n] = (t1 - t0) * 1e3;
            cpu[n++] = (c1 - c0) * 1e3;
        }
        qsort(t, (size_t)n, sizeof(double), wd_bench_cmp);
        qsort(cpu, (size_t)n, sizeof(double), wd_bench_cmp);
        printf("load %s (%zu bytes), %s: min %.2f ms, median %.2f ms (%d runs; CPU median %.2f ms)\n", argv[1], blen,
               pass == 0 ? "default (threads: one per CPU)" : "one thread", t[0], t[n / 2], n, cpu[n / 2]);
    }

    wd_wasm_module_t *sm = wd_wasm_module_load(small, slen, NULL, &err);
    if (sm == NULL) { fprintf(stderr, "load %s: %s\n", argv[2], err.msg); return 1; }
    double per[50];
    int nb = 0;
    for (int b = 0; b < 50; b++) {
        wd_wasm_store_t *s = wd_wasm_store_new();
        double t0 = wd_bench_now();
        for (int i = 0; i < 200; i++) {
            if (wd_wasm_instantiate(s, sm, NULL, 0, NULL, &err) == NULL) {
                fprintf(stderr, "instantiate: %s\n", err.msg);
                return 1;
            }
        }
        double t1 = wd_bench_now();
        wd_wasm_store_free(s);
        per[nb++] = (t1 - t0) * 1e6 / 200;
    }
    qsort(per, (size_t)nb, sizeof(double), wd_bench_cmp);
    printf("instantiate %s (%zu bytes): min %.2f us, median %.2f us per instance\n", argv[2], slen, per[0], per[nb / 2]);
    wd_wasm_module_free(sm);
    free(big);
    free(small);
    return 0;
}
