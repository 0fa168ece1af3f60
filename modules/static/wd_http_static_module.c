/*
 * wd_http_static_module.c -- nginx's static files: root, alias, types, default_type, etag,
 * if_modified_since, disable_symlinks, sendfile, log_not_found, max_ranges, and the content
 * handler of every location that has none (GET/HEAD of a file; "/dir" -> 301 "/dir/";
 * "/dir/" -> index / autoindex).  Conditionals, ranges and the body: wd_http_static_send.c;
 * opening files and the open file cache: wd_http_static_open.c.
 *
 * Directives, contexts, defaults and inheritance are nginx's:
 *   root path;                       http, server, location   html
 *   alias path;                      location                 -
 *   types { type ext ...; }          http, server, location   text/html html; image/gif gif;
 *                                                             image/jpeg jpg
 *   default_type type;               http, server, location   text/plain
 *   etag on|off;                     http, server, location   on
 *   if_modified_since off|exact|before;  http, server, location  exact
 *   disable_symlinks off|on;         http, server, location   off  (if_not_owner and from=
 *                                                             are refused by -t)
 *   sendfile on|off;                 http, server, location   off  (the body never blocks
 *                                                             the loop either way)
 *   sendfile_max_chunk size;         http, server, location   2m   (per sendfile call, then
 *                                                             the loop serves others; 0: none)
 *   tcp_nopush on|off;               http, server, location   off  (TCP_CORK while a response
 *                                                             is sent with sendfile)
 *   log_not_found on|off;            http, server, location   on
 *   max_ranges N;                    http, server, location   unlimited
 * Paths with $variables and, in regex locations, $1..$9 captures are evaluated per request.
 */
#include "wd_http_static.h"
#include "wd_sandbox.h"
#include "wd_http_variables.h"

typedef struct {
    wd_str_t            literal;
    wd_http_var_ref_t   var;
    int                 capture;    /* 1..9; 0: not a capture */
    unsigned            is_var:1;
} wd_http_static_part_t;

static char *wd_http_static_root_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_static_types(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_static_disable_symlinks(wd_conf_t *cf, const wd_command_t *cmd,
                                             void *conf);
static void *wd_http_static_create_loc_conf(wd_conf_t *cf);
static char *wd_http_static_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_http_static_postconfiguration(wd_conf_t *cf);
static int   wd_http_static_handler(wd_http_request_t *r);

char *wd_http_static_open_file_cache(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
void  wd_http_static_open_file_cache_reset(void);
static int wd_http_static_preconfiguration(wd_conf_t *cf);

static const wd_conf_enum_t wd_http_static_ims[] = {
    { "off", WD_HTTP_IMS_OFF }, { "exact", WD_HTTP_IMS_EXACT },
    { "before", WD_HTTP_IMS_BEFORE }, { NULL, 0 }
};

#define MSL (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)
#define LOC WD_HTTP_LOC_CONF_OFFSET

static const wd_command_t wd_http_static_commands[] = {
    { "root", MSL | WD_CONF_TAKE1, wd_http_static_root_set, LOC, 0, NULL },
    { "alias", WD_HTTP_LOC_CONF | WD_CONF_TAKE1, wd_http_static_root_set, LOC, 0, NULL },
    { "types", MSL | WD_CONF_BLOCK | WD_CONF_NOARGS, wd_http_static_types, LOC, 0, NULL },
    { "default_type", MSL | WD_CONF_TAKE1, wd_conf_set_str_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, default_type), NULL },
    { "etag", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, etag), NULL },
    { "if_modified_since", MSL | WD_CONF_TAKE1, wd_conf_set_enum_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, if_modified_since), wd_http_static_ims },
    { "disable_symlinks", MSL | WD_CONF_TAKE12, wd_http_static_disable_symlinks, LOC, 0, NULL },
    { "sendfile", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, sendfile), NULL },
    { "sendfile_max_chunk", MSL | WD_CONF_TAKE1, wd_conf_set_size_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, sendfile_max_chunk), NULL },
    { "tcp_nopush", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, tcp_nopush), NULL },
    { "log_not_found", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, log_not_found), NULL },
    { "max_ranges", MSL | WD_CONF_TAKE1, wd_conf_set_uint_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, max_ranges), NULL },
    { "open_file_cache", MSL | WD_CONF_TAKE12, wd_http_static_open_file_cache, LOC, 0, NULL },
    { "open_file_cache_valid", MSL | WD_CONF_TAKE1, wd_conf_set_msec_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, ofc_valid), NULL },
    { "open_file_cache_min_uses", MSL | WD_CONF_TAKE1, wd_conf_set_uint_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, ofc_min_uses), NULL },
    { "open_file_cache_errors", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_static_loc_conf_t, ofc_errors), NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_static_module_ctx = {
    .preconfiguration = wd_http_static_preconfiguration,
    .postconfiguration = wd_http_static_postconfiguration,
    .create_loc_conf = wd_http_static_create_loc_conf,
    .merge_loc_conf = wd_http_static_merge_loc_conf,
};

