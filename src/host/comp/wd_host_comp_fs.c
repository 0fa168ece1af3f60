/*
 * wd_host_comp_fs.c -- wasi:filesystem/preopens and wasi:filesystem/types for components,
 * written against WIT values (the Canonical ABI layer lifts paths in any string encoding
 * and lowers records, options, results and handles by the component's own types).
 *
 * The preopens are the context's directories (wasm_dir). Paths are resolved beneath a
 * descriptor by src/host/wasi's sandboxed walk (wd_host_wasi_resolve_path: no absolute
 * paths, no ".." above the preopen, symlinks re-checked), so the two WASI hosts share one
 * sandbox. Read-only: get-type, get-flags, stat, stat-at, open-at (reading), read,
 * read-directory + read-directory-entry, metadata-hash(-at), is-same-object; a request to
 * write answers error-code.read-only (or unsupported beneath a rw directory: writing is not
 * implemented); streams on files (read-via-stream, ...) answer unsupported.
 * Values are built by label from the component's types (enum cases, flags bits, record
 * fields), so the tables do not depend on the order a version declares them in.
 */
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "wd_host_comp_int.h"
#include "wasi/wd_host_wasi.h"

#define FS_B ((wd_hc_bind_t *)ud)
#define FS_RT (FS_B->hf->type->result)

static uint32_t lbl(const wd_comp_type_t *t, const char *name)
{
    for (uint32_t i = 0; t && i < t->n; i++) {
        const char *l = t->labels ? t->labels[i] : t->fields[i].label;
        if (l && strcmp(l, name) == 0)
            return i;
    }
    return 0;
}

static wd_cabi_val_t *vals(wd_cabi_cx_t *cx, uint32_t n)
{
    wd_cabi_val_t *v = wd_cabi_arena_alloc(cx->arena, (n ? n : 1) * sizeof *v, 8);
    if (v)
        memset(v, 0, (n ? n : 1) * sizeof *v);
    else
        wd_cabi_trap(cx, "out of memory for values");
    return v;
}

static const char *errname(int e)
{
    switch (e) {
    case EACCES: return "access";
    case ENOENT: return "no-entry";
    case ENOTDIR: return "not-directory";
    case EISDIR: return "is-directory";
    case ELOOP: return "loop";
    case EPERM: return "not-permitted";
    case EROFS: return "read-only";
    case EINVAL: return "invalid";
    case EILSEQ: return "illegal-byte-sequence";
    case ENAMETOOLONG: return "name-too-long";
    case EBADF: return "bad-descriptor";
    case EEXIST: return "exist";
    case ENOMEM: return "insufficient-memory";
    case ENOTSUP: return "unsupported";
    default: return "io";
    }
}

/* result<_, error-code>::err(e) */
static wd_cabi_rc_t fail(wd_cabi_cx_t *cx, const wd_comp_type_t *rt, wd_cabi_val_t *res, int e)
{
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL)
        return WD_CABI_TRAP;
    *v = wd_cabi_v_case(WD_CT_ENUM, lbl(rt->err, errname(e)), NULL);
    *res = wd_cabi_v_case(WD_CT_RESULT, 1, v);
    return WD_CABI_OK;
}

static wd_cabi_rc_t ok(wd_cabi_cx_t *cx, wd_cabi_val_t *res, wd_cabi_val_t *payload)
{
    *res = wd_cabi_v_case(WD_CT_RESULT, 0, payload);
    return WD_CABI_OK;
}

static wd_hc_fd_t *fd_get(wd_host_comp_t *hc, uint64_t rep, uint8_t kind)
{
    if (rep == 0 || rep > hc->nfds || hc->fds[rep - 1].kind != kind)
        return NULL;
    return &hc->fds[rep - 1];
}

static uint32_t fd_new(wd_host_comp_t *hc, int fd, uint8_t kind, uint8_t rw)
{
    uint32_t i;
    for (i = 0; i < hc->nfds && hc->fds[i].kind; i++)
        ;
    if (i == hc->nfds) {
        if (hc->nfds >= 1024)
            return 0;
        uint32_t n = hc->nfds ? hc->nfds * 2 : 8;
        wd_hc_fd_t *f = wd_wasm_realloc(hc->fds, n * sizeof *f);
        if (f == NULL)
            return 0;
        memset(f + hc->nfds, 0, (n - hc->nfds) * sizeof *f);
        hc->fds = f;
        hc->nfds = n;
    }
    hc->fds[i].fd = fd;
    hc->fds[i].kind = kind;
    hc->fds[i].rw = rw;
    hc->fds[i].dirp = NULL;
    return i + 1;
}

