/*
 * test_engine_yield.c -- cooperative yield (wd_wasm_request_yield): a running
 * call pauses at its next fuel check point with WD_WASM_SUSPENDED and
 * wd_wasm_yielded() true, and wd_wasm_resume() continues exactly there. Each
 * test compares a run yielded many times (from a host import at chosen
 * iterations, or from another thread at random points) with an uninterrupted
 * run of a fresh instance: same result, same memory, same fuel used. Also:
 * yields in nested and cross-instance calls, inside a host function's nested
 * wd_wasm_call (deferred to the outer run), abort, restore, fuel exhaustion,
 * interrupt over yield, set_fuel clearing a pending request. Modules are
 * compiled with wat2wasm at test time.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* env.tick(i): requests a yield of `target` when i % every == 0 (every != 0) */
typedef struct {
    wd_wasm_instance_t *target;
    uint32_t every;
    uint32_t ticks;
    uint32_t requests;
} tick_t;

static wd_wasm_host_rc_t host_tick(wd_wasm_instance_t *caller, const uint64_t *args,
                                   uint64_t *results, void *ud)
{
    (void)caller;
    (void)results;
    tick_t *t = ud;
    t->ticks++;
    if (t->every && t->target && (uint32_t)args[0] % t->every == 0) {
        wd_wasm_request_yield(t->target);
        t->requests++;
    }
    return WD_WASM_HOST_OK;
}

static wd_wasm_extern_t tick_import(wd_wasm_store_t *s, tick_t *t)
{
    static uint8_t p[1] = { WD_WASM_I32 };
    wd_wasm_functype_t ft = { 1, 0, p, NULL };
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = wd_wasm_func_new_host(s, &ft, host_tick, t);
    ck_assert_ptr_nonnull(imp.of.func);
    return imp;
}

/* Call, then resume while the call yields; counts the yields. Every suspension
 * must be a yield (no host function here suspends). */
static wd_wasm_status_t run_yielding(wd_wasm_instance_t *inst, wd_wasm_func_t *f,
                                     const wd_wasm_val_t *args, uint32_t nargs,
                                     wd_wasm_val_t *res, uint32_t nres, uint32_t *yields)
{
    uint64_t last_left = wd_wasm_fuel_left(inst);
    wd_wasm_status_t st = wd_wasm_call(inst, f, args, nargs, res, nres);
    *yields = 0;
    while (st == WD_WASM_SUSPENDED) {
        ck_assert_int_eq(wd_wasm_yielded(inst), 1);
        /* fuel only goes down, and a yield does not charge anything itself */
        ck_assert_uint_le(wd_wasm_fuel_left(inst), last_left);
        last_left = wd_wasm_fuel_left(inst);
        (*yields)++;
        st = wd_wasm_resume(inst, res, nres);
    }
    ck_assert_int_eq(wd_wasm_yielded(inst), 0);
    return st;
}

