/*
 * test_jit.c -- the baseline x86-64 compiler (src/wasm/wd_wasm_jit_x64.c) against
 * the interpreter: the same module loaded with engine JIT and engine INTERP must
 * give the same results, traps (kind, message, function index) and fuel, and the
 * JIT load must really compile its functions. Also: a host function that
 * suspends inside a compiled loop resumes there (re-invoked, as interpreted);
 * 10,000 nested compiled calls run and a runaway recursion ends in "call stack
 * exhausted"; stores from compiled code are undone by restore (dirty map);
 * fuel exhaustion stops both engines at the same point; after
 * wd_wasm_jit_seal() nothing is compiled. On other CPUs the JIT load is
 * interpreted and the comparisons still hold.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define WD_TEST_WAT_FLAGS ""
#include "wd_test_wat.h"

static wd_wasm_module_t *load(const char *text, uint32_t engine)
{
    size_t len;
    uint8_t *b = wat(text, &len);
    wd_wasm_error_t err;
    wd_wasm_load_opts_t o;
    memset(&o, 0, sizeof o);
    o.engine = engine;
    wd_wasm_module_t *m = wd_wasm_module_load(b, len, &o, &err);
    free(b);
    if (m == NULL) fprintf(stderr, "load: %s at %lld\n", err.msg, (long long)err.offset);
    ck_assert_ptr_nonnull(m);
    return m;
}

static wd_wasm_func_t *export_func(wd_wasm_instance_t *inst, const char *name)
{
    wd_wasm_extern_t x;
    ck_assert_int_eq(wd_wasm_instance_export(inst, name, strlen(name), &x), 0);
    return x.of.func;
}

static wd_wasm_val_t i32(uint32_t v) { wd_wasm_val_t x = { .type = WD_WASM_I32 }; x.of.i32 = v; return x; }
static wd_wasm_val_t i64(uint64_t v) { wd_wasm_val_t x = { .type = WD_WASM_I64 }; x.of.i64 = v; return x; }

#if defined(__x86_64__)
#define EXPECT_COMPILED 1
#else
#define EXPECT_COMPILED 0
#endif

/* integer arithmetic, locals, branches, br_table, calls, memory, globals, traps */
static const char *MIX =
    "(module (memory (export \"memory\") 1 2) (global $g (mut i64) (i64.const 7))"
    " (table 4 funcref) (elem (i32.const 0) $sq $neg $sq)"
    " (type $t (func (param i64) (result i64)))"
    " (func $sq (type $t) (i64.mul (local.get 0) (local.get 0)))"
    " (func $neg (type $t) (i64.sub (i64.const 0) (local.get 0)))"
    " (func (export \"arith\") (param $a i32) (param $b i32) (result i64) (local $r i64)"
    "   (local.set $r (i64.extend_i32_u (i32.add (local.get $a) (local.get $b))))"
    "   (local.set $r (i64.xor (local.get $r) (i64.extend_i32_s (i32.mul (local.get $a) (i32.const -3)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.shl (local.get $a) (local.get $b)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.shr_s (local.get $a) (local.get $b)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.rotl (local.get $a) (local.get $b)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.lt_s (local.get $a) (local.get $b)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.ge_u (local.get $a) (local.get $b)))))"
    "   (local.set $r (i64.rotr (local.get $r) (i64.extend_i32_u (local.get $b))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend_i32_u (i32.clz (local.get $a)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.extend8_s (i64.extend_i32_u (local.get $b)))))"
    "   (local.set $r (i64.add (local.get $r) (i64.mul (local.get $r) (i64.const 0x123456789))))"
    "   (local.set $r (i64.add (local.get $r) (select (i64.const 5) (i64.const 9) (local.get $a))))"
    "   (global.set $g (i64.add (global.get $g) (local.get $r)))"
    "   (i64.add (local.get $r) (global.get $g)))"
    " (func (export \"div\") (param $a i32) (param $b i32) (result i32)"
    "   (i32.add (i32.add (i32.div_s (local.get $a) (local.get $b)) (i32.rem_s (local.get $a) (local.get $b)))"
    "            (i32.add (i32.div_u (local.get $a) (local.get $b)) (i32.rem_u (local.get $a) (local.get $b)))))"
    " (func (export \"div64\") (param $a i64) (param $b i64) (result i64)"
    "   (i64.add (i64.add (i64.div_s (local.get $a) (local.get $b)) (i64.rem_s (local.get $a) (local.get $b)))"
    "            (i64.add (i64.div_u (local.get $a) (local.get $b)) (i64.rem_u (local.get $a) (local.get $b)))))"
    " (func (export \"sw\") (param $i i32) (result i32)"
    "   (block $d (block $c (block $b (block $a (br_table $a $b $c $d (local.get $i)))"
    "     (return (i32.const 10))) (return (i32.const 20))) (return (i32.const 30)))"
    "   (i32.const 40))"
    " (func (export \"ind\") (param $i i32) (param $x i64) (result i64)"
    "   (call_indirect (type $t) (local.get $x) (local.get $i)))"
    " (func (export \"mem\") (param $n i32) (param $off i32) (result i64) (local $i i32) (local $s i64)"
    "   (loop $l"
    "     (i32.store8 offset=3 (i32.add (local.get $off) (local.get $i)) (local.get $i))"
    "     (i64.store16 (i32.add (local.get $off) (i32.mul (local.get $i) (i32.const 2))) (i64.extend_i32_u (local.get $i)))"
    "     (i32.store offset=1000 (local.get $i) (i32.mul (local.get $i) (i32.const 7)))"
    "     (local.set $s (i64.add (local.get $s) (i64.load8_s offset=3 (i32.add (local.get $off) (local.get $i)))))"
    "     (local.set $s (i64.add (local.get $s) (i64.load16_u (i32.add (local.get $off) (i32.mul (local.get $i) (i32.const 2))))))"
    "     (local.set $s (i64.add (local.get $s) (i64.load32_s offset=1000 (local.get $i))))"
    "     (local.set $s (i64.add (local.get $s) (i64.load (i32.and (local.get $i) (i32.const 0xff8)))))"
    "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
    "     (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
    "   (local.get $s))"
    " (func (export \"grow\") (result i32) (drop (memory.grow (i32.const 1)))"
    "   (i32.store (i32.const 70000) (i32.const 5)) (i32.add (memory.size) (i32.load (i32.const 70000))))"
    " (func (export \"unreach\") (param i32) (result i32)"
    "   (if (local.get 0) (then unreachable)) (i32.const 1)))";

