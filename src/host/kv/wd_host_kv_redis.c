/*
 * wd_host_kv_redis.c -- the Redis backend of wasi:keyvalue stores:
 *
 *   keyvalue_store NAME redis redis://[:password@]host:port[/db] [pool=N] [timeout=TIME];
 *   (wasmd run: --keyvalue 'NAME redis redis://...')
 *
 * One Redis database is one store; any number of wasmd servers pointed at it share it.
 * Each process (worker, `wasmd run`) keeps a small pool of connections (hiredis's
 * asynchronous API on its libuv loop, through hiredis's libuv adapter). A host call's operations go, in order, on
 * one connection, written at once behind whatever that connection has in flight
 * (pipelining: many requests share one round trip), and the guest is suspended until
 * every reply is in; the worker serves other requests meanwhile. Commands: GET, SET, DEL,
 * INCRBY, SCAN (list-keys: the SCAN cursor is the WIT cursor), MGET / MSET / DEL for
 * batches, and a Lua script for compare-and-swap (atomic on the server).
 *
 * Failures: a refused or lost connection fails the commands in flight on it at once
 * (other("redis ...")); a connection that has had commands in flight without any reply
 * for `timeout` (default 1s; a stopped or overloaded Redis) is dropped, which fails them
 * the same way. The next operation connects again (at most one attempt per connection
 * every 100 ms: in between, operations fail at once with the last error), so service
 * recovers by itself when Redis is back. Nothing here ever blocks: the host name is
 * resolved once, at configuration time.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#include "wd_host_kv.h"

#define WD_KV_REDIS_POOL_MAX      64
#define WD_KV_REDIS_RETRY_MS      100

typedef struct wd_kv_redis_s wd_kv_redis_t;

typedef struct {
    wd_kv_redis_t      *r;
    redisAsyncContext  *ac;           /* NULL: not connected */
    uint32_t            inflight;     /* commands sent, replies not yet in */
    uint64_t            progress;     /* loop ms of the last reply (or first command) */
    uint64_t            retry_at;     /* no new connection before (after a failure) */
    char                err[160];     /* why the last connection failed */
} wd_kv_redis_conn_t;

/* conf (filled by parse) and, once opened, the process's connections */
struct wd_kv_redis_s {
    char                addr[INET6_ADDRSTRLEN];
    int                 port;
    int                 db;
    char                password[512];    /* "" : none */
    uint32_t            pool;
    uint64_t            timeout;      /* ms */
    /* open */
    wd_kv_env_t         env;
    uv_loop_t          *loop;         /* env's, from the first operation on */
    wd_kv_redis_conn_t *conns;
    uint32_t            next;
    uv_timer_t          timer;
    unsigned            timer_init:1;
    unsigned            closed:1;
};

/* A host call's operations: done(u) once every reply is in. */
typedef struct {
    wd_kv_op_t         *ops;
    uint32_t            n, left;
    wd_kv_done_fn       done;
    void               *u;
} wd_kv_redis_job_t;

/* one command: ops [first, first + count) of a job */
typedef struct {
    wd_kv_redis_job_t  *job;
    wd_kv_redis_conn_t *conn;
    redisAsyncContext  *ac;
    uint32_t            first, count;
} wd_kv_redis_cmd_t;

