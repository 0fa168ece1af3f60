/*
 * wd_http_wasm_kv.c -- state for handlers: wasi:keyvalue stores and wasi:config values.
 *
 *   http {
 *       keyvalue_store  counters lmdb /var/lib/wasmd/counters [max_size=256m];
 *       location /count {
 *           wasm_handler         handlers/counter.wasm;
 *           wasm_keyvalue        counters;          # stores this route may open
 *           wasm_keyvalue_limits 256 1m;            # key and value size limits
 *           wasm_config          base_url https://s.example;   # wasi:config/store
 *       }
 *   }
 *
 * Without any keyvalue_store a store called `default` exists (LMDB under PREFIX/kv/default),
 * and a route without wasm_keyvalue may open `default` (when there is one), so a counter
 * works with no set-up. `open` of a store that exists but is not granted answers
 * access-denied, of an unknown one no-such-store.
 *
 * LMDB backend: one environment per store, a directory holding data.mdb and lock.mdb. The
 * master creates it (and gives it to the workers' user); every worker opens it in its
 * init_worker, after the fork (LMDB environments must not cross a fork), before the
 * sandbox closes (the directory is in the workers' Landlock set all the same). All workers
 * share the map; LMDB serialises writers across processes with its robust lock-file mutex,
 * so increments and compare-and-swap from several workers are exact, and a worker killed
 * inside a write transaction loses that transaction only. Commits use MDB_NOSYNC: a write
 * that returned is in the shared map (the page cache), so it survives kill -9 of a worker or
 * the master and a restart; it is not fsync'ed, so a power loss may undo the last writes.
 * Every call runs on the worker's loop thread: reads are memory accesses in the map; a
 * write takes LMDB's writer lock (held by another worker only for its own short
 * transaction) and copies into the map, with no disk wait since nothing is synced.
 */
#include "wd_sandbox.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lmdb.h>
#include "wd_http_wasm.h"

#define WD_KV_DEFAULT_MAX_SIZE  ((size_t) 256 << 20)
#define WD_KV_DEFAULT_KEY_MAX   256
#define WD_KV_DEFAULT_VALUE_MAX ((size_t) 1 << 20)
#define WD_KV_LMDB_KEY_MAX      511     /* mdb_env_get_maxkeysize of the default build */

typedef struct {
    MDB_env *env;
    MDB_dbi dbi;
    size_t max_size;
} wd_kv_lmdb_t;

/* ---------------------------------------------------------------- LMDB backend */

static int
wd_kv_lmdb_err(char *err, size_t errlen, const char *what, int rc, const wd_kv_lmdb_t *s)
{
    if (rc == MDB_MAP_FULL) {
        snprintf(err, errlen, "store is full (max_size=%zu bytes)", s->max_size);
    } else {
        snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
    }
    return -1;
}

static int
wd_kv_lmdb_get(void *sd, const char *k, size_t kl, wd_kv_alloc_fn alloc, void *a, void **v,
               size_t *vl, char *err, size_t errlen)
{
    wd_kv_lmdb_t *s = sd;
    MDB_txn *txn;
    MDB_val key = { kl, (void *) k }, val;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return wd_kv_lmdb_err(err, errlen, "read", rc, s);
    }
    rc = mdb_get(txn, s->dbi, &key, &val);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return 0;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return wd_kv_lmdb_err(err, errlen, "get", rc, s);
    }
    /* one copy, out of the map into the call's arena (the map may move after the txn) */
    *v = alloc(a, val.mv_size);
    if (*v == NULL) {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(*v, val.mv_data, val.mv_size);
    *vl = val.mv_size;
    mdb_txn_abort(txn);
    return 1;
}

static int
wd_kv_lmdb_write(wd_kv_lmdb_t *s, MDB_txn **txn, char *err, size_t errlen)
{
    int rc = mdb_txn_begin(s->env, NULL, 0, txn);
    return rc ? wd_kv_lmdb_err(err, errlen, "write", rc, s) : 0;
}

static int
wd_kv_lmdb_commit(wd_kv_lmdb_t *s, MDB_txn *txn, int rc, char *err, size_t errlen)
{
    if (rc != 0) {
        mdb_txn_abort(txn);
        return wd_kv_lmdb_err(err, errlen, "write", rc, s);
    }
    rc = mdb_txn_commit(txn);
    return rc ? wd_kv_lmdb_err(err, errlen, "commit", rc, s) : 0;
}