typedef struct { const char *name; int n; wd_wasm_val_t a[2]; } call_t;

/* both engines, same calls in the same order on one instance each: same status,
 * results, trap kind/message/function, fuel */
static void differential(const char *text, const call_t *calls, size_t ncalls, uint64_t fuel)
{
    wd_wasm_module_t *mi = load(text, WD_WASM_ENGINE_INTERP);
    wd_wasm_module_t *mj = load(text, WD_WASM_ENGINE_JIT);
    ck_assert_uint_eq(wd_wasm_module_jit_count(mi), 0);
    if (EXPECT_COMPILED) ck_assert_uint_gt(wd_wasm_module_jit_count(mj), 0);
    wd_wasm_store_t *si = wd_wasm_store_new(), *sj = wd_wasm_store_new();
    wd_wasm_instance_t *ii = wd_wasm_instantiate(si, mi, NULL, 0, NULL, NULL);
    wd_wasm_instance_t *ij = wd_wasm_instantiate(sj, mj, NULL, 0, NULL, NULL);
    ck_assert_ptr_nonnull(ii);
    ck_assert_ptr_nonnull(ij);
    wd_wasm_set_fuel(ii, fuel);
    wd_wasm_set_fuel(ij, fuel);
    for (size_t k = 0; k < ncalls; k++) {
        wd_wasm_val_t ri[1], rj[1];
        memset(ri, 0, sizeof ri);
        memset(rj, 0, sizeof rj);
        wd_wasm_status_t a = wd_wasm_call(ii, export_func(ii, calls[k].name), calls[k].a, (uint32_t)calls[k].n, ri, 1);
        wd_wasm_status_t b = wd_wasm_call(ij, export_func(ij, calls[k].name), calls[k].a, (uint32_t)calls[k].n, rj, 1);
        ck_assert_msg(a == b, "%s #%zu: status %d vs %d", calls[k].name, k, a, b);
        if (a == WD_WASM_OK) {
            ck_assert_msg(ri[0].of.i64 == rj[0].of.i64, "%s #%zu: %llx vs %llx", calls[k].name, k,
                          (unsigned long long)ri[0].of.i64, (unsigned long long)rj[0].of.i64);
        } else {
            const wd_wasm_trap_t *ti = wd_wasm_last_trap(ii), *tj = wd_wasm_last_trap(ij);
            ck_assert_int_eq(ti->kind, tj->kind);
            ck_assert_str_eq(ti->msg, tj->msg);
            ck_assert_int_eq(ti->func_index, tj->func_index);
        }
        ck_assert_msg(wd_wasm_fuel_used(ii) == wd_wasm_fuel_used(ij), "%s #%zu: fuel %llu vs %llu",
                      calls[k].name, k, (unsigned long long)wd_wasm_fuel_used(ii),
                      (unsigned long long)wd_wasm_fuel_used(ij));
    }
    uint8_t *a = wd_wasm_memory_data(wd_wasm_instance_memory(ii));
    uint8_t *b = wd_wasm_memory_data(wd_wasm_instance_memory(ij));
    ck_assert_uint_eq(wd_wasm_memory_size(wd_wasm_instance_memory(ii)), wd_wasm_memory_size(wd_wasm_instance_memory(ij)));
    ck_assert_int_eq(memcmp(a, b, wd_wasm_memory_size(wd_wasm_instance_memory(ii))), 0);
    wd_wasm_store_free(si);
    wd_wasm_store_free(sj);
    wd_wasm_module_free(mi);
    wd_wasm_module_free(mj);
}

