/*
 * wd_palloc.c -- memory pools.
 *
 * A pool is a chain of blocks; small allocations bump a pointer in the
 * current block, allocations above a quarter of the block size get their own
 * malloc() and are kept on the "large" list (wd_pfree may release one early).
 * Cleanup handlers run in reverse registration order when the pool is reset
 * or destroyed. Out-of-memory returns NULL; callers propagate WD_ERROR.
 */
#include "wd_core.h"

typedef struct wd_pool_block_s {
    struct wd_pool_block_s *next;
    u_char                 *last;
    u_char                 *end;
} wd_pool_block_t;

typedef struct wd_pool_large_s {
    struct wd_pool_large_s *next;
    void                   *alloc;
    size_t                  size;
} wd_pool_large_t;

struct wd_pool_s {
    wd_pool_block_t    *first;
    wd_pool_block_t    *current;
    wd_pool_large_t    *large;
    wd_pool_cleanup_t  *cleanup;
    size_t              block_size;
    size_t              max_small;
    size_t              total;
};

#define WD_POOL_HDR wd_align(sizeof(wd_pool_block_t), WD_ALIGNMENT)

static wd_pool_block_t *
wd_pool_block_new(size_t size)
{
    wd_pool_block_t *b = malloc(size);
    if (b == NULL) {
        return NULL;
    }
    b->next = NULL;
    b->last = (u_char *) b + WD_POOL_HDR;
    b->end = (u_char *) b + size;
    return b;
}

wd_pool_t *
wd_pool_create(size_t size)
{
    wd_pool_t *p;

    if (size < 1024) {
        size = 1024;
    }
    p = malloc(sizeof(wd_pool_t));
    if (p == NULL) {
        return NULL;
    }
    p->first = wd_pool_block_new(size);
    if (p->first == NULL) {
        free(p);
        return NULL;
    }
    p->current = p->first;
    p->large = NULL;
    p->cleanup = NULL;
    p->block_size = size;
    p->max_small = (size - WD_POOL_HDR) / 4;
    p->total = size;
    return p;
}

static void
wd_pool_run_cleanups(wd_pool_t *pool)
{
    wd_pool_cleanup_t *c;

    while ((c = pool->cleanup) != NULL) {
        pool->cleanup = c->next;
        if (c->handler) {
            c->handler(c->data);
        }
    }
}

static void
wd_pool_free_large(wd_pool_t *pool)
{
    wd_pool_large_t *l, *n;

    for (l = pool->large; l; l = n) {
        n = l->next;
        free(l->alloc);
        free(l);
    }
    pool->large = NULL;
}

void
wd_pool_destroy(wd_pool_t *pool)
{
    wd_pool_block_t *b, *n;

    if (pool == NULL) {
        return;
    }
    wd_pool_run_cleanups(pool);
    wd_pool_free_large(pool);
    for (b = pool->first; b; b = n) {
        n = b->next;
        free(b);
    }
    free(pool);
}

void
wd_pool_reset(wd_pool_t *pool)
{
    wd_pool_block_t *b, *n;

    wd_pool_run_cleanups(pool);
    wd_pool_free_large(pool);
    for (b = pool->first->next; b; b = n) {
        n = b->next;
        free(b);
    }
    pool->first->next = NULL;
    pool->first->last = (u_char *) pool->first + WD_POOL_HDR;
    pool->current = pool->first;
    pool->total = pool->block_size;
}

static void *
wd_palloc_large(wd_pool_t *pool, size_t size)
{
    wd_pool_large_t *l = malloc(sizeof(wd_pool_large_t));
    if (l == NULL) {
        return NULL;
    }
    l->alloc = malloc(size ? size : 1);
    if (l->alloc == NULL) {
        free(l);
        return NULL;
    }
    l->size = size;
    l->next = pool->large;
    pool->large = l;
    pool->total += size;
    return l->alloc;
}

static void *
wd_palloc_small(wd_pool_t *pool, size_t size, int align)
{
    wd_pool_block_t *b;
    u_char *m;

    for (b = pool->current; b; b = b->next) {
        m = b->last;
        if (align) {
            m = (u_char *) wd_align((uintptr_t) m, WD_ALIGNMENT);
        }
        if (m <= b->end && (size_t) (b->end - m) >= size) {
            b->last = m + size;
            return m;
        }
    }
    b = wd_pool_block_new(pool->block_size);
    if (b == NULL) {
        return NULL;
    }
    pool->total += pool->block_size;
    /* append; skip the current block forward once the chain is long, like nginx */
    {
        wd_pool_block_t *t = pool->current;
        while (t->next) {
            t = t->next;
        }
        t->next = b;
        if (pool->current->end - pool->current->last < 64) {
            pool->current = pool->current->next;
        }
    }
    m = b->last;
    b->last = m + size;
    return m;
}

void *
wd_palloc(wd_pool_t *pool, size_t size)
{
    if (size <= pool->max_small) {
        return wd_palloc_small(pool, size, 1);
    }
    return wd_palloc_large(pool, size);
}

void *
wd_pnalloc(wd_pool_t *pool, size_t size)
{
    if (size <= pool->max_small) {
        return wd_palloc_small(pool, size, 0);
    }
    return wd_palloc_large(pool, size);
}

void *
wd_pcalloc(wd_pool_t *pool, size_t size)
{
    void *p = wd_palloc(pool, size);
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

int
wd_pfree(wd_pool_t *pool, void *p)
{
    wd_pool_large_t **pl, *l;

    for (pl = &pool->large; (l = *pl) != NULL; pl = &l->next) {
        if (l->alloc == p) {
            *pl = l->next;
            pool->total -= l->size;
            free(l->alloc);
            free(l);
            return WD_OK;
        }
    }
    return WD_DECLINED;
}

wd_pool_cleanup_t *
wd_pool_cleanup_add(wd_pool_t *pool, size_t data_size)
{
    wd_pool_cleanup_t *c = wd_palloc(pool, sizeof(wd_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }
    c->data = NULL;
    if (data_size) {
        c->data = wd_pcalloc(pool, data_size);
        if (c->data == NULL) {
            return NULL;
        }
    }
    c->handler = NULL;
    c->next = pool->cleanup;
    pool->cleanup = c;
    return c;
}

u_char *
wd_pstrdup(wd_pool_t *pool, const wd_str_t *src)
{
    u_char *d = wd_pnalloc(pool, src->len + 1);
    if (d == NULL) {
        return NULL;
    }
    if (src->len) {
        memcpy(d, src->data, src->len);
    }
    d[src->len] = '\0';
    return d;
}

char *
wd_pstrdup_c(wd_pool_t *pool, const char *src)
{
    wd_str_t s;
    s.len = strlen(src);
    s.data = (u_char *) src;
    return (char *) wd_pstrdup(pool, &s);
}

int
wd_pstr_copy(wd_pool_t *pool, wd_str_t *dst, const u_char *data, size_t len)
{
    wd_str_t s;
    s.len = len;
    s.data = (u_char *) data;
    dst->data = wd_pstrdup(pool, &s);
    if (dst->data == NULL) {
        dst->len = 0;
        return WD_ERROR;
    }
    dst->len = len;
    return WD_OK;
}

size_t
wd_pool_size(wd_pool_t *pool)
{
    return pool->total;
}
