/*
 * wd_http_wasm_module.c -- routes served by WebAssembly handlers.
 *
 *   location /hello {
 *       wasm_handler        handlers/hello.wasm;   # wasi:http handler, or a `_start` CGI command
 *       wasm_memory_limit   64m;        # per instance (memory.grow fails beyond it)
 *       wasm_fuel           1000000000; # per request; 0 = unlimited
 *       wasm_timeout        30s;        # wall clock per request, waits included
 *       wasm_pool           4 64;       # MIN instances per worker (at start) [MAX on demand]
 *       wasm_env            NAME VALUE; # wasi:cli/environment and preview1 environ
 *       wasm_dir            /srv/data /data [rw];   # preopened for preview1 (read-only unless rw)
 *   }
 *
 * Everything but wasm_handler is inherited by nested levels (http, server,
 * location), nginx style. The .wasm file is read, validated, translated and
 * its imports checked while the configuration is parsed (so `wasmd -t` reports
 * a bad module with file, reason and byte offset), in the master before the
 * workers fork; the merged location is then trial-instantiated with its final
 * limits. Workers pre-instantiate MIN instances per route at start.
 *
 * A request takes an instance from its route's pool (or waits briefly in the
 * pool's queue, then 503 + Retry-After), runs the handler through the wasi:http
 * host (src/host/http) with this file's backend over the streaming request
 * API, and returns WD_DONE; the instance suspends whenever it would block and
 * resumes from the request's read/write events or its timer. The outcome is
 * turned into the response (500/504 pages, or an aborted connection once the
 * head was out), logged with the route and the fuel used, and the instance is
 * restored to its snapshot for the next request.
 */
#include "wd_sandbox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "wd_http_wasm.h"
#include "component/wd_comp.h"

#define WD_HTTP_WASM_DEFAULT_MEMORY  ((size_t) 64 << 20)
#define WD_HTTP_WASM_DEFAULT_FUEL    1000000000   /* ~1 s of work at ~1e9 units/s */
#define WD_HTTP_WASM_DEFAULT_TIMEOUT 30000
#define WD_HTTP_WASM_QUEUE_MSEC      1000

static char *wd_http_wasm_handler_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_wasm_pool_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_wasm_env_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_wasm_dir_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_wasm_create_main_conf(wd_conf_t *cf);
static void *wd_http_wasm_create_loc_conf(wd_conf_t *cf);
static char *wd_http_wasm_merge_loc_conf(wd_conf_t *cf, void *prev, void *conf);
static int wd_http_wasm_init_master(wd_cycle_t *cycle);
static int wd_http_wasm_init_worker(wd_cycle_t *cycle);
static void wd_http_wasm_exit_worker(wd_cycle_t *cycle);
static void wd_http_wasm_exit_cycle(wd_cycle_t *cycle);
static int wd_http_wasm_content_handler(wd_http_request_t *r);

static const wd_conf_num_bounds_t wd_http_wasm_fuel_bounds = {
    wd_conf_check_num_bounds, 0, -1
};

#define WD_HTTP_WASM_LEVELS (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)