static const char *WORK =
    "(module (import \"env\" \"tick\" (func $tick (param i32)))"
    " (memory (export \"mem\") 1) (global $g (mut i32) (i32.const 0))"
    " (func $step (param $x i32) (param $i i32) (result i32)"
    "   (i32.xor (i32.mul (local.get $x) (i32.const 31)) (local.get $i)))"
    /* run(n): a loop that calls the host (which may request a yield; the next check
     * point is $step's call entry), a Wasm function, stores to memory and a global */
    " (func (export \"run\") (param $n i32) (result i32) (local $i i32) (local $acc i32)"
    "   (local.set $acc (i32.const 1))"
    "   (loop $l"
    "     (call $tick (local.get $i))"
    "     (local.set $acc (call $step (local.get $acc) (local.get $i)))"
    "     (i32.store (i32.and (i32.mul (local.get $i) (i32.const 4)) (i32.const 0xfffc)) (local.get $acc))"
    "     (global.set $g (i32.add (global.get $g) (i32.const 1)))"
    "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
    "     (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
    "   (i32.add (local.get $acc) (global.get $g)))"
    /* spin(seed, n): tick last in the body, so the next check point is the back-edge */
    " (func $spin (param $seed i32) (param $n i32) (result i32) (local $i i32)"
    "   (loop $l"
    "     (local.set $seed (i32.add (i32.mul (local.get $seed) (i32.const 1103515245)) (local.get $i)))"
    "     (block $b (br_if $b (i32.and (local.get $seed) (i32.const 1)))"
    "       (global.set $g (i32.add (global.get $g) (local.get $seed))))"
    "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
    "     (call $tick (local.get $i))"
    "     (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
    "   (local.get $seed))"
    /* rec(d, n): spin, recurse, spin again: yields at every depth */
    " (func $rec (export \"rec\") (param $d i32) (param $n i32) (result i32) (local $a i32)"
    "   (local.set $a (call $spin (local.get $d) (local.get $n)))"
    "   (if (local.get $d) (then (local.set $a (i32.xor (local.get $a)"
    "       (call $rec (i32.sub (local.get $d) (i32.const 1)) (local.get $n))))))"
    "   (i32.add (i32.rotl (local.get $a) (i32.const 5)) (call $spin (local.get $a) (local.get $n))))"
    " (func (export \"g\") (result i32) (global.get $g))"
    " (func (export \"sum\") (result i32) (local $i i32) (local $s i32)"
    "   (loop $l (local.set $s (i32.add (i32.rotl (local.get $s) (i32.const 1)) (i32.load (local.get $i))))"
    "     (local.set $i (i32.add (local.get $i) (i32.const 4)))"
    "     (br_if $l (i32.lt_u (local.get $i) (i32.const 65536))))"
    "   (local.get $s)))";

typedef struct {
    wd_wasm_store_t *s;
    wd_wasm_instance_t *inst;
    tick_t tick;
} work_t;

static void work_new(work_t *w, wd_wasm_module_t *m)
{
    memset(w, 0, sizeof *w);
    w->s = wd_wasm_store_new();
    wd_wasm_extern_t imp = tick_import(w->s, &w->tick);
    w->inst = wd_wasm_instantiate(w->s, m, &imp, 1, NULL, NULL);
    ck_assert_ptr_nonnull(w->inst);
    w->tick.target = w->inst;
}

static uint32_t call0(wd_wasm_instance_t *inst, const char *name)
{
    wd_wasm_val_t r[1];
    ck_assert_int_eq(wd_wasm_call(inst, export_func(inst, name), NULL, 0, r, 1), WD_WASM_OK);
    return r[0].of.i32;
}

