/*
 * wd_http_proxy_module.c -- proxy_* directives and upstream { } blocks (see wd_http_proxy.h).
 *
 * Names, arguments, contexts, defaults and inheritance are nginx's. proxy_pass makes
 * (or finds) an upstream entry at once, like nginx's ngx_http_upstream_add: a name without
 * a port may be an `upstream` block declared later in the file; at the end of http{} a
 * name no block claimed becomes a one-server upstream on the default port. Directives of
 * nginx's proxy and upstream modules that wasmd does not implement are refused by -t with
 * their name ("... is not supported by wasmd"), never ignored.
 */
#include <strings.h>
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_event_connect.h"
#include "wd_http_proxy.h"
#include "wd_sandbox.h"
#include <sys/stat.h>
#include <errno.h>

static void *wd_http_proxy_create_main_conf(wd_conf_t *cf);
static char *wd_http_proxy_init_main_conf(wd_conf_t *cf, void *conf);
static void *wd_http_proxy_create_loc_conf(wd_conf_t *cf);
static char *wd_http_proxy_merge_loc_conf(wd_conf_t *cf, void *prev, void *conf);
static int   wd_http_proxy_preconfiguration(wd_conf_t *cf);
static char *wd_http_proxy_pass(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_set_header(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_version(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_next(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_upstream(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_redirect(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_unsupported(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_buffers(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_temp_path(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static int   wd_http_proxy_init_master(wd_cycle_t *cycle);
static char *wd_http_proxy_ssl_name(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_ssl_file(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_proxy_ssl_protocols(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

#define MSL (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)
#define LOC WD_HTTP_LOC_CONF_OFFSET
#define OFF(f) offsetof(wd_http_proxy_loc_conf_t, f)

static const wd_command_t wd_http_proxy_commands[] = {
    { "upstream", WD_HTTP_MAIN_CONF | WD_CONF_BLOCK | WD_CONF_TAKE1, wd_http_proxy_upstream,
      0, 0, NULL },
    { "proxy_pass", WD_HTTP_LOC_CONF | WD_CONF_TAKE1, wd_http_proxy_pass, LOC, 0, NULL },
    { "proxy_set_header", MSL | WD_CONF_TAKE2, wd_http_proxy_set_header, LOC, 0, NULL },
    { "proxy_http_version", MSL | WD_CONF_TAKE1, wd_http_proxy_version, LOC, 0, NULL },
    { "proxy_connect_timeout", MSL | WD_CONF_TAKE1, wd_conf_set_msec_slot, LOC,
      OFF(connect_timeout), NULL },
    { "proxy_read_timeout", MSL | WD_CONF_TAKE1, wd_conf_set_msec_slot, LOC,
      OFF(read_timeout), NULL },
    { "proxy_send_timeout", MSL | WD_CONF_TAKE1, wd_conf_set_msec_slot, LOC,
      OFF(send_timeout), NULL },
    { "proxy_buffering", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC, OFF(buffering), NULL },
    { "proxy_buffer_size", MSL | WD_CONF_TAKE1, wd_conf_set_size_slot, LOC, OFF(buffer_size),
      NULL },
    { "proxy_buffers", MSL | WD_CONF_TAKE2, wd_http_proxy_buffers, LOC, 0, NULL },
    { "proxy_busy_buffers_size", MSL | WD_CONF_TAKE1, wd_conf_set_size_slot, LOC,
      OFF(busy_conf), NULL },
    { "proxy_temp_file_write_size", MSL | WD_CONF_TAKE1, wd_conf_set_size_slot, LOC,
      OFF(write_conf), NULL },
    { "proxy_max_temp_file_size", MSL | WD_CONF_TAKE1, wd_conf_set_off_slot, LOC,
      OFF(max_temp_conf), NULL },
    { "proxy_temp_path", MSL | WD_CONF_TAKE1234, wd_http_proxy_temp_path, LOC, 0, NULL },
    { "proxy_next_upstream", MSL | WD_CONF_1MORE, wd_http_proxy_next, LOC, 0, NULL },
    { "proxy_next_upstream_tries", MSL | WD_CONF_TAKE1, wd_conf_set_uint_slot, LOC,
      OFF(next_upstream_tries), NULL },
    { "proxy_next_upstream_timeout", MSL | WD_CONF_TAKE1, wd_conf_set_msec_slot, LOC,
      OFF(next_upstream_timeout), NULL },
    { "proxy_pass_request_headers", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      OFF(pass_request_headers), NULL },
    { "proxy_pass_request_body", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      OFF(pass_request_body), NULL },
    { "proxy_hide_header", MSL | WD_CONF_TAKE1, wd_conf_set_str_array_slot, LOC,
      OFF(hide_headers), NULL },
    { "proxy_redirect", MSL | WD_CONF_TAKE12, wd_http_proxy_redirect, LOC, 0, NULL },
    { "proxy_ssl_verify", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC, OFF(ssl_verify),
      NULL },
    { "proxy_ssl_server_name", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      OFF(ssl_server_name), NULL },
    { "proxy_ssl_trusted_certificate", MSL | WD_CONF_TAKE1, wd_conf_set_str_slot, LOC,
      OFF(ssl_trusted_certificate), NULL },
    { "proxy_ssl_name", MSL | WD_CONF_TAKE1, wd_http_proxy_ssl_name, LOC, 0, NULL },
    { "proxy_ssl_certificate", MSL | WD_CONF_TAKE1, wd_http_proxy_ssl_file, LOC,
      OFF(ssl_certificate), NULL },
    { "proxy_ssl_certificate_key", MSL | WD_CONF_TAKE1, wd_http_proxy_ssl_file, LOC,
      OFF(ssl_certificate_key), NULL },
    { "proxy_ssl_protocols", MSL | WD_CONF_1MORE, wd_http_proxy_ssl_protocols, LOC, 0, NULL },
    { "proxy_ssl_ciphers", MSL | WD_CONF_TAKE1, wd_conf_set_str_slot, LOC, OFF(ssl_ciphers),
      NULL },
    { "proxy_ssl_verify_depth", MSL | WD_CONF_TAKE1, wd_conf_set_uint_slot, LOC,
      OFF(ssl_verify_depth), NULL },
    { "proxy_ssl_session_reuse", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      OFF(ssl_session_reuse), NULL },
    /* nginx's, not (yet) wasmd's: named by -t rather than silently ignored */
    { "proxy_ssl_password_file", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_ssl_crl", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_ssl_conf_command", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_ssl_key_log", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_ssl_certificate_cache", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0,
      NULL },
    { "proxy_pass_header", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_intercept_errors", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_path", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_background_update", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_bypass", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_convert_head", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_key", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_lock", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_lock_age", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_lock_timeout", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_max_range_offset", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_methods", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_min_uses", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_revalidate", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_use_stale", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cache_valid", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_no_cache", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_store", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_store_access", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cookie_domain", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cookie_flags", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_cookie_path", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_force_ranges", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_ignore_client_abort", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_ignore_headers", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_limit_rate", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_send_lowat", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_socket_keepalive", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_request_buffering", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_method", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_set_body", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    { "proxy_bind", MSL | WD_CONF_ANY, wd_http_proxy_unsupported, LOC, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_proxy_module_ctx = {
    .preconfiguration = wd_http_proxy_preconfiguration,
    .create_main_conf = wd_http_proxy_create_main_conf,
    .init_main_conf = wd_http_proxy_init_main_conf,
    .create_loc_conf = wd_http_proxy_create_loc_conf,
    .merge_loc_conf = wd_http_proxy_merge_loc_conf,
};

wd_module_t wd_http_proxy_module = {
    .name = "wd_http_proxy_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_proxy_commands,
    .ctx = &wd_http_proxy_module_ctx,
    .init_master = wd_http_proxy_init_master,
};

/* master: proxy_temp_path directories (the last component, as nginx makes them), owned by
 * the workers' user */
static int
wd_http_proxy_init_master(wd_cycle_t *cycle)
{
    wd_http_proxy_main_conf_t *pmcf = wd_http_cycle_get_module_main_conf(cycle,
                                                                    wd_http_proxy_module);
    wd_sandbox_conf_t *sc = cycle->sandbox;
    wd_str_t *tp;

    if (pmcf == NULL) {
        return WD_OK;
    }
    tp = pmcf->temp_paths->elts;
    for (wd_uint_t i = 0; i < pmcf->temp_paths->nelts; i++) {
        const char *p = (const char *) tp[i].data;
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            wd_log_error(WD_LOG_EMERG, cycle->log, errno, "mkdir() \"%s\" failed", p);
            return WD_ERROR;
        }
        if (sc && sc->change_user && cycle->master_process == 1 && geteuid() == 0
            && chown(p, sc->uid, sc->gid) != 0) {
            wd_log_error(WD_LOG_EMERG, cycle->log, errno, "chown(\"%s\", %u) failed", p,
                         (unsigned) sc->uid);
            return WD_ERROR;
        }
    }
    return WD_OK;
}

static int
wd_http_proxy_preconfiguration(wd_conf_t *cf)
{
    return wd_http_proxy_add_variables();
}

static void *
wd_http_proxy_create_main_conf(wd_conf_t *cf)
{
    wd_http_proxy_main_conf_t *pmcf = wd_pcalloc(cf->pool, sizeof(*pmcf));

    if (pmcf) {
        pmcf->upstreams = wd_array_create(cf->pool, 4, sizeof(wd_http_proxy_upstream_t *));
        pmcf->tls = wd_array_create(cf->pool, 2, sizeof(wd_http_proxy_tls_t));
        pmcf->temp_paths = wd_array_create(cf->pool, 1, sizeof(wd_str_t));
        if (pmcf->upstreams == NULL || pmcf->tls == NULL || pmcf->temp_paths == NULL) {
            return NULL;
        }
    }
    return pmcf;
}

static wd_http_proxy_peer_t *
wd_http_proxy_peer_add(wd_conf_t *cf, wd_http_proxy_upstream_t *u, char *host, unsigned port)
{
    wd_http_proxy_peer_t *p = wd_array_push(u->peers);
    char buf[300];
    int n;

    if (p == NULL) {
        return NULL;
    }
    memset(p, 0, sizeof(*p));
    p->host = host;
    p->port = port;
    n = snprintf(buf, sizeof(buf), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    p->name.data = (u_char *) wd_pstrdup_c(cf->pool, buf);
    p->name.len = n;
    p->weight = 1;
    p->max_fails = 1;
    p->fail_timeout = 10000;
    return p->name.data ? p : NULL;
}

/* Every upstream a proxy_pass named without a port and no block claimed: one server on
 * the scheme's default port (nginx resolves the name here; wasmd when connecting). */
static char *
wd_http_proxy_init_main_conf(wd_conf_t *cf, void *conf)
{
    wd_http_proxy_main_conf_t *pmcf = conf;
    wd_http_proxy_upstream_t **ups = pmcf->upstreams->elts;

    for (wd_uint_t i = 0; i < pmcf->upstreams->nelts; i++) {
        wd_http_proxy_upstream_t *u = ups[i];
        if (u->block) {
            if (u->peers->nelts == 0) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "no servers are inside upstream in %.*s:%lu",
                                  wd_str_pf(&u->file), (unsigned long) u->line);
                return WD_CONF_ERROR;
            }
        } else if (u->peers->nelts == 0) {
            char *h = (char *) wd_pstrdup(cf->pool, &u->name);
            if (h == NULL) {
                return WD_CONF_ERROR;
            }
            h[u->name.len] = '\0';
            if (wd_http_proxy_peer_add(cf, u, h, u->port) == NULL) {
                return WD_CONF_ERROR;
            }
        }
        u->single = u->peers->nelts == 1;
        wd_http_proxy_peer_t *p = u->peers->elts;
        for (wd_uint_t k = 0; k < u->peers->nelts; k++) {
            p[k].effective_weight = p[k].weight;
        }
    }
    return WD_CONF_OK;
}

wd_http_proxy_upstream_t *
wd_http_proxy_find_block(wd_http_proxy_main_conf_t *pmcf, const u_char *name, size_t len)
{
    wd_http_proxy_upstream_t **ups = pmcf->upstreams->elts;

    for (wd_uint_t i = 0; i < pmcf->upstreams->nelts; i++) {
        if (ups[i]->block && ups[i]->name.len == len
            && strncasecmp((char *) ups[i]->name.data, (const char *) name, len) == 0)
        {
            return ups[i];
        }
    }
    return NULL;
}

int
wd_http_proxy_parse_hostport(wd_pool_t *pool, const u_char *s, size_t n, char **host,
                             unsigned *port)
{
    const u_char *hs = s, *he, *colon = NULL;

    if (n == 0) {
        return WD_ERROR;
    }
    if (s[0] == '[') {
        const u_char *rb = memchr(s, ']', n);
        if (rb == NULL || rb == s + 1) {
            return WD_ERROR;
        }
        hs = s + 1;
        he = rb;
        if (rb + 1 < s + n) {
            if (rb[1] != ':') {
                return WD_ERROR;
            }
            colon = rb + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        he = colon ? colon : s + n;
        if (he == hs) {
            return WD_ERROR;
        }
        for (const u_char *x = hs; x < he; x++) {
            if (*x <= ' ' || *x == '/' || *x == '@' || *x == '?' || *x == '#' || *x >= 0x7f) {
                return WD_ERROR;
            }
        }
    }
    *port = 0;
    if (colon) {
        const u_char *ps = colon + 1, *pe = s + n;
        unsigned v = 0;
        if (ps == pe || pe - ps > 5) {
            return WD_ERROR;
        }
        for (; ps < pe; ps++) {
            if (*ps < '0' || *ps > '9') {
                return WD_ERROR;
            }
            v = v * 10 + (*ps - '0');
        }
        if (v == 0 || v > 65535) {
            return WD_ERROR;
        }
        *port = v;
    }
    *host = wd_pnalloc(pool, he - hs + 1);
    if (*host == NULL) {
        return WD_ERROR;
    }
    memcpy(*host, hs, he - hs);
    (*host)[he - hs] = '\0';
    return WD_OK;
}

/* ---------------------------------------------------------------- upstream { } */

typedef struct {
    wd_http_proxy_upstream_t *u;
} wd_http_proxy_ups_parse_t;

static char *
wd_http_proxy_ups_line(wd_conf_t *cf, const wd_command_t *dummy, void *conf)
{
    wd_http_proxy_upstream_t *u = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t n = cf->args->nelts;

    if (wd_str_eq(&args[0], "server")) {
        char *host;
        unsigned port;
        wd_http_proxy_peer_t *p;

        if (n < 2) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "invalid number of arguments in \"server\" directive");
            return WD_CONF_ERROR;
        }
        if (args[1].len > 5 && strncmp((char *) args[1].data, "unix:", 5) == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unix domain sockets in \"server\" are not "
                              "supported by wasmd");
            return WD_CONF_ERROR;
        }
        if (wd_http_proxy_parse_hostport(cf->pool, args[1].data, args[1].len, &host, &port)
            != WD_OK)
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid host in upstream \"%.*s\"",
                              wd_str_pf(&args[1]));
            return WD_CONF_ERROR;
        }
        p = wd_http_proxy_peer_add(cf, u, host, port ? port : 80);
        if (p == NULL) {
            return WD_CONF_ERROR;
        }
        for (wd_uint_t i = 2; i < n; i++) {
            wd_str_t v = args[i];
            if (v.len > 7 && strncmp((char *) v.data, "weight=", 7) == 0) {
                wd_int_t w = wd_atoi(v.data + 7, v.len - 7);
                if (w <= 0) {
                    goto invalid;
                }
                p->weight = w;
            } else if (v.len > 10 && strncmp((char *) v.data, "max_fails=", 10) == 0) {
                wd_int_t m = wd_atoi(v.data + 10, v.len - 10);
                if (m < 0) {
                    goto invalid;
                }
                p->max_fails = m;
            } else if (v.len > 13 && strncmp((char *) v.data, "fail_timeout=", 13) == 0) {
                wd_str_t t = { v.len - 13, v.data + 13 };
                wd_int_t ms = wd_parse_time(&t, 0);
                if (ms == WD_ERROR) {
                    goto invalid;
                }
                p->fail_timeout = ms;
            } else if (wd_str_eq(&v, "backup")) {
                p->backup = 1;
            } else if (wd_str_eq(&v, "down")) {
                p->down = 1;
            } else if ((v.len > 10 && strncmp((char *) v.data, "max_conns=", 10) == 0)
                       || (v.len > 11 && strncmp((char *) v.data, "slow_start=", 11) == 0)
                       || wd_str_eq(&v, "resolve")
                       || (v.len > 8 && strncmp((char *) v.data, "service=", 8) == 0)
                       || (v.len > 6 && strncmp((char *) v.data, "route=", 6) == 0)
                       || wd_str_eq(&v, "drain"))
            {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "server parameter \"%.*s\" is not "
                                  "supported by wasmd", wd_str_pf(&v));
                return WD_CONF_ERROR;
            } else {
                goto invalid;
            }
            continue;
        invalid:
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid parameter \"%.*s\"", wd_str_pf(&v));
            return WD_CONF_ERROR;
        }
        return WD_CONF_OK;
    }
    if (wd_str_eq(&args[0], "keepalive")) {
        if (n != 2) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "invalid number of arguments in \"keepalive\" directive");
            return WD_CONF_ERROR;
        }
        if (u->keepalive) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"keepalive\" directive is duplicate");
            return WD_CONF_ERROR;
        }
        u->keepalive = wd_atoi(args[1].data, args[1].len);
        if (u->keepalive <= 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid value \"%.*s\" in \"keepalive\" "
                              "directive", wd_str_pf(&args[1]));
            return WD_CONF_ERROR;
        }
        return WD_CONF_OK;
    }
    static const char *const unsupported[] = {
        "least_conn", "ip_hash", "hash", "random", "zone", "keepalive_timeout",
        "keepalive_requests", "keepalive_time", "resolver", "resolver_timeout", "ntlm",
        "queue", "sticky", "state", NULL
    };
    for (int i = 0; unsupported[i]; i++) {
        if (wd_str_eq(&args[0], unsupported[i])) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" in \"upstream\" is not supported by "
                              "wasmd (round robin only)", unsupported[i]);
            return WD_CONF_ERROR;
        }
    }
    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unknown directive \"%.*s\"", wd_str_pf(&args[0]));
    return WD_CONF_ERROR;
}

