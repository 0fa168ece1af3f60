/*
 * test_comp_host.c -- the component host (src/host/wd_host_comp.h) end to end, without the
 * server: real components built by t/component/mkcomp.sh (jco componentize of
 * t/component/js/hello.js; C example handlers wrapped by jco embed + jco new --wasi-reactor)
 * are loaded, checked, instantiated against the real host, attached, and driven through
 * wd_host_http_start with a fake backend; the WIT-level functions (wasi:filesystem,
 * wasi:cli/terminal-*) are called through the Canonical ABI layer with each string encoding
 * and hostile pointers.
 */
#include <check.h>
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wd_wasm.h"
#include "wd_host_comp.h"
#include "component/wd_cabi.h"

/* ---- fake backend ---- */
typedef struct {
    const char *reqbody;
    size_t reqlen, off;
    int status, finished, aborted, error_status;
    char headers[2048];
    char body[4096];
    size_t body_len;
    int64_t cl;
} fake_t;

static int fk_read(void *be, uint8_t *buf, size_t len, size_t *n)
{
    fake_t *f = be;
    if (f->off >= f->reqlen)
        return WD_HOST_HTTP_DONE;
    size_t k = f->reqlen - f->off < len ? f->reqlen - f->off : len;
    memcpy(buf, f->reqbody + f->off, k);
    f->off += k;
    *n = k;
    return WD_HOST_HTTP_OK;
}
static int fk_ready(void *be) { return 1; }
static int fk_head(void *be, int status, const wd_host_http_header_t *h, size_t nh, int64_t cl)
{
    fake_t *f = be;
    f->status = status;
    f->cl = cl;
    for (size_t i = 0; i < nh; i++) {
        size_t l = strlen(f->headers);
        snprintf(f->headers + l, sizeof f->headers - l, "%.*s: %.*s\n", (int)h[i].name_len,
                 h[i].name, (int)h[i].value_len, h[i].value);
    }
    return WD_HOST_HTTP_OK;
}
static int fk_write(void *be, const uint8_t *p, size_t n)
{
    fake_t *f = be;
    ck_assert(f->body_len + n < sizeof f->body);
    memcpy(f->body + f->body_len, p, n);
    f->body_len += n;
    return WD_HOST_HTTP_OK;
}
static size_t fk_pending(void *be) { return 0; }
static int fk_finish(void *be) { ((fake_t *)be)->finished = 1; return WD_HOST_HTTP_OK; }
static void fk_abort(void *be) { ((fake_t *)be)->aborted = 1; }
static void fk_error(void *be, int status) { ((fake_t *)be)->error_status = status; }
static void fk_log(void *be, int is_err, const char *line, size_t len) { }
static const wd_host_http_backend_t fk_backend = {
    fk_read, fk_ready, fk_head, fk_write, fk_pending, fk_finish, fk_abort, fk_error, fk_log
};

/* ---- a component instance set up like the server's ---- */
typedef struct {
    wd_comp_t *c;
    wd_wasm_store_t *s;
    wd_comp_instance_t *ci;
    wd_host_comp_t *hc;
} tc_t;

static wd_comp_t *load(const char *name)
{
    char path[256];
    wd_comp_error_t err;
    snprintf(path, sizeof path, "objs/component/%s", name);
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s missing: run make components", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert(fread(b, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    wd_comp_t *c = wd_comp_load(b, (size_t)n, NULL, &err);
    free(b);
    ck_assert_msg(c != NULL, "load %s: %s", name, err.msg);
    return c;
}

static void tc_open(tc_t *t, const char *name)
{
    wd_comp_error_t err;
    wd_wasm_limits_t lim;
    memset(t, 0, sizeof *t);
    memset(&lim, 0, sizeof lim);
    t->c = load(name);
    ck_assert_msg(wd_host_comp_check(t->c, &err) == 0, "check %s: %s", name, err.msg);
    ck_assert(wd_host_comp_is_handler(t->c));
    t->hc = wd_host_comp_new(NULL);
    t->s = wd_wasm_store_new();
    ck_assert(t->hc && t->s);
    t->ci = wd_comp_instantiate(t->c, t->s, wd_host_comp_host(t->hc), &lim, &err);
    ck_assert_msg(t->ci != NULL, "instantiate %s: %s", name, err.msg);
    ck_assert_msg(wd_host_comp_attach(t->hc, t->c, t->ci, &err) == 0, "attach: %s", err.msg);
}

static void tc_close(tc_t *t)
{
    wd_comp_instance_free(t->ci);
    wd_wasm_store_free(t->s);
    wd_host_comp_free(t->hc);
    wd_comp_free(t->c);
}

static const wd_host_http_outcome_t *tc_request(tc_t *t, fake_t *f, const char *method,
                                                const char *path, const char *body)
{
    static wd_host_http_header_t hdrs[] = {
        { "host", "example.test", 4, 12 }, { "x-test", "yes", 6, 3 },
    };
    wd_host_http_request_head_t rq;
    memset(&rq, 0, sizeof rq);
    memset(f, 0, sizeof *f);
    f->reqbody = body;
    f->reqlen = body ? strlen(body) : 0;
    rq.method = method;
    rq.method_len = strlen(method);
    rq.path = path;
    rq.path_len = strlen(path);
    rq.authority = "example.test";
    rq.authority_len = 12;
    rq.headers = hdrs;
    rq.nheaders = 2;
    wd_host_http_t *h = wd_host_comp_http(t->hc);
    wd_wasm_set_fuel(wd_host_comp_thread(t->hc), 2000000000);
    wd_host_http_run_t r = wd_host_http_start(h, &rq, &fk_backend, f);
    for (int i = 0; r != WD_HOST_HTTP_FINISHED && i < 100; i++)
        r = wd_host_http_resume(h);
    ck_assert_int_eq(r, WD_HOST_HTTP_FINISHED);
    return wd_host_http_outcome(h);
}

