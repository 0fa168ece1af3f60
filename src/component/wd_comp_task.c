/*
 * wd_comp_task.c -- the async runtime's objects in the handle table, waitable sets,
 * subtasks, the current task (task.return, task.cancel, context.get|set, backpressure,
 * yield), error contexts, and the dispatch of every async built-in (wd_comp_async.h).
 * Each function follows its canon_* definition in canonical-abi-definitions.py; the traps
 * are the reference's trap_if conditions, with a message saying which.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wd_comp_async_int.h"

static const wd_comp_resource_t wd_ao_rts[WD_AO__COUNT] = {
    [WD_AO_WSET] = { .name = "waitable-set", .host = 1 },
    [WD_AO_SUBTASK] = { .name = "subtask", .host = 1 },
    [WD_AO_STREAM_R] = { .name = "readable stream end", .host = 1 },
    [WD_AO_STREAM_W] = { .name = "writable stream end", .host = 1 },
    [WD_AO_FUTURE_R] = { .name = "readable future end", .host = 1 },
    [WD_AO_FUTURE_W] = { .name = "writable future end", .host = 1 },
    [WD_AO_ERROR] = { .name = "error-context", .host = 1 },
};

int
wd_comp_async_is(const wd_comp_resource_t *rt)
{
    return rt >= &wd_ao_rts[0] && rt < &wd_ao_rts[WD_AO__COUNT];
}

int
wd_ao_trap(wd_comp_async_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->trapbuf, sizeof a->trapbuf, fmt, ap);
    va_end(ap);
    a->trap = a->trapbuf;
    return -1;
}

const char *
wd_comp_async_trap(const wd_comp_async_t *a)
{
    return a->trap ? a->trap : "trap";
}

wd_comp_async_t *
wd_comp_async_new(wd_cabi_table_t *table, const wd_comp_async_hooks_t *hooks)
{
    wd_comp_async_t *a = wd_wasm_calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->table = table;
    if (hooks)
        a->hooks = *hooks;
    return a;
}

void
wd_comp_async_free(wd_comp_async_t *a)
{
    if (a == NULL)
        return;
    for (uint32_t i = 0; i < a->nobjs; i++) {
        if (a->objs[i]) {
            wd_wasm_free(a->objs[i]->msg);
            wd_wasm_free(a->objs[i]);
        }
    }
    wd_wasm_free(a->objs);
    while (a->shared_all)
        wd_sh_free(a->shared_all);
    for (uint32_t i = 0; i < a->nbinds; i++)
        wd_wasm_free(a->binds[i]);
    wd_wasm_free(a->binds);
    wd_cabi_arena_free(&a->arena);
    wd_wasm_free(a);
}

/* ---------------------------------------------------------------- objects */

wd_comp_obj_t *
wd_ao_new(wd_comp_async_t *a, uint8_t kind)
{
    uint32_t i = a->free_hint;
    while (i < a->nobjs && a->objs[i])
        i++;
    if (i >= a->nobjs) {
        if (a->nobjs == a->capobjs) {
            uint32_t n = a->capobjs ? a->capobjs * 2 : 16;
            wd_comp_obj_t **v = wd_wasm_realloc(a->objs, n * sizeof *v);
            if (v == NULL)
                return NULL;
            a->objs = v;
            a->capobjs = n;
        }
        i = a->nobjs++;
        a->objs[i] = NULL;
    }
    wd_comp_obj_t *o = wd_wasm_calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->kind = kind;
    o->live = 1;
    o->slot = i;
    o->cstate = WD_CS_IDLE;
    a->objs[i] = o;
    a->free_hint = i + 1;
    return o;
}

void
wd_ao_free(wd_comp_async_t *a, wd_comp_obj_t *o)
{
    if (o->slot < a->free_hint)
        a->free_hint = o->slot;
    a->objs[o->slot] = NULL;
    wd_wasm_free(o->msg);
    wd_wasm_free(o);
}

