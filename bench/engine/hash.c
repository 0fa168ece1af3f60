/* Integer-heavy: 64-bit mixing hash (xorshift-multiply) and CRC32 over a buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t crc_table[256];

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 500;
    enum { N = 1 << 20 };
    uint8_t *buf = malloc(N);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; buf[i] = (uint8_t)x; }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    uint64_t h = 0;
    uint32_t crc = 0xffffffffu;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i + 8 <= N; i += 8) {
            uint64_t v = (uint64_t)buf[i] | (uint64_t)buf[i + 1] << 8 | (uint64_t)buf[i + 2] << 16 |
                         (uint64_t)buf[i + 3] << 24 | (uint64_t)buf[i + 4] << 32 | (uint64_t)buf[i + 5] << 40 |
                         (uint64_t)buf[i + 6] << 48 | (uint64_t)buf[i + 7] << 56;
            h ^= v + (uint64_t)r;
            h *= 0x9e3779b97f4a7c15ull;
            h ^= h >> 29;
        }
        for (int i = 0; i < N; i++) crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    }
    printf("hash %016llx crc %08x\n", (unsigned long long)h, crc ^ 0xffffffffu);
    free(buf);
    return 0;
}
