/*
 * simd_bytes.c -- byte kernel: a checksum (sum and position-weighted sum,
 * Adler/Fletcher style) and a count of bytes in a class over a 1 MiB buffer,
 * many passes. With -msimd128 the loop uses wasm_simd128.h (16 bytes per
 * step, widening pairwise adds); otherwise plain C. Same output both ways.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define N (1 << 20)
static uint8_t buf[N];

static void kernel(const uint8_t *p, size_t n, uint32_t *sum, uint32_t *wsum, uint32_t *cnt)
{
    uint32_t s = 0, w = 0, c = 0;
#ifdef __wasm_simd128__
    /* blocks of 16: s += sum(b), w += sum((16 - k) * b_k) + 16 * s_before, c += count(b > 0x7f) */
    static const uint8_t wts[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
    v128_t wv = wasm_v128_load(wts);
    size_t i = 0;
    while (i + 16 <= n) {
        /* up to 256 blocks at a time: 16-bit lane sums cannot overflow */
        size_t end = i + 16 * 256 < n ? i + 16 * 256 : n - (n - i) % 16;
        v128_t vs = wasm_i32x4_splat(0), vw = wasm_i32x4_splat(0), vc = wasm_i32x4_splat(0);
        uint32_t nb = 0;
        v128_t sprev = wasm_i32x4_splat(0);
        for (; i < end; i += 16) {
            v128_t b = wasm_v128_load(p + i);
            v128_t s16 = wasm_u16x8_extadd_pairwise_u8x16(b);
            v128_t s32 = wasm_u32x4_extadd_pairwise_u16x8(s16);
            sprev = wasm_i32x4_add(sprev, vs);             /* 16 * (sums of earlier blocks), per lane */
            vs = wasm_i32x4_add(vs, s32);
            v128_t m16 = wasm_i16x8_add(wasm_u16x8_extmul_low_u8x16(b, wv), wasm_u16x8_extmul_high_u8x16(b, wv));
            vw = wasm_i32x4_add(vw, wasm_u32x4_extadd_pairwise_u16x8(m16));
            vc = wasm_i8x16_sub(vc, wasm_i8x16_gt(wasm_i8x16_splat(0), b));   /* bytes >= 0x80: -1 each */
            nb++;
            if ((nb & 127) == 0) {                         /* flush byte counters before they wrap */
                v128_t c16 = wasm_u16x8_extadd_pairwise_u8x16(vc);
                c += (uint32_t)wasm_i32x4_extract_lane(wasm_u32x4_extadd_pairwise_u16x8(c16), 0) +
                     (uint32_t)wasm_i32x4_extract_lane(wasm_u32x4_extadd_pairwise_u16x8(c16), 1) +
                     (uint32_t)wasm_i32x4_extract_lane(wasm_u32x4_extadd_pairwise_u16x8(c16), 2) +
                     (uint32_t)wasm_i32x4_extract_lane(wasm_u32x4_extadd_pairwise_u16x8(c16), 3);
                vc = wasm_i32x4_splat(0);
            }
        }
        v128_t c16 = wasm_u16x8_extadd_pairwise_u8x16(vc), c32 = wasm_u32x4_extadd_pairwise_u16x8(c16);
        uint32_t bs = 0, bw = 0, bp = 0;
        bs = (uint32_t)wasm_i32x4_extract_lane(vs, 0) + (uint32_t)wasm_i32x4_extract_lane(vs, 1) +
             (uint32_t)wasm_i32x4_extract_lane(vs, 2) + (uint32_t)wasm_i32x4_extract_lane(vs, 3);
        bw = (uint32_t)wasm_i32x4_extract_lane(vw, 0) + (uint32_t)wasm_i32x4_extract_lane(vw, 1) +
             (uint32_t)wasm_i32x4_extract_lane(vw, 2) + (uint32_t)wasm_i32x4_extract_lane(vw, 3);
        bp = (uint32_t)wasm_i32x4_extract_lane(sprev, 0) + (uint32_t)wasm_i32x4_extract_lane(sprev, 1) +
             (uint32_t)wasm_i32x4_extract_lane(sprev, 2) + (uint32_t)wasm_i32x4_extract_lane(sprev, 3);
        c += (uint32_t)wasm_i32x4_extract_lane(c32, 0) + (uint32_t)wasm_i32x4_extract_lane(c32, 1) +
             (uint32_t)wasm_i32x4_extract_lane(c32, 2) + (uint32_t)wasm_i32x4_extract_lane(c32, 3);
        /* weighted sum of this run: within-block weights + 16 * earlier blocks' sums + 16*nb * s */
        w += bw + 16 * bp + 16 * nb * s;
        s += bs;
    }
    for (; i < n; i++) { s += p[i]; w += s; c += p[i] > 0x7f; }
#else
    for (size_t i = 0; i < n; i++) { s += p[i]; w += s; c += p[i] > 0x7f; }
#endif
    *sum = s; *wsum = w; *cnt = c;
}

int main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 300;
    uint32_t x = 1;
    for (size_t i = 0; i < N; i++) { x = x * 1103515245u + 12345u; buf[i] = (uint8_t)(x >> 23); }
    uint32_t acc = 0;
    for (int k = 0; k < passes; k++) {
        uint32_t s, w, c;
        kernel(buf + (k % 7), N - 7, &s, &w, &c);
        acc = acc * 31 + s + (w ^ c);
        buf[k % N] ^= (uint8_t)acc;
    }
    printf("bytes: %u passes, checksum %08x\n", passes, acc);
    return 0;
}
