/*
 * wd_fuzzdiff.c -- our side of the differential fuzzer (t/fuzz/diff/fuzzdiff.py).
 *
 * Two modes, both linked with the engine library alone:
 *
 *   wd_fuzzdiff exec FILE.wasm [FUEL]
 *       Loads and instantiates FILE the way binaryen's `wasm-opt --fuzz-exec-before`
 *       does (src/tools/execution-results.h): imports from "fuzzing-support"
 *       named log* print "[LoggingExternalInterface logging ARGS]" (an i64
 *       argument as two i32s, low then high, like binaryen); "env"
 *       setTempRet0/getTempRet0 keep one 32-bit cell. Then, for every function
 *       export in export order: "[fuzz-exec] calling NAME", a call of the
 *       "hangLimitInitializer" export if the module has one, the call itself
 *       with zero arguments, and "[fuzz-exec] note result: NAME => V" (or
 *       "(V1, V2, ...)" for several results) or "[trap KIND: MESSAGE]".
 *       Values: i32/i64 as signed decimal, f32/f64 as "f32:0xBITS"/"f64:0xBITS",
 *       v128 as "i32x4 0xL0 0xL1 0xL2 0xL3" (binaryen's form: four 32-bit lanes)
 *       (the comparer parses binaryen's decimal text and compares numerically,
 *       any NaN matching any NaN). Every call gets FUEL (default 2e9) fuel;
 *       running out prints "[fuel exhausted]" and ends the run (inconclusive).
 *       Load failure: "[load error] MSG", exit 2. Instantiation failure:
 *       "[instantiate error] MSG" (a trap in binaryen's instance creation
 *       also ends its run), exit 0. An import we do not provide: exit 3.
 *       The engine refuses host functions with v128 in their type, so the
 *       `log-v128` import (param v128) is a function of a small Wasm module
 *       (wd_fd_v128_shim) that splits the vector into four i32 lanes and calls
 *       a host function printing them.
 *
 *   wd_fuzzdiff validate FILE...
 *       One line per file: "ok FILE" or "invalid FILE: MSG" (decode+validate,
 *       i.e. wd_wasm_module_load). Exit 0 unless a file could not be read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wd_wasm.h"

static uint32_t wd_fd_temp_ret0;

/* (module (import "d" "log4" (func $log4 (param i32 i32 i32 i32)))
 *   (func (export "v") (param v128)
 *     local.get 0 i32x4.extract_lane 0 ... local.get 0 i32x4.extract_lane 3
 *     call $log4)) */
static const uint8_t wd_fd_v128_shim[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x02, 0x60,
    0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7b, 0x00, 0x02, 0x0a,
    0x01, 0x01, 0x64, 0x04, 0x6c, 0x6f, 0x67, 0x34, 0x00, 0x00, 0x03, 0x02,
    0x01, 0x01, 0x07, 0x05, 0x01, 0x01, 0x76, 0x00, 0x01, 0x0a, 0x1a, 0x01,
    0x18, 0x00, 0x20, 0x00, 0xfd, 0x1b, 0x00, 0x20, 0x00, 0xfd, 0x1b, 0x01,
    0x20, 0x00, 0xfd, 0x1b, 0x02, 0x20, 0x00, 0xfd, 0x1b, 0x03, 0x10, 0x00,
    0x0b
};

static uint8_t *
wd_fd_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "wd_fuzzdiff: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            return NULL;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            break;
        }
        cap *= 2;
        uint8_t *nb = realloc(buf, cap);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            continue;
        }
        buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void
wd_fd_print_val(uint8_t type, uint64_t raw)
{
    switch (type) {
    case WD_WASM_I32:
        printf("%" PRId32, (int32_t) (uint32_t) raw);
        break;
    case WD_WASM_I64:
        printf("%" PRId64, (int64_t) raw);
        break;
    case WD_WASM_F32:
        printf("f32:0x%08" PRIx32, (uint32_t) raw);
        break;
    case WD_WASM_F64:
        printf("f64:0x%016" PRIx64, raw);
        break;
    case WD_WASM_V128:
        printf("(v128 printed by wd_fd_print_v128)");
        break;
    default:
        printf("ref:%u", type);
        break;
    }
}

