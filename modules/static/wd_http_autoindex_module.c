/*
 * wd_http_autoindex_module.c -- nginx's autoindex: an HTML listing of a directory whose
 * URI ends in "/" and that has no index file.
 *
 *   autoindex on|off;              http, server, location    off
 *   autoindex_exact_size on|off;   http, server, location    on
 *   autoindex_localtime on|off;    http, server, location    off
 *   autoindex_format html;         http, server, location    html (xml, json, jsonp are
 *                                                            refused by -t)
 *
 * Entries are sorted like nginx's: directories first, then by name (strcmp); names
 * starting with "." are left out; names are escaped for the href and for HTML.
 */
#include <dirent.h>
#include "wd_http_static.h"

typedef struct {
    wd_flag_t   enable;
    wd_flag_t   exact_size;
    wd_flag_t   localtime;
} wd_http_autoindex_loc_conf_t;

typedef struct {
    char       *name;
    size_t      len;
    unsigned    dir:1;
    off_t       size;
    time_t      mtime;
} wd_http_autoindex_entry_t;

static char *wd_http_autoindex_format(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_autoindex_create_loc_conf(wd_conf_t *cf);
static char *wd_http_autoindex_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);

#define MSL (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)

static const wd_command_t wd_http_autoindex_commands[] = {
    { "autoindex", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, WD_HTTP_LOC_CONF_OFFSET,
      offsetof(wd_http_autoindex_loc_conf_t, enable), NULL },
    { "autoindex_exact_size", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot,
      WD_HTTP_LOC_CONF_OFFSET, offsetof(wd_http_autoindex_loc_conf_t, exact_size), NULL },
    { "autoindex_localtime", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot,
      WD_HTTP_LOC_CONF_OFFSET, offsetof(wd_http_autoindex_loc_conf_t, localtime), NULL },
    { "autoindex_format", MSL | WD_CONF_TAKE1, wd_http_autoindex_format,
      WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_autoindex_module_ctx = {
    .create_loc_conf = wd_http_autoindex_create_loc_conf,
    .merge_loc_conf = wd_http_autoindex_merge_loc_conf,
};

wd_module_t wd_http_autoindex_module = {
    .name = "wd_http_autoindex_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_autoindex_commands,
    .ctx = &wd_http_autoindex_module_ctx,
};

static void *
wd_http_autoindex_create_loc_conf(wd_conf_t *cf)
{
    wd_http_autoindex_loc_conf_t *c = wd_pcalloc(cf->pool, sizeof(*c));
    if (c) {
        c->enable = WD_CONF_UNSET;
        c->exact_size = WD_CONF_UNSET;
        c->localtime = WD_CONF_UNSET;
    }
    return c;
}

static char *
wd_http_autoindex_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_autoindex_loc_conf_t *prev = parent, *conf = child;

    wd_conf_merge_value(conf->enable, prev->enable, 0);
    wd_conf_merge_value(conf->exact_size, prev->exact_size, 1);
    wd_conf_merge_value(conf->localtime, prev->localtime, 0);
    return WD_CONF_OK;
}

static char *
wd_http_autoindex_format(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *args = cf->args->elts;

    if (wd_str_eq(&args[1], "html")) {
        return WD_CONF_OK;
    }
    if (wd_str_eq(&args[1], "xml") || wd_str_eq(&args[1], "json")
        || wd_str_eq(&args[1], "jsonp"))
    {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"autoindex_format %.*s\" is not supported by "
                          "wasmd (html is)", wd_str_pf(&args[1]));
        return WD_CONF_ERROR;
    }
    return wd_conf_invalid_value(cf, &args[1]);
}

