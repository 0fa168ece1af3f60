/*
 * wd_http_wasm.h -- the wasm module's internals (modules/wasm/).
 *
 * Files: wd_http_wasm_module.c (directives, loading modules at configuration
 * time, the content handler and the glue between a request and the wasi:http
 * host), wd_http_wasm_pool.c (per-worker instance pools, the wait queue, the
 * deadline watchdog), wd_http_wasm_cgi.c (WAGI-style CGI for `_start` modules),
 * wd_http_wasm_status.c (`wasm_status` counters in shared memory, $wasm_fuel,
 * $wasm_instance_wait).
 *
 * Lifetimes: a wd_http_wasm_mod_t (the compiled module) is loaded once while
 * the configuration is parsed, in the master, and shared read-only by every
 * worker after fork. A pool (per route, per worker) owns its instances; an
 * instance belongs to at most one request at a time and is restored to its
 * snapshot before it goes back to the pool. A request context (r->ctx) is
 * malloc'd because its uv timer may outlive the request (close callback).
 */
#ifndef WD_HTTP_WASM_H
#define WD_HTTP_WASM_H

#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_wasm.h"
#include "http/wd_host_http.h"
#include "wasi/wd_host_wasi.h"
#include "component/wd_comp.h"
#include "wd_host_comp.h"
#include "kv/wd_host_kv.h"

typedef struct wd_http_wasm_pool_s wd_http_wasm_pool_t;
typedef struct wd_http_wasm_inst_s wd_http_wasm_inst_t;
typedef struct wd_http_wasm_ctx_s  wd_http_wasm_ctx_t;

typedef struct {
    wd_str_t             path;        /* absolute */
    wd_wasm_module_t    *module;      /* a core module, or NULL for a component */
    wd_comp_t           *comp;        /* a wasi:http component (its core modules compiled) */
    unsigned             cgi:1;       /* exports _start instead of the wasi:http handler */
} wd_http_wasm_mod_t;

typedef struct {
    wd_str_t   host;                  /* absolute host directory */
    wd_str_t   guest;
    unsigned   rw:1;
} wd_http_wasm_dir_t;

typedef struct {
    wd_http_wasm_mod_t  *mod;          /* NULL: no wasm_handler at this level */
    size_t               memory_limit;
    wd_int_t             fuel;          /* per request; 0 = unlimited */
    wd_msec_t            timeout;
    wd_int_t             pool_min, pool_max;
    wd_array_t          *env;           /* char * "NAME=VALUE" (NULL-terminated copy in env_v) */
    wd_array_t          *dirs;          /* wd_http_wasm_dir_t */
    const char         **env_v;
    size_t               env_n;
    wd_str_t             route;         /* location name, for logs */
    wd_str_t             file;          /* where wasm_handler was given */
    wd_uint_t            line;
    wd_http_wasm_pool_t *pool;          /* this worker's pool (init_worker) */
    int                  ws_name_k;     /* wasm_status entry of the location name, +1 */
    int                  ws_route_k;    /* ... of route (0: not looked up yet) */
    /* wd_http_wasm_kv.c: wasm_keyvalue, wasm_keyvalue_limits, wasm_config */
    wd_array_t          *kv_grants;     /* wd_str_t store names (NULL: not set here) */
    wd_str_t             kv_file;       /* where wasm_keyvalue was given */
    wd_uint_t            kv_line;
    size_t               kv_key_max, kv_value_max;
    wd_array_t          *config;        /* char * "KEY=VALUE" */
    wd_host_kv_store_t  *kv_stores;     /* every store, with this route's grants (merge) */
    size_t               kv_nstores;
    const char         **config_v;
    size_t               config_n;
} wd_http_wasm_loc_conf_t;

