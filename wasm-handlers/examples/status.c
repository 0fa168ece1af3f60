/* status: answers with the status code named by the last path segment,
 * e.g. /status/404 -> 404 "status 404\n"; /status/301?to=/x adds Location. */
#include "wasmd.h"

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *path = wasmd_path(req);
    const char *q = wasmd_query(req);
    const char *seg = path, *p;
    int code = 0;
    for (p = path; *p && *p != '?'; p++)
        if (*p == '/')
            seg = p + 1;
    for (p = seg; *p >= '0' && *p <= '9' && code < 1000; p++)
        code = code * 10 + (*p - '0');
    if (p == seg || (*p && *p != '?') || code < 200 || code > 599) {
        static const char bad[] = "usage: /status/CODE (200-599)\n";
        wasmd_respond(resp, 400, "text/plain", bad, sizeof bad - 1);
        return;
    }
    if (code >= 300 && code < 400 && strncmp(q, "to=", 3) == 0)
        wasmd_add_header(resp, "location", q + 3);
    char body[32] = "status ";
    size_t n = 7 + wasmd_fmt_int(body + 7, code);
    body[n++] = '\n';
    wasmd_respond(resp, code, "text/plain", body, n);
}