wd_module_t wd_http_static_module = {
    .name = "wd_http_static_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_static_commands,
    .ctx = &wd_http_static_module_ctx,
};

static void *
wd_http_static_create_loc_conf(wd_conf_t *cf)
{
    wd_http_static_loc_conf_t *c = wd_pcalloc(cf->pool, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->etag = WD_CONF_UNSET;
    c->if_modified_since = WD_CONF_UNSET_UINT;
    c->disable_symlinks = WD_CONF_UNSET;
    c->sendfile = WD_CONF_UNSET;
    c->sendfile_max_chunk = WD_CONF_UNSET_SIZE;
    c->tcp_nopush = WD_CONF_UNSET;
    c->log_not_found = WD_CONF_UNSET;
    c->max_ranges = WD_CONF_UNSET_UINT;
    c->ofc_max = WD_CONF_UNSET;
    c->ofc_inactive = WD_CONF_UNSET_MSEC;
    c->ofc_valid = WD_CONF_UNSET_MSEC;
    c->ofc_min_uses = WD_CONF_UNSET_UINT;
    c->ofc_errors = WD_CONF_UNSET;
    return c;
}

/* ---- paths with variables and captures ---- */

static int
wd_http_static_name_char(u_char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void
wd_http_static_regfree(void *re)
{
    regfree(re);
}

wd_http_static_value_t *
wd_http_static_compile(wd_conf_t *cf, const wd_str_t *src, int prefix_relative)
{
    wd_http_static_value_t *v = wd_pcalloc(cf->pool, sizeof(*v));
    wd_http_static_part_t *part;
    const u_char *p, *end, *lit;
    wd_str_t s = *src;

    if (v == NULL) {
        return NULL;
    }
    if (prefix_relative && s.len && s.data[0] != '/' && s.data[0] != '$') {
        if (wd_conf_full_name(cf->cycle, &s, 0) != WD_OK) {
            return NULL;
        }
    }
    v->source = s;
    if (memchr(s.data, '$', s.len) == NULL) {
        return v;
    }
    v->parts = wd_array_create(cf->pool, 4, sizeof(wd_http_static_part_t));
    if (v->parts == NULL) {
        return NULL;
    }
    p = lit = s.data;
    end = s.data + s.len;
    while (p < end) {
        const u_char *name, *name_end;
        int braces = 0;

        if (*p != '$' || p + 1 >= end) {
            p++;
            continue;
        }
        name = p + 1;
        if (*name == '{') {
            braces = 1;
            name++;
        }
        name_end = name;
        while (name_end < end && wd_http_static_name_char(*name_end)) {
            name_end++;
        }
        if (name_end == name || (braces && (name_end >= end || *name_end != '}'))) {
            p++;
            continue;
        }
        if (p > lit) {
            part = wd_array_push(v->parts);
            if (part == NULL) {
                return NULL;
            }
            memset(part, 0, sizeof(*part));
            part->literal.data = (u_char *) lit;
            part->literal.len = p - lit;
        }
        part = wd_array_push(v->parts);
        if (part == NULL) {
            return NULL;
        }
        memset(part, 0, sizeof(*part));
        part->is_var = 1;
        if (name_end - name == 1 && *name >= '1' && *name <= '9') {
            part->capture = *name - '0';
            v->captures = 1;
        } else if (wd_http_variable_compile(cf->pool, name, name_end - name, &part->var)
                   != WD_OK)
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unknown \"%.*s\" variable",
                              (int) (name_end - name), (const char *) name);
            return NULL;
        }
        p = lit = name_end + braces;
    }
    if (v->captures) {
        wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf,
                                                                         wd_http_core_module);
        if (clcf->kind == WD_HTTP_LOC_REGEX || clcf->kind == WD_HTTP_LOC_REGEX_CASELESS) {
            wd_pool_cleanup_t *cln = wd_pool_cleanup_add(cf->pool, 0);
            char *src = wd_pnalloc(cf->pool, clcf->name.len + 1);
            v->re = wd_pcalloc(cf->pool, sizeof(regex_t));
            if (cln == NULL || src == NULL || v->re == NULL) {
                return NULL;
            }
            memcpy(src, clcf->name.data, clcf->name.len);
            src[clcf->name.len] = '\0';
            if (regcomp(v->re, src, REG_EXTENDED
                        | (clcf->kind == WD_HTTP_LOC_REGEX_CASELESS ? REG_ICASE : 0)) != 0) {
                return NULL;
            }
            cln->handler = wd_http_static_regfree;
            cln->data = v->re;
        }
    }
    if (lit < end) {
        part = wd_array_push(v->parts);
        if (part == NULL) {
            return NULL;
        }
        memset(part, 0, sizeof(*part));
        part->literal.data = (u_char *) lit;
        part->literal.len = end - lit;
    }
    return v;
}

