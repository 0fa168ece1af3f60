/*
 * wd_event_ssl_cache.h -- a TLS session cache shared by every worker (nginx's
 * `ssl_session_cache shared:NAME:SIZE`).
 *
 * A zone is one MAP_SHARED | MAP_ANONYMOUS mapping created by the master while it reads
 * the configuration, before the workers fork, so all of them see the same memory. It holds
 * a process-shared robust mutex, a hash table and fixed-size slots (WD_SSL_CACHE_SLOT
 * bytes: a session's DER encoding up to WD_SSL_CACHE_DER_MAX bytes, larger ones are not
 * cached), kept in least-recently-stored order: a full cache evicts the oldest session.
 * OpenSSL reaches it through the external cache callbacks (new / get / remove session).
 *
 * Zones are looked up by name in the master across reloads: the same name with the same
 * size keeps the mapping and its sessions (and its ticket keys); a changed size makes a new
 * zone. The zone also carries 80 bytes of TLS session-ticket key material generated when it
 * is created: every SSL_CTX that uses the zone encrypts tickets with it, so a ticket issued
 * by one worker, or before a reload, resumes in any worker after it.
 */
#ifndef WD_EVENT_SSL_CACHE_H
#define WD_EVENT_SSL_CACHE_H

#include "wd_core.h"
#include <openssl/ssl.h>

#define WD_SSL_CACHE_SLOT     512
#define WD_SSL_CACHE_DER_MAX  (WD_SSL_CACHE_SLOT - 64)
#define WD_SSL_CACHE_MIN_SIZE (8 * 1024)

typedef struct wd_ssl_cache_zone_s wd_ssl_cache_zone_t;

/* The zone NAME of SIZE bytes for configuration generation `generation`: the existing one
 * when name and size match, else a new mapping. NULL with *err set ("the size ... conflicts
 * with already declared size ...", "mmap() failed ...") on error. Master only. */
wd_ssl_cache_zone_t *wd_ssl_cache_zone(const u_char *name, size_t name_len, size_t size,
                                       wd_uint_t generation, const char **err);

/* Makes ctx store sessions in zone (external cache callbacks; with builtin != 0 OpenSSL's
 * own per-process cache is kept too) and encrypt tickets with the zone's keys. */
int wd_ssl_cache_attach(SSL_CTX *ctx, wd_ssl_cache_zone_t *zone, int builtin);

/* Gives a new SSL the zone of its SSL_CTX (before SNI may switch the SSL_CTX: OpenSSL
 * keeps caching in the first one, as nginx does). */
void wd_ssl_cache_bind(SSL *ssl);

/* Number of sessions the zone can hold (for messages and tests). */
wd_uint_t wd_ssl_cache_capacity(const wd_ssl_cache_zone_t *zone);

#endif /* WD_EVENT_SSL_CACHE_H */
