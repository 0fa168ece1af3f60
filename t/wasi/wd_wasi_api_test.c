/*
 * wd_wasi_api_test.c -- tests of the WASI context's embedder API (the part the
 * server uses): callback stdio streams, reset between requests (guest-opened
 * descriptors closed, host fds not leaked), args/env replacement, clock and
 * random sources, and link errors. Prints "ok - ..." / "FAIL - ..." lines and
 * ends with "N passed, N failed". Usage: wd_wasi_api_test API.wasm SCRATCH_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wd_wasm.h"
#include "wasi/wd_host_wasi.h"

static int pass, fail;
#define CHECK(cond, ...) do { if (cond) { pass++; printf("ok - "); } else { fail++; printf("FAIL - "); } \
    printf(__VA_ARGS__); printf("\n"); } while (0)

typedef struct { const char *data; size_t len, pos; int eagain; } in_t;
typedef struct { char buf[8192]; size_t len; } out_t;

static int64_t in_read(void *ud, uint8_t *buf, size_t len)
{
    in_t *in = ud;
    if (in->eagain) return -WD_WASI_EAGAIN;
    size_t n = in->len - in->pos < len ? in->len - in->pos : len;
    if (n > 7) n = 7;                  /* short reads: the guest must loop */
    memcpy(buf, in->data + in->pos, n);
    in->pos += n;
    return (int64_t)n;
}

static int64_t out_write(void *ud, const uint8_t *buf, size_t len)
{
    out_t *o = ud;
    if (len > sizeof(o->buf) - o->len) return -WD_WASI_EIO;
    memcpy(o->buf + o->len, buf, len);
    o->len += len;
    return (int64_t)len;
}

static int fixed_clock(void *ud, uint32_t id, int res, uint64_t *ns) { *ns = res ? 1 : 1234567890123ull + id; return 0; }
static int fixed_random(void *ud, uint8_t *buf, size_t len) { memset(buf, 0xab, len); return 0; }