int
wd_http_static_eval(wd_http_request_t *r, const wd_http_static_value_t *v, int is_path,
                    wd_str_t *out)
{
    wd_http_static_part_t *part;
    regmatch_t m[10];
    wd_str_t vals[16], *vp;
    size_t len = 0, i, n;
    u_char *p;
    int have_m = 0;

    if (v->parts == NULL) {
        *out = v->source;
        return WD_OK;
    }
    part = v->parts->elts;
    n = v->parts->nelts;
    vp = n <= wd_nelems(vals) ? vals : wd_palloc(r->pool, n * sizeof(wd_str_t));
    if (vp == NULL) {
        return WD_ERROR;
    }
    if (v->re) {
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t) r->uri.len;
        have_m = regexec(v->re, (const char *) r->uri.data, 10, m, REG_STARTEND) == 0;
    }
    for (i = 0; i < n; i++) {
        if (!part[i].is_var) {
            vp[i] = part[i].literal;
        } else if (part[i].capture) {
            int c = part[i].capture;
            vp[i].len = 0;
            vp[i].data = NULL;
            if (have_m && m[c].rm_so >= 0) {
                vp[i].data = r->uri.data + m[c].rm_so;
                vp[i].len = m[c].rm_eo - m[c].rm_so;
            }
        } else if (wd_http_variable_value(r, &part[i].var, &vp[i]) != WD_OK) {
            return WD_ERROR;
        }
        len += vp[i].len;
    }
    p = wd_pnalloc(r->pool, len + r->hc->c->worker->cycle->prefix.len + 1);
    if (p == NULL) {
        return WD_ERROR;
    }
    out->data = p;
    if (is_path && (len == 0 || vp[0].len == 0 || vp[0].data[0] != '/')) {
        /* a relative result is relative to the prefix */
        wd_str_t *prefix = &r->hc->c->worker->cycle->prefix;
        memcpy(p, prefix->data, prefix->len);
        p += prefix->len;
    }
    for (i = 0; i < n; i++) {
        if (vp[i].len) {
            memcpy(p, vp[i].data, vp[i].len);
            p += vp[i].len;
        }
    }
    *p = '\0';
    out->len = p - out->data;
    return WD_OK;
}

int
wd_http_static_root(wd_http_request_t *r, wd_str_t *root)
{
    wd_http_static_loc_conf_t *slcf = wd_http_loc_get_module_conf(
        (wd_http_core_loc_conf_t *) r->loc_conf, wd_http_static_module);

    return wd_http_static_eval(r, slcf->root, 1, root);
}