START_TEST(test_jit_differential)
{
    static const uint32_t vals[] = { 0, 1, 2, 3, 5, 31, 32, 33, 0x7fffffff, 0x80000000u, 0xffffffffu, 0xfffffffeu, 12345 };
    call_t calls[600];
    size_t n = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            calls[n++] = (call_t){ "arith", 2, { i32(vals[i]), i32(vals[j]) } };
            calls[n++] = (call_t){ "div", 2, { i32(vals[i]), i32(vals[j]) } };
            calls[n++] = (call_t){ "div64", 2, { i64((uint64_t)vals[i] << (i & 1 ? 32 : 0) | vals[j]),
                                                 i64(j == 12 ? (uint64_t)-1 : vals[j]) } };
        }
    calls[n++] = (call_t){ "div64", 2, { i64(0x8000000000000000ull), i64((uint64_t)-1) } };
    calls[n++] = (call_t){ "div", 2, { i32(0x80000000u), i32(0xffffffffu) } };
    for (uint32_t i = 0; i < 7; i++) calls[n++] = (call_t){ "sw", 1, { i32(i == 6 ? 0xffffffffu : i) } };
    for (uint32_t i = 0; i < 6; i++) calls[n++] = (call_t){ "ind", 2, { i32(i), i64(0x1234567 + i) } };
    calls[n++] = (call_t){ "mem", 2, { i32(3000), i32(17) } };
    calls[n++] = (call_t){ "mem", 2, { i32(100), i32(65530) } };         /* out of bounds midway */
    calls[n++] = (call_t){ "grow", 0, { i32(0) } };
    calls[n++] = (call_t){ "mem", 2, { i32(2000), i32(65530) } };        /* in bounds after the grow */
    calls[n++] = (call_t){ "unreach", 1, { i32(0) } };
    calls[n++] = (call_t){ "unreach", 1, { i32(1) } };
    ck_assert_uint_le(n, sizeof calls / sizeof calls[0]);
    differential(MIX, calls, n, 0);
    differential(MIX, calls, n, 50000000);
}
END_TEST

/* fuel runs out inside a compiled loop at the same point in both engines */
START_TEST(test_jit_fuel_exhaustion)
{
    for (uint64_t fuel = 1000; fuel < 40000; fuel += 3331) {
        call_t c[2] = { { "mem", 2, { i32(3000), i32(17) } }, { "arith", 2, { i32(3), i32(4) } } };
        differential(MIX, c, 2, fuel);
    }
}
END_TEST

/* host.wait(i) suspends the first time it is called for each i % 7 == 0; resume re-invokes it */
typedef struct { uint32_t calls, suspends, pending; } waiter_t;

static wd_wasm_host_rc_t host_wait(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    (void)caller;
    waiter_t *w = ud;
    w->calls++;
    uint32_t i = (uint32_t)args[0];
    if (i % 7 == 0 && !w->pending) { w->pending = 1; w->suspends++; return WD_WASM_HOST_SUSPEND; }
    w->pending = 0;
    results[0] = i * 3 + 1;
    return WD_WASM_HOST_OK;
}

static const char *SUSP =
    "(module (import \"env\" \"wait\" (func $wait (param i32) (result i32)))"
    " (memory 1)"
    " (func $inner (param $i i32) (result i32) (i32.add (call $wait (local.get $i)) (local.get $i)))"
    " (func (export \"run\") (param $n i32) (result i32) (local $i i32) (local $s i32)"
    "   (loop $l"
    "     (local.set $s (i32.xor (i32.rotl (local.get $s) (i32.const 3)) (call $inner (local.get $i))))"
    "     (i32.store (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfffc)) (local.get $s))"
    "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
    "     (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
    "   (i32.add (local.get $s) (i32.load (i32.const 8)))))";

