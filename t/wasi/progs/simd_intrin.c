/*
 * simd_intrin.c -- explicit wasm_simd128.h intrinsics (when built with
 * -msimd128) against a scalar model of the same operations (native and
 * non-SIMD builds): both print the same lines. Inputs are pseudo-random
 * with edge values (0, -1, INT_MIN, NaN, -0.0, infinities) mixed in.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

static uint32_t seed = 12345;
static uint32_t rnd(void) { seed = seed * 1103515245u + 12345u; return seed >> 8 ^ seed << 13; }

static uint8_t A[16], B[16], R[16];

static void fill(void)
{
    static const uint32_t edges[] = { 0, 0xffffffffu, 0x80000000u, 0x7fffffffu, 0x7fc00000u, 0x80000000u,
                                      0x7f800000u, 0xff800000u, 0x3f800000u, 0x00008000u, 0x00800080u };
    for (int i = 0; i < 16; i += 4) {
        uint32_t a = rnd(), b = rnd();
        if (rnd() % 4 == 0) a = edges[rnd() % 11];
        if (rnd() % 4 == 0) b = edges[rnd() % 11];
        memcpy(A + i, &a, 4);
        memcpy(B + i, &b, 4);
    }
}

static uint32_t hash = 2166136261u;
static void out(const char *name)
{
    printf("%-14s", name);
    for (int i = 0; i < 16; i++) { printf("%02x", R[i]); hash = (hash ^ R[i]) * 16777619u; }
    printf("\n");
}

#define LANES(T, n) T a[n], b[n], r[n]; memcpy(a, A, 16); memcpy(b, B, 16); (void)a; (void)b
#define STORE_R() memcpy(R, r, 16)

static int16_t sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : (int16_t)v; }
static uint8_t satu8(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }
static int8_t sat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : (int8_t)v; }
static float fmin_w(float x, float y)
{
    if (x != x || y != y) return NAN;
    if (x == y) return signbit(x) ? x : y;
    return x < y ? x : y;
}
static int32_t trunc_sat_s(float f)
{
    if (f != f) return 0;
    if (f <= -2147483648.0f) return INT32_MIN;
    if (f >= 2147483648.0f) return INT32_MAX;
    return (int32_t)f;
}
/* the wasm NaN bit patterns may differ from native ones: print NaN lanes canonicalised */
static void canon_f32(void)
{
    for (int i = 0; i < 16; i += 4) {
        float f;
        memcpy(&f, R + i, 4);
        if (f != f) { uint32_t c = 0x7fc00000u; memcpy(R + i, &c, 4); }
    }
}

int main(void)
{
    for (int round = 0; round < 40; round++) {
        fill();
#ifdef __wasm_simd128__
        v128_t va = wasm_v128_load(A), vb = wasm_v128_load(B);
#define W(expr) wasm_v128_store(R, (expr))
#else
#define W(expr) (void)0
#endif
        { LANES(int8_t, 16); for (int i = 0; i < 16; i++) r[i] = sat8(a[i] + b[i]); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_i8x16_add_sat(va, vb));
#endif
          out("i8_add_sat"); }
        { LANES(uint8_t, 16); for (int i = 0; i < 16; i++) r[i] = satu8(a[i] - b[i]); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_u8x16_sub_sat(va, vb));
#endif
          out("u8_sub_sat"); }
        { LANES(uint8_t, 16); for (int i = 0; i < 16; i++) r[i] = (uint8_t)((a[i] + b[i] + 1) >> 1); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_u8x16_avgr(va, vb));
#endif
          out("u8_avgr"); }
        { LANES(int16_t, 8); int8_t n[16];
          for (int i = 0; i < 8; i++) { n[i] = sat8(a[i]); n[i + 8] = sat8(b[i]); } memcpy(R, n, 16);
#ifdef __wasm_simd128__
          W(wasm_i8x16_narrow_i16x8(va, vb));
#endif
          out("narrow_s8"); }
        { LANES(int16_t, 8); for (int i = 0; i < 8; i++) r[i] = a[i] < b[i] ? a[i] : b[i]; STORE_R();
#ifdef __wasm_simd128__
          W(wasm_i16x8_min(va, vb));
#endif
          out("i16_min"); }
        { LANES(int16_t, 8); for (int i = 0; i < 8; i++) r[i] = sat16((a[i] * b[i] + 0x4000) >> 15); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_i16x8_q15mulr_sat(va, vb));
#endif
          out("q15mulr"); }
        { LANES(int16_t, 8); int32_t d[4];
          for (int i = 0; i < 4; i++) d[i] = (int32_t)((uint32_t)(a[2 * i] * b[2 * i]) + (uint32_t)(a[2 * i + 1] * b[2 * i + 1]));
          memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_i32x4_dot_i16x8(va, vb));
#endif
          out("dot"); }
        { LANES(int16_t, 8); int32_t d[4]; for (int i = 0; i < 4; i++) d[i] = a[i + 4] * b[i + 4]; memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_i32x4_extmul_high_i16x8(va, vb));
#endif
          out("extmul_hi"); }
        { LANES(uint8_t, 16); uint16_t d[8]; for (int i = 0; i < 8; i++) d[i] = (uint16_t)(a[2 * i] + a[2 * i + 1]);
          memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_u16x8_extadd_pairwise_u8x16(va));
