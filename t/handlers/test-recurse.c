#pragma clang diagnostic ignored "-Winfinite-recursion"
/* test-recurse: unbounded recursion: must trap (call stack exhausted or out of bounds
 * shadow stack), answered with a 500 while the worker carries on. */
#include "wasmd.h"

__attribute__((noinline)) static long deep(volatile long n)
{
    volatile char pad[64];
    pad[n & 63] = (char)n;
    return deep(n + 1) + pad[(n + 1) & 63];
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    (void)req;
    long v = deep(0);
    wasmd_respond(resp, 200, "text/plain", &v, 1);
}