START_TEST(test_yield_loop_same_result)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t a, b;
    work_new(&a, m);
    work_new(&b, m);
    const uint32_t n = 300000;
    wd_wasm_val_t arg = i32(n), ra[1], rb[1];
    uint32_t ya, yb;
    wd_wasm_set_fuel(a.inst, 1000000000);
    wd_wasm_set_fuel(b.inst, 1000000000);
    ck_assert_int_eq(run_yielding(a.inst, export_func(a.inst, "run"), &arg, 1, ra, 1, &ya), WD_WASM_OK);
    ck_assert_uint_eq(ya, 0);
    b.tick.every = 997;
    ck_assert_int_eq(run_yielding(b.inst, export_func(b.inst, "run"), &arg, 1, rb, 1, &yb), WD_WASM_OK);
    ck_assert_uint_eq(yb, b.tick.requests);          /* every request honoured, once */
    ck_assert_uint_eq(yb, (n + 996) / 997);
    ck_assert_uint_eq(ra[0].of.i32, rb[0].of.i32);
    ck_assert_uint_eq(call0(a.inst, "sum"), call0(b.inst, "sum"));
    ck_assert_uint_eq(call0(a.inst, "g"), n);
    ck_assert_uint_eq(call0(b.inst, "g"), n);
    ck_assert_uint_eq(a.tick.ticks, n);
    ck_assert_uint_eq(b.tick.ticks, n);             /* nothing ran twice */
    ck_assert_uint_gt(wd_wasm_fuel_used(a.inst), 0);
    /* fuel: the two runs (+ sum/g) cost exactly the same */
    ck_assert_uint_eq(wd_wasm_fuel_used(a.inst), wd_wasm_fuel_used(b.inst));

    /* a yield at every tick, in the back-edge position (rec/spin), unlimited fuel */
    wd_wasm_set_fuel(a.inst, 0);
    wd_wasm_set_fuel(b.inst, 0);
    wd_wasm_val_t args[2] = { i32(0), i32(5000) };
    ck_assert_int_eq(run_yielding(a.inst, export_func(a.inst, "rec"), args, 2, ra, 1, &ya), WD_WASM_OK);
    b.tick.every = 1;
    b.tick.requests = 0;
    ck_assert_int_eq(run_yielding(b.inst, export_func(b.inst, "rec"), args, 2, rb, 1, &yb), WD_WASM_OK);
    /* the request from the very last tick finds no check point before the call
     * returns: it stays pending and the next call yields at its first one */
    ck_assert_uint_eq(b.tick.requests, 10000);
    ck_assert_uint_eq(yb, 9999);
    ck_assert_uint_eq(ra[0].of.i32, rb[0].of.i32);
    wd_wasm_val_t gr[1];
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "g"), NULL, 0, gr, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 1);
    ck_assert_int_eq(wd_wasm_resume(b.inst, gr, 1), WD_WASM_OK);
    ck_assert_uint_eq(call0(a.inst, "g"), gr[0].of.i32);
    ck_assert_uint_eq(wd_wasm_fuel_used(a.inst), wd_wasm_fuel_used(b.inst));
    wd_wasm_store_free(a.s);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

/* yields at depth: every level of a recursion, and inside another instance's function */
START_TEST(test_yield_nested_calls)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t a, b;
    work_new(&a, m);
    work_new(&b, m);
    wd_wasm_val_t args[2] = { i32(40), i32(3000) }, ra[1], rb[1];
    uint32_t ya, yb;
    ck_assert_int_eq(run_yielding(a.inst, export_func(a.inst, "rec"), args, 2, ra, 1, &ya), WD_WASM_OK);
    b.tick.every = 7;
    ck_assert_int_eq(run_yielding(b.inst, export_func(b.inst, "rec"), args, 2, rb, 1, &yb), WD_WASM_OK);
    ck_assert_uint_eq(yb, b.tick.requests);
    ck_assert_uint_ge(yb, 41 * 2 * (3000 / 7));
    ck_assert_uint_eq(ra[0].of.i32, rb[0].of.i32);
    ck_assert_uint_eq(call0(a.inst, "g"), call0(b.inst, "g"));

    /* cross-instance: outer's loop calls rec of a WORK instance; yields land in the
     * other instance's code and resume must restore that instance's state */
    const char *OUTER =
        "(module (import \"w\" \"rec\" (func $rec (param i32 i32) (result i32)))"
        " (import \"w\" \"mem\" (memory 1)) (global $k (mut i32) (i32.const 0))"
        " (func (export \"outer\") (param $n i32) (result i32) (local $i i32) (local $acc i32)"
        "   (loop $l"
        "     (local.set $acc (i32.add (local.get $acc) (call $rec (i32.const 3) (i32.const 500))))"
        "     (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (local.get $acc)))"
        "     (global.set $k (i32.add (global.get $k) (i32.const 1)))"
        "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
        "     (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
        "   (i32.add (i32.add (local.get $acc) (global.get $k)) (i32.load (i32.const 8)))))";
    wd_wasm_module_t *mo = wd_test_load(OUTER);
    uint32_t res[2];
    for (int k = 0; k < 2; k++) {
        work_t w;
        work_new(&w, m);
        wd_wasm_extern_t imps[2];
        ck_assert_int_eq(wd_wasm_instance_export(w.inst, "rec", 3, &imps[0]), 0);
        ck_assert_int_eq(wd_wasm_instance_export(w.inst, "mem", 3, &imps[1]), 0);
        wd_wasm_instance_t *o = wd_wasm_instantiate(w.s, mo, imps, 2, NULL, NULL);
        ck_assert_ptr_nonnull(o);
        w.tick.target = o;               /* the running instance is the one to ask */
        w.tick.every = k ? 13 : 0;
        wd_wasm_val_t arg = i32(20), r[1];
        uint32_t y;
        wd_wasm_set_fuel(o, 500000000);
        ck_assert_int_eq(run_yielding(o, export_func(o, "outer"), &arg, 1, r, 1, &y), WD_WASM_OK);
        ck_assert_uint_eq(y, w.tick.requests);
        if (k) ck_assert_uint_gt(y, 1000);
        res[k] = r[0].of.i32;
        ck_assert_uint_eq(call0(w.inst, "g"), call0(w.inst, "g"));
        wd_wasm_store_free(w.s);
    }
    ck_assert_uint_eq(res[0], res[1]);
    wd_wasm_module_free(mo);
    wd_wasm_store_free(a.s);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

