/*
 * wd_array.c -- a growable array and a chunked list, both allocating from a pool.
 *
 * The array doubles its storage when full (the old storage stays in the pool
 * until the pool dies: pointers into an array are invalidated by a push).
 * The list adds a chunk instead, so element pointers stay valid (headers).
 */
#include "wd_core.h"

int
wd_array_init(wd_array_t *a, wd_pool_t *p, wd_uint_t n, size_t size)
{
    a->nelts = 0;
    a->size = size;
    a->nalloc = n ? n : 1;
    a->pool = p;
    a->elts = wd_palloc(p, a->nalloc * size);
    return a->elts ? WD_OK : WD_ERROR;
}

wd_array_t *
wd_array_create(wd_pool_t *p, wd_uint_t n, size_t size)
{
    wd_array_t *a = wd_palloc(p, sizeof(wd_array_t));
    if (a == NULL || wd_array_init(a, p, n, size) != WD_OK) {
        return NULL;
    }
    return a;
}

void *
wd_array_push_n(wd_array_t *a, wd_uint_t n)
{
    void *elt;

    if (a->nelts + n > a->nalloc) {
        wd_uint_t nalloc = 2 * wd_max(a->nalloc, n);
        void *m;
        if (a->nalloc == 0 && a->size == 0) {
            return NULL;
        }
        m = wd_palloc(a->pool, nalloc * a->size);
        if (m == NULL) {
            return NULL;
        }
        if (a->nelts) {
            memcpy(m, a->elts, a->nelts * a->size);
        }
        a->elts = m;
        a->nalloc = nalloc;
    }
    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;
    return elt;
}

void *
wd_array_push(wd_array_t *a)
{
    return wd_array_push_n(a, 1);
}

int
wd_list_init(wd_list_t *l, wd_pool_t *p, wd_uint_t n, size_t size)
{
    l->part.elts = wd_palloc(p, (n ? n : 1) * size);
    if (l->part.elts == NULL) {
        return WD_ERROR;
    }
    l->part.nelts = 0;
    l->part.next = NULL;
    l->last = &l->part;
    l->size = size;
    l->nalloc = n ? n : 1;
    l->pool = p;
    return WD_OK;
}

wd_list_t *
wd_list_create(wd_pool_t *p, wd_uint_t n, size_t size)
{
    wd_list_t *l = wd_palloc(p, sizeof(wd_list_t));
    if (l == NULL || wd_list_init(l, p, n, size) != WD_OK) {
        return NULL;
    }
    return l;
}

void *
wd_list_push(wd_list_t *l)
{
    wd_list_part_t *last = l->last;
    void *elt;

    if (last->nelts == l->nalloc) {
        last = wd_palloc(l->pool, sizeof(wd_list_part_t));
        if (last == NULL) {
            return NULL;
        }
        last->elts = wd_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }
        last->nelts = 0;
        last->next = NULL;
        l->last->next = last;
        l->last = last;
    }
    elt = (u_char *) last->elts + l->size * last->nelts;
    last->nelts++;
    return elt;
}
