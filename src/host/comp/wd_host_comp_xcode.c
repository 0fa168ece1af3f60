/*
 * wd_host_comp_xcode.c -- the wasi:http world (wasi:http/types|outgoing-handler, wasi:io,
 * wasi:cli/environment, ...) for a `canon lower` whose string encoding is UTF-16 or
 * latin1+UTF-16 (componentize-dotnet, hand-made components) and whose function type carries
 * strings.
 *
 * src/host/http implements each function once, against the UTF-8 lowering a core module
 * imports (its fast path: a UTF-8 component binds it directly, see wd_host_comp.c). Any
 * other encoding goes through the Canonical ABI layer, twice, with the component's own
 * function type (checked to flatten to the implementation's core signature):
 *   1. wd_cabi_host_call lifts the guest's arguments (its memory, its encoding: UTF-16 and
 *      latin1 strings are validated and transcoded to UTF-8 WIT values);
 *   2. the values are lowered again, UTF-8, into a host scratch memory of this context (a
 *      bump allocator stands in for the guest's realloc), and the implementation runs on
 *      that memory (wd_host_http_call_in);
 *   3. its result is lifted from the scratch memory and lowered into the guest in the
 *      guest's encoding by step 1's call (its realloc, its return area).
 * Handles are passed through unchanged (cx.raw_handles): the wasi:http resources live in
 * src/host/http's table, which checks them as for every other call. Functions without
 * strings lower identically in every encoding and keep the direct binding.
 */
#include <stdio.h>
#include <string.h>
#include "wd_host_comp_int.h"

#define WD_HC_SCRATCH_PAGES 2048          /* 128 MiB of address space, touched as used */
#define WD_HC_SCRATCH_BASE  16            /* no value at address 0 */

static int wd_hc_scratch_alloc(void *ud, uint32_t align, uint32_t size, uint32_t *ptr)
{
    wd_host_comp_t *hc = ud;
    if (align == 0 || (align & (align - 1)) || align > 8)
        align = 8;
    uint64_t p = ((uint64_t)hc->scratch_top + align - 1) & ~(uint64_t)(align - 1);
    uint64_t end = p + size;
    uint64_t have = wd_wasm_memory_size(hc->scratch);
    if (end > have) {
        uint64_t pages = (end - have + 65535) / 65536;
        if (pages > WD_HC_SCRATCH_PAGES || wd_wasm_memory_grow(hc->scratch, (uint32_t)pages) < 0)
            return -1;
    }
    hc->scratch_top = (uint32_t)end;
    *ptr = (uint32_t)p;
    return 0;
}

/* the cabi layer's realloc for the scratch memory (store_string may shrink or grow) */
static int wd_hc_scratch_realloc(wd_cabi_cx_t *cx, uint32_t old, uint32_t old_size,
                                 uint32_t align, uint32_t new_size, uint32_t *ptr)
{
    wd_host_comp_t *hc = cx->realloc_ud;
    if (old && new_size <= old_size) {
        *ptr = old;
        return 0;
    }
    if (wd_hc_scratch_alloc(hc, align, new_size, ptr) < 0)
        return wd_cabi_trap(cx, "out of memory for a transcoded value");
    if (old && old_size) {
        const uint8_t *src = wd_wasm_memory_cptr(hc->scratch, old, old_size);
        uint8_t *dst = wd_wasm_memory_ptr(hc->scratch, *ptr, old_size);
        if (src == NULL || dst == NULL)
            return wd_cabi_trap(cx, "scratch memory");
        memmove(dst, src, old_size);
    }
    return 0;
}

