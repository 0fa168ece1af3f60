/*
 * simd_loops.c -- plain C loops that clang -O3 -msimd128 turns into v128 code
 * (integer sums and products, byte counting, clamps, min/max, conversions,
 * element-wise float math, shifts and narrowing stores); the output must be
 * identical to the native build's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 4099

static uint8_t bytes[N];
static int16_t s16[N];
static int32_t i32a[N], i32b[N], i32r[N];
static float fa[N], fb[N], fr[N];
static double da[N], dr[N];
static uint8_t u8r[N];

static uint32_t seed = 99;
static uint32_t rnd(void) { seed = seed * 1664525u + 1013904223u; return seed; }

int main(void)
{
    for (int i = 0; i < N; i++) {
        bytes[i] = (uint8_t)(rnd() >> 24);
        s16[i] = (int16_t)(rnd() >> 16);
        i32a[i] = (int32_t)rnd();
        i32b[i] = (int32_t)(rnd() >> (i % 7));
        fa[i] = (float)(int32_t)rnd() / 65536.0f;
        fb[i] = (float)(rnd() % 1000) / 7.0f - 50.0f;
        da[i] = (double)(int32_t)rnd() / 3.0;
    }
    for (int round = 0; round < 3; round++) {
        uint32_t sum = 0, cnt = 0;
        for (int i = 0; i < N; i++) sum += bytes[i];
        for (int i = 0; i < N; i++) cnt += bytes[i] == 'a' + round;
        int64_t s = 0;
        for (int i = 0; i < N; i++) s += (int64_t)s16[i] * s16[(i + round) % N];
        for (int i = 0; i < N; i++) i32r[i] = i32a[i] * i32b[i] + (i32a[i] >> 3);
        for (int i = 0; i < N; i++) i32r[i] ^= i32a[i] < i32b[i] ? i32a[i] : i32b[i];
        uint32_t h = 0;
        for (int i = 0; i < N; i++) h = h * 31 + (uint32_t)i32r[i];
        for (int i = 0; i < N; i++) {
            int v = s16[i] >> 4;
            u8r[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        uint32_t hu = 0;
        for (int i = 0; i < N; i++) hu = hu * 131 + u8r[i];
        for (int i = 0; i < N; i++) fr[i] = fa[i] * fb[i] - fb[i] / 3.0f;
        for (int i = 0; i < N; i++) fr[i] = fr[i] < 0 ? -fr[i] : fr[i];
        double fs = 0;
        for (int i = 0; i < N; i++) fs += fr[i];
        for (int i = 0; i < N; i++) i32r[i] = (int32_t)(fa[i] * 0.5f);
        int64_t ts = 0;
        for (int i = 0; i < N; i++) ts += i32r[i];
        for (int i = 0; i < N; i++) dr[i] = da[i] * 1.5 + (double)i32b[i];
        double ds = 0;
        for (int i = 0; i < N; i++) ds += dr[i];
        for (int i = 0; i < N; i++) bytes[i] = (uint8_t)(bytes[i] + (bytes[(i + 1) % N] >> 1));
        printf("round %d: sum %u cnt %u dot %lld h %08x hu %08x fs %.6f ts %lld ds %.3f\n", round, sum, cnt,
               (long long)s, h, hu, fs, (long long)ts, ds);
    }
    return 0;
}
