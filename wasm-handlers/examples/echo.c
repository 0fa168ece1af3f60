/* echo: streams the request body back as it arrives (bounded memory: one 64 KiB
 * buffer, whatever the body size). The response is chunked since its length is
 * not known up front; the request's Content-Type is echoed. A body that fails
 * (bad chunked framing, too large, client gone) is not the end of the body: the
 * handler stops without finishing, so the server answers 400/413 or aborts. */
#include "wasmd.h"

static unsigned char buf[65536];

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *ct = wasmd_header(req, "content-type");
    wasmd_add_header(resp, "content-type", ct ? ct : "application/octet-stream");
    for (;;) {
        long n = wasmd_read(req, buf, sizeof buf);
        if (n == WASMD_BODY_ERROR)
            return;                       /* not the end of the body: no finish */
        if (n == WASMD_BODY_END)
            break;
        if (wasmd_write(resp, buf, (size_t)n) < 0)
            return;
    }
    wasmd_finish(resp);
}
