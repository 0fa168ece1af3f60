/* kv-test: drives every wasi:keyvalue / wasi:config call from HTTP (t/kv/test_kv.py).
 *   /OP?s=STORE&k=KEY&v=VALUE&n=N   (percent-decoded; s defaults to "default")
 * Answers "ok ..." with 200, or "err CODE MESSAGE" with 409. */
#include "wasmd.h"
#include "wasmd_kv.h"

static char *param(wasmd_request *req, const char *name, size_t *len)
{
    const char *q = wasmd_query(req);
    size_t nl = strlen(name);
    while (*q) {
        const char *end = strchr(q, '&');
        if (!end)
            end = q + strlen(q);
        if ((size_t)(end - q) > nl && memcmp(q, name, nl) == 0 && q[nl] == '=') {
            char *out = malloc((size_t)(end - q));
            size_t o = 0;
            for (const char *p = q + nl + 1; p < end; p++) {
                if (*p == '%' && p + 2 < end + 0 + 1 && p + 2 <= end - 1 + 1) {
                    char h[3] = { p[1], p[2], 0 };
                    out[o++] = (char)strtol(h, NULL, 16);
                    p += 2;
                } else {
                    out[o++] = *p;
                }
            }
            out[o] = 0;
            *len = o;
            return out;
        }
        q = *end ? end + 1 : end;
    }
    *len = 0;
    return NULL;
}

