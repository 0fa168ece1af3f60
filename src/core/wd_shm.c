/*
 * wd_shm.c -- named shared memory zones (see wd_shm.h).
 */
#include "wd_core.h"
#include "wd_shm.h"

#include <pthread.h>
#include <sys/mman.h>

#define WD_SHM_HDR  128     /* the mutex, padded to keep the data cache-line aligned */

_Static_assert(sizeof(pthread_mutex_t) <= WD_SHM_HDR, "shm header");

static wd_shm_zone_t *wd_shm_zones;     /* the master's, across reloads */

wd_shm_zone_t *
wd_shm_zone_add(const u_char *name, size_t name_len, size_t size, const void *tag,
                wd_uint_t generation, const char **err)
{
    static char msg[256];
    pthread_mutexattr_t ma;
    wd_shm_zone_t *z;
    void *p;

    if (name_len == 0 || name_len > 128) {
        snprintf(msg, sizeof(msg), "invalid zone name \"%.*s\"", (int) name_len, name);
        *err = msg;
        return NULL;
    }
    for (z = wd_shm_zones; z; z = z->next) {
        if (strlen(z->name) != name_len || memcmp(z->name, name, name_len) != 0) {
            continue;
        }
        if (z->size == size && z->tag == tag) {
            z->generation = generation;
            z->fresh = 0;
            return z;                   /* kept across reloads, contents too */
        }
        if (z->generation == generation && z->tag != tag) {
            snprintf(msg, sizeof(msg), "zone \"%.*s\" is already declared for a different "
                     "use", (int) name_len, name);
            *err = msg;
            return NULL;
        }
    }
    if (size < WD_SHM_MIN_SIZE) {
        snprintf(msg, sizeof(msg), "zone \"%.*s\" is too small (%zu bytes; at least %d)",
                 (int) name_len, name, size, WD_SHM_MIN_SIZE);
        *err = msg;
        return NULL;
    }
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(msg, sizeof(msg), "mmap(%zu) for zone \"%.*s\" failed (%s)", size,
                 (int) name_len, name, strerror(errno));
        *err = msg;
        return NULL;
    }
    z = calloc(1, sizeof(*z));
    if (z == NULL || (z->name = malloc(name_len + 1)) == NULL) {
        free(z);
        munmap(p, size);
        *err = "out of memory";
        return NULL;
    }
    memcpy(z->name, name, name_len);
    z->name[name_len] = '\0';
    z->size = size;
    z->tag = tag;
    z->generation = generation;
    z->hdr = p;
    z->data = (u_char *) p + WD_SHM_HDR;
    z->data_size = size - WD_SHM_HDR;
    z->fresh = 1;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init((pthread_mutex_t *) z->hdr, &ma);
    pthread_mutexattr_destroy(&ma);
    /* a zone of an older configuration with the same name (other size or use) stays
     * mapped: workers of that configuration may still be finishing requests with it */
    z->next = wd_shm_zones;
    wd_shm_zones = z;
    return z;
}

int
wd_shm_lock(wd_shm_zone_t *zone)
{
    int rc = pthread_mutex_lock((pthread_mutex_t *) zone->hdr);

    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent((pthread_mutex_t *) zone->hdr);
        return WD_DECLINED;
    }
    return rc == 0 ? WD_OK : WD_ERROR;
}

void
wd_shm_unlock(wd_shm_zone_t *zone)
{
    pthread_mutex_unlock((pthread_mutex_t *) zone->hdr);
}
