/*
 * wd_comp_stream.c -- streams and futures (canonical-abi-definitions.py: SharedStreamImpl,
 * SharedFutureImpl, CopyEnd, stream_copy, future_copy, cancel_copy, drop, lift/lower of
 * stream/future handles). One shared state per stream/future; each end is a guest object in
 * the handle table or the host's (wd_comp_host_end_t). A copy between two guest buffers is the
 * reference's rendezvous (the first to arrive waits as the pending buffer); a copy with the
 * host end happens at once through its sink/source, or waits for wd_comp_shared_wake.
 */
#include <stdio.h>
#include <string.h>

#include "wd_comp_async_int.h"

#define WD_BUF_MAX ((1u << 28) - 1)      /* Buffer.MAX_LENGTH */

static int
wd_sh_type_eq(const wd_comp_type_t *a, const wd_comp_type_t *b)
{
    if (a == b)
        return 1;
    if (a->kind != b->kind || (a->elem == NULL) != (b->elem == NULL))
        return 0;
    return a->elem == NULL || wd_comp_type_equal(a->elem, b->elem);
}

/* none_or_number_type: elements copied between two buffers of one instance as bytes */
static int
wd_sh_plain(const wd_comp_type_t *t)
{
    if (t->elem == NULL)
        return 1;
    switch (t->elem->kind) {
    case WD_CT_U8: case WD_CT_S8: case WD_CT_U16: case WD_CT_S16: case WD_CT_U32:
    case WD_CT_S32: case WD_CT_U64: case WD_CT_S64: case WD_CT_F32: case WD_CT_F64:
        return 1;
    }
    return 0;
}

static uint32_t
wd_sh_esize(const wd_comp_shared_t *sh)
{
    return sh->t->elem ? sh->t->elem->size : 0;
}

wd_comp_shared_t *
wd_comp_shared_new(wd_comp_async_t *a, const wd_comp_type_t *t)
{
    wd_comp_shared_t *sh = wd_wasm_calloc(1, sizeof *sh);
    if (sh == NULL)
        return NULL;
    sh->a = a;
    sh->t = t;
    sh->future = t->kind == WD_CT_FUTURE;
    sh->next = a->shared_all;
    if (sh->next)
        sh->next->prev = sh;
    a->shared_all = sh;
    return sh;
}

void
wd_sh_free(wd_comp_shared_t *sh)
{
    if (sh == NULL)
        return;
    if (sh->prev)
        sh->prev->next = sh->next;
    else
        sh->a->shared_all = sh->next;
    if (sh->next)
        sh->next->prev = sh->prev;
    wd_wasm_free(sh);
}

static void
wd_sh_unref(wd_comp_shared_t *sh)
{
    if (sh->ends > 0)
        sh->ends--;
    if (sh->ends == 0 && !sh->has_host)
        wd_sh_free(sh);
}

void
wd_comp_shared_attach(wd_comp_shared_t *sh, const wd_comp_host_end_t *end)
{
    sh->host = *end;
}

/* the pending end's copy finished with result (its progress is sh->progress) */
static void
wd_sh_notify_pending(wd_comp_shared_t *sh, uint8_t result)
{
    wd_comp_obj_t *e = sh->pend;
    if (e == NULL)
        return;
    sh->pend = NULL;
    e->ev_result = result;
    wd_ao_set_event(e, e->kind == WD_AO_STREAM_R ? WD_EV_STREAM_READ
                    : e->kind == WD_AO_STREAM_W ? WD_EV_STREAM_WRITE
                    : e->kind == WD_AO_FUTURE_R ? WD_EV_FUTURE_READ : WD_EV_FUTURE_WRITE,
                    sh->future ? result : result | sh->progress << 4);
}

static void
wd_sh_set_pending(wd_comp_shared_t *sh, wd_comp_obj_t *e, int read, wd_wasm_memory_t *mem,
                  wd_wasm_func_t *realloc, uint8_t enc, uint32_t ptr, uint32_t len)
{
    sh->pend = e;
    sh->pend_read = (uint8_t)read;
    sh->mem = mem;
    sh->realloc = realloc;
    sh->enc = enc;
    sh->ptr = ptr;
    sh->len = len;
    sh->progress = 0;
}

