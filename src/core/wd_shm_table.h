/*
 * wd_shm_table.h -- a hash table of fixed-size records inside a shared memory zone
 * (wd_shm.h), for per-key state every worker sees: the counters of limit_req and
 * limit_conn, later a key-value store.
 *
 * The table formats the memory it is given into a header, hash buckets and slots; a slot
 * holds a key (up to key_max bytes; a longer key is stored as its SHA-256, so any key
 * works, with a collision chance that does not matter) and value_size bytes of the
 * caller's value. Slots are kept in least-recently-used order. Only indices are stored,
 * so the layout means the same in every process whatever address the zone is mapped at.
 * The caller holds the zone's lock around every call.
 */
#ifndef WD_SHM_TABLE_H
#define WD_SHM_TABLE_H

#include "wd_core.h"

typedef struct wd_shm_table_s wd_shm_table_t;

#define WD_SHM_TABLE_FIND    0      /* only look */
#define WD_SHM_TABLE_CREATE  1      /* insert when missing; NULL when every slot is in use */
#define WD_SHM_TABLE_EVICT   2      /* insert when missing, dropping the least recently
                                       used record when every slot is in use */

/* Formats mem (size bytes, 8-aligned) for records of value_size bytes with keys of up to
 * key_max (>= 32) bytes stored as they are. NULL if not even 8 records fit. */
wd_shm_table_t *wd_shm_table_init(void *mem, size_t size, size_t key_max, size_t value_size);

/* Forgets every record (after the lock reported a dead holder). */
void  wd_shm_table_reset(wd_shm_table_t *t);

/* The value of key (made most recently used), or a new zeroed one (*created = 1) as `mode`
 * says; NULL if missing (FIND) or no slot is free (CREATE). */
void *wd_shm_table_get(wd_shm_table_t *t, const u_char *key, size_t len, int mode,
                       int *created);

/* Removes the record whose value this is. */
void  wd_shm_table_remove(wd_shm_table_t *t, void *value);

/* The least recently used value (NULL: empty), to expire old records. */
void *wd_shm_table_oldest(wd_shm_table_t *t);

/* Records stored / the most that fit. */
wd_uint_t wd_shm_table_count(const wd_shm_table_t *t);
wd_uint_t wd_shm_table_capacity(const wd_shm_table_t *t);

#endif /* WD_SHM_TABLE_H */
