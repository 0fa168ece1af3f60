/* Floating point: exact operations printed at full precision, libm functions at
 * 10 significant digits (libm implementations may differ in the last ulp),
 * conversions, special values (NaN, inf, -0) and their printing. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double vd[] = { 0.0, -0.0, 1.0, -1.5, 3.141592653589793, 1e300, -1e-300, 2.5, 0.1,
                                 123456789.125, 4503599627370497.0 };
static volatile float vf[] = { 0.0f, 1.0f, -2.75f, 3.4e38f, 1e-38f, 0.3f, 16777217.0f };

int main(void)
{
    int nd = sizeof(vd) / sizeof(vd[0]), nf = sizeof(vf) / sizeof(vf[0]);
    for (int i = 0; i < nd; i++) {
        for (int j = 0; j < nd; j++) {
            double a = vd[i], b = vd[j];
            printf("%.17g %.17g: + %.17g - %.17g * %.17g / %.17g\n", a, b, a + b, a - b, a * b, a / b);
        }
        double a = vd[i];
        printf("%g: sqrt=%.17g floor=%g ceil=%g trunc=%g round=%g rint=%g fabs=%g %e %f %a\n", a, sqrt(fabs(a)),
               floor(a), ceil(a), trunc(a), round(a), rint(a), fabs(a), a, a, a);
        printf("  sin=%.10g cos=%.10g exp=%.10g log=%.10g pow=%.10g atan2=%.10g fmod=%.17g\n", sin(a), cos(a),
               exp(a / 1e299), log(fabs(a) + 1), pow(fabs(a), 0.5), atan2(a, 2.0), fmod(a, 0.7));
        if (fabs(a) < 9e18) printf("  toint %lld %d\n", (long long)a, fabs(a) < 2e9 ? (int)a : -1);
        printf("  tofloat %.9g\n", (double)(float)a);
    }
    for (int i = 0; i < nf; i++) {
        float a = vf[i];
        printf("f %.9g: %.9g %.9g %.9g sqrtf=%.9g floorf=%g fmaf=%.9g\n", a, a * 3.0f, a / 7.0f, a + 1e-3f,
               sqrtf(a), floorf(a), fmaf(a, a, -1.0f));
        if (fabsf(a) < 2e9f) printf("  %d %u\n", (int)a, a >= 0 ? (unsigned)a : 0u);
    }
    double nan = NAN, inf = INFINITY, nz = -0.0;
    printf("nan %f %g %e inf %f %g -inf %f neg0 %g %f\n", nan, nan, nan, inf, inf, -inf, nz, nz);
    printf("cmp %d %d %d %d %d\n", nan == nan, nan < 1.0, inf > DBL_MAX, nz == 0.0, signbit(nz) != 0);
    printf("isnan %d isinf %d isfinite %d fpclass %d %d\n", isnan(nan) != 0, isinf(-inf) != 0, isfinite(1.0) != 0,
           fpclassify(0.0) == FP_ZERO, fpclassify(1e-310) == FP_SUBNORMAL);
    printf("minmax %g %g %g %g\n", fmin(1.0, nan), fmax(nan, 2.0), fmin(-0.0, 0.0), copysign(3.0, -0.0));
    printf("eps %.17g %.9g max %.17g min %.17g\n", DBL_EPSILON, (double)FLT_EPSILON, DBL_MAX, DBL_MIN);
    uint64_t bits; double d = 1.0 / 3.0; memcpy(&bits, &d, 8);
    printf("bits %016llx\n", (unsigned long long)bits);
    float fsum = 0; double dsum = 0;
    for (int i = 1; i <= 100000; i++) { fsum += 1.0f / (float)i; dsum += 1.0 / ((double)i * i); }
    printf("sums %.9g %.17g\n", fsum, dsum);
    printf("conv %u %lld %.17g %.9g\n", (unsigned)(double)4294967295.0, (long long)-9.2e18, (double)(1ULL << 63),
           (float)(1ULL << 63));
    printf("strtod %.17g %.17g %g\n", strtod("0.1e-5", NULL) * 1e5, atof("2.5e10"), strtod("-inf", NULL));
    return 0;
}
