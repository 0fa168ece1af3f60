/* Integer-heavy: sieve of Eratosthenes over a byte array, repeated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 130;
    enum { N = 4000000 };
    unsigned char *s = malloc(N + 1);
    unsigned long long total = 0;
    for (int r = 0; r < reps; r++) {
        memset(s, 1, N + 1);
        s[0] = s[1] = 0;
        for (unsigned i = 2; (unsigned long long)i * i <= N; i++)
            if (s[i]) for (unsigned j = i * i; j <= N; j += i) s[j] = 0;
        unsigned count = 0;
        for (unsigned i = 0; i <= N; i++) count += s[i];
        total += count + (unsigned)r;
    }
    printf("sieve %llu\n", total);
    free(s);
    return 0;
}
