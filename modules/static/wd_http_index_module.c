/*
 * wd_http_index_module.c -- nginx's index module.
 *
 *   index file ...;    http, server, location    index.html
 *
 * For a URI ending in "/", the first index file that exists is served by an internal
 * redirect to URI + file (so the location that matches it serves it, as in nginx); a name
 * starting with "/" (allowed last) is redirected to as is.  When none exists, the
 * autoindex module may list the directory; otherwise 403 ("directory index of ... is
 * forbidden"), or 404 when the directory itself does not exist.
 */
#include "wd_http_static.h"

typedef struct {
    wd_array_t   *indexes;      /* wd_str_t; NULL: unset */
} wd_http_index_loc_conf_t;

static char *wd_http_index_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_index_create_loc_conf(wd_conf_t *cf);
static char *wd_http_index_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);

static const wd_command_t wd_http_index_commands[] = {
    { "index", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_1MORE,
      wd_http_index_set, WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_index_module_ctx = {
    .create_loc_conf = wd_http_index_create_loc_conf,
    .merge_loc_conf = wd_http_index_merge_loc_conf,
};

wd_module_t wd_http_index_module = {
    .name = "wd_http_index_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_index_commands,
    .ctx = &wd_http_index_module_ctx,
};

static void *
wd_http_index_create_loc_conf(wd_conf_t *cf)
{
    return wd_pcalloc(cf->pool, sizeof(wd_http_index_loc_conf_t));
}

static char *
wd_http_index_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_index_loc_conf_t *prev = parent, *conf = child;

    if (conf->indexes == NULL) {
        if (prev->indexes == NULL) {
            wd_str_t *s;
            prev->indexes = wd_array_create(cf->pool, 1, sizeof(wd_str_t));
            if (prev->indexes == NULL || (s = wd_array_push(prev->indexes)) == NULL) {
                return WD_CONF_ERROR;
            }
            s->data = (u_char *) "index.html";
            s->len = 10;
        }
        conf->indexes = prev->indexes;
    }
    return WD_CONF_OK;
}

static char *
wd_http_index_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_index_loc_conf_t *ilcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t i;

    if (ilcf->indexes == NULL) {
        ilcf->indexes = wd_array_create(cf->pool, cf->args->nelts, sizeof(wd_str_t));
        if (ilcf->indexes == NULL) {
            return WD_CONF_ERROR;
        }
    }
    for (i = 1; i < cf->args->nelts; i++) {
        wd_str_t *s;
        if (args[i].len == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "index \"%.*s\" in \"index\" directive is "
                              "invalid", wd_str_pf(&args[i]));
            return WD_CONF_ERROR;
        }
        if (args[i].data[0] == '/' && i != cf->args->nelts - 1) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "only the last index in \"index\" directive "
                              "should be absolute");
            return WD_CONF_ERROR;
        }
        if (memchr(args[i].data, '$', args[i].len)) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "variables in \"index\" are not supported "
                              "by wasmd");
            return WD_CONF_ERROR;
        }
        s = wd_array_push(ilcf->indexes);
        if (s == NULL) {
            return WD_CONF_ERROR;
        }
        *s = args[i];
    }
    return WD_CONF_OK;
}

int
wd_http_index_handler(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_http_index_loc_conf_t *ilcf = wd_http_loc_get_module_conf(clcf, wd_http_index_module);
    wd_http_static_loc_conf_t *slcf = wd_http_loc_get_module_conf(clcf, wd_http_static_module);
    wd_str_t *idx = ilcf->indexes->elts, dir, path, uri;
    wd_http_open_file_t *of;
    size_t root_len;
    wd_uint_t i;
    int rc;

    rc = wd_http_static_map(r, &r->uri, &dir, &root_len);
    if (rc != WD_OK) {
        return rc == WD_ERROR ? 500 : rc;
    }
    for (i = 0; i < ilcf->indexes->nelts; i++) {
        if (idx[i].data[0] == '/') {
            return wd_http_internal_redirect(r, &idx[i], NULL);
        }
        path.len = dir.len + idx[i].len;
        path.data = wd_pnalloc(r->pool, path.len + 1);
        if (path.data == NULL) {
            return 500;
        }
        memcpy(path.data, dir.data, dir.len);
        memcpy(path.data + dir.len, idx[i].data, idx[i].len);
        path.data[path.len] = '\0';
        if (wd_http_open_file(r, slcf, &path, &of) != WD_OK) {
            return 500;
        }
        if (of->err == ENOENT || of->err == ENOTDIR) {
            continue;
        }
        if (of->err) {
            return wd_http_static_open_error(r, slcf, &path, of);
        }
        uri.len = r->uri.len + idx[i].len;
        uri.data = wd_pnalloc(r->pool, uri.len + 1);
        if (uri.data == NULL) {
            return 500;
        }
        memcpy(uri.data, r->uri.data, r->uri.len);
        memcpy(uri.data + r->uri.len, idx[i].data, idx[i].len);
        uri.data[uri.len] = '\0';
        return wd_http_internal_redirect(r, &uri, NULL);
    }

    /* no index file: does the directory exist? */
    if (wd_http_open_file(r, slcf, &dir, &of) != WD_OK) {
        return 500;
    }
    if (of->err || !of->is_dir) {
        if (of->err == 0) {
            of->err = ENOTDIR;
        }
        if (of->err == ENOENT || of->err == ENOTDIR) {
            if (slcf->log_not_found) {
                wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), of->err, "\"%.*s%.*s\" is not found",
                             wd_str_pf(&dir), wd_str_pf(&idx[0]));
            }
            return 404;
        }
        return wd_http_static_open_error(r, slcf, &dir, of);
    }
    rc = wd_http_autoindex_handler(r, &dir);
    if (rc != WD_DECLINED) {
        return rc;
    }
    wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "directory index of \"%.*s\" is forbidden",
                 wd_str_pf(&dir));
    return 403;
}
