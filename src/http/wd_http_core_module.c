/*
 * wd_http_core_module.c -- the http{} block and the core http directives:
 * server, listen, server_name, location, return, add_header, error_log,
 * keepalive_*, client_*, send_timeout, large_client_header_buffers.
 *
 * http{} creates the http-level confs of every http module, parses its
 * block, then (nginx's order) init_main_conf, merges every server's srv and
 * loc confs and, recursively, every location's loc confs, runs
 * postconfiguration, and finally turns the listen directives into
 * wd_http_addr_conf_t (the servers and name tables of one address) and
 * wd_listening_t entries of the cycle. A wildcard socket (0.0.0.0:P / [::]:P)
 * also serves the specific addresses on port P (one bind per port).
 */
#include "wd_http_conf.h"
#include <netdb.h>

typedef struct {
    struct sockaddr_storage   sockaddr;
    socklen_t                 socklen;
    wd_str_t                  addr_text;
    wd_http_core_srv_conf_t  *server;
    int                       backlog;
    unsigned                  default_server:1;
    unsigned                  reuseport:1;
    unsigned                  ssl:1;
    unsigned                  opts:1;
    wd_str_t                  file;
    wd_uint_t                 line;
} wd_http_listen_t;

#define WD_HTTP_DEFAULT_BACKLOG 511

int wd_http_ssl_available;

