/*
 * wd_wasm_simd.h -- the v128 lane operations of the interpreter (Wasm 2.0
 * fixed-width SIMD, spec exec/numerics.rst).
 *
 * Values are GCC/clang vector types (vector_size(16)); the interpreter keeps
 * a v128 in two adjacent 64-bit frame slots and moves it with 16-byte
 * memcpy (unaligned loads/stores). Operations with one obvious vector form
 * use the vector extensions (the compiler emits SSE2/NEON or scalar code);
 * several others use x86 SSE2 intrinsics (baseline on x86-64) and, when the
 * compiler targets them (-msse4.1 / -mssse3, e.g. -march=native), SSE4.1 and
 * SSSE3 ones. Each has a portable lane-by-lane fallback, which is what a
 * build with -DWD_WASM_NO_SSE (`make SIMD_PORTABLE=1`) or a non-x86 target
 * compiles. Float operations whose NaN or signed-zero rules differ from the
 * hardware's (min, max, rounding, conversions) go lane by lane through the
 * scalar helpers of wd_wasm_numeric.h, so both builds compute the same bits.
 *
 * Lanes are numbered in memory order (lane 0 = lowest address); the engine
 * assumes a little-endian host, where that is also the vector element order.
 */
#ifndef WD_WASM_SIMD_H
#define WD_WASM_SIMD_H

#include <stdint.h>
#include <string.h>
#include "wd_wasm_numeric.h"
#include "wd_wasm_opcodes.h"

/* The lane operations (wd_wasm_simd.c): fn(frame, instruction). */
#define WD_X_(sym, code, text, imm, sig, al) \
    void wd_simd_fn_WD_OP_##sym(uint64_t *fp, const uint32_t *ip);
WD_WASM_OPCODES_FD_ALU(WD_X_)
#undef WD_X_

#if defined(__x86_64__) && defined(__SSE2__) && !defined(WD_WASM_NO_SSE)
#define WD_SIMD_SSE2 1
#include <emmintrin.h>
#if defined(__SSSE3__)
#define WD_SIMD_SSSE3 1
#include <tmmintrin.h>
#endif
#if defined(__SSE4_1__)
#define WD_SIMD_SSE41 1
#include <smmintrin.h>
#endif
#endif

typedef int8_t   wd_i8x16 __attribute__((vector_size(16)));
typedef uint8_t  wd_u8x16 __attribute__((vector_size(16)));
typedef int16_t  wd_i16x8 __attribute__((vector_size(16)));
typedef uint16_t wd_u16x8 __attribute__((vector_size(16)));
typedef int32_t  wd_i32x4 __attribute__((vector_size(16)));
typedef uint32_t wd_u32x4 __attribute__((vector_size(16)));
typedef int64_t  wd_i64x2 __attribute__((vector_size(16)));
typedef uint64_t wd_u64x2 __attribute__((vector_size(16)));
typedef float    wd_f32x4 __attribute__((vector_size(16)));
typedef double   wd_f64x2 __attribute__((vector_size(16)));
typedef wd_u64x2 wd_v128;

#define WD_SIMD_FN static inline __attribute__((always_inline, unused))
#define WD_SIMD_COLD static __attribute__((noinline, unused))

WD_SIMD_FN wd_v128 wd_vld(const void *p) { wd_v128 v; memcpy(&v, p, 16); return v; }
WD_SIMD_FN void wd_vst(void *p, wd_v128 v) { memcpy(p, &v, 16); }

/* lane-wise select: m's lanes are all ones or all zeros */
#define WD_VSEL(m, a, b) (((a) & (m)) | ((b) & ~(m)))

/* ---- integer ---- */
#define WD_SIMD_NARROW(name, ST, DT, LT, n, lo, hi) \
    WD_SIMD_FN wd_v128 name(wd_v128 x, wd_v128 y) { \
        ST a = (ST)x, b = (ST)y; DT r = { 0 }; \
        for (int i = 0; i < n; i++) { r[i] = (LT)(a[i] < (lo) ? (lo) : a[i] > (hi) ? (hi) : a[i]); \
            r[i + n] = (LT)(b[i] < (lo) ? (lo) : b[i] > (hi) ? (hi) : b[i]); } \
        return (wd_v128)r; }