/* from another thread, at whatever check point the request lands */
typedef struct {
    wd_wasm_instance_t *inst;
    volatile int stop;
    unsigned sent;
} yielder_t;

static void *yielder(void *arg)
{
    yielder_t *y = arg;
    struct timespec ts = { 0, 200 * 1000 };
    while (!y->stop) {
        wd_wasm_request_yield(y->inst);
        y->sent++;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

START_TEST(test_yield_from_thread)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t a, b;
    work_new(&a, m);
    work_new(&b, m);
    wd_wasm_val_t args[2] = { i32(60), i32(20000) }, ra[1], rb[1];
    uint32_t ya, yb;
    ck_assert_int_eq(run_yielding(a.inst, export_func(a.inst, "rec"), args, 2, ra, 1, &ya), WD_WASM_OK);
    yielder_t y = { .inst = b.inst };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, yielder, &y), 0);
    /* run until at least a few yields happened (the run takes a few ms or more) */
    int rounds = 0;
    uint32_t total = 0;
    do {
        wd_wasm_set_fuel(b.inst, 0);
        ck_assert_int_eq(run_yielding(b.inst, export_func(b.inst, "rec"), args, 2, rb, 1, &yb), WD_WASM_OK);
        ck_assert_uint_eq(ra[0].of.i32, rb[0].of.i32);
        total += yb;
    } while (total < 20 && ++rounds < 200);
    y.stop = 1;
    pthread_join(th, NULL);
    ck_assert_uint_ge(total, 20);
    wd_wasm_store_free(a.s);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

/* a host function that calls back into Wasm: a yield requested during the
 * nested run is honoured by the outer run after the host function returns */
static wd_wasm_func_t *reenter_fn;
static wd_wasm_status_t reenter_status;
static wd_wasm_host_rc_t host_reenter(wd_wasm_instance_t *caller, const uint64_t *args,
                                      uint64_t *results, void *ud)
{
    (void)ud;
    wd_wasm_val_t a[2] = { i32((uint32_t)args[0]), i32(2000) }, r[1];
    reenter_status = wd_wasm_call(caller, reenter_fn, a, 2, r, 1);
    if (reenter_status != WD_WASM_OK) return WD_WASM_HOST_TRAP;
    results[0] = r[0].of.i32;
    return WD_WASM_HOST_OK;
}