static void answer(wasmd_response *resp, int rc, const char *ok)
{
    char buf[400];
    if (rc == WASMD_KV_OK) {
        wasmd_respond(resp, 200, "text/plain", ok, strlen(ok));
        return;
    }
    size_t n = 0;
    memcpy(buf, "err ", 4);
    n = 4;
    n += wasmd_fmt_int(buf + n, rc);
    buf[n++] = ' ';
    if (rc == WASMD_KV_OTHER) {
        size_t l = strlen(wasmd_kv_error());
        memcpy(buf + n, wasmd_kv_error(), l);
        n += l;
    }
    wasmd_respond(resp, 409, "text/plain", buf, n);
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    /* the operation is the last path segment: /small/get?k=... is "get" */
    const char *full = wasmd_path(req), *path = full;
    for (const char *p = full; *p && *p != '?'; p++)
        if (*p == '/')
            path = p;
    size_t sl, kl, vl, nl;
    char *s = param(req, "s", &sl), *k = param(req, "k", &kl), *v = param(req, "v", &vl);
    char *ns = param(req, "n", &nl);
    long n = ns ? strtol(ns, NULL, 10) : 0;
    char out[64];
    wasmd_bucket b;
    int rc;
#define OP(name) (strncmp(path, "/" name, strlen(name) + 1) == 0 \
                  && (path[strlen(name) + 1] == '?' || path[strlen(name) + 1] == 0))

    if (OP("config")) {
        size_t l;
        const char *c = wasmd_config_get(k ? k : "", &l);
        if (!c) {
            wasmd_respond(resp, 404, "text/plain", "none", 4);
            return;
        }
        wasmd_respond(resp, 200, "text/plain", c, l);
        return;
    }
    if (OP("configall")) {
        const wasmd_config_pair *p;
        size_t m = wasmd_config_all(&p);
        wasmd_set_status(resp, 200);
        for (size_t i = 0; i < m; i++) {
            wasmd_write(resp, p[i].key.ptr, p[i].key.len);
            wasmd_write(resp, "=", 1);
            wasmd_write(resp, p[i].value.ptr, p[i].value.len);
            wasmd_write(resp, "\n", 1);
        }
        wasmd_finish(resp);
        return;
    }
    if (OP("openmany")) {           /* hostile: n opens, dropped or not (v=keep) */
        for (long i = 0; i < n; i++) {
            rc = wasmd_kv_open(s ? s : "default", &b);
            if (rc != WASMD_KV_OK) {
                size_t l = wasmd_fmt_int(out, i);
                out[l] = 0;
                answer(resp, rc, out);
                return;
            }
            if (!v)
                wasmd_kv_close(b);
        }
        answer(resp, 0, "ok");
        return;
    }
    rc = wasmd_kv_open(s ? s : "default", &b);
    if (rc != WASMD_KV_OK) {
        answer(resp, rc, "");
        return;
    }
    if (OP("open")) {
        answer(resp, 0, "ok");
    } else if (OP("incr")) {
        int64_t r;
        rc = wasmd_kv_increment(b, k, kl, n ? n : 1, &r);
        size_t l = wasmd_fmt_int(out, r);
        out[l] = 0;
        answer(resp, rc, out);
    } else if (OP("set")) {
        answer(resp, wasmd_kv_set(b, k, kl, v ? v : "", vl), "ok");
    } else if (OP("setbig")) {          /* a value of n bytes */
        char *big = malloc((size_t)n + 1);
        memset(big, 'x', (size_t)n);
        answer(resp, wasmd_kv_set(b, k, kl, big, (size_t)n), "ok");
    } else if (OP("get")) {
        const uint8_t *val;
        size_t len;
        int found;
        rc = wasmd_kv_get(b, k, kl, &val, &len, &found);
        if (rc == 0 && !found) {
            wasmd_respond(resp, 404, "text/plain", "none", 4);
            return;
        }
        if (rc == 0) {
            wasmd_respond(resp, 200, "application/octet-stream", val, len);
            return;
        }
        answer(resp, rc, "");
    } else if (OP("del")) {
        answer(resp, wasmd_kv_delete(b, k, kl), "ok");
    } else if (OP("exists")) {
        int yes = 0;
        rc = wasmd_kv_exists(b, k, kl, &yes);
        answer(resp, rc, yes ? "yes" : "no");
    } else if (OP("fill")) {            /* n keys PREFIX%06d = i, in batches of 100 */
        for (long i = 0; i < n; i += 100) {
            wasmd_kv_pair kvs[100];
            char (*names)[40] = malloc(100 * 40);
            long m = n - i < 100 ? n - i : 100;
            for (long j = 0; j < m; j++) {
                size_t l = strlen(k);
                memcpy(names[j], k, l);
                char num[24];
                size_t nlen = wasmd_fmt_int(num, 1000000 + i + j);
                memcpy(names[j] + l, num + 1, nlen - 1);
                kvs[j].key.ptr = names[j];
                kvs[j].key.len = l + nlen - 1;
                kvs[j].val = (const uint8_t *)names[j];
                kvs[j].len = kvs[j].key.len;
            }
            rc = wasmd_kv_set_many(b, kvs, (size_t)m);
            if (rc) {
                answer(resp, rc, "");
                return;
            }
        }
        answer(resp, 0, "ok");
    } else if (OP("list")) {            /* pages through every key: "ok COUNT PAGES" */
        const char *cur = NULL;
        size_t curl = 0, total = 0, pages = 0;
        do {
            const wasmd_kv_str *keys;
            size_t nk;
            rc = wasmd_kv_list_keys(b, cur, curl, &keys, &nk, &cur, &curl);
            if (rc) {
                answer(resp, rc, "");
                return;
            }
            total += nk;
            pages++;
        } while (cur);
        size_t l = 0;
        memcpy(out, "ok ", 3);
        l = 3;
        l += wasmd_fmt_int(out + l, (long long)total);
        out[l++] = ' ';
        l += wasmd_fmt_int(out + l, (long long)pages);
        out[l] = 0;
        answer(resp, 0, out);
    } else if (OP("page")) {            /* one list-keys page from cursor c (none: the
                                           first): "ok CURSOR\n" (- : the last) then a key a line */
        size_t cl = 0;
        char *c = param(req, "c", &cl);
        const wasmd_kv_str *keys;
        const char *next;
        size_t nk, nl;
        if ((rc = wasmd_kv_list_keys(b, c, cl, &keys, &nk, &next, &nl))) {
            answer(resp, rc, "");
            return;
        }
        wasmd_set_status(resp, 200);
        wasmd_write(resp, "ok ", 3);
        if (next)
            wasmd_write(resp, next, nl);
        else
            wasmd_write(resp, "-", 1);
        for (size_t i = 0; i < nk; i++) {
            wasmd_write(resp, "\n", 1);
            wasmd_write(resp, keys[i].ptr, keys[i].len);
        }
        wasmd_finish(resp);
    } else if (OP("batch")) {           /* set-many 3, get-many 4 (one absent), delete-many */
        wasmd_kv_pair kvs[3] = { { { "b1", 2 }, (const uint8_t *)"one", 3 },
                                 { { "b2", 2 }, (const uint8_t *)"two", 3 },
                                 { { "b3", 2 }, (const uint8_t *)"three", 5 } };
        wasmd_kv_str keys[4] = { { "b1", 2 }, { "nob", 3 }, { "b2", 2 }, { "b3", 2 } };
        const wasmd__kv_opt_pair *got;
        if ((rc = wasmd_kv_set_many(b, kvs, 3)) || (rc = wasmd_kv_get_many(b, keys, 4, &got))) {
            answer(resp, rc, "");
            return;
        }
        wasmd_set_status(resp, 200);
        for (int i = 0; i < 4; i++) {
            if (!got[i].some) {
                wasmd_write(resp, "-;", 2);
                continue;
            }
            wasmd_write(resp, got[i].key.ptr, got[i].key.len);
            wasmd_write(resp, "=", 1);
            wasmd_write(resp, got[i].val, got[i].len);
            wasmd_write(resp, ";", 1);
        }
        rc = wasmd_kv_delete_many(b, keys, 4);
        int yes = 1;
        wasmd_kv_exists(b, "b2", 2, &yes);
        wasmd_write_str(resp, rc == 0 && !yes ? "deleted" : "not-deleted");
        wasmd_finish(resp);
    } else if (OP("casincr")) {         /* read-modify-write with cas, retried: "ok TRIES" */
        wasmd_cas c;
        long tries = 0;
        if ((rc = wasmd_kv_cas_new(b, k, kl, &c))) {
            answer(resp, rc, "");
            return;
        }
        for (;;) {
            const uint8_t *val;
            size_t len;
            int found;
            tries++;
            if ((rc = wasmd_kv_cas_current(c, &val, &len, &found))) {
                answer(resp, rc, "");
                return;
            }
            long cur = 0;
            for (size_t i = 0; found && i < len; i++)
                cur = cur * 10 + (val[i] - '0');
            char num[24];
            size_t l = wasmd_fmt_int(num, cur + 1);
            rc = wasmd_kv_swap(&c, num, l);
            if (rc == WASMD_KV_CAS_FAILED)
                continue;
            size_t ol = wasmd_fmt_int(out, tries);
            out[ol] = 0;
            answer(resp, rc, out);
            return;
        }
    } else if (OP("caslost")) {         /* cas, then a set behind its back: swap must fail */
        wasmd_cas c;
        if ((rc = wasmd_kv_cas_new(b, k, kl, &c))) {
            answer(resp, rc, "");
            return;
        }
        wasmd_kv_set(b, k, kl, "other", 5);
        rc = wasmd_kv_swap(&c, "mine", 4);
        answer(resp, 0, rc == WASMD_KV_CAS_FAILED ? "cas-failed" : "swapped");
    } else {
        wasmd_respond(resp, 404, "text/plain", "no such op", 10);
    }
}
