/*
 * wd_http_map_module.c -- nginx's `map` (ngx_http_map_module): a variable whose value
 * depends on another value, e.g. the WebSocket idiom
 *
 *   map $http_upgrade $connection_upgrade { default upgrade; '' close; }
 *
 *   map string $variable { ... }      http
 *     default VALUE;     the value when nothing matches (else empty)
 *     KEY VALUE;         exact match, case-insensitive as nginx ("\" escapes a leading
 *                        "~" or a key named like a parameter: "\default")
 *     ~RE VALUE; ~*RE VALUE;   POSIX extended regular expressions (~* caseless), tried in
 *                        the order written after the exact keys
 *     volatile;          accepted (wasmd never caches map values)
 *   VALUE may hold variables ("$host:8080"). Exact keys win over regexes, as in nginx.
 * Refused by -t with their name: `hostnames` (wildcard host keys), `include` inside the
 * block, regex captures ($1) in values. A map must come before the directives that use its
 * variable (wasmd resolves variables while reading the file). The variable is evaluated
 * each time it is used.
 */
#include <strings.h>
#include <regex.h>
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"

typedef struct {
    wd_str_t                  key;      /* lowercased (exact entries) */
    regex_t                  *re;       /* regex entries */
    wd_http_complex_value_t   value;
} wd_http_map_entry_t;

typedef struct {
    wd_str_t                  name;     /* without '$' */
    wd_http_complex_value_t   source;
    wd_array_t               *exact;    /* wd_http_map_entry_t */
    wd_array_t               *regex;    /* wd_http_map_entry_t, in order */
    wd_http_complex_value_t   deflt;
    unsigned                  has_default:1;
} wd_http_map_t;

typedef struct {
    wd_array_t               *maps;     /* wd_http_map_t * */
    size_t                    hash_max, hash_bucket;    /* accepted, unused (nginx's hash) */
} wd_http_map_main_conf_t;

