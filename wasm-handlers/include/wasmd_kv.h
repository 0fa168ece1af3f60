/*
 * wasmd_kv.h -- state for wasmd handlers: wasi:keyvalue@0.2.0-draft2 (store, atomics, batch)
 * and wasi:config@0.2.0-draft (store), for C handlers written with wasmd.h.
 *
 * Include it after wasmd.h. Every function is `static`: a handler imports only what it
 * calls. The route says which stores it may open (`wasm_keyvalue NAME ...;`; without it,
 * the store `default`), the size limits (`wasm_keyvalue_limits`) and the configuration
 * values (`wasm_config KEY VALUE;`). Values returned by the server live in the handler's
 * memory until the request ends (the instance is reset after every request).
 *
 *   wasmd_bucket b;
 *   int64_t n;
 *   if (wasmd_kv_open("default", &b) == WASMD_KV_OK
 *       && wasmd_kv_increment(b, "hits", 4, 1, &n) == WASMD_KV_OK) ...
 *
 * Return codes: WASMD_KV_OK, or the WIT error: WASMD_KV_NO_SUCH_STORE,
 * WASMD_KV_ACCESS_DENIED, WASMD_KV_OTHER (message: wasmd_kv_error()), and for swap
 * WASMD_KV_CAS_FAILED (the value changed since wasmd_kv_cas_new; the cas is still valid:
 * read wasmd_kv_cas_current and swap again).
 */
#ifndef WASMD_KV_H
#define WASMD_KV_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

typedef int32_t wasmd_bucket;
typedef int32_t wasmd_cas;

#define WASMD_KV_OK             0
#define WASMD_KV_NO_SUCH_STORE  1
#define WASMD_KV_ACCESS_DENIED  2
#define WASMD_KV_OTHER          3
#define WASMD_KV_CAS_FAILED     4

#define WASMD__KVS "wasi:keyvalue/store@0.2.0-draft2"
#define WASMD__KVA "wasi:keyvalue/atomics@0.2.0-draft2"
#define WASMD__KVB "wasi:keyvalue/batch@0.2.0-draft2"
#define WASMD__CFG "wasi:config/store@0.2.0-draft"
#define WASMD__KVIMPORT(m, n) __attribute__((import_module(m), import_name(n)))

/* return areas (Canonical ABI, wasm32): result<T, error> with error = variant
   { no-such-store, access-denied, other(string) } */
typedef struct {
    uint8_t is_err; uint8_t _p[3];
    union {
        int32_t handle;                                            /* own<bucket>/own<cas> */
        struct { uint8_t some; uint8_t _q[3]; const uint8_t *ptr; size_t len; } opt;  /* option<list> */
        uint8_t b;                                                 /* bool */
        struct { const void *keys; size_t nkeys; uint8_t has_cursor; uint8_t _r[3];
                 const char *cursor; size_t cursor_len; } kr;      /* key-response */
        struct { uint8_t tag; uint8_t _q[3]; const char *ptr; size_t len; } err;
        struct { const void *ptr; size_t len; } list;
    } u;
} wasmd__kv_ret;
typedef struct {
    uint8_t is_err; uint8_t _p[7];
    union { int64_t v; struct { uint8_t tag; uint8_t _q[3]; const char *ptr; size_t len; } err; } u;
} __attribute__((aligned(8))) wasmd__kv_ret64;
/* result<_, cas-error>, cas-error = variant { store-error(error), cas-failed(own<cas>) } */
typedef struct {
    uint8_t is_err; uint8_t _p[3];
    uint8_t tag; uint8_t _q[3];
    union { int32_t cas; struct { uint8_t tag; uint8_t _q[3]; const char *ptr; size_t len; } err; } u;
} wasmd__kv_swap_ret;