/* Compare-and-swap on the server. KEYS[1]; ARGV: had ("1"/"0"), old, new. 1 swapped. */
static const char wd_kv_redis_cas_lua[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if (ARGV[1] == '1' and v == ARGV[2]) or (ARGV[1] == '0' and v == false) then "
    "redis.call('SET', KEYS[1], ARGV[3]) return 1 end return 0";

/* ---------------------------------------------------------------- configuration */

/* redis://[:password@]host[:port][/db]: 0, or -1 with msg */
static int
wd_kv_redis_parse(void *conf, const char *url, const char *const *params, size_t nparams,
                  char *msg, size_t msglen)
{
    char buf[512], *p, *host, *port = NULL, *db = NULL, *at;
    wd_kv_redis_t *r = conf;
    size_t ul = strlen(url);

    if (ul < 8 || ul >= sizeof(buf) || memcmp(url, "redis://", 8) != 0) {
        snprintf(msg, msglen, "invalid url \"%s\" (redis://[:password@]host:port[/db])", url);
        return -1;
    }
    memcpy(buf, url + 8, ul - 8);
    buf[ul - 8] = '\0';
    p = buf;
    if ((at = strrchr(p, '@')) != NULL) {
        *at = '\0';
        if (*p != ':' || p[1] == '\0') {
            snprintf(msg, msglen, "invalid url \"%s\": the password is given as "
                     "redis://:PASSWORD@host", url);
            return -1;
        }
        snprintf(r->password, sizeof(r->password), "%s", p + 1);
        p = at + 1;
    }
    host = p;
    if ((db = strchr(p, '/')) != NULL) {
        *db++ = '\0';
    }
    if (*host == '[') {                       /* [v6]:port */
        char *e = strchr(host, ']');
        if (e == NULL) {
            snprintf(msg, msglen, "invalid url \"%s\"", url);
            return -1;
        }
        *e = '\0';
        host++;
        port = e[1] == ':' ? e + 2 : NULL;
    } else if ((port = strchr(host, ':')) != NULL) {
        *port++ = '\0';
    }
    r->port = 6379;
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (*port == '\0' || *end != '\0' || v < 1 || v > 65535) {
            snprintf(msg, msglen, "invalid port in \"%s\"", url);
            return -1;
        }
        r->port = (int) v;
    }
    if (db && *db) {
        char *end;
        long v = strtol(db, &end, 10);
        if (*end != '\0' || v < 0 || v > 1000000) {
            snprintf(msg, msglen, "invalid database number in \"%s\"", url);
            return -1;
        }
        r->db = (int) v;
    }
    if (*host == '\0') {
        snprintf(msg, msglen, "no host in \"%s\"", url);
        return -1;
    }
    /* resolved now, once: the processes using the store never wait on a resolver */
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc != 0) {
        snprintf(msg, msglen, "host \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    if (ai->ai_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr, r->addr,
                  sizeof(r->addr));
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *) ai->ai_addr)->sin_addr, r->addr,
                  sizeof(r->addr));
    }
    freeaddrinfo(ai);
    r->pool = 2;
    r->timeout = 1000;
    for (size_t i = 0; i < nparams; i++) {
        const char *v = params[i];
        if (strncmp(v, "pool=", 5) == 0) {
            char *end;
            long n = strtol(v + 5, &end, 10);
            if (v[5] < '0' || v[5] > '9' || *end != '\0' || n < 1 || n > WD_KV_REDIS_POOL_MAX) {
                snprintf(msg, msglen, "invalid pool \"%s\" (1 to %d connections per worker)",
                         v + 5, WD_KV_REDIS_POOL_MAX);
                return -1;
            }
            r->pool = (uint32_t) n;
        } else if (strncmp(v, "timeout=", 8) == 0) {
            int64_t t = wd_kv_parse_ms(v + 8);
            if (t < 1) {
                snprintf(msg, msglen, "invalid timeout \"%s\" (a time, e.g. 500ms or 2s)",
                         v + 8);
                return -1;
            }
            r->timeout = (uint64_t) t;
        } else {
            snprintf(msg, msglen, "unknown parameter \"%s\" (pool=N, timeout=TIME)", v);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- connections */

static uint64_t
wd_kv_redis_now(const wd_kv_redis_t *r)
{
    return uv_now(r->loop);
}

static void
wd_kv_redis_log(const wd_kv_redis_t *r, const char *m)
{
    wd_kv_env_log(&r->env, m);
}

static void
wd_kv_redis_lost(wd_kv_redis_conn_t *c, const char *why)
{
    c->ac = NULL;
    c->inflight = 0;
    c->retry_at = wd_kv_redis_now(c->r) + WD_KV_REDIS_RETRY_MS;
    snprintf(c->err, sizeof(c->err), "%s", why);
}

static void
wd_kv_redis_on_connect(const redisAsyncContext *ac, int status)
{
    wd_kv_redis_conn_t *c = ac->data;
    if (status != REDIS_OK && c && c->ac == ac) {
        char why[160];
        snprintf(why, sizeof(why), "redis %s:%d: cannot connect: %s", c->r->addr, c->r->port,
                 ac->errstr[0] ? ac->errstr : "error");
        wd_kv_redis_lost(c, why);   /* hiredis frees the context */
    }
}

static void
wd_kv_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    wd_kv_redis_conn_t *c = ac->data;
    if (c && c->ac == ac) {
        char why[160];
        snprintf(why, sizeof(why), "redis %s:%d: connection lost: %s", c->r->addr, c->r->port,
                 ac->errstr[0] ? ac->errstr : "closed");
        wd_kv_redis_lost(c, why);
    }
}

static void
wd_kv_redis_setup_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *rr = reply;
    wd_kv_redis_conn_t *c = ac->data;
    if (rr && rr->type == REDIS_REPLY_ERROR && c) {
        char m[300];
        snprintf(m, sizeof(m), "keyvalue redis: %s: %s", (const char *) priv, rr->str);
        wd_kv_redis_log(c->r, m);
    }
}

