/*
 * wd_comp_load.c -- the loader's entry points: detect, load (parse + validate + compile,
 * then plan), free, look up, check imports against a host, and print the plan.
 */
#include <stdlib.h>
#include "wd_comp_int.h"

int
wd_comp_is_component(const uint8_t *b, size_t len)
{
    return len >= 8 && b[0] == 0x00 && b[1] == 0x61 && b[2] == 0x73 && b[3] == 0x6d
           && b[6] == 0x01 && b[7] == 0x00;
}

wd_comp_t *
wd_comp_load(const uint8_t *bytes, size_t len, const wd_comp_load_opts_t *opts, wd_comp_error_t *err)
{
    wd_comp_t *c = wd_wasm_calloc(1, sizeof(*c));
    wd_comp_error_t dummy;

    if (err == NULL) {
        err = &dummy;
    }
    memset(err, 0, sizeof(*err));
    err->offset = -1;
    if (c == NULL) {
        wd_comp_err(err, -1, "out of memory");
        return NULL;
    }
    if (wd_comp_parse(c, bytes, len, opts, err) != 0 || wd_comp_build_plan(c, opts, err) != 0) {
        wd_comp_free(c);
        return NULL;
    }
    return c;
}

void
wd_comp_free(wd_comp_t *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->nmodules; i++) {
        wd_wasm_module_free(c->modules[i]);
    }
    wd_comp_arena_free(&c->arena);
    wd_wasm_free(c);
}

const wd_comp_plan_t *
wd_comp_get_plan(const wd_comp_t *c)
{
    return &c->plan;
}

const wd_comp_lift_t *
wd_comp_find_lift(const wd_comp_t *c, const char *name)
{
    for (uint32_t i = 0; i < c->plan.nlifts; i++) {
        if (strcmp(c->plan.lifts[i].name, name) == 0) {
            return &c->plan.lifts[i];
        }
    }
    return NULL;
}

int
wd_comp_check_imports(const wd_comp_t *c, const wd_comp_host_t *host, wd_comp_error_t *err)
{
    for (uint32_t i = 0; i < c->plan.nimports; i++) {
        const wd_comp_import_t *im = &c->plan.imports[i];
        int near;
        if (wd_comp_name_match(im->name, host->interfaces, host->ninterfaces, &near) >= 0) {
            continue;
        }
        if (near >= 0) {
            wd_comp_err(err, im->offset, "component imports \"%s\", which the host does not provide "
                        "(it has \"%s\")", im->name, host->interfaces[near]);
        } else {
            wd_comp_err(err, im->offset, "component imports \"%s\", which the host does not provide", im->name);
        }
        return -1;
    }
    return 0;
}

/* ---- dump ---- */

static void
wd_comp_dump_cd(FILE *out, const wd_comp_coredef_t *cd)
{
    static const char *const kinds[] = { "func", "table", "memory", "global" };
    if (cd->kind == WD_COMP_CD_HOST) {
        fprintf(out, "host[%u]", cd->slot);
    } else {
        fprintf(out, "core%u.%s \"%.*s\"", cd->instance, cd->extern_kind < 4 ? kinds[cd->extern_kind] : "?",
                (int) cd->name_len, cd->name);
    }
}

static void
wd_comp_dump_opts(FILE *out, const wd_comp_canonopts_t *o)
{
    static const char *const enc[] = { "utf8", "utf16", "latin1+utf16" };
    fprintf(out, " string-encoding=%s", enc[o->string_encoding < 3 ? o->string_encoding : 0]);
    if (o->has_memory) {
        fprintf(out, " memory=");
        wd_comp_dump_cd(out, &o->memory);
    }
    if (o->has_realloc) {
        fprintf(out, " realloc=");
        wd_comp_dump_cd(out, &o->realloc);
    }
    if (o->has_post_return) {
        fprintf(out, " post-return=");
        wd_comp_dump_cd(out, &o->post_return);
    }
    if (o->async) {
        fprintf(out, " async");
    }
    if (o->has_callback) {
        fprintf(out, " callback=");
        wd_comp_dump_cd(out, &o->callback);
    }
}

