/* qsort, a hand-written merge sort, and recursive algorithms (fib, ackermann,
 * n-queens, towers of Hanoi, permutations). */
#include <stdio.h>
#include <stdlib.h>

static int cmpint(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static int ack(int m, int n) { return m == 0 ? n + 1 : n == 0 ? ack(m - 1, 1) : ack(m - 1, ack(m, n - 1)); }
static int queens(int n, int row, unsigned cols, unsigned d1, unsigned d2)
{
    if (row == n) return 1;
    int c = 0;
    for (int i = 0; i < n; i++) {
        if ((cols >> i & 1) || (d1 >> (row + i) & 1) || (d2 >> (row - i + n) & 1)) continue;
        c += queens(n, row + 1, cols | 1u << i, d1 | 1u << (row + i), d2 | 1u << (row - i + n));
    }
    return c;
}
static long long hanoi(int n, int a, int b, int c, long long *chk)
{
    if (n == 0) return 0;
    long long m = hanoi(n - 1, a, c, b, chk);
    *chk = (*chk * 3 + a * 7 + c) % 1000000007;
    return m + 1 + hanoi(n - 1, c, b, a, chk);
}
static void msort(int *a, int *t, int n)
{
    if (n < 2) return;
    int h = n / 2;
    msort(a, t, h); msort(a + h, t, n - h);
    int i = 0, j = h, k = 0;
    while (i < h && j < n) t[k++] = a[i] <= a[j] ? a[i++] : a[j++];
    while (i < h) t[k++] = a[i++];
    while (j < n) t[k++] = a[j++];
    for (i = 0; i < n; i++) a[i] = t[i];
}
static int perms(int *a, int k, int n)
{
    if (k == n) return a[0] < a[n - 1];
    int c = 0;
    for (int i = k; i < n; i++) {
        int t = a[k]; a[k] = a[i]; a[i] = t;
        c += perms(a, k + 1, n);
        t = a[k]; a[k] = a[i]; a[i] = t;
    }
    return c;
}

int main(void)
{
    enum { N = 100000 };
    int *a = malloc(N * sizeof(int)), *b = malloc(N * sizeof(int)), *t = malloc(N * sizeof(int));
    unsigned x = 7;
    for (int i = 0; i < N; i++) { x = x * 1664525u + 1013904223u; a[i] = b[i] = (int)(x >> 3) - (1 << 27); }
    qsort(a, N, sizeof(int), cmpint);
    msort(b, t, N);
    int same = 1; long long s = 0;
    for (int i = 0; i < N; i++) { same &= a[i] == b[i]; s += (long long)a[i] * (i % 13); }
    printf("sorted same=%d min=%d max=%d median=%d wsum=%lld\n", same, a[0], a[N - 1], a[N / 2], s);
    printf("fib(27)=%d ack(2,300)=%d ack(3,5)=%d\n", fib(27), ack(2, 300), ack(3, 5));
    for (int n = 4; n <= 9; n++) printf("queens(%d)=%d ", n, queens(n, 0, 0, 0, 0));
    printf("\n");
    long long chk = 0;
    long long moves = hanoi(18, 1, 2, 3, &chk);
    printf("hanoi(18)=%lld chk=%lld\n", moves, chk);
    int p[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    printf("perms=%d\n", perms(p, 0, 8));
    free(a); free(b); free(t);
    return 0;
}