static void wd_kv_redis_timer_cb(uv_timer_t *t);

/* hiredis 0.14's libuv adapter drops poll errors (status < 0: libuv reports a socket error,
 * e.g. a reset from a killed server, that way and stops the poll), so hiredis would never
 * learn the connection is gone. Its read/write hooks are replaced by these, which are the
 * adapter's own but for errors: those are handed to hiredis as readable, so its read sees
 * the error and disconnects (failing what was in flight at once). */
static void
wd_kv_redis_poll(uv_poll_t *handle, int status, int events)
{
    redisLibuvEvents *p = handle->data;
    if (status < 0) {
        events = UV_READABLE;
    }
    if (p->context != NULL && (events & UV_READABLE)) {
        redisAsyncHandleRead(p->context);
    }
    if (p->context != NULL && (events & UV_WRITABLE)) {
        redisAsyncHandleWrite(p->context);
    }
}

static void
wd_kv_redis_events(redisLibuvEvents *p, int on, int ev)
{
    p->events = on ? p->events | ev : p->events & ~ev;
    if (p->events) {
        uv_poll_start(&p->handle, p->events, wd_kv_redis_poll);
    } else {
        uv_poll_stop(&p->handle);
    }
}

static void wd_kv_redis_add_read(void *p) { wd_kv_redis_events(p, 1, UV_READABLE); }
static void wd_kv_redis_del_read(void *p) { wd_kv_redis_events(p, 0, UV_READABLE); }
static void wd_kv_redis_add_write(void *p) { wd_kv_redis_events(p, 1, UV_WRITABLE); }
static void wd_kv_redis_del_write(void *p) { wd_kv_redis_events(p, 0, UV_WRITABLE); }

static redisAsyncContext *
wd_kv_redis_connect(wd_kv_redis_conn_t *c)
{
    wd_kv_redis_t *r = c->r;
    char dbs[16];
    if (c->ac) {
        return c->ac;
    }
    if (r->closed || wd_kv_redis_now(r) < c->retry_at) {
        return NULL;
    }
    redisAsyncContext *ac = redisAsyncConnect(r->addr, r->port);
    if (ac == NULL || ac->err) {
        snprintf(c->err, sizeof(c->err), "redis %s:%d: cannot connect: %s", r->addr, r->port,
                 ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }
        c->retry_at = wd_kv_redis_now(r) + WD_KV_REDIS_RETRY_MS;
        return NULL;
    }
    if (redisLibuvAttach(ac, r->loop) != REDIS_OK) {
        snprintf(c->err, sizeof(c->err), "redis: cannot attach to the loop");
        redisAsyncFree(ac);
        c->retry_at = wd_kv_redis_now(r) + WD_KV_REDIS_RETRY_MS;
        return NULL;
    }
    ac->ev.addRead = wd_kv_redis_add_read;
    ac->ev.delRead = wd_kv_redis_del_read;
    ac->ev.addWrite = wd_kv_redis_add_write;
    ac->ev.delWrite = wd_kv_redis_del_write;
    ac->data = c;
    redisAsyncSetConnectCallback(ac, wd_kv_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, wd_kv_redis_on_disconnect);
    c->ac = ac;
    c->inflight = 0;
    /* queued before anything else on this connection */
    if (r->password[0]) {
        const char *argv[2] = { "AUTH", r->password };
        redisAsyncCommandArgv(ac, wd_kv_redis_setup_reply, "AUTH", 2, argv, NULL);
    }
    if (r->db) {
        snprintf(dbs, sizeof(dbs), "%d", r->db);
        const char *argv[2] = { "SELECT", dbs };
        redisAsyncCommandArgv(ac, wd_kv_redis_setup_reply, "SELECT", 2, argv, NULL);
    }
    if (!r->timer_init) {
        uv_timer_init(r->loop, &r->timer);
        r->timer.data = r;
        r->timer_init = 1;
    }
    if (!uv_is_active((uv_handle_t *) &r->timer)) {
        uint64_t every = r->timeout / 4 < 10 ? 10 : r->timeout / 4;
        uv_timer_start(&r->timer, wd_kv_redis_timer_cb, every, every);
    }
    return ac;
}