static const wd_command_t wd_http_wasm_commands[] = {
    { "wasm_handler", WD_HTTP_LOC_CONF | WD_CONF_TAKE1, wd_http_wasm_handler_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_memory_limit", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE1, wd_conf_set_size_slot,
      WD_HTTP_LOC_CONF_OFFSET, offsetof(wd_http_wasm_loc_conf_t, memory_limit), NULL },
    { "wasm_fuel", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE1, wd_conf_set_num_slot,
      WD_HTTP_LOC_CONF_OFFSET, offsetof(wd_http_wasm_loc_conf_t, fuel),
      &wd_http_wasm_fuel_bounds },
    { "wasm_timeout", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE1, wd_conf_set_msec_slot,
      WD_HTTP_LOC_CONF_OFFSET, offsetof(wd_http_wasm_loc_conf_t, timeout), NULL },
    { "wasm_pool", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE12, wd_http_wasm_pool_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_env", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE2, wd_http_wasm_env_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_dir", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE23, wd_http_wasm_dir_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_status", WD_HTTP_LOC_CONF | WD_CONF_NOARGS, wd_http_wasm_status_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "keyvalue_store", WD_HTTP_MAIN_CONF | WD_CONF_2MORE, wd_http_wasm_kv_store_cmd,
      WD_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { "wasm_keyvalue", WD_HTTP_WASM_LEVELS | WD_CONF_1MORE, wd_http_wasm_kv_grant_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_keyvalue_limits", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE2, wd_http_wasm_kv_limits_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { "wasm_config", WD_HTTP_WASM_LEVELS | WD_CONF_TAKE2, wd_http_wasm_config_cmd,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_wasm_module_ctx = {
    .preconfiguration = wd_http_wasm_status_preconfiguration,
    .create_main_conf = wd_http_wasm_create_main_conf,
    .create_loc_conf = wd_http_wasm_create_loc_conf,
    .merge_loc_conf = wd_http_wasm_merge_loc_conf,
};

wd_module_t wd_wasm_module = {
    .name = "wd_wasm_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_wasm_commands,
    .ctx = &wd_http_wasm_module_ctx,
    .init_master = wd_http_wasm_init_master,
    .init_worker = wd_http_wasm_init_worker,
    .exit_worker = wd_http_wasm_exit_worker,
    .exit_cycle = wd_http_wasm_exit_cycle,
};

/* ---------------------------------------------------------------- configuration */

static void *
wd_http_wasm_create_main_conf(wd_conf_t *cf)
{
    wd_http_wasm_main_conf_t *mcf = wd_pcalloc(cf->pool, sizeof(*mcf));

    if (mcf == NULL
        || wd_array_init(&mcf->mods, cf->pool, 4, sizeof(wd_http_wasm_mod_t *)) != WD_OK
        || wd_array_init(&mcf->routes, cf->pool, 4, sizeof(wd_http_wasm_loc_conf_t *)) != WD_OK
        || wd_array_init(&mcf->kv_stores, cf->pool, 2, sizeof(wd_http_wasm_kvstore_t)) != WD_OK)
    {
        return NULL;
    }
    return mcf;
}

static void *
wd_http_wasm_create_loc_conf(wd_conf_t *cf)
{
    wd_http_wasm_loc_conf_t *lc = wd_pcalloc(cf->pool, sizeof(*lc));

    if (lc == NULL) {
        return NULL;
    }
    lc->memory_limit = WD_CONF_UNSET_SIZE;
    lc->fuel = WD_CONF_UNSET;
    lc->timeout = WD_CONF_UNSET_MSEC;
    lc->pool_min = WD_CONF_UNSET;
    lc->pool_max = WD_CONF_UNSET;
    lc->kv_key_max = WD_CONF_UNSET_SIZE;
    lc->kv_value_max = WD_CONF_UNSET_SIZE;
    return lc;
}

static int
wd_http_wasm_leb(const uint8_t *b, size_t len, size_t *p, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < len && shift < 64; shift += 7) {
        uint8_t c = b[(*p)++];
        *v |= (uint64_t) (c & 0x7f) << shift;
        if (!(c & 0x80)) {
            return 0;
        }
    }
    return -1;
}

/* Byte offset of entry idx of the import section (for error messages), or -1. */
static int64_t
wd_http_wasm_import_offset(const uint8_t *b, size_t len, uint32_t idx)
{
    size_t p = 8, end;
    uint64_t size, count, v;

    while (p < len) {
        uint8_t id = b[p++];
        if (wd_http_wasm_leb(b, len, &p, &size) < 0 || size > len - p) {
            return -1;
        }
        end = p + size;
        if (id != 2) {
            p = end;
            continue;
        }
        if (wd_http_wasm_leb(b, end, &p, &count) < 0) {
            return -1;
        }
        for (uint64_t i = 0; i < count && p < end; i++) {
            size_t start = p;
            for (int k = 0; k < 2; k++) {           /* module and field names */
                if (wd_http_wasm_leb(b, end, &p, &v) < 0 || v > end - p) {
                    return -1;
                }
                p += v;
            }
            if (i == idx) {
                return (int64_t) start;
            }
            if (p >= end) {
                return -1;
            }
            switch (b[p++]) {
            case 0:                                  /* func: type index */
                if (wd_http_wasm_leb(b, end, &p, &v) < 0) return -1;
                break;
            case 1:                                  /* table: reftype, limits */
                p++;
                /* fall through */
            case 2: {                                /* memory: limits */
                uint8_t fl = p < end ? b[p++] : 0;
                if (wd_http_wasm_leb(b, end, &p, &v) < 0) return -1;
                if ((fl & 1) && wd_http_wasm_leb(b, end, &p, &v) < 0) return -1;
                break;
            }
            case 3:                                  /* global: valtype, mut */
                p += 2;
                break;
            default:
                return -1;
            }
        }
        return -1;
    }
    return -1;
}

static void
wd_http_wasm_mod_cleanup(void *data)
{
    wd_http_wasm_mod_t *mod = data;

    if (mod->module) {
        wd_wasm_module_free(mod->module);
        mod->module = NULL;
    }
    if (mod->comp) {
        wd_comp_free(mod->comp);
        mod->comp = NULL;
    }
}

static wd_http_wasm_mod_t *
wd_http_wasm_load(wd_conf_t *cf, wd_str_t *path)
{
    wd_pool_cleanup_t *cln;
    wd_http_wasm_main_conf_t *mcf = wd_http_conf_get_module_main_conf(cf, wd_wasm_module);
    wd_http_wasm_mod_t **mods = mcf->mods.elts, *mod;
    wd_wasm_error_t err;
    struct stat st;
    FILE *fp;
    uint8_t *bytes;
    char *cpath;

    for (wd_uint_t i = 0; i < mcf->mods.nelts; i++) {
        if (mods[i]->path.len == path->len
            && memcmp(mods[i]->path.data, path->data, path->len) == 0) {
            return mods[i];
        }
    }
    cpath = (char *) wd_pstrdup(cf->pool, path);
    if (cpath == NULL) {
        return NULL;
    }
    fp = fopen(cpath, "rb");
    if (fp == NULL || fstat(fileno(fp), &st) != 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, errno, "wasm_handler: cannot open \"%s\"", cpath);
        if (fp) {
            fclose(fp);
        }
        return NULL;
    }
    bytes = malloc(st.st_size ? st.st_size : 1);
    if (bytes == NULL || fread(bytes, 1, st.st_size, fp) != (size_t) st.st_size) {
        wd_conf_log_error(WD_LOG_EMERG, cf, errno, "wasm_handler: cannot read \"%s\"", cpath);
        free(bytes);
        fclose(fp);
        return NULL;
    }
    fclose(fp);
    mod = wd_pcalloc(cf->pool, sizeof(*mod));
    if (mod == NULL) {
        free(bytes);
        return NULL;
    }
    mod->path.data = (u_char *) cpath;
    mod->path.len = path->len;
    if (wd_comp_is_component(bytes, st.st_size)) {
        /* parsed, validated, every core module compiled and the instantiation planned here
         * in the master; the workers instantiate the plan into their pools */
        wd_comp_error_t cerr;
        memset(&cerr, 0, sizeof(cerr));
        mod->comp = wd_comp_load(bytes, st.st_size, NULL, &cerr);
        free(bytes);
        if (mod->comp != NULL && (cerr.offset = -1, wd_host_comp_check(mod->comp, &cerr)) == 0) {
            if (wd_host_comp_is_handler(mod->comp)) {
                goto comp_ok;
            }
            snprintf(cerr.msg, sizeof(cerr.msg), "the component does not export "
                     "wasi:http/incoming-handler@0.2.x#handle (a wasi:cli command runs with "
                     "`wasmd run`)");
            cerr.offset = -1;
        }
        if (cerr.offset >= 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_handler: \"%s\": component: %s at byte "
                              "offset %lld", cpath, cerr.msg, (long long) cerr.offset);
        } else {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_handler: \"%s\": component: %s",
                              cpath, cerr.msg);
        }
        if (mod->comp) {
            wd_comp_free(mod->comp);
        }
        return NULL;
    comp_ok:
        mods = wd_array_push(&mcf->mods);
        cln = wd_pool_cleanup_add(cf->pool, 0);
        if (mods == NULL || cln == NULL) {
            wd_comp_free(mod->comp);
            return NULL;
        }
        *mods = mod;
        cln->handler = wd_http_wasm_mod_cleanup;
        cln->data = mod;
        return mod;
    }
    memset(&err, 0, sizeof(err));
    mod->module = wd_wasm_module_load(bytes, st.st_size, NULL, &err);
    if (mod->module == NULL) {
        free(bytes);
        if (err.offset >= 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_handler: \"%s\": %s at byte offset %lld%s",
                              cpath, err.msg, (long long) err.offset,
                              err.func_index >= 0 ? " (in a function body)" : "");
        } else {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_handler: \"%s\": %s", cpath, err.msg);
        }
        return NULL;
    }
    /* every import must be one we provide, with the Canonical ABI lowering's type */
    for (uint32_t i = 0; i < wd_wasm_module_import_count(mod->module); i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(mod->module, i);
        int rc = wd_host_kv_check_import(d, err.msg, sizeof(err.msg));
        if (rc == 0) {
            rc = wd_host_http_check_import(d, &err);
        }
        if (rc == 0 && !wd_host_kv_owns(d->module, d->module_len)
            && !wd_host_wasi_has_func(d->name, d->name_len)) {
            snprintf(err.msg, sizeof(err.msg), "unknown import: wasi_snapshot_preview1::%.*s",
                     (int) d->name_len, d->name);
            rc = -1;
        }
        if (rc < 0) {
            int64_t off = wd_http_wasm_import_offset(bytes, st.st_size, i);
            size_t l = strlen(err.msg);
            if (off >= 0) {
                snprintf(err.msg + l, sizeof(err.msg) - l, " (import %u at byte offset %lld)",
                         i, (long long) off);
            }
            goto bad;
        }
    }
    if (wd_host_http_is_handler(mod->module)) {
        if (wd_host_http_check_module(mod->module, &err) != 0) {
            goto bad;
        }
    } else {
        if (wd_http_wasm_cgi_check(mod->module, &err) != 0) {
            goto bad;
        }
        mod->cgi = 1;
    }
    free(bytes);
    bytes = NULL;
    mods = wd_array_push(&mcf->mods);
    cln = wd_pool_cleanup_add(cf->pool, 0);
    if (mods == NULL || cln == NULL) {
        wd_wasm_module_free(mod->module);
        return NULL;
    }
    *mods = mod;
    /* freed with the cycle's pool too: a configuration that fails after this point (a
     * reload with an error further down) never reaches exit_cycle */
    cln->handler = wd_http_wasm_mod_cleanup;
    cln->data = mod;
    return mod;

