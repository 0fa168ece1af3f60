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
 * Reads run on the worker's loop thread (memory accesses in the map, one copy out). Writes
 * run on libuv's thread pool (wd_kv_lmdb_submit): a write waits for LMDB's writer lock,
 * which another worker or server may hold, so the handler is suspended meanwhile and the
 * loop keeps serving. The Redis backend is wd_http_wasm_kv_redis.c.
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

typedef struct wd_kv_lmdb_job_s wd_kv_lmdb_job_t;

typedef struct {
    MDB_env *env;
    MDB_dbi dbi;
    size_t max_size;
    /* worker: writes on libuv's thread pool, one job at a time (wd_kv_lmdb_submit) */
    uv_work_t req;
    wd_kv_lmdb_job_t *running;    /* in the pool now, oldest first */
    wd_kv_lmdb_job_t *queue;      /* waiting for it, newest first */
    int busy;
} wd_kv_lmdb_t;

/* ---------------------------------------------------------------- LMDB backend */

static void
wd_kv_lmdb_fail(wd_kv_op_t *op, const char *what, int rc, const wd_kv_lmdb_t *s)
{
    op->rc = -1;
    if (rc == MDB_MAP_FULL) {
        snprintf(op->err, sizeof(op->err), "store is full (max_size=%zu bytes)", s->max_size);
    } else {
        snprintf(op->err, sizeof(op->err), "%s: %s", what, mdb_strerror(rc));
    }
}

static void
wd_kv_lmdb_get(wd_kv_lmdb_t *s, wd_kv_op_t *op)
{
    MDB_txn *txn;
    MDB_val key = { op->kl, (void *) op->key }, val;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        wd_kv_lmdb_fail(op, "read", rc, s);
        return;
    }
    rc = mdb_get(txn, s->dbi, &key, &val);
    if (rc == MDB_NOTFOUND) {
        op->rc = 0;
    } else if (rc != 0) {
        wd_kv_lmdb_fail(op, "get", rc, s);
    } else if ((op->v = malloc(val.mv_size ? val.mv_size : 1)) == NULL) {
        op->rc = -1;
        snprintf(op->err, sizeof(op->err), "out of memory");
    } else {
        /* one copy, out of the map (pages may be reused once the txn ends) */
        memcpy(op->v, val.mv_data, val.mv_size);
        op->rvl = val.mv_size;
        op->rc = 1;
    }
    mdb_txn_abort(txn);
}

static void
wd_kv_lmdb_list(wd_kv_lmdb_t *s, wd_kv_op_t *op)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val key = { op->kl, (void *) op->key }, val;
    size_t cap = 0, last = 0;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        wd_kv_lmdb_fail(op, "read", rc, s);
        return;
    }
    if ((rc = mdb_cursor_open(txn, s->dbi, &c)) != 0) {
        mdb_txn_abort(txn);
        wd_kv_lmdb_fail(op, "cursor", rc, s);
        return;
    }
    /* the cursor is the last key of the previous page */
    if (op->key && op->kl > 0) {
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        if (rc == 0 && key.mv_size == op->kl && memcmp(key.mv_data, op->key, op->kl) == 0) {
            rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
        }
    } else {
        rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
    }
    op->rc = 0;
    while (rc == 0) {
        if (op->nkeys == op->max) {
            /* more follow: the next page starts after the last key given */
            uint32_t l;
            memcpy(&l, op->keys + last, 4);
            if ((op->cursor = malloc(l ? l : 1)) == NULL) {
                goto oom;
            }
            memcpy(op->cursor, op->keys + last + 4, l);
            op->cursor_len = l;
            break;
        }
        if (op->keys_len + 4 + key.mv_size > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc < op->keys_len + 4 + key.mv_size) {
                nc *= 2;
            }
            char *nk = realloc(op->keys, nc);
            if (nk == NULL) {
                goto oom;
            }
            op->keys = nk;
            cap = nc;
        }
        uint32_t l = (uint32_t) key.mv_size;
        last = op->keys_len;
        memcpy(op->keys + op->keys_len, &l, 4);
        memcpy(op->keys + op->keys_len + 4, key.mv_data, l);
        op->keys_len += 4 + l;
        op->nkeys++;
        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        wd_kv_lmdb_fail(op, "list", rc, s);
    }
    return;
oom:
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    op->rc = -1;
    snprintf(op->err, sizeof(op->err), "out of memory");
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

