/*
 * wd_host_wasi_path.c -- sandboxed path resolution and the path_* calls.
 *
 * A guest path is resolved beneath a directory descriptor one component at a
 * time, with the host's *at() calls: every intermediate directory is opened
 * with O_PATH|O_DIRECTORY|O_NOFOLLOW relative to the previous one, so the
 * kernel never follows a symlink for us. Symlinks met on the way are read and
 * spliced into the remaining path (at most WD_WASI_MAX_SYMLINKS times); a
 * symlink whose target is absolute, an absolute guest path, and a ".." that
 * would climb above the starting directory all fail with ENOTCAPABLE. The
 * result is (directory fd, final component without slashes), and each call
 * then uses openat/mkdirat/unlinkat/... on it with AT_SYMLINK_NOFOLLOW or
 * O_NOFOLLOW, so a symlink swapped in after resolution is not followed either.
 *
 * Mutating calls on a descriptor that came from a read-only preopen fail
 * with EROFS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wd_host_wasi_int.h"

#define WD_WASI_MAX_SYMLINKS 32
#define WD_WASI_MAX_PATH 4096

typedef struct {
    int dirfd;
    int owned;                /* dirfd must be closed */
    char *buf;                /* the (possibly rewritten) path; last points into it */
    const char *last;
    wd_host_wasi_fd_t *base;
} wd_host_wasi_resolved_t;

static void wd_host_wasi_resolved_free(wd_host_wasi_resolved_t *r)
{
    if (r->owned && r->dirfd >= 0) close(r->dirfd);
    wd_wasm_free(r->buf);
    r->buf = NULL;
    r->owned = 0;
    r->dirfd = -1;
}

/* Replace the component [cs, ce) (a symlink) of r->buf by its target, keeping
 * what follows it. Returns 0 or a WASI errno. Positions restart at 0. */
static uint32_t wd_host_wasi_splice_link(wd_host_wasi_resolved_t *r, int cur, const char *comp,
                                         size_t rest_off)
{
    char target[WD_WASI_MAX_PATH];
    ssize_t tl = readlinkat(cur, comp, target, sizeof(target));
    if (tl < 0) return wd_host_wasi_errno(errno);
    if ((size_t)tl >= sizeof(target)) return WD_WASI_ENAMETOOLONG;
    if (tl == 0) return WD_WASI_ENOENT;
    if (target[0] == '/') return WD_WASI_ENOTCAPABLE;
    size_t restl = strlen(r->buf + rest_off);
    if ((size_t)tl + 1 + restl > WD_WASI_MAX_PATH) return WD_WASI_ENAMETOOLONG;
    char *nb = wd_wasm_malloc((size_t)tl + 2 + restl);
    if (nb == NULL) return WD_WASI_ENOMEM;
    memcpy(nb, target, (size_t)tl);
    nb[tl] = '/';
    memcpy(nb + tl + 1, r->buf + rest_off, restl + 1);
    if (restl == 0) nb[tl] = '\0';    /* no trailing slash unless the link target has one */
    wd_wasm_free(r->buf);
    r->buf = nb;
    return 0;
}

/* Resolve guest path [path, path+len) beneath directory fd. follow: follow a
 * symlink in the last component. need_write: fail with EROFS in a read-only
 * sandbox. On success fills r (release with wd_host_wasi_resolved_free). */
static uint32_t wd_host_wasi_resolve_from(int host_fd, const uint8_t *p, uint32_t len,
                                          int follow, wd_host_wasi_resolved_t *r);

static uint32_t wd_host_wasi_resolve(wd_host_wasi_call_t *c, uint32_t fd, uint32_t path,
                                     uint32_t len, int follow, int need_write,
                                     wd_host_wasi_resolved_t *r)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, fd);
    const uint8_t *p = wd_wasi_mem(c, path, len);
    memset(r, 0, sizeof(*r));
    r->dirfd = -1;
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL) return WD_WASI_EBADF;
    if (e->kind != WD_WASI_FD_DIR) return WD_WASI_ENOTDIR;
    if (need_write && !e->writable) return WD_WASI_EROFS;
    uint32_t rc = wd_host_wasi_resolve_from(e->host_fd, p, len, follow, r);
    r->base = e;
    return rc;
}

