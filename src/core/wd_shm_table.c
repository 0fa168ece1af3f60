/*
 * wd_shm_table.c -- a hash table of fixed-size records in shared memory (see
 * wd_shm_table.h).
 *
 * Memory: the header, nbuckets hash heads, then nslots slots of slot_size bytes. A slot
 * is on exactly one list: the free list (via next) or the used list (prev/next, most
 * recently used at head) plus one hash chain (hnext).
 */
#include "wd_core.h"
#include "wd_shm_table.h"

#include <openssl/sha.h>

#define WD_ST_NONE    0xffffffffu
#define WD_ST_DIGEST  0xffffu       /* klen of a key stored as its SHA-256 */

typedef struct {
    uint32_t    hnext;
    uint32_t    prev;
    uint32_t    next;
    uint32_t    hash;
    uint16_t    klen;
    uint16_t    used;
    uint32_t    pad;
    u_char      key[];              /* key_max bytes, then the value (8-aligned) */
} wd_st_slot_t;

struct wd_shm_table_s {
    uint32_t    nslots;
    uint32_t    nbuckets;
    uint32_t    head;               /* most recently used */
    uint32_t    tail;               /* least recently used */
    uint32_t    free;
    uint32_t    count;
    uint32_t    slot_size;
    uint32_t    key_max;
    uint32_t    value_off;          /* from the slot's start */
    uint32_t    value_size;
    uint64_t    slots_off;          /* from the table's start */
    uint32_t    buckets[];
};

static wd_st_slot_t *
wd_st_slot(wd_shm_table_t *t, uint32_t i)
{
    return (wd_st_slot_t *) ((u_char *) t + t->slots_off + (size_t) i * t->slot_size);
}

static uint32_t
wd_st_hash(const u_char *key, size_t len)
{
    uint32_t h = 2166136261u;
    while (len--) {
        h = (h ^ *key++) * 16777619u;
    }
    return h;
}

wd_shm_table_t *
wd_shm_table_init(void *mem, size_t size, size_t key_max, size_t value_size)
{
    wd_shm_table_t *t = mem;
    size_t slot, n, head;

    if (key_max < SHA256_DIGEST_LENGTH || key_max > 0xfff0 || size < sizeof(*t)) {
        return NULL;
    }
    slot = (sizeof(wd_st_slot_t) + key_max + 7) & ~(size_t) 7;
    value_size = (value_size + 7) & ~(size_t) 7;
    n = (size - sizeof(*t) - 64) / (slot + value_size + sizeof(uint32_t));
    if (n < 8 || n > 0x7fffffff) {
        return NULL;
    }
    head = (sizeof(*t) + n * sizeof(uint32_t) + 63) & ~(size_t) 63;
    if (head + n * (slot + value_size) > size) {
        n--;
    }
    t->nslots = (uint32_t) n;
    t->nbuckets = (uint32_t) n;
    t->slot_size = (uint32_t) (slot + value_size);
    t->key_max = (uint32_t) key_max;
    t->value_off = (uint32_t) slot;
    t->value_size = (uint32_t) value_size;
    t->slots_off = head;
    wd_shm_table_reset(t);
    return t;
}

void
wd_shm_table_reset(wd_shm_table_t *t)
{
    uint32_t i;

    for (i = 0; i < t->nbuckets; i++) {
        t->buckets[i] = WD_ST_NONE;
    }
    for (i = 0; i < t->nslots; i++) {
        wd_st_slot_t *s = wd_st_slot(t, i);
        s->next = i + 1 < t->nslots ? i + 1 : WD_ST_NONE;
        s->prev = s->hnext = WD_ST_NONE;
        s->used = 0;
    }
    t->free = t->nslots ? 0 : WD_ST_NONE;
    t->head = t->tail = WD_ST_NONE;
    t->count = 0;
}

