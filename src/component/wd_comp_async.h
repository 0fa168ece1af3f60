/*
 * wd_comp_async.h -- the component-model async runtime (Concurrency.md, the async parts of
 * CanonicalABI.md / canonical-abi-definitions.py): waitable sets, subtasks, streams, futures,
 * error contexts, the current task (task.return, context.get|set, backpressure), and the
 * async built-ins a component calls (canon task.return, stream.read, waitable-set.wait, ...).
 *
 * One wd_comp_async_t per component instance. Its objects live in the instance's handle
 * index space: they are handles of the wd_cabi_table_t the host passes (the same table as
 * its resources), with one static pseudo resource type per kind (wd_comp_async_is()), so a
 * resource.drop of a stream traps and a stream.read of a resource traps. Object state
 * follows the reference definitions: Waitable (pending event, its set), WaitableSet,
 * Subtask (STARTING..CANCELLED_BEFORE_RETURNED, resolve delivery), CopyEnd (IDLE, COPYING,
 * CANCELLING_COPY, DONE) over a SharedStreamImpl / SharedFutureImpl (one pending buffer, the
 * rendezvous copy). Every violation the reference traps on traps here (-1 with a message).
 *
 * Either end of a stream or future may be the host's: a host end (wd_comp_host_end_t) gets
 * the copy as callbacks (a sink consumes the bytes a guest writes, a source fills a guest's
 * read, a future value is stored/loaded through the Canonical ABI). The runtime never
 * blocks: a guest that must wait (a synchronous waitable-set.wait, a sync copy, a callback
 * returning WAIT) asks the host's `block` hook to make progress (wasmd run: one turn of a
 * libuv loop) and traps "waits forever" when the hook says nothing can happen.
 *
 * Uses libc, the engine's public API and the Canonical ABI layer; knows nothing of the
 * event loop or of WASI.
 */
#ifndef WD_COMP_ASYNC_H
#define WD_COMP_ASYNC_H

#include <stdint.h>
#include "wd_comp.h"
#include "wd_cabi.h"

typedef struct wd_comp_async wd_comp_async_t;
typedef struct wd_comp_shared wd_comp_shared_t;   /* a stream's or future's shared state */
typedef struct wd_comp_subtask wd_comp_subtask_t;

/* EventCode, CopyResult, Subtask.State, CallbackCode of the reference */
enum { WD_EV_NONE = 0, WD_EV_SUBTASK = 1, WD_EV_STREAM_READ = 2, WD_EV_STREAM_WRITE = 3,
       WD_EV_FUTURE_READ = 4, WD_EV_FUTURE_WRITE = 5, WD_EV_TASK_CANCELLED = 6 };
enum { WD_COPY_COMPLETED = 0, WD_COPY_DROPPED = 1, WD_COPY_CANCELLED = 2 };
enum { WD_SUB_STARTING = 0, WD_SUB_STARTED = 1, WD_SUB_RETURNED = 2,
       WD_SUB_CANCELLED_BEFORE_STARTED = 3, WD_SUB_CANCELLED_BEFORE_RETURNED = 4 };
enum { WD_CB_EXIT = 0, WD_CB_YIELD = 1, WD_CB_WAIT = 2 };
#define WD_COMP_BLOCKED 0xffffffffu

/* The host's side of a stream or future end. Callbacks run inside a guest's built-in call
 * (do not call into the guest from them). */
typedef struct wd_comp_host_end {
    /* reader of a stream<u8> (or stream of plain elements): consume n elements of esize
       bytes; return how many were taken (0..n), or -1 to trap with *msg */
    long (*sink)(void *ud, const uint8_t *data, uint32_t n, const char **msg);
    /* writer of a stream: fill up to cap elements; return the count, 0 for "nothing now"
       (the guest's read stays pending until wd_comp_shared_wake), or -1 to trap */
    long (*source)(void *ud, uint8_t *buf, uint32_t cap, const char **msg);
    /* the guest dropped its end (writer gone: end of stream; reader gone) */
    void (*dropped)(void *ud);
    void *ud;
} wd_comp_host_end_t;

typedef struct {
    /* make progress on something the host waits for (one loop turn); 0 if something may
       have happened, -1 if nothing ever can (no timers, no I/O): the waiter traps */
    int (*block)(void *ud);
    void *ud;
} wd_comp_async_hooks_t;