static wd_http_proxy_upstream_t *
wd_http_proxy_upstream_new(wd_conf_t *cf, wd_http_proxy_main_conf_t *pmcf, const wd_str_t *name)
{
    wd_http_proxy_upstream_t *u = wd_pcalloc(cf->pool, sizeof(*u)), **slot;

    if (u == NULL || (u->peers = wd_array_create(cf->pool, 4, sizeof(wd_http_proxy_peer_t)))
                     == NULL || (slot = wd_array_push(pmcf->upstreams)) == NULL)
    {
        return NULL;
    }
    u->name = *name;
    u->file = cf->conf_file->name;
    u->line = cf->conf_file->line;
    *slot = u;
    return u;
}

static char *
wd_http_proxy_upstream(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_main_conf_t *pmcf = wd_http_conf_get_module_main_conf(cf, wd_http_proxy_module);
    wd_str_t *args = cf->args->elts;
    wd_http_proxy_upstream_t **ups = pmcf->upstreams->elts, *u = NULL;
    wd_conf_t save;
    char *rv;

    for (wd_uint_t i = 0; i < pmcf->upstreams->nelts; i++) {
        if (ups[i]->name.len == args[1].len
            && strncasecmp((char *) ups[i]->name.data, (char *) args[1].data, args[1].len) == 0)
        {
            if (ups[i]->block) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate upstream \"%.*s\"",
                                  wd_str_pf(&args[1]));
                return WD_CONF_ERROR;
            }
            if (!ups[i]->no_port) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "upstream \"%.*s\" may not have port %u",
                                  wd_str_pf(&args[1]), ups[i]->port);
                return WD_CONF_ERROR;
            }
            u = ups[i];
        }
    }
    if (u == NULL) {
        u = wd_http_proxy_upstream_new(cf, pmcf, &args[1]);
        if (u == NULL) {
            return WD_CONF_ERROR;
        }
    }
    u->block = 1;
    u->file = cf->conf_file->name;
    u->line = cf->conf_file->line;
    save = *cf;
    cf->handler = wd_http_proxy_ups_line;
    cf->handler_conf = u;
    rv = wd_conf_parse(cf, NULL);
    cf->handler = save.handler;
    cf->handler_conf = save.handler_conf;
    return rv;
}

