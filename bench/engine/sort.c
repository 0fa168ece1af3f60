/* Memory-heavy: quicksort of a large int array plus a random pointer chase
 * through a shuffled permutation (cache-unfriendly loads). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void quicksort(int32_t *a, long lo, long hi)
{
    while (lo < hi) {
        int32_t p = a[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    enum { N = 4000000, M = 1 << 22 };
    int32_t *a = malloc(sizeof(int32_t) * N);
    uint32_t *next = malloc(sizeof(uint32_t) * M);
    uint32_t x = 2463534242u;
    long long chk = 0;
    for (int r = 0; r < reps; r++) {
        for (long i = 0; i < N; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; a[i] = (int32_t)x; }
        quicksort(a, 0, N - 1);
        for (long i = 1; i < N; i++) if (a[i - 1] > a[i]) { printf("not sorted\n"); return 1; }
        chk += a[N / 3] % 1000;
    }
    for (uint32_t i = 0; i < M; i++) next[i] = i;
    for (uint32_t i = M - 1; i > 0; i--) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t j = x % (i + 1), t = next[i]; next[i] = next[j]; next[j] = t;
    }
    uint32_t p = 0;
    for (long k = 0; k < 20000000L * reps / 3; k++) p = next[p];
    printf("sort chk=%lld chase=%u\n", chk, p);
    free(a); free(next);
    return 0;
}
