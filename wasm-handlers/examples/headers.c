/* headers: the request line and header fields as a JSON object:
 * {"method":"GET","path":"/headers?x=1","authority":"...","headers":[["name","value"],...]} */
#include "wasmd.h"

static void field(wasmd_response *resp, const char *key, const char *val, int comma)
{
    if (comma)
        wasmd_write_str(resp, ",");
    wasmd_write_str(resp, "\"");
    wasmd_write_str(resp, key);
    wasmd_write_str(resp, "\":\"");
    wasmd_write_json_string(resp, val, strlen(val));
    wasmd_write_str(resp, "\"");
}

void wasmd_handle(wasmd_request *req, wasmd_response *resp)
{
    wasmd_add_header(resp, "content-type", "application/json");
    wasmd_write_str(resp, "{");
    field(resp, "method", wasmd_method(req), 0);
    field(resp, "path", wasmd_path(req), 1);
    field(resp, "authority", wasmd_authority(req), 1);
    wasmd_write_str(resp, ",\"headers\":[");
    size_t n = wasmd_header_count(req);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        wasmd_header_at(req, i, &name, &value);
        wasmd_write_str(resp, i ? ",[\"" : "[\"");
        wasmd_write_json_string(resp, name, strlen(name));
        wasmd_write_str(resp, "\",\"");
        wasmd_write_json_string(resp, value, strlen(value));
        wasmd_write_str(resp, "\"]");
    }
    wasmd_write_str(resp, "]}\n");
    wasmd_finish(resp);
}