bad:
    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "wasm_handler: \"%s\": %s", cpath, err.msg);
    wd_wasm_module_free(mod->module);
    free(bytes);
    return NULL;
}

static char *
wd_http_wasm_handler_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf, wd_http_core_module);
    wd_http_wasm_main_conf_t *mcf = wd_http_conf_get_module_main_conf(cf, wd_wasm_module);
    wd_str_t *args = cf->args->elts, path = args[1];
    wd_http_wasm_loc_conf_t **route;

    if (lc->mod || clcf->handler) {
        return "is duplicate";
    }
    if (wd_conf_full_name(cf->cycle, &path, 0) != WD_OK) {
        return WD_CONF_ERROR;
    }
    lc->mod = wd_http_wasm_load(cf, &path);
    if (lc->mod == NULL) {
        return WD_CONF_ERROR;
    }
    lc->route = clcf->name;
    lc->file = cf->conf_file->name;
    lc->line = cf->conf_file->line;
    clcf->handler = wd_http_wasm_content_handler;
    route = wd_array_push(&mcf->routes);
    if (route == NULL) {
        return WD_CONF_ERROR;
    }
    *route = lc;
    return WD_CONF_OK;
}

static char *
wd_http_wasm_pool_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts;
    wd_int_t min, max;

    if (lc->pool_min != WD_CONF_UNSET) {
        return "is duplicate";
    }
    min = wd_atoi(args[1].data, args[1].len);
    max = cf->args->nelts == 3 ? wd_atoi(args[2].data, args[2].len) : min;
    if (min == WD_ERROR || min > 10000) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (max == WD_ERROR || max < 1 || max < min || max > 10000) {
        return wd_conf_invalid_value(cf, &args[cf->args->nelts - 1]);
    }
    lc->pool_min = min;
    lc->pool_max = max;
    return WD_CONF_OK;
}

static char *
wd_http_wasm_env_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts;
    char **e;

    if (args[1].len == 0 || memchr(args[1].data, '=', args[1].len)
        || memchr(args[1].data, '\0', args[1].len)) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (lc->env == NULL && (lc->env = wd_array_create(cf->pool, 4, sizeof(char *))) == NULL) {
        return WD_CONF_ERROR;
    }
    e = wd_array_push(lc->env);
    if (e == NULL || (*e = wd_pnalloc(cf->pool, args[1].len + args[2].len + 2)) == NULL) {
        return WD_CONF_ERROR;
    }
    snprintf(*e, args[1].len + args[2].len + 2, "%.*s=%.*s", wd_str_pf(&args[1]),
             wd_str_pf(&args[2]));
    return WD_CONF_OK;
}

static char *
wd_http_wasm_dir_cmd(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_wasm_loc_conf_t *lc = conf;
    wd_str_t *args = cf->args->elts, host = args[1];
    wd_http_wasm_dir_t *d;
    struct stat st;
    char *hp;

    if (cf->args->nelts == 4 && !wd_str_eq(&args[3], "rw")) {
        return wd_conf_invalid_value(cf, &args[3]);
    }
    if (args[2].len == 0) {
        return wd_conf_invalid_value(cf, &args[2]);
    }
    if (wd_conf_full_name(cf->cycle, &host, 0) != WD_OK
        || (hp = (char *) wd_pstrdup(cf->pool, &host)) == NULL) {
        return WD_CONF_ERROR;
    }
    if (stat(hp, &st) != 0 || !S_ISDIR(st.st_mode)) {
        wd_conf_log_error(WD_LOG_EMERG, cf, errno, "wasm_dir: \"%s\" is not a directory", hp);
        return WD_CONF_ERROR;
    }
    if (lc->dirs == NULL
        && (lc->dirs = wd_array_create(cf->pool, 2, sizeof(wd_http_wasm_dir_t))) == NULL) {
        return WD_CONF_ERROR;
    }
    d = wd_array_push(lc->dirs);
    if (d == NULL) {
        return WD_CONF_ERROR;
    }
    d->host.data = (u_char *) hp;
    d->host.len = host.len;
    d->guest.data = (u_char *) wd_pstrdup(cf->pool, &args[2]);
    d->guest.len = args[2].len;
    d->rw = cf->args->nelts == 4;
    /* the workers' Landlock ruleset (wd_sandbox.h): this tree, read-only unless rw */
    if (wd_sandbox_allow_path(cf->cycle, hp, d->rw ? WD_SANDBOX_MODIFY : WD_SANDBOX_READ)
        != WD_OK) {
        return WD_CONF_ERROR;
    }
    return d->guest.data ? WD_CONF_OK : WD_CONF_ERROR;
}

