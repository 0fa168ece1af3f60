/*
 * fuzz_component.c -- libFuzzer target for the component loader (src/component): parse,
 * validate, compile, plan; print the plan; resolve imports against the stub host; run the
 * plan in a fresh store with stub host functions (each traps) under fuel and a memory limit;
 * call every lifted export once with zeroed core arguments under fuel.
 * Seeds: objs/fuzz/seed-component (the components t/component builds with jco).
 */
#include <stdio.h>
#include <string.h>
#include "wd_comp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    wd_comp_load_opts_t o;
    wd_comp_error_t err;
    wd_comp_t *c;
    wd_wasm_store_t *s;
    wd_wasm_limits_t lim;
    wd_comp_instance_t *ci;
    const wd_comp_host_t *host = wd_comp_stub_host();

    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
    }
    memset(&o, 0, sizeof(o));
    o.engine.threads = 1;
    o.max_core_instances = 64;
    c = wd_comp_load(data, size, &o, &err);
    if (c == NULL) {
        return 0;
    }
    if (devnull) {
        wd_comp_dump(c, devnull);
    }
    (void) wd_comp_check_imports(c, host, &err);
    s = wd_wasm_store_new();
    if (s == NULL) {
        wd_comp_free(c);
        return 0;
    }
    memset(&lim, 0, sizeof(lim));
    lim.fuel = 200000;
    lim.max_memory_bytes = 64u << 20;
    ci = wd_comp_instantiate(c, s, host, &lim, &err);
    if (ci) {
        const wd_comp_plan_t *p = wd_comp_get_plan(c);
        for (uint32_t i = 0; i < p->nlifts; i++) {
            const wd_comp_lift_t *l = &p->lifts[i];
            const wd_comp_bound_lift_t *b = wd_comp_instance_lift(ci, i);
            wd_wasm_instance_t *inst;
            wd_wasm_val_t args[WD_CABI_MAX_FLAT_PARAMS], res[1];
            if (l->func.kind != WD_COMP_CD_EXPORT || l->core_type.nparams > WD_CABI_MAX_FLAT_PARAMS
                || l->core_type.nresults > 1) {
                continue;
            }
            inst = wd_comp_instance_core(ci, l->func.instance);
            memset(args, 0, sizeof(args));
            for (uint32_t j = 0; j < l->core_type.nparams; j++) {
                args[j].type = l->core_type.params[j];
            }
            wd_wasm_set_fuel(inst, 200000);
            if (wd_wasm_call(inst, b->func, args, l->core_type.nparams, res, l->core_type.nresults)
                == WD_WASM_SUSPENDED) {
                wd_wasm_abort(inst);
            }
        }
        wd_comp_instance_free(ci);
    }
    wd_wasm_store_free(s);
    wd_comp_free(c);
    return 0;
}
