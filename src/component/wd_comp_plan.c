/*
 * wd_comp_plan.c -- flatten a parsed component into its instantiation plan (STYLE.md (i),
 * after wasmtime's inline.rs): the root component is instantiated symbolically with its
 * imports as host values. Every definition of a component is evaluated in order into a
 * value (a core definition, a host function, a lifted function, an instance as a name
 * map, a resource identity); nested components are instantiated in a child frame whose
 * imports are the arguments' values. Only side effects reach the plan: core
 * instantiations (with their import vectors in the module's import order, so nothing is
 * looked up by name at instantiation time except exports of earlier instances), host
 * functions to create (canon lower of an import, resource intrinsics), bound to their
 * canonopts' memory/realloc as core definitions, local resource types, and the canon lift
 * of each export with its post-return. The graph of nested components is gone.
 *
 * The wit-component shim/fixup pattern needs nothing special here: the shim exports a
 * table and stubs, main imports the stubs, the lowerings come after main (they need its
 * memory and realloc), and the fixup module imports the table and the lowered functions;
 * its active element segment patches the table at instantiation.
 */
#include <stdlib.h>
#include "wd_comp_int.h"

typedef enum {
    WD_V_NONE = 0,
    WD_V_CORE,                    /* cd */
    WD_V_CORE_INST_RT,            /* a: runtime core instance */
    WD_V_CORE_INST_INLINE,        /* f, item */
    WD_V_HOST_FUNC,               /* s: interface or NULL, s2: name */
    WD_V_LIFTED,                  /* lift */
    WD_V_HOST_INST,               /* s: import name */
    WD_V_MAP_INST,                /* f, item (inline exports) or item NULL (f's exports) */
    WD_V_COMPONENT,               /* comp, f: lexical frame */
    WD_V_MODULE,                  /* a: plan module */
    WD_V_RES_HOST,                /* s: interface, s2: resource name */
    WD_V_RES_LOCAL                /* a: plan resource */
} wd_comp_vkind_t;

typedef struct wd_comp_frame wd_comp_frame_t;

typedef struct {
    uint8_t k;
    uint32_t a;
    const char *s, *s2;
    wd_comp_frame_t *f;
    const wd_comp_item_t *item;
    wd_comp_static_t *comp;
    wd_comp_coredef_t cd;
    wd_comp_lift_t *lift;
} wd_comp_val_t;

struct wd_comp_frame {
    wd_comp_static_t *st;
    wd_comp_frame_t *lexical;
    wd_comp_val_t *vals[WD_SP_COUNT];
    const wd_comp_arg_t *args;    /* nested: instantiation arguments, in argframe */
    uint32_t nargs;
    wd_comp_frame_t *argframe;
};

typedef struct {
    wd_comp_t *c;
    wd_comp_error_t *err;
    uint32_t steps, max_core;
    uint32_t cap_ci, cap_ops, cap_hf, cap_lifts, cap_res;
} wd_comp_planner_t;

static wd_comp_val_t *
wd_comp_val(wd_comp_frame_t *f, int sp, uint32_t i)
{
    return &f->vals[sp][i];
}

static int
wd_comp_oom(wd_comp_planner_t *p, int64_t off)
{
    wd_comp_err(p->err, off, "out of memory");
    return -1;
}

/* value of export `name` (of sort) of an instance value */
static int
wd_comp_inst_lookup(wd_comp_planner_t *p, const wd_comp_val_t *iv, const char *name, uint16_t sort,
                    int64_t off, wd_comp_val_t *out)
{
    memset(out, 0, sizeof(*out));
    if (iv->k == WD_V_HOST_INST) {
        switch (sort) {
        case WD_SORT_FUNC:
            out->k = WD_V_HOST_FUNC;
            break;
        case WD_SORT_TYPE:
            out->k = WD_V_RES_HOST;
            break;
        default:
            wd_comp_err(p->err, off, "export \"%s\" of imported instance \"%s\" is a %s, which wasmd cannot provide",
                        name, iv->s, wd_comp_sort_name(sort));
            return -1;
        }
        out->s = iv->s;
        out->s2 = name;
        return 0;
    }
    if (iv->k == WD_V_MAP_INST) {
        const wd_comp_arg_t *v = iv->item ? iv->item->args : iv->f->st->exports;
        uint32_t n = iv->item ? iv->item->nargs : iv->f->st->nexports;
        for (uint32_t i = 0; i < n; i++) {
            if (strcmp(v[i].name, name) == 0) {
                *out = *wd_comp_val(iv->f, wd_comp_sort_space(v[i].sort), v[i].index);
                return 0;
            }
        }
    }
    wd_comp_err(p->err, off, "instance has no export \"%s\"", name);
    return -1;
}

