/*
 * wd_http_wasm_pool.c -- per-worker instance pools and the deadline watchdog.
 *
 * Each route gets, in every worker, a pool of instances of its module, each in
 * a store of its own with its own wasi:http and WASI contexts. At worker start
 * MIN instances are made: instantiate (start function), `_initialize` for
 * reactors, then wd_wasm_snapshot(). More are made on demand up to MAX; past
 * MAX a request waits in the pool's FIFO (the module file answers 503 after a
 * short while). After every request, successful or not, the instance's handle
 * table is dropped, its WASI descriptors closed and its state restored from the
 * snapshot; an instance that cannot be restored is destroyed.
 *
 * Idle instances are reused last in, first out, so a light load keeps reusing
 * the few instances whose pages are already populated. A restore leaves the
 * pages it copied back populated (private RSS, at most WD_WASM_KEPT_MAX pages
 * per instance); once a second the instances idle for a second or more are
 * trimmed (wd_wasm_trim), so a burst that used the whole pool does not leave
 * MAX instances' worth of pages behind.
 *
 * The watchdog is a 5 ms timer signal per worker (see below). The worker runs one
 * instance at a time; before a call it publishes (instance, deadline) and clears
 * it after. The signal handler calls wd_wasm_interrupt() (async-signal-safe) on an
 * instance past its deadline, so an endless loop is stopped by the wall-clock
 * limit even though the event loop is busy running it. When the engine offers
 * wd_wasm_request_yield (WD_WASM_HAS_YIELD), an instance that ran 5 ms without
 * returning to the loop is asked to yield; the module file then re-queues it
 * behind pending events, so CPU-heavy handlers share the worker with everything
 * else.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "wd_http_wasm.h"

uint64_t
wd_http_wasm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---------------------------------------------------------------- guest stdio */

static int64_t
wd_http_wasm_stdin_read(void *ud, uint8_t *buf, size_t len)
{
    wd_http_wasm_inst_t *it = ud;
    wd_http_wasm_ctx_t *ctx = it->ctx;
    wd_http_request_t *r = ctx ? ctx->r : NULL;

    if (ctx == NULL || r == NULL || !it->pool->conf->mod->cgi) {
        return 0;
    }
    size_t left = r->body.len > ctx->cgi_in_off ? r->body.len - ctx->cgi_in_off : 0;
    size_t n = wd_min(left, len);
    memcpy(buf, r->body.data + ctx->cgi_in_off, n);
    ctx->cgi_in_off += n;
    return (int64_t) n;
}

#define WD_HTTP_WASM_CGI_MAX ((size_t) 64 << 20)

static int64_t
wd_http_wasm_out_write(wd_http_wasm_inst_t *it, int is_err, const uint8_t *buf, size_t len)
{
    wd_http_wasm_ctx_t *ctx = it->ctx;

    if (ctx == NULL) {
        return (int64_t) len;               /* output during _initialize: dropped */
    }
    if (!is_err && it->pool->conf->mod->cgi) {
        if (ctx->cgi_len + len > WD_HTTP_WASM_CGI_MAX) {
            ctx->cgi_overflow = 1;
            return -WD_WASI_EIO;
        }
        if (ctx->cgi_len + len > ctx->cgi_cap) {
            size_t cap = wd_max(ctx->cgi_cap * 2, ctx->cgi_len + len + 4096);
            u_char *p = realloc(ctx->cgi_out, cap);
            if (p == NULL) {
                return -WD_WASI_EIO;
            }
            ctx->cgi_out = p;
            ctx->cgi_cap = cap;
        }
        memcpy(ctx->cgi_out + ctx->cgi_len, buf, len);
        ctx->cgi_len += len;
        return (int64_t) len;
    }
    /* log line by line */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\n') {
            if (i > start) {
                wd_http_wasm_guest_log(ctx, is_err, (const char *) buf + start, i - start);
            }
            start = i + 1;
        }
    }
    return (int64_t) len;
}

static int64_t
wd_http_wasm_stdout_write(void *ud, const uint8_t *buf, size_t len)
{
    return wd_http_wasm_out_write(ud, 0, buf, len);
}