/* wasi:filesystem (src/host/comp) resolves its paths with the same walk. */
int wd_host_wasi_resolve_path(int host_fd, const uint8_t *p, uint32_t len, int follow,
                              int *dirfd, char **last, void **handle)
{
    wd_host_wasi_resolved_t *r = wd_wasm_malloc(sizeof *r);
    if (r == NULL) return ENOMEM;
    memset(r, 0, sizeof *r);
    uint32_t rc = wd_host_wasi_resolve_from(host_fd, p, len, follow, r);
    if (rc) {
        wd_wasm_free(r);
        return rc == WD_WASI_ENOTCAPABLE ? EPERM : rc == WD_WASI_ENOENT ? ENOENT
             : rc == WD_WASI_ENAMETOOLONG ? ENAMETOOLONG : rc == WD_WASI_ELOOP ? ELOOP
             : rc == WD_WASI_ENOTDIR ? ENOTDIR : rc == WD_WASI_EILSEQ ? EILSEQ
             : rc == WD_WASI_ENOMEM ? ENOMEM : rc == WD_WASI_EACCES ? EACCES : EIO;
    }
    *dirfd = r->dirfd;
    *last = (char *)r->last;
    *handle = r;
    return 0;
}

void wd_host_wasi_resolve_path_free(void *handle)
{
    if (handle) {
        wd_host_wasi_resolved_free(handle);
        wd_wasm_free(handle);
    }
}

static uint32_t wd_host_wasi_resolve_from(int host_fd, const uint8_t *p, uint32_t len,
                                          int follow, wd_host_wasi_resolved_t *r)
{
    r->dirfd = -1;
    if (len == 0) return WD_WASI_ENOENT;
    if (len >= WD_WASI_MAX_PATH) return WD_WASI_ENAMETOOLONG;
    if (memchr(p, 0, len) != NULL) return WD_WASI_EILSEQ;
    if (p[0] == '/') return WD_WASI_ENOTCAPABLE;
    r->buf = wd_wasm_malloc((size_t)len + 1);
    if (r->buf == NULL) return WD_WASI_ENOMEM;
    memcpy(r->buf, p, len);
    r->buf[len] = '\0';

    int cur = host_fd, owned = 0, links = 0;
    long depth = 0;
    size_t pos = 0;
    uint32_t rc = 0;

    for (;;) {
        char *s = r->buf;
        while (s[pos] == '/') pos++;
        if (s[pos] == '\0') {          /* only slashes left: the path named a directory */
            r->last = ".";
            break;
        }
        size_t cs = pos, ce = pos;
        while (s[ce] != '\0' && s[ce] != '/') ce++;
        size_t after = ce;
        while (s[after] == '/') after++;
        int is_last = s[after] == '\0';
        int trailing = is_last && after > ce;
        char saved = s[ce];
        s[ce] = '\0';
        const char *comp = s + cs;

        if (strcmp(comp, ".") == 0) {
            if (is_last) { r->last = "."; break; }
            s[ce] = saved;
            pos = after;
            continue;
        }
        if (strcmp(comp, "..") == 0) {
            if (depth == 0) { rc = WD_WASI_ENOTCAPABLE; break; }
            int nfd = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (nfd < 0) { rc = wd_host_wasi_errno(errno); break; }
            if (owned) close(cur);
            cur = nfd; owned = 1; depth--;
            if (is_last) { r->last = "."; break; }
            s[ce] = saved;
            pos = after;
            continue;
        }
        struct stat st;
        int exists = fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && !is_last) { rc = wd_host_wasi_errno(errno); break; }
        if (exists && S_ISLNK(st.st_mode) && (!is_last || follow || trailing)) {
            if (++links > WD_WASI_MAX_SYMLINKS) { rc = WD_WASI_ELOOP; break; }
            rc = wd_host_wasi_splice_link(r, cur, comp, is_last ? after : ce + 1);
            if (rc) break;
            pos = 0;
            continue;
        }
        if (is_last) {
            r->last = comp;
            break;
        }
        if (!S_ISDIR(st.st_mode)) { rc = WD_WASI_ENOTDIR; break; }
        int nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0) { rc = wd_host_wasi_errno(errno); break; }
        if (owned) close(cur);
        cur = nfd; owned = 1; depth++;
        s[ce] = saved;
        pos = after;
    }
    r->dirfd = cur;
    r->owned = owned;
    if (rc) wd_host_wasi_resolved_free(r);
    return rc;
}

