/*
 * test_simd.c -- v128 values through everything that is not an operator (the
 * operators themselves are the spec testsuite's job, t/spec): frames and
 * slots (v128 params/locals mixed with scalars, carried by br/br_if/br_table,
 * if/else, select, loops, direct and indirect calls), multi-value results,
 * v128 globals (module-defined and API-made, get/set, snapshot/restore of
 * both halves), host functions refusing v128 signatures, fuel and
 * suspension (a SIMD loop paused by slices gives the uninterrupted result).
 * Modules are compiled with wat2wasm at test time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define WD_TEST_WAT_FLAGS "--enable-all"
#include "wd_test_wat.h"

static wd_wasm_extern_t export_of(wd_wasm_instance_t *inst, const char *name)
{
    wd_wasm_extern_t x;
    ck_assert_int_eq(wd_wasm_instance_export(inst, name, strlen(name), &x), 0);
    return x;
}

static wd_wasm_val_t v128_u32(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    wd_wasm_val_t v;
    memset(&v, 0, sizeof v);
    v.type = WD_WASM_V128;
    uint32_t l[4] = { a, b, c, d };
    memcpy(v.of.v128, l, 16);
    return v;
}

static wd_wasm_val_t i32(uint32_t x) { wd_wasm_val_t v = { .type = WD_WASM_I32 }; v.of.i32 = x; return v; }
static wd_wasm_val_t i64(uint64_t x) { wd_wasm_val_t v = { .type = WD_WASM_I64 }; v.of.i64 = x; return v; }

static void ck_v128(const wd_wasm_val_t *v, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    ck_assert_int_eq(v->type, WD_WASM_V128);
    uint32_t l[4];
    memcpy(l, v->of.v128, 16);
    ck_assert_msg(l[0] == a && l[1] == b && l[2] == c && l[3] == d,
                  "v128 %08x %08x %08x %08x, expected %08x %08x %08x %08x", l[0], l[1], l[2], l[3], a, b, c, d);
}

/* v128 mixed with scalars in params, locals, blocks, branches, calls and results */
static const char *frames_wat =
    "(module\n"
    "  (type $t (func (param i32 v128 i64 v128) (result v128 i32 v128)))\n"
    "  (table 2 funcref) (elem (i32.const 0) $swap $mix)\n"
    "  (func $swap (type $t)\n"
    "    (local.get 3) (i32.wrap_i64 (local.get 2)) (local.get 1))\n"
    "  (func $mix (type $t) (local v128 i32 v128)\n"
    "    (local.set 4 (i32x4.add (local.get 1) (local.get 3)))\n"
    "    (local.set 5 (i32.add (local.get 0) (i32.wrap_i64 (local.get 2))))\n"
    "    (local.set 6 (block (result v128)\n"
    "      (br_if 0 (local.get 4) (i32.eqz (local.get 0)))\n"
    "      (drop)\n"
    "      (br_table 0 0 (i32x4.mul (local.get 1) (local.get 3)) (i32.const 0))))\n"
    "    (local.get 6) (local.get 5)\n"
    "    (if (result v128) (local.get 0) (then (local.get 4)) (else (local.get 1))))\n"
    "  (func (export \"run\") (param $k i32) (param $a v128) (param $b v128) (result v128 i32 v128)\n"
    "    (local $i i32) (local $acc v128)\n"
    "    (local.set $acc (v128.const i32x4 0 0 0 0))\n"
    "    (loop $l (result v128 i32 v128)\n"
    "      (local.set $acc (i32x4.add (local.get $acc)\n"
    "        (select (local.get $a) (local.get $b) (i32.and (local.get $i) (i32.const 1)))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (call_indirect (type $t) (local.get $i) (local.get $acc) (i64.const 7) (local.get $b)\n"
    "        (local.get $k))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (i32.const 5)))))\n"
    "  (func (export \"direct\") (param i32 v128 i64 v128) (result v128 i32 v128)\n"
    "    (call $mix (local.get 0) (local.get 1) (local.get 2) (local.get 3)))\n"
    ")\n";