static char *
wd_http_wasm_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_wasm_loc_conf_t *prev = parent, *conf = child;
    wd_wasm_error_t err;

    wd_conf_merge_size_value(conf->memory_limit, prev->memory_limit,
                             WD_HTTP_WASM_DEFAULT_MEMORY);
    wd_conf_merge_value(conf->fuel, prev->fuel, WD_HTTP_WASM_DEFAULT_FUEL);
    wd_conf_merge_msec_value(conf->timeout, prev->timeout, WD_HTTP_WASM_DEFAULT_TIMEOUT);
    if (conf->pool_min == WD_CONF_UNSET) {
        conf->pool_min = prev->pool_min == WD_CONF_UNSET ? 1 : prev->pool_min;
        conf->pool_max = prev->pool_max == WD_CONF_UNSET ? 64 : prev->pool_max;
    }
    if (conf->env == NULL) {
        conf->env = prev->env;
    }
    if (conf->dirs == NULL) {
        conf->dirs = prev->dirs;
    }
    if (conf->env && conf->env_v == NULL) {
        conf->env_v = conf->env->elts;
        conf->env_n = conf->env->nelts;
    }
    if (wd_http_wasm_kv_merge(cf, prev, conf) != WD_CONF_OK) {
        return WD_CONF_ERROR;
    }
    if (conf->memory_limit < 65536) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"wasm_memory_limit\" must be at least 64k");
        return WD_CONF_ERROR;
    }
    if (conf->mod == NULL) {
        return WD_CONF_OK;
    }
    /* Trial instantiation with the final limits: start function, _initialize, exports. */
    wd_http_wasm_inst_t *it = wd_http_wasm_inst_new(conf, &err);
    if (it == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                          "wasm_handler \"%.*s\" (%.*s:%lu): cannot instantiate: %s",
                          wd_str_pf(&conf->mod->path), wd_str_pf(&conf->file),
                          (unsigned long) conf->line, err.msg);
        return WD_CONF_ERROR;
    }
    wd_http_wasm_inst_free(it);
    return WD_CONF_OK;
}

static wd_http_wasm_main_conf_t *
wd_http_wasm_main(wd_cycle_t *cycle)
{
    return cycle->http_ctx ? wd_http_cycle_get_module_main_conf(cycle, wd_wasm_module) : NULL;
}

static int
wd_http_wasm_init_master(wd_cycle_t *cycle)
{
    wd_http_wasm_main_conf_t *mcf = wd_http_wasm_main(cycle);

    if (wd_http_wasm_status_init_master(cycle) != WD_OK) {
        return WD_ERROR;
    }
    if (mcf) {
        wd_http_wasm_status_routes(mcf->routes.elts, mcf->routes.nelts);
        if (wd_http_wasm_kv_init_master(cycle, mcf) != WD_OK) {
            return WD_ERROR;
        }
    }
    return WD_OK;
}

static int
wd_http_wasm_init_worker(wd_cycle_t *cycle)
{
    wd_http_wasm_main_conf_t *mcf = wd_http_wasm_main(cycle);
    wd_http_wasm_loc_conf_t **routes;

    if (mcf == NULL) {
        return WD_OK;
    }
    if (wd_http_wasm_status_init_worker(cycle, mcf->routes.elts, mcf->routes.nelts) != WD_OK) {
        return WD_ERROR;
    }
    if (mcf->routes.nelts == 0) {
        return WD_OK;
    }
    if (wd_http_wasm_kv_init_worker(cycle, mcf) != WD_OK) {
        return WD_ERROR;
    }
    routes = mcf->routes.elts;
    for (wd_uint_t i = 0; i < mcf->routes.nelts; i++) {
        if (wd_http_wasm_pool_init(cycle, routes[i]) != WD_OK) {
            return WD_ERROR;
        }
    }
    if (wd_http_wasm_pool_trim_init(routes, mcf->routes.nelts) != WD_OK) {
        return WD_ERROR;
    }
    return wd_http_wasm_watchdog_start();
}

static void
wd_http_wasm_exit_worker(wd_cycle_t *cycle)
{
    wd_http_wasm_main_conf_t *mcf = wd_http_wasm_main(cycle);
    wd_http_wasm_loc_conf_t **routes;

    if (mcf == NULL) {
        return;
    }
    wd_http_wasm_status_exit_worker();
    wd_http_wasm_watchdog_stop();
    wd_http_wasm_ctx_cache_free();
    routes = mcf->routes.elts;
    for (wd_uint_t i = 0; i < mcf->routes.nelts; i++) {
        wd_http_wasm_pool_exit(routes[i]);
    }
    wd_http_wasm_kv_exit_worker(mcf);
}

static void
wd_http_wasm_exit_cycle(wd_cycle_t *cycle)
{
    wd_http_wasm_main_conf_t *mcf = wd_http_wasm_main(cycle);
    wd_http_wasm_mod_t **mods;

    if (mcf == NULL) {
        return;
    }
    mods = mcf->mods.elts;
    for (wd_uint_t i = 0; i < mcf->mods.nelts; i++) {
        wd_wasm_module_free(mods[i]->module);
        mods[i]->module = NULL;
        if (mods[i]->comp) {
            wd_comp_free(mods[i]->comp);
            mods[i]->comp = NULL;
        }
    }
    mcf->mods.nelts = 0;
}

/* ---------------------------------------------------------------- backend */