/* path_open(fd, dirflags, path, path_len, oflags, rights_base, rights_inh, fdflags, out_fd) */
static uint32_t wd_host_wasi_path_open(wd_host_wasi_call_t *c, const uint64_t *a)
{
    uint32_t dirflags = (uint32_t)a[1], oflags = (uint32_t)a[4], fdflags = (uint32_t)a[7];
    uint64_t rb = a[5], ri = a[6];
    uint8_t *pout = wd_wasi_mem(c, (uint32_t)a[8], 4);
    wd_host_wasi_resolved_t r;
    uint32_t rc;

    if (pout == NULL) return WD_WASI_EFAULT;
    int want_write = (rb & (WD_WASI_R_FD_WRITE | WD_WASI_R_FD_ALLOCATE |
                            WD_WASI_R_FD_FILESTAT_SET_SIZE)) != 0;
    int want_read = (rb & (WD_WASI_R_FD_READ | WD_WASI_R_FD_READDIR)) != 0;
    int mutate = want_write || (oflags & (WD_WASI_O_CREAT | WD_WASI_O_TRUNC));
    rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[2], (uint32_t)a[3],
                              dirflags & WD_WASI_LOOKUP_SYMLINK_FOLLOW, mutate, &r);
    if (rc) return rc;

    int flags = O_CLOEXEC | O_NOFOLLOW;
    if (want_write) flags |= want_read ? O_RDWR : O_WRONLY;
    else flags |= O_RDONLY;
    if (oflags & WD_WASI_O_CREAT) flags |= O_CREAT;
    if (oflags & WD_WASI_O_EXCL) flags |= O_EXCL;
    if (oflags & WD_WASI_O_TRUNC) flags |= O_TRUNC;
    if (oflags & WD_WASI_O_DIRECTORY) flags |= O_DIRECTORY;
    if (fdflags & WD_WASI_FDFLAG_APPEND) flags |= O_APPEND;
    if (fdflags & WD_WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & WD_WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
    if (fdflags & (WD_WASI_FDFLAG_SYNC | WD_WASI_FDFLAG_RSYNC)) flags |= O_SYNC;

    int hfd = openat(r.dirfd, r.last, flags, 0666);
    if (hfd < 0) { rc = wd_host_wasi_errno(errno); wd_host_wasi_resolved_free(&r); return rc; }
    int sandbox_rw = r.base->writable;
    uint64_t parent_inh = r.base->rights_inh;
    wd_host_wasi_resolved_free(&r);

    struct stat st;
    if (fstat(hfd, &st) != 0) { rc = wd_host_wasi_errno(errno); close(hfd); return rc; }
    int64_t nfd = wd_host_wasi_fd_alloc(c->w);
    if (nfd < 0) { close(hfd); return WD_WASI_EMFILE; }
    wd_host_wasi_fd_t *e = &c->w->fds[nfd];
    e->host_fd = hfd;
    e->owned = 1;
    e->preopen = -1;
    e->filetype = wd_host_wasi_filetype_of_mode(st.st_mode);
    e->fdflags = (uint16_t)(fdflags & 0x1f);
    if (S_ISDIR(st.st_mode)) {
        e->kind = WD_WASI_FD_DIR;
        e->writable = (uint8_t)sandbox_rw;
        e->rights_base = rb & (WD_WASI_RIGHTS_DIR_RO | (sandbox_rw ? WD_WASI_RIGHTS_DIR_W : 0));
        e->rights_inh = ri & parent_inh;
    } else {
        uint64_t allowed = WD_WASI_RIGHTS_FILE_RO | (want_write ? WD_WASI_RIGHTS_FILE_W : 0);
        if (!want_read) allowed &= ~WD_WASI_R_FD_READ;
        if (!S_ISREG(st.st_mode)) allowed &= ~(WD_WASI_R_FD_SEEK | WD_WASI_R_FD_TELL);
        e->kind = WD_WASI_FD_FILE;
        e->writable = (uint8_t)want_write;
        e->rights_base = rb & allowed;
        e->rights_inh = 0;
    }
    wd_wasi_st32(pout, (uint32_t)nfd);
    return 0;
}

