/*
 * wd_host_p3.c -- WASI 0.3 interfaces (wd_host_p3.h): WIT-level functions through the
 * Canonical ABI layer with the instance's async runtime (streams and futures as handles),
 * async lowers of the clock waits as subtasks resolved by libuv timers, and the driver of a
 * wasi:cli/run@0.3.x command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "wd_host_p3.h"

static const char *const wd_p3_names[] = {
    "wasi:cli/types@0.3.0", "wasi:cli/environment@0.3.0", "wasi:cli/exit@0.3.0",
    "wasi:cli/stdin@0.3.0", "wasi:cli/stdout@0.3.0", "wasi:cli/stderr@0.3.0",
    "wasi:cli/terminal-input@0.3.0", "wasi:cli/terminal-output@0.3.0",
    "wasi:cli/terminal-stdin@0.3.0", "wasi:cli/terminal-stdout@0.3.0",
    "wasi:cli/terminal-stderr@0.3.0",
    "wasi:clocks/types@0.3.0", "wasi:clocks/monotonic-clock@0.3.0",
    "wasi:clocks/system-clock@0.3.0",
    "wasi:random/random@0.3.0", "wasi:random/insecure@0.3.0", "wasi:random/insecure-seed@0.3.0",
};
#define WD_P3_NNAMES (uint32_t)(sizeof wd_p3_names / sizeof wd_p3_names[0])

const char *const *
wd_host_p3_interfaces(uint32_t *n)
{
    *n = WD_P3_NNAMES;
    return wd_p3_names;
}

int
wd_host_p3_owns(const char *iface)
{
    for (uint32_t i = 0; i < WD_P3_NNAMES; i++)
        if (strcmp(iface, wd_p3_names[i]) == 0)
            return 1;
    return 0;
}

typedef struct wd_p3_timer wd_p3_timer_t;

struct wd_host_p3 {
    wd_host_p3_conf_t conf;
    wd_cabi_table_t *table;
    wd_comp_async_t *async;
    wd_cabi_arena_t arena;
    uv_loop_t loop;
    uint8_t loop_ok;
    uint64_t seed[2];
    struct wd_p3_bind *binds;
    wd_p3_timer_t *timers;
    /* stdout / stderr sinks, stdin sources */
    struct wd_p3_out *outs;
    struct wd_p3_in *ins;
};

typedef struct wd_p3_bind wd_p3_bind_t;
typedef wd_cabi_rc_t (*wd_p3_fn)(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                 wd_cabi_val_t *result);

struct wd_p3_bind {
    wd_p3_bind_t *next;
    wd_host_p3_t *p;
    const wd_comp_hostfunc_t *hf;
    wd_p3_fn fn;
    int arg;                      /* fn's own selector (fd, which clock, ...) */
    wd_wasm_memory_t *mem;
    wd_wasm_func_t *realloc;
};

struct wd_p3_timer {
    uv_timer_t t;
    wd_p3_timer_t *next;
    wd_comp_subtask_t *st;
    uint8_t fired, closed;
};

/* a stdout/stderr stream the host reads, and the result future it resolves at its end */
typedef struct wd_p3_out {
    struct wd_p3_out *next;
    wd_host_p3_t *p;
    int fd;
    uint8_t failed;
    wd_comp_shared_t *data, *result;
} wd_p3_out_t;

/* ---------------------------------------------------------------- time */

static uint64_t
wd_p3_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- functions */