/* the host end serves the pending guest copy if it can; 0, or -1 trap */
static int
wd_sh_host_copy(wd_comp_shared_t *sh)
{
    wd_comp_async_t *a = sh->a;
    const char *msg = NULL;
    uint32_t es = wd_sh_esize(sh);
    uint8_t *base;
    long n;

    if (sh->pend == NULL)
        return 0;
    base = sh->mem ? wd_wasm_memory_data(sh->mem) : NULL;
    if (sh->future) {
        wd_cabi_cx_t cx;
        if (!sh->pend_read) {               /* guest writes, host reads */
            if (sh->host.sink == NULL)
                return wd_ao_trap(a, "the host does not read this future");
            n = sh->host.sink(sh->host.ud, base ? base + sh->ptr : NULL, 1, &msg);
            if (n < 0)
                return wd_ao_trap(a, "%s", msg ? msg : "the host refused the value");
            if (n == 0)
                return 0;
            sh->progress = 1;
            wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
            return 0;
        }
        if (!sh->fval_set)
            return 0;
        if (sh->t->elem) {
            memset(&cx, 0, sizeof cx);
            cx.mem = sh->mem;
            cx.realloc = sh->realloc;
            cx.enc = sh->enc;
            cx.inst = a->inst;
            cx.arena = &a->arena;
            cx.table = a->table;
            wd_comp_async_cx(a, &cx);
            if (wd_cabi_store(&cx, sh->t->elem, &sh->fval, sh->ptr) < 0)
                return wd_ao_trap(a, "future.read: %s", cx.trap ? cx.trap : "trap");
        }
        sh->progress = 1;
        wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
        return 0;
    }
    if (sh->pend_read) {                    /* guest reads, host writes */
        if (sh->host.source == NULL)
            return wd_ao_trap(a, "the host does not write this stream");
        if (sh->len == 0) {
            wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
            return 0;
        }
        n = sh->host.source(sh->host.ud, base ? base + sh->ptr : NULL, sh->len, &msg);
    } else {                                /* guest writes, host reads */
        if (sh->host.sink == NULL)
            return wd_ao_trap(a, "the host does not read this stream");
        if (sh->len == 0) {
            wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
            return 0;
        }
        n = sh->host.sink(sh->host.ud, base ? base + sh->ptr : NULL, sh->len, &msg);
    }
    if (n < 0)
        return wd_ao_trap(a, "%s", msg ? msg : "the host end failed");
    if ((uint32_t)n > sh->len)
        n = sh->len;
    (void)es;
    if (n > 0) {
        sh->progress = (uint32_t)n;
        wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
    }
    return 0;
}

void
wd_comp_shared_wake(wd_comp_shared_t *sh)
{
    if (sh->pend && sh->has_host)
        (void)wd_sh_host_copy(sh);
}

int
wd_comp_shared_future_set(wd_comp_shared_t *sh, const wd_cabi_val_t *v)
{
    sh->fval_set = 1;
    if (v) {
        sh->fval = *v;
        if (v->vals && (v->kind == WD_CT_RESULT || v->kind == WD_CT_OPTION || v->kind == WD_CT_VARIANT)) {
            sh->fpay = v->vals[0];
            sh->fval.vals = &sh->fpay;
        }
    }
    if (sh->pend && sh->pend_read)
        return wd_sh_host_copy(sh);
    return 0;
}

void
wd_comp_shared_host_drop(wd_comp_shared_t *sh)
{
    if (!sh->has_host)
        return;
    if (sh->future && sh->fval_set && !sh->host_reads)
        return;                 /* the value stays readable: a write completes when read */
    sh->has_host = 0;
    if (!sh->dropped) {
        sh->dropped = 1;
        if (sh->pend)
            wd_sh_notify_pending(sh, WD_COPY_DROPPED);
    }
    if (sh->ends == 0)
        wd_sh_free(sh);
}

