/* test-fetch.c -- outgoing requests for t/outbound. The upstream URL is the query
 * string; the mode is the path:
 *   /f/get     GET URL (X-Test forwarded); answers "status=S err=E up=<X-Up>\n" + body
 *   /f/post    the request body streamed to URL (POST, chunked); answers as /f/get
 *   /f/method  method from X-Method; answers as /f/get
 *   /f/many    X-N requests to URL<i> at once, waited for with poll: "order=i,j,...\n"
 *   /f/loop    X-N requests one after the other: "ok=A limit=B other=C\n"
 *   /f/drop    starts a request and answers without waiting for it
 *   /f/stream  GET URL, the body streamed back as it arrives (502 on failure)
 *   /f/timeout GET URL with request-options timeouts X-T: "connect,first,between" (ms)
 *   /f/trap    GET URL, wait for the head, then trap
 *   /f/trailers GET URL, the body then "|x-t=<response trailer x-t>"; POST with X-Body:
 *              the body "abc" sent chunked with the trailer "x-req-t: <X-Body>" (with
 *              X-Body-CL too: declared Content-Length: 3, the trailer given all the same) */
#include <string.h>
#include "wasmd.h"

static char buf[65536];

static void put_num(wasmd_response *resp, const char *k, long long v)
{
    char n[24];
    wasmd_write_str(resp, k);
    wasmd_fmt_int(n, v);
    wasmd_write_str(resp, n);
}

static void report(wasmd_response *resp, wasmd_fetch *f, int st)
{
    put_num(resp, "status=", st);
    put_num(resp, " err=", wasmd_fetch_error(f));
    const char *up = st > 0 ? wasmd_fetch_header(f, "x-up") : NULL;
    wasmd_write_str(resp, " up=");
    wasmd_write_str(resp, up ? up : "-");
    wasmd_write_str(resp, "\n");
    if (st > 0) {
        long r;
        while ((r = wasmd_fetch_read(f, buf, sizeof buf)) > 0)
            wasmd_write(resp, buf, (size_t)r);
        if (r < 0)
            wasmd_write_str(resp, "\nbody-error\n");
    }
}