START_TEST(test_js_hello)
{
    tc_t t;
    fake_t f;
    tc_open(&t, "hello.js.wasm");
    const wd_host_http_outcome_t *o = tc_request(&t, &f, "GET", "/", NULL);
    ck_assert_msg(o->kind == WD_HOST_HTTP_OUT_OK, "outcome %d: %s", o->kind, o->reason);
    ck_assert_int_eq(f.status, 200);
    ck_assert_int_eq((int)f.body_len, 14);
    ck_assert(memcmp(f.body, "hello from js\n", 14) == 0);
    ck_assert_msg(strstr(f.headers, "content-type: text/plain") != NULL, "%s", f.headers);
    ck_assert(f.finished);
    wd_host_comp_reset(t.hc);
    ck_assert_int_eq(wd_host_http_live_handles(wd_host_comp_http(t.hc)), 0);
    tc_close(&t);
}
END_TEST

START_TEST(test_js_404)
{
    tc_t t;
    fake_t f;
    tc_open(&t, "hello.js.wasm");
    const wd_host_http_outcome_t *o = tc_request(&t, &f, "GET", "/nope", NULL);
    ck_assert_msg(o->kind == WD_HOST_HTTP_OUT_OK, "outcome %d: %s", o->kind, o->reason);
    ck_assert_int_eq(f.status, 404);
    ck_assert(f.body_len == 10 && memcmp(f.body, "not found\n", 10) == 0);
    tc_close(&t);
}
END_TEST

START_TEST(test_c_hello)
{
    tc_t t;
    fake_t f;
    tc_open(&t, "hello.comp.wasm");
    const wd_host_http_outcome_t *o = tc_request(&t, &f, "GET", "/", NULL);
    ck_assert_msg(o->kind == WD_HOST_HTTP_OUT_OK, "outcome %d: %s", o->kind, o->reason);
    ck_assert_int_eq(f.status, 200);
    ck_assert_msg(f.body_len > 0, "empty body");
    tc_close(&t);
}
END_TEST

START_TEST(test_c_echo)
{
    tc_t t;
    fake_t f;
    tc_open(&t, "echo.comp.wasm");
    const wd_host_http_outcome_t *o = tc_request(&t, &f, "POST", "/echo", "ping-pong body");
    ck_assert_msg(o->kind == WD_HOST_HTTP_OUT_OK, "outcome %d: %s", o->kind, o->reason);
    ck_assert_int_eq(f.status, 200);
    ck_assert_msg(f.body_len >= 14 && memmem(f.body, f.body_len, "ping-pong body", 14),
                  "body %.*s", (int)f.body_len, f.body);
    tc_close(&t);
}
END_TEST

START_TEST(test_c_headers)
{
    tc_t t;
    fake_t f;
    tc_open(&t, "headers.comp.wasm");
    const wd_host_http_outcome_t *o = tc_request(&t, &f, "GET", "/", NULL);
    ck_assert_msg(o->kind == WD_HOST_HTTP_OUT_OK, "outcome %d: %s", o->kind, o->reason);
    ck_assert_msg(memmem(f.body, f.body_len, "x-test", 6) != NULL, "body %.*s",
                  (int)f.body_len, f.body);
    tc_close(&t);
}
END_TEST

/* wasmd run's side: a wasi:cli/command component (cgi.c wrapped by jco new --wasi-command)
   with stdio on the process's fds, arguments and environment; the preview1 adapter calls
   wasi:filesystem/preopens, wasi:cli/terminal-* (WIT-level, through the Canonical ABI layer
   with the adapter's realloc), environment, stdin/stdout and exit */