/* keyvalue_store NAME KIND LOCATION [PARAM=VALUE...]: one of src/host/kv's backends */
typedef struct {
    wd_str_t               name;
    const wd_kv_backend_t *be;
    void                  *conf;          /* be->conf_size bytes, filled by be->parse */
    wd_str_t               file;
    wd_uint_t              line;
    void                  *data;          /* worker: the open store (be->open) */
    unsigned               shut:1;        /* be->shutdown was called */
} wd_http_wasm_kvstore_t;

typedef struct {
    wd_array_t           mods;          /* wd_http_wasm_mod_t * (loaded once per path) */
    wd_array_t           routes;        /* wd_http_wasm_loc_conf_t * with a handler */
    wd_array_t           kv_stores;     /* wd_http_wasm_kvstore_t */
    unsigned             kv_default:1;  /* the implicit `default` store was added */
} wd_http_wasm_main_conf_t;

struct wd_http_wasm_inst_s {
    wd_wasm_store_t        *store;
    wd_wasm_instance_t     *inst;       /* the module's; for a component, the core instance
                                           its handle export runs in (fuel, yield, traps) */
    wd_host_http_t         *hh;         /* NULL for CGI modules; a component's is its hc's */
    wd_host_comp_t         *hc;         /* component: host context (owns hh) */
    wd_comp_instance_t     *ci;         /* component: all its core instances, one store */
    wd_host_wasi_t         *wasi;
    wd_host_kv_t           *kv;         /* wasi:keyvalue / wasi:config (NULL for CGI) */
    wd_wasm_func_t         *start;      /* CGI: _start */
    wd_http_wasm_pool_t    *pool;
    wd_queue_t              link;       /* pool->idle */
    wd_http_wasm_ctx_t     *ctx;        /* the request using it */
    uint64_t                sleep_until; /* preview1 poll_oneoff suspended until (0: no) */
    uint64_t                idle_since;  /* loop time (ms) it went back to the pool */
};

struct wd_http_wasm_pool_s {
    wd_http_wasm_loc_conf_t *conf;
    wd_queue_t               idle;      /* wd_http_wasm_inst_t */
    wd_queue_t               waiting;   /* wd_http_wasm_ctx_t waiting for an instance */
    wd_uint_t                ninst, nbusy;
    uint64_t                 log_window;   /* second of the guest-output rate limit */
    wd_uint_t                log_lines;
};

enum {
    WD_HTTP_WASM_QUEUED = 0,     /* waiting for an instance */
    WD_HTTP_WASM_RUNNING,        /* inside a wasm call */
    WD_HTTP_WASM_WAITING,        /* suspended on I/O or a timer */
    WD_HTTP_WASM_RUNNABLE,       /* yielded: in the run queue */
    WD_HTTP_WASM_BODY,           /* CGI: reading the request body */
    WD_HTTP_WASM_DONE
};

#define WD_HTTP_WASM_HDRS_INLINE 24   /* request headers described without a malloc */