/* Has s a ".." segment?  s starts at a segment boundary. */
static int
wd_http_static_dotdot(const u_char *s, size_t len)
{
    const u_char *p = s, *end = s + len;

    while (p < end) {
        const u_char *seg = p;
        while (p < end && *p != '/') {
            p++;
        }
        if (p - seg == 2 && seg[0] == '.' && seg[1] == '.') {
            return 1;
        }
        p++;
    }
    return 0;
}

int
wd_http_static_map(wd_http_request_t *r, const wd_str_t *uri, wd_str_t *path, size_t *root_len)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_http_static_loc_conf_t *slcf = wd_http_loc_get_module_conf(clcf, wd_http_static_module);
    wd_str_t root, rest = *uri;
    size_t check;
    u_char *p;

    if (wd_http_static_eval(r, slcf->root, 1, &root) != WD_OK) {
        return WD_ERROR;
    }
    if (slcf->alias) {
        if (slcf->root->re) {
            rest.len = 0;       /* the alias with captures is the whole path */
        } else if (uri->len >= slcf->alias_name.len) {
            rest.data = uri->data + slcf->alias_name.len;
            rest.len = uri->len - slcf->alias_name.len;
        } else {
            rest.len = 0;
        }
    }
    p = wd_pnalloc(r->pool, root.len + rest.len + 1);
    if (p == NULL) {
        return WD_ERROR;
    }
    memcpy(p, root.data, root.len);
    if (rest.len) {
        memcpy(p + root.len, rest.data, rest.len);
    }
    p[root.len + rest.len] = '\0';
    path->data = p;
    path->len = root.len + rest.len;
    *root_len = root.len;

    /* what the URI (or a capture) added may not climb out: check from the segment the
     * configured directory ends in */
    check = slcf->root->parts ? 0 : root.len;
    while (check > 0 && p[check - 1] != '/') {
        check--;
    }
    if (memchr(p, '\0', path->len) != NULL
        || wd_http_static_dotdot(p + check, path->len - check))
    {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0,
                     "\"%.*s\" climbs out of its root: refused", wd_str_pf(path));
        return 404;
    }
    return WD_OK;
}

/* ---- directives ---- */

/* The workers' Landlock ruleset (wd_sandbox.h) gets the tree a root/alias names, read-only:
 * with variables, the directory part of the text before the first one ("/srv/$host" ->
 * "/srv/", "$document_root" -> "/"); a path that does not exist yet is not covered. */
static int
wd_http_static_sandbox(wd_conf_t *cf, const wd_http_static_value_t *v)
{
    char path[PATH_MAX], *slash;
    size_t n = v->source.len;
    const u_char *d = memchr(v->source.data, '$', v->source.len);

    if (d) {
        n = (size_t) (d - v->source.data);
    }
    if (n >= sizeof(path)) {
        n = sizeof(path) - 1;
    }
    memcpy(path, v->source.data, n);
    path[n] = '\0';
    if (d) {
        slash = strrchr(path, '/');
        if (slash == NULL) {
            strcpy(path, "/");
        } else {
            slash[1] = '\0';
        }
    }
    return wd_sandbox_allow_path(cf->cycle, path, WD_SANDBOX_READ);
}

static char *
wd_http_static_root_set(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_static_loc_conf_t *slcf = conf;
    wd_http_core_loc_conf_t *clcf = wd_http_conf_get_module_loc_conf(cf, wd_http_core_module);
    wd_str_t *args = cf->args->elts, v = args[1];
    int alias = cmd->name[0] == 'a';

    if (slcf->root) {
        if (slcf->alias == (unsigned) alias) {
            return "is duplicate";
        }
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" directive is duplicate, \"%s\" directive "
                          "was specified earlier", cmd->name, slcf->alias ? "alias" : "root");
        return WD_CONF_ERROR;
    }
    if (alias && clcf->kind == WD_HTTP_LOC_NAMED) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                          "\"alias\" directive cannot be used inside the named location");
        return WD_CONF_ERROR;
    }
    if (!alias && v.len > 1 && v.data[v.len - 1] == '/') {
        v.len--;            /* nginx: "root /a/;" is "/a" */
    }
    if (v.len == 0) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    slcf->root = wd_http_static_compile(cf, &v, 1);
    if (slcf->root == NULL || wd_http_static_sandbox(cf, slcf->root) != WD_OK) {
        return WD_CONF_ERROR;
    }
    slcf->alias = alias;
    if (alias) {
        if (slcf->root->captures && clcf->regex == NULL) {
            /* nginx accepts it too; captures are then empty */
        }
        if ((clcf->kind == WD_HTTP_LOC_REGEX || clcf->kind == WD_HTTP_LOC_REGEX_CASELESS)
            && !slcf->root->captures)
        {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "the \"alias\" directive in a regex location "
                              "must use captures (e.g. \"alias /data/$1;\")");
            return WD_CONF_ERROR;
        }
        slcf->alias_name = clcf->name;
    }
    return WD_CONF_OK;
}

