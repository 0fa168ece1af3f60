/*
 * wd_host_run.c -- the `wasmd run` command: load a module, link its WASI
 * preview1 imports to a context that passes stdio through and exposes only
 * what the options grant (--env, --dir, --dir-rw), instantiate it with the
 * requested limits, then call _start (a WASI command) or the --invoke export.
 *
 * The host environment is never passed implicitly: `--env NAME=VALUE` sets a
 * variable and `--env NAME` copies the host's value of NAME if it has one.
 * --invoke arguments are parsed by the export's parameter types (decimal or
 * 0x hex integers, floats as strtod accepts them incl. nan/inf); they may be
 * given right after NAME (numeric tokens) or after FILE.wasm, as wasmtime does.
 * A v128 argument is four comma-separated i32 lanes ("1,2,0x3,-4", lane 0
 * first). Results are printed one per line: integers signed decimal, f32 with
 * %.9g, f64 with %.17g, v128 as "i32x4 0x........ x4" (lane 0 first). --fuel N gives N units to instantiation and N to the call.
 *
 * wasi:keyvalue and wasi:config (core modules and components): `--keyvalue 'NAME KIND
 * LOCATION [PARAM=VALUE...]'` names a store the guest may open, with keyvalue_store's
 * arguments (lmdb DIR [max_size=SIZE], redis redis://... [pool=N] [timeout=TIME]);
 * `--config KEY=VALUE` feeds wasi:config/store. The stores run on a libuv loop of this
 * process: a call that waits for its store suspends the guest, the loop runs until the
 * store answers, and the call resumes (as in the server, without other requests to serve).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wd_wasm.h"
#include "wasi/wd_host_wasi.h"
#include "wd_host_run.h"
#include "component/wd_comp.h"
#include "wd_host_comp.h"
#include "p3/wd_host_p3.h"
#include "kv/wd_host_kv.h"

int (*wd_run_sandbox)(int n, const char *const *paths, const int *rw);

typedef struct {
    const char *host, *guest;
    unsigned flags;
} wd_run_dir_t;

typedef struct {
    uint64_t fuel;
    uint64_t max_memory;
    const char **env;
    int nenv;
    wd_run_dir_t *dirs;
    int ndirs;
    const char *invoke;
    const char **iargs;
    int niargs;
    const char *file;
    int no_sandbox;
    char **args;               /* argv for the guest: FILE then ARGS */
    int nargs;
    const char *argv0;         /* --argv0: the guest's argv[0] instead of FILE */
    const char **kv;           /* --keyvalue 'NAME KIND LOCATION [PARAM=VALUE...]' */
    int nkv;
    const char **config;       /* --config KEY=VALUE */
    int nconfig;
} wd_run_opts_t;

/* the stores of --keyvalue, on this process's loop */
typedef struct {
    uv_loop_t loop;
    int loop_ok;
    size_t n;
    const wd_kv_backend_t **be;
    void **conf;
    wd_host_kv_store_t *stores;
    char **words;              /* the split --keyvalue arguments */
    const char **paths;        /* LMDB directories (the sandbox keeps them writable) */
    int npaths;
    wd_host_kv_conf_t kvc;
} wd_run_kv_t;

static void wd_run_usage(FILE *f)
{
    fprintf(f,
        "usage: wasmd run [options] FILE.wasm [ARGS...]\n"
        "  --fuel N                 fuel budget (instantiation, then the call); 0 = unlimited\n"
        "  --max-memory SIZE        linear memory limit, k/m/g suffixes (KiB/MiB/GiB)\n"
        "  --env NAME=VALUE         set a guest environment variable (NAME alone: copy the host's)\n"
        "  --dir HOST[::GUEST]      preopen a host directory read-only (as GUEST, default HOST)\n"
        "  --dir-rw HOST[::GUEST]   preopen a host directory read-write\n"
        "  --argv0 NAME             the guest's first argument (default: FILE)\n"
        "  --no-sandbox             do not confine the process (seccomp, Landlock, capabilities)\n"
        "  --keyvalue 'NAME KIND LOCATION [PARAM=VALUE...]'\n"
        "                           a wasi:keyvalue store the guest may open: lmdb DIR\n"
        "                           [max_size=SIZE] | redis redis://[:pw@]host:port[/db]\n"
        "                           [pool=N] [timeout=TIME] (as keyvalue_store)\n"
        "  --config KEY=VALUE       a wasi:config/store value\n"
        "  --invoke NAME [ARGS...]  call export NAME with ARGS (parsed by its parameter types)\n"
        "                           instead of _start; prints the results one per line\n"
        "exit status: the program's exit code; %d after a trap; %d on load/link/usage errors\n",
        WD_RUN_EXIT_TRAP, WD_RUN_EXIT_ERROR);
}