static uint32_t wd_host_wasi_path_create_directory(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t r;
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 0, 1, &r);
    if (rc) return rc;
    if (mkdirat(r.dirfd, r.last, 0777) != 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&r);
    return rc;
}

/* path_filestat_get(fd, flags, path, len, buf) */
static uint32_t wd_host_wasi_path_filestat_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t r;
    struct stat st;
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[4], 64);
    if (p == NULL) return WD_WASI_EFAULT;
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[2], (uint32_t)a[3],
                                       (uint32_t)a[1] & WD_WASI_LOOKUP_SYMLINK_FOLLOW, 0, &r);
    if (rc) return rc;
    if (fstatat(r.dirfd, r.last, &st, AT_SYMLINK_NOFOLLOW) != 0) rc = wd_host_wasi_errno(errno);
    else wd_host_wasi_put_filestat(p, &st);
    wd_host_wasi_resolved_free(&r);
    return rc;
}

/* path_filestat_set_times(fd, flags, path, len, atim, mtim, fst_flags) */
static uint32_t wd_host_wasi_path_filestat_set_times(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t r;
    struct timespec ts[2];
    int trc = wd_host_wasi_times(a[4], a[5], (uint32_t)a[6], ts);
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[2], (uint32_t)a[3],
                                       (uint32_t)a[1] & WD_WASI_LOOKUP_SYMLINK_FOLLOW, 1, &r);
    if (rc) return rc;
    if (trc) rc = (uint32_t)trc;
    else if (utimensat(r.dirfd, r.last, ts, AT_SYMLINK_NOFOLLOW) != 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&r);
    return rc;
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len) */
static uint32_t wd_host_wasi_path_link(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t ro, rn;
    if (wd_wasi_mem(c, (uint32_t)a[5], (uint32_t)a[6]) == NULL) return WD_WASI_EFAULT;
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[2], (uint32_t)a[3],
                                       (uint32_t)a[1] & WD_WASI_LOOKUP_SYMLINK_FOLLOW, 1, &ro);
    if (rc) return rc;
    rc = wd_host_wasi_resolve(c, (uint32_t)a[4], (uint32_t)a[5], (uint32_t)a[6], 0, 1, &rn);
    if (rc) { wd_host_wasi_resolved_free(&ro); return rc; }
    if (linkat(ro.dirfd, ro.last, rn.dirfd, rn.last, 0) != 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&ro);
    wd_host_wasi_resolved_free(&rn);
    return rc;
}

/* path_readlink(fd, path, len, buf, buf_len, bufused) */
static uint32_t wd_host_wasi_path_readlink(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t r;
    uint32_t blen = (uint32_t)a[4];
    uint8_t *buf = wd_wasi_mem(c, (uint32_t)a[3], blen);
    uint8_t *pused = wd_wasi_mem(c, (uint32_t)a[5], 4);
    char tmp[WD_WASI_MAX_PATH];
    if (buf == NULL || pused == NULL) return WD_WASI_EFAULT;
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 0, 0, &r);
    if (rc) return rc;
    ssize_t n = readlinkat(r.dirfd, r.last, tmp, sizeof(tmp));
    if (n < 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&r);
    if (rc) return rc;
    if ((size_t)n > blen) n = blen;
    memcpy(buf, tmp, (size_t)n);
    wd_wasi_st32(pused, (uint32_t)n);
    return 0;
}

