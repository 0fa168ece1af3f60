/*
 * test_numeric.c -- unit tests for wd_wasm_numeric.h: the truncation boundaries
 * (exact, per spec), NaN and signed-zero handling of min/max/nearest, bit-exact
 * sign operations, correctly rounded u64 -> float conversions, and the
 * division traps. Values come from the spec's definitions, not from running
 * the code under test.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "wd_wasm_numeric.h"

static float f32b(uint32_t u) { return wd_num_f32_from_bits(u); }
static double f64b(uint64_t u) { return wd_num_f64_from_bits(u); }

START_TEST(test_trunc_i32_s)
{
    int32_t r;
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(-2147483648.0f, &r), 0);
    ck_assert_int_eq(r, INT32_MIN);
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(2147483520.0f, &r), 0);   /* largest f32 < 2^31 */
    ck_assert_int_eq(r, 2147483520);
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(2147483648.0f, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(-2147483904.0f, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(NAN, &r), WD_TRAP_INVALID_CONVERSION);
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(-INFINITY, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f32_s(-1.9f, &r), 0);
    ck_assert_int_eq(r, -1);
    ck_assert_int_eq(wd_num_i32_trunc_f64_s(-2147483648.9, &r), 0);
    ck_assert_int_eq(r, INT32_MIN);
    ck_assert_int_eq(wd_num_i32_trunc_f64_s(-2147483649.0, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f64_s(2147483647.9, &r), 0);
    ck_assert_int_eq(r, INT32_MAX);
    ck_assert_int_eq(wd_num_i32_trunc_f64_s(2147483648.0, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f64_s(f64b(0x7ff4000000000000ull), &r),
                     WD_TRAP_INVALID_CONVERSION);
}
END_TEST

START_TEST(test_trunc_i32_u)
{
    uint32_t r;
    ck_assert_int_eq(wd_num_i32_trunc_f32_u(-0.9f, &r), 0);
    ck_assert_uint_eq(r, 0);
    ck_assert_int_eq(wd_num_i32_trunc_f32_u(-1.0f, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f32_u(4294967040.0f, &r), 0);
    ck_assert_uint_eq(r, 4294967040u);
    ck_assert_int_eq(wd_num_i32_trunc_f32_u(4294967296.0f, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f64_u(4294967295.9, &r), 0);
    ck_assert_uint_eq(r, UINT32_MAX);
    ck_assert_int_eq(wd_num_i32_trunc_f64_u(4294967296.0, &r), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_trunc_f64_u(-0.99999, &r), 0);
    ck_assert_uint_eq(r, 0);
    ck_assert_int_eq(wd_num_i32_trunc_f64_u(NAN, &r), WD_TRAP_INVALID_CONVERSION);
}
END_TEST

START_TEST(test_trunc_i64)
{
    int64_t s;
    uint64_t u;
    ck_assert_int_eq(wd_num_i64_trunc_f32_s(-9223372036854775808.0f, &s), 0);
    ck_assert(s == INT64_MIN);
    ck_assert_int_eq(wd_num_i64_trunc_f32_s(9223372036854775808.0f, &s), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_trunc_f32_s(-9223373136366403584.0f, &s), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_trunc_f64_s(-9223372036854775808.0, &s), 0);
    ck_assert(s == INT64_MIN);
    ck_assert_int_eq(wd_num_i64_trunc_f64_s(9223372036854774784.0, &s), 0);
    ck_assert(s == 9223372036854774784ll);
    ck_assert_int_eq(wd_num_i64_trunc_f64_s(9223372036854775808.0, &s), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_trunc_f64_s(-9223372036854777856.0, &s), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_trunc_f64_u(18446744073709549568.0, &u), 0);
    ck_assert(u == 18446744073709549568ull);
    ck_assert_int_eq(wd_num_i64_trunc_f64_u(18446744073709551616.0, &u), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_trunc_f32_u(18446742974197923840.0f, &u), 0);
    ck_assert(u == 18446742974197923840ull);
    ck_assert_int_eq(wd_num_i64_trunc_f32_u(18446744073709551616.0f, &u), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_trunc_f32_u(-0.5f, &u), 0);
    ck_assert(u == 0);
    ck_assert_int_eq(wd_num_i64_trunc_f64_u(NAN, &u), WD_TRAP_INVALID_CONVERSION);
    ck_assert_int_eq(wd_num_i64_trunc_f32_s(NAN, &s), WD_TRAP_INVALID_CONVERSION);
}
END_TEST

START_TEST(test_trunc_sat)
{
    ck_assert_int_eq(wd_num_i32_trunc_sat_f32_s(NAN), 0);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f32_s(3e9f), INT32_MAX);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f32_s(-3e9f), INT32_MIN);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f32_s(-INFINITY), INT32_MIN);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f32_s(-2147483648.0f), INT32_MIN);
    ck_assert_uint_eq(wd_num_i32_trunc_sat_f32_u(-5.0f), 0);
    ck_assert_uint_eq(wd_num_i32_trunc_sat_f32_u(INFINITY), UINT32_MAX);
    ck_assert_uint_eq(wd_num_i32_trunc_sat_f32_u(4294967040.0f), 4294967040u);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f64_s(2147483647.5), INT32_MAX);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f64_s(-2147483649.0), INT32_MIN);
    ck_assert_int_eq(wd_num_i32_trunc_sat_f64_s(-1.5), -1);
    ck_assert_uint_eq(wd_num_i32_trunc_sat_f64_u(4294967296.0), UINT32_MAX);
    ck_assert_uint_eq(wd_num_i32_trunc_sat_f64_u(NAN), 0);
    ck_assert(wd_num_i64_trunc_sat_f32_s(1e19f) == INT64_MAX);
    ck_assert(wd_num_i64_trunc_sat_f32_s(-1e19f) == INT64_MIN);
    ck_assert(wd_num_i64_trunc_sat_f32_u(1e20f) == UINT64_MAX);
    ck_assert(wd_num_i64_trunc_sat_f32_u(-1e20f) == 0);
    ck_assert(wd_num_i64_trunc_sat_f64_s(9223372036854775808.0) == INT64_MAX);
    ck_assert(wd_num_i64_trunc_sat_f64_s(-9223372036854775808.0) == INT64_MIN);
    ck_assert(wd_num_i64_trunc_sat_f64_s(f64b(0xfff8000000000000ull)) == 0);
    ck_assert(wd_num_i64_trunc_sat_f64_u(18446744073709551616.0) == UINT64_MAX);
    ck_assert(wd_num_i64_trunc_sat_f64_u(123456789.9) == 123456789u);
}
END_TEST

