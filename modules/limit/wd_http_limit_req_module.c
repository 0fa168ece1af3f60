/*
 * wd_http_limit_req_module.c -- nginx's limit_req: a leaky bucket per key, shared by every
 * worker.
 *
 *   limit_req_zone KEY zone=NAME:SIZE rate=Nr/s|Nr/m;           http
 *   limit_req zone=NAME [burst=N] [nodelay | delay=N];           http, server, location
 *   limit_req_status CODE;              400..599, default 503    http, server, location
 *   limit_req_log_level info|notice|warn|error;  default error   http, server, location
 *   limit_req_dry_run on|off;           default off              http, server, location
 *
 * Per key the zone keeps `excess` (requests over the rate, in thousandths) and the time of
 * the last accounted request. A request adds 1000 and the time since `last` drains
 * rate * ms / 1000: with excess above burst it is rejected (limit_req_status, logged
 * "limiting requests, excess: E by zone"); else it is delayed by (excess - delay) / rate
 * (every excess request without `delay=`, none with `nodelay`), logged one level lower
 * ("delaying request"), on a timer of the worker's loop. Several limit_req in a location
 * are all checked: one that rejects rejects the request and none of them counts it; else
 * each counts it and the longest delay applies. The directives are inherited from the
 * enclosing level when a level has none. A request is limited once, in the first location
 * with limits that it reaches (not again after an internal redirect). An empty key is not
 * limited. Records unused for a minute and drained are dropped; when the zone is full the
 * least recently used record goes. $limit_req_status is PASSED, DELAYED, REJECTED,
 * DELAYED_DRY_RUN or REJECTED_DRY_RUN. `sync` (NGINX Plus) is refused by -t.
 */
#include "wd_http_limit.h"
#include "wd_http_variables.h"
#include "wd_event.h"

#define WD_LR_PASSED            1
#define WD_LR_DELAYED           2
#define WD_LR_REJECTED          3
#define WD_LR_DELAYED_DRY_RUN   4
#define WD_LR_REJECTED_DRY_RUN  5

#define WD_LR_NODELAY  ((wd_uint_t) INT64_MAX / 1000)

typedef struct {
    int64_t     last;               /* ms of the last accounted request */
    int64_t     excess;             /* thousandths of a request */
} wd_lr_node_t;

typedef struct {
    wd_http_limit_zone_t *zone;
    wd_uint_t             burst;    /* thousandths */
    wd_uint_t             delay;    /* thousandths; WD_LR_NODELAY: nodelay */
} wd_lr_limit_t;

typedef struct {
    wd_array_t   *zones;            /* wd_http_limit_zone_t * */
} wd_lr_main_conf_t;

typedef struct {
    wd_array_t   *limits;           /* wd_lr_limit_t; NULL: none at this level */
    wd_uint_t     status;
    wd_uint_t     log_level;
    wd_flag_t     dry_run;
} wd_lr_loc_conf_t;

typedef struct {
    uv_timer_t           timer;
    wd_http_request_t   *r;
} wd_lr_delay_t;

