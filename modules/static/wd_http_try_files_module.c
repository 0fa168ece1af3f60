/*
 * wd_http_try_files_module.c -- nginx's try_files.
 *
 *   try_files file ... uri;   try_files file ... =code;     server, location
 *
 * Runs before the location's content handler (wd_http_precontent_handler).  Each `file`
 * (with $variables, and $1..$9 in regex locations) is looked up under the location's
 * root/alias; a name ending in "/" must be a directory.  The first that exists becomes
 * the request's $uri and the location's content handler (static files, or its own
 * handler) serves it.  When none exists the last parameter decides: "=code" answers with
 * code, "@name" passes the request to the named location, anything else is an internal
 * redirect to that URI (a "?args" part replaces the arguments).
 */
#include "wd_http_static.h"

typedef struct {
    wd_array_t   *files;     /* wd_http_static_value_t *; NULL: no try_files here */
    wd_str_t      last;
    wd_int_t      code;      /* "=code" */
    wd_http_static_value_t *last_value;
} wd_http_try_files_loc_conf_t;

static char *wd_http_try_files_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_try_files_create_loc_conf(wd_conf_t *cf);
static int   wd_http_try_files_postconfiguration(wd_conf_t *cf);

static const wd_command_t wd_http_try_files_commands[] = {
    { "try_files", WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_2MORE,
      wd_http_try_files_set, WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_try_files_module_ctx = {
    .postconfiguration = wd_http_try_files_postconfiguration,
    .create_loc_conf = wd_http_try_files_create_loc_conf,
};

wd_module_t wd_http_try_files_module = {
    .name = "wd_http_try_files_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_try_files_commands,
    .ctx = &wd_http_try_files_module_ctx,
};

static void *
wd_http_try_files_create_loc_conf(wd_conf_t *cf)
{
    return wd_pcalloc(cf->pool, sizeof(wd_http_try_files_loc_conf_t));
}

static char *
wd_http_try_files_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_try_files_loc_conf_t *tlcf = conf;
    wd_str_t *args = cf->args->elts, *last;
    wd_uint_t i;

    if (tlcf->files) {
        return "is duplicate";
    }
    tlcf->files = wd_array_create(cf->pool, cf->args->nelts, sizeof(wd_http_static_value_t *));
    if (tlcf->files == NULL) {
        return WD_CONF_ERROR;
    }
    for (i = 1; i < cf->args->nelts - 1; i++) {
        wd_http_static_value_t **v = wd_array_push(tlcf->files);
        if (v == NULL || (*v = wd_http_static_compile(cf, &args[i], 0)) == NULL) {
            return WD_CONF_ERROR;
        }
    }
    last = &args[cf->args->nelts - 1];
    tlcf->last = *last;
    if (last->len > 1 && last->data[0] == '=') {
        tlcf->code = wd_atoi(last->data + 1, last->len - 1);
        if (tlcf->code < 0 || tlcf->code > 999) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid code \"%.*s\"", wd_str_pf(last));
            return WD_CONF_ERROR;
        }
    } else if (last->data[0] != '@') {
        tlcf->last_value = wd_http_static_compile(cf, last, 0);
        if (tlcf->last_value == NULL) {
            return WD_CONF_ERROR;
        }
    }
    return WD_CONF_OK;
}

static int
wd_http_try_files_handler(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_http_try_files_loc_conf_t *tlcf = wd_http_loc_get_module_conf(clcf,
                                                                     wd_http_try_files_module);
    wd_http_static_loc_conf_t *slcf = wd_http_loc_get_module_conf(clcf, wd_http_static_module);
    wd_http_static_value_t **files;
    wd_uint_t i;

    if (tlcf->files == NULL) {
        return WD_DECLINED;
    }
    files = tlcf->files->elts;
    for (i = 0; i < tlcf->files->nelts; i++) {
        wd_str_t name, path;
        wd_http_open_file_t *of;
        size_t root_len;
        int dir, rc;

        if (wd_http_static_eval(r, files[i], 0, &name) != WD_OK) {
            return 500;
        }
        if (name.len == 0) {
            continue;
        }
        dir = name.data[name.len - 1] == '/';
        rc = wd_http_static_map(r, &name, &path, &root_len);
        if (rc == WD_ERROR) {
            return 500;
        }
        if (rc != WD_OK) {
            continue;
        }
        if (dir && path.len > 1) {
            path.data[--path.len] = '\0';
        }
        if (wd_http_open_file(r, slcf, &path, &of) != WD_OK) {
            return 500;
        }
        if (of->err) {
            if (of->err != ENOENT && of->err != ENOTDIR && of->err != ENAMETOOLONG) {
                return wd_http_static_open_error(r, slcf, &path, of);
            }
            continue;
        }
        if (dir ? !of->is_dir : !of->is_file) {
            continue;
        }
        /* found: it becomes $uri, served by this location's content handler */
        if (name.data[0] == '/') {
            r->uri = name;
        } else {
            u_char *u = wd_pnalloc(r->pool, name.len + 2);
            if (u == NULL) {
                return 500;
            }
            u[0] = '/';
            memcpy(u + 1, name.data, name.len);
            r->uri.data = u;
            r->uri.len = name.len + 1;
        }
        return WD_DECLINED;
    }

    if (tlcf->code) {
        return (int) tlcf->code;
    }
    if (tlcf->last.data[0] == '@') {
        return wd_http_named_location(r, &tlcf->last);
    }
    {
        wd_str_t uri, args, *pargs = NULL;
        u_char *q;
        if (wd_http_static_eval(r, tlcf->last_value, 0, &uri) != WD_OK) {
            return 500;
        }
        q = memchr(uri.data, '?', uri.len);
        if (q) {
            args.data = q + 1;
            args.len = uri.data + uri.len - q - 1;
            uri.len = q - uri.data;
            pargs = &args;
        }
        return wd_http_internal_redirect(r, &uri, pargs);
    }
}

static int
wd_http_try_files_postconfiguration(wd_conf_t *cf)
{
    wd_http_precontent_handler = wd_http_try_files_handler;
    return WD_OK;
}
