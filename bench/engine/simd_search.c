/*
 * simd_search.c -- string search written with intrinsics: count the
 * occurrences of a few needles in a 1 MiB text. With -msimd128, 16 text
 * bytes at a time are compared with the needle's first and last bytes
 * (i8x16.eq, v128.and, i8x16.bitmask) and only candidate positions are
 * checked in full; otherwise a plain first-byte scan with memcmp. Same output
 * both ways.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define N (1 << 20)
static char text[N + 64];

static size_t count(const char *t, size_t n, const char *needle)
{
    size_t m = strlen(needle), c = 0;
    if (m == 0 || m > n) return 0;
#ifdef __wasm_simd128__
    v128_t first = wasm_i8x16_splat(needle[0]), last = wasm_i8x16_splat(needle[m - 1]);
    size_t i = 0;
    for (; i + m - 1 + 16 <= n; i += 16) {
        v128_t a = wasm_v128_load(t + i), b = wasm_v128_load(t + i + m - 1);
        uint32_t mask = wasm_i8x16_bitmask(wasm_v128_and(wasm_i8x16_eq(a, first), wasm_i8x16_eq(b, last)));
        while (mask) {
            int k = __builtin_ctz(mask);
            if (memcmp(t + i + k + 1, needle + 1, m - 2 < m ? m - 2 : 0) == 0) c++;
            mask &= mask - 1;
        }
    }
    for (; i + m <= n; i++) c += memcmp(t + i, needle, m) == 0;
#else
    for (size_t i = 0; i + m <= n; i++)
        if (t[i] == needle[0] && t[i + m - 1] == needle[m - 1] && memcmp(t + i + 1, needle + 1, m - 2 < m ? m - 2 : 0) == 0) c++;
#endif
    return c;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 40;
    static const char *words[] = { "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "wasm",
                                   "simd", "vector", "lane", "needle", "haystack" };
    uint32_t x = 3;
    size_t p = 0;
    while (p < N) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 14];
        size_t l = strlen(w);
        if (p + l + 1 > N) break;
        memcpy(text + p, w, l);
        p += l;
        text[p++] = (x >> 8) % 5 ? ' ' : '\n';
    }
    while (p < N) text[p++] = ' ';
    static const char *needles[] = { "needle", "haystack", "lazy dog", "e", "simd lane", "zebra" };
    uint32_t total = 0;
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < 6; k++) {
            size_t c = count(text + (r % 3), N - (r % 3), needles[k]);
            total = total * 3 + (uint32_t)c;
            if (r == 0) printf("%s: %zu\n", needles[k], c);
        }
    printf("search: %d reps, total %u\n", reps, total);
    return 0;
}
