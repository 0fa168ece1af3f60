/*
 * wd_comp_instance.c -- run a plan: every core instance of the component in one engine
 * store, in plan order. Core import vectors come ready from the plan (exports of earlier
 * core instances, or host functions made by earlier steps); host functions come from the
 * caller's resolver (wd_comp_host_t), after the import's interface name has been matched
 * to one of the host's semver-compatibly, with the canonopts' memory and realloc already
 * bound to the instance that defines them. The lifted exports are bound last.
 */
#include <stdlib.h>
#include "wd_comp_int.h"

struct wd_comp_instance {
    wd_wasm_store_t *store;
    uint32_t ncore, nhost, nlifts;
    wd_wasm_instance_t **core;
    wd_wasm_func_t **host;
    wd_comp_bound_lift_t *lifts;
};

static int
wd_comp_resolve_cd(wd_comp_instance_t *ci, const wd_comp_coredef_t *cd, wd_wasm_extern_t *out,
                   wd_comp_error_t *err)
{
    if (cd->kind == WD_COMP_CD_HOST) {
        if (cd->slot >= ci->nhost || ci->host[cd->slot] == NULL) {
            wd_comp_err(err, -1, "host function %u used before it is made", cd->slot);
            return -1;
        }
        out->kind = WD_WASM_EXTERN_FUNC;
        out->of.func = ci->host[cd->slot];
        return 0;
    }
    if (cd->instance >= ci->ncore || ci->core[cd->instance] == NULL) {
        wd_comp_err(err, -1, "core instance %u used before it is instantiated", cd->instance);
        return -1;
    }
    if (wd_wasm_instance_export(ci->core[cd->instance], cd->name, cd->name_len, out) != 0
        || out->kind != (wd_wasm_extern_kind_t) cd->extern_kind) {
        wd_comp_err(err, -1, "core instance %u has no export \"%.*s\" of the expected kind", cd->instance,
                    (int) cd->name_len, cd->name);
        return -1;
    }
    return 0;
}

void
wd_comp_instance_free(wd_comp_instance_t *ci)
{
    if (ci) {
        wd_wasm_free(ci->core);
        wd_wasm_free(ci->host);
        wd_wasm_free(ci->lifts);
        wd_wasm_free(ci);
    }
}

static int
wd_comp_make_host(wd_comp_instance_t *ci, const wd_comp_plan_t *p, uint32_t slot, const wd_comp_host_t *host,
                  wd_comp_error_t *err)
{
    const wd_comp_hostfunc_t *hf = &p->hostfuncs[slot];
    const char *want = hf->kind == WD_COMP_HOST_BUILTIN ? NULL
                       : hf->interface ? hf->interface : hf->resource < 0 ? hf->name : NULL;
    const char *matched = NULL;
    wd_comp_bound_opts_t bound;
    wd_wasm_extern_t e;
    wd_wasm_func_t *f;
    const wd_wasm_functype_t *ft;

    memset(&bound, 0, sizeof(bound));
    if (want) {
        int near, i = wd_comp_name_match(want, host->interfaces, host->ninterfaces, &near);
        if (i < 0) {
            if (near >= 0) {
                wd_comp_err(err, -1, "component imports \"%s\", which the host does not provide (it has \"%s\")",
                            want, host->interfaces[near]);
            } else {
                wd_comp_err(err, -1, "component imports \"%s\", which the host does not provide", want);
            }
            return -1;
        }
        matched = host->interfaces[i];
    }
    if (hf->kind == WD_COMP_HOST_LOWER || hf->kind == WD_COMP_HOST_BUILTIN) {
        if (hf->opts.has_memory) {
            if (wd_comp_resolve_cd(ci, &hf->opts.memory, &e, err) != 0) {
                return -1;
            }
            bound.memory = e.of.memory;
        }
        if (hf->opts.has_realloc) {
            if (wd_comp_resolve_cd(ci, &hf->opts.realloc, &e, err) != 0) {
                return -1;
            }
            bound.realloc = e.of.func;
        }
    }
    f = host->make_func(host->ud, ci->store, hf, matched, &bound, err);
    if (f == NULL) {
        return -1;
    }
    ft = wd_wasm_func_type(f);
    if (!wd_comp_functype_eq(ft, &hf->core_type)) {
        char b1[128], b2[128];
        wd_comp_functype_str(ft, b1, sizeof(b1));
        wd_comp_functype_str(&hf->core_type, b2, sizeof(b2));
        wd_comp_err(err, -1, "host function for \"%s%s%s\" has type %.50s, the component expects %.50s",
                    hf->interface ? hf->interface : "", hf->interface ? "#" : "", hf->name ? hf->name : "",
                    b1, b2);
        return -1;
    }
    ci->host[slot] = f;
    return 0;
}