int
wd_ao_add(wd_comp_async_t *a, wd_comp_obj_t *o, uint32_t *idx)
{
    wd_cabi_handle_t h;
    const char *msg = NULL;
    memset(&h, 0, sizeof h);
    h.rt = &wd_ao_rts[o->kind];
    h.rep = o->slot;
    h.own = 1;
    if (wd_cabi_table_add(a->table, &h, idx, &msg) < 0)
        return wd_ao_trap(a, "%s", msg ? msg : "handle table full");
    o->handle = *idx;
    return 0;
}

/* the object at table index idx, of kind (or any waitable when kind < 0) */
wd_comp_obj_t *
wd_ao_get(wd_comp_async_t *a, uint32_t idx, int kind)
{
    const char *msg = NULL;
    wd_cabi_handle_t *h = wd_cabi_table_get(a->table, idx, &msg);
    if (h == NULL) {
        wd_ao_trap(a, "%s (handle %u)", msg ? msg : "unknown handle", idx);
        return NULL;
    }
    if (!wd_comp_async_is(h->rt) || h->rep >= a->nobjs || a->objs[h->rep] == NULL) {
        wd_ao_trap(a, "handle %u is not a %s", idx, kind >= 0 ? wd_ao_rts[kind].name : "waitable");
        return NULL;
    }
    wd_comp_obj_t *o = a->objs[h->rep];
    if (kind >= 0 ? o->kind != kind : (o->kind == WD_AO_WSET || o->kind == WD_AO_ERROR)) {
        wd_ao_trap(a, "handle %u is a %s, not a %s", idx, wd_ao_rts[o->kind].name,
                   kind >= 0 ? wd_ao_rts[kind].name : "waitable");
        return NULL;
    }
    return o;
}

wd_comp_obj_t *
wd_ao_remove(wd_comp_async_t *a, uint32_t idx, int kind)
{
    wd_comp_obj_t *o = wd_ao_get(a, idx, kind);
    wd_cabi_handle_t h;
    const char *msg = NULL;
    if (o == NULL)
        return NULL;
    if (wd_cabi_table_remove(a->table, idx, &h, &msg) < 0) {
        wd_ao_trap(a, "%s", msg ? msg : "cannot remove handle");
        return NULL;
    }
    o->handle = 0;
    return o;
}

/* ---------------------------------------------------------------- waitables */

void
wd_ao_set_event(wd_comp_obj_t *o, uint32_t code, uint32_t payload)
{
    o->has_event = 1;
    o->ev_code = code;
    o->ev_payload = payload;
}

void
wd_ao_take_event(wd_comp_obj_t *o, uint32_t *code, uint32_t *p1, uint32_t *p2)
{
    o->has_event = 0;
    *code = o->ev_code;
    *p1 = o->handle;
    *p2 = o->ev_payload;
    switch (o->kind) {
    case WD_AO_SUBTASK:
        o->delivered = 1;                       /* deliver_resolve */
        *p2 = o->state;
        break;
    case WD_AO_STREAM_R: case WD_AO_STREAM_W:
        o->cstate = o->ev_result == WD_COPY_DROPPED ? WD_CS_DONE : WD_CS_IDLE;
        break;
    case WD_AO_FUTURE_R: case WD_AO_FUTURE_W:
        o->cstate = o->ev_result == WD_COPY_CANCELLED ? WD_CS_IDLE : WD_CS_DONE;
        break;
    }
}

void
wd_ao_join(wd_comp_obj_t *o, wd_comp_obj_t *wset)
{
    o->wset = wset;
}

static uint32_t
wd_ao_set_elems(wd_comp_async_t *a, wd_comp_obj_t *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->nobjs; i++)
        if (a->objs[i] && a->objs[i]->wset == s)
            n++;
    return n;
}

/* a member of s with a pending event (the reference picks at random; we take the lowest
   handle index after a rotating start so no waitable starves) */
static wd_comp_obj_t *
wd_ao_set_pending(wd_comp_async_t *a, wd_comp_obj_t *s)
{
    static uint32_t rot;
    if (a->nobjs == 0)
        return NULL;
    uint32_t start = rot++ % a->nobjs;
    for (uint32_t k = 0; k < a->nobjs; k++) {
        wd_comp_obj_t *o = a->objs[(start + k) % a->nobjs];
        if (o && o->wset == s && o->has_event)
            return o;
    }
    return NULL;
}