static int
wd_kv_lmdb_set(void *sd, const char *k, size_t kl, const void *v, size_t vl, char *err,
               size_t errlen)
{
    wd_kv_lmdb_t *s = sd;
    MDB_txn *txn;
    MDB_val key = { kl, (void *) k }, val = { vl, (void *) v };
    if (wd_kv_lmdb_write(s, &txn, err, errlen) < 0) {
        return -1;
    }
    return wd_kv_lmdb_commit(s, txn, mdb_put(txn, s->dbi, &key, &val, 0), err, errlen);
}

static int
wd_kv_lmdb_del(void *sd, const char *k, size_t kl, char *err, size_t errlen)
{
    wd_kv_lmdb_t *s = sd;
    MDB_txn *txn;
    MDB_val key = { kl, (void *) k };
    if (wd_kv_lmdb_write(s, &txn, err, errlen) < 0) {
        return -1;
    }
    int rc = mdb_del(txn, s->dbi, &key, NULL);
    return wd_kv_lmdb_commit(s, txn, rc == MDB_NOTFOUND ? 0 : rc, err, errlen);
}

static int
wd_kv_lmdb_list(void *sd, const char *after, size_t al, size_t max,
                int (*emit)(void *u, const char *k, size_t kl), void *u, char *err,
                size_t errlen)
{
    wd_kv_lmdb_t *s = sd;
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val key = { al, (void *) after }, val;
    size_t n = 0;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        return wd_kv_lmdb_err(err, errlen, "read", rc, s);
    }
    if ((rc = mdb_cursor_open(txn, s->dbi, &c)) != 0) {
        mdb_txn_abort(txn);
        return wd_kv_lmdb_err(err, errlen, "cursor", rc, s);
    }
    if (after && al > 0) {
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        if (rc == 0 && key.mv_size == al && memcmp(key.mv_data, after, al) == 0) {
            rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
        }
    } else {
        rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
    }
    int more = 0;
    while (rc == 0) {
        if (n == max) {
            more = 1;
            break;
        }
        if (emit(u, key.mv_data, key.mv_size) < 0) {
            mdb_cursor_close(c);
            mdb_txn_abort(txn);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        n++;
        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return wd_kv_lmdb_err(err, errlen, "list", rc, s);
    }
    return more;
}

/* ASCII decimal, as Redis INCRBY stores it: optional '-', 1..19 digits, no overflow */
static int
wd_kv_parse_i64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    if (n > 0 && p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n > 20) {
        return -1;
    }
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t) (p[i] - '0');
        if (v > (uint64_t) INT64_MAX + (uint64_t) neg) {
            return -1;
        }
    }
    *out = neg ? (int64_t) (0 - v) : (int64_t) v;
    return 0;
}

static int
wd_kv_lmdb_incr(void *sd, const char *k, size_t kl, int64_t delta, int64_t *out, char *err,
                size_t errlen)
{
    wd_kv_lmdb_t *s = sd;
    MDB_txn *txn;
    MDB_val key = { kl, (void *) k }, val;
    int64_t cur = 0;
    char buf[24];
    if (wd_kv_lmdb_write(s, &txn, err, errlen) < 0) {
        return -1;
    }
    int rc = mdb_get(txn, s->dbi, &key, &val);
    if (rc == 0 && wd_kv_parse_i64(val.mv_data, val.mv_size, &cur) < 0) {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "value is not an integer in ASCII decimal");
        return -1;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return wd_kv_lmdb_commit(s, txn, rc, err, errlen);
    }
    if (__builtin_add_overflow(cur, delta, &cur)) {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "increment would overflow");
        return -1;
    }
    int len = snprintf(buf, sizeof(buf), "%lld", (long long) cur);
    val.mv_size = (size_t) len;
    val.mv_data = buf;
    if (wd_kv_lmdb_commit(s, txn, mdb_put(txn, s->dbi, &key, &val, 0), err, errlen) < 0) {
        return -1;
    }
    *out = cur;
    return 0;
}