START_TEST(test_command_stdio)
{
    static const char *const env[] = { "REQUEST_METHOD=PUT", "PATH_INFO=/x/y" };
    static const char *const args[] = { "cgi", "one" };
    wd_host_comp_conf_t conf;
    wd_comp_error_t err;
    wd_wasm_limits_t lim;
    char outpath[] = "/tmp/wd-comphost-XXXXXX";
    int pfd[2], ofd = mkstemp(outpath), saved0 = dup(0), saved1 = dup(1);
    memset(&conf, 0, sizeof conf);
    memset(&lim, 0, sizeof lim);
    conf.http.env = env;
    conf.http.nenv = 2;
    conf.http.args = args;
    conf.http.nargs = 2;
    conf.http.stdio = 1;
    wd_comp_t *c = load("cgi.comp.wasm");
    ck_assert_msg(wd_host_comp_check(c, &err) == 0, "check: %s", err.msg);
    ck_assert(!wd_host_comp_is_handler(c));
    wd_host_comp_t *hc = wd_host_comp_new(&conf);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_comp_instance_t *ci = wd_comp_instantiate(c, s, wd_host_comp_host(hc), &lim, &err);
    ck_assert_msg(ci != NULL, "instantiate: %s", err.msg);
    ck_assert_msg(wd_host_comp_attach(hc, c, ci, &err) == 0, "attach: %s", err.msg);
    const wd_comp_plan_t *p = wd_comp_get_plan(c);
    uint32_t li = p->nlifts;
    for (uint32_t i = 0; i < p->nlifts; i++)
        if (strstr(p->lifts[i].name, "wasi:cli/run@0.2.") && strstr(p->lifts[i].name, "#run"))
            li = i;
    ck_assert(li < p->nlifts);
    const wd_comp_bound_lift_t *bl = wd_comp_instance_lift(ci, li);
    ck_assert(pipe(pfd) == 0 && ofd >= 0);
    ck_assert(write(pfd[1], "12345", 5) == 5);
    close(pfd[1]);
    dup2(pfd[0], 0);
    dup2(ofd, 1);
    wd_wasm_val_t res[1];
    wd_wasm_instance_t *th = wd_host_comp_thread(hc);
    wd_wasm_set_fuel(th, 1000000000);
    wd_wasm_status_t st = wd_wasm_call(th, bl->func, NULL, 0, res, 1);
    dup2(saved0, 0);
    dup2(saved1, 1);
    ck_assert_msg(st == WD_WASM_OK || (st == WD_WASM_TRAP && wd_wasm_last_trap(th)->kind == WD_TRAP_EXIT
                                       && wd_wasm_exit_code(th) == 0),
                  "run: %d %s", st, st == WD_WASM_TRAP ? wd_wasm_last_trap(th)->msg : "");
    if (st == WD_WASM_OK)
        ck_assert_int_eq(res[0].of.i32, 0);           /* result::ok */
    char out[1024];
    ssize_t n = pread(ofd, out, sizeof out - 1, 0);
    ck_assert(n > 0);
    out[n] = 0;
    ck_assert_msg(strstr(out, "method=PUT\npath=/x/y\n") != NULL, "stdout: %s", out);
    ck_assert_msg(strstr(out, "body-bytes=5\n") != NULL, "stdout: %s", out);
    close(ofd);
    unlink(outpath);
    wd_comp_instance_free(ci);
    wd_wasm_store_free(s);
    wd_host_comp_free(hc);
    wd_comp_free(c);
}
END_TEST

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Per-request reset with handles left alive (t/component/ok/leak.wat: a fields, a handle of
   the guest's own resource (with a destructor), the preopened descriptors, the request and
   outparam, never dropped): after the server's reset (wd_host_comp_reset + restore of every
   core instance) the host holds nothing -- 1,000 requests, no handle, descriptor, process fd
   or heap growth. The guest's destructors are not run: what they would free is guest state
   the restore takes back (see wd_host_comp.h). */
START_TEST(test_reset_no_leak)
{
    wd_comp_error_t err;
    wd_wasm_limits_t lim;
    char dir[] = "/tmp/wd-comp-leak-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    wd_host_comp_dir_t d = { dir, "/data", 0 };
    wd_host_comp_conf_t conf;
    memset(&conf, 0, sizeof conf);
    conf.dirs = &d;
    conf.ndirs = 1;
    memset(&lim, 0, sizeof lim);
    tc_t t;
    memset(&t, 0, sizeof t);
    t.c = load("ok/leak.wasm");
    ck_assert_msg(wd_host_comp_check(t.c, &err) == 0, "check: %s", err.msg);
    t.hc = wd_host_comp_new(&conf);
    t.s = wd_wasm_store_new();
    t.ci = wd_comp_instantiate(t.c, t.s, wd_host_comp_host(t.hc), &lim, &err);
    ck_assert_msg(t.ci != NULL, "instantiate: %s", err.msg);
    ck_assert_msg(wd_host_comp_attach(t.hc, t.c, t.ci, &err) == 0, "attach: %s", err.msg);
    uint32_t ncore = wd_comp_instance_core_count(t.ci);
    for (uint32_t i = 0; i < ncore; i++)
        ck_assert(wd_wasm_snapshot(wd_comp_instance_core(t.ci, i)) == 0);
    int fds0 = count_fds();
    size_t heap10 = 0;
    for (int i = 0; i < 1000; i++) {
        fake_t f;
        uint32_t fds, live;
        tc_request(&t, &f, "GET", "/", NULL);
        live = wd_host_comp_live_handles(t.hc, &fds);
        /* request, outparam, fields, the guest's resource, the descriptor */
        ck_assert_msg(live >= 5 && fds == 1, "request %d: %u handles, %u descriptors", i, live, fds);
        if (i == 0)
            ck_assert_int_eq(count_fds(), fds0 + 1);
        wd_host_comp_reset(t.hc);
        for (uint32_t k = 0; k < ncore; k++)
            ck_assert(wd_wasm_restore(wd_comp_instance_core(t.ci, k)) == 0);
        live = wd_host_comp_live_handles(t.hc, &fds);
        ck_assert_msg(live == 0 && fds == 0, "after reset %d: %u handles, %u descriptors", i, live, fds);
        if (i == 10)
            heap10 = mallinfo2().uordblks;
    }
    ck_assert_int_eq(count_fds(), fds0);
    size_t heap = mallinfo2().uordblks;
    ck_assert_msg(heap <= heap10 + 64 * 1024, "heap grew by %zu bytes over 990 requests",
                  heap - heap10);
    tc_close(&t);
    rmdir(dir);
}
END_TEST

