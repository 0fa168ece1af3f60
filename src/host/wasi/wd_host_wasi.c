/*
 * wd_host_wasi.c -- the WASI preview1 context: configuration (args, env, stdio,
 * preopens, clock/random sources), the guest descriptor table, host-to-WASI
 * errno mapping, and linking a module's wasi_snapshot_preview1 imports.
 *
 * The descriptor table is rebuilt from the configuration by reset(): slots 0-2
 * are the stdio streams, 3.. the preopened directories in the order they were
 * added, and guest-opened files take the lowest free slot after that. Linking
 * creates one host function per import, all sharing a trampoline whose ud is a
 * (context, function-table entry) binding stored inside the context, so
 * linking allocates nothing but the engine's function objects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wd_host_wasi_int.h"

static void wd_host_wasi_strv_free(wd_host_wasi_strv_t *sv)
{
    for (int i = 0; i < sv->n; i++) wd_wasm_free(sv->v[i]);
    wd_wasm_free(sv->v);
    sv->v = NULL; sv->n = 0; sv->bytes = 0;
}

static int wd_host_wasi_strv_set(wd_host_wasi_strv_t *sv, int n, const char *const *v)
{
    wd_host_wasi_strv_t nv = {0};
    if (n < 0) return -1;
    nv.v = wd_wasm_calloc((size_t)n + 1, sizeof(char *));
    if (nv.v == NULL) return -1;
    for (int i = 0; i < n; i++) {
        nv.v[i] = wd_wasm_strdup(v[i] ? v[i] : "");
        if (nv.v[i] == NULL) { nv.n = i; wd_host_wasi_strv_free(&nv); return -1; }
        nv.bytes += strlen(nv.v[i]) + 1;
    }
    nv.n = n;
    wd_host_wasi_strv_free(sv);
    *sv = nv;
    return 0;
}

wd_host_wasi_t *wd_host_wasi_new(void)
{
    wd_host_wasi_t *w = wd_wasm_calloc(1, sizeof(*w));
    if (w == NULL) return NULL;
    w->dirty = 1;
    for (int i = 0; i < 3; i++) {
        w->stdio[i].kind = WD_WASI_FD_STREAM;   /* no callbacks: EOF / discard */
        w->stdio[i].host_fd = -1;
    }
    wd_host_wasi_reset(w);
    if (w->fds == NULL) { wd_wasm_free(w); return NULL; }
    return w;
}

static void wd_host_wasi_close_table(wd_host_wasi_t *w)
{
    for (uint32_t i = 0; i < w->nfds; i++) wd_host_wasi_fd_release(&w->fds[i]);
    w->nfds = 0;
}

void wd_host_wasi_free(wd_host_wasi_t *w)
{
    if (w == NULL) return;
    wd_host_wasi_close_table(w);
    wd_wasm_free(w->fds);
    for (int i = 0; i < w->npreopens; i++) {
        if (w->preopens[i].host_fd >= 0) close(w->preopens[i].host_fd);
        wd_wasm_free(w->preopens[i].guest_name);
    }
    wd_wasm_free(w->preopens);
    wd_host_wasi_strv_free(&w->args);
    wd_host_wasi_strv_free(&w->env);
    wd_wasm_free(w);
}

int wd_host_wasi_set_args(wd_host_wasi_t *w, int argc, const char *const *argv)
{
    return wd_host_wasi_strv_set(&w->args, argc, argv);
}

int wd_host_wasi_set_env(wd_host_wasi_t *w, int n, const char *const *env)
{
    return wd_host_wasi_strv_set(&w->env, n, env);
}

int wd_host_wasi_add_env(wd_host_wasi_t *w, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *s = wd_wasm_malloc(nl + vl + 2);
    char **nv = wd_wasm_realloc(w->env.v, ((size_t)w->env.n + 2) * sizeof(char *));
    if (nv) w->env.v = nv;
    if (s == NULL || nv == NULL) { wd_wasm_free(s); return -1; }
    memcpy(s, name, nl); s[nl] = '='; memcpy(s + nl + 1, value, vl + 1);
    w->env.v[w->env.n++] = s;
    w->env.v[w->env.n] = NULL;
    w->env.bytes += nl + vl + 2;
    return 0;
}

