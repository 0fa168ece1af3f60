/*
 * wd_host_wasi.h -- WASI preview1 (wasi_snapshot_preview1) host functions.
 *
 * A wd_host_wasi_t is one guest's view of the outside world: its arguments,
 * environment, stdio streams, preopened directories, clocks and random source,
 * and the table of file descriptors it has opened. It is built over the public
 * engine API only (wd_wasm.h) and libc.
 *
 * Use:
 *     w = wd_host_wasi_new();
 *     wd_host_wasi_set_args(w, argc, argv);
 *     wd_host_wasi_set_env(w, n, (const char *[]){"A=1", ...});
 *     wd_host_wasi_stdio_fd(w, 1, STDOUT_FILENO);    or wd_host_wasi_stdio(w, 1, &stream)
 *     wd_host_wasi_preopen(w, "/srv/data", "/data", WD_HOST_WASI_READONLY);
 *     wd_host_wasi_link(w, store, module, imports, &err);  fills the wasi imports
 *     ... caller fills the other imports, instantiates, calls "_start" ...
 *
 * The server reuses one context per pooled instance: wd_host_wasi_reset()
 * closes every descriptor the guest opened (preopens and stdio stay), so
 * the next request can set new args/env/streams without re-linking. The host
 * functions find the context through the ud pointer they were created with,
 * so the context must outlive the store's functions (free it after the store).
 *
 * Every guest pointer and length is checked with wd_wasm_memory_ptr(); an
 * out-of-bounds one makes the call return EFAULT (21). Paths are resolved
 * beneath their preopened directory: absolute paths, ".." above the preopen
 * and symlinks leading outside are refused (ENOTCAPABLE, 76, or the kernel's
 * EXDEV/ELOOP mapped to WASI errnos).
 *
 * Implemented: args_*, environ_*, clock_res_get, clock_time_get (realtime,
 * monotonic, process/thread cputime), random_get, fd_advise, fd_allocate,
 * fd_close, fd_datasync, fd_fdstat_get, fd_fdstat_set_flags (APPEND, NONBLOCK),
 * fd_fdstat_set_rights (drop only), fd_filestat_get, fd_filestat_set_size,
 * fd_filestat_set_times, fd_pread, fd_pwrite, fd_prestat_get,
 * fd_prestat_dir_name, fd_read, fd_readdir, fd_renumber, fd_seek, fd_sync,
 * fd_tell, fd_write, path_create_directory, path_filestat_get,
 * path_filestat_set_times, path_link, path_open, path_readlink,
 * path_remove_directory, path_rename, path_symlink, path_unlink_file,
 * poll_oneoff (clocks; fd readiness of stdio/files), proc_exit, sched_yield.
 * Linked to a function returning ENOSYS (52): proc_raise, sock_accept,
 * sock_recv, sock_send, sock_shutdown. Any other wasi_snapshot_preview1 name
 * fails to link: "unknown import: wasi_snapshot_preview1::NAME".
 */
#ifndef WD_HOST_WASI_H
#define WD_HOST_WASI_H

#include <stddef.h>
#include <stdint.h>
#include "wd_wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wd_host_wasi wd_host_wasi_t;

#define WD_HOST_WASI_MODULE "wasi_snapshot_preview1"

/* WASI errno values used by callbacks (subset; see the preview1 witx). */
#define WD_WASI_ESUCCESS     0
#define WD_WASI_EBADF        8
#define WD_WASI_EFAULT       21
#define WD_WASI_EINVAL       28
#define WD_WASI_EIO          29
#define WD_WASI_ENOSYS       52
#define WD_WASI_EAGAIN       6
#define WD_WASI_ENOTCAPABLE  76

/* A stdio stream implemented by the embedder. read/write return the number of
 * bytes transferred (read: 0 = end of file), or a negative WASI errno
 * (e.g. -WD_WASI_EAGAIN). A NULL read function reads as end of file, a NULL
 * write function discards. Guest fd 0 is read-only, 1 and 2 are write-only. */
typedef struct {
    int64_t (*read)(void *ud, uint8_t *buf, size_t len);
    int64_t (*write)(void *ud, const uint8_t *buf, size_t len);
    void *ud;
} wd_host_wasi_stream_t;

/* Clock source: fills *ns with the time of clock id (0 realtime, 1 monotonic,
 * 2 process cputime, 3 thread cputime) and returns 0, or returns a WASI errno.
 * res != 0 asks for the clock's resolution instead. */
typedef int (*wd_host_wasi_clock_fn)(void *ud, uint32_t id, int res, uint64_t *ns);
/* Random source: fills buf and returns 0, or returns a WASI errno. */
typedef int (*wd_host_wasi_random_fn)(void *ud, uint8_t *buf, size_t len);

