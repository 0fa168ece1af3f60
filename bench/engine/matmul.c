/* Floating point: dense double matrix multiply (i-k-j order), repeated. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 200;
    enum { N = 320 };
    double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N),
           *c = malloc(sizeof(double) * N * N);
    for (int i = 0; i < N * N; i++) { a[i] = (i % 17) * 0.25 - 2.0; b[i] = (i % 13) * 0.5 + 0.125; }
    double tr = 0;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < N * N; i++) c[i] = 0;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double aik = a[i * N + k];
                for (int j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
            }
        for (int i = 0; i < N; i++) tr += c[i * N + i];
        a[r % (N * N)] += 1.0;
    }
    printf("matmul %.6f\n", tr);
    free(a); free(b); free(c);
    return 0;
}