static char *wd_http_block(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_server(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_location(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_listen(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_server_name(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_return(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_add_header(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_error_log(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_keepalive(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_core_large_buffers(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_core_create_main_conf(wd_conf_t *cf);
static void *wd_http_core_create_srv_conf(wd_conf_t *cf);
static char *wd_http_core_merge_srv_conf(wd_conf_t *cf, void *prev, void *conf);
static void *wd_http_core_create_loc_conf(wd_conf_t *cf);
static char *wd_http_core_merge_loc_conf(wd_conf_t *cf, void *prev, void *conf);

/* ---- the http{} block: a core module ---- */

static const wd_command_t wd_http_commands[] = {
    { "http", WD_MAIN_CONF | WD_CONF_BLOCK | WD_CONF_NOARGS, wd_http_block, 0, 0, NULL },
    wd_null_command
};

wd_module_t wd_http_module = {
    "http", WD_CORE_MODULE, wd_http_commands, NULL, NULL, NULL, NULL, NULL, 0, 0
};

/* ---- the core http module ---- */

#define WD_HTTP_MSL   (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)
#define WD_HTTP_MS    (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF)
#define LOC           WD_HTTP_LOC_CONF_OFFSET
#define LOFF(f)       offsetof(wd_http_core_loc_conf_t, f)

static const wd_conf_num_bounds_t wd_http_positive = { wd_conf_check_num_bounds, 1, -1 };

static const wd_command_t wd_http_core_commands[] = {
    { "server", WD_HTTP_MAIN_CONF | WD_CONF_BLOCK | WD_CONF_NOARGS,
      wd_http_core_server, 0, 0, NULL },
    { "listen", WD_HTTP_SRV_CONF | WD_CONF_1MORE,
      wd_http_core_listen, WD_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { "server_name", WD_HTTP_SRV_CONF | WD_CONF_1MORE,
      wd_http_core_server_name, WD_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { "location", WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_BLOCK | WD_CONF_TAKE12,
      wd_http_core_location, 0, 0, NULL },
    { "return", WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_TAKE12,
      wd_http_core_return, LOC, 0, NULL },
    { "add_header", WD_HTTP_MSL | WD_CONF_TAKE23,
      wd_http_core_add_header, LOC, 0, NULL },
    { "error_log", WD_HTTP_MSL | WD_CONF_TAKE12,
      wd_http_core_error_log, LOC, 0, NULL },
    { "keepalive_timeout", WD_HTTP_MSL | WD_CONF_TAKE12,
      wd_http_core_keepalive, LOC, LOFF(keepalive_timeout), NULL },
    { "keepalive_requests", WD_HTTP_MSL | WD_CONF_TAKE1,
      wd_conf_set_uint_slot, LOC, LOFF(keepalive_requests), NULL },
    { "client_header_timeout", WD_HTTP_MS | WD_CONF_TAKE1,
      wd_conf_set_msec_slot, LOC, LOFF(client_header_timeout), NULL },
    { "client_body_timeout", WD_HTTP_MSL | WD_CONF_TAKE1,
      wd_conf_set_msec_slot, LOC, LOFF(client_body_timeout), NULL },
    { "send_timeout", WD_HTTP_MSL | WD_CONF_TAKE1,
      wd_conf_set_msec_slot, LOC, LOFF(send_timeout), NULL },
    { "client_max_body_size", WD_HTTP_MSL | WD_CONF_TAKE1,
      wd_conf_set_off_slot, LOC, LOFF(client_max_body_size), NULL },
    { "client_header_buffer_size", WD_HTTP_MS | WD_CONF_TAKE1,
      wd_conf_set_size_slot, LOC, LOFF(client_header_buffer_size), &wd_http_positive },
    { "large_client_header_buffers", WD_HTTP_MS | WD_CONF_TAKE2,
      wd_http_core_large_buffers, LOC, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_core_module_ctx = {
    NULL, NULL,
    NULL, NULL,
    wd_http_core_create_main_conf, NULL,
    wd_http_core_create_srv_conf, wd_http_core_merge_srv_conf,
    wd_http_core_create_loc_conf, wd_http_core_merge_loc_conf
};

wd_module_t wd_http_core_module = {
    "http_core", WD_HTTP_MODULE, wd_http_core_commands, &wd_http_core_module_ctx,
    NULL, NULL, NULL, NULL, 0, 0
};

static void
wd_http_regex_cleanup(void *data)
{
    regfree(data);
}

/*
 * An estimate of the work glibc's regcomp() does for a pattern: it expands repetitions by
 * copying the repeated tree (a+ is aa*, a{2,5} five copies), so nested or stacked
 * quantifiers multiply ("a++++...", "((a+)+)+", "(a{999}){999}"), and repeating something
 * that can match the empty string ("(a|)+", "(a*)+") or stacking quantifiers ("a***")
 * builds epsilon loops whose closure computation grows much faster still: a few dozen bytes of configuration could take
 * gigabytes and minutes (found by t/fuzz/fuzz_conf). Saturates at WD_HTTP_REGEX_MAX_COST + 1.
 */
#define WD_HTTP_REGEX_MAX_COST  100000
#define WD_HTTP_REGEX_MAX_DEPTH 64

typedef struct {
    uint64_t sum, last;            /* size of this group so far, of its last atom */
    unsigned last_nullable:1;      /* the last atom can match "" */
    unsigned branch_nullable:1;    /* the current alternative so far can match "" */
    unsigned before_last:1;        /* ... not counting the last atom */
    unsigned group_nullable:1;     /* an earlier alternative can match "" */
    unsigned quantified:1;         /* the last atom has a quantifier already */
} wd_http_regex_level_t;

static uint64_t
wd_http_regex_cost(const u_char *p, size_t len)
{
    const uint64_t cap = WD_HTTP_REGEX_MAX_COST + 1;
    wd_http_regex_level_t lv[WD_HTTP_REGEX_MAX_DEPTH], *l = lv;
    uint64_t k, m, n;
    unsigned nullable;
    size_t i, j;

#define WD_RE_ATOM(size, null)                                                 \
    (l->last = (size), l->sum = wd_min(cap, l->sum + l->last),                 \
     l->last_nullable = (null), l->before_last = l->branch_nullable,           \
     l->branch_nullable = l->branch_nullable && (null), l->quantified = 0)
#define WD_RE_TIMES(t)                                                         \
    (k = (t), l->sum = wd_min(cap, l->sum + l->last * (k - 1)),                \
     l->last = wd_min(cap, l->last * k))
#define WD_RE_OPTIONAL()                                                       \
    (l->last_nullable = 1, l->branch_nullable = l->before_last)

    memset(l, 0, sizeof(*l));
    l->branch_nullable = 1;
    for (i = 0; i < len; i++) {
        if (p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{') {
            /* stacked quantifiers ("a**", "a+*", "a{2}+") are undefined in POSIX EREs and
             * glibc's closures grow exponentially with them: refused */
            if (l->quantified) {
                return cap;
            }
            l->quantified = 1;
        }
        switch (p[i]) {
        case '\\':
            i++;
            WD_RE_ATOM(1, 0);
            break;
        case '[':                                   /* a bracket expression is one atom */
            i++;
            if (i < len && p[i] == '^') i++;
            if (i < len && p[i] == ']') i++;
            while (i < len && p[i] != ']') {
                if (p[i] == '[' && i + 1 < len && (p[i + 1] == ':' || p[i + 1] == '='
                                                   || p[i + 1] == '.')) {
                    u_char t = p[i + 1];
                    for (i += 2; i + 1 < len && !(p[i] == t && p[i + 1] == ']'); i++) { }
                    i++;
                }
                i++;
            }
            WD_RE_ATOM(1, 0);
            break;
        case '(':
            if (l + 1 == lv + WD_HTTP_REGEX_MAX_DEPTH) {
                return cap;
            }
            l++;
            memset(l, 0, sizeof(*l));
            l->branch_nullable = 1;
            break;
        case '|':
            l->group_nullable |= l->branch_nullable;
            l->branch_nullable = 1;
            break;
        case ')':
            if (l > lv) {
                k = l->sum ? l->sum : 1;
                nullable = l->group_nullable | l->branch_nullable;
                l--;
                WD_RE_ATOM(k, nullable);
            } else {
                WD_RE_ATOM(1, 0);
            }
            break;
        case '*': case '?':
            WD_RE_OPTIONAL();
            break;
        case '+':
            WD_RE_TIMES(l->last_nullable ? 8 : 2);
            break;
        case '{':
            m = n = 0;
            for (j = i + 1; j < len && p[j] >= '0' && p[j] <= '9'; j++) {
                m = wd_min(cap, m * 10 + (uint64_t) (p[j] - '0'));
            }
            if (j < len && p[j] == ',') {
                for (j++; j < len && p[j] >= '0' && p[j] <= '9'; j++) {
                    n = wd_min(cap, n * 10 + (uint64_t) (p[j] - '0'));
                }
            }
            if (j < len && p[j] == '}' && j > i + 1) {
                WD_RE_TIMES((wd_max(m, n) + 1) * (l->last_nullable ? 4 : 1));
                if (m == 0) {
                    WD_RE_OPTIONAL();
                }
                i = j;
            } else {
                WD_RE_ATOM(1, 0);
            }
            break;
        case '^': case '$':
            break;
        default:
            WD_RE_ATOM(1, 0);
        }
    }
    while (l > lv) {
        k = l->sum ? l->sum : 1;
        nullable = l->group_nullable | l->branch_nullable;
        l--;
        WD_RE_ATOM(k, nullable);
    }
#undef WD_RE_ATOM
#undef WD_RE_TIMES
#undef WD_RE_OPTIONAL
    return lv[0].sum;
}

/* Compiles a POSIX extended regex, freed with the cycle's pool. */
static regex_t *
wd_http_regex_compile(wd_conf_t *cf, const wd_str_t *src, int caseless)
{
    return wd_http_regex_compile_flags(cf, src, REG_NOSUB | (caseless ? REG_ICASE : 0));
}

regex_t *
wd_http_regex_compile_flags(wd_conf_t *cf, const wd_str_t *src, int cflags)
{
    wd_pool_cleanup_t *cln;
    regex_t *re;
    char errbuf[256];
    int rc;

    cln = wd_pool_cleanup_add(cf->pool, 0);
    re = wd_pcalloc(cf->pool, sizeof(regex_t));
    if (cln == NULL || re == NULL) {
        return NULL;
    }
    if (wd_http_regex_cost(src->data, src->len) > WD_HTTP_REGEX_MAX_COST) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "regular expression \"%.*s\" is too complex "
                          "(nested or repeated quantifiers)", wd_str_pf(src));
        return NULL;
    }
    char *z = wd_pnalloc(cf->pool, src->len + 1);
    if (z == NULL) {
        return NULL;
    }
    memcpy(z, src->data, src->len);
    z[src->len] = '\0';
    rc = regcomp(re, z, REG_EXTENDED | cflags);
    if (rc != 0) {
        regerror(rc, re, errbuf, sizeof(errbuf));
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "regcomp() failed: %s in \"%.*s\"", errbuf,
                          wd_str_pf(src));
        return NULL;
    }
    cln->handler = wd_http_regex_cleanup;
    cln->data = re;
    return re;
}

/* ---- conf structs ---- */

static void *
wd_http_core_create_main_conf(wd_conf_t *cf)
{
    wd_http_core_main_conf_t *cmcf = wd_pcalloc(cf->pool, sizeof(*cmcf));
    if (cmcf == NULL
        || wd_array_init(&cmcf->servers, cf->pool, 4, sizeof(wd_http_core_srv_conf_t *)) != WD_OK
        || wd_array_init(&cmcf->addrs, cf->pool, 4, sizeof(wd_http_addr_conf_t *)) != WD_OK
        || wd_array_init(&cmcf->listens, cf->pool, 4, sizeof(wd_http_listen_t)) != WD_OK)
    {
        return NULL;
    }
    return cmcf;
}

static void *
wd_http_core_create_srv_conf(wd_conf_t *cf)
{
    wd_http_core_srv_conf_t *cscf = wd_pcalloc(cf->pool, sizeof(*cscf));
    if (cscf == NULL
        || wd_array_init(&cscf->server_names, cf->pool, 2, sizeof(wd_http_server_name_t)) != WD_OK)
    {
        return NULL;
    }
    if (cf->conf_file) {
        cscf->file = cf->conf_file->name;
        cscf->line = cf->conf_file->line;
    }
    return cscf;
}

static char *
wd_http_core_merge_srv_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_core_srv_conf_t *conf = child;

    if (conf->server_names.nelts) {
        wd_http_server_name_t *sn = conf->server_names.elts;
        conf->server_name = sn[0].name;
    } else {
        wd_str_set(&conf->server_name, "");
    }
    return WD_CONF_OK;
}

static void *
wd_http_core_create_loc_conf(wd_conf_t *cf)
{
    wd_http_core_loc_conf_t *clcf = wd_pcalloc(cf->pool, sizeof(*clcf));
    if (clcf == NULL) {
        return NULL;
    }
    clcf->kind = WD_HTTP_LOC_SERVER;
    clcf->keepalive_timeout = WD_CONF_UNSET_MSEC;
    clcf->keepalive_header = WD_CONF_UNSET;
    clcf->keepalive_requests = WD_CONF_UNSET_UINT;
    clcf->client_header_timeout = WD_CONF_UNSET_MSEC;
    clcf->client_body_timeout = WD_CONF_UNSET_MSEC;
    clcf->send_timeout = WD_CONF_UNSET_MSEC;
    clcf->client_max_body_size = WD_CONF_UNSET_OFF;
    clcf->client_header_buffer_size = WD_CONF_UNSET_SIZE;
    clcf->large_client_header_buffers_num = WD_CONF_UNSET_UINT;
    clcf->large_client_header_buffers_size = WD_CONF_UNSET_SIZE;
    clcf->add_headers = WD_CONF_UNSET_PTR;
    clcf->error_log = WD_CONF_UNSET_PTR;
    if (cf->conf_file) {
        clcf->file = cf->conf_file->name;
        clcf->line = cf->conf_file->line;
    }
    return clcf;
}

static char *
wd_http_core_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_core_loc_conf_t *prev = parent, *conf = child;

    if (conf->keepalive_timeout == WD_CONF_UNSET_MSEC) {
        /* the two values of keepalive_timeout are inherited together */
        conf->keepalive_header = prev->keepalive_header;
    }
    wd_conf_merge_msec_value(conf->keepalive_timeout, prev->keepalive_timeout, 75000);
    wd_conf_merge_value(conf->keepalive_header, prev->keepalive_header, 0);
    wd_conf_merge_uint_value(conf->keepalive_requests, prev->keepalive_requests, 1000);
    wd_conf_merge_msec_value(conf->client_header_timeout, prev->client_header_timeout, 60000);
    wd_conf_merge_msec_value(conf->client_body_timeout, prev->client_body_timeout, 60000);
    wd_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    wd_conf_merge_off_value(conf->client_max_body_size, prev->client_max_body_size,
                            1024 * 1024);
    wd_conf_merge_size_value(conf->client_header_buffer_size,
                             prev->client_header_buffer_size, 1024);
    if (conf->large_client_header_buffers_num == WD_CONF_UNSET_UINT) {
        if (prev->large_client_header_buffers_num != WD_CONF_UNSET_UINT) {
            conf->large_client_header_buffers_num = prev->large_client_header_buffers_num;
            conf->large_client_header_buffers_size = prev->large_client_header_buffers_size;
        } else {
            conf->large_client_header_buffers_num = 4;
            conf->large_client_header_buffers_size = 8192;
        }
    }
    if (conf->large_client_header_buffers_size < conf->client_header_buffer_size) {
        /* nginx: the large buffers must hold at least what the first buffer holds */
        conf->large_client_header_buffers_size = conf->client_header_buffer_size;
    }
    /* add_header is inherited only by levels that have none of their own */
    wd_conf_merge_ptr_value(conf->add_headers, prev->add_headers, NULL);
    wd_conf_merge_ptr_value(conf->error_log, prev->error_log, &cf->cycle->new_log);
    return WD_CONF_OK;
}

/* ---- http{} ---- */

static void **
wd_http_conf_array(wd_conf_t *cf)
{
    return wd_pcalloc(cf->pool, (wd_http_modules_n ? wd_http_modules_n : 1) * sizeof(void *));
}

static char *wd_http_merge_locations(wd_conf_t *cf, wd_array_t *locations,
                                     void **parent_loc_conf, wd_module_t *m);
static char *wd_http_build_addrs(wd_conf_t *cf, wd_http_core_main_conf_t *cmcf);

static char *
wd_http_block(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_conf_ctx_t *ctx;
    wd_http_core_main_conf_t *cmcf;
    wd_http_core_srv_conf_t **servers;
    wd_http_core_loc_conf_t *clcf;
    wd_conf_t save;
    wd_module_t *m;
    wd_uint_t i, s, ci;
    char *rv;

    if (cf->cycle->http_ctx) {
        return "is duplicate";
    }
    ctx = wd_pcalloc(cf->pool, sizeof(*ctx));
    if (ctx == NULL) {
        return WD_CONF_ERROR;
    }
    cf->cycle->http_ctx = ctx;
    ctx->main_conf = wd_http_conf_array(cf);
    ctx->srv_conf = wd_http_conf_array(cf);
    ctx->loc_conf = wd_http_conf_array(cf);
    if (!ctx->main_conf || !ctx->srv_conf || !ctx->loc_conf) {
        return WD_CONF_ERROR;
    }

    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->type != WD_HTTP_MODULE || m->ctx == NULL) {
            continue;
        }
        ci = m->ctx_index;
        if (m->ctx->create_main_conf && !(ctx->main_conf[ci] = m->ctx->create_main_conf(cf))) {
            return WD_CONF_ERROR;
        }
        if (m->ctx->create_srv_conf && !(ctx->srv_conf[ci] = m->ctx->create_srv_conf(cf))) {
            return WD_CONF_ERROR;
        }
        if (m->ctx->create_loc_conf && !(ctx->loc_conf[ci] = m->ctx->create_loc_conf(cf))) {
            return WD_CONF_ERROR;
        }
    }
    clcf = ctx->loc_conf[wd_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    save = *cf;
    cf->ctx = ctx;
    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->type == WD_HTTP_MODULE && m->ctx && m->ctx->preconfiguration
            && m->ctx->preconfiguration(cf) != WD_OK)
        {
            *cf = save;
            return WD_CONF_ERROR;
        }
    }

    cf->cmd_type = WD_HTTP_MAIN_CONF;
    rv = wd_conf_parse(cf, NULL);
    if (rv != WD_CONF_OK) {
        *cf = save;
        return rv;
    }

    cmcf = ctx->main_conf[wd_http_core_module.ctx_index];
    servers = cmcf->servers.elts;

    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->type != WD_HTTP_MODULE || m->ctx == NULL) {
            continue;
        }
        ci = m->ctx_index;
        if (m->ctx->init_main_conf) {
            rv = m->ctx->init_main_conf(cf, ctx->main_conf[ci]);
            if (rv != WD_CONF_OK) {
                goto failed;
            }
        }
        for (s = 0; s < cmcf->servers.nelts; s++) {
            wd_http_conf_ctx_t *sctx = servers[s]->ctx;
            if (m->ctx->merge_srv_conf) {
                rv = m->ctx->merge_srv_conf(cf, ctx->srv_conf[ci], sctx->srv_conf[ci]);
                if (rv != WD_CONF_OK) {
                    goto failed;
                }
            }
            if (m->ctx->merge_loc_conf) {
                rv = m->ctx->merge_loc_conf(cf, ctx->loc_conf[ci], sctx->loc_conf[ci]);
                if (rv != WD_CONF_OK) {
                    goto failed;
                }
                rv = wd_http_merge_locations(cf, servers[s]->loc_conf->locations,
                                             sctx->loc_conf, m);
                if (rv != WD_CONF_OK) {
                    goto failed;
                }
            }
        }
        /* like nginx, the http level itself is never merged: requests always run
         * with a server's or a location's (merged) confs */
    }

    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->type == WD_HTTP_MODULE && m->ctx && m->ctx->postconfiguration
            && m->ctx->postconfiguration(cf) != WD_OK)
        {
            rv = WD_CONF_ERROR;
            goto failed;
        }
    }

    rv = wd_http_build_addrs(cf, cmcf);

failed:
    if (rv != WD_CONF_OK && rv != WD_CONF_ERROR) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s", rv);
        rv = WD_CONF_ERROR;
    }
    *cf = save;
    return rv;
}

static char *
wd_http_merge_locations(wd_conf_t *cf, wd_array_t *locations, void **parent_loc_conf,
                        wd_module_t *m)
{
    wd_http_core_loc_conf_t **clcfp;
    wd_uint_t i, ci = m->ctx_index;
    char *rv;

    if (locations == NULL) {
        return WD_CONF_OK;
    }
    clcfp = locations->elts;
    for (i = 0; i < locations->nelts; i++) {
        rv = m->ctx->merge_loc_conf(cf, parent_loc_conf[ci], clcfp[i]->loc_conf[ci]);
        if (rv != WD_CONF_OK) {
            return rv;
        }
        rv = wd_http_merge_locations(cf, clcfp[i]->locations, clcfp[i]->loc_conf, m);
        if (rv != WD_CONF_OK) {
            return rv;
        }
    }
    return WD_CONF_OK;
}

/* ---- server{} ---- */

static char *wd_http_add_listen(wd_conf_t *cf, wd_http_core_srv_conf_t *cscf,
                                const wd_str_t *addr, wd_http_listen_t **out);

static char *
wd_http_core_server(wd_conf_t *cf, const wd_command_t *cmd, void *dummy)
{
    wd_http_conf_ctx_t *ctx, *http_ctx = cf->ctx;
    wd_http_core_main_conf_t *cmcf;
    wd_http_core_srv_conf_t *cscf, **cscfp;
    wd_http_core_loc_conf_t *clcf;
    wd_conf_t save;
    wd_module_t *m;
    wd_uint_t i, ci;
    char *rv;

    ctx = wd_pcalloc(cf->pool, sizeof(*ctx));
    if (ctx == NULL) {
        return WD_CONF_ERROR;
    }
    ctx->main_conf = http_ctx->main_conf;
    ctx->srv_conf = wd_http_conf_array(cf);
    ctx->loc_conf = wd_http_conf_array(cf);
    if (!ctx->srv_conf || !ctx->loc_conf) {
        return WD_CONF_ERROR;
    }
    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->type != WD_HTTP_MODULE || m->ctx == NULL) {
            continue;
        }
        ci = m->ctx_index;
        if (m->ctx->create_srv_conf && !(ctx->srv_conf[ci] = m->ctx->create_srv_conf(cf))) {
            return WD_CONF_ERROR;
        }
        if (m->ctx->create_loc_conf && !(ctx->loc_conf[ci] = m->ctx->create_loc_conf(cf))) {
            return WD_CONF_ERROR;
        }
    }
    cscf = ctx->srv_conf[wd_http_core_module.ctx_index];
    cscf->ctx = ctx;
    cscf->loc_conf = ctx->loc_conf[wd_http_core_module.ctx_index];
    clcf = cscf->loc_conf;
    clcf->loc_conf = ctx->loc_conf;
    clcf->server = cscf;
    clcf->kind = WD_HTTP_LOC_SERVER;

    cmcf = ctx->main_conf[wd_http_core_module.ctx_index];
    cscfp = wd_array_push(&cmcf->servers);
    if (cscfp == NULL) {
        return WD_CONF_ERROR;
    }
    *cscfp = cscf;

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = WD_HTTP_SRV_CONF;
    rv = wd_conf_parse(cf, NULL);
    *cf = save;
    if (rv != WD_CONF_OK) {
        return rv;
    }

    if (!cscf->listen) {
        /* nginx: *:80 for root, *:8000 otherwise */
        wd_str_t def;
        wd_http_listen_t *l;
        if (geteuid() == 0) {
            wd_str_set(&def, "*:80");
        } else {
            wd_str_set(&def, "*:8000");
        }
        rv = wd_http_add_listen(cf, cscf, &def, &l);
        if (rv != WD_CONF_OK) {
            return rv;
        }
    }
    return WD_CONF_OK;
}