static void fd_close(wd_hc_fd_t *f)
{
    if (f->dirp)
        closedir(f->dirp);        /* owns f->fd */
    else if (f->fd >= 0)
        close(f->fd);
    f->kind = 0;
    f->dirp = NULL;
    f->fd = -1;
}

void wd_hc_fs_close_all(wd_host_comp_t *hc)
{
    for (uint32_t i = 0; i < hc->nfds; i++)
        if (hc->fds[i].kind)
            fd_close(&hc->fds[i]);
}

int wd_hc_fs_dtor(void *ud, const wd_comp_resource_t *rt, uint32_t rep, const char **msg)
{
    wd_host_comp_t *hc = ud;
    if (rt->ud == hc)             /* a resource the guest defines: its destructor */
        return wd_hc_guest_dtor(hc, rt, rep, msg);
    if (rep >= 1 && rep <= hc->nfds && hc->fds[rep - 1].kind)
        fd_close(&hc->fds[rep - 1]);
    return 0;
}

/* descriptor-type of a mode */
static const char *type_name(mode_t m)
{
    return S_ISDIR(m) ? "directory" : S_ISREG(m) ? "regular-file" : S_ISLNK(m) ? "symbolic-link"
         : S_ISBLK(m) ? "block-device" : S_ISCHR(m) ? "character-device" : S_ISFIFO(m) ? "fifo"
         : S_ISSOCK(m) ? "socket" : "unknown";
}

static int stat_val(wd_cabi_cx_t *cx, const wd_comp_type_t *t, const struct stat *st,
                    wd_cabi_val_t *out)
{
    wd_cabi_val_t *f = vals(cx, t->n);
    if (f == NULL)
        return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        const char *l = t->fields[i].label;
        const wd_comp_type_t *ft = t->fields[i].type;
        const struct timespec *ts = NULL;
        if (strcmp(l, "type") == 0)
            f[i] = wd_cabi_v_case(WD_CT_ENUM, lbl(ft, type_name(st->st_mode)), NULL);
        else if (strcmp(l, "link-count") == 0)
            f[i] = wd_cabi_v_u(WD_CT_U64, st->st_nlink);
        else if (strcmp(l, "size") == 0)
            f[i] = wd_cabi_v_u(WD_CT_U64, (uint64_t)st->st_size);
        else if (strcmp(l, "data-access-timestamp") == 0)
            ts = &st->st_atim;
        else if (strcmp(l, "data-modification-timestamp") == 0)
            ts = &st->st_mtim;
        else if (strcmp(l, "status-change-timestamp") == 0)
            ts = &st->st_ctim;
        else
            f[i].kind = ft ? ft->kind : 0;
        if (ts && ft && ft->kind == WD_CT_OPTION) {      /* some(datetime) */
            wd_cabi_val_t *dt = vals(cx, 1), *sn = vals(cx, 2);
            if (dt == NULL || sn == NULL)
                return -1;
            sn[0] = wd_cabi_v_u(WD_CT_U64, (uint64_t)ts->tv_sec);
            sn[1] = wd_cabi_v_u(WD_CT_U32, (uint64_t)ts->tv_nsec);
            *dt = wd_cabi_v_vals(WD_CT_RECORD, sn, 2);
            f[i] = wd_cabi_v_case(WD_CT_OPTION, 1, dt);
        }
    }
    *out = wd_cabi_v_vals(WD_CT_RECORD, f, t->n);
    return 0;
}

/* ---- wasi:filesystem/preopens ---- */