static uint32_t run_susp(uint32_t engine, uint32_t n, waiter_t *w, uint64_t *fuel_used, uint32_t *compiled)
{
    wd_wasm_module_t *m = load(SUSP, engine);
    *compiled = wd_wasm_module_jit_count(m);
    wd_wasm_store_t *s = wd_wasm_store_new();
    static uint8_t p[1] = { WD_WASM_I32 }, r[1] = { WD_WASM_I32 };
    wd_wasm_functype_t ft = { 1, 1, p, r };
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = wd_wasm_func_new_host(s, &ft, host_wait, w);
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, &imp, 1, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_set_fuel(inst, 100000000);
    wd_wasm_val_t a = i32(n), res[1];
    wd_wasm_status_t st = wd_wasm_call(inst, export_func(inst, "run"), &a, 1, res, 1);
    while (st == WD_WASM_SUSPENDED) {
        ck_assert_int_eq(wd_wasm_yielded(inst), 0);
        st = wd_wasm_resume(inst, res, 1);
    }
    ck_assert_int_eq(st, WD_WASM_OK);
    *fuel_used = wd_wasm_fuel_used(inst);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
    return res[0].of.i32;
}

START_TEST(test_jit_host_suspend_resumes)
{
    waiter_t wi = { 0 }, wj = { 0 };
    uint64_t fi, fj;
    uint32_t ci, cj;
    uint32_t ri = run_susp(WD_WASM_ENGINE_INTERP, 1000, &wi, &fi, &ci);
    uint32_t rj = run_susp(WD_WASM_ENGINE_JIT, 1000, &wj, &fj, &cj);
    ck_assert_uint_eq(ci, 0);
    if (EXPECT_COMPILED) ck_assert_uint_eq(cj, 2);
    ck_assert_uint_eq(wj.suspends, 143);
    ck_assert_uint_eq(wi.suspends, wj.suspends);
    ck_assert_uint_eq(wi.calls, wj.calls);
    ck_assert_uint_eq(ri, rj);
    ck_assert_uint_eq(fi, fj);
}
END_TEST

static const char *DEEP =
    "(module"
    " (func $down (export \"down\") (param $n i32) (result i32)"
    "   (if (result i32) (local.get $n) (then (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))"
    "     (else (i32.const 0))))"
    " (func $forever (export \"forever\") (param $n i32) (result i32)"
    "   (i32.add (call $forever (i32.add (local.get $n) (i32.const 1))) (i32.const 1))))";

START_TEST(test_jit_deep_calls)
{
    wd_wasm_module_t *m = load(DEEP, WD_WASM_ENGINE_JIT);
    if (EXPECT_COMPILED) ck_assert_uint_eq(wd_wasm_module_jit_count(m), 2);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_limits_t lim;
    memset(&lim, 0, sizeof lim);
    lim.max_call_depth = 20000;
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, &lim, NULL);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_val_t a = i32(10000), r[1];
    ck_assert_int_eq(wd_wasm_call(inst, export_func(inst, "down"), &a, 1, r, 1), WD_WASM_OK);
    ck_assert_uint_eq(r[0].of.i32, 10000);
    a = i32(0);
    ck_assert_int_eq(wd_wasm_call(inst, export_func(inst, "forever"), &a, 1, r, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_STACK_EXHAUSTED);
    ck_assert_int_eq(wd_wasm_last_trap(inst)->func_index, 1);
    /* the instance is usable again */
    a = i32(50);
    ck_assert_int_eq(wd_wasm_call(inst, export_func(inst, "down"), &a, 1, r, 1), WD_WASM_OK);
    ck_assert_uint_eq(r[0].of.i32, 50);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

/* stores made by compiled code are tracked by the dirty map: restore undoes them */
START_TEST(test_jit_restore)
{
    wd_wasm_module_t *m = load(MIX, WD_WASM_ENGINE_JIT);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);
    wd_wasm_memory_t *mem = wd_wasm_instance_memory(inst);
    uint8_t *zero = calloc(1, 65536);
    for (int round = 0; round < 3; round++) {
        wd_wasm_val_t a[2] = { i32(3000 + round * 500), i32(17 + round * 4000) }, r[1];
        ck_assert_int_eq(wd_wasm_call(inst, export_func(inst, "mem"), a, 2, r, 1), WD_WASM_OK);
        ck_assert_int_ne(memcmp(wd_wasm_memory_data(mem), zero, 65536), 0);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
        ck_assert_int_eq(memcmp(wd_wasm_memory_data(mem), zero, 65536), 0);
    }
    free(zero);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

/* runs last (the seal is process-wide) */
START_TEST(test_jit_sealed)
{
    wd_wasm_jit_seal();
    wd_wasm_module_t *m = load(DEEP, WD_WASM_ENGINE_JIT);
    ck_assert_uint_eq(wd_wasm_module_jit_count(m), 0);
    wd_wasm_module_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wasm_jit");
    TCase *tc = tcase_create("jit");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_jit_differential);
    tcase_add_test(tc, test_jit_fuel_exhaustion);
    tcase_add_test(tc, test_jit_host_suspend_resumes);
    tcase_add_test(tc, test_jit_deep_calls);
    tcase_add_test(tc, test_jit_restore);
    tcase_add_test(tc, test_jit_sealed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