START_TEST(test_yield_in_host_reentry)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    const char *HOSTER =
        "(module (import \"env\" \"re\" (func $re (param i32) (result i32)))"
        " (func (export \"f\") (param $n i32) (result i32) (local $i i32) (local $acc i32)"
        "   (loop $l"
        "     (local.set $acc (i32.add (i32.rotl (local.get $acc) (i32.const 3)) (call $re (local.get $i))))"
        "     (local.set $i (i32.add (local.get $i) (i32.const 1)))"
        "     (br_if $l (i32.lt_u (local.get $i) (local.get $n))))"
        "   (local.get $acc)))";
    wd_wasm_module_t *mh = wd_test_load(HOSTER);
    uint32_t res[2], ys[2];
    for (int k = 0; k < 2; k++) {
        work_t w;
        work_new(&w, m);
        uint8_t p[1] = { WD_WASM_I32 };
        wd_wasm_functype_t ft = { 1, 1, p, p };
        wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
        imp.of.func = wd_wasm_func_new_host(w.s, &ft, host_reenter, NULL);
        /* the nested calls run on the WORK instance (the caller of env.re is h) */
        wd_wasm_instance_t *h = wd_wasm_instantiate(w.s, mh, &imp, 1, NULL, NULL);
        ck_assert_ptr_nonnull(h);
        reenter_fn = export_func(w.inst, "rec");
        w.tick.target = h;
        w.tick.every = k ? 500 : 0;
        wd_wasm_val_t arg = i32(30), r[1];
        ck_assert_int_eq(run_yielding(h, export_func(h, "f"), &arg, 1, r, 1, &ys[k]), WD_WASM_OK);
        ck_assert_int_eq(reenter_status, WD_WASM_OK);     /* nested calls never saw a suspension */
        res[k] = r[0].of.i32;
        if (k) {
            /* several requests in one nested call collapse into one yield after it */
            ck_assert_uint_gt(w.tick.requests, 30);
            /* one per outer iteration but the last, which has no check point after
             * the host function returns */
            ck_assert_uint_eq(ys[k], 29);
        }
        wd_wasm_store_free(w.s);
    }
    ck_assert_uint_eq(ys[0], 0);
    ck_assert_uint_eq(res[0], res[1]);
    wd_wasm_module_free(mh);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_yield_abort_restore)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t a, b;
    work_new(&a, m);
    work_new(&b, m);
    ck_assert_int_eq(wd_wasm_snapshot(b.inst), 0);
    wd_wasm_val_t arg = i32(50000), r[1], ra[1];
    uint32_t ya;
    ck_assert_int_eq(run_yielding(a.inst, export_func(a.inst, "run"), &arg, 1, ra, 1, &ya), WD_WASM_OK);

    /* yield, then abort: no call pending, the instance takes new calls */
    b.tick.every = 1000;
    wd_wasm_func_t *run = export_func(b.inst, "run");
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 1);
    /* a suspended instance refuses new calls */
    wd_wasm_val_t r2[1];
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "g"), NULL, 0, r2, 1), WD_WASM_TRAP);
    wd_wasm_abort(b.inst);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 0);
    ck_assert_int_eq(wd_wasm_resume(b.inst, r, 1), WD_WASM_TRAP);    /* nothing to resume */
    ck_assert_str_eq(wd_wasm_last_trap(b.inst)->msg, "no suspended call");
    /* tick 0 asked; the yield came at $step's entry, before the global.set */
    ck_assert_uint_eq(call0(b.inst, "g"), 0);

    /* yield, then restore: state back to the snapshot, then a full run matches */
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_resume(b.inst, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 1);
    wd_wasm_request_yield(b.inst);                   /* pending request: dropped by restore */
    ck_assert_int_eq(wd_wasm_restore(b.inst), 0);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 0);
    ck_assert_uint_eq(call0(b.inst, "g"), 0);
    ck_assert_uint_eq(call0(b.inst, "sum"), 0);
    b.tick.every = 0;
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_OK);
    ck_assert_uint_eq(r[0].of.i32, ra[0].of.i32);
    ck_assert_uint_eq(call0(b.inst, "sum"), call0(a.inst, "sum"));
    wd_wasm_store_free(a.s);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