/* connections with commands in flight and no reply for `timeout`: dropped (their commands
 * fail); the timer stops when no connection is open */
static void
wd_kv_redis_timer_cb(uv_timer_t *t)
{
    wd_kv_redis_t *r = t->data;
    uint64_t now = wd_kv_redis_now(r);
    int open = 0;
    for (uint32_t i = 0; i < r->pool; i++) {
        wd_kv_redis_conn_t *c = &r->conns[i];
        if (c->ac && c->inflight && now - c->progress >= r->timeout) {
            redisAsyncContext *ac = c->ac;
            char why[160];
            snprintf(why, sizeof(why), "redis %s:%d: no reply within %llu ms", r->addr, r->port,
                     (unsigned long long) r->timeout);
            wd_kv_redis_lost(c, why);
            c->retry_at = 0;          /* a stopped server still accepts: try again at once */
            ac->data = NULL;
            redisAsyncFree(ac);       /* its commands' callbacks run with no reply */
        }
        open |= c->ac != NULL;
    }
    if (!open) {
        uv_timer_stop(t);
    }
}

/* before the loop closes: every connection dropped (its commands fail), the timer closed */
static void
wd_kv_redis_shutdown(void *data)
{
    wd_kv_redis_t *r = data;
    r->closed = 1;
    for (uint32_t i = 0; r->conns && i < r->pool; i++) {
        redisAsyncContext *ac = r->conns[i].ac;
        if (ac) {
            wd_kv_redis_lost(&r->conns[i], "redis: the process is exiting");
            ac->data = NULL;
            redisAsyncFree(ac);
        }
    }
    if (r->timer_init) {
        uv_close((uv_handle_t *) &r->timer, NULL);
        r->timer_init = 0;
    }
}

/* ---------------------------------------------------------------- commands */

static void
wd_kv_redis_fail(wd_kv_op_t *op, const char *why)
{
    op->rc = -1;
    snprintf(op->err, sizeof(op->err), "%s", why);
}