static char *wd_lr_zone(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_lr_limit(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_lr_create_main_conf(wd_conf_t *cf);
static void *wd_lr_create_loc_conf(wd_conf_t *cf);
static char *wd_lr_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_lr_preconfiguration(wd_conf_t *cf);
static int   wd_lr_postconfiguration(wd_conf_t *cf);

static const wd_command_t wd_lr_commands[] = {
    { "limit_req_zone", WD_HTTP_MAIN_CONF | WD_CONF_TAKE3 | WD_CONF_TAKE4,
      wd_lr_zone, WD_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { "limit_req", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_TAKE123,
      wd_lr_limit, WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "limit_req_status", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF
      | WD_CONF_TAKE1, wd_conf_set_uint_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_lr_loc_conf_t, status), &wd_http_limit_status_bounds },
    { "limit_req_log_level", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF
      | WD_CONF_TAKE1, wd_conf_set_enum_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_lr_loc_conf_t, log_level), wd_http_limit_log_levels },
    { "limit_req_dry_run", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF
      | WD_CONF_FLAG, wd_conf_set_flag_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_lr_loc_conf_t, dry_run), NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_lr_module_ctx = {
    .preconfiguration = wd_lr_preconfiguration,
    .postconfiguration = wd_lr_postconfiguration,
    .create_main_conf = wd_lr_create_main_conf,
    .create_loc_conf = wd_lr_create_loc_conf,
    .merge_loc_conf = wd_lr_merge_loc_conf,
};

wd_module_t wd_http_limit_req_module = {
    .name = "wd_http_limit_req_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_lr_commands,
    .ctx = &wd_lr_module_ctx,
};

static void *
wd_lr_create_main_conf(wd_conf_t *cf)
{
    wd_lr_main_conf_t *mc = wd_pcalloc(cf->pool, sizeof(*mc));

    if (mc == NULL || (mc->zones = wd_array_create(cf->pool, 2, sizeof(void *))) == NULL) {
        return NULL;
    }
    return mc;
}

static void *
wd_lr_create_loc_conf(wd_conf_t *cf)
{
    wd_lr_loc_conf_t *lc = wd_pcalloc(cf->pool, sizeof(*lc));

    if (lc == NULL) {
        return NULL;
    }
    lc->status = WD_CONF_UNSET_UINT;
    lc->log_level = WD_CONF_UNSET_UINT;
    lc->dry_run = WD_CONF_UNSET;
    return lc;
}

static char *
wd_lr_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_lr_loc_conf_t *prev = parent, *conf = child;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }
    wd_conf_merge_uint_value(conf->status, prev->status, 503);
    wd_conf_merge_uint_value(conf->log_level, prev->log_level, WD_LOG_ERR);
    wd_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    return WD_CONF_OK;
}

/* "rate=10r/s" -> 10000, "rate=30r/m" -> 500 (thousandths of a request per second) */
static wd_int_t
wd_lr_parse_rate(const wd_str_t *v)
{
    wd_int_t n = 0, scale;
    size_t i, len = v->len;

    if (len > 3 && memcmp(v->data + len - 3, "r/s", 3) == 0) {
        scale = 1;
    } else if (len > 3 && memcmp(v->data + len - 3, "r/m", 3) == 0) {
        scale = 60;
    } else {
        return WD_ERROR;
    }
    len -= 3;
    for (i = 0; i < len; i++) {
        if (v->data[i] < '0' || v->data[i] > '9' || n > 1000000000) {
            return WD_ERROR;
        }
        n = n * 10 + (v->data[i] - '0');
    }
    if (n == 0) {
        return WD_ERROR;
    }
    return n * 1000 / scale;
}

static wd_int_t
wd_lr_atoi(const u_char *p, size_t len)
{
    wd_int_t n = 0;

    if (len == 0) {
        return WD_ERROR;
    }
    while (len--) {
        if (*p < '0' || *p > '9' || n > 100000000) {
            return WD_ERROR;
        }
        n = n * 10 + (*p++ - '0');
    }
    return n;
}

static char *
wd_lr_zone(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_lr_main_conf_t *mc = conf;
    wd_str_t *args = cf->args->elts, *zarg = NULL, v;
    wd_http_limit_zone_t *z;
    wd_int_t rate = 0;
    wd_uint_t i;

    for (i = 2; i < cf->args->nelts; i++) {
        if (args[i].len > 5 && memcmp(args[i].data, "zone=", 5) == 0) {
            zarg = &args[i];
        } else if (args[i].len > 5 && memcmp(args[i].data, "rate=", 5) == 0) {
            v.data = args[i].data + 5;
            v.len = args[i].len - 5;
            rate = wd_lr_parse_rate(&v);
            if (rate <= 0) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid rate \"%.*s\"",
                                  wd_str_pf(&args[i]));
                return WD_CONF_ERROR;
            }
        } else if (wd_str_eq(&args[i], "sync")) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"limit_req_zone ... sync\" (zone "
                              "synchronization of NGINX Plus) is not supported by wasmd");
            return WD_CONF_ERROR;
        } else {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid parameter \"%.*s\"",
                              wd_str_pf(&args[i]));
            return WD_CONF_ERROR;
        }
    }
    if (zarg == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"limit_req_zone\" must have \"zone\" parameter");
        return WD_CONF_ERROR;
    }
    if (rate == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"limit_req_zone\" must have \"rate\" parameter");
        return WD_CONF_ERROR;
    }
    z = wd_http_limit_zone_declare(cf, mc->zones, &wd_http_limit_req_module, &args[1], zarg,
                                   sizeof(wd_lr_node_t));
    if (z == NULL) {
        return WD_CONF_ERROR;
    }
    z->rate = (wd_uint_t) rate;
    return WD_CONF_OK;
}

