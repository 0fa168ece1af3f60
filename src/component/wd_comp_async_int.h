/*
 * wd_comp_async_int.h -- internals of the async runtime (wd_comp_task.c: objects, waitable
 * sets, subtasks, the task, built-in dispatch; wd_comp_stream.c: streams and futures).
 */
#ifndef WD_COMP_ASYNC_INT_H
#define WD_COMP_ASYNC_INT_H

#include "wd_comp_async.h"

/* object kinds (one pseudo resource type each in the handle table) */
enum { WD_AO_WSET = 0, WD_AO_SUBTASK, WD_AO_STREAM_R, WD_AO_STREAM_W, WD_AO_FUTURE_R,
       WD_AO_FUTURE_W, WD_AO_ERROR, WD_AO__COUNT };
/* CopyState */
enum { WD_CS_IDLE = 1, WD_CS_COPYING, WD_CS_CANCELLING, WD_CS_DONE };

typedef struct wd_comp_obj wd_comp_obj_t;
struct wd_comp_obj {
    uint8_t kind;                 /* WD_AO_* */
    uint8_t live;                 /* slot in use */
    uint32_t slot;                /* index in a->objs (the table handle's rep) */
    uint32_t handle;              /* index in the guest's table, 0: not the guest's */
    /* Waitable */
    wd_comp_obj_t *wset;          /* the set it joined, or NULL */
    uint8_t has_event, sync_waiter;
    uint32_t ev_code, ev_payload; /* pending event (p1 is `handle` at delivery) */
    uint8_t ev_result;            /* copy ends: the CopyResult the event reports */
    /* WaitableSet */
    uint32_t num_waiting;
    /* Subtask */
    uint8_t state, delivered, cancel_requested;
    void (*on_cancel)(void *ud);
    void *cancel_ud;
    /* CopyEnd */
    uint8_t cstate;
    wd_comp_shared_t *shared;
    /* error context */
    char *msg;
    uint32_t msglen;
};

struct wd_comp_shared {
    wd_comp_async_t *a;
    wd_comp_shared_t *prev, *next;   /* every live one of the runtime (freed with it) */
    const wd_comp_type_t *t;      /* the stream/future type (elem may be NULL) */
    uint8_t future;
    uint8_t dropped;              /* one end was dropped */
    uint8_t has_host;             /* the host holds one end (host) */
    uint8_t host_reads;           /* ... and it is the readable one */
    wd_comp_host_end_t host;
    /* the pending guest copy (SharedStreamImpl.pending_*) */
    wd_comp_obj_t *pend;          /* the end waiting, or NULL */
    uint8_t pend_read;            /* it is a read */
    wd_wasm_memory_t *mem;
    wd_wasm_func_t *realloc;
    uint8_t enc;
    uint32_t ptr, len, progress;
    /* a future's value set by the host before any read */
    uint8_t fval_set;
    wd_cabi_val_t fval, fpay;
    uint32_t ends;                /* ends still alive (guest objects + the host's) */
};

struct wd_comp_async {
    wd_cabi_table_t *table;
    wd_comp_async_hooks_t hooks;
    wd_comp_obj_t **objs;
    uint32_t nobjs, capobjs, free_hint;
    wd_cabi_arena_t arena;        /* task.return's result, future values */
    void **binds;                 /* built-in bindings (freed with the runtime) */
    wd_comp_shared_t *shared_all;
    uint32_t nbinds, capbinds;
    wd_wasm_func_t *cb;           /* the task's callback, or NULL (stackful) */
    /* the current task */
    uint8_t in_task, returned, cancelled;
    const wd_comp_lift_t *lift;
    wd_wasm_memory_t *task_mem;
    wd_wasm_func_t *task_realloc;
    wd_wasm_instance_t *inst;
    wd_cabi_val_t result;
    uint8_t has_result;
    uint32_t context[2];
    uint32_t backpressure;
    const char *trap;
    char trapbuf[160];
};

int wd_ao_trap(wd_comp_async_t *a, const char *fmt, ...);
wd_comp_obj_t *wd_ao_new(wd_comp_async_t *a, uint8_t kind);
void wd_ao_free(wd_comp_async_t *a, wd_comp_obj_t *o);
int wd_ao_add(wd_comp_async_t *a, wd_comp_obj_t *o, uint32_t *idx);
wd_comp_obj_t *wd_ao_get(wd_comp_async_t *a, uint32_t idx, int kind);
wd_comp_obj_t *wd_ao_remove(wd_comp_async_t *a, uint32_t idx, int kind);
void wd_ao_set_event(wd_comp_obj_t *o, uint32_t code, uint32_t payload);
/* deliver o's pending event: state transitions of get_pending_event; fills code/p1/p2 */
void wd_ao_take_event(wd_comp_obj_t *o, uint32_t *code, uint32_t *p1, uint32_t *p2);
/* Waitable.wait_for_pending_event for a synchronous call: blocks through the hooks */
int wd_ao_wait_event(wd_comp_async_t *a, wd_comp_obj_t *o);
void wd_ao_join(wd_comp_obj_t *o, wd_comp_obj_t *wset);

/* wd_comp_stream.c: the stream/future built-ins (hf->builtin 0x0e..0x1b); args/results as
   the engine passes them */
int wd_comp_stream_builtin(wd_comp_async_t *a, const wd_comp_hostfunc_t *hf,
                           const wd_comp_bound_opts_t *bound, wd_wasm_instance_t *caller,
                           const uint64_t *args, uint64_t *res);
/* drop of a guest end object (not in the table any more) */
int wd_comp_end_drop(wd_comp_async_t *a, wd_comp_obj_t *e);
void wd_sh_free(wd_comp_shared_t *sh);

#endif /* WD_COMP_ASYNC_INT_H */