static int
wd_ao_block(wd_comp_async_t *a, const char *what)
{
    if (a->hooks.block == NULL || a->hooks.block(a->hooks.ud) < 0)
        return wd_ao_trap(a, "%s waits forever: nothing it waits for can happen", what);
    return 0;
}

int
wd_ao_wait_event(wd_comp_async_t *a, wd_comp_obj_t *o)
{
    o->sync_waiter = 1;
    while (!o->has_event) {
        if (wd_ao_block(a, "a synchronous call") < 0) {
            o->sync_waiter = 0;
            return -1;
        }
    }
    o->sync_waiter = 0;
    return 0;
}

/* waitable-set.wait: the next event of s, blocking */
static int
wd_ao_wset_wait(wd_comp_async_t *a, wd_comp_obj_t *s, uint32_t *ev)
{
    wd_comp_obj_t *o;
    s->num_waiting++;
    while ((o = wd_ao_set_pending(a, s)) == NULL) {
        if (wd_ao_block(a, "waitable-set.wait") < 0) {
            s->num_waiting--;
            return -1;
        }
    }
    s->num_waiting--;
    wd_ao_take_event(o, &ev[0], &ev[1], &ev[2]);
    return 0;
}

/* ---------------------------------------------------------------- subtasks */

wd_comp_subtask_t *
wd_comp_subtask_new(wd_comp_async_t *a)
{
    wd_comp_obj_t *o = wd_ao_new(a, WD_AO_SUBTASK);
    if (o)
        o->state = WD_SUB_STARTED;
    return (wd_comp_subtask_t *)o;
}

int
wd_comp_subtask_start(wd_comp_async_t *a, wd_comp_subtask_t *st, uint32_t *packed)
{
    wd_comp_obj_t *o = (wd_comp_obj_t *)st;
    uint32_t idx;
    if (o->state >= WD_SUB_RETURNED) {       /* resolved already: no handle */
        *packed = WD_SUB_RETURNED;
        wd_ao_free(a, o);
        return 0;
    }
    if (wd_ao_add(a, o, &idx) < 0)
        return -1;
    *packed = o->state | idx << 4;
    return 0;
}

void
wd_comp_subtask_on_cancel(wd_comp_subtask_t *st, void (*fn)(void *ud), void *ud)
{
    wd_comp_obj_t *o = (wd_comp_obj_t *)st;
    o->on_cancel = fn;
    o->cancel_ud = ud;
}

void
wd_comp_subtask_resolve(wd_comp_subtask_t *st)
{
    wd_comp_obj_t *o = (wd_comp_obj_t *)st;
    if (o->state >= WD_SUB_RETURNED)
        return;
    o->state = o->cancel_requested ? WD_SUB_CANCELLED_BEFORE_RETURNED : WD_SUB_RETURNED;
    wd_ao_set_event(o, WD_EV_SUBTASK, o->state);
}

/* ---------------------------------------------------------------- the task */

int
wd_comp_async_task_begin(wd_comp_async_t *a, const wd_comp_lift_t *l,
                         const wd_comp_bound_lift_t *bl, wd_wasm_instance_t *inst)
{
    if (a->in_task)
        return wd_ao_trap(a, "a task is running already");
    a->in_task = 1;
    a->returned = a->cancelled = 0;
    a->has_result = 0;
    a->lift = l;
    a->task_mem = bl->memory;
    a->task_realloc = bl->realloc;
    a->inst = inst;
    a->context[0] = a->context[1] = 0;
    a->cb = bl->callback;
    return 0;
}

int
wd_comp_async_task_returned(const wd_comp_async_t *a, const wd_cabi_val_t **result)
{
    if (result)
        *result = a->has_result ? &a->result : NULL;
    return a->returned;
}

