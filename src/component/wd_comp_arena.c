/*
 * wd_comp_arena.c -- the load arena: every type, name, parsed component and plan row of
 * one component lives here and is freed at once with it. Allocation goes through the
 * engine's allocator (wd_wasm_malloc), so fault-injection tests reach it too.
 */
#include <stdlib.h>
#include "wd_comp_int.h"

struct wd_comp_chunk {
    wd_comp_chunk_t *next;
    size_t size;
    /* data follows, 16-aligned */
    max_align_t data[];
};

void *
wd_comp_alloc(wd_comp_arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t) 15;
    if (n == 0) {
        n = 16;
    }
    if (a->head == NULL || a->cap - a->used < n) {
        size_t sz = n > 65536 - sizeof(wd_comp_chunk_t) ? n : 65536 - sizeof(wd_comp_chunk_t);
        wd_comp_chunk_t *ch;
        if (n > ((size_t) 1 << 40)) {
            return NULL;
        }
        ch = wd_wasm_malloc(sizeof(*ch) + sz);
        if (ch == NULL) {
            return NULL;
        }
        ch->size = sz;
        ch->next = a->head;
        a->head = ch;
        a->used = 0;
        a->cap = sz;
    }
    void *p = (char *) a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *
wd_comp_strndup(wd_comp_arena_t *a, const char *s, size_t n)
{
    char *d = wd_comp_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void
wd_comp_arena_free(wd_comp_arena_t *a)
{
    while (a->head) {
        wd_comp_chunk_t *n = a->head->next;
        wd_wasm_free(a->head);
        a->head = n;
    }
    a->used = a->cap = 0;
}

int
wd_comp_grow(wd_comp_arena_t *a, void **elts, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap) {
        return 0;
    }
    uint32_t nc = *cap ? *cap * 2 : 8;
    if (nc <= n || nc > 16u * 1024 * 1024) {
        return -1;
    }
    void *ne = wd_comp_alloc(a, (size_t) nc * size);
    if (ne == NULL) {
        return -1;
    }
    if (*elts && n) {
        memcpy(ne, *elts, (size_t) n * size);
    }
    *elts = ne;
    *cap = nc;
    return 0;
}