/* canon resource.drop of an own handle of a resource the component defines runs its dtor
   with the rep (t/component/ok/dtor.wat: run returns dtors * 1000 + the rep seen) */
START_TEST(test_guest_dtor)
{
    wd_comp_error_t err;
    wd_wasm_limits_t lim;
    wd_wasm_val_t res[1];
    memset(&lim, 0, sizeof lim);
    wd_comp_t *c = load("ok/dtor.wasm");
    wd_host_comp_t *hc = wd_host_comp_new(NULL);
    wd_wasm_store_t *s = wd_wasm_store_new();
    wd_comp_instance_t *ci = wd_comp_instantiate(c, s, wd_host_comp_host(hc), &lim, &err);
    ck_assert_msg(ci != NULL, "instantiate: %s", err.msg);
    ck_assert_msg(wd_host_comp_bind_instance(hc, c, ci, &err) == 0, "bind: %s", err.msg);
    const wd_comp_plan_t *p = wd_comp_get_plan(c);
    ck_assert(p->nlifts == 1 && strcmp(p->lifts[0].name, "run") == 0);
    wd_wasm_instance_t *in = wd_comp_instance_core(ci, p->lifts[0].func.instance);
    const wd_comp_bound_lift_t *bl = wd_comp_instance_lift(ci, 0);
    for (int i = 1; i <= 2; i++) {
        wd_wasm_status_t st = wd_wasm_call(in, bl->func, NULL, 0, res, 1);
        ck_assert_msg(st == WD_WASM_OK, "run: %s", st == WD_WASM_TRAP ? wd_wasm_last_trap(in)->msg : "");
        ck_assert_int_eq(res[0].of.i32, i * 1000 + 42);
    }
    wd_comp_instance_free(ci);
    wd_wasm_store_free(s);
    wd_host_comp_free(hc);
    wd_comp_free(c);
}
END_TEST

/* ---- WIT-level interfaces through the Canonical ABI layer ----
   The host functions are made by the real resolver (make_func) for a function type built
   here from the WIT (deps/filesystem/types.wit, preopens.wit) and called from a small core module's instance
   (memory + bump realloc), with each string encoding and hostile pointers. */

/* assembled by wat2wasm from:
   (module (memory (export "memory") 1) (global $bump (mut i32) (i32.const 4096))
     (func (export "realloc") ...): shrinking keeps old, else bump-allocates and copies
     (func (export "bad_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 65535))) */
static const uint8_t mini_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x01, 0x60,
  0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x00,
  0x05, 0x03, 0x01, 0x00, 0x01, 0x06, 0x07, 0x01, 0x7f, 0x01, 0x41, 0x80,
  0x20, 0x0b, 0x07, 0x22, 0x03, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79,
  0x02, 0x00, 0x07, 0x72, 0x65, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x00, 0x00,
  0x0b, 0x62, 0x61, 0x64, 0x5f, 0x72, 0x65, 0x61, 0x6c, 0x6c, 0x6f, 0x63,
  0x00, 0x01, 0x0a, 0x49, 0x02, 0x40, 0x01, 0x01, 0x7f, 0x20, 0x00, 0x41,
  0x00, 0x47, 0x20, 0x03, 0x20, 0x01, 0x4d, 0x71, 0x04, 0x40, 0x20, 0x00,
  0x0f, 0x0b, 0x23, 0x00, 0x20, 0x02, 0x41, 0x01, 0x6b, 0x6a, 0x41, 0x00,
  0x20, 0x02, 0x6b, 0x71, 0x21, 0x04, 0x20, 0x04, 0x20, 0x03, 0x6a, 0x24,
  0x00, 0x20, 0x00, 0x41, 0x00, 0x47, 0x04, 0x40, 0x20, 0x04, 0x20, 0x00,
  0x20, 0x01, 0xfc, 0x0a, 0x00, 0x00, 0x0b, 0x20, 0x04, 0x0b, 0x06, 0x00,
  0x41, 0xff, 0xff, 0x03, 0x0b
};

static wd_comp_resource_t r_desc = { .name = "descriptor", .iface = "wasi:filesystem/types@0.2.8" };
static const char *const ec_labels[] = { "access", "would-block", "already", "bad-descriptor",
    "busy", "deadlock", "quota", "exist", "file-too-large", "illegal-byte-sequence",
    "in-progress", "interrupted", "invalid", "io", "is-directory", "loop", "too-many-links",
    "message-size", "name-too-long", "no-device", "no-entry", "no-lock", "insufficient-memory",
    "insufficient-space", "not-directory", "not-empty", "not-recoverable", "unsupported",
    "no-tty", "no-such-device", "overflow", "not-permitted", "pipe", "read-only",
    "invalid-seek", "text-file-busy", "cross-device" };
#define EC_NO_ENTRY 20
#define EC_NOT_PERMITTED 31
#define EC_READ_ONLY 33
static const char *const pf_labels[] = { "symlink-follow" };
static const char *const of_labels[] = { "create", "directory", "exclusive", "truncate" };
static const char *const df_labels[] = { "read", "write", "file-integrity-sync",
    "data-integrity-sync", "requested-write-sync", "mutate-directory" };