static void
wd_ao_cx(wd_comp_async_t *a, wd_cabi_cx_t *cx, wd_wasm_memory_t *mem, wd_wasm_func_t *realloc,
         uint8_t enc, wd_wasm_instance_t *inst)
{
    memset(cx, 0, sizeof *cx);
    cx->mem = mem;
    cx->realloc = realloc;
    cx->enc = enc;
    cx->inst = inst;
    cx->arena = &a->arena;
    cx->table = a->table;
    wd_comp_async_cx(a, cx);
}

static int
wd_ao_task_return(wd_comp_async_t *a, const wd_comp_hostfunc_t *hf, const wd_comp_bound_opts_t *b,
                  wd_wasm_instance_t *caller, const uint64_t *args)
{
    const wd_comp_func_type_t *ft;
    wd_cabi_cx_t cx;
    if (!a->in_task || a->lift == NULL)
        return wd_ao_trap(a, "task.return outside an async task");
    ft = a->lift->type;
    if (!a->lift->opts.async)
        return wd_ao_trap(a, "task.return in a task that was not lifted async");
    if (a->returned)
        return wd_ao_trap(a, "task.return called twice");
    if ((hf->vtype == NULL) != (ft->result == NULL)
        || (hf->vtype && !wd_comp_type_equal(hf->vtype, ft->result)))
        return wd_ao_trap(a, "task.return with a result type that is not the task's");
    if (hf->opts.string_encoding != a->lift->opts.string_encoding
        || (hf->opts.has_memory && b->memory != a->task_mem))
        return wd_ao_trap(a, "task.return with options that are not the task's");
    a->returned = 1;
    if (ft->result == NULL)
        return 0;
    wd_ao_cx(a, &cx, b->memory, NULL, hf->opts.string_encoding, caller);
    cx.copy_views = 1;
    if (ft->result->flat_n > WD_CABI_MAX_FLAT_PARAMS) {
        if (wd_cabi_load(&cx, ft->result, (uint32_t)args[0], &a->result) < 0)
            return wd_ao_trap(a, "task.return: %s", cx.trap ? cx.trap : "trap");
    } else {
        uint32_t pos = 0;
        if (wd_cabi_lift_flat(&cx, ft->result, args, &pos, &a->result) < 0)
            return wd_ao_trap(a, "task.return: %s", cx.trap ? cx.trap : "trap");
    }
    a->has_result = 1;
    return 0;
}

int
wd_comp_async_task_drive(wd_comp_async_t *a, wd_wasm_instance_t *inst, uint32_t packed)
{
    for (;;) {
        uint32_t code = packed & 0xf, si = packed >> 4, ev[3] = { WD_EV_NONE, 0, 0 };
        if (code > WD_CB_WAIT)
            return wd_ao_trap(a, "the callback returned the invalid code %u", code);
        if (code == WD_CB_EXIT) {
            a->in_task = 0;
            if (!a->returned)
                return wd_ao_trap(a, "the task exited without calling task.return");
            return 0;
        }
        if (code == WD_CB_WAIT) {
            wd_comp_obj_t *s = wd_ao_get(a, si, WD_AO_WSET);
            if (s == NULL || wd_ao_wset_wait(a, s, ev) < 0)
                return -1;
        }
        if (a->cb == NULL)
            return wd_ao_trap(a, "no callback");
        wd_wasm_val_t args[3], res[1];
        for (int i = 0; i < 3; i++) {
            memset(&args[i], 0, sizeof args[i]);
            args[i].type = WD_WASM_I32;
            args[i].of.i32 = (int32_t)ev[i];
        }
        wd_wasm_status_t st = wd_wasm_call(inst, a->cb, args, 3, res, 1);
        if (st != WD_WASM_OK) {
            const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
            return wd_ao_trap(a, "%s", st == WD_WASM_SUSPENDED ? "the callback suspended"
                              : t ? t->msg : "the callback trapped");
        }
        packed = (uint32_t)res[0].of.i32;
    }
}

/* ---------------------------------------------------------------- built-ins */

typedef struct {
    wd_comp_async_t *a;
    const wd_comp_hostfunc_t *hf;
    wd_comp_bound_opts_t bound;
} wd_ao_bind_t;