/* SIZE with optional k/m/g suffix (binary units); returns -1 on a bad number. */
static int wd_run_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return -1;
    }
    if (*end == 'b' || *end == 'B') end++;
    if (*end != '\0') return -1;
    if (shift && v > (UINT64_MAX >> shift)) return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int wd_run_is_number(const char *s)
{
    char *end;
    if (*s == '\0') return 0;
    strtod(s, &end);
    if (*end == '\0') return 1;
    if (*s == '-' || *s == '+') s++;
    return strcmp(s, "nan") == 0 || strcmp(s, "inf") == 0 || strcmp(s, "infinity") == 0;
}

/* Option value: "--opt=value" or "--opt value". */
static const char *wd_run_optval(int argc, char **argv, int *i, const char *name)
{
    size_t l = strlen(name);
    if (strncmp(argv[*i], name, l) == 0 && argv[*i][l] == '=') return argv[*i] + l + 1;
    if (strcmp(argv[*i], name) != 0) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wasmd: option %s needs a value\n", name);
        return "";
    }
    return argv[++*i];
}

static int wd_run_parse(int argc, char **argv, wd_run_opts_t *o)
{
    int i;
    const char *v;
    o->env = calloc((size_t)argc + 1, sizeof(char *));
    o->dirs = calloc((size_t)argc + 1, sizeof(wd_run_dir_t));
    o->iargs = calloc((size_t)argc + 1, sizeof(char *));
    o->kv = calloc((size_t)argc + 1, sizeof(char *));
    o->config = calloc((size_t)argc + 1, sizeof(char *));
    if (!o->env || !o->dirs || !o->iargs || !o->kv || !o->config) return -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        if (a[0] != '-' || a[1] == '\0') break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { wd_run_usage(stdout); return 1; }
        if (strcmp(a, "--no-sandbox") == 0) { o->no_sandbox = 1; continue; }
        if ((v = wd_run_optval(argc, argv, &i, "--fuel"))) {
            char *end;
            errno = 0;
            o->fuel = strtoull(v, &end, 10);
            if (*v == '\0' || *v == '-' || *end || errno) {
                fprintf(stderr, "wasmd: invalid --fuel value \"%s\"\n", v);
                return -1;
            }
        } else if ((v = wd_run_optval(argc, argv, &i, "--max-memory"))) {
            if (wd_run_parse_size(v, &o->max_memory) != 0 || o->max_memory == 0) {
                fprintf(stderr, "wasmd: invalid --max-memory value \"%s\"\n", v);
                return -1;
            }
        } else if ((v = wd_run_optval(argc, argv, &i, "--argv0"))) {
            o->argv0 = v;
        } else if ((v = wd_run_optval(argc, argv, &i, "--env"))) {
            if (*v == '\0' || *v == '=') {
                fprintf(stderr, "wasmd: invalid --env value \"%s\" (NAME=VALUE)\n", v);
                return -1;
            }
            o->env[o->nenv++] = v;
        } else if ((v = wd_run_optval(argc, argv, &i, "--dir")) ||
                   (v = wd_run_optval(argc, argv, &i, "--dir-rw"))) {
            wd_run_dir_t *d = &o->dirs[o->ndirs];
            if (*v == '\0') { fprintf(stderr, "wasmd: empty directory for %s\n", a); return -1; }
            d->flags = strncmp(a, "--dir-rw", 8) == 0 ? WD_HOST_WASI_READWRITE : WD_HOST_WASI_READONLY;
            const char *sep = strstr(v, "::");
            if (sep) {
                char *h = strndup(v, (size_t)(sep - v));
                if (h == NULL) return -1;
                d->host = h;
                d->guest = sep + 2;
                if (*d->host == '\0' || *d->guest == '\0') {
                    fprintf(stderr, "wasmd: invalid %s value \"%s\" (HOST[::GUEST])\n", a, v);
                    return -1;
                }
            } else {
                d->host = v;
                d->guest = v;
            }
            o->ndirs++;
        } else if ((v = wd_run_optval(argc, argv, &i, "--keyvalue"))) {
            if (*v == '\0') { fprintf(stderr, "wasmd: --keyvalue needs 'NAME KIND LOCATION'\n"); return -1; }
            o->kv[o->nkv++] = v;
        } else if ((v = wd_run_optval(argc, argv, &i, "--config"))) {
            if (*v == '\0' || *v == '=' || strchr(v, '=') == NULL) {
                fprintf(stderr, "wasmd: invalid --config value \"%s\" (KEY=VALUE)\n", v);
                return -1;
            }
            o->config[o->nconfig++] = v;
        } else if ((v = wd_run_optval(argc, argv, &i, "--invoke"))) {
            if (*v == '\0') { fprintf(stderr, "wasmd: --invoke needs an export name\n"); return -1; }
            o->invoke = v;
            while (i + 1 < argc && wd_run_is_number(argv[i + 1])) {
                struct stat st;
                if (stat(argv[i + 1], &st) == 0) break;   /* a file that looks like a number */
                o->iargs[o->niargs++] = argv[++i];
            }
        } else {
            fprintf(stderr, "wasmd: unknown option \"%s\"\n", a);
            wd_run_usage(stderr);
            return -1;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "wasmd: no module file given\n");
        wd_run_usage(stderr);
        return -1;
    }
    o->file = argv[i];
    o->args = argv + i;
    o->nargs = argc - i;
    if (o->argv0)
        argv[i] = (char *)o->argv0;         /* o->file keeps the path */
    if (o->invoke) {
        for (int k = i + 1; k < argc; k++) o->iargs[o->niargs++] = argv[k];
        o->nargs = 1;
    }
    return 0;
}