static int
wd_http_autoindex_cmp(const void *a, const void *b)
{
    const wd_http_autoindex_entry_t *x = a, *y = b;

    if (x->dir != y->dir) {
        return x->dir ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

/* appends s escaped for an href (uri) or for HTML text */
static u_char *
wd_http_autoindex_put(u_char *p, const char *s, size_t len, int href)
{
    for (size_t i = 0; i < len; i++) {
        u_char c = (u_char) s[i];
        if (href && (c <= ' ' || c >= 0x7f || c == '"' || c == '%' || c == '?' || c == '#'
                     || c == '<' || c == '>' || c == '&' || c == '\'')) {
            p += sprintf((char *) p, "%%%02X", c);
        } else if (!href && c == '<') {
            p = (u_char *) stpcpy((char *) p, "&lt;");
        } else if (!href && c == '>') {
            p = (u_char *) stpcpy((char *) p, "&gt;");
        } else if (!href && c == '&') {
            p = (u_char *) stpcpy((char *) p, "&amp;");
        } else if (!href && c == '"') {
            p = (u_char *) stpcpy((char *) p, "&quot;");
        } else {
            *p++ = c;
        }
    }
    return p;
}

int
wd_http_autoindex_handler(wd_http_request_t *r, const wd_str_t *dirpath)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_http_autoindex_loc_conf_t *alcf = wd_http_loc_get_module_conf(clcf,
                                                                     wd_http_autoindex_module);
    wd_http_autoindex_entry_t *e = NULL;
    size_t n = 0, cap = 0, len, i;
    struct dirent *de;
    u_char *buf, *p;
    DIR *d;

    if (!alcf->enable) {
        return WD_DECLINED;
    }
    if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
        return 405;
    }
    d = opendir((const char *) dirpath->data);
    if (d == NULL) {
        int err = errno;
        wd_log_error(err == ENOENT ? WD_LOG_ERR : WD_LOG_CRIT, wd_http_log(r->hc), err,
                     "opendir() \"%.*s\" failed", wd_str_pf(dirpath));
        return err == ENOENT ? 404 : err == EACCES ? 403 : 500;
    }
    len = 0;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.') {
            continue;
        }
        if (fstatat(dirfd(d), de->d_name, &st, 0) != 0) {
            continue;
        }
        if (n == cap) {
            wd_http_autoindex_entry_t *ne;
            cap = cap ? cap * 2 : 32;
            ne = wd_palloc(r->pool, cap * sizeof(*ne));
            if (ne == NULL) {
                closedir(d);
                return 500;
            }
            if (n) {
                memcpy(ne, e, n * sizeof(*e));
            }
            e = ne;
        }
        e[n].len = strlen(de->d_name);
        e[n].name = wd_pnalloc(r->pool, e[n].len + 1);
        if (e[n].name == NULL) {
            closedir(d);
            return 500;
        }
        memcpy(e[n].name, de->d_name, e[n].len + 1);
        e[n].dir = S_ISDIR(st.st_mode) ? 1 : 0;
        e[n].size = st.st_size;
        e[n].mtime = st.st_mtime;
        len += e[n].len * 8 + 128;
        n++;
    }
    closedir(d);
    if (n) {
        qsort(e, n, sizeof(*e), wd_http_autoindex_cmp);
    }
    len += 3 * r->uri.len * 6 + 256;
    buf = wd_pnalloc(r->pool, len);
    if (buf == NULL) {
        return 500;
    }
    p = buf;
    p = (u_char *) stpcpy((char *) p, "<html>\r\n<head><title>Index of ");
    p = wd_http_autoindex_put(p, (char *) r->uri.data, r->uri.len, 0);
    p = (u_char *) stpcpy((char *) p, "</title></head>\r\n<body>\r\n<h1>Index of ");
    p = wd_http_autoindex_put(p, (char *) r->uri.data, r->uri.len, 0);
    p = (u_char *) stpcpy((char *) p, "</h1><hr><pre><a href=\"../\">../</a>\r\n");
    for (i = 0; i < n; i++) {
        struct tm tm;
        char date[32];
        size_t w = e[i].len + (e[i].dir ? 1 : 0);
        p = (u_char *) stpcpy((char *) p, "<a href=\"");
        p = wd_http_autoindex_put(p, e[i].name, e[i].len, 1);
        if (e[i].dir) {
            *p++ = '/';
        }
        p = (u_char *) stpcpy((char *) p, "\">");
        p = wd_http_autoindex_put(p, e[i].name, e[i].len, 0);
        if (e[i].dir) {
            *p++ = '/';
        }
        p = (u_char *) stpcpy((char *) p, "</a>");
        while (w++ < 51) {
            *p++ = ' ';
        }
        if (alcf->localtime) {
            localtime_r(&e[i].mtime, &tm);
        } else {
            gmtime_r(&e[i].mtime, &tm);
        }
        strftime(date, sizeof(date), "%d-%b-%Y %H:%M", &tm);
        p = (u_char *) stpcpy((char *) p, date);
        if (e[i].dir) {
            p += sprintf((char *) p, " %19s\r\n", "-");
        } else if (alcf->exact_size) {
            p += sprintf((char *) p, " %19lld\r\n", (long long) e[i].size);
        } else {
            static const char units[] = "KMGT";
            double v = (double) e[i].size;
            int u = -1;
            while (v >= 1024 && u < 3) {
                v /= 1024;
                u++;
            }
            if (u < 0) {
                p += sprintf((char *) p, " %19lld\r\n", (long long) e[i].size);
            } else {
                p += sprintf((char *) p, " %18.0f%c\r\n", v, units[u]);
            }
        }
    }
    p = (u_char *) stpcpy((char *) p, "</pre><hr></body>\r\n</html>\r\n");
    r->content_type.data = (u_char *) "text/html";
    r->content_type.len = 9;
    return wd_http_send_simple(r, 200, "text/html", buf, p - buf) == WD_OK ? WD_OK : WD_ERROR;
}