/* guest-to-guest rendezvous (SharedStreamImpl.read/write, SharedFutureImpl.read/write):
   e arrives with its buffer while sh->pend waits with the other */
static int
wd_sh_guest_copy(wd_comp_shared_t *sh, wd_comp_obj_t *e, int read, wd_wasm_memory_t *mem,
                 uint32_t ptr, uint32_t len, uint32_t *done)
{
    wd_comp_async_t *a = sh->a;
    uint32_t es = wd_sh_esize(sh), prem = sh->len - sh->progress;
    *done = 0;
    if (!wd_sh_plain(sh->t))
        return wd_ao_trap(a, "copying %s elements within one component instance is not supported "
                          "(the reference traps too)", sh->t->elem ? wd_comp_kind_name(sh->t->elem->kind) : "?");
    if (prem > 0) {
        if (len > 0) {
            uint32_t k = len < prem ? len : prem;
            if (es && k) {
                uint8_t *dbase = wd_wasm_memory_data(read ? mem : sh->mem);
                uint8_t *sbase = wd_wasm_memory_data(read ? sh->mem : mem);
                uint32_t dptr = read ? ptr : sh->ptr + sh->progress * es;
                uint32_t sptr = read ? sh->ptr + sh->progress * es : ptr;
                memmove(dbase + dptr, sbase + sptr, (size_t)k * es);
            }
            sh->progress += k;
            *done = k;
            wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
        }
        return 1;                           /* e completed now */
    }
    if (!read && len == 0 && sh->len == 0)
        return 1;
    wd_sh_notify_pending(sh, WD_COPY_COMPLETED);
    return 0;                               /* e becomes the pending one */
}

static int
wd_sh_check_buffer(wd_comp_async_t *a, const wd_comp_shared_t *sh, wd_wasm_memory_t *mem,
                   uint32_t ptr, uint32_t n)
{
    const wd_comp_type_t *el = sh->t->elem;
    if (n > WD_BUF_MAX)
        return wd_ao_trap(a, "buffer length %u above 2^28-1", n);
    if (el && n > 0) {
        if (ptr & (el->align - 1))
            return wd_ao_trap(a, "misaligned buffer");
        if (mem == NULL || (uint64_t)ptr + (uint64_t)n * el->size > wd_wasm_memory_size(mem))
            return wd_ao_trap(a, "buffer out of bounds");
    }
    return 0;
}