static int
wd_http_wasm_read_body(void *be, uint8_t *buf, size_t len, size_t *n)
{
    wd_http_wasm_ctx_t *ctx = be;
    ssize_t k;

    if (ctx->r == NULL) {
        return WD_HOST_HTTP_ERROR;
    }
    if (ctx->look_len > ctx->look_off) {
        size_t m = wd_min(len, ctx->look_len - ctx->look_off);
        memcpy(buf, ctx->look + ctx->look_off, m);
        ctx->look_off += m;
        *n = m;
        return WD_HOST_HTTP_OK;
    }
    if (ctx->body_eof) {
        return WD_HOST_HTTP_DONE;
    }
    if (ctx->body_err) {
        return WD_HOST_HTTP_ERROR;
    }
    k = wd_http_body_read(ctx->r, buf, len);
    if (k > 0) {
        *n = k;
        return WD_HOST_HTTP_OK;
    }
    if (k == 0) {
        ctx->body_eof = 1;
        return WD_HOST_HTTP_DONE;
    }
    if (k == WD_AGAIN) {
        return WD_HOST_HTTP_AGAIN;
    }
    ctx->body_err = 1;
    return WD_HOST_HTTP_ERROR;
}

static int
wd_http_wasm_body_ready(void *be)
{
    wd_http_wasm_ctx_t *ctx = be;
    ssize_t k;

    if (ctx->r == NULL || ctx->body_eof || ctx->body_err || ctx->look_len > ctx->look_off) {
        return 1;
    }
    if (ctx->look == NULL && (ctx->look = malloc(16384)) == NULL) {
        return 1;
    }
    k = wd_http_body_read(ctx->r, ctx->look, 16384);
    if (k == WD_AGAIN) {
        return 0;
    }
    ctx->look_off = 0;
    ctx->look_len = 0;
    if (k > 0) {
        ctx->look_len = k;
    } else if (k == 0) {
        ctx->body_eof = 1;
    } else {
        ctx->body_err = 1;
    }
    return 1;
}

static int
wd_http_wasm_send_head(void *be, int status, const wd_host_http_header_t *h, size_t nh,
                       int64_t cl)
{
    wd_http_wasm_ctx_t *ctx = be;
    wd_http_request_t *r = ctx->r;

    if (r == NULL) {
        return WD_HOST_HTTP_ERROR;
    }
    wd_http_set_status(r, status);
    for (size_t i = 0; i < nh; i++) {
        if (wd_http_add_header(r, h[i].name, h[i].name_len, h[i].value, h[i].value_len)
            != WD_OK) {
            /* Date/Server are the server's; anything else was validated by the host */
            wd_log_error(WD_LOG_INFO, wd_cycle->log, 0,
                         "wasm %.*s: response header \"%.*s\" dropped",
                         wd_str_pf(&ctx->conf->route), (int) h[i].name_len, h[i].name);
        }
    }
    if (cl >= 0 && cl <= 999999999999999999LL) {
        r->content_length_out = cl;   /* what wd_http_add_header("Content-Length") would set */
    }
    return wd_http_send_header(r) == WD_OK && ctx->r ? WD_HOST_HTTP_OK : WD_HOST_HTTP_ERROR;
}

static int
wd_http_wasm_write(void *be, const uint8_t *p, size_t n)
{
    wd_http_wasm_ctx_t *ctx = be;
    int rc;

    if (ctx->r == NULL) {
        return WD_HOST_HTTP_ERROR;
    }
    rc = wd_http_write(ctx->r, p, n);
    if (rc == WD_AGAIN) {
        ctx->behind = 1;
        return WD_HOST_HTTP_OK;
    }
    return rc == WD_OK && ctx->r ? WD_HOST_HTTP_OK : WD_HOST_HTTP_ERROR;
}

static size_t
wd_http_wasm_pending(void *be)
{
    return ((wd_http_wasm_ctx_t *) be)->behind ? WD_HOST_HTTP_HIGH_WATER : 0;
}

static int
wd_http_wasm_finish(void *be)
{
    wd_http_wasm_ctx_t *ctx = be;

    if (ctx->r == NULL) {
        return WD_HOST_HTTP_ERROR;
    }
    return wd_http_finish(ctx->r) == WD_OK && ctx->r ? WD_HOST_HTTP_OK : WD_HOST_HTTP_ERROR;
}

static void
wd_http_wasm_abort(void *be)
{
    ((wd_http_wasm_ctx_t *) be)->abort = 1;
}

static void
wd_http_wasm_error(void *be, int status)
{
    ((wd_http_wasm_ctx_t *) be)->final_status = status;
}

void
wd_http_wasm_guest_log(wd_http_wasm_ctx_t *ctx, int is_err, const char *line, size_t len)
{
    wd_http_wasm_pool_t *pool = ctx->conf->pool;
    uint64_t sec = wd_http_wasm_now_ns() / 1000000000u;

    if (pool->log_window != sec) {
        pool->log_window = sec;
        pool->log_lines = 0;
    }
    if (pool->log_lines++ >= 100) {       /* per route and worker: 100 lines a second */
        return;
    }
    wd_log_error(WD_LOG_ERR, wd_cycle->log, 0, "wasm %.*s: %s: %.*s", wd_str_pf(&ctx->conf->route),
                 is_err ? "stderr" : "stdout", (int) wd_min(len, 1024), line);
}

static void
wd_http_wasm_log(void *be, int is_err, const char *line, size_t len)
{
    wd_http_wasm_guest_log(be, is_err, line, len);
}

static const wd_host_http_backend_t wd_http_wasm_backend = {
    wd_http_wasm_read_body, wd_http_wasm_body_ready, wd_http_wasm_send_head, wd_http_wasm_write,
    wd_http_wasm_pending, wd_http_wasm_finish, wd_http_wasm_abort, wd_http_wasm_error,
    wd_http_wasm_log, &wd_http_wasm_outbound
};

/* ---------------------------------------------------------------- request flow */

static void wd_http_wasm_timer_cb(uv_timer_t *t);
static void wd_http_wasm_after(wd_http_wasm_ctx_t *ctx, wd_host_http_run_t st);

#define WD_HTTP_WASM_CTX_CACHE 64
static wd_http_wasm_ctx_t *wd_http_wasm_ctx_cache[WD_HTTP_WASM_CTX_CACHE];
static unsigned wd_http_wasm_nctx_cache;

static void
wd_http_wasm_ctx_release(wd_http_wasm_ctx_t *ctx)
{
    free(ctx->look);
    if (ctx->hdrs != ctx->hdrs_inline) {
        free(ctx->hdrs);
    }
    free(ctx->cgi_out);
    if (wd_http_wasm_nctx_cache < WD_HTTP_WASM_CTX_CACHE) {
        wd_http_wasm_ctx_cache[wd_http_wasm_nctx_cache++] = ctx;
        return;
    }
    free(ctx);
}