static int
wd_kv_lmdb_cas(void *sd, const char *k, size_t kl, int had, const void *old, size_t oldl,
               const void *v, size_t vl, char *err, size_t errlen)
{
    wd_kv_lmdb_t *s = sd;
    MDB_txn *txn;
    MDB_val key = { kl, (void *) k }, val;
    if (wd_kv_lmdb_write(s, &txn, err, errlen) < 0) {
        return -1;
    }
    int rc = mdb_get(txn, s->dbi, &key, &val);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return wd_kv_lmdb_commit(s, txn, rc, err, errlen);
    }
    int same = had ? rc == 0 && val.mv_size == oldl && memcmp(val.mv_data, old, oldl) == 0
                   : rc == MDB_NOTFOUND;
    if (!same) {
        mdb_txn_abort(txn);
        return 0;
    }
    val.mv_size = vl;
    val.mv_data = (void *) v;
    if (wd_kv_lmdb_commit(s, txn, mdb_put(txn, s->dbi, &key, &val, 0), err, errlen) < 0) {
        return -1;
    }
    return 1;
}

static const wd_kv_ops_t wd_kv_lmdb_ops = {
    wd_kv_lmdb_get, wd_kv_lmdb_set, wd_kv_lmdb_del, wd_kv_lmdb_list, wd_kv_lmdb_incr,
    wd_kv_lmdb_cas
};

/* open (creating) the environment; msg on failure */
static wd_kv_lmdb_t *
wd_kv_lmdb_open(const char *path, size_t max_size, char *msg, size_t msglen)
{
    wd_kv_lmdb_t *s = calloc(1, sizeof(*s));
    MDB_txn *txn;
    int rc;
    if (s == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    s->max_size = max_size;
    if ((rc = mdb_env_create(&s->env)) != 0
        || (rc = mdb_env_set_mapsize(s->env, max_size)) != 0
        || (rc = mdb_env_set_maxreaders(s->env, 1024)) != 0
        || (rc = mdb_env_open(s->env, path, MDB_NOSYNC | MDB_NOTLS, 0600)) != 0) {
        snprintf(msg, msglen, "lmdb \"%s\": %s", path, mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
        snprintf(msg, msglen, "lmdb \"%s\": %s", path, mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_dbi_open(txn, NULL, 0, &s->dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
        if (rc != 0) {
            snprintf(msg, msglen, "lmdb \"%s\": %s", path, mdb_strerror(rc));
        }
        goto fail;
    }
    return s;
fail:
    if (s->env) {
        mdb_env_close(s->env);
    }
    free(s);
    return NULL;
}

static void
wd_kv_lmdb_close(wd_kv_lmdb_t *s)
{
    if (s) {
        mdb_env_close(s->env);
        free(s);
    }
}

/* ---------------------------------------------------------------- directives */

static wd_http_wasm_main_conf_t *
wd_http_wasm_kv_main(wd_conf_t *cf)
{
    return wd_http_conf_get_module_main_conf(cf, wd_wasm_module);
}

static int
wd_http_wasm_kv_name_ok(const wd_str_t *n)
{
    if (n->len == 0 || n->len > 64) {
        return 0;
    }
    for (size_t i = 0; i < n->len; i++) {
        u_char c = n->data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-' || c == '.')) {
            return 0;
        }
    }
    return 1;
}

static wd_http_wasm_kvstore_t *
wd_http_wasm_kv_add(wd_conf_t *cf, wd_http_wasm_main_conf_t *mcf, const wd_str_t *name,
                    wd_str_t path, size_t max_size)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        if (st[i].name.len == name->len && memcmp(st[i].name.data, name->data, name->len) == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\" is already defined "
                              "in %.*s:%lu", wd_str_pf(name), wd_str_pf(&st[i].file),
                              (unsigned long) st[i].line);
            return NULL;
        }
    }
    if (wd_conf_full_name(cf->cycle, &path, 0) != WD_OK) {
        return NULL;
    }
    wd_http_wasm_kvstore_t *s = wd_array_push(&mcf->kv_stores);
    if (s == NULL) {
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->name.data = (u_char *) wd_pstrdup(cf->pool, name);
    s->name.len = name->len;
    s->path.data = (u_char *) wd_pstrdup(cf->pool, &path);
    s->path.len = path.len;
    s->max_size = max_size;
    s->file = cf->conf_file->name;
    s->line = cf->conf_file->line;
    if (s->name.data == NULL || s->path.data == NULL) {
        return NULL;
    }
    /* the workers' Landlock set: the store's directory, read-write */
    if (wd_sandbox_allow_path(cf->cycle, (const char *) s->path.data, WD_SANDBOX_MODIFY)
        != WD_OK) {
        return NULL;
    }
    return s;
}

char *
wd_http_wasm_kv_store_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_main_conf_t *mcf = conf;
    wd_str_t *args = cf->args->elts;
    size_t max_size = WD_KV_DEFAULT_MAX_SIZE;

    if (!wd_http_wasm_kv_name_ok(&args[1])) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store: invalid name \"%.*s\" "
                          "(1 to 64 of A-Z a-z 0-9 _ - .)", wd_str_pf(&args[1]));
        return WD_CONF_ERROR;
    }
    if (wd_str_eq(&args[2], "redis")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": the redis backend is "
                          "not available in this build (use lmdb)", wd_str_pf(&args[1]));
        return WD_CONF_ERROR;
    }
    if (!wd_str_eq(&args[2], "lmdb")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": unknown backend "
                          "\"%.*s\" (lmdb)", wd_str_pf(&args[1]), wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    if (cf->args->nelts < 4 || args[3].len == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": lmdb needs a directory",
                          wd_str_pf(&args[1]));
        return WD_CONF_ERROR;
    }
    for (wd_uint_t i = 4; i < cf->args->nelts; i++) {
        wd_str_t v = args[i];
        if (v.len > 9 && memcmp(v.data, "max_size=", 9) == 0) {
            v.data += 9;
            v.len -= 9;
            ssize_t n = wd_parse_size(&v);
            if (n < (ssize_t) 1 << 20) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": invalid "
                                  "max_size \"%.*s\" (a size of at least 1m)",
                                  wd_str_pf(&args[1]), wd_str_pf(&v));
                return WD_CONF_ERROR;
            }
            max_size = (size_t) n;
            continue;
        }
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": unknown parameter "
                          "\"%.*s\" (max_size=SIZE)", wd_str_pf(&args[1]), wd_str_pf(&args[i]));
        return WD_CONF_ERROR;
    }
    return wd_http_wasm_kv_add(cf, mcf, &args[1], args[3], max_size) ? WD_CONF_OK
                                                                       : WD_CONF_ERROR;
}

