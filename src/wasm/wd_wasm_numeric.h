/*
 * wd_wasm_numeric.h -- the numeric semantics of Wasm 2.0 (spec exec/numerics.rst)
 * as static inline C, for the interpreter and anything else that must compute
 * exactly what Wasm computes.
 *
 * Plain C arithmetic already matches Wasm for most operators on IEEE-754 hosts
 * (add/sub/mul/div/sqrt of floats, wrapping integer add/sub/mul with unsigned
 * types). What lives here is what C gets wrong or leaves undefined:
 *   - float-to-int truncation (UB in C when out of range): the trapping forms
 *     return 0 or a wd_wasm_trap_kind_t, the saturating forms clamp;
 *   - integer division/remainder (traps, INT_MIN / -1), shifts and rotates
 *     with the count taken modulo the width, clz/ctz of zero;
 *   - fmin/fmax (C's fmin ignores NaN and does not order -0 < +0);
 *   - nearest (ties to even, independent of the current rounding mode);
 *   - abs/neg/copysign as bit operations so NaN payloads survive exactly.
 * Floats are passed as C float/double where arithmetic is needed and as raw
 * bits (uint32_t/uint64_t) where only the sign bit changes.
 *
 * Boundaries of the trapping truncations follow spec "trunc_u/trunc_s": the
 * truncated value must be representable, so the admissible open interval for
 * i32 signed is (-2^31 - 1, 2^31) and for unsigned (-1, 2^32).
 */
#ifndef WD_WASM_NUMERIC_H
#define WD_WASM_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "wd_wasm.h"

#define WD_NUM_INLINE static inline __attribute__((always_inline, unused))

/* ---- bit casts ---- */
WD_NUM_INLINE uint32_t wd_num_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
WD_NUM_INLINE uint64_t wd_num_f64_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
WD_NUM_INLINE float wd_num_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
WD_NUM_INLINE double wd_num_f64_from_bits(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

/* ---- sign-bit operations (spec fabs, fneg, fcopysign: only the sign changes) ---- */
WD_NUM_INLINE uint32_t wd_num_f32_abs_bits(uint32_t a) { return a & 0x7fffffffu; }
WD_NUM_INLINE uint32_t wd_num_f32_neg_bits(uint32_t a) { return a ^ 0x80000000u; }
WD_NUM_INLINE uint32_t wd_num_f32_copysign_bits(uint32_t a, uint32_t b)
{
    return (a & 0x7fffffffu) | (b & 0x80000000u);
}
WD_NUM_INLINE uint64_t wd_num_f64_abs_bits(uint64_t a) { return a & 0x7fffffffffffffffull; }
WD_NUM_INLINE uint64_t wd_num_f64_neg_bits(uint64_t a) { return a ^ 0x8000000000000000ull; }
WD_NUM_INLINE uint64_t wd_num_f64_copysign_bits(uint64_t a, uint64_t b)
{
    return (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull);
}

/* ---- fmin / fmax: NaN if either is NaN (a + b propagates a quieted input NaN,
 * so canonical stays canonical and arithmetic stays arithmetic); -0 < +0 ---- */
WD_NUM_INLINE float wd_num_f32_min(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) /* equal, or -0 vs +0: the one with the sign bit wins */
        return wd_num_f32_from_bits(wd_num_f32_bits(a) | wd_num_f32_bits(b));
    return a < b ? a : b;
}
WD_NUM_INLINE float wd_num_f32_max(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b)
        return wd_num_f32_from_bits(wd_num_f32_bits(a) & wd_num_f32_bits(b));
    return a > b ? a : b;
}
WD_NUM_INLINE double wd_num_f64_min(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b)
        return wd_num_f64_from_bits(wd_num_f64_bits(a) | wd_num_f64_bits(b));
    return a < b ? a : b;
}
WD_NUM_INLINE double wd_num_f64_max(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b)
        return wd_num_f64_from_bits(wd_num_f64_bits(a) & wd_num_f64_bits(b));
    return a > b ? a : b;
}

/* ---- rounding to integral values. NaN in: a quiet NaN out (x + x quiets it). ---- */
WD_NUM_INLINE float wd_num_f32_trunc(float a) { return a != a ? a + a : truncf(a); }
WD_NUM_INLINE float wd_num_f32_ceil(float a) { return a != a ? a + a : ceilf(a); }
WD_NUM_INLINE float wd_num_f32_floor(float a) { return a != a ? a + a : floorf(a); }
WD_NUM_INLINE double wd_num_f64_trunc(double a) { return a != a ? a + a : trunc(a); }
WD_NUM_INLINE double wd_num_f64_ceil(double a) { return a != a ? a + a : ceil(a); }
WD_NUM_INLINE double wd_num_f64_floor(double a) { return a != a ? a + a : floor(a); }