/* the reply to one command, into its op(s) */
static void
wd_kv_redis_result(wd_kv_redis_cmd_t *cmd, redisReply *rr)
{
    wd_kv_op_t *op = &cmd->job->ops[cmd->first];
    char why[200];

    if (rr == NULL) {
        const char *e = cmd->conn && cmd->conn->err[0] ? cmd->conn->err : "redis: connection lost";
        for (uint32_t i = 0; i < cmd->count; i++) {
            wd_kv_redis_fail(&op[i], e);
        }
        return;
    }
    if (rr->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof(why), "redis: %s", rr->str);
        if (op->op == WD_KV_OP_INCR && strstr(rr->str, "not an integer")) {
            snprintf(why, sizeof(why), "value is not an integer in ASCII decimal (redis: %s)",
                     rr->str);
        }
        for (uint32_t i = 0; i < cmd->count; i++) {
            wd_kv_redis_fail(&op[i], why);
        }
        return;
    }
    switch (op->op) {
    case WD_KV_OP_GET:
        if (cmd->count > 1 || rr->type == REDIS_REPLY_ARRAY) {      /* MGET */
            if (rr->type != REDIS_REPLY_ARRAY || rr->elements != cmd->count) {
                goto unexpected;
            }
            for (uint32_t i = 0; i < cmd->count; i++) {
                redisReply *e = rr->element[i];
                op[i].rc = 0;
                if (e->type == REDIS_REPLY_STRING) {
                    if ((op[i].v = malloc(e->len ? e->len : 1)) == NULL) {
                        wd_kv_redis_fail(&op[i], "out of memory");
                        continue;
                    }
                    memcpy(op[i].v, e->str, e->len);
                    op[i].rvl = e->len;
                    op[i].rc = 1;
                }
            }
            return;
        }
        op->rc = 0;
        if (rr->type == REDIS_REPLY_STRING) {
            if ((op->v = malloc(rr->len ? rr->len : 1)) == NULL) {
                wd_kv_redis_fail(op, "out of memory");
                return;
            }
            memcpy(op->v, rr->str, rr->len);
            op->rvl = rr->len;
            op->rc = 1;
        } else if (rr->type != REDIS_REPLY_NIL) {
            goto unexpected;
        }
        return;
    case WD_KV_OP_SET:
    case WD_KV_OP_DEL:
        for (uint32_t i = 0; i < cmd->count; i++) {
            op[i].rc = 0;
        }
        return;
    case WD_KV_OP_INCR:
        if (rr->type != REDIS_REPLY_INTEGER) {
            goto unexpected;
        }
        op->out = rr->integer;
        op->rc = 0;
        return;
    case WD_KV_OP_CAS:
        if (rr->type != REDIS_REPLY_INTEGER) {
            goto unexpected;
        }
        op->rc = rr->integer == 1;
        return;
    case WD_KV_OP_LIST: {
        /* [cursor, [keys...]] */
        if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 2
            || rr->element[0]->type != REDIS_REPLY_STRING
            || rr->element[1]->type != REDIS_REPLY_ARRAY) {
            goto unexpected;
        }
        redisReply *cur = rr->element[0], *keys = rr->element[1];
        size_t total = 0;
        for (size_t i = 0; i < keys->elements; i++) {
            total += 4 + keys->element[i]->len;
        }
        if ((op->keys = malloc(total ? total : 1)) == NULL) {
            wd_kv_redis_fail(op, "out of memory");
            return;
        }
        for (size_t i = 0; i < keys->elements; i++) {
            uint32_t l = (uint32_t) keys->element[i]->len;
            memcpy(op->keys + op->keys_len, &l, 4);
            memcpy(op->keys + op->keys_len + 4, keys->element[i]->str, l);
            op->keys_len += 4 + l;
        }
        op->nkeys = (uint32_t) keys->elements;
        if (!(cur->len == 1 && cur->str[0] == '0')) {
            if ((op->cursor = malloc(cur->len)) == NULL) {
                wd_kv_redis_fail(op, "out of memory");
                return;
            }
            memcpy(op->cursor, cur->str, cur->len);
            op->cursor_len = cur->len;
        }
        op->rc = 0;
        return;
    }
    }
unexpected:
    snprintf(why, sizeof(why), "redis: unexpected reply (type %d)", rr->type);
    for (uint32_t i = 0; i < cmd->count; i++) {
        wd_kv_redis_fail(&op[i], why);
    }
}

static void
wd_kv_redis_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    wd_kv_redis_cmd_t *cmd = priv;
    wd_kv_redis_conn_t *c = cmd->conn;
    wd_kv_redis_job_t *job = cmd->job;

    if (c && c->ac == ac && ac->data == c) {
        if (reply == NULL) {          /* the connection is going: say why, once */
            char why[160];
            snprintf(why, sizeof(why), "redis %s:%d: connection lost: %s", c->r->addr,
                     c->r->port, ac->errstr[0] ? ac->errstr : "closed");
            wd_kv_redis_lost(c, why);
        } else {
            if (c->inflight) {
                c->inflight--;
            }
            c->progress = wd_kv_redis_now(c->r);
        }
    }
    wd_kv_redis_result(cmd, reply);
    job->left -= cmd->count;
    free(cmd);
    if (job->left == 0) {
        job->done(job->u);
        free(job);
    }
}

