/* test-trapmid: streams 256 KiB of 'x' then traps: the client must see a truncated
 * chunked response (no final chunk), and the next request must be served normally. */
#include "wasmd.h"

static char chunk[16384];

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    (void)req;
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 16; i++)
        wasmd_write(resp, chunk, sizeof chunk);
    __builtin_trap();
}