static void wd_host_wasi_stdio_entry(wd_host_wasi_t *w, int i, wd_host_wasi_fd_t *e)
{
    wd_host_wasi_stdio_t *s = &w->stdio[i];
    memset(e, 0, sizeof(*e));
    e->host_fd = -1;
    e->preopen = -1;
    e->kind = (uint8_t)s->kind;
    if (s->kind == WD_WASI_FD_FREE) return;
    e->rights_base = WD_WASI_R_POLL_FD_READWRITE | WD_WASI_R_FD_FDSTAT_SET_FLAGS |
                     WD_WASI_R_FD_FILESTAT_GET |
                     (i == 0 ? WD_WASI_R_FD_READ : WD_WASI_R_FD_WRITE);
    e->writable = i != 0;
    if (s->kind == WD_WASI_FD_STREAM) {
        e->stream = s->stream;
        e->filetype = WD_WASI_FT_UNKNOWN;   /* not a tty: guests buffer fully */
        return;
    }
    struct stat st;
    e->host_fd = s->host_fd;
    e->filetype = WD_WASI_FT_UNKNOWN;
    if (fstat(s->host_fd, &st) == 0) {
        e->filetype = wd_host_wasi_filetype_of_mode(st.st_mode);
        if (S_ISREG(st.st_mode))
            e->rights_base |= WD_WASI_R_FD_SEEK | WD_WASI_R_FD_TELL;
    }
    int fl = fcntl(s->host_fd, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND)) e->fdflags |= WD_WASI_FDFLAG_APPEND;
    if (fl >= 0 && (fl & O_NONBLOCK)) e->fdflags |= WD_WASI_FDFLAG_NONBLOCK;
}

void wd_host_wasi_reset(wd_host_wasi_t *w)
{
    uint32_t need = 3 + (uint32_t)w->npreopens;
    if (!w->dirty && w->fds != NULL)
        return;                       /* untouched since the last reset (most requests) */
    wd_host_wasi_close_table(w);
    w->poll_pending = 0;
    if (w->cap < need || w->fds == NULL) {
        uint32_t cap = need < 16 ? 16 : need * 2;
        wd_host_wasi_fd_t *nf = wd_wasm_realloc(w->fds, cap * sizeof(*nf));
        if (nf == NULL) return;           /* table stays empty: every fd is EBADF */
        w->fds = nf; w->cap = cap;
    }
    for (int i = 0; i < 3; i++) wd_host_wasi_stdio_entry(w, i, &w->fds[i]);
    for (int i = 0; i < w->npreopens; i++) {
        wd_host_wasi_fd_t *e = &w->fds[3 + i];
        int rw = (w->preopens[i].flags & WD_HOST_WASI_READWRITE) != 0;
        memset(e, 0, sizeof(*e));
        e->kind = WD_WASI_FD_DIR;
        e->filetype = WD_WASI_FT_DIR;
        e->host_fd = w->preopens[i].host_fd;
        e->preopen = i;
        e->writable = (uint8_t)rw;
        e->rights_base = WD_WASI_RIGHTS_DIR_RO | (rw ? WD_WASI_RIGHTS_DIR_W : 0);
        e->rights_inh = e->rights_base | WD_WASI_RIGHTS_FILE_RO | (rw ? WD_WASI_RIGHTS_FILE_W : 0);
    }
    w->nfds = need;
    w->dirty = 0;
}

int wd_host_wasi_stdio(wd_host_wasi_t *w, int guest_fd, const wd_host_wasi_stream_t *s)
{
    w->dirty = 1;
    if (guest_fd < 0 || guest_fd > 2) return -1;
    wd_host_wasi_stdio_t *d = &w->stdio[guest_fd];
    memset(d, 0, sizeof(*d));
    d->host_fd = -1;
    d->kind = s ? WD_WASI_FD_STREAM : WD_WASI_FD_FREE;
    if (s) d->stream = *s;
    if ((uint32_t)guest_fd < w->nfds && w->fds[guest_fd].kind != WD_WASI_FD_FILE &&
        w->fds[guest_fd].kind != WD_WASI_FD_DIR)
        wd_host_wasi_stdio_entry(w, guest_fd, &w->fds[guest_fd]);
    return 0;
}