/* ---------------------------------------------------------------- proxy_pass */

static char *
wd_http_proxy_pass(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_http_proxy_main_conf_t *pmcf = wd_http_conf_get_module_main_conf(cf, wd_http_proxy_module);
    wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf, wd_http_core_module);
    wd_str_t *args = cf->args->elts, url = args[1], hp;
    const u_char *p, *slash;
    size_t skip;
    char *host;
    unsigned port;

    if (plcf->url.len || clcf->handler) {
        return "is duplicate";
    }
    plcf->url = url;
    if (url.len > 7 && strncasecmp((char *) url.data, "http://", 7) == 0) {
        skip = 7;
    } else if (url.len > 8 && strncasecmp((char *) url.data, "https://", 8) == 0) {
        skip = 8;
        plcf->https = 1;
    } else if (memchr(url.data, '$', url.len)) {
        skip = 0;
    } else {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid URL prefix in \"%.*s\"", wd_str_pf(&url));
        return WD_CONF_ERROR;
    }
    clcf->handler = wd_http_proxy_handler;
    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/') {
        clcf->auto_redirect = 1;        /* nginx: "/x" -> 301 "/x/" (wd_http_location.c) */
    }
    if (clcf->kind == WD_HTTP_LOC_PREFIX || clcf->kind == WD_HTTP_LOC_EXACT
        || clcf->kind == WD_HTTP_LOC_NOREGEX)
    {
        plcf->location = clcf->name;
    }
    if (memchr(url.data, '$', url.len)) {
        plcf->url_cv = wd_pcalloc(cf->pool, sizeof(*plcf->url_cv));
        if (plcf->url_cv == NULL
            || wd_http_complex_value_compile(cf, &url, plcf->url_cv) != WD_OK)
        {
            return WD_CONF_ERROR;
        }
        return WD_CONF_OK;
    }
    p = url.data + skip;
    slash = memchr(p, '/', url.data + url.len - p);
    hp.data = (u_char *) p;
    hp.len = (slash ? slash : url.data + url.len) - p;
    if (slash) {
        plcf->has_uri = 1;
        plcf->uri.data = (u_char *) slash;
        plcf->uri.len = url.data + url.len - slash;
        if (clcf->kind == WD_HTTP_LOC_REGEX || clcf->kind == WD_HTTP_LOC_REGEX_CASELESS
            || clcf->kind == WD_HTTP_LOC_NAMED)
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_pass\" cannot have URI part in "
                              "location given by regular expression, or inside named location, "
                              "or inside \"if\" statement, or inside \"limit_except\" block");
            return WD_CONF_ERROR;
        }
    }
    if (hp.len > 5 && strncasecmp((char *) hp.data, "unix:", 5) == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unix domain sockets in \"proxy_pass\" are not "
                          "supported by wasmd");
        return WD_CONF_ERROR;
    }
    if (wd_http_proxy_parse_hostport(cf->pool, hp.data, hp.len, &host, &port) != WD_OK) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid host in \"%.*s\"", wd_str_pf(&url));
        return WD_CONF_ERROR;
    }
    /* $proxy_host: as written, without the scheme's default port */
    unsigned def = plcf->https ? 443 : 80;
    plcf->proxy_host = hp;
    if (port == def) {
        plcf->proxy_host.len = (u_char *) memrchr(hp.data, ':', hp.len) - hp.data;
    }
    {
        char pb[8];
        int n = snprintf(pb, sizeof(pb), "%u", port ? port : def);
        plcf->proxy_port.data = (u_char *) wd_pstrdup_c(cf->pool, pb);
        plcf->proxy_port.len = n;
    }
    /* find or make the upstream entry (nginx's ngx_http_upstream_add) */
    wd_http_proxy_upstream_t **ups = pmcf->upstreams->elts, *u = NULL;
    wd_str_t name = { strlen(host), (u_char *) host };
    for (wd_uint_t i = 0; i < pmcf->upstreams->nelts; i++) {
        wd_http_proxy_upstream_t *x = ups[i];
        if (x->name.len != name.len || strncasecmp((char *) x->name.data, host, name.len) != 0) {
            continue;
        }
        if (x->block || (x->no_port && port == 0)) {
            if (port) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "upstream \"%s\" may not have port %u",
                                  host, port);
                return WD_CONF_ERROR;
            }
            if (!x->block && x->https != plcf->https) {
                continue;
            }
            u = x;
            break;
        }
        if (!x->block && !x->no_port && x->port == (port ? port : def) && x->https == plcf->https)
        {
            u = x;
            break;
        }
    }
    if (u == NULL) {
        u = wd_http_proxy_upstream_new(cf, pmcf, &name);
        if (u == NULL) {
            return WD_CONF_ERROR;
        }
        u->port = port ? port : def;
        u->no_port = port == 0;
        u->https = plcf->https;
    }
    plcf->upstream = u;
    return WD_CONF_OK;
}