START_TEST(test_yield_fuel)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t a, b;
    work_new(&a, m);
    work_new(&b, m);
    wd_wasm_val_t arg = i32(100000), r[1];
    uint32_t y;
    /* exhaustion: the same budget runs out at the same point with or without yields */
    const uint64_t budget = 777777;
    wd_wasm_set_fuel(a.inst, budget);
    ck_assert_int_eq(run_yielding(a.inst, export_func(a.inst, "run"), &arg, 1, r, 1, &y), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(a.inst)->kind, WD_TRAP_FUEL);
    ck_assert_uint_eq(wd_wasm_fuel_used(a.inst), budget);
    uint32_t ticks = a.tick.ticks;
    ck_assert_uint_gt(ticks, 1000);
    ck_assert_uint_lt(ticks, 100000);
    wd_wasm_set_fuel(b.inst, budget);
    b.tick.every = 3;
    ck_assert_int_eq(run_yielding(b.inst, export_func(b.inst, "run"), &arg, 1, r, 1, &y), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_FUEL);
    ck_assert_uint_eq(wd_wasm_fuel_used(b.inst), budget);
    ck_assert_uint_eq(b.tick.ticks, ticks);
    ck_assert_uint_eq(y, b.tick.requests);
    wd_wasm_set_fuel(a.inst, 0);
    wd_wasm_set_fuel(b.inst, 0);
    ck_assert_uint_eq(call0(a.inst, "g"), call0(b.inst, "g"));
    ck_assert_uint_gt(call0(b.inst, "g"), 1000);

    /* a yield landing exactly where fuel runs out: yields first, the resume traps */
    wd_wasm_set_fuel(b.inst, 0);
    b.tick.every = 0;
    wd_wasm_val_t one = i32(1);
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "run"), &one, 1, r, 1), WD_WASM_OK);
    uint64_t cost1 = wd_wasm_fuel_used(b.inst);
    wd_wasm_set_fuel(b.inst, cost1 - 1);
    wd_wasm_request_yield(b.inst);    /* pending before the call: honoured at its first check point */
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "run"), &one, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 1);
    ck_assert_int_eq(wd_wasm_resume(b.inst, r, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_FUEL);
    ck_assert_uint_eq(wd_wasm_fuel_used(b.inst), cost1 - 1);
    /* and with exactly enough fuel, a yielded run completes with 0 left */
    wd_wasm_set_fuel(b.inst, cost1);
    b.tick.every = 1;
    ck_assert_int_eq(run_yielding(b.inst, export_func(b.inst, "run"), &one, 1, r, 1, &y), WD_WASM_OK);
    ck_assert_uint_eq(y, 1);
    ck_assert_uint_eq(wd_wasm_fuel_left(b.inst), 0);

    /* set_fuel drops a pending request */
    wd_wasm_request_yield(b.inst);
    wd_wasm_set_fuel(b.inst, 0);
    b.tick.every = 0;
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "run"), &arg, 1, r, 1), WD_WASM_OK);
    wd_wasm_store_free(a.s);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

/* wd_wasm_set_slice: a yield after N units of fuel, with the rest of the fuel kept */
static uint32_t run_sliced(wd_wasm_instance_t *inst, wd_wasm_func_t *f, const wd_wasm_val_t *arg,
                           wd_wasm_val_t *r, uint64_t slice, wd_wasm_status_t *st)
{
    uint32_t n = 0;
    uint64_t used = wd_wasm_fuel_used(inst);
    wd_wasm_set_slice(inst, slice);
    *st = wd_wasm_call(inst, f, arg, 1, r, 1);
    while (*st == WD_WASM_SUSPENDED) {
        ck_assert_int_eq(wd_wasm_yielded(inst), 1);
        /* it paused once the slice was used up: within one check point's charge of it */
        uint64_t now = wd_wasm_fuel_used(inst);
        ck_assert_uint_ge(now - used, slice - 64);
        ck_assert_uint_le(now - used, slice + 64);
        used = now;
        n++;
        wd_wasm_set_slice(inst, slice);
        *st = wd_wasm_resume(inst, r, 1);
    }
    return n;
}