struct wd_http_wasm_ctx_s {
    wd_http_request_t       *r;          /* NULL once the client went away */
    wd_http_wasm_loc_conf_t *conf;
    wd_http_wasm_inst_t     *it;
    uv_timer_t               timer;      /* queue timeout, deadline, guest timers; initialised
                                            on first use (wd_http_wasm_timer_start): a request
                                            that runs to completion at once never needs it */
    wd_queue_t               link;       /* pool->waiting or the run queue */
    int                      state;
    uint64_t                 start_ns;
    uint64_t                 deadline_ns;
    uint64_t                 wait_since; /* queued for an instance at (0: never queued) */
    uint64_t                 wait_ns;    /* waited for the instance */
    unsigned                 started:1;  /* got its instance and ran */
    unsigned                 in_handler:1;
    unsigned                 behind:1;   /* wd_http_write said AGAIN: wait for the drain */
    unsigned                 body_eof:1;
    unsigned                 body_err:1;
    unsigned                 wake:1;     /* an event arrived while running */
    unsigned                 abort:1;    /* final: abort the response */
    unsigned                 queued_link:1;
    unsigned                 timer_on:1; /* timer initialised: freed from its close callback */
    unsigned                 runq:2;     /* in the run queue: 1 + WD_HTTP_WASM_FRESH/YIELDED */
    unsigned                 paused_new:1;   /* started paused (the pass's budget was spent) */
    int                      final_status;   /* final: error page status, 0 none */
    uint64_t                 ob_total;   /* outgoing requests asked for (wd_http_wasm_outbound.c) */
    uint64_t                 ob_live;    /* ... open now */
    uint64_t                 ob_count;   /* ... started ($wasm_outbound) */
    uint64_t                 ob_time_ms; /* ... summed durations ($wasm_outbound_time) */
    int                      handler_rc;     /* result when finished inside the handler */
    u_char                  *look;       /* body lookahead (pollable readiness) */
    size_t                   look_len, look_off;
    wd_host_http_request_head_t head;
    wd_host_http_header_t   *hdrs;       /* hdrs_inline, or malloc'd for many headers */
    /* CGI */
    u_char                  *cgi_out;
    size_t                   cgi_len, cgi_cap;
    size_t                   cgi_in_off;
    int                      cgi_overflow;
    /* not zeroed at creation (everything above is) */
    wd_host_http_header_t    hdrs_inline[WD_HTTP_WASM_HDRS_INLINE];
};

extern wd_module_t wd_wasm_module;
extern wd_module_t wd_wasm_outbound_module;
/* outgoing HTTP for handlers (wd_http_wasm_outbound.c) */
extern const wd_host_http_outbound_t wd_http_wasm_outbound;

/* pool (wd_http_wasm_pool.c) */
int  wd_http_wasm_pool_init(wd_cycle_t *cycle, wd_http_wasm_loc_conf_t *conf);
void wd_http_wasm_pool_exit(wd_http_wasm_loc_conf_t *conf);
/* Once a second: drop the pages kept populated by instances idle for a second or more. */
void wd_http_wasm_ctx_cache_free(void);
int  wd_http_wasm_pool_trim_init(wd_http_wasm_loc_conf_t **routes, wd_uint_t n);
/* An idle (or new) instance, or NULL if the pool is at MAX. */
wd_http_wasm_inst_t *wd_http_wasm_pool_get(wd_http_wasm_pool_t *pool, wd_log_t *log);
/* Restore it and give it back (or hand it to the first waiting request). */
void wd_http_wasm_pool_put(wd_http_wasm_inst_t *it);
/* Make an instance for conf in a fresh store (also used for the trial at config time). */
wd_http_wasm_inst_t *wd_http_wasm_inst_new(wd_http_wasm_loc_conf_t *conf, wd_wasm_error_t *err);
void wd_http_wasm_inst_free(wd_http_wasm_inst_t *it);
/* Watchdog: interrupts the running instance past its deadline, asks one that ran 5 ms to
 * yield (a 5 ms POSIX timer signal while guest code runs). arm/disarm bracket every run. */
int  wd_http_wasm_watchdog_start(void);
void wd_http_wasm_watchdog_stop(void);
uint32_t wd_http_wasm_watchdog_guest_ticks(void);
void wd_http_wasm_watchdog_arm(wd_wasm_instance_t *inst, uint64_t deadline_ns);
void wd_http_wasm_watchdog_disarm(void);
uint64_t wd_http_wasm_now_ns(void);

/* request glue (wd_http_wasm_module.c) */
void wd_http_wasm_start_request(wd_http_wasm_ctx_t *ctx, wd_http_wasm_inst_t *it);
void wd_http_wasm_guest_log(wd_http_wasm_ctx_t *ctx, int is_err, const char *line, size_t len);
void wd_http_wasm_finalize(wd_http_wasm_ctx_t *ctx);
void wd_http_wasm_arm_timer(wd_http_wasm_ctx_t *ctx, uint64_t when_ns);
void wd_http_wasm_timer_start(wd_http_wasm_ctx_t *ctx, uv_timer_cb cb, uint64_t ms);
/* Something the handler may wait for happened: run it if it waits (again later if it runs). */
void wd_http_wasm_ctx_wake(wd_http_wasm_ctx_t *ctx);