static char *
wd_http_static_type_line(wd_conf_t *cf, const wd_command_t *dummy, void *conf)
{
    wd_array_t *types = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t i, j;

    if (cf->args->nelts < 2) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid number of arguments in \"types\" "
                          "block: \"%.*s\" needs at least one extension", wd_str_pf(&args[0]));
        return WD_CONF_ERROR;
    }
    if (wd_str_eq(&args[0], "include")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"include\" inside \"types\" is not supported: "
                          "include the file at http level, the file holds the types block");
        return WD_CONF_ERROR;
    }
    for (i = 1; i < cf->args->nelts; i++) {
        wd_http_static_type_t *t = types->elts, *nt;
        u_char *ext = wd_pnalloc(cf->pool, args[i].len);

        if (ext == NULL) {
            return WD_CONF_ERROR;
        }
        for (j = 0; j < args[i].len; j++) {
            ext[j] = wd_tolower(args[i].data[j]);
        }
        for (j = 0; j < types->nelts; j++) {
            if (t[j].ext.len == args[i].len && memcmp(t[j].ext.data, ext, args[i].len) == 0) {
                wd_conf_log_error(WD_LOG_WARN, cf, 0, "duplicate extension \"%.*s\", content "
                                  "type: \"%.*s\", previous content type: \"%.*s\"",
                                  wd_str_pf(&args[i]), wd_str_pf(&args[0]),
                                  wd_str_pf(&t[j].type));
                t[j].type = args[0];
                break;
            }
        }
        if (j < types->nelts) {
            continue;
        }
        nt = wd_array_push(types);
        if (nt == NULL) {
            return WD_CONF_ERROR;
        }
        nt->ext.data = ext;
        nt->ext.len = args[i].len;
        nt->type = args[0];
    }
    return WD_CONF_OK;
}

static char *
wd_http_static_types(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_static_loc_conf_t *slcf = conf;
    wd_conf_t save;
    char *rv;

    if (slcf->types == NULL) {
        slcf->types = wd_array_create(cf->pool, 64, sizeof(wd_http_static_type_t));
        if (slcf->types == NULL) {
            return WD_CONF_ERROR;
        }
    }
    save = *cf;
    cf->handler = wd_http_static_type_line;
    cf->handler_conf = slcf->types;
    rv = wd_conf_parse(cf, NULL);
    cf->handler = save.handler;
    cf->handler_conf = save.handler_conf;
    return rv;
}

static char *
wd_http_static_disable_symlinks(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_static_loc_conf_t *slcf = conf;
    wd_str_t *args = cf->args->elts;

    if (slcf->disable_symlinks != WD_CONF_UNSET) {
        return "is duplicate";
    }
    if (cf->args->nelts == 3) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"disable_symlinks\" with \"%.*s\" is not "
                          "supported by wasmd (off and on are)", wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    if (wd_str_eq(&args[1], "off")) {
        slcf->disable_symlinks = 0;
    } else if (wd_str_eq(&args[1], "on")) {
        slcf->disable_symlinks = 1;
    } else if (wd_str_eq(&args[1], "if_not_owner")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"disable_symlinks if_not_owner\" is not "
                          "supported by wasmd (off and on are)");
        return WD_CONF_ERROR;
    } else {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    return WD_CONF_OK;
}