START_TEST(test_minmax)
{
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_min(0.0f, -0.0f)), 0x80000000u);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_min(-0.0f, 0.0f)), 0x80000000u);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_max(-0.0f, 0.0f)), 0);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_max(0.0f, -0.0f)), 0);
    ck_assert(isnan(wd_num_f32_min(NAN, 1.0f)));
    ck_assert(isnan(wd_num_f32_max(1.0f, NAN)));
    ck_assert(isnan(wd_num_f32_min(-INFINITY, NAN)));
    ck_assert(wd_num_f32_min(-1.0f, 2.0f) == -1.0f);
    ck_assert(wd_num_f32_max(-1.0f, 2.0f) == 2.0f);
    /* arithmetic NaN in: the result is a quiet NaN (quiet bit set) */
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_min(f32b(0x7fa00000u), 1.0f)) & 0x7fc00000u,
                      0x7fc00000u);
    ck_assert_uint_eq(wd_num_f64_bits(wd_num_f64_min(0.0, -0.0)), 0x8000000000000000ull);
    ck_assert_uint_eq(wd_num_f64_bits(wd_num_f64_max(-0.0, 0.0)), 0);
    ck_assert(isnan(wd_num_f64_max(NAN, INFINITY)));
    ck_assert(wd_num_f64_max(-INFINITY, -1e300) == -1e300);
    ck_assert(wd_num_f64_min(-INFINITY, -1e300) == -INFINITY);
    /* canonical NaN stays canonical (sign may be either) */
    ck_assert_uint_eq(wd_num_f64_bits(wd_num_f64_max(f64b(0x7ff8000000000000ull), 1.0))
                      & 0x7fffffffffffffffull, 0x7ff8000000000000ull);
}
END_TEST

START_TEST(test_nearest_rounding)
{
    ck_assert(wd_num_f32_nearest(2.5f) == 2.0f);
    ck_assert(wd_num_f32_nearest(3.5f) == 4.0f);
    ck_assert(wd_num_f32_nearest(-3.5f) == -4.0f);
    ck_assert(wd_num_f32_nearest(-2.5f) == -2.0f);
    ck_assert(wd_num_f32_nearest(0.49999997f) == 0.0f);
    ck_assert(wd_num_f32_nearest(8388609.0f) == 8388609.0f);
    ck_assert(wd_num_f32_nearest(4194304.5f) == 4194304.0f);
    ck_assert(wd_num_f32_nearest(4194305.5f) == 4194306.0f);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_nearest(-0.5f)), 0x80000000u);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_nearest(-0.0f)), 0x80000000u);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_nearest(0.5f)), 0);
    ck_assert(isinf(wd_num_f32_nearest(INFINITY)));
    ck_assert(wd_num_f64_nearest(2.5) == 2.0);
    ck_assert(wd_num_f64_nearest(-1.5) == -2.0);
    ck_assert(wd_num_f64_nearest(4503599627370497.0) == 4503599627370497.0);
    ck_assert(wd_num_f64_nearest(2251799813685249.5) == 2251799813685250.0);
    ck_assert_uint_eq(wd_num_f64_bits(wd_num_f64_nearest(-0.4)), 0x8000000000000000ull);
    ck_assert(isnan(wd_num_f64_nearest(NAN)));
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_ceil(-0.5f)), 0x80000000u);
    ck_assert(wd_num_f32_floor(-0.5f) == -1.0f);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_trunc(-0.9f)), 0x80000000u);
    ck_assert(wd_num_f64_ceil(1.0000001) == 2.0);
    ck_assert(wd_num_f64_floor(-1.0000001) == -2.0);
    ck_assert(wd_num_f64_trunc(-1.9) == -1.0);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_floor(f32b(0x7fa00000u))) & 0x7fc00000u,
                      0x7fc00000u);
}
END_TEST