/* spec fnearest: ties to even, keeps the sign of zero (-0.5 -> -0), independent
 * of the FP environment's rounding mode. */
WD_NUM_INLINE float wd_num_f32_nearest(float a)
{
    if (a != a) return a + a;
    float t = truncf(a);
    float d = a - t;               /* exact: |a| < 2^24 whenever d != 0 */
    if (d > 0.5f || (d == 0.5f && fmodf(t, 2.0f) != 0.0f)) t += 1.0f;
    else if (d < -0.5f || (d == -0.5f && fmodf(t, 2.0f) != 0.0f)) t -= 1.0f;
    return copysignf(t, a);        /* -0.4 -> -0, 0.4 -> +0, -0.5 -> -0 */
}
WD_NUM_INLINE double wd_num_f64_nearest(double a)
{
    if (a != a) return a + a;
    double t = trunc(a);
    double d = a - t;
    if (d > 0.5 || (d == 0.5 && fmod(t, 2.0) != 0.0)) t += 1.0;
    else if (d < -0.5 || (d == -0.5 && fmod(t, 2.0) != 0.0)) t -= 1.0;
    return copysign(t, a);
}

/* ---- trapping float -> int truncation (spec trunc_s / trunc_u) ---- */
#define WD_NUM_TRUNC_BODY(LO, HI, T)                                     \
    if (x != x) return WD_TRAP_INVALID_CONVERSION;                       \
    if (!(x > (LO) && x < (HI))) return WD_TRAP_INT_OVERFLOW;            \
    *out = (T) x;                                                        \
    return 0;

WD_NUM_INLINE int wd_num_i32_trunc_f32_s(float x, int32_t *out)
{ WD_NUM_TRUNC_BODY(-2147483904.0f, 2147483648.0f, int32_t) }      /* next f32 below -2^31 */
WD_NUM_INLINE int wd_num_i32_trunc_f32_u(float x, uint32_t *out)
{ WD_NUM_TRUNC_BODY(-1.0f, 4294967296.0f, uint32_t) }
WD_NUM_INLINE int wd_num_i32_trunc_f64_s(double x, int32_t *out)
{ WD_NUM_TRUNC_BODY(-2147483649.0, 2147483648.0, int32_t) }
WD_NUM_INLINE int wd_num_i32_trunc_f64_u(double x, uint32_t *out)
{ WD_NUM_TRUNC_BODY(-1.0, 4294967296.0, uint32_t) }
WD_NUM_INLINE int wd_num_i64_trunc_f32_s(float x, int64_t *out)
{ WD_NUM_TRUNC_BODY(-9223373136366403584.0f, 9223372036854775808.0f, int64_t) } /* next below -2^63 */
WD_NUM_INLINE int wd_num_i64_trunc_f32_u(float x, uint64_t *out)
{ WD_NUM_TRUNC_BODY(-1.0f, 18446744073709551616.0f, uint64_t) }
WD_NUM_INLINE int wd_num_i64_trunc_f64_s(double x, int64_t *out)
{ WD_NUM_TRUNC_BODY(-9223372036854777856.0, 9223372036854775808.0, int64_t) }   /* next below -2^63 */
WD_NUM_INLINE int wd_num_i64_trunc_f64_u(double x, uint64_t *out)
{ WD_NUM_TRUNC_BODY(-1.0, 18446744073709551616.0, uint64_t) }
#undef WD_NUM_TRUNC_BODY

/* ---- saturating float -> int truncation (spec trunc_sat_s / trunc_sat_u) ---- */
#define WD_NUM_TRUNC_SAT_BODY(LO, HI, TMIN, TMAX, T)                     \
    if (x != x) return 0;                                                \
    if (!(x > (LO))) return (TMIN);                                      \
    if (!(x < (HI))) return (TMAX);                                      \
    return (T) x;