/* ---------------------------------------------------------------- other directives */

static char *
wd_http_proxy_set_header(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_http_proxy_header_t *h;

    if (plcf->headers_set == WD_CONF_UNSET_PTR) {
        plcf->headers_set = wd_array_create(cf->pool, 4, sizeof(wd_http_proxy_header_t));
        if (plcf->headers_set == NULL) {
            return WD_CONF_ERROR;
        }
    }
    for (size_t i = 0; i < args[1].len; i++) {
        u_char c = args[1].data[i];
        if (c <= ' ' || c >= 0x7f || c == ':') {
            return wd_conf_invalid_value(cf, &args[1]);
        }
    }
    h = wd_array_push(plcf->headers_set);
    if (h == NULL) {
        return WD_CONF_ERROR;
    }
    memset(h, 0, sizeof(*h));
    h->name = args[1];
    h->empty = args[2].len == 0;
    if (wd_http_complex_value_compile(cf, &args[2], &h->value) != WD_OK) {
        return WD_CONF_ERROR;
    }
    return WD_CONF_OK;
}

static char *
wd_http_proxy_version(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;

    if (plcf->http_version != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    if (wd_str_eq(&args[1], "1.0")) {
        plcf->http_version = 10;
    } else if (wd_str_eq(&args[1], "1.1")) {
        plcf->http_version = 11;
    } else {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    return WD_CONF_OK;
}

static const wd_conf_enum_t wd_http_proxy_next_values[] = {
    { "error", WD_PROXY_FT_ERROR }, { "timeout", WD_PROXY_FT_TIMEOUT },
    { "invalid_header", WD_PROXY_FT_INVALID_HEADER }, { "http_500", WD_PROXY_FT_HTTP_500 },
    { "http_502", WD_PROXY_FT_HTTP_502 }, { "http_503", WD_PROXY_FT_HTTP_503 },
    { "http_504", WD_PROXY_FT_HTTP_504 }, { "http_403", WD_PROXY_FT_HTTP_403 },
    { "http_404", WD_PROXY_FT_HTTP_404 }, { "http_429", WD_PROXY_FT_HTTP_429 },
    { "non_idempotent", WD_PROXY_FT_NON_IDEMPOTENT }, { "off", WD_PROXY_FT_OFF },
    { NULL, 0 }
};

static char *
wd_http_proxy_next(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t mask = 0;

    if (plcf->next_upstream != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    for (wd_uint_t i = 1; i < cf->args->nelts; i++) {
        int k;
        if (wd_str_eq(&args[i], "updating")) {
            continue;                       /* nginx accepts it (proxy_cache only) */
        }
        for (k = 0; wd_http_proxy_next_values[k].name; k++) {
            if (wd_str_eq(&args[i], wd_http_proxy_next_values[k].name)) {
                mask |= wd_http_proxy_next_values[k].value;
                break;
            }
        }
        if (wd_http_proxy_next_values[k].name == NULL) {
            return wd_conf_invalid_value(cf, &args[i]);
        }
    }
    if ((mask & WD_PROXY_FT_OFF) && mask != WD_PROXY_FT_OFF) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"off\" cannot be combined with other "
                          "values in \"proxy_next_upstream\"");
        return WD_CONF_ERROR;
    }
    plcf->next_upstream = mask;
    return WD_CONF_OK;
}

/* The rule nginx's "proxy_redirect default" stands for: the proxy_pass URL (+ "/" when it has
 * no URI part) -> the location's name ("/" without a URI part). */
static int
wd_http_proxy_default_redirect(wd_conf_t *cf, wd_http_proxy_loc_conf_t *plcf,
                               wd_http_proxy_redirect_t *rd)
{
    wd_str_t pat = plcf->url, rep;

    if (plcf->has_uri) {
        rep = plcf->location;
    } else {
        pat.data = wd_pnalloc(cf->pool, plcf->url.len + 1);
        if (pat.data == NULL) {
            return WD_ERROR;
        }
        memcpy(pat.data, plcf->url.data, plcf->url.len);
        pat.data[plcf->url.len] = '/';
        pat.len = plcf->url.len + 1;
        wd_str_set(&rep, "/");
    }
    memset(rd, 0, sizeof(*rd));
    rd->pattern.source = pat;           /* no variables: plain strings */
    rd->replacement.source = rep;
    return WD_OK;
}

static char *
wd_http_proxy_redirect(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_http_proxy_redirect_t *rd;

    if (plcf->redirect == 0) {
        return "is duplicate";
    }
    plcf->redirect = 1;
    if (cf->args->nelts == 2) {
        if (wd_str_eq(&args[1], "off")) {
            if (plcf->redirects) {
                return "is duplicate";
            }
            plcf->redirect = 0;
            return WD_CONF_OK;
        }
        if (wd_str_eq(&args[1], "false")) {
            wd_conf_log_error(WD_LOG_ERR, cf, 0, "invalid parameter \"false\", use \"off\" "
                              "instead");
            plcf->redirect = 0;
            return WD_CONF_OK;
        }
        if (!wd_str_eq(&args[1], "default")) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid parameter \"%.*s\"",
                              wd_str_pf(&args[1]));
            return WD_CONF_ERROR;
        }
    }
    if (plcf->redirects == NULL) {
        plcf->redirects = wd_array_create(cf->pool, 2, sizeof(wd_http_proxy_redirect_t));
        if (plcf->redirects == NULL) {
            return WD_CONF_ERROR;
        }
    }
    rd = wd_array_push(plcf->redirects);
    if (rd == NULL) {
        return WD_CONF_ERROR;
    }
    if (cf->args->nelts == 2) {         /* default */
        if (plcf->url_cv) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_redirect default\" cannot be used "
                              "with \"proxy_pass\" directive with variables");
            return WD_CONF_ERROR;
        }
        if (plcf->url.len == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_redirect default\" should be placed "
                              "after the \"proxy_pass\" directive");
            return WD_CONF_ERROR;
        }
        return wd_http_proxy_default_redirect(cf, plcf, rd) == WD_OK ? WD_CONF_OK
                                                                     : WD_CONF_ERROR;
    }
    memset(rd, 0, sizeof(*rd));
    if (args[1].len && args[1].data[0] == '~') {
        /* nginx: "~" case-sensitive, "~*" caseless; POSIX extended regular expressions */
        int icase = args[1].len > 1 && args[1].data[1] == '*';
        wd_str_t src = { args[1].len - 1 - icase, args[1].data + 1 + icase };
        const u_char *p = args[2].data, *e = args[2].data + args[2].len, *lit = p;
        if (src.len == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "empty regular expression in "
                              "\"proxy_redirect\"");
            return WD_CONF_ERROR;
        }
        rd->re = wd_http_regex_compile_flags(cf, &src, icase ? REG_ICASE : 0);
        rd->parts = wd_array_create(cf->pool, 4, sizeof(wd_http_proxy_rpart_t));
        if (rd->re == NULL || rd->parts == NULL) {
            return WD_CONF_ERROR;
        }
        /* the replacement: captures ($0..$9) between pieces of text with variables */
        while (p <= e) {
            int cap = -1;
            size_t skip = 0;
            if (p < e && p[0] == '$' && p + 1 < e && p[1] >= '0' && p[1] <= '9') {
                cap = p[1] - '0';
                skip = 2;
            }
            if (cap >= 0 || p == e) {
                wd_http_proxy_rpart_t *rp;
                if (p > lit) {
                    wd_str_t t = { p - lit, (u_char *) lit };
                    rp = wd_array_push(rd->parts);
                    if (rp == NULL || wd_http_complex_value_compile(cf, &t, &rp->text) != WD_OK) {
                        return WD_CONF_ERROR;
                    }
                    rp->capture = -1;
                }
                if (p == e) {
                    break;
                }
                if ((size_t) cap > rd->re->re_nsub) {
                    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_redirect\" replacement "
                                      "refers to capture $%d, the regular expression has %zu",
                                      cap, rd->re->re_nsub);
                    return WD_CONF_ERROR;
                }
                rp = wd_array_push(rd->parts);
                if (rp == NULL) {
                    return WD_CONF_ERROR;
                }
                memset(rp, 0, sizeof(*rp));
                rp->capture = cap;
                p += skip;
                lit = p;
                continue;
            }
            p++;
        }
        return WD_CONF_OK;
    }
    if (wd_http_complex_value_compile(cf, &args[1], &rd->pattern) != WD_OK
        || wd_http_complex_value_compile(cf, &args[2], &rd->replacement) != WD_OK)
    {
        return WD_CONF_ERROR;
    }
    return WD_CONF_OK;
}

