/*
 * wd_http_wasm_status.c -- `wasm_status;`: server counters in Prometheus text format,
 * and the access-log variables $wasm_fuel and $wasm_instance_wait.
 *
 *   location = /metrics { wasm_status; }
 *
 * Workers are separate processes, so the counters live in one shared anonymous
 * mapping (MAP_SHARED | MAP_ANONYMOUS) that the master creates before the first
 * fork and keeps for its whole life: every generation of workers (reloads, respawns)
 * inherits the same segment, and a reload only increments `reloads` in it.
 *
 * Layout (fixed size, ~400 KiB, pages touched on use):
 *   routes[64]  keyed by location name ("" for the server level; the last entry,
 *               "(other)", takes everything once the table is full). Counters are
 *               updated with atomic adds by whichever worker served the request, so
 *               they are sums across workers by construction. An entry is claimed
 *               lock-free (state 0 -> 1 with a CAS, name written, state 2 released):
 *               a worker killed mid-claim only wastes that entry.
 *   slots[256]  one per live worker process (claimed by pid at worker start, freed at
 *               exit; the slot of a killed worker is taken over by the next worker, and
 *               a reader ignores slots whose pid no longer exists). Gauges (open
 *               connections, instances busy/idle per route) are written there by their
 *               worker at the end of every event-loop iteration and summed by the reader.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wd_http_wasm.h"
#include "wd_http_variables.h"
#include "wd_process.h"

#define WD_WS_ROUTES   64
#define WD_WS_SLOTS    256          /* worker processes (both generations during a reload) */
#define WD_WS_NAME     96
#define WD_WS_CODES    500          /* 100..599 */

enum {
    WD_WS_TRAP = 0,                 /* any other trap (unreachable, out of bounds, ...) */
    WD_WS_FUEL,                     /* fuel exhausted */
    WD_WS_MEMORY,                   /* memory limit exceeded */
    WD_WS_TIMEOUT,                  /* wasm_timeout (504 / aborted) */
    WD_WS_STACK,                    /* call stack exhausted */
    WD_WS_EXIT,                     /* non-zero exit (CGI, wasi:cli/exit err) */
    WD_WS_ERROR,                    /* failed without a trap (no response, bad CGI output) */
    WD_WS_NKINDS
};

static const char *wd_ws_kind_names[WD_WS_NKINDS] = {
    "trap", "fuel", "memory", "timeout", "stack", "exit", "error"
};

#define WD_WS_OB_CODES 39           /* wasi:http error-code cases */
#define WD_WS_OB_BUCKETS 12         /* outgoing request durations, ms upper bounds below */

static const uint32_t wd_ws_ob_le_ms[WD_WS_OB_BUCKETS - 1] = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000
};

static const char *const wd_ws_ob_codes[WD_WS_OB_CODES] = {
    "DNS-timeout", "DNS-error", "destination-not-found", "destination-unavailable",
    "destination-IP-prohibited", "destination-IP-unroutable", "connection-refused",
    "connection-terminated", "connection-timeout", "connection-read-timeout",
    "connection-write-timeout", "connection-limit-reached", "TLS-protocol-error",
    "TLS-certificate-error", "TLS-alert-received", "HTTP-request-denied",
    "HTTP-request-length-required", "HTTP-request-body-size", "HTTP-request-method-invalid",
    "HTTP-request-URI-invalid", "HTTP-request-URI-too-long", "HTTP-request-header-section-size",
    "HTTP-request-header-size", "HTTP-request-trailer-section-size",
    "HTTP-request-trailer-size", "HTTP-response-incomplete",
    "HTTP-response-header-section-size", "HTTP-response-header-size",
    "HTTP-response-body-size", "HTTP-response-trailer-section-size",
    "HTTP-response-trailer-size", "HTTP-response-transfer-coding",
    "HTTP-response-content-coding", "HTTP-response-timeout", "HTTP-upgrade-failed",
    "HTTP-protocol-error", "loop-detected", "configuration-error", "internal-error"
};

