/* test-framing: the server owns framing.
 *   /framing/cl-short   declares Content-Length: 10, writes 5   -> 500 (never emitted)
 *   /framing/cl-long    declares Content-Length: 3, writes 5    -> write refused, 500
 *   /framing/cl-ok      declares Content-Length: 100000 and streams exactly that
 *   /framing/headers    tries CR/LF, NUL, hop-by-hop and invalid names; reports which the
 *                       server accepted as "name:ok|refused" lines (only x-good is ok)
 *   /framing/status     tries status 99, 600, 1000 -> all refused; answers 299
 *   /framing/log        writes two lines to stderr, answers 200
 *   /framing/std        the standard call order (response-outparam.set, then
 *                       blocking-write-and-flush, then outgoing-body.finish) in one run: the
 *                       server coalesces it into one response with a Content-Length
 *   /framing/stream     the same order, but between two flushed writes the guest waits for the
 *                       request body: what it flushed before waiting reaches the client first
 *                       (chunked), so a client that sends its body only after seeing "first"
 *                       gets "first\n" + its body */
#include "wasmd.h"

static int tf_flushed_write(wasmd_response *resp, const char *s, size_t n)
{
    wasmd__unit_result wr;
    if (wasmd__send_head(resp) < 0 || resp->stream == 0)
        return -1;
    wasmd__out_blocking_write_and_flush(resp->stream, s, n, &wr);
    return wr.is_err ? -1 : 0;
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *p = wasmd_path(req);
    if (strcmp(p, "/framing/std") == 0) {
        wasmd_add_header(resp, "content-type", "text/plain");
        tf_flushed_write(resp, "standard order\n", 15);
        wasmd_finish(resp);
        return;
    }
    if (strcmp(p, "/framing/stream") == 0) {
        char buf[64];
        tf_flushed_write(resp, "first\n", 6);
        long n = wasmd_read(req, buf, sizeof buf);   /* the client sends it after "first" */
        if (n > 0)
            tf_flushed_write(resp, buf, (size_t)n);
        wasmd_finish(resp);
        return;
    }
    if (strcmp(p, "/framing/cl-short") == 0) {
        wasmd_add_header(resp, "content-length", "10");
        wasmd_write(resp, "12345", 5);
        wasmd_finish(resp);
        return;
    }
    if (strcmp(p, "/framing/cl-long") == 0) {
        wasmd_add_header(resp, "content-length", "3");
        wasmd_write(resp, "12345", 5);
        wasmd_finish(resp);
        return;
    }
    if (strcmp(p, "/framing/cl-ok") == 0) {
        static char buf[10000];
        memset(buf, 'k', sizeof buf);
        wasmd_add_header(resp, "content-length", "100000");
        for (int i = 0; i < 10; i++)
            wasmd_write(resp, buf, sizeof buf);
        wasmd_finish(resp);
        return;
    }
    if (strcmp(p, "/framing/headers") == 0) {
        static const char *const names[] = {
            "x-good", "x-crlf", "x-lf", "connection", "transfer-encoding", "bad name", "keep-alive",
            "x-nul", "upgrade", NULL
        };
        static const char *const values[] = {
            "fine", "a\r\nInjected: yes", "a\nb", "close", "chunked", "v", "timeout=5",
            "a", "websocket", NULL
        };
        char out[512];
        size_t n = 0;
        for (int i = 0; names[i]; i++) {
            int rc;
            if (strcmp(names[i], "x-nul") == 0) {
                /* a NUL inside the value: goes through the raw import */
                uint8_t r[2];
                int32_t f = wasmd__fields_new();
                wasmd__fields_append(f, "x-nul", 5, "a\0b", 3, r);
                rc = r[0] ? -1 : 0;
                wasmd__fields_drop(f);
            } else {
                rc = wasmd_add_header(resp, names[i], values[i]);
            }
            size_t l = strlen(names[i]);
            memcpy(out + n, names[i], l);
            n += l;
            const char *s = rc == 0 ? ":ok\n" : ":refused\n";
            memcpy(out + n, s, strlen(s));
            n += strlen(s);
        }
        wasmd_write(resp, out, n);
        wasmd_finish(resp);
        return;
    }
    if (strcmp(p, "/framing/status") == 0) {
        int32_t r = wasmd__resp_new(wasmd__fields_new());
        int bad = (wasmd__resp_set_status(r, 99) == 1) + (wasmd__resp_set_status(r, 600) == 1)
                  + (wasmd__resp_set_status(r, 1000) == 1);
        wasmd_respond(resp, bad == 3 ? 299 : 500, "text/plain", "checked\n", 8);
        return;
    }
    if (strcmp(p, "/framing/log") == 0) {
        wasmd_log("first line from the guest\nsecond line");
        wasmd_respond(resp, 200, "text/plain", "logged\n", 7);
        return;
    }
    wasmd_respond(resp, 404, "text/plain", "?\n", 2);
}