static int
wd_ao_wr_event(wd_comp_async_t *a, wd_wasm_memory_t *m, uint32_t ptr, const uint32_t *ev)
{
    uint8_t *base = wd_wasm_memory_data(m);
    uint64_t size = wd_wasm_memory_size(m);
    if (ptr & 3)
        return wd_ao_trap(a, "misaligned event pointer");
    if ((uint64_t)ptr + 8 > size)
        return wd_ao_trap(a, "event pointer out of bounds");
    memcpy(base + ptr, &ev[1], 4);
    memcpy(base + ptr + 4, &ev[2], 4);
    return 0;
}

static int
wd_ao_dispatch(wd_ao_bind_t *b, wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *res)
{
    wd_comp_async_t *a = b->a;
    const wd_comp_hostfunc_t *hf = b->hf;
    wd_comp_obj_t *o, *s;
    uint32_t idx, ev[3];

    switch (hf->builtin) {
    case WD_COMP_BI_TASK_RETURN:
        return wd_ao_task_return(a, hf, &b->bound, caller, args);
    case WD_COMP_BI_TASK_CANCEL:
        if (!a->in_task || !a->lift || !a->lift->opts.async)
            return wd_ao_trap(a, "task.cancel outside an async task");
        if (a->returned)
            return wd_ao_trap(a, "task.cancel after task.return");
        if (!a->cancelled)
            return wd_ao_trap(a, "task.cancel of a task whose cancellation was not requested");
        a->returned = 1;
        return 0;
    case WD_COMP_BI_CONTEXT_GET:
        res[0] = a->context[hf->imm & 1];
        return 0;
    case WD_COMP_BI_CONTEXT_SET:
        a->context[hf->imm & 1] = (uint32_t)args[0];
        return 0;
    case WD_COMP_BI_BACKPRESSURE_INC:
        if (++a->backpressure >= 1u << 16)
            return wd_ao_trap(a, "backpressure.inc: counter overflow");
        return 0;
    case WD_COMP_BI_BACKPRESSURE_DEC:
        if (a->backpressure == 0)
            return wd_ao_trap(a, "backpressure.dec below 0");
        a->backpressure--;
        return 0;
    case WD_COMP_BI_YIELD:
        /* nothing else of this instance runs meanwhile: not cancelled */
        res[0] = 0;
        return 0;
    case WD_COMP_BI_WSET_NEW:
        if ((o = wd_ao_new(a, WD_AO_WSET)) == NULL)
            return wd_ao_trap(a, "out of memory");
        if (wd_ao_add(a, o, &idx) < 0) {
            wd_ao_free(a, o);
            return -1;
        }
        res[0] = idx;
        return 0;
    case WD_COMP_BI_WSET_WAIT:
    case WD_COMP_BI_WSET_POLL:
        if ((s = wd_ao_get(a, (uint32_t)args[0], WD_AO_WSET)) == NULL)
            return -1;
        if (hf->builtin == WD_COMP_BI_WSET_WAIT) {
            if (wd_ao_wset_wait(a, s, ev) < 0)
                return -1;
        } else if ((o = wd_ao_set_pending(a, s)) != NULL) {
            wd_ao_take_event(o, &ev[0], &ev[1], &ev[2]);
        } else {
            ev[0] = WD_EV_NONE, ev[1] = ev[2] = 0;
        }
        if (wd_ao_wr_event(a, b->bound.memory, (uint32_t)args[1], ev) < 0)
            return -1;
        res[0] = ev[0];
        return 0;
    case WD_COMP_BI_WSET_DROP:
        if ((s = wd_ao_get(a, (uint32_t)args[0], WD_AO_WSET)) == NULL)
            return -1;
        if (wd_ao_set_elems(a, s) > 0)
            return wd_ao_trap(a, "waitable-set.drop of a set that still has waitables");
        if (s->num_waiting > 0)
            return wd_ao_trap(a, "waitable-set.drop of a set being waited on");
        wd_ao_remove(a, (uint32_t)args[0], WD_AO_WSET);
        wd_ao_free(a, s);
        return 0;
    case WD_COMP_BI_WAITABLE_JOIN:
        if ((o = wd_ao_get(a, (uint32_t)args[0], -1)) == NULL)
            return -1;
        if (o->sync_waiter)
            return wd_ao_trap(a, "waitable.join of a waitable a synchronous call waits on");
        s = NULL;
        if ((uint32_t)args[1] != 0 && (s = wd_ao_get(a, (uint32_t)args[1], WD_AO_WSET)) == NULL)
            return -1;
        wd_ao_join(o, s);
        return 0;
    case WD_COMP_BI_SUBTASK_DROP:
        if ((o = wd_ao_get(a, (uint32_t)args[0], WD_AO_SUBTASK)) == NULL)
            return -1;
        if (!o->delivered)
            return wd_ao_trap(a, "subtask.drop of a subtask that has not resolved (or whose "
                              "resolution was not delivered)");
        wd_ao_remove(a, (uint32_t)args[0], WD_AO_SUBTASK);
        wd_ao_free(a, o);
        return 0;
    case WD_COMP_BI_SUBTASK_CANCEL:
        if ((o = wd_ao_get(a, (uint32_t)args[0], WD_AO_SUBTASK)) == NULL)
            return -1;
        if (o->delivered)
            return wd_ao_trap(a, "subtask.cancel after the subtask's resolution was delivered");
        if (o->cancel_requested)
            return wd_ao_trap(a, "subtask.cancel twice");
        if (o->wset && !hf->flag)
            return wd_ao_trap(a, "synchronous subtask.cancel of a subtask in a waitable set");
        if (o->state < WD_SUB_RETURNED) {
            o->cancel_requested = 1;
            if (o->on_cancel)
                o->on_cancel(o->cancel_ud);
            if (o->state < WD_SUB_RETURNED) {
                if (hf->flag) {
                    res[0] = WD_COMP_BLOCKED;
                    return 0;
                }
                if (wd_ao_wait_event(a, o) < 0)
                    return -1;
            }
        }
        wd_ao_take_event(o, &ev[0], &ev[1], &ev[2]);
        res[0] = o->state;
        return 0;
    case WD_COMP_BI_ERROR_NEW: {
        wd_cabi_cx_t cx;
        wd_cabi_val_t v;
        wd_cabi_arena_mark_t mark = wd_cabi_arena_mark(&a->arena);   /* keeps task.return's result */
        wd_ao_cx(a, &cx, b->bound.memory, NULL, hf->opts.string_encoding, caller);
        if (wd_cabi_lift_string(&cx, (uint32_t)args[0], (uint32_t)args[1], &v) < 0)
            return wd_ao_trap(a, "error-context.new: %s", cx.trap ? cx.trap : "trap");
        if ((o = wd_ao_new(a, WD_AO_ERROR)) == NULL || (o->msg = wd_wasm_malloc(v.n + 1)) == NULL) {
            if (o)
                wd_ao_free(a, o);
            return wd_ao_trap(a, "out of memory");
        }
        memcpy(o->msg, v.str, v.n);
        o->msglen = v.n;
        wd_cabi_arena_release(&a->arena, mark);
        if (wd_ao_add(a, o, &idx) < 0) {
            wd_ao_free(a, o);
            return -1;
        }
        res[0] = idx;
        return 0;
    }
    case WD_COMP_BI_ERROR_DEBUG_MESSAGE: {
        wd_cabi_cx_t cx;
        uint32_t ptr, units;
        uint8_t *base;
        if ((o = wd_ao_get(a, (uint32_t)args[0], WD_AO_ERROR)) == NULL)
            return -1;
        wd_ao_cx(a, &cx, b->bound.memory, b->bound.realloc, hf->opts.string_encoding, caller);
        if (wd_cabi_lower_string(&cx, o->msg ? o->msg : "", o->msglen, &ptr, &units) < 0)
            return wd_ao_trap(a, "error-context.debug-message: %s", cx.trap ? cx.trap : "trap");
        uint32_t at = (uint32_t)args[1];
        if ((at & 3) || (uint64_t)at + 8 > wd_wasm_memory_size(b->bound.memory))
            return wd_ao_trap(a, "error-context.debug-message: bad pointer");
        base = wd_wasm_memory_data(b->bound.memory);
        memcpy(base + at, &ptr, 4);
        memcpy(base + at + 4, &units, 4);
        return 0;
    }
    case WD_COMP_BI_ERROR_DROP:
        if ((o = wd_ao_remove(a, (uint32_t)args[0], WD_AO_ERROR)) == NULL)
            return -1;
        wd_ao_free(a, o);
        return 0;
    default:
        if (hf->builtin >= WD_COMP_BI_STREAM_NEW && hf->builtin <= WD_COMP_BI_FUTURE_DROP_WRITABLE)
            return wd_comp_stream_builtin(a, hf, &b->bound, caller, args, res);
        return wd_ao_trap(a, "unknown built-in 0x%02x", hf->builtin);
    }
}

