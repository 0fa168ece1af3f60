/*
 * wd_host_wasi_fd.c -- preview1 calls on open descriptors: read/write (vectored,
 * positional), seek/tell, close/renumber, fdstat, filestat, prestat, readdir,
 * sync/advise/allocate.
 *
 * Scatter/gather lists are copied out of guest memory and every buffer is
 * checked before the host touches it; the host's readv/writev then works
 * directly on guest memory. Callback streams (wd_host_wasi_stream_t) get one
 * call per buffer until one comes back short. fd_readdir uses the entry index
 * as cookie and re-reads the directory from the start on every call, which is
 * simple and stays correct across guest-visible seeks (cost O(n^2) for huge
 * directories read in many small chunks; wasi-libc reads 4 KiB at a time).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wd_host_wasi_int.h"

#define WD_WASI_IOV_MAX 1024

int wd_host_wasi_fd_hostfd(const wd_host_wasi_fd_t *e)
{
    return e->kind == WD_WASI_FD_STREAM ? -1 : e->host_fd;
}

/* Copy a guest iovec array into host iovecs pointing into guest memory. */
static uint32_t wd_host_wasi_iovs(wd_host_wasi_call_t *c, uint32_t iovs, uint32_t n,
                                  struct iovec *out, int *nout)
{
    uint8_t *p = wd_wasi_mem(c, iovs, (uint64_t)n * 8);
    if (p == NULL) return WD_WASI_EFAULT;
    if (n > WD_WASI_IOV_MAX) n = WD_WASI_IOV_MAX;    /* a short transfer, as POSIX allows */
    int k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = wd_wasi_ld32(p + 8 * i), len = wd_wasi_ld32(p + 8 * i + 4);
        uint8_t *b = wd_wasi_mem(c, buf, len);
        if (b == NULL) return WD_WASI_EFAULT;
        if (len == 0) continue;
        out[k].iov_base = b;
        out[k].iov_len = len;
        k++;
    }
    *nout = k;
    return 0;
}

/* mode: 0 read, 1 write, 2 pread, 3 pwrite */
static uint32_t wd_host_wasi_rw(wd_host_wasi_call_t *c, uint32_t fd, uint32_t iovs, uint32_t n,
                                int mode, uint64_t off, uint32_t outp)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, fd);
    uint8_t *po = wd_wasi_mem(c, outp, 4);
    struct iovec *v;
    int nv = 0;
    uint32_t rc;
    int wr = mode & 1;

    /* guest pointers first: a bad one is EFAULT whatever the descriptor */
    if (po == NULL) return WD_WASI_EFAULT;
    v = wd_wasm_malloc(sizeof(*v) * (n < WD_WASI_IOV_MAX ? (n ? n : 1) : WD_WASI_IOV_MAX));
    if (v == NULL) return WD_WASI_ENOMEM;
    rc = wd_host_wasi_iovs(c, iovs, n, v, &nv);
    if (rc == 0 && e == NULL) rc = WD_WASI_EBADF;
    else if (rc == 0 && e->kind == WD_WASI_FD_DIR) rc = WD_WASI_EISDIR;
    else if (rc == 0 && !(e->rights_base & (wr ? WD_WASI_R_FD_WRITE : WD_WASI_R_FD_READ)))
        rc = WD_WASI_EBADF;
    else if (rc == 0 && mode >= 2 && !(e->rights_base & WD_WASI_R_FD_SEEK)) rc = WD_WASI_ESPIPE;
    else if (rc == 0 && mode >= 2 && off > INT64_MAX) rc = WD_WASI_EINVAL;
    if (rc) { wd_wasm_free(v); return rc; }

    uint64_t total = 0;
    if (e->kind == WD_WASI_FD_STREAM) {
        for (int i = 0; i < nv; i++) {
            int64_t r;
            if (wr) r = e->stream.write ? e->stream.write(e->stream.ud, v[i].iov_base, v[i].iov_len)
                                        : (int64_t)v[i].iov_len;   /* no sink: discard */
            else r = e->stream.read ? e->stream.read(e->stream.ud, v[i].iov_base, v[i].iov_len) : 0;
            if (r < 0) {
                if (total == 0) { wd_wasm_free(v); return (uint32_t)-r; }
                break;
            }
            total += (uint64_t)r;
            if ((size_t)r < v[i].iov_len) break;
        }
    } else {
        ssize_t r;
        if (nv == 0) {
            r = 0;
        } else {
            do {
                switch (mode) {
                case 0: r = readv(e->host_fd, v, nv); break;
                case 1: r = writev(e->host_fd, v, nv); break;
                case 2: r = preadv(e->host_fd, v, nv, (off_t)off); break;
                default: r = pwritev(e->host_fd, v, nv, (off_t)off); break;
                }
            } while (r < 0 && errno == EINTR);
        }
        if (r < 0) { int er = errno; wd_wasm_free(v); return wd_host_wasi_errno(er); }
        total = (uint64_t)r;
    }
    wd_wasm_free(v);
    wd_wasi_st32(po, (uint32_t)total);
    return 0;
}