int wd_host_wasi_stdio_fd(wd_host_wasi_t *w, int guest_fd, int host_fd)
{
    w->dirty = 1;
    if (guest_fd < 0 || guest_fd > 2 || host_fd < 0) return -1;
    wd_host_wasi_stdio_t *d = &w->stdio[guest_fd];
    memset(d, 0, sizeof(*d));
    d->kind = WD_WASI_FD_HOSTSTDIO;
    d->host_fd = host_fd;
    if ((uint32_t)guest_fd < w->nfds && w->fds[guest_fd].kind != WD_WASI_FD_FILE &&
        w->fds[guest_fd].kind != WD_WASI_FD_DIR)
        wd_host_wasi_stdio_entry(w, guest_fd, &w->fds[guest_fd]);
    return 0;
}

int wd_host_wasi_preopen(wd_host_wasi_t *w, const char *host_dir, const char *guest_name,
                         unsigned flags)
{
    int fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    wd_host_wasi_preopen_t *np = wd_wasm_realloc(w->preopens, ((size_t)w->npreopens + 1) * sizeof(*np));
    char *name = wd_wasm_strdup(guest_name);
    if (np) w->preopens = np;
    if (np == NULL || name == NULL) { wd_wasm_free(name); close(fd); errno = ENOMEM; return -1; }
    np[w->npreopens].host_fd = fd;
    np[w->npreopens].guest_name = name;
    np[w->npreopens].guest_name_len = strlen(name);
    np[w->npreopens].flags = flags;
    w->npreopens++;
    w->dirty = 1;                 /* the table gains the new preopen */
    wd_host_wasi_reset(w);
    if (w->nfds != 3 + (uint32_t)w->npreopens) { errno = ENOMEM; return -1; }
    return 3 + w->npreopens - 1;
}

void wd_host_wasi_set_clock(wd_host_wasi_t *w, wd_host_wasi_clock_fn fn, void *ud)
{
    w->clock_fn = fn; w->clock_ud = ud;
}

void wd_host_wasi_set_random(wd_host_wasi_t *w, wd_host_wasi_random_fn fn, void *ud)
{
    w->random_fn = fn; w->random_ud = ud;
}

void wd_host_wasi_set_sleep(wd_host_wasi_t *w, wd_host_wasi_sleep_fn fn, void *ud)
{
    w->sleep_fn = fn; w->sleep_ud = ud;
}

/* ---- descriptor table ---- */

wd_host_wasi_fd_t *wd_host_wasi_fd_get(wd_host_wasi_t *w, uint32_t fd)
{
    if (fd >= w->nfds || w->fds[fd].kind == WD_WASI_FD_FREE) return NULL;
    return &w->fds[fd];
}

int64_t wd_host_wasi_fd_alloc(wd_host_wasi_t *w)
{
    for (uint32_t i = 3; i < w->nfds; i++)
        if (w->fds[i].kind == WD_WASI_FD_FREE) return i;
    if (w->nfds >= WD_WASI_MAX_FDS) return -1;
    if (w->nfds == w->cap) {
        uint32_t cap = w->cap * 2;
        wd_host_wasi_fd_t *nf = wd_wasm_realloc(w->fds, cap * sizeof(*nf));
        if (nf == NULL) return -1;
        w->fds = nf; w->cap = cap;
    }
    memset(&w->fds[w->nfds], 0, sizeof(w->fds[0]));
    w->fds[w->nfds].host_fd = -1;
    w->fds[w->nfds].preopen = -1;
    return w->nfds++;
}

void wd_host_wasi_fd_release(wd_host_wasi_fd_t *e)
{
    if (e->owned && e->host_fd >= 0) close(e->host_fd);
    memset(e, 0, sizeof(*e));
    e->host_fd = -1;
    e->preopen = -1;
}

uint8_t wd_host_wasi_filetype_of_mode(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WD_WASI_FT_FILE;
    case S_IFDIR: return WD_WASI_FT_DIR;
    case S_IFCHR: return WD_WASI_FT_CHAR;
    case S_IFBLK: return WD_WASI_FT_BLOCK;
    case S_IFLNK: return WD_WASI_FT_SYMLINK;
    case S_IFSOCK: return WD_WASI_FT_STREAM;
    default: return WD_WASI_FT_UNKNOWN;     /* FIFOs have no preview1 type */
    }
}