void
wd_http_wasm_ctx_cache_free(void)
{
    while (wd_http_wasm_nctx_cache) {
        free(wd_http_wasm_ctx_cache[--wd_http_wasm_nctx_cache]);
    }
}

static void
wd_http_wasm_ctx_free_cb(uv_handle_t *h)
{
    wd_http_wasm_ctx_release(h->data);
}

static void
wd_http_wasm_ctx_free(wd_http_wasm_ctx_t *ctx)
{
    ctx->state = WD_HTTP_WASM_DONE;
    wd_http_wasm_sched_remove(ctx);
    if (ctx->r) {
        ctx->r->ctx = NULL;
        ctx->r->cleanup = NULL;
        ctx->r->read_event_handler = NULL;
        ctx->r->write_event_handler = NULL;
        ctx->r = NULL;
    }
    if (!ctx->timer_on) {
        wd_http_wasm_ctx_release(ctx);     /* no uv handle: nothing outlives the request */
        return;
    }
    uv_timer_stop(&ctx->timer);
    uv_close((uv_handle_t *) &ctx->timer, wd_http_wasm_ctx_free_cb);
}

/* Starts (or restarts) the request's timer, initialising it the first time. */
void
wd_http_wasm_timer_start(wd_http_wasm_ctx_t *ctx, uv_timer_cb cb, uint64_t ms)
{
    if (!ctx->timer_on) {
        uv_timer_init(&wd_worker->loop, &ctx->timer);
        ctx->timer.data = ctx;
        ctx->timer_on = 1;
    }
    uv_timer_start(&ctx->timer, cb, ms, 0);
}

void
wd_http_wasm_arm_timer(wd_http_wasm_ctx_t *ctx, uint64_t when_ns)
{
    uint64_t now = wd_http_wasm_now_ns();
    uint64_t ms = when_ns > now ? (when_ns - now + 999999) / 1000000 : 1;
    wd_http_wasm_timer_start(ctx, wd_http_wasm_timer_cb, ms);
}

/* The request is over for the handler: release the instance, then answer. */
void
wd_http_wasm_finalize(wd_http_wasm_ctx_t *ctx)
{
    wd_http_request_t *r = ctx->r;
    int rc = WD_OK;

    wd_http_wasm_status_finalize(ctx);
    if (ctx->it) {
        wd_http_wasm_inst_t *it = ctx->it;
        ctx->it = NULL;
        it->ctx = NULL;
        wd_http_wasm_pool_put(it);
    }
    if (r != NULL && ctx->abort) {
        ctx->r = NULL;
        r->ctx = NULL;
        r->cleanup = NULL;
        r->read_event_handler = NULL;
        r->write_event_handler = NULL;
        if (!r->aborted) {
            wd_http_abort(r);
        }
        r = NULL;
        rc = WD_ERROR;
    } else if (r != NULL && ctx->final_status) {
        if (ctx->final_status == 503 && !r->header_sent) {
            wd_http_add_header(r, "Retry-After", 11, "1", 1);
            wd_http_special_response(r, 503);
            rc = WD_OK;
        } else {
            rc = ctx->final_status;
        }
    }
    ctx->handler_rc = rc;
    if (ctx->in_handler) {
        ctx->state = WD_HTTP_WASM_DONE;   /* the handler returns rc and frees ctx */
        return;
    }
    wd_http_wasm_ctx_free(ctx);
    if (r != NULL) {
        wd_http_finalize_request(r, rc);
    }
}

static void
wd_http_wasm_log_outcome(wd_http_wasm_ctx_t *ctx)
{
    const wd_host_http_outcome_t *o = wd_host_http_outcome(ctx->it->hh);

    if (o->kind == WD_HOST_HTTP_OUT_OK && o->reason[0] == '\0') {
        return;
    }
    uint64_t fuel = wd_wasm_fuel_used(ctx->it->inst);
    unsigned long long conn = ctx->r ? (unsigned long long) ctx->r->connection->number : 0;
    /* a bad request body is the client's error: info, as nginx logs client errors */
    wd_log_error(ctx->r && ctx->r->body_state == WD_HTTP_BODY_ERROR ? WD_LOG_INFO : WD_LOG_ERR,
                 wd_cycle->log, 0, "*%llu wasm %.*s (%.*s): %s%s: %s, fuel used %llu",
                 conn, wd_str_pf(&ctx->conf->route), wd_str_pf(&ctx->conf->mod->path),
                 o->kind == WD_HOST_HTTP_OUT_ABORTED ? "response aborted"
                 : o->kind == WD_HOST_HTTP_OUT_ERROR ? "error response" : "handler failed",
                 o->kind == WD_HOST_HTTP_OUT_ERROR && o->status == 504 ? " (504)" : "",
                 o->reason, (unsigned long long) fuel);
}

static void
wd_http_wasm_run(wd_http_wasm_ctx_t *ctx, int first)
{
    wd_host_http_run_t st;

    for (;;) {
        ctx->state = WD_HTTP_WASM_RUNNING;
        ctx->wake = 0;
        uint64_t fuel0 = wd_wasm_fuel_used(ctx->it->inst);
        wd_http_wasm_watchdog_arm(ctx->it->inst, ctx->deadline_ns);
        if (first) {
            st = wd_host_http_start(ctx->it->hh, &ctx->head, &wd_http_wasm_backend, ctx);
            first = 0;
        } else {
            st = wd_host_http_resume(ctx->it->hh);
        }
        wd_http_wasm_watchdog_disarm();
        wd_http_wasm_pass_charge(wd_wasm_fuel_used(ctx->it->inst) - fuel0);
        if (st == WD_HOST_HTTP_WAIT && ctx->wake) {
            continue;                 /* an event arrived while it ran: re-check at once */
        }
        break;
    }
    wd_http_wasm_after(ctx, st);
}