static wd_comp_type_t t_ec = WD_CT_ENUM_OF(ec_labels);
static wd_comp_type_t t_pf = WD_CT_FLAGS_OF(pf_labels);
static wd_comp_type_t t_of = WD_CT_FLAGS_OF(of_labels);
static wd_comp_type_t t_df = WD_CT_FLAGS_OF(df_labels);
static wd_comp_type_t t_own = WD_CT_OWN_OF(&r_desc);
static wd_comp_type_t t_borrow = WD_CT_BORROW_OF(&r_desc);
static wd_comp_field_t pre_f[] = { { "0", &t_own }, { "1", WD_CT_P(STRING) } };
static wd_comp_type_t t_pre = WD_CT_TUPLE_OF(pre_f);
static wd_comp_type_t t_prelist = WD_CT_LIST_OF(&t_pre);
static wd_comp_func_type_t f_getdirs = WD_CT_FUNC_NOPARAMS(&t_prelist);
static wd_comp_type_t t_open_res = WD_CT_RESULT_OF(&t_own, &t_ec);
static wd_comp_field_t open_p[] = { { "self", &t_borrow }, { "path-flags", &t_pf },
    { "path", WD_CT_P(STRING) }, { "open-flags", &t_of }, { "flags", &t_df } };
static wd_comp_func_type_t f_open = WD_CT_FUNC_OF(open_p, &t_open_res);
static wd_comp_type_t t_bytes = WD_CT_LIST_OF(WD_CT_P(U8));
static wd_comp_field_t rd_f[] = { { "0", &t_bytes }, { "1", WD_CT_P(BOOL) } };
static wd_comp_type_t t_rd = WD_CT_TUPLE_OF(rd_f);
static wd_comp_type_t t_read_res = WD_CT_RESULT_OF(&t_rd, &t_ec);
static wd_comp_field_t read_p[] = { { "self", &t_borrow }, { "length", WD_CT_P(U64) },
    { "offset", WD_CT_P(U64) } };
static wd_comp_func_type_t f_read = WD_CT_FUNC_OF(read_p, &t_read_res);
static wd_comp_resource_t r_in = { .name = "input-stream", .iface = "wasi:io/streams@0.2.8" };
static wd_comp_type_t t_own_in = WD_CT_OWN_OF(&r_in);
static wd_comp_type_t t_borrow_in = WD_CT_BORROW_OF(&r_in);
static wd_comp_type_t t_rvs_res = WD_CT_RESULT_OF(&t_own_in, &t_ec);
static wd_comp_field_t rvs_p[] = { { "self", &t_borrow }, { "offset", WD_CT_P(U64) } };
static wd_comp_func_type_t f_rvs = WD_CT_FUNC_OF(rvs_p, &t_rvs_res);
static wd_comp_resource_t r_err = { .name = "error", .iface = "wasi:io/error@0.2.8" };
static wd_comp_type_t t_own_err = WD_CT_OWN_OF(&r_err);
static wd_comp_field_t se_f[] = { { "last-operation-failed", &t_own_err }, { "closed", NULL } };
static wd_comp_type_t t_se = WD_CT_VARIANT_OF(se_f);
static wd_comp_type_t t_br_res = WD_CT_RESULT_OF(&t_bytes, &t_se);
static wd_comp_field_t br_p[] = { { "self", &t_borrow_in }, { "len", WD_CT_P(U64) } };
static wd_comp_func_type_t f_br = WD_CT_FUNC_OF(br_p, &t_br_res);

typedef struct {
    char dir[64];
    wd_host_comp_t *hc;
    wd_wasm_store_t *s;
    wd_wasm_module_t *m;
    wd_wasm_instance_t *inst;
    wd_wasm_memory_t *mem;
    wd_comp_hostfunc_t hf[5];
    wd_wasm_func_t *fn[5];       /* get-directories, open-at, read, read-via-stream,
                                    input-stream.blocking-read */
} wt_t;

static wd_wasm_func_t *wt_make(wt_t *w, int i, const char *iface, const char *name,
                               const wd_comp_func_type_t *ft, int enc, const char *realloc_name)
{
    wd_comp_hostfunc_t *hf = &w->hf[i];
    wd_comp_bound_opts_t bound;
    wd_comp_error_t err;
    wd_wasm_extern_t x;
    memset(hf, 0, sizeof *hf);
    hf->kind = WD_COMP_HOST_LOWER;
    hf->interface = iface;
    hf->name = name;
    hf->type = ft;
    hf->resource = -1;
    hf->opts.string_encoding = (uint8_t)enc;
    hf->core_type.nparams = ft->lower_params_n;
    hf->core_type.params = ft->lower_params;
    hf->core_type.nresults = ft->lower_results_n;
    hf->core_type.results = ft->lower_results;
    bound.memory = w->mem;
    ck_assert(wd_wasm_instance_export(w->inst, realloc_name, strlen(realloc_name), &x) == 0);
    bound.realloc = x.of.func;
    const wd_comp_host_t *host = wd_host_comp_host(w->hc);
    wd_wasm_func_t *f = host->make_func(host->ud, w->s, hf, iface, &bound, &err);
    ck_assert_msg(f != NULL, "make %s: %s", name, err.msg);
    return f;
}

