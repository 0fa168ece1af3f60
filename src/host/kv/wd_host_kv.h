/*
 * wd_host_kv.h -- wasi:keyvalue@0.2.0-draft2 (store, atomics, batch) and
 * wasi:config@0.2.0-draft (store): host functions written once, against WIT-level values
 * (wd_cabi_host_fn), serving core modules and components alike.
 *
 *   - The WIT functions and their types are data (wd_comp_types.h), laid out once.
 *   - Core modules import the Canonical ABI lowering ("wasi:keyvalue/store@0.2.0-draft2"
 *     "[method]bucket.get", ...): wd_host_kv_link binds each import through
 *     wd_cabi_host_call with the module's `memory` and `cabi_realloc` (wd_host_kv_attach)
 *     and a handle table of this context (buckets and cas handles, freed on reset).
 *   - Components: wd_host_kv_find(iface, name) gives the same wd_cabi_host_fn; call it with
 *     ud = the wd_host_kv_t of the instance (cx->table is the component's table; reps of
 *     bucket/cas are this context's).
 *
 * Storage is behind wd_kv_ops_t, given by a backend (wd_kv_backend_t: wd_host_kv_lmdb.c,
 * wd_host_kv_redis.c), which modules/wasm (keyvalue_store) and `wasmd run` (--keyvalue)
 * use. Every call may suspend (see wd_host_kv_set_wake); swap, which takes an own<cas>,
 * puts the handle back before suspending, so the engine's re-invocation lifts it again.
 * Resources: bucket rep = store index + 1 (no state: opening a store 100,000 times only
 * fills the bounded handle table); cas rep = slot + 1 of WD_HOST_KV_MAX_CAS slots (key and
 * the value seen), freed by swap, drop or reset.
 */
#ifndef WD_HOST_KV_H
#define WD_HOST_KV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "wd_wasm.h"
#include "component/wd_cabi.h"

#define WD_HOST_KV_MAX_CAS      64
#define WD_HOST_KV_MAX_HANDLES  4096
#define WD_HOST_KV_LIST_PAGE    1000    /* keys per list-keys page */

/* One storage operation, with its inputs (copies owned by the host until it completes) and
 * its results (filled by the backend; v, keys and cursor malloc'd, freed by the host). */
typedef enum {
    WD_KV_OP_GET = 0,   /* rc 1 found (v, vl), 0 not found */
    WD_KV_OP_SET,       /* key = val */
    WD_KV_OP_DEL,       /* absent keys are fine */
    WD_KV_OP_LIST,      /* keys after cursor (key: NULL from the start), at most max; rc 0 */
    WD_KV_OP_INCR,      /* ASCII decimal (absent: 0) + delta, stored back; out = new value */
    WD_KV_OP_CAS        /* set val if the value is exactly (had, old): rc 1 swapped, 0 changed */
} wd_kv_opcode_t;

typedef struct {
    wd_kv_opcode_t op;
    const char *key;              /* list: the cursor (NULL: first page) */
    size_t kl;
    const void *val, *old;
    size_t vl, oldl;
    int had;
    int64_t delta;
    size_t max;                   /* list: keys per page */
    /* results */
    int rc;                       /* -1: failed, err says why */
    void *v;                      /* get: the value */
    size_t rvl;
    int64_t out;                  /* incr */
    char *keys;                   /* list: nkeys keys, each a u32 length then its bytes */
    size_t keys_len;
    uint32_t nkeys;
    char *cursor;                 /* list: where the next page starts (NULL: last page) */
    size_t cursor_len;
    char err[200];
} wd_kv_op_t;

typedef void (*wd_kv_done_fn)(void *u);

/* A backend. exec runs one op now (NULL: the backend is asynchronous only). submit starts
 * n ops (NULL: exec only): returns 1 if they are all complete already, 0 if done(u) will be
 * called once, later, from the worker's loop, after all of them completed (the ops stay
 * valid until then, even if the request that asked for them is gone). Storage never makes
 * the loop wait: what cannot complete at once goes through submit. */
typedef struct {
    void (*exec)(void *sd, wd_kv_op_t *op);
    int (*submit)(void *sd, wd_kv_op_t *ops, uint32_t n, wd_kv_done_fn done, void *u);
} wd_kv_ops_t;

/* ---------------------------------------------------------------- backends
 * A kind of store: how `keyvalue_store NAME KIND LOCATION [PARAM=VALUE...]` (and `wasmd run
 * --keyvalue`) is read, what must exist before any process uses the store, and what each
 * process opens on its loop. One file each: wd_host_kv_lmdb.c, wd_host_kv_redis.c. The
 * embedder (modules/wasm's directives, `wasmd run`) holds a store as (backend, conf, data)
 * and gives wd_host_kv_store_t { ops, data } to the host functions. */
typedef struct {
    /* the process's loop, asked for when needed (a worker's exists only after its init);
       NULL, or NULL returned: none (synchronous exec only) */
    uv_loop_t *(*loop)(void *ud);
    void (*log)(void *ud, const char *msg);   /* NULL: stderr */
    void *ud;
} wd_kv_env_t;
/* the loop of env, or NULL */
uv_loop_t *wd_kv_env_loop(const wd_kv_env_t *env);
/* a line for the error log (stderr without a log hook) */
void wd_kv_env_log(const wd_kv_env_t *env, const char *msg);