/* ops [first, first + count) as one command; 0, or -1 (the ops failed already) */
static int
wd_kv_redis_send(wd_kv_redis_conn_t *c, wd_kv_redis_job_t *job, uint32_t first,
                 uint32_t count)
{
    wd_kv_op_t *op = &job->ops[first];
    const char *argv[8], **av = argv;
    size_t lens[8], *al = lens;
    char num[24], *heapv = NULL;
    int argc = 0, rc;

    if (count > 1) {                              /* MGET k..., MSET k v ..., DEL k... */
        size_t per = op->op == WD_KV_OP_SET ? 2 : 1;
        heapv = malloc((1 + per * count) * (sizeof(char *) + sizeof(size_t)));
        if (heapv == NULL) {
            goto fail_oom;
        }
        av = (const char **) heapv;
        al = (size_t *) (heapv + (1 + per * count) * sizeof(char *));
        av[0] = op->op == WD_KV_OP_GET ? "MGET" : op->op == WD_KV_OP_SET ? "MSET" : "DEL";
        al[0] = strlen(av[0]);
        argc = 1;
        for (uint32_t i = 0; i < count; i++) {
            av[argc] = op[i].key;
            al[argc++] = op[i].kl;
            if (per == 2) {
                av[argc] = op[i].val;
                al[argc++] = op[i].vl;
            }
        }
    } else {
        switch (op->op) {
        case WD_KV_OP_GET:
            argv[0] = "GET"; argv[1] = op->key; lens[1] = op->kl; argc = 2;
            break;
        case WD_KV_OP_SET:
            argv[0] = "SET"; argv[1] = op->key; lens[1] = op->kl;
            argv[2] = op->val; lens[2] = op->vl; argc = 3;
            break;
        case WD_KV_OP_DEL:
            argv[0] = "DEL"; argv[1] = op->key; lens[1] = op->kl; argc = 2;
            break;
        case WD_KV_OP_INCR:
            snprintf(num, sizeof(num), "%lld", (long long) op->delta);
            argv[0] = "INCRBY"; argv[1] = op->key; lens[1] = op->kl;
            argv[2] = num; lens[2] = strlen(num); argc = 3;
            break;
        case WD_KV_OP_CAS:
            argv[0] = "EVAL"; argv[1] = wd_kv_redis_cas_lua;
            lens[1] = sizeof(wd_kv_redis_cas_lua) - 1;
            argv[2] = "1"; lens[2] = 1;
            argv[3] = op->key; lens[3] = op->kl;
            argv[4] = op->had ? "1" : "0"; lens[4] = 1;
            argv[5] = op->old ? op->old : ""; lens[5] = op->oldl;
            argv[6] = op->val; lens[6] = op->vl; argc = 7;
            break;
        case WD_KV_OP_LIST:
            argv[0] = "SCAN";
            argv[1] = op->key && op->kl ? op->key : "0";
            lens[1] = op->key && op->kl ? op->kl : 1;
            argv[2] = "COUNT"; lens[2] = 5;
            snprintf(num, sizeof(num), "%zu", op->max);
            argv[3] = num; lens[3] = strlen(num); argc = 4;
            break;
        }
        lens[0] = strlen(argv[0]);
    }
    wd_kv_redis_cmd_t *cmd = malloc(sizeof(*cmd));
    if (cmd == NULL) {
        free(heapv);
        goto fail_oom;
    }
    cmd->job = job;
    cmd->conn = c;
    cmd->ac = c->ac;
    cmd->first = first;
    cmd->count = count;
    rc = redisAsyncCommandArgv(c->ac, wd_kv_redis_reply, cmd, argc, av, al);
    free(heapv);
    if (rc != REDIS_OK) {
        free(cmd);
        for (uint32_t i = 0; i < count; i++) {
            wd_kv_redis_fail(&op[i], c->ac->errstr[0] ? c->ac->errstr : "redis: cannot send");
        }
        return -1;
    }
    if (c->inflight++ == 0) {
        c->progress = wd_kv_redis_now(c->r);
    }
    return 0;
fail_oom:
    for (uint32_t i = 0; i < count; i++) {
        wd_kv_redis_fail(&op[i], "out of memory");
    }
    return -1;
}

/* a LIST with a cursor that is not SCAN's (digits): fail it here */
static int
wd_kv_redis_cursor_ok(const wd_kv_op_t *op)
{
    if (op->op != WD_KV_OP_LIST || op->key == NULL) {
        return 1;
    }
    for (size_t i = 0; i < op->kl; i++) {
        if (op->key[i] < '0' || op->key[i] > '9') {
            return 0;
        }
    }
    return op->kl > 0 && op->kl < 21;
}