static void
wd_http_wasm_after(wd_http_wasm_ctx_t *ctx, wd_host_http_run_t st)
{
    int paused_new = ctx->paused_new;

    ctx->paused_new = 0;
    if (st == WD_HOST_HTTP_FINISHED) {
        wd_http_wasm_log_outcome(ctx);
        wd_http_wasm_finalize(ctx);
        return;
    }
    if (ctx->r == NULL) {             /* the client left while it ran */
        wd_host_http_cancel(ctx->it->hh, WD_HOST_HTTP_CANCEL_CLIENT);
        wd_http_wasm_finalize(ctx);
        return;
    }
    if (st == WD_HOST_HTTP_YIELD && ctx->it->sleep_until) {
        /* a preview1 sleep (poll_oneoff on clocks): wait on our timer */
        uint64_t until = ctx->it->sleep_until;
        ctx->it->sleep_until = 0;
        ctx->state = WD_HTTP_WASM_WAITING;
        wd_http_wasm_arm_timer(ctx, wd_min(until, ctx->deadline_ns));
        return;
    }
    if (st == WD_HOST_HTTP_YIELD
        && wd_host_kv_waiting(ctx->it->hc ? wd_host_comp_kv(ctx->it->hc) : ctx->it->kv)) {
        /* a keyvalue operation in progress (Redis, an LMDB write): its completion wakes it;
           the timer keeps its deadline */
        ctx->state = WD_HTTP_WASM_WAITING;
        wd_http_wasm_arm_timer(ctx, ctx->deadline_ns);
        return;
    }
    if (st == WD_HOST_HTTP_YIELD) {
        /* paused at a check point (a 5 ms slice ran, or it was started paused): the run
         * queue resumes it after pending events; the timer keeps its deadline */
        wd_http_wasm_sched_add(ctx, paused_new ? WD_HTTP_WASM_FRESH : WD_HTTP_WASM_YIELDED);
        wd_http_wasm_arm_timer(ctx, ctx->deadline_ns);
        return;
    }
    ctx->state = WD_HTTP_WASM_WAITING;
    uint64_t dl;
    unsigned w = wd_host_http_waiting(ctx->it->hh, &dl);
    wd_http_wasm_arm_timer(ctx, (w & WD_HOST_HTTP_WAIT_TIMER) && dl < ctx->deadline_ns
                                ? dl : ctx->deadline_ns);
}

static void
wd_http_wasm_wake(wd_http_request_t *r)
{
    if (r->ctx) {
        wd_http_wasm_ctx_wake(r->ctx);
    }
}

void
wd_http_wasm_ctx_wake(wd_http_wasm_ctx_t *ctx)
{
    if (ctx->state == WD_HTTP_WASM_RUNNING) {
        ctx->wake = 1;
        return;
    }
    if (ctx->state == WD_HTTP_WASM_WAITING) {
        if (ctx->it->hh) {
            wd_http_wasm_run(ctx, 0);
        }
    }
}

static void
wd_http_wasm_write_ready(wd_http_request_t *r)
{
    wd_http_wasm_ctx_t *ctx = r->ctx;

    if (ctx) {
        ctx->behind = 0;
        wd_http_wasm_wake(r);
    }
}

/* A waiting or paused handler's (or CGI command's) turn: past its deadline it is cancelled
 * (504, or the response aborted), else it runs on. */
static void
wd_http_wasm_continue(wd_http_wasm_ctx_t *ctx, uint64_t now)
{
    if (now >= ctx->deadline_ns) {
        wd_http_wasm_sched_remove(ctx);
        if (ctx->conf->mod->cgi) {
            wd_http_wasm_cgi_cancel(ctx, 1);
            return;
        }
        wd_host_http_cancel(ctx->it->hh, WD_HOST_HTTP_CANCEL_TIMEOUT);
        wd_http_wasm_log_outcome(ctx);
        wd_http_wasm_finalize(ctx);
        return;
    }
    if (ctx->conf->mod->cgi) {
        wd_http_wasm_cgi_resume(ctx);
    } else {
        wd_http_wasm_run(ctx, 0);
    }
}

/* The run queue's callback: a paused handler's turn. */
void
wd_http_wasm_resume(wd_http_wasm_ctx_t *ctx)
{
    wd_http_wasm_continue(ctx, wd_http_wasm_now_ns());
}

static void
wd_http_wasm_timer_cb(uv_timer_t *t)
{
    wd_http_wasm_ctx_t *ctx = t->data;
    uint64_t now = wd_http_wasm_now_ns();

    wd_time_update();
    switch (ctx->state) {
    case WD_HTTP_WASM_QUEUED:
        wd_queue_remove(&ctx->link);
        ctx->final_status = 503;
        wd_log_error(WD_LOG_WARN, wd_cycle->log, 0,
                     "wasm %.*s: no free instance (wasm_pool max %ld) after %d ms: 503",
                     wd_str_pf(&ctx->conf->route), (long) ctx->conf->pool_max,
                     WD_HTTP_WASM_QUEUE_MSEC);
        wd_http_wasm_finalize(ctx);
        return;
    case WD_HTTP_WASM_BODY:
        if (now >= ctx->deadline_ns) {
            ctx->final_status = 504;
            wd_http_wasm_finalize(ctx);
        }
        return;
    case WD_HTTP_WASM_WAITING:
    case WD_HTTP_WASM_RUNNABLE:
        if (ctx->state == WD_HTTP_WASM_RUNNABLE && now < ctx->deadline_ns) {
            /* the deadline timer fired early (loop clock): the run queue resumes it */
            wd_http_wasm_arm_timer(ctx, ctx->deadline_ns);
            return;
        }
        wd_http_wasm_continue(ctx, now);   /* a guest timer, or the deadline */
        return;
    default:
        return;
    }
}

static void
wd_http_wasm_cleanup(wd_http_request_t *r)
{
    wd_http_wasm_ctx_t *ctx = r->ctx;

    if (ctx == NULL) {
        return;
    }
    ctx->r = NULL;
    r->ctx = NULL;
    wd_http_wasm_sched_remove(ctx);
    switch (ctx->state) {
    case WD_HTTP_WASM_RUNNING:
        return;                       /* wd_http_wasm_after() sees ctx->r == NULL */
    case WD_HTTP_WASM_QUEUED:
        wd_queue_remove(&ctx->link);
        wd_http_wasm_finalize(ctx);
        return;
    case WD_HTTP_WASM_WAITING:
    case WD_HTTP_WASM_RUNNABLE:
        if (ctx->it && ctx->it->hh) {
            wd_host_http_cancel(ctx->it->hh, WD_HOST_HTTP_CANCEL_CLIENT);
        } else if (ctx->it && !ctx->queued_link) {
            wd_http_wasm_cgi_cancel(ctx, 0);  /* a yielded CGI command */
            return;
        }
        wd_http_wasm_finalize(ctx);
        return;
    case WD_HTTP_WASM_BODY:
        wd_http_wasm_finalize(ctx);
        return;
    default:
        return;
    }
}

