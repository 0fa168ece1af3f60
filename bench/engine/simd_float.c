/*
 * simd_float.c -- float kernel: dot products and a matrix multiply (f32).
 * The scalar code keeps four partial sums (lane i sums elements i, i+4, ...)
 * and the matrix product runs k in order per element, so with -msimd128 the
 * wasm_simd128.h version (four lanes per instruction) computes bit for bit
 * the same values. Same output both ways.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define N 4096
#define M 64
static float xa[N], xb[N];
static float A[M * M], B[M * M], C[M * M];

static float dot(const float *a, const float *b, int n)
{
#ifdef __wasm_simd128__
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n; i += 4)
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    return (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
           (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
#else
    float s[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < n; i += 4)
        for (int l = 0; l < 4; l++) s[l] += a[i + l] * b[i + l];
    return (s[0] + s[1]) + (s[2] + s[3]);
#endif
}

static void matmul(void)
{
    for (int i = 0; i < M; i++) {
#ifdef __wasm_simd128__
        for (int j = 0; j < M; j += 4) {
            v128_t acc = wasm_f32x4_splat(0.0f);
            for (int k = 0; k < M; k++)
                acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(A[i * M + k]), wasm_v128_load(&B[k * M + j])));
            wasm_v128_store(&C[i * M + j], acc);
        }
#else
        for (int j = 0; j < M; j++) {
            float acc = 0.0f;
            for (int k = 0; k < M; k++) acc += A[i * M + k] * B[k * M + j];
            C[i * M + j] = acc;
        }
#endif
    }
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 6000;
    uint32_t x = 7;
    for (int i = 0; i < N; i++) { x = x * 1664525u + 1013904223u; xa[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
                                  x = x * 1664525u + 1013904223u; xb[i] = (float)(x >> 8) / 8388608.0f; }
    for (int i = 0; i < M * M; i++) { A[i] = xa[i] * 2.0f; B[i] = xb[i] - 1.0f; }
    double total = 0;
    for (int r = 0; r < reps; r++) {
        float d = dot(xa, xb, N);
        xa[r % N] += d * 1e-6f;
        total += d;
        if (r % 60 == 0) {
            matmul();
            total += C[(r * 7) % (M * M)];
            A[r % (M * M)] = C[r % (M * M)] * 0.001f;
        }
    }
    printf("float: %d reps, total %.9g, C[5] %.9g\n", reps, total, (double)C[5]);
    return 0;
}
