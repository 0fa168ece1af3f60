/* hello: the smallest handler. GET /hello -> "Hello from wasmd!\n". */
#include "wasmd.h"

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    static const char msg[] = "Hello from wasmd!\n";
    (void)req;
    wasmd_respond(resp, 200, "text/plain", msg, sizeof msg - 1);
}
