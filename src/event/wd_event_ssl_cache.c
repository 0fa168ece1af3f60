/*
 * wd_event_ssl_cache.c -- the shared TLS session cache (see wd_event_ssl_cache.h).
 *
 * Memory of a zone: the header (mutex, list ends, ticket keys), nbuckets hash heads, then
 * nslots slots. A slot is on exactly one list: the free list (via next) or the stored
 * list (prev/next, newest at head) plus one hash chain (hnext). Indices, not pointers,
 * so the layout means the same in every process. Every operation holds the mutex; a
 * worker that dies holding it (EOWNERDEAD) leaves the lists in an unknown state, so the
 * next locker empties the cache (sessions are only an optimisation) and goes on.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_event_ssl_cache.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <sys/mman.h>

#define WD_SC_NONE  0xffffffffu

typedef struct {
    uint32_t    hnext;
    uint32_t    prev;
    uint32_t    next;
    uint32_t    hash;
    int64_t     expires;            /* unix seconds */
    uint16_t    der_len;
    uint8_t     id_len;
    uint8_t     id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    uint8_t     der[WD_SSL_CACHE_DER_MAX];
} wd_sc_slot_t;

_Static_assert(sizeof(wd_sc_slot_t) <= WD_SSL_CACHE_SLOT, "slot size");

typedef struct {
    pthread_mutex_t mutex;
    uint32_t    nslots;
    uint32_t    nbuckets;
    uint32_t    head;               /* newest stored */
    uint32_t    tail;               /* oldest stored: evicted first */
    uint32_t    free;
    uint32_t    count;
    uint8_t     ticket_keys[80];    /* name 16, HMAC secret 32, AES key 32 */
    uint32_t    buckets[];
} wd_sc_shm_t;

struct wd_ssl_cache_zone_s {
    wd_ssl_cache_zone_t *next;
    char                *name;
    size_t               size;
    wd_uint_t            generation;   /* last configuration that declared it */
    wd_sc_shm_t         *shm;
    wd_sc_slot_t        *slots;
};

static wd_ssl_cache_zone_t *wd_sc_zones;     /* the master's, across reloads */
static int wd_sc_ctx_index = -1;
static int wd_sc_ssl_index = -1;

static uint32_t
wd_sc_hash(const u_char *id, size_t len)
{
    uint32_t h = 2166136261u;
    while (len--) {
        h = (h ^ *id++) * 16777619u;
    }
    return h;
}

static void
wd_sc_reset(wd_sc_shm_t *sh, wd_sc_slot_t *slots)
{
    uint32_t i;

    for (i = 0; i < sh->nbuckets; i++) {
        sh->buckets[i] = WD_SC_NONE;
    }
    for (i = 0; i < sh->nslots; i++) {
        slots[i].next = i + 1 < sh->nslots ? i + 1 : WD_SC_NONE;
        slots[i].prev = slots[i].hnext = WD_SC_NONE;
        slots[i].id_len = 0;
    }
    sh->free = sh->nslots ? 0 : WD_SC_NONE;
    sh->head = sh->tail = WD_SC_NONE;
    sh->count = 0;
}

static int
wd_sc_lock(wd_ssl_cache_zone_t *z)
{
    int rc = pthread_mutex_lock(&z->shm->mutex);

    if (rc == EOWNERDEAD) {
        wd_sc_reset(z->shm, z->slots);
        pthread_mutex_consistent(&z->shm->mutex);
        return 0;
    }
    return rc;
}

static void
wd_sc_unlock(wd_ssl_cache_zone_t *z)
{
    pthread_mutex_unlock(&z->shm->mutex);
}

static uint32_t
wd_sc_find(wd_ssl_cache_zone_t *z, const u_char *id, size_t len, uint32_t hash)
{
    uint32_t i = z->shm->buckets[hash % z->shm->nbuckets];

    while (i != WD_SC_NONE) {
        wd_sc_slot_t *s = &z->slots[i];
        if (s->hash == hash && s->id_len == len && memcmp(s->id, id, len) == 0) {
            return i;
        }
        i = s->hnext;
    }
    return WD_SC_NONE;
}

