/*
 * test_engine.c -- engine unit tests (Check): calls and deep recursion, every
 * trap message, fuel, interrupt, memory limits, suspend/resume (also in the
 * middle of nested Wasm calls), snapshot/restore, cross-instance calls,
 * malformed modules and allocation-failure injection. Modules are written in
 * the text format and compiled with wat2wasm (wabt) at test time.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#define WD_TEST_WAT_FLAGS ""
#include "wd_test_wat.h"

static wd_wasm_func_t *export_func(wd_wasm_instance_t *inst, const char *name)
{
    wd_wasm_extern_t x;
    ck_assert_int_eq(wd_wasm_instance_export(inst, name, strlen(name), &x), 0);
    ck_assert_int_eq(x.kind, WD_WASM_EXTERN_FUNC);
    return x.of.func;
}

static wd_wasm_val_t i32(uint32_t v) { wd_wasm_val_t x = { .type = WD_WASM_I32 }; x.of.i32 = v; return x; }

static wd_wasm_status_t call1(wd_wasm_instance_t *inst, const char *name, uint32_t arg, uint32_t *out)
{
    wd_wasm_val_t a = i32(arg), r[1];
    wd_wasm_func_t *f = export_func(inst, name);
    uint32_t np = wd_wasm_func_type(f)->nparams;
    wd_wasm_status_t st = wd_wasm_call(inst, f, &a, np, r, 1);
    if (st == WD_WASM_OK && out) *out = r[0].of.i32;
    return st;
}

static const char *REC =
    "(module (func $r (export \"rec\") (param i32) (result i32)"
    "  (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))"
    "    (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1))))))))";

START_TEST(test_deep_recursion)
{
    wd_wasm_module_t *m = wd_test_load(REC);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_error_t err;
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    uint32_t r = 0;
    ck_assert_int_eq(call1(inst, "rec", 10000, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 10000);
    /* unbounded recursion ends in a trap, not a crash, and the instance stays usable */
    ck_assert_int_eq(call1(inst, "rec", 100000000, &r), WD_WASM_TRAP);
    ck_assert_str_eq(wd_wasm_last_trap(inst)->msg, "call stack exhausted");
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_STACK_EXHAUSTED);
    ck_assert_int_eq(call1(inst, "rec", 5, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 5);
    /* a configured smaller limit */
    wd_wasm_limits_t lim = { .max_call_depth = 100 };
    wd_wasm_instance_t *small = wd_wasm_instantiate(s, m, NULL, 0, &lim, &err);
    ck_assert_ptr_nonnull(small);
    ck_assert_int_eq(call1(small, "rec", 90, &r), WD_WASM_OK);
    ck_assert_int_eq(call1(small, "rec", 200, &r), WD_WASM_TRAP);
    ck_assert_str_eq(wd_wasm_last_trap(small)->msg, "call stack exhausted");
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

static const char *TRAPS =
    "(module (memory 1) (table 2 funcref) (table $t2 1 funcref) (elem (i32.const 0) $f)"
    " (type $v (func)) (type $i (func (result i32)))"
    " (func $f)"
    " (func (export \"unreachable\") (param i32) unreachable)"
    " (func (export \"div0\") (param i32) (drop (i32.div_s (i32.const 1) (local.get 0))))"
    " (func (export \"ovf\") (param i32) (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))"
    " (func (export \"conv\") (param i32) (drop (i32.trunc_f32_s (f32.const nan))))"
    " (func (export \"oobmem\") (param i32) (drop (i32.load offset=8 (i32.const 65530))))"
    " (func (export \"oobtable\") (param i32) (drop (table.get $t2 (i32.const 5))))"
    " (func (export \"typemis\") (param i32) (drop (call_indirect (type $i) (i32.const 0))))"
    " (func (export \"uninit\") (param i32) (call_indirect (type $v) (i32.const 1)))"
    " (func (export \"undef\") (param i32) (call_indirect (type $v) (i32.const 7))))";

START_TEST(test_trap_messages)
{
    static const struct { const char *fn, *msg; wd_wasm_trap_kind_t k; } cases[] = {
        { "unreachable", "unreachable", WD_TRAP_UNREACHABLE },
        { "div0", "integer divide by zero", WD_TRAP_DIV_ZERO },
        { "ovf", "integer overflow", WD_TRAP_INT_OVERFLOW },
        { "conv", "invalid conversion to integer", WD_TRAP_INVALID_CONVERSION },
        { "oobmem", "out of bounds memory access", WD_TRAP_OOB_MEMORY },
        { "oobtable", "out of bounds table access", WD_TRAP_OOB_TABLE },
        { "typemis", "indirect call type mismatch", WD_TRAP_INDIRECT_TYPE },
        { "uninit", "uninitialized element", WD_TRAP_UNINIT_ELEMENT },
        { "undef", "undefined element", WD_TRAP_UNDEFINED_ELEMENT },
    };
    wd_wasm_module_t *m = wd_test_load(TRAPS);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(call1(inst, cases[i].fn, 0, NULL), WD_WASM_TRAP);
        const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
        ck_assert_msg(!strncmp(t->msg, cases[i].msg, strlen(cases[i].msg)), "%s: %s", cases[i].fn, t->msg);
        ck_assert_int_eq(t->kind, cases[i].k);
        ck_assert_str_eq(wd_wasm_trap_kind_message(cases[i].k), cases[i].msg);
        ck_assert_int_ge(t->func_index, 1);
    }
    ck_assert_str_eq(wd_wasm_trap_kind_message(WD_TRAP_STACK_EXHAUSTED), "call stack exhausted");
    ck_assert_str_eq(wd_wasm_trap_kind_message(WD_TRAP_FUEL), "fuel exhausted");
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

static const char *LOOP =
    "(module (global $g (mut i32) (i32.const 0))"
    " (func (export \"spin\") (param i32) (loop $l (global.set $g (i32.add (global.get $g) (i32.const 1))) (br $l)))"
    " (func (export \"count\") (param i32) (result i32) (local i32)"
    "   (block $b (loop $l (br_if $b (i32.ge_u (local.get 1) (local.get 0)))"
    "     (local.set 1 (i32.add (local.get 1) (i32.const 1))) (br $l))) (local.get 1)))";

START_TEST(test_fuel)
{
    wd_wasm_module_t *m = wd_test_load(LOOP);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_set_fuel(inst, 100000);
    ck_assert_int_eq(call1(inst, "spin", 0, NULL), WD_WASM_TRAP);
    ck_assert_str_eq(wd_wasm_last_trap(inst)->msg, "fuel exhausted");
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_FUEL);
    ck_assert_uint_eq(wd_wasm_fuel_left(inst), 0);
    ck_assert_uint_eq(wd_wasm_fuel_used(inst), 100000);
    /* a bounded loop fits in enough fuel and the charge grows with the work */
    wd_wasm_set_fuel(inst, 1000000);
    uint32_t r;
    ck_assert_int_eq(call1(inst, "count", 1000, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 1000);
    uint64_t used1000 = wd_wasm_fuel_used(inst);
    ck_assert_uint_gt(used1000, 1000);
    wd_wasm_set_fuel(inst, 1000000);
    ck_assert_int_eq(call1(inst, "count", 2000, &r), WD_WASM_OK);
    ck_assert_uint_gt(wd_wasm_fuel_used(inst), used1000 + 1000);
    /* a start function that loops forever does not hang instantiate when fuel is set */
    wd_wasm_module_t *m2 = wd_test_load("(module (func $s (loop $l (br $l))) (start $s))");
    wd_wasm_limits_t lim = { .fuel = 50000 };
    wd_wasm_error_t err;
    ck_assert_ptr_null(wd_wasm_instantiate(s, m2, NULL, 0, &lim, &err));
    ck_assert_str_eq(err.msg, "fuel exhausted");
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
    wd_wasm_module_free(m2);
}
END_TEST

static wd_wasm_instance_t *alarm_target;
static void on_alarm(int sig) { (void)sig; wd_wasm_interrupt(alarm_target); }

static void *interrupter(void *arg)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    wd_wasm_interrupt(arg);
    return NULL;
}

