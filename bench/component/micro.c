/*
 * micro.c -- component micro-benchmarks, no network (bench/component/run):
 *   1. load: parse + validate + compile every core module + plan of a component (wall ms,
 *      median of 5; the engine translates big modules with its threads);
 *   2. per request: acquire + handle (the real host, src/host/wd_host_comp.h) + reset of the
 *      host and restore of every core instance (CPU us/request, fuel/request; the restore's
 *      share and the page faults of each part);
 *   3. memory per idle pooled instance: RSS growth over N instances (each instantiated,
 *      snapshotted, served one request, restored, trimmed) / N, and the growth of the
 *      system's Shmem (snapshot images are memfds: not in RSS until mapped and read).
 * Usage: micro FILE.wasm [N]   (N pooled instances for 3; default 8)
 * Built with make PROFILE=1 (objs/prof/bench/component/micro) and MICRO_PROFILE=FILE set,
 * it writes the per-function dispatch profile of the requests of 2 to FILE
 * (bench/component/profile.py reads it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "wd_wasm.h"
#include "component/wd_comp.h"
#include "wd_host_comp.h"
#include "wd_wasm_rt.h"

static int rd(void *be, uint8_t *b, size_t l, size_t *n) { (void)be; (void)b; (void)l; (void)n; return WD_HOST_HTTP_DONE; }
static int ready(void *be) { (void)be; return 1; }
static int status;
static int head(void *be, int s, const wd_host_http_header_t *h, size_t n, int64_t cl)
{ (void)be; status = s; (void)h; (void)n; (void)cl; return WD_HOST_HTTP_OK; }
static size_t bytes;
static int wr(void *be, const uint8_t *p, size_t n) { (void)be; (void)p; bytes += n; return WD_HOST_HTTP_OK; }
static size_t pend(void *be) { (void)be; return 0; }
static int fin(void *be) { (void)be; return WD_HOST_HTTP_OK; }
static void ab(void *be) { (void)be; fprintf(stderr, "aborted\n"); exit(1); }
static void er(void *be, int s) { (void)be; fprintf(stderr, "error response %d\n", s); exit(1); }
static void lg(void *be, int e, const char *l, size_t n) { (void)be; (void)e; (void)l; (void)n; }
static const wd_host_http_backend_t be = { rd, ready, head, wr, pend, fin, ab, er, lg, NULL };

typedef struct { wd_wasm_store_t *s; wd_comp_instance_t *ci; wd_host_comp_t *hc; } inst_t;

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = atol(line + 6);
    if (f)
        fclose(f);
    return v;
}

static long shmem_kib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Shmem:", 6) == 0)
            v = atol(line + 6);
    if (f)
        fclose(f);
    return v;
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* the restore's part of the requests of 2: CPU seconds, page faults of handle and restore */
static double restore_cpu;
static long faults_handle, faults_restore;

static int each(inst_t *t, int (*fn)(wd_wasm_instance_t *))
{
    for (uint32_t i = 0; i < wd_comp_instance_core_count(t->ci); i++)
        if (fn(wd_comp_instance_core(t->ci, i)) != 0)
            return -1;
    return 0;
}

static int trim(wd_wasm_instance_t *i) { wd_wasm_trim(i); return 0; }

static void mk(inst_t *t, const wd_comp_t *c)
{
    wd_comp_error_t err;
    wd_wasm_limits_t lim;
    memset(&lim, 0, sizeof lim);
    t->s = wd_wasm_store_new();
    t->hc = wd_host_comp_new(NULL);
    t->ci = wd_comp_instantiate(c, t->s, wd_host_comp_host(t->hc), &lim, &err);
    if (t->ci == NULL || wd_host_comp_attach(t->hc, c, t->ci, &err) != 0) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        exit(1);
    }
    if (each(t, wd_wasm_snapshot) != 0) {
        fprintf(stderr, "snapshot failed\n");
        exit(1);
    }
}