typedef struct {
    const char *name;             /* "lmdb", "redis" */
    const char *location;         /* what LOCATION is, for messages: "a directory", ... */
    unsigned is_path:1;           /* LOCATION is a directory the store's processes must be
                                     able to read and write (relative: the embedder resolves it) */
    size_t conf_size;             /* bytes of conf (zeroed by the embedder, filled by parse) */
    /* LOCATION and the PARAM=VALUE words: 0, or -1 with msg */
    int (*parse)(void *conf, const char *location, const char *const *params, size_t nparams,
                 char *msg, size_t msglen);
    /* before any process opens the store (the master, once): create what must exist and,
       when uid >= 0, give it to uid:gid. NULL: nothing to do. 0, or -1 with msg. */
    int (*create)(void *conf, long uid, long gid, const wd_kv_env_t *env, char *msg,
                  size_t msglen);
    /* in the process that uses the store (a worker after the fork): its data for ops */
    void *(*open)(void *conf, const wd_kv_env_t *env, char *msg, size_t msglen);
    /* before the loop closes: its handles closed, operations in flight failed (or NULL) */
    void (*shutdown)(void *data);
    void (*close)(void *data);
    const wd_kv_ops_t *ops;
} wd_kv_backend_t;

extern const wd_kv_backend_t wd_kv_lmdb_backend;
extern const wd_kv_backend_t wd_kv_redis_backend;
/* by name ("lmdb", "redis"), or NULL */
const wd_kv_backend_t *wd_kv_backend_find(const char *name, size_t len);
/* SIZE (k/m/g suffixes) and TIME (ms, s, m, h, d; a bare number is seconds) as the
   configuration writes them: -1 if malformed */
int64_t wd_kv_parse_size(const char *s);
int64_t wd_kv_parse_ms(const char *s);

typedef struct {
    const char *name;
    const wd_kv_ops_t *ops;       /* NULL: the store exists but is not usable here */
    void *data;
    int granted;                  /* the route may open it */
} wd_host_kv_store_t;

typedef struct {
    const wd_host_kv_store_t *stores;
    size_t nstores;
    size_t key_max, value_max;    /* 0: 256, 1 MiB */
    const char *const *config;    /* wasi:config: KEY=VALUE strings */
    size_t nconfig;
} wd_host_kv_conf_t;

typedef struct wd_host_kv wd_host_kv_t;

wd_host_kv_t *wd_host_kv_new(const wd_host_kv_conf_t *conf);
void wd_host_kv_free(wd_host_kv_t *kv);
/* after each request: drops every handle and cas slot; an operation still in progress is
 * left to finish on its own (its result is dropped) */
void wd_host_kv_reset(wd_host_kv_t *kv);
/* Asynchronous backends: a host function whose operation cannot complete at once returns
 * WD_CABI_SUSPEND (core modules: WD_WASM_HOST_SUSPEND) and remembers the operation; when
 * it completes, wake(ud) is called from the loop and the engine's re-invocation of the same
 * function (same arguments) returns its result. Without a wake hook (no event loop), stores
 * that need one answer other("..."). */
void wd_host_kv_set_wake(wd_host_kv_t *kv, void (*wake)(void *ud), void *ud);
/* 1 while a suspended call waits for its operation (the embedder waits for wake). */
int wd_host_kv_waiting(const wd_host_kv_t *kv);

/* 1 if the import module name is one of our interfaces (versioned or not). */
int wd_host_kv_owns(const char *module, size_t mlen);

/* Core modules. 1 if (module, name) is an import of ours with this core type, 0 if the
 * module is not one of our interfaces, -1 (msg) if it is ours but the name or type is not. */
int wd_host_kv_check_import(const wd_wasm_import_desc_t *d, char *msg, size_t msglen);
/* Fill imports[i] for our imports of m (others untouched). 0 or -1 with msg. */
int wd_host_kv_link(wd_host_kv_t *kv, wd_wasm_store_t *s, const wd_wasm_module_t *m,
                    wd_wasm_extern_t *imports, char *msg, size_t msglen);
/* After instantiation: memory and cabi_realloc of inst. 0 or -1 with msg (only when the
 * module imports one of ours and lacks them). */
int wd_host_kv_attach(wd_host_kv_t *kv, wd_wasm_instance_t *inst, char *msg, size_t msglen);

/* Components: the WIT-level function for iface (any version suffix) # name, or NULL;
 * *known set when iface is one of ours. Call with ud = the wd_host_kv_t. */
wd_cabi_host_fn wd_host_kv_find(const char *iface, const char *name, int *known);
/* The WIT function type of iface # name (laid out), or NULL: a component's lowering is
 * checked against it before binding. */
const wd_comp_func_type_t *wd_host_kv_func_type(const char *iface, const char *name);
/* Components: [resource-drop]NAME of an own handle (resource "bucket" or "cas") whose rep
 * is rep: frees what it holds (a cas slot). */
void wd_host_kv_drop(wd_host_kv_t *kv, const char *resource, uint32_t rep);
/* Interface names provided ("wasi:keyvalue/store@0.2.0-draft2", ...), n in *n. */
const char *const *wd_host_kv_interfaces(uint32_t *n);

#endif
