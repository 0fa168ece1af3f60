/*
 * test_comp_types.c -- layout of component value/function types (wd_comp_types.h) against
 * values worked out by hand from CanonicalABI.md (alignment, elem_size, discriminant_type,
 * flatten_type/join, flatten_functype). The oracle test (t/cabi/oracle.py) checks thousands
 * of random types against the reference implementation itself.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "wd_comp_types.h"

#define I32 WD_CFLAT_I32
#define I64 WD_CFLAT_I64
#define F32 WD_CFLAT_F32
#define F64 WD_CFLAT_F64

static void
flat_is(const wd_comp_type_t *t, uint32_t n, const uint8_t *want)
{
    ck_assert_uint_eq(t->flat_n, n);
    for (uint32_t i = 0; i < n && i < WD_CABI_FLAT_CAP; i++)
        ck_assert_msg(t->flat[i] == want[i], "flat[%u] = %#x, want %#x", i, t->flat[i], want[i]);
}

START_TEST(test_prims)
{
    static const struct { unsigned k; uint32_t size, align; uint8_t flat; } w[] = {
        { WD_CT_BOOL, 1, 1, I32 }, { WD_CT_S8, 1, 1, I32 }, { WD_CT_U8, 1, 1, I32 },
        { WD_CT_S16, 2, 2, I32 }, { WD_CT_U16, 2, 2, I32 }, { WD_CT_S32, 4, 4, I32 },
        { WD_CT_U32, 4, 4, I32 }, { WD_CT_S64, 8, 8, I64 }, { WD_CT_U64, 8, 8, I64 },
        { WD_CT_F32, 4, 4, F32 }, { WD_CT_F64, 8, 8, F64 }, { WD_CT_CHAR, 4, 4, I32 },
        { WD_CT_ERROR_CONTEXT, 4, 4, I32 },
    };
    for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++) {
        const wd_comp_type_t *t = wd_comp_prim(w[i].k);
        ck_assert_ptr_nonnull(t);
        ck_assert_uint_eq(t->size, w[i].size);
        ck_assert_uint_eq(t->align, w[i].align);
        flat_is(t, 1, &w[i].flat);
        /* a builder-made node gets the same layout */
        wd_comp_type_t n = { .kind = w[i].k };
        ck_assert_ptr_null(wd_comp_type_layout(&n));
        ck_assert_uint_eq(n.size, w[i].size);
        ck_assert_uint_eq(n.align, w[i].align);
    }
    const wd_comp_type_t *s = WD_CT_P(STRING);
    ck_assert_uint_eq(s->size, 8);
    ck_assert_uint_eq(s->align, 4);
    flat_is(s, 2, (const uint8_t[]){ I32, I32 });
    ck_assert_ptr_null(wd_comp_prim(WD_CT_LIST));
}
END_TEST

START_TEST(test_record_padding)
{
    static wd_comp_field_t f[] = { { "a", WD_CT_P(U8) }, { "b", WD_CT_P(U32) },
                                   { "c", WD_CT_P(U16) } };
    static wd_comp_type_t r = WD_CT_RECORD_OF(f);
    ck_assert_ptr_null(wd_comp_type_layout(&r));
    ck_assert_uint_eq(f[0].offset, 0);
    ck_assert_uint_eq(f[1].offset, 4);
    ck_assert_uint_eq(f[2].offset, 8);
    ck_assert_uint_eq(r.size, 12);
    ck_assert_uint_eq(r.align, 4);
    ck_assert_uint_eq(r.plain, 0);       /* padding */
    flat_is(&r, 3, (const uint8_t[]){ I32, I32, I32 });

    static wd_comp_field_t g[] = { { "0", WD_CT_P(U32) }, { "1", WD_CT_P(S32) } };
    static wd_comp_type_t t = WD_CT_TUPLE_OF(g);
    ck_assert_ptr_null(wd_comp_type_layout(&t));
    ck_assert_uint_eq(t.size, 8);
    ck_assert_uint_eq(t.plain, 1);       /* no padding, integers: bulk copy */
}
END_TEST