static void *wd_http_map_create_main_conf(wd_conf_t *cf);
static char *wd_http_map_block(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

static const wd_command_t wd_http_map_commands[] = {
    { "map", WD_HTTP_MAIN_CONF | WD_CONF_BLOCK | WD_CONF_TAKE2, wd_http_map_block,
      WD_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { "map_hash_max_size", WD_HTTP_MAIN_CONF | WD_CONF_TAKE1, wd_conf_set_size_slot,
      WD_HTTP_MAIN_CONF_OFFSET, offsetof(wd_http_map_main_conf_t, hash_max), NULL },
    { "map_hash_bucket_size", WD_HTTP_MAIN_CONF | WD_CONF_TAKE1, wd_conf_set_size_slot,
      WD_HTTP_MAIN_CONF_OFFSET, offsetof(wd_http_map_main_conf_t, hash_bucket), NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_map_module_ctx = {
    .create_main_conf = wd_http_map_create_main_conf,
};

wd_module_t wd_http_map_module = {
    .name = "wd_http_map_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_map_commands,
    .ctx = &wd_http_map_module_ctx,
};

static void *
wd_http_map_create_main_conf(wd_conf_t *cf)
{
    wd_http_map_main_conf_t *c = wd_pcalloc(cf->pool, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->hash_max = c->hash_bucket = WD_CONF_UNSET_SIZE;
    c->maps = wd_array_create(cf->pool, 4, sizeof(wd_http_map_t *));
    return c->maps ? c : NULL;
}

/* ---------------------------------------------------------------- run time */

static unsigned wd_http_map_depth;

static int
wd_http_map_get(wd_http_request_t *r, wd_str_t *v, const wd_str_t *name)
{
    wd_http_map_main_conf_t *mmcf = wd_http_cycle_get_module_main_conf(wd_cycle,
                                                                      wd_http_map_module);
    wd_http_map_t *map = NULL, **maps;
    wd_http_map_entry_t *e;
    const wd_http_complex_value_t *val = NULL;
    wd_str_t src;
    u_char *low;
    int rc;

    v->data = NULL;
    v->len = 0;
    if (mmcf == NULL || name == NULL) {
        return WD_OK;
    }
    maps = mmcf->maps->elts;
    for (wd_uint_t i = 0; i < mmcf->maps->nelts; i++) {
        if (maps[i]->name.len == name->len
            && memcmp(maps[i]->name.data, name->data, name->len) == 0) {
            map = maps[i];
            break;
        }
    }
    if (map == NULL) {
        return WD_OK;               /* a map of an earlier configuration */
    }
    if (wd_http_map_depth >= 16) {
        wd_log_error(WD_LOG_ERR, wd_http_log(r->hc), 0, "cycle while evaluating variable "
                     "\"%.*s\"", wd_str_pf(name));
        return WD_ERROR;
    }
    wd_http_map_depth++;
    rc = wd_http_complex_value(r, &map->source, &src);
    if (rc != WD_OK) {
        goto done;
    }
    low = wd_pnalloc(r->pool, src.len + 1);
    if (low == NULL) {
        rc = WD_ERROR;
        goto done;
    }
    for (size_t i = 0; i < src.len; i++) {
        low[i] = wd_tolower(src.data[i]);
    }
    low[src.len] = '\0';
    e = map->exact->elts;
    for (wd_uint_t i = 0; i < map->exact->nelts; i++) {
        if (e[i].key.len == src.len && memcmp(e[i].key.data, low, src.len) == 0) {
            val = &e[i].value;
            break;
        }
    }
    if (val == NULL && map->regex->nelts) {
        /* regexes see the value as it is (NUL-terminated; a NUL inside ends it) */
        u_char *z = wd_pnalloc(r->pool, src.len + 1);
        if (z == NULL) {
            rc = WD_ERROR;
            goto done;
        }
        memcpy(z, src.data, src.len);
        z[src.len] = '\0';
        e = map->regex->elts;
        for (wd_uint_t i = 0; i < map->regex->nelts; i++) {
            if (regexec(e[i].re, (const char *) z, 0, NULL, 0) == 0) {
                val = &e[i].value;
                break;
            }
        }
    }
    if (val == NULL && map->has_default) {
        val = &map->deflt;
    }
    if (val) {
        rc = wd_http_complex_value(r, val, v);
    }
done:
    wd_http_map_depth--;
    return rc;
}

/* ---------------------------------------------------------------- configuration */

static char *
wd_http_map_line(wd_conf_t *cf, const wd_command_t *dummy, void *conf)
{
    wd_http_map_t *map = conf;
    wd_str_t *args = cf->args->elts, key;
    wd_http_map_entry_t *e;

    if (cf->args->nelts == 1 && wd_str_eq(&args[0], "volatile")) {
        return WD_CONF_OK;
    }
    if (cf->args->nelts == 1 && wd_str_eq(&args[0], "hostnames")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"hostnames\" in \"map\" is not supported by "
                          "wasmd (exact keys and regular expressions are)");
        return WD_CONF_ERROR;
    }
    if (wd_str_eq(&args[0], "include")) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"include\" inside \"map\" is not supported "
                          "by wasmd: write the entries in the block");
        return WD_CONF_ERROR;
    }
    if (cf->args->nelts != 2) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid number of the map parameters");
        return WD_CONF_ERROR;
    }
    for (size_t i = 0; i + 1 < args[1].len; i++) {
        if (args[1].data[i] == '$' && args[1].data[i + 1] >= '0'
            && args[1].data[i + 1] <= '9') {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "regex captures (\"$%c\") in a \"map\" "
                              "value are not supported by wasmd", args[1].data[i + 1]);
            return WD_CONF_ERROR;
        }
    }
    key = args[0];
    if (wd_str_eq(&key, "default")) {
        if (map->has_default) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate default map parameter");
            return WD_CONF_ERROR;
        }
        map->has_default = 1;
        return wd_http_complex_value_compile(cf, &args[1], &map->deflt) == WD_OK
               ? WD_CONF_OK : WD_CONF_ERROR;
    }
    if (key.len > 1 && key.data[0] == '~') {
        int icase = key.len > 2 && key.data[1] == '*';
        wd_str_t src = { key.len - 1 - icase, key.data + 1 + icase };
        e = wd_array_push(map->regex);
        if (e == NULL) {
            return WD_CONF_ERROR;
        }
        memset(e, 0, sizeof(*e));
        e->re = wd_http_regex_compile_flags(cf, &src, REG_NOSUB | (icase ? REG_ICASE : 0));
        if (e->re == NULL) {
            map->regex->nelts--;
            return WD_CONF_ERROR;
        }
        return wd_http_complex_value_compile(cf, &args[1], &e->value) == WD_OK
               ? WD_CONF_OK : WD_CONF_ERROR;
    }
    if (key.len > 0 && key.data[0] == '\\') {
        key.data++;
        key.len--;
    }
    e = map->exact->elts;
    for (wd_uint_t i = 0; i < map->exact->nelts; i++) {
        if (e[i].key.len == key.len && strncasecmp((char *) e[i].key.data, (char *) key.data,
                                                   key.len) == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "conflicting parameter \"%.*s\"",
                              wd_str_pf(&args[0]));
            return WD_CONF_ERROR;
        }
    }
    e = wd_array_push(map->exact);
    if (e == NULL) {
        return WD_CONF_ERROR;
    }
    memset(e, 0, sizeof(*e));
    e->key.data = wd_pnalloc(cf->pool, key.len + 1);
    if (e->key.data == NULL) {
        return WD_CONF_ERROR;
    }
    for (size_t i = 0; i < key.len; i++) {
        e->key.data[i] = wd_tolower(key.data[i]);
    }
    e->key.len = key.len;
    return wd_http_complex_value_compile(cf, &args[1], &e->value) == WD_OK
           ? WD_CONF_OK : WD_CONF_ERROR;
}

