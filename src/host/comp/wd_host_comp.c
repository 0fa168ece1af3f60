/*
 * wd_host_comp.c -- the host for components (wd_host_comp.h): the interface names we
 * provide, the resolver wd_comp_instantiate calls for every host function of a plan, and
 * the binding of the incoming-handler export to the request context.
 *
 * Each host function slot of a plan is one of:
 *   - a `canon lower` of a wasi:http-world function (src/host/http): bound to the
 *     hand-lowered implementation with the slot's canonopts memory and realloc (UTF-8);
 *     a slot with another string encoding whose type carries strings goes through the
 *     Canonical ABI layer instead (see wd_hc_make_lower);
 *   - a `canon lower` of a function of an interface described as WIT data here
 *     (wd_host_comp_wit.c): wd_cabi_host_call with the component's function type and
 *     canonopts, any string encoding;
 *   - resource.drop of an imported resource: the owner's drop;
 *   - resource.new/rep/drop of a resource the component defines: the Canonical ABI
 *     handle table of this instance.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "wd_host_comp_int.h"

/* the versions we implement: the reference WIT (wasi:http 0.2.8); any 0.2.x binds */
static const char *const wd_hc_names[] = {
    "wasi:http/types@0.2.8", "wasi:http/outgoing-handler@0.2.8",
    "wasi:io/error@0.2.8", "wasi:io/poll@0.2.8", "wasi:io/streams@0.2.8",
    "wasi:clocks/monotonic-clock@0.2.8", "wasi:clocks/wall-clock@0.2.8",
    "wasi:random/random@0.2.8", "wasi:random/insecure@0.2.8", "wasi:random/insecure-seed@0.2.8",
    "wasi:cli/stdout@0.2.8", "wasi:cli/stderr@0.2.8", "wasi:cli/stdin@0.2.8",
    "wasi:cli/environment@0.2.8", "wasi:cli/exit@0.2.8",
    "wasi:cli/terminal-input@0.2.8", "wasi:cli/terminal-output@0.2.8",
    "wasi:cli/terminal-stdin@0.2.8", "wasi:cli/terminal-stdout@0.2.8",
    "wasi:cli/terminal-stderr@0.2.8",
    "wasi:filesystem/types@0.2.8", "wasi:filesystem/preopens@0.2.8",
    /* src/host/kv (pre-releases: bound exactly) */
    "wasi:keyvalue/store@0.2.0-draft2", "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2", "wasi:config/store@0.2.0-draft",
    /* WASI 0.3 (src/host/p3: wd_host_p3_interfaces() lists the same) */
    "wasi:cli/types@0.3.0", "wasi:cli/environment@0.3.0", "wasi:cli/exit@0.3.0",
    "wasi:cli/stdin@0.3.0", "wasi:cli/stdout@0.3.0", "wasi:cli/stderr@0.3.0",
    "wasi:cli/terminal-input@0.3.0", "wasi:cli/terminal-output@0.3.0",
    "wasi:cli/terminal-stdin@0.3.0", "wasi:cli/terminal-stdout@0.3.0",
    "wasi:cli/terminal-stderr@0.3.0",
    "wasi:clocks/types@0.3.0", "wasi:clocks/monotonic-clock@0.3.0",
    "wasi:clocks/system-clock@0.3.0",
    "wasi:random/random@0.3.0", "wasi:random/insecure@0.3.0", "wasi:random/insecure-seed@0.3.0"
};
#define WD_HC_NNAMES (uint32_t)(sizeof wd_hc_names / sizeof wd_hc_names[0])

const char *const *wd_host_comp_interfaces(uint32_t *n)
{
    *n = WD_HC_NNAMES;
    return wd_hc_names;
}