typedef struct {
    uint32_t  state;                /* 0 free, 1 being claimed, 2 ready */
    uint32_t  hash;
    uint32_t  len;
    uint32_t  wasm;                 /* a wasm_handler route */
    char      name[WD_WS_NAME];
    uint64_t  requests[WD_WS_CODES];
    uint64_t  handled;              /* requests run by a handler */
    uint64_t  traps[WD_WS_NKINDS];
    uint64_t  fuel;
    uint64_t  waits;                /* requests that queued for an instance */
    uint64_t  rejected;             /* ... and got 503 */
    uint64_t  wait_ns;              /* total time waited for instances */
    uint64_t  ob_requests;          /* outgoing requests asked for (wd_http_wasm_outbound.c) */
    uint64_t  ob_ms;                /* ... their summed durations */
    uint64_t  ob_errors[WD_WS_OB_CODES];   /* ... failed, by wasi:http error-code case */
    uint64_t  ob_hist[WD_WS_OB_BUCKETS];   /* ... by duration (not cumulative here) */
} wd_ws_route_t;

typedef struct {
    int32_t   pid;                  /* 0: free */
    uint32_t  pad;
    uint64_t  connections;
    uint32_t  ob_open, ob_idle;     /* upstream connections: open (incl. idle), idle pooled */
    uint32_t  ob_active, ob_pad;    /* outgoing exchanges in progress */
    uint32_t  busy[WD_WS_ROUTES];
    uint32_t  idle[WD_WS_ROUTES];
} wd_ws_slot_t;

typedef struct {
    uint64_t       reloads;
    wd_ws_route_t  routes[WD_WS_ROUTES];
    wd_ws_slot_t   slots[WD_WS_SLOTS];
} wd_ws_shm_t;

static wd_ws_shm_t  *wd_ws_shm;
static wd_ws_slot_t *wd_ws_slot;      /* this worker's */

/* this worker's wasm routes -> route index (filled at worker start) */
static int          *wd_ws_route_idx;
static wd_uint_t     wd_ws_nroutes;
static wd_http_wasm_loc_conf_t **wd_ws_routes;

#define wd_ws_add(p, v)   __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define wd_ws_load(p)     __atomic_load_n((p), __ATOMIC_RELAXED)

