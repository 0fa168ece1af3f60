/*
 * wd_host_comp.h -- the host side for components: what a wasi:http component (or a
 * wasi:cli command component) imports, bound to one pooled component instance.
 *
 * Provided interfaces (any 0.2.x version binds, semver-compatibly, see
 * wd_comp_name_match): the wasi:http/proxy world (wasi:http/types, outgoing-handler,
 * wasi:io/streams|poll|error, wasi:clocks/monotonic-clock|wall-clock, wasi:random/random|
 * insecure|insecure-seed, wasi:cli/stdin|stdout|stderr) plus wasi:cli/environment|exit|
 * terminal-input|terminal-output|terminal-stdin|terminal-stdout|terminal-stderr and
 * wasi:filesystem/types|preopens, and wasi:keyvalue/store|atomics|batch@0.2.0-draft2 and
 * wasi:config/store@0.2.0-draft (src/host/kv, bound to wd_host_comp_conf_t.kv).
 *
 * One implementation serves core modules and components: the wasi:http world's functions
 * are src/host/http's (wd_host_http.h), bound here per `canon lower` to that binding's
 * canonopts memory and realloc; a component's request state, handle table (own/borrow of
 * host resources), limits and outcome are the ones of the wd_host_http_t this context owns.
 * Interfaces with no core-module counterpart (terminal-*, filesystem) are described as WIT
 * data (wd_comp_types.h) and served through the Canonical ABI layer (wd_cabi_host_call).
 *
 * Life of a pooled component instance (compserve's side):
 *   master:   c = wd_comp_load(...); wd_host_comp_check(c, &err)   (imports + handler export)
 *   worker:   hc = wd_host_comp_new(&conf);
 *             s = wd_wasm_store_new(); ci = wd_comp_instantiate(c, s, wd_host_comp_host(hc),
 *                                                               &limits, &err);
 *             wd_host_comp_attach(hc, c, ci, &err);       (finds incoming-handler#handle)
 *   request:  h = wd_host_comp_http(hc);  -- the per-request context hook: every host function
 *             of this instance finds the current request, its response-outparam, the backend
 *             and the limits through h, exactly as for a core module:
 *             wd_host_http_start(h, &req_head, &backend, be_data) / _resume / _cancel /
 *             _waiting / _outcome, then wd_host_comp_reset(hc) and the restore of every core
 *             instance (wd_comp_instance_core(ci, i)).
 *             Fuel / interrupt / yield: set them on wd_host_comp_thread(hc), the core instance
 *             the handle export is called in (all core instances share its stack).
 *   end:      wd_host_comp_free(hc) after wd_comp_instance_free(ci) and wd_wasm_store_free(s).
 */
#ifndef WD_HOST_COMP_H
#define WD_HOST_COMP_H

#include <stddef.h>
#include <stdint.h>
#include "wd_wasm.h"
#include "component/wd_comp.h"
#include "http/wd_host_http.h"
#include "kv/wd_host_kv.h"

typedef struct wd_host_comp wd_host_comp_t;

/* A preopened directory for wasi:filesystem/preopens (wasm_dir). */
typedef struct {
    const char *host_path;        /* directory on the host */
    const char *guest_path;       /* name the guest sees ("/data") */
    int rw;                       /* 0: read-only (writes fail with error-code read-only) */
} wd_host_comp_dir_t;

typedef struct {
    wd_host_http_conf_t http;     /* environment (wasi:cli/environment) */
    const wd_host_comp_dir_t *dirs;
    size_t ndirs;
    /* wasi:keyvalue stores and wasi:config values of the route (copied by value; the
       stores and strings must outlive the context); NULL: none (open answers
       no-such-store, config is empty) */
    const wd_host_kv_conf_t *kv;
} wd_host_comp_conf_t;

/* The interface names provided (versioned "wasi:io/streams@0.2.8"), n in *n. */
const char *const *wd_host_comp_interfaces(uint32_t *n);

/* Master side, before fork: every root import resolves against our interfaces and every
 * function of them is one we provide with the right type; the component exports
 * wasi:http/incoming-handler@0.2.x#handle or wasi:cli/run@0.2.x#run. 0 or -1 with err. */
int wd_host_comp_check(const wd_comp_t *c, wd_comp_error_t *err);
/* 1 if c exports wasi:http/incoming-handler@0.2.x#handle, 0 otherwise. */
int wd_host_comp_is_handler(const wd_comp_t *c);

wd_host_comp_t *wd_host_comp_new(const wd_host_comp_conf_t *conf);
void wd_host_comp_free(wd_host_comp_t *hc);

/* The resolver to pass to wd_comp_instantiate (valid while hc lives). */
const wd_comp_host_t *wd_host_comp_host(wd_host_comp_t *hc);

/* After wd_comp_instantiate: bind the incoming-handler export (its core function,
 * post-return) to the http context; for a command (wasi:cli/run#run), only the core
 * instance it runs in (call it yourself: wd_comp_instance_lift). 0 or -1 with err.
 * wasmd run: conf.http.stdio = 1 (stdin/stdout/stderr are fds 0/1/2, no request needed),
 * conf.http.args/nargs for get-arguments; exit / exit-with-code end the call with
 * WD_TRAP_EXIT and wd_wasm_exit_code() on wd_host_comp_thread(hc). */
int wd_host_comp_attach(wd_host_comp_t *hc, const wd_comp_t *c, wd_comp_instance_t *ci,
                        wd_comp_error_t *err);

/* The part of attach every instance needs (attach calls it): the destructors of resources
 * the component defines (canon resource.drop of an own handle runs them). */
int wd_host_comp_bind_instance(wd_host_comp_t *hc, const wd_comp_t *c, wd_comp_instance_t *ci,
                               wd_comp_error_t *err);

/* The request context of this instance: drive requests with wd_host_http_start & co. */
wd_host_http_t *wd_host_comp_http(wd_host_comp_t *hc);
/* Its wasi:keyvalue / wasi:config context (wake hook, waiting: see kv/wd_host_kv.h). */
wd_host_kv_t *wd_host_comp_kv(wd_host_comp_t *hc);
/* After each request (with the restore of every core instance): drops every handle of
 * host and guest resources and per-request state (calls wd_host_http_reset). */
void wd_host_comp_reset(wd_host_comp_t *hc);
/* WASI 0.3 and the component-model async runtime of this instance (src/host/p3):
 * wasmd run drives a wasi:cli/run@0.3.x command with wd_host_p3_run. */
struct wd_host_p3;
struct wd_host_p3 *wd_host_comp_p3(wd_host_comp_t *hc);
/* What the host holds for this instance: live handles of every kind (wasi:http objects and
 * the Canonical ABI table's: guest resources, descriptors, buckets) and open wasi:filesystem
 * descriptors in *fds. 0 and 0 after wd_host_comp_reset. (Tests, wasm_status.)
 * Guest resource destructors do not run at reset: every handle is dropped by the host, and
 * what a destructor would free lives in the guest's memories, globals and tables, which the
 * restore returns to the snapshot; its only other effects would be host calls on handles
 * the reset drops anyway (t/component/test_comp_host.c test_reset_no_leak). */
uint32_t wd_host_comp_live_handles(wd_host_comp_t *hc, uint32_t *fds);
/* The core instance the export runs in (fuel, interrupt, yield, traps). */
wd_wasm_instance_t *wd_host_comp_thread(wd_host_comp_t *hc);

#endif /* WD_HOST_COMP_H */