static void wd_hc_err(wd_comp_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void wd_hc_err(wd_comp_error_t *err, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->offset = -1;
}

/* does t carry a string (the only thing a string encoding changes)? */
static int wd_hc_has_string(const wd_comp_type_t *t, int depth)
{
    if (t == NULL || depth > WD_COMP_MAX_TYPE_DEPTH)
        return 0;
    switch (t->kind) {
    case WD_CT_STRING:
        return 1;
    case WD_CT_LIST: case WD_CT_OPTION:
        return wd_hc_has_string(t->elem, depth + 1);
    case WD_CT_RESULT:
        return wd_hc_has_string(t->elem, depth + 1) || wd_hc_has_string(t->err, depth + 1);
    case WD_CT_RECORD: case WD_CT_TUPLE: case WD_CT_VARIANT: case WD_CT_MAP:
        for (uint32_t i = 0; i < t->n; i++)
            if (wd_hc_has_string(t->fields[i].type, depth + 1))
                return 1;
        return 0;
    default:
        return 0;
    }
}

static int wd_hc_func_has_string(const wd_comp_func_type_t *ft)
{
    if (ft == NULL)
        return 0;
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (wd_hc_has_string(ft->params[i].type, 0))
            return 1;
    return wd_hc_has_string(ft->result, 0);
}

/* ---------------------------------------------------------------- WIT-level calls */

static void wd_hc_cx(wd_hc_bind_t *b, wd_cabi_cx_t *cx, wd_wasm_instance_t *caller)
{
    wd_host_comp_t *hc = b->hc;
    memset(cx, 0, sizeof *cx);
    cx->mem = b->mem;
    cx->realloc = b->realloc;
    cx->enc = b->hf->opts.string_encoding;
    cx->inst = hc->thread ? hc->thread : caller;
    cx->arena = &hc->arena;
    cx->table = &hc->table;
}

static wd_wasm_host_rc_t wd_hc_wit_call(wd_wasm_instance_t *caller, const uint64_t *args,
                                        uint64_t *results, void *ud)
{
    wd_hc_bind_t *b = ud;
    wd_cabi_cx_t cx;
    wd_hc_cx(b, &cx, caller);
    wd_cabi_rc_t rc = wd_cabi_host_call(&cx, b->hf->type, args, results, b->fn,
                                        b->fn_ud ? b->fn_ud : b);
    if (rc == WD_CABI_OK)
        return WD_WASM_HOST_OK;
    if (rc == WD_CABI_SUSPEND)
        return WD_WASM_HOST_SUSPEND;
    char msg[200];
    snprintf(msg, sizeof msg, "%s#%s: %s", b->hf->interface ? b->hf->interface : "",
             b->hf->name ? b->hf->name : "", cx.trap ? cx.trap : "trap");
    wd_wasm_host_trap(caller, msg);
    return WD_WASM_HOST_TRAP;
}

/* resource intrinsics of a resource the component defines */
static wd_comp_resource_t *wd_hc_local_res(wd_host_comp_t *hc, uint32_t idx)
{
    if (idx >= hc->nres) {
        uint32_t n = idx + 8;
        wd_hc_res_t *r = wd_wasm_realloc(hc->res, n * sizeof *r);
        if (r == NULL)
            return NULL;
        memset(r + hc->nres, 0, (n - hc->nres) * sizeof *r);
        hc->res = r;
        hc->nres = n;
    }
    /* the array may move on growth: handles keep rt pointers, so grow only before
       instantiation uses them (all slots are made before the first call) */
    if (!hc->res[idx].made) {
        hc->res[idx].made = 1;
        hc->res[idx].rt.name = "resource";
        hc->res[idx].rt.id = idx;
        hc->res[idx].rt.ud = hc;
    }
    return &hc->res[idx].rt;
}

static wd_wasm_host_rc_t wd_hc_res_call(wd_wasm_instance_t *caller, const uint64_t *args,
                                        uint64_t *results, void *ud)
{
    wd_hc_bind_t *b = ud;
    wd_host_comp_t *hc = b->hc;
    const wd_comp_resource_t *rt = &hc->res[b->resource].rt;
    const char *msg = NULL;
    uint32_t out = 0;
    int rc;
    hc->xcaller = caller;         /* a destructor runs on this stack before attach */
    switch (b->hf->kind) {
    case WD_COMP_HOST_RESOURCE_NEW:
        rc = wd_cabi_resource_new(&hc->table, rt, (uint32_t)args[0], &out, &msg);
        results[0] = out;
        break;
    case WD_COMP_HOST_RESOURCE_REP:
        rc = wd_cabi_resource_rep(&hc->table, rt, (uint32_t)args[0], &out, &msg);
        results[0] = out;
        break;
    default:
        rc = wd_cabi_resource_drop(&hc->table, rt, (uint32_t)args[0], &msg);
        break;
    }
    if (rc == 0)
        return WD_WASM_HOST_OK;
    char buf[160];
    snprintf(buf, sizeof buf, "resource intrinsic: %s", msg ? msg : "trap");
    wd_wasm_host_trap(caller, buf);
    return WD_WASM_HOST_TRAP;
}

/* the destructor of an own handle of wasi:keyvalue's bucket or cas (ud: the binding) */
static int wd_hc_kv_dtor(void *ud, const wd_comp_resource_t *rt, uint32_t rep, const char **msg)
{
    wd_hc_bind_t *b = ud;
    (void)rt;
    (void)msg;
    wd_host_kv_drop(b->hc->kv, b->hf->name, rep);
    return 0;
}

int wd_hc_guest_dtor(wd_host_comp_t *hc, const wd_comp_resource_t *rt, uint32_t rep,
                     const char **msg)
{
    uint32_t i = rt->id;
    if (i >= hc->nres || hc->res[i].dtor == NULL)
        return 0;
    wd_wasm_instance_t *th = hc->thread ? hc->thread : hc->xcaller;
    if (th == NULL) {
        *msg = "resource destructor with no instance to run in";
        return -1;
    }
    wd_wasm_val_t a[1];
    a[0].type = WD_WASM_I32;
    a[0].of.i64 = 0;
    a[0].of.i32 = rep;
    wd_wasm_status_t st = wd_wasm_call(th, hc->res[i].dtor, a, 1, NULL, 0);
    if (st == WD_WASM_OK)
        return 0;
    if (st == WD_WASM_SUSPENDED) {
        wd_wasm_abort(th);
        *msg = "resource destructor did not return";
        return -1;
    }
    *msg = "resource destructor trapped";
    return -1;
}

/* resource.drop of a resource imported from a WIT-level interface: the handle must be of
   that resource (by the name the component imported it under); an own handle's destructor
   is the interface's (filesystem: the table's default; keyvalue: wd_hc_kv_dtor) */
static wd_wasm_host_rc_t wd_hc_wit_drop(wd_wasm_instance_t *caller, const uint64_t *args,
                                        uint64_t *results, void *ud)
{
    wd_hc_bind_t *b = ud;
    wd_host_comp_t *hc = b->hc;
    const char *msg = NULL;
    wd_cabi_handle_t *h = wd_cabi_table_get(&hc->table, (uint32_t)args[0], &msg);
    char buf[200];
    if (h && h->rt->name && b->hf->name && strcmp(h->rt->name, b->hf->name) != 0) {
        snprintf(buf, sizeof buf, "[resource-drop]%s of a %s handle", b->hf->name, h->rt->name);
        wd_wasm_host_trap(caller, buf);
        return WD_WASM_HOST_TRAP;
    }
    if (h) {
        wd_cabi_dtor_fn dtor = hc->table.dtor;
        void *dtor_ud = hc->table.dtor_ud;
        if (b->kv) {
            hc->table.dtor = wd_hc_kv_dtor;
            hc->table.dtor_ud = b;
        }
        int rc = wd_cabi_resource_drop(&hc->table, h->rt, (uint32_t)args[0], &msg);
        hc->table.dtor = dtor;
        hc->table.dtor_ud = dtor_ud;
        if (rc == 0)
            return WD_WASM_HOST_OK;
    }
    snprintf(buf, sizeof buf, "[resource-drop]%s: %s", b->hf->name ? b->hf->name : "",
             msg ? msg : "trap");
    wd_wasm_host_trap(caller, buf);
    return WD_WASM_HOST_TRAP;
}

static wd_hc_bind_t *wd_hc_bind_new(wd_host_comp_t *hc, const wd_comp_hostfunc_t *hf,
                                    const wd_comp_bound_opts_t *bound)
{
    wd_hc_bind_t *b = wd_wasm_calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->hc = hc;
    b->hf = hf;
    b->mem = bound ? bound->memory : NULL;
    b->realloc = bound ? bound->realloc : NULL;
    b->next = hc->binds;
    hc->binds = b;
    return b;
}

/* ---------------------------------------------------------------- resolver */

static int wd_hc_is_http_iface(const char *iface)
{
    return wd_host_http_has(iface, "", &(wd_wasm_functype_t){ 0 }, (char[8]){ 0 }, 8) != 0;
}

/* the own/borrow handles of a keyvalue function (same shape as the host's type, checked
   by wd_comp_func_type_match) name resources the component imported from wasi:keyvalue
   under the host's names (bucket, cas) */
static int wd_hc_kv_res(const wd_comp_type_t *a, const wd_comp_type_t *b, int depth)
{
    if (a == NULL || b == NULL || depth > WD_COMP_MAX_TYPE_DEPTH)
        return a == b;
    if (!a->has_resource)
        return 1;
    switch (a->kind) {
    case WD_CT_OWN: case WD_CT_BORROW: {
        const wd_comp_resource_t *r = a->resource;
        return r && b->resource && r->name && r->iface && b->resource->name
               && strncmp(r->iface, "wasi:keyvalue/", 14) == 0
               && strcmp(r->name, b->resource->name) == 0;
    }
    case WD_CT_LIST: case WD_CT_OPTION:
        return wd_hc_kv_res(a->elem, b->elem, depth + 1);
    case WD_CT_RESULT:
        return wd_hc_kv_res(a->elem, b->elem, depth + 1) && wd_hc_kv_res(a->err, b->err, depth + 1);
    case WD_CT_RECORD: case WD_CT_TUPLE: case WD_CT_VARIANT:
        for (uint32_t i = 0; i < a->n && i < b->n; i++)
            if (!wd_hc_kv_res(a->fields[i].type, b->fields[i].type, depth + 1))
                return 0;
        return 1;
    default:
        return 1;
    }
}

static int wd_hc_kv_resources_match(const wd_comp_func_type_t *a, const wd_comp_func_type_t *b)
{
    for (uint32_t i = 0; i < a->nparams && i < b->nparams; i++)
        if (!wd_hc_kv_res(a->params[i].type, b->params[i].type, 0))
            return 0;
    return wd_hc_kv_res(a->result, b->result, 0);
}

static wd_wasm_func_t *wd_hc_make(void *ud, wd_wasm_store_t *s, const wd_comp_hostfunc_t *hf,
                                  const char *iface, const wd_comp_bound_opts_t *bound,
                                  wd_comp_error_t *err)
{
    wd_host_comp_t *hc = ud;
    wd_hc_bind_t *b;
    wd_wasm_func_t *f;
    char msg[200];

    if (hf->kind != WD_COMP_HOST_LOWER && hf->resource >= 0) {       /* local resource */
        if (hc == NULL)         /* checking only: nothing to check */
            return (wd_wasm_func_t *)hf;
        if ((b = wd_hc_bind_new(hc, hf, NULL)) == NULL
            || wd_hc_local_res(hc, (uint32_t)hf->resource) == NULL)
            goto oom;
        b->resource = (uint32_t)hf->resource;
        f = wd_wasm_func_new_host(s, &hf->core_type, wd_hc_res_call, b);
        if (f == NULL)
            goto oom;
        return f;
    }
    if (hf->kind == WD_COMP_HOST_BUILTIN
        || (hf->kind == WD_COMP_HOST_LOWER && iface && wd_host_p3_owns(iface))) {
        f = wd_host_p3_make(hc ? hc->p3 : NULL, s, hf, iface, bound, msg, sizeof msg);
        if (f == NULL)
            wd_hc_err(err, "component imports %s", msg);
        return f;
    }
    if (iface == NULL) {
        wd_hc_err(err, "component imports the function \"%s\" by itself, which the host "
                  "does not provide", hf->name ? hf->name : "?");
        return NULL;
    }
    int is_kv = wd_host_kv_owns(iface, strlen(iface));
    if (!is_kv && hf->kind == WD_COMP_HOST_LOWER) {     /* the WIT's type, exactly */
        int known = 0;
        char why[256];
        const char *sig = wd_hc_sig_find(iface, hf->name, &known);
        if (sig == NULL) {
            wd_hc_err(err, "component imports \"%s#%s\", which the host does not provide",
                      hf->interface ? hf->interface : iface, hf->name);
            return NULL;
        }
        if (!wd_hc_sig_match(hf->type, sig, why, sizeof why)) {
            wd_hc_err(err, "component imports \"%s#%s\" with the wrong type: %s",
                      hf->interface ? hf->interface : iface, hf->name, why);
            return NULL;
        }
    }
    if (!is_kv && hf->kind == WD_COMP_HOST_RESOURCE_DROP && !wd_host_p3_owns(iface)
        && !wd_hc_sig_has_resource(iface, hf->name)) {
        wd_hc_err(err, "component imports the resource \"%s#%s\", which the host does not "
                  "provide", hf->interface ? hf->interface : iface, hf->name);
        return NULL;
    }
    if (wd_hc_is_http_iface(iface)) {
        char name[160];
        if (hf->kind == WD_COMP_HOST_RESOURCE_DROP)
            snprintf(name, sizeof name, "[resource-drop]%s", hf->name);
        else
            snprintf(name, sizeof name, "%s", hf->name);
        int xcode = hf->kind == WD_COMP_HOST_LOWER
                    && hf->opts.string_encoding != WD_COMP_STR_UTF8
                    && wd_hc_func_has_string(hf->type);
        if (hc == NULL) {       /* checking only */
            if (wd_host_http_has(iface, name, &hf->core_type, msg, sizeof msg) <= 0) {
                wd_hc_err(err, "component imports %s", msg);
                return NULL;
            }
            return (wd_wasm_func_t *)hf;     /* not used: see wd_host_comp_check */
        }
        if (xcode) {            /* UTF-16 / latin1+UTF-16: through the Canonical ABI layer */
            f = wd_hc_xcode_make(hc, s, hf, iface, name, bound, msg, sizeof msg);
            if (f == NULL)
                wd_hc_err(err, "component imports %s", msg);
            return f;
        }
        f = wd_host_http_bind(hc->http, s, iface, name, &hf->core_type,
                              bound ? bound->memory : NULL, bound ? bound->realloc : NULL,
                              msg, sizeof msg);
        if (f == NULL)
            wd_hc_err(err, "component imports %s", msg);
        return f;
    }
    /* interfaces described as WIT data */
    if (hf->kind == WD_COMP_HOST_RESOURCE_DROP) {
        if (is_kv && strcmp(hf->name, "bucket") != 0 && strcmp(hf->name, "cas") != 0) {
            wd_hc_err(err, "component imports the resource \"%s#%s\", which the host does "
                      "not provide", iface, hf->name);
            return NULL;
        }
        if (hc == NULL)
            return (wd_wasm_func_t *)hf;
        if ((b = wd_hc_bind_new(hc, hf, NULL)) == NULL
            || (f = wd_wasm_func_new_host(s, &hf->core_type, wd_hc_wit_drop, b)) == NULL)
            goto oom;
        b->kv = is_kv;
        return f;
    }
    int known = 0;
    if (is_kv) {          /* src/host/kv: WIT-level functions, ud = this instance's context */
        wd_cabi_host_fn kfn = wd_host_kv_find(iface, hf->name, &known);
        const wd_comp_func_type_t *kft = wd_host_kv_func_type(iface, hf->name);
        if (kfn == NULL || kft == NULL) {
            wd_hc_err(err, "component imports \"%s#%s\", which the host does not provide",
                      iface, hf->name);
            return NULL;
        }
        if (hf->type == NULL || !wd_comp_func_type_match(hf->type, kft)
            || !wd_hc_kv_resources_match(hf->type, kft)) {
            wd_hc_err(err, "component imports \"%s#%s\" with a type that is not the WIT's",
                      iface, hf->name);
            return NULL;
        }
        if (hc == NULL)
            return (wd_wasm_func_t *)hf;
        if ((b = wd_hc_bind_new(hc, hf, bound)) == NULL)
            goto oom;
        b->fn = kfn;
        b->fn_ud = hc->kv;
        if ((f = wd_wasm_func_new_host(s, &hf->core_type, wd_hc_wit_call, b)) == NULL)
            goto oom;
        return f;
    }
    if (strncmp(iface, "wasi:filesystem/types@", 22) == 0
        && strcmp(hf->name, "[method]descriptor.read-via-stream") == 0) {
        /* returns an input-stream of the wasi:io context: a core-level function */
        static const uint8_t want[] = { WD_CFLAT_I32, WD_CFLAT_I64, WD_CFLAT_I32 };
        if (hf->core_type.nparams != 3 || hf->core_type.nresults != 0
            || memcmp(hf->core_type.params, want, 3) != 0) {
            wd_hc_err(err, "component imports \"%s#%s\" with a type that is not the WIT's",
                      iface, hf->name);
            return NULL;
        }
        if (hc == NULL)
            return (wd_wasm_func_t *)hf;
        if ((b = wd_hc_bind_new(hc, hf, bound)) == NULL
            || (f = wd_wasm_func_new_host(s, &hf->core_type, wd_hc_fs_read_via_stream, b)) == NULL)
            goto oom;
        return f;
    }
    wd_cabi_host_fn fn = wd_hc_wit_find(iface, hf->name, &known);
    if (fn == NULL) {
        wd_hc_err(err, "component imports \"%s#%s\", which the host does not provide",
                  iface, hf->name);
        return NULL;
    }
    if (hc == NULL)
        return (wd_wasm_func_t *)hf;
    if ((b = wd_hc_bind_new(hc, hf, bound)) == NULL)
        goto oom;
    b->fn = fn;
    if ((f = wd_wasm_func_new_host(s, &hf->core_type, wd_hc_wit_call, b)) == NULL)
        goto oom;
    return f;
oom:
    wd_hc_err(err, "out of memory");
    return NULL;
}

/* ---------------------------------------------------------------- checks */

static const wd_comp_lift_t *wd_hc_find_export(const wd_comp_t *c, const char *iface,
                                               const char *fn, uint32_t *index)
{
    const wd_comp_plan_t *p = wd_comp_get_plan(c);
    size_t il = strlen(iface), fl = strlen(fn);
    for (uint32_t i = 0; i < p->nlifts; i++) {
        const char *n = p->lifts[i].name;
        size_t nl = strlen(n);
        const char *hash = strchr(n, '#');
        if (hash == NULL || nl - (size_t)(hash + 1 - n) != fl || strcmp(hash + 1, fn) != 0)
            continue;
        if ((size_t)(hash - n) == il && memcmp(n, iface, il) == 0)
            goto found;
        if ((size_t)(hash - n) > il + 5 && memcmp(n, iface, il) == 0
            && memcmp(n + il, "@0.2.", 5) == 0) {
            const char *q = n + il + 5;
            while (q < hash && *q >= '0' && *q <= '9')
                q++;
            if (q == hash && q > n + il + 5)
                goto found;
        }
        continue;
found:
        if (index)
            *index = i;
        return &p->lifts[i];
    }
    return NULL;
}

int wd_host_comp_is_handler(const wd_comp_t *c)
{
    return wd_hc_find_export(c, "wasi:http/incoming-handler", "handle", NULL) != NULL;
}

int wd_host_comp_check(const wd_comp_t *c, wd_comp_error_t *err)
{
    const wd_comp_plan_t *p = wd_comp_get_plan(c);
    wd_comp_host_t probe = { wd_hc_names, WD_HC_NNAMES, wd_hc_make, NULL };
    if (wd_comp_check_imports(c, &probe, err) != 0)
        return -1;
    for (uint32_t i = 0; i < p->nhostfuncs; i++) {
        const wd_comp_hostfunc_t *hf = &p->hostfuncs[i];
        const char *want = hf->kind == WD_COMP_HOST_BUILTIN ? NULL
                           : hf->interface ? hf->interface : hf->resource < 0 ? hf->name : NULL;
        const char *matched = NULL;
        if (want) {
            int near, k = wd_comp_name_match(want, wd_hc_names, WD_HC_NNAMES, &near);
            if (k < 0) {
                wd_hc_err(err, "component imports \"%s\", which wasmd does not provide", want);
                return -1;
            }
            matched = wd_hc_names[k];
        }
        if (wd_hc_make(NULL, NULL, hf, matched, NULL, err) == NULL) {
            for (uint32_t j = 0; err && hf->interface && j < p->nimports; j++)
                if (strcmp(p->imports[j].name, hf->interface) == 0)
                    err->offset = p->imports[j].offset;
            return -1;
        }
    }
    const wd_comp_lift_t *l = wd_hc_find_export(c, "wasi:http/incoming-handler", "handle", NULL);
    if (l == NULL && wd_hc_find_export(c, "wasi:cli/run", "run", NULL) == NULL
        && wd_comp_find_lift(c, "wasi:cli/run@0.3.0#run") == NULL) {
        wd_hc_err(err, "component exports neither \"wasi:http/incoming-handler@0.2.x#handle\" "
                  "nor \"wasi:cli/run@0.2.x#run\" nor \"wasi:cli/run@0.3.0#run\"");
        return -1;
    }
    if (l && (l->core_type.nparams != 2 || l->core_type.nresults != 0)) {
        wd_hc_err(err, "\"%s\" has the wrong type", l->name);
        return -1;
    }
    /* the exports the host calls (lift side) have the WIT's type exactly: handle takes the
       request and outparam of the wasi:http/types the component imported, not u32s or
       resources of its own the host's handles would be read as */
    static const struct { const char *iface, *fn; } called[] = {
        { "wasi:http/incoming-handler", "handle" }, { "wasi:cli/run", "run" } };
    for (uint32_t i = 0; i < 2; i++) {
        uint32_t idx;
        const wd_comp_lift_t *e = wd_hc_find_export(c, called[i].iface, called[i].fn, &idx);
        int known;
        char why[256];
        const char *sig = e ? wd_hc_sig_find(called[i].iface, called[i].fn, &known) : NULL;
        if (e && sig && !wd_hc_sig_match(e->type, sig, why, sizeof why)) {
            wd_hc_err(err, "component exports \"%s\" with the wrong type: %s", e->name, why);
            if (err)
                err->offset = e->offset;
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- life */

/* One handle index space per component instance: the Canonical ABI table's indices
   (guest resources, filesystem, keyvalue) are reserved in src/host/http's table, which
   keeps the wasi:http handles. */
static int wd_hc_ix_take(void *ud, uint32_t *idx, const char **msg)
{
    wd_host_comp_t *hc = ud;
    *idx = wd_host_http_reserve_handle(hc->http);
    if (*idx == 0) {
        *msg = "too many handles";
        return -1;
    }
    return 0;
}

static void wd_hc_ix_give(void *ud, uint32_t idx)
{
    wd_host_comp_t *hc = ud;
    wd_host_http_release_handle(hc->http, idx);
}

wd_host_comp_t *wd_host_comp_new(const wd_host_comp_conf_t *conf)
{
    wd_host_comp_t *hc = wd_wasm_calloc(1, sizeof *hc);
    if (hc == NULL)
        return NULL;
    hc->http = wd_host_http_new(conf ? &conf->http : NULL);
    if (hc->http == NULL) {
        wd_wasm_free(hc);
        return NULL;
    }
    wd_host_http_set_file_reader(hc->http, wd_hc_fs_file_read, hc);
    hc->host.interfaces = wd_hc_names;
    hc->host.ninterfaces = WD_HC_NNAMES;
    hc->host.make_func = wd_hc_make;
    hc->host.ud = hc;
    if (conf) {
        hc->dirs = conf->dirs;
        hc->ndirs = conf->ndirs;
    }
    static const wd_host_kv_conf_t no_kv;     /* no stores: open answers no-such-store */
    hc->kv = wd_host_kv_new(conf && conf->kv ? conf->kv : &no_kv);
    if (hc->kv == NULL) {
        wd_host_http_free(hc->http);
        wd_wasm_free(hc);
        return NULL;
    }
    wd_cabi_table_init(&hc->table);
    wd_host_p3_conf_t p3c;
    memset(&p3c, 0, sizeof p3c);
    if (conf) {
        p3c.args = conf->http.args;
        p3c.nargs = conf->http.nargs;
        p3c.env = conf->http.env;
        p3c.nenv = conf->http.nenv;
        p3c.stdio = conf->http.stdio;
    }
    if ((hc->p3 = wd_host_p3_new(&p3c, &hc->table)) == NULL) {
        wd_host_kv_free(hc->kv);
        wd_host_http_free(hc->http);
        wd_wasm_free(hc);
        return NULL;
    }
    hc->table.impl = hc;
    hc->table.dtor = wd_hc_fs_dtor;      /* own handles of host resources dropped */
    hc->table.dtor_ud = hc;
    hc->table.ix_take = wd_hc_ix_take;
    hc->table.ix_give = wd_hc_ix_give;
    hc->table.ix_ud = hc;
    return hc;
}

void wd_host_comp_free(wd_host_comp_t *hc)
{
    if (hc == NULL)
        return;
    wd_host_http_free(hc->http);
    while (hc->binds) {
        wd_hc_bind_t *b = hc->binds;
        hc->binds = b->next;
        wd_wasm_free(b);
    }
    wd_hc_fs_close_all(hc);
    wd_wasm_free(hc->fds);
    wd_host_kv_free(hc->kv);
    wd_host_p3_free(hc->p3);
    wd_cabi_table_free(&hc->table);
    wd_cabi_arena_free(&hc->arena);
    wd_wasm_free(hc->res);
    wd_wasm_free(hc);
}

const wd_comp_host_t *wd_host_comp_host(wd_host_comp_t *hc)
{
    return &hc->host;
}

wd_host_http_t *wd_host_comp_http(wd_host_comp_t *hc)
{
    return hc->http;
}

wd_host_kv_t *wd_host_comp_kv(wd_host_comp_t *hc)
{
    return hc->kv;
}

wd_wasm_instance_t *wd_host_comp_thread(wd_host_comp_t *hc)
{
    return hc->thread;
}

uint32_t wd_host_comp_live_handles(wd_host_comp_t *hc, uint32_t *fds)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < hc->nfds; i++)
        n += hc->fds[i].kind != 0;
    if (fds)
        *fds = n;
    return wd_host_http_live_handles(hc->http);
}

void wd_host_comp_reset(wd_host_comp_t *hc)
{
    wd_host_http_reset(hc->http);
    wd_cabi_table_reset(&hc->table);
    wd_hc_fs_close_all(hc);
    wd_host_kv_reset(hc->kv);
    wd_cabi_arena_reset(&hc->arena);
}

int wd_host_comp_bind_instance(wd_host_comp_t *hc, const wd_comp_t *c, wd_comp_instance_t *ci,
                               wd_comp_error_t *err)
{
    const wd_comp_plan_t *p = wd_comp_get_plan(c);
    for (uint32_t i = 0; i < p->nresources && i < hc->nres; i++) {
        const wd_comp_plan_resource_t *r = &p->resources[i];
        wd_wasm_extern_t x;
        if (!r->has_dtor || !hc->res[i].made)   /* no intrinsics: it never has handles */
            continue;
        wd_wasm_instance_t *in = r->dtor.kind == WD_COMP_CD_EXPORT
                                 ? wd_comp_instance_core(ci, r->dtor.instance) : NULL;
        if (in == NULL || wd_wasm_instance_export(in, r->dtor.name, r->dtor.name_len, &x) != 0
            || x.kind != WD_WASM_EXTERN_FUNC) {
            wd_hc_err(err, "the destructor of resource %u is not a core function export", i);
            return -1;
        }
        const wd_wasm_functype_t *ft = wd_wasm_func_type(x.of.func);
        if (ft->nparams != 1 || ft->params[0] != WD_WASM_I32 || ft->nresults != 0) {
            wd_hc_err(err, "the destructor of resource %u does not have type (i32) -> ()", i);
            return -1;
        }
        hc->res[i].dtor = x.of.func;
    }
    return 0;
}

int wd_host_comp_attach(wd_host_comp_t *hc, const wd_comp_t *c, wd_comp_instance_t *ci,
                        wd_comp_error_t *err)
{
    uint32_t idx;
    char msg[200];
    if (wd_host_comp_bind_instance(hc, c, ci, err) != 0)
        return -1;
    const wd_comp_lift_t *l = wd_hc_find_export(c, "wasi:http/incoming-handler", "handle", &idx);
    if (l == NULL)
        l = wd_hc_find_export(c, "wasi:cli/run", "run", &idx);
    if (l == NULL && (l = wd_comp_find_lift(c, "wasi:cli/run@0.3.0#run")) != NULL)
        idx = (uint32_t)(l - wd_comp_get_plan(c)->lifts);
    if (l == NULL) {
        wd_hc_err(err, "component exports no handler");
        return -1;
    }
    if (l->func.kind != WD_COMP_CD_EXPORT) {
        wd_hc_err(err, "\"%s\" lifts a host function", l->name);
        return -1;
    }
    hc->thread = wd_comp_instance_core(ci, l->func.instance);
    const wd_comp_bound_lift_t *bl = wd_comp_instance_lift(ci, idx);
    if (hc->thread == NULL || bl == NULL) {
        wd_hc_err(err, "export \"%s\" is not bound", l->name);
        return -1;
    }
    if (strstr(l->name, "#handle") == NULL) {           /* wasi:cli/run#run */
        wd_host_http_set_thread(hc->http, hc->thread, bl->memory, bl->realloc);
        return 0;
    }
    if (wd_host_http_attach_export(hc->http, hc->thread, bl->func, bl->memory, bl->realloc,
                                      bl->post_return, msg, sizeof msg) != 0) {
        wd_hc_err(err, "%s: %s", l->name, msg);
        return -1;
    }
    return 0;
}

wd_host_p3_t *wd_host_comp_p3(wd_host_comp_t *hc)
{
    return hc->p3;
}
