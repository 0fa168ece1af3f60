/*
 * wd_modules.c -- the module registry.
 *
 * Core modules come first, in this order; then every module discovered by
 * src/core/build.mk (definitions `wd_module_t wd_X_module = ...` in src/event,
 * src/http and modules/<name>/), sorted by name. Order matters for http
 * modules only in that wd_http_core_module gets ctx_index 0.
 */
#include "wd_conf.h"

extern wd_module_t wd_core_module;
extern wd_module_t wd_events_module;
extern wd_module_t wd_http_module;
extern wd_module_t wd_http_core_module;

#define WD_MODULE(name) extern wd_module_t name;
#include "wd_modules_gen.h"
#undef WD_MODULE

wd_module_t *wd_modules[] = {
    &wd_core_module,
    &wd_events_module,
    &wd_http_module,
    &wd_http_core_module,
#define WD_MODULE(name) &name,
#include "wd_modules_gen.h"
#undef WD_MODULE
    NULL
};

wd_uint_t wd_modules_n;
wd_uint_t wd_http_modules_n;

void
wd_modules_init(void)
{
    wd_uint_t i, h = 0;

    if (wd_modules_n) {
        return;
    }
    for (i = 0; wd_modules[i]; i++) {
        wd_modules[i]->index = i;
        if (wd_modules[i]->type == WD_HTTP_MODULE) {
            wd_modules[i]->ctx_index = h++;
        }
    }
    wd_modules_n = i;
    wd_http_modules_n = h;
}

wd_module_t *
wd_module_find(const char *name)
{
    wd_uint_t i;
    for (i = 0; wd_modules[i]; i++) {
        if (strcmp(wd_modules[i]->name, name) == 0) {
            return wd_modules[i];
        }
    }
    return NULL;
}
