/* api: a tiny JSON API over an in-request key/value computation.
 *   GET  /api/sum?a=1&b=2      -> {"a":1,"b":2,"sum":3}
 *   POST /api/count  (any body) -> {"bytes":N,"lines":L}   (streams the body)
 *   anything else              -> 404 {"error":"not found"}
 * Instances are reset after every request, so there is no state to share;
 * a real API would keep its data elsewhere. */
#include "wasmd.h"

static long long param(const char *q, const char *name, int *found)
{
    size_t nl = strlen(name);
    *found = 0;
    while (*q) {
        if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
            const char *p = q + nl + 1;
            int neg = *p == '-';
            long long v = 0;
            p += neg;
            if (*p < '0' || *p > '9')
                return 0;
            while (*p >= '0' && *p <= '9' && v < 1000000000000LL)
                v = v * 10 + (*p++ - '0');
            *found = 1;
            return neg ? -v : v;
        }
        while (*q && *q != '&')
            q++;
        if (*q == '&')
            q++;
    }
    return 0;
}

static void json_err(wasmd_response *resp, int status, const char *msg)
{
    wasmd_set_status(resp, status);
    wasmd_add_header(resp, "content-type", "application/json");
    wasmd_write_str(resp, "{\"error\":\"");
    wasmd_write_json_string(resp, msg, strlen(msg));
    wasmd_write_str(resp, "\"}\n");
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *m = wasmd_method(req);
    const char *path = wasmd_path(req);
    char num[24];
    if (strcmp(m, "GET") == 0 && strncmp(path, "/api/sum", 8) == 0
        && (path[8] == '\0' || path[8] == '?')) {
        int fa, fb;
        long long a = param(wasmd_query(req), "a", &fa), b = param(wasmd_query(req), "b", &fb);
        if (!fa || !fb) {
            json_err(resp, 400, "need integer parameters a and b");
            return;
        }
        wasmd_add_header(resp, "content-type", "application/json");
        wasmd_write_str(resp, "{\"a\":");
        wasmd_write(resp, num, wasmd_fmt_int(num, a));
        wasmd_write_str(resp, ",\"b\":");
        wasmd_write(resp, num, wasmd_fmt_int(num, b));
        wasmd_write_str(resp, ",\"sum\":");
        wasmd_write(resp, num, wasmd_fmt_int(num, a + b));
        wasmd_write_str(resp, "}\n");
        return;
    }
    if (strcmp(m, "POST") == 0 && strcmp(path, "/api/count") == 0) {
        static unsigned char buf[16384];
        long long bytes = 0, lines = 0;
        long n;
        while ((n = wasmd_read(req, buf, sizeof buf)) > 0) {
            bytes += n;
            for (long i = 0; i < n; i++)
                lines += buf[i] == '\n';
        }
        if (n == WASMD_BODY_ERROR)
            return;       /* bad or incomplete body: the server answers (400/413) */
        wasmd_add_header(resp, "content-type", "application/json");
        wasmd_write_str(resp, "{\"bytes\":");
        wasmd_write(resp, num, wasmd_fmt_int(num, bytes));
        wasmd_write_str(resp, ",\"lines\":");
        wasmd_write(resp, num, wasmd_fmt_int(num, lines));
        wasmd_write_str(resp, "}\n");
        return;
    }
    json_err(resp, 404, "not found");
}