static int
wd_sh_copy(wd_comp_async_t *a, const wd_comp_hostfunc_t *hf, const wd_comp_bound_opts_t *bound,
           const uint64_t *args, uint64_t *res, int read)
{
    int future = hf->builtin >= WD_COMP_BI_FUTURE_NEW;
    int kind = future ? (read ? WD_AO_FUTURE_R : WD_AO_FUTURE_W) : (read ? WD_AO_STREAM_R : WD_AO_STREAM_W);
    int async = hf->opts.async;
    uint32_t idx = (uint32_t)args[0], ptr = (uint32_t)args[1], n = future ? 1 : (uint32_t)args[2];
    wd_comp_obj_t *e = wd_ao_get(a, idx, kind);
    wd_comp_shared_t *sh;
    uint32_t ev[3], done;

    if (e == NULL)
        return -1;
    sh = e->shared;
    if (!wd_sh_type_eq(sh->t, hf->vtype))
        return wd_ao_trap(a, "the %s's element type is not the built-in's", future ? "future" : "stream");
    if (e->cstate != WD_CS_IDLE)
        return wd_ao_trap(a, e->cstate == WD_CS_DONE ? "%s on an end that is done (the other end "
                          "was dropped, or the future was copied)" : "%s while another copy on this end is "
                          "in progress", hf->name);
    if (e->wset && !async)
        return wd_ao_trap(a, "synchronous %s of an end in a waitable set", hf->name);
    if (wd_sh_check_buffer(a, sh, bound->memory, ptr, n) < 0)
        return -1;
    e->cstate = WD_CS_COPYING;
    if (sh->dropped) {
        sh->progress = 0;
        e->ev_result = WD_COPY_DROPPED;
        wd_ao_set_event(e, future ? (read ? WD_EV_FUTURE_READ : WD_EV_FUTURE_WRITE)
                        : (read ? WD_EV_STREAM_READ : WD_EV_STREAM_WRITE), WD_COPY_DROPPED);
    } else if (sh->has_host) {
        wd_sh_set_pending(sh, e, read, bound->memory, bound->realloc, hf->opts.string_encoding, ptr, n);
        if (wd_sh_host_copy(sh) < 0) {
            sh->pend = NULL;
            e->cstate = WD_CS_IDLE;
            return -1;
        }
    } else if (sh->pend == NULL) {
        wd_sh_set_pending(sh, e, read, bound->memory, bound->realloc, hf->opts.string_encoding, ptr, n);
    } else {
        int r = wd_sh_guest_copy(sh, e, read, bound->memory, ptr, n, &done);
        if (r < 0) {
            e->cstate = WD_CS_IDLE;
            return -1;
        }
        if (r == 1) {
            e->ev_result = WD_COPY_COMPLETED;
            wd_ao_set_event(e, future ? (read ? WD_EV_FUTURE_READ : WD_EV_FUTURE_WRITE)
                            : (read ? WD_EV_STREAM_READ : WD_EV_STREAM_WRITE),
                            future ? WD_COPY_COMPLETED : WD_COPY_COMPLETED | done << 4);
        } else {
            wd_sh_set_pending(sh, e, read, bound->memory, bound->realloc, hf->opts.string_encoding, ptr, n);
        }
    }
    if (!e->has_event) {
        if (async) {
            res[0] = WD_COMP_BLOCKED;
            return 0;
        }
        if (wd_ao_wait_event(a, e) < 0)
            return -1;
    }
    wd_ao_take_event(e, &ev[0], &ev[1], &ev[2]);
    res[0] = ev[2];
    return 0;
}

static int
wd_sh_cancel(wd_comp_async_t *a, const wd_comp_hostfunc_t *hf, const uint64_t *args, uint64_t *res,
             int kind)
{
    uint32_t idx = (uint32_t)args[0], ev[3];
    wd_comp_obj_t *e = wd_ao_get(a, idx, kind);
    wd_comp_shared_t *sh;
    if (e == NULL)
        return -1;
    sh = e->shared;
    if (!wd_sh_type_eq(sh->t, hf->vtype))
        return wd_ao_trap(a, "the element type is not the built-in's");
    if (e->cstate != WD_CS_COPYING || e->sync_waiter)
        return wd_ao_trap(a, "%s without a copy in progress", hf->name);
    /* The reference traps on a synchronous cancel of an end in a waitable set; wit-bindgen's
       runtime (every Rust p3 component) cancels its wake-up stream's read that way, and
       Wasmtime runs it. A cancel here never blocks (the copy is cancelled at once), so it is
       allowed; only a cancel that would have to wait would trap (below). */
    e->cstate = WD_CS_CANCELLING;
    if (!e->has_event && sh->pend == e)
        wd_sh_notify_pending(sh, WD_COPY_CANCELLED);
    if (!e->has_event) {
        if (hf->flag) {
            res[0] = WD_COMP_BLOCKED;
            return 0;
        }
        if (e->wset)
            return wd_ao_trap(a, "synchronous %s of an end in a waitable set", hf->name);
        if (wd_ao_wait_event(a, e) < 0)
            return -1;
    }
    wd_ao_take_event(e, &ev[0], &ev[1], &ev[2]);
    res[0] = ev[2];
    return 0;
}