static uint32_t
wd_ws_hash(const u_char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* The entry of route `name` (created on first use), or the "(other)" entry. */
static int
wd_ws_route(const u_char *name, size_t len)
{
    const int n = WD_WS_ROUTES - 1;
    uint32_t h;

    if (name == NULL) {
        name = (const u_char *) "";  /* no route name (len 0): memcpy/memcmp want non-NULL */
        len = 0;
    }
    if (len > WD_WS_NAME) {
        len = WD_WS_NAME;              /* long regexes: keyed by their first 96 bytes */
    }
    h = wd_ws_hash(name, len);
    for (int k = 0; k < n; k++) {
        int i = (int) ((h + (uint32_t) k) % (uint32_t) n);
        wd_ws_route_t *e = &wd_ws_shm->routes[i];
        uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

        if (st == 0) {
            uint32_t zero = 0;
            if (__atomic_compare_exchange_n(&e->state, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                memcpy(e->name, name, len);
                e->len = (uint32_t) len;
                e->hash = h;
                __atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
                return i;
            }
            st = zero;
        }
        for (int spin = 0; st == 1 && spin < 10000; spin++) {
            st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
        }
        if (st == 2 && e->hash == h && e->len == len && memcmp(e->name, name, len) == 0) {
            return i;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- master */

int
wd_http_wasm_status_init_master(wd_cycle_t *cycle)
{
    if (wd_ws_shm == NULL) {
        void *p = mmap(NULL, sizeof(wd_ws_shm_t), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            wd_log_error(WD_LOG_EMERG, cycle->log, errno,
                         "wasm_status: mmap(%zu) failed", sizeof(wd_ws_shm_t));
            return WD_ERROR;
        }
        wd_ws_shm = p;
        wd_ws_route_t *other = &wd_ws_shm->routes[WD_WS_ROUTES - 1];
        memcpy(other->name, "(other)", 7);
        other->len = 7;
        other->state = 2;
    } else if (wd_process == WD_PROCESS_MASTER) {
        wd_ws_add(&wd_ws_shm->reloads, 1);       /* a new generation of the configuration */
    }
    wd_http_log_hook = wd_http_wasm_status_request;
    return WD_OK;
}

/* Registers the configuration's wasm routes (so they show up before their first request). */
void
wd_http_wasm_status_routes(wd_http_wasm_loc_conf_t **routes, wd_uint_t n)
{
    if (wd_ws_shm == NULL) {
        return;
    }
    for (wd_uint_t i = 0; i < n; i++) {
        int k = wd_ws_route(routes[i]->route.data, routes[i]->route.len);
        __atomic_store_n(&wd_ws_shm->routes[k].wasm, 1, __ATOMIC_RELAXED);
    }
}

/* ---------------------------------------------------------------- worker */

static void
wd_ws_publish(void *data)
{
    wd_ws_slot_t *s = wd_ws_slot;

    if (s == NULL) {
        return;
    }
    if (wd_worker) {
        __atomic_store_n(&s->connections, (uint64_t) wd_worker->nconnections, __ATOMIC_RELAXED);
    }
    unsigned ob[3];
    wd_http_wasm_outbound_gauges(ob);
    __atomic_store_n(&s->ob_open, ob[0], __ATOMIC_RELAXED);
    __atomic_store_n(&s->ob_idle, ob[1], __ATOMIC_RELAXED);
    __atomic_store_n(&s->ob_active, ob[2], __ATOMIC_RELAXED);
    for (wd_uint_t i = 0; i < wd_ws_nroutes; i++) {
        int k = wd_ws_route_idx[i];
        __atomic_store_n(&s->busy[k], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->idle[k], 0, __ATOMIC_RELAXED);
    }
    for (wd_uint_t i = 0; i < wd_ws_nroutes; i++) {
        wd_http_wasm_pool_t *pool = wd_ws_routes[i]->pool;
        int k = wd_ws_route_idx[i];
        if (pool) {
            wd_ws_add(&s->busy[k], (uint32_t) pool->nbusy);
            wd_ws_add(&s->idle[k], (uint32_t) (pool->ninst - pool->nbusy));
        }
    }
}

/* Publish this worker's gauges now (the outbound module calls it from a prepare handle:
 * after the close callbacks of an iteration, before the loop blocks). */
void
wd_http_wasm_status_publish(void)
{
    wd_ws_publish(NULL);
}

static int
wd_ws_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int
wd_http_wasm_status_init_worker(wd_cycle_t *cycle, wd_http_wasm_loc_conf_t **routes,
                                wd_uint_t n)
{
    int32_t me = (int32_t) getpid();

    if (wd_ws_shm == NULL) {
        return WD_OK;
    }
    free(wd_ws_route_idx);
    wd_ws_route_idx = n ? calloc(n, sizeof(int)) : NULL;
    if (n && wd_ws_route_idx == NULL) {
        return WD_ERROR;
    }
    for (wd_uint_t i = 0; i < n; i++) {
        wd_ws_route_idx[i] = wd_ws_route(routes[i]->route.data, routes[i]->route.len);
    }
    wd_ws_routes = routes;
    wd_ws_nroutes = n;

    wd_ws_slot = NULL;
    for (int i = 0; i < WD_WS_SLOTS && wd_ws_slot == NULL; i++) {
        wd_ws_slot_t *s = &wd_ws_shm->slots[i];
        int32_t p = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
        if (p == me
            || ((p == 0 || !wd_ws_alive(p))
                && __atomic_compare_exchange_n(&s->pid, &p, me, 0, __ATOMIC_ACQ_REL,
                                               __ATOMIC_ACQUIRE)))
        {
            memset(&s->connections, 0, sizeof(*s) - offsetof(wd_ws_slot_t, connections));
            wd_ws_slot = s;
        }
    }
    if (wd_ws_slot == NULL) {
        wd_log_error(WD_LOG_WARN, cycle->log, 0,
                     "wasm_status: more than %d workers: this one's gauges are not shown",
                     WD_WS_SLOTS);
    }
    return wd_event_add_flush_hook(wd_ws_publish, NULL);
}

void
wd_http_wasm_status_exit_worker(void)
{
    if (wd_ws_slot) {
        memset(&wd_ws_slot->connections, 0,
               sizeof(*wd_ws_slot) - offsetof(wd_ws_slot_t, connections));
        __atomic_store_n(&wd_ws_slot->pid, 0, __ATOMIC_RELEASE);
        wd_ws_slot = NULL;
    }
    wd_ws_nroutes = 0;
}

/* ---------------------------------------------------------------- counting */

/* Every finished request (the access log's hook): by route and status. */
void
wd_http_wasm_status_request(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    static const u_char empty[1];
    int k;

    if (wd_ws_shm == NULL) {
        return;
    }
    if (clcf == NULL) {
        k = wd_ws_route(empty, 0);
    } else {
        /* an entry never moves once claimed: looked up once per location and process */
        wd_http_wasm_loc_conf_t *lc = wd_http_loc_get_module_conf(clcf, wd_wasm_module);
        if (lc == NULL || lc->ws_name_k == 0) {
            k = wd_ws_route(clcf->name.data, clcf->name.len);
            if (lc) {
                lc->ws_name_k = k + 1;
            }
        } else {
            k = lc->ws_name_k - 1;
        }
    }
    if (r->status >= 100 && r->status < 100 + WD_WS_CODES) {
        wd_ws_add(&wd_ws_shm->routes[k].requests[r->status - 100], 1);
    }
    /* gauges are published by the loop's flush hook and by the status handler */
}

/* A request queues for an instance (the pool is at MAX). */
void
wd_http_wasm_status_queued(wd_http_wasm_ctx_t *ctx)
{
    ctx->wait_since = wd_http_wasm_now_ns();
    if (wd_ws_shm) {
        int k = wd_ws_route(ctx->conf->route.data, ctx->conf->route.len);
        wd_ws_add(&wd_ws_shm->routes[k].waits, 1);
    }
}

/* The request got its instance and starts running. */
void
wd_http_wasm_status_started(wd_http_wasm_ctx_t *ctx)
{
    ctx->started = 1;
    ctx->wait_ns = ctx->wait_since ? wd_http_wasm_now_ns() - ctx->wait_since : 0;
}

static int
wd_ws_trap_kind(wd_wasm_trap_kind_t t)
{
    switch (t) {
    case WD_TRAP_FUEL:            return WD_WS_FUEL;
    case WD_TRAP_MEMORY_LIMIT:    return WD_WS_MEMORY;
    case WD_TRAP_INTERRUPT:       return WD_WS_TIMEOUT;
    case WD_TRAP_STACK_EXHAUSTED: return WD_WS_STACK;
    case WD_TRAP_EXIT:            return WD_WS_EXIT;
    case WD_TRAP_NONE:            return WD_WS_ERROR;
    default:                      return WD_WS_TRAP;
    }
}

/* How a handler run failed (-1: it did not). */
static int
wd_ws_failure(wd_http_wasm_ctx_t *ctx)
{
    wd_http_wasm_inst_t *it = ctx->it;

    if (it->hh) {
        const wd_host_http_outcome_t *o = wd_host_http_outcome(it->hh);
        if (o->trap != WD_TRAP_NONE && o->trap != WD_TRAP_EXIT) {
            return wd_ws_trap_kind(o->trap);
        }
        if (o->kind == WD_HOST_HTTP_OUT_OK || (o->kind == WD_HOST_HTTP_OUT_ERROR && o->status < 500)) {
            return -1;
        }
        if (o->status == 504) {
            return WD_WS_TIMEOUT;
        }
        return o->trap == WD_TRAP_EXIT ? WD_WS_EXIT : WD_WS_ERROR;
    }
    /* CGI */
    if (ctx->final_status == 0 && !ctx->abort) {
        return -1;
    }
    if (ctx->final_status == 504) {
        return WD_WS_TIMEOUT;
    }
    if (ctx->final_status != 500 && !ctx->abort) {
        return -1;                     /* 413 etc.: the request's fault */
    }
    const wd_wasm_trap_t *t = wd_wasm_last_trap(it->inst);
    if (t->kind == WD_TRAP_EXIT) {
        return wd_wasm_exit_code(it->inst) != 0 ? WD_WS_EXIT : WD_WS_ERROR;
    }
    return wd_ws_trap_kind(t->kind);
}

/* The request is over for the handler (before its instance goes back to the pool). */
void
wd_http_wasm_status_finalize(wd_http_wasm_ctx_t *ctx)
{
    wd_http_request_t *r = ctx->r;
    uint64_t fuel = 0;
    int run = ctx->started && ctx->it != NULL;
    int k = -1;

    if (!ctx->started && ctx->wait_since) {
        ctx->wait_ns = wd_http_wasm_now_ns() - ctx->wait_since;
    }
    if (run) {
        fuel = wd_wasm_fuel_used(ctx->it->inst);
    }
    if (r) {
        if (run) {
            r->wasm_ran = 1;
            r->wasm_fuel = fuel;
        }
        if (ctx->started || ctx->wait_since) {
            r->wasm_pooled = 1;
            r->wasm_wait_ns = ctx->wait_ns;
        }
    }
    if (wd_ws_shm == NULL) {
        return;
    }
    if (ctx->conf->ws_route_k == 0) {
        ctx->conf->ws_route_k = wd_ws_route(ctx->conf->route.data, ctx->conf->route.len) + 1;
    }
    k = ctx->conf->ws_route_k - 1;
    wd_ws_route_t *e = &wd_ws_shm->routes[k];
    if (run) {
        wd_ws_add(&e->handled, 1);
        wd_ws_add(&e->fuel, fuel);
        if (r) {                       /* a client that left is not the handler's failure */
            int f = wd_ws_failure(ctx);
            if (f >= 0) {
                wd_ws_add(&e->traps[f], 1);
            }
        }
    } else if (ctx->wait_since && ctx->final_status == 503) {
        wd_ws_add(&e->rejected, 1);
    }
    if (ctx->wait_ns) {
        wd_ws_add(&e->wait_ns, ctx->wait_ns);
    }
}

/* An outgoing request of ctx's route ended (started or refused): its error-code case or
 * -1, and how long it lasted. */
void
wd_http_wasm_status_outbound(wd_http_wasm_ctx_t *ctx, int code, uint64_t ms)
{
    if (wd_ws_shm == NULL) {
        return;
    }
    if (ctx->conf->ws_route_k == 0) {
        ctx->conf->ws_route_k = wd_ws_route(ctx->conf->route.data, ctx->conf->route.len) + 1;
    }
    wd_ws_route_t *e = &wd_ws_shm->routes[ctx->conf->ws_route_k - 1];
    wd_ws_add(&e->ob_requests, 1);
    wd_ws_add(&e->ob_ms, ms);
    int bk = 0;
    while (bk < WD_WS_OB_BUCKETS - 1 && ms > wd_ws_ob_le_ms[bk]) {
        bk++;
    }
    wd_ws_add(&e->ob_hist[bk], 1);
    if (code >= 0 && code < WD_WS_OB_CODES) {
        wd_ws_add(&e->ob_errors[code], 1);
    }
}

/* ---------------------------------------------------------------- variables */

static int
wd_ws_var_fuel(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    if (!r->wasm_ran) {
        return WD_OK;                  /* "-" */
    }
    v->data = wd_pnalloc(r->pool, 24);
    if (v->data == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 24, "%llu", (unsigned long long) r->wasm_fuel);
    return WD_OK;
}

static int
wd_ws_var_wait(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    uint64_t ms;

    if (!r->wasm_pooled) {
        return WD_OK;
    }
    ms = r->wasm_wait_ns / 1000000u;
    v->data = wd_pnalloc(r->pool, 32);
    if (v->data == NULL) {
        return WD_ERROR;
    }
    v->len = snprintf((char *) v->data, 32, "%llu.%03u", (unsigned long long) (ms / 1000),
                      (unsigned) (ms % 1000));
    return WD_OK;
}

int
wd_http_wasm_status_preconfiguration(wd_conf_t *cf)
{
    if (wd_http_add_variable("wasm_fuel", wd_ws_var_fuel, 0) != WD_OK
        || wd_http_add_variable("wasm_instance_wait", wd_ws_var_wait, 0) != WD_OK)
    {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm: cannot add variables");
        return WD_ERROR;
    }
    return WD_OK;
}

/* ---------------------------------------------------------------- the page */

typedef struct {
    char   *p;
    size_t  len, cap;
    int     failed;
} wd_ws_buf_t;

static void
wd_ws_printf(wd_ws_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wd_ws_printf(wd_ws_buf_t *b, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        if (b->failed) {
            return;
        }
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t) n < b->cap - b->len) {
            b->len += n;
            return;
        }
        size_t cap = wd_max(b->cap * 2, b->len + n + 1);
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* A route name as a label value (escaped: backslash, quote, newline). */
static const char *
wd_ws_label(const wd_ws_route_t *e, char *out)
{
    char *o = out;
    for (uint32_t i = 0; i < e->len && i < WD_WS_NAME; i++) {
        char c = e->name[i];
        if (c == '\\' || c == '"') {
            *o++ = '\\';
            *o++ = c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else {
            *o++ = c;
        }
    }
    *o = '\0';
    return out;
}

static int
wd_ws_cmp(const void *a, const void *b)
{
    const wd_ws_route_t *x = *(wd_ws_route_t *const *) a, *y = *(wd_ws_route_t *const *) b;
    size_t n = wd_min(x->len, y->len);
    int c = memcmp(x->name, y->name, n);
    return c ? c : (int) x->len - (int) y->len;
}

#define WD_WS_HEAD(b, name, type, help) \
    wd_ws_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

static int
wd_http_wasm_status_handler(wd_http_request_t *r)
{
    wd_ws_route_t *routes[WD_WS_ROUTES];
    char label[2 * WD_WS_NAME + 1];
    wd_ws_buf_t b = { NULL, 0, 0, 0 };
    uint64_t conns = 0, workers = 0, ob_open = 0, ob_idle = 0, ob_active = 0;
    uint32_t busy[WD_WS_ROUTES], idle[WD_WS_ROUTES];
    int n = 0, rc;

    if (wd_ws_shm == NULL) {
        return 503;
    }
    wd_ws_publish(NULL);
    memset(busy, 0, sizeof(busy));
    memset(idle, 0, sizeof(idle));
    for (int i = 0; i < WD_WS_SLOTS; i++) {
        wd_ws_slot_t *s = &wd_ws_shm->slots[i];
        pid_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
        if (!wd_ws_alive(pid)) {
            continue;
        }
        workers++;
        conns += wd_ws_load(&s->connections);
        ob_open += wd_ws_load(&s->ob_open);
        ob_idle += wd_ws_load(&s->ob_idle);
        ob_active += wd_ws_load(&s->ob_active);
        for (int k = 0; k < WD_WS_ROUTES; k++) {
            busy[k] += wd_ws_load(&s->busy[k]);
            idle[k] += wd_ws_load(&s->idle[k]);
        }
    }
    for (int i = 0; i < WD_WS_ROUTES; i++) {
        if (__atomic_load_n(&wd_ws_shm->routes[i].state, __ATOMIC_ACQUIRE) == 2) {
            routes[n++] = &wd_ws_shm->routes[i];
        }
    }
    qsort(routes, n, sizeof(routes[0]), wd_ws_cmp);

    WD_WS_HEAD(&b, "wasmd_requests_total", "counter",
               "Requests by route (location name) and response status.");
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < WD_WS_CODES; c++) {
            uint64_t v = wd_ws_load(&routes[i]->requests[c]);
            if (v) {
                wd_ws_printf(&b, "wasmd_requests_total{route=\"%s\",code=\"%d\",class=\"%dxx\"} %llu\n",
                             wd_ws_label(routes[i], label), c + 100, (c + 100) / 100,
                             (unsigned long long) v);
            }
        }
    }

#define WD_WS_PER_ROUTE(name, type, help, expr)                                        \
    WD_WS_HEAD(&b, name, type, help);                                                  \
    for (int i = 0; i < n; i++) {                                                      \
        wd_ws_route_t *e = routes[i];                                                  \
        int k = (int) (e - wd_ws_shm->routes);                                         \
        (void) k;                                                                      \
        if (wd_ws_load(&e->wasm)) {                                                    \
            wd_ws_printf(&b, name "{route=\"%s\"} %llu\n", wd_ws_label(e, label),     \
                         (unsigned long long) (expr));                                 \
        }                                                                              \
    }

    WD_WS_PER_ROUTE("wasmd_wasm_requests_total", "counter",
                    "Requests run by a Wasm handler.", wd_ws_load(&e->handled))
    WD_WS_HEAD(&b, "wasmd_wasm_traps_total", "counter",
               "Failed handler runs by kind (trap, fuel, memory, timeout, stack, exit, error).");
    for (int i = 0; i < n; i++) {
        if (!wd_ws_load(&routes[i]->wasm)) {
            continue;
        }
        for (int t = 0; t < WD_WS_NKINDS; t++) {
            wd_ws_printf(&b, "wasmd_wasm_traps_total{route=\"%s\",kind=\"%s\"} %llu\n",
                         wd_ws_label(routes[i], label), wd_ws_kind_names[t],
                         (unsigned long long) wd_ws_load(&routes[i]->traps[t]));
        }
    }
    WD_WS_PER_ROUTE("wasmd_wasm_fuel_used_total", "counter",
                    "Fuel used by handlers.", wd_ws_load(&e->fuel))
    WD_WS_HEAD(&b, "wasmd_wasm_instances", "gauge",
               "Pooled instances by state, summed over the live workers.");
    for (int i = 0; i < n; i++) {
        int k = (int) (routes[i] - wd_ws_shm->routes);
        if (!wd_ws_load(&routes[i]->wasm)) {
            continue;
        }
        wd_ws_printf(&b, "wasmd_wasm_instances{route=\"%s\",state=\"busy\"} %u\n"
                     "wasmd_wasm_instances{route=\"%s\",state=\"idle\"} %u\n",
                     wd_ws_label(routes[i], label), busy[k], label, idle[k]);
    }
    WD_WS_PER_ROUTE("wasmd_wasm_pool_waits_total", "counter",
                    "Requests that waited for a free instance.", wd_ws_load(&e->waits))
    WD_WS_PER_ROUTE("wasmd_wasm_pool_rejected_total", "counter",
                    "Requests answered 503 after waiting for an instance.",
                    wd_ws_load(&e->rejected))
    WD_WS_HEAD(&b, "wasmd_wasm_instance_wait_seconds_total", "counter",
               "Time requests spent waiting for a free instance.");
    for (int i = 0; i < n; i++) {
        uint64_t ns = wd_ws_load(&routes[i]->wait_ns);
        if (wd_ws_load(&routes[i]->wasm)) {
            wd_ws_printf(&b, "wasmd_wasm_instance_wait_seconds_total{route=\"%s\"} %llu.%06llu\n",
                         wd_ws_label(routes[i], label), (unsigned long long) (ns / 1000000000u),
                         (unsigned long long) (ns % 1000000000u / 1000u));
        }
    }
    WD_WS_PER_ROUTE("wasmd_wasm_outbound_requests_total", "counter",
                    "Outgoing HTTP requests handlers asked for (refused ones too).",
                    wd_ws_load(&e->ob_requests))
    WD_WS_HEAD(&b, "wasmd_wasm_outbound_errors_total", "counter",
               "Failed outgoing HTTP requests by wasi:http error-code.");
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < WD_WS_OB_CODES; c++) {
            uint64_t v = wd_ws_load(&routes[i]->ob_errors[c]);
            if (v) {
                wd_ws_printf(&b, "wasmd_wasm_outbound_errors_total{route=\"%s\",code=\"%s\"} %llu\n",
                             wd_ws_label(routes[i], label), wd_ws_ob_codes[c],
                             (unsigned long long) v);
            }
        }
    }
    WD_WS_HEAD(&b, "wasmd_wasm_outbound_seconds_total", "counter",
               "Summed durations of outgoing HTTP requests.");
    for (int i = 0; i < n; i++) {
        uint64_t ms = wd_ws_load(&routes[i]->ob_ms);
        if (wd_ws_load(&routes[i]->wasm)) {
            wd_ws_printf(&b, "wasmd_wasm_outbound_seconds_total{route=\"%s\"} %llu.%03llu\n",
                         wd_ws_label(routes[i], label), (unsigned long long) (ms / 1000),
                         (unsigned long long) (ms % 1000));
        }
    }
    WD_WS_HEAD(&b, "wasmd_wasm_outbound_duration_seconds", "histogram",
               "Durations of outgoing HTTP requests (refused ones count as 0).");
    for (int i = 0; i < n; i++) {
        uint64_t cum = 0;
        if (!wd_ws_load(&routes[i]->wasm) || !wd_ws_load(&routes[i]->ob_requests)) {
            continue;
        }
        wd_ws_label(routes[i], label);
        for (int k = 0; k < WD_WS_OB_BUCKETS; k++) {
            cum += wd_ws_load(&routes[i]->ob_hist[k]);
            if (k < WD_WS_OB_BUCKETS - 1) {
                wd_ws_printf(&b, "wasmd_wasm_outbound_duration_seconds_bucket{route=\"%s\","
                             "le=\"%u.%03u\"} %llu\n", label, wd_ws_ob_le_ms[k] / 1000,
                             wd_ws_ob_le_ms[k] % 1000, (unsigned long long) cum);
            } else {
                wd_ws_printf(&b, "wasmd_wasm_outbound_duration_seconds_bucket{route=\"%s\","
                             "le=\"+Inf\"} %llu\n", label, (unsigned long long) cum);
            }
        }
        uint64_t ms = wd_ws_load(&routes[i]->ob_ms);
        wd_ws_printf(&b, "wasmd_wasm_outbound_duration_seconds_sum{route=\"%s\"} %llu.%03llu\n"
                     "wasmd_wasm_outbound_duration_seconds_count{route=\"%s\"} %llu\n",
                     label, (unsigned long long) (ms / 1000), (unsigned long long) (ms % 1000),
                     label, (unsigned long long) cum);
    }
    WD_WS_HEAD(&b, "wasmd_wasm_outbound_connections", "gauge",
               "Upstream connections of outgoing HTTP, summed over the live workers: open "
               "(in use or idle) and idle in the keep-alive pools.");
    wd_ws_printf(&b, "wasmd_wasm_outbound_connections{state=\"open\"} %llu\n"
                 "wasmd_wasm_outbound_connections{state=\"idle\"} %llu\n",
                 (unsigned long long) ob_open, (unsigned long long) ob_idle);
    WD_WS_HEAD(&b, "wasmd_wasm_outbound_in_flight", "gauge",
               "Outgoing HTTP requests in progress, summed over the live workers.");
    wd_ws_printf(&b, "wasmd_wasm_outbound_in_flight %llu\n", (unsigned long long) ob_active);
    WD_WS_HEAD(&b, "wasmd_connections_active", "gauge", "Open client connections.");
    wd_ws_printf(&b, "wasmd_connections_active %llu\n", (unsigned long long) conns);
    WD_WS_HEAD(&b, "wasmd_workers", "gauge", "Live worker processes.");
    wd_ws_printf(&b, "wasmd_workers %llu\n", (unsigned long long) workers);
    WD_WS_HEAD(&b, "wasmd_reloads_total", "counter", "Configuration reloads since start.");
    wd_ws_printf(&b, "wasmd_reloads_total %llu\n",
                 (unsigned long long) wd_ws_load(&wd_ws_shm->reloads));

    if (b.failed) {
        free(b.p);
        return WD_ERROR;
    }
    rc = wd_http_send_simple(r, 200, "text/plain; version=0.0.4", (const u_char *) b.p, b.len);
    free(b.p);
    return rc == WD_OK ? WD_OK : WD_ERROR;
}

char *
wd_http_wasm_status_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf, wd_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }
    clcf->handler = wd_http_wasm_status_handler;
    return WD_CONF_OK;
}
