/*
 * wd_http_wasm_kv.c -- state for handlers: wasi:keyvalue stores and wasi:config values.
 *
 *   http {
 *       keyvalue_store  counters lmdb /var/lib/wasmd/counters [max_size=256m];
 *       keyvalue_store  shared   redis redis://10.0.0.5:6379/0 [pool=2] [timeout=1s];
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
 * The kinds of store are src/host/kv's backends (wd_kv_backend_t: wd_host_kv_lmdb.c,
 * wd_host_kv_redis.c); this file reads the directives and runs their life cycle: parse at
 * configuration time, create in the master (LMDB: the directory and environment, given to
 * the workers' user; a store whose location is a directory is in the workers' Landlock set),
 * open in every worker after the fork on the worker's loop, shutdown from the loop's close
 * hook, close at exit.
 */
#include "wd_sandbox.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wd_http_wasm.h"

#define WD_KV_DEFAULT_KEY_MAX   256
#define WD_KV_DEFAULT_VALUE_MAX ((size_t) 1 << 20)
#define WD_KV_LMDB_KEY_MAX      511     /* mdb_env_get_maxkeysize of the default build */

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

/* a store NAME of kind be at location with params (C strings): parsed now */
static wd_http_wasm_kvstore_t *
wd_http_wasm_kv_add(wd_conf_t *cf, wd_http_wasm_main_conf_t *mcf, const wd_str_t *name,
                    const wd_kv_backend_t *be, wd_str_t location, const char *const *params,
                    size_t nparams)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    char msg[512];
    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        if (st[i].name.len == name->len && memcmp(st[i].name.data, name->data, name->len) == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\" is already defined "
                              "in %.*s:%lu", wd_str_pf(name), wd_str_pf(&st[i].file),
                              (unsigned long) st[i].line);
            return NULL;
        }
    }
    if (location.len == 0 || memchr(location.data, '\0', location.len)) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": %s needs %s",
                          wd_str_pf(name), be->name, be->location);
        return NULL;
    }
    if (be->is_path && wd_conf_full_name(cf->cycle, &location, 0) != WD_OK) {
        return NULL;
    }
    wd_http_wasm_kvstore_t *s = wd_array_push(&mcf->kv_stores);
    if (s == NULL) {
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->name.data = (u_char *) wd_pstrdup(cf->pool, name);
    s->name.len = name->len;
    s->be = be;
    s->conf = wd_pcalloc(cf->pool, be->conf_size);
    s->file = cf->conf_file->name;
    s->line = cf->conf_file->line;
    char *loc = (char *) wd_pstrdup(cf->pool, &location);
    if (s->name.data == NULL || s->conf == NULL || loc == NULL) {
        return NULL;
    }
    if (be->parse(s->conf, loc, params, nparams, msg, sizeof(msg)) != 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": %s", wd_str_pf(name),
                          msg);
        mcf->kv_stores.nelts--;
        return NULL;
    }
    /* the workers' Landlock set: the store's directory, read-write */
    if (be->is_path && wd_sandbox_allow_path(cf->cycle, loc, WD_SANDBOX_MODIFY) != WD_OK) {
        return NULL;
    }
    return s;
}