/* proxy_buffers number size */
static char *
wd_http_proxy_buffers(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_int_t n;
    ssize_t size;

    if (plcf->buffers_num != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    n = wd_atoi(args[1].data, args[1].len);
    if (n <= 0) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    size = wd_parse_size(&args[2]);
    if (size <= 0) {
        return wd_conf_invalid_value(cf, &args[2]);
    }
    plcf->buffers_num = (wd_uint_t) n;
    plcf->buffers_size = (size_t) size;
    return WD_CONF_OK;
}

/* proxy_temp_path path [level1 [level2 [level3]]]: the levels are accepted and checked
 * (wasmd's temporary files have no names: O_TMPFILE, so no subdirectories are made) */
static char *
wd_http_proxy_temp_path(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts, path = args[1];

    if (plcf->temp_path.data) {
        return "is duplicate";
    }
    for (wd_uint_t i = 2; i < cf->args->nelts; i++) {
        wd_int_t l = wd_atoi(args[i].data, args[i].len);
        if (l < 1 || l > 2) {
            return wd_conf_invalid_value(cf, &args[i]);
        }
    }
    while (path.len > 1 && path.data[path.len - 1] == '/') {
        path.len--;
    }
    if (wd_conf_full_name(cf->cycle, &path, 0) != WD_OK) {
        return WD_CONF_ERROR;
    }
    plcf->temp_path = path;
    return WD_CONF_OK;
}

static int
wd_http_proxy_str_same(const wd_str_t *a, const wd_str_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static char *
wd_http_proxy_ssl_name(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;

    if (plcf->ssl_name != WD_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    plcf->ssl_name = wd_pcalloc(cf->pool, sizeof(wd_http_complex_value_t));
    if (plcf->ssl_name == NULL
        || wd_http_complex_value_compile(cf, &args[1], plcf->ssl_name) != WD_OK) {
        return WD_CONF_ERROR;
    }
    return WD_CONF_OK;
}

/* proxy_ssl_certificate[_key] FILE: read by the master when the context is made */
static char *
wd_http_proxy_ssl_file(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *args = cf->args->elts;
    wd_str_t *field = (wd_str_t *) ((char *) conf + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }
    if (memchr(args[1].data, '$', args[1].len)) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "variables in \"%s\" are not supported by "
                          "wasmd (a file name is)", cmd->name);
        return WD_CONF_ERROR;
    }
    if (args[1].len > 5 && memcmp(args[1].data, "data:", 5) == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"data:\" in \"%s\" is not supported by "
                          "wasmd (a file name is)", cmd->name);
        return WD_CONF_ERROR;
    }
    *field = args[1];
    return wd_conf_full_name(cf->cycle, field, 1) == WD_OK ? WD_CONF_OK : WD_CONF_ERROR;
}