static uint64_t wd_host_wasi_ts(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

void wd_host_wasi_put_filestat(uint8_t *p, const struct stat *st)
{
    memset(p, 0, 64);
    wd_wasi_st64(p + 0, (uint64_t)st->st_dev);
    wd_wasi_st64(p + 8, (uint64_t)st->st_ino);
    p[16] = wd_host_wasi_filetype_of_mode(st->st_mode);
    wd_wasi_st64(p + 24, (uint64_t)st->st_nlink);
    wd_wasi_st64(p + 32, (uint64_t)st->st_size);
    wd_wasi_st64(p + 40, wd_host_wasi_ts(&st->st_atim));
    wd_wasi_st64(p + 48, wd_host_wasi_ts(&st->st_mtim));
    wd_wasi_st64(p + 56, wd_host_wasi_ts(&st->st_ctim));
}

uint16_t wd_host_wasi_errno(int e)
{
    switch (e) {
    case 0: return 0;
    case E2BIG: return 1;
    case EACCES: return 2;
    case EADDRINUSE: return 3;
    case EADDRNOTAVAIL: return 4;
    case EAFNOSUPPORT: return 5;
    case EAGAIN: return 6;
    case EALREADY: return 7;
    case EBADF: return 8;
    case EBADMSG: return 9;
    case EBUSY: return 10;
    case ECANCELED: return 11;
    case ECHILD: return 12;
    case ECONNABORTED: return 13;
    case ECONNREFUSED: return 14;
    case ECONNRESET: return 15;
    case EDEADLK: return 16;
    case EDESTADDRREQ: return 17;
    case EDOM: return 18;
    case EDQUOT: return 19;
    case EEXIST: return 20;
    case EFAULT: return 21;
    case EFBIG: return 22;
    case EHOSTUNREACH: return 23;
    case EIDRM: return 24;
    case EILSEQ: return 25;
    case EINPROGRESS: return 26;
    case EINTR: return 27;
    case EINVAL: return 28;
    case EIO: return 29;
    case EISCONN: return 30;
    case EISDIR: return 31;
    case ELOOP: return 32;
    case EMFILE: return 33;
    case EMLINK: return 34;
    case EMSGSIZE: return 35;
    case EMULTIHOP: return 36;
    case ENAMETOOLONG: return 37;
    case ENETDOWN: return 38;
    case ENETRESET: return 39;
    case ENETUNREACH: return 40;
    case ENFILE: return 41;
    case ENOBUFS: return 42;
    case ENODEV: return 43;
    case ENOENT: return 44;
    case ENOEXEC: return 45;
    case ENOLCK: return 46;
    case ENOLINK: return 47;
    case ENOMEM: return 48;
    case ENOMSG: return 49;
    case ENOPROTOOPT: return 50;
    case ENOSPC: return 51;
    case ENOSYS: return 52;
    case ENOTCONN: return 53;
    case ENOTDIR: return 54;
    case ENOTEMPTY: return 55;
    case ENOTRECOVERABLE: return 56;
    case ENOTSOCK: return 57;
    case ENOTSUP: return 58;   /* == EOPNOTSUPP on Linux */
    case ENOTTY: return 59;
    case ENXIO: return 60;
    case EOVERFLOW: return 61;
    case EOWNERDEAD: return 62;
    case EPERM: return 63;
    case EPIPE: return 64;
    case EPROTO: return 65;
    case EPROTONOSUPPORT: return 66;
    case EPROTOTYPE: return 67;
    case ERANGE: return 68;
    case EROFS: return 69;
    case ESPIPE: return 70;
    case ESRCH: return 71;
    case ESTALE: return 72;
    case ETIMEDOUT: return 73;
    case ETXTBSY: return 74;
    case EXDEV: return 75;
    default: return WD_WASI_EIO;
    }
}

/* ---- linking ---- */

static const wd_host_wasi_func_t wd_host_wasi_nosys_funcs[] = {
    { "proc_raise", "i", 1, NULL },
    { "sock_accept", "iii", 1, NULL },
    { "sock_recv", "iiiiii", 1, NULL },
    { "sock_send", "iiiii", 1, NULL },
    { "sock_shutdown", "ii", 1, NULL },
    { NULL, NULL, 0, NULL }
};

static const wd_host_wasi_func_t *const wd_host_wasi_tables[] = {
    wd_host_wasi_proc_funcs, wd_host_wasi_fd_funcs, wd_host_wasi_path_funcs,
    wd_host_wasi_nosys_funcs
};

static const wd_host_wasi_func_t *wd_host_wasi_find(const char *name, size_t len, int *index)
{
    int k = 0;
    for (size_t t = 0; t < sizeof(wd_host_wasi_tables) / sizeof(wd_host_wasi_tables[0]); t++) {
        for (const wd_host_wasi_func_t *f = wd_host_wasi_tables[t]; f->name; f++, k++) {
            if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
                if (index) *index = k;
                return f;
            }
        }
    }
    return NULL;
}

