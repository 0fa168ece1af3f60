/*
 * The per-request value arena of the Canonical ABI layer: bump allocation in chunks taken
 * from wd_wasm_malloc; reset and release keep the chunks for the next request, so a steady
 * state allocates nothing.
 */
#include "wd_cabi.h"

#include <string.h>

struct wd_cabi_chunk_s {
    wd_cabi_chunk_t *next;      /* older chunk (in use) or next spare */
    size_t size;                /* bytes of data */
    uint8_t *data;
};

#define CHUNK_MIN (64 * 1024)
#define ARENA_DEFAULT_LIMIT ((size_t)64 << 20)

void *
wd_cabi_arena_alloc(wd_cabi_arena_t *a, size_t n, size_t align)
{
    size_t limit = a->limit ? a->limit : ARENA_DEFAULT_LIMIT;
    if (n > limit || a->used_total + n > limit)
        return NULL;
    if (a->cur) {
        uintptr_t p = ((uintptr_t)a->cur + align - 1) & ~(uintptr_t)(align - 1);
        if (p <= (uintptr_t)a->end && (uintptr_t)a->end - p >= n) {
            a->cur = (uint8_t *)p + n;
            a->used_total += n;
            return (void *)p;
        }
    }
    size_t need = n + align;
    wd_cabi_chunk_t **pp = &a->spare, *c;
    while ((c = *pp) && c->size < need)
        pp = &c->next;
    if (c) {
        *pp = c->next;
    } else {
        size_t sz = need > CHUNK_MIN ? need : CHUNK_MIN;
        c = wd_wasm_malloc(sizeof *c + sz);
        if (!c)
            return NULL;
        c->size = sz;
        c->data = (uint8_t *)(c + 1);
    }
    c->next = a->head;
    a->head = c;
    uintptr_t p = ((uintptr_t)c->data + align - 1) & ~(uintptr_t)(align - 1);
    a->cur = (uint8_t *)p + n;
    a->end = c->data + c->size;
    a->used_total += n;
    return (void *)p;
}

wd_cabi_arena_mark_t
wd_cabi_arena_mark(const wd_cabi_arena_t *a)
{
    wd_cabi_arena_mark_t m = { a->head, a->cur, a->end, a->used_total };
    return m;
}

void
wd_cabi_arena_release(wd_cabi_arena_t *a, wd_cabi_arena_mark_t m)
{
    while (a->head && a->head != m.head) {
        wd_cabi_chunk_t *c = a->head;
        a->head = c->next;
        c->next = a->spare;
        a->spare = c;
    }
    a->cur = m.cur;
    a->end = m.end;
    a->used_total = m.used_total;
}

void
wd_cabi_arena_reset(wd_cabi_arena_t *a)
{
    wd_cabi_arena_mark_t m = { NULL, NULL, NULL, 0 };
    wd_cabi_arena_release(a, m);
}

void
wd_cabi_arena_free(wd_cabi_arena_t *a)
{
    wd_cabi_arena_reset(a);
    while (a->spare) {
        wd_cabi_chunk_t *c = a->spare;
        a->spare = c->next;
        wd_wasm_free(c);
    }
}