static int
wd_comp_core_lookup(wd_comp_planner_t *p, const wd_comp_val_t *iv, const char *name, uint8_t kind,
                    int64_t off, wd_comp_coredef_t *out)
{
    if (iv->k == WD_V_CORE_INST_RT) {
        memset(out, 0, sizeof(*out));
        out->kind = WD_COMP_CD_EXPORT;
        out->extern_kind = kind;
        out->instance = iv->a;
        out->name = name;
        out->name_len = (uint32_t) strlen(name);
        return 0;
    }
    if (iv->k == WD_V_CORE_INST_INLINE) {
        for (uint32_t i = 0; i < iv->item->nargs; i++) {
            const wd_comp_arg_t *a = &iv->item->args[i];
            if (strcmp(a->name, name) == 0) {
                const wd_comp_val_t *v = wd_comp_val(iv->f, wd_comp_sort_space(a->sort), a->index);
                if (v->k != WD_V_CORE) {
                    break;
                }
                *out = v->cd;
                return 0;
            }
        }
    }
    wd_comp_err(p->err, off, "core instance has no export \"%s\"", name);
    return -1;
}

static int
wd_comp_resolve_opts(wd_comp_planner_t *p, wd_comp_frame_t *f, const wd_comp_canon_t *o, int64_t off,
                     wd_comp_canonopts_t *out)
{
    memset(out, 0, sizeof(*out));
    out->string_encoding = o->string_encoding;
    if (o->has_memory) {
        const wd_comp_val_t *v = wd_comp_val(f, WD_SP_CORE_MEMORY, o->memory);
        if (v->k != WD_V_CORE) {
            wd_comp_err(p->err, off, "canonical option memory does not resolve to a core memory");
            return -1;
        }
        out->has_memory = 1;
        out->memory = v->cd;
    }
    if (o->has_realloc) {
        const wd_comp_val_t *v = wd_comp_val(f, WD_SP_CORE_FUNC, o->realloc);
        if (v->k != WD_V_CORE) {
            wd_comp_err(p->err, off, "canonical option realloc does not resolve to a core function");
            return -1;
        }
        out->has_realloc = 1;
        out->realloc = v->cd;
    }
    if (o->has_post_return) {
        const wd_comp_val_t *v = wd_comp_val(f, WD_SP_CORE_FUNC, o->post_return);
        if (v->k != WD_V_CORE) {
            wd_comp_err(p->err, off, "canonical option post-return does not resolve to a core function");
            return -1;
        }
        out->has_post_return = 1;
        out->post_return = v->cd;
    }
    out->async = o->async_;
    if (o->has_callback) {
        const wd_comp_val_t *v = wd_comp_val(f, WD_SP_CORE_FUNC, o->callback);
        if (v->k != WD_V_CORE) {
            wd_comp_err(p->err, off, "canonical option callback does not resolve to a core function");
            return -1;
        }
        out->has_callback = 1;
        out->callback = v->cd;
    }
    return 0;
}

static int
wd_comp_emit_op(wd_comp_planner_t *p, uint8_t op, uint32_t index, int64_t off)
{
    wd_comp_plan_t *pl = &p->c->plan;
    if (wd_comp_grow(&p->c->arena, (void **) &pl->ops, &p->cap_ops, pl->nops, sizeof(*pl->ops)) != 0) {
        return wd_comp_oom(p, off);
    }
    pl->ops[pl->nops].op = op;
    pl->ops[pl->nops].index = index;
    pl->nops++;
    return 0;
}

static wd_comp_hostfunc_t *
wd_comp_new_hostfunc(wd_comp_planner_t *p, uint8_t kind, const wd_comp_item_t *it, wd_comp_val_t *v)
{
    wd_comp_plan_t *pl = &p->c->plan;
    wd_comp_hostfunc_t *hf;
    if (wd_comp_grow(&p->c->arena, (void **) &pl->hostfuncs, &p->cap_hf, pl->nhostfuncs,
                     sizeof(*pl->hostfuncs)) != 0) {
        wd_comp_oom(p, it->offset);
        return NULL;
    }
    hf = &pl->hostfuncs[pl->nhostfuncs];
    memset(hf, 0, sizeof(*hf));
    hf->kind = kind;
    hf->resource = -1;
    hf->core_type = it->type->core;
    memset(v, 0, sizeof(*v));
    v->k = WD_V_CORE;
    v->cd.kind = WD_COMP_CD_HOST;
    v->cd.extern_kind = WD_WASM_EXTERN_FUNC;
    v->cd.slot = pl->nhostfuncs;
    if (wd_comp_emit_op(p, WD_COMP_OP_HOST, pl->nhostfuncs, it->offset) != 0) {
        return NULL;
    }
    pl->nhostfuncs++;
    return hf;
}

