/*
 * wd_wasm_util.c -- the engine's allocator hooks, error formatting and LEB128.
 *
 * Every allocation the engine makes goes through wd_wasm_malloc & co., which
 * call the hooks installed with wd_wasm_set_allocator() (tests use this to
 * fail the Nth allocation). LEB128 readers follow spec binary/values.rst:
 * at most ceil(N/7) bytes, and the unused bits of the last byte must be zero
 * (unsigned) or a sign extension (signed).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wd_wasm_int.h"

static void *wd_wasm_libc_malloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void *wd_wasm_libc_realloc(void *p, size_t n, void *ud) { (void)ud; return realloc(p, n); }
static void wd_wasm_libc_free(void *p, void *ud) { (void)ud; free(p); }

static wd_wasm_allocator_t wd_wasm_alloc = {
    wd_wasm_libc_malloc, wd_wasm_libc_realloc, wd_wasm_libc_free, NULL
};

void wd_wasm_set_allocator(const wd_wasm_allocator_t *a)
{
    if (a == NULL) {
        wd_wasm_alloc.malloc_fn = wd_wasm_libc_malloc;
        wd_wasm_alloc.realloc_fn = wd_wasm_libc_realloc;
        wd_wasm_alloc.free_fn = wd_wasm_libc_free;
        wd_wasm_alloc.ud = NULL;
    } else {
        wd_wasm_alloc = *a;
    }
}

/* The loader only uses threads with libc's allocator: an embedder's hooks (and the
 * tests' fail-the-Nth-allocation hook) need not be thread-safe or order-independent. */
int wd_wasm_allocator_is_default(void) { return wd_wasm_alloc.malloc_fn == wd_wasm_libc_malloc; }

void *wd_wasm_malloc(size_t n) { return wd_wasm_alloc.malloc_fn(n ? n : 1, wd_wasm_alloc.ud); }

void *wd_wasm_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    size_t total = n * size;
    void *p = wd_wasm_malloc(total);
    if (p) memset(p, 0, total ? total : 1);
    return p;
}

void *wd_wasm_realloc(void *p, size_t n) { return wd_wasm_alloc.realloc_fn(p, n ? n : 1, wd_wasm_alloc.ud); }

void wd_wasm_free(void *p) { if (p) wd_wasm_alloc.free_fn(p, wd_wasm_alloc.ud); }

char *wd_wasm_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = wd_wasm_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void wd_wasm_set_error(wd_wasm_error_t *err, int64_t offset, int64_t func_index,
                       const char *fmt, ...)
{
    if (err == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->offset = offset;
    err->func_index = func_index;
}

/* spec binary/values.rst: unsigned LEB128 of at most ceil(32/7) = 5 bytes. */
int wd_wasm_read_u32(const uint8_t **pp, const uint8_t *end, uint32_t *out, const char **why)
{
    const uint8_t *p = *pp;
    uint32_t r = 0;
    for (int i = 0; i < 5; i++) {
        if (p >= end) { *why = "unexpected end"; return -1; }
        uint8_t b = *p++;
        if (i == 4) {
            if (b & 0x80) { *why = "integer representation too long"; return -1; }
            if (b & 0x70) { *why = "integer too large"; return -1; }
        }
        r |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) { *pp = p; *out = r; return 0; }
    }
    *why = "integer representation too long";
    return -1;
}

static int wd_wasm_read_sleb(const uint8_t **pp, const uint8_t *end, int bits, int64_t *out,
                             const char **why)
{
    const uint8_t *p = *pp;
    uint64_t r = 0;
    int maxbytes = (bits + 6) / 7;
    for (int i = 0; i < maxbytes; i++) {
        if (p >= end) { *why = "unexpected end"; return -1; }
        uint8_t b = *p++;
        int shift = 7 * i;
        if (i == maxbytes - 1) {
            if (b & 0x80) { *why = "integer representation too long"; return -1; }
            /* bits of this byte beyond the value's width must equal its sign bit */
            int used = bits - shift;               /* 1..7 payload bits used */
            int sign = (b >> (used - 1)) & 1;
            uint8_t rest = (uint8_t)((b & 0x7f) >> used);
            uint8_t want = sign ? (uint8_t)(0x7f >> used) : 0;
            if (rest != want) { *why = "integer too large"; return -1; }
        }
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            shift += 7;
            if (shift < 64 && (b & 0x40)) r |= ~(uint64_t)0 << shift;
            *pp = p;
            *out = (int64_t)r;
            return 0;
        }
    }
    *why = "integer representation too long";
    return -1;
}

int wd_wasm_read_s32(const uint8_t **p, const uint8_t *end, int32_t *out, const char **why)
{
    int64_t v;
    if (wd_wasm_read_sleb(p, end, 32, &v, why) < 0) return -1;
    *out = (int32_t)v;
    return 0;
}

int wd_wasm_read_s33(const uint8_t **p, const uint8_t *end, int64_t *out, const char **why)
{
    return wd_wasm_read_sleb(p, end, 33, out, why);
}

int wd_wasm_read_s64(const uint8_t **p, const uint8_t *end, int64_t *out, const char **why)
{
    return wd_wasm_read_sleb(p, end, 64, out, why);
}