START_TEST(test_yield_slice)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t a, b;
    work_new(&a, m);
    work_new(&b, m);
    wd_wasm_val_t arg = i32(100000), ra[1], rb[1];
    wd_wasm_status_t st;
    for (int limited = 1; limited >= 0; limited--) {
        wd_wasm_set_fuel(a.inst, limited ? 1000000000 : 0);
        wd_wasm_set_fuel(b.inst, limited ? 1000000000 : 0);
        ck_assert_int_eq(wd_wasm_call(a.inst, export_func(a.inst, "run"), &arg, 1, ra, 1), WD_WASM_OK);
        uint64_t cost = wd_wasm_fuel_used(a.inst);
        uint32_t n = run_sliced(b.inst, export_func(b.inst, "run"), &arg, rb, 10000, &st);
        ck_assert_int_eq(st, WD_WASM_OK);
        ck_assert_uint_eq(ra[0].of.i32, rb[0].of.i32);
        ck_assert_uint_eq(wd_wasm_fuel_used(b.inst), cost);     /* a slice costs nothing */
        ck_assert_uint_ge(n, cost / 10064);
        ck_assert_uint_le(n, cost / 9936 + 1);
        if (limited) ck_assert_uint_eq(wd_wasm_fuel_left(b.inst), 1000000000 - cost);
        ck_assert_uint_eq(b.tick.ticks, a.tick.ticks);            /* nothing ran twice */
        a.tick.ticks = b.tick.ticks = 0;
    }
    uint64_t cost = wd_wasm_fuel_used(a.inst);
    /* fuel that runs out before the slice ends: the fuel trap, not a pause */
    wd_wasm_set_fuel(b.inst, cost / 2);
    wd_wasm_set_slice(b.inst, cost);
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "run"), &arg, 1, rb, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_FUEL);
    ck_assert_uint_eq(wd_wasm_fuel_used(b.inst), cost / 2);
    /* a slice, then fuel exhaustion in the resumed run */
    wd_wasm_set_fuel(b.inst, cost / 2);
    ck_assert_uint_eq(run_sliced(b.inst, export_func(b.inst, "run"), &arg, rb, cost / 3, &st), 1);
    ck_assert_int_eq(st, WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_FUEL);
    ck_assert_uint_eq(wd_wasm_fuel_used(b.inst), cost / 2);
    /* set_slice(0) and set_fuel cancel a slice */
    wd_wasm_set_fuel(b.inst, 0);
    wd_wasm_set_slice(b.inst, 100);
    wd_wasm_set_slice(b.inst, 0);
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "run"), &arg, 1, rb, 1), WD_WASM_OK);
    wd_wasm_set_slice(b.inst, 100);
    wd_wasm_set_fuel(b.inst, 1000000000);
    ck_assert_int_eq(wd_wasm_call(b.inst, export_func(b.inst, "run"), &arg, 1, rb, 1), WD_WASM_OK);
    ck_assert_uint_eq(wd_wasm_fuel_used(b.inst), cost);
    wd_wasm_store_free(a.s);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

