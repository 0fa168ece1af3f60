/* shorten: a small URL shortener on wasi:keyvalue, configured through wasi:config.
 *
 *   POST /s/            body: https://example.com/long/path    -> 201, "BASE/Ab3\n",
 *                       Location: BASE/Ab3 (also POST /s/?url=...)
 *   GET  /s/Ab3         -> 302 to the long URL (counts the visit), 404 if unknown
 *   GET  /s/Ab3.stats   -> "visits N\n"
 *
 *   location /s/ {
 *       wasm_handler  handlers/shorten.wasm;
 *       wasm_config   base_url https://sho.rt/s;     # what links start with
 *       wasm_config   store    links;                # which store (default: "default")
 *   }
 *
 * Codes are the base-62 digits of a counter (atomic `increment` of "next"), so any number
 * of workers and servers sharing the store (LMDB, or Redis for several machines) hand out
 * distinct codes. Keys: "u:CODE" the URL, "v:CODE" the visits (ASCII decimal). Without
 * base_url, links start with http://HOST/s (the request's Host). Only http and https URLs
 * of at most 2048 bytes without spaces or control characters are accepted (400). */
#include "wasmd.h"
#include "wasmd_kv.h"

#define URL_MAX 2048

static void text(wasmd_response *resp, int status, const char *s)
{
    wasmd_respond(resp, status, "text/plain", s, strlen(s));
}

static int store_error(wasmd_response *resp, int rc)
{
    wasmd_log(rc == WASMD_KV_OTHER ? wasmd_kv_error() : "shorten: store not available");
    text(resp, 503, "store unavailable\n");
    return -1;
}

static size_t base62(char *out, int64_t n)
{
    static const char d[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char tmp[16];
    size_t l = 0;
    do {
        tmp[l++] = d[n % 62];
        n /= 62;
    } while (n > 0);
    for (size_t i = 0; i < l; i++)
        out[i] = tmp[l - 1 - i];
    return l;
}

static int url_ok(const char *u, size_t n)
{
    if (n > URL_MAX)
        return 0;
    size_t scheme = n > 8 && memcmp(u, "https://", 8) == 0 ? 8
                  : n > 7 && memcmp(u, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0 || u[scheme] == '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] == 0x7f)
            return 0;
    return 1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* the long URL: the body, or ?url= (percent-decoded) */
static size_t read_url(wasmd_request *req, char *buf)
{
    const char *q = wasmd_query(req);
    size_t n = 0;
    if (strncmp(q, "url=", 4) == 0) {
        for (const char *p = q + 4; *p && *p != '&' && n <= URL_MAX; p++) {
            if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                buf[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                p += 2;
            } else {
                buf[n++] = *p == '+' ? ' ' : *p;
            }
        }
        return n;
    }
    for (;;) {
        long r = wasmd_read(req, buf + n, URL_MAX + 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n > URL_MAX)
            break;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    return n;
}

static void shorten(wasmd_request *req, wasmd_response *resp, wasmd_bucket b)
{
    static char url[URL_MAX + 2];
    size_t n = read_url(req, url);
    if (wasmd_body_failed(req))
        return;
    if (!url_ok(url, n)) {
        text(resp, 400, "expected an http:// or https:// URL of at most 2048 bytes\n");
        return;
    }
    int64_t id;
    int rc = wasmd_kv_increment(b, "next", 4, 1, &id);
    if (rc != WASMD_KV_OK) {
        store_error(resp, rc);
        return;
    }
    char key[24] = "u:";
    size_t cl = base62(key + 2, id);
    if ((rc = wasmd_kv_set(b, key, 2 + cl, url, n)) != WASMD_KV_OK) {
        store_error(resp, rc);
        return;
    }
    /* the link: base_url from wasm_config, else http://HOST/s */
    static char link[512 + 32];
    size_t bl = 0, ll = 0;
    const char *base = wasmd_config_get("base_url", &bl);
    if (base && bl < 512) {
        memcpy(link, base, bl);
        ll = bl;
    } else {
        const char *host = wasmd_authority(req);
        size_t hl = strlen(host);
        if (hl > 400)
            hl = 400;
        memcpy(link, "http://", 7);
        memcpy(link + 7, host, hl);
        memcpy(link + 7 + hl, "/s", 2);
        ll = 9 + hl;
    }
    if (ll > 0 && link[ll - 1] == '/')
        ll--;
    link[ll++] = '/';
    memcpy(link + ll, key + 2, cl);
    ll += cl;
    link[ll] = '\0';
    wasmd_set_status(resp, 201);
    wasmd_add_header(resp, "Content-Type", "text/plain");
    wasmd_add_header(resp, "Location", link);
    link[ll++] = '\n';
    wasmd_write(resp, link, ll);
    wasmd_finish(resp);
}

static void follow(wasmd_request *req, wasmd_response *resp, wasmd_bucket b)
{
    /* the code: the last path segment, without the query */
    const char *path = wasmd_path(req), *end = strchr(path, '?'), *seg;
    if (end == NULL)
        end = path + strlen(path);
    seg = end;
    while (seg > path && seg[-1] != '/')
        seg--;
    size_t cl = (size_t)(end - seg);
    int stats = cl > 6 && memcmp(end - 6, ".stats", 6) == 0;
    if (stats)
        cl -= 6;
    if (cl == 0 || cl > 12) {
        text(resp, 404, "no such link\n");
        return;
    }
    for (size_t i = 0; i < cl; i++) {
        char c = seg[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            text(resp, 404, "no such link\n");
            return;
        }
    }
    char key[16];
    key[0] = stats ? 'v' : 'u';
    key[1] = ':';
    memcpy(key + 2, seg, cl);
    const uint8_t *val;
    size_t vl;
    int found;
    int rc = wasmd_kv_get(b, key, 2 + cl, &val, &vl, &found);
    if (rc != WASMD_KV_OK) {
        store_error(resp, rc);
        return;
    }
    if (stats) {
        char out[40] = "visits ";
        size_t l = 7;
        if (found && vl < 21) {
            memcpy(out + l, val, vl);
            l += vl;
        } else {
            out[l++] = '0';
        }
        out[l++] = '\n';
        wasmd_respond(resp, 200, "text/plain", out, l);
        return;
    }
    if (!found || vl > URL_MAX) {
        text(resp, 404, "no such link\n");
        return;
    }
    static char to[URL_MAX + 1];
    memcpy(to, val, vl);
    to[vl] = '\0';
    int64_t visits;
    key[0] = 'v';
    if ((rc = wasmd_kv_increment(b, key, 2 + cl, 1, &visits)) != WASMD_KV_OK) {
        store_error(resp, rc);
        return;
    }
    wasmd_set_status(resp, 302);
    wasmd_add_header(resp, "Location", to);
    wasmd_add_header(resp, "Content-Type", "text/plain");
    wasmd_write(resp, "moved\n", 6);
    wasmd_finish(resp);
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    wasmd_bucket b;
    size_t sl = 0;
    const char *s = wasmd_config_get("store", &sl);
    char name[65] = "default";
    if (s && sl > 0 && sl < sizeof name) {
        memcpy(name, s, sl);
        name[sl] = '\0';
    }
    int rc = wasmd_kv_open(name, &b);
    if (rc != WASMD_KV_OK) {
        store_error(resp, rc);
        return;
    }
    const char *m = wasmd_method(req);
    if (strcmp(m, "POST") == 0)
        shorten(req, resp, b);
    else if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        follow(req, resp, b);
    else
        text(resp, 405, "GET a link or POST a URL\n");
    wasmd_kv_close(b);
}