static int wd_comp_eval_frame(wd_comp_planner_t *p, wd_comp_frame_t *f);

static int
wd_comp_eval_def(wd_comp_planner_t *p, wd_comp_frame_t *f, int sp, uint32_t idx)
{
    wd_comp_t *c = p->c;
    wd_comp_plan_t *pl = &c->plan;
    const wd_comp_item_t *it = &f->st->sp[sp].items[idx];
    wd_comp_val_t *v = wd_comp_val(f, sp, idx);
    int64_t off = it->offset;

    if (++p->steps > WD_COMP_MAX_INLINE_STEPS) {
        wd_comp_err(p->err, off, "component too large to flatten (more than %u definitions instantiated)",
                    WD_COMP_MAX_INLINE_STEPS);
        return -1;
    }
    memset(v, 0, sizeof(*v));
    switch (it->def) {
    case WD_DEF_IMPORT:
        if (f->argframe) {
            for (uint32_t i = 0; i < f->nargs; i++) {
                if (strcmp(f->args[i].name, it->name) == 0) {
                    *v = *wd_comp_val(f->argframe, wd_comp_sort_space(f->args[i].sort), f->args[i].index);
                    return 0;
                }
            }
            wd_comp_err(p->err, off, "missing instantiation argument \"%s\"", it->name);
            return -1;
        }
        switch (sp) {
        case WD_SP_INSTANCE:
            v->k = WD_V_HOST_INST;
            v->s = it->name;
            return 0;
        case WD_SP_FUNC:
            v->k = WD_V_HOST_FUNC;
            v->s2 = it->name;
            return 0;
        case WD_SP_TYPE:
            if (it->type->kind == WD_DT_RESOURCE) {
                v->k = WD_V_RES_HOST;
                v->s2 = it->name;
            }
            return 0;
        }
        wd_comp_err(p->err, off, "component imports \"%s\", a %s, which wasmd cannot provide", it->name,
                    sp == WD_SP_CORE_MODULE ? "core module" : sp == WD_SP_COMPONENT ? "component" : "value");
        return -1;
    case WD_DEF_EXPORT:
        *v = *wd_comp_val(f, sp, it->a);
        return 0;
    case WD_DEF_ALIAS_EXPORT:
        return wd_comp_inst_lookup(p, wd_comp_val(f, WD_SP_INSTANCE, it->a), it->name,
                                   sp == WD_SP_FUNC ? WD_SORT_FUNC : sp == WD_SP_TYPE ? WD_SORT_TYPE
                                   : sp == WD_SP_INSTANCE ? WD_SORT_INSTANCE : sp == WD_SP_COMPONENT
                                   ? WD_SORT_COMPONENT : WD_SORT_CORE_MODULE, off, v);
    case WD_DEF_ALIAS_CORE_EXPORT:
        v->k = WD_V_CORE;
        return wd_comp_core_lookup(p, wd_comp_val(f, WD_SP_CORE_INSTANCE, it->a), it->name,
                                   (uint8_t) (sp - WD_SP_CORE_FUNC), off, &v->cd);
    case WD_DEF_ALIAS_OUTER: {
        wd_comp_frame_t *g = f;
        for (uint32_t i = 0; i < it->a && g; i++) {
            g = g->lexical;
        }
        if (g == NULL) {
            wd_comp_err(p->err, off, "outer alias leaves the root component");
            return -1;
        }
        *v = *wd_comp_val(g, sp, it->b);
        return 0;
    }
    case WD_DEF_MODULE:
        v->k = WD_V_MODULE;
        v->a = it->module_index;
        return 0;
    case WD_DEF_COMPONENT:
        v->k = WD_V_COMPONENT;
        v->comp = it->comp;
        v->f = f;
        return 0;
    case WD_DEF_CORE_INSTANTIATE: {
        const wd_comp_val_t *mv = wd_comp_val(f, WD_SP_CORE_MODULE, it->a);
        const wd_wasm_module_t *m;
        wd_comp_core_instance_t *ci;
        uint32_t ni;
        if (mv->k != WD_V_MODULE) {
            wd_comp_err(p->err, off, "core instantiation of a module wasmd does not have");
            return -1;
        }
        if (pl->ncore_instances >= p->max_core) {
            wd_comp_err(p->err, off, "too many core instances (limit %u)", p->max_core);
            return -1;
        }
        m = c->modules[mv->a];
        if (wd_comp_grow(&c->arena, (void **) &pl->core_instances, &p->cap_ci, pl->ncore_instances,
                         sizeof(*pl->core_instances)) != 0) {
            return wd_comp_oom(p, off);
        }
        ci = &pl->core_instances[pl->ncore_instances];
        ci->module = mv->a;
        ni = wd_wasm_module_import_count(m);
        ci->nargs = ni;
        ci->args = wd_comp_alloc(&c->arena, (ni ? ni : 1) * sizeof(*ci->args));
        if (ci->args == NULL) {
            return wd_comp_oom(p, off);
        }
        for (uint32_t i = 0; i < ni; i++) {
            const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
            const wd_comp_val_t *av = NULL;
            for (uint32_t j = 0; j < it->nargs; j++) {
                if (strlen(it->args[j].name) == d->module_len
                    && memcmp(it->args[j].name, d->module, d->module_len) == 0) {
                    av = wd_comp_val(f, WD_SP_CORE_INSTANCE, it->args[j].index);
                    break;
                }
            }
            if (av == NULL) {
                wd_comp_err(p->err, off, "no argument for import \"%s\"", d->module);
                return -1;
            }
            if (av->k == WD_V_CORE_INST_RT) {
                ci->args[i].kind = WD_COMP_CD_EXPORT;
                ci->args[i].extern_kind = (uint8_t) d->kind;
                ci->args[i].instance = av->a;
                ci->args[i].name = d->name;      /* owned by the module, which outlives the plan */
                ci->args[i].name_len = d->name_len;
            } else if (wd_comp_core_lookup(p, av, d->name, (uint8_t) d->kind, off, &ci->args[i]) != 0) {
                return -1;
            }
        }
        v->k = WD_V_CORE_INST_RT;
        v->a = pl->ncore_instances++;
        return wd_comp_emit_op(p, WD_COMP_OP_INSTANTIATE, v->a, off);
    }
    case WD_DEF_CORE_INLINE:
        v->k = WD_V_CORE_INST_INLINE;
        v->f = f;
        v->item = it;
        return 0;
    case WD_DEF_INSTANTIATE: {
        const wd_comp_val_t *cv = wd_comp_val(f, WD_SP_COMPONENT, it->a);
        wd_comp_frame_t *child;
        if (cv->k != WD_V_COMPONENT) {
            wd_comp_err(p->err, off, "instantiation of a component wasmd does not have");
            return -1;
        }
        child = wd_comp_alloc(&c->arena, sizeof(*child));
        if (child == NULL) {
            return wd_comp_oom(p, off);
        }
        child->st = cv->comp;
        child->lexical = cv->f;
        child->args = it->args;
        child->nargs = it->nargs;
        child->argframe = f;
        if (wd_comp_eval_frame(p, child) != 0) {
            return -1;
        }
        v->k = WD_V_MAP_INST;
        v->f = child;
        return 0;
    }
    case WD_DEF_INLINE:
        v->k = WD_V_MAP_INST;
        v->f = f;
        v->item = it;
        return 0;
    case WD_DEF_TYPE:
        if (it->type->kind == WD_DT_RESOURCE && it->type->local) {
            wd_comp_plan_resource_t *r;
            if (wd_comp_grow(&c->arena, (void **) &pl->resources, &p->cap_res, pl->nresources,
                             sizeof(*pl->resources)) != 0) {
                return wd_comp_oom(p, off);
            }
            r = &pl->resources[pl->nresources];
            memset(r, 0, sizeof(*r));
            r->rep = it->type->rep;
            if (it->type->resource->has_dtor) {
                const wd_comp_val_t *dv = wd_comp_val(f, WD_SP_CORE_FUNC, it->type->resource->dtor_func);
                if (dv->k != WD_V_CORE) {
                    wd_comp_err(p->err, off, "resource destructor does not resolve to a core function");
                    return -1;
                }
                r->has_dtor = 1;
                r->dtor = dv->cd;
            }
            v->k = WD_V_RES_LOCAL;
            v->a = pl->nresources++;
        }
        return 0;
    case WD_DEF_LIFT: {
        const wd_comp_val_t *fv = wd_comp_val(f, WD_SP_CORE_FUNC, it->a);
        wd_comp_lift_t *l = wd_comp_alloc(&c->arena, sizeof(*l));
        if (l == NULL) {
            return wd_comp_oom(p, off);
        }
        if (fv->k != WD_V_CORE) {
            wd_comp_err(p->err, off, "canon lift of something that is not a core function");
            return -1;
        }
        l->func = fv->cd;
        l->type = it->type->func;
        if (wd_comp_resolve_opts(p, f, &it->canon, off, &l->opts) != 0) {
            return -1;
        }
        l->core_type = it->lift_core;
        v->k = WD_V_LIFTED;
        v->lift = l;
        return 0;
    }
    case WD_DEF_LOWER: {
        const wd_comp_val_t *fv = wd_comp_val(f, WD_SP_FUNC, it->a);
        wd_comp_val_t nv;
        wd_comp_hostfunc_t *hf;
        wd_comp_canonopts_t o;
        if (fv->k == WD_V_LIFTED) {
            wd_comp_err(p->err, off, "canon lower of a lifted function (a call between two components) "
                        "is not supported yet");
            return -1;
        }
        if (fv->k != WD_V_HOST_FUNC) {
            wd_comp_err(p->err, off, "canon lower of something that is not a function");
            return -1;
        }
        if (wd_comp_resolve_opts(p, f, &it->canon, off, &o) != 0) {
            return -1;
        }
        if ((hf = wd_comp_new_hostfunc(p, WD_COMP_HOST_LOWER, it, &nv)) == NULL) {
            return -1;
        }
        hf->interface = fv->s;
        hf->name = fv->s2;
        hf->type = f->st->sp[WD_SP_FUNC].items[it->a].type->func;
        hf->opts = o;
        *v = nv;
        return 0;
    }
    case WD_DEF_BUILTIN: {
        wd_comp_val_t nv;
        wd_comp_hostfunc_t *hf;
        wd_comp_canonopts_t o;
        if (wd_comp_resolve_opts(p, f, &it->canon, off, &o) != 0) {
            return -1;
        }
        if ((hf = wd_comp_new_hostfunc(p, WD_COMP_HOST_BUILTIN, it, &nv)) == NULL) {
            return -1;
        }
        hf->name = wd_comp_builtin_name(it->a);
        hf->builtin = (uint8_t) it->a;
        hf->imm = it->b;
        hf->flag = it->flag;
        hf->vtype = it->vtype;
        hf->opts = o;
        *v = nv;
        return 0;
    }
    case WD_DEF_RESOURCE_NEW:
    case WD_DEF_RESOURCE_DROP:
    case WD_DEF_RESOURCE_REP: {
        const wd_comp_val_t *tv = wd_comp_val(f, WD_SP_TYPE, it->a);
        wd_comp_val_t nv;
        wd_comp_hostfunc_t *hf;
        uint8_t kind = it->def == WD_DEF_RESOURCE_NEW ? WD_COMP_HOST_RESOURCE_NEW
                       : it->def == WD_DEF_RESOURCE_REP ? WD_COMP_HOST_RESOURCE_REP
                       : WD_COMP_HOST_RESOURCE_DROP;
        if (tv->k != WD_V_RES_LOCAL && !(tv->k == WD_V_RES_HOST && kind == WD_COMP_HOST_RESOURCE_DROP)) {
            wd_comp_err(p->err, off, "resource intrinsic of a resource type wasmd cannot identify");
            return -1;
        }
        if ((hf = wd_comp_new_hostfunc(p, kind, it, &nv)) == NULL) {
            return -1;
        }
        if (tv->k == WD_V_RES_LOCAL) {
            hf->resource = (int32_t) tv->a;
        } else {
            hf->interface = tv->s;
            hf->name = tv->s2;
        }
        *v = nv;
        return 0;
    }
    }
    wd_comp_err(p->err, off, "internal: unknown definition kind %u", it->def);
    return -1;
}

