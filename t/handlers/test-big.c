/* test-big: a streamed response of N MiB (default 8; /big?mib=N), pattern byte i % 251,
 * written 64 KiB at a time with back-pressure. */
#include "wasmd.h"

static unsigned char chunk[65536];

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    const char *q = wasmd_query(req);
    long mib = 8;
    if (strncmp(q, "mib=", 4) == 0) {
        mib = 0;
        for (q += 4; *q >= '0' && *q <= '9'; q++)
            mib = mib * 10 + (*q - '0');
    }
    wasmd_add_header(resp, "content-type", "application/octet-stream");
    unsigned long off = 0;
    for (long i = 0; i < mib * 16; i++) {
        for (size_t k = 0; k < sizeof chunk; k++)
            chunk[k] = (unsigned char)((off + k) % 251);
        off += sizeof chunk;
        if (wasmd_write(resp, chunk, sizeof chunk) < 0)
            return;
    }
    wasmd_finish(resp);
}
