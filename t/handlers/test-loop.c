/* test-loop: spins forever (fuel or the wall-clock deadline must stop it). /loop?sleep
 * waits on a far-away timer instead (only the deadline can stop that). */
#include "wasmd.h"

__attribute__((import_module("wasi:clocks/monotonic-clock@0.2.0"), import_name("subscribe-duration")))
int32_t wasmd_test_sub_duration(int64_t ns);
__attribute__((import_module("wasi:io/poll@0.2.0"), import_name("[method]pollable.block")))
void wasmd_test_block(int32_t p);

volatile unsigned long spins;

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    (void)resp;
    if (strcmp(wasmd_query(req), "sleep") == 0)
        wasmd_test_block(wasmd_test_sub_duration(3600LL * 1000000000LL));
    for (;;)
        spins++;
}