static uint32_t wd_host_wasi_path_unlink_common(wd_host_wasi_call_t *c, const uint64_t *a, int flags)
{
    wd_host_wasi_resolved_t r;
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 0, 1, &r);
    if (rc) return rc;
    if (unlinkat(r.dirfd, r.last, flags) != 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&r);
    return rc;
}

static uint32_t wd_host_wasi_path_remove_directory(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_path_unlink_common(c, a, AT_REMOVEDIR);
}

static uint32_t wd_host_wasi_path_unlink_file(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_path_unlink_common(c, a, 0);
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) */
static uint32_t wd_host_wasi_path_rename(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t ro, rn;
    if (wd_wasi_mem(c, (uint32_t)a[4], (uint32_t)a[5]) == NULL) return WD_WASI_EFAULT;
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 0, 1, &ro);
    if (rc) return rc;
    rc = wd_host_wasi_resolve(c, (uint32_t)a[3], (uint32_t)a[4], (uint32_t)a[5], 0, 1, &rn);
    if (rc) { wd_host_wasi_resolved_free(&ro); return rc; }
    if (renameat(ro.dirfd, ro.last, rn.dirfd, rn.last) != 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&ro);
    wd_host_wasi_resolved_free(&rn);
    return rc;
}

/* path_symlink(old_path, old_len, fd, new_path, new_len): old_path is the link's content. */
static uint32_t wd_host_wasi_path_symlink(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_resolved_t r;
    uint32_t olen = (uint32_t)a[1];
    const uint8_t *op = wd_wasi_mem(c, (uint32_t)a[0], olen);
    if (op == NULL) return WD_WASI_EFAULT;
    if (olen == 0) return WD_WASI_ENOENT;
    if (olen >= WD_WASI_MAX_PATH) return WD_WASI_ENAMETOOLONG;
    if (memchr(op, 0, olen) != NULL) return WD_WASI_EILSEQ;
    if (op[0] == '/') return WD_WASI_ENOTCAPABLE;
    char target[WD_WASI_MAX_PATH];
    memcpy(target, op, olen);
    target[olen] = '\0';
    uint32_t rc = wd_host_wasi_resolve(c, (uint32_t)a[2], (uint32_t)a[3], (uint32_t)a[4], 0, 1, &r);
    if (rc) return rc;
    if (symlinkat(target, r.dirfd, r.last) != 0) rc = wd_host_wasi_errno(errno);
    wd_host_wasi_resolved_free(&r);
    return rc;
}

const wd_host_wasi_func_t wd_host_wasi_path_funcs[] = {
    { "path_create_directory", "iii", 1, wd_host_wasi_path_create_directory },
    { "path_filestat_get", "iiiii", 1, wd_host_wasi_path_filestat_get },
    { "path_filestat_set_times", "iiiiIIi", 1, wd_host_wasi_path_filestat_set_times },
    { "path_link", "iiiiiii", 1, wd_host_wasi_path_link },
    { "path_open", "iiiiiIIii", 1, wd_host_wasi_path_open },
    { "path_readlink", "iiiiii", 1, wd_host_wasi_path_readlink },
    { "path_remove_directory", "iii", 1, wd_host_wasi_path_remove_directory },
    { "path_rename", "iiiiii", 1, wd_host_wasi_path_rename },
    { "path_symlink", "iiiii", 1, wd_host_wasi_path_symlink },
    { "path_unlink_file", "iii", 1, wd_host_wasi_path_unlink_file },
    { NULL, NULL, 0, NULL }
};