/* Called with an instance: from the handler, or when a queued request gets one. */
void
wd_http_wasm_start_request(wd_http_wasm_ctx_t *ctx, wd_http_wasm_inst_t *it)
{
    ctx->it = it;
    it->ctx = ctx;
    wd_http_wasm_status_started(ctx);
    if (ctx->conf->mod->cgi) {
        wd_http_wasm_arm_timer(ctx, ctx->deadline_ns);
        wd_http_wasm_cgi_run(ctx);
        return;
    }
    /* No deadline timer while it runs: the watchdog interrupts a run past the deadline, and
     * wd_http_wasm_after() arms the timer whenever the handler suspends or yields. */
    wd_wasm_set_fuel(it->inst, (uint64_t) ctx->conf->fuel);
#ifdef WD_WASM_HAS_YIELD
    if (wd_http_wasm_pass_spent()) {
        /* this pass already ran its share of guest code (e.g. a burst of new CPU-bound
         * requests): run it for a short slice only, enough for most requests (a hello
         * takes ~500 units); one that needs more is paused there and the run queue
         * resumes it in the next pass, before the handlers that already had a full one */
        wd_wasm_set_slice(it->inst, WD_HTTP_WASM_FIRST_SLICE_FUEL);
        ctx->paused_new = 1;
    }
#endif
    wd_http_wasm_run(ctx, 1);
}

static int
wd_http_wasm_build_head(wd_http_wasm_ctx_t *ctx, wd_http_request_t *r)
{
    wd_host_http_request_head_t *h = &ctx->head;

    if (r->headers_in.nelts <= WD_HTTP_WASM_HDRS_INLINE) {
        ctx->hdrs = ctx->hdrs_inline;
    } else {
        ctx->hdrs = malloc(r->headers_in.nelts * sizeof(*ctx->hdrs));
        if (ctx->hdrs == NULL) {
            return WD_ERROR;
        }
    }
    for (unsigned i = 0; i < r->headers_in.nelts; i++) {
        wd_http_header_t *e = &r->headers_in.elts[i];
        ctx->hdrs[i].name = (const char *) e->name.data;
        ctx->hdrs[i].name_len = e->name.len;
        ctx->hdrs[i].value = (const char *) e->value.data;
        ctx->hdrs[i].value_len = e->value.len;
    }
    h->headers = ctx->hdrs;
    h->nheaders = r->headers_in.nelts;
    h->method = (const char *) r->method_name.data;
    h->method_len = r->method_name.len;
    h->path = (const char *) r->unparsed_uri.data;
    h->path_len = r->unparsed_uri.len;
    if (r->h_host) {
        h->authority = (const char *) r->h_host->value.data;
        h->authority_len = r->h_host->value.len;
    }
    /* absolute-form target ("http://host/p?q"): path-with-query is "/p?q" */
    if (h->path_len > 7 && h->path[0] != '/') {
        const char *p = h->path, *end = p + h->path_len;
        const char *sep = memchr(p, ':', h->path_len);
        if (sep && end - sep > 3 && sep[1] == '/' && sep[2] == '/') {
            const char *auth = sep + 3, *slash = auth;
            while (slash < end && *slash != '/' && *slash != '?') {
                slash++;
            }
            if (h->authority == NULL) {
                h->authority = auth;
                h->authority_len = slash - auth;
            }
            h->path = slash < end && *slash == '/' ? slash : "/";
            h->path_len = slash < end && *slash == '/' ? (size_t) (end - slash) : 1;
        }
    }
    h->https = r->connection->listening && r->connection->listening->ssl;
    return WD_OK;
}

static int
wd_http_wasm_content_handler(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_http_wasm_loc_conf_t *lc = wd_http_loc_get_module_conf(clcf, wd_wasm_module);
    wd_http_wasm_ctx_t *ctx;
    wd_http_wasm_inst_t *it;
    int rc;

    if (lc->pool == NULL) {
        return WD_ERROR;
    }
    /* contexts are recycled: one is larger than malloc's per-thread cache serves fast */
    ctx = wd_http_wasm_nctx_cache ? wd_http_wasm_ctx_cache[--wd_http_wasm_nctx_cache]
                                  : malloc(sizeof(*ctx));
    if (ctx == NULL) {
        return WD_ERROR;
    }
    memset(ctx, 0, offsetof(wd_http_wasm_ctx_t, hdrs_inline));
    ctx->r = r;
    ctx->conf = lc;
    /* the loop's cached clock (ms, the start of this pass), not a clock read per request:
     * the deadline is a millisecond timeout, at most one pass early */
    ctx->start_ns = wd_event_now() * 1000000u;
    ctx->deadline_ns = ctx->start_ns + (uint64_t) lc->timeout * 1000000u;
    wd_queue_init(&ctx->link);
    if (wd_http_wasm_build_head(ctx, r) != WD_OK) {
        wd_http_wasm_ctx_free(ctx);
        return WD_ERROR;
    }
    r->ctx = ctx;
    r->cleanup = wd_http_wasm_cleanup;
    r->read_event_handler = wd_http_wasm_wake;
    r->write_event_handler = wd_http_wasm_write_ready;
    ctx->in_handler = 1;

    if (lc->mod->cgi) {
        rc = wd_http_wasm_cgi_handler(r, ctx);
    } else {
        it = wd_http_wasm_pool_get(lc->pool, wd_cycle->log);
        if (it == NULL) {
            ctx->state = WD_HTTP_WASM_QUEUED;
            wd_http_wasm_status_queued(ctx);
            wd_queue_insert_tail(&lc->pool->waiting, &ctx->link);
            wd_http_wasm_timer_start(ctx, wd_http_wasm_timer_cb,
                                     wd_min(WD_HTTP_WASM_QUEUE_MSEC, lc->timeout));
        } else {
            wd_http_wasm_start_request(ctx, it);
        }
        rc = WD_DONE;
    }
    ctx->in_handler = 0;
    if (ctx->state == WD_HTTP_WASM_DONE) {
        rc = ctx->handler_rc;
        wd_http_wasm_ctx_free(ctx);
        return rc;
    }
    return rc;
}
