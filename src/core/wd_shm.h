/*
 * wd_shm.h -- named shared memory zones used by every worker (nginx's shared zones:
 * `limit_req_zone ... zone=NAME:SIZE`, `limit_conn_zone`, later a key-value store).
 *
 * A zone is one MAP_SHARED | MAP_ANONYMOUS mapping created by the master while it reads
 * the configuration, before the workers fork, so all of them see the same memory. Its
 * first bytes hold a process-shared robust mutex; the rest (data, data_size) belongs to
 * the module that declared it (the `tag`), which lays out its own structures there
 * (wd_shm_table.h is a ready-made hash table for that).
 *
 * Zones are kept by the master by name across reloads: declaring the same name with the
 * same size and tag again returns the same mapping with its contents (fresh == 0), so the
 * counters of a rate limit survive `nginx -s reload`; a different size makes a new zone
 * (fresh == 1, zeroed), as nginx does. The declaring module refuses a name it declares
 * twice in one configuration; a name declared by two modules is refused here.
 * A worker that dies holding a zone's mutex leaves its contents in an unknown state: the
 * next locker is told (WD_DECLINED) so that it can reset them.
 */
#ifndef WD_SHM_H
#define WD_SHM_H

#include "wd_core.h"

#define WD_SHM_MIN_SIZE  (8 * 4096)     /* nginx: a zone is at least 8 pages */

typedef struct wd_shm_zone_s wd_shm_zone_t;

struct wd_shm_zone_s {
    wd_shm_zone_t  *next;
    char           *name;
    size_t          size;           /* as declared */
    const void     *tag;            /* the declaring module's (its wd_module_t) */
    wd_uint_t       generation;     /* last configuration that declared it */
    void           *data;           /* the module's part of the mapping */
    size_t          data_size;
    void           *hdr;            /* the mutex (first bytes of the mapping) */
    unsigned        fresh:1;        /* created (zeroed) by the latest declaration */
};

/* The zone NAME of SIZE bytes declared by `tag` in configuration `generation`: the existing
 * one when name, size and tag match (fresh = 0), else a new zeroed mapping (fresh = 1).
 * NULL with *err set (a sentence: too small, declared for another use in this
 * configuration, mmap failure). Master only, while parsing. */
wd_shm_zone_t *wd_shm_zone_add(const u_char *name, size_t name_len, size_t size,
                               const void *tag, wd_uint_t generation, const char **err);

/* The zone's mutex: WD_OK; WD_DECLINED when the previous holder died inside (the lock is
 * held and made consistent again: reset the contents); WD_ERROR if it cannot be taken. */
int  wd_shm_lock(wd_shm_zone_t *zone);
void wd_shm_unlock(wd_shm_zone_t *zone);

#endif /* WD_SHM_H */
