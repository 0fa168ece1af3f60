/*
 * test_engine_snapshot.c -- snapshot/restore at scale: a 64 MiB memory of which
 * one request touches 64 KiB; restore must bring back every byte, and its cost
 * must track the touched pages, not the memory size. Prints the measured
 * per-cycle time of acquire (nothing to do) + run an empty export + restore,
 * and of restore after touching 64 KiB; asserts only correctness and a very
 * generous bound (the CI machine is shared).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "wd_wasm.h"
#include "wd_wasm_rt.h"      /* white box: memory base, restore statistics */

static const char *WAT =
    "(module (memory (export \"mem\") 1024)"
    " (func (export \"empty\"))"
    " (func (export \"touch\") (param i32)"
    "   (memory.fill (local.get 0) (i32.const 0x5a) (i32.const 65536))))";

/* compile WAT with wat2wasm (wabt) */
static uint8_t *wat(const char *text, size_t *len)
{
    char dir[] = "/tmp/wdsnapXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char in[128], out[128], cmd[512];
    snprintf(in, sizeof in, "%s/m.wat", dir);
    snprintf(out, sizeof out, "%s/m.wasm", dir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "wat2wasm %s -o %s", in, out);
    ck_assert_int_eq(system(cmd), 0);
    f = fopen(out, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    unlink(in);
    unlink(out);
    rmdir(dir);
    *len = (size_t)n;
    return b;
}

static wd_wasm_module_t *load_mod(void)
{
    size_t len;
    uint8_t *b = wat(WAT, &len);
    wd_wasm_error_t err;
    wd_wasm_module_t *m = wd_wasm_module_load(b, len, NULL, &err);
    free(b);
    if (m == NULL) fprintf(stderr, "%s at %lld\n", err.msg, (long long)err.offset);
    ck_assert_ptr_nonnull(m);
    return m;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static wd_wasm_func_t *fn(wd_wasm_instance_t *inst, const char *name)
{
    wd_wasm_extern_t x;
    ck_assert_int_eq(wd_wasm_instance_export(inst, name, strlen(name), &x), 0);
    return x.of.func;
}

START_TEST(test_restore_64k_of_64m)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = load_mod();
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_memory_t *mem = wd_wasm_instance_memory(inst);
    ck_assert_uint_eq(wd_wasm_memory_size(mem), 64u << 20);
    /* a recognizable pristine image, spread over the whole memory */
    uint8_t *base = wd_wasm_memory_data(mem);     /* before the snapshot: untracked is fine */
    for (size_t off = 0; off < (64u << 20); off += 4096) base[off] = (uint8_t)(off >> 12);
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);

    wd_wasm_func_t *empty = fn(inst, "empty"), *touch = fn(inst, "touch");
    wd_wasm_val_t r[1], a = { .type = WD_WASM_I32 };
    int N = 2000;
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(wd_wasm_call(inst, empty, NULL, 0, r, 0), WD_WASM_OK);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
    }
    double empty_us = (now_us() - t0) / N;
    double touch_us = 0;
    N = 500;
    for (int i = 0; i < N; i++) {
        a.of.i32 = (uint32_t)((i * 7919u) % 1000u) * 65536u;
        ck_assert_int_eq(wd_wasm_call(inst, touch, &a, 1, r, 0), WD_WASM_OK);
        ck_assert_uint_eq(base[a.of.i32 + 100], 0x5a);
        double t1 = now_us();
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
        touch_us += now_us() - t1;
        base = mem->base;     /* wd_wasm_memory_data() would make every restore a full one */
        ck_assert_uint_eq(base[a.of.i32 + 100], 0);
        ck_assert_uint_eq(base[a.of.i32], (uint8_t)(a.of.i32 >> 12));
    }
    touch_us /= N;
    printf("snapshot: call(empty)+restore of a 64 MiB memory: %.2f us; restore after touching 64 KiB: %.2f us"
           " (%llu by copy, %llu by madvise)\n", empty_us, touch_us,
           (unsigned long long)mem->restores_fast, (unsigned long long)mem->restores_full);
    for (size_t off = 0; off < (64u << 20); off += 4096)
        ck_assert_uint_eq(base[off], (uint8_t)(off >> 12));
    ck_assert(empty_us < 200.0);     /* O(size) would be ~ms; generous for a loaded machine */
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_instantiate_cost)
{
    wd_wasm_error_t err;
    wd_wasm_module_t *m = load_mod();
    int N = 300;
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        wd_wasm_store_t *s = wd_wasm_store_new();
        ck_assert_ptr_nonnull(wd_wasm_instantiate(s, m, NULL, 0, NULL, &err));
        wd_wasm_store_free(s);
    }
    printf("instantiate+free (64 MiB memory module): %.2f us\n", (now_us() - t0) / N);
    wd_wasm_module_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine-snapshot");
    TCase *tc = tcase_create("snapshot");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_restore_64k_of_64m);
    tcase_add_test(tc, test_instantiate_cost);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