START_TEST(test_sign_bits)
{
    ck_assert_uint_eq(wd_num_f32_abs_bits(0xffa00001u), 0x7fa00001u);  /* signalling NaN kept */
    ck_assert_uint_eq(wd_num_f32_neg_bits(0x7fa00001u), 0xffa00001u);
    ck_assert_uint_eq(wd_num_f32_copysign_bits(0x7fa00001u, 0x80000000u), 0xffa00001u);
    ck_assert_uint_eq(wd_num_f32_copysign_bits(0xbf800000u, 0x00000000u), 0x3f800000u);
    ck_assert_uint_eq(wd_num_f64_abs_bits(0xfff4000000000001ull), 0x7ff4000000000001ull);
    ck_assert_uint_eq(wd_num_f64_neg_bits(0), 0x8000000000000000ull);
    ck_assert_uint_eq(wd_num_f64_copysign_bits(0x3ff0000000000000ull, 0xfff8000000000000ull),
                      0xbff0000000000000ull);
}
END_TEST

START_TEST(test_conversions)
{
    /* 2^64-1 rounds to 2^64 */
    ck_assert(wd_num_f32_convert_i64_u(UINT64_MAX) == 18446744073709551616.0f);
    ck_assert(wd_num_f64_convert_i64_u(UINT64_MAX) == 18446744073709551616.0);
    /* ties-to-even at the 24-bit boundary above 2^63: 2^63 + 2^39 is exactly halfway
     * between 2^63 and 2^63 + 2^40 -> rounds to even (2^63); one more -> up */
    ck_assert(wd_num_f32_convert_i64_u(0x8000008000000000ull) == 9223372036854775808.0f);
    ck_assert(wd_num_f32_convert_i64_u(0x8000008000000001ull) == 9223373136366403584.0f);
    ck_assert(wd_num_f32_convert_i64_u(0x8000018000000000ull) == 9223374235877031936.0f);
    /* f64: 2^63 + 2^10 halfway -> even; +1 -> up (the sticky bit matters) */
    ck_assert(wd_num_f64_convert_i64_u(0x8000000000000400ull) == 9223372036854775808.0);
    ck_assert(wd_num_f64_convert_i64_u(0x8000000000000401ull) == 9223372036854777856.0);
    ck_assert(wd_num_f64_convert_i64_u(0x20000000000001ull) == 9007199254740992.0);
    ck_assert(wd_num_f32_convert_i64_s(INT64_MIN) == -9223372036854775808.0f);
    ck_assert(wd_num_f32_convert_i64_s(0x0020000020000001ll) == 9007200328482816.0f);
    ck_assert(wd_num_f64_convert_i32_u(UINT32_MAX) == 4294967295.0);
    ck_assert(wd_num_f32_convert_i32_u(UINT32_MAX) == 4294967296.0f);
    /* demote / promote */
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_demote_f64(f64b(0x7ff8000000000000ull))),
                      0x7fc00000u);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_demote_f64(f64b(0xfff8000000000000ull))),
                      0xffc00000u);
    ck_assert_uint_eq(wd_num_f32_bits(wd_num_f32_demote_f64(f64b(0x7ff4000000000000ull)))
                      & 0x7fc00000u, 0x7fc00000u);
    ck_assert(wd_num_f32_demote_f64(1e300) == INFINITY);
    ck_assert(wd_num_f32_demote_f64(0x1.fffffefffffffp+127) == 0x1.fffffep+127f);
    ck_assert_uint_eq(wd_num_f64_bits(wd_num_f64_promote_f32(f32b(0x7fc00000u))),
                      0x7ff8000000000000ull);
    ck_assert_uint_eq(wd_num_f64_bits(wd_num_f64_promote_f32(f32b(0x7fa00000u)))
                      & 0x7ff8000000000000ull, 0x7ff8000000000000ull);
    ck_assert(wd_num_f64_promote_f32(0x1p-149f) == 0x1p-149);
}
END_TEST