START_TEST(test_variants)
{
    /* result<u64, string>: u8 discriminant, payload at 8, size 16, flat [i32, i64, i32] */
    static wd_comp_type_t r = WD_CT_RESULT_OF(WD_CT_P(U64), WD_CT_P(STRING));
    ck_assert_ptr_null(wd_comp_type_layout(&r));
    ck_assert_uint_eq(r.disc_size, 1);
    ck_assert_uint_eq(r.payload_off, 8);
    ck_assert_uint_eq(r.size, 16);
    ck_assert_uint_eq(r.align, 8);
    flat_is(&r, 3, (const uint8_t[]){ I32, I64, I32 });

    /* option<f32>: [i32, f32], size 8 */
    static wd_comp_type_t o = WD_CT_OPTION_OF(WD_CT_P(F32));
    ck_assert_ptr_null(wd_comp_type_layout(&o));
    ck_assert_uint_eq(o.size, 8);
    flat_is(&o, 2, (const uint8_t[]){ I32, F32 });

    /* variant { a(f32), b(u32) }: join(f32, i32) = i32; { a(f64), b(f32) }: i64 */
    static wd_comp_field_t c1[] = { { "a", WD_CT_P(F32) }, { "b", WD_CT_P(U32) } };
    static wd_comp_type_t v1 = WD_CT_VARIANT_OF(c1);
    ck_assert_ptr_null(wd_comp_type_layout(&v1));
    flat_is(&v1, 2, (const uint8_t[]){ I32, I32 });
    static wd_comp_field_t c2[] = { { "a", WD_CT_P(F64) }, { "b", WD_CT_P(F32) },
                                    { "c", NULL } };
    static wd_comp_type_t v2 = WD_CT_VARIANT_OF(c2);
    ck_assert_ptr_null(wd_comp_type_layout(&v2));
    flat_is(&v2, 2, (const uint8_t[]){ I32, I64 });
    ck_assert_uint_eq(v2.size, 16);

    /* result (no payloads): [i32], size 1 */
    static wd_comp_type_t e = WD_CT_RESULT_OF(NULL, NULL);
    ck_assert_ptr_null(wd_comp_type_layout(&e));
    ck_assert_uint_eq(e.size, 1);
    flat_is(&e, 1, (const uint8_t[]){ I32 });

    /* discriminant sizes: 256 cases u8, 257 u16, 65537 u32 */
    static const char *labels[65537];
    for (unsigned i = 0; i < 65537; i++)
        labels[i] = "x";
    unsigned ns[] = { 256, 257, 65536, 65537 }, ds[] = { 1, 2, 2, 4 };
    for (unsigned i = 0; i < 4; i++) {
        wd_comp_type_t en = { .kind = WD_CT_ENUM, .labels = labels, .n = ns[i] };
        ck_assert_ptr_null(wd_comp_type_layout(&en));
        ck_assert_uint_eq(en.disc_size, ds[i]);
        ck_assert_uint_eq(en.size, ds[i]);
        ck_assert_uint_eq(en.align, ds[i]);
    }
}
END_TEST

START_TEST(test_flags_lists_maps)
{
    static const char *l[33] = { "a", "b", "c", "d", "e", "f", "g", "h", "i" };
    for (unsigned i = 0; i < 33; i++)
        if (!l[i])
            l[i] = "z";
    unsigned ns[] = { 1, 8, 9, 16, 17, 32 }, sz[] = { 1, 1, 2, 2, 4, 4 };
    for (unsigned i = 0; i < 6; i++) {
        wd_comp_type_t f = { .kind = WD_CT_FLAGS, .labels = l, .n = ns[i] };
        ck_assert_ptr_null(wd_comp_type_layout(&f));
        ck_assert_uint_eq(f.size, sz[i]);
        flat_is(&f, 1, (const uint8_t[]){ I32 });
    }
    wd_comp_type_t f33 = { .kind = WD_CT_FLAGS, .labels = l, .n = 33 };
    ck_assert_str_eq(wd_comp_type_layout(&f33), "flags with more than 32 labels");
    wd_comp_type_t f0 = { .kind = WD_CT_FLAGS, .labels = l, .n = 0 };
    ck_assert_ptr_nonnull(wd_comp_type_layout(&f0));

    static wd_comp_type_t li = WD_CT_LIST_OF(WD_CT_P(U8));
    ck_assert_ptr_null(wd_comp_type_layout(&li));
    ck_assert_uint_eq(li.size, 8);
    ck_assert_uint_eq(li.esize, 1);
    ck_assert_uint_eq(li.eplain, 1);
    static wd_comp_type_t fl = WD_CT_FIXED_LIST_OF(WD_CT_P(U16), 3);
    ck_assert_ptr_null(wd_comp_type_layout(&fl));
    ck_assert_uint_eq(fl.size, 6);
    ck_assert_uint_eq(fl.align, 2);
    flat_is(&fl, 3, (const uint8_t[]){ I32, I32, I32 });
    wd_comp_type_t huge = { .kind = WD_CT_LIST, .elem = WD_CT_P(U64), .len = 0x40000000 };
    ck_assert_str_eq(wd_comp_type_layout(&huge), "type too large");

    static wd_comp_field_t kv[] = { { "0", WD_CT_P(STRING) }, { "1", WD_CT_P(U8) } };
    static wd_comp_type_t m = WD_CT_MAP_OF(kv);
    ck_assert_ptr_null(wd_comp_type_layout(&m));
    ck_assert_uint_eq(kv[1].offset, 8);
    ck_assert_uint_eq(m.esize, 12);
    ck_assert_uint_eq(m.ealign, 4);
    ck_assert_uint_eq(m.size, 8);
}
END_TEST

