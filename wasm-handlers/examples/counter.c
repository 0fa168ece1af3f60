/* counter: a hit counter kept in the route's key-value store (wasi:keyvalue).
 * GET /count -> "hit 1", "hit 2", ... shared by every worker, kept across restarts.
 * Zero set-up: without `keyvalue_store`, the store `default` (LMDB under the prefix) is
 * used. wasm_config `counter_key` picks the key (default "hits"). */
#include "wasmd.h"
#include "wasmd_kv.h"

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    wasmd_bucket b;
    int64_t n;
    size_t kl = 4;
    const char *key = wasmd_config_get("counter_key", &kl);
    char body[48] = "hit ";
    (void)req;
    if (key == NULL) {
        key = "hits";
        kl = 4;
    }
    int rc = wasmd_kv_open("default", &b);
    if (rc == WASMD_KV_OK)
        rc = wasmd_kv_increment(b, key, kl, 1, &n);
    if (rc != WASMD_KV_OK) {
        wasmd_log(rc == WASMD_KV_OTHER ? wasmd_kv_error() : "counter: store not available");
        wasmd_respond(resp, 503, "text/plain", "store unavailable\n", 18);
        return;
    }
    size_t l = 4 + wasmd_fmt_int(body + 4, n);
    body[l++] = '\n';
    wasmd_respond(resp, 200, "text/plain", body, l);
}