/* one write transaction: set, delete, increment or compare-and-swap */
static void
wd_kv_lmdb_write(wd_kv_lmdb_t *s, wd_kv_op_t *op)
{
    MDB_txn *txn;
    MDB_val key = { op->kl, (void *) op->key }, val;
    char buf[24];
    int64_t cur = 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0) {
        wd_kv_lmdb_fail(op, "write", rc, s);
        return;
    }
    op->rc = 0;
    switch (op->op) {
    case WD_KV_OP_SET:
        val.mv_size = op->vl;
        val.mv_data = (void *) op->val;
        rc = mdb_put(txn, s->dbi, &key, &val, 0);
        break;
    case WD_KV_OP_DEL:
        rc = mdb_del(txn, s->dbi, &key, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
        break;
    case WD_KV_OP_INCR:
        rc = mdb_get(txn, s->dbi, &key, &val);
        if (rc == 0 && wd_kv_parse_i64(val.mv_data, val.mv_size, &cur) < 0) {
            mdb_txn_abort(txn);
            op->rc = -1;
            snprintf(op->err, sizeof(op->err), "value is not an integer in ASCII decimal");
            return;
        }
        if (rc != 0 && rc != MDB_NOTFOUND) {
            break;
        }
        if (__builtin_add_overflow(cur, op->delta, &cur)) {
            mdb_txn_abort(txn);
            op->rc = -1;
            snprintf(op->err, sizeof(op->err), "increment would overflow");
            return;
        }
        val.mv_size = (size_t) snprintf(buf, sizeof(buf), "%lld", (long long) cur);
        val.mv_data = buf;
        rc = mdb_put(txn, s->dbi, &key, &val, 0);
        op->out = cur;
        break;
    case WD_KV_OP_CAS:
        rc = mdb_get(txn, s->dbi, &key, &val);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            break;
        }
        if (op->had ? rc != 0 || val.mv_size != op->oldl
                      || memcmp(val.mv_data, op->old, op->oldl) != 0
                    : rc != MDB_NOTFOUND) {
            mdb_txn_abort(txn);       /* changed since: nothing written */
            return;
        }
        val.mv_size = op->vl;
        val.mv_data = (void *) op->val;
        rc = mdb_put(txn, s->dbi, &key, &val, 0);
        op->rc = 1;
        break;
    default:
        rc = EINVAL;
        break;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        wd_kv_lmdb_fail(op, "write", rc, s);
        return;
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        wd_kv_lmdb_fail(op, "commit", rc, s);
    }
}

static void
wd_kv_lmdb_exec(void *sd, wd_kv_op_t *op)
{
    wd_kv_lmdb_t *s = sd;
    switch (op->op) {
    case WD_KV_OP_GET:
        wd_kv_lmdb_get(s, op);
        break;
    case WD_KV_OP_LIST:
        wd_kv_lmdb_list(s, op);
        break;
    default:
        wd_kv_lmdb_write(s, op);
        break;
    }
}

/* Writes on libuv's thread pool (they wait for LMDB's writer lock, which another worker or
 * server may hold); reads at once, on the loop (memory accesses in the shared map). */
/* One submit's writes. While the store's thread-pool job runs, later submits queue up and
 * go together in the next job: under load, one thread hand-off and one loop wake-up serve
 * many requests. */
struct wd_kv_lmdb_job_s {
    wd_kv_lmdb_job_t *next;
    wd_kv_op_t *ops;
    uint32_t n;
    wd_kv_done_fn done;
    void *u;
};

static void wd_kv_lmdb_start(wd_kv_lmdb_t *s);

static void
wd_kv_lmdb_work(uv_work_t *req)
{
    wd_kv_lmdb_t *s = req->data;
    for (wd_kv_lmdb_job_t *j = s->running; j; j = j->next) {
        for (uint32_t i = 0; i < j->n; i++) {
            wd_kv_lmdb_exec(s, &j->ops[i]);
        }
    }
}

static void
wd_kv_lmdb_after(uv_work_t *req, int status)
{
    wd_kv_lmdb_t *s = req->data;
    wd_kv_lmdb_job_t *j = s->running, *next;
    s->running = NULL;
    s->busy = 0;
    for (; j; j = next) {
        next = j->next;
        if (status != 0) {            /* cancelled (the loop is closing) */
            for (uint32_t i = 0; i < j->n; i++) {
                j->ops[i].rc = -1;
                snprintf(j->ops[i].err, sizeof(j->ops[i].err), "cancelled");
            }
        }
        j->done(j->u);
        free(j);
    }
    if (s->queue && !s->busy && status == 0) {   /* (a callback may have started one) */
        wd_kv_lmdb_start(s);
    }
}