/* counters and variables (wd_http_wasm_status.c) */
int   wd_http_wasm_status_init_master(wd_cycle_t *cycle);
void  wd_http_wasm_status_routes(wd_http_wasm_loc_conf_t **routes, wd_uint_t n);
int   wd_http_wasm_status_init_worker(wd_cycle_t *cycle, wd_http_wasm_loc_conf_t **routes,
                                      wd_uint_t n);
void  wd_http_wasm_status_exit_worker(void);
int   wd_http_wasm_status_preconfiguration(wd_conf_t *cf);
char *wd_http_wasm_status_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
void  wd_http_wasm_status_request(wd_http_request_t *r);
void  wd_http_wasm_status_queued(wd_http_wasm_ctx_t *ctx);
void  wd_http_wasm_status_started(wd_http_wasm_ctx_t *ctx);
void  wd_http_wasm_status_finalize(wd_http_wasm_ctx_t *ctx);
void  wd_http_wasm_status_outbound(wd_http_wasm_ctx_t *ctx, int code, uint64_t ms);
/* this worker's upstream connections open, idle pooled, exchanges active (outbound.c) */
void  wd_http_wasm_outbound_gauges(unsigned g[3]);
void  wd_http_wasm_status_publish(void);

/* CGI (wd_http_wasm_cgi.c) */
int  wd_http_wasm_cgi_handler(wd_http_request_t *r, wd_http_wasm_ctx_t *ctx);
void wd_http_wasm_cgi_run(wd_http_wasm_ctx_t *ctx);
void wd_http_wasm_cgi_resume(wd_http_wasm_ctx_t *ctx);

/* run queue (wd_http_wasm_sched.c) */
enum { WD_HTTP_WASM_FRESH = 0, WD_HTTP_WASM_YIELDED = 1 };
/* A new request started when the pass's budget is spent runs this much fuel at once (20 us
 * here; 10 times that with sanitizers), then waits in the run queue. A hello takes ~500. */
#define WD_HTTP_WASM_FIRST_SLICE_FUEL  20000
/* The loop pass's guest work so far is over its budget (new requests start paused). */
int  wd_http_wasm_pass_spent(void);
void wd_http_wasm_pass_charge(uint64_t fuel);
/* Queue a paused handler (state RUNNABLE) to be resumed by a later loop pass. */
void wd_http_wasm_sched_add(wd_http_wasm_ctx_t *ctx, int q);
void wd_http_wasm_sched_remove(wd_http_wasm_ctx_t *ctx);   /* no-op if not queued */
/* Resume a paused handler (wd_http_wasm_module.c): the run queue's callback. */
void wd_http_wasm_resume(wd_http_wasm_ctx_t *ctx);
void wd_http_wasm_cgi_cancel(wd_http_wasm_ctx_t *ctx, int timeout);
int  wd_http_wasm_cgi_check(const wd_wasm_module_t *m, wd_wasm_error_t *err);

/* wd_http_wasm_kv.c: stores (keyvalue_store), grants and wasi:config per route */
char *wd_http_wasm_kv_store_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_http_wasm_kv_grant_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_http_wasm_kv_limits_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_http_wasm_config_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_http_wasm_kv_merge(wd_conf_t *cf, wd_http_wasm_loc_conf_t *prev,
                            wd_http_wasm_loc_conf_t *conf);
int  wd_http_wasm_kv_init_master(wd_cycle_t *cycle, wd_http_wasm_main_conf_t *mcf);
int  wd_http_wasm_kv_init_worker(wd_cycle_t *cycle, wd_http_wasm_main_conf_t *mcf);
void wd_http_wasm_kv_exit_worker(wd_http_wasm_main_conf_t *mcf);

#endif /* WD_HTTP_WASM_H */