static char *
wd_http_proxy_ssl_protocols(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    static const struct { const char *name; wd_uint_t bit; } protos[] = {
        { "SSLv2", WD_OCONN_SSLv2 }, { "SSLv3", WD_OCONN_SSLv3 }, { "TLSv1", WD_OCONN_TLSv1 },
        { "TLSv1.1", WD_OCONN_TLSv1_1 }, { "TLSv1.2", WD_OCONN_TLSv1_2 },
        { "TLSv1.3", WD_OCONN_TLSv1_3 }, { NULL, 0 } };
    wd_http_proxy_loc_conf_t *plcf = conf;
    wd_str_t *args = cf->args->elts;

    if (plcf->ssl_protocols != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    plcf->ssl_protocols = 0;
    for (wd_uint_t i = 1; i < cf->args->nelts; i++) {
        int k;
        for (k = 0; protos[k].name; k++) {
            if (wd_str_eq(&args[i], protos[k].name)) {
                break;
            }
        }
        if (protos[k].name == NULL) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid value \"%.*s\" in \"%s\" "
                              "directive", wd_str_pf(&args[i]), cmd->name);
            return WD_CONF_ERROR;
        }
        if (protos[k].bit == WD_OCONN_SSLv2) {
            wd_conf_log_error(WD_LOG_WARN, cf, 0, "SSLv2 is not supported by OpenSSL: "
                              "ignored in \"%s\"", cmd->name);
        }
        plcf->ssl_protocols |= protos[k].bit;
    }
    return WD_CONF_OK;
}

static char *
wd_http_proxy_unsupported(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" directive is not supported by wasmd",
                      cmd->name);
    return WD_CONF_ERROR;
}

/* ---------------------------------------------------------------- loc conf */