static uint8_t *wd_run_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *buf = NULL;
    size_t cap, n = 0;
    if (fd < 0) return NULL;
    if (fstat(fd, &st) != 0) goto fail;
    if (S_ISDIR(st.st_mode)) { errno = EISDIR; goto fail; }
    cap = st.st_size > 0 ? (size_t)st.st_size : 65536;
    buf = malloc(cap ? cap : 1);
    if (buf == NULL) goto fail;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) goto fail;
            buf = nb; cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) { if (errno == EINTR) continue; goto fail; }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
fail:
    { int e = errno; free(buf); close(fd); errno = e; }
    return NULL;
}

static const char *wd_run_typename(uint8_t t)
{
    switch (t) {
    case WD_WASM_I32: return "i32";
    case WD_WASM_I64: return "i64";
    case WD_WASM_F32: return "f32";
    case WD_WASM_F64: return "f64";
    case WD_WASM_V128: return "v128";
    case WD_WASM_FUNCREF: return "funcref";
    case WD_WASM_EXTERNREF: return "externref";
    default: return "?";
    }
}

static int wd_run_parse_val(const char *s, uint8_t type, wd_wasm_val_t *v)
{
    char *end;
    v->type = type;
    errno = 0;
    switch (type) {
    case WD_WASM_I32:
    case WD_WASM_I64: {
        int neg = s[0] == '-';
        uint64_t u;
        if (neg) {
            long long x = strtoll(s, &end, 0);
            if (type == WD_WASM_I32 && x < INT32_MIN) return -1;
            u = (uint64_t)x;
        } else {
            u = strtoull(s, &end, 0);
            if (s[0] == '+') return -1;
            if (type == WD_WASM_I32 && u > UINT32_MAX) return -1;
        }
        if (errno || end == s || *end) return -1;
        if (type == WD_WASM_I32) v->of.i32 = (uint32_t)u;
        else v->of.i64 = u;
        return 0;
    }
    case WD_WASM_F32: {
        float f = strtof(s, &end);
        if (end == s || *end) return -1;
        memcpy(&v->of.f32, &f, 4);
        return 0;
    }
    case WD_WASM_F64: {
        double d = strtod(s, &end);
        if (end == s || *end) return -1;
        memcpy(&v->of.f64, &d, 8);
        return 0;
    }
    case WD_WASM_EXTERNREF:
        if (strcmp(s, "null") == 0) { v->of.extern_ref = 0; return 0; }
        v->of.extern_ref = (uintptr_t)strtoull(s, &end, 0);
        return (end == s || *end || errno) ? -1 : 0;
    case WD_WASM_FUNCREF:
        if (strcmp(s, "null") == 0) { v->of.func = NULL; return 0; }
        return -1;
    case WD_WASM_V128: {
        const char *p = s;
        for (int i = 0; i < 4; i++) {
            char lane[64];
            size_t n = strcspn(p, ",");
            if (n == 0 || n >= sizeof lane || (i < 3) != (p[n] == ',')) return -1;
            memcpy(lane, p, n);
            lane[n] = 0;
            wd_wasm_val_t x;
            if (wd_run_parse_val(lane, WD_WASM_I32, &x) != 0) return -1;
            memcpy(v->of.v128 + 4 * i, &x.of.i32, 4);
            p += n + (i < 3);
        }
        v->type = WD_WASM_V128;
        return 0;
    }
    default:
        return -1;
    }
}