/* ---- listen ---- */

static int
wd_http_parse_addr(const wd_str_t *in, struct sockaddr_storage *ss, socklen_t *len,
                   char **why)
{
    char host[256], *colon;
    const u_char *p = in->data, *end = in->data + in->len;
    wd_int_t port = 80;
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    size_t hlen;

    memset(ss, 0, sizeof(*ss));
    *why = "invalid host";

    if (in->len == 0 || in->len >= sizeof(host)) {
        return WD_ERROR;
    }
    if (in->len > 5 && strncmp((const char *) p, "unix:", 5) == 0) {
        *why = "unix domain sockets are not supported";
        return WD_ERROR;
    }

    if (p[0] == '[') {
        const u_char *rb = memchr(p, ']', in->len);
        if (rb == NULL) {
            return WD_ERROR;
        }
        hlen = rb - p - 1;
        memcpy(host, p + 1, hlen);
        host[hlen] = '\0';
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                return WD_ERROR;
            }
            port = wd_atoi(rb + 2, end - rb - 2);
            if (port < 1 || port > 65535) {
                *why = "invalid port";
                return WD_ERROR;
            }
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            return WD_ERROR;
        }
        *len = sizeof(struct sockaddr_in6);
        return WD_OK;
    }

    memcpy(host, p, in->len);
    host[in->len] = '\0';
    colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        port = wd_atoi((u_char *) colon + 1, strlen(colon + 1));
        if (port < 1 || port > 65535) {
            *why = "invalid port";
            return WD_ERROR;
        }
    } else if (wd_atoi((u_char *) host, strlen(host)) != WD_ERROR) {
        /* just a port */
        port = wd_atoi((u_char *) host, strlen(host));
        if (port < 1 || port > 65535) {
            *why = "invalid port";
            return WD_ERROR;
        }
        strcpy(host, "*");
    }
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t) port);
    *len = sizeof(struct sockaddr_in);
    if (strcmp(host, "*") == 0) {
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        return WD_OK;
    }
    if (host[0] == '\0') {
        return WD_ERROR;
    }
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        return WD_OK;
    }
    {
        struct addrinfo hints, *res;
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
            *why = "host not found";
            return WD_ERROR;
        }
        sin->sin_addr = ((struct sockaddr_in *) res->ai_addr)->sin_addr;
        freeaddrinfo(res);
    }
    return WD_OK;
}