static int
wd_kv_redis_submit(void *sd, wd_kv_op_t *ops, uint32_t n, wd_kv_done_fn done, void *u)
{
    wd_kv_redis_t *r = sd;
    wd_kv_redis_conn_t *c = NULL;
    uint32_t sent = 0;

    if (r->loop == NULL && (r->loop = wd_kv_env_loop(&r->env)) == NULL) {
        for (uint32_t i = 0; i < n; i++) {
            wd_kv_redis_fail(&ops[i], "this store needs the server's event loop");
        }
        return 1;
    }
    /* the next connection of the pool that is (or can be) open */
    for (uint32_t k = 0; k < r->pool; k++) {
        wd_kv_redis_conn_t *cand = &r->conns[r->next++ % r->pool];
        if (wd_kv_redis_connect(cand)) {
            c = cand;
            break;
        }
        if (c == NULL) {
            c = cand;                 /* for its error message */
        }
    }
    if (c == NULL || c->ac == NULL) {
        for (uint32_t i = 0; i < n; i++) {
            wd_kv_redis_fail(&ops[i], c && c->err[0] ? c->err : "redis: not connected");
        }
        return 1;
    }
    wd_kv_redis_job_t *job = malloc(sizeof(*job));
    if (job == NULL) {
        for (uint32_t i = 0; i < n; i++) {
            wd_kv_redis_fail(&ops[i], "out of memory");
        }
        return 1;
    }
    job->ops = ops;
    job->n = n;
    job->left = n + 1;                /* +1: held until every command is sent */
    job->done = done;
    job->u = u;
    /* runs of GET / SET / DEL become one MGET / MSET / DEL; everything else one by one,
       in order, on this connection */
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i + 1;
        if (ops[i].op == WD_KV_OP_GET || ops[i].op == WD_KV_OP_SET || ops[i].op == WD_KV_OP_DEL) {
            while (j < n && ops[j].op == ops[i].op) {
                j++;
            }
        }
        if (!wd_kv_redis_cursor_ok(&ops[i])) {
            wd_kv_redis_fail(&ops[i], "invalid cursor (a redis store's cursors are SCAN's)");
            job->left--;
        } else if (c->ac == NULL || wd_kv_redis_send(c, job, i, j - i) < 0) {
            for (uint32_t k = i; k < j; k++) {
                if (c->ac == NULL && ops[k].rc == 0 && ops[k].err[0] == '\0') {
                    wd_kv_redis_fail(&ops[k], c->err[0] ? c->err : "redis: connection lost");
                }
            }
            job->left -= j - i;
        } else {
            sent++;
        }
        i = j;
    }
    job->left--;
    if (job->left == 0) {             /* nothing went out (or every reply is in already) */
        free(job);
        return 1;
    }
    (void) sent;
    return 0;
}

static const wd_kv_ops_t wd_kv_redis_ops = { NULL, wd_kv_redis_submit };

/* ---------------------------------------------------------------- the backend */

/* in the process that uses the store: its connections (none open yet) on env's loop */
static void *
wd_kv_redis_open(void *conf, const wd_kv_env_t *env, char *msg, size_t msglen)
{
    wd_kv_redis_t *r = conf;
    if (env == NULL || env->loop == NULL) {
        snprintf(msg, msglen, "a redis store needs an event loop");
        return NULL;
    }
    r->loop = NULL;
    if (r->conns == NULL && (r->conns = calloc(r->pool, sizeof(*r->conns))) == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < r->pool; i++) {
        r->conns[i].r = r;
    }
    r->env = *env;
    r->closed = 0;
    return r;
}

static void
wd_kv_redis_close(void *data)
{
    wd_kv_redis_t *r = data;
    if (r == NULL) {
        return;
    }
    if (!r->closed) {
        wd_kv_redis_shutdown(r);
    }
    free(r->conns);
    r->conns = NULL;
}

const wd_kv_backend_t wd_kv_redis_backend = {
    .name = "redis",
    .location = "a url (redis://[:password@]host:port[/db])",
    .is_path = 0,
    .conf_size = sizeof(wd_kv_redis_t),
    .parse = wd_kv_redis_parse,
    .create = NULL,
    .open = wd_kv_redis_open,
    .shutdown = wd_kv_redis_shutdown,
    .close = wd_kv_redis_close,
    .ops = &wd_kv_redis_ops,
};