WASMD__KVIMPORT(WASMD__KVS, "open")
void wasmd__kv_open(const char *p, size_t n, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVS, "[method]bucket.get")
void wasmd__kv_get(int32_t b, const char *k, size_t kl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVS, "[method]bucket.set")
void wasmd__kv_set(int32_t b, const char *k, size_t kl, const void *v, size_t vl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVS, "[method]bucket.delete")
void wasmd__kv_delete(int32_t b, const char *k, size_t kl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVS, "[method]bucket.exists")
void wasmd__kv_exists(int32_t b, const char *k, size_t kl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVS, "[method]bucket.list-keys")
void wasmd__kv_list_keys(int32_t b, int32_t has, const char *c, size_t cl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVS, "[resource-drop]bucket")
void wasmd__kv_bucket_drop(int32_t b);
WASMD__KVIMPORT(WASMD__KVA, "increment")
void wasmd__kv_increment(int32_t b, const char *k, size_t kl, int64_t d, wasmd__kv_ret64 *r);
WASMD__KVIMPORT(WASMD__KVA, "[static]cas.new")
void wasmd__kv_cas_new(int32_t b, const char *k, size_t kl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVA, "[method]cas.current")
void wasmd__kv_cas_current(int32_t c, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVA, "swap")
void wasmd__kv_swap(int32_t c, const void *v, size_t vl, wasmd__kv_swap_ret *r);
WASMD__KVIMPORT(WASMD__KVA, "[resource-drop]cas")
void wasmd__kv_cas_drop(int32_t c);
WASMD__KVIMPORT(WASMD__KVB, "get-many")
void wasmd__kv_get_many(int32_t b, const void *keys, size_t n, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVB, "set-many")
void wasmd__kv_set_many(int32_t b, const void *kvs, size_t n, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__KVB, "delete-many")
void wasmd__kv_delete_many(int32_t b, const void *keys, size_t n, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__CFG, "get")
void wasmd__cfg_get(const char *k, size_t kl, wasmd__kv_ret *r);
WASMD__KVIMPORT(WASMD__CFG, "get-all")
void wasmd__cfg_get_all(wasmd__kv_ret *r);

static char wasmd__kv_msg[256];

/* the message of the last WASMD_KV_OTHER */
static const char *wasmd_kv_error(void) { return wasmd__kv_msg; }

static inline int wasmd__kv_err(uint8_t tag, const char *p, size_t n)
{
    if (tag == 2) {
        if (n >= sizeof wasmd__kv_msg)
            n = sizeof wasmd__kv_msg - 1;
        memcpy(wasmd__kv_msg, p, n);
        wasmd__kv_msg[n] = 0;
        return WASMD_KV_OTHER;
    }
    return tag == 0 ? WASMD_KV_NO_SUCH_STORE : WASMD_KV_ACCESS_DENIED;
}
#define WASMD__KV_CHECK(r) \
    if ((r).is_err) return wasmd__kv_err((r).u.err.tag, (r).u.err.ptr, (r).u.err.len)

static inline int wasmd_kv_open(const char *name, wasmd_bucket *b)
{
    wasmd__kv_ret r;
    wasmd__kv_open(name, strlen(name), &r);
    WASMD__KV_CHECK(r);
    *b = r.u.handle;
    return WASMD_KV_OK;
}

static inline void wasmd_kv_close(wasmd_bucket b) { wasmd__kv_bucket_drop(b); }

/* *found = 0 when the key does not exist; else *val (not NUL-terminated), *len */
static inline int wasmd_kv_get(wasmd_bucket b, const char *key, size_t klen, const uint8_t **val,
                        size_t *len, int *found)
{
    wasmd__kv_ret r;
    wasmd__kv_get(b, key, klen, &r);
    WASMD__KV_CHECK(r);
    *found = r.u.opt.some;
    *val = r.u.opt.some ? r.u.opt.ptr : NULL;
    *len = r.u.opt.some ? r.u.opt.len : 0;
    return WASMD_KV_OK;
}

static inline int wasmd_kv_set(wasmd_bucket b, const char *key, size_t klen, const void *val,
                        size_t len)
{
    wasmd__kv_ret r;
    wasmd__kv_set(b, key, klen, val, len, &r);
    WASMD__KV_CHECK(r);
    return WASMD_KV_OK;
}

static inline int wasmd_kv_delete(wasmd_bucket b, const char *key, size_t klen)
{
    wasmd__kv_ret r;
    wasmd__kv_delete(b, key, klen, &r);
    WASMD__KV_CHECK(r);
    return WASMD_KV_OK;
}

static inline int wasmd_kv_exists(wasmd_bucket b, const char *key, size_t klen, int *yes)
{
    wasmd__kv_ret r;
    wasmd__kv_exists(b, key, klen, &r);
    WASMD__KV_CHECK(r);
    *yes = r.u.b;
    return WASMD_KV_OK;
}

/* one page of keys after cursor (NULL: from the start); *next NULL on the last page */
typedef struct { const char *ptr; size_t len; } wasmd_kv_str;
static inline int wasmd_kv_list_keys(wasmd_bucket b, const char *cursor, size_t clen,
                              const wasmd_kv_str **keys, size_t *nkeys,
                              const char **next, size_t *next_len)
{
    wasmd__kv_ret r;
    wasmd__kv_list_keys(b, cursor != NULL, cursor, clen, &r);
    WASMD__KV_CHECK(r);
    *keys = (const wasmd_kv_str *) r.u.kr.keys;
    *nkeys = r.u.kr.nkeys;
    *next = r.u.kr.has_cursor ? r.u.kr.cursor : NULL;
    *next_len = r.u.kr.has_cursor ? r.u.kr.cursor_len : 0;
    return WASMD_KV_OK;
}

