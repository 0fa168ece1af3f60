/*
 * fuzz_load.c -- libFuzzer target: decode + validate + translate arbitrary bytes.
 *
 * Any input must either load or fail with a message; a loaded module's import
 * and export descriptors are walked (they point into engine-owned memory), and
 * everything is freed (LeakSanitizer checks). Built with clang
 * -fsanitize=fuzzer,address,undefined against the engine compiled the same way
 * into objs/fuzz/ (t/fuzz/build.mk).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wd_wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wd_wasm_error_t err;
    wd_wasm_load_opts_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.max_module_size = 1 << 20;
    wd_wasm_module_t *m = wd_wasm_module_load(data, size, &opts, &err);
    if (m == NULL) {
        /* the message must be a terminated string */
        if (strnlen(err.msg, sizeof(err.msg)) == sizeof(err.msg)) __builtin_trap();
        return 0;
    }
    volatile size_t sink = 0;
    uint32_t ni = wd_wasm_module_import_count(m), ne = wd_wasm_module_export_count(m);
    for (uint32_t i = 0; i < ni; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        sink += d->module_len + d->name_len;
        if (d->module_len) sink += (unsigned char)d->module[d->module_len - 1];
        if (d->name_len) sink += (unsigned char)d->name[d->name_len - 1];
        if (d->kind == WD_WASM_EXTERN_FUNC) {
            for (uint32_t k = 0; k < d->func.nparams; k++) sink += d->func.params[k];
            for (uint32_t k = 0; k < d->func.nresults; k++) sink += d->func.results[k];
        }
    }
    for (uint32_t i = 0; i < ne; i++) {
        const wd_wasm_export_desc_t *d = wd_wasm_module_export(m, i);
        sink += d->name_len + d->index;
        if (d->name_len) sink += (unsigned char)d->name[d->name_len - 1];
        if (wd_wasm_module_find_export(m, d->name, d->name_len) == NULL) __builtin_trap();
    }
    (void)sink;
    wd_wasm_module_free(m);
    return 0;
}
