/*
 * wd_test_wat.h -- what the engine's Check suites share: a module written in
 * the text format, compiled with wat2wasm (wabt) at test time and loaded.
 * Header-only (static functions): each t/wasm/test_*.c links the engine alone.
 */
#ifndef WD_TEST_WAT_H
#define WD_TEST_WAT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wd_wasm.h"

/* wat2wasm TEXT (with extra wat2wasm FLAGS, "" for none) -> malloc'd bytes */
static inline uint8_t *wd_test_wat_flags(const char *text, const char *flags, size_t *len)
{
    char dir[] = "/tmp/wdwatXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char in[128], out[128], cmd[512];
    snprintf(in, sizeof in, "%s/m.wat", dir);
    snprintf(out, sizeof out, "%s/m.wasm", dir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "wat2wasm %s %s -o %s", flags, in, out);
    ck_assert_int_eq(system(cmd), 0);
    f = fopen(out, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    unlink(in);
    unlink(out);
    rmdir(dir);
    *len = (size_t)n;
    return b;
}

static inline uint8_t *wat(const char *text, size_t *len)
{
    return wd_test_wat_flags(text, WD_TEST_WAT_FLAGS, len);
}

/* compile and load; a load error is printed with its offset and fails the test */
static inline wd_wasm_module_t *wd_test_load(const char *text)
{
    size_t len;
    uint8_t *b = wat(text, &len);
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(b, len, NULL, &err);
    free(b);
    if (m == NULL) fprintf(stderr, "load: %s at %lld\n", err.msg, (long long)err.offset);
    ck_assert_ptr_nonnull(m);
    return m;
}

#endif
