/*
 * wd_http_location.c -- pure routing: Host -> server, path -> location.
 *
 * Server names (nginx's precedence): the exact name; the longest wildcard
 * starting with '*' ("*.x.com", and ".x.com" which also matches "x.com");
 * the longest wildcard ending with '*' ("www.x.*"); the first matching regex
 * in config order; else the address's default server.
 *
 * Locations (nginx's ngx_http_core_find_location, level by level):
 *   1. among this level's '=' / prefix / '^~' locations: an exact match ends
 *      the search; else remember the longest matching prefix P;
 *   2. if P exists, search P's nested locations the same way (recursively);
 *      an exact or regex match found in there ends the search;
 *   3. unless P is '^~', try this level's regex locations in config order;
 *      the first match wins (and its nested locations are searched);
 *   4. else the longest prefix found stays selected.
 * As in nginx, a '^~' only suppresses the regexes of the level where it was
 * found: a nested '^~' does not stop the enclosing levels' regexes.
 * Auto-redirect (nginx's ngx_http_core_find_static_location NGX_DONE): when no
 * static location of a level is named exactly the path but one named path + "/"
 * has auto_redirect (a proxy_pass location "/x/" and the request "/x"), that
 * location is the answer, as a redirect, and no regex is tried.
 */
#include "wd_http_conf.h"

static int
wd_http_regex_match(regex_t *re, const u_char *s, size_t len)
{
    regmatch_t m[1];

    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t) len;
    return regexec(re, (const char *) s, 1, m, REG_STARTEND) == 0;
}

wd_http_core_srv_conf_t *
wd_http_find_server(const wd_http_addr_conf_t *addr, const u_char *host, size_t len)
{
    const wd_http_server_name_t *sn, *best;
    size_t lo, hi, mid, bestlen, n, i;
    int c;

    /* exact */
    sn = addr->exact.elts;
    lo = 0;
    hi = addr->exact.nelts;
    while (lo < hi) {
        mid = (lo + hi) / 2;
        n = wd_min(sn[mid].name.len, len);
        c = n ? memcmp(sn[mid].name.data, host, n) : 0;
        if (c == 0) {
            c = (sn[mid].name.len > len) - (sn[mid].name.len < len);
        }
        if (c == 0) {
            return sn[mid].server;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (len == 0) {
        return addr->default_server;
    }

    /* "*.x.com" / ".x.com": the longest suffix */
    best = NULL;
    bestlen = 0;
    sn = addr->wc_head.elts;
    for (i = 0; i < addr->wc_head.nelts; i++) {
        const u_char *suffix = sn[i].name.data[0] == '*' ? sn[i].name.data + 1 : sn[i].name.data;
        size_t slen = sn[i].name.data[0] == '*' ? sn[i].name.len - 1 : sn[i].name.len;
        int match = (len > slen && memcmp(host + len - slen, suffix, slen) == 0)
                    || (sn[i].name.data[0] == '.' && len == slen - 1
                        && memcmp(host, suffix + 1, len) == 0);
        if (match && slen > bestlen) {
            best = &sn[i];
            bestlen = slen;
        }
    }
    if (best) {
        return best->server;
    }

    /* "www.x.*": the longest prefix */
    sn = addr->wc_tail.elts;
    for (i = 0; i < addr->wc_tail.nelts; i++) {
        size_t plen = sn[i].name.len - 1;
        if (len > plen && memcmp(host, sn[i].name.data, plen) == 0 && plen > bestlen) {
            best = &sn[i];
            bestlen = plen;
        }
    }
    if (best) {
        return best->server;
    }

    sn = addr->regex.elts;
    for (i = 0; i < addr->regex.nelts; i++) {
        if (wd_http_regex_match(sn[i].regex, host, len)) {
            return sn[i].server;
        }
    }
    return addr->default_server;
}

/* WD_OK: final (exact or regex) match; WD_AGAIN: a prefix matched; WD_DECLINED: nothing;
 * WD_DONE: auto-redirect to *found */
static int
wd_http_find_location_in(wd_http_core_loc_conf_t *pclcf, const u_char *path, size_t len,
                         wd_http_core_loc_conf_t **found)
{
    wd_http_core_loc_conf_t **locs, *best = NULL, *redirect = NULL;
    wd_uint_t i;
    int rc = WD_DECLINED, noregex = 0;

    if (pclcf->locations == NULL) {
        return WD_DECLINED;
    }
    locs = pclcf->locations->elts;

    for (i = 0; i < pclcf->locations->nelts; i++) {
        wd_http_core_loc_conf_t *l = locs[i];
        if (l->auto_redirect && l->kind != WD_HTTP_LOC_REGEX
            && l->kind != WD_HTTP_LOC_REGEX_CASELESS && l->kind != WD_HTTP_LOC_NAMED
            && l->name.len == len + 1 && l->name.data[len] == '/'
            && memcmp(l->name.data, path, len) == 0)
        {
            redirect = l;
        }
        switch (l->kind) {
        case WD_HTTP_LOC_EXACT:
            if (l->name.len == len && memcmp(l->name.data, path, len) == 0) {
                *found = l;
                return WD_OK;
            }
            break;
        case WD_HTTP_LOC_PREFIX:
        case WD_HTTP_LOC_NOREGEX:
            if (l->name.len <= len && memcmp(l->name.data, path, l->name.len) == 0
                && (best == NULL || l->name.len > best->name.len))
            {
                best = l;
            }
            break;
        default:
            break;
        }
    }

    if (redirect && (best == NULL || best->name.len != len)) {
        *found = redirect;
        return WD_DONE;
    }
    if (best) {
        *found = best;
        noregex = best->kind == WD_HTTP_LOC_NOREGEX;
        rc = wd_http_find_location_in(best, path, len, found);
        if (rc == WD_OK || rc == WD_DONE) {
            return rc;
        }
        rc = WD_AGAIN;
    }

    if (!noregex) {
        for (i = 0; i < pclcf->locations->nelts; i++) {
            wd_http_core_loc_conf_t *l = locs[i];
            if ((l->kind == WD_HTTP_LOC_REGEX || l->kind == WD_HTTP_LOC_REGEX_CASELESS)
                && wd_http_regex_match(l->regex, path, len))
            {
                *found = l;
                (void) wd_http_find_location_in(l, path, len, found);
                return WD_OK;
            }
        }
    }
    return rc;
}

wd_http_core_loc_conf_t *
wd_http_find_location_redirect(wd_http_core_srv_conf_t *srv, const u_char *path, size_t len,
                               int *redirect)
{
    wd_http_core_loc_conf_t *found = srv->loc_conf;

    *redirect = wd_http_find_location_in(srv->loc_conf, path, len, &found) == WD_DONE;
    return found;
}

wd_http_core_loc_conf_t *
wd_http_find_location(wd_http_core_srv_conf_t *srv, const u_char *path, size_t len)
{
    int redirect;

    return wd_http_find_location_redirect(srv, path, len, &redirect);
}

wd_http_core_loc_conf_t *
wd_http_find_named_location(wd_http_core_srv_conf_t *srv, const u_char *name, size_t len)
{
    wd_http_core_loc_conf_t **locs;
    wd_uint_t i;

    if (srv->loc_conf->locations == NULL) {
        return NULL;
    }
    locs = srv->loc_conf->locations->elts;
    for (i = 0; i < srv->loc_conf->locations->nelts; i++) {
        if (locs[i]->kind == WD_HTTP_LOC_NAMED && locs[i]->name.len == len
            && memcmp(locs[i]->name.data, name, len) == 0)
        {
            return locs[i];
        }
    }
    return NULL;
}
