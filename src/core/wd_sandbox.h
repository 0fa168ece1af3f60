/*
 * wd_sandbox.h -- the operating system's walls around a worker (and `wasmd run`).
 *
 * A worker is confined in two steps (wd_process.c):
 *   1. wd_sandbox_drop(), right after fork, before any module's init_worker:
 *      RLIMIT_CORE, the capability bounding set emptied, securebits locked so uid 0
 *      means nothing, setgroups/initgroups + setgid + setuid to the configured user
 *      (only when the master is root and runs workers: the `user` directive, default
 *      nobody / nogroup), every remaining capability cleared (effective, permitted,
 *      inheritable, ambient), PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0. Each step is
 *      checked; a worker that cannot drop exits with the fatal status.
 *   2. wd_sandbox_confine(), after init_worker (instances created, timers set up):
 *      Landlock (filesystem: read/write only the trees the configuration names; TCP:
 *      no bind; signals: none outside the process) where the kernel has it, then the
 *      seccomp-bpf allow-list (worker_seccomp on|log|off). A forbidden system call
 *      traps: the worker writes "worker_seccomp: forbidden system call NAME (N)" to
 *      its error logs and dies of SIGSYS, which the master logs before respawning it.
 *
 * The first half of this header is plain C (the mechanism, also used by `wasmd run`);
 * the second ties it to the configuration (directives, paths, log files).
 */
#ifndef WD_SANDBOX_H
#define WD_SANDBOX_H

#include <sys/types.h>
#include <stddef.h>

typedef struct wd_sandbox_conf_s wd_sandbox_conf_t;

#define WD_SECCOMP_OFF   0
#define WD_SECCOMP_ON    1
#define WD_SECCOMP_LOG   2      /* record forbidden calls (kernel audit log), do not stop them */

/* access granted to a path (and everything beneath it when it is a directory) */
#define WD_SANDBOX_READ      0x1    /* read files, list directories */
#define WD_SANDBOX_WRITE     0x2    /* open existing files for writing (logs) */
#define WD_SANDBOX_MODIFY    0x4    /* create, remove, rename, truncate, link (rw trees) */
#define WD_SANDBOX_CREATE    0x8    /* create and remove regular files (logs, pid file of
                                       master_process off, which reopens/removes them itself) */

typedef struct {
    const char     *path;
    unsigned        access;
} wd_sandbox_path_t;

typedef struct {
    int             change_user;     /* setgroups/setgid/setuid to uid/gid (root only) */
    uid_t           uid;
    gid_t           gid;
    const char     *user_name;       /* for initgroups; NULL: setgroups(0) */
    long long       rlimit_core;     /* -1: 0 (no core dumps) */
    int             seccomp;         /* WD_SECCOMP_* */
    int             landlock;        /* 0: leave the filesystem alone */
    const wd_sandbox_path_t *paths;
    int             npaths;
    const int      *log_fds;         /* where the SIGSYS handler writes its line */
    int             nlog_fds;
    const char     *who;             /* "worker" / "wasmd run": prefix of that line */
} wd_sandbox_t;

/* Step 1. 0, or -1 with a message in err. */
int  wd_sandbox_drop(const wd_sandbox_t *sb, char *err, size_t errlen);
/* Step 2. 0, or -1 with a message in err. A facility the kernel lacks (Landlock before
 * 5.13, seccomp under valgrind) is skipped with a message in warn (warn[0] == 0: none). */
int  wd_sandbox_confine(const wd_sandbox_t *sb, char *err, size_t errlen,
                        char *warn, size_t warnlen);
/* `wasmd run` (wd_run_sandbox in wd_host_run.h): drop (keeping the user) and confine
 * to the preopened directories; errors and warnings on stderr. 0 or -1. */
int  wd_sandbox_run(int n, const char *const *paths, const int *rw);
/* The highest Landlock ABI the kernel offers, 0 if none. */
int  wd_sandbox_landlock_abi(void);
/* "execve" for a syscall number of this architecture (a static buffer for unknown ones). */
const char *wd_sandbox_syscall_name(int nr);

/* ---- the configuration side ---- */

#include "wd_cycle.h"

struct wd_sandbox_conf_s {
    wd_flag_t       user_set;        /* a `user` directive was given */
    int             change_user;     /* workers switch to uid/gid (master is root) */
    uid_t           uid;
    gid_t           gid;
    char           *user_name;
    wd_uint_t       seccomp;         /* worker_seccomp on|log|off */
    wd_flag_t       landlock;        /* worker_landlock on|off */
    off_t           rlimit_core;     /* worker_rlimit_core; -1: 0 (no dumps) */
    wd_array_t      paths;           /* wd_sandbox_path_t: trees modules registered */
};

/* The core module's conf hooks (wd_core_module.c) and directive handlers. */
wd_sandbox_conf_t *wd_sandbox_create_conf(wd_cycle_t *cycle);
char *wd_sandbox_init_conf(wd_cycle_t *cycle);
char *wd_sandbox_set_user(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_sandbox_set_seccomp(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_sandbox_set_landlock(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
char *wd_sandbox_set_rlimit_core(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

/* A module grants workers access to a path (absolute, NUL-terminated; copied) and
 * everything beneath it: WD_SANDBOX_READ for trees served read-only (wasm_dir),
 * WD_SANDBOX_MODIFY for read-write ones. Call while parsing. WD_OK or WD_ERROR. */
int  wd_sandbox_allow_path(wd_cycle_t *cycle, const char *path, unsigned access);

/* In a worker (is_worker) or the single process, before init_worker: the privileges
 * (the user switch only in a worker). WD_OK, or WD_ERROR (logged at emerg). */
int  wd_sandbox_drop_process(wd_cycle_t *cycle, int is_worker);
/* After init_worker: Landlock and seccomp. WD_OK or WD_ERROR (logged at emerg). */
int  wd_sandbox_confine_process(wd_cycle_t *cycle);
/* Master, after reopening the log files (USR1): give them to the workers' user, as
 * nginx does, so unprivileged workers can reopen them too. */
void wd_sandbox_master_reopened(wd_cycle_t *cycle);

#endif /* WD_SANDBOX_H */