/* Sleep hook for poll_oneoff calls that only wait for clocks. deadline_ns is on
 * the monotonic clock (of the clock source). Return WD_HOST_WASI_SLEEP_DONE after
 * waiting (or to let poll_oneoff report the clocks that expired so far: it then
 * waits for the rest itself), or WD_HOST_WASI_SLEEP_SUSPEND to suspend the call:
 * wd_wasm_call()/resume() returns WD_WASM_SUSPENDED and the embedder resumes the
 * instance with wd_wasm_resume() when the deadline has passed (resuming earlier
 * calls the hook again with the same deadline). Without a hook the thread sleeps. */
#define WD_HOST_WASI_SLEEP_DONE    0
#define WD_HOST_WASI_SLEEP_SUSPEND 1
typedef int (*wd_host_wasi_sleep_fn)(void *ud, uint64_t deadline_ns);

/* A new context: no args, no env, stdin at EOF, stdout/stderr discarded,
 * no preopens, libc clocks (clock_gettime) and getrandom(2). */
wd_host_wasi_t *wd_host_wasi_new(void);
/* Closes every host descriptor it owns (guest-opened files and preopens). */
void wd_host_wasi_free(wd_host_wasi_t *w);

/* Replace the argument vector / environment (copied). env entries are "NAME=VALUE".
 * Return 0, or -1 on allocation failure (the old values then stay). */
int wd_host_wasi_set_args(wd_host_wasi_t *w, int argc, const char *const *argv);
int wd_host_wasi_set_env(wd_host_wasi_t *w, int n, const char *const *env);
/* Append one variable (copied). */
int wd_host_wasi_add_env(wd_host_wasi_t *w, const char *name, const char *value);

/* Guest fd 0, 1 or 2 served by callbacks (copied struct; NULL = closed stream). */
int wd_host_wasi_stdio(wd_host_wasi_t *w, int guest_fd, const wd_host_wasi_stream_t *s);
/* Guest fd 0, 1 or 2 passed through to a host descriptor (not closed by the context;
 * fd_fdstat_get reports its real file type). */
int wd_host_wasi_stdio_fd(wd_host_wasi_t *w, int guest_fd, int host_fd);

#define WD_HOST_WASI_READONLY  0u
#define WD_HOST_WASI_READWRITE 1u
/* Preopen host_dir as guest_name (e.g. "/data" or "."); returns the guest fd (>= 3),
 * or -1 with errno set if host_dir cannot be opened as a directory. Preopens get
 * consecutive fds in the order they are added; adding one resets the descriptor
 * table (as wd_host_wasi_reset), so add them all before the guest runs. */
int wd_host_wasi_preopen(wd_host_wasi_t *w, const char *host_dir, const char *guest_name,
                         unsigned flags);

void wd_host_wasi_set_clock(wd_host_wasi_t *w, wd_host_wasi_clock_fn fn, void *ud);
void wd_host_wasi_set_random(wd_host_wasi_t *w, wd_host_wasi_random_fn fn, void *ud);
void wd_host_wasi_set_sleep(wd_host_wasi_t *w, wd_host_wasi_sleep_fn fn, void *ud);

/* Close every descriptor the guest opened (stdio and preopens stay, their
 * per-fd flags are reset) and forget a suspended poll_oneoff. For reusing the
 * context across requests. */
void wd_host_wasi_reset(wd_host_wasi_t *w);

/* For each import of m whose module is "wasi_snapshot_preview1", create a host
 * function in s bound to w and store it in imports[i] (the array has
 * wd_wasm_module_import_count(m) entries; other entries are left untouched for
 * the caller). Returns the number of imports linked, or -1 with err filled:
 * "unknown import: wasi_snapshot_preview1::NAME" for a name preview1 does not
 * have, "incompatible import type: wasi_snapshot_preview1::NAME" for a wrong
 * kind or signature. err may be NULL. */
int wd_host_wasi_link(wd_host_wasi_t *w, wd_wasm_store_t *s, const wd_wasm_module_t *m,
                      wd_wasm_extern_t *imports, wd_wasm_error_t *err);

/* Nonzero if the name is a wasi_snapshot_preview1 function this file knows. */
int wd_host_wasi_has_func(const char *name, size_t len);

/* Map a host errno value to a WASI errno. */
uint16_t wd_host_wasi_errno(int host_errno);

#ifdef __cplusplus
}
#endif
/* Sandboxed resolution of a relative path beneath directory host_fd (the path_* calls'
 * walk: no absolute paths, no ".." above host_fd, symlinks spliced and re-checked; follow:
 * follow a symlink in the last component). 0 with *dirfd and *last (the final component)
 * to use with *at() calls, released with wd_host_wasi_resolve_path_free(*handle); or an
 * errno value (EPERM for an escape). */
int wd_host_wasi_resolve_path(int host_fd, const uint8_t *p, uint32_t len, int follow,
                              int *dirfd, char **last, void **handle);
void wd_host_wasi_resolve_path_free(void *handle);

#endif /* WD_HOST_WASI_H */