char *
wd_http_wasm_kv_grant_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts;

    if (lc->kv_grants) {
        return "is duplicate";
    }
    if ((lc->kv_grants = wd_array_create(cf->pool, 2, sizeof(wd_str_t))) == NULL) {
        return WD_CONF_ERROR;
    }
    lc->kv_file = cf->conf_file->name;
    lc->kv_line = cf->conf_file->line;
    for (wd_uint_t i = 1; i < cf->args->nelts; i++) {
        wd_str_t *g;
        if (wd_str_eq(&args[i], "off") && cf->args->nelts == 2) {
            break;                    /* no store at all */
        }
        if (!wd_http_wasm_kv_name_ok(&args[i])) {
            return wd_conf_invalid_value(cf, &args[i]);
        }
        if ((g = wd_array_push(lc->kv_grants)) == NULL) {
            return WD_CONF_ERROR;
        }
        *g = args[i];
    }
    return WD_CONF_OK;
}

char *
wd_http_wasm_kv_limits_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts;
    ssize_t k = wd_parse_size(&args[1]), v = wd_parse_size(&args[2]);

    if (lc->kv_key_max != WD_CONF_UNSET_SIZE) {
        return "is duplicate";
    }
    if (k < 1 || k > WD_KV_LMDB_KEY_MAX) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_keyvalue_limits: key limit \"%.*s\" must "
                          "be 1 to %d bytes", wd_str_pf(&args[1]), WD_KV_LMDB_KEY_MAX);
        return WD_CONF_ERROR;
    }
    if (v < 1 || v > (ssize_t) 64 << 20) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_keyvalue_limits: value limit \"%.*s\" "
                          "must be 1 byte to 64m", wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    lc->kv_key_max = (size_t) k;
    lc->kv_value_max = (size_t) v;
    return WD_CONF_OK;
}