void
wd_comp_dump(const wd_comp_t *c, FILE *out)
{
    const wd_comp_plan_t *p = &c->plan;
    char buf[256];

    fprintf(out, "modules %u\n", p->nmodules);
    for (uint32_t i = 0; i < p->nmodules; i++) {
        fprintf(out, "  module %u: %u imports, %u exports\n", i, wd_wasm_module_import_count(p->modules[i]),
                wd_wasm_module_export_count(p->modules[i]));
    }
    fprintf(out, "imports %u\n", p->nimports);
    for (uint32_t i = 0; i < p->nimports; i++) {
        fprintf(out, "  import %s \"%s\"\n", p->imports[i].sort == 1 ? "func" : "instance", p->imports[i].name);
    }
    fprintf(out, "resources %u\n", p->nresources);
    for (uint32_t i = 0; i < p->nresources; i++) {
        fprintf(out, "  resource %u: rep i32", i);
        if (p->resources[i].has_dtor) {
            fprintf(out, " dtor=");
            wd_comp_dump_cd(out, &p->resources[i].dtor);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "plan %u steps, %u core instances, %u host functions\n", p->nops, p->ncore_instances,
            p->nhostfuncs);
    for (uint32_t i = 0; i < p->nops; i++) {
        const wd_comp_op_t *op = &p->ops[i];
        if (op->op == WD_COMP_OP_INSTANTIATE) {
            const wd_comp_core_instance_t *ci = &p->core_instances[op->index];
            fprintf(out, "  instantiate core%u = module %u\n", op->index, ci->module);
            for (uint32_t j = 0; j < ci->nargs; j++) {
                const wd_wasm_import_desc_t *d = wd_wasm_module_import(p->modules[ci->module], j);
                fprintf(out, "    import \"%.*s\" \"%.*s\" <- ", (int) d->module_len, d->module,
                        (int) d->name_len, d->name);
                wd_comp_dump_cd(out, &ci->args[j]);
                fprintf(out, "\n");
            }
        } else {
            const wd_comp_hostfunc_t *hf = &p->hostfuncs[op->index];
            static const char *const kinds[] = { "lower", "resource.new", "resource.rep", "resource.drop",
                                                 "builtin" };
            wd_comp_functype_str(&hf->core_type, buf, sizeof(buf));
            fprintf(out, "  host[%u] = %s ", op->index, kinds[hf->kind]);
            if (hf->resource >= 0) {
                fprintf(out, "resource %d", hf->resource);
            } else {
                fprintf(out, "\"%s%s%s\"", hf->interface ? hf->interface : "", hf->interface ? "#" : "",
                        hf->name ? hf->name : "");
            }
            fprintf(out, " core %s", buf);
            if (hf->kind == WD_COMP_HOST_LOWER) {
                wd_comp_dump_opts(out, &hf->opts);
            } else if (hf->kind == WD_COMP_HOST_BUILTIN) {
                if (hf->vtype) {
                    wd_comp_type_str(hf->vtype, buf, sizeof(buf));
                    fprintf(out, " type %s", buf);
                }
                if (hf->flag) {
                    fprintf(out, " %s", hf->builtin == WD_COMP_BI_WSET_WAIT || hf->builtin == WD_COMP_BI_WSET_POLL
                            || hf->builtin == WD_COMP_BI_YIELD ? "cancellable" : "async");
                }
                if (hf->builtin == WD_COMP_BI_CONTEXT_GET || hf->builtin == WD_COMP_BI_CONTEXT_SET) {
                    fprintf(out, " slot %u", hf->imm);
                }
                wd_comp_dump_opts(out, &hf->opts);
            }
            fprintf(out, "\n");
        }
    }
    fprintf(out, "exports %u\n", p->nlifts);
    for (uint32_t i = 0; i < p->nlifts; i++) {
        const wd_comp_lift_t *l = &p->lifts[i];
        wd_comp_functype_str(&l->core_type, buf, sizeof(buf));
        fprintf(out, "  lift \"%s\" = ", l->name);
        wd_comp_dump_cd(out, &l->func);
        fprintf(out, " core %s", buf);
        wd_comp_dump_opts(out, &l->opts);
        fprintf(out, "\n");
    }
}