static void
wd_st_unlink_lru(wd_shm_table_t *t, wd_st_slot_t *s)
{
    if (s->prev != WD_ST_NONE) {
        wd_st_slot(t, s->prev)->next = s->next;
    } else {
        t->head = s->next;
    }
    if (s->next != WD_ST_NONE) {
        wd_st_slot(t, s->next)->prev = s->prev;
    } else {
        t->tail = s->prev;
    }
}

static void
wd_st_push_head(wd_shm_table_t *t, wd_st_slot_t *s, uint32_t i)
{
    s->prev = WD_ST_NONE;
    s->next = t->head;
    if (t->head != WD_ST_NONE) {
        wd_st_slot(t, t->head)->prev = i;
    } else {
        t->tail = i;
    }
    t->head = i;
}

static void
wd_st_drop(wd_shm_table_t *t, uint32_t i)
{
    wd_st_slot_t *s = wd_st_slot(t, i);
    uint32_t *pp = &t->buckets[s->hash % t->nbuckets];

    while (*pp != WD_ST_NONE && *pp != i) {
        pp = &wd_st_slot(t, *pp)->hnext;
    }
    if (*pp == i) {
        *pp = s->hnext;
    }
    wd_st_unlink_lru(t, s);
    s->hnext = s->prev = WD_ST_NONE;
    s->used = 0;
    s->next = t->free;
    t->free = i;
    t->count--;
}

void *
wd_shm_table_get(wd_shm_table_t *t, const u_char *key, size_t len, int mode, int *created)
{
    u_char digest[SHA256_DIGEST_LENGTH];
    uint32_t hash, i, klen = (uint32_t) len;
    wd_st_slot_t *s;

    if (created) {
        *created = 0;
    }
    if (len > t->key_max) {
        SHA256(key, len, digest);
        key = digest;
        len = sizeof(digest);
        klen = WD_ST_DIGEST;
    }
    hash = wd_st_hash(key, len);
    for (i = t->buckets[hash % t->nbuckets]; i != WD_ST_NONE; i = s->hnext) {
        s = wd_st_slot(t, i);
        if (s->hash == hash && s->klen == klen && memcmp(s->key, key, len) == 0) {
            if (t->head != i) {
                wd_st_unlink_lru(t, s);
                wd_st_push_head(t, s, i);
            }
            return (u_char *) s + t->value_off;
        }
    }
    if (mode == WD_SHM_TABLE_FIND) {
        return NULL;
    }
    if (t->free == WD_ST_NONE) {
        if (mode != WD_SHM_TABLE_EVICT || t->tail == WD_ST_NONE) {
            return NULL;
        }
        wd_st_drop(t, t->tail);
    }
    i = t->free;
    s = wd_st_slot(t, i);
    t->free = s->next;
    s->hash = hash;
    s->klen = (uint16_t) klen;
    s->used = 1;
    memcpy(s->key, key, len);
    memset((u_char *) s + t->value_off, 0, t->value_size);
    s->hnext = t->buckets[hash % t->nbuckets];
    t->buckets[hash % t->nbuckets] = i;
    wd_st_push_head(t, s, i);
    t->count++;
    if (created) {
        *created = 1;
    }
    return (u_char *) s + t->value_off;
}

void
wd_shm_table_remove(wd_shm_table_t *t, void *value)
{
    size_t off = (size_t) ((u_char *) value - t->value_off - ((u_char *) t + t->slots_off));
    uint32_t i = (uint32_t) (off / t->slot_size);

    if (off % t->slot_size == 0 && i < t->nslots && wd_st_slot(t, i)->used) {
        wd_st_drop(t, i);
    }
}

void *
wd_shm_table_oldest(wd_shm_table_t *t)
{
    return t->tail == WD_ST_NONE ? NULL : (u_char *) wd_st_slot(t, t->tail) + t->value_off;
}

wd_uint_t
wd_shm_table_count(const wd_shm_table_t *t)
{
    return t->count;
}

wd_uint_t
wd_shm_table_capacity(const wd_shm_table_t *t)
{
    return t->nslots;
}
