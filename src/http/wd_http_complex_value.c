/*
 * wd_http_complex_value.c -- configuration strings with variables.
 *
 * "https://$host$request_uri" is split once, at configuration time, into
 * literal parts and compiled variable references (wd_http_variables.h);
 * per request the parts are evaluated and concatenated into r->pool.
 * "$name" takes the longest run of [A-Za-z0-9_]; "${name}" delimits a name
 * followed by name characters; a '$' not followed by a name stays literal;
 * regex captures ("$1") are not supported and rejected.
 * Used by `return` (server and location levels).
 */
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"

typedef struct {
    wd_str_t            literal;
    wd_http_var_ref_t   var;
    unsigned            is_var:1;
} wd_http_cv_part_t;

static int
wd_http_cv_name_char(u_char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int
wd_http_cv_add_literal(wd_http_complex_value_t *cv, const u_char *start, const u_char *end)
{
    wd_http_cv_part_t *part;

    if (start == end) {
        return WD_OK;
    }
    part = wd_array_push(cv->parts);
    if (part == NULL) {
        return WD_ERROR;
    }
    memset(part, 0, sizeof(*part));
    part->literal.data = (u_char *) start;
    part->literal.len = end - start;
    return WD_OK;
}

int
wd_http_complex_value_compile(wd_conf_t *cf, const wd_str_t *src, wd_http_complex_value_t *cv)
{
    const u_char *p = src->data, *end = src->data + src->len, *lit = p, *name, *name_end;
    wd_http_cv_part_t *part;
    int vars = 0;

    cv->source = *src;
    cv->parts = wd_array_create(cf->pool, 4, sizeof(wd_http_cv_part_t));
    if (cv->parts == NULL) {
        return WD_ERROR;
    }
    while (p < end) {
        if (*p != '$' || p + 1 >= end) {
            p++;
            continue;
        }
        if (p[1] == '{') {
            name = p + 2;
            name_end = memchr(name, '}', end - name);
            if (name_end == NULL) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                  "the closing bracket in \"%.*s\" variable is missing",
                                  (int) (end - p), p);
                return WD_ERROR;
            }
            if (name_end == name) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid variable name in \"%.*s\"",
                                  wd_str_pf(src));
                return WD_ERROR;
            }
        } else {
            name = name_end = p + 1;
            while (name_end < end && wd_http_cv_name_char(*name_end)) {
                name_end++;
            }
            if (name_end == name) {
                p++;                        /* a lone '$' is literal */
                continue;
            }
            if (*name >= '0' && *name <= '9') {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                  "regex captures (\"$%c\") are not supported in \"%.*s\"",
                                  *name, wd_str_pf(src));
                return WD_ERROR;
            }
        }
        if (wd_http_cv_add_literal(cv, lit, p) != WD_OK) {
            return WD_ERROR;
        }
        part = wd_array_push(cv->parts);
        if (part == NULL) {
            return WD_ERROR;
        }
        memset(part, 0, sizeof(*part));
        part->is_var = 1;
        if (wd_http_variable_compile(cf->pool, name, name_end - name, &part->var) != WD_OK) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unknown variable \"$%.*s\"",
                              (int) (name_end - name), name);
            return WD_ERROR;
        }
        vars++;
        p = (p[1] == '{') ? name_end + 1 : name_end;
        lit = p;
    }
    if (vars == 0) {
        cv->parts = NULL;
        return WD_OK;
    }
    return wd_http_cv_add_literal(cv, lit, end);
}

int
wd_http_complex_value(struct wd_http_request_s *r, const wd_http_complex_value_t *cv,
                      wd_str_t *out)
{
    wd_http_cv_part_t *parts;
    wd_str_t *vals;
    wd_uint_t i, n;
    size_t len = 0;
    u_char *d;

    if (cv->parts == NULL) {
        *out = cv->source;
        return WD_OK;
    }
    parts = cv->parts->elts;
    n = cv->parts->nelts;
    vals = wd_palloc(r->pool, n * sizeof(wd_str_t));
    if (vals == NULL) {
        return WD_ERROR;
    }
    for (i = 0; i < n; i++) {
        if (parts[i].is_var) {
            if (wd_http_variable_value(r, &parts[i].var, &vals[i]) != WD_OK) {
                vals[i].len = 0;
                vals[i].data = NULL;
            }
        } else {
            vals[i] = parts[i].literal;
        }
        len += vals[i].len;
    }
    d = wd_pnalloc(r->pool, len + 1);
    if (d == NULL) {
        return WD_ERROR;
    }
    out->data = d;
    out->len = len;
    for (i = 0; i < n; i++) {
        if (vals[i].len) {
            memcpy(d, vals[i].data, vals[i].len);
            d += vals[i].len;
        }
    }
    *d = '\0';
    return WD_OK;
}
