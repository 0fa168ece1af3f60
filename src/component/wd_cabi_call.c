/*
 * The two call paths of the Canonical ABI layer:
 *   wd_cabi_host_call    `canon lower` of a host function (canon_lower, sync): lift the
 *                        params, run the host function in a borrow scope, lower the result;
 *   wd_cabi_export_*     `canon lift` of a guest export driven by the host (canon_lift, sync):
 *                        lower the args, (caller runs the core function), lift the result,
 *                        check the scope, post-return.
 * plus realloc through the engine. Nothing here allocates with malloc: values come from
 * cx->arena (released at the end of a host call).
 */
#include "wd_cabi_int.h"

#include <stdio.h>
#include <string.h>

static void
trap_from_engine(wd_cabi_cx_t *cx, const char *what)
{
    const wd_wasm_trap_t *t = cx->inst ? wd_wasm_last_trap(cx->inst) : NULL;
    snprintf(cx->trapbuf, sizeof cx->trapbuf, "%s trapped: %.64s", what, t ? t->msg : "?");
    cx->trap = cx->trapbuf;
}

int
wd_cabi_realloc(wd_cabi_cx_t *cx, uint32_t old, uint32_t old_size, uint32_t align,
                uint32_t new_size, uint32_t *ptr)
{
    if (cx->realloc_cb)
        return cx->realloc_cb(cx, old, old_size, align, new_size, ptr);
    if (!cx->realloc || !cx->inst)
        return wd_cabi_trap(cx, "lowering needs a realloc option");
    wd_wasm_val_t a[4] = {
        { .type = WD_WASM_I32, .of.i32 = old }, { .type = WD_WASM_I32, .of.i32 = old_size },
        { .type = WD_WASM_I32, .of.i32 = align }, { .type = WD_WASM_I32, .of.i32 = new_size },
    };
    wd_wasm_val_t r[1];
    if (cx->table)
        cx->table->no_leave++;
    wd_wasm_status_t st = wd_wasm_call(cx->inst, cx->realloc, a, 4, r, 1);
    if (cx->table)
        cx->table->no_leave--;
    if (st == WD_WASM_OK) {
        *ptr = r[0].of.i32;
        return 0;
    }
    if (st == WD_WASM_SUSPENDED) {
        wd_wasm_abort(cx->inst);
        return wd_cabi_trap(cx, "realloc did not return");
    }
    trap_from_engine(cx, "realloc");
    return -1;
}

static void
scope_init(wd_cabi_scope_t *s)
{
    s->nlenders = 0;
    s->caplenders = WD_CABI_SCOPE_INLINE;
    s->lenders = s->inl;
    s->num_borrows = 0;
}

#define ARGS_INLINE 8

wd_cabi_rc_t
wd_cabi_host_call(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft, const uint64_t *core_args,
                  uint64_t *core_results, wd_cabi_host_fn fn, void *ud)
{
    if (cx->table && cx->table->no_leave) {
        wd_cabi_trap(cx, "host call from realloc or post-return");
        return WD_CABI_TRAP;
    }
    wd_cabi_arena_mark_t mark = wd_cabi_arena_mark(cx->arena);
    wd_cabi_scope_t scope, *prev = cx->scope;
    wd_cabi_val_t inl[ARGS_INLINE], *args = inl, result;
    wd_cabi_rc_t rc = WD_CABI_TRAP;
    uint8_t prev_copy = cx->copy_views;

    scope_init(&scope);
    cx->scope = &scope;
    cx->lifted_own = 0;
    cx->copy_views = 0;
    cx->work = 0;
    if (ft->nparams > ARGS_INLINE &&
        !(args = wd_cabi_arena_alloc(cx->arena, ft->nparams * sizeof *args, 8))) {
        wd_cabi_trap(cx, "out of memory for values");
        goto out;
    }
    if (ft->params_in_memory) {
        uint32_t ptr = (uint32_t)core_args[0];
        if (ptr & (ft->params_align - 1)) {
            wd_cabi_trap(cx, "misaligned parameters pointer");
            goto out;
        }
        if (!cx->mem || !wd_wasm_memory_cptr(cx->mem, ptr, ft->params_size)) {
            wd_cabi_trap(cx, "parameters pointer out of bounds");
            goto out;
        }
        for (uint32_t i = 0; i < ft->nparams; i++)
            if (wd_cabi_load(cx, ft->params[i].type, ptr + ft->params[i].offset, &args[i]) < 0)
                goto out;
    } else {
        uint32_t pos = 0;
        for (uint32_t i = 0; i < ft->nparams; i++)
            if (wd_cabi_lift_flat(cx, ft->params[i].type, core_args, &pos, &args[i]) < 0)
                goto out;
    }
    memset(&result, 0, sizeof result);
    rc = fn(cx, args, ft->result ? &result : NULL, ud);
    if (rc == WD_CABI_SUSPEND && cx->lifted_own) {
        wd_cabi_trap(cx, "host function suspended after taking a handle");
        rc = WD_CABI_TRAP;
    }
    if (rc != WD_CABI_OK)
        goto out;
    rc = WD_CABI_TRAP;
    if (ft->result) {
        if (ft->result_in_memory) {
            uint32_t retp = (uint32_t)core_args[ft->lower_params_n - 1];
            if (wd_cabi_store(cx, ft->result, &result, retp) < 0)
                goto out;
        } else {
            uint32_t pos = 0;
            if (wd_cabi_lower_flat(cx, ft->result, &result, core_results, &pos) < 0)
                goto out;
        }
    }
    rc = WD_CABI_OK;
out:
    wd_cabi_scope_end(cx, &scope);
    cx->scope = prev;
    cx->copy_views = prev_copy;
    wd_cabi_arena_release(cx->arena, mark);
    return rc;
}

