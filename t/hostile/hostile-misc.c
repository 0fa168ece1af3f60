/* hostile-misc: handlers for t/hostile/test_http_hostile.py and `make soak`, selected by the
 * query string:
 *   ?log        10,000 lines to stderr in one request (the server rate-limits them)
 *   ?ignore     answers at once without reading the request body
 *   ?cl-more    declares Content-Length 100000, streams 90000 bytes (the head goes out),
 *               then finishes: the response must be aborted, never complete
 *   ?cl-less    declares Content-Length 50000, tries to stream 90000
 *   ?burn=N     spins N million iterations (fuel-heavy), then answers "burned"
 *   ?trap       traps before the head (500)
 *   anything else: "ok" */
#include "wasmd.h"

static char buf[10000 * 12 + 1];
volatile unsigned long spins;

static long num(const char *s)
{
    long v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *q = wasmd_query(req);
    if (strcmp(q, "log") == 0) {
        size_t n = 0;
        for (int i = 0; i < 10000; i++) {
            memcpy(buf + n, "line ", 5);
            n += 5;
            n += wasmd_fmt_int(buf + n, i);
            buf[n++] = '\n';
        }
        buf[n] = 0;
        wasmd_log(buf);
        wasmd_respond(resp, 200, "text/plain", "logged\n", 7);
        return;
    }
    if (strcmp(q, "ignore") == 0) {
        wasmd_respond(resp, 200, "text/plain", "ignored\n", 8);
        return;
    }
    if (strcmp(q, "cl-more") == 0 || strcmp(q, "cl-less") == 0) {
        static char chunk[30000];
        memset(chunk, 'c', sizeof chunk);
        wasmd_add_header(resp, "content-length", q[3] == 'm' ? "100000" : "50000");
        for (int i = 0; i < 3; i++)
            if (wasmd_write(resp, chunk, sizeof chunk) < 0)
                break;
        wasmd_finish(resp);
        return;
    }
    if (strncmp(q, "burn=", 5) == 0) {
        unsigned long n = (unsigned long)num(q + 5) * 1000000ul;
        for (unsigned long i = 0; i < n; i++)
            spins++;
        wasmd_respond(resp, 200, "text/plain", "burned\n", 7);
        return;
    }
    if (strcmp(q, "trap") == 0)
        __builtin_trap();
    wasmd_respond(resp, 200, "text/plain", "ok\n", 3);
}