START_TEST(test_simd_frames)
{
    wd_wasm_module_t *m = wd_test_load(frames_wat);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_error_t err;
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_val_t args[4] = { i32(3), v128_u32(1, 2, 3, 4), i64(10), v128_u32(10, 20, 30, 40) }, res[3];
    /* mix(3, a, 10, b): local4 = a+b; local5 = 13; k != 0 so br_table to label 0 with a*b */
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "direct").of.func, args, 4, res, 3), WD_WASM_OK);
    ck_v128(&res[0], 10, 40, 90, 160);
    ck_assert_int_eq(res[1].type, WD_WASM_I32);
    ck_assert_int_eq(res[1].of.i32, 13);
    ck_v128(&res[2], 11, 22, 33, 44);
    args[0] = i32(0);                               /* br_if path: (a+b), if-else takes a */
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "direct").of.func, args, 4, res, 3), WD_WASM_OK);
    ck_v128(&res[0], 11, 22, 33, 44);
    ck_assert_int_eq(res[1].of.i32, 10);
    ck_v128(&res[2], 1, 2, 3, 4);

    /* run(k, a, b): acc = sum over i<5 of (i odd ? a : b); the last iteration's call result */
    wd_wasm_val_t rargs[3] = { i32(0), v128_u32(1, 2, 3, 4), v128_u32(100, 200, 300, 400) };
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "run").of.func, rargs, 3, res, 3), WD_WASM_OK);
    /* acc = 3b + 2a; swap(5, acc, 7, b) = (b, 7, acc) */
    ck_v128(&res[0], 100, 200, 300, 400);
    ck_assert_int_eq(res[1].of.i32, 7);
    ck_v128(&res[2], 302, 604, 906, 1208);
    rargs[0] = i32(1);                              /* mix(5, acc, 7, b): k != 0 */
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "run").of.func, rargs, 3, res, 3), WD_WASM_OK);
    ck_v128(&res[0], 302 * 100, 604 * 200, 906 * 300, 1208 * 400);
    ck_assert_int_eq(res[1].of.i32, 12);
    ck_v128(&res[2], 402, 804, 1206, 1608);
    /* argument type checks still hold */
    rargs[1] = i32(1);
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "run").of.func, rargs, 3, res, 3), WD_WASM_TRAP);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

static const char *globals_wat =
    "(module\n"
    "  (import \"env\" \"gi\" (global $gi v128))\n"
    "  (global $g (export \"g\") (mut v128) (v128.const i32x4 1 2 3 4))\n"
    "  (global $c (export \"c\") v128 (global.get $gi))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func (export \"set\") (param v128)\n"
    "    (global.set $g (local.get 0))\n"
    "    (v128.store offset=16 (i32.const 0) (local.get 0)))\n"
    "  (func (export \"get\") (result v128) (global.get $g))\n"
    "  (func (export \"load\") (result v128) (v128.load offset=16 (i32.const 0)))\n"
    ")\n";

static wd_wasm_host_rc_t host_nop(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    return WD_WASM_HOST_OK;
}