static uint64_t
wd_fd_val_raw(const wd_wasm_val_t *v)
{
    switch (v->type) {
    case WD_WASM_I32: return v->of.i32;
    case WD_WASM_I64: return v->of.i64;
    case WD_WASM_F32: return v->of.f32;
    case WD_WASM_F64: return v->of.f64;
    default: return 0;
    }
}

static void
wd_fd_print_v128(const uint8_t *b)
{
    printf("i32x4");
    for (int l = 0; l < 4; l++) {
        printf(" 0x%08" PRIx32, (uint32_t) b[4 * l] | (uint32_t) b[4 * l + 1] << 8
               | (uint32_t) b[4 * l + 2] << 16 | (uint32_t) b[4 * l + 3] << 24);
    }
}

/* log4 of the v128 shim: the four i32 lanes of a log-v128 argument. */
static wd_wasm_host_rc_t
wd_fd_log_v128(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    uint8_t b[16];
    for (int l = 0; l < 4; l++) {
        for (int k = 0; k < 4; k++) {
            b[4 * l + k] = (uint8_t) (args[l] >> (8 * k));
        }
    }
    printf("[LoggingExternalInterface logging ");
    wd_fd_print_v128(b);
    printf("]\n");
    return WD_WASM_HOST_OK;
}

/* The function the module imports as fuzzing-support.log-v128: the shim's export. */
static wd_wasm_func_t *
wd_fd_v128_logger(wd_wasm_store_t *s, wd_wasm_module_t **shim_out)
{
    static const uint8_t p4[4] = { WD_WASM_I32, WD_WASM_I32, WD_WASM_I32, WD_WASM_I32 };
    static wd_wasm_functype_t t4;
    t4.nparams = 4;
    t4.params = p4;
    t4.nresults = 0;
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(wd_fd_v128_shim, sizeof(wd_fd_v128_shim), NULL, &err);
    if (m == NULL) {
        printf("[driver] v128 shim: %s\n", err.msg);
        return NULL;
    }
    *shim_out = m;
    wd_wasm_extern_t imp;
    imp.kind = WD_WASM_EXTERN_FUNC;
    imp.of.func = wd_wasm_func_new_host(s, &t4, wd_fd_log_v128, NULL);
    wd_wasm_limits_t lim = { 0 };
    wd_wasm_instance_t *inst = imp.of.func ? wd_wasm_instantiate(s, m, &imp, 1, &lim, &err) : NULL;
    wd_wasm_extern_t ext;
    if (inst == NULL || wd_wasm_instance_export(inst, "v", 1, &ext) < 0) {
        printf("[driver] v128 shim did not instantiate\n");
        return NULL;
    }
    return ext.of.func;
}

/* fuzzing-support.log*: ud is the import's function type. */
static wd_wasm_host_rc_t
wd_fd_log(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    const wd_wasm_functype_t *ft = ud;
    printf("[LoggingExternalInterface logging");
    for (uint32_t i = 0; i < ft->nparams; i++) {
        putchar(' ');
        if (ft->params[i] == WD_WASM_I64) {
            printf("%" PRId32 " %" PRId32, (int32_t) (uint32_t) args[i],
                   (int32_t) (uint32_t) (args[i] >> 32));
        } else {
            wd_fd_print_val(ft->params[i], args[i]);
        }
    }
    printf("]\n");
    for (uint32_t i = 0; i < ft->nresults; i++) {
        results[i] = 0;
    }
    return WD_WASM_HOST_OK;
}

