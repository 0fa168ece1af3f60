/* proxy.c -- the model outbound handler: the incoming request (method, path, headers,
 * body) goes to the upstream named by `wasm_env UPSTREAM http://host:port;` and its
 * answer (status, headers, body) streams back; both bodies flow as they arrive, so a
 * body of any size passes in bounded memory. The route must allow the upstream with
 * `wasm_outbound_allow`. Upstream failures answer 502 with the wasi:http error-code. */
#include <stdlib.h>
#include <string.h>
#include "wasmd.h"

static char buf[65536];

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *up = getenv("UPSTREAM");
    const char *m = wasmd_method(req);
    size_t n = wasmd_header_count(req);
    const char **hv = (const char **)malloc((2 * n + 1) * sizeof(char *));
    size_t k = 0;
    if (up == NULL) {
        wasmd_respond(resp, 500, "text/plain", "no UPSTREAM\n", 12);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        wasmd_header_at(req, i, &name, &value);
        hv[k++] = name;           /* hop-by-hop names are refused by the host */
        hv[k++] = value;
    }
    hv[k] = NULL;
    size_t ul = strlen(up), pl = strlen(wasmd_path(req));
    char *url = (char *)malloc(ul + pl + 1);
    memcpy(url, up, ul);
    memcpy(url + ul, wasmd_path(req), pl + 1);
    int has_body = wasmd_header(req, "content-length") || wasmd_header(req, "transfer-encoding");
    wasmd_fetch *f = wasmd_fetch_start(m, url, hv, has_body);
    if (f == NULL) {
        wasmd_respond(resp, 502, "text/plain", "cannot start\n", 13);
        return;
    }
    if (has_body) {
        long r;
        while ((r = wasmd_read(req, buf, sizeof buf)) > 0)
            if (wasmd_fetch_write(f, buf, (size_t)r) < 0)
                break;
        wasmd_fetch_end(f);
    }
    int st = wasmd_fetch_wait(f);
    if (st < 0) {
        char msg[48] = "upstream error ";
        size_t l = strlen(msg);
        l += wasmd_fmt_int(msg + l, wasmd_fetch_error(f));
        msg[l++] = '\n';
        wasmd_respond(resp, 502, "text/plain", msg, l);
        wasmd_fetch_close(f);
        return;
    }
    wasmd_set_status(resp, st);
    for (size_t i = 0; i < wasmd_fetch_header_count(f); i++) {
        const char *name, *value;
        wasmd_fetch_header_at(f, i, &name, &value);
        wasmd_add_header(resp, name, value);   /* framing/hop-by-hop ones are refused */
    }
    long r;
    while ((r = wasmd_fetch_read(f, buf, sizeof buf)) > 0)
        if (wasmd_write(resp, buf, (size_t)r) < 0)
            break;
    if (r < 0) {
        wasmd_fetch_close(f);
        return;                   /* incomplete: the response is aborted */
    }
    wasmd_finish(resp);
    wasmd_fetch_close(f);
}