static char *
wd_lr_limit(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_lr_main_conf_t *mc = wd_http_conf_get_module_main_conf(cf, wd_http_limit_req_module);
    wd_lr_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts, name = { 0 };
    wd_int_t burst = 0, delay = 0, n;
    int nodelay = 0;
    wd_lr_limit_t *l;
    wd_uint_t i;

    for (i = 1; i < cf->args->nelts; i++) {
        if (args[i].len > 5 && memcmp(args[i].data, "zone=", 5) == 0) {
            name.data = args[i].data + 5;
            name.len = args[i].len - 5;
        } else if (args[i].len > 6 && memcmp(args[i].data, "burst=", 6) == 0) {
            burst = n = wd_lr_atoi(args[i].data + 6, args[i].len - 6);
            if (n < 0) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid burst value \"%.*s\"",
                                  wd_str_pf(&args[i]));
                return WD_CONF_ERROR;
            }
        } else if (args[i].len > 6 && memcmp(args[i].data, "delay=", 6) == 0) {
            delay = n = wd_lr_atoi(args[i].data + 6, args[i].len - 6);
            if (n < 0) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid delay \"%.*s\"",
                                  wd_str_pf(&args[i]));
                return WD_CONF_ERROR;
            }
        } else if (wd_str_eq(&args[i], "nodelay")) {
            nodelay = 1;
        } else {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid parameter \"%.*s\"",
                              wd_str_pf(&args[i]));
            return WD_CONF_ERROR;
        }
    }
    if (name.len == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"limit_req\" must have \"zone\" parameter");
        return WD_CONF_ERROR;
    }
    if (lc->limits == NULL) {
        lc->limits = wd_array_create(cf->pool, 1, sizeof(wd_lr_limit_t));
        if (lc->limits == NULL) {
            return WD_CONF_ERROR;
        }
    }
    l = lc->limits->elts;
    for (i = 0; i < lc->limits->nelts; i++) {
        if (l[i].zone->name.len == name.len
            && memcmp(l[i].zone->name.data, name.data, name.len) == 0)
        {
            return "is duplicate";
        }
    }
    l = wd_array_push(lc->limits);
    if (l == NULL || (l->zone = wd_http_limit_zone_ref(cf, mc->zones, &name)) == NULL) {
        return WD_CONF_ERROR;
    }
    l->burst = (wd_uint_t) burst * 1000;
    l->delay = nodelay ? WD_LR_NODELAY : (wd_uint_t) delay * 1000;
    return WD_CONF_OK;
}

/* ---------------------------------------------------------------- requests */

/* Drops up to two least recently used records that are a minute old and drained. */
static void
wd_lr_expire(wd_http_limit_zone_t *z, int64_t now)
{
    for (int n = 0; n < 2; n++) {
        wd_lr_node_t *o = wd_shm_table_oldest(z->table);
        int64_t ms;
        if (o == NULL) {
            return;
        }
        ms = now - o->last;
        if (ms < 0) {
            ms = -ms;
        }
        if (ms < 60000 || o->excess - (int64_t) z->rate * ms / 1000 > 0) {
            return;
        }
        wd_shm_table_remove(z->table, o);
    }
}