static int
wd_http_addr_text(wd_pool_t *pool, const struct sockaddr_storage *ss, wd_str_t *out)
{
    char ip[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 16];
    int n;

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        n = snprintf(buf, sizeof(buf), "[%s]:%u", ip, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *) ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        n = snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs(s4->sin_port));
    }
    return wd_pstr_copy(pool, out, (u_char *) buf, (size_t) n);
}

static char *
wd_http_add_listen(wd_conf_t *cf, wd_http_core_srv_conf_t *cscf, const wd_str_t *addr,
                   wd_http_listen_t **out)
{
    wd_http_core_main_conf_t *cmcf =
        ((wd_http_conf_ctx_t *) cf->ctx)->main_conf[wd_http_core_module.ctx_index];
    wd_http_listen_t *l, *ls;
    wd_uint_t i;
    char *why;

    l = wd_array_push(&cmcf->listens);
    if (l == NULL) {
        return WD_CONF_ERROR;
    }
    memset(l, 0, sizeof(*l));
    if (wd_http_parse_addr(addr, &l->sockaddr, &l->socklen, &why) != WD_OK) {
        cmcf->listens.nelts--;
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s in \"%.*s\" of the \"listen\" directive",
                          why, wd_str_pf(addr));
        return WD_CONF_ERROR;
    }
    if (wd_http_addr_text(cf->pool, &l->sockaddr, &l->addr_text) != WD_OK) {
        return WD_CONF_ERROR;
    }
    l->server = cscf;
    l->backlog = WD_HTTP_DEFAULT_BACKLOG;
    if (cf->conf_file) {
        l->file = cf->conf_file->name;
        l->line = cf->conf_file->line;
    }
    ls = cmcf->listens.elts;
    for (i = 0; i + 1 < cmcf->listens.nelts; i++) {
        if (ls[i].server == cscf && ls[i].socklen == l->socklen
            && memcmp(&ls[i].sockaddr, &l->sockaddr, l->socklen) == 0)
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate listen %.*s",
                              wd_str_pf(&l->addr_text));
            return WD_CONF_ERROR;
        }
    }
    cscf->listen = 1;
    *out = l;
    return WD_CONF_OK;
}

