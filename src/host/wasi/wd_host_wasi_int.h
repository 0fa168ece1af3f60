/*
 * wd_host_wasi_int.h -- internals shared by the WASI preview1 host files:
 * the context and descriptor table, the per-call state, guest memory
 * accessors, preview1 constants, and the per-area function tables.
 *
 * Files: wd_host_wasi.c (context, descriptor table, linking), wd_host_wasi_proc.c
 * (args, environ, clocks, random, poll, exit), wd_host_wasi_fd.c (fd_* calls),
 * wd_host_wasi_path.c (sandboxed path resolution and path_* calls).
 */
#ifndef WD_HOST_WASI_INT_H
#define WD_HOST_WASI_INT_H

#include <string.h>
#include <time.h>
#include "wd_host_wasi.h"

/* preview1 file types */
#define WD_WASI_FT_UNKNOWN  0
#define WD_WASI_FT_BLOCK    1
#define WD_WASI_FT_CHAR     2
#define WD_WASI_FT_DIR      3
#define WD_WASI_FT_FILE     4
#define WD_WASI_FT_DGRAM    5
#define WD_WASI_FT_STREAM   6
#define WD_WASI_FT_SYMLINK  7

/* fdflags */
#define WD_WASI_FDFLAG_APPEND   0x1
#define WD_WASI_FDFLAG_DSYNC    0x2
#define WD_WASI_FDFLAG_NONBLOCK 0x4
#define WD_WASI_FDFLAG_RSYNC    0x8
#define WD_WASI_FDFLAG_SYNC     0x10

/* oflags */
#define WD_WASI_O_CREAT     0x1
#define WD_WASI_O_DIRECTORY 0x2
#define WD_WASI_O_EXCL      0x4
#define WD_WASI_O_TRUNC     0x8

#define WD_WASI_LOOKUP_SYMLINK_FOLLOW 0x1

/* rights */
#define WD_WASI_R_FD_DATASYNC            (1ull << 0)
#define WD_WASI_R_FD_READ                (1ull << 1)
#define WD_WASI_R_FD_SEEK                (1ull << 2)
#define WD_WASI_R_FD_FDSTAT_SET_FLAGS    (1ull << 3)
#define WD_WASI_R_FD_SYNC                (1ull << 4)
#define WD_WASI_R_FD_TELL                (1ull << 5)
#define WD_WASI_R_FD_WRITE               (1ull << 6)
#define WD_WASI_R_FD_ADVISE              (1ull << 7)
#define WD_WASI_R_FD_ALLOCATE            (1ull << 8)
#define WD_WASI_R_PATH_CREATE_DIRECTORY  (1ull << 9)
#define WD_WASI_R_PATH_CREATE_FILE       (1ull << 10)
#define WD_WASI_R_PATH_LINK_SOURCE       (1ull << 11)
#define WD_WASI_R_PATH_LINK_TARGET       (1ull << 12)
#define WD_WASI_R_PATH_OPEN              (1ull << 13)
#define WD_WASI_R_FD_READDIR             (1ull << 14)
#define WD_WASI_R_PATH_READLINK          (1ull << 15)
#define WD_WASI_R_PATH_RENAME_SOURCE     (1ull << 16)
#define WD_WASI_R_PATH_RENAME_TARGET     (1ull << 17)
#define WD_WASI_R_PATH_FILESTAT_GET      (1ull << 18)
#define WD_WASI_R_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define WD_WASI_R_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WD_WASI_R_FD_FILESTAT_GET        (1ull << 21)
#define WD_WASI_R_FD_FILESTAT_SET_SIZE   (1ull << 22)
#define WD_WASI_R_FD_FILESTAT_SET_TIMES  (1ull << 23)
#define WD_WASI_R_PATH_SYMLINK           (1ull << 24)
#define WD_WASI_R_PATH_REMOVE_DIRECTORY  (1ull << 25)
#define WD_WASI_R_PATH_UNLINK_FILE       (1ull << 26)
#define WD_WASI_R_POLL_FD_READWRITE      (1ull << 27)
#define WD_WASI_R_SOCK_SHUTDOWN          (1ull << 28)
#define WD_WASI_R_SOCK_ACCEPT            (1ull << 29)

/* rights a read-only file / a writable file may have */
#define WD_WASI_RIGHTS_FILE_RO (WD_WASI_R_FD_READ | WD_WASI_R_FD_SEEK | WD_WASI_R_FD_TELL | \
    WD_WASI_R_FD_FDSTAT_SET_FLAGS | WD_WASI_R_FD_ADVISE | WD_WASI_R_FD_FILESTAT_GET | \
    WD_WASI_R_POLL_FD_READWRITE)
