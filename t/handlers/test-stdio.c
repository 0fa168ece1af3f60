/* test-stdio: writes a line to stderr with wasi-libc (fprintf: a wasi_snapshot_preview1 fd_write),
 * then answers how many requests this instance has seen. As a component (t/component) the
 * preview1 call goes through the adapter's own core instance, which keeps state of its own
 * (globals pointing into main's memory, set on first use): only a reset of every core
 * instance makes every request see calls=1 and a working adapter. */
#include <stdio.h>
#include "wasmd.h"

static int calls;

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    char buf[64];
    (void)req;
    fprintf(stderr, "stdio handler: request %d\n", calls);
    fflush(stderr);
    calls++;
    int n = snprintf(buf, sizeof buf, "calls=%d\n", calls);
    wasmd_respond(resp, 200, "text/plain", buf, (size_t)n);
}
