/*
 * wd_wasm_compile.c -- validate and translate the function bodies of a
 * decoded module, on several threads when the code is big.
 *
 * Module-level validation (types, limits, constant expressions, exports,
 * C.refs) runs first on the calling thread. Bodies are then independent:
 * the defined functions are cut into contiguous chunks of about equal code
 * size, and each chunk is checked and translated function by function (the
 * body is still in cache when the translator reads it again) by its own
 * validator clone and translator. The calling thread runs the first chunk
 * and joins the others, so no thread outlives the load (wasmd forks its
 * workers after loading).
 *
 * The result and the error are those of validating every body, then
 * translating every body: the lowest-numbered invalid function wins, and a
 * translation error (an implementation limit, out of memory) is reported
 * only if every body is valid. A chunk therefore keeps validating after a
 * translation error and stops at its first validation error.
 *
 * Threads are used only for code of at least WD_WASM_PAR_MIN_CODE bytes and
 * with libc's allocator (an embedder's hooks need not be thread-safe, and
 * the tests that fail the Nth allocation need a deterministic order).
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "wd_wasm_rt.h"

#define WD_WASM_PAR_MIN_CODE   (256 * 1024)
#define WD_WASM_PAR_MAX_THREADS 8

typedef struct {
    wd_wasm_module_t *m;
    const wd_wasm_load_opts_t *opts;
    uint32_t first, last;             /* defined-function indices [first, last) */
    wd_wasm_validator_t *v;
    wd_wasm_translator_t *t;
    int verr, terr;                   /* a validation / translation error is in ve / te */
    wd_wasm_error_t ve, te;
} wd_wasm_chunk_t;

static void *wd_wasm_chunk_run(void *arg)
{
    wd_wasm_chunk_t *c = arg;
    uint32_t nimp = c->m->nfuncs_imported;
    for (uint32_t i = c->first; i < c->last; i++) {
        if (wd_wasm_validate_func(c->v, nimp + i, &c->ve) < 0) { c->verr = 1; break; }
        if (!c->terr && wd_wasm_translate_func(c->t, c->m, i, c->opts, &c->te) < 0) c->terr = 1;
    }
    return NULL;
}

static uint32_t wd_wasm_compile_threads(const wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts)
{
    uint32_t n = m->nfuncs - m->nfuncs_imported;
    if (opts && opts->threads == 1) return 1;
    if (!wd_wasm_allocator_is_default() || n < 2) return 1;
    uint64_t code = 0;
    for (uint32_t i = 0; i < n; i++) code += m->funcs[i].expr.len;
    if (code < WD_WASM_PAR_MIN_CODE) return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t want = opts && opts->threads ? opts->threads : (cpus > 0 ? (uint32_t)cpus : 1);
    if (want > WD_WASM_PAR_MAX_THREADS) want = WD_WASM_PAR_MAX_THREADS;
    /* at least 64 KiB of code per thread: below that a thread costs more than it saves */
    if (want > code / (64 * 1024)) want = (uint32_t)(code / (64 * 1024));
    if (want > n) want = n;
    return want ? want : 1;
}

int wd_wasm_compile(wd_wasm_module_t *m, const wd_wasm_load_opts_t *opts, wd_wasm_error_t *err)
{
    wd_wasm_validator_t *root = wd_wasm_validator_new(m, opts, err);
    if (root == NULL) return -1;
    uint32_t n = m->nfuncs - m->nfuncs_imported;
    uint32_t nt = wd_wasm_compile_threads(m, opts);
    wd_wasm_chunk_t one, *ch = &one;
    if (nt > 1 && (ch = wd_wasm_calloc(nt, sizeof(*ch))) == NULL) { ch = &one; nt = 1; }
    memset(ch, 0, nt * sizeof(*ch));

    /* cut at equal shares of the code bytes */
    uint64_t total = 0, acc = 0;
    for (uint32_t i = 0; i < n; i++) total += m->funcs[i].expr.len;
    uint32_t k = 0;
    ch[0].first = 0;
    for (uint32_t i = 0; i < n && k + 1 < nt; i++) {
        acc += m->funcs[i].expr.len;
        if (acc * nt >= total * (k + 1)) { ch[k].last = i + 1; ch[++k].first = i + 1; }
    }
    ch[k].last = n;
    nt = k + 1;

    int rc = 0;
    m->compile_threads = nt;
    for (uint32_t i = 0; i < nt; i++) {
        ch[i].m = m;
        ch[i].opts = opts;
        ch[i].v = i == 0 ? root : wd_wasm_validator_clone(root);
        ch[i].t = wd_wasm_translator_new();
        if (ch[i].v == NULL || ch[i].t == NULL) { rc = -1; wd_wasm_set_error(err, -1, -1, "out of memory"); }
    }
    if (rc == 0) {
        pthread_t tid[WD_WASM_PAR_MAX_THREADS];
        int started[WD_WASM_PAR_MAX_THREADS] = { 0 };
        for (uint32_t i = 1; i < nt; i++)
            started[i] = pthread_create(&tid[i], NULL, wd_wasm_chunk_run, &ch[i]) == 0;
        wd_wasm_chunk_run(&ch[0]);
        for (uint32_t i = 1; i < nt; i++) {
            if (started[i]) pthread_join(tid[i], NULL);
            else wd_wasm_chunk_run(&ch[i]);          /* no thread: do it here */
        }
        /* the lowest invalid function, else the lowest translation failure */
        for (uint32_t i = 0; i < nt && rc == 0; i++)
            if (ch[i].verr) { if (err) *err = ch[i].ve; rc = -1; }
        for (uint32_t i = 0; i < nt && rc == 0; i++)
            if (ch[i].terr) { if (err) *err = ch[i].te; rc = -1; }
    }
    for (uint32_t i = nt; i-- > 0;) {
        if (i > 0) wd_wasm_validator_free(ch[i].v);
        wd_wasm_translator_free(ch[i].t);
    }
    wd_wasm_validator_free(root);
    if (ch != &one) wd_wasm_free(ch);
    return rc;
}