static char *
wd_http_core_listen(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_srv_conf_t *cscf = conf;
    wd_str_t *value = cf->args->elts;
    wd_http_listen_t *l;
    wd_uint_t i;
    char *rv;

    rv = wd_http_add_listen(cf, cscf, &value[1], &l);
    if (rv != WD_CONF_OK) {
        return rv;
    }
    for (i = 2; i < cf->args->nelts; i++) {
        if (wd_str_eq(&value[i], "default_server") || wd_str_eq(&value[i], "default")) {
            l->default_server = 1;
        } else if (wd_str_eq(&value[i], "reuseport")) {
            l->reuseport = 1;
            l->opts = 1;
        } else if (wd_str_eq(&value[i], "ssl")) {
            if (!wd_http_ssl_available) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                  "the \"ssl\" parameter requires a TLS module "
                                  "(none is built in)");
                return WD_CONF_ERROR;
            }
            l->ssl = 1;
        } else if (value[i].len > 8 && memcmp(value[i].data, "backlog=", 8) == 0) {
            wd_int_t b = wd_atoi(value[i].data + 8, value[i].len - 8);
            if (b == WD_ERROR || b < 1 || b > 65535) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid backlog \"%.*s\"",
                                  (int) value[i].len - 8, value[i].data + 8);
                return WD_CONF_ERROR;
            }
            l->backlog = (int) b;
            l->opts = 1;
        } else {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid parameter \"%.*s\"",
                              wd_str_pf(&value[i]));
            return WD_CONF_ERROR;
        }
    }
    return WD_CONF_OK;
}

/* ---- server_name ---- */

static char *
wd_http_core_server_name(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_srv_conf_t *cscf = conf;
    wd_str_t *value = cf->args->elts;
    wd_http_server_name_t *sn;
    wd_uint_t i;
    u_char *star;

    for (i = 1; i < cf->args->nelts; i++) {
        wd_str_t *v = &value[i];
        sn = wd_array_push(&cscf->server_names);
        if (sn == NULL) {
            return WD_CONF_ERROR;
        }
        sn->server = cscf;
        sn->regex = NULL;
        sn->name = *v;

        if (v->len > 1 && v->data[0] == '~') {
            wd_str_t re = { v->len - 1, v->data + 1 };
            sn->regex = wd_http_regex_compile(cf, &re, 1);
            if (sn->regex == NULL) {
                return WD_CONF_ERROR;
            }
            continue;
        }
        wd_strlow(v->data, v->data, v->len);
        star = memchr(v->data, '*', v->len);
        if (star) {
            int ok = (v->len > 2 && v->data[0] == '*' && v->data[1] == '.'
                      && memchr(v->data + 1, '*', v->len - 1) == NULL)
                     || (v->len > 2 && v->data[v->len - 1] == '*' && v->data[v->len - 2] == '.'
                         && star == v->data + v->len - 1);
            if (!ok) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid server name or wildcard \"%.*s\"",
                                  wd_str_pf(v));
                return WD_CONF_ERROR;
            }
        } else if (v->len == 1 && v->data[0] == '.') {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid server name or wildcard \"%.*s\"",
                              wd_str_pf(v));
            return WD_CONF_ERROR;
        }
        if (memchr(v->data, '/', v->len)) {
            wd_conf_log_error(WD_LOG_WARN, cf, 0, "server name \"%.*s\" has suspicious symbols",
                              wd_str_pf(v));
        }
    }
    return WD_CONF_OK;
}

/* ---- location ---- */

