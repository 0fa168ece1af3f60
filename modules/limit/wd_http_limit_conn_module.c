/*
 * wd_http_limit_conn_module.c -- nginx's limit_conn: at most N requests in progress per
 * key, counted across every worker.
 *
 *   limit_conn_zone KEY zone=NAME:SIZE;                          http
 *   limit_conn NAME N;                                           http, server, location
 *   limit_conn_status CODE;             400..599, default 503    http, server, location
 *   limit_conn_log_level info|notice|warn|error;  default error  http, server, location
 *   limit_conn_dry_run on|off;          default off              http, server, location
 *
 * A request is counted in every limit_conn of its location from the preaccess phase until
 * it ends (its pool's cleanup: logged, and the connection gone or on to its next
 * request). One over a limit is rejected with limit_conn_status and "limiting connections
 * by zone" at limit_conn_log_level; the counts it took in earlier limits are given back.
 * A key whose count drops to 0 leaves the zone; a zone with no free record rejects a new
 * key ("could not allocate node"). Inherited from the enclosing level when a level has
 * none; a request is counted once (not again after an internal redirect); an empty key is
 * not limited. $limit_conn_status: PASSED, REJECTED, REJECTED_DRY_RUN.
 */
#include "wd_http_limit.h"
#include "wd_http_variables.h"

#define WD_LC_PASSED            1
#define WD_LC_REJECTED          2
#define WD_LC_REJECTED_DRY_RUN  3

typedef struct {
    uint64_t    conn;
} wd_lc_node_t;

typedef struct {
    wd_http_limit_zone_t *zone;
    wd_uint_t             conn;
} wd_lc_limit_t;

typedef struct {
    wd_array_t   *zones;
} wd_lc_main_conf_t;

typedef struct {
    wd_array_t   *limits;           /* wd_lc_limit_t; NULL: none at this level */
    wd_uint_t     status;
    wd_uint_t     log_level;
    wd_flag_t     dry_run;
} wd_lc_loc_conf_t;

/* one count to give back when the request's pool is reset */
typedef struct {
    wd_http_limit_zone_t *zone;
    size_t                len;
    u_char                key[];
} wd_lc_cleanup_t;

static char *wd_lc_zone(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_lc_limit(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_lc_create_main_conf(wd_conf_t *cf);
static void *wd_lc_create_loc_conf(wd_conf_t *cf);
static char *wd_lc_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_lc_preconfiguration(wd_conf_t *cf);
static int   wd_lc_postconfiguration(wd_conf_t *cf);

static const wd_command_t wd_lc_commands[] = {
    { "limit_conn_zone", WD_HTTP_MAIN_CONF | WD_CONF_TAKE2,
      wd_lc_zone, WD_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { "limit_conn", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_TAKE2,
      wd_lc_limit, WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "limit_conn_status", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF
      | WD_CONF_TAKE1, wd_conf_set_uint_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_lc_loc_conf_t, status), &wd_http_limit_status_bounds },
    { "limit_conn_log_level", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF
      | WD_CONF_TAKE1, wd_conf_set_enum_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_lc_loc_conf_t, log_level), wd_http_limit_log_levels },
    { "limit_conn_dry_run", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF
      | WD_CONF_FLAG, wd_conf_set_flag_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_lc_loc_conf_t, dry_run), NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_lc_module_ctx = {
    .preconfiguration = wd_lc_preconfiguration,
    .postconfiguration = wd_lc_postconfiguration,
    .create_main_conf = wd_lc_create_main_conf,
    .create_loc_conf = wd_lc_create_loc_conf,
    .merge_loc_conf = wd_lc_merge_loc_conf,
};

wd_module_t wd_http_limit_conn_module = {
    .name = "wd_http_limit_conn_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_lc_commands,
    .ctx = &wd_lc_module_ctx,
};

static void *
wd_lc_create_main_conf(wd_conf_t *cf)
{
    wd_lc_main_conf_t *mc = wd_pcalloc(cf->pool, sizeof(*mc));

    if (mc == NULL || (mc->zones = wd_array_create(cf->pool, 2, sizeof(void *))) == NULL) {
        return NULL;
    }
    return mc;
}

static void *
wd_lc_create_loc_conf(wd_conf_t *cf)
{
    wd_lc_loc_conf_t *lc = wd_pcalloc(cf->pool, sizeof(*lc));

    if (lc == NULL) {
        return NULL;
    }
    lc->status = WD_CONF_UNSET_UINT;
    lc->log_level = WD_CONF_UNSET_UINT;
    lc->dry_run = WD_CONF_UNSET;
    return lc;
}

static char *
wd_lc_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_lc_loc_conf_t *prev = parent, *conf = child;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }
    wd_conf_merge_uint_value(conf->status, prev->status, 503);
    wd_conf_merge_uint_value(conf->log_level, prev->log_level, WD_LOG_ERR);
    wd_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    return WD_CONF_OK;
}

