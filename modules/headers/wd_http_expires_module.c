/*
 * wd_http_expires_module.c -- nginx's `expires` (of its headers module): Expires and
 * Cache-Control on 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses, whatever
 * produced them.
 *
 *   expires [modified] time | epoch | max | off;     http, server, location    off
 *
 *   time > 0    Expires: now (or the file's mtime with `modified`) + time,
 *               Cache-Control: max-age=<seconds>
 *   time < 0    Expires: that moment, Cache-Control: no-cache
 *   time = 0    Expires: now, Cache-Control: max-age=0
 *   epoch       Expires: Thu, 01 Jan 1970 00:00:01 GMT, Cache-Control: no-cache
 *   max         Expires: Thu, 31 Dec 2037 23:55:55 GMT, Cache-Control: max-age=315360000
 * `@15h30m` (a time of day) and variables are refused by -t.  A Cache-Control or Expires
 * the producer set itself is replaced, as nginx does.
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

#define WD_EXPIRES_UNSET     0
#define WD_EXPIRES_OFF       1
#define WD_EXPIRES_EPOCH     2
#define WD_EXPIRES_MAX       3
#define WD_EXPIRES_ACCESS    4
#define WD_EXPIRES_MODIFIED  5

typedef struct {
    wd_uint_t   mode;
    time_t      time;       /* seconds, may be negative */
} wd_http_expires_loc_conf_t;

static char *wd_http_expires_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_expires_create_loc_conf(wd_conf_t *cf);
static char *wd_http_expires_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_http_expires_postconfiguration(wd_conf_t *cf);

static const wd_command_t wd_http_expires_commands[] = {
    { "expires", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_TAKE12,
      wd_http_expires_set, WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_expires_module_ctx = {
    .postconfiguration = wd_http_expires_postconfiguration,
    .create_loc_conf = wd_http_expires_create_loc_conf,
    .merge_loc_conf = wd_http_expires_merge_loc_conf,
};

wd_module_t wd_http_expires_module = {
    .name = "wd_http_expires_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_expires_commands,
    .ctx = &wd_http_expires_module_ctx,
};

static void *
wd_http_expires_create_loc_conf(wd_conf_t *cf)
{
    return wd_pcalloc(cf->pool, sizeof(wd_http_expires_loc_conf_t));
}

static char *
wd_http_expires_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_expires_loc_conf_t *prev = parent, *conf = child;

    if (conf->mode == WD_EXPIRES_UNSET) {
        conf->mode = prev->mode == WD_EXPIRES_UNSET ? WD_EXPIRES_OFF : prev->mode;
        conf->time = prev->time;
    }
    return WD_CONF_OK;
}

static char *
wd_http_expires_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_expires_loc_conf_t *elcf = conf;
    wd_str_t *args = cf->args->elts, v;
    int neg = 0;
    wd_int_t t;

    if (elcf->mode != WD_EXPIRES_UNSET) {
        return "is duplicate";
    }
    v = args[1];
    if (cf->args->nelts == 3) {
        if (!wd_str_eq(&args[1], "modified")) {
            return wd_conf_invalid_value(cf, &args[1]);
        }
        elcf->mode = WD_EXPIRES_MODIFIED;
        v = args[2];
    } else if (wd_str_eq(&v, "off")) {
        elcf->mode = WD_EXPIRES_OFF;
        return WD_CONF_OK;
    } else if (wd_str_eq(&v, "epoch")) {
        elcf->mode = WD_EXPIRES_EPOCH;
        return WD_CONF_OK;
    } else if (wd_str_eq(&v, "max")) {
        elcf->mode = WD_EXPIRES_MAX;
        return WD_CONF_OK;
    } else {
        elcf->mode = WD_EXPIRES_ACCESS;
    }
    if (v.len && v.data[0] == '@') {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"expires @time\" (a time of day) is not "
                          "supported by wasmd");
        return WD_CONF_ERROR;
    }
    if (memchr(v.data, '$', v.len)) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "variables in \"expires\" are not supported by "
                          "wasmd");
        return WD_CONF_ERROR;
    }
    if (v.len && (v.data[0] == '+' || v.data[0] == '-')) {
        neg = v.data[0] == '-';
        v.data++;
        v.len--;
    }
    t = wd_parse_time(&v, 1);
    if (t == WD_ERROR) {
        return wd_conf_invalid_value(cf, &args[cf->args->nelts - 1]);
    }
    elcf->time = neg ? -(time_t) t : (time_t) t;
    return WD_CONF_OK;
}

static wd_http_header_filter_pt wd_http_expires_next;

static void
wd_http_expires_drop(wd_http_request_t *r, const char *name, size_t len)
{
    unsigned i, j = 0;

    for (i = 0; i < r->headers_out.nelts; i++) {
        wd_http_header_t *h = &r->headers_out.elts[i];
        if (h->name.len == len && strncasecmp((char *) h->name.data, name, len) == 0) {
            continue;
        }
        r->headers_out.elts[j++] = *h;
    }
    r->headers_out.nelts = j;
}

static int
wd_http_expires_filter(wd_http_request_t *r)
{
    wd_http_expires_loc_conf_t *elcf = wd_http_loc_get_module_conf(
        wd_http_filter_clcf(r), wd_http_expires_module);
    char exp[48], cc[48];
    int elen, clen = 0;
    time_t now = wd_time_sec, t, max_age;

    if (elcf->mode == WD_EXPIRES_OFF || !wd_http_add_header_applies(r->status)) {
        goto next;
    }
    wd_http_expires_drop(r, "Expires", 7);
    wd_http_expires_drop(r, "Cache-Control", 13);
    switch (elcf->mode) {
    case WD_EXPIRES_EPOCH:
        elen = (int) (wd_http_time((u_char *) exp, 1) - (u_char *) exp);
        clen = snprintf(cc, sizeof(cc), "no-cache");
        break;
    case WD_EXPIRES_MAX:
        elen = snprintf(exp, sizeof(exp), "Thu, 31 Dec 2037 23:55:55 GMT");
        clen = snprintf(cc, sizeof(cc), "max-age=315360000");
        break;
    default:
        t = now;
        if (elcf->mode == WD_EXPIRES_MODIFIED) {
            wd_http_header_t *lm = wd_http_find_header(&r->headers_out, "Last-Modified", 13);
            time_t parsed = -1;
            if (lm) {
                extern time_t wd_http_parse_time(const u_char *s, size_t len);
                parsed = wd_http_parse_time(lm->value.data, lm->value.len);
            }
            if (parsed == -1) {
                goto next;      /* nginx: no Last-Modified, no Expires */
            }
            t = parsed;
        }
        t += elcf->time;
        elen = (int) (wd_http_time((u_char *) exp, t) - (u_char *) exp);
        max_age = t - now;
        if (elcf->time < 0 || max_age < 0) {
            clen = snprintf(cc, sizeof(cc), "no-cache");
        } else {
            clen = snprintf(cc, sizeof(cc), "max-age=%lld", (long long) max_age);
        }
        break;
    }
    if (wd_http_add_header(r, "Expires", 7, exp, elen) != WD_OK
        || wd_http_add_header(r, "Cache-Control", 13, cc, clen) != WD_OK)
    {
        return WD_ERROR;
    }
next:
    return wd_http_expires_next ? wd_http_expires_next(r) : WD_OK;
}

static int
wd_http_expires_postconfiguration(wd_conf_t *cf)
{
    static int installed;

    if (!installed) {
        installed = 1;
        wd_http_expires_next = wd_http_top_header_filter;
        wd_http_top_header_filter = wd_http_expires_filter;
    }
    return WD_OK;
}