static char *
wd_http_core_location(wd_conf_t *cf, const wd_command_t *cmd, void *dummy)
{
    wd_http_conf_ctx_t *ctx, *pctx = cf->ctx;
    wd_http_core_loc_conf_t *clcf, *pclcf, **sib, **slot;
    wd_str_t *value = cf->args->elts, name, mod = wd_null_string;
    wd_uint_t kind, i, ci;
    wd_module_t *m;
    wd_conf_t save;
    char *rv;

    if (cf->args->nelts == 3) {
        mod = value[1];
        name = value[2];
        if (wd_str_eq(&mod, "=")) kind = WD_HTTP_LOC_EXACT;
        else if (wd_str_eq(&mod, "~")) kind = WD_HTTP_LOC_REGEX;
        else if (wd_str_eq(&mod, "~*")) kind = WD_HTTP_LOC_REGEX_CASELESS;
        else if (wd_str_eq(&mod, "^~")) kind = WD_HTTP_LOC_NOREGEX;
        else {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid location modifier \"%.*s\"",
                              wd_str_pf(&mod));
            return WD_CONF_ERROR;
        }
    } else {
        name = value[1];
        if (name.len > 1 && name.data[0] == '=') {
            kind = WD_HTTP_LOC_EXACT; name.data++; name.len--;
        } else if (name.len > 2 && name.data[0] == '^' && name.data[1] == '~') {
            kind = WD_HTTP_LOC_NOREGEX; name.data += 2; name.len -= 2;
        } else if (name.len > 2 && name.data[0] == '~' && name.data[1] == '*') {
            kind = WD_HTTP_LOC_REGEX_CASELESS; name.data += 2; name.len -= 2;
        } else if (name.len > 1 && name.data[0] == '~') {
            kind = WD_HTTP_LOC_REGEX; name.data++; name.len--;
        } else if (name.len > 1 && name.data[0] == '@') {
            kind = WD_HTTP_LOC_NAMED;
        } else {
            kind = WD_HTTP_LOC_PREFIX;
        }
    }
    if (name.len == 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid location name \"\"");
        return WD_CONF_ERROR;
    }

    ctx = wd_pcalloc(cf->pool, sizeof(*ctx));
    if (ctx == NULL) {
        return WD_CONF_ERROR;
    }
    ctx->main_conf = pctx->main_conf;
    ctx->srv_conf = pctx->srv_conf;
    ctx->loc_conf = wd_http_conf_array(cf);
    if (ctx->loc_conf == NULL) {
        return WD_CONF_ERROR;
    }
    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->type != WD_HTTP_MODULE || m->ctx == NULL || m->ctx->create_loc_conf == NULL) {
            continue;
        }
        ci = m->ctx_index;
        if (!(ctx->loc_conf[ci] = m->ctx->create_loc_conf(cf))) {
            return WD_CONF_ERROR;
        }
    }
    clcf = ctx->loc_conf[wd_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->name = name;
    clcf->kind = kind;

    if (kind == WD_HTTP_LOC_REGEX || kind == WD_HTTP_LOC_REGEX_CASELESS) {
        clcf->regex = wd_http_regex_compile(cf, &name, kind == WD_HTTP_LOC_REGEX_CASELESS);
        if (clcf->regex == NULL) {
            return WD_CONF_ERROR;
        }
    }

    pclcf = pctx->loc_conf[wd_http_core_module.ctx_index];
    clcf->server = pclcf->server;
    if (pclcf->kind != WD_HTTP_LOC_SERVER) {
        /* nested location: nginx's rules */
        if (pclcf->kind == WD_HTTP_LOC_EXACT) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "location \"%.*s\" cannot be inside the exact location \"%.*s\"",
                              wd_str_pf(&name), wd_str_pf(&pclcf->name));
            return WD_CONF_ERROR;
        }
        if (pclcf->kind == WD_HTTP_LOC_NAMED) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "location \"%.*s\" cannot be inside the named location \"%.*s\"",
                              wd_str_pf(&name), wd_str_pf(&pclcf->name));
            return WD_CONF_ERROR;
        }
        if (kind == WD_HTTP_LOC_NAMED) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "named location \"%.*s\" can be on the server level only",
                              wd_str_pf(&name));
            return WD_CONF_ERROR;
        }
        if (kind != WD_HTTP_LOC_REGEX && kind != WD_HTTP_LOC_REGEX_CASELESS
            && (name.len < pclcf->name.len
                || memcmp(name.data, pclcf->name.data, pclcf->name.len) != 0))
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "location \"%.*s\" is outside location \"%.*s\"",
                              wd_str_pf(&name), wd_str_pf(&pclcf->name));
            return WD_CONF_ERROR;
        }
        clcf->parent = pclcf;
    }

    if (pclcf->locations == NULL) {
        pclcf->locations = wd_array_create(cf->pool, 4, sizeof(wd_http_core_loc_conf_t *));
        if (pclcf->locations == NULL) {
            return WD_CONF_ERROR;
        }
    }
    sib = pclcf->locations->elts;
    for (i = 0; i < pclcf->locations->nelts; i++) {
        int a_incl = sib[i]->kind == WD_HTTP_LOC_PREFIX || sib[i]->kind == WD_HTTP_LOC_NOREGEX;
        int b_incl = kind == WD_HTTP_LOC_PREFIX || kind == WD_HTTP_LOC_NOREGEX;
        if (sib[i]->name.len == name.len && memcmp(sib[i]->name.data, name.data, name.len) == 0
            && ((a_incl && b_incl) || (sib[i]->kind == kind && (kind == WD_HTTP_LOC_EXACT
                                                             || kind == WD_HTTP_LOC_NAMED))))
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate location \"%.*s\"",
                              wd_str_pf(&name));
            return WD_CONF_ERROR;
        }
    }
    slot = wd_array_push(pclcf->locations);
    if (slot == NULL) {
        return WD_CONF_ERROR;
    }
    *slot = clcf;

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = WD_HTTP_LOC_CONF;
    rv = wd_conf_parse(cf, NULL);
    *cf = save;
    return rv;
}

/* ---- return, add_header, error_log, keepalive_timeout, large_client_header_buffers ---- */

static char *
wd_http_core_return(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = conf;
    wd_str_t *value = cf->args->elts, text = wd_null_string;
    wd_int_t code;
    wd_int_t *code_slot;
    wd_str_t *text_slot;
    wd_http_complex_value_t **value_slot;

    if (cf->cmd_type == WD_HTTP_SRV_CONF) {
        wd_http_core_srv_conf_t *cscf =
            ((wd_http_conf_ctx_t *) cf->ctx)->srv_conf[wd_http_core_module.ctx_index];
        code_slot = &cscf->return_code;
        text_slot = &cscf->return_text;
        value_slot = &cscf->return_value;
    } else {
        code_slot = &clcf->return_code;
        text_slot = &clcf->return_text;
        value_slot = &clcf->return_value;
    }

    code = wd_atoi(value[1].data, value[1].len);
    if (code == WD_ERROR) {
        if (cf->args->nelts == 2
            && ((value[1].len > 7 && memcmp(value[1].data, "http://", 7) == 0)
                || (value[1].len > 8 && memcmp(value[1].data, "https://", 8) == 0)))
        {
            code = 302;
            text = value[1];
        } else {
            return wd_conf_invalid_value(cf, &value[1]);
        }
    } else {
        if (code < 100 || code > 999) {
            return wd_conf_invalid_value(cf, &value[1]);
        }
        if (cf->args->nelts == 3) {
            text = value[2];
        }
        if ((code == 301 || code == 302 || code == 303 || code == 307 || code == 308)
            && text.len == 0 && cf->args->nelts == 3)
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "empty redirect URL in \"return\" directive");
            return WD_CONF_ERROR;
        }
    }
    if (*code_slot != 0) {
        return WD_CONF_OK;          /* nginx: the first `return` of a level wins */
    }
    *code_slot = code;
    *text_slot = text;
    if (text_slot->data == NULL) {
        wd_str_set(text_slot, "");
    }
    if (memchr(text_slot->data, '$', text_slot->len)) {
        wd_http_complex_value_t *cv = wd_pcalloc(cf->pool, sizeof(*cv));
        if (cv == NULL || wd_http_complex_value_compile(cf, text_slot, cv) != WD_OK) {
            return WD_CONF_ERROR;
        }
        *value_slot = cv->parts ? cv : NULL;
    }
    return WD_CONF_OK;
}