static void *
wd_http_proxy_create_loc_conf(wd_conf_t *cf)
{
    wd_http_proxy_loc_conf_t *c = wd_pcalloc(cf->pool, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->headers_set = WD_CONF_UNSET_PTR;
    c->hide_headers = WD_CONF_UNSET_PTR;
    c->redirect = WD_CONF_UNSET;
    c->http_version = WD_CONF_UNSET_UINT;
    c->connect_timeout = c->read_timeout = c->send_timeout = WD_CONF_UNSET_MSEC;
    c->next_upstream_timeout = WD_CONF_UNSET_MSEC;
    c->buffering = WD_CONF_UNSET;
    c->next_upstream = WD_CONF_UNSET_UINT;
    c->next_upstream_tries = WD_CONF_UNSET_UINT;
    c->pass_request_headers = c->pass_request_body = WD_CONF_UNSET;
    c->buffer_size = WD_CONF_UNSET_SIZE;
    c->buffers_num = WD_CONF_UNSET_UINT;
    c->busy_conf = c->write_conf = WD_CONF_UNSET_SIZE;
    c->max_temp_conf = WD_CONF_UNSET_OFF;
    c->ssl_verify = c->ssl_server_name = c->ssl_session_reuse = WD_CONF_UNSET;
    c->ssl_protocols = c->ssl_verify_depth = WD_CONF_UNSET_UINT;
    c->ssl_name = WD_CONF_UNSET_PTR;
    return c;
}

/* nginx's ngx_http_proxy_headers: sent unless proxy_set_header names them */
static const struct { const char *name, *value; } wd_http_proxy_default_headers[] = {
    { "Host", "$proxy_host" },
    { "Connection", "close" },
    { "Content-Length", "" },       /* framing: the client writes its own */
    { "Transfer-Encoding", "" },
    { "TE", "" },
    { "Keep-Alive", "" },
    { "Expect", "" },
    { "Upgrade", "" },
    { NULL, NULL }
};

static char *
wd_http_proxy_merge_headers(wd_conf_t *cf, wd_http_proxy_loc_conf_t *c)
{
    wd_array_t *set = c->headers_set;
    wd_http_proxy_header_t *h, *s = set ? set->elts : NULL;
    wd_uint_t n = set ? set->nelts : 0;

    c->headers = wd_array_create(cf->pool, n + 8, sizeof(wd_http_proxy_header_t));
    if (c->headers == NULL) {
        return WD_CONF_ERROR;
    }
    for (wd_uint_t i = 0; i < n; i++) {
        h = wd_array_push(c->headers);
        if (h == NULL) {
            return WD_CONF_ERROR;
        }
        *h = s[i];
    }
    for (int d = 0; wd_http_proxy_default_headers[d].name; d++) {
        const char *dn = wd_http_proxy_default_headers[d].name;
        wd_uint_t i;
        for (i = 0; i < n; i++) {
            if (s[i].name.len == strlen(dn) && strncasecmp((char *) s[i].name.data, dn,
                                                            s[i].name.len) == 0) {
                break;
            }
        }
        if (i < n) {
            continue;
        }
        h = wd_array_push(c->headers);
        if (h == NULL) {
            return WD_CONF_ERROR;
        }
        memset(h, 0, sizeof(*h));
        h->name.data = (u_char *) dn;
        h->name.len = strlen(dn);
        wd_str_t v = { strlen(wd_http_proxy_default_headers[d].value),
                       (u_char *) wd_http_proxy_default_headers[d].value };
        h->empty = v.len == 0;
        if (wd_http_complex_value_compile(cf, &v, &h->value) != WD_OK) {
            return WD_CONF_ERROR;
        }
    }
    return WD_CONF_OK;
}

static void
wd_http_proxy_tls_free(void *data)
{
    wd_oconn_tls_ctx_free(*(void **) data);
}

static char *
wd_http_proxy_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_proxy_loc_conf_t *prev = parent, *c = child;

    if (c->headers_set == WD_CONF_UNSET_PTR) {
        c->headers_set = prev->headers_set;
        c->headers = prev->headers;
    }
    if (c->headers_set == WD_CONF_UNSET_PTR) {
        c->headers_set = NULL;
    }
    if (c->headers == NULL) {
        if (wd_http_proxy_merge_headers(cf, c) != WD_CONF_OK) {
            return WD_CONF_ERROR;
        }
        if (prev->headers == NULL && prev->headers_set == c->headers_set) {
            prev->headers = c->headers;     /* siblings inheriting the same list share it */
        }
    }
    wd_conf_merge_ptr_value(c->hide_headers, prev->hide_headers, NULL);
    /* proxy_redirect: nginx's merge -- the level's own rules, else the enclosing level's,
     * else (proxy_pass without variables here) the default rule */
    wd_conf_merge_value(c->redirect, prev->redirect, 1);
    if (c->redirect) {
        if (c->redirects == NULL) {
            c->redirects = prev->redirects;
        }
        if (c->redirects == NULL && c->url.len && c->url_cv == NULL) {
            c->redirects = wd_array_create(cf->pool, 1, sizeof(wd_http_proxy_redirect_t));
            wd_http_proxy_redirect_t *rd = c->redirects ? wd_array_push(c->redirects) : NULL;
            if (rd == NULL || wd_http_proxy_default_redirect(cf, c, rd) != WD_OK) {
                return WD_CONF_ERROR;
            }
        }
    } else {
        c->redirects = NULL;
    }
    wd_conf_merge_uint_value(c->http_version, prev->http_version, 10);
    wd_conf_merge_msec_value(c->connect_timeout, prev->connect_timeout, 60000);
    wd_conf_merge_msec_value(c->read_timeout, prev->read_timeout, 60000);
    wd_conf_merge_msec_value(c->send_timeout, prev->send_timeout, 60000);
    wd_conf_merge_msec_value(c->next_upstream_timeout, prev->next_upstream_timeout, 0);
    wd_conf_merge_value(c->buffering, prev->buffering, 1);
    wd_conf_merge_uint_value(c->next_upstream, prev->next_upstream,
                             WD_PROXY_FT_ERROR | WD_PROXY_FT_TIMEOUT);
    wd_conf_merge_uint_value(c->next_upstream_tries, prev->next_upstream_tries, 0);
    wd_conf_merge_value(c->pass_request_headers, prev->pass_request_headers, 1);
    wd_conf_merge_value(c->pass_request_body, prev->pass_request_body, 1);
    wd_conf_merge_size_value(c->buffer_size, prev->buffer_size, 4096);
    if (c->buffers_num == WD_CONF_UNSET_UINT) {
        c->buffers_num = prev->buffers_num == WD_CONF_UNSET_UINT ? 8 : prev->buffers_num;
        c->buffers_size = prev->buffers_num == WD_CONF_UNSET_UINT ? 4096 : prev->buffers_size;
    }
    /* nginx's checks and defaults (ngx_http_proxy_merge_loc_conf) */
    size_t one = wd_max(c->buffer_size, c->buffers_size);
    if (c->buffers_num < 2) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "there must be at least 2 \"proxy_buffers\"");
        return WD_CONF_ERROR;
    }
    wd_conf_merge_size_value(c->busy_conf, prev->busy_conf, WD_CONF_UNSET_SIZE);
    c->busy_buffers_size = c->busy_conf == WD_CONF_UNSET_SIZE ? 2 * one : c->busy_conf;
    if (c->busy_buffers_size < one) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_busy_buffers_size\" must be equal to "
                          "or greater than the maximum of the value of \"proxy_buffer_size\" "
                          "and one of the \"proxy_buffers\"");
        return WD_CONF_ERROR;
    }
    if (c->busy_buffers_size > (c->buffers_num - 1) * c->buffers_size) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_busy_buffers_size\" must be less than "
                          "the size of all \"proxy_buffers\" minus one buffer");
        return WD_CONF_ERROR;
    }
    wd_conf_merge_size_value(c->write_conf, prev->write_conf, WD_CONF_UNSET_SIZE);
    c->temp_file_write_size = c->write_conf == WD_CONF_UNSET_SIZE ? 2 * one : c->write_conf;
    if (c->temp_file_write_size < one) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_temp_file_write_size\" must be equal "
                          "to or greater than the maximum of the value of \"proxy_buffer_size\" "
                          "and one of the \"proxy_buffers\"");
        return WD_CONF_ERROR;
    }
    wd_conf_merge_off_value(c->max_temp_conf, prev->max_temp_conf, WD_CONF_UNSET_OFF);
    c->max_temp_file_size = c->max_temp_conf == WD_CONF_UNSET_OFF ? (off_t) 1024 * 1024 * 1024
                                                                  : c->max_temp_conf;
    if (c->max_temp_file_size != 0 && c->max_temp_file_size < (off_t) one) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"proxy_max_temp_file_size\" must be equal to "
                          "zero to disable temporary files usage or must be equal to or greater "
                          "than the maximum of the value of \"proxy_buffer_size\" and one of "
                          "the \"proxy_buffers\"");
        return WD_CONF_ERROR;
    }
    if (c->temp_path.data == NULL) {
        c->temp_path = prev->temp_path;
    }
    if (c->temp_path.data == NULL) {
        wd_str_t t = wd_string("proxy_temp");
        if (wd_conf_full_name(cf->cycle, &t, 0) != WD_OK) {
            return WD_CONF_ERROR;
        }
        c->temp_path = t;
    }
    if (c->url.len && c->max_temp_file_size > 0) {
        /* a proxy_pass location that may spill: its directory, made by the master and
         * writable by the workers (Landlock) */
        wd_http_proxy_main_conf_t *pm = wd_http_conf_get_module_main_conf(cf,
                                                                     wd_http_proxy_module);
        wd_str_t *tp = pm->temp_paths->elts;
        wd_uint_t i;
        for (i = 0; i < pm->temp_paths->nelts; i++) {
            if (tp[i].len == c->temp_path.len
                && memcmp(tp[i].data, c->temp_path.data, tp[i].len) == 0) {
                break;
            }
        }
        if (i == pm->temp_paths->nelts) {
            tp = wd_array_push(pm->temp_paths);
            if (tp == NULL || wd_sandbox_allow_path(cf->cycle, (char *) c->temp_path.data,
                                                    WD_SANDBOX_MODIFY) != WD_OK) {
                return WD_CONF_ERROR;
            }
            *tp = c->temp_path;
        }
    }
    wd_conf_merge_value(c->ssl_verify, prev->ssl_verify, 0);
    wd_conf_merge_value(c->ssl_server_name, prev->ssl_server_name, 0);
    wd_conf_merge_value(c->ssl_session_reuse, prev->ssl_session_reuse, 1);
    wd_conf_merge_str_value(c->ssl_trusted_certificate, prev->ssl_trusted_certificate, "");
    wd_conf_merge_str_value(c->ssl_certificate, prev->ssl_certificate, "");
    wd_conf_merge_str_value(c->ssl_certificate_key, prev->ssl_certificate_key, "");
    wd_conf_merge_str_value(c->ssl_ciphers, prev->ssl_ciphers, "DEFAULT");
    wd_conf_merge_uint_value(c->ssl_protocols, prev->ssl_protocols,
                             WD_OCONN_TLSv1_2 | WD_OCONN_TLSv1_3);
    wd_conf_merge_uint_value(c->ssl_verify_depth, prev->ssl_verify_depth, 1);
    wd_conf_merge_ptr_value(c->ssl_name, prev->ssl_name, NULL);
    if (c->ssl_certificate.len && c->ssl_certificate_key.len == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "no \"proxy_ssl_certificate_key\" is defined "
                          "for certificate \"%.*s\"", wd_str_pf(&c->ssl_certificate));
        return WD_CONF_ERROR;
    }

    /* https upstreams (or variables, which may name one): a client context, made here in
     * the master so workers never read certificate stores or keys */
    if ((c->https || c->url_cv) && c->tls_ctx == NULL) {
        char err[300];
        wd_http_proxy_tls_conf_t tc;
        wd_http_proxy_main_conf_t *pmcf = wd_http_conf_get_module_main_conf(cf,
                                                                       wd_http_proxy_module);
        wd_http_proxy_tls_t *t = pmcf->tls->elts;
        if (c->ssl_verify && c->ssl_trusted_certificate.len == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "no proxy_ssl_trusted_certificate for proxy_ssl_verify");
            return WD_CONF_ERROR;
        }
        memset(&tc, 0, sizeof(tc));
        tc.ca = c->ssl_trusted_certificate;
        tc.cert = c->ssl_certificate;
        tc.key = c->ssl_certificate.len ? c->ssl_certificate_key : tc.key;
        tc.ciphers = c->ssl_ciphers;
        tc.protocols = c->ssl_protocols;
        tc.verify = c->ssl_verify;
        tc.sni = c->ssl_server_name;
        tc.session_reuse = c->ssl_session_reuse;
        tc.verify_depth = c->ssl_verify_depth;
        /* one context per distinct set of settings: loading the system store is the
         * expensive part of a configuration */
        for (wd_uint_t i = 0; i < pmcf->tls->nelts; i++) {
            wd_http_proxy_tls_conf_t *o = &t[i].conf;
            if (o->verify == tc.verify && o->sni == tc.sni
                && o->session_reuse == tc.session_reuse && o->protocols == tc.protocols
                && o->verify_depth == tc.verify_depth && wd_http_proxy_str_same(&o->ca, &tc.ca)
                && wd_http_proxy_str_same(&o->cert, &tc.cert) && wd_http_proxy_str_same(&o->key, &tc.key)
                && wd_http_proxy_str_same(&o->ciphers, &tc.ciphers)) {
                c->tls_ctx = t[i].tls_ctx;
                return WD_CONF_OK;
            }
        }
        wd_str_t ca = tc.ca;
        if (ca.len && wd_conf_full_name(cf->cycle, &ca, 1) != WD_OK) {
            return WD_CONF_ERROR;
        }
        wd_oconn_tls_conf_t oc;
        memset(&oc, 0, sizeof(oc));
        oc.ca_file = ca.len ? (char *) ca.data : NULL;
        oc.cert = tc.cert.len ? (char *) tc.cert.data : NULL;
        oc.key = tc.key.len ? (char *) tc.key.data : NULL;
        oc.ciphers = (char *) tc.ciphers.data;
        oc.protocols = (unsigned) tc.protocols;
        oc.verify = (int) tc.verify;
        oc.sni = (int) tc.sni;
        oc.verify_depth = (int) tc.verify_depth;
        oc.session_reuse = (int) tc.session_reuse;
        c->tls_ctx = wd_oconn_tls_ctx_conf(&oc, err, sizeof(err));
        if (c->tls_ctx == NULL) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "proxy_ssl_*: %s", err);
            return WD_CONF_ERROR;
        }
        wd_pool_cleanup_t *cln = wd_pool_cleanup_add(cf->pool, sizeof(void *));
        if (cln == NULL) {
            wd_oconn_tls_ctx_free(c->tls_ctx);
            return WD_CONF_ERROR;
        }
        cln->handler = wd_http_proxy_tls_free;
        *(void **) cln->data = c->tls_ctx;
        t = wd_array_push(pmcf->tls);
        if (t == NULL) {
            return WD_CONF_ERROR;
        }
        t->conf = tc;
        t->tls_ctx = c->tls_ctx;
    }
    return WD_CONF_OK;
}
