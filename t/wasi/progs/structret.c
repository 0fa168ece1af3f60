/* Functions returning small structs: under the multi-value C ABI (the "mv"
 * variant) they return several values at once. */
#include <stdio.h>

typedef struct { long long a; int b; } pair_t;
typedef struct { double re, im; } cplx_t;
typedef struct { int x, y, z; } vec3_t;

__attribute__((noinline)) static pair_t mk(int x) { pair_t p = { (long long)x * 3, x + 1 }; return p; }
__attribute__((noinline)) static cplx_t cmul(cplx_t a, cplx_t b)
{
    cplx_t r = { a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re };
    return r;
}
__attribute__((noinline)) static vec3_t cross(vec3_t a, vec3_t b)
{
    vec3_t r = { a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x };
    return r;
}

/* One multi-value caller per function: clang 14's WebAssembly register stackifier
 * crashes on a function with several such call sites in loops. */
__attribute__((noinline)) static void run_pairs(void)
{
    long long s = 0;
    for (int i = 0; i < 1000; i++) { pair_t p = mk(i); s += p.a * p.b; }
    printf("pairs %lld\n", s);
}

__attribute__((noinline)) static void run_cplx(void)
{
    cplx_t z = { 1.0, 0.0 }, w = { 0.6, 0.8 };
    for (int i = 0; i < 37; i++) z = cmul(z, w);
    printf("cplx %.12f %.12f\n", z.re, z.im);
}

__attribute__((noinline)) static void run_vec(void)
{
    vec3_t v = { 1, 2, 3 }, u = { 4, 5, 6 };
    for (int i = 0; i < 10; i++) { vec3_t c = cross(v, u); v = u; u = (vec3_t){ c.x % 1000, c.y % 1000, c.z % 1000 }; }
    printf("vec %d %d %d\n", u.x, u.y, u.z);
}

int main(void)
{
    run_pairs();
    run_cplx();
    run_vec();
    return 0;
}
