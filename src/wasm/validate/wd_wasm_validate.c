/*
 * wd_wasm_validate.c -- placeholder so the engine library links.
 * The VALID helper replaces this file with the real validator.
 */
#include "wd_wasm_int.h"

int wd_wasm_validate(const struct wd_wasm_module *m, const wd_wasm_load_opts_t *opts,
                     wd_wasm_error_t *err)
{
    (void)m; (void)opts; (void)err;
    return 0;   /* placeholder: the VALID helper replaces this */
}
