/*
 * wd_t_modbuf.h -- a tiny Wasm binary builder for the engine's Check suites:
 * a growable byte buffer, LEB128 writers and section framing. Header-only
 * (static functions), included by the t/wasm tests that assemble modules
 * byte by byte.
 */
#ifndef WD_T_MODBUF_H
#define WD_T_MODBUF_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *b;
    size_t n, cap;
} buf_t;

static inline void put(buf_t *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->b = realloc(b->b, b->cap);
        ck_assert_ptr_nonnull(b->b);
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static inline void put1(buf_t *b, uint8_t c) { put(b, &c, 1); }

/* unsigned LEB128 */
static inline void leb(buf_t *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v) c |= 0x80;
        put1(b, c);
    } while (v);
}

/* signed LEB128 */
static inline void sleb(buf_t *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) { put1(b, c); return; }
        put1(b, c | 0x80);
    }
}

/* section id, its size, its content */
static inline void section(buf_t *mod, uint8_t id, const buf_t *content)
{
    put1(mod, id);
    leb(mod, content->n);
    put(mod, content->b, content->n);
}

static inline void header(buf_t *mod) { put(mod, "\0asm\1\0\0\0", 8); }

#endif