START_TEST(test_depth_and_deep)
{
    static wd_comp_type_t opt[WD_COMP_MAX_TYPE_DEPTH];
    const wd_comp_type_t *prev = WD_CT_P(U8);
    for (unsigned i = 0; i < WD_COMP_MAX_TYPE_DEPTH; i++) {
        opt[i] = (wd_comp_type_t)WD_CT_OPTION_OF(prev);
        const char *err = wd_comp_type_layout(&opt[i]);
        if (i + 2 <= WD_COMP_MAX_TYPE_DEPTH)
            ck_assert_msg(err == NULL, "depth %u: %s", i + 2, err);
        else
            ck_assert_str_eq(err, "type nested too deeply");
        prev = &opt[i];
    }
    /* not laid out child */
    static wd_comp_type_t c = WD_CT_LIST_OF(WD_CT_P(U8));
    static wd_comp_type_t p = WD_CT_OPTION_OF(&c);
    ck_assert_str_eq(wd_comp_type_layout(&p), "child type not laid out");
    ck_assert_ptr_null(wd_comp_type_layout_deep(&p));
    ck_assert_uint_eq(p.size, 12);
    flat_is(&p, 3, (const uint8_t[]){ I32, I32, I32 });
    ck_assert_uint_eq(p.has_ptr, 1);
}
END_TEST

START_TEST(test_functypes)
{
    static wd_comp_field_t p17[17];
    for (unsigned i = 0; i < 17; i++)
        p17[i] = (wd_comp_field_t){ "p", WD_CT_P(U32) };
    static wd_comp_func_type_t f = WD_CT_FUNC_OF(p17, WD_CT_P(STRING));
    ck_assert_ptr_null(wd_comp_func_layout(&f));
    ck_assert_uint_eq(f.params_in_memory, 1);
    ck_assert_uint_eq(f.result_in_memory, 1);
    ck_assert_uint_eq(f.params_size, 68);
    ck_assert_uint_eq(f.lift_params_n, 1);
    ck_assert_uint_eq(f.lift_results_n, 1);
    ck_assert_uint_eq(f.lower_params_n, 2);
    ck_assert_uint_eq(f.lower_results_n, 0);

    static wd_comp_field_t p2[] = { { "a", WD_CT_P(U64) }, { "b", WD_CT_P(F32) } };
    static wd_comp_func_type_t g = WD_CT_FUNC_OF(p2, WD_CT_P(F64));
    ck_assert_ptr_null(wd_comp_func_layout(&g));
    ck_assert_uint_eq(g.params_in_memory, 0);
    ck_assert_uint_eq(g.lift_params_n, 2);
    ck_assert_uint_eq(g.lift_params[0], I64);
    ck_assert_uint_eq(g.lift_params[1], F32);
    ck_assert_uint_eq(g.lower_results_n, 1);
    ck_assert_uint_eq(g.lower_results[0], F64);
    ck_assert_uint_eq(g.params[1].offset, 8);
    ck_assert_uint_eq(g.params_size, 16);

    static wd_comp_func_type_t h = WD_CT_FUNC_NOPARAMS(NULL);
    ck_assert_ptr_null(wd_comp_func_layout(&h));
    ck_assert_uint_eq(h.lift_params_n + h.lift_results_n + h.lower_params_n, 0);

    static wd_comp_resource_t res = { .name = "fields" };
    static wd_comp_type_t b = WD_CT_BORROW_OF(&res);
    static wd_comp_func_type_t k = WD_CT_FUNC_NOPARAMS(&b);
    ck_assert_str_eq(wd_comp_func_layout_deep(&k), "borrow in a function result");
}
END_TEST

START_TEST(test_equal_and_str)
{
    static wd_comp_resource_t r1 = { .name = "a" }, r2 = { .name = "a" };
    static wd_comp_type_t o1 = WD_CT_OWN_OF(&r1), o2 = WD_CT_OWN_OF(&r2), o3 = WD_CT_OWN_OF(&r1);
    ck_assert(wd_comp_type_equal(&o1, &o3));
    ck_assert(!wd_comp_type_equal(&o1, &o2));
    static wd_comp_field_t fa[] = { { "x", WD_CT_P(U8) } }, fb[] = { { "y", WD_CT_P(U8) } };
    static wd_comp_type_t ra = WD_CT_RECORD_OF(fa), rb = WD_CT_RECORD_OF(fb);
    ck_assert(!wd_comp_type_equal(&ra, &rb));
    static wd_comp_type_t li = WD_CT_LIST_OF(WD_CT_P(U8));
    static wd_comp_type_t res = WD_CT_RESULT_OF(&li, WD_CT_P(STRING));
    ck_assert_ptr_null(wd_comp_type_layout_deep(&res));
    char buf[64];
    ck_assert_str_eq(wd_comp_type_str(&res, buf, sizeof buf), "result<list<u8>, string>");
    char small[8];
    wd_comp_type_str(&res, small, sizeof small);
    ck_assert_uint_eq(strlen(small), 7);
    ck_assert_str_eq(small + 4, "...");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("comp_types");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, test_prims);
    tcase_add_test(tc, test_record_padding);
    tcase_add_test(tc, test_variants);
    tcase_add_test(tc, test_flags_lists_maps);
    tcase_add_test(tc, test_depth_and_deep);
    tcase_add_test(tc, test_functypes);
    tcase_add_test(tc, test_equal_and_str);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
