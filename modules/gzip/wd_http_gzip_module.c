/*
 * wd_http_gzip_module.c -- nginx's gzip filter: compresses responses on the fly with zlib,
 * whatever produced them (static files, Wasm handlers, the server's own pages).
 *
 *   gzip on|off;                   http, server, location    off
 *   gzip_types mime-type ... | *;  http, server, location    text/html (always included)
 *   gzip_min_length length;        http, server, location    20
 *   gzip_comp_level 1..9;          http, server, location    1
 *   gzip_vary on|off;              http, server, location    off
 *   gzip_proxied off|expired|no-cache|no-store|private|no_last_modified|no_etag|auth|any ...;
 *                                  http, server, location    off
 *   gzip_http_version 1.0|1.1;     http, server, location    1.1
 *   gzip_disable regex ...;        http, server, location    - (User-Agent, case-insensitive
 *                                                            POSIX ERE; "msie6" is nginx's
 *                                                            shorthand and is refused)
 *   gzip_buffers number size;      http, server, location    accepted (wasmd streams through
 *                                                            one 16 KiB buffer)
 *
 * A response is compressed when gzip is on, its status is 200, 403 or 404, it has no
 * Content-Encoding, its Content-Length is unknown or at least gzip_min_length, its type is
 * in gzip_types, and the request accepts gzip
 * (Accept-Encoding with gzip at q > 0, HTTP version, gzip_disable, gzip_proxied for
 * requests with Via).  Then: Content-Encoding: gzip, no Content-Length (chunked), no
 * Accept-Ranges, a strong ETag becomes weak.  With gzip_vary on, every response that
 * passes the response checks (whatever the request says) gets Vary: Accept-Encoding.
 * Ranges: the static module asks wd_http_gzip_applies() first and, like nginx, answers a
 * Range request with the whole compressed body when the response will be compressed.
 *
 * The body filter streams: every piece written by the producer goes through deflate and
 * out in 16 KiB buffers; back-pressure (WD_AGAIN) from the socket is passed back up, so a
 * Wasm handler that waits for it never makes the filter buffer more than it wrote.
 */
#include <zlib.h>
#include <regex.h>
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"

#define WD_GZIP_PROXIED_OFF          0x0001
#define WD_GZIP_PROXIED_EXPIRED      0x0002
#define WD_GZIP_PROXIED_NO_CACHE     0x0004
#define WD_GZIP_PROXIED_NO_STORE     0x0008
#define WD_GZIP_PROXIED_PRIVATE      0x0010
#define WD_GZIP_PROXIED_NO_LM        0x0020
#define WD_GZIP_PROXIED_NO_ETAG      0x0040
#define WD_GZIP_PROXIED_AUTH         0x0080
#define WD_GZIP_PROXIED_ANY          0x0100

#define WD_GZIP_OUT  (16 * 1024)

typedef struct {
    wd_flag_t     enable;
    wd_array_t   *types;         /* wd_str_t, lowercased; NULL: unset */
    unsigned      types_any:1;
    ssize_t       min_length;
    wd_int_t      level;
    wd_flag_t     vary;
    wd_uint_t     proxied;
    wd_uint_t     http_version;  /* major * 1000 + minor */
    wd_array_t   *disable;       /* regex_t; NULL: unset */
} wd_http_gzip_loc_conf_t;

typedef struct {
    z_stream      zs;
    int           ready;        /* 0: no stream, 1: compressing, 2: finished (reusable) */
    u_char        out[WD_GZIP_OUT];
} wd_http_gzip_ctx_t;

