/*
 * wd_host_kv_lmdb.c -- the LMDB backend of wasi:keyvalue stores:
 *
 *   keyvalue_store NAME lmdb DIR [max_size=SIZE];      (wasmd run: --keyvalue 'NAME lmdb DIR')
 *
 * One environment per store, a directory holding data.mdb and lock.mdb, created (with its
 * parent) before any process opens it (create: the server's master). Every process opens it
 * itself (open: a worker after the fork; LMDB environments must not cross a fork). All of
 * them share the map; LMDB serialises writers across processes with its robust lock-file
 * mutex, so increments and compare-and-swap from several workers are exact, and a process
 * killed inside a write transaction loses that transaction only. Commits use MDB_NOSYNC: a
 * write that returned is in the shared map (the page cache), so it survives kill -9 of a
 * worker or the master and a restart; it is not fsync'ed, so a power loss may undo the last
 * writes. Reads run on the caller's thread (memory accesses in the map, one copy out).
 * Writes run on libuv's thread pool (wd_kv_lmdb_submit): a write waits for LMDB's writer
 * lock, which another worker or server may hold, so the handler is suspended meanwhile and
 * the loop keeps serving. Without a loop (env->loop NULL) everything runs synchronously.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lmdb.h>
#include "wd_host_kv.h"

#define WD_KV_LMDB_DEFAULT_SIZE ((size_t) 256 << 20)

typedef struct wd_kv_lmdb_job_s wd_kv_lmdb_job_t;

/* conf: filled by parse */
typedef struct {
    char                 path[PATH_MAX];
    size_t               max_size;
} wd_kv_lmdb_conf_t;

typedef struct {
    MDB_env *env;
    MDB_dbi dbi;
    size_t max_size;
    wd_kv_env_t kvenv;            /* no loop: writes run at once, on the caller's thread */
    /* writes on libuv's thread pool, one job at a time (wd_kv_lmdb_submit) */
    uv_work_t req;
    wd_kv_lmdb_job_t *running;    /* in the pool now, oldest first */
    wd_kv_lmdb_job_t *queue;      /* waiting for it, newest first */
    int busy;
} wd_kv_lmdb_t;

/* ---------------------------------------------------------------- operations */

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
    uv_loop_t *loop = wd_kv_env_loop(&s->kvenv);
    if (loop == NULL || uv_queue_work(loop, &s->req, wd_kv_lmdb_work, wd_kv_lmdb_after) != 0) {
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
    wd_kv_lmdb_job_t *j = writes && wd_kv_env_loop(&s->kvenv) ? calloc(1, sizeof(*j)) : NULL;
    if (j == NULL) {
        /* reads (or no loop, or no memory for a job: then the writes run here after all) */
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


/* ---------------------------------------------------------------- the backend */

static int
wd_kv_lmdb_parse(void *conf, const char *location, const char *const *params, size_t nparams,
                 char *msg, size_t msglen)
{
    wd_kv_lmdb_conf_t *c = conf;
    if (location[0] == '\0' || strlen(location) >= sizeof(c->path)) {
        snprintf(msg, msglen, "lmdb needs a directory");
        return -1;
    }
    strcpy(c->path, location);
    c->max_size = WD_KV_LMDB_DEFAULT_SIZE;
    for (size_t i = 0; i < nparams; i++) {
        const char *v = params[i];
        if (strncmp(v, "max_size=", 9) == 0) {
            int64_t n = wd_kv_parse_size(v + 9);
            if (n < (int64_t) 1 << 20) {
                snprintf(msg, msglen, "invalid max_size \"%s\" (a size of at least 1m)", v + 9);
                return -1;
            }
            c->max_size = (size_t) n;
            continue;
        }
        snprintf(msg, msglen, "unknown parameter \"%s\" (max_size=SIZE)", v);
        return -1;
    }
    return 0;
}

/* the directory (and its parent: the implicit default store's PREFIX/kv) and the
   environment's files, given to uid:gid when asked */
static int
wd_kv_lmdb_create(void *conf, long uid, long gid, const wd_kv_env_t *env, char *msg,
                  size_t msglen)
{
    wd_kv_lmdb_conf_t *c = conf;
    char *p = c->path, f[PATH_MAX + 16];
    char *slash = strrchr(p, '/');
    if (slash && slash != p) {
        *slash = '\0';
        (void) mkdir(p, 0755);
        *slash = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        snprintf(msg, msglen, "cannot create \"%s\": %s", p, strerror(errno));
        return -1;
    }
    wd_kv_lmdb_t *s = wd_kv_lmdb_open(p, c->max_size, msg, msglen);
    if (s == NULL) {
        return -1;
    }
    wd_kv_lmdb_close(s);
    if (uid >= 0) {
        static const char *const names[] = { "", "/data.mdb", "/lock.mdb" };
        for (int k = 0; k < 3; k++) {
            snprintf(f, sizeof(f), "%s%s", p, names[k]);
            if (chown(f, (uid_t) uid, (gid_t) gid) != 0) {
                char m[PATH_MAX + 80];
                snprintf(m, sizeof(m), "chown(\"%s\") failed: %s", f, strerror(errno));
                wd_kv_env_log(env, m);
            }
        }
    }
    return 0;
}

static void *
wd_kv_lmdb_backend_open(void *conf, const wd_kv_env_t *env, char *msg, size_t msglen)
{
    wd_kv_lmdb_conf_t *c = conf;
    wd_kv_lmdb_t *s = wd_kv_lmdb_open(c->path, c->max_size, msg, msglen);
    if (s && env) {
        s->kvenv = *env;
    }
    return s;
}

static void
wd_kv_lmdb_backend_close(void *data)
{
    wd_kv_lmdb_close(data);
}

const wd_kv_backend_t wd_kv_lmdb_backend = {
    .name = "lmdb",
    .location = "a directory",
    .is_path = 1,
    .conf_size = sizeof(wd_kv_lmdb_conf_t),
    .parse = wd_kv_lmdb_parse,
    .create = wd_kv_lmdb_create,
    .open = wd_kv_lmdb_backend_open,
    .shutdown = NULL,
    .close = wd_kv_lmdb_backend_close,
    .ops = &wd_kv_lmdb_ops,
};