char *
wd_http_wasm_config_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts;
    char **e;

    if (args[1].len == 0 || memchr(args[1].data, '=', args[1].len)
        || memchr(args[1].data, '\0', args[1].len) || memchr(args[2].data, '\0', args[2].len)) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (lc->config == NULL && (lc->config = wd_array_create(cf->pool, 4, sizeof(char *))) == NULL) {
        return WD_CONF_ERROR;
    }
    e = wd_array_push(lc->config);
    if (e == NULL || (*e = wd_pnalloc(cf->pool, args[1].len + args[2].len + 2)) == NULL) {
        return WD_CONF_ERROR;
    }
    snprintf(*e, args[1].len + args[2].len + 2, "%.*s=%.*s", wd_str_pf(&args[1]),
             wd_str_pf(&args[2]));
    return WD_CONF_OK;
}

/* inherit, then build this route's store table (every store, with its grants) */
char *
wd_http_wasm_kv_merge(wd_conf_t *cf, wd_http_wasm_loc_conf_t *prev, wd_http_wasm_loc_conf_t *conf)
{
    wd_http_wasm_main_conf_t *mcf = wd_http_wasm_kv_main(cf);

    if (conf->kv_grants == NULL) {
        conf->kv_grants = prev->kv_grants;
        conf->kv_file = prev->kv_file;
        conf->kv_line = prev->kv_line;
    }
    wd_conf_merge_size_value(conf->kv_key_max, prev->kv_key_max, WD_KV_DEFAULT_KEY_MAX);
    wd_conf_merge_size_value(conf->kv_value_max, prev->kv_value_max, WD_KV_DEFAULT_VALUE_MAX);
    /* wasm_config merges: the parent's values, then this level's (the later wins) */
    if (conf->config == NULL) {
        conf->config = prev->config;
    } else if (prev->config && conf->config_v == NULL) {
        wd_array_t *m = wd_array_create(cf->pool, prev->config->nelts + conf->config->nelts,
                                        sizeof(char *));
        if (m == NULL) {
            return WD_CONF_ERROR;
        }
        char **pe = prev->config->elts, **ce = conf->config->elts, **e;
        for (wd_uint_t i = 0; i < prev->config->nelts + conf->config->nelts; i++) {
            if ((e = wd_array_push(m)) == NULL) {
                return WD_CONF_ERROR;
            }
            *e = i < prev->config->nelts ? pe[i] : ce[i - prev->config->nelts];
        }
        conf->config = m;
    }
    if (conf->config && conf->config_v == NULL) {
        conf->config_v = conf->config->elts;
        conf->config_n = conf->config->nelts;
    }
    if (conf->mod == NULL || conf->mod->cgi || (conf->mod->module == NULL && conf->mod->comp == NULL)
        || mcf == NULL) {
        return WD_CONF_OK;
    }
    /* the implicit `default` store, once, when no keyvalue_store is configured and a
       handler (core module or component) imports wasi:keyvalue (nothing is created for
       routes that do not) */
    int uses_kv = 0;
    for (uint32_t i = 0; conf->mod->module && i < wd_wasm_module_import_count(conf->mod->module); i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(conf->mod->module, i);
        if (d->module_len >= 14 && memcmp(d->module, "wasi:keyvalue/", 14) == 0) {
            uses_kv = 1;
        }
    }
    const wd_comp_plan_t *plan = conf->mod->comp ? wd_comp_get_plan(conf->mod->comp) : NULL;
    for (uint32_t i = 0; plan && i < plan->nimports; i++) {
        if (strncmp(plan->imports[i].name, "wasi:keyvalue/", 14) == 0) {
            uses_kv = 1;
        }
    }
    if (mcf->kv_stores.nelts == 0 && !mcf->kv_default && uses_kv) {
        wd_str_t name = wd_string("default"), path = wd_string("kv/default");
        mcf->kv_default = 1;
        if (wd_http_wasm_kv_add(cf, mcf, &name, path, WD_KV_DEFAULT_MAX_SIZE) == NULL) {
            return WD_CONF_ERROR;
        }
    }
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    wd_str_t *g = conf->kv_grants ? conf->kv_grants->elts : NULL;
    wd_uint_t ng = conf->kv_grants ? conf->kv_grants->nelts : 0;
    for (wd_uint_t j = 0; j < ng; j++) {
        wd_uint_t i;
        for (i = 0; i < mcf->kv_stores.nelts; i++) {
            if (st[i].name.len == g[j].len && memcmp(st[i].name.data, g[j].data, g[j].len) == 0) {
                break;
            }
        }
        if (i == mcf->kv_stores.nelts) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_keyvalue (%.*s:%lu): no keyvalue_store "
                              "named \"%.*s\"", wd_str_pf(&conf->kv_file),
                              (unsigned long) conf->kv_line, wd_str_pf(&g[j]));
            return WD_CONF_ERROR;
        }
    }
    conf->kv_nstores = mcf->kv_stores.nelts;
    conf->kv_stores = wd_pcalloc(cf->pool, (conf->kv_nstores + 1) * sizeof(wd_host_kv_store_t));
    if (conf->kv_stores == NULL) {
        return WD_CONF_ERROR;
    }
    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        wd_host_kv_store_t *hs = &conf->kv_stores[i];
        hs->name = (const char *) st[i].name.data;
        if (conf->kv_grants == NULL) {
            hs->granted = wd_str_eq(&st[i].name, "default");
        }
        for (wd_uint_t j = 0; j < ng; j++) {
            if (st[i].name.len == g[j].len && memcmp(st[i].name.data, g[j].data, g[j].len) == 0) {
                hs->granted = 1;
            }
        }
    }
    return WD_CONF_OK;
}