static void wt_open(wt_t *w, int enc, const char *realloc_name)
{
    static wd_host_comp_dir_t dirs[1];
    wd_host_comp_conf_t conf;
    wd_wasm_error_t err;
    char path[128];
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/wd-comphost-fs-XXXXXX");
    ck_assert(mkdtemp(w->dir) != NULL);
    snprintf(path, sizeof path, "%s/h\xc3\xa9llo.txt", w->dir);      /* héllo.txt */
    FILE *fp = fopen(path, "w");
    ck_assert(fp != NULL);
    fputs("file content\n", fp);
    fclose(fp);
    dirs[0].host_path = w->dir;
    dirs[0].guest_path = "/d\xc3\xa4ta";                             /* /däta */
    dirs[0].rw = 0;
    memset(&conf, 0, sizeof conf);
    conf.dirs = dirs;
    conf.ndirs = 1;
    conf.http.stdio = 1;          /* wasi:io calls with no request running, as in wasmd run */
    ck_assert(wd_comp_func_layout_deep(&f_getdirs) == NULL);
    ck_assert(wd_comp_func_layout_deep(&f_open) == NULL);
    ck_assert(wd_comp_func_layout_deep(&f_read) == NULL);
    ck_assert(wd_comp_func_layout_deep(&f_rvs) == NULL);
    ck_assert(wd_comp_func_layout_deep(&f_br) == NULL);
    w->hc = wd_host_comp_new(&conf);
    w->s = wd_wasm_store_new();
    w->m = wd_wasm_module_load(mini_wasm, sizeof mini_wasm, NULL, &err);
    ck_assert_msg(w->m != NULL, "%s", err.msg);
    w->inst = wd_wasm_instantiate(w->s, w->m, NULL, 0, NULL, &err);
    ck_assert_msg(w->inst != NULL, "%s", err.msg);
    w->mem = wd_wasm_instance_memory(w->inst);
    w->fn[0] = wt_make(w, 0, "wasi:filesystem/preopens@0.2.8", "get-directories", &f_getdirs,
                       enc, realloc_name);
    w->fn[1] = wt_make(w, 1, "wasi:filesystem/types@0.2.8", "[method]descriptor.open-at",
                       &f_open, enc, realloc_name);
    w->fn[2] = wt_make(w, 2, "wasi:filesystem/types@0.2.8", "[method]descriptor.read",
                       &f_read, enc, realloc_name);
    w->fn[3] = wt_make(w, 3, "wasi:filesystem/types@0.2.8",
                       "[method]descriptor.read-via-stream", &f_rvs, enc, realloc_name);
    w->fn[4] = wt_make(w, 4, "wasi:io/streams@0.2.8", "[method]input-stream.blocking-read",
                       &f_br, WD_COMP_STR_UTF8, realloc_name);
}

static void wt_close(wt_t *w)
{
    char cmd[128];
    wd_wasm_store_free(w->s);
    wd_wasm_module_free(w->m);
    wd_host_comp_free(w->hc);
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    ck_assert(system(cmd) == 0);
}

static uint8_t *wt_mem(wt_t *w, uint32_t p, uint32_t n)
{
    uint8_t *q = wd_wasm_memory_ptr(w->mem, p, n);
    ck_assert(q != NULL);
    return q;
}
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static wd_wasm_status_t wt_call(wt_t *w, int i, const uint64_t *a, uint32_t n)
{
    wd_wasm_val_t args[WD_CABI_MAX_FLAT_PARAMS + 1];
    const wd_wasm_functype_t *ft = wd_wasm_func_type(w->fn[i]);
    ck_assert_int_eq(n, ft->nparams);
    for (uint32_t k = 0; k < n; k++) {
        args[k].type = ft->params[k];
        if (ft->params[k] == WD_WASM_I64)
            args[k].of.i64 = (int64_t)a[k];
        else
            args[k].of.i32 = (uint32_t)a[k];
    }
    return wd_wasm_call(w->inst, w->fn[i], args, n, NULL, 0);
}

/* the guest's encoding of s (UTF-8 source): returns units (tagged for latin1+utf16) */
static uint32_t put_str(wt_t *w, int enc, uint32_t at, const char *s)
{
    size_t len = strlen(s), units = 0, done = 0;
    if (enc == WD_COMP_STR_UTF8) {
        memcpy(wt_mem(w, at, len), s, len);
        return (uint32_t)len;
    }
    if (enc == WD_COMP_STR_UTF16) {
        uint16_t u16[128];
        ck_assert(wd_cabi_utf8_to_utf16((const uint8_t *)s, len, u16, 128, &done, &units) == 0);
        memcpy(wt_mem(w, at, units * 2), u16, units * 2);
        return (uint32_t)units;
    }
    uint8_t l1[128];                    /* latin1 (all our test strings fit) */
    ck_assert(wd_cabi_utf8_to_latin1((const uint8_t *)s, len, l1, 128, &done, &units) == 0);
    ck_assert(done == len);
    memcpy(wt_mem(w, at, units), l1, units);
    return (uint32_t)units;
}

