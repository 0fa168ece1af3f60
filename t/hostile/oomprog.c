/* oomprog.c -- a small real C program compiled to wasm32-wasi by t/hostile/run at test
 * time; the allocation-failure test loads and instantiates it with every allocation
 * failing in turn. It is never run: only its shape matters (wasi-libc's malloc, stdio,
 * tables of function pointers, data and bss segments, a mutable stack-pointer global). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*op_fn)(int, int);
static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static op_fn ops[] = { add, sub, mul };
static const char *names[] = { "add", "sub", "mul" };
static char scratch[4096];

int main(int argc, char **argv)
{
    int acc = argc;
    char *buf = malloc(1024);
    if (buf == NULL) return 1;
    for (int i = 0; i < 100; i++) {
        acc = ops[i % 3](acc, i);
        snprintf(buf, 1024, "%s %d", names[i % 3], acc);
        strncat(scratch, buf, sizeof scratch - strlen(scratch) - 1);
    }
    printf("%s\n%d\n", scratch, acc);
    free(buf);
    return argv[0][0] == 'x';
}