static int
wd_comp_eval_frame(wd_comp_planner_t *p, wd_comp_frame_t *f)
{
    wd_comp_static_t *st = f->st;
    for (int sp = 0; sp < WD_SP_COUNT; sp++) {
        if (st->sp[sp].n) {
            f->vals[sp] = wd_comp_alloc(&p->c->arena, st->sp[sp].n * sizeof(wd_comp_val_t));
            if (f->vals[sp] == NULL) {
                return wd_comp_oom(p, st->offset);
            }
        }
    }
    for (uint32_t i = 0; i < st->ndefs; i++) {
        if (wd_comp_eval_def(p, f, st->defs[i].space, st->defs[i].index) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
wd_comp_add_lift(wd_comp_planner_t *p, const char *iface, const char *name, const wd_comp_val_t *v,
                 int64_t off)
{
    wd_comp_t *c = p->c;
    wd_comp_plan_t *pl = &c->plan;
    wd_comp_lift_t *l;
    if (v->k != WD_V_LIFTED) {
        wd_comp_err(p->err, off, "export \"%s%s%s\" is not a lifted function (re-exporting an import is not supported)",
                    iface ? iface : "", iface ? "#" : "", name);
        return -1;
    }
    if (wd_comp_grow(&c->arena, (void **) &pl->lifts, &p->cap_lifts, pl->nlifts, sizeof(*pl->lifts)) != 0) {
        return wd_comp_oom(p, off);
    }
    l = &pl->lifts[pl->nlifts++];
    *l = *v->lift;
    l->offset = off;
    if (iface) {
        size_t n = strlen(iface) + strlen(name) + 2;
        char *s = wd_comp_alloc(&c->arena, n);
        if (s == NULL) {
            return wd_comp_oom(p, off);
        }
        snprintf(s, n, "%s#%s", iface, name);
        l->name = s;
    } else {
        l->name = name;
    }
    return 0;
}

int
wd_comp_build_plan(wd_comp_t *c, const wd_comp_load_opts_t *opts, wd_comp_error_t *err)
{
    wd_comp_planner_t p;
    wd_comp_frame_t *root;
    wd_comp_static_t *st = c->root;
    wd_comp_plan_t *pl = &c->plan;

    memset(&p, 0, sizeof(p));
    p.c = c;
    p.err = err;
    p.max_core = opts && opts->max_core_instances ? opts->max_core_instances : 1000;
    pl->modules = c->modules;
    pl->nmodules = c->nmodules;
    root = wd_comp_alloc(&c->arena, sizeof(*root));
    if (root == NULL) {
        return wd_comp_oom(&p, 0);
    }
    root->st = st;
    if (wd_comp_eval_frame(&p, root) != 0) {
        return -1;
    }
    pl->imports = wd_comp_alloc(&c->arena, (st->nimports + 1) * sizeof(*pl->imports));
    if (pl->imports == NULL) {
        return wd_comp_oom(&p, 0);
    }
    for (uint32_t i = 0; i < st->nimports; i++) {
        const wd_comp_item_t *it = &st->sp[wd_comp_sort_space(st->imports[i].sort)].items[st->imports[i].index];
        if (st->imports[i].sort == WD_SORT_TYPE) {
            continue;
        }
        pl->imports[pl->nimports].name = st->imports[i].name;
        pl->imports[pl->nimports].sort = (uint8_t) st->imports[i].sort;
        pl->imports[pl->nimports].offset = it->offset;
        pl->nimports++;
    }
    for (uint32_t i = 0; i < st->nexports; i++) {
        const wd_comp_arg_t *e = &st->exports[i];
        int sp = wd_comp_sort_space(e->sort);
        const wd_comp_val_t *v = wd_comp_val(root, sp, e->index);
        int64_t off = st->sp[sp].items[e->index].offset;
        if (e->sort == WD_SORT_FUNC) {
            if (wd_comp_add_lift(&p, NULL, e->name, v, off) != 0) {
                return -1;
            }
        } else if (e->sort == WD_SORT_INSTANCE) {
            const wd_comp_arg_t *ev;
            uint32_t n;
            if (v->k != WD_V_MAP_INST) {
                wd_comp_err(err, off, "export \"%s\" re-exports an imported instance, which is not supported", e->name);
                return -1;
            }
            ev = v->item ? v->item->args : v->f->st->exports;
            n = v->item ? v->item->nargs : v->f->st->nexports;
            for (uint32_t j = 0; j < n; j++) {
                if (ev[j].sort == WD_SORT_FUNC
                    && wd_comp_add_lift(&p, e->name, ev[j].name,
                                        wd_comp_val(v->f, WD_SP_FUNC, ev[j].index), off) != 0) {
                    return -1;
                }
                if (ev[j].sort == WD_SORT_INSTANCE) {
                    wd_comp_err(err, off, "export \"%s\": nested instance exports are not supported", e->name);
                    return -1;
                }
            }
        }
    }
    return 0;
}
