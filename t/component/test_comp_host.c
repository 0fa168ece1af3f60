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
    suite_add_tcase(s, tc);
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
