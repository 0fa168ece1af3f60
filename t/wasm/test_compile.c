/*
 * test_compile.c -- the loader's body pipeline (src/wasm/wd_wasm_compile.c):
 * big modules are validated and translated on several threads, and the
 * result must not depend on it: the same code for every function, the same
 * answer when run, and the same error (lowest invalid function, with its
 * message, byte offset and index) as the one-thread path.
 *
 * The module is generated here: NFUNC functions (i32) -> i32 whose bodies mix
 * arithmetic, a loop, an if/else, a block with br_table and a call to the
 * previous function, about 200 bytes each (well over the threaded threshold
 * of 256 KiB in total), exported as "run" (the last one).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wd_wasm_rt.h"
#include "wd_t_modbuf.h"

#define NFUNC 2400

/* section with the content buffer emptied for the next one */
static void section_reset(buf_t *m, uint8_t id, buf_t *s)
{
    section(m, id, s);
    s->n = 0;
}

/* Body of function i; bad != 0 makes it invalid (an i64 result for an i32 function). */
static void body(buf_t *c, uint32_t i, int bad)
{
    buf_t f = { 0 };
    leb(&f, 1); leb(&f, 2); put1(&f, 0x7f);               /* 2 i32 locals */
    if (bad) {
        put1(&f, 0x42); sleb(&f, 1);                        /* i64.const 1 */
        put1(&f, 0x0b);
        leb(c, f.n); put(c, f.b, f.n); free(f.b);
        return;
    }
    for (int k = 0; k < 4; k++) {
        /* x = x * c1 + c2 ^ (x >> k) */
        put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, (int32_t)(i * 7 + k * 13 + 1));
        put1(&f, 0x6c); put1(&f, 0x41); sleb(&f, (int32_t)(i ^ 0x5bd1e995u));
        put1(&f, 0x6a); put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, k + 1);
        put1(&f, 0x76); put1(&f, 0x73); put1(&f, 0x21); leb(&f, 0);
    }
    /* loop: local1 counts to (i & 7), x += local1 */
    put1(&f, 0x02); put1(&f, 0x40); put1(&f, 0x03); put1(&f, 0x40);
    put1(&f, 0x20); leb(&f, 1); put1(&f, 0x41); sleb(&f, (int32_t)(i & 7)); put1(&f, 0x4f);
    put1(&f, 0x0d); leb(&f, 1);                            /* br_if 1 (exit) when >= */
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x20); leb(&f, 1); put1(&f, 0x6a); put1(&f, 0x21); leb(&f, 0);
    put1(&f, 0x20); leb(&f, 1); put1(&f, 0x41); sleb(&f, 1); put1(&f, 0x6a); put1(&f, 0x21); leb(&f, 1);
    put1(&f, 0x0c); leb(&f, 0);                            /* br 0 (continue) */
    put1(&f, 0x0b); put1(&f, 0x0b);
    /* if (x & 1) x = x + 3 else x = x - 5 */
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 1); put1(&f, 0x71);
    put1(&f, 0x04); put1(&f, 0x7f);
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 3); put1(&f, 0x6a);
    put1(&f, 0x05);
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 5); put1(&f, 0x6b);
    put1(&f, 0x0b); put1(&f, 0x21); leb(&f, 0);
    /* block { block { block { br_table 0 1 2 (x % 3) } x += 1 } x += 2 } */
    put1(&f, 0x02); put1(&f, 0x40); put1(&f, 0x02); put1(&f, 0x40); put1(&f, 0x02); put1(&f, 0x40);
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 3); put1(&f, 0x70);
    put1(&f, 0x0e); leb(&f, 2); leb(&f, 0); leb(&f, 1); leb(&f, 2);
    put1(&f, 0x0b);
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 1); put1(&f, 0x6a); put1(&f, 0x21); leb(&f, 0);
    put1(&f, 0x0b);
    put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 2); put1(&f, 0x6a); put1(&f, 0x21); leb(&f, 0);
    put1(&f, 0x0b);
    /* result: x ^ f(i-1)(x & 15) */
    put1(&f, 0x20); leb(&f, 0);
    if (i > 0) {
        put1(&f, 0x20); leb(&f, 0); put1(&f, 0x41); sleb(&f, 15); put1(&f, 0x71);
        put1(&f, 0x10); leb(&f, i - 1);
        put1(&f, 0x73);
    }
    put1(&f, 0x0b);
    leb(c, f.n);
    put(c, f.b, f.n);
    free(f.b);
}