static char *
wd_lc_zone(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_lc_main_conf_t *mc = conf;
    wd_str_t *args = cf->args->elts;

    if (!(args[2].len > 5 && memcmp(args[2].data, "zone=", 5) == 0)) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid parameter \"%.*s\"", wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    if (wd_http_limit_zone_declare(cf, mc->zones, &wd_http_limit_conn_module, &args[1],
                                   &args[2], sizeof(wd_lc_node_t)) == NULL)
    {
        return WD_CONF_ERROR;
    }
    return WD_CONF_OK;
}

static char *
wd_lc_limit(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_lc_main_conf_t *mc = wd_http_conf_get_module_main_conf(cf, wd_http_limit_conn_module);
    wd_lc_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts;
    wd_lc_limit_t *l;
    wd_uint_t i, n = 0;

    for (i = 0; i < args[2].len; i++) {
        if (args[2].data[i] < '0' || args[2].data[i] > '9' || n > 100000000) {
            break;
        }
        n = n * 10 + (args[2].data[i] - '0');
    }
    if (args[2].len == 0 || i < args[2].len || n == 0 || n > 65535) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid number of connections \"%.*s\"",
                          wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    if (lc->limits == NULL) {
        lc->limits = wd_array_create(cf->pool, 1, sizeof(wd_lc_limit_t));
        if (lc->limits == NULL) {
            return WD_CONF_ERROR;
        }
    }
    l = lc->limits->elts;
    for (i = 0; i < lc->limits->nelts; i++) {
        if (l[i].zone->name.len == args[1].len
            && memcmp(l[i].zone->name.data, args[1].data, args[1].len) == 0)
        {
            return "is duplicate";
        }
    }
    l = wd_array_push(lc->limits);
    if (l == NULL || (l->zone = wd_http_limit_zone_ref(cf, mc->zones, &args[1])) == NULL) {
        return WD_CONF_ERROR;
    }
    l->conn = n;
    return WD_CONF_OK;
}

/* ---------------------------------------------------------------- requests */

static void
wd_lc_release(wd_http_limit_zone_t *z, const u_char *key, size_t len)
{
    wd_lc_node_t *node;

    if (wd_shm_lock(z->shm) == WD_ERROR) {
        return;
    }
    node = wd_shm_table_get(z->table, key, len, WD_SHM_TABLE_FIND, NULL);
    if (node && node->conn > 0 && --node->conn == 0) {
        wd_shm_table_remove(z->table, node);
    }
    wd_shm_unlock(z->shm);
}

static void
wd_lc_cleanup(void *data)
{
    wd_lc_cleanup_t *c = data;

    if (c->zone) {
        wd_lc_release(c->zone, c->key, c->len);
        c->zone = NULL;
    }
}

/* gives back the counts taken so far for this request (they are on its pool) */
static void
wd_lc_cleanup_all(wd_http_request_t *r, wd_lc_cleanup_t **taken, wd_uint_t n)
{
    for (wd_uint_t i = 0; i < n; i++) {
        if (taken[i]) {
            wd_lc_cleanup(taken[i]);
        }
    }
}