/* the queued jobs, in arrival order, to the thread pool */
static void
wd_kv_lmdb_start(wd_kv_lmdb_t *s)
{
    wd_kv_lmdb_job_t *rev = NULL, *j, *next;
    for (j = s->queue; j; j = next) {     /* the queue is newest first */
        next = j->next;
        j->next = rev;
        rev = j;
    }
    s->queue = NULL;
    s->running = rev;
    s->busy = 1;
    s->req.data = s;
    if (uv_queue_work(&wd_worker->loop, &s->req, wd_kv_lmdb_work, wd_kv_lmdb_after) != 0) {
        wd_kv_lmdb_work(&s->req);         /* cannot happen with a live loop: run them here */
        wd_kv_lmdb_after(&s->req, 0);
    }
}

static int
wd_kv_lmdb_submit(void *sd, wd_kv_op_t *ops, uint32_t n, wd_kv_done_fn done, void *u)
{
    wd_kv_lmdb_t *s = sd;
    uint32_t writes = 0;
    for (uint32_t i = 0; i < n; i++) {
        writes += ops[i].op != WD_KV_OP_GET && ops[i].op != WD_KV_OP_LIST;
    }
    wd_kv_lmdb_job_t *j = writes ? calloc(1, sizeof(*j)) : NULL;
    if (j == NULL) {
        /* reads (or no memory for a job: then the writes run here after all) */
        for (uint32_t i = 0; i < n; i++) {
            wd_kv_lmdb_exec(s, &ops[i]);
        }
        return 1;
    }
    j->ops = ops;
    j->n = n;
    j->done = done;
    j->u = u;
    j->next = s->queue;
    s->queue = j;
    if (!s->busy) {
        wd_kv_lmdb_start(s);
    }
    return 0;
}

static const wd_kv_ops_t wd_kv_lmdb_ops = { wd_kv_lmdb_exec, wd_kv_lmdb_submit };

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
        || (rc = mdb_env_open(s->env, path, MDB_NOSYNC | MDB_NOTLS | MDB_WRITEMAP, 0600)) != 0) {
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
                    wd_str_t path, size_t max_size, void *redis)
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
    if (redis == NULL && wd_conf_full_name(cf->cycle, &path, 0) != WD_OK) {
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
    s->redis = redis;
    s->file = cf->conf_file->name;
    s->line = cf->conf_file->line;
    if (s->name.data == NULL || s->path.data == NULL) {
        return NULL;
    }
    /* the workers' Landlock set: the store's directory, read-write */
    if (redis == NULL && wd_sandbox_allow_path(cf->cycle, (const char *) s->path.data, WD_SANDBOX_MODIFY)
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
        char msg[300];
        void *r = NULL;
        if (cf->args->nelts < 4) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": redis needs a url "
                              "(redis://[:password@]host:port[/db])", wd_str_pf(&args[1]));
            return WD_CONF_ERROR;
        }
        if (wd_http_wasm_kv_redis_parse(cf->pool, &args[3], &args[4], cf->args->nelts - 4, &r,
                                        msg, sizeof(msg)) < 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": %s",
                              wd_str_pf(&args[1]), msg);
            return WD_CONF_ERROR;
        }
        return wd_http_wasm_kv_add(cf, mcf, &args[1], args[3], 0, r) ? WD_CONF_OK
                                                                     : WD_CONF_ERROR;
    }
    if (!wd_str_eq(&args[2], "lmdb")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": unknown backend "
                          "\"%.*s\" (lmdb, redis)", wd_str_pf(&args[1]), wd_str_pf(&args[2]));
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
    return wd_http_wasm_kv_add(cf, mcf, &args[1], args[3], max_size, NULL) ? WD_CONF_OK
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
        if (wd_http_wasm_kv_add(cf, mcf, &name, path, WD_KV_DEFAULT_MAX_SIZE, NULL) == NULL) {
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
        if (st[i].redis) {
            continue;                 /* nothing to create; workers connect when used */
        }
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
        /* workers switch to their user; a single process (master_process off) keeps its
           identity (without the capability to ignore file modes), so keeps the files */
        if (sc && sc->change_user && geteuid() == 0 && cycle->master_process) {
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
            if (st[i].redis) {
                routes[r]->kv_stores[i].ops = st[i].redis_ops;
                routes[r]->kv_stores[i].data = st[i].redis_ops ? st[i].redis : NULL;
                continue;
            }
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
        if (st[i].redis) {
            st[i].redis_ops = wd_http_wasm_kv_redis_worker(st[i].redis, msg, sizeof(msg));
            if (st[i].redis_ops == NULL) {
                wd_log_error(WD_LOG_ALERT, cycle->log, 0, "keyvalue_store \"%s\": %s",
                             (const char *) st[i].name.data, msg);
            }
            continue;
        }
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
        if (st[i].redis == NULL) {
            wd_kv_lmdb_close(st[i].env);
        }
        st[i].env = NULL;
        st[i].redis_ops = NULL;
    }
    wd_http_wasm_kv_patch(mcf);
}
