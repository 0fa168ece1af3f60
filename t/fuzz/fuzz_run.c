/*
 * fuzz_run.c -- libFuzzer target: load, then instantiate with stub imports and
 * call every exported function, under fuel, memory and call-depth limits.
 * Arguments are pseudo-random but derived from the input bytes (a hash seeds
 * a splitmix64 stream), so a finding replays: numbers are zero, small or
 * any bit pattern; v128 arguments are 16 random bytes (or zero), so SIMD code
 * sees NaNs, negative lanes and saturating edges, not only zeros. Exercises the translator's output and the interpreter on
 * modules the validator accepted: traps are fine, crashes, sanitizer reports,
 * leaks and hangs (fuel bounds every call) are not.
 *
 * Stubs: functions return zeros, memories/tables/globals are fresh objects
 * shaped like the import (memories over 64 pages are not offered, so such
 * modules fail to link, which is also a path worth exercising).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wd_wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fuzz_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One argument of type t: 1/4 zero, 1/4 a small number, 1/2 any bits. */
static void fuzz_arg(uint64_t *st, uint8_t t, wd_wasm_val_t *v)
{
    uint64_t sel = fuzz_next(st) & 3, x = fuzz_next(st);
    memset(v, 0, sizeof(*v));
    v->type = t;
    if (sel == 1) x &= 0xff;
    if (sel == 0) x = 0;
    switch (t) {
    case WD_WASM_I32: case WD_WASM_F32: v->of.i32 = (uint32_t)x; break;
    case WD_WASM_I64: case WD_WASM_F64: v->of.i64 = x; break;
    case WD_WASM_V128:
        if (sel != 0) {
            uint64_t y = fuzz_next(st);
            memcpy(v->of.v128, &x, 8);
            memcpy(v->of.v128 + 8, &y, 8);
        }
        break;
    default: break;       /* references stay null */
    }
}

static wd_wasm_host_rc_t fuzz_stub(wd_wasm_instance_t *caller, const uint64_t *args,
                                   uint64_t *results, void *ud)
{
    const wd_wasm_functype_t *t = ud;
    for (uint32_t i = 0; i < t->nresults; i++) results[i] = 0;
    /* touch the caller's memory through the checked accessor */
    wd_wasm_memory_t *mem = wd_wasm_instance_memory(caller);
    if (mem && t->nparams > 0) {
        uint8_t *p = wd_wasm_memory_ptr(mem, (uint32_t)args[0], 4);
        if (p) p[0] ^= 0;
    }
    return WD_WASM_HOST_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wd_wasm_error_t err;
    wd_wasm_load_opts_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.max_module_size = 1 << 20;
    wd_wasm_module_t *m = wd_wasm_module_load(data, size, &opts, &err);
    if (m == NULL) return 0;

    uint64_t rng = 0xcbf29ce484222325ULL;      /* FNV-1a of the input seeds the arguments */
    for (size_t i = 0; i < size; i++) rng = (rng ^ data[i]) * 0x100000001b3ULL;
    wd_wasm_store_t *s = wd_wasm_store_new();
    uint32_t ni = wd_wasm_module_import_count(m);
    wd_wasm_extern_t *imp = calloc(ni ? ni : 1, sizeof(*imp));
    int ok = s != NULL && imp != NULL;
    for (uint32_t i = 0; ok && i < ni; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        imp[i].kind = d->kind;
        switch (d->kind) {
        case WD_WASM_EXTERN_FUNC:
            imp[i].of.func = wd_wasm_func_new_host(s, &d->func, fuzz_stub, (void *)&d->func);
            ok = imp[i].of.func != NULL;
            break;
        case WD_WASM_EXTERN_MEMORY:
            if (d->min > 64) { ok = 0; break; }
            imp[i].of.memory = wd_wasm_memory_new(s, (uint32_t)d->min,
                                                  d->has_max ? (uint32_t)(d->max > 64 ? 64 : d->max) : 64, 1);
            ok = imp[i].of.memory != NULL;
            break;
        case WD_WASM_EXTERN_TABLE:
            if (d->min > 10000) { ok = 0; break; }
            imp[i].of.table = wd_wasm_table_new(s, d->valtype, (uint32_t)d->min,
                                                d->has_max ? (uint32_t)d->max : 0, d->has_max);
            ok = imp[i].of.table != NULL;
            break;
        case WD_WASM_EXTERN_GLOBAL: {
            wd_wasm_val_t v;
            memset(&v, 0, sizeof(v));
            v.type = d->valtype;
            imp[i].of.global = wd_wasm_global_new(s, v, d->mutable_);
            ok = imp[i].of.global != NULL;
            break;
        }
        }
    }
    if (ok) {
        wd_wasm_limits_t lim;
        memset(&lim, 0, sizeof(lim));
        lim.max_memory_bytes = 16u << 20;
        lim.max_call_depth = 300;
        lim.fuel = 200000;
        wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, imp, ni, &lim, &err);
        uint32_t ne = inst ? wd_wasm_module_export_count(m) : 0;
        for (uint32_t i = 0; i < ne; i++) {
            const wd_wasm_export_desc_t *d = wd_wasm_module_export(m, i);
            wd_wasm_extern_t ex;
            if (d->kind != WD_WASM_EXTERN_FUNC) continue;
            if (wd_wasm_instance_export(inst, d->name, d->name_len, &ex) != 0) __builtin_trap();
            const wd_wasm_functype_t *t = wd_wasm_func_type(ex.of.func);
            wd_wasm_val_t args[16], res[16];
            if (t->nparams > 16 || t->nresults > 16) continue;
            memset(args, 0, sizeof(args));
            for (uint32_t k = 0; k < t->nparams; k++) fuzz_arg(&rng, t->params[k], &args[k]);
            wd_wasm_set_fuel(inst, 200000);
            wd_wasm_status_t st = wd_wasm_call(inst, ex.of.func, args, t->nparams, res, t->nresults);
            if (st == WD_WASM_SUSPENDED) wd_wasm_abort(inst);
            if (st == WD_WASM_TRAP && wd_wasm_last_trap(inst)->kind == WD_TRAP_NONE) __builtin_trap();
        }
    }
    free(imp);
    if (s) wd_wasm_store_free(s);
    wd_wasm_module_free(m);
    return 0;
}