static char *
wd_http_static_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_static_loc_conf_t *prev = parent, *conf = child;
    static const wd_http_static_type_t defaults[] = {
        { wd_string("html"), wd_string("text/html") },
        { wd_string("gif"), wd_string("image/gif") },
        { wd_string("jpg"), wd_string("image/jpeg") },
    };

    if (conf->root == NULL) {
        if (prev->root == NULL) {
            wd_str_t html = wd_string("html");
            prev->root = wd_http_static_compile(cf, &html, 1);
            if (prev->root == NULL || wd_http_static_sandbox(cf, prev->root) != WD_OK) {
                return WD_CONF_ERROR;
            }
        }
        conf->root = prev->root;
        conf->alias = prev->alias;
        conf->alias_name = prev->alias_name;
    }
    if (conf->types == NULL) {
        if (prev->types == NULL) {
            prev->types = wd_array_create(cf->pool, 4, sizeof(wd_http_static_type_t));
            if (prev->types == NULL) {
                return WD_CONF_ERROR;
            }
            for (size_t i = 0; i < wd_nelems(defaults); i++) {
                wd_http_static_type_t *t = wd_array_push(prev->types);
                *t = defaults[i];
            }
        }
        conf->types = prev->types;
    }
    wd_conf_merge_str_value(conf->default_type, prev->default_type, "text/plain");
    wd_conf_merge_value(conf->etag, prev->etag, 1);
    wd_conf_merge_uint_value(conf->if_modified_since, prev->if_modified_since,
                             WD_HTTP_IMS_EXACT);
    wd_conf_merge_value(conf->disable_symlinks, prev->disable_symlinks, 0);
    wd_conf_merge_value(conf->sendfile, prev->sendfile, 0);
    wd_conf_merge_size_value(conf->sendfile_max_chunk, prev->sendfile_max_chunk,
                             2 * 1024 * 1024);
    wd_conf_merge_value(conf->tcp_nopush, prev->tcp_nopush, 0);
    wd_conf_merge_value(conf->log_not_found, prev->log_not_found, 1);
    wd_conf_merge_uint_value(conf->max_ranges, prev->max_ranges, (wd_uint_t) INT32_MAX);
    if (conf->ofc_max == WD_CONF_UNSET) {
        conf->ofc_max = prev->ofc_max == WD_CONF_UNSET ? 0 : prev->ofc_max;
        conf->ofc_inactive = prev->ofc_inactive;
    }
    wd_conf_merge_msec_value(conf->ofc_inactive, prev->ofc_inactive, 60000);
    wd_conf_merge_msec_value(conf->ofc_valid, prev->ofc_valid, 60000);
    wd_conf_merge_uint_value(conf->ofc_min_uses, prev->ofc_min_uses, 1);
    wd_conf_merge_value(conf->ofc_errors, prev->ofc_errors, 0);
    return WD_CONF_OK;
}

/* $document_root: the root or alias of the request's location, variables evaluated */
static int
wd_http_static_var_document_root(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    wd_http_static_loc_conf_t *slcf;

    v->len = 0;
    v->data = NULL;
    if (r->loc_conf == NULL) {
        return WD_OK;
    }
    slcf = wd_http_loc_get_module_conf((wd_http_core_loc_conf_t *) r->loc_conf,
                                       wd_http_static_module);
    if (slcf->root == NULL) {
        return WD_OK;
    }
    return wd_http_static_eval(r, slcf->root, 1, v);
}

/* $realpath_root: the same with symlinks resolved (realpath(); nothing if it fails) */
static int
wd_http_static_var_realpath_root(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    char in[PATH_MAX], out[PATH_MAX];
    wd_str_t root;

    if (wd_http_static_var_document_root(r, &root, arg) != WD_OK) {
        return WD_ERROR;
    }
    v->len = 0;
    v->data = NULL;
    if (root.len == 0 || root.len >= sizeof(in)) {
        return WD_OK;
    }
    memcpy(in, root.data, root.len);
    in[root.len] = '\0';
    if (realpath(in, out) == NULL) {
        wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), errno, "realpath() \"%s\" failed", in);
        return WD_OK;
    }
    v->len = strlen(out);
    v->data = wd_pnalloc(r->pool, v->len);
    if (v->data == NULL) {
        return WD_ERROR;
    }
    memcpy(v->data, out, v->len);
    return WD_OK;
}