/* the shared side of dropping one end (SharedStreamImpl.drop) */
static void
wd_sh_drop_end(wd_comp_shared_t *sh, wd_comp_obj_t *e)
{
    if (sh->pend == e)
        sh->pend = NULL;
    if (!sh->dropped) {
        sh->dropped = 1;
        if (sh->pend)
            wd_sh_notify_pending(sh, WD_COPY_DROPPED);
        if (sh->has_host && sh->host.dropped)
            sh->host.dropped(sh->host.ud);
    }
    e->shared = NULL;
    wd_sh_unref(sh);
}

int
wd_comp_end_drop(wd_comp_async_t *a, wd_comp_obj_t *e)
{
    if (e->cstate == WD_CS_COPYING || e->cstate == WD_CS_CANCELLING)
        return wd_ao_trap(a, "dropping a %s end with a copy in progress", e->kind <= WD_AO_STREAM_W ? "stream" : "future");
    if (e->kind == WD_AO_FUTURE_W && e->cstate != WD_CS_DONE && !(e->shared && e->shared->dropped))
        return wd_ao_trap(a, "dropping the writable end of a future that was never written");
    if (e->shared)
        wd_sh_drop_end(e->shared, e);
    wd_ao_free(a, e);
    return 0;
}

int
wd_comp_stream_builtin(wd_comp_async_t *a, const wd_comp_hostfunc_t *hf,
                       const wd_comp_bound_opts_t *bound, wd_wasm_instance_t *caller,
                       const uint64_t *args, uint64_t *res)
{
    int future = hf->builtin >= WD_COMP_BI_FUTURE_NEW;
    uint32_t ri, wi;
    wd_comp_obj_t *r, *w, *e;
    wd_comp_shared_t *sh;
    (void)caller;

    switch (hf->builtin) {
    case WD_COMP_BI_STREAM_NEW:
    case WD_COMP_BI_FUTURE_NEW:
        sh = wd_comp_shared_new(a, hf->vtype);
        r = wd_ao_new(a, future ? WD_AO_FUTURE_R : WD_AO_STREAM_R);
        w = wd_ao_new(a, future ? WD_AO_FUTURE_W : WD_AO_STREAM_W);
        if (sh == NULL || r == NULL || w == NULL) {
            if (r)
                wd_ao_free(a, r);
            if (w)
                wd_ao_free(a, w);
            wd_sh_free(sh);
            return wd_ao_trap(a, "out of memory");
        }
        r->shared = w->shared = sh;
        sh->ends = 2;
        if (wd_ao_add(a, r, &ri) < 0) {
            wd_ao_free(a, r);
            wd_ao_free(a, w);
            wd_sh_free(sh);
            return -1;
        }
        if (wd_ao_add(a, w, &wi) < 0) {
            wd_cabi_handle_t h;
            const char *m;
            wd_cabi_table_remove(a->table, ri, &h, &m);
            wd_ao_free(a, r);
            wd_ao_free(a, w);
            wd_sh_free(sh);
            return -1;
        }
        res[0] = (uint64_t)ri | (uint64_t)wi << 32;
        return 0;
    case WD_COMP_BI_STREAM_READ:
    case WD_COMP_BI_FUTURE_READ:
        return wd_sh_copy(a, hf, bound, args, res, 1);
    case WD_COMP_BI_STREAM_WRITE:
    case WD_COMP_BI_FUTURE_WRITE:
        return wd_sh_copy(a, hf, bound, args, res, 0);
    case WD_COMP_BI_STREAM_CANCEL_READ:
        return wd_sh_cancel(a, hf, args, res, WD_AO_STREAM_R);
    case WD_COMP_BI_STREAM_CANCEL_WRITE:
        return wd_sh_cancel(a, hf, args, res, WD_AO_STREAM_W);
    case WD_COMP_BI_FUTURE_CANCEL_READ:
        return wd_sh_cancel(a, hf, args, res, WD_AO_FUTURE_R);
    case WD_COMP_BI_FUTURE_CANCEL_WRITE:
        return wd_sh_cancel(a, hf, args, res, WD_AO_FUTURE_W);
    case WD_COMP_BI_STREAM_DROP_READABLE:
    case WD_COMP_BI_STREAM_DROP_WRITABLE:
    case WD_COMP_BI_FUTURE_DROP_READABLE:
    case WD_COMP_BI_FUTURE_DROP_WRITABLE: {
        int kind = hf->builtin == WD_COMP_BI_STREAM_DROP_READABLE ? WD_AO_STREAM_R
                   : hf->builtin == WD_COMP_BI_STREAM_DROP_WRITABLE ? WD_AO_STREAM_W
                   : hf->builtin == WD_COMP_BI_FUTURE_DROP_READABLE ? WD_AO_FUTURE_R : WD_AO_FUTURE_W;
        if ((e = wd_ao_get(a, (uint32_t)args[0], kind)) == NULL)
            return -1;
        if (!wd_sh_type_eq(e->shared->t, hf->vtype))
            return wd_ao_trap(a, "the element type is not the built-in's");
        if (e->cstate == WD_CS_COPYING || e->cstate == WD_CS_CANCELLING
            || (kind == WD_AO_FUTURE_W && e->cstate != WD_CS_DONE && !e->shared->dropped))
            return wd_comp_end_drop(a, e);      /* traps, says why */
        if ((e = wd_ao_remove(a, (uint32_t)args[0], kind)) == NULL)
            return -1;
        return wd_comp_end_drop(a, e);
    }
    }
    return wd_ao_trap(a, "unknown stream/future built-in");
}

