/* test-hello-std: hello in the standard wasi:http call order of wit-bindgen, componentize-js
 * and every SDK: response-outparam.set first, then the whole body with
 * blocking-write-and-flush, then outgoing-body.finish (the C SDK's wasmd_respond uses
 * check-write + write instead). bench/handlers compares it with nginx's `return 200`;
 * t/handlers checks the server answers it with a Content-Length. */
#include "wasmd.h"

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    static const char msg[] = "Hello from wasmd!\n";
    wasmd__unit_result wr;
    (void)req;
    wasmd_add_header(resp, "content-type", "text/plain");
    if (wasmd__send_head(resp) < 0 || resp->stream == 0)   /* new response, set, body, stream */
        return;
    wasmd__out_blocking_write_and_flush(resp->stream, msg, sizeof msg - 1, &wr);
    wasmd_finish(resp);
}
