/*
 * wd_http_limit_zone.c -- the zones of limit_req and limit_conn (see wd_http_limit.h).
 *
 * Zone memory: a copy of the key's source text (to refuse a reload that changes the key
 * of a zone it keeps, like nginx), then the hash table.
 */
#include "wd_http_limit.h"

#define WD_LZ_KEYSRC  256

typedef struct {
    uint32_t    key_len;
    u_char      key[WD_LZ_KEYSRC];
    uint32_t    pad;
    /* the table follows, 8-aligned */
} wd_lz_shm_t;

const wd_conf_enum_t wd_http_limit_log_levels[] = {
    { "info", WD_LOG_INFO }, { "notice", WD_LOG_NOTICE }, { "warn", WD_LOG_WARN },
    { "error", WD_LOG_ERR }, { NULL, 0 }
};

const wd_conf_num_bounds_t wd_http_limit_status_bounds = {
    wd_conf_check_num_bounds, 400, 599
};

wd_http_limit_zone_t *
wd_http_limit_zone_ref(wd_conf_t *cf, wd_array_t *zones, const wd_str_t *name)
{
    wd_http_limit_zone_t **zp = zones->elts, *z;
    wd_uint_t i;

    for (i = 0; i < zones->nelts; i++) {
        if (zp[i]->name.len == name->len && memcmp(zp[i]->name.data, name->data, name->len) == 0) {
            return zp[i];
        }
    }
    z = wd_pcalloc(cf->pool, sizeof(*z));
    zp = wd_array_push(zones);
    if (z == NULL || zp == NULL) {
        return NULL;
    }
    z->name.data = wd_pnalloc(cf->pool, name->len);
    if (z->name.data == NULL) {
        return NULL;
    }
    memcpy(z->name.data, name->data, name->len);
    z->name.len = name->len;
    z->file = cf->conf_file->name;
    z->line = cf->conf_file->line;
    *zp = z;
    return z;
}

wd_http_limit_zone_t *
wd_http_limit_zone_declare(wd_conf_t *cf, wd_array_t *zones, const void *tag,
                           const wd_str_t *key, const wd_str_t *zarg, size_t value_size)
{
    wd_str_t name, sz;
    wd_http_limit_zone_t *z;
    wd_lz_shm_t *hdr;
    const char *err = NULL;
    u_char *colon;
    ssize_t size;
    size_t off;

    if (zarg->len <= 5 || memcmp(zarg->data, "zone=", 5) != 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" must have \"zone\" parameter", cf->name);
        return NULL;
    }
    name.data = zarg->data + 5;
    colon = memchr(name.data, ':', zarg->len - 5);
    if (colon == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid zone size \"%.*s\"", wd_str_pf(zarg));
        return NULL;
    }
    name.len = colon - name.data;
    sz.data = colon + 1;
    sz.len = zarg->data + zarg->len - sz.data;
    size = wd_parse_size(&sz);
    if (name.len == 0 || size <= 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid zone size \"%.*s\"", wd_str_pf(zarg));
        return NULL;
    }
    if (key->len > WD_LZ_KEYSRC) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "the key \"%.*s\" is longer than %d bytes",
                          wd_str_pf(key), WD_LZ_KEYSRC);
        return NULL;
    }
    z = wd_http_limit_zone_ref(cf, zones, &name);
    if (z == NULL) {
        return NULL;
    }
    if (z->shm) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate zone \"%.*s\"", wd_str_pf(&name));
        return NULL;
    }
    if (wd_http_complex_value_compile(cf, key, &z->key) != WD_OK) {
        return NULL;
    }
    z->shm = wd_shm_zone_add(name.data, name.len, (size_t) size, tag, cf->cycle->generation,
                             &err);
    if (z->shm == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s", err);
        return NULL;
    }
    hdr = z->shm->data;
    off = (sizeof(*hdr) + 7) & ~(size_t) 7;
    if (z->shm->fresh) {
        hdr->key_len = (uint32_t) key->len;
        memcpy(hdr->key, key->data, key->len);
        z->table = wd_shm_table_init((u_char *) hdr + off, z->shm->data_size - off,
                                     WD_HTTP_LIMIT_KEY_MAX, value_size);
        if (z->table == NULL) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "zone \"%.*s\" is too small",
                              wd_str_pf(&name));
            return NULL;
        }
    } else {
        if (hdr->key_len != key->len || memcmp(hdr->key, key->data, key->len) != 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s \"%.*s\" uses the \"%.*s\" key while "
                              "previously it used the \"%.*s\" key", cf->name,
                              wd_str_pf(&name), wd_str_pf(key), (int) hdr->key_len,
                              (const char *) hdr->key);
            return NULL;
        }
        z->table = (wd_shm_table_t *) ((u_char *) hdr + off);
    }
    return z;
}

int
wd_http_limit_zones_check(wd_conf_t *cf, wd_array_t *zones, const char *directive)
{
    wd_http_limit_zone_t **zp = zones->elts;
    wd_uint_t i;

    for (i = 0; i < zones->nelts; i++) {
        if (zp[i]->shm == NULL) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s zone \"%.*s\" (used in %.*s:%lu) is "
                              "declared by no %s_zone", directive, wd_str_pf(&zp[i]->name),
                              wd_str_pf(&zp[i]->file), (unsigned long) zp[i]->line, directive);
            return WD_ERROR;
        }
    }
    return WD_OK;
}