/* The WIT-level function of step 2: args are the guest's values (UTF-8 on the host side). */
static wd_cabi_rc_t wd_hc_xcode_fn(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                   wd_cabi_val_t *result, void *ud)
{
    wd_hc_bind_t *b = ud;
    wd_host_comp_t *hc = b->hc;
    const wd_comp_func_type_t *ft = b->hf->type;
    uint64_t core[WD_CABI_MAX_FLAT_PARAMS + 1], res[1] = { 0 };
    uint32_t n = 0, retp = 0;
    wd_cabi_cx_t in;

    memset(&in, 0, sizeof in);
    in.mem = hc->scratch;
    in.enc = WD_CABI_UTF8;
    in.realloc_cb = wd_hc_scratch_realloc;
    in.realloc_ud = hc;
    in.arena = cx->arena;
    in.scope = cx->scope;
    in.raw_handles = 1;
    in.copy_views = 1;            /* the result outlives the next scratch call */
    hc->scratch_top = WD_HC_SCRATCH_BASE;

    if (ft->params_in_memory) {
        uint32_t p;
        if (wd_hc_scratch_realloc(&in, 0, 0, ft->params_align, ft->params_size, &p) < 0)
            goto trap;
        for (uint32_t i = 0; i < ft->nparams; i++)
            if (wd_cabi_store(&in, ft->params[i].type, &args[i], p + ft->params[i].offset) < 0)
                goto trap;
        core[n++] = p;
    } else {
        for (uint32_t i = 0; i < ft->nparams; i++)
            if (wd_cabi_lower_flat(&in, ft->params[i].type, &args[i], core, &n) < 0)
                goto trap;
    }
    if (ft->result && ft->result_in_memory) {
        if (wd_hc_scratch_realloc(&in, 0, 0, ft->result->align, ft->result->size, &retp) < 0)
            goto trap;
        core[n++] = retp;
    }
    if (n != b->hf->core_type.nparams) {
        wd_cabi_trap(cx, "transcoded call does not match the core signature");
        return WD_CABI_TRAP;
    }
    wd_wasm_host_rc_t rc = wd_host_http_call_in(hc->http, b->http_fn, hc->xcaller, hc->scratch,
                                                wd_hc_scratch_alloc, hc, core, res);
    if (rc == WD_WASM_HOST_SUSPEND)
        return WD_CABI_SUSPEND;
    if (rc != WD_WASM_HOST_OK) {
        hc->xtrapped = 1;         /* the implementation said why */
        wd_cabi_trap(cx, "trap");
        return WD_CABI_TRAP;
    }
    if (ft->result) {
        uint32_t pos = 0;
        int lr = ft->result_in_memory ? wd_cabi_load(&in, ft->result, retp, result)
                                      : wd_cabi_lift_flat(&in, ft->result, res, &pos, result);
        if (lr < 0)
            goto trap;
    }
    return WD_CABI_OK;
trap:
    wd_cabi_trap(cx, in.trap ? in.trap : "transcoding failed");
    return WD_CABI_TRAP;
}

static wd_wasm_host_rc_t wd_hc_xcode_call(wd_wasm_instance_t *caller, const uint64_t *args,
                                          uint64_t *results, void *ud)
{
    wd_hc_bind_t *b = ud;
    wd_host_comp_t *hc = b->hc;
    wd_cabi_cx_t cx;
    memset(&cx, 0, sizeof cx);
    cx.mem = b->mem;
    cx.realloc = b->realloc;
    cx.enc = b->hf->opts.string_encoding;
    cx.inst = hc->thread ? hc->thread : caller;
    cx.arena = &hc->arena;
    cx.table = &hc->table;
    cx.raw_handles = 1;
    hc->xcaller = caller;
    hc->xtrapped = 0;
    wd_cabi_rc_t rc = wd_cabi_host_call(&cx, b->hf->type, args, results, wd_hc_xcode_fn, b);
    if (rc == WD_CABI_OK)
        return WD_WASM_HOST_OK;
    if (rc == WD_CABI_SUSPEND)
        return WD_WASM_HOST_SUSPEND;
    if (!hc->xtrapped) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s#%s: %s", b->hf->interface ? b->hf->interface : "",
                 b->hf->name ? b->hf->name : "", cx.trap ? cx.trap : "trap");
        wd_wasm_host_trap(caller, msg);
    }
    return WD_WASM_HOST_TRAP;
}

wd_wasm_func_t *wd_hc_xcode_make(wd_host_comp_t *hc, wd_wasm_store_t *s,
                                 const wd_comp_hostfunc_t *hf, const char *iface,
                                 const char *name, const wd_comp_bound_opts_t *bound,
                                 char *msg, size_t msglen)
{
    wd_wasm_host_fn fn = wd_host_http_fn(iface, name, &hf->core_type, msg, msglen);
    if (fn == NULL || hf->type == NULL)
        return NULL;
    if (hc->scratch == NULL
        && (hc->scratch = wd_wasm_memory_new(s, 1, WD_HC_SCRATCH_PAGES, 1)) == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    wd_hc_bind_t *b = wd_wasm_calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    b->hc = hc;
    b->hf = hf;
    b->mem = bound ? bound->memory : NULL;
    b->realloc = bound ? bound->realloc : NULL;
    b->http_fn = fn;
    b->next = hc->binds;
    hc->binds = b;
    wd_wasm_func_t *f = wd_wasm_func_new_host(s, &hf->core_type, wd_hc_xcode_call, b);
    if (f == NULL)
        snprintf(msg, msglen, "out of memory");
    return f;
}