wd_comp_async_t *wd_comp_async_new(wd_cabi_table_t *table, const wd_comp_async_hooks_t *hooks);
void wd_comp_async_free(wd_comp_async_t *a);
/* 1 if the table handle's type is one of the runtime's pseudo types */
int wd_comp_async_is(const wd_comp_resource_t *rt);
/* The message of the last trap (static or in a; valid until the next call). */
const char *wd_comp_async_trap(const wd_comp_async_t *a);

/* ---- built-ins: the core function of one `canon` async built-in (hf->kind BUILTIN), with
 *      its canonopts' memory/realloc bound; inst is where realloc runs ---- */
wd_wasm_func_t *wd_comp_async_builtin(wd_comp_async_t *a, wd_wasm_store_t *s,
                                      const wd_comp_hostfunc_t *hf,
                                      const wd_comp_bound_opts_t *bound, char *msg, size_t len);

/* ---- the current task: an async-lifted export being run by the host ---- */
/* Begin a task for lift l (its function type); the result given to task.return is lifted
 * into the runtime's arena: wd_comp_async_task_result(). */
int wd_comp_async_task_begin(wd_comp_async_t *a, const wd_comp_lift_t *l,
                             const wd_comp_bound_lift_t *bl, wd_wasm_instance_t *inst);
/* 1 once task.return was called; *result (may be NULL) the lifted value. */
int wd_comp_async_task_returned(const wd_comp_async_t *a, const wd_cabi_val_t **result);
/* Run the task's callback loop from the packed code its core export returned, until EXIT:
 * WAIT blocks (hooks) until its set has an event, YIELD passes NONE. 0 ok, -1 trap (message
 * in wd_comp_async_trap or the instance's last trap). */
int wd_comp_async_task_drive(wd_comp_async_t *a, wd_wasm_instance_t *inst, uint32_t packed);

/* ---- host ends ---- */
/* Lifting a stream/future handle gives the host the readable end (its table handle goes);
 * lowering one the host made adds a readable end to the guest's table. The values are
 * wd_comp_shared_t pointers in wd_cabi_val_t.u (see wd_cabi.h: cx->async). */
wd_comp_shared_t *wd_comp_shared_new(wd_comp_async_t *a, const wd_comp_type_t *t);
void wd_comp_shared_attach(wd_comp_shared_t *sh, const wd_comp_host_end_t *end);
/* host writes a future's value (copied with wd_cabi_store into a pending or later read; the
   value must stay valid until then: pass static or arena-independent values) */
int wd_comp_shared_future_set(wd_comp_shared_t *sh, const wd_cabi_val_t *v);
/* the host drops its end (a writer: end of stream; the guest's reads see DROPPED) */
void wd_comp_shared_host_drop(wd_comp_shared_t *sh);
/* the host end has new data or room: retry the guest's pending copy */
void wd_comp_shared_wake(wd_comp_shared_t *sh);

/* Subtasks of async-lowered host functions: the host function returns a subtask it resolves
 * later (wd_comp_subtask_resolve, from a timer or I/O callback). */
wd_comp_subtask_t *wd_comp_subtask_new(wd_comp_async_t *a);
/* the async lower's return value: RETURNED if already resolved (st freed), else
   STARTED | handle << 4 (st joins the guest's table); -1 trap */
int wd_comp_subtask_start(wd_comp_async_t *a, wd_comp_subtask_t *st, uint32_t *packed);
void wd_comp_subtask_on_cancel(wd_comp_subtask_t *st, void (*fn)(void *ud), void *ud);
void wd_comp_subtask_resolve(wd_comp_subtask_t *st);

/* the Canonical ABI layer's hooks (cx->async_lift / async_lower): a is the runtime */
int wd_comp_async_lift_handle(void *a, const wd_comp_type_t *t, uint32_t idx,
                              uint64_t *out, const char **msg);
int wd_comp_async_lower_handle(void *a, const wd_comp_type_t *t, uint64_t v,
                               uint32_t *idx, const char **msg);
/* sets cx->async and its hooks */
void wd_comp_async_cx(wd_comp_async_t *a, wd_cabi_cx_t *cx);

#endif /* WD_COMP_ASYNC_H */