START_TEST(test_int_bits)
{
    ck_assert_uint_eq(wd_num_i32_clz(0), 32);
    ck_assert_uint_eq(wd_num_i32_clz(1), 31);
    ck_assert_uint_eq(wd_num_i32_ctz(0), 32);
    ck_assert_uint_eq(wd_num_i32_ctz(0x80000000u), 31);
    ck_assert_uint_eq(wd_num_i32_popcnt(0xffffffffu), 32);
    ck_assert_uint_eq(wd_num_i64_clz(0), 64);
    ck_assert_uint_eq(wd_num_i64_ctz(0), 64);
    ck_assert_uint_eq(wd_num_i64_ctz(0x100000000ull), 32);
    ck_assert_uint_eq(wd_num_i64_popcnt(0x8000000000000001ull), 2);
    ck_assert_uint_eq(wd_num_i32_rotl(0x80000001u, 1), 3);
    ck_assert_uint_eq(wd_num_i32_rotl(0x12345678u, 32), 0x12345678u);
    ck_assert_uint_eq(wd_num_i32_rotr(1, 1), 0x80000000u);
    ck_assert_uint_eq(wd_num_i32_rotr(0x12345678u, 0), 0x12345678u);
    ck_assert_uint_eq(wd_num_i64_rotl(0x8000000000000000ull, 65), 1);
    ck_assert_uint_eq(wd_num_i64_rotr(1, 64), 1);
    ck_assert_uint_eq(wd_num_i32_shl(1, 33), 2);
    ck_assert_uint_eq(wd_num_i32_shr_s(0x80000000u, 31), 0xffffffffu);
    ck_assert_uint_eq(wd_num_i32_shr_u(0x80000000u, 63), 1);
    ck_assert_uint_eq(wd_num_i64_shr_s(0x8000000000000000ull, 127), UINT64_MAX);
    ck_assert_uint_eq(wd_num_i32_extend8_s(0x80), 0xffffff80u);
    ck_assert_uint_eq(wd_num_i32_extend16_s(0x17fff), 0x7fff);
    ck_assert_uint_eq(wd_num_i64_extend32_s(0x80000000ull), 0xffffffff80000000ull);
}
END_TEST

START_TEST(test_divrem)
{
    int32_t s;
    uint32_t u;
    int64_t s64;
    uint64_t u64;
    ck_assert_int_eq(wd_num_i32_div_s(1, 0, &s), WD_TRAP_DIV_ZERO);
    ck_assert_int_eq(wd_num_i32_div_s(INT32_MIN, -1, &s), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i32_div_s(-7, 2, &s), 0);
    ck_assert_int_eq(s, -3);
    ck_assert_int_eq(wd_num_i32_rem_s(INT32_MIN, -1, &s), 0);
    ck_assert_int_eq(s, 0);
    ck_assert_int_eq(wd_num_i32_rem_s(-7, 2, &s), 0);
    ck_assert_int_eq(s, -1);
    ck_assert_int_eq(wd_num_i32_rem_s(7, 0, &s), WD_TRAP_DIV_ZERO);
    ck_assert_int_eq(wd_num_i32_div_u(0xfffffffeu, 2, &u), 0);
    ck_assert_uint_eq(u, 0x7fffffffu);
    ck_assert_int_eq(wd_num_i32_div_u(1, 0, &u), WD_TRAP_DIV_ZERO);
    ck_assert_int_eq(wd_num_i32_rem_u(0xffffffffu, 10, &u), 0);
    ck_assert_uint_eq(u, 5);
    ck_assert_int_eq(wd_num_i64_div_s(INT64_MIN, -1, &s64), WD_TRAP_INT_OVERFLOW);
    ck_assert_int_eq(wd_num_i64_rem_s(INT64_MIN, -1, &s64), 0);
    ck_assert(s64 == 0);
    ck_assert_int_eq(wd_num_i64_div_u(5, 0, &u64), WD_TRAP_DIV_ZERO);
    ck_assert_int_eq(wd_num_i64_rem_u(5, 0, &u64), WD_TRAP_DIV_ZERO);
    ck_assert_int_eq(wd_num_i64_div_s(-9, 4, &s64), 0);
    ck_assert(s64 == -2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wasm_numeric");
    TCase *tc = tcase_create("numeric");
    tcase_add_test(tc, test_trunc_i32_s);
    tcase_add_test(tc, test_trunc_i32_u);
    tcase_add_test(tc, test_trunc_i64);
    tcase_add_test(tc, test_trunc_sat);
    tcase_add_test(tc, test_minmax);
    tcase_add_test(tc, test_nearest_rounding);
    tcase_add_test(tc, test_sign_bits);
    tcase_add_test(tc, test_conversions);
    tcase_add_test(tc, test_int_bits);
    tcase_add_test(tc, test_divrem);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