/* the preopen's name as the guest got it, back to UTF-8 */
static void get_str(wt_t *w, int enc, uint32_t ptr, uint32_t units, char *out, size_t cap)
{
    size_t rd = 0, wr = 0;
    if (enc == WD_COMP_STR_UTF8 || (enc == WD_COMP_STR_LATIN1_UTF16 && !(units & WD_CABI_UTF16_TAG)
                                    && 0)) {
        memcpy(out, wt_mem(w, ptr, units), units);
        out[units] = 0;
        return;
    }
    if (enc == WD_COMP_STR_UTF16 || (units & WD_CABI_UTF16_TAG)) {
        units &= ~WD_CABI_UTF16_TAG;
        ck_assert(wd_cabi_utf16_to_utf8((const uint16_t *)wt_mem(w, ptr, units * 2), units,
                                        (uint8_t *)out, cap - 1, &rd, &wr) == 0);
    } else {
        ck_assert(wd_cabi_latin1_to_utf8(wt_mem(w, ptr, units), units, (uint8_t *)out, cap - 1,
                                         &rd, &wr) == 0);
    }
    out[wr] = 0;
}

START_TEST(test_wit_fs_encodings)
{
    int enc = _i;                       /* 0 utf8, 1 utf16, 2 latin1+utf16 */
    wt_t w;
    char name[64];
    wt_open(&w, enc, "realloc");
    /* get-directories(retptr) -> list<tuple<own<descriptor>, string>> at 64 */
    uint64_t a[8] = { 64 };
    ck_assert_int_eq(wt_call(&w, 0, a, 1), WD_WASM_OK);
    uint8_t *r = wt_mem(&w, 64, 8);
    ck_assert_int_eq(rd32(r + 4), 1);
    uint8_t *e = wt_mem(&w, rd32(r), 12);
    uint32_t desc = rd32(e);
    ck_assert(desc != 0);
    get_str(&w, enc, rd32(e + 4), rd32(e + 8), name, sizeof name);
    if (strcmp(name, "/d\xc3\xa4ta") != 0) {
        fprintf(stderr, "enc %d ptr %u units %x:", enc, rd32(e + 4), rd32(e + 8));
        for (int k = 0; k < 12; k++) fprintf(stderr, " %02x", wt_mem(&w, rd32(e + 4), 12)[k]);
        fprintf(stderr, "\n");
    }
    ck_assert_str_eq(name, "/d\xc3\xa4ta");
    /* open-at(desc, 0, "héllo.txt", 0, read) -> result<own<descriptor>, error-code> at 128 */
    uint32_t units = put_str(&w, enc, 256, "h\xc3\xa9llo.txt");
    uint64_t oa[7] = { desc, 0, 256, units, 0, 1, 128 };
    ck_assert_int_eq(wt_call(&w, 1, oa, 7), WD_WASM_OK);
    r = wt_mem(&w, 128, 8);
    ck_assert_msg(r[0] == 0, "open-at: err %u", r[4]);
    uint32_t file = rd32(r + 4);
    /* read(file, 100, 5) -> result<tuple<list<u8>, bool>, error-code> at 160 */
    uint64_t ra[4] = { file, 100, 5, 160 };
    ck_assert_int_eq(wt_call(&w, 2, ra, 4), WD_WASM_OK);
    r = wt_mem(&w, 160, 16);
    ck_assert_int_eq(r[0], 0);
    ck_assert_int_eq(rd32(r + 8), 8);
    ck_assert(memcmp(wt_mem(&w, rd32(r + 4), 8), "content\n", 8) == 0);
    /* read-via-stream(file, 5) -> an input-stream of wasi:io; blocking-read(s, 100) twice */
    uint64_t va[3] = { file, 5, 192 };
    ck_assert_int_eq(wt_call(&w, 3, va, 3), WD_WASM_OK);
    r = wt_mem(&w, 192, 8);
    ck_assert_int_eq(r[0], 0);
    uint64_t ba[3] = { rd32(r + 4), 100, 200 };
    ck_assert_msg(wt_call(&w, 4, ba, 3) == WD_WASM_OK, "blocking-read: %s",
                  wd_wasm_last_trap(w.inst)->msg);
    r = wt_mem(&w, 200, 12);
    ck_assert_int_eq(r[0], 0);
    ck_assert_int_eq(rd32(r + 8), 8);
    ck_assert(memcmp(wt_mem(&w, rd32(r + 4), 8), "content\n", 8) == 0);
    ck_assert_int_eq(wt_call(&w, 4, ba, 3), WD_WASM_OK);
    ck_assert(r[0] == 1 && r[4] == 1);                    /* err(closed) */
    /* one handle table for the instance: the input-stream (src/host/http's) and the
       descriptors (the component host's) have distinct indices, and each kind passed where
       the other is expected traps */
    uint32_t stream = (uint32_t)ba[0];
    ck_assert_msg(stream != desc && stream != file, "stream %u, descriptors %u %u", stream, desc,
                  file);
    uint64_t bd[3] = { desc, 100, 200 };
    ck_assert_int_eq(wt_call(&w, 4, bd, 3), WD_WASM_TRAP);
    ck_assert_msg(strstr(wd_wasm_last_trap(w.inst)->msg, "expected input-stream") != NULL, "%s",
                  wd_wasm_last_trap(w.inst)->msg);
    uint64_t rs[4] = { stream, 100, 5, 160 };
    ck_assert_int_eq(wt_call(&w, 2, rs, 4), WD_WASM_TRAP);
    va[0] = desc;                                         /* a directory: is-directory */
    ck_assert_int_eq(wt_call(&w, 3, va, 3), WD_WASM_OK);
    ck_assert(wt_mem(&w, 192, 8)[0] == 1 && wt_mem(&w, 192, 8)[4] == 14);
    /* escapes and writes answer their WIT errors */
    units = put_str(&w, enc, 256, "../etc/passwd");
    uint64_t esc[7] = { desc, 0, 256, units, 0, 1, 128 };
    ck_assert_int_eq(wt_call(&w, 1, esc, 7), WD_WASM_OK);
    r = wt_mem(&w, 128, 8);
    ck_assert(r[0] == 1 && r[4] == EC_NOT_PERMITTED);
    units = put_str(&w, enc, 256, "new.txt");
    uint64_t cr[7] = { desc, 0, 256, units, 1 /* create */, 3 /* read|write */, 128 };
    ck_assert_int_eq(wt_call(&w, 1, cr, 7), WD_WASM_OK);
    r = wt_mem(&w, 128, 8);
    ck_assert(r[0] == 1 && r[4] == EC_READ_ONLY);
    units = put_str(&w, enc, 256, "missing");
    uint64_t ms[7] = { desc, 0, 256, units, 0, 1, 128 };
    ck_assert_int_eq(wt_call(&w, 1, ms, 7), WD_WASM_OK);
    r = wt_mem(&w, 128, 8);
    ck_assert(r[0] == 1 && r[4] == EC_NO_ENTRY);
    wt_close(&w);
}
END_TEST