static int
wd_ao_keep(wd_comp_async_t *a, void *b)
{
    if (a->nbinds == a->capbinds) {
        uint32_t n = a->capbinds ? a->capbinds * 2 : 32;
        void **v = wd_wasm_realloc(a->binds, n * sizeof *v);
        if (v == NULL)
            return -1;
        a->binds = v;
        a->capbinds = n;
    }
    a->binds[a->nbinds++] = b;
    return 0;
}

static wd_wasm_host_rc_t
wd_ao_call(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *res, void *ud)
{
    wd_ao_bind_t *b = ud;
    if (b->a->table->no_leave) {
        wd_wasm_host_trap(caller, "an async built-in called while the instance may not leave");
        return WD_WASM_HOST_TRAP;
    }
    static int trace = -1;
    if (trace < 0)
        trace = getenv("WD_ASYNC_TRACE") != NULL;
    if (trace) {
        int rc = wd_ao_dispatch(b, caller, args, res);
        fprintf(stderr, "[async] %s(%lu, %lu, %lu) -> %d %lu\n", b->hf->name ? b->hf->name : "?",
                (unsigned long)(b->hf->core_type.nparams > 0 ? args[0] : 0),
                (unsigned long)(b->hf->core_type.nparams > 1 ? args[1] : 0),
                (unsigned long)(b->hf->core_type.nparams > 2 ? args[2] : 0), rc,
                (unsigned long)(b->hf->core_type.nresults ? res[0] : 0));
        if (rc == 0)
            return WD_WASM_HOST_OK;
        char msg[220];
        snprintf(msg, sizeof msg, "canon %s: %s", b->hf->name ? b->hf->name : "?", wd_comp_async_trap(b->a));
        wd_wasm_host_trap(caller, msg);
        return WD_WASM_HOST_TRAP;
    }
    if (wd_ao_dispatch(b, caller, args, res) < 0) {
        char msg[220];
        snprintf(msg, sizeof msg, "canon %s: %s", b->hf->name ? b->hf->name : "?", wd_comp_async_trap(b->a));
        wd_wasm_host_trap(caller, msg);
        return WD_WASM_HOST_TRAP;
    }
    return WD_WASM_HOST_OK;
}

wd_wasm_func_t *
wd_comp_async_builtin(wd_comp_async_t *a, wd_wasm_store_t *s, const wd_comp_hostfunc_t *hf,
                      const wd_comp_bound_opts_t *bound, char *msg, size_t len)
{
    wd_ao_bind_t *b;
    wd_wasm_func_t *f;
    /* the binding lives as long as the runtime: kept as an object-less allocation list */
    b = wd_wasm_calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    b->a = a;
    b->hf = hf;
    if (bound)
        b->bound = *bound;
    if ((hf->opts.has_memory || hf->builtin == WD_COMP_BI_WSET_WAIT || hf->builtin == WD_COMP_BI_WSET_POLL)
        && b->bound.memory == NULL) {
        wd_wasm_free(b);
        snprintf(msg, len, "canon %s: its memory is not bound", hf->name ? hf->name : "?");
        return NULL;
    }
    f = wd_wasm_func_new_host(s, &hf->core_type, wd_ao_call, b);
    if (f == NULL) {
        wd_wasm_free(b);
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    if (wd_ao_keep(a, b) < 0) {
        wd_wasm_free(b);            /* the function stays in the store, unusable */
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    return f;
}
