/* Call-heavy: naive recursive Fibonacci plus a mutually recursive pair through
 * a function pointer table (indirect calls). */
#include <stdio.h>
#include <stdlib.h>

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

typedef unsigned (*step_fn)(unsigned, int);
static unsigned even_step(unsigned x, int d);
static unsigned odd_step(unsigned x, int d);
static step_fn volatile table[2] = { even_step, odd_step };
static unsigned even_step(unsigned x, int d) { return d == 0 ? x : table[(x + 1) & 1](x * 3 + 1, d - 1); }
static unsigned odd_step(unsigned x, int d) { return d == 0 ? x : table[(x >> 1) & 1](x / 2 + 7, d - 1); }

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 45;
    unsigned acc = 0;
    for (int i = 0; i < 200000; i++) acc += table[i & 1]((unsigned)i, 50);
    printf("fib(%d)=%d acc=%u\n", n, fib(n), acc);
    return 0;
}