START_TEST(test_simd_globals_snapshot)
{
    wd_wasm_module_t *m = wd_test_load(globals_wat);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_error_t err;
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_GLOBAL };
    imp.of.global = wd_wasm_global_new(s, v128_u32(0xdeadbeef, 5, 6, 0x80000000u), 0);
    ck_assert_ptr_nonnull(imp.of.global);
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, &imp, 1, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_val_t gv = wd_wasm_global_get(export_of(inst, "c").of.global);
    ck_v128(&gv, 0xdeadbeef, 5, 6, 0x80000000u);        /* initializer from an imported v128 global */
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);
    wd_wasm_val_t res[1], arg = v128_u32(0x11111111, 0x22222222, 0x33333333, 0x44444444);
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "set").of.func, &arg, 1, res, 0), WD_WASM_OK);
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "get").of.func, NULL, 0, res, 1), WD_WASM_OK);
    ck_v128(&res[0], 0x11111111, 0x22222222, 0x33333333, 0x44444444);
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "load").of.func, NULL, 0, res, 1), WD_WASM_OK);
    ck_v128(&res[0], 0x11111111, 0x22222222, 0x33333333, 0x44444444);
    /* restore brings back both halves of the global and the stored bytes */
    ck_assert_int_eq(wd_wasm_restore(inst), 0);
    gv = wd_wasm_global_get(export_of(inst, "g").of.global);
    ck_v128(&gv, 1, 2, 3, 4);
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "load").of.func, NULL, 0, res, 1), WD_WASM_OK);
    ck_v128(&res[0], 0, 0, 0, 0);
    /* the embedder API sets it; the guest sees it */
    ck_assert_int_eq(wd_wasm_global_set(export_of(inst, "g").of.global, v128_u32(9, 8, 7, 6)), 0);
    ck_assert_int_eq(wd_wasm_global_set(export_of(inst, "g").of.global, i32(1)), -1);
    ck_assert_int_eq(wd_wasm_call(inst, export_of(inst, "get").of.func, NULL, 0, res, 1), WD_WASM_OK);
    ck_v128(&res[0], 9, 8, 7, 6);

    /* host functions cannot take or return v128 */
    uint8_t vt[2] = { WD_WASM_V128, WD_WASM_I32 };
    wd_wasm_functype_t ft = { .nparams = 1, .nresults = 0, .params = vt, .results = NULL };
    ck_assert_ptr_null(wd_wasm_func_new_host(s, &ft, host_nop, NULL));
    wd_wasm_functype_t ft2 = { .nparams = 1, .nresults = 1, .params = vt + 1, .results = vt };
    ck_assert_ptr_null(wd_wasm_func_new_host(s, &ft2, host_nop, NULL));
    wd_wasm_functype_t ft3 = { .nparams = 1, .nresults = 0, .params = vt + 1, .results = NULL };
    ck_assert_ptr_nonnull(wd_wasm_func_new_host(s, &ft3, host_nop, NULL));
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

/* a SIMD loop: fuel runs out in it, and slices pause/resume it without changing the result */
static const char *loop_wat =
    "(module\n"
    "  (func (export \"sum\") (param $n i32) (result v128) (local $acc v128) (local $x v128)\n"
    "    (local.set $x (v128.const i32x4 1 2 3 4))\n"
    "    (loop $l\n"
    "      (local.set $acc (i32x4.add (local.get $acc) (i32x4.mul (local.get $x) (local.get $x))))\n"
    "      (local.set $x (i32x4.add (local.get $x) (v128.const i32x4 1 1 1 1)))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (local.get $acc)))\n";

START_TEST(test_simd_fuel_yield)
{
    wd_wasm_module_t *m = wd_test_load(loop_wat);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_error_t err;
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_func_t *f = export_of(inst, "sum").of.func;
    wd_wasm_val_t arg = i32(1000), ref[1], res[1];
    ck_assert_int_eq(wd_wasm_call(inst, f, &arg, 1, ref, 1), WD_WASM_OK);
    uint32_t want[4] = { 0, 0, 0, 0 };
    for (uint32_t i = 0; i < 1000; i++)
        for (int k = 0; k < 4; k++) want[k] += (uint32_t)(i + 1 + k) * (uint32_t)(i + 1 + k);
    ck_v128(&ref[0], want[0], want[1], want[2], want[3]);

    wd_wasm_set_fuel(inst, 500);
    ck_assert_int_eq(wd_wasm_call(inst, f, &arg, 1, res, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_FUEL);

    wd_wasm_set_fuel(inst, 0);
    int pauses = 0;
    wd_wasm_set_slice(inst, 97);
    wd_wasm_status_t st = wd_wasm_call(inst, f, &arg, 1, res, 1);
    while (st == WD_WASM_SUSPENDED) {
        ck_assert(wd_wasm_yielded(inst));
        pauses++;
        wd_wasm_set_slice(inst, 97);
        st = wd_wasm_resume(inst, res, 1);
    }
    ck_assert_int_eq(st, WD_WASM_OK);
    ck_assert_int_gt(pauses, 10);
    ck_assert_int_eq(memcmp(res[0].of.v128, ref[0].of.v128, 16), 0);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("simd");
    TCase *tc = tcase_create("simd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_simd_frames);
    tcase_add_test(tc, test_simd_globals_snapshot);
    tcase_add_test(tc, test_simd_fuel_yield);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