static int64_t
wd_http_wasm_stderr_write(void *ud, const uint8_t *buf, size_t len)
{
    return wd_http_wasm_out_write(ud, 1, buf, len);
}

/* a keyvalue operation the handler waits for completed (from the loop) */
static void
wd_http_wasm_kv_wake(void *ud)
{
    wd_http_wasm_inst_t *it = ud;
    if (it->ctx) {
        wd_http_wasm_ctx_wake(it->ctx);
    }
}

/* preview1 poll_oneoff clock waits: suspend the instance instead of sleeping the worker
 * (the module file arms the request's timer for it->sleep_until and resumes). */
static int
wd_http_wasm_sleep(void *ud, uint64_t deadline_ns)
{
    wd_http_wasm_inst_t *it = ud;

    if (it->ctx == NULL || wd_http_wasm_now_ns() >= deadline_ns) {
        return WD_HOST_WASI_SLEEP_DONE;     /* outside a request (_initialize): just wait */
    }
    it->sleep_until = deadline_ns;
    return WD_HOST_WASI_SLEEP_SUSPEND;
}

/* ---------------------------------------------------------------- instances */

static void
wd_http_wasm_err(wd_wasm_error_t *err, const char *msg)
{
    snprintf(err->msg, sizeof(err->msg), "%s", msg);
    err->offset = -1;
    err->func_index = -1;
}

void
wd_http_wasm_inst_free(wd_http_wasm_inst_t *it)
{
    if (it == NULL) {
        return;
    }
    if (it->ci) {
        wd_comp_instance_free(it->ci);
    }
    if (it->store) {
        wd_wasm_store_free(it->store);
    }
    if (it->hc) {
        wd_host_comp_free(it->hc);          /* owns it->hh */
    } else {
        wd_host_http_free(it->hh);
    }
    wd_host_kv_free(it->kv);
    if (it->wasi) {
        wd_host_wasi_free(it->wasi);
    }
    free(it);
}

/* Restore (or snapshot) every core instance of a component: all its memories, globals and
 * tables return to the post-instantiation state. An imported memory or global is shared with
 * the instance that defines it: restoring it twice costs nothing the second time. */