WD_NUM_INLINE int32_t wd_num_i32_trunc_sat_f32_s(float x)
{ WD_NUM_TRUNC_SAT_BODY(-2147483904.0f, 2147483648.0f, INT32_MIN, INT32_MAX, int32_t) }
WD_NUM_INLINE uint32_t wd_num_i32_trunc_sat_f32_u(float x)
{ WD_NUM_TRUNC_SAT_BODY(-1.0f, 4294967296.0f, 0, UINT32_MAX, uint32_t) }
WD_NUM_INLINE int32_t wd_num_i32_trunc_sat_f64_s(double x)
{ WD_NUM_TRUNC_SAT_BODY(-2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX, int32_t) }
WD_NUM_INLINE uint32_t wd_num_i32_trunc_sat_f64_u(double x)
{ WD_NUM_TRUNC_SAT_BODY(-1.0, 4294967296.0, 0, UINT32_MAX, uint32_t) }
WD_NUM_INLINE int64_t wd_num_i64_trunc_sat_f32_s(float x)
{ WD_NUM_TRUNC_SAT_BODY(-9223373136366403584.0f, 9223372036854775808.0f, INT64_MIN, INT64_MAX, int64_t) }
WD_NUM_INLINE uint64_t wd_num_i64_trunc_sat_f32_u(float x)
{ WD_NUM_TRUNC_SAT_BODY(-1.0f, 18446744073709551616.0f, 0, UINT64_MAX, uint64_t) }
WD_NUM_INLINE int64_t wd_num_i64_trunc_sat_f64_s(double x)
{ WD_NUM_TRUNC_SAT_BODY(-9223372036854777856.0, 9223372036854775808.0, INT64_MIN, INT64_MAX, int64_t) }
WD_NUM_INLINE uint64_t wd_num_i64_trunc_sat_f64_u(double x)
{ WD_NUM_TRUNC_SAT_BODY(-1.0, 18446744073709551616.0, 0, UINT64_MAX, uint64_t) }
#undef WD_NUM_TRUNC_SAT_BODY

/* ---- int -> float conversions (round to nearest, ties to even) ----
 * Done by hand for the unsigned 64-bit sources so the result never depends on
 * how the compiler lowers them (some targets convert via double: double rounding). */
WD_NUM_INLINE float wd_num_f32_convert_i32_s(int32_t v) { return (float) v; }
WD_NUM_INLINE float wd_num_f32_convert_i32_u(uint32_t v) { return (float) v; }
WD_NUM_INLINE double wd_num_f64_convert_i32_s(int32_t v) { return (double) v; }
WD_NUM_INLINE double wd_num_f64_convert_i32_u(uint32_t v) { return (double) v; }
WD_NUM_INLINE float wd_num_f32_convert_i64_u(uint64_t v)
{
    if (v < (1ull << 63)) return (float) (int64_t) v;
    /* halve keeping a sticky bit: the rounding of (v>>1)|(v&1) at 24 bits equals
     * that of v, then scale back exactly */
    return (float) (int64_t) ((v >> 1) | (v & 1)) * 2.0f;
}
WD_NUM_INLINE double wd_num_f64_convert_i64_u(uint64_t v)
{
    if (v < (1ull << 63)) return (double) (int64_t) v;
    return (double) (int64_t) ((v >> 1) | (v & 1)) * 2.0;
}
WD_NUM_INLINE float wd_num_f32_convert_i64_s(int64_t v) { return (float) v; }
WD_NUM_INLINE double wd_num_f64_convert_i64_s(int64_t v) { return (double) v; }

/* spec demote/promote: exact or correctly rounded; a NaN becomes a quiet NaN
 * (canonical in -> canonical out, which the hardware conversion guarantees). */
WD_NUM_INLINE float wd_num_f32_demote_f64(double d)
{
    if (d != d) {
        uint64_t b = wd_num_f64_bits(d);
        /* quiet NaN keeping the sign and the top payload bits */
        uint32_t r = (uint32_t) (b >> 32 & 0x80000000u) | 0x7fc00000u
                     | (uint32_t) ((b >> 29) & 0x003fffffu);
        return wd_num_f32_from_bits(r);
    }
    return (float) d;
}
WD_NUM_INLINE double wd_num_f64_promote_f32(float f)
{
    if (f != f) {
        uint32_t b = wd_num_f32_bits(f);
        uint64_t r = ((uint64_t) (b & 0x80000000u) << 32) | 0x7ff8000000000000ull
                     | ((uint64_t) (b & 0x003fffffu) << 29);
        return wd_num_f64_from_bits(r);
    }
    return (double) f;
}

/* ---- integer bit counting, rotates, shifts (count modulo width) ---- */
WD_NUM_INLINE uint32_t wd_num_i32_clz(uint32_t v) { return v ? (uint32_t) __builtin_clz(v) : 32; }
WD_NUM_INLINE uint32_t wd_num_i32_ctz(uint32_t v) { return v ? (uint32_t) __builtin_ctz(v) : 32; }
WD_NUM_INLINE uint32_t wd_num_i32_popcnt(uint32_t v) { return (uint32_t) __builtin_popcount(v); }
WD_NUM_INLINE uint64_t wd_num_i64_clz(uint64_t v) { return v ? (uint64_t) __builtin_clzll(v) : 64; }
WD_NUM_INLINE uint64_t wd_num_i64_ctz(uint64_t v) { return v ? (uint64_t) __builtin_ctzll(v) : 64; }
WD_NUM_INLINE uint64_t wd_num_i64_popcnt(uint64_t v) { return (uint64_t) __builtin_popcountll(v); }