static int
wd_http_static_preconfiguration(wd_conf_t *cf)
{
    wd_http_static_open_file_cache_reset();
    if (wd_http_add_variable("document_root", wd_http_static_var_document_root, 0) != WD_OK
        || wd_http_add_variable("realpath_root", wd_http_static_var_realpath_root, 0)
           != WD_OK)
    {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "static: cannot add variables");
        return WD_ERROR;
    }
    return WD_OK;
}

static int
wd_http_static_postconfiguration(wd_conf_t *cf)
{
    wd_http_default_content_handler = wd_http_static_handler;
    return WD_OK;
}

/* ---- request side ---- */

void
wd_http_static_set_type(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                        const wd_str_t *uri)
{
    const u_char *p = uri->data + uri->len, *ext = NULL;
    wd_http_static_type_t *t = slcf->types->elts;
    size_t len = 0, i, j;
    u_char low[32];

    while (p > uri->data && p[-1] != '/') {
        if (p[-1] == '.') {
            ext = p;
            len = uri->data + uri->len - p;
            break;
        }
        p--;
    }
    if (ext && len && len <= sizeof(low)) {
        for (j = 0; j < len; j++) {
            low[j] = wd_tolower(ext[j]);
        }
        for (i = 0; i < slcf->types->nelts; i++) {
            if (t[i].ext.len == len && memcmp(t[i].ext.data, low, len) == 0) {
                r->content_type = t[i].type;
                return;
            }
        }
    }
    r->content_type = slcf->default_type;
}

static int
wd_http_static_handler(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf;
    wd_http_static_loc_conf_t *slcf = wd_http_loc_get_module_conf(clcf, wd_http_static_module);
    wd_http_open_file_t *of;
    wd_str_t path;
    size_t root_len;
    int rc;

    if (r->uri.len == 0 || r->uri.data[0] != '/') {
        return 404;         /* "OPTIONS *" */
    }
    if (r->method != HTTP_GET && r->method != HTTP_HEAD && r->method != HTTP_POST) {
        return 405;
    }
    if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
        return wd_http_index_handler(r);
    }
    rc = wd_http_static_map(r, &r->uri, &path, &root_len);
    if (rc != WD_OK) {
        return rc == WD_ERROR ? 500 : rc;
    }
    rc = wd_http_open_file(r, slcf, &path, &of);
    if (rc != WD_OK) {
        return 500;
    }
    if (of->err) {
        return wd_http_static_open_error(r, slcf, &path, of);
    }
    if (of->is_dir) {
        wd_str_t url;
        if (wd_http_redirect_url(r, r->uri.data, r->uri.len, WD_HTTP_URL_SLASH, &url) != WD_OK) {
            return 500;
        }
        r->location = url;
        return 301;
    }
    if (!of->is_file) {
        wd_log_error(WD_LOG_CRIT, wd_http_log(r->hc), 0, "\"%.*s\" is not a regular file",
                     wd_str_pf(&path));
        return 404;
    }
    if (r->method == HTTP_POST) {
        return 405;
    }
    wd_http_static_set_type(r, slcf, &r->uri);
    return wd_http_static_send(r, slcf, of);
}

int
wd_http_static_open_error(wd_http_request_t *r, wd_http_static_loc_conf_t *slcf,
                          const wd_str_t *path, wd_http_open_file_t *of)
{
    int status, level = WD_LOG_ERR;

    switch (of->err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        status = 404;
        if (!slcf->log_not_found) {
            return status;
        }
        break;
    case EACCES:
    case ELOOP:
    case EMLINK:
        status = 403;
        break;
    default:
        status = 500;
        level = WD_LOG_CRIT;
        break;
    }
    wd_log_error(level, wd_http_log(r->hc), of->err, "%s \"%.*s\" failed",
                 of->failed ? of->failed : "open()", wd_str_pf(path));
    return status;
}