/* Takes stored slot i off its hash chain and the stored list onto the free list. */
static void
wd_sc_drop(wd_ssl_cache_zone_t *z, uint32_t i)
{
    wd_sc_shm_t *sh = z->shm;
    wd_sc_slot_t *s = &z->slots[i];
    uint32_t *pp = &sh->buckets[s->hash % sh->nbuckets];

    while (*pp != WD_SC_NONE && *pp != i) {
        pp = &z->slots[*pp].hnext;
    }
    if (*pp == i) {
        *pp = s->hnext;
    }
    if (s->prev != WD_SC_NONE) {
        z->slots[s->prev].next = s->next;
    } else {
        sh->head = s->next;
    }
    if (s->next != WD_SC_NONE) {
        z->slots[s->next].prev = s->prev;
    } else {
        sh->tail = s->prev;
    }
    s->hnext = s->prev = WD_SC_NONE;
    s->id_len = 0;
    s->next = sh->free;
    sh->free = i;
    sh->count--;
}

static wd_ssl_cache_zone_t *
wd_sc_zone_of(SSL *ssl)
{
    return wd_sc_ssl_index >= 0 ? SSL_get_ex_data(ssl, wd_sc_ssl_index) : NULL;
}

static int
wd_sc_new_session(SSL *ssl, SSL_SESSION *sess)
{
    wd_ssl_cache_zone_t *z = wd_sc_zone_of(ssl);
    u_char der[WD_SSL_CACHE_DER_MAX], *p = der;
    const u_char *id;
    unsigned int idlen;
    uint32_t hash, i;
    wd_sc_shm_t *sh;
    wd_sc_slot_t *s;
    int len;

    if (z == NULL) {
        return 0;
    }
    len = i2d_SSL_SESSION(sess, NULL);
    if (len <= 0 || len > (int) sizeof(der)) {
        return 0;                       /* too big for a slot: not cached */
    }
    if (i2d_SSL_SESSION(sess, &p) != len) {
        return 0;
    }
    id = SSL_SESSION_get_id(sess, &idlen);
    if (idlen == 0 || idlen > SSL_MAX_SSL_SESSION_ID_LENGTH) {
        return 0;
    }
    hash = wd_sc_hash(id, idlen);
    sh = z->shm;
    if (wd_sc_lock(z) != 0) {
        return 0;
    }
    i = wd_sc_find(z, id, idlen, hash);
    if (i != WD_SC_NONE) {
        wd_sc_drop(z, i);
    }
    if (sh->free == WD_SC_NONE && sh->tail != WD_SC_NONE) {
        wd_sc_drop(z, sh->tail);        /* full: the oldest session goes */
    }
    i = sh->free;
    if (i != WD_SC_NONE) {
        s = &z->slots[i];
        sh->free = s->next;
        s->hash = hash;
        s->id_len = (uint8_t) idlen;
        memcpy(s->id, id, idlen);
        s->der_len = (uint16_t) len;
        memcpy(s->der, der, len);
        s->expires = (int64_t) SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess);
        s->hnext = sh->buckets[hash % sh->nbuckets];
        sh->buckets[hash % sh->nbuckets] = i;
        s->prev = WD_SC_NONE;
        s->next = sh->head;
        if (sh->head != WD_SC_NONE) {
            z->slots[sh->head].prev = i;
        } else {
            sh->tail = i;
        }
        sh->head = i;
        sh->count++;
    }
    wd_sc_unlock(z);
    return 0;                           /* OpenSSL keeps no extra reference */
}

static SSL_SESSION *
wd_sc_get_session(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    wd_ssl_cache_zone_t *z = wd_sc_zone_of(ssl);
    u_char der[WD_SSL_CACHE_DER_MAX];
    const u_char *p = der;
    size_t dlen = 0;
    uint32_t i;

    *copy = 0;
    if (z == NULL || len <= 0 || len > SSL_MAX_SSL_SESSION_ID_LENGTH) {
        return NULL;
    }
    if (wd_sc_lock(z) != 0) {
        return NULL;
    }
    i = wd_sc_find(z, id, (size_t) len, wd_sc_hash(id, (size_t) len));
    if (i != WD_SC_NONE) {
        if (z->slots[i].expires <= (int64_t) time(NULL)) {
            wd_sc_drop(z, i);
        } else {
            dlen = z->slots[i].der_len;
            memcpy(der, z->slots[i].der, dlen);
        }
    }
    wd_sc_unlock(z);
    return dlen ? d2i_SSL_SESSION(NULL, &p, (long) dlen) : NULL;
}