/* get-directories: func() -> list<tuple<own<descriptor>, string>> */
static wd_cabi_rc_t fs_get_directories(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                       wd_cabi_val_t *res, void *ud)
{
    wd_host_comp_t *hc = FS_B->hc;
    wd_cabi_val_t *items = vals(cx, (uint32_t)hc->ndirs);
    uint32_t n = 0;
    if (items == NULL)
        return WD_CABI_TRAP;
    for (size_t i = 0; i < hc->ndirs; i++) {
        int fd = open(hc->dirs[i].host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;             /* checked at configuration time; gone since: not listed */
        uint32_t rep = fd_new(hc, fd, 1, (uint8_t)hc->dirs[i].rw);
        wd_cabi_val_t *pair = vals(cx, 2);
        if (rep == 0 || pair == NULL) {
            if (rep == 0)
                close(fd);
            if (rep == 0)
                wd_cabi_trap(cx, "too many descriptors");
            return WD_CABI_TRAP;
        }
        pair[0] = wd_cabi_v_u(WD_CT_OWN, rep);
        pair[1] = wd_cabi_v_str(hc->dirs[i].guest_path, (uint32_t)strlen(hc->dirs[i].guest_path));
        items[n++] = wd_cabi_v_vals(WD_CT_TUPLE, pair, 2);
    }
    *res = wd_cabi_v_vals(WD_CT_LIST, items, n);
    return WD_CABI_OK;
}

/* ---- wasi:filesystem/types ---- */

#define DESC(f) wd_hc_fd_t *f = fd_get(FS_B->hc, args[0].u, 1); \
    if (f == NULL) return fail(cx, FS_RT, res, EBADF)

static wd_cabi_rc_t fs_get_type(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                                void *ud)
{
    struct stat st;
    DESC(f);
    if (fstat(f->fd, &st) != 0)
        return fail(cx, FS_RT, res, errno);
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL)
        return WD_CABI_TRAP;
    *v = wd_cabi_v_case(WD_CT_ENUM, lbl(FS_RT->elem, type_name(st.st_mode)), NULL);
    return ok(cx, res, v);
}

static wd_cabi_rc_t fs_get_flags(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                                 void *ud)
{
    DESC(f);
    const wd_comp_type_t *ft = FS_RT->elem;
    uint64_t bits = 1ull << lbl(ft, "read");
    if (f->rw)
        bits |= (1ull << lbl(ft, "write")) | (1ull << lbl(ft, "mutate-directory"));
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL)
        return WD_CABI_TRAP;
    *v = wd_cabi_v_u(WD_CT_FLAGS, bits);
    return ok(cx, res, v);
}

static wd_cabi_rc_t fs_stat(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                            void *ud)
{
    struct stat st;
    DESC(f);
    if (fstat(f->fd, &st) != 0)
        return fail(cx, FS_RT, res, errno);
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL || stat_val(cx, FS_RT->elem, &st, v) < 0)
        return WD_CABI_TRAP;
    return ok(cx, res, v);
}

/* resolve args[2] (path) beneath the descriptor; args[1] bit symlink-follow */
static int fs_resolve(wd_hc_bind_t *b, wd_hc_fd_t *f, const wd_cabi_val_t *args, int *dirfd,
                      char **last, void **hd)
{
    const wd_comp_type_t *pf = b->hf->type->params[1].type;
    int follow = (args[1].u >> lbl(pf, "symlink-follow")) & 1;
    return wd_host_wasi_resolve_path(f->fd, (const uint8_t *)args[2].str, args[2].n, follow,
                                     dirfd, last, hd);
}

static wd_cabi_rc_t fs_stat_at(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                               void *ud)
{
    struct stat st;
    int dirfd, e;
    char *last;
    void *hd;
    DESC(f);
    if ((e = fs_resolve(FS_B, f, args, &dirfd, &last, &hd)) != 0)
        return fail(cx, FS_RT, res, e);
    const wd_comp_type_t *pf = FS_B->hf->type->params[1].type;
    int follow = (args[1].u >> lbl(pf, "symlink-follow")) & 1;
    e = fstatat(dirfd, last, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0 ? errno : 0;
    wd_host_wasi_resolve_path_free(hd);
    if (e)
        return fail(cx, FS_RT, res, e);
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL || stat_val(cx, FS_RT->elem, &st, v) < 0)
        return WD_CABI_TRAP;
    return ok(cx, res, v);
}