/* each hostile call traps (the request only: the instance is called again right after) */
START_TEST(test_wit_fs_hostile)
{
    int enc = _i;
    wt_t w;
    wt_open(&w, enc, "realloc");
    uint64_t a[8] = { 64 };
    ck_assert_int_eq(wt_call(&w, 0, a, 1), WD_WASM_OK);
    uint32_t desc = rd32(wt_mem(&w, rd32(wt_mem(&w, 64, 4)), 4));
    uint32_t units = put_str(&w, enc, 256, "h\xc3\xa9llo.txt");
    struct { uint64_t a[7]; const char *why; } bad[] = {
        { { desc, 0, 0xfffff000u, units, 0, 1, 128 }, "out of bounds" },      /* path pointer */
        { { desc, 0, 257, units, 0, 1, 128 }, enc == 1 ? "misaligned" : NULL }, /* odd utf16 */
        { { desc, 0, 256, 0x7fffffffu, 0, 1, 128 }, "" },                      /* length */
        { { desc, 0, 256, units, 0, 1, 130 }, "misaligned" },                  /* retptr */
        { { desc, 0, 256, units, 0, 1, 0xfffffffcu }, "out of bounds" },       /* retptr */
        { { 77, 0, 256, units, 0, 1, 128 }, "" },                              /* handle */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i].why == NULL)
            continue;
        wd_wasm_status_t st = wt_call(&w, 1, bad[i].a, 7);
        ck_assert_msg(st == WD_WASM_TRAP, "hostile call %zu (enc %d) did not trap", i, enc);
        const wd_wasm_trap_t *t = wd_wasm_last_trap(w.inst);
        ck_assert_msg(t->kind == WD_TRAP_HOST && strstr(t->msg, "open-at") != NULL
                      && strstr(t->msg, bad[i].why) != NULL, "call %zu: %s", i, t->msg);
    }
    /* invalid UTF-8 / lone surrogate from the guest traps too */
    if (enc == 0)
        memcpy(wt_mem(&w, 256, 2), "\xc3\x28", 2);
    else if (enc == 1)
        memcpy(wt_mem(&w, 256, 2), "\x00\xd8", 2);
    if (enc != 2) {
        uint64_t iv[7] = { desc, 0, 256, enc == 0 ? 2 : 1, 0, 1, 128 };
        ck_assert_int_eq(wt_call(&w, 1, iv, 7), WD_WASM_TRAP);
    }
    /* still serving after the traps */
    uint64_t ok_a[7] = { desc, 0, 256, put_str(&w, enc, 256, "h\xc3\xa9llo.txt"), 0, 1, 128 };
    ck_assert_int_eq(wt_call(&w, 1, ok_a, 7), WD_WASM_OK);
    ck_assert_int_eq(wt_mem(&w, 128, 1)[0], 0);
    wt_close(&w);
    /* a realloc returning a misaligned / out-of-bounds pointer traps */
    wt_open(&w, enc, "bad_realloc");
    ck_assert_int_eq(wt_call(&w, 0, a, 1), WD_WASM_TRAP);
    ck_assert_msg(strstr(wd_wasm_last_trap(w.inst)->msg, "get-directories") != NULL, "%s",
                  wd_wasm_last_trap(w.inst)->msg);
    wt_close(&w);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("comp_host");
    TCase *tc = tcase_create("serve");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_js_hello);
    tcase_add_test(tc, test_js_404);
    tcase_add_test(tc, test_c_hello);
    tcase_add_test(tc, test_c_echo);
    tcase_add_test(tc, test_c_headers);
    tcase_add_test(tc, test_command_stdio);
    tcase_add_test(tc, test_guest_dtor);
    tcase_add_test(tc, test_reset_no_leak);
    suite_add_tcase(s, tc);
    TCase *tw = tcase_create("wit");
    tcase_add_loop_test(tw, test_wit_fs_encodings, 0, 3);
    tcase_add_loop_test(tw, test_wit_fs_hostile, 0, 3);
    suite_add_tcase(s, tw);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