static uint32_t wd_host_wasi_fd_read(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_rw(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 0, 0, (uint32_t)a[3]);
}

static uint32_t wd_host_wasi_fd_write(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_rw(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 1, 0, (uint32_t)a[3]);
}

static uint32_t wd_host_wasi_fd_pread(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_rw(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 2, a[3], (uint32_t)a[4]);
}

static uint32_t wd_host_wasi_fd_pwrite(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_rw(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], 3, a[3], (uint32_t)a[4]);
}

static uint32_t wd_host_wasi_fd_seek(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[3], 8);
    static const int wh[3] = { SEEK_SET, SEEK_CUR, SEEK_END };
    uint32_t whence = (uint32_t)a[2];
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL) return WD_WASI_EBADF;
    if (whence > 2) return WD_WASI_EINVAL;
    if (e->kind == WD_WASI_FD_STREAM || !(e->rights_base & (WD_WASI_R_FD_SEEK | WD_WASI_R_FD_TELL)))
        return WD_WASI_ESPIPE;
    off_t r = lseek(e->host_fd, (off_t)(int64_t)a[1], wh[whence]);
    if (r < 0) return wd_host_wasi_errno(errno);
    wd_wasi_st64(p, (uint64_t)r);
    return 0;
}

static uint32_t wd_host_wasi_fd_tell(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[1], 8);
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL) return WD_WASI_EBADF;
    if (e->kind == WD_WASI_FD_STREAM || !(e->rights_base & WD_WASI_R_FD_TELL))
        return WD_WASI_ESPIPE;
    off_t r = lseek(e->host_fd, 0, SEEK_CUR);
    if (r < 0) return wd_host_wasi_errno(errno);
    wd_wasi_st64(p, (uint64_t)r);
    return 0;
}

static uint32_t wd_host_wasi_fd_close(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    if (e == NULL) return WD_WASI_EBADF;
    wd_host_wasi_fd_release(e);
    return 0;
}

static uint32_t wd_host_wasi_fd_renumber(wd_host_wasi_call_t *c, const uint64_t *a)
{
    uint32_t from = (uint32_t)a[0], to = (uint32_t)a[1];
    wd_host_wasi_fd_t *ef = wd_host_wasi_fd_get(c->w, from), *et = wd_host_wasi_fd_get(c->w, to);
    if (ef == NULL || et == NULL) return WD_WASI_EBADF;
    if (from == to) return 0;
    wd_host_wasi_fd_release(et);
    *et = *ef;
    memset(ef, 0, sizeof(*ef));
    ef->host_fd = -1;
    ef->preopen = -1;
    return 0;
}

static uint32_t wd_host_wasi_fd_fdstat_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[1], 24);
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL) return WD_WASI_EBADF;
    memset(p, 0, 24);
    p[0] = e->filetype;
    wd_wasi_st16(p + 2, e->fdflags);
    wd_wasi_st64(p + 8, e->rights_base);
    wd_wasi_st64(p + 16, e->rights_inh);
    return 0;
}