static uint64_t serve(inst_t *t)
{
    static const wd_host_http_header_t hd[] = { { "host", "b", 4, 1 } };
    wd_host_http_request_head_t rq = { "GET", 3, "/", 1, "b", 1, 0, hd, 1 };
    wd_host_http_t *h = wd_host_comp_http(t->hc);
    wd_wasm_instance_t *th = wd_host_comp_thread(t->hc);
    wd_wasm_set_fuel(th, 0);
    status = 0;
    long f0 = minflt();
    if (wd_host_http_start(h, &rq, &be, NULL) != WD_HOST_HTTP_FINISHED || status != 200) {
        fprintf(stderr, "request did not finish with 200 (%d): %s\n", status,
                wd_host_http_outcome(h)->reason);
        exit(1);
    }
    uint64_t fuel = wd_wasm_fuel_used(th);
    long f1 = minflt();
    double c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    if (getenv("MICRO_DIRTY"))
        for (uint32_t i = 0; i < wd_comp_instance_core_count(t->ci); i++) {
            wd_wasm_memory_t *m = wd_comp_instance_core(t->ci, i)->mem;
            if (m) fprintf(stderr, "core %u: size %llu dirty %u fresh %u kept %u overflow %d\n", i,
                           (unsigned long long)m->size, m->ndirty, m->nfresh, m->nkept, m->dirty_overflow);
        }
    wd_host_comp_reset(t->hc);
    if (getenv("MICRO_NO_RESTORE"))     /* diagnosis: what a warm instance costs */
        return fuel;
    if (wd_wasm_restore(th) != 0 || each(t, wd_wasm_restore) != 0) {
        fprintf(stderr, "restore failed\n");
        exit(1);
    }
    restore_cpu += now_s(CLOCK_PROCESS_CPUTIME_ID) - c1;
    faults_handle += f1 - f0;
    faults_restore += minflt() - f1;
    return fuel;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: micro FILE.wasm [N]\n");
        return 1;
    }
    int n = argc > 2 ? atoi(argv[2]) : 8;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END); long len = ftell(f); fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len);
    if (fread(b, 1, len, f) != (size_t)len) return 1;
    fclose(f);

    /* 1 */
    double t[5];
    wd_comp_t *c = NULL;
    int nload = getenv("MICRO_LOADS") ? atoi(getenv("MICRO_LOADS")) : 5;  /* diagnosis: 1..5 */
    if (nload < 1 || nload > 5)
        nload = 5;
    for (int i = 0; i < nload; i++) {
        wd_comp_error_t err;
        if (c)
            wd_comp_free(c);
        double t0 = now_s(CLOCK_MONOTONIC);
        c = wd_comp_load(b, len, NULL, &err);
        t[i] = (now_s(CLOCK_MONOTONIC) - t0) * 1e3;
        if (!c) { fprintf(stderr, "%s: %s\n", argv[1], err.msg); return 1; }
    }
    qsort(t, nload, sizeof t[0], cmp);
    printf("load+compile %s (%.1f MB): %.1f ms wall (median of %d; min %.1f, max %.1f)\n",
           argv[1], len / 1e6, t[nload / 2], nload, t[0], t[nload - 1]);
    if (getenv("MICRO_LOAD_ONLY"))      /* diagnosis: profile the load alone */
        return 0;

    /* 2 */
    inst_t one;
    mk(&one, c);
    uint64_t first = serve(&one); /* first request: page faults of a fresh instance */
    if (getenv("MICRO_NO_RESTORE"))
        printf("no restore: first request %llu fuel, second %llu, third %llu\n",
               (unsigned long long)first, (unsigned long long)serve(&one),
               (unsigned long long)serve(&one));
    int reqs = 0;
    uint64_t fuel = 0;
    restore_cpu = 0;
    faults_handle = faults_restore = 0;
#if WD_WASM_PROFILE
    FILE *null = fopen("/dev/null", "w");       /* the profile counts the loop's requests only */
    for (uint32_t i = 0; null && i < wd_comp_instance_core_count(one.ci); i++)
        wd_wasm_profile_dump(wd_comp_instance_core(one.ci, i), null);
    if (null)
        fclose(null);
#endif
    double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
    int maxreq = getenv("MICRO_REQS") ? atoi(getenv("MICRO_REQS")) : 100000; /* diagnosis */
    while (reqs < 5 || (now_s(CLOCK_MONOTONIC) - w0 < 2.0 && reqs < maxreq)) {
        fuel = serve(&one);
        reqs++;
    }
    double cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("request (handle + reset + restore of %u core instances): %.1f us CPU/request, "
           "%llu fuel/request (%d requests); of which reset + restore %.1f us; page faults "
           "%.1f in handle, %.1f in restore\n", wd_comp_instance_core_count(one.ci),
           cpu * 1e6 / reqs, (unsigned long long)fuel, reqs, restore_cpu * 1e6 / reqs,
           (double)faults_handle / reqs, (double)faults_restore / reqs);
#if WD_WASM_PROFILE
    if (getenv("MICRO_PROFILE")) {
        FILE *pf = fopen(getenv("MICRO_PROFILE"), "w");
        if (pf == NULL) { perror(getenv("MICRO_PROFILE")); return 1; }
        fprintf(pf, "R %d\n", reqs);
        for (uint32_t i = 0; i < wd_comp_instance_core_count(one.ci); i++)
            wd_wasm_profile_dump(wd_comp_instance_core(one.ci, i), pf);
        fclose(pf);
    }
#endif

    /* 3 */
    inst_t *v = calloc(n, sizeof *v);
    long r0 = rss_kib(), s0 = shmem_kib();
    for (int i = 0; i < n; i++) {
        mk(&v[i], c);
        serve(&v[i]);
        each(&v[i], trim);
    }
    long r1 = rss_kib(), s1 = shmem_kib();
    printf("idle pooled instance: %ld KiB RSS each beyond the shared image (%d instances, "
           "served one request each, restored, trimmed); the system's Shmem grew by %ld KiB "
           "per instance (snapshot images; other processes add noise)\n", (r1 - r0) / n, n,
           (s1 - s0) / n);
    return 0;
}