/* Looks (store == NULL): the excess the request would bring for limit l and key, or -1
 * when the zone cannot hold the key. Counts (store != NULL): stores *store, the excess the
 * look found, as the key's state now. */
static int64_t
wd_lr_lookup(wd_http_request_t *r, wd_lr_limit_t *l, const wd_str_t *key,
             const int64_t *store, int64_t now)
{
    wd_http_limit_zone_t *z = l->zone;
    wd_lr_node_t *node;
    int64_t excess, ms;
    int created, rc;

    rc = wd_shm_lock(z->shm);
    if (rc == WD_ERROR) {
        return -1;
    }
    if (rc == WD_DECLINED) {
        wd_log_error(WD_LOG_ALERT, wd_http_log(r->hc), 0, "a worker died holding the lock of "
                     "limit_req_zone \"%.*s\": its state is reset", wd_str_pf(&z->name));
        wd_shm_table_reset(z->table);
    }
    if (store == NULL) {
        wd_lr_expire(z, now);
    }
    node = wd_shm_table_get(z->table, key->data, key->len, WD_SHM_TABLE_EVICT, &created);
    if (node == NULL) {
        wd_shm_unlock(z->shm);
        return -1;
    }
    if (store) {
        node->excess = *store;
        node->last = now;
        wd_shm_unlock(z->shm);
        return *store;
    }
    if (created) {
        node->last = now;
        node->excess = 0;
        wd_shm_unlock(z->shm);
        return 0;
    }
    ms = now - node->last;
    if (ms < -60000) {
        ms = 1;
    } else if (ms < 0) {
        ms = 0;
    }
    excess = node->excess - (int64_t) z->rate * ms / 1000 + 1000;
    if (excess < 0) {
        excess = 0;
    }
    wd_shm_unlock(z->shm);
    return excess;
}

static void
wd_lr_timer_free(uv_handle_t *h)
{
    free(h->data);
}

static void
wd_lr_cleanup(wd_http_request_t *r)
{
    wd_lr_delay_t *d = r->ctx;

    if (d) {
        r->ctx = NULL;
        uv_close((uv_handle_t *) &d->timer, wd_lr_timer_free);
    }
}

static int wd_http_limit_req_handler(wd_http_request_t *r);

static void
wd_lr_delay_done(uv_timer_t *t)
{
    wd_lr_delay_t *d = t->data;
    wd_http_request_t *r = d->r;

    r->ctx = NULL;
    r->cleanup = NULL;
    uv_close((uv_handle_t *) t, wd_lr_timer_free);
    wd_event_time_update();
    wd_http_finalize_request(r, wd_http_run_preaccess(r, wd_http_limit_req_handler));
}