static int
wd_http_limit_conn_handler(wd_http_request_t *r)
{
    wd_lc_loc_conf_t *lc = wd_http_loc_get_module_conf(
        (wd_http_core_loc_conf_t *) r->loc_conf, wd_http_limit_conn_module);
    wd_lc_cleanup_t **taken;
    wd_pool_cleanup_t *cln;
    wd_lc_limit_t *l;
    wd_lc_node_t *node;
    wd_str_t key;
    wd_uint_t i, n;
    int rc, full;

    if (r->limit_conn_status || lc->limits == NULL) {
        return WD_DECLINED;
    }
    l = lc->limits->elts;
    n = lc->limits->nelts;
    taken = wd_pcalloc(r->pool, n * sizeof(*taken));
    if (taken == NULL) {
        return 500;
    }
    for (i = 0; i < n; i++) {
        wd_http_limit_zone_t *z = l[i].zone;

        if (wd_http_complex_value(r, &z->key, &key) != WD_OK) {
            wd_lc_cleanup_all(r, taken, i);
            return 500;
        }
        if (key.len == 0) {
            continue;
        }
        r->limit_conn_status = WD_LC_PASSED;
        cln = wd_pool_cleanup_add(r->pool, sizeof(wd_lc_cleanup_t) + key.len);
        if (cln == NULL) {
            wd_lc_cleanup_all(r, taken, i);
            return 500;
        }
        rc = wd_shm_lock(z->shm);
        if (rc == WD_ERROR) {
            wd_lc_cleanup_all(r, taken, i);
            return 500;
        }
        if (rc == WD_DECLINED) {
            wd_log_error(WD_LOG_ALERT, wd_http_log(r->hc), 0, "a worker died holding the lock "
                         "of limit_conn_zone \"%.*s\": its counts are reset",
                         wd_str_pf(&z->name));
            wd_shm_table_reset(z->table);
        }
        node = wd_shm_table_get(z->table, key.data, key.len, WD_SHM_TABLE_CREATE, NULL);
        full = node == NULL;
        if (node && node->conn >= l[i].conn) {
            node = NULL;
        }
        if (node) {
            node->conn++;
        }
        wd_shm_unlock(z->shm);
        if (node == NULL) {
            if (full) {
                wd_log_error(WD_LOG_ALERT, wd_http_log(r->hc), 0, "could not allocate node in "
                             "limit_conn_zone \"%.*s\"", wd_str_pf(&z->name));
            } else {
                wd_log_error(lc->log_level, wd_http_log(r->hc), 0, "limiting connections%s by "
                             "zone \"%.*s\"", lc->dry_run ? ", dry run," : "",
                             wd_str_pf(&z->name));
            }
            wd_lc_cleanup_all(r, taken, i);
            if (lc->dry_run) {
                r->limit_conn_status = WD_LC_REJECTED_DRY_RUN;
                return WD_DECLINED;
            }
            r->limit_conn_status = WD_LC_REJECTED;
            return (int) lc->status;
        }
        taken[i] = cln->data;
        taken[i]->zone = z;
        taken[i]->len = key.len;
        memcpy(taken[i]->key, key.data, key.len);
        cln->handler = wd_lc_cleanup;
    }
    return WD_DECLINED;
}

static int
wd_lc_var_status(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    static const char *names[] = { NULL, "PASSED", "REJECTED", "REJECTED_DRY_RUN" };

    v->len = 0;
    v->data = NULL;
    if (r->limit_conn_status) {
        v->data = (u_char *) names[r->limit_conn_status];
        v->len = strlen(names[r->limit_conn_status]);
    }
    return WD_OK;
}

static int
wd_lc_preconfiguration(wd_conf_t *cf)
{
    if (wd_http_add_variable("limit_conn_status", wd_lc_var_status, 0) != WD_OK) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "limit_conn: cannot add $limit_conn_status");
        return WD_ERROR;
    }
    return WD_OK;
}

static int
wd_lc_postconfiguration(wd_conf_t *cf)
{
    wd_lc_main_conf_t *mc = wd_http_conf_get_module_main_conf(cf, wd_http_limit_conn_module);

    if (wd_http_limit_zones_check(cf, mc->zones, "limit_conn") != WD_OK) {
        return WD_ERROR;
    }
    wd_http_preaccess_add(wd_http_limit_conn_handler, 0);
    return WD_OK;
}