#define WD_WASI_RIGHTS_FILE_W (WD_WASI_R_FD_DATASYNC | WD_WASI_R_FD_SYNC | WD_WASI_R_FD_WRITE | \
    WD_WASI_R_FD_ALLOCATE | WD_WASI_R_FD_FILESTAT_SET_SIZE | WD_WASI_R_FD_FILESTAT_SET_TIMES)
#define WD_WASI_RIGHTS_DIR_RO (WD_WASI_R_PATH_OPEN | WD_WASI_R_FD_READDIR | \
    WD_WASI_R_PATH_READLINK | WD_WASI_R_PATH_FILESTAT_GET | WD_WASI_R_FD_FILESTAT_GET | \
    WD_WASI_R_FD_FDSTAT_SET_FLAGS)
#define WD_WASI_RIGHTS_DIR_W (WD_WASI_R_PATH_CREATE_DIRECTORY | WD_WASI_R_PATH_CREATE_FILE | \
    WD_WASI_R_PATH_LINK_SOURCE | WD_WASI_R_PATH_LINK_TARGET | WD_WASI_R_PATH_RENAME_SOURCE | \
    WD_WASI_R_PATH_RENAME_TARGET | WD_WASI_R_PATH_FILESTAT_SET_SIZE | \
    WD_WASI_R_PATH_FILESTAT_SET_TIMES | WD_WASI_R_FD_FILESTAT_SET_TIMES | \
    WD_WASI_R_PATH_SYMLINK | WD_WASI_R_PATH_REMOVE_DIRECTORY | WD_WASI_R_PATH_UNLINK_FILE | \
    WD_WASI_R_FD_DATASYNC | WD_WASI_R_FD_SYNC)

/* errno values used internally */
#define WD_WASI_E2BIG      1
#define WD_WASI_EACCES     2
#define WD_WASI_EEXIST     20
#define WD_WASI_EILSEQ     25
#define WD_WASI_EISDIR     31
#define WD_WASI_ELOOP      32
#define WD_WASI_EMFILE     33
#define WD_WASI_ENAMETOOLONG 37
#define WD_WASI_ENOENT     44
#define WD_WASI_ENOMEM     48
#define WD_WASI_ENOTDIR    54
#define WD_WASI_ENOTSUP    58
#define WD_WASI_EOVERFLOW  61
#define WD_WASI_EPERM      63
#define WD_WASI_EROFS      69
#define WD_WASI_ESPIPE     70

#define WD_WASI_MAX_FDS 1024

typedef enum {
    WD_WASI_FD_FREE = 0,
    WD_WASI_FD_STREAM,        /* stdio served by embedder callbacks */
    WD_WASI_FD_HOSTSTDIO,     /* stdio passed through to a host fd we do not own */
    WD_WASI_FD_FILE,          /* host fd we own (regular file or other non-directory) */
    WD_WASI_FD_DIR            /* host directory fd (owned unless it is a preopen's) */
} wd_host_wasi_fdkind_t;

typedef struct {
    uint8_t kind;             /* wd_host_wasi_fdkind_t */
    uint8_t filetype;         /* WD_WASI_FT_* */
    uint8_t writable;         /* writes allowed (file opened for writing / rw sandbox dir) */
    uint8_t owned;            /* host_fd is closed with the entry */
    uint16_t fdflags;
    int host_fd;
    int preopen;              /* index in w->preopens, or -1 */
    uint64_t rights_base, rights_inh;
    wd_host_wasi_stream_t stream;
} wd_host_wasi_fd_t;

typedef struct {
    int host_fd;
    char *guest_name;
    size_t guest_name_len;
    unsigned flags;
} wd_host_wasi_preopen_t;

typedef struct {
    char **v;                 /* NUL-terminated copies */
    int n;
    size_t bytes;             /* sum of strlen + 1 */
} wd_host_wasi_strv_t;

typedef struct {
    int kind;                 /* WD_WASI_FD_STREAM or WD_WASI_FD_HOSTSTDIO (or FREE = closed) */
    int host_fd;
    wd_host_wasi_stream_t stream;
} wd_host_wasi_stdio_t;

typedef struct wd_host_wasi_call wd_host_wasi_call_t;
typedef uint32_t (*wd_host_wasi_impl_fn)(wd_host_wasi_call_t *c, const uint64_t *a);