/* ---------------------------------------------------------------- processes */

/* master: create every store's directory and environment, owned by the workers' user */
int
wd_http_wasm_kv_init_master(wd_cycle_t *cycle, wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    wd_sandbox_conf_t *sc = cycle->sandbox;
    char msg[512], f[PATH_MAX];

    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        char *p = (char *) st[i].path.data;
        /* parents of the implicit default store (PREFIX/kv) */
        char *slash = strrchr(p, '/');
        if (slash && slash != p) {
            *slash = '\0';
            (void) mkdir(p, 0755);
            *slash = '/';
        }
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            wd_log_error(WD_LOG_EMERG, cycle->log, errno, "keyvalue_store \"%s\" (%.*s:%lu): "
                         "cannot create \"%s\"", (const char *) st[i].name.data,
                         wd_str_pf(&st[i].file), (unsigned long) st[i].line, p);
            return WD_ERROR;
        }
        wd_kv_lmdb_t *s = wd_kv_lmdb_open(p, st[i].max_size, msg, sizeof(msg));
        if (s == NULL) {
            wd_log_error(WD_LOG_EMERG, cycle->log, 0, "keyvalue_store \"%s\" (%.*s:%lu): %s",
                         (const char *) st[i].name.data, wd_str_pf(&st[i].file),
                         (unsigned long) st[i].line, msg);
            return WD_ERROR;
        }
        wd_kv_lmdb_close(s);
        if (sc && sc->change_user && geteuid() == 0) {
            static const char *const names[] = { "", "/data.mdb", "/lock.mdb" };
            for (int k = 0; k < 3; k++) {
                snprintf(f, sizeof(f), "%s%s", p, names[k]);
                if (chown(f, sc->uid, sc->gid) != 0) {
                    wd_log_error(WD_LOG_ALERT, cycle->log, errno, "chown(\"%s\") failed", f);
                }
            }
        }
    }
    return WD_OK;
}

static void
wd_http_wasm_kv_patch(wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_loc_conf_t **routes = mcf->routes.elts;
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    for (wd_uint_t r = 0; r < mcf->routes.nelts; r++) {
        for (size_t i = 0; i < routes[r]->kv_nstores && i < mcf->kv_stores.nelts; i++) {
            routes[r]->kv_stores[i].ops = st[i].env ? &wd_kv_lmdb_ops : NULL;
            routes[r]->kv_stores[i].data = st[i].env;
        }
    }
}

/* worker, after the fork: open every environment (shared map, own handle) */
int
wd_http_wasm_kv_init_worker(wd_cycle_t *cycle, wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    char msg[512];

    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        st[i].env = wd_kv_lmdb_open((const char *) st[i].path.data, st[i].max_size, msg,
                                    sizeof(msg));
        if (st[i].env == NULL) {
            /* the routes still run: open answers other("store is not available ...") */
            wd_log_error(WD_LOG_ALERT, cycle->log, 0, "keyvalue_store \"%s\": %s",
                         (const char *) st[i].name.data, msg);
        }
    }
    wd_http_wasm_kv_patch(mcf);
    return WD_OK;
}

void
wd_http_wasm_kv_exit_worker(wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        wd_kv_lmdb_close(st[i].env);
        st[i].env = NULL;
    }
    wd_http_wasm_kv_patch(mcf);
}