int
wd_cabi_export_begin(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft,
                     const wd_cabi_val_t *args, uint64_t *core_args, uint32_t *ncore)
{
    scope_init(&cx->call_scope);
    cx->scope = &cx->call_scope;
    if (ft->async)
        return wd_cabi_trap(cx, "async functions are not supported");
    if (ft->params_in_memory) {
        uint32_t ptr;
        if (wd_cabi_realloc(cx, 0, 0, ft->params_align, ft->params_size, &ptr) < 0)
            return -1;
        if (ptr & (ft->params_align - 1))
            return wd_cabi_trap(cx, "misaligned realloc result");
        if (!cx->mem || !wd_wasm_memory_cptr(cx->mem, ptr, ft->params_size))
            return wd_cabi_trap(cx, "realloc result out of bounds");
        for (uint32_t i = 0; i < ft->nparams; i++)
            if (wd_cabi_store(cx, ft->params[i].type, &args[i], ptr + ft->params[i].offset) < 0)
                return -1;
        core_args[0] = ptr;
        *ncore = 1;
        return 0;
    }
    uint32_t pos = 0;
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (wd_cabi_lower_flat(cx, ft->params[i].type, &args[i], core_args, &pos) < 0)
            return -1;
    *ncore = pos;
    return 0;
}

int
wd_cabi_export_finish(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft,
                      const uint64_t *core_results, wd_cabi_val_t *result)
{
    uint8_t prev_copy = cx->copy_views;
    int rc = -1;
    cx->copy_views = 1;     /* post-return may free what the result points at */
    cx->work = 0;
    if (ft->result) {
        if (ft->result_in_memory) {
            if (wd_cabi_load(cx, ft->result, (uint32_t)core_results[0], result) < 0)
                goto out;
        } else {
            uint32_t pos = 0;
            if (wd_cabi_lift_flat(cx, ft->result, core_results, &pos, result) < 0)
                goto out;
        }
    }
    if (cx->call_scope.num_borrows) {
        wd_cabi_trap(cx, "a borrowed handle outlived the call it was lent to");
        goto out;
    }
    if (cx->post_return) {
        wd_wasm_val_t a[1];
        uint32_t n = ft->lift_results_n;
        if (n) {
            a[0].type = ft->lift_results[0];
            a[0].of.i64 = 0;
            if (a[0].type == WD_WASM_I32 || a[0].type == WD_WASM_F32)
                a[0].of.i32 = (uint32_t)core_results[0];
            else
                a[0].of.i64 = core_results[0];
        }
        if (cx->table)
            cx->table->no_leave++;
        wd_wasm_status_t st = wd_wasm_call(cx->inst, cx->post_return, a, n, NULL, 0);
        if (cx->table)
            cx->table->no_leave--;
        if (st == WD_WASM_SUSPENDED) {
            wd_wasm_abort(cx->inst);
            wd_cabi_trap(cx, "post-return did not return");
            goto out;
        }
        if (st != WD_WASM_OK) {
            trap_from_engine(cx, "post-return");
            goto out;
        }
    }
    rc = 0;
out:
    cx->copy_views = prev_copy;
    cx->scope = NULL;
    return rc;
}

int
wd_cabi_call_export(wd_cabi_cx_t *cx, const wd_comp_func_type_t *ft, wd_wasm_func_t *fn,
                    const wd_cabi_val_t *args, wd_cabi_val_t *result)
{
    uint64_t core[WD_CABI_MAX_FLAT_PARAMS];
    uint64_t res[1] = { 0 };
    wd_wasm_val_t a[WD_CABI_MAX_FLAT_PARAMS], r[1];
    uint32_t n;
    if (wd_cabi_export_begin(cx, ft, args, core, &n) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        a[i].type = ft->lift_params[i];
        a[i].of.i64 = 0;
        if (a[i].type == WD_WASM_I32 || a[i].type == WD_WASM_F32)
            a[i].of.i32 = (uint32_t)core[i];
        else
            a[i].of.i64 = core[i];
    }
    wd_wasm_status_t st = wd_wasm_call(cx->inst, fn, a, n, r, ft->lift_results_n);
    if (st == WD_WASM_SUSPENDED) {
        wd_wasm_abort(cx->inst);
        cx->scope = NULL;
        return wd_cabi_trap(cx, "export suspended");
    }
    if (st != WD_WASM_OK) {
        trap_from_engine(cx, "export");
        cx->scope = NULL;
        return -1;
    }
    if (ft->lift_results_n)
        res[0] = (r[0].type == WD_WASM_I32 || r[0].type == WD_WASM_F32) ? r[0].of.i32 : r[0].of.i64;
    return wd_cabi_export_finish(cx, ft, res, result);
}