static void wd_run_print_val(const wd_wasm_val_t *v)
{
    switch (v->type) {
    case WD_WASM_I32: printf("%" PRId32 "\n", (int32_t)v->of.i32); break;
    case WD_WASM_I64: printf("%" PRId64 "\n", (int64_t)v->of.i64); break;
    case WD_WASM_F32: {
        float f;
        memcpy(&f, &v->of.f32, 4);
        if (isnan(f)) printf("%snan\n", (v->of.f32 >> 31) ? "-" : "");
        else printf("%.9g\n", (double)f);
        break;
    }
    case WD_WASM_F64: {
        double d;
        memcpy(&d, &v->of.f64, 8);
        if (isnan(d)) printf("%snan\n", (v->of.f64 >> 63) ? "-" : "");
        else printf("%.17g\n", d);
        break;
    }
    case WD_WASM_FUNCREF: printf(v->of.func ? "ref.func\n" : "ref.null func\n"); break;
    case WD_WASM_EXTERNREF:
        if (v->of.extern_ref) printf("ref.extern %" PRIuPTR "\n", v->of.extern_ref);
        else printf("ref.null extern\n");
        break;
    case WD_WASM_V128: {
        uint32_t l[4];
        memcpy(l, v->of.v128, 16);
        printf("i32x4 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 "\n", l[0], l[1], l[2], l[3]);
        break;
    }
    default: printf("<%s>\n", wd_run_typename(v->type)); break;
    }
}

static int wd_run_report_trap(wd_wasm_instance_t *inst)
{
    const wd_wasm_trap_t *t = wd_wasm_last_trap(inst);
    if (t->kind == WD_TRAP_EXIT) return wd_wasm_exit_code(inst) & 0xff;
    const char *msg = t->msg[0] ? t->msg : wd_wasm_trap_kind_message(t->kind);
    fflush(stdout);
    if (t->func_index >= 0)
        fprintf(stderr, "wasmd: trap: %s (in function %" PRId64 ")\n", msg, t->func_index);
    else
        fprintf(stderr, "wasmd: trap: %s\n", msg);
    return WD_RUN_EXIT_TRAP;
}

/* The sandbox of wasmd run: the preopened trees only (see wd_host_run.h), and the
 * directories of LMDB stores (read-write). */
static int wd_run_confine(const wd_run_opts_t *o, const wd_run_kv_t *rk)
{
    if (o->no_sandbox || !wd_run_sandbox)
        return 0;
    const char **paths = calloc((size_t)(o->ndirs + rk->npaths) + 1, sizeof(char *));
    int *rw = calloc((size_t)(o->ndirs + rk->npaths) + 1, sizeof(int));
    if (paths == NULL || rw == NULL) {
        free(paths);
        free(rw);
        fprintf(stderr, "wasmd: out of memory\n");
        return -1;
    }
    for (int i = 0; i < o->ndirs; i++) {
        paths[i] = o->dirs[i].host;
        rw[i] = o->dirs[i].flags == WD_HOST_WASI_READWRITE;
    }
    for (int i = 0; i < rk->npaths; i++) {
        paths[o->ndirs + i] = rk->paths[i];
        rw[o->ndirs + i] = 1;
    }
    int r = wd_run_sandbox(o->ndirs + rk->npaths, paths, rw);
    free(paths);
    free(rw);
    return r;
}

/* ---------------------------------------------------------------- wasi:keyvalue stores */

static uv_loop_t *wd_run_kv_loop(void *ud)
{
    wd_run_kv_t *rk = ud;
    return rk->loop_ok ? &rk->loop : NULL;
}

/* parse, create and open every --keyvalue store; -1 after printing why */
static int wd_run_kv_open(const wd_run_opts_t *o, wd_run_kv_t *rk)
{
    char msg[512];
    wd_kv_env_t env = { wd_run_kv_loop, NULL, rk };
    size_t n = (size_t)o->nkv;
    rk->n = 0;
    rk->be = calloc(n + 1, sizeof(*rk->be));
    rk->conf = calloc(n + 1, sizeof(*rk->conf));
    rk->stores = calloc(n + 1, sizeof(*rk->stores));
    rk->words = calloc(n + 1, sizeof(*rk->words));
    rk->paths = calloc(n + 1, sizeof(*rk->paths));
    if (!rk->be || !rk->conf || !rk->stores || !rk->words || !rk->paths) {
        fprintf(stderr, "wasmd: out of memory\n");
        return -1;
    }
    rk->kvc.stores = rk->stores;
    rk->kvc.config = o->config;
    rk->kvc.nconfig = (size_t)o->nconfig;
    if (n == 0)
        return 0;
    if (uv_loop_init(&rk->loop) != 0) {
        fprintf(stderr, "wasmd: cannot make an event loop\n");
        return -1;
    }
    rk->loop_ok = 1;
    for (size_t i = 0; i < n; i++) {
        /* NAME KIND LOCATION [PARAM=VALUE...], separated by spaces */
        const char *w[64];
        size_t nw = 0;
        char *p = rk->words[i] = strdup(o->kv[i]);
        if (p == NULL) {
            fprintf(stderr, "wasmd: out of memory\n");
            return -1;
        }
        for (char *t = strtok(p, " \t"); t && nw < 64; t = strtok(NULL, " \t"))
            w[nw++] = t;
        const wd_kv_backend_t *be = nw >= 2 ? wd_kv_backend_find(w[1], strlen(w[1])) : NULL;
        if (nw < 3 || be == NULL) {
            fprintf(stderr, "wasmd: --keyvalue \"%s\": expected 'NAME lmdb DIR [max_size=SIZE]'"
                    " or 'NAME redis redis://HOST:PORT[/DB] [pool=N] [timeout=TIME]'\n", o->kv[i]);
            return -1;
        }
        for (size_t j = 0; j < rk->n; j++)
            if (strcmp(rk->stores[j].name, w[0]) == 0) {
                fprintf(stderr, "wasmd: --keyvalue: store \"%s\" is given twice\n", w[0]);
                return -1;
            }
        if ((rk->conf[i] = calloc(1, be->conf_size)) == NULL) {
            fprintf(stderr, "wasmd: out of memory\n");
            return -1;
        }
        rk->be[i] = be;
        rk->stores[i].name = w[0];
        rk->stores[i].granted = 1;
        rk->n++;
        if (be->parse(rk->conf[i], w[2], w + 3, nw - 3, msg, sizeof(msg)) != 0
            || (be->create && be->create(rk->conf[i], -1, -1, &env, msg, sizeof(msg)) != 0)
            || (rk->stores[i].data = be->open(rk->conf[i], &env, msg, sizeof(msg))) == NULL) {
            fprintf(stderr, "wasmd: --keyvalue \"%s\": %s\n", w[0], msg);
            return -1;
        }
        rk->stores[i].ops = be->ops;
        if (be->is_path)
            rk->paths[rk->npaths++] = w[2];
    }
    rk->kvc.nstores = rk->n;
    return 0;
}

static void wd_run_kv_close(wd_run_kv_t *rk)
{
    for (size_t i = 0; i < rk->n; i++)
        if (rk->stores[i].data && rk->be[i]->shutdown)
            rk->be[i]->shutdown(rk->stores[i].data);
    if (rk->loop_ok)
        uv_run(&rk->loop, UV_RUN_DEFAULT);        /* closes what the backends closed */
    for (size_t i = 0; i < rk->n; i++) {
        if (rk->stores[i].data)
            rk->be[i]->close(rk->stores[i].data);
        free(rk->conf[i]);
        free(rk->words[i]);
    }
    if (rk->loop_ok && uv_loop_close(&rk->loop) != 0) {
        uv_run(&rk->loop, UV_RUN_DEFAULT);
        uv_loop_close(&rk->loop);
    }
    free(rk->be);
    free(rk->conf);
    free(rk->stores);
    free(rk->words);
    free(rk->paths);
}

static void wd_run_kv_wake(void *ud)
{
    (void)ud;                 /* the loop returns to wd_run_call, which sees the call is done */
}

/* wd_wasm_call, and while the guest waits for a store: the loop, then wd_wasm_resume */
static wd_wasm_status_t wd_run_call(wd_run_kv_t *rk, wd_host_kv_t *kv, wd_wasm_instance_t *inst,
                                    wd_wasm_func_t *f, const wd_wasm_val_t *params, uint32_t np,
                                    wd_wasm_val_t *results, uint32_t nr)
{
    wd_wasm_status_t st = wd_wasm_call(inst, f, params, np, results, nr);
    while (st == WD_WASM_SUSPENDED && kv && rk->loop_ok) {
        while (wd_host_kv_waiting(kv))
            if (uv_run(&rk->loop, UV_RUN_ONCE) == 0 && wd_host_kv_waiting(kv))
                return st;    /* nothing left that could wake it (cannot happen) */
        st = wd_wasm_resume(inst, results, nr);
    }
    return st;
}

/* A wasi:cli/command component: its wasi:cli/run@0.2.x#run export called once, with the
 * arguments, --env and --dir preopens, the process's stdio (src/host/wd_host_comp.h, stdio
 * mode). Exit status: 0 when run returns ok, 1 when it returns err, the code of exit /
 * exit-with-code, 134 after a trap. */
static int wd_run_component(const wd_run_opts_t *o, const uint8_t *bytes, size_t len,
                            wd_run_kv_t *rk)
{
    wd_comp_error_t cerr;
    wd_comp_t *c = NULL;
    wd_host_comp_t *hc = NULL;
    wd_wasm_store_t *s = NULL;
    wd_comp_instance_t *ci = NULL;
    wd_host_comp_dir_t *dirs = NULL;
    char **env = NULL;
    int rc = WD_RUN_EXIT_ERROR;

    memset(&cerr, 0, sizeof(cerr));
    cerr.offset = -1;
    c = wd_comp_load(bytes, len, NULL, &cerr);
    if (c == NULL || wd_host_comp_check(c, &cerr) != 0) {
        if (cerr.offset >= 0)
            fprintf(stderr, "wasmd: %s: component: %s at byte offset %" PRId64 "\n", o->file,
                    cerr.msg, cerr.offset);
        else
            fprintf(stderr, "wasmd: %s: component: %s\n", o->file, cerr.msg);
        goto done;
    }
    const wd_comp_plan_t *plan = wd_comp_get_plan(c);
    uint32_t li = plan->nlifts;
    for (uint32_t i = 0; i < plan->nlifts; i++) {
        const char *n = plan->lifts[i].name;
        if (strncmp(n, "wasi:cli/run@0.2.", 17) == 0 && strlen(n) > 4
            && strcmp(n + strlen(n) - 4, "#run") == 0)
            li = i;
    }
    int p3 = 0;
    if (li == plan->nlifts) {
        for (uint32_t i = 0; i < plan->nlifts; i++)
            if (strncmp(plan->lifts[i].name, "wasi:cli/run@0.3.", 17) == 0
                && strcmp(plan->lifts[i].name + strlen(plan->lifts[i].name) - 4, "#run") == 0)
                li = i, p3 = 1;
    }
    if (li == plan->nlifts) {
        fprintf(stderr, "wasmd: %s: component: no wasi:cli/run@0.2.x#run export (not a "
                "wasi:cli/command; a wasi:http handler is served with wasm_handler)\n", o->file);
        goto done;
    }
    if (o->invoke) {
        fprintf(stderr, "wasmd: %s: --invoke is for core modules\n", o->file);
        goto done;
    }
    /* --env NAME=VALUE, or NAME: the host's value */
    env = calloc((size_t)o->nenv + 1, sizeof(char *));
    dirs = calloc((size_t)o->ndirs + 1, sizeof(*dirs));
    if (env == NULL || dirs == NULL)
        goto oom;
    int nenv = 0;
    for (int i = 0; i < o->nenv; i++) {
        if (strchr(o->env[i], '=')) {
            env[nenv] = strdup(o->env[i]);
        } else {
            const char *hv = getenv(o->env[i]);
            if (hv == NULL)
                continue;
            size_t l = strlen(o->env[i]) + strlen(hv) + 2;
            if ((env[nenv] = malloc(l)) != NULL)
                snprintf(env[nenv], l, "%s=%s", o->env[i], hv);
        }
        if (env[nenv++] == NULL)
            goto oom;
    }
    for (int i = 0; i < o->ndirs; i++) {
        dirs[i].host_path = o->dirs[i].host;
        dirs[i].guest_path = o->dirs[i].guest;
        dirs[i].rw = o->dirs[i].flags == WD_HOST_WASI_READWRITE;
    }
    wd_host_comp_conf_t conf;
    memset(&conf, 0, sizeof(conf));
    conf.http.env = (const char *const *)env;
    conf.http.nenv = (size_t)nenv;
    conf.http.args = (const char *const *)o->args;
    conf.http.nargs = (size_t)o->nargs;
    conf.http.stdio = 1;
    conf.dirs = dirs;
    conf.ndirs = (size_t)o->ndirs;
    conf.kv = &rk->kvc;
    hc = wd_host_comp_new(&conf);
    s = wd_wasm_store_new();
    if (hc == NULL || s == NULL)
        goto oom;
    wd_wasm_limits_t lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_memory_bytes = o->max_memory;
    lim.fuel = o->fuel;
    ci = wd_comp_instantiate(c, s, wd_host_comp_host(hc), &lim, &cerr);
    if (ci == NULL || wd_host_comp_attach(hc, c, ci, &cerr) != 0) {
        fprintf(stderr, "wasmd: %s: component: %s\n", o->file, cerr.msg);
        goto done;
    }
    wd_host_kv_t *kv = rk->loop_ok ? wd_host_comp_kv(hc) : NULL;
    if (kv)
        wd_host_kv_set_wake(kv, wd_run_kv_wake, NULL);
    if (wd_run_confine(o, rk) < 0)
        goto done;
    const wd_comp_bound_lift_t *run = wd_comp_instance_lift(ci, li);
    wd_wasm_instance_t *th = wd_host_comp_thread(hc);
    wd_wasm_val_t res[1];
    memset(res, 0, sizeof(res));
    if (o->fuel)
        wd_wasm_set_fuel(th, o->fuel);
    if (p3) {                   /* WASI 0.3: an async task run with its callbacks to the end */
        char msg[300];
        int status = 0;
        if (wd_host_p3_run(wd_host_comp_p3(hc), &plan->lifts[li], run, th, &status, msg,
                           sizeof msg) == 0) {
            rc = status;
        } else {
            const wd_wasm_trap_t *t = wd_wasm_last_trap(th);
            if (t && t->kind == WD_TRAP_EXIT) {
                rc = wd_wasm_exit_code(th);
            } else {
                fprintf(stderr, "wasmd: %s: trap: %s\n", o->file, msg);
                rc = WD_RUN_EXIT_TRAP;
            }
        }
        fflush(stdout);
        goto done;
    }
    wd_wasm_status_t st = wd_run_call(rk, kv, th, run->func, NULL, 0, res, 1);
    if (st == WD_WASM_OK) {
        rc = res[0].of.i32 == 0 ? 0 : 1;          /* result: ok / err */
        if (run->post_return
            && wd_wasm_call(th, run->post_return, res, 1, NULL, 0) != WD_WASM_OK)
            rc = wd_run_report_trap(th);
    } else if (st == WD_WASM_TRAP) {
        rc = wd_run_report_trap(th);
    } else {
        fprintf(stderr, "wasmd: %s: call suspended with nothing to resume it\n", o->file);
        wd_wasm_abort(th);
        rc = WD_RUN_EXIT_TRAP;
    }
    fflush(stdout);
    goto done;

oom:
    fprintf(stderr, "wasmd: out of memory\n");
    rc = WD_RUN_EXIT_ERROR;
done:
    if (ci)
        wd_comp_instance_free(ci);
    if (s)
        wd_wasm_store_free(s);
    wd_host_comp_free(hc);
    if (c)
        wd_comp_free(c);
    for (int i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
    free(dirs);
    return rc;
}

int wd_run_main(int argc, char **argv)
{
    wd_run_opts_t o;
    wd_wasm_error_t err;
    wd_wasm_module_t *m = NULL;
    wd_wasm_store_t *s = NULL;
    wd_host_wasi_t *w = NULL;
    wd_host_kv_t *kv = NULL;
    wd_run_kv_t rk;
    wd_wasm_extern_t *imports = NULL;
    wd_wasm_instance_t *inst = NULL;
    wd_wasm_val_t *params = NULL, *results = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = WD_RUN_EXIT_ERROR;

    memset(&o, 0, sizeof(o));
    memset(&err, 0, sizeof(err));
    memset(&rk, 0, sizeof(rk));
    int pr = wd_run_parse(argc, argv, &o);
    if (pr != 0) { rc = pr > 0 ? 0 : WD_RUN_EXIT_ERROR; goto done; }
    if (wd_run_kv_open(&o, &rk) != 0) goto done;

    bytes = wd_run_read_file(o.file, &len);
    if (bytes == NULL) {
        fprintf(stderr, "wasmd: %s: %s\n", o.file, strerror(errno));
        goto done;
    }
    if (wd_comp_is_component(bytes, len)) {
        rc = wd_run_component(&o, bytes, len, &rk);
        free(bytes);
        bytes = NULL;
        goto done;
    }
    m = wd_wasm_module_load(bytes, len, NULL, &err);
    free(bytes);
    bytes = NULL;
    if (m == NULL) {
        if (err.offset >= 0)
            fprintf(stderr, "wasmd: %s: %s at byte offset %" PRId64 "\n", o.file, err.msg, err.offset);
        else
            fprintf(stderr, "wasmd: %s: %s\n", o.file, err.msg);
        goto done;
    }

    s = wd_wasm_store_new();
    w = wd_host_wasi_new();
    if (s == NULL || w == NULL) { fprintf(stderr, "wasmd: out of memory\n"); goto done; }
    if (wd_host_wasi_set_args(w, o.nargs, (const char *const *)o.args) != 0) goto oom;
    for (int i = 0; i < o.nenv; i++) {
        const char *eq = strchr(o.env[i], '=');
        if (eq) {
            char *name = strndup(o.env[i], (size_t)(eq - o.env[i]));
            int r = name ? wd_host_wasi_add_env(w, name, eq + 1) : -1;
            free(name);
            if (r != 0) goto oom;
        } else {
            const char *hv = getenv(o.env[i]);
            if (hv && wd_host_wasi_add_env(w, o.env[i], hv) != 0) goto oom;
        }
    }
    for (int i = 0; i < 3; i++) wd_host_wasi_stdio_fd(w, i, i);
    for (int i = 0; i < o.ndirs; i++) {
        if (wd_host_wasi_preopen(w, o.dirs[i].host, o.dirs[i].guest, o.dirs[i].flags) < 0) {
            fprintf(stderr, "wasmd: --dir %s: %s\n", o.dirs[i].host, strerror(errno));
            goto done;
        }
    }

    uint32_t nimp = wd_wasm_module_import_count(m);
    imports = calloc(nimp ? nimp : 1, sizeof(*imports));
    if (imports == NULL) goto oom;
    if (wd_host_wasi_link(w, s, m, imports, &err) < 0) {
        fprintf(stderr, "wasmd: %s: %s\n", o.file, err.msg);
        goto done;
    }
    /* wasi:keyvalue / wasi:config imports: the --keyvalue stores, --config values */
    if ((kv = wd_host_kv_new(&rk.kvc)) == NULL) goto oom;
    if (wd_host_kv_link(kv, s, m, imports, err.msg, sizeof(err.msg)) < 0) {
        fprintf(stderr, "wasmd: %s: %s\n", o.file, err.msg);
        goto done;
    }
    for (uint32_t i = 0; i < nimp; i++) {
        if (imports[i].kind == WD_WASM_EXTERN_FUNC && imports[i].of.func != NULL) continue;
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        fprintf(stderr, "wasmd: %s: unknown import: %.*s::%.*s\n", o.file, (int)d->module_len,
                d->module, (int)d->name_len, d->name);
        goto done;
    }

    wd_wasm_limits_t lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_memory_bytes = o.max_memory;
    lim.fuel = o.fuel;
    inst = wd_wasm_instantiate(s, m, imports, nimp, &lim, &err);
    if (inst == NULL) {
        fprintf(stderr, "wasmd: %s: %s\n", o.file, err.msg);
        goto done;
    }
    if (wd_host_kv_attach(kv, inst, err.msg, sizeof(err.msg)) < 0) {
        fprintf(stderr, "wasmd: %s: %s\n", o.file, err.msg);
        goto done;
    }
    if (rk.loop_ok)
        wd_host_kv_set_wake(kv, wd_run_kv_wake, NULL);

    if (wd_run_confine(&o, &rk) < 0)
        goto done;

    const char *fname = o.invoke ? o.invoke : "_start";
    wd_wasm_extern_t ex;
    if (wd_wasm_instance_export(inst, fname, strlen(fname), &ex) != 0 ||
        ex.kind != WD_WASM_EXTERN_FUNC) {
        if (o.invoke) fprintf(stderr, "wasmd: %s: no exported function \"%s\"\n", o.file, fname);
        else fprintf(stderr, "wasmd: %s: no \"_start\" export (not a WASI command; use --invoke NAME)\n",
                     o.file);
        goto done;
    }
    const wd_wasm_functype_t *ft = wd_wasm_func_type(ex.of.func);
    if (o.invoke) {
        if ((uint32_t)o.niargs != ft->nparams) {
            fprintf(stderr, "wasmd: %s expects %u argument%s, got %d\n", fname, ft->nparams,
                    ft->nparams == 1 ? "" : "s", o.niargs);
            goto done;
        }
        /* A reactor initializes itself before its exports are used. */
        wd_wasm_extern_t init;
        if (wd_wasm_instance_export(inst, "_initialize", 11, &init) == 0 &&
            init.kind == WD_WASM_EXTERN_FUNC) {
            if (o.fuel) wd_wasm_set_fuel(inst, o.fuel);
            if (wd_run_call(&rk, kv, inst, init.of.func, NULL, 0, NULL, 0) != WD_WASM_OK) {
                rc = wd_run_report_trap(inst);
                goto done;
            }
        }
    }
    params = calloc(ft->nparams + 1, sizeof(*params));
    results = calloc(ft->nresults + 1, sizeof(*results));
    if (params == NULL || results == NULL) goto oom;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        if (!o.invoke || wd_run_parse_val(o.iargs[i], ft->params[i], &params[i]) != 0) {
            fprintf(stderr, "wasmd: invalid argument \"%s\" for parameter %u of %s (%s)\n",
                    o.invoke ? o.iargs[i] : "", i, fname, wd_run_typename(ft->params[i]));
            goto done;
        }
    }
    if (o.fuel) wd_wasm_set_fuel(inst, o.fuel);
    wd_wasm_status_t st = wd_run_call(&rk, kv, inst, ex.of.func, params, ft->nparams, results,
                                      ft->nresults);
    if (st == WD_WASM_OK) {
        rc = 0;
        if (o.invoke) {
            for (uint32_t i = 0; i < ft->nresults; i++) wd_run_print_val(&results[i]);
            fflush(stdout);
        }
    } else if (st == WD_WASM_TRAP) {
        rc = wd_run_report_trap(inst);
    } else {
        fprintf(stderr, "wasmd: %s: call suspended with nothing to resume it\n", o.file);
        wd_wasm_abort(inst);
        rc = WD_RUN_EXIT_TRAP;
    }
    goto done;

oom:
    fprintf(stderr, "wasmd: out of memory\n");
    rc = WD_RUN_EXIT_ERROR;
done:
    free(params);
    free(results);
    free(imports);
    if (s) wd_wasm_store_free(s);
    wd_host_wasi_free(w);
    wd_host_kv_free(kv);
    wd_run_kv_close(&rk);
    if (m) wd_wasm_module_free(m);
    for (int i = 0; i < o.ndirs; i++)
        if (o.dirs[i].host != o.dirs[i].guest) free((char *)o.dirs[i].host);
    free(o.env);
    free(o.dirs);
    free(o.iargs);
    free(o.kv);
    free(o.config);
    return rc;
}