static long long num(wasmd_request *req, const char *h, long long d)
{
    const char *v = wasmd_header(req, h);
    if (v == NULL)
        return d;
    long long n = 0;
    while (*v >= '0' && *v <= '9')
        n = n * 10 + (*v++ - '0');
    return n;
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *path = strstr(wasmd_path(req), "/f/"), *url = wasmd_query(req);
    const char *x = wasmd_header(req, "x-test");
    const char *hdrs[] = { "x-test", x ? x : "none", NULL };

    if (path == NULL) {
        wasmd_respond(resp, 404, "text/plain", "?\n", 2);
    } else if (strncmp(path, "/f/get", 6) == 0 || strncmp(path, "/f/method", 9) == 0) {
        const char *m = wasmd_header(req, "x-method");
        wasmd_fetch *f = wasmd_fetch_start(m && path[3] == 'm' ? m : "GET", url, hdrs, 0);
        report(resp, f, wasmd_fetch_wait(f));
        wasmd_fetch_close(f);
    } else if (strncmp(path, "/f/timeout", 10) == 0) {
        unsigned t[3] = { 0, 0, 0 }, k = 0;
        for (const char *v = wasmd_header(req, "x-t"); v && *v && k < 3; v++) {
            if (*v == ',')
                k++;
            else
                t[k] = t[k] * 10 + (unsigned)(*v - '0');
        }
        wasmd_fetch *f = wasmd_fetch_start_timeouts("GET", url, hdrs, 0, t[0], t[1], t[2]);
        report(resp, f, wasmd_fetch_wait(f));
        wasmd_fetch_close(f);
    } else if (strncmp(path, "/f/post", 7) == 0) {
        wasmd_fetch *f = wasmd_fetch_start("POST", url, hdrs, 1);
        long r;
        while ((r = wasmd_read(req, buf, sizeof buf)) > 0)
            if (wasmd_fetch_write(f, buf, (size_t)r) < 0)
                break;
        wasmd_fetch_end(f);
        report(resp, f, wasmd_fetch_wait(f));
        wasmd_fetch_close(f);
    } else if (strncmp(path, "/f/many", 7) == 0) {
        size_t n = (size_t)num(req, "x-n", 3), left = n;
        wasmd_fetch **fs = (wasmd_fetch **)malloc(n * sizeof *fs);
        size_t ul = strlen(url);
        for (size_t i = 0; i < n; i++) {
            char *u = (char *)malloc(ul + 24);
            memcpy(u, url, ul);
            wasmd_fmt_int(u + ul, (long long)i);
            fs[i] = wasmd_fetch_start("GET", u, hdrs, 0);
        }
        wasmd_write_str(resp, "order=");
        wasmd_fetch **live = (wasmd_fetch **)malloc(n * sizeof *live);
        size_t *idx = (size_t *)malloc(n * sizeof *idx);
        for (size_t i = 0; i < n; i++) {
            live[i] = fs[i];
            idx[i] = i;
        }
        while (left > 0) {
            size_t k = wasmd_fetch_wait_any(live, left);
            put_num(resp, "", (long long)idx[k]);
            put_num(resp, ":", wasmd_fetch_wait(live[k]));
            wasmd_write_str(resp, left > 1 ? "," : "\n");
            wasmd_fetch_close(live[k]);
            live[k] = live[left - 1];
            idx[k] = idx[left - 1];
            left--;
        }
    } else if (strncmp(path, "/f/loop", 7) == 0) {
        long long n = num(req, "x-n", 10), ok = 0, limit = 0, other = 0;
        for (long long i = 0; i < n; i++) {
            wasmd_fetch *f = wasmd_fetch_start("GET", url, hdrs, 0);
            int st = wasmd_fetch_wait(f);
            if (st > 0) {
                while (wasmd_fetch_read(f, buf, sizeof buf) > 0)
                    ;
                ok++;
            } else if (wasmd_fetch_error(f) == 11) {
                limit++;
            } else {
                other++;
            }
            wasmd_fetch_close(f);
        }
        put_num(resp, "ok=", ok);
        put_num(resp, " limit=", limit);
        put_num(resp, " other=", other);
        wasmd_write_str(resp, "\n");
    } else if (strncmp(path, "/f/drop", 7) == 0) {
        wasmd_fetch_start("GET", url, hdrs, 0);   /* never waited for, never closed */
        wasmd_write_str(resp, "dropped\n");
    } else if (strncmp(path, "/f/trap", 7) == 0) {
        wasmd_fetch *f = wasmd_fetch_start("GET", url, hdrs, 0);
        wasmd_fetch_wait(f);
        __builtin_trap();         /* the request's instance dies with an open exchange */
    } else if (strncmp(path, "/f/trailers", 11) == 0) {
        const char *rb = wasmd_header(req, "x-body");
        /* X-Body-CL: the body declared with Content-Length: 3 (no room for trailers) */
        const char *clh[] = { "x-test", x ? x : "none", "content-length", "3", NULL };
        wasmd_fetch *f = wasmd_fetch_start(rb ? "POST" : "GET", url,
                                           wasmd_header(req, "x-body-cl") ? clh : hdrs,
                                           rb != NULL);
        if (rb) {
            const char *trl[] = { "x-req-t", rb, NULL };
            wasmd_fetch_write(f, "abc", 3);
            put_num(resp, "end=", wasmd_fetch_end_trailers(f, trl));
            wasmd_write_str(resp, " ");
        }
        int st = wasmd_fetch_wait(f);
        put_num(resp, "status=", st);
        wasmd_write_str(resp, " ");
        long r;
        while ((r = wasmd_fetch_read(f, buf, sizeof buf)) > 0)
            wasmd_write(resp, buf, (size_t)r);
        const char *t = r == 0 ? wasmd_fetch_trailer(f, "x-t") : NULL;
        wasmd_write_str(resp, "|x-t=");
        wasmd_write_str(resp, t ? t : "-");
        wasmd_write_str(resp, "\n");
        wasmd_fetch_close(f);
    } else if (strncmp(path, "/f/stream", 9) == 0) {
        wasmd_fetch *f = wasmd_fetch_start("GET", url, hdrs, 0);
        int st = wasmd_fetch_wait(f);
        if (st < 0) {
            wasmd_set_status(resp, 502);
            put_num(resp, "err=", wasmd_fetch_error(f));
            return;
        }
        long r;
        while ((r = wasmd_fetch_read(f, buf, sizeof buf)) > 0)
            if (wasmd_write(resp, buf, (size_t)r) < 0)
                return;
        if (r < 0)
            return;               /* the response is aborted */
        wasmd_finish(resp);
        wasmd_fetch_close(f);
    } else {
        wasmd_respond(resp, 404, "text/plain", "?\n", 2);
    }
}
