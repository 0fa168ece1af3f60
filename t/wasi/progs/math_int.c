/* Integer arithmetic edge cases printed with printf: division and remainder of
 * negative numbers, shifts, wrap-around, 64-bit products, conversions, bit ops. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

static volatile int32_t vi[] = { 0, 1, -1, 7, -7, 3, -3, INT32_MAX, INT32_MIN, 123456789, -98765 };
static volatile int64_t vl[] = { 0, 1, -1, 1000000007LL, -999999999999LL, INT64_MAX, INT64_MIN, 0x123456789abcdefLL };

static uint32_t rotl32(uint32_t x, unsigned r) { return (x << (r & 31)) | (x >> ((32 - r) & 31)); }

int main(void)
{
    int n = sizeof(vi) / sizeof(vi[0]), m = sizeof(vl) / sizeof(vl[0]);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            int32_t a = vi[i], b = vi[j];
            if (b != 0 && !(a == INT32_MIN && b == -1))
                printf("%d/%d=%d %%=%d ", a, b, a / b, a % b);
            printf("u%u/%u=%u ", (uint32_t)a, (uint32_t)b ? (uint32_t)b : 1u,
                   (uint32_t)a / ((uint32_t)b ? (uint32_t)b : 1u));
            printf("+%d *%d -%d\n", (int32_t)((uint32_t)a + (uint32_t)b),
                   (int32_t)((uint32_t)a * (uint32_t)b), (int32_t)((uint32_t)a - (uint32_t)b));
        }
        int32_t a = vi[i];
        printf("shifts %d: %d %d %u %u clz=%d ctz=%d pop=%d rotl=%u\n", a, a >> 3, (int32_t)((uint32_t)a << 5),
               (uint32_t)a >> 7, rotl32((uint32_t)a, 13), a ? __builtin_clz((uint32_t)a) : 32,
               a ? __builtin_ctz((uint32_t)a) : 32, __builtin_popcount((uint32_t)a), rotl32((uint32_t)a, 31));
        printf("ext %d %d %d %lld %llu\n", (int8_t)a, (int16_t)a, (uint8_t)a, (long long)a,
               (unsigned long long)(uint32_t)a);
    }
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++) {
            int64_t a = vl[i], b = vl[j];
            if (b != 0 && !(a == INT64_MIN && b == -1))
                printf("%" PRId64 "/%" PRId64 "=%" PRId64 " %%=%" PRId64 " ", a, b, a / b, a % b);
            printf("u*=%" PRIu64 " ^=%" PRIx64 " |=%" PRIo64 "\n", (uint64_t)a * (uint64_t)b,
                   (uint64_t)(a ^ b), (uint64_t)(a | b));
        }
        int64_t a = vl[i];
        printf("l %" PRId64 ": >>%" PRId64 " >>>%" PRIu64 " clz=%d pop=%d i32=%d\n", a, a >> 17,
               (uint64_t)a >> 40, a ? __builtin_clzll((uint64_t)a) : 64, __builtin_popcountll((uint64_t)a),
               (int32_t)a);
    }
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < 100000; i++) { h ^= i * 2654435761u; h *= 1099511628211ULL; }
    printf("fnv %016" PRIx64 " %llu\n", h, (unsigned long long)(h % 1000003));
    printf("limits %d %d %lld %lld %u\n", INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN, UINT_MAX);
    printf("fmt [%5d] [%-5d] [%05d] [%+d] [%x] [%X] [%#o] [%c] [%%]\n", 42, 42, 42, 42, 255, 255, 8, 'w');
    return 0;
}
