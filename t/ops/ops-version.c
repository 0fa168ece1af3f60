/* ops-version: answers "v1\n" or "v2\n" (OPS_VERSION at build time); t/ops swaps the two
 * builds of a route's module under load and reloads. "?sleep" suspends the handler on a
 * 1 s monotonic-clock timer first (an in-flight slow request for the QUIT drain test). */
#include "wasmd.h"

#ifndef OPS_VERSION
#define OPS_VERSION "v1"
#endif

__attribute__((import_module("wasi:clocks/monotonic-clock@0.2.0"), import_name("subscribe-duration")))
int32_t ops_sub_duration(int64_t ns);
__attribute__((import_module("wasi:io/poll@0.2.0"), import_name("[method]pollable.block")))
void ops_block(int32_t p);

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    static const char msg[] = OPS_VERSION "\n";
    static const char slept[] = OPS_VERSION " slept\n";

    if (strcmp(wasmd_query(req), "sleep") == 0) {
        ops_block(ops_sub_duration(1000000000LL));
        wasmd_respond(resp, 200, "text/plain", slept, sizeof slept - 1);
        return;
    }
    wasmd_respond(resp, 200, "text/plain", msg, sizeof msg - 1);
}
