/* test-grow: grows memory 1 MiB at a time until memory.grow fails, touching every page;
 * answers "grew N MiB, then -1". RSS must stay bounded by wasm_memory_limit. */
#include "wasmd.h"

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    char buf[64] = "grew ";
    long mib = 0;
    (void)req;
    for (;;) {
        long old = __builtin_wasm_memory_grow(0, 16);
        if (old < 0)
            break;
        memset((char *)(old * 65536), 0xa5, 16 * 65536);
        mib++;
    }
    size_t n = 5 + wasmd_fmt_int(buf + 5, mib);
    memcpy(buf + n, " MiB, then -1\n", 14);
    wasmd_respond(resp, 200, "text/plain", buf, n + 14);
}