/* interrupt and yield both pending: the interrupt wins */
START_TEST(test_yield_interrupt_wins)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    work_t b;
    work_new(&b, m);
    wd_wasm_val_t arg = i32(100000), r[1];
    wd_wasm_func_t *run = export_func(b.inst, "run");
    wd_wasm_request_yield(b.inst);
    wd_wasm_interrupt(b.inst);
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_INTERRUPT);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 0);
    wd_wasm_set_fuel(b.inst, 0);     /* clears both */
    /* yielded, then interrupted before the resume */
    b.tick.every = 100;
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 1);
    wd_wasm_interrupt(b.inst);
    ck_assert_int_eq(wd_wasm_resume(b.inst, r, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_INTERRUPT);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 0);
    /* an interrupt arriving while a yield is pending in the same window */
    wd_wasm_clear_interrupt(b.inst);
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_SUSPENDED);
    wd_wasm_request_yield(b.inst);
    wd_wasm_interrupt(b.inst);
    ck_assert_int_eq(wd_wasm_resume(b.inst, r, 1), WD_WASM_TRAP);
    ck_assert_int_eq(wd_wasm_last_trap(b.inst)->kind, WD_TRAP_INTERRUPT);
    /* clear_interrupt leaves a yield request in place */
    wd_wasm_set_fuel(b.inst, 0);
    b.tick.every = 0;
    wd_wasm_request_yield(b.inst);
    wd_wasm_interrupt(b.inst);
    wd_wasm_clear_interrupt(b.inst);
    ck_assert_int_eq(wd_wasm_call(b.inst, run, &arg, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(b.inst), 1);
    ck_assert_int_eq(wd_wasm_resume(b.inst, r, 1), WD_WASM_OK);
    wd_wasm_store_free(b.s);
    wd_wasm_module_free(m);
}
END_TEST

/* a host function's suspension is not a yield */
static int hs_calls;
static wd_wasm_host_rc_t host_suspend_once(wd_wasm_instance_t *caller, const uint64_t *args,
                                           uint64_t *results, void *ud)
{
    (void)caller;
    (void)args;
    (void)results;
    (void)ud;
    return hs_calls++ % 2 == 0 ? WD_WASM_HOST_SUSPEND : WD_WASM_HOST_OK;
}

START_TEST(test_host_suspend_is_not_yield)
{
    wd_wasm_module_t *m = wd_test_load(WORK);
    wd_wasm_store_t *s = wd_wasm_store_new();
    uint8_t p[1] = { WD_WASM_I32 };
    wd_wasm_functype_t ft = { 1, 0, p, NULL };
    wd_wasm_extern_t imp = { .kind = WD_WASM_EXTERN_FUNC };
    imp.of.func = wd_wasm_func_new_host(s, &ft, host_suspend_once, NULL);
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, &imp, 1, NULL, NULL);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_val_t arg = i32(3), r[1];
    hs_calls = 0;
    ck_assert_int_eq(wd_wasm_call(inst, export_func(inst, "run"), &arg, 1, r, 1), WD_WASM_SUSPENDED);
    ck_assert_int_eq(wd_wasm_yielded(inst), 0);
    wd_wasm_request_yield(inst);
    ck_assert_int_eq(wd_wasm_resume(inst, r, 1), WD_WASM_SUSPENDED);   /* the yield */
    ck_assert_int_eq(wd_wasm_yielded(inst), 1);
    int host = 0, yields = 1;
    wd_wasm_status_t st;
    while ((st = wd_wasm_resume(inst, r, 1)) == WD_WASM_SUSPENDED) {
        if (wd_wasm_yielded(inst)) yields++; else host++;
    }
    ck_assert_int_eq(st, WD_WASM_OK);
    ck_assert_int_eq(yields, 1);
    ck_assert_int_eq(host, 2);       /* ticks 2 and 3 suspend once each */
    wd_wasm_store_free(s);
    wd_wasm_module_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_yield");
    TCase *tc = tcase_create("yield");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_yield_loop_same_result);
    tcase_add_test(tc, test_yield_nested_calls);
    tcase_add_test(tc, test_yield_from_thread);
    tcase_add_test(tc, test_yield_in_host_reentry);
    tcase_add_test(tc, test_yield_abort_restore);
    tcase_add_test(tc, test_yield_fuel);
    tcase_add_test(tc, test_yield_slice);
    tcase_add_test(tc, test_yield_interrupt_wins);
    tcase_add_test(tc, test_host_suspend_is_not_yield);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
