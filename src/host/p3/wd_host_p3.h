/*
 * wd_host_p3.h -- WASI 0.3 host interfaces for components (issue 19), bound per component
 * instance next to the 0.2.x ones of src/host/comp (one handle table: wd_host_comp.c makes
 * a wd_host_p3_t and hands every `@0.3.` import and every async built-in to it).
 *
 * Provided @0.3.0: wasi:cli/types|environment|exit|stdin|stdout|stderr|terminal-input|
 * terminal-output|terminal-stdin|terminal-stdout|terminal-stderr, wasi:clocks/types|
 * monotonic-clock|system-clock, wasi:random/random|insecure|insecure-seed. stdio is the
 * process's fds (wasmd run): stdout/stderr streams are written as the guest writes, stdin is
 * read when the guest reads. monotonic-clock.wait-until|wait-for are libuv timers: the task
 * waits (its waitable set) while the loop runs.
 *
 * The async runtime (src/component/wd_comp_async.h) of the instance lives here; its `block`
 * hook runs one turn of the libuv loop.
 */
#ifndef WD_HOST_P3_H
#define WD_HOST_P3_H

#include <uv.h>
#include "component/wd_comp.h"
#include "component/wd_cabi.h"
#include "component/wd_comp_async.h"

typedef struct wd_host_p3 wd_host_p3_t;

typedef struct {
    const char *const *args;      /* get-arguments (not copied) */
    size_t nargs;
    const char *const *env;       /* NAME=VALUE */
    size_t nenv;
    int stdio;                    /* 1: stdin/stdout/stderr are fds 0/1/2 */
} wd_host_p3_conf_t;

/* names with versions ("wasi:cli/stdout@0.3.0"), n in *n */
const char *const *wd_host_p3_interfaces(uint32_t *n);
/* 1 if iface (a matched host name) is one of ours */
int wd_host_p3_owns(const char *iface);

wd_host_p3_t *wd_host_p3_new(const wd_host_p3_conf_t *conf, wd_cabi_table_t *table);
void wd_host_p3_free(wd_host_p3_t *p);
wd_comp_async_t *wd_host_p3_async(wd_host_p3_t *p);

/* The core function for a `canon lower` of one of our interfaces or an async built-in;
 * p == NULL: only check that we provide it with that type. NULL with msg to refuse. */
wd_wasm_func_t *wd_host_p3_make(wd_host_p3_t *p, wd_wasm_store_t *s, const wd_comp_hostfunc_t *hf,
                                const char *iface, const wd_comp_bound_opts_t *bound,
                                char *msg, size_t len);

/* Run the wasi:cli/run@0.3.x#run export (lift l, bound bl) in inst to its end: the async
 * task, its callbacks while the loop runs the host's timers and I/O, until it exits.
 * Returns 0 and *status (0 ok, 1 err result), or -1 (trap: message in msg; an exit
 * requested by the guest is WD_TRAP_EXIT on inst, *status its code). */
int wd_host_p3_run(wd_host_p3_t *p, const wd_comp_lift_t *l, const wd_comp_bound_lift_t *bl,
                   wd_wasm_instance_t *inst, int *status, char *msg, size_t len);

#endif /* WD_HOST_P3_H */