static wd_wasm_host_rc_t
wd_fd_set_temp_ret0(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    wd_fd_temp_ret0 = (uint32_t) args[0];
    return WD_WASM_HOST_OK;
}

static wd_wasm_host_rc_t
wd_fd_get_temp_ret0(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    results[0] = wd_fd_temp_ret0;
    return WD_WASM_HOST_OK;
}

static int
wd_fd_is(const char *s, uint32_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* Returns 0 = finished, 1 = fuel exhausted (stop). */
static int
wd_fd_call(wd_wasm_instance_t *inst, wd_wasm_func_t *f, const char *name, int print_result)
{
    const wd_wasm_functype_t *ft = wd_wasm_func_type(f);
    wd_wasm_val_t args[64], res[64];
    if (ft->nparams > 64 || ft->nresults > 64) {
        printf("[driver] too many params/results\n");
        return 1;
    }
    memset(args, 0, sizeof(args));
    for (uint32_t i = 0; i < ft->nparams; i++) {
        args[i].type = ft->params[i];
    }
    wd_wasm_status_t st = wd_wasm_call(inst, f, args, ft->nparams, res, ft->nresults);
    if (st == WD_WASM_TRAP) {
        const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
        if (t->kind == WD_TRAP_FUEL) {
            printf("[fuel exhausted]\n");
            return 1;
        }
        printf("[trap %d: %s]\n", (int) t->kind, t->msg);
        return 0;
    }
    if (st != WD_WASM_OK) {
        printf("[driver] unexpected status %d\n", (int) st);
        return 1;
    }
    if (print_result && ft->nresults > 0) {
        printf("[fuzz-exec] note result: %s => ", name);
        if (ft->nresults > 1) {
            putchar('(');
        }
        for (uint32_t i = 0; i < ft->nresults; i++) {
            if (i > 0) {
                printf(", ");
            }
            if (res[i].type == WD_WASM_V128) {
                wd_fd_print_v128(res[i].of.v128);
            } else {
                wd_fd_print_val(res[i].type, wd_fd_val_raw(&res[i]));
            }
        }
        if (ft->nresults > 1) {
            putchar(')');
        }
        putchar('\n');
    }
    return 0;
}

static int
wd_fd_exec(const char *path, uint64_t fuel)
{
    size_t len;
    uint8_t *bytes = wd_fd_read_file(path, &len);
    if (bytes == NULL) {
        return 4;
    }
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(bytes, len, NULL, &err);
    free(bytes);
    if (m == NULL) {
        printf("[load error] %s\n", err.msg);
        return 2;
    }
    wd_wasm_store_t *s = wd_wasm_store_new();
    uint32_t nimp = wd_wasm_module_import_count(m);
    wd_wasm_extern_t *imps = calloc(nimp ? nimp : 1, sizeof(*imps));
    wd_wasm_module_t *shim = NULL;
    wd_wasm_func_t *v128log = NULL;
    int rc = 0;
    if (s == NULL || imps == NULL) {
        printf("[driver] out of memory\n");
        rc = 4;
        goto done;
    }
    for (uint32_t i = 0; i < nimp; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        wd_wasm_host_fn fn = NULL;
        if (d->kind == WD_WASM_EXTERN_FUNC && wd_fd_is(d->module, d->module_len, "fuzzing-support")
            && d->func.nparams == 1 && d->func.params[0] == WD_WASM_V128 && d->func.nresults == 0) {
            imps[i].kind = WD_WASM_EXTERN_FUNC;
            if (v128log == NULL) {
                v128log = wd_fd_v128_logger(s, &shim);
            }
            if (v128log == NULL) {
                rc = 4;
                goto done;
            }
            imps[i].of.func = v128log;
            continue;
        }
        if (d->kind == WD_WASM_EXTERN_FUNC) {
            if (wd_fd_is(d->module, d->module_len, "fuzzing-support") && d->name_len >= 3
                && memcmp(d->name, "log", 3) == 0) {
                fn = wd_fd_log;
            } else if (wd_fd_is(d->module, d->module_len, "env")
                       && wd_fd_is(d->name, d->name_len, "setTempRet0")
                       && d->func.nparams == 1 && d->func.nresults == 0) {
                fn = wd_fd_set_temp_ret0;
            } else if (wd_fd_is(d->module, d->module_len, "env")
                       && wd_fd_is(d->name, d->name_len, "getTempRet0")
                       && d->func.nparams == 0 && d->func.nresults == 1) {
                fn = wd_fd_get_temp_ret0;
            }
        }
        if (fn == NULL) {
            printf("[unknown import] %s.%s\n", d->module, d->name);
            rc = 3;
            goto done;
        }
        imps[i].kind = WD_WASM_EXTERN_FUNC;
        imps[i].of.func = wd_wasm_func_new_host(s, &d->func, fn, (void *) &d->func);
        if (imps[i].of.func == NULL) {
            printf("[driver] out of memory\n");
            rc = 4;
            goto done;
        }
    }
    wd_wasm_limits_t lim = { 0 };
    lim.fuel = fuel;
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, imps, nimp, &lim, &err);
    if (inst == NULL) {
        printf("[instantiate error] %s\n", err.msg);
        goto done;
    }
    wd_wasm_extern_t hang;
    int has_hang = wd_wasm_instance_export(inst, "hangLimitInitializer", 20, &hang) == 0
                   && hang.kind == WD_WASM_EXTERN_FUNC;
    uint32_t nexp = wd_wasm_module_export_count(m);
    for (uint32_t i = 0; i < nexp; i++) {
        const wd_wasm_export_desc_t *e = wd_wasm_module_export(m, i);
        if (e->kind != WD_WASM_EXTERN_FUNC) {
            continue;
        }
        wd_wasm_extern_t ext;
        if (wd_wasm_instance_export(inst, e->name, e->name_len, &ext) < 0) {
            printf("[driver] export %s not found on the instance\n", e->name);
            rc = 4;
            goto done;
        }
        printf("[fuzz-exec] calling %.*s\n", (int) e->name_len, e->name);
        if (has_hang) {
            wd_wasm_set_fuel(inst, fuel);
            if (wd_fd_call(inst, hang.of.func, "hangLimitInitializer", 0)) {
                goto done;
            }
        }
        wd_wasm_set_fuel(inst, fuel);
        if (wd_fd_call(inst, ext.of.func, e->name, 1)) {
            goto done;
        }
    }
done:
    fflush(stdout);
    if (s != NULL) {
        wd_wasm_store_free(s);
    }
    free(imps);
    wd_wasm_module_free(m);
    if (shim != NULL) {
        wd_wasm_module_free(shim);
    }
    return rc;
}

static int
wd_fd_validate(int n, char **paths)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *bytes = wd_fd_read_file(paths[i], &len);
        if (bytes == NULL) {
            rc = 4;
            continue;
        }
        wd_wasm_error_t err;
        wd_wasm_module_t *m = wd_wasm_module_load(bytes, len, NULL, &err);
        free(bytes);
        if (m != NULL) {
            printf("ok %s\n", paths[i]);
            wd_wasm_module_free(m);
        } else {
            printf("invalid %s: %s (offset %" PRId64 ", func %" PRId64 ")\n", paths[i], err.msg,
                   err.offset, err.func_index);
        }
    }
    return rc;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
        uint64_t fuel = argc >= 4 ? strtoull(argv[3], NULL, 10) : 2000000000ULL;
        return wd_fd_exec(argv[2], fuel);
    }
    if (argc >= 2 && strcmp(argv[1], "validate") == 0) {
        return wd_fd_validate(argc - 2, argv + 2);
    }
    fprintf(stderr, "usage: wd_fuzzdiff exec FILE.wasm [FUEL] | validate FILE...\n");
    return 64;
}