static uint32_t wd_host_wasi_fd_fdstat_set_flags(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint16_t fl = (uint16_t)a[1];
    if (e == NULL) return WD_WASI_EBADF;
    if (fl & ~(WD_WASI_FDFLAG_APPEND | WD_WASI_FDFLAG_NONBLOCK | WD_WASI_FDFLAG_DSYNC |
               WD_WASI_FDFLAG_RSYNC | WD_WASI_FDFLAG_SYNC))
        return WD_WASI_EINVAL;
    if (fl == e->fdflags) return 0;
    /* Host stdio is shared with our own process and callback streams have no
     * host flags: only the flags they already have are accepted. */
    if (e->kind != WD_WASI_FD_FILE) return WD_WASI_ENOTSUP;
    if ((fl ^ e->fdflags) & (WD_WASI_FDFLAG_DSYNC | WD_WASI_FDFLAG_RSYNC | WD_WASI_FDFLAG_SYNC))
        return WD_WASI_ENOTSUP;            /* Linux cannot change O_SYNC after open */
    int hf = fcntl(e->host_fd, F_GETFL);
    if (hf < 0) return wd_host_wasi_errno(errno);
    hf &= ~(O_APPEND | O_NONBLOCK);
    if (fl & WD_WASI_FDFLAG_APPEND) hf |= O_APPEND;
    if (fl & WD_WASI_FDFLAG_NONBLOCK) hf |= O_NONBLOCK;
    if (fcntl(e->host_fd, F_SETFL, hf) < 0) return wd_host_wasi_errno(errno);
    e->fdflags = fl;
    return 0;
}

static uint32_t wd_host_wasi_fd_fdstat_set_rights(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    if (e == NULL) return WD_WASI_EBADF;
    if ((a[1] & ~e->rights_base) || (a[2] & ~e->rights_inh)) return WD_WASI_ENOTCAPABLE;
    e->rights_base = a[1];
    e->rights_inh = a[2];
    return 0;
}

static uint32_t wd_host_wasi_fd_filestat_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[1], 64);
    struct stat st;
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL) return WD_WASI_EBADF;
    if (e->kind == WD_WASI_FD_STREAM) {
        memset(p, 0, 64);
        p[16] = e->filetype;
        return 0;
    }
    if (fstat(e->host_fd, &st) != 0) return wd_host_wasi_errno(errno);
    wd_host_wasi_put_filestat(p, &st);
    return 0;
}

static uint32_t wd_host_wasi_fd_writable_file(wd_host_wasi_fd_t *e)
{
    if (e == NULL) return WD_WASI_EBADF;
    /* never resize or re-time the host's own stdio files */
    if (e->kind != WD_WASI_FD_FILE) return WD_WASI_EINVAL;
    if (!e->writable) return WD_WASI_EBADF;
    return 0;
}

static uint32_t wd_host_wasi_fd_filestat_set_size(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint32_t rc = wd_host_wasi_fd_writable_file(e);
    if (rc) return rc;
    if (a[1] > INT64_MAX) return WD_WASI_EINVAL;
    if (ftruncate(e->host_fd, (off_t)a[1]) != 0) return wd_host_wasi_errno(errno);
    return 0;
}

/* fst_flags: 1 atim, 2 atim_now, 4 mtim, 8 mtim_now */
int wd_host_wasi_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2])
{
    if (((fl & 1) && (fl & 2)) || ((fl & 4) && (fl & 8)) || (fl & ~0xfu)) return WD_WASI_EINVAL;
    ts[0].tv_sec = (time_t)(atim / 1000000000ull); ts[0].tv_nsec = (long)(atim % 1000000000ull);
    ts[1].tv_sec = (time_t)(mtim / 1000000000ull); ts[1].tv_nsec = (long)(mtim % 1000000000ull);
    if (!(fl & 3)) ts[0].tv_nsec = UTIME_OMIT;
    else if (fl & 2) ts[0].tv_nsec = UTIME_NOW;
    if (!(fl & 12)) ts[1].tv_nsec = UTIME_OMIT;
    else if (fl & 8) ts[1].tv_nsec = UTIME_NOW;
    return 0;
}