/* open-at(self, path-flags, path, open-flags, flags: descriptor-flags) -> result<descriptor> */
static wd_cabi_rc_t fs_open_at(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                               void *ud)
{
    int dirfd, e;
    char *last;
    void *hd;
    DESC(f);
    const wd_comp_func_type_t *ft = FS_B->hf->type;
    const wd_comp_type_t *of = ft->params[3].type, *df = ft->params[4].type;
    uint64_t oflags = args[3].u, dflags = args[4].u;
    uint64_t wmask = (1ull << lbl(of, "create")) | (1ull << lbl(of, "exclusive"))
                   | (1ull << lbl(of, "truncate"));
    uint64_t dw = (1ull << lbl(df, "write")) | (1ull << lbl(df, "mutate-directory"));
    if ((oflags & wmask) || (dflags & dw))
        return fail(cx, FS_RT, res, f->rw ? ENOTSUP : EROFS);
    if ((e = fs_resolve(FS_B, f, args, &dirfd, &last, &hd)) != 0)
        return fail(cx, FS_RT, res, e);
    int follow = (args[1].u >> lbl(ft->params[1].type, "symlink-follow")) & 1;
    int flags = O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    if (oflags & (1ull << lbl(of, "directory")))
        flags |= O_DIRECTORY;
    int fd = openat(dirfd, last, flags);
    e = fd < 0 ? errno : 0;
    wd_host_wasi_resolve_path_free(hd);
    if (fd < 0)
        return fail(cx, FS_RT, res, e);
    uint32_t rep = fd_new(FS_B->hc, fd, 1, f->rw);
    if (rep == 0) {
        close(fd);
        return fail(cx, FS_RT, res, ENOMEM);
    }
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL)
        return WD_CABI_TRAP;
    *v = wd_cabi_v_u(WD_CT_OWN, rep);
    return ok(cx, res, v);
}

/* read(self, length: filesize, offset: filesize) -> result<tuple<list<u8>, bool>> */
static wd_cabi_rc_t fs_read(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                            void *ud)
{
    DESC(f);
    uint64_t len = args[1].u, off = args[2].u;
    if (len > 1u << 20)
        len = 1u << 20;
    if (off > (uint64_t)INT64_MAX)
        return fail(cx, FS_RT, res, EINVAL);
    uint8_t *buf = wd_cabi_arena_alloc(cx->arena, len ? len : 1, 1);
    if (buf == NULL) {
        wd_cabi_trap(cx, "out of memory for values");
        return WD_CABI_TRAP;
    }
    ssize_t n = pread(f->fd, buf, (size_t)len, (off_t)off);
    if (n < 0)
        return fail(cx, FS_RT, res, errno);
    wd_cabi_val_t *t = vals(cx, 1), *pair = vals(cx, 2);
    if (t == NULL || pair == NULL)
        return WD_CABI_TRAP;
    pair[0] = wd_cabi_v_bytes(buf, (uint32_t)n);
    pair[1] = wd_cabi_v_u(WD_CT_BOOL, n == 0 && len > 0);
    *t = wd_cabi_v_vals(WD_CT_TUPLE, pair, 2);
    return ok(cx, res, t);
}

static wd_cabi_rc_t fs_read_directory(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                      wd_cabi_val_t *res, void *ud)
{
    DESC(f);
    int fd = openat(f->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(cx, FS_RT, res, errno);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return fail(cx, FS_RT, res, e);
    }
    uint32_t rep = fd_new(FS_B->hc, fd, 2, 0);
    if (rep == 0) {
        closedir(d);
        return fail(cx, FS_RT, res, ENOMEM);
    }
    FS_B->hc->fds[rep - 1].dirp = d;
    wd_cabi_val_t *v = vals(cx, 1);
    if (v == NULL)
        return WD_CABI_TRAP;
    *v = wd_cabi_v_u(WD_CT_OWN, rep);
    return ok(cx, res, v);
}