START_TEST(test_interrupt)
{
    wd_wasm_module_t *m = wd_test_load(LOOP);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, NULL);
    pthread_t th;
    pthread_create(&th, NULL, interrupter, inst);
    ck_assert_int_eq(call1(inst, "spin", 0, NULL), WD_WASM_TRAP);
    pthread_join(th, NULL);
    ck_assert_str_eq(wd_wasm_last_trap(inst)->msg, "deadline exceeded");
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_INTERRUPT);
    wd_wasm_clear_interrupt(inst);
    uint32_t r;
    ck_assert_int_eq(call1(inst, "count", 10, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 10);
    /* from a signal handler (async-signal-safe) */
    alarm_target = inst;
    signal(SIGALRM, on_alarm);
    struct itimerval it = { { 0, 0 }, { 0, 50 * 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    ck_assert_int_eq(call1(inst, "spin", 0, NULL), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_INTERRUPT);
    signal(SIGALRM, SIG_DFL);
    /* set_fuel clears the flag */
    wd_wasm_set_fuel(inst, 0);
    ck_assert_int_eq(call1(inst, "count", 10, &r), WD_WASM_OK);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_stack_bytes_limit)
{
    /* a ~20-slot frame: a 64 KiB stack (8192 slots) runs out long before the depth limit */
    wd_wasm_module_t *m = wd_test_load("(module (func $r (export \"rec\") (param i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64)"
        "  (local $big i64) (local $pad f64) (local $more i32)"
        "  (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))"
        "    (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1))))))))");
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_limits_t lim = { .max_stack_bytes = 64 * 1024 };
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, &lim, NULL);
    ck_assert_ptr_nonnull(inst);
    uint32_t r;
    ck_assert_int_eq(call1(inst, "rec", 50, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 50);
    ck_assert_int_eq(call1(inst, "rec", 5000, &r), WD_WASM_TRAP);
    ck_assert_str_eq(wd_wasm_last_trap(inst)->msg, "call stack exhausted");
    ck_assert_int_eq(call1(inst, "rec", 50, &r), WD_WASM_OK);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_memory_limit)
{
    wd_wasm_module_t *m = wd_test_load("(module (memory 2)"
        " (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0))))");
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_limits_t lim = { .max_memory_bytes = 4 * 65536 };
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, &lim, NULL);
    ck_assert_ptr_nonnull(inst);
    uint32_t r;
    ck_assert_int_eq(call1(inst, "grow", 2, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 2);
    ck_assert_int_eq(call1(inst, "grow", 1, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 0xffffffffu);
    ck_assert_uint_eq(wd_wasm_memory_size(wd_wasm_instance_memory(inst)), 4 * 65536);
    wd_wasm_limits_t small = { .max_memory_bytes = 65536 };
    wd_wasm_error_t err;
    ck_assert_ptr_null(wd_wasm_instantiate(s, m, NULL, 0, &small, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "memory limit exceeded"));
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

/* host function that suspends the first time per call and then returns arg*2 */
static int host_calls, host_suspends;
static wd_wasm_host_rc_t host_maybe_suspend(wd_wasm_instance_t *caller, const uint64_t *args,
                                            uint64_t *results, void *ud)
{
    (void)caller; (void)ud;
    host_calls++;
    if (host_calls % 2 == 1) { host_suspends++; return WD_WASM_HOST_SUSPEND; }
    results[0] = (uint32_t)args[0] * 2;
    return WD_WASM_HOST_OK;
}

START_TEST(test_suspend_resume)
{
    wd_wasm_module_t *m = wd_test_load("(module (import \"env\" \"h\" (func $h (param i32) (result i32)))"
        " (memory 1)"
        " (func $inner (param i32) (result i32) (i32.add (call $h (local.get 0)) (i32.const 1)))"
        " (func $mid (param i32) (result i32) (local i32) (local.set 1 (i32.const 100))"
        "   (i32.add (local.get 1) (call $inner (local.get 0))))"
        " (func (export \"outer\") (param i32) (result i32)"
        "   (i32.add (call $mid (local.get 0)) (call $mid (i32.const 1000)))))");
    wd_wasm_store_t *s = wd_wasm_store_new();
    uint8_t p[1] = { WD_WASM_I32 }, rr[1] = { WD_WASM_I32 };
    wd_wasm_functype_t ft = { 1, 1, p, rr };
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = wd_wasm_func_new_host(s, &ft, host_maybe_suspend, NULL);
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, &imp, 1, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    host_calls = host_suspends = 0;
    wd_wasm_val_t a = i32(5), r[1];
    wd_wasm_func_t *outer = export_func(inst, "outer");
    ck_assert_int_eq(wd_wasm_call(inst, outer, &a, 1, r, 1), WD_WASM_SUSPENDED);
    /* the instance refuses new calls while suspended */
    ck_assert_int_eq(wd_wasm_call(inst, outer, &a, 1, r, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_resume(inst, r, 1), WD_WASM_SUSPENDED);   /* second $h call suspends */
    ck_assert_int_eq(wd_wasm_resume(inst, r, 1), WD_WASM_OK);
    /* (5*2+1+100) + (1000*2+1+100) */
    ck_assert_uint_eq(r[0].of.i32, 111 + 2101);
    ck_assert_int_eq(host_suspends, 2);
    ck_assert_int_eq(host_calls, 4);
    /* abort a suspended call; the instance works afterwards */
    ck_assert_int_eq(wd_wasm_call(inst, outer, &a, 1, r, 1), WD_WASM_SUSPENDED);
    wd_wasm_abort(inst);
    host_calls = 1;   /* next host call does not suspend */
    host_calls = 0;
    ck_assert_int_eq(wd_wasm_call(inst, outer, &a, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_resume(inst, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_resume(inst, r, 1), WD_WASM_OK);
    ck_assert_uint_eq(r[0].of.i32, 2212);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST


/* host functions: trap message, exit code, re-entrant call into Wasm, direct suspend */
static wd_wasm_func_t *reenter_target;
static wd_wasm_host_rc_t host_misc(wd_wasm_instance_t *caller, const uint64_t *args,
                                   uint64_t *results, void *ud)
{
    (void)ud;
    uint32_t mode = (uint32_t)args[0];
    if (mode == 1) { wd_wasm_host_trap(caller, "custom host failure"); return WD_WASM_HOST_TRAP; }
    if (mode == 2) return wd_wasm_host_exit(caller, 7);
    if (mode == 3) {          /* call back into Wasm from inside the host function */
        wd_wasm_val_t a = i32(20), r[1];
        if (wd_wasm_call(caller, reenter_target, &a, 1, r, 1) != WD_WASM_OK) return WD_WASM_HOST_TRAP;
        results[0] = r[0].of.i32 + 1;
        return WD_WASM_HOST_OK;
    }
    results[0] = mode * 10;
    return WD_WASM_HOST_OK;
}

START_TEST(test_host_functions)
{
    wd_wasm_module_t *m = wd_test_load("(module (import \"env\" \"h\" (func $h (param i32) (result i32)))"
        " (func (export \"via\") (param i32) (result i32) (i32.add (call $h (local.get 0)) (i32.const 1000)))"
        " (func (export \"sq\") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))");
    wd_wasm_store_t *s = wd_wasm_store_new();
    uint8_t p[1] = { WD_WASM_I32 }, rr[1] = { WD_WASM_I32 };
    wd_wasm_functype_t ft = { 1, 1, p, rr };
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = wd_wasm_func_new_host(s, &ft, host_misc, NULL);
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, &imp, 1, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    reenter_target = export_func(inst, "sq");
    uint32_t r;
    ck_assert_int_eq(call1(inst, "via", 4, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 1040);
    ck_assert_int_eq(call1(inst, "via", 1, &r), WD_WASM_TRAP);
    ck_assert_str_eq(wd_wasm_last_trap(inst)->msg, "custom host failure");
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_HOST);
    ck_assert_int_eq(call1(inst, "via", 2, &r), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(inst)->kind, WD_TRAP_EXIT);
    ck_assert_int_eq(wd_wasm_exit_code(inst), 7);
    ck_assert_int_eq(call1(inst, "via", 3, &r), WD_WASM_OK);     /* re-entrant: 20*20 + 1 + 1000 */
    ck_assert_uint_eq(r, 1401);
    /* calling the host function directly, including a direct suspend */
    wd_wasm_val_t a = i32(5), res[1];
    ck_assert_int_eq(wd_wasm_call(inst, imp.of.func, &a, 1, res, 1), WD_WASM_OK);
    ck_assert_uint_eq(res[0].of.i32, 50);
    wd_wasm_func_t *susp = wd_wasm_func_new_host(s, &ft, host_maybe_suspend, NULL);
    host_calls = 0;
    a = i32(21);
    ck_assert_int_eq(wd_wasm_call(inst, susp, &a, 1, res, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_resume(inst, res, 1), WD_WASM_OK);
    ck_assert_uint_eq(res[0].of.i32, 42);
    /* wrong argument count/type is refused */
    ck_assert_int_eq(wd_wasm_call(inst, imp.of.func, NULL, 0, res, 1), WD_WASM_TRAP);
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

static const char *SNAP =
    "(module (memory (export \"mem\") 1 100) (global $g (mut i32) (i32.const 7))"
    " (table $t 2 10 funcref) (elem declare func $f) (func $f)"
    " (data $d \"hello\") (elem $e func $f)"
    " (func (export \"mutate\") (param i32) (result i32)"
    "   (i32.store (i32.const 100) (i32.const 0xdeadbeef))"
    "   (i32.store (i32.const 65532) (i32.const 1))"
    "   (drop (memory.grow (i32.const 3)))"
    "   (i32.store (i32.const 200000) (i32.const 42))"
    "   (global.set $g (i32.const 99))"
    "   (table.set $t (i32.const 1) (ref.func $f))"
    "   (drop (table.grow $t (ref.null func) (i32.const 3)))"
    "   (data.drop $d) (elem.drop $e)"
    "   (i32.const 0))"
    " (func (export \"check\") (param i32) (result i32)"
    "   (if (i32.ne (i32.load (i32.const 100)) (i32.const 0x11223344)) (then (return (i32.const 1))))"
    "   (if (i32.ne (memory.size) (i32.const 1)) (then (return (i32.const 2))))"
    "   (if (i32.ne (global.get $g) (i32.const 8)) (then (return (i32.const 3))))"
    "   (if (i32.eqz (ref.is_null (table.get $t (i32.const 1)))) (then (return (i32.const 4))))"
    "   (if (i32.ne (table.size $t) (i32.const 2)) (then (return (i32.const 5))))"
    "   (memory.init $d (i32.const 300) (i32.const 0) (i32.const 5))"
    "   (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))"
    "   (if (i32.ne (i32.load8_u (i32.const 304)) (i32.const 111)) (then (return (i32.const 6))))"
    "   (i32.const 0))"
    " (func (export \"prep\") (param i32) (result i32)"
    "   (i32.store (i32.const 100) (i32.const 0x11223344)) (global.set $g (i32.const 8)) (i32.const 0)))";

START_TEST(test_snapshot_restore)
{
    wd_wasm_module_t *m = wd_test_load(SNAP);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    uint32_t r;
    ck_assert_int_eq(call1(inst, "prep", 0, &r), WD_WASM_OK);
    ck_assert_int_eq(wd_wasm_snapshot(inst), 0);
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(call1(inst, "mutate", 0, &r), WD_WASM_OK);
        ck_assert_uint_eq(wd_wasm_memory_size(wd_wasm_instance_memory(inst)), 4 * 65536);
        /* after mutate, segments are dropped: check must fail somewhere */
        ck_assert_int_eq(call1(inst, "check", 0, &r), WD_WASM_OK);
        ck_assert_uint_ne(r, 0);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
        ck_assert_uint_eq(wd_wasm_memory_size(wd_wasm_instance_memory(inst)), 65536);
        ck_assert_ptr_null(wd_wasm_memory_ptr(wd_wasm_instance_memory(inst), 200000, 4));
        ck_assert_int_eq(call1(inst, "check", 0, &r), WD_WASM_OK);
        ck_assert_uint_eq(r, 0);
        ck_assert_int_eq(wd_wasm_restore(inst), 0);
        uint8_t *mem = wd_wasm_memory_data(wd_wasm_instance_memory(inst));
        ck_assert_uint_eq(mem[65532], 0);
        ck_assert_uint_eq(mem[300], 0);
    }
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_cross_instance)
{
    wd_wasm_module_t *a = wd_test_load("(module (memory (export \"m\") 1) (global (export \"g\") (mut i32) (i32.const 3))"
        " (func (export \"peek\") (param i32) (result i32) (i32.add (global.get 0) (i32.load (local.get 0)))))");
    wd_wasm_module_t *b = wd_test_load("(module (import \"a\" \"peek\" (func $p (param i32) (result i32)))"
        " (memory 1)"
        " (func (export \"run\") (param i32) (result i32)"
        "   (i32.store (i32.const 0) (i32.const 1000))"
        "   (i32.add (i32.load (i32.const 0)) (call $p (local.get 0)))))");
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *ia = wd_wasm_instantiate(s, a, NULL, 0, NULL, NULL);
    ck_assert_ptr_nonnull(ia);
    uint8_t *mem = wd_wasm_memory_data(wd_wasm_instance_memory(ia));
    mem[8] = 5;
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = export_func(ia, "peek");
    wd_wasm_instance_t *ib = wd_wasm_instantiate(s, b, &imp, 1, NULL, NULL);
    ck_assert_ptr_nonnull(ib);
    uint32_t r;
    ck_assert_int_eq(call1(ib, "run", 8, &r), WD_WASM_OK);
    ck_assert_uint_eq(r, 1000 + 3 + 5);     /* peek saw a's memory and global, run saw b's */
    /* link errors */
    wd_wasm_error_t err;
    wd_wasm_extern_t bad = { .kind = WD_WASM_EXTERN_GLOBAL };
    wd_wasm_extern_t gx;
    ck_assert_int_eq(wd_wasm_instance_export(ia, "g", 1, &gx), 0);
    bad.of.global = gx.of.global;
    ck_assert_ptr_null(wd_wasm_instantiate(s, b, &bad, 1, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "incompatible import type"));
    ck_assert_ptr_null(wd_wasm_instantiate(s, b, NULL, 0, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown import"));
    wd_wasm_store_free(s);
    wd_wasm_module_free(a);
    wd_wasm_module_free(b);
}
END_TEST

START_TEST(test_malformed)
{
    static const struct { const char *bytes; size_t len; const char *msg; long long off; } cases[] = {
        { "\0asx\1\0\0\0", 8, "magic header not detected", 0 },
        { "\0asm\2\0\0\0", 8, "unknown binary version", 4 },
        { "\0asm\1\0\0\0\1\5\1\x60\0\0", 14, "length out of bounds", 10 },
        { "\0asm\1\0\0\0\1\5\1\x60\0\0\0", 15, "section size mismatch", 14 },
        { "\0asm\1\0\0\0\1\5\1\x60\1\x7a\0", 15, "malformed value type", 13 },
        { "\0asm\1\0\0\0\5\7\1\0\x80\x80\x80\x80\x10", 17, "integer too large", 12 },
        { "\0asm\1\0\0\0\5\10\1\0\x80\x80\x80\x80\x80\0", 18, "integer representation too long", 12 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wd_wasm_error_t err;
        wd_wasm_module_t *m = wd_wasm_module_load((const uint8_t *)cases[i].bytes, cases[i].len, NULL, &err);
        ck_assert_msg(m == NULL, "case %zu loaded", i);
        ck_assert_str_eq(err.msg, cases[i].msg);
        ck_assert_int_eq(err.offset, cases[i].off);
    }
}
END_TEST

START_TEST(test_load_limits)
{
    /* one function with 10 i32 locals and a br_table with 2 labels plus the default
     * (max_br_table counts the labels besides the default, in validator and translator alike) */
    static const uint8_t m[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
        10, 13, 1, 11, 1, 10, 0x7f, 0x41, 0, 0x0e, 2, 0, 0, 0, 0x0b };
    wd_wasm_error_t err;
    wd_wasm_load_opts_t o1 = { .max_locals = 5 }, o2 = { .max_br_table = 1 }, o2ok = { .max_br_table = 2 }, o3 = { .max_module_size = 16 };
    ck_assert_ptr_null(wd_wasm_module_load(m, sizeof m, &o1, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "too many locals"));
    ck_assert_ptr_null(wd_wasm_module_load(m, sizeof m, &o2, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "br_table has 2 labels (limit 1)"));
    ck_assert_int_eq(err.func_index, 0);
    wd_wasm_module_t *at_limit = wd_wasm_module_load(m, sizeof m, &o2ok, &err);
    ck_assert_ptr_nonnull(at_limit);
    wd_wasm_module_free(at_limit);
    ck_assert_ptr_null(wd_wasm_module_load(m, sizeof m, &o3, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "module too large"));
    wd_wasm_module_t *ok = wd_wasm_module_load(m, sizeof m, NULL, &err);
    ck_assert_ptr_nonnull(ok);
    wd_wasm_module_free(ok);
}
END_TEST

/* allocation failure injection: fail the Nth allocation */
static long alloc_count, alloc_fail_at;
static void *fail_malloc(size_t n, void *ud) { (void)ud; if (++alloc_count == alloc_fail_at) return NULL; return malloc(n); }
static void *fail_realloc(void *p, size_t n, void *ud) { (void)ud; if (++alloc_count == alloc_fail_at) return NULL; return realloc(p, n); }
static void fail_free(void *p, void *ud) { (void)ud; free(p); }

START_TEST(test_alloc_failure)
{
    size_t len;
    uint8_t *b = wat(SNAP, &len);
    wd_wasm_allocator_t a = { fail_malloc, fail_realloc, fail_free, NULL };
    int succeeded = 0, failures = 0;
    for (long n = 1; n < 2000 && !succeeded; n++) {
        wd_wasm_set_allocator(&a);
        alloc_count = 0;
        alloc_fail_at = n;
        wd_wasm_error_t err;
        err.msg[0] = 0;
        wd_wasm_module_t *m = wd_wasm_module_load(b, len, NULL, &err);
        wd_wasm_store_t *s = m ? wd_wasm_store_new() : NULL;
        wd_wasm_instance_t *inst = s ? wd_wasm_instantiate(s, m, NULL, 0, NULL, &err) : NULL;
        if (inst) {
            uint32_t r;
            ck_assert_int_eq(call1(inst, "prep", 0, &r), WD_WASM_OK);
            succeeded = alloc_count < n;   /* every allocation was made and none failed */
        } else {
            failures++;
            if (!m || s) ck_assert_msg(err.msg[0] != 0, "no error message at failure %ld", n);
        }
        wd_wasm_store_free(s);
        wd_wasm_module_free(m);
        wd_wasm_set_allocator(NULL);
    }
    ck_assert_int_gt(failures, 10);
    ck_assert(succeeded);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_deep_recursion);
    tcase_add_test(tc, test_trap_messages);
    tcase_add_test(tc, test_fuel);
    tcase_add_test(tc, test_interrupt);
    tcase_add_test(tc, test_stack_bytes_limit);
    tcase_add_test(tc, test_memory_limit);
    tcase_add_test(tc, test_suspend_resume);
    tcase_add_test(tc, test_snapshot_restore);
    tcase_add_test(tc, test_host_functions);
    tcase_add_test(tc, test_cross_instance);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_load_limits);
    tcase_add_test(tc, test_alloc_failure);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