typedef struct { int calls; uint64_t deadline; } sleep_state_t;
static int suspend_sleep(void *ud, uint64_t deadline)
{
    sleep_state_t *ss = ud;
    ss->calls++;
    ss->deadline = deadline;
    return WD_HOST_WASI_SLEEP_SUSPEND;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static uint8_t *read_file(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    uint8_t *b = malloc(1 << 16);
    *len = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

static wd_wasm_val_t call(wd_wasm_instance_t *inst, const char *name, const wd_wasm_val_t *args, uint32_t nargs)
{
    wd_wasm_extern_t ex;
    wd_wasm_val_t r;
    memset(&r, 0, sizeof(r));
    if (wd_wasm_instance_export(inst, name, strlen(name), &ex) != 0) { r.type = 0xff; return r; }
    uint32_t nres = wd_wasm_func_type(ex.of.func)->nresults;
    if (wd_wasm_call(inst, ex.of.func, args, nargs, &r, nres) != WD_WASM_OK) r.type = 0xfe;
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s API.wasm DIR\n", argv[0]); return 2; }
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    wd_wasm_error_t err;
    if (!bytes) { perror(argv[1]); return 2; }
    wd_wasm_module_t *m = wd_wasm_module_load(bytes, len, NULL, &err);
    if (!m) { fprintf(stderr, "load: %s\n", err.msg); return 2; }
    char path[1024];
    snprintf(path, sizeof(path), "%s/f.txt", argv[2]);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 2; }
    fputs("file\n", f);
    fclose(f);

    int fds0 = count_fds();
    wd_host_wasi_t *w = wd_host_wasi_new();
    wd_wasm_store_t *s = wd_wasm_store_new();
    in_t in = { "a request body that is longer than one short read\n", 0, 0, 0 };
    in.len = strlen(in.data);
    out_t out = { {0}, 0 }, errs = { {0}, 0 };
    wd_host_wasi_stream_t sin = { in_read, NULL, &in }, sout = { NULL, out_write, &out }, serr = { NULL, out_write, &errs };
    wd_host_wasi_stdio(w, 0, &sin);
    wd_host_wasi_stdio(w, 1, &sout);
    wd_host_wasi_stdio(w, 2, &serr);
    const char *args1[] = { "prog", "x", "y" };
    const char *env1[] = { "A=1", "B=2" };
    wd_host_wasi_set_args(w, 3, args1);
    wd_host_wasi_set_env(w, 2, env1);
    CHECK(wd_host_wasi_preopen(w, argv[2], "/data", WD_HOST_WASI_READONLY) == 3, "preopen returns guest fd 3");
    CHECK(wd_host_wasi_preopen(w, "/nonexistent/dir", "/x", 0) == -1 && errno == ENOENT,
          "preopen of a missing directory fails with errno ENOENT");

    uint32_t ni = wd_wasm_module_import_count(m);
    wd_wasm_extern_t *imp = calloc(ni, sizeof(*imp));
    int linked = wd_host_wasi_link(w, s, m, imp, &err);
    CHECK(linked == (int)ni, "link fills all %u wasi imports (got %d)", ni, linked);
    wd_wasm_instance_t *inst = wd_wasm_instantiate(s, m, imp, ni, NULL, &err);
    CHECK(inst != NULL, "instantiate");
    if (!inst) { printf("%d passed, %d failed\n", pass, fail + 1); return 1; }

    wd_wasm_val_t r = call(inst, "_start", NULL, 0);
    CHECK(r.type != 0xfe && out.len == in.len && memcmp(out.buf, in.data, in.len) == 0,
          "stdin callback (short reads) echoed to the stdout callback (%zu bytes)", out.len);
    CHECK(errs.len == 4 && memcmp(errs.buf, "err\n", 4) == 0, "stderr callback");
    CHECK(call(inst, "argc", NULL, 0).of.i32 == 3, "args_sizes_get sees 3 args");
    CHECK(call(inst, "envc", NULL, 0).of.i32 == 2, "environ_sizes_get sees 2 variables");
    in.eagain = 1;
    CHECK(call(inst, "read_rc", NULL, 0).of.i32 == WD_WASI_EAGAIN, "a stream returning -EAGAIN makes fd_read return EAGAIN");
    in.eagain = 0;
    in.pos = in.len;
    r = call(inst, "read_rc", NULL, 0);
    CHECK(r.of.i32 == 0, "fd_read at end of stream returns 0");

    int fd1 = (int)call(inst, "open", NULL, 0).of.i32, fd2 = (int)call(inst, "open", NULL, 0).of.i32;
    CHECK(fd1 == 4 && fd2 == 5, "path_open beneath the preopen gives fds 4, 5 (got %d, %d)", fd1, fd2);
    CHECK(count_fds() == fds0 + 3, "host fds: preopen + 2 files open (%d -> %d)", fds0, count_fds());
    wd_host_wasi_reset(w);
    CHECK(count_fds() == fds0 + 1, "reset closes guest-opened files (host fds %d)", count_fds());
    wd_wasm_val_t a1 = { .type = WD_WASM_I32, .of.i32 = 4 };
    CHECK(call(inst, "close", &a1, 1).of.i32 == WD_WASI_EBADF, "after reset fd 4 is closed (EBADF)");
    fd1 = (int)call(inst, "open", NULL, 0).of.i32;
    CHECK(fd1 == 4, "after reset the next open is fd 4 again (got %d)", fd1);
    wd_wasm_val_t a3 = { .type = WD_WASM_I32, .of.i32 = 3 };
    CHECK(call(inst, "close", &a3, 1).of.i32 == 0 && call(inst, "open", NULL, 0).of.i32 == (uint32_t)-WD_WASI_EBADF,
          "closing the preopen makes path_open fail with EBADF");
    wd_host_wasi_reset(w);
    CHECK(call(inst, "open", NULL, 0).of.i32 == 4, "reset restores a closed preopen");

    const char *args2[] = { "other" };
    wd_host_wasi_set_args(w, 1, args2);
    wd_host_wasi_set_env(w, 0, NULL);
    wd_host_wasi_add_env(w, "ONLY", "one");
    CHECK(call(inst, "argc", NULL, 0).of.i32 == 1 && call(inst, "envc", NULL, 0).of.i32 == 1,
          "set_args/set_env/add_env replace what the guest sees");

    wd_host_wasi_set_clock(w, fixed_clock, NULL);
    wd_host_wasi_set_random(w, fixed_random, NULL);
    CHECK(call(inst, "now", NULL, 0).of.i64 == 1234567890123ull, "clock source callback");
    CHECK(call(inst, "rand", NULL, 0).of.i32 == 0xabababab, "random source callback");
    wd_host_wasi_set_clock(w, NULL, NULL);
    wd_host_wasi_set_random(w, NULL, NULL);
    CHECK(call(inst, "now", NULL, 0).of.i64 > 1600000000ull * 1000000000ull, "default realtime clock");

    /* sleeping: the thread sleeps without a hook; with a hook that suspends, the call
     * returns SUSPENDED and resuming before the deadline suspends again at the same one */
    struct timespec t0, t1;
    wd_wasm_val_t ns = { .type = WD_WASM_I64, .of.i64 = 50 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = call(inst, "sleep", &ns, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    CHECK(r.of.i32 == 1 && el >= 0.049 && el < 2, "poll_oneoff sleeps 50 ms without a hook (%.3f s, rc %d)", el, (int)r.of.i32);
    sleep_state_t ss = { 0, 0 };
    wd_host_wasi_set_sleep(w, suspend_sleep, &ss);
    wd_wasm_extern_t sx;
    wd_wasm_instance_export(inst, "sleep", 5, &sx);
    wd_wasm_status_t st = wd_wasm_call(inst, sx.of.func, &ns, 1, &r, 1);
    uint64_t first_deadline = ss.deadline;
    CHECK(st == WD_WASM_SUSPENDED && ss.calls == 1, "a suspending sleep hook suspends the call (status %d)", (int)st);
    st = wd_wasm_resume(inst, &r, 1);
    CHECK(st == WD_WASM_SUSPENDED && ss.calls == 2 && ss.deadline == first_deadline,
          "an early resume suspends again at the same deadline");
    struct timespec nap = { 0, 60 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    st = wd_wasm_resume(inst, &r, 1);
    CHECK(st == WD_WASM_OK && r.of.i32 == 1 && ss.calls == 2,
          "resuming after the deadline completes poll_oneoff with the clock event (status %d, rc %d)", (int)st, (int)r.of.i32);
    wd_host_wasi_set_sleep(w, NULL, NULL);

    wd_host_wasi_stdio(w, 1, NULL);
    out.len = 0;
    in.pos = 0;
    call(inst, "_start", NULL, 0);
    CHECK(out.len == 0, "a closed stdout stream receives nothing");

    wd_wasm_store_free(s);
    wd_host_wasi_free(w);
    CHECK(count_fds() == fds0, "free closes the preopen (host fds back to %d)", fds0);
    free(imp);
    wd_wasm_module_free(m);

    /* link errors */
    static const uint8_t unknown_mod[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                                  /* type () -> () */
        0x02, 0x1f, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_',
        'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x04, 'n', 'o', 'p', 'e', 0x00, 0x00,
    };
    static const uint8_t badsig_mod[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
        0x02, 0x22, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_',
        'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x07, 'f', 'd', '_', 'r', 'e', 'a', 'd', 0x00, 0x00,
    };
    const struct { const uint8_t *b; size_t n; const char *want; } cases[] = {
        { unknown_mod, sizeof(unknown_mod), "unknown import: wasi_snapshot_preview1::nope" },
        { badsig_mod, sizeof(badsig_mod), "incompatible import type: wasi_snapshot_preview1::fd_read" },
    };
    for (size_t i = 0; i < 2; i++) {
        wd_wasm_module_t *bm = wd_wasm_module_load(cases[i].b, cases[i].n, NULL, &err);
        if (!bm) { CHECK(0, "load link-error case %zu: %s", i, err.msg); continue; }
        w = wd_host_wasi_new();
        s = wd_wasm_store_new();
        wd_wasm_extern_t one[1];
        memset(one, 0, sizeof(one));
        int rc = wd_host_wasi_link(w, s, bm, one, &err);
        CHECK(rc == -1 && strcmp(err.msg, cases[i].want) == 0, "link error \"%s\" (got %d \"%s\")", cases[i].want, rc,
              rc == -1 ? err.msg : "");
        wd_wasm_store_free(s);
        wd_host_wasi_free(w);
        wd_wasm_module_free(bm);
    }
    free(bytes);
    printf("%d passed, %d failed\n", pass, fail);
    return fail != 0;
}