/* the value is ASCII decimal; a missing key starts at 0 */
static inline int wasmd_kv_increment(wasmd_bucket b, const char *key, size_t klen, int64_t delta,
                              int64_t *out)
{
    wasmd__kv_ret64 r;
    wasmd__kv_increment(b, key, klen, delta, &r);
    WASMD__KV_CHECK(r);
    *out = r.u.v;
    return WASMD_KV_OK;
}

static inline int wasmd_kv_cas_new(wasmd_bucket b, const char *key, size_t klen, wasmd_cas *c)
{
    wasmd__kv_ret r;
    wasmd__kv_cas_new(b, key, klen, &r);
    WASMD__KV_CHECK(r);
    *c = r.u.handle;
    return WASMD_KV_OK;
}

static inline int wasmd_kv_cas_current(wasmd_cas c, const uint8_t **val, size_t *len, int *found)
{
    wasmd__kv_ret r;
    wasmd__kv_cas_current(c, &r);
    WASMD__KV_CHECK(r);
    *found = r.u.opt.some;
    *val = r.u.opt.some ? r.u.opt.ptr : NULL;
    *len = r.u.opt.some ? r.u.opt.len : 0;
    return WASMD_KV_OK;
}

/* consumes *c; on WASMD_KV_CAS_FAILED *c is a new cas holding the value now stored */
static inline int wasmd_kv_swap(wasmd_cas *c, const void *val, size_t len)
{
    wasmd__kv_swap_ret r;
    wasmd__kv_swap(*c, val, len, &r);
    if (!r.is_err)
        return WASMD_KV_OK;
    if (r.tag == 1) {
        *c = r.u.cas;
        return WASMD_KV_CAS_FAILED;
    }
    return wasmd__kv_err(r.u.err.tag, r.u.err.ptr, r.u.err.len);
}

static inline void wasmd_kv_cas_drop(wasmd_cas c) { wasmd__kv_cas_drop(c); }

/* batch: keys as wasmd_kv_str[n]; get_many gives n entries, value NULL when absent */
typedef struct { wasmd_kv_str key; const uint8_t *val; size_t len; } wasmd_kv_pair;
typedef struct { uint8_t some; uint8_t _p[3]; wasmd_kv_str key; const uint8_t *val; size_t len; } wasmd__kv_opt_pair;
static inline int wasmd_kv_get_many(wasmd_bucket b, const wasmd_kv_str *keys, size_t n,
                             const wasmd__kv_opt_pair **out)
{
    wasmd__kv_ret r;
    wasmd__kv_get_many(b, keys, n, &r);
    WASMD__KV_CHECK(r);
    *out = (const wasmd__kv_opt_pair *) r.u.list.ptr;
    return WASMD_KV_OK;
}

static inline int wasmd_kv_set_many(wasmd_bucket b, const wasmd_kv_pair *kvs, size_t n)
{
    wasmd__kv_ret r;
    wasmd__kv_set_many(b, kvs, n, &r);
    WASMD__KV_CHECK(r);
    return WASMD_KV_OK;
}

static inline int wasmd_kv_delete_many(wasmd_bucket b, const wasmd_kv_str *keys, size_t n)
{
    wasmd__kv_ret r;
    wasmd__kv_delete_many(b, keys, n, &r);
    WASMD__KV_CHECK(r);
    return WASMD_KV_OK;
}

/* wasi:config/store get: the route's wasm_config value (not NUL-terminated) or NULL */
static const char *wasmd_config_get(const char *key, size_t *len)
{
    wasmd__kv_ret r;
    wasmd__cfg_get(key, strlen(key), &r);
    if (r.is_err || !r.u.opt.some)
        return NULL;
    *len = r.u.opt.len;
    return (const char *) r.u.opt.ptr;
}

/* get-all: n pairs of (key, value) strings */
typedef struct { wasmd_kv_str key, value; } wasmd_config_pair;
static inline size_t wasmd_config_all(const wasmd_config_pair **pairs)
{
    wasmd__kv_ret r;
    wasmd__cfg_get_all(&r);
    if (r.is_err)
        return 0;
    *pairs = (const wasmd_config_pair *) r.u.list.ptr;
    return r.u.list.len;
}

#endif