typedef struct {
    const char *name;
    const char *params;       /* 'i' = i32, 'I' = i64 */
    uint8_t nresults;         /* 0 or 1 (an i32 errno) */
    wd_host_wasi_impl_fn impl;/* NULL: returns ENOSYS */
} wd_host_wasi_func_t;

typedef struct {
    wd_host_wasi_t *w;
    const wd_host_wasi_func_t *f;
} wd_host_wasi_binding_t;

#define WD_WASI_NFUNCS_MAX 64

struct wd_host_wasi {
    wd_host_wasi_strv_t args, env;
    wd_host_wasi_stdio_t stdio[3];
    wd_host_wasi_preopen_t *preopens;
    int npreopens;
    wd_host_wasi_fd_t *fds;
    uint32_t nfds;            /* entries in use (including free holes) */
    uint32_t cap;
    wd_host_wasi_clock_fn clock_fn;
    void *clock_ud;
    wd_host_wasi_random_fn random_fn;
    void *random_ud;
    wd_host_wasi_sleep_fn sleep_fn;
    void *sleep_ud;
    int poll_pending;         /* a poll_oneoff suspended in the sleep hook */
    int dirty;                /* the guest made a call (or the set-up changed) since the
                                 last reset: the descriptor table may differ from pristine */
    uint64_t poll_start;      /* its first entry's monotonic time */
    wd_host_wasi_binding_t bindings[WD_WASI_NFUNCS_MAX];
};

struct wd_host_wasi_call {
    wd_host_wasi_t *w;
    wd_wasm_instance_t *caller;
    wd_wasm_memory_t *mem;
    wd_wasm_host_rc_t rc;     /* set to TRAP by proc_exit */
};

/* Guest memory: a pointer to [off, off+len) or NULL (the caller returns EFAULT). */
static inline uint8_t *wd_wasi_mem(wd_host_wasi_call_t *c, uint64_t off, uint64_t len)
{
    return c->mem ? wd_wasm_memory_ptr(c->mem, off, len) : NULL;
}

/* Little-endian stores/loads into already-checked guest memory. */
static inline void wd_wasi_st16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void wd_wasi_st32(uint8_t *p, uint32_t v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline void wd_wasi_st64(uint8_t *p, uint64_t v)
{
    wd_wasi_st32(p, (uint32_t)v); wd_wasi_st32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t wd_wasi_ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t wd_wasi_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wd_wasi_ld64(const uint8_t *p)
{
    return wd_wasi_ld32(p) | (uint64_t)wd_wasi_ld32(p + 4) << 32;
}

/* Store a u32 result at guest address off; returns 0 or EFAULT. */
static inline uint32_t wd_wasi_put32(wd_host_wasi_call_t *c, uint64_t off, uint32_t v)
{
    uint8_t *p = wd_wasi_mem(c, off, 4);
    if (p == NULL) return WD_WASI_EFAULT;
    wd_wasi_st32(p, v);
    return 0;
}
static inline uint32_t wd_wasi_put64(wd_host_wasi_call_t *c, uint64_t off, uint64_t v)
{
    uint8_t *p = wd_wasi_mem(c, off, 8);
    if (p == NULL) return WD_WASI_EFAULT;
    wd_wasi_st64(p, v);
    return 0;
}

/* Descriptor table (wd_host_wasi.c). */
wd_host_wasi_fd_t *wd_host_wasi_fd_get(wd_host_wasi_t *w, uint32_t fd);
/* Allocate the lowest free slot; returns the fd or -1 (EMFILE/ENOMEM). */
int64_t wd_host_wasi_fd_alloc(wd_host_wasi_t *w);
void wd_host_wasi_fd_release(wd_host_wasi_fd_t *e);
uint8_t wd_host_wasi_filetype_of_mode(unsigned mode);
/* Fill a 64-byte filestat from a host struct stat. */
struct stat;
void wd_host_wasi_put_filestat(uint8_t *p, const struct stat *st);

/* Per-area tables, terminated by a NULL name. */
extern const wd_host_wasi_func_t wd_host_wasi_proc_funcs[];
extern const wd_host_wasi_func_t wd_host_wasi_fd_funcs[];
extern const wd_host_wasi_func_t wd_host_wasi_path_funcs[];

/* Build utimensat times from preview1 (atim, mtim, fst_flags); returns 0 or a WASI errno. */
int wd_host_wasi_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2]);

/* Read/write through a stdio entry (wd_host_wasi_fd.c, used by poll too). */
int wd_host_wasi_fd_hostfd(const wd_host_wasi_fd_t *e);

#endif /* WD_HOST_WASI_INT_H */