static void
wd_sc_remove_session(SSL_CTX *ctx, SSL_SESSION *sess)
{
    wd_ssl_cache_zone_t *z = wd_sc_ctx_index >= 0 ? SSL_CTX_get_ex_data(ctx, wd_sc_ctx_index)
                                                  : NULL;
    const u_char *id;
    unsigned int idlen;
    uint32_t i;

    if (z == NULL) {
        return;
    }
    id = SSL_SESSION_get_id(sess, &idlen);
    if (idlen == 0 || wd_sc_lock(z) != 0) {
        return;
    }
    i = wd_sc_find(z, id, idlen, wd_sc_hash(id, idlen));
    if (i != WD_SC_NONE) {
        wd_sc_drop(z, i);
    }
    wd_sc_unlock(z);
}

wd_ssl_cache_zone_t *
wd_ssl_cache_zone(const u_char *name, size_t name_len, size_t size, wd_uint_t generation,
                  const char **err)
{
    static char msg[256];
    wd_ssl_cache_zone_t *z;
    pthread_mutexattr_t ma;
    size_t head, per;
    uint32_t n;
    void *p;

    for (z = wd_sc_zones; z; z = z->next) {
        if (strlen(z->name) != name_len || memcmp(z->name, name, name_len) != 0) {
            continue;
        }
        if (z->size == size) {
            z->generation = generation;
            return z;                   /* kept across reloads, sessions and keys too */
        }
        if (z->generation == generation) {
            snprintf(msg, sizeof(msg), "the size %zu of shared memory zone \"%.*s\" conflicts "
                     "with already declared size %zu", size, (int) name_len, name, z->size);
            *err = msg;
            return NULL;
        }
    }
    if (size < WD_SSL_CACHE_MIN_SIZE) {
        snprintf(msg, sizeof(msg), "zone \"%.*s\" is too small (%zu bytes; at least %d)",
                 (int) name_len, name, size, WD_SSL_CACHE_MIN_SIZE);
        *err = msg;
        return NULL;
    }
    /* header + per session one bucket and one slot */
    per = sizeof(uint32_t) + sizeof(wd_sc_slot_t);
    n = (uint32_t) ((size - sizeof(wd_sc_shm_t) - 64) / per);
    head = (sizeof(wd_sc_shm_t) + n * sizeof(uint32_t) + 63) & ~(size_t) 63;
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
    z->generation = generation;
    z->shm = p;
    z->slots = (wd_sc_slot_t *) ((u_char *) p + head);
    z->shm->nslots = n;
    z->shm->nbuckets = n;
    wd_sc_reset(z->shm, z->slots);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&z->shm->mutex, &ma);
    pthread_mutexattr_destroy(&ma);
    if (RAND_bytes(z->shm->ticket_keys, sizeof(z->shm->ticket_keys)) != 1) {
        munmap(p, size);
        free(z->name);
        free(z);
        *err = "RAND_bytes() failed for the session ticket keys";
        return NULL;
    }
    z->next = wd_sc_zones;
    wd_sc_zones = z;
    return z;
}

int
wd_ssl_cache_attach(SSL_CTX *ctx, wd_ssl_cache_zone_t *zone, int builtin)
{
    if (wd_sc_ctx_index < 0) {
        wd_sc_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        wd_sc_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (wd_sc_ctx_index < 0 || wd_sc_ssl_index < 0) {
            return WD_ERROR;
        }
    }
    if (SSL_CTX_set_ex_data(ctx, wd_sc_ctx_index, zone) != 1) {
        return WD_ERROR;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER
                                        | (builtin ? 0 : SSL_SESS_CACHE_NO_INTERNAL));
    SSL_CTX_sess_set_new_cb(ctx, wd_sc_new_session);
    SSL_CTX_sess_set_get_cb(ctx, wd_sc_get_session);
    SSL_CTX_sess_set_remove_cb(ctx, wd_sc_remove_session);
    if (SSL_CTX_set_tlsext_ticket_keys(ctx, zone->shm->ticket_keys,
                                       sizeof(zone->shm->ticket_keys)) != 1)
    {
        return WD_ERROR;
    }
    return WD_OK;
}

void
wd_ssl_cache_bind(SSL *ssl)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);

    if (wd_sc_ctx_index >= 0 && ctx != NULL) {
        SSL_set_ex_data(ssl, wd_sc_ssl_index, SSL_CTX_get_ex_data(ctx, wd_sc_ctx_index));
    }
}

wd_uint_t
wd_ssl_cache_capacity(const wd_ssl_cache_zone_t *zone)
{
    return zone->shm->nslots;
}