/* read-directory-entry(self) -> result<option<directory-entry>, error-code> */
static wd_cabi_rc_t fs_read_dir_entry(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                      wd_cabi_val_t *res, void *ud)
{
    wd_hc_fd_t *f = fd_get(FS_B->hc, args[0].u, 2);
    if (f == NULL)
        return fail(cx, FS_RT, res, EBADF);
    struct dirent *de;
    do {
        errno = 0;
        de = readdir(f->dirp);
    } while (de && (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0));
    wd_cabi_val_t *opt = vals(cx, 1);
    if (opt == NULL)
        return WD_CABI_TRAP;
    if (de == NULL) {
        if (errno)
            return fail(cx, FS_RT, res, errno);
        *opt = wd_cabi_v_case(WD_CT_OPTION, 0, NULL);
        return ok(cx, res, opt);
    }
    const wd_comp_type_t *rt = FS_RT->elem->elem;     /* directory-entry record */
    struct stat st;
    mode_t m = fstatat(f->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode : 0;
    wd_cabi_val_t *rec = vals(cx, 1), *fl = vals(cx, rt->n);
    size_t nl = strlen(de->d_name);
    char *name = wd_cabi_arena_alloc(cx->arena, nl ? nl : 1, 1);
    if (rec == NULL || fl == NULL || name == NULL)
        return WD_CABI_TRAP;
    memcpy(name, de->d_name, nl);
    for (uint32_t i = 0; i < rt->n; i++)
        fl[i] = strcmp(rt->fields[i].label, "name") == 0 ? wd_cabi_v_str(name, (uint32_t)nl)
              : wd_cabi_v_case(WD_CT_ENUM, lbl(rt->fields[i].type, type_name(m)), NULL);
    *rec = wd_cabi_v_vals(WD_CT_RECORD, fl, rt->n);
    *opt = wd_cabi_v_case(WD_CT_OPTION, 1, rec);
    return ok(cx, res, opt);
}

static wd_cabi_rc_t hash_of(wd_cabi_cx_t *cx, const struct stat *st, wd_cabi_val_t *res)
{
    wd_cabi_val_t *rec = vals(cx, 1), *f = vals(cx, 2);
    if (rec == NULL || f == NULL)
        return WD_CABI_TRAP;
    f[0] = wd_cabi_v_u(WD_CT_U64, (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull);
    f[1] = wd_cabi_v_u(WD_CT_U64, (uint64_t)st->st_dev);
    *rec = wd_cabi_v_vals(WD_CT_RECORD, f, 2);
    return ok(cx, res, rec);
}

static wd_cabi_rc_t fs_metadata_hash(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                     wd_cabi_val_t *res, void *ud)
{
    struct stat st;
    DESC(f);
    if (fstat(f->fd, &st) != 0)
        return fail(cx, FS_RT, res, errno);
    return hash_of(cx, &st, res);
}

static wd_cabi_rc_t fs_metadata_hash_at(wd_cabi_cx_t *cx, const wd_cabi_val_t *args,
                                        wd_cabi_val_t *res, void *ud)
{
    struct stat st;
    int dirfd, e;
    char *last;
    void *hd;
    DESC(f);
    if ((e = fs_resolve(FS_B, f, args, &dirfd, &last, &hd)) != 0)
        return fail(cx, FS_RT, res, e);
    e = fstatat(dirfd, last, &st, AT_SYMLINK_NOFOLLOW) != 0 ? errno : 0;
    wd_host_wasi_resolve_path_free(hd);
    return e ? fail(cx, FS_RT, res, e) : hash_of(cx, &st, res);
}

static wd_cabi_rc_t fs_is_same(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                               void *ud)
{
    wd_hc_fd_t *a = fd_get(FS_B->hc, args[0].u, 1), *b = fd_get(FS_B->hc, args[1].u, 1);
    struct stat sa, sb;
    int same = a && b && fstat(a->fd, &sa) == 0 && fstat(b->fd, &sb) == 0
               && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
    *res = wd_cabi_v_u(WD_CT_BOOL, same);
    return WD_CABI_OK;
}

/* writes: read-only beneath a read-only preopen, else not implemented */
static wd_cabi_rc_t fs_write_op(wd_cabi_cx_t *cx, const wd_cabi_val_t *args, wd_cabi_val_t *res,
                                void *ud)
{
    DESC(f);
    return fail(cx, FS_RT, res, f->rw ? ENOTSUP : EROFS);
}

const wd_hc_func_t wd_hc_preopens[] = {
    { "get-directories", fs_get_directories }, { NULL, NULL } };

const wd_hc_func_t wd_hc_fs_types[] = {
    { "[method]descriptor.write-via-stream", fs_write_op },
    { "[method]descriptor.append-via-stream", fs_write_op },
    { "[method]descriptor.advise", wd_hc_default_fn },
    { "[method]descriptor.sync-data", fs_write_op },
    { "[method]descriptor.get-flags", fs_get_flags },
    { "[method]descriptor.get-type", fs_get_type },
    { "[method]descriptor.set-size", fs_write_op },
    { "[method]descriptor.set-times", fs_write_op },
    { "[method]descriptor.read", fs_read },
    { "[method]descriptor.write", fs_write_op },
    { "[method]descriptor.read-directory", fs_read_directory },
    { "[method]descriptor.sync", fs_write_op },
    { "[method]descriptor.create-directory-at", fs_write_op },
    { "[method]descriptor.stat", fs_stat },
    { "[method]descriptor.stat-at", fs_stat_at },
    { "[method]descriptor.set-times-at", fs_write_op },
    { "[method]descriptor.link-at", fs_write_op },
    { "[method]descriptor.open-at", fs_open_at },
    { "[method]descriptor.readlink-at", wd_hc_default_fn },
    { "[method]descriptor.remove-directory-at", fs_write_op },
    { "[method]descriptor.rename-at", fs_write_op },
    { "[method]descriptor.symlink-at", fs_write_op },
    { "[method]descriptor.unlink-file-at", fs_write_op },
    { "[method]descriptor.is-same-object", fs_is_same },
    { "[method]descriptor.metadata-hash", fs_metadata_hash },
    { "[method]descriptor.metadata-hash-at", fs_metadata_hash_at },
    { "[method]directory-entry-stream.read-directory-entry", fs_read_dir_entry },
    { "filesystem-error-code", wd_hc_default_fn },
    { NULL, NULL }
};

/* ---- file streams: the input-stream lives in the wasi:io context (src/host/http), so it
   works with input-stream.read/blocking-read/skip/subscribe; it reads through here ---- */

long wd_hc_fs_file_read(void *ud, uint32_t file, uint64_t off, uint8_t *buf, size_t len)
{
    wd_host_comp_t *hc = ud;
    wd_hc_fd_t *f = fd_get(hc, file, 1);
    if (f == NULL || off > (uint64_t)INT64_MAX)
        return -1;
    ssize_t n;
    do
        n = pread(f->fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : (long)n;
}

/* [method]descriptor.read-via-stream(self: borrow<descriptor>, offset: filesize)
   -> result<own<input-stream>, error-code>: core (i32 i64 i32) -> (); the result (8 bytes,
   align 4: u8 case, payload at 4) is stored at the return pointer */
wd_wasm_host_rc_t wd_hc_fs_read_via_stream(wd_wasm_instance_t *caller, const uint64_t *a,
                                           uint64_t *r, void *ud)
{
    wd_hc_bind_t *b = ud;
    wd_host_comp_t *hc = b->hc;
    const char *msg = NULL;
    uint32_t ret = (uint32_t)a[2];
    uint8_t *p = (ret & 3) == 0 && b->mem ? wd_wasm_memory_ptr(b->mem, ret, 8) : NULL;
    if (p == NULL) {
        wd_wasm_host_trap(caller, "wasi:filesystem/types#[method]descriptor.read-via-stream: "
                          "return pointer misaligned or out of bounds");
        return WD_WASM_HOST_TRAP;
    }
    wd_cabi_handle_t *h = wd_cabi_table_get(&hc->table, (uint32_t)a[0], &msg);
    /* the component's descriptor type: the one of its own `self` parameter (imported
       resource types have no name, only identity) */
    const wd_comp_type_t *self = b->hf->type && b->hf->type->nparams
                                 ? b->hf->type->params[0].type : NULL;
    if (h == NULL || self == NULL || self->kind != WD_CT_BORROW || h->rt != self->resource) {
        char buf[160];
        snprintf(buf, sizeof buf, "wasi:filesystem/types#[method]descriptor.read-via-stream: %s",
                 h ? "not a descriptor handle" : msg);
        wd_wasm_host_trap(caller, buf);
        return WD_WASM_HOST_TRAP;
    }
    wd_hc_fd_t *f = fd_get(hc, h->rep, 1);
    struct stat st;
    uint32_t code = 0;
    memset(p, 0, 8);
    if (f == NULL)
        code = 3;                                 /* bad-descriptor */
    else if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode))
        code = 14;                                /* is-directory */
    if (code) {
        p[0] = 1;
        p[4] = (uint8_t)code;
        return WD_WASM_HOST_OK;
    }
    uint32_t s = wd_host_http_file_stream(hc->http, h->rep, a[1]);
    if (s == 0)
        return WD_WASM_HOST_TRAP;
    memcpy(p + 4, &s, 4);
    return WD_WASM_HOST_OK;
}