static uint32_t wd_host_wasi_fd_filestat_set_times(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    struct timespec ts[2];
    if (e == NULL) return WD_WASI_EBADF;
    if (e->kind != WD_WASI_FD_FILE && e->kind != WD_WASI_FD_DIR) return WD_WASI_EINVAL;
    if (!e->writable) return WD_WASI_EBADF;
    int rc = wd_host_wasi_times(a[1], a[2], (uint32_t)a[3], ts);
    if (rc) return (uint32_t)rc;
    if (futimens(e->host_fd, ts) != 0) return wd_host_wasi_errno(errno);
    return 0;
}

static uint32_t wd_host_wasi_fd_advise(wd_host_wasi_call_t *c, const uint64_t *a)
{
    static const int adv[6] = { POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE };
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint32_t advice = (uint32_t)a[3];
    if (e == NULL) return WD_WASI_EBADF;
    if (advice > 5 || a[1] > INT64_MAX || a[2] > INT64_MAX) return WD_WASI_EINVAL;
    if (e->kind != WD_WASI_FD_FILE) return WD_WASI_ESPIPE;
    int r = posix_fadvise(e->host_fd, (off_t)a[1], (off_t)a[2], adv[advice]);
    return r ? wd_host_wasi_errno(r) : 0;
}

static uint32_t wd_host_wasi_fd_allocate(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint32_t rc = wd_host_wasi_fd_writable_file(e);
    if (rc) return rc;
    if (a[1] > INT64_MAX || a[2] > INT64_MAX) return WD_WASI_EINVAL;
    int r = posix_fallocate(e->host_fd, (off_t)a[1], (off_t)a[2]);
    return r ? wd_host_wasi_errno(r) : 0;
}

static uint32_t wd_host_wasi_fd_sync_common(wd_host_wasi_call_t *c, const uint64_t *a, int data)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    if (e == NULL) return WD_WASI_EBADF;
    if (e->kind == WD_WASI_FD_STREAM) return WD_WASI_EINVAL;
    if ((data ? fdatasync(e->host_fd) : fsync(e->host_fd)) != 0) return wd_host_wasi_errno(errno);
    return 0;
}

static uint32_t wd_host_wasi_fd_sync(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_fd_sync_common(c, a, 0);
}

static uint32_t wd_host_wasi_fd_datasync(wd_host_wasi_call_t *c, const uint64_t *a)
{
    return wd_host_wasi_fd_sync_common(c, a, 1);
}

static uint32_t wd_host_wasi_fd_prestat_get(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[1], 8);
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL || e->preopen < 0) return WD_WASI_EBADF;
    memset(p, 0, 8);
    wd_wasi_st32(p + 4, (uint32_t)c->w->preopens[e->preopen].guest_name_len);
    return 0;
}

static uint32_t wd_host_wasi_fd_prestat_dir_name(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint32_t len = (uint32_t)a[2];
    uint8_t *p = wd_wasi_mem(c, (uint32_t)a[1], len);
    if (p == NULL) return WD_WASI_EFAULT;
    if (e == NULL || e->preopen < 0) return WD_WASI_EBADF;
    const wd_host_wasi_preopen_t *po = &c->w->preopens[e->preopen];
    if (len < po->guest_name_len) return WD_WASI_ENAMETOOLONG;
    memcpy(p, po->guest_name, po->guest_name_len);
    return 0;
}

static uint8_t wd_host_wasi_dtype(unsigned char t)
{
    switch (t) {
    case DT_REG: return WD_WASI_FT_FILE;
    case DT_DIR: return WD_WASI_FT_DIR;
    case DT_LNK: return WD_WASI_FT_SYMLINK;
    case DT_CHR: return WD_WASI_FT_CHAR;
    case DT_BLK: return WD_WASI_FT_BLOCK;
    case DT_SOCK: return WD_WASI_FT_STREAM;
    default: return WD_WASI_FT_UNKNOWN;
    }
}