static wd_cabi_rc_t
wd_p3_get_arguments(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    const wd_host_p3_conf_t *c = &b->p->conf;
    wd_cabi_val_t *v = wd_cabi_arena_alloc(cx->arena, (c->nargs + 1) * sizeof *v, 8);
    if (v == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    for (size_t i = 0; i < c->nargs; i++)
        v[i] = wd_cabi_v_str(c->args[i], (uint32_t)strlen(c->args[i]));
    *r = wd_cabi_v_vals(WD_CT_LIST, v, (uint32_t)c->nargs);
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_get_environment(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    const wd_host_p3_conf_t *c = &b->p->conf;
    wd_cabi_val_t *v = wd_cabi_arena_alloc(cx->arena, (c->nenv + 1) * 3 * sizeof *v, 8);
    uint32_t n = 0;
    if (v == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    wd_cabi_val_t *kv = v + c->nenv + 1;
    for (size_t i = 0; i < c->nenv; i++) {
        const char *e = c->env[i], *eq = strchr(e, '=');
        if (eq == NULL)
            continue;
        kv[2 * n] = wd_cabi_v_str(e, (uint32_t)(eq - e));
        kv[2 * n + 1] = wd_cabi_v_str(eq + 1, (uint32_t)strlen(eq + 1));
        v[n] = wd_cabi_v_vals(WD_CT_TUPLE, &kv[2 * n], 2);
        n++;
    }
    *r = wd_cabi_v_vals(WD_CT_LIST, v, n);
    return WD_CABI_OK;
}

/* option<...> none: get-initial-cwd, get-terminal-* */
static wd_cabi_rc_t
wd_p3_none(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    *r = wd_cabi_v_case(WD_CT_OPTION, 0, NULL);
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_exit(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    int code = b->arg ? (int)(args[0].u & 0xff) : args[0].n == 0 ? 0 : 1;
    fflush(stdout);
    wd_wasm_host_exit(cx->inst, code);
    return wd_cabi_trap(cx, "exit"), WD_CABI_TRAP;
}

static wd_cabi_rc_t
wd_p3_random_bytes(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    uint64_t n = args[0].u;
    uint8_t *buf;
    if (n > (1u << 24))
        return wd_cabi_trap(cx, "get-random-bytes: more than 16 MiB asked"), WD_CABI_TRAP;
    if ((buf = wd_cabi_arena_alloc(cx->arena, n ? n : 1, 1)) == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    for (size_t got = 0; got < n;) {
        ssize_t k = getrandom(buf + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return wd_cabi_trap(cx, "getrandom failed"), WD_CABI_TRAP;
        }
        got += (size_t)k;
    }
    *r = wd_cabi_v_bytes(buf, (uint32_t)n);
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_random_u64(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    uint64_t v = 0;
    while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        if (errno != EINTR)
            return wd_cabi_trap(cx, "getrandom failed"), WD_CABI_TRAP;
    *r = wd_cabi_v_u(WD_CT_U64, v);
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_insecure_seed(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    wd_cabi_val_t *v = wd_cabi_arena_alloc(cx->arena, 2 * sizeof *v, 8);
    if (v == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    v[0] = wd_cabi_v_u(WD_CT_U64, b->p->seed[0]);
    v[1] = wd_cabi_v_u(WD_CT_U64, b->p->seed[1]);
    *r = wd_cabi_v_vals(WD_CT_TUPLE, v, 2);
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_mono_now(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    *r = wd_cabi_v_u(WD_CT_U64, wd_p3_mono_ns());
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_resolution(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    *r = wd_cabi_v_u(WD_CT_U64, 1);
    return WD_CABI_OK;
}

static wd_cabi_rc_t
wd_p3_system_now(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    struct timespec ts;
    wd_cabi_val_t *v = wd_cabi_arena_alloc(cx->arena, 2 * sizeof *v, 8);
    if (v == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    clock_gettime(CLOCK_REALTIME, &ts);
    v[0] = wd_cabi_v_s(WD_CT_S64, ts.tv_sec);
    v[1] = wd_cabi_v_u(WD_CT_U32, (uint64_t)ts.tv_nsec);
    *r = wd_cabi_v_vals(WD_CT_RECORD, v, 2);
    return WD_CABI_OK;
}

/* ---- stdout / stderr: write-via-stream(data: stream<u8>) -> future<result<_, error-code>> */

static long
wd_p3_out_sink(void *ud, const uint8_t *data, uint32_t n, const char **msg)
{
    wd_p3_out_t *o = ud;
    uint32_t done = 0;
    while (done < n) {
        ssize_t k = write(o->fd, data + done, n - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            o->failed = 1;
            return done ? (long)done : (long)n;   /* the bytes are gone; the future says so */
        }
        done += (uint32_t)k;
    }
    return (long)done;
}

static void
wd_p3_out_dropped(void *ud)
{
    wd_p3_out_t *o = ud;
    static wd_cabi_val_t err_pipe = { .kind = WD_CT_ENUM, .n = 2 };
    wd_cabi_val_t v = wd_cabi_v_case(WD_CT_RESULT, o->failed ? 1 : 0, o->failed ? &err_pipe : NULL);
    if (o->result) {
        wd_comp_shared_future_set(o->result, &v);
        wd_comp_shared_host_drop(o->result);
        o->result = NULL;
    }
    wd_comp_shared_host_drop(o->data);
    o->data = NULL;
}

static wd_cabi_rc_t
wd_p3_write_via_stream(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    wd_host_p3_t *p = b->p;
    const wd_comp_func_type_t *ft = b->hf->type;
    wd_comp_shared_t *data = (wd_comp_shared_t *)(uintptr_t)args[0].u;
    wd_p3_out_t *o = wd_wasm_calloc(1, sizeof *o);
    if (o == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    o->p = p;
    o->fd = b->arg;
    o->data = data;
    o->result = wd_comp_shared_new(p->async, ft->result);
    if (o->result == NULL) {
        wd_wasm_free(o);
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    }
    o->next = p->outs;
    p->outs = o;
    wd_comp_host_end_t end = { .sink = wd_p3_out_sink, .dropped = wd_p3_out_dropped, .ud = o };
    wd_comp_shared_attach(data, &end);
    r->kind = WD_CT_FUTURE;
    r->u = (uint64_t)(uintptr_t)o->result;
    return WD_CABI_OK;
}

/* ---- stdin: read-via-stream() -> tuple<stream<u8>, future<result<_, error-code>>> */

typedef struct wd_p3_in {
    struct wd_p3_in *next;
    wd_host_p3_t *p;
    wd_comp_shared_t *data, *result;
    uint8_t done;
} wd_p3_in_t;

static void
wd_p3_in_end(wd_p3_in_t *in, int failed)
{
    static wd_cabi_val_t err_io = { .kind = WD_CT_ENUM, .n = 0 };
    wd_cabi_val_t v = wd_cabi_v_case(WD_CT_RESULT, failed ? 1 : 0, failed ? &err_io : NULL);
    if (in->done)
        return;
    in->done = 1;
    wd_comp_shared_future_set(in->result, &v);
    wd_comp_shared_host_drop(in->result);
    wd_comp_shared_host_drop(in->data);
}

static long
wd_p3_in_source(void *ud, uint8_t *buf, uint32_t cap, const char **msg)
{
    wd_p3_in_t *in = ud;
    ssize_t k;
    if (in->done)
        return 0;
    if (!in->p->conf.stdio) {
        wd_p3_in_end(in, 0);
        return 0;
    }
    do
        k = read(0, buf, cap);
    while (k < 0 && errno == EINTR);
    if (k <= 0) {
        wd_p3_in_end(in, k < 0);
        return 0;
    }
    return (long)k;
}

static void
wd_p3_in_dropped(void *ud)
{
    wd_p3_in_t *in = ud;
    in->done = 1;
}

static wd_cabi_rc_t
wd_p3_read_via_stream(wd_p3_bind_t *b, wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *r)
{
    wd_host_p3_t *p = b->p;
    const wd_comp_type_t *tt = b->hf->type->result;
    wd_p3_in_t *in;
    wd_cabi_val_t *v;
    if (tt == NULL || tt->kind != WD_CT_TUPLE || tt->n != 2 || tt->fields[0].type->kind != WD_CT_STREAM
        || tt->fields[1].type->kind != WD_CT_FUTURE)
        return wd_cabi_trap(cx, "read-via-stream: not the WIT's type"), WD_CABI_TRAP;
    v = wd_cabi_arena_alloc(cx->arena, 2 * sizeof *v, 8);
    if (v == NULL || (in = wd_wasm_calloc(1, sizeof *in)) == NULL)   /* outlives the call */
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    in->p = p;
    in->next = p->ins;
    p->ins = in;
    in->data = wd_comp_shared_new(p->async, tt->fields[0].type);
    in->result = wd_comp_shared_new(p->async, tt->fields[1].type);
    if (in->data == NULL || in->result == NULL)
        return wd_cabi_trap(cx, "out of memory"), WD_CABI_TRAP;
    wd_comp_host_end_t end = { .source = wd_p3_in_source, .dropped = wd_p3_in_dropped, .ud = in };
    wd_comp_shared_attach(in->data, &end);
    v[0].kind = WD_CT_STREAM;
    v[0].u = (uint64_t)(uintptr_t)in->data;
    v[1].kind = WD_CT_FUTURE;
    v[1].u = (uint64_t)(uintptr_t)in->result;
    *r = wd_cabi_v_vals(WD_CT_TUPLE, v, 2);
    return WD_CABI_OK;
}

/* ---------------------------------------------------------------- WIT-level call */

static wd_cabi_rc_t
wd_p3_fn_tramp(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *result, void *ud)
{
    wd_p3_bind_t *b = ud;
    return b->fn(b, cx, args, result);
}

static wd_wasm_host_rc_t
wd_p3_call(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    wd_p3_bind_t *b = ud;
    wd_cabi_cx_t cx;
    memset(&cx, 0, sizeof cx);
    cx.mem = b->mem;
    cx.realloc = b->realloc;
    cx.enc = b->hf->opts.string_encoding;
    cx.inst = caller;
    cx.arena = &b->p->arena;
    cx.table = b->p->table;
    wd_comp_async_cx(b->p->async, &cx);
    wd_cabi_rc_t rc = wd_cabi_host_call(&cx, b->hf->type, args, results, wd_p3_fn_tramp, b);
    if (rc == WD_CABI_OK)
        return WD_WASM_HOST_OK;
    if (wd_wasm_last_trap(caller) && rc == WD_CABI_TRAP && cx.trap && strcmp(cx.trap, "exit") == 0)
        return WD_WASM_HOST_TRAP;              /* wd_wasm_host_exit set WD_TRAP_EXIT */
    char msg[240];
    snprintf(msg, sizeof msg, "%s#%s: %s", b->hf->interface ? b->hf->interface : "",
             b->hf->name ? b->hf->name : "", cx.trap ? cx.trap : "trap");
    wd_wasm_host_trap(caller, msg);
    return WD_WASM_HOST_TRAP;
}

/* ---- monotonic-clock.wait-until|wait-for: async lower (i64) -> i32, or sync (i64) -> () */

static void
wd_p3_timer_closed(uv_handle_t *h)
{
    ((wd_p3_timer_t *)h->data)->closed = 1;
}

static void
wd_p3_timer_fire(uv_timer_t *t)
{
    wd_p3_timer_t *pt = t->data;
    pt->fired = 1;
    if (pt->st)
        wd_comp_subtask_resolve(pt->st);
    uv_close((uv_handle_t *)t, wd_p3_timer_closed);
}

static void
wd_p3_timer_cancel(void *ud)
{
    wd_p3_timer_t *pt = ud;
    if (!pt->fired) {
        pt->fired = 1;
        uv_timer_stop(&pt->t);
        wd_comp_subtask_resolve(pt->st);
        uv_close((uv_handle_t *)&pt->t, wd_p3_timer_closed);
    }
}

static wd_wasm_host_rc_t
wd_p3_wait(wd_wasm_instance_t *caller, const uint64_t *args, uint64_t *results, void *ud)
{
    wd_p3_bind_t *b = ud;
    wd_host_p3_t *p = b->p;
    uint64_t now = wd_p3_mono_ns(), ns = b->arg ? args[0] : (args[0] > now ? args[0] - now : 0);
    if (!p->loop_ok && b->hf->opts.async && ns > 0)     /* made at the first wait: an instance */
        p->loop_ok = uv_loop_init(&p->loop) == 0;       /* that never waits costs no descriptor */
    if (!b->hf->opts.async) {                 /* a synchronous lower blocks this call */
        struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        return WD_WASM_HOST_OK;
    }
    if (ns == 0) {
        results[0] = WD_SUB_RETURNED;
        return WD_WASM_HOST_OK;
    }
    wd_p3_timer_t *pt = wd_wasm_calloc(1, sizeof *pt);
    wd_comp_subtask_t *st = pt ? wd_comp_subtask_new(p->async) : NULL;
    uint32_t packed;
    if (st == NULL || !p->loop_ok) {
        wd_wasm_free(pt);
        wd_wasm_host_trap(caller, p->loop_ok ? "monotonic-clock wait: out of memory"
                                              : "monotonic-clock wait: no event loop");
        return WD_WASM_HOST_TRAP;
    }
    pt->st = st;
    pt->next = p->timers;
    p->timers = pt;
    uv_timer_init(&p->loop, &pt->t);
    pt->t.data = pt;
    uv_timer_start(&pt->t, wd_p3_timer_fire, (ns + 999999) / 1000000, 0);
    wd_comp_subtask_on_cancel(st, wd_p3_timer_cancel, pt);
    if (wd_comp_subtask_start(p->async, st, &packed) < 0) {
        wd_wasm_host_trap(caller, wd_comp_async_trap(p->async));
        return WD_WASM_HOST_TRAP;
    }
    results[0] = packed;
    return WD_WASM_HOST_OK;
}

/* ---------------------------------------------------------------- binding */

typedef struct {
    const char *iface;            /* without version */
    const char *name;
    wd_p3_fn fn;
    int arg;
} wd_p3_func_t;

static const wd_p3_func_t wd_p3_funcs[] = {
    { "wasi:cli/environment", "get-arguments", wd_p3_get_arguments, 0 },
    { "wasi:cli/environment", "get-environment", wd_p3_get_environment, 0 },
    { "wasi:cli/environment", "get-initial-cwd", wd_p3_none, 0 },
    { "wasi:cli/exit", "exit", wd_p3_exit, 0 },
    { "wasi:cli/exit", "exit-with-code", wd_p3_exit, 1 },
    { "wasi:cli/stdin", "read-via-stream", wd_p3_read_via_stream, 0 },
    { "wasi:cli/stdout", "write-via-stream", wd_p3_write_via_stream, 1 },
    { "wasi:cli/stderr", "write-via-stream", wd_p3_write_via_stream, 2 },
    { "wasi:cli/terminal-stdin", "get-terminal-stdin", wd_p3_none, 0 },
    { "wasi:cli/terminal-stdout", "get-terminal-stdout", wd_p3_none, 0 },
    { "wasi:cli/terminal-stderr", "get-terminal-stderr", wd_p3_none, 0 },
    { "wasi:clocks/monotonic-clock", "now", wd_p3_mono_now, 0 },
    { "wasi:clocks/monotonic-clock", "get-resolution", wd_p3_resolution, 0 },
    { "wasi:clocks/monotonic-clock", "wait-until", NULL, 0 },
    { "wasi:clocks/monotonic-clock", "wait-for", NULL, 1 },
    { "wasi:clocks/system-clock", "now", wd_p3_system_now, 0 },
    { "wasi:clocks/system-clock", "get-resolution", wd_p3_resolution, 0 },
    { "wasi:random/random", "get-random-bytes", wd_p3_random_bytes, 0 },
    { "wasi:random/random", "get-random-u64", wd_p3_random_u64, 0 },
    { "wasi:random/insecure", "get-insecure-random-bytes", wd_p3_random_bytes, 0 },
    { "wasi:random/insecure", "get-insecure-random-u64", wd_p3_random_u64, 0 },
    { "wasi:random/insecure-seed", "get-insecure-seed", wd_p3_insecure_seed, 0 },
};

static const wd_p3_func_t *
wd_p3_find(const char *iface, const char *name)
{
    const char *at = strchr(iface, '@');
    size_t il = at ? (size_t)(at - iface) : strlen(iface);
    for (size_t i = 0; i < sizeof wd_p3_funcs / sizeof wd_p3_funcs[0]; i++)
        if (strlen(wd_p3_funcs[i].iface) == il && memcmp(wd_p3_funcs[i].iface, iface, il) == 0
            && strcmp(wd_p3_funcs[i].name, name) == 0)
            return &wd_p3_funcs[i];
    return NULL;
}

wd_wasm_func_t *
wd_host_p3_make(wd_host_p3_t *p, wd_wasm_store_t *s, const wd_comp_hostfunc_t *hf, const char *iface,
                const wd_comp_bound_opts_t *bound, char *msg, size_t len)
{
    const wd_p3_func_t *f;
    wd_p3_bind_t *b;
    wd_wasm_func_t *fn;

    if (hf->kind == WD_COMP_HOST_BUILTIN) {
        if (p == NULL)
            return (wd_wasm_func_t *)hf;
        return wd_comp_async_builtin(p->async, s, hf, bound, msg, len);
    }
    if (hf->kind != WD_COMP_HOST_LOWER || iface == NULL || hf->name == NULL) {
        snprintf(msg, len, "\"%s#%s\": WASI 0.3 has no resources wasmd provides yet",
                 iface ? iface : "", hf->name ? hf->name : "");
        return NULL;
    }
    if ((f = wd_p3_find(iface, hf->name)) == NULL) {
        snprintf(msg, len, "\"%s#%s\", which wasmd does not provide", iface, hf->name);
        return NULL;
    }
    if (hf->type == NULL || hf->type->async != (f->fn == NULL)) {
        snprintf(msg, len, "\"%s#%s\" with a type that is not the WIT's", iface, hf->name);
        return NULL;
    }
    if (f->fn == NULL && (hf->core_type.nparams != 1 || hf->core_type.params[0] != WD_CFLAT_I64)) {
        snprintf(msg, len, "\"%s#%s\" with a type that is not the WIT's", iface, hf->name);
        return NULL;
    }
    if (p == NULL)
        return (wd_wasm_func_t *)hf;
    if ((b = wd_wasm_calloc(1, sizeof *b)) == NULL) {
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    b->p = p;
    b->hf = hf;
    b->fn = f->fn;
    b->arg = f->arg;
    b->mem = bound ? bound->memory : NULL;
    b->realloc = bound ? bound->realloc : NULL;
    b->next = p->binds;
    p->binds = b;
    fn = wd_wasm_func_new_host(s, &hf->core_type, f->fn ? wd_p3_call : wd_p3_wait, b);
    if (fn == NULL)
        snprintf(msg, len, "out of memory");
    return fn;
}

/* ---------------------------------------------------------------- life */

static int
wd_p3_block(void *ud)
{
    wd_host_p3_t *p = ud;
    if (!p->loop_ok || !uv_loop_alive(&p->loop))
        return -1;
    uv_run(&p->loop, UV_RUN_ONCE);
    return 0;
}

wd_host_p3_t *
wd_host_p3_new(const wd_host_p3_conf_t *conf, wd_cabi_table_t *table)
{
    wd_host_p3_t *p = wd_wasm_calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    if (conf)
        p->conf = *conf;
    p->table = table;
    wd_comp_async_hooks_t hooks = { wd_p3_block, p };
    p->async = wd_comp_async_new(table, &hooks);
    if (p->async == NULL) {
        wd_wasm_free(p);
        return NULL;
    }
    if (getrandom(p->seed, sizeof p->seed, GRND_NONBLOCK) != (ssize_t)sizeof p->seed)
        p->seed[0] = wd_p3_mono_ns(), p->seed[1] = (uint64_t)getpid();
    return p;
}

void
wd_host_p3_free(wd_host_p3_t *p)
{
    if (p == NULL)
        return;
    if (p->loop_ok) {
        for (wd_p3_timer_t *t = p->timers; t; t = t->next)
            if (!t->closed && !uv_is_closing((uv_handle_t *)&t->t))
                uv_close((uv_handle_t *)&t->t, wd_p3_timer_closed);
        uv_run(&p->loop, UV_RUN_NOWAIT);
        uv_loop_close(&p->loop);
    }
    while (p->timers) {
        wd_p3_timer_t *t = p->timers;
        p->timers = t->next;
        wd_wasm_free(t);
    }
    while (p->binds) {
        wd_p3_bind_t *b = p->binds;
        p->binds = b->next;
        wd_wasm_free(b);
    }
    while (p->outs) {
        wd_p3_out_t *o = p->outs;
        p->outs = o->next;
        wd_wasm_free(o);
    }
    while (p->ins) {
        wd_p3_in_t *in = p->ins;
        p->ins = in->next;
        wd_wasm_free(in);
    }
    wd_comp_async_free(p->async);
    wd_cabi_arena_free(&p->arena);
    wd_wasm_free(p);
}

wd_comp_async_t *
wd_host_p3_async(wd_host_p3_t *p)
{
    return p->async;
}

int
wd_host_p3_run(wd_host_p3_t *p, const wd_comp_lift_t *l, const wd_comp_bound_lift_t *bl,
               wd_wasm_instance_t *inst, int *status, char *msg, size_t len)
{
    wd_wasm_val_t res[1];
    const wd_cabi_val_t *result = NULL;
    wd_wasm_status_t st;

    *status = 0;
    if (!l->opts.async) {
        snprintf(msg, len, "%s is not lifted async", l->name);
        return -1;
    }
    if (wd_comp_async_task_begin(p->async, l, bl, inst) < 0) {
        snprintf(msg, len, "%s", wd_comp_async_trap(p->async));
        return -1;
    }
    memset(res, 0, sizeof res);
    st = wd_wasm_call(inst, bl->func, NULL, 0, res, bl->callback ? 1 : 0);
    if (st != WD_WASM_OK)
        goto trapped;
    if (bl->callback && wd_comp_async_task_drive(p->async, inst, res[0].of.i32) < 0) {
        const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
        if (t && t->kind == WD_TRAP_EXIT) {
            *status = wd_wasm_exit_code(inst);
            return -1;
        }
        snprintf(msg, len, "%s", wd_comp_async_trap(p->async));
        return -1;
    }
    if (!wd_comp_async_task_returned(p->async, &result)) {
        snprintf(msg, len, "%s returned without calling task.return", l->name);
        return -1;
    }
    *status = result && result->n != 0 ? 1 : 0;
    return 0;
trapped:
    if (st == WD_WASM_SUSPENDED) {
        wd_wasm_abort(inst);
        snprintf(msg, len, "the call suspended with nothing to resume it");
        return -1;
    }
    const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
    if (t && t->kind == WD_TRAP_EXIT)
        *status = wd_wasm_exit_code(inst);
    snprintf(msg, len, "%s", t ? t->msg : "trap");
    return -1;
}