static int
wd_http_limit_req_handler(wd_http_request_t *r)
{
    wd_lr_loc_conf_t *lc = wd_http_loc_get_module_conf(
        (wd_http_core_loc_conf_t *) r->loc_conf, wd_http_limit_req_module);
    wd_lr_limit_t *l, *worst = NULL;
    wd_str_t *keys;
    int64_t *ex, now = (int64_t) wd_current_msec, excess, worst_excess = 0;
    wd_uint_t i, n;
    uint64_t delay = 0, d;
    wd_lr_delay_t *dl;
    int any = 0;

    if (r->limit_req_status || lc->limits == NULL) {
        return WD_DECLINED;
    }
    l = lc->limits->elts;
    n = lc->limits->nelts;
    keys = wd_palloc(r->pool, n * sizeof(wd_str_t));
    ex = wd_palloc(r->pool, n * sizeof(int64_t));
    if (keys == NULL || ex == NULL) {
        return 500;
    }
    /* every limit first looks; one that rejects rejects the request, counted by none */
    for (i = 0; i < n; i++) {
        if (wd_http_complex_value(r, &l[i].zone->key, &keys[i]) != WD_OK) {
            return 500;
        }
        if (keys[i].len == 0) {
            continue;               /* not limited */
        }
        any = 1;
        excess = ex[i] = wd_lr_lookup(r, &l[i], &keys[i], NULL, now);
        if (excess < 0 || (uint64_t) excess > l[i].burst) {
            if (excess < 0) {
                wd_log_error(WD_LOG_ALERT, wd_http_log(r->hc), 0, "could not allocate node in "
                             "limit_req_zone \"%.*s\"", wd_str_pf(&l[i].zone->name));
            } else {
                wd_log_error(lc->log_level, wd_http_log(r->hc), 0, "limiting requests%s, "
                             "excess: %u.%03u by zone \"%.*s\"", lc->dry_run ? ", dry run" : "",
                             (unsigned) (excess / 1000), (unsigned) (excess % 1000),
                             wd_str_pf(&l[i].zone->name));
            }
            if (lc->dry_run) {
                r->limit_req_status = WD_LR_REJECTED_DRY_RUN;
                return WD_DECLINED;
            }
            r->limit_req_status = WD_LR_REJECTED;
            return (int) lc->status;
        }
    }
    if (!any) {
        return WD_DECLINED;
    }
    r->limit_req_status = WD_LR_PASSED;
    /* then each counts it; the longest delay applies */
    for (i = 0; i < n; i++) {
        if (keys[i].len == 0) {
            continue;
        }
        excess = wd_lr_lookup(r, &l[i], &keys[i], &ex[i], now);
        if (excess < 0 || (uint64_t) excess <= l[i].delay) {
            continue;
        }
        d = ((uint64_t) excess - l[i].delay) * 1000 / l[i].zone->rate;
        if (d > delay) {
            delay = d;
            worst = &l[i];
            worst_excess = excess;
        }
    }
    if (delay == 0) {
        return WD_DECLINED;
    }
    wd_log_error(lc->log_level + 1, wd_http_log(r->hc), 0, "delaying request%s, excess: "
                 "%u.%03u, by zone \"%.*s\"", lc->dry_run ? ", dry run" : "",
                 (unsigned) (worst_excess / 1000), (unsigned) (worst_excess % 1000),
                 wd_str_pf(&worst->zone->name));
    if (lc->dry_run) {
        r->limit_req_status = WD_LR_DELAYED_DRY_RUN;
        return WD_DECLINED;
    }
    r->limit_req_status = WD_LR_DELAYED;
    dl = malloc(sizeof(*dl));
    if (dl == NULL) {
        return 500;
    }
    dl->r = r;
    uv_timer_init(&wd_worker->loop, &dl->timer);
    dl->timer.data = dl;
    uv_timer_start(&dl->timer, wd_lr_delay_done, delay, 0);
    r->ctx = dl;
    r->cleanup = wd_lr_cleanup;
    return WD_DONE;
}

static int
wd_lr_var_status(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    static const char *names[] = { NULL, "PASSED", "DELAYED", "REJECTED", "DELAYED_DRY_RUN",
                                   "REJECTED_DRY_RUN" };

    v->len = 0;
    v->data = NULL;
    if (r->limit_req_status && r->limit_req_status <= WD_LR_REJECTED_DRY_RUN) {
        v->data = (u_char *) names[r->limit_req_status];
        v->len = strlen(names[r->limit_req_status]);
    }
    return WD_OK;
}

static int
wd_lr_preconfiguration(wd_conf_t *cf)
{
    if (wd_http_add_variable("limit_req_status", wd_lr_var_status, 0) != WD_OK) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "limit_req: cannot add $limit_req_status");
        return WD_ERROR;
    }
    return WD_OK;
}

static int
wd_lr_postconfiguration(wd_conf_t *cf)
{
    wd_lr_main_conf_t *mc = wd_http_conf_get_module_main_conf(cf, wd_http_limit_req_module);

    if (wd_http_limit_zones_check(cf, mc->zones, "limit_req") != WD_OK) {
        return WD_ERROR;
    }
    wd_http_preaccess_add(wd_http_limit_req_handler, 1);    /* before limit_conn, as nginx */
    return WD_OK;
}