static int
wd_http_is_token(const wd_str_t *s)
{
    static const char *sep = "()<>@,;:\\\"/[]?={} \t";
    size_t i;
    if (s->len == 0) {
        return 0;
    }
    for (i = 0; i < s->len; i++) {
        if (s->data[i] <= 32 || s->data[i] >= 127 || strchr(sep, s->data[i])) {
            return 0;
        }
    }
    return 1;
}

static char *
wd_http_core_add_header(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = conf;
    wd_str_t *value = cf->args->elts;
    wd_http_add_header_t *h;
    size_t i;

    if (!wd_http_is_token(&value[1])) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    for (i = 0; i < value[2].len; i++) {
        if (value[2].data[i] == '\r' || value[2].data[i] == '\n' || value[2].data[i] == '\0') {
            return wd_conf_invalid_value(cf, &value[2]);
        }
    }
    if (cf->args->nelts == 4 && !wd_str_eq(&value[3], "always")) {
        return wd_conf_invalid_value(cf, &value[3]);
    }
    if (clcf->add_headers == WD_CONF_UNSET_PTR || clcf->add_headers == NULL) {
        clcf->add_headers = wd_array_create(cf->pool, 4, sizeof(wd_http_add_header_t));
        if (clcf->add_headers == NULL) {
            return WD_CONF_ERROR;
        }
    }
    h = wd_array_push(clcf->add_headers);
    if (h == NULL) {
        return WD_CONF_ERROR;
    }
    h->name = value[1];
    h->value = value[2];
    h->value_cv = NULL;
    h->always = cf->args->nelts == 4;
    if (memchr(value[2].data, '$', value[2].len)) {
        wd_http_complex_value_t *cv = wd_pcalloc(cf->pool, sizeof(*cv));
        if (cv == NULL || wd_http_complex_value_compile(cf, &value[2], cv) != WD_OK) {
            return WD_CONF_ERROR;
        }
        h->value_cv = cv->parts ? cv : NULL;
    }
    return WD_CONF_OK;
}

static char *
wd_http_core_error_log(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = conf;
    wd_str_t *value = cf->args->elts;
    wd_log_t *log, **tail;
    int level = WD_LOG_ERR;

    if (cf->args->nelts == 3) {
        level = wd_log_level_parse(&value[2]);
        if (level == WD_ERROR) {
            return wd_conf_invalid_value(cf, &value[2]);
        }
    }
    if (value[1].len == 0) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    log = wd_pcalloc(cf->pool, sizeof(wd_log_t));
    if (log == NULL) {
        return WD_CONF_ERROR;
    }
    log->level = level;
    log->file = wd_cycle_open_file(cf->cycle, &value[1]);
    if (log->file == NULL) {
        return WD_CONF_ERROR;
    }
    if (clcf->error_log == WD_CONF_UNSET_PTR) {
        clcf->error_log = NULL;
    }
    for (tail = &clcf->error_log; *tail; tail = &(*tail)->next) {
        /* append */
    }
    *tail = log;
    return WD_CONF_OK;
}

static char *
wd_http_core_keepalive(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = conf;
    wd_str_t *value = cf->args->elts;
    wd_int_t v;

    if (clcf->keepalive_timeout != WD_CONF_UNSET_MSEC) {
        return "is duplicate";
    }
    v = wd_parse_time(&value[1], 0);
    if (v == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    /* the optional second value is the "Keep-Alive: timeout=N" header */
    if (cf->args->nelts == 3) {
        wd_int_t h = wd_parse_time(&value[2], 1);
        if (h == WD_ERROR) {
            return wd_conf_invalid_value(cf, &value[2]);
        }
        clcf->keepalive_header = (time_t) h;
    } else {
        clcf->keepalive_header = 0;
    }
    clcf->keepalive_timeout = v;
    return WD_CONF_OK;
}

static char *
wd_http_core_large_buffers(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_core_loc_conf_t *clcf = conf;
    wd_str_t *value = cf->args->elts;
    wd_int_t n;
    ssize_t size;

    if (clcf->large_client_header_buffers_num != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    n = wd_atoi(value[1].data, value[1].len);
    if (n == WD_ERROR || n < 1 || n > 1024) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    size = wd_parse_size(&value[2]);
    if (size == WD_ERROR || size < 16 || size > 1024 * 1024 * 1024) {
        return wd_conf_invalid_value(cf, &value[2]);
    }
    clcf->large_client_header_buffers_num = (wd_uint_t) n;
    clcf->large_client_header_buffers_size = (size_t) size;
    return WD_CONF_OK;
}

/* ---- addresses, server names, listening sockets ---- */

static int
wd_http_sockaddr_eq(const struct sockaddr_storage *a, socklen_t alen,
                    const struct sockaddr_storage *b, socklen_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static int
wd_http_sockaddr_is_wildcard(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        return ((const struct sockaddr_in *) ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *) ss)->sin6_addr);
}

static uint16_t
wd_http_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        return ((const struct sockaddr_in *) ss)->sin_port;
    }
    return ((const struct sockaddr_in6 *) ss)->sin6_port;
}