int wd_host_wasi_has_func(const char *name, size_t len)
{
    return wd_host_wasi_find(name, len, NULL) != NULL;
}

static wd_wasm_host_rc_t wd_host_wasi_trampoline(wd_wasm_instance_t *caller, const uint64_t *args,
                                                 uint64_t *results, void *ud)
{
    wd_host_wasi_binding_t *b = ud;
    wd_host_wasi_call_t c;
    uint32_t rc;

    c.w = b->w;
    c.w->dirty = 1;
    c.caller = caller;
    c.mem = wd_wasm_instance_memory(caller);
    c.rc = WD_WASM_HOST_OK;
    rc = b->f->impl ? b->f->impl(&c, args) : WD_WASI_ENOSYS;
    if (c.rc != WD_WASM_HOST_OK) return c.rc;
    if (b->f->nresults) results[0] = rc;
    return WD_WASM_HOST_OK;
}

static void wd_host_wasi_err(wd_wasm_error_t *err, const char *what, const wd_wasm_import_desc_t *d)
{
    if (err == NULL) return;
    snprintf(err->msg, sizeof(err->msg), "%s: %.*s::%.*s", what, (int)d->module_len, d->module,
             (int)d->name_len, d->name);
    err->offset = -1;
    err->func_index = -1;
}

int wd_host_wasi_link(wd_host_wasi_t *w, wd_wasm_store_t *s, const wd_wasm_module_t *m,
                      wd_wasm_extern_t *imports, wd_wasm_error_t *err)
{
    static const size_t mlen = sizeof(WD_HOST_WASI_MODULE) - 1;
    uint32_t n = wd_wasm_module_import_count(m);
    int linked = 0;

    for (uint32_t i = 0; i < n; i++) {
        const wd_wasm_import_desc_t *d = wd_wasm_module_import(m, i);
        if (d->module_len != mlen || memcmp(d->module, WD_HOST_WASI_MODULE, mlen) != 0) continue;
        int k = 0;
        const wd_host_wasi_func_t *f = wd_host_wasi_find(d->name, d->name_len, &k);
        if (f == NULL) { wd_host_wasi_err(err, "unknown import", d); return -1; }
        uint8_t params[16], results[1] = { WD_WASM_I32 };
        wd_wasm_functype_t ft;
        ft.nparams = (uint32_t)strlen(f->params);
        for (uint32_t p = 0; p < ft.nparams; p++)
            params[p] = f->params[p] == 'I' ? WD_WASM_I64 : WD_WASM_I32;
        ft.params = params;
        ft.nresults = f->nresults;
        ft.results = results;
        if (d->kind != WD_WASM_EXTERN_FUNC || d->func.nparams != ft.nparams ||
            d->func.nresults != ft.nresults ||
            (ft.nparams && memcmp(d->func.params, params, ft.nparams) != 0) ||
            (ft.nresults && d->func.results[0] != WD_WASM_I32)) {
            wd_host_wasi_err(err, "incompatible import type", d);
            return -1;
        }
        if (k >= WD_WASI_NFUNCS_MAX) { wd_host_wasi_err(err, "internal: too many functions", d); return -1; }
        w->bindings[k].w = w;
        w->bindings[k].f = f;
        wd_wasm_func_t *fn = wd_wasm_func_new_host(s, &ft, wd_host_wasi_trampoline, &w->bindings[k]);
        if (fn == NULL) { wd_host_wasi_err(err, "out of memory linking", d); return -1; }
        imports[i].kind = WD_WASM_EXTERN_FUNC;
        imports[i].of.func = fn;
        linked++;
    }
    return linked;
}