static buf_t module(int bad1, int bad2)
{
    buf_t m = { 0 }, s = { 0 };
    put(&m, "\0asm\1\0\0\0", 8);
    leb(&s, 1); put1(&s, 0x60); leb(&s, 1); put1(&s, 0x7f); leb(&s, 1); put1(&s, 0x7f);
    section_reset(&m, 1, &s);
    leb(&s, NFUNC);
    for (uint32_t i = 0; i < NFUNC; i++) leb(&s, 0);
    section_reset(&m, 3, &s);
    leb(&s, 1); leb(&s, 3); put(&s, "run", 3); put1(&s, 0); leb(&s, NFUNC - 1);
    section_reset(&m, 7, &s);
    leb(&s, NFUNC);
    for (uint32_t i = 0; i < NFUNC; i++) body(&s, i, (int)i == bad1 || (int)i == bad2);
    section_reset(&m, 10, &s);
    free(s.b);
    return m;
}

static wd_wasm_module_t *load(buf_t *b, uint32_t threads, wd_wasm_error_t *err)
{
    wd_wasm_load_opts_t o;
    memset(&o, 0, sizeof(o));
    o.threads = threads;
    memset(err, 0, sizeof(*err));
    return wd_wasm_module_load(b->b, b->n, &o, err);
}

static uint32_t run(wd_wasm_module_t *m, uint32_t arg)
{
    wd_wasm_error_t err;
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, NULL, 0, NULL, &err);
    ck_assert_ptr_nonnull(inst);
    wd_wasm_extern_t ex;
    ck_assert_int_eq(wd_wasm_instance_export(inst, "run", 3, &ex), 0);
    wd_wasm_val_t a = { .type = WD_WASM_I32, .of.i32 = arg }, r;
    ck_assert_int_eq(wd_wasm_call(inst, ex.of.func, &a, 1, &r, 1), WD_WASM_OK);
    wd_wasm_store_free(s);
    return r.of.i32;
}

START_TEST(test_threads_same_code)
{
    buf_t b = module(-1, -1);
    ck_assert_uint_gt(b.n, 300 * 1024);
    wd_wasm_error_t e1, e4;
    wd_wasm_module_t *m1 = load(&b, 1, &e1), *m4 = load(&b, 4, &e4), *m0 = load(&b, 0, &e4);
    ck_assert_msg(m1 != NULL, "%s", e1.msg);
    ck_assert_msg(m4 != NULL && m0 != NULL, "%s", e4.msg);
    ck_assert_uint_eq(m1->compile_threads, 1);
    ck_assert_uint_eq(m4->compile_threads, 4);     /* the threaded path really ran */
    for (uint32_t i = 0; i < NFUNC; i++) {
        const wd_wasm_code_t *a = m1->funcs[i].code, *c = m4->funcs[i].code, *d = m0->funcs[i].code;
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(a->ncells, c->ncells);
        ck_assert_uint_eq(a->ncells, d->ncells);
        ck_assert_uint_eq(a->max_slots, c->max_slots);
        ck_assert_uint_eq(a->entry_fuel, c->entry_fuel);
        ck_assert_int_eq(memcmp(a->cells, c->cells, a->ncells * sizeof(uint32_t)), 0);
        ck_assert_int_eq(memcmp(a->cells, d->cells, a->ncells * sizeof(uint32_t)), 0);
    }
    for (uint32_t x = 0; x < 4; x++) ck_assert_uint_eq(run(m1, x * 977), run(m4, x * 977));
    wd_wasm_module_free(m1);
    wd_wasm_module_free(m4);
    wd_wasm_module_free(m0);
    free(b.b);
}
END_TEST

/* Two invalid bodies: the lower one is reported, exactly as without threads. */
static void check_errors(int bad1, int bad2)
{
    buf_t b = module(bad1, bad2);
    wd_wasm_error_t e1, e4;
    ck_assert_ptr_null(load(&b, 1, &e1));
    for (uint32_t th = 2; th <= 8; th += 2) {
        ck_assert_ptr_null(load(&b, th, &e4));
        ck_assert_str_eq(e1.msg, e4.msg);
        ck_assert_int_eq(e1.offset, e4.offset);
        ck_assert_int_eq(e1.func_index, e4.func_index);
    }
    ck_assert_str_eq(e1.msg, "type mismatch");
    ck_assert_int_eq(e1.func_index, bad1 < bad2 ? bad1 : bad2);
    free(b.b);
}

START_TEST(test_threads_lowest_error) { check_errors(NFUNC - 3, NFUNC - 700); }
END_TEST
START_TEST(test_threads_error_first_chunk) { check_errors(5, NFUNC - 2); }
END_TEST
START_TEST(test_threads_error_one) { check_errors(NFUNC / 2, NFUNC / 2); }
END_TEST

int main(void)
{
    Suite *s = suite_create("wasm_compile");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_threads_same_code);
    tcase_add_test(tc, test_threads_lowest_error);
    tcase_add_test(tc, test_threads_error_first_chunk);
    tcase_add_test(tc, test_threads_error_one);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