static int
wd_http_name_cmp(const void *a, const void *b)
{
    const wd_http_server_name_t *x = a, *y = b;
    size_t n = wd_min(x->name.len, y->name.len);
    int c = n ? memcmp(x->name.data, y->name.data, n) : 0;
    if (c) {
        return c;
    }
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static char *
wd_http_addr_names(wd_conf_t *cf, wd_http_addr_conf_t *ac)
{
    wd_http_core_srv_conf_t **srv = ac->servers.elts;
    wd_http_server_name_t *sn, *d, *ex;
    wd_array_t *target;
    wd_uint_t s, n, k;

    if (wd_array_init(&ac->exact, cf->pool, 4, sizeof(wd_http_server_name_t)) != WD_OK
        || wd_array_init(&ac->wc_head, cf->pool, 2, sizeof(wd_http_server_name_t)) != WD_OK
        || wd_array_init(&ac->wc_tail, cf->pool, 2, sizeof(wd_http_server_name_t)) != WD_OK
        || wd_array_init(&ac->regex, cf->pool, 2, sizeof(wd_http_server_name_t)) != WD_OK)
    {
        return WD_CONF_ERROR;
    }
    for (s = 0; s < ac->servers.nelts; s++) {
        sn = srv[s]->server_names.elts;
        for (n = 0; n < srv[s]->server_names.nelts; n++) {
            if (sn[n].regex) {
                target = &ac->regex;
            } else if (sn[n].name.len && (sn[n].name.data[0] == '*' || sn[n].name.data[0] == '.')) {
                target = &ac->wc_head;
            } else if (sn[n].name.len && sn[n].name.data[sn[n].name.len - 1] == '*') {
                target = &ac->wc_tail;
            } else {
                target = &ac->exact;
            }
            if (target != &ac->regex) {
                ex = target->elts;
                for (k = 0; k < target->nelts; k++) {
                    if (ex[k].name.len == sn[n].name.len
                        && memcmp(ex[k].name.data, sn[n].name.data, sn[n].name.len) == 0)
                    {
                        break;
                    }
                }
                if (k < target->nelts) {
                    if (ex[k].server != srv[s]) {
                        wd_log_error(WD_LOG_WARN, cf->log, 0,
                                     "conflicting server name \"%.*s\" on %.*s, ignored",
                                     wd_str_pf(&sn[n].name), wd_str_pf(&ac->addr_text));
                    }
                    continue;
                }
            }
            d = wd_array_push(target);
            if (d == NULL) {
                return WD_CONF_ERROR;
            }
            *d = sn[n];
        }
    }
    if (ac->exact.nelts > 1) {
        qsort(ac->exact.elts, ac->exact.nelts, sizeof(wd_http_server_name_t), wd_http_name_cmp);
    }
    return WD_CONF_OK;
}

/* errors found after parsing name the listen directive's own file:line */
static void
wd_http_listen_error(wd_conf_t *cf, const wd_http_listen_t *l, const char *what)
{
    char msg[WD_MAX_ERROR_STR];

    snprintf(msg, sizeof(msg), "%s %.*s in %.*s:%lu", what, wd_str_pf(&l->addr_text),
             wd_str_pf(&l->file), (unsigned long) l->line);
    wd_conf_record_error(msg);
    wd_log_error(WD_LOG_EMERG, cf->log, 0, "%s", msg);
}

static char *
wd_http_build_addrs(wd_conf_t *cf, wd_http_core_main_conf_t *cmcf)
{
    wd_http_listen_t *l = cmcf->listens.elts;
    wd_http_addr_conf_t **acs, *ac, **sp;
    wd_http_core_srv_conf_t **srvp, **ss;
    wd_listening_t *ls;
    wd_uint_t i, j, k;
    char *rv;

    for (i = 0; i < cmcf->listens.nelts; i++) {
        acs = cmcf->addrs.elts;
        ac = NULL;
        for (j = 0; j < cmcf->addrs.nelts; j++) {
            if (wd_http_sockaddr_eq(&acs[j]->sockaddr, acs[j]->socklen,
                                    &l[i].sockaddr, l[i].socklen))
            {
                ac = acs[j];
                break;
            }
        }
        if (ac == NULL) {
            wd_http_addr_conf_t **slot = wd_array_push(&cmcf->addrs);
            ac = wd_pcalloc(cf->pool, sizeof(*ac));
            if (slot == NULL || ac == NULL
                || wd_array_init(&ac->servers, cf->pool, 4, sizeof(void *)) != WD_OK)
            {
                return WD_CONF_ERROR;
            }
            *slot = ac;
            ac->sockaddr = l[i].sockaddr;
            ac->socklen = l[i].socklen;
            ac->addr_text = l[i].addr_text;
            ac->backlog = WD_HTTP_DEFAULT_BACKLOG;
        }
        if (l[i].default_server) {
            if (ac->default_set) {
                wd_http_listen_error(cf, &l[i], "a duplicate default server for");
                return WD_CONF_ERROR;
            }
            ac->default_set = 1;
            ac->default_server = l[i].server;
        }
        if (l[i].opts) {
            if (ac->opts_set) {
                wd_http_listen_error(cf, &l[i], "duplicate listen options for");
                return WD_CONF_ERROR;
            }
            ac->opts_set = 1;
            ac->backlog = l[i].backlog;
            ac->reuseport = l[i].reuseport;
        }
        if (l[i].ssl) {
            ac->ssl = 1;
        }
        ss = ac->servers.elts;
        for (k = 0; k < ac->servers.nelts; k++) {
            if (ss[k] == l[i].server) {
                break;
            }
        }
        if (k == ac->servers.nelts) {
            srvp = wd_array_push(&ac->servers);
            if (srvp == NULL) {
                return WD_CONF_ERROR;
            }
            *srvp = l[i].server;
        }
    }

    acs = cmcf->addrs.elts;
    for (j = 0; j < cmcf->addrs.nelts; j++) {
        ac = acs[j];
        if (ac->default_server == NULL) {
            ac->default_server = *(wd_http_core_srv_conf_t **) ac->servers.elts;
        }
        rv = wd_http_addr_names(cf, ac);
        if (rv != WD_CONF_OK) {
            return rv;
        }
    }

    /* one socket per port when a wildcard address is there */
    for (j = 0; j < cmcf->addrs.nelts; j++) {
        wd_http_addr_conf_t *owner = NULL;
        ac = acs[j];
        if (!wd_http_sockaddr_is_wildcard(&ac->sockaddr)) {
            for (k = 0; k < cmcf->addrs.nelts; k++) {
                if (k != j && acs[k]->sockaddr.ss_family == ac->sockaddr.ss_family
                    && wd_http_sockaddr_is_wildcard(&acs[k]->sockaddr)
                    && wd_http_sockaddr_port(&acs[k]->sockaddr)
                       == wd_http_sockaddr_port(&ac->sockaddr))
                {
                    owner = acs[k];
                    break;
                }
            }
        }
        if (owner) {
            if (owner->specific == NULL) {
                owner->specific = wd_array_create(cf->pool, 2, sizeof(wd_http_addr_conf_t *));
                if (owner->specific == NULL) {
                    return WD_CONF_ERROR;
                }
            }
            sp = wd_array_push(owner->specific);
            if (sp == NULL) {
                return WD_CONF_ERROR;
            }
            *sp = ac;
            continue;
        }
        ls = wd_array_push(&cf->cycle->listening);
        if (ls == NULL) {
            return WD_CONF_ERROR;
        }
        memset(ls, 0, sizeof(*ls));
        ls->sockaddr = ac->sockaddr;
        ls->socklen = ac->socklen;
        ls->addr_text = ac->addr_text;
        ls->fd = -1;
        ls->backlog = ac->backlog;
        ls->worker = -1;
        ls->reuseport = ac->reuseport;
        ls->ssl = ac->ssl;
        ls->servers = ac;
    }
    return WD_CONF_OK;
}

const wd_http_addr_conf_t *
wd_http_addr_conf(const wd_listening_t *ls, const struct sockaddr *local)
{
    const wd_http_addr_conf_t *ac = ls->servers, **sp;
    wd_uint_t i;

    if (ac == NULL || ac->specific == NULL || local == NULL) {
        return ac;
    }
    sp = ac->specific->elts;
    for (i = 0; i < ac->specific->nelts; i++) {
        if (sp[i]->sockaddr.ss_family != local->sa_family) {
            continue;
        }
        if (local->sa_family == AF_INET
            && ((const struct sockaddr_in *) &sp[i]->sockaddr)->sin_addr.s_addr
               == ((const struct sockaddr_in *) local)->sin_addr.s_addr)
        {
            return sp[i];
        }
        if (local->sa_family == AF_INET6
            && memcmp(&((const struct sockaddr_in6 *) &sp[i]->sockaddr)->sin6_addr,
                      &((const struct sockaddr_in6 *) local)->sin6_addr,
                      sizeof(struct in6_addr)) == 0)
        {
            return sp[i];
        }
    }
    return ac;
}