static int
wd_http_wasm_comp_each(wd_http_wasm_inst_t *it, int (*fn)(wd_wasm_instance_t *))
{
    uint32_t n = wd_comp_instance_core_count(it->ci);

    for (uint32_t i = 0; i < n; i++) {
        if (fn(wd_comp_instance_core(it->ci, i)) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
wd_http_wasm_inst_restore(wd_http_wasm_inst_t *it)
{
    if (it->ci) {
        /* the thread first: it holds the suspended call's stack, if any */
        if (wd_wasm_restore(it->inst) != 0) {
            return -1;
        }
        return wd_http_wasm_comp_each(it, wd_wasm_restore);
    }
    return wd_wasm_restore(it->inst);
}

static int
wd_http_wasm_trim_one(wd_wasm_instance_t *inst)
{
    wd_wasm_trim(inst);
    return 0;
}

/* A pooled component instance: every core instance of the plan in one store, the host
 * context of src/host/wd_host_comp.h, a snapshot of each core instance. */
static wd_http_wasm_inst_t *
wd_http_wasm_comp_inst_new(wd_http_wasm_loc_conf_t *conf, wd_http_wasm_inst_t *it,
                           wd_wasm_error_t *err)
{
    wd_comp_error_t cerr;
    wd_wasm_limits_t lim;
    wd_host_comp_dir_t *dirs = NULL;
    wd_host_comp_conf_t hcc;
    size_t ndirs = conf->dirs ? conf->dirs->nelts : 0;

    memset(&cerr, 0, sizeof(cerr));
    memset(&hcc, 0, sizeof(hcc));
    hcc.http.env = conf->env_v;
    hcc.http.nenv = conf->env_n;
    wd_host_kv_conf_t kc = { conf->kv_stores, conf->kv_nstores, conf->kv_key_max,
                             conf->kv_value_max, conf->config_v, conf->config_n };
    hcc.kv = &kc;                       /* wasi:keyvalue / wasi:config (copied) */
    if (ndirs) {
        wd_http_wasm_dir_t *d = conf->dirs->elts;
        dirs = calloc(ndirs, sizeof(*dirs));
        if (dirs == NULL) {
            wd_http_wasm_err(err, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < ndirs; i++) {
            dirs[i].host_path = (const char *) d[i].host.data;
            dirs[i].guest_path = (const char *) d[i].guest.data;
            dirs[i].rw = d[i].rw;
        }
        hcc.dirs = dirs;
        hcc.ndirs = ndirs;
    }
    it->hc = wd_host_comp_new(&hcc);
    free(dirs);
    if (it->hc == NULL) {
        wd_http_wasm_err(err, "out of memory");
        goto fail;
    }
    wd_host_kv_set_wake(wd_host_comp_kv(it->hc), wd_http_wasm_kv_wake, it);
    memset(&lim, 0, sizeof(lim));
    lim.max_memory_bytes = conf->memory_limit;
    lim.fuel = (uint64_t) conf->fuel;
    it->ci = wd_comp_instantiate(conf->mod->comp, it->store, wd_host_comp_host(it->hc), &lim,
                                 &cerr);
    if (it->ci == NULL || wd_host_comp_attach(it->hc, conf->mod->comp, it->ci, &cerr) != 0) {
        snprintf(err->msg, sizeof(err->msg), "%s", cerr.msg);
        err->offset = -1;
        err->func_index = -1;
        goto fail;
    }
    it->hh = wd_host_comp_http(it->hc);
    it->inst = wd_host_comp_thread(it->hc);
    if (it->hh == NULL || it->inst == NULL) {
        wd_http_wasm_err(err, "component instance without a handler");
        goto fail;
    }
    if (wd_http_wasm_comp_each(it, wd_wasm_snapshot) != 0) {
        wd_http_wasm_err(err, "snapshot failed");
        goto fail;
    }
    return it;

fail:
    wd_http_wasm_inst_free(it);
    return NULL;
}

wd_http_wasm_inst_t *
wd_http_wasm_inst_new(wd_http_wasm_loc_conf_t *conf, wd_wasm_error_t *err)
{
    const wd_wasm_module_t *m = conf->mod->module;
    uint32_t n = m ? wd_wasm_module_import_count(m) : 0;
    wd_wasm_extern_t *imports = NULL;
    wd_http_wasm_inst_t *it = calloc(1, sizeof(*it));
    wd_wasm_limits_t lim;
    wd_wasm_extern_t x;

    memset(err, 0, sizeof(*err));
    if (it == NULL || (imports = calloc(n + 1, sizeof(*imports))) == NULL) {
        wd_http_wasm_err(err, "out of memory");
        goto fail;
    }
    wd_queue_init(&it->link);
    it->store = wd_wasm_store_new();
    it->wasi = wd_host_wasi_new();
    if (it->store == NULL || it->wasi == NULL) {
        wd_http_wasm_err(err, "out of memory");
        goto fail;
    }
    if (conf->mod->comp) {
        free(imports);
        return wd_http_wasm_comp_inst_new(conf, it, err);
    }
    if (!conf->mod->cgi) {
        wd_host_http_conf_t hc = { conf->env_v, conf->env_n };
        wd_host_kv_conf_t kc = { conf->kv_stores, conf->kv_nstores, conf->kv_key_max,
                                 conf->kv_value_max, conf->config_v, conf->config_n };
        it->hh = wd_host_http_new(&hc);
        it->kv = wd_host_kv_new(&kc);
        if (it->hh == NULL || it->kv == NULL) {
            wd_http_wasm_err(err, "out of memory");
            goto fail;
        }
        wd_host_kv_set_wake(it->kv, wd_http_wasm_kv_wake, it);
    }
    /* WASI preview1: environment, preopens, stdio through this instance's request */
    if (conf->env_n && wd_host_wasi_set_env(it->wasi, (int) conf->env_n, conf->env_v) != 0) {
        wd_http_wasm_err(err, "out of memory");
        goto fail;
    }
    if (conf->dirs) {
        wd_http_wasm_dir_t *d = conf->dirs->elts;
        for (wd_uint_t i = 0; i < conf->dirs->nelts; i++) {
            if (wd_host_wasi_preopen(it->wasi, (const char *) d[i].host.data,
                                     (const char *) d[i].guest.data,
                                     d[i].rw ? WD_HOST_WASI_READWRITE : WD_HOST_WASI_READONLY) < 0) {
                snprintf(err->msg, sizeof(err->msg), "wasm_dir \"%s\": %s",
                         (const char *) d[i].host.data, strerror(errno));
                goto fail;
            }
        }
    }
    wd_host_wasi_stream_t in = { wd_http_wasm_stdin_read, NULL, it };
    wd_host_wasi_stream_t out = { NULL, wd_http_wasm_stdout_write, it };
    wd_host_wasi_stream_t errs = { NULL, wd_http_wasm_stderr_write, it };
    wd_host_wasi_stdio(it->wasi, 0, &in);
    wd_host_wasi_stdio(it->wasi, 1, &out);
    wd_host_wasi_stdio(it->wasi, 2, &errs);
    wd_host_wasi_set_sleep(it->wasi, wd_http_wasm_sleep, it);

    if (it->hh && wd_host_http_link(it->hh, it->store, m, imports, err) < 0) {
        goto fail;
    }
    if (it->kv && wd_host_kv_link(it->kv, it->store, m, imports, err->msg, sizeof(err->msg)) < 0) {
        goto fail;
    }
    if (wd_host_wasi_link(it->wasi, it->store, m, imports, err) < 0) {
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        if (imports[i].of.func == NULL) {
            snprintf(err->msg, sizeof(err->msg), "unknown import: %.*s::%.*s",
                     (int) d->module_len, d->module, (int) d->name_len, d->name);
            goto fail;
        }
    }
    memset(&lim, 0, sizeof(lim));
    lim.max_memory_bytes = conf->memory_limit;
    lim.fuel = (uint64_t) conf->fuel;
    it->inst = wd_wasm_instantiate(it->store, m, imports, n, &lim, err);
    if (it->inst == NULL) {
        goto fail;
    }
    free(imports);
    imports = NULL;
    if (conf->mod->cgi) {
        if (wd_wasm_instance_export(it->inst, "_start", 6, &x) != 0
            || x.kind != WD_WASM_EXTERN_FUNC) {
            wd_http_wasm_err(err, "no \"_start\" function");
            goto fail;
        }
        it->start = x.of.func;
    } else if (wd_wasm_instance_export(it->inst, "_initialize", 11, &x) == 0
               && x.kind == WD_WASM_EXTERN_FUNC) {
        wd_wasm_set_fuel(it->inst, (uint64_t) conf->fuel);
        if (wd_wasm_call(it->inst, x.of.func, NULL, 0, NULL, 0) != WD_WASM_OK) {
            snprintf(err->msg, sizeof(err->msg), "_initialize failed: %.200s",
                     wd_wasm_last_trap(it->inst)->msg);
            wd_wasm_abort(it->inst);
            goto fail;
        }
    }
    if (it->hh && wd_host_http_attach(it->hh, it->inst, err) != 0) {
        goto fail;
    }
    if (it->kv && wd_host_kv_attach(it->kv, it->inst, err->msg, sizeof(err->msg)) != 0) {
        goto fail;
    }
    if (wd_wasm_snapshot(it->inst) != 0) {
        wd_http_wasm_err(err, "snapshot failed");
        goto fail;
    }
    return it;

fail:
    free(imports);
    wd_http_wasm_inst_free(it);
    return NULL;
}

/* ---------------------------------------------------------------- pools */

int
wd_http_wasm_pool_init(wd_cycle_t *cycle, wd_http_wasm_loc_conf_t *conf)
{
    wd_http_wasm_pool_t *pool = calloc(1, sizeof(*pool));
    wd_wasm_error_t err;

    if (pool == NULL) {
        return WD_ERROR;
    }
    pool->conf = conf;
    wd_queue_init(&pool->idle);
    wd_queue_init(&pool->waiting);
    conf->pool = pool;
    for (wd_int_t i = 0; i < conf->pool_min; i++) {
        wd_http_wasm_inst_t *it = wd_http_wasm_inst_new(conf, &err);
        if (it == NULL) {
            wd_log_error(WD_LOG_EMERG, cycle->log, 0, "wasm %.*s (%.*s): cannot instantiate: %s",
                         wd_str_pf(&conf->route), wd_str_pf(&conf->mod->path), err.msg);
            return WD_ERROR;
        }
        it->pool = pool;
        wd_queue_insert_tail(&pool->idle, &it->link);
        pool->ninst++;
    }
    return WD_OK;
}

void
wd_http_wasm_pool_exit(wd_http_wasm_loc_conf_t *conf)
{
    wd_http_wasm_pool_t *pool = conf->pool;

    if (pool == NULL) {
        return;
    }
    while (!wd_queue_empty(&pool->idle)) {
        wd_queue_t *q = pool->idle.next;
        wd_queue_remove(q);
        wd_http_wasm_inst_free(wd_queue_data(q, wd_http_wasm_inst_t, link));
    }
    /* instances still busy belong to requests being torn down with the loop */
    conf->pool = NULL;
    free(pool);
}

#define WD_HTTP_WASM_TRIM_MS 1000

static void wd_http_wasm_watchdog_idle_check(void);

static uv_timer_t wd_http_wasm_trim_timer;
static int wd_http_wasm_trim_on;
static wd_http_wasm_loc_conf_t **wd_http_wasm_trim_routes;
static wd_uint_t wd_http_wasm_trim_n;

static void
wd_http_wasm_trim_cb(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);

    for (wd_uint_t i = 0; i < wd_http_wasm_trim_n; i++) {
        wd_http_wasm_pool_t *pool = wd_http_wasm_trim_routes[i]->pool;
        if (pool == NULL) {
            continue;
        }
        /* LIFO: the longest idle are at the tail */
        for (wd_queue_t *q = pool->idle.prev; q != &pool->idle; q = q->prev) {
            wd_http_wasm_inst_t *it = wd_queue_data(q, wd_http_wasm_inst_t, link);
            if (it->idle_since + WD_HTTP_WASM_TRIM_MS > now) {
                break;
            }
            if (it->ci) {
                wd_http_wasm_comp_each(it, wd_http_wasm_trim_one);
            } else {
                wd_wasm_trim(it->inst);    /* nothing kept (trimmed already): no system call */
            }
        }
    }
    wd_http_wasm_watchdog_idle_check();
}

static void
wd_http_wasm_trim_close(void *data)
{
    if (wd_http_wasm_trim_on) {
        uv_close((uv_handle_t *) &wd_http_wasm_trim_timer, NULL);
        wd_http_wasm_trim_on = 0;
    }
}

/* the timer is made when an instance first goes back to the pool (the loop exists then) */
static void
wd_http_wasm_trim_arm(void)
{
    if (wd_http_wasm_trim_on || wd_http_wasm_trim_n == 0 || wd_worker == NULL) {
        return;
    }
    uv_timer_init(&wd_worker->loop, &wd_http_wasm_trim_timer);
    uv_timer_start(&wd_http_wasm_trim_timer, wd_http_wasm_trim_cb, WD_HTTP_WASM_TRIM_MS,
                   WD_HTTP_WASM_TRIM_MS);
    uv_unref((uv_handle_t *) &wd_http_wasm_trim_timer);   /* never keeps a stopping worker up */
    wd_http_wasm_trim_on = 1;
}

int
wd_http_wasm_pool_trim_init(wd_http_wasm_loc_conf_t **routes, wd_uint_t n)
{
    wd_http_wasm_trim_routes = routes;
    wd_http_wasm_trim_n = n;
    return wd_event_add_close_hook(wd_http_wasm_trim_close, NULL);
}

wd_http_wasm_inst_t *
wd_http_wasm_pool_get(wd_http_wasm_pool_t *pool, wd_log_t *log)
{
    wd_http_wasm_inst_t *it;
    wd_wasm_error_t err;

    if (!wd_queue_empty(&pool->idle)) {
        wd_queue_t *q = pool->idle.next;
        wd_queue_remove(q);
        pool->nbusy++;
        return wd_queue_data(q, wd_http_wasm_inst_t, link);
    }
    if (pool->ninst >= (wd_uint_t) pool->conf->pool_max) {
        return NULL;
    }
    it = wd_http_wasm_inst_new(pool->conf, &err);
    if (it == NULL) {
        wd_log_error(WD_LOG_ERR, log, 0, "wasm %.*s: cannot create an instance: %s",
                     wd_str_pf(&pool->conf->route), err.msg);
        return NULL;
    }
    it->pool = pool;
    pool->ninst++;
    pool->nbusy++;
    return it;
}

static void wd_http_wasm_assigned_cb(uv_timer_t *t);

void
wd_http_wasm_pool_put(wd_http_wasm_inst_t *it)
{
    wd_http_wasm_pool_t *pool = it->pool;

    it->ctx = NULL;
    it->sleep_until = 0;
    if (it->hc) {
        wd_host_comp_reset(it->hc);         /* host and guest resource handles, request state */
    } else if (it->hh) {
        wd_host_http_reset(it->hh);
    }
    wd_host_kv_reset(it->kv);
    wd_host_wasi_reset(it->wasi);
    pool->nbusy--;
    if (wd_http_wasm_inst_restore(it) != 0) {
        wd_log_error(WD_LOG_ALERT, wd_cycle->log, 0,
                     "wasm %.*s: instance restore failed: instance dropped",
                     wd_str_pf(&pool->conf->route));
        wd_http_wasm_inst_free(it);
        pool->ninst--;
        return;
    }
    if (!wd_queue_empty(&pool->waiting)) {
        /* hand it to the oldest waiting request, from the loop (not from this stack) */
        wd_queue_t *q = pool->waiting.next;
        wd_http_wasm_ctx_t *ctx = wd_queue_data(q, wd_http_wasm_ctx_t, link);
        wd_queue_remove(q);
        pool->nbusy++;
        ctx->it = it;
        it->ctx = ctx;
        ctx->state = WD_HTTP_WASM_RUNNABLE;
        ctx->queued_link = 1;       /* "assigned, not started" */
        wd_http_wasm_timer_start(ctx, wd_http_wasm_assigned_cb, 0);
        return;
    }
    it->idle_since = wd_event_now();
    wd_queue_insert_head(&pool->idle, &it->link);
    wd_http_wasm_trim_arm();
}

static void
wd_http_wasm_assigned_cb(uv_timer_t *t)
{
    wd_http_wasm_ctx_t *ctx = t->data;

    wd_time_update();
    ctx->queued_link = 0;
    if (ctx->r == NULL) {
        wd_http_wasm_finalize(ctx);
        return;
    }
    wd_http_wasm_start_request(ctx, ctx->it);
}

/* ---------------------------------------------------------------- watchdog */

/*
 * A per-process POSIX timer (timer_create, SIGEV_SIGNAL) ticks every 5 ms while guest
 * code runs; its signal handler, on the loop thread, interrupts the running instance past
 * its deadline and asks one that has run for a whole tick (5-10 ms) to yield. It used to
 * be a thread woken every 5 ms, with a mutex around the published (instance, deadline):
 * a second thread makes glibc take its multi-threaded paths for the life of the worker
 * (every read/writev/epoll_wait toggles async cancellation, malloc locks its arena), and
 * the mutex cost two lock/unlock pairs per run. Publishing is now plain stores ordered
 * for the signal handler (signal fences); the tick stops after a second without guest
 * code (checked by the trim timer), so an idle worker is not woken 200 times a second.
 * SA_RESTART: an interrupted read/write restarts; epoll_wait's EINTR is libuv's.
 */
#define WD_HTTP_WASM_TICK_NS 5000000L         /* also the slice: 5 ms of running */

static timer_t wd_http_wasm_wd_timer;
static int wd_http_wasm_wd_created, wd_http_wasm_wd_ticking, wd_http_wasm_wd_used;
static wd_wasm_instance_t *volatile wd_http_wasm_wd_inst;   /* NULL: no guest code runs */
static volatile uint64_t wd_http_wasm_wd_deadline;
static volatile uint32_t wd_http_wasm_wd_seq;     /* one per run */
static volatile uint32_t wd_http_wasm_wd_seen;    /* the run the last tick saw */
static volatile uint32_t wd_http_wasm_wd_asked;   /* the run last asked to yield */
static volatile uint32_t wd_http_wasm_wd_guest_ticks;   /* ticks that found guest code running */

/* Ticks that found guest code running so far: one more means ~5 ms of guest time, without
 * reading the clock around every run. */
uint32_t
wd_http_wasm_watchdog_guest_ticks(void)
{
    return wd_http_wasm_wd_guest_ticks;
}

static void
wd_http_wasm_watchdog_tick(int signo)
{
    int saved = errno;
    wd_wasm_instance_t *inst = wd_http_wasm_wd_inst;

    (void) signo;
    if (inst != NULL) {
        uint32_t seq = wd_http_wasm_wd_seq;
        if (wd_http_wasm_now_ns() >= wd_http_wasm_wd_deadline) {
            wd_wasm_interrupt(inst);                   /* an atomic OR: signal-safe */
        }
#ifdef WD_WASM_HAS_YIELD
        else if (seq == wd_http_wasm_wd_seen && seq != wd_http_wasm_wd_asked) {
            /* running since the last tick: let the loop serve others, then resume */
            wd_wasm_request_yield(inst);
            wd_http_wasm_wd_asked = seq;
        }
#endif
        wd_http_wasm_wd_seen = seq;
        wd_http_wasm_wd_guest_ticks++;
    }
    errno = saved;
}

static int
wd_http_wasm_watchdog_set(long interval_ns)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    its.it_value.tv_nsec = interval_ns;
    its.it_interval.tv_nsec = interval_ns;
    return timer_settime(wd_http_wasm_wd_timer, 0, &its, NULL);
}

int
wd_http_wasm_watchdog_start(void)
{
    struct sigaction sa;
    struct sigevent sev;
    sigset_t set;
    int signo = SIGRTMIN;

    if (wd_http_wasm_wd_created) {
        return WD_OK;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = wd_http_wasm_watchdog_tick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = signo;
    if (sigaction(signo, &sa, NULL) < 0
        || timer_create(CLOCK_MONOTONIC, &sev, &wd_http_wasm_wd_timer) < 0)
    {
        wd_log_error(WD_LOG_EMERG, wd_cycle->log, errno, "wasm: watchdog timer");
        return WD_ERROR;
    }
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    wd_http_wasm_wd_created = 1;
    return WD_OK;
}

void
wd_http_wasm_watchdog_stop(void)
{
    if (!wd_http_wasm_wd_created) {
        return;
    }
    wd_http_wasm_wd_inst = NULL;
    timer_delete(wd_http_wasm_wd_timer);
    wd_http_wasm_wd_created = wd_http_wasm_wd_ticking = 0;
}

/* from the trim timer, once a second: no guest code since the last call, no tick */
static void
wd_http_wasm_watchdog_idle_check(void)
{
    if (wd_http_wasm_wd_ticking && !wd_http_wasm_wd_used && wd_http_wasm_wd_inst == NULL) {
        (void) wd_http_wasm_watchdog_set(0);
        wd_http_wasm_wd_ticking = 0;
    }
    wd_http_wasm_wd_used = 0;
}

void
wd_http_wasm_watchdog_arm(wd_wasm_instance_t *inst, uint64_t deadline_ns)
{
    wd_http_wasm_wd_deadline = deadline_ns;
    wd_http_wasm_wd_seq++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);   /* the handler sees them before inst */
    wd_http_wasm_wd_inst = inst;
    wd_http_wasm_wd_used = 1;
    if (!wd_http_wasm_wd_ticking && wd_http_wasm_wd_created) {
        if (wd_http_wasm_watchdog_set(WD_HTTP_WASM_TICK_NS) == 0) {
            wd_http_wasm_wd_ticking = 1;
        }
    }
}

void
wd_http_wasm_watchdog_disarm(void)
{
    wd_http_wasm_wd_inst = NULL;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