WD_NUM_INLINE uint32_t wd_num_i32_rotl(uint32_t v, uint32_t n)
{ n &= 31; return (v << n) | (v >> ((32 - n) & 31)); }
WD_NUM_INLINE uint32_t wd_num_i32_rotr(uint32_t v, uint32_t n)
{ n &= 31; return (v >> n) | (v << ((32 - n) & 31)); }
WD_NUM_INLINE uint64_t wd_num_i64_rotl(uint64_t v, uint64_t n)
{ n &= 63; return (v << n) | (v >> ((64 - n) & 63)); }
WD_NUM_INLINE uint64_t wd_num_i64_rotr(uint64_t v, uint64_t n)
{ n &= 63; return (v >> n) | (v << ((64 - n) & 63)); }

WD_NUM_INLINE uint32_t wd_num_i32_shl(uint32_t v, uint32_t n) { return v << (n & 31); }
WD_NUM_INLINE uint32_t wd_num_i32_shr_u(uint32_t v, uint32_t n) { return v >> (n & 31); }
WD_NUM_INLINE uint32_t wd_num_i32_shr_s(uint32_t v, uint32_t n)
{ return (uint32_t) ((int32_t) v >> (n & 31)); }   /* gcc/clang: arithmetic shift */
WD_NUM_INLINE uint64_t wd_num_i64_shl(uint64_t v, uint64_t n) { return v << (n & 63); }
WD_NUM_INLINE uint64_t wd_num_i64_shr_u(uint64_t v, uint64_t n) { return v >> (n & 63); }
WD_NUM_INLINE uint64_t wd_num_i64_shr_s(uint64_t v, uint64_t n)
{ return (uint64_t) ((int64_t) v >> (n & 63)); }

/* ---- sign extension (2.0 sign-extension operators) ---- */
WD_NUM_INLINE uint32_t wd_num_i32_extend8_s(uint32_t v) { return (uint32_t) (int32_t) (int8_t) v; }
WD_NUM_INLINE uint32_t wd_num_i32_extend16_s(uint32_t v) { return (uint32_t) (int32_t) (int16_t) v; }
WD_NUM_INLINE uint64_t wd_num_i64_extend8_s(uint64_t v) { return (uint64_t) (int64_t) (int8_t) v; }
WD_NUM_INLINE uint64_t wd_num_i64_extend16_s(uint64_t v) { return (uint64_t) (int64_t) (int16_t) v; }
WD_NUM_INLINE uint64_t wd_num_i64_extend32_s(uint64_t v) { return (uint64_t) (int64_t) (int32_t) v; }

/* ---- trapping division and remainder: 0 on success, else a wd_wasm_trap_kind_t ---- */
WD_NUM_INLINE int wd_num_i32_div_s(int32_t a, int32_t b, int32_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    if (a == INT32_MIN && b == -1) return WD_TRAP_INT_OVERFLOW;
    *out = a / b;
    return 0;
}
WD_NUM_INLINE int wd_num_i32_div_u(uint32_t a, uint32_t b, uint32_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    *out = a / b;
    return 0;
}
WD_NUM_INLINE int wd_num_i32_rem_s(int32_t a, int32_t b, int32_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    *out = b == -1 ? 0 : a % b;     /* INT_MIN % -1 is UB in C; the result is 0 */
    return 0;
}
WD_NUM_INLINE int wd_num_i32_rem_u(uint32_t a, uint32_t b, uint32_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    *out = a % b;
    return 0;
}
WD_NUM_INLINE int wd_num_i64_div_s(int64_t a, int64_t b, int64_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    if (a == INT64_MIN && b == -1) return WD_TRAP_INT_OVERFLOW;
    *out = a / b;
    return 0;
}
WD_NUM_INLINE int wd_num_i64_div_u(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    *out = a / b;
    return 0;
}
WD_NUM_INLINE int wd_num_i64_rem_s(int64_t a, int64_t b, int64_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    *out = b == -1 ? 0 : a % b;
    return 0;
}
WD_NUM_INLINE int wd_num_i64_rem_u(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b == 0) return WD_TRAP_DIV_ZERO;
    *out = a % b;
    return 0;
}

#endif /* WD_WASM_NUMERIC_H */