/* fd_readdir(fd, buf, buf_len, cookie, bufused) */
static uint32_t wd_host_wasi_fd_readdir(wd_host_wasi_call_t *c, const uint64_t *a)
{
    wd_host_wasi_fd_t *e = wd_host_wasi_fd_get(c->w, (uint32_t)a[0]);
    uint32_t len = (uint32_t)a[2];
    uint64_t cookie = a[3];
    uint8_t *buf = wd_wasi_mem(c, (uint32_t)a[1], len);
    uint8_t *pused = wd_wasi_mem(c, (uint32_t)a[4], 4);
    if (buf == NULL || pused == NULL) return WD_WASI_EFAULT;
    if (e == NULL) return WD_WASI_EBADF;
    if (e->kind != WD_WASI_FD_DIR) return WD_WASI_ENOTDIR;

    int dfd = openat(e->host_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return wd_host_wasi_errno(errno);
    DIR *d = fdopendir(dfd);
    if (d == NULL) { int er = errno; close(dfd); return wd_host_wasi_errno(er); }

    uint32_t used = 0;
    uint64_t idx = 0;
    struct dirent *de;
    errno = 0;
    while (used < len && (de = readdir(d)) != NULL) {
        if (idx++ < cookie) continue;
        uint8_t hdr[24];
        size_t nl = strlen(de->d_name);
        memset(hdr, 0, sizeof(hdr));
        wd_wasi_st64(hdr, idx);                       /* d_next: cookie of the next entry */
        wd_wasi_st64(hdr + 8, (uint64_t)de->d_ino);
        wd_wasi_st32(hdr + 16, (uint32_t)nl);
        hdr[20] = wd_host_wasi_dtype(de->d_type);
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                hdr[20] = wd_host_wasi_filetype_of_mode(st.st_mode);
        }
        /* Entries are written whole or truncated at the buffer's end: a full
         * buffer tells the guest to retry with a larger one. */
        uint32_t n = len - used < 24 ? len - used : 24;
        memcpy(buf + used, hdr, n);
        used += n;
        n = len - used < nl ? len - used : (uint32_t)nl;
        memcpy(buf + used, de->d_name, n);
        used += n;
        errno = 0;
    }
    int er = errno;
    closedir(d);
    if (er && used == 0) return wd_host_wasi_errno(er);
    wd_wasi_st32(pused, used);
    return 0;
}

const wd_host_wasi_func_t wd_host_wasi_fd_funcs[] = {
    { "fd_advise", "iIIi", 1, wd_host_wasi_fd_advise },
    { "fd_allocate", "iII", 1, wd_host_wasi_fd_allocate },
    { "fd_close", "i", 1, wd_host_wasi_fd_close },
    { "fd_datasync", "i", 1, wd_host_wasi_fd_datasync },
    { "fd_fdstat_get", "ii", 1, wd_host_wasi_fd_fdstat_get },
    { "fd_fdstat_set_flags", "ii", 1, wd_host_wasi_fd_fdstat_set_flags },
    { "fd_fdstat_set_rights", "iII", 1, wd_host_wasi_fd_fdstat_set_rights },
    { "fd_filestat_get", "ii", 1, wd_host_wasi_fd_filestat_get },
    { "fd_filestat_set_size", "iI", 1, wd_host_wasi_fd_filestat_set_size },
    { "fd_filestat_set_times", "iIIi", 1, wd_host_wasi_fd_filestat_set_times },
    { "fd_pread", "iiiIi", 1, wd_host_wasi_fd_pread },
    { "fd_prestat_get", "ii", 1, wd_host_wasi_fd_prestat_get },
    { "fd_prestat_dir_name", "iii", 1, wd_host_wasi_fd_prestat_dir_name },
    { "fd_pwrite", "iiiIi", 1, wd_host_wasi_fd_pwrite },
    { "fd_read", "iiii", 1, wd_host_wasi_fd_read },
    { "fd_readdir", "iiiIi", 1, wd_host_wasi_fd_readdir },
    { "fd_renumber", "ii", 1, wd_host_wasi_fd_renumber },
    { "fd_seek", "iIii", 1, wd_host_wasi_fd_seek },
    { "fd_sync", "i", 1, wd_host_wasi_fd_sync },
    { "fd_tell", "ii", 1, wd_host_wasi_fd_tell },
    { "fd_write", "iiii", 1, wd_host_wasi_fd_write },
    { NULL, NULL, 0, NULL }
};