static char *wd_http_gzip_types(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_gzip_proxied(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_gzip_http_version(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_gzip_disable(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_gzip_buffers(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_gzip_create_loc_conf(wd_conf_t *cf);
static char *wd_http_gzip_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_http_gzip_postconfiguration(wd_conf_t *cf);

static const wd_conf_num_bounds_t wd_http_gzip_level_bounds = {
    wd_conf_check_num_bounds, 1, 9
};

#define MSL (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF)
#define LOC WD_HTTP_LOC_CONF_OFFSET

static const wd_command_t wd_http_gzip_commands[] = {
    { "gzip", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_gzip_loc_conf_t, enable), NULL },
    { "gzip_types", MSL | WD_CONF_1MORE, wd_http_gzip_types, LOC, 0, NULL },
    { "gzip_min_length", MSL | WD_CONF_TAKE1, wd_conf_set_size_slot, LOC,
      offsetof(wd_http_gzip_loc_conf_t, min_length), NULL },
    { "gzip_comp_level", MSL | WD_CONF_TAKE1, wd_conf_set_num_slot, LOC,
      offsetof(wd_http_gzip_loc_conf_t, level), &wd_http_gzip_level_bounds },
    { "gzip_vary", MSL | WD_CONF_FLAG, wd_conf_set_flag_slot, LOC,
      offsetof(wd_http_gzip_loc_conf_t, vary), NULL },
    { "gzip_proxied", MSL | WD_CONF_1MORE, wd_http_gzip_proxied, LOC, 0, NULL },
    { "gzip_http_version", MSL | WD_CONF_TAKE1, wd_http_gzip_http_version, LOC, 0, NULL },
    { "gzip_disable", MSL | WD_CONF_1MORE, wd_http_gzip_disable, LOC, 0, NULL },
    { "gzip_buffers", MSL | WD_CONF_TAKE2, wd_http_gzip_buffers, LOC, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_gzip_module_ctx = {
    .preconfiguration = wd_http_gzip_postconfiguration,  /* before expires: it runs after it */
    .create_loc_conf = wd_http_gzip_create_loc_conf,
    .merge_loc_conf = wd_http_gzip_merge_loc_conf,
};

wd_module_t wd_http_gzip_module = {
    .name = "wd_http_gzip_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_gzip_commands,
    .ctx = &wd_http_gzip_module_ctx,
};

static void *
wd_http_gzip_create_loc_conf(wd_conf_t *cf)
{
    wd_http_gzip_loc_conf_t *c = wd_pcalloc(cf->pool, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->enable = WD_CONF_UNSET;
    c->min_length = WD_CONF_UNSET_SIZE;
    c->level = WD_CONF_UNSET;
    c->vary = WD_CONF_UNSET;
    c->http_version = WD_CONF_UNSET_UINT;
    return c;
}

static char *
wd_http_gzip_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_gzip_loc_conf_t *prev = parent, *conf = child;

    wd_conf_merge_value(conf->enable, prev->enable, 0);
    if (conf->types == NULL) {
        conf->types = prev->types;
        conf->types_any = prev->types_any;
    }
    wd_conf_merge_size_value(conf->min_length, prev->min_length, 20);
    wd_conf_merge_value(conf->level, prev->level, 1);
    wd_conf_merge_value(conf->vary, prev->vary, 0);
    if (conf->proxied == 0) {
        conf->proxied = prev->proxied ? prev->proxied : WD_GZIP_PROXIED_OFF;
    }
    wd_conf_merge_uint_value(conf->http_version, prev->http_version, 1001);
    if (conf->disable == NULL) {
        conf->disable = prev->disable;
    }
    return WD_CONF_OK;
}

static char *
wd_http_gzip_types(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_gzip_loc_conf_t *glcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t i;

    if (glcf->types) {
        return "is duplicate";
    }
    glcf->types = wd_array_create(cf->pool, cf->args->nelts, sizeof(wd_str_t));
    if (glcf->types == NULL) {
        return WD_CONF_ERROR;
    }
    for (i = 1; i < cf->args->nelts; i++) {
        wd_str_t *t;
        if (args[i].len == 1 && args[i].data[0] == '*') {
            glcf->types_any = 1;
            continue;
        }
        t = wd_array_push(glcf->types);
        if (t == NULL || wd_pstr_copy(cf->pool, t, args[i].data, args[i].len) != WD_OK) {
            return WD_CONF_ERROR;
        }
        for (size_t j = 0; j < t->len; j++) {
            t->data[j] = wd_tolower(t->data[j]);
        }
    }
    return WD_CONF_OK;
}

static char *
wd_http_gzip_proxied(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    static const wd_conf_enum_t names[] = {
        { "off", WD_GZIP_PROXIED_OFF }, { "expired", WD_GZIP_PROXIED_EXPIRED },
        { "no-cache", WD_GZIP_PROXIED_NO_CACHE }, { "no-store", WD_GZIP_PROXIED_NO_STORE },
        { "private", WD_GZIP_PROXIED_PRIVATE }, { "no_last_modified", WD_GZIP_PROXIED_NO_LM },
        { "no_etag", WD_GZIP_PROXIED_NO_ETAG }, { "auth", WD_GZIP_PROXIED_AUTH },
        { "any", WD_GZIP_PROXIED_ANY }, { NULL, 0 }
    };
    wd_http_gzip_loc_conf_t *glcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t i, j;

    if (glcf->proxied) {
        return "is duplicate";
    }
    for (i = 1; i < cf->args->nelts; i++) {
        for (j = 0; names[j].name; j++) {
            if (wd_str_eq(&args[i], names[j].name)) {
                glcf->proxied |= names[j].value;
                break;
            }
        }
        if (names[j].name == NULL) {
            return wd_conf_invalid_value(cf, &args[i]);
        }
    }
    if ((glcf->proxied & WD_GZIP_PROXIED_OFF) && glcf->proxied != WD_GZIP_PROXIED_OFF) {
        glcf->proxied = WD_GZIP_PROXIED_OFF;
    }
    return WD_CONF_OK;
}

static char *
wd_http_gzip_http_version(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_gzip_loc_conf_t *glcf = conf;
    wd_str_t *args = cf->args->elts;

    if (glcf->http_version != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    if (wd_str_eq(&args[1], "1.0")) {
        glcf->http_version = 1000;
    } else if (wd_str_eq(&args[1], "1.1")) {
        glcf->http_version = 1001;
    } else {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    return WD_CONF_OK;
}

/* The compiled gzip_disable patterns live in a pool array (elements may move as it grows):
 * one cleanup frees whichever are in it when the configuration's pool goes, including a
 * configuration that failed after them (found by fuzz_conf: regcomp's memory leaked). */
static void
wd_http_gzip_disable_cleanup(void *data)
{
    wd_array_t *a = data;
    regex_t *re = a->elts;
    wd_uint_t i;

    for (i = 0; i < a->nelts; i++) {
        regfree(&re[i]);
    }
}

static char *
wd_http_gzip_disable(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_gzip_loc_conf_t *glcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_uint_t i;

    if (glcf->disable == NULL) {
        wd_pool_cleanup_t *cln = wd_pool_cleanup_add(cf->pool, 0);
        glcf->disable = wd_array_create(cf->pool, 2, sizeof(regex_t));
        if (cln == NULL || glcf->disable == NULL) {
            return WD_CONF_ERROR;
        }
        cln->handler = wd_http_gzip_disable_cleanup;
        cln->data = glcf->disable;
    }
    for (i = 1; i < cf->args->nelts; i++) {
        regex_t *re;
        char *src;
        if (wd_str_eq(&args[i], "msie6") || wd_str_eq(&args[i], "degradation")) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"gzip_disable %.*s\" is not supported by "
                              "wasmd (regular expressions are)", wd_str_pf(&args[i]));
            return WD_CONF_ERROR;
        }
        re = wd_array_push(glcf->disable);
        src = wd_pnalloc(cf->pool, args[i].len + 1);
        if (re == NULL || src == NULL) {
            return WD_CONF_ERROR;
        }
        memcpy(src, args[i].data, args[i].len);
        src[args[i].len] = '\0';
        if (regcomp(re, src, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
            glcf->disable->nelts--;
            return wd_conf_invalid_value(cf, &args[i]);
        }
    }
    return WD_CONF_OK;
}

static char *
wd_http_gzip_buffers(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *args = cf->args->elts;

    if (wd_atoi(args[1].data, args[1].len) <= 0) {
        return wd_conf_invalid_value(cf, &args[1]);
    }
    if (wd_parse_size(&args[2]) <= 0) {
        return wd_conf_invalid_value(cf, &args[2]);
    }
    return WD_CONF_OK;
}

/* ---- request side ---- */

static wd_http_header_filter_pt wd_http_gzip_next_header;
static wd_http_body_filter_pt   wd_http_gzip_next_body;

static int
wd_strcasestr_n(const wd_str_t *s, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= s->len; i++) {
        if (strncasecmp((const char *) s->data + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
wd_http_gzip_next(wd_http_request_t *r)
{
    return wd_http_gzip_next_header ? wd_http_gzip_next_header(r) : WD_OK;
}

static wd_http_header_t *
wd_http_gzip_out_header(wd_http_request_t *r, const char *name, size_t len)
{
    return wd_http_find_header(&r->headers_out, name, len);
}

/* Does Accept-Encoding accept gzip (q > 0)? */
static int
wd_http_gzip_accepted(const wd_str_t *ae)
{
    const u_char *p = ae->data, *end = ae->data + ae->len;

    while (p < end) {
        const u_char *tok, *tok_end, *item_end = memchr(p, ',', end - p);
        if (item_end == NULL) {
            item_end = end;
        }
        while (p < item_end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        tok = p;
        while (p < item_end && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }
        tok_end = p;
        if ((tok_end - tok == 4 && strncasecmp((const char *) tok, "gzip", 4) == 0)
            || (tok_end - tok == 1 && *tok == '*'))
        {
            /* q=0, q=0.0, q=0.000 refuse */
            const u_char *q = p;
            while (q + 1 < item_end) {
                if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                    q += 2;
                    if (q < item_end && *q == '0') {
                        q++;
                        if (q < item_end && *q == '.') {
                            q++;
                        }
                        while (q < item_end && *q == '0') {
                            q++;
                        }
                        if (q == item_end || *q == ' ' || *q == ';' || *q == '\t') {
                            return 0;
                        }
                    }
                    break;
                }
                q++;
            }
            return 1;
        }
        p = item_end + 1;
    }
    return 0;
}

static int
wd_http_gzip_ok(wd_http_request_t *r, wd_http_gzip_loc_conf_t *glcf)
{
    wd_http_header_t *h = wd_http_find_header(&r->headers_in, "Accept-Encoding", 15);
    wd_uint_t i;

    if (h == NULL || h->value.len < 4 || !wd_http_gzip_accepted(&h->value)) {
        return 0;
    }
    if (r->http_version < glcf->http_version) {
        return 0;
    }
    if (wd_http_find_header(&r->headers_in, "Via", 3)) {
        wd_uint_t p = glcf->proxied;
        if (p & WD_GZIP_PROXIED_OFF) {
            return 0;
        }
        if (!(p & WD_GZIP_PROXIED_ANY)) {
            wd_http_header_t *cc = wd_http_gzip_out_header(r, "Cache-Control", 13);
            int ok = 0;
            if ((p & WD_GZIP_PROXIED_EXPIRED) && wd_http_gzip_out_header(r, "Expires", 7)) {
                ok = 1;
            }
            if (cc && (((p & WD_GZIP_PROXIED_NO_CACHE)
                        && wd_strcasestr_n(&cc->value, "no-cache"))
                       || ((p & WD_GZIP_PROXIED_NO_STORE)
                           && wd_strcasestr_n(&cc->value, "no-store"))
                       || ((p & WD_GZIP_PROXIED_PRIVATE)
                           && wd_strcasestr_n(&cc->value, "private"))))
            {
                ok = 1;
            }
            if ((p & WD_GZIP_PROXIED_NO_LM) && !wd_http_gzip_out_header(r, "Last-Modified", 13)) {
                ok = 1;
            }
            if ((p & WD_GZIP_PROXIED_NO_ETAG) && !wd_http_gzip_out_header(r, "ETag", 4)) {
                ok = 1;
            }
            if ((p & WD_GZIP_PROXIED_AUTH)
                && wd_http_find_header(&r->headers_in, "Authorization", 13))
            {
                ok = 1;
            }
            if (!ok) {
                return 0;
            }
        }
    }
    if (glcf->disable && r->h_user_agent) {
        regex_t *re = glcf->disable->elts;
        for (i = 0; i < glcf->disable->nelts; i++) {
            regmatch_t m[1];
            m[0].rm_so = 0;
            m[0].rm_eo = (regoff_t) r->h_user_agent->value.len;
            if (regexec(&re[i], (const char *) r->h_user_agent->value.data, 1, m,
                        REG_STARTEND) == 0) {
                return 0;
            }
        }
    }
    return 1;
}

static int
wd_http_gzip_type_ok(wd_http_request_t *r, wd_http_gzip_loc_conf_t *glcf)
{
    wd_str_t *t;
    size_t len = r->content_type.len, i;
    const u_char *semi;

    if (glcf->types_any) {
        return 1;
    }
    if (len == 0) {
        return 0;
    }
    semi = memchr(r->content_type.data, ';', len);
    if (semi) {
        len = semi - r->content_type.data;
    }
    while (len && (r->content_type.data[len - 1] == ' ')) {
        len--;
    }
    if (len == 9 && strncasecmp((const char *) r->content_type.data, "text/html", 9) == 0) {
        return 1;
    }
    if (glcf->types == NULL) {
        return 0;
    }
    t = glcf->types->elts;
    for (i = 0; i < glcf->types->nelts; i++) {
        if (t[i].len == len && strncasecmp((const char *) t[i].data,
                                           (const char *) r->content_type.data, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The response-side checks: 1 if the response qualifies (then Vary applies). */
static int
wd_http_gzip_response_ok(wd_http_request_t *r, wd_http_gzip_loc_conf_t *glcf)
{
    wd_http_header_t *ce;
    unsigned s = r->status ? r->status : 200;

    if (!glcf->enable || (s != 200 && s != 403 && s != 404)) {
        return 0;
    }
    ce = wd_http_gzip_out_header(r, "Content-Encoding", 16);
    if (ce && ce->value.len) {
        return 0;
    }
    if (r->content_length_out >= 0 && r->content_length_out < (int64_t) glcf->min_length) {
        return 0;
    }
    if (!wd_http_gzip_type_ok(r, glcf)) {
        return 0;
    }
    return 1;       /* HEAD too: nginx announces the encoding the body would have */
}

/* For the static module: will this 200 response (status, type and length set) be
 * compressed?  Then Range is ignored, like nginx. */
int
wd_http_gzip_applies(wd_http_request_t *r)
{
    wd_http_gzip_loc_conf_t *glcf = wd_http_loc_get_module_conf(
        wd_http_filter_clcf(r), wd_http_gzip_module);

    return wd_http_gzip_response_ok(r, glcf) && wd_http_gzip_ok(r, glcf);
}

/* Deflate states are kept per worker and reset between responses (deflateReset) instead of
 * being allocated (~270 KiB in several blocks) per response: freeing them shrank the heap
 * every time, and the next response paid for the page faults (10x nginx's CPU for a
 * 100 KiB page).  At most WD_GZIP_CACHE idle ones are kept. */
#define WD_GZIP_CACHE 16
static wd_http_gzip_ctx_t *wd_http_gzip_cache[WD_GZIP_CACHE];
static unsigned wd_http_gzip_ncache;

static void
wd_http_gzip_release(wd_http_gzip_ctx_t *ctx)
{
    if (ctx->ready == 2 && wd_http_gzip_ncache < WD_GZIP_CACHE
        && deflateReset(&ctx->zs) == Z_OK)
    {
        wd_http_gzip_cache[wd_http_gzip_ncache++] = ctx;
        return;
    }
    if (ctx->ready) {
        deflateEnd(&ctx->zs);
    }
    free(ctx);
}

static void
wd_http_gzip_cleanup(void *data)
{
    wd_http_gzip_ctx_t **slot = data;

    if (*slot) {
        wd_http_gzip_release(*slot);
        *slot = NULL;
    }
}

static wd_http_gzip_ctx_t **
wd_http_gzip_slot(wd_http_request_t *r)
{
    if (r->module_ctx == NULL) {
        r->module_ctx = wd_pcalloc(r->pool, wd_http_modules_n * sizeof(void *));
        if (r->module_ctx == NULL) {
            return NULL;
        }
    }
    return (wd_http_gzip_ctx_t **) &r->module_ctx[wd_http_gzip_module.ctx_index];
}

static int
wd_http_gzip_header_filter(wd_http_request_t *r)
{
    wd_http_gzip_loc_conf_t *glcf = wd_http_loc_get_module_conf(
        wd_http_filter_clcf(r), wd_http_gzip_module);
    wd_http_gzip_ctx_t **slot, *ctx;
    wd_http_header_t *h;
    wd_pool_cleanup_t *cln;
    unsigned i;

    if (!glcf->enable || !wd_http_gzip_response_ok(r, glcf)) {
        return wd_http_gzip_next(r);
    }
    if (glcf->vary && wd_http_add_header(r, "Vary", 4, "Accept-Encoding", 15) != WD_OK) {
        return WD_ERROR;
    }
    if (!wd_http_gzip_ok(r, glcf)) {
        return wd_http_gzip_next(r);
    }

    slot = wd_http_gzip_slot(r);
    if (slot == NULL) {
        return WD_ERROR;
    }
    if (*slot == NULL) {
        wd_http_gzip_ctx_t **hold;
        cln = wd_pool_cleanup_add(r->pool, sizeof(wd_http_gzip_ctx_t *));
        if (cln == NULL) {
            return WD_ERROR;
        }
        if (wd_http_gzip_ncache) {
            ctx = wd_http_gzip_cache[--wd_http_gzip_ncache];
            if (deflateParams(&ctx->zs, (int) glcf->level, Z_DEFAULT_STRATEGY) != Z_OK) {
                deflateEnd(&ctx->zs);
                ctx->ready = 0;
            }
        } else {
            ctx = malloc(sizeof(*ctx));
            if (ctx == NULL) {
                return WD_ERROR;
            }
            ctx->ready = 0;
        }
        hold = cln->data;
        *hold = ctx;
        cln->handler = wd_http_gzip_cleanup;
        *slot = ctx;
        /* the pool cleanup owns it now; the slot points at the same object */
        r->module_ctx[wd_http_gzip_module.ctx_index] = ctx;
    } else {
        ctx = *slot;
        if (ctx->ready == 1) {          /* a new header for the same request (error page) */
            deflateEnd(&ctx->zs);
            ctx->ready = 0;
        } else if (ctx->ready == 2) {
            deflateReset(&ctx->zs);
        }
    }
    if (ctx->ready == 0) {
        memset(&ctx->zs, 0, sizeof(ctx->zs));
        /* one window size for all (15 bits, memLevel 8) so states can be reused */
        if (deflateInit2(&ctx->zs, (int) glcf->level, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            wd_log_error(WD_LOG_ALERT, wd_http_log(r->hc), 0, "deflateInit2() failed");
            return WD_ERROR;
        }
    }
    ctx->ready = 1;

    if (wd_http_add_header(r, "Content-Encoding", 16, "gzip", 4) != WD_OK) {
        return WD_ERROR;
    }
    r->content_length_out = -1;
    for (i = 0; i < r->headers_out.nelts; i++) {
        h = &r->headers_out.elts[i];
        if (h->name.len == 13 && strncasecmp((char *) h->name.data, "Accept-Ranges", 13) == 0) {
            h->name.len = 0;        /* dropped below */
        } else if (h->name.len == 4 && strncasecmp((char *) h->name.data, "ETag", 4) == 0
                   && h->value.len && h->value.data[0] == '"')
        {
            u_char *w = wd_pnalloc(r->pool, h->value.len + 2);
            if (w == NULL) {
                return WD_ERROR;
            }
            w[0] = 'W';
            w[1] = '/';
            memcpy(w + 2, h->value.data, h->value.len);
            h->value.data = w;
            h->value.len += 2;
        }
    }
    for (i = 0; i < r->headers_out.nelts; ) {
        if (r->headers_out.elts[i].name.len == 0) {
            memmove(&r->headers_out.elts[i], &r->headers_out.elts[i + 1],
                    (r->headers_out.nelts - i - 1) * sizeof(wd_http_header_t));
            r->headers_out.nelts--;
        } else {
            i++;
        }
    }
    r->filter_body = 1;
    return wd_http_gzip_next(r);
}

static int
wd_http_gzip_body_filter(wd_http_request_t *r, const u_char *data, size_t len, int last)
{
    wd_http_gzip_ctx_t **slot = r->module_ctx
                                ? (wd_http_gzip_ctx_t **) &r->module_ctx[wd_http_gzip_module.ctx_index]
                                : NULL;
    wd_http_gzip_ctx_t *ctx = slot ? *slot : NULL;
    int rc = WD_OK, zrc, flush = last ? Z_FINISH : Z_NO_FLUSH;

    if (ctx == NULL || ctx->ready != 1) {
        return wd_http_gzip_next_body(r, data, len, last);
    }
    ctx->zs.next_in = (Bytef *) data;
    ctx->zs.avail_in = (uInt) len;
    for (;;) {
        ctx->zs.next_out = ctx->out;
        ctx->zs.avail_out = sizeof(ctx->out);
        zrc = deflate(&ctx->zs, flush);
        if (zrc == Z_STREAM_ERROR) {
            wd_log_error(WD_LOG_ALERT, wd_http_log(r->hc), 0, "deflate() failed");
            return WD_ERROR;
        }
        size_t n = sizeof(ctx->out) - ctx->zs.avail_out;
        int done = last ? zrc == Z_STREAM_END : (ctx->zs.avail_in == 0 && ctx->zs.avail_out != 0);
        if (n || (done && last)) {
            int nrc = wd_http_gzip_next_body(r, ctx->out, n, done && last);
            if (nrc == WD_ERROR) {
                return WD_ERROR;
            }
            if (nrc == WD_AGAIN) {
                rc = WD_AGAIN;
            }
        }
        if (done) {
            break;
        }
    }
    if (last) {
        ctx->ready = 2;     /* finished: reusable after deflateReset */
    }
    return rc;
}

static int
wd_http_gzip_postconfiguration(wd_conf_t *cf)
{
    static int installed;

    if (!installed) {   /* once per process: a reload parses the configuration again */
        installed = 1;
        wd_http_gzip_next_header = wd_http_top_header_filter;
        wd_http_gzip_next_body = wd_http_top_body_filter ? wd_http_top_body_filter
                                                         : wd_http_body_filter_end;
        wd_http_top_header_filter = wd_http_gzip_header_filter;
        wd_http_top_body_filter = wd_http_gzip_body_filter;
    }
    return WD_OK;
}