/* ---------------------------------------------------------------- handles through the ABI */

void
wd_comp_async_cx(wd_comp_async_t *a, wd_cabi_cx_t *cx)
{
    cx->async = a;
    cx->async_lift = wd_comp_async_lift_handle;
    cx->async_lower = wd_comp_async_lower_handle;
}

int
wd_comp_async_lift_handle(void *ap, const wd_comp_type_t *t, uint32_t idx, uint64_t *out,
                          const char **msg)
{
    wd_comp_async_t *a = ap;
    int kind = t->kind == WD_CT_STREAM ? WD_AO_STREAM_R : WD_AO_FUTURE_R;
    wd_comp_obj_t *e = wd_ao_get(a, idx, kind);
    wd_comp_shared_t *sh;
    if (e == NULL || !wd_sh_type_eq(e->shared->t, t) || e->cstate != WD_CS_IDLE) {
        *msg = e == NULL ? wd_comp_async_trap(a) : !wd_sh_type_eq(e->shared->t, t)
               ? "a stream or future of another element type" : "passing an end with a copy in progress or done";
        return -1;
    }
    if (wd_ao_remove(a, idx, kind) == NULL) {
        *msg = wd_comp_async_trap(a);
        return -1;
    }
    sh = e->shared;
    sh->has_host = 1;
    sh->host_reads = 1;
    e->shared = NULL;
    wd_ao_free(a, e);
    if (sh->ends > 0)
        sh->ends--;
    *out = (uint64_t)(uintptr_t)sh;
    return 0;
}

int
wd_comp_async_lower_handle(void *ap, const wd_comp_type_t *t, uint64_t v, uint32_t *idx,
                           const char **msg)
{
    wd_comp_async_t *a = ap;
    wd_comp_shared_t *sh = (wd_comp_shared_t *)(uintptr_t)v;
    wd_comp_obj_t *e;
    if (sh == NULL || sh->a != a) {
        *msg = "lowering a stream or future the host does not have";
        return -1;
    }
    e = wd_ao_new(a, t->kind == WD_CT_STREAM ? WD_AO_STREAM_R : WD_AO_FUTURE_R);
    if (e == NULL) {
        *msg = "out of memory";
        return -1;
    }
    if (wd_ao_add(a, e, idx) < 0) {
        wd_ao_free(a, e);
        *msg = wd_comp_async_trap(a);
        return -1;
    }
    e->shared = sh;
    sh->ends++;
    sh->has_host = 1;
    sh->host_reads = 0;
    return 0;
}