#define WD_SIMD_SAT(name, VT, LT, WT, lo, hi, n, op) \
    WD_SIMD_FN wd_v128 name(wd_v128 x, wd_v128 y) { \
        VT a = (VT)x, b = (VT)y, r = { 0 }; \
        for (int i = 0; i < n; i++) { WT v = (WT)a[i] op (WT)b[i]; r[i] = (LT)(v < (lo) ? (lo) : v > (hi) ? (hi) : v); } \
        return (wd_v128)r; }
#if WD_SIMD_SSE2
WD_SIMD_FN wd_v128 wd_i8_add_sat_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_adds_epi8((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i8_add_sat_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_adds_epu8((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i8_sub_sat_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_subs_epi8((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i8_sub_sat_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_subs_epu8((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i16_add_sat_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_adds_epi16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i16_add_sat_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_adds_epu16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i16_sub_sat_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_subs_epi16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i16_sub_sat_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_subs_epu16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i8_avgr_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_avg_epu8((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i16_avgr_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_avg_epu16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i8_narrow_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_packs_epi16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i8_narrow_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_packus_epi16((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i16_narrow_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_packs_epi32((__m128i)a, (__m128i)b); }
WD_SIMD_FN wd_v128 wd_i32_dot_s(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_madd_epi16((__m128i)a, (__m128i)b); }
WD_SIMD_FN uint32_t wd_i8_bitmask(wd_v128 a) { return (uint32_t)_mm_movemask_epi8((__m128i)a); }
WD_SIMD_FN uint32_t wd_i16_bitmask(wd_v128 a)
{
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16((__m128i)a, _mm_setzero_si128()));
}
WD_SIMD_FN uint32_t wd_i32_bitmask(wd_v128 a) { return (uint32_t)_mm_movemask_ps((__m128)a); }
WD_SIMD_FN uint32_t wd_i64_bitmask(wd_v128 a) { return (uint32_t)_mm_movemask_pd((__m128d)a); }
#else
WD_SIMD_SAT(wd_i8_add_sat_s, wd_i8x16, int8_t, int32_t, -128, 127, 16, +)
WD_SIMD_SAT(wd_i8_add_sat_u, wd_u8x16, uint8_t, int32_t, 0, 255, 16, +)
WD_SIMD_SAT(wd_i8_sub_sat_s, wd_i8x16, int8_t, int32_t, -128, 127, 16, -)
WD_SIMD_SAT(wd_i8_sub_sat_u, wd_u8x16, uint8_t, int32_t, 0, 255, 16, -)
WD_SIMD_SAT(wd_i16_add_sat_s, wd_i16x8, int16_t, int32_t, -32768, 32767, 8, +)
WD_SIMD_SAT(wd_i16_add_sat_u, wd_u16x8, uint16_t, int32_t, 0, 65535, 8, +)
WD_SIMD_SAT(wd_i16_sub_sat_s, wd_i16x8, int16_t, int32_t, -32768, 32767, 8, -)
WD_SIMD_SAT(wd_i16_sub_sat_u, wd_u16x8, uint16_t, int32_t, 0, 65535, 8, -)
WD_SIMD_FN wd_v128 wd_i8_avgr_u(wd_v128 x, wd_v128 y)
{
    wd_u8x16 a = (wd_u8x16)x, b = (wd_u8x16)y, r = { 0 };
    for (int i = 0; i < 16; i++) r[i] = (uint8_t)(((uint32_t)a[i] + b[i] + 1) >> 1);
    return (wd_v128)r;
}
WD_SIMD_FN wd_v128 wd_i16_avgr_u(wd_v128 x, wd_v128 y)
{
    wd_u16x8 a = (wd_u16x8)x, b = (wd_u16x8)y, r = { 0 };
    for (int i = 0; i < 8; i++) r[i] = (uint16_t)(((uint32_t)a[i] + b[i] + 1) >> 1);
    return (wd_v128)r;
}
WD_SIMD_NARROW(wd_i8_narrow_s, wd_i16x8, wd_i8x16, int8_t, 8, -128, 127)
WD_SIMD_NARROW(wd_i8_narrow_u, wd_i16x8, wd_u8x16, uint8_t, 8, 0, 255)
WD_SIMD_NARROW(wd_i16_narrow_s, wd_i32x4, wd_i16x8, int16_t, 4, -32768, 32767)
WD_SIMD_FN wd_v128 wd_i32_dot_s(wd_v128 x, wd_v128 y)
{
    wd_i16x8 a = (wd_i16x8)x, b = (wd_i16x8)y;
    wd_i32x4 r = { 0 };
    for (int i = 0; i < 4; i++)
        r[i] = (int32_t)((uint32_t)((int32_t)a[2 * i] * b[2 * i]) + (uint32_t)((int32_t)a[2 * i + 1] * b[2 * i + 1]));
    return (wd_v128)r;
}
WD_SIMD_FN uint32_t wd_i8_bitmask(wd_v128 x)
{
    wd_u8x16 a = (wd_u8x16)x;
    uint32_t r = 0;
    for (int i = 0; i < 16; i++) r |= (uint32_t)(a[i] >> 7) << i;
    return r;
}
WD_SIMD_FN uint32_t wd_i16_bitmask(wd_v128 x)
{
    wd_u16x8 a = (wd_u16x8)x;
    uint32_t r = 0;
    for (int i = 0; i < 8; i++) r |= (uint32_t)(a[i] >> 15) << i;
    return r;
}
WD_SIMD_FN uint32_t wd_i32_bitmask(wd_v128 x)
{
    wd_u32x4 a = (wd_u32x4)x;
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) r |= (a[i] >> 31) << i;
    return r;
}
WD_SIMD_FN uint32_t wd_i64_bitmask(wd_v128 x)
{
    wd_u64x2 a = (wd_u64x2)x;
    return (uint32_t)(a[0] >> 63) | (uint32_t)(a[1] >> 63) << 1;
}
#endif
#if WD_SIMD_SSE41
WD_SIMD_FN wd_v128 wd_i16_narrow_u(wd_v128 a, wd_v128 b) { return (wd_v128)_mm_packus_epi32((__m128i)a, (__m128i)b); }
#else
WD_SIMD_NARROW(wd_i16_narrow_u, wd_i32x4, wd_u16x8, uint16_t, 4, 0, 65535)
#endif

WD_SIMD_FN wd_v128 wd_i16_q15mulr_sat_s(wd_v128 x, wd_v128 y)
{
    wd_i16x8 a = (wd_i16x8)x, b = (wd_i16x8)y, r = { 0 };
    for (int i = 0; i < 8; i++) {
        int32_t v = ((int32_t)a[i] * b[i] + 0x4000) >> 15;
        r[i] = (int16_t)(v > 32767 ? 32767 : v);
    }
    return (wd_v128)r;
}

WD_SIMD_FN wd_v128 wd_i8_popcnt(wd_v128 x)
{
    wd_u8x16 a = (wd_u8x16)x;
    a = a - ((a >> 1) & 0x55);
    a = (a & 0x33) + ((a >> 2) & 0x33);
    a = (a + (a >> 4)) & 0x0f;
    return (wd_v128)a;
}

WD_SIMD_FN wd_v128 wd_i8_swizzle(wd_v128 x, wd_v128 y)
{
#if WD_SIMD_SSSE3
    /* indices >= 16 select 0: saturate them into pshufb's "bit 7 set" range */
    __m128i idx = _mm_adds_epu8((__m128i)y, _mm_set1_epi8(0x70));
    return (wd_v128)_mm_shuffle_epi8((__m128i)x, idx);
#else
    wd_u8x16 a = (wd_u8x16)x, b = (wd_u8x16)y, r = { 0 };
    for (int i = 0; i < 16; i++) r[i] = b[i] < 16 ? a[b[i] & 15] : 0;
    return (wd_v128)r;
#endif
}

WD_SIMD_FN wd_v128 wd_i8_shuffle(wd_v128 x, wd_v128 y, const uint32_t *imm)
{
    uint8_t lanes[16], ab[32];
    memcpy(lanes, imm, 16);
    memcpy(ab, &x, 16);
    memcpy(ab + 16, &y, 16);
    wd_u8x16 r = { 0 };
    for (int i = 0; i < 16; i++) r[i] = ab[lanes[i] & 31];
    return (wd_v128)r;
}

/* extend the low (hi = 0) or high (hi = 1) half of the lanes: convert a half-width vector */
typedef int8_t   wd_i8x8_h  __attribute__((vector_size(8)));
typedef uint8_t  wd_u8x8_h  __attribute__((vector_size(8)));
typedef int16_t  wd_i16x4_h __attribute__((vector_size(8)));
typedef uint16_t wd_u16x4_h __attribute__((vector_size(8)));
typedef int32_t  wd_i32x2_h __attribute__((vector_size(8)));
typedef uint32_t wd_u32x2_h __attribute__((vector_size(8)));
#define WD_SIMD_EXTEND(name, HT, DT) \
    WD_SIMD_FN DT name##_v(wd_v128 x, int hi) { \
        HT h; memcpy(&h, (const uint8_t *)&x + 8 * hi, 8); \
        return __builtin_convertvector(h, DT); } \
    WD_SIMD_FN wd_v128 name(wd_v128 x, int hi) { return (wd_v128)name##_v(x, hi); }
WD_SIMD_EXTEND(wd_i16_extend_s, wd_i8x8_h, wd_i16x8)
WD_SIMD_EXTEND(wd_i16_extend_u, wd_u8x8_h, wd_u16x8)
WD_SIMD_EXTEND(wd_i32_extend_s, wd_i16x4_h, wd_i32x4)
WD_SIMD_EXTEND(wd_i32_extend_u, wd_u16x4_h, wd_u32x4)
WD_SIMD_EXTEND(wd_i64_extend_s, wd_i32x2_h, wd_i64x2)
WD_SIMD_EXTEND(wd_i64_extend_u, wd_u32x2_h, wd_u64x2)

/* extended multiply: both halves widened, then one multiply in the wide type (exact) */
#define WD_SIMD_EXTMUL(name, ext) \
    WD_SIMD_FN wd_v128 name(wd_v128 x, wd_v128 y, int hi) { \
        return (wd_v128)(ext##_v(x, hi) * ext##_v(y, hi)); }
WD_SIMD_EXTMUL(wd_i16_extmul_s, wd_i16_extend_s)
WD_SIMD_EXTMUL(wd_i16_extmul_u, wd_i16_extend_u)
WD_SIMD_EXTMUL(wd_i32_extmul_s, wd_i32_extend_s)
WD_SIMD_EXTMUL(wd_i32_extmul_u, wd_i32_extend_u)
WD_SIMD_EXTMUL(wd_i64_extmul_s, wd_i64_extend_s)
WD_SIMD_EXTMUL(wd_i64_extmul_u, wd_i64_extend_u)

/* pairwise add of adjacent narrow lanes, in the wide lanes: low part + high part */
WD_SIMD_FN wd_v128 wd_i16_extadd_s(wd_v128 x)
{
    wd_i16x8 a = (wd_i16x8)x;
    return (wd_v128)(((wd_i16x8)((wd_u16x8)a << 8) >> 8) + (a >> 8));
}
WD_SIMD_FN wd_v128 wd_i16_extadd_u(wd_v128 x)
{
    wd_u16x8 a = (wd_u16x8)x;
    return (wd_v128)((a & 0xff) + (a >> 8));
}
WD_SIMD_FN wd_v128 wd_i32_extadd_s(wd_v128 x)
{
    wd_i32x4 a = (wd_i32x4)x;
    return (wd_v128)(((wd_i32x4)((wd_u32x4)a << 16) >> 16) + (a >> 16));
}
WD_SIMD_FN wd_v128 wd_i32_extadd_u(wd_v128 x)
{
    wd_u32x4 a = (wd_u32x4)x;
    return (wd_v128)((a & 0xffff) + (a >> 16));
}

/* ---- floating point: lane by lane where the spec's rules are not the hardware's ---- */
#define WD_SIMD_F32_1(name, expr) \
    WD_SIMD_COLD wd_v128 name(wd_v128 x) { \
        wd_f32x4 v = (wd_f32x4)x, r = { 0 }; \
        for (int i = 0; i < 4; i++) { float a = v[i]; r[i] = (expr); } \
        return (wd_v128)r; }
#define WD_SIMD_F64_1(name, expr) \
    WD_SIMD_COLD wd_v128 name(wd_v128 x) { \
        wd_f64x2 v = (wd_f64x2)x, r = { 0 }; \
        for (int i = 0; i < 2; i++) { double a = v[i]; r[i] = (expr); } \
        return (wd_v128)r; }
#define WD_SIMD_F32_2(name, expr) \
    WD_SIMD_FN wd_v128 name(wd_v128 x, wd_v128 y) { \
        wd_f32x4 va = (wd_f32x4)x, vb = (wd_f32x4)y, r = { 0 }; \
        for (int i = 0; i < 4; i++) { float a = va[i], b = vb[i]; r[i] = (expr); } \
        return (wd_v128)r; }
#define WD_SIMD_F64_2(name, expr) \
    WD_SIMD_FN wd_v128 name(wd_v128 x, wd_v128 y) { \
        wd_f64x2 va = (wd_f64x2)x, vb = (wd_f64x2)y, r = { 0 }; \
        for (int i = 0; i < 2; i++) { double a = va[i], b = vb[i]; r[i] = (expr); } \
        return (wd_v128)r; }
WD_SIMD_F32_1(wd_f32x4_ceil, wd_num_f32_ceil(a))
WD_SIMD_F32_1(wd_f32x4_floor, wd_num_f32_floor(a))
WD_SIMD_F32_1(wd_f32x4_trunc, wd_num_f32_trunc(a))
WD_SIMD_F32_1(wd_f32x4_nearest, wd_num_f32_nearest(a))
WD_SIMD_F64_1(wd_f64x2_ceil, wd_num_f64_ceil(a))
WD_SIMD_F64_1(wd_f64x2_floor, wd_num_f64_floor(a))
WD_SIMD_F64_1(wd_f64x2_trunc, wd_num_f64_trunc(a))
WD_SIMD_F64_1(wd_f64x2_nearest, wd_num_f64_nearest(a))
WD_SIMD_F32_2(wd_f32x4_min, wd_num_f32_min(a, b))
WD_SIMD_F32_2(wd_f32x4_max, wd_num_f32_max(a, b))
WD_SIMD_F64_2(wd_f64x2_min, wd_num_f64_min(a, b))
WD_SIMD_F64_2(wd_f64x2_max, wd_num_f64_max(a, b))

WD_SIMD_COLD wd_v128 wd_i32x4_trunc_sat_f32x4_s(wd_v128 x)
{
    wd_f32x4 a = (wd_f32x4)x; wd_i32x4 r = { 0 };
    for (int i = 0; i < 4; i++) r[i] = wd_num_i32_trunc_sat_f32_s(a[i]);
    return (wd_v128)r;
}
WD_SIMD_COLD wd_v128 wd_i32x4_trunc_sat_f32x4_u(wd_v128 x)
{
    wd_f32x4 a = (wd_f32x4)x; wd_u32x4 r = { 0 };
    for (int i = 0; i < 4; i++) r[i] = wd_num_i32_trunc_sat_f32_u(a[i]);
    return (wd_v128)r;
}
WD_SIMD_COLD wd_v128 wd_i32x4_trunc_sat_f64x2_zero(wd_v128 x, int is_unsigned)
{
    wd_f64x2 a = (wd_f64x2)x; wd_u32x4 r = { 0, 0, 0, 0 };
    for (int i = 0; i < 2; i++)
        r[i] = is_unsigned ? wd_num_i32_trunc_sat_f64_u(a[i]) : (uint32_t)wd_num_i32_trunc_sat_f64_s(a[i]);
    return (wd_v128)r;
}
WD_SIMD_COLD wd_v128 wd_f32x4_convert_i32x4(wd_v128 x, int is_unsigned)
{
    wd_u32x4 a = (wd_u32x4)x; wd_f32x4 r = { 0 };
    for (int i = 0; i < 4; i++)
        r[i] = is_unsigned ? wd_num_f32_convert_i32_u(a[i]) : wd_num_f32_convert_i32_s((int32_t)a[i]);
    return (wd_v128)r;
}
WD_SIMD_COLD wd_v128 wd_f64x2_convert_low_i32x4(wd_v128 x, int is_unsigned)
{
    wd_u32x4 a = (wd_u32x4)x; wd_f64x2 r = { 0 };
    for (int i = 0; i < 2; i++)
        r[i] = is_unsigned ? wd_num_f64_convert_i32_u(a[i]) : wd_num_f64_convert_i32_s((int32_t)a[i]);
    return (wd_v128)r;
}
WD_SIMD_COLD wd_v128 wd_f32x4_demote_f64x2_zero(wd_v128 x)
{
    wd_f64x2 a = (wd_f64x2)x; wd_f32x4 r = { 0, 0, 0, 0 };
    for (int i = 0; i < 2; i++) r[i] = wd_num_f32_demote_f64(a[i]);
    return (wd_v128)r;
}
WD_SIMD_COLD wd_v128 wd_f64x2_promote_low_f32x4(wd_v128 x)
{
    wd_f32x4 a = (wd_f32x4)x; wd_f64x2 r = { 0 };
    for (int i = 0; i < 2; i++) r[i] = wd_num_f64_promote_f32(a[i]);
    return (wd_v128)r;
}

#endif /* WD_WASM_SIMD_H */