char *
wd_http_wasm_kv_store_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_main_conf_t *mcf = conf;
    wd_str_t *args = cf->args->elts, none = wd_null_string;
    const char **params;
    size_t np = cf->args->nelts > 4 ? cf->args->nelts - 4 : 0;

    if (!wd_http_wasm_kv_name_ok(&args[1])) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store: invalid name \"%.*s\" "
                          "(1 to 64 of A-Z a-z 0-9 _ - .)", wd_str_pf(&args[1]));
        return WD_CONF_ERROR;
    }
    const wd_kv_backend_t *be = wd_kv_backend_find((const char *) args[2].data, args[2].len);
    if (be == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "keyvalue_store \"%.*s\": unknown backend "
                          "\"%.*s\" (lmdb, redis)", wd_str_pf(&args[1]), wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    if ((params = wd_pcalloc(cf->pool, (np + 1) * sizeof(char *))) == NULL) {
        return WD_CONF_ERROR;
    }
    for (size_t i = 0; i < np; i++) {
        if ((params[i] = (char *) wd_pstrdup(cf->pool, &args[4 + i])) == NULL) {
            return WD_CONF_ERROR;
        }
    }
    return wd_http_wasm_kv_add(cf, mcf, &args[1], be, cf->args->nelts > 3 ? args[3] : none,
                               params, np) ? WD_CONF_OK : WD_CONF_ERROR;
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
        if (wd_http_wasm_kv_add(cf, mcf, &name, &wd_kv_lmdb_backend, path, NULL, 0) == NULL) {
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

static void
wd_http_wasm_kv_log(void *ud, const char *msg)
{
    wd_log_error(WD_LOG_ALERT, ((wd_cycle_t *) ud)->log, 0, "%s", msg);
}

/* the worker's loop (it exists once the workers' init is over) */
static uv_loop_t *
wd_http_wasm_kv_loop(void *ud)
{
    (void) ud;
    return wd_worker ? &wd_worker->loop : NULL;
}

/* master: what every store needs before a worker opens it (LMDB: created, given to the
   workers' user) */
int
wd_http_wasm_kv_init_master(wd_cycle_t *cycle, wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    wd_sandbox_conf_t *sc = cycle->sandbox;
    wd_kv_env_t env = { NULL, wd_http_wasm_kv_log, cycle };     /* (no loop in the master) */
    char msg[512];
    long uid = -1, gid = -1;

    /* workers switch to their user; a single process (master_process off) keeps its
       identity (without the capability to ignore file modes), so keeps the files */
    if (sc && sc->change_user && geteuid() == 0 && cycle->master_process) {
        uid = (long) sc->uid;
        gid = (long) sc->gid;
    }
    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        if (st[i].be->create
            && st[i].be->create(st[i].conf, uid, gid, &env, msg, sizeof(msg)) != 0) {
            wd_log_error(WD_LOG_EMERG, cycle->log, 0, "keyvalue_store \"%s\" (%.*s:%lu): %s",
                         (const char *) st[i].name.data, wd_str_pf(&st[i].file),
                         (unsigned long) st[i].line, msg);
            return WD_ERROR;
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
            routes[r]->kv_stores[i].ops = st[i].data ? st[i].be->ops : NULL;
            routes[r]->kv_stores[i].data = st[i].data;
        }
    }
}

static wd_http_wasm_main_conf_t *wd_http_wasm_kv_open_mcf;   /* (the close hook's) */

/* the worker's loop is closing: backends close their handles, fail what is in flight */
static void
wd_http_wasm_kv_shutdown(void *data)
{
    wd_http_wasm_main_conf_t *mcf = wd_http_wasm_kv_open_mcf;
    wd_http_wasm_kvstore_t *st = mcf ? mcf->kv_stores.elts : NULL;
    (void) data;
    for (wd_uint_t i = 0; mcf && i < mcf->kv_stores.nelts; i++) {
        if (st[i].data && st[i].be->shutdown && !st[i].shut) {
            st[i].be->shutdown(st[i].data);
            st[i].shut = 1;
        }
    }
}

/* worker, after the fork: open every store on the worker's loop */
int
wd_http_wasm_kv_init_worker(wd_cycle_t *cycle, wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    wd_kv_env_t env = { wd_http_wasm_kv_loop, wd_http_wasm_kv_log, cycle };
    static int hooked;
    char msg[512];

    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        st[i].shut = 0;
        st[i].data = st[i].be->open(st[i].conf, &env, msg, sizeof(msg));
        if (st[i].data == NULL) {
            /* the routes still run: open answers other("store is not available ...") */
            wd_log_error(WD_LOG_ALERT, cycle->log, 0, "keyvalue_store \"%s\": %s",
                         (const char *) st[i].name.data, msg);
        }
    }
    wd_http_wasm_kv_open_mcf = mcf;
    if (mcf->kv_stores.nelts && !hooked) {
        if (wd_event_add_close_hook(wd_http_wasm_kv_shutdown, NULL) != WD_OK) {
            wd_log_error(WD_LOG_ALERT, cycle->log, 0, "keyvalue: no room for a close hook");
            return WD_ERROR;
        }
        hooked = 1;
    }
    wd_http_wasm_kv_patch(mcf);
    return WD_OK;
}

void
wd_http_wasm_kv_exit_worker(wd_http_wasm_main_conf_t *mcf)
{
    wd_http_wasm_kvstore_t *st = mcf->kv_stores.elts;
    for (wd_uint_t i = 0; i < mcf->kv_stores.nelts; i++) {
        if (st[i].data) {
            st[i].be->close(st[i].data);
        }
        st[i].data = NULL;
    }
    wd_http_wasm_kv_patch(mcf);
}