wd_comp_instance_t *
wd_comp_instantiate(const wd_comp_t *c, wd_wasm_store_t *s, const wd_comp_host_t *host,
                    const wd_wasm_limits_t *limits, wd_comp_error_t *err)
{
    const wd_comp_plan_t *p = &c->plan;
    wd_comp_instance_t *ci = wd_wasm_calloc(1, sizeof(*ci));
    wd_wasm_extern_t *imports = NULL;
    uint32_t maximp = 1;

    if (ci == NULL) {
        wd_comp_err(err, -1, "out of memory");
        return NULL;
    }
    ci->store = s;
    ci->ncore = p->ncore_instances;
    ci->nhost = p->nhostfuncs;
    ci->nlifts = p->nlifts;
    ci->core = wd_wasm_calloc(ci->ncore + 1, sizeof(*ci->core));
    ci->host = wd_wasm_calloc(ci->nhost + 1, sizeof(*ci->host));
    ci->lifts = wd_wasm_calloc(ci->nlifts + 1, sizeof(*ci->lifts));
    for (uint32_t i = 0; i < p->ncore_instances; i++) {
        if (p->core_instances[i].nargs > maximp) {
            maximp = p->core_instances[i].nargs;
        }
    }
    imports = wd_wasm_calloc(maximp, sizeof(*imports));
    if (ci->core == NULL || ci->host == NULL || ci->lifts == NULL || imports == NULL) {
        wd_comp_err(err, -1, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < p->nops; i++) {
        const wd_comp_op_t *op = &p->ops[i];
        if (op->op == WD_COMP_OP_HOST) {
            if (wd_comp_make_host(ci, p, op->index, host, err) != 0) {
                goto fail;
            }
            continue;
        }
        const wd_comp_core_instance_t *cin = &p->core_instances[op->index];
        wd_wasm_error_t werr;
        for (uint32_t j = 0; j < cin->nargs; j++) {
            if (wd_comp_resolve_cd(ci, &cin->args[j], &imports[j], err) != 0) {
                goto fail;
            }
        }
        memset(&werr, 0, sizeof(werr));
        ci->core[op->index] = wd_wasm_instantiate(s, p->modules[cin->module], imports, cin->nargs, limits, &werr);
        if (ci->core[op->index] == NULL) {
            wd_comp_err(err, -1, "core instance %u (module %u): %.200s", op->index, cin->module, werr.msg);
            goto fail;
        }
    }
    for (uint32_t i = 0; i < p->nlifts; i++) {
        const wd_comp_lift_t *l = &p->lifts[i];
        wd_wasm_extern_t e;
        if (wd_comp_resolve_cd(ci, &l->func, &e, err) != 0) {
            goto fail;
        }
        ci->lifts[i].func = e.of.func;
        if (l->opts.has_memory) {
            if (wd_comp_resolve_cd(ci, &l->opts.memory, &e, err) != 0) {
                goto fail;
            }
            ci->lifts[i].memory = e.of.memory;
        }
        if (l->opts.has_realloc) {
            if (wd_comp_resolve_cd(ci, &l->opts.realloc, &e, err) != 0) {
                goto fail;
            }
            ci->lifts[i].realloc = e.of.func;
        }
        if (l->opts.has_post_return) {
            if (wd_comp_resolve_cd(ci, &l->opts.post_return, &e, err) != 0) {
                goto fail;
            }
            ci->lifts[i].post_return = e.of.func;
        }
        if (l->opts.has_callback) {
            if (wd_comp_resolve_cd(ci, &l->opts.callback, &e, err) != 0) {
                goto fail;
            }
            ci->lifts[i].callback = e.of.func;
        }
    }
    wd_wasm_free(imports);
    return ci;
fail:
    wd_wasm_free(imports);
    wd_comp_instance_free(ci);
    return NULL;
}

uint32_t
wd_comp_instance_core_count(const wd_comp_instance_t *ci)
{
    return ci->ncore;
}

wd_wasm_instance_t *
wd_comp_instance_core(const wd_comp_instance_t *ci, uint32_t i)
{
    return i < ci->ncore ? ci->core[i] : NULL;
}

const wd_comp_bound_lift_t *
wd_comp_instance_lift(const wd_comp_instance_t *ci, uint32_t i)
{
    return i < ci->nlifts ? &ci->lifts[i] : NULL;
}