#endif
          out("extadd_u8"); }
        { LANES(uint8_t, 16); uint8_t ix[16]; for (int i = 0; i < 16; i++) ix[i] = b[i] % 20;
          for (int i = 0; i < 16; i++) r[i] = ix[i] < 16 ? a[ix[i]] : 0; STORE_R();
#ifdef __wasm_simd128__
          W(wasm_i8x16_swizzle(va, wasm_v128_load(ix)));
#endif
          out("swizzle"); }
        { LANES(uint8_t, 16); uint8_t ab[32]; memcpy(ab, a, 16); memcpy(ab + 16, b, 16);
          static const int idx[16] = { 0, 17, 2, 19, 31, 5, 16, 7, 8, 25, 10, 27, 12, 13, 30, 1 };
          for (int i = 0; i < 16; i++) r[i] = ab[idx[i]]; STORE_R();
#ifdef __wasm_simd128__
          W(wasm_i8x16_shuffle(va, vb, 0, 17, 2, 19, 31, 5, 16, 7, 8, 25, 10, 27, 12, 13, 30, 1));
#endif
          out("shuffle"); }
        { LANES(int32_t, 4); uint32_t m = 0; for (int i = 0; i < 4; i++) m |= (uint32_t)(a[i] < 0) << i;
          int any = 0, all = 1; for (int i = 0; i < 16; i++) { any |= A[i] != 0; all &= B[i] != 0; }
          uint32_t v[4] = { m, (uint32_t)any, (uint32_t)all, 0 };
#ifdef __wasm_simd128__
          v[0] = wasm_i32x4_bitmask(va); v[1] = wasm_v128_any_true(va); v[2] = wasm_i8x16_all_true(vb);
#endif
          memcpy(R, v, 16); out("mask_tests"); }
        { LANES(float, 4); for (int i = 0; i < 4; i++) r[i] = a[i] * b[i] + a[i]; STORE_R();
#ifdef __wasm_simd128__
          W(wasm_f32x4_add(wasm_f32x4_mul(va, vb), va));
#endif
          canon_f32(); out("f32_muladd"); }
        { LANES(float, 4); for (int i = 0; i < 4; i++) r[i] = fmin_w(a[i], b[i]); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_f32x4_min(va, vb));
#endif
          canon_f32(); out("f32_min"); }
        { LANES(float, 4); for (int i = 0; i < 4; i++) r[i] = b[i] < a[i] ? b[i] : a[i]; STORE_R();
#ifdef __wasm_simd128__
          W(wasm_f32x4_pmin(va, vb));
#endif
          canon_f32(); out("f32_pmin"); }
        { LANES(float, 4); for (int i = 0; i < 4; i++) r[i] = a[i] != a[i] ? a[i] : nearbyintf(a[i]); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_f32x4_nearest(va));
#endif
          canon_f32(); out("f32_nearest"); }
        { LANES(float, 4); int32_t d[4]; for (int i = 0; i < 4; i++) d[i] = trunc_sat_s(a[i]); memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_i32x4_trunc_sat_f32x4(va));
#endif
          out("trunc_sat"); }
        { LANES(uint32_t, 4); float d[4]; for (int i = 0; i < 4; i++) d[i] = (float)b[i]; memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_f32x4_convert_u32x4(vb));
#endif
          out("convert_u32"); }
        { LANES(float, 4); double d[2] = { a[0], a[1] }; memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_f64x2_promote_low_f32x4(va));
#endif
          for (int i = 0; i < 16; i += 8) { double x; memcpy(&x, R + i, 8);
              if (x != x) { uint64_t c = 0x7ff8000000000000ull; memcpy(R + i, &c, 8); } }
          out("promote"); }
        { LANES(int32_t, 4); int64_t d[2] = { a[2], a[3] }; memcpy(R, d, 16);
#ifdef __wasm_simd128__
          W(wasm_i64x2_extend_high_i32x4(va));
#endif
          out("extend_hi"); }
        { LANES(uint16_t, 8); for (int i = 0; i < 8; i++) r[i] = (uint16_t)(a[i] >> (round % 16)); STORE_R();
#ifdef __wasm_simd128__
          W(wasm_u16x8_shr(va, (uint32_t)(round % 16)));
#endif
          out("u16_shr"); }
        { LANES(uint8_t, 16); for (int i = 0; i < 16; i++) r[i] = (uint8_t)(__builtin_popcount(a[i]) + (b[i] == a[i] ? 100 : 0));
          STORE_R();
#ifdef __wasm_simd128__
          W(wasm_i8x16_add(wasm_i8x16_popcnt(va), wasm_v128_and(wasm_i8x16_eq(va, vb), wasm_i8x16_splat(100))));
#endif
          out("popcnt_eq"); }
        { uint8_t r[16]; memcpy(r, A, 16); memcpy(r + 4 * (round % 4), B + 8, 4); memcpy(R, r, 16);
#ifdef __wasm_simd128__
          switch (round % 4) {
          case 0: W(wasm_v128_load32_lane(B + 8, va, 0)); break;
          case 1: W(wasm_v128_load32_lane(B + 8, va, 1)); break;
          case 2: W(wasm_v128_load32_lane(B + 8, va, 2)); break;
          default: W(wasm_v128_load32_lane(B + 8, va, 3)); break;
          }
#endif
          out("load_lane"); }
    }
    printf("hash %08x\n", hash);
    return 0;
}