static char *
wd_http_map_block(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_map_main_conf_t *mmcf = conf;
    wd_str_t *args = cf->args->elts, name = args[2];
    wd_http_map_t *map, **slot, **maps = mmcf->maps->elts;
    wd_conf_t save;
    char *rv;

    if (name.len < 2 || name.data[0] != '$') {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid variable name \"%.*s\"",
                          wd_str_pf(&name));
        return WD_CONF_ERROR;
    }
    name.data++;
    name.len--;
    for (size_t i = 0; i < name.len; i++) {
        u_char c = name.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_')) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid variable name \"%.*s\"",
                              wd_str_pf(&args[2]));
            return WD_CONF_ERROR;
        }
    }
    for (wd_uint_t i = 0; i < mmcf->maps->nelts; i++) {
        if (maps[i]->name.len == name.len && memcmp(maps[i]->name.data, name.data,
                                                    name.len) == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate \"map\" variable \"%.*s\"",
                              wd_str_pf(&args[2]));
            return WD_CONF_ERROR;
        }
    }
    map = wd_pcalloc(cf->pool, sizeof(*map));
    if (map == NULL) {
        return WD_CONF_ERROR;
    }
    map->name = name;
    map->exact = wd_array_create(cf->pool, 8, sizeof(wd_http_map_entry_t));
    map->regex = wd_array_create(cf->pool, 2, sizeof(wd_http_map_entry_t));
    if (map->exact == NULL || map->regex == NULL
        || wd_http_complex_value_compile(cf, &args[1], &map->source) != WD_OK) {
        return WD_CONF_ERROR;
    }
    /* the variable exists from here on (a NUL-terminated copy of its name) */
    char *vn = wd_pnalloc(cf->pool, name.len + 1);
    if (vn == NULL) {
        return WD_CONF_ERROR;
    }
    memcpy(vn, name.data, name.len);
    vn[name.len] = '\0';
    if (wd_http_add_variable(vn, wd_http_map_get, WD_HTTP_VAR_NAMED) != WD_OK) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "the \"map\" variable \"%.*s\" is the name of "
                          "a variable wasmd already has", wd_str_pf(&args[2]));
        return WD_CONF_ERROR;
    }
    slot = wd_array_push(mmcf->maps);
    if (slot == NULL) {
        return WD_CONF_ERROR;
    }
    *slot = map;
    save = *cf;
    cf->handler = wd_http_map_line;
    cf->handler_conf = map;
    rv = wd_conf_parse(cf, NULL);
    cf->handler = save.handler;
    cf->handler_conf = save.handler_conf;
    return rv;
}
