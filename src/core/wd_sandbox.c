/*
 * wd_sandbox.c -- privileges, capabilities, Landlock and the seccomp allow-list
 * of a worker (see wd_sandbox.h for the order and the reasons).
 *
 * The seccomp filter (libseccomp) allows what a serving worker does and nothing else:
 * file descriptor I/O, the file calls WASI and the logs make (paths are Landlock's
 * business), memory management without PROT_EXEC (the engine interprets; W^X), epoll,
 * eventfd, pipes, accepted and outbound TCP/UDP sockets (AF_INET/AF_INET6 stream or
 * datagram, plus AF_UNIX and NETLINK_ROUTE for the resolver: libuv's getaddrinfo runs
 * in its thread pool), clone for threads only (clone3 answers ENOSYS so glibc falls
 * back to clone, whose flags can be checked), signals to itself, timers, clocks,
 * futexes. execve, ptrace, mount, bpf, keyctl, unshare, setns, raw and packet
 * sockets, kernel module calls, bind/listen, setuid & co. are refused: with
 * worker_seccomp on they trap into wd_sandbox_sigsys, which logs the call and kills
 * the process (rt_sigaction(SIGSYS) itself is a killing rule, so a handler cannot be
 * replaced to survive); with `log` the kernel records them and lets them run.
 *
 * Sanitizer builds (ASan/LSan) keep the filter but also allow what the sanitizer
 * runtime does (LeakSanitizer's tracer: clone of a process-like thread, ptrace, prctl,
 * wait4, reading /proc), and Landlock lets them read the whole filesystem (the
 * symbolizer reads the binary). Under valgrind, which runs the program as translated
 * code, PROT_EXEC mappings are allowed, and a facility valgrind does not emulate
 * (Landlock, seccomp) is skipped with a warning.
 */
#include "wd_sandbox.h"
#include "wd_log.h"
#include "wd_wasm.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/securebits.h>
#include <termios.h>
#include <seccomp.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WD_SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WD_SANDBOX_SANITIZER 1
#endif
#endif
#ifndef WD_SANDBOX_SANITIZER
#define WD_SANDBOX_SANITIZER 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* ---- Landlock (raw system calls; constants for kernels newer than the headers) ---- */

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define WD_LL_CREATE_RULESET_VERSION  (1U << 0)
#define WD_LL_RULE_PATH_BENEATH       1
#define WD_LL_RULE_NET_PORT           2

#define WD_LL_FS_EXECUTE        (1ULL << 0)
#define WD_LL_FS_WRITE_FILE     (1ULL << 1)
#define WD_LL_FS_READ_FILE      (1ULL << 2)
#define WD_LL_FS_READ_DIR       (1ULL << 3)
#define WD_LL_FS_REMOVE_DIR     (1ULL << 4)
#define WD_LL_FS_REMOVE_FILE    (1ULL << 5)
#define WD_LL_FS_MAKE_CHAR      (1ULL << 6)
#define WD_LL_FS_MAKE_DIR       (1ULL << 7)
#define WD_LL_FS_MAKE_REG       (1ULL << 8)
#define WD_LL_FS_MAKE_SOCK      (1ULL << 9)
#define WD_LL_FS_MAKE_FIFO      (1ULL << 10)
#define WD_LL_FS_MAKE_BLOCK     (1ULL << 11)
#define WD_LL_FS_MAKE_SYM       (1ULL << 12)
#define WD_LL_FS_REFER          (1ULL << 13)    /* ABI 2 */
#define WD_LL_FS_TRUNCATE       (1ULL << 14)    /* ABI 3 */
#define WD_LL_FS_IOCTL_DEV      (1ULL << 15)    /* ABI 5 */
#define WD_LL_NET_BIND_TCP      (1ULL << 0)     /* ABI 4 */
#define WD_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)   /* ABI 6 */
#define WD_LL_SCOPE_SIGNAL      (1ULL << 1)     /* ABI 6 */

/* rights that make sense on a regular file (the kernel refuses others there) */
#define WD_LL_FILE_RIGHTS (WD_LL_FS_EXECUTE | WD_LL_FS_WRITE_FILE | WD_LL_FS_READ_FILE \
                           | WD_LL_FS_TRUNCATE | WD_LL_FS_IOCTL_DEV)

struct wd_ll_ruleset_attr {
    unsigned long long handled_access_fs;
    unsigned long long handled_access_net;
    unsigned long long scoped;
};

struct wd_ll_path_beneath_attr {
    unsigned long long allowed_access;
    int parent_fd;
} __attribute__((packed));

int
wd_sandbox_landlock_abi(void)
{
    long v;

    if (RUNNING_ON_VALGRIND) {
        return 0;      /* valgrind does not know these system calls */
    }
    v = syscall(SYS_landlock_create_ruleset, NULL, 0, WD_LL_CREATE_RULESET_VERSION);
    return v > 0 ? (int) v : 0;
}

static unsigned long long
wd_ll_fs_rights(int abi)
{
    unsigned long long all = (1ULL << 13) - 1;     /* ABI 1 */

    if (abi >= 2) all |= WD_LL_FS_REFER;
    if (abi >= 3) all |= WD_LL_FS_TRUNCATE;
    if (abi >= 5) all |= WD_LL_FS_IOCTL_DEV;
    return all;
}

static int
wd_ll_add_path(int rfd, const char *path, unsigned long long access, int abi,
               char *err, size_t errlen)
{
    struct wd_ll_path_beneath_attr pb;
    struct stat st;
    int fd;

    fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;       /* nothing there: nothing to allow */
        }
        snprintf(err, errlen, "landlock: open(\"%s\") failed: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
        access &= WD_LL_FILE_RIGHTS;
    }
    access &= wd_ll_fs_rights(abi);
    if (access == 0) {
        close(fd);
        return 0;
    }
    memset(&pb, 0, sizeof(pb));
    pb.allowed_access = access;
    pb.parent_fd = fd;
    if (syscall(SYS_landlock_add_rule, rfd, WD_LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
        snprintf(err, errlen, "landlock_add_rule(\"%s\") failed: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Files the C library reads when resolving names (outbound connections, libuv's
 * getaddrinfo): readable, nothing else of /etc. */
static const char *wd_sandbox_resolver_files[] = {
    "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
    "/etc/host.conf", "/etc/services", "/etc/protocols", NULL
};

static int wd_ll_ruleset = -1;     /* prepared by wd_sandbox_drop, enforced by confine */
static int wd_ll_abi;

/* Builds the ruleset while the process can still open every configured path (a worker
 * that is nobody could not traverse a 0700 prefix to reach its own log directory). */
static int
wd_sandbox_landlock_prepare(const wd_sandbox_t *sb, int abi, char *err, size_t errlen)
{
    struct wd_ll_ruleset_attr ra;
    size_t ra_size;
    unsigned long long acc;
    int rfd, i;

    memset(&ra, 0, sizeof(ra));
    ra.handled_access_fs = wd_ll_fs_rights(abi);
    ra_size = sizeof(ra.handled_access_fs);
    if (abi >= 4) {
        ra.handled_access_net = WD_LL_NET_BIND_TCP;   /* no rule: a worker binds nothing */
        ra_size = offsetof(struct wd_ll_ruleset_attr, scoped);
    }
    if (abi >= 6) {
        ra.scoped = WD_LL_SCOPE_SIGNAL | WD_LL_SCOPE_ABSTRACT_UNIX;
        ra_size = sizeof(ra);
    }
    rfd = (int) syscall(SYS_landlock_create_ruleset, &ra, ra_size, 0);
    if (rfd < 0) {
        snprintf(err, errlen, "landlock_create_ruleset() failed: %s", strerror(errno));
        return -1;
    }
    for (i = 0; i < sb->npaths; i++) {
        acc = 0;
        if (sb->paths[i].access & WD_SANDBOX_READ) {
            acc |= WD_LL_FS_READ_FILE | WD_LL_FS_READ_DIR;
        }
        if (sb->paths[i].access & WD_SANDBOX_WRITE) {
            acc |= WD_LL_FS_WRITE_FILE;
        }
        if (sb->paths[i].access & WD_SANDBOX_CREATE) {
            acc |= WD_LL_FS_WRITE_FILE | WD_LL_FS_MAKE_REG | WD_LL_FS_REMOVE_FILE;
        }
        if (sb->paths[i].access & WD_SANDBOX_MODIFY) {
            acc |= WD_LL_FS_READ_FILE | WD_LL_FS_READ_DIR | WD_LL_FS_WRITE_FILE
                   | WD_LL_FS_REMOVE_DIR | WD_LL_FS_REMOVE_FILE | WD_LL_FS_MAKE_DIR
                   | WD_LL_FS_MAKE_REG | WD_LL_FS_MAKE_SYM | WD_LL_FS_REFER
                   | WD_LL_FS_TRUNCATE;
        }
        if (wd_ll_add_path(rfd, sb->paths[i].path, acc, abi, err, errlen) < 0) {
            close(rfd);
            return -1;
        }
    }
    for (i = 0; wd_sandbox_resolver_files[i]; i++) {
        if (wd_ll_add_path(rfd, wd_sandbox_resolver_files[i], WD_LL_FS_READ_FILE, abi,
                           err, errlen) < 0) {
            close(rfd);
            return -1;
        }
    }
    if (WD_SANDBOX_SANITIZER
        && wd_ll_add_path(rfd, "/", WD_LL_FS_READ_FILE | WD_LL_FS_READ_DIR, abi,
                          err, errlen) < 0) {
        close(rfd);
        return -1;
    }
    if (wd_ll_ruleset >= 0) {
        close(wd_ll_ruleset);
    }
    wd_ll_ruleset = rfd;
    return 0;
}

/* ---- privileges ---- */

static int
wd_sandbox_clear_caps(char *err, size_t errlen)
{
    struct __user_cap_header_struct hdr;
    struct __user_cap_data_struct data[2];

    memset(&hdr, 0, sizeof(hdr));
    memset(data, 0, sizeof(data));
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;
    if (syscall(SYS_capset, &hdr, data) < 0) {
        snprintf(err, errlen, "capset(0) failed: %s", strerror(errno));
        return -1;
    }
    /* the ambient set is cleared by capset of permitted/inheritable; be explicit */
    (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    memset(data, 0xff, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0
        || data[0].effective || data[0].permitted || data[0].inheritable
        || data[1].effective || data[1].permitted || data[1].inheritable)
    {
        snprintf(err, errlen, "capabilities are still set after capset(0)");
        return -1;
    }
    return 0;
}

int
wd_sandbox_drop(const wd_sandbox_t *sb, char *err, size_t errlen)
{
    struct rlimit rl;
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    int cap, root = geteuid() == 0, pdeathsig = 0;
    pid_t ppid = getppid();

    err[0] = '\0';
    if (sb->landlock) {
        wd_ll_abi = wd_sandbox_landlock_abi();
        if (wd_ll_abi > 0 && wd_sandbox_landlock_prepare(sb, wd_ll_abi, err, errlen) < 0) {
            return -1;
        }
    }
    rl.rlim_cur = rl.rlim_max = sb->rlimit_core < 0 ? 0 : (rlim_t) sb->rlimit_core;
    if (setrlimit(RLIMIT_CORE, &rl) < 0) {
        /* a non-root process may not raise its hard limit: lower the soft one only */
        struct rlimit cur;
        if (getrlimit(RLIMIT_CORE, &cur) < 0 || (rl.rlim_cur = rl.rlim_cur < cur.rlim_max
                                                 ? rl.rlim_cur : cur.rlim_max,
                                                 rl.rlim_max = cur.rlim_max,
                                                 setrlimit(RLIMIT_CORE, &rl) < 0)) {
            snprintf(err, errlen, "setrlimit(RLIMIT_CORE) failed: %s", strerror(errno));
            return -1;
        }
    }

    /* the bounding set: needs CAP_SETPCAP, so before setuid; without it (a non-root
     * start) the set cannot be changed and there is nothing in it to use anyway */
    for (cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
            break;                       /* beyond the kernel's last capability */
        }
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM) {
            snprintf(err, errlen, "prctl(PR_CAPBSET_DROP, %d) failed: %s", cap, strerror(errno));
            return -1;
        }
    }
    if (root) {
        /* uid 0 grants no capability any more, capabilities are not kept across setuid
         * (and the fixup that clears them there stays on), no ambient raise: locked */
        if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED
                  | SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED
                  | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                  0, 0, 0) < 0)
        {
            snprintf(err, errlen, "prctl(PR_SET_SECUREBITS) failed: %s", strerror(errno));
            return -1;
        }
    }

    (void) prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0);
    if (sb->change_user) {
        if (!root) {
            snprintf(err, errlen, "cannot switch to user %u: not running as root",
                     (unsigned) sb->uid);
            return -1;
        }
        if (sb->user_name ? initgroups(sb->user_name, sb->gid) < 0 : setgroups(0, NULL) < 0) {
            snprintf(err, errlen, "%s(%s, %u) failed: %s",
                     sb->user_name ? "initgroups" : "setgroups",
                     sb->user_name ? sb->user_name : "0", (unsigned) sb->gid, strerror(errno));
            return -1;
        }
        if (setresgid(sb->gid, sb->gid, sb->gid) < 0) {
            snprintf(err, errlen, "setgid(%u) failed: %s", (unsigned) sb->gid, strerror(errno));
            return -1;
        }
        if (setresuid(sb->uid, sb->uid, sb->uid) < 0) {
            snprintf(err, errlen, "setuid(%u) failed: %s", (unsigned) sb->uid, strerror(errno));
            return -1;
        }
        if (getresuid(&ru, &eu, &su) < 0 || ru != sb->uid || eu != sb->uid || su != sb->uid
            || getresgid(&rg, &eg, &sg) < 0 || rg != sb->gid || eg != sb->gid || sg != sb->gid)
        {
            snprintf(err, errlen, "the user/group ids did not change to %u/%u",
                     (unsigned) sb->uid, (unsigned) sb->gid);
            return -1;
        }
        if (sb->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
            snprintf(err, errlen, "setuid(0) succeeded after dropping to %u", (unsigned) sb->uid);
            return -1;
        }
        /* a change of credentials clears the parent-death signal: arm it again, and
         * leave if the parent went away meanwhile */
        if (pdeathsig && (prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) < 0
                          || getppid() != ppid)) {
            snprintf(err, errlen, "the parent process %d is gone", (int) ppid);
            return -1;
        }
    }

    if (wd_sandbox_clear_caps(err, errlen) < 0) {
        return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        snprintf(err, errlen, "prctl(PR_SET_DUMPABLE, 0) failed: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- seccomp ---- */

#define WD_SYSCALL_NAMES 512
static char *wd_syscall_names[WD_SYSCALL_NAMES];
static const int *wd_sigsys_fds;
static int wd_sigsys_nfds;
static const char *wd_sigsys_who = "worker";
static int wd_sigsys_log_time;

const char *
wd_sandbox_syscall_name(int nr)
{
    static char buf[16];

    if (nr >= 0 && nr < WD_SYSCALL_NAMES && wd_syscall_names[nr]) {
        return wd_syscall_names[nr];
    }
    snprintf(buf, sizeof(buf), "#%d", nr);
    return buf;
}

static char *
wd_sig_append(char *p, char *end, const char *s)
{
    while (*s && p < end) {
        *p++ = *s++;
    }
    return p;
}

static char *
wd_sig_append_num(char *p, char *end, long v)
{
    char tmp[24];
    int n = 0;

    if (v < 0) {
        if (p < end) *p++ = '-';
        v = -v;
    }
    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v && n < (int) sizeof(tmp));
    while (n && p < end) {
        *p++ = tmp[--n];
    }
    return p;
}

/* SIGSYS from the filter (SECCOMP_RET_TRAP): one line to the error logs, then die of
 * SIGSYS. Only async-signal-safe work: the names were resolved before the filter. */
static void
wd_sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
    char line[512], *p = line, *end = line + sizeof(line) - 1;
    int i, nr = si->si_syscall;
    struct sigaction sa;

    (void) sig;
    (void) ctx;
    if (wd_sigsys_log_time) {
        p = wd_sig_append(p, end, (const char *) wd_cached_log_time.data);
        p = wd_sig_append(p, end, " [alert] ");
        p = wd_sig_append_num(p, end, (long) getpid());
        p = wd_sig_append(p, end, "#0: ");
    } else {
        p = wd_sig_append(p, end, "wasmd: [alert] ");
    }
    p = wd_sig_append(p, end, wd_sigsys_who);
    p = wd_sig_append(p, end, ": forbidden system call ");
    p = wd_sig_append(p, end, nr >= 0 && nr < WD_SYSCALL_NAMES && wd_syscall_names[nr]
                              ? wd_syscall_names[nr] : "?");
    p = wd_sig_append(p, end, " (");
    p = wd_sig_append_num(p, end, nr);
    p = wd_sig_append(p, end, "), killed by worker_seccomp\n");
    for (i = 0; i < wd_sigsys_nfds; i++) {
        ssize_t w = write(wd_sigsys_fds[i], line, (size_t) (p - line));
        (void) w;
    }
    /* restoring the default action is itself a killing rule: the process ends here,
     * by SIGSYS, which the master reports */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGSYS, &sa, NULL);
    _exit(128 + SIGSYS);     /* not reached */
}

static int
wd_sc_add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
          const struct scmp_arg_cmp *cmp, char *err, size_t errlen)
{
    int nr = seccomp_syscall_resolve_name(name), rc;

    if (nr == __NR_SCMP_ERROR) {
        return 0;                 /* not a system call of this architecture */
    }
    rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
    if (rc < 0) {
        snprintf(err, errlen, "seccomp_rule_add(%s) failed: %s", name, strerror(-rc));
        return -1;
    }
    return 0;
}

#define WD_ALLOW(name) \
    if (wd_sc_add(ctx, SCMP_ACT_ALLOW, name, 0, NULL, err, errlen) < 0) goto failed
#define WD_ALLOW_IF(name, ...) \
    do { struct scmp_arg_cmp c_[] = { __VA_ARGS__ }; \
         if (wd_sc_add(ctx, SCMP_ACT_ALLOW, name, sizeof(c_) / sizeof(c_[0]), c_, \
                       err, errlen) < 0) goto failed; } while (0)
#define WD_RULE_IF(action, name, ...) \
    do { struct scmp_arg_cmp c_[] = { __VA_ARGS__ }; \
         if (wd_sc_add(ctx, action, name, sizeof(c_) / sizeof(c_[0]), c_, \
                       err, errlen) < 0) goto failed; } while (0)

/* system calls allowed with any arguments */
static const char *wd_sc_plain[] = {
    /* descriptors and files (which paths: Landlock) */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "sendfile", "sendfile64",           /* static files to plain TCP (wd_event_sendfile.c) */
    "preadv2", "pwritev2", "close", "close_range", "lseek", "_llseek", "fstat", "fstat64",
    "newfstatat", "fstatat64", "stat", "stat64", "lstat", "lstat64", "statx", "fstatfs",
    "getdents", "getdents64", "fcntl", "fcntl64", "dup", "dup2", "dup3", "open", "openat",
    "openat2", "mkdir", "mkdirat", "unlink", "unlinkat", "rmdir", "rename", "renameat",
    "renameat2", "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat",
    "access", "faccessat", "faccessat2", "utimensat", "ftruncate", "fallocate",
    "fadvise64", "fsync", "fdatasync", "getcwd", "pipe", "pipe2", "eventfd2",
    /* memory (mmap/mprotect: below) */
    "munmap", "mremap", "madvise", "brk", "mincore",
    /* threads, time, identity */
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
    "sched_yield", "sched_getaffinity", "getrandom", "clock_gettime", "clock_getres",
    "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getpid", "gettid", "getppid",
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
    "uname", "getrlimit", "getrusage", "sysinfo", "times",
    /* the event loop */
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "epoll_pwait2", "poll", "ppoll", "select", "pselect6",
    /* sockets that exist (accepted, or created under the rules below) */
    "accept", "accept4", "connect", "recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg",
    "sendmmsg", "shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername",
    /* signals and timers */
    "rt_sigprocmask", "rt_sigreturn", "sigreturn", "sigaltstack", "rt_sigpending",
    "rt_sigsuspend", "rt_sigtimedwait", "restart_syscall", "timer_create", "timer_settime",
    "timer_gettime", "timer_delete", "timer_getoverrun", "setitimer", "getitimer", "alarm",
    "exit", "exit_group",
    NULL
};

/* extra calls of the sanitizer runtimes (LeakSanitizer's tracer at exit, reports) */
static const char *wd_sc_sanitizer[] = {
    "ptrace", "prctl", "wait4", "waitid", "process_vm_readv", "sched_setaffinity",
    "setrlimit", "prlimit64", "clone", "tkill", "kill", "tgkill", "mmap", "mprotect",
    "personality", "sched_getparam", "sched_getscheduler",
    NULL
};

static int
wd_sandbox_seccomp(const wd_sandbox_t *sb, char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    uint32_t deny = sb->seccomp == WD_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
    uint32_t sigsys_action = sb->seccomp == WD_SECCOMP_LOG ? SCMP_ACT_ALLOW
                                                           : SCMP_ACT_KILL_PROCESS;
    scmp_datum_t pid = (scmp_datum_t) getpid();
    struct sigaction sa;
    int i, rc, exec_ok = RUNNING_ON_VALGRIND || WD_SANDBOX_SANITIZER;

    for (i = 0; i < WD_SYSCALL_NAMES; i++) {
        if (wd_syscall_names[i] == NULL) {
            wd_syscall_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
        }
    }
    ctx = seccomp_init(deny);
    if (ctx == NULL) {
        snprintf(err, errlen, "seccomp_init() failed");
        return -1;
    }
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0) {
        snprintf(err, errlen, "seccomp TSYNC is not supported");
        goto failed;
    }
    for (i = 0; wd_sc_plain[i]; i++) {
        WD_ALLOW(wd_sc_plain[i]);
    }
    if (WD_SANDBOX_SANITIZER) {
        for (i = 0; wd_sc_sanitizer[i]; i++) {
            WD_ALLOW(wd_sc_sanitizer[i]);
        }
    } else {
        /* W^X: nothing becomes executable after start-up (valgrind translates code) */
        if (exec_ok) {
            WD_ALLOW("mmap");
            WD_ALLOW("mprotect");
        } else {
            WD_ALLOW_IF("mmap", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
            WD_ALLOW_IF("mprotect", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        }
        /* threads only (libuv's pool): a clone that makes a process is refused */
        WD_ALLOW_IF("clone", SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
        /* signals to this process only */
        WD_ALLOW_IF("kill", SCMP_A0(SCMP_CMP_EQ, pid));
        /* signal 0 only checks a pid exists (wasm_status: is that worker alive?) */
        WD_ALLOW_IF("kill", SCMP_A1(SCMP_CMP_EQ, 0));
        WD_ALLOW_IF("tgkill", SCMP_A0(SCMP_CMP_EQ, pid));
        /* reading limits (pthread_create), not setting them */
        WD_ALLOW_IF("prlimit64", SCMP_A2(SCMP_CMP_EQ, 0));
        WD_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
        WD_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
        WD_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
        WD_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, 0x53564d41));   /* PR_SET_VMA (glibc) */
    }
    {
        /* ioctls of sockets and terminals (libuv, isatty) */
        WD_ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, FIONBIO));
        WD_ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, FIONREAD));
        WD_ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, FIOCLEX));
        WD_ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, FIONCLEX));
        WD_ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, TCGETS));
        WD_ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, TIOCGWINSZ));
        /* sockets: TCP and UDP over IPv4/IPv6 (outbound connections, DNS), AF_UNIX
         * (nscd), NETLINK_ROUTE (getaddrinfo's AI_ADDRCONFIG); no raw or packet sockets */
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_INET),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM),
                    SCMP_A2(SCMP_CMP_LE, IPPROTO_TCP));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_INET6),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM),
                    SCMP_A2(SCMP_CMP_LE, IPPROTO_TCP));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_INET),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM),
                    SCMP_A2(SCMP_CMP_EQ, 0));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_INET),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM),
                    SCMP_A2(SCMP_CMP_EQ, IPPROTO_UDP));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_INET6),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM),
                    SCMP_A2(SCMP_CMP_EQ, 0));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_INET6),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM),
                    SCMP_A2(SCMP_CMP_EQ, IPPROTO_UDP));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM));
        WD_ALLOW_IF("socket", SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW),
                    SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
    }
    /* the engine's snapshot images (an instance made when a pool grows), never executable
     * (MFD_EXEC, Linux 6.3) */
    WD_ALLOW_IF("memfd_create", SCMP_A1(SCMP_CMP_MASKED_EQ, 0x10, 0));
    /* clone3's flags live in memory the filter cannot read: ENOSYS makes glibc use clone */
    if (wd_sc_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err, errlen) < 0) {
        goto failed;
    }
    /* SIGSYS stays ours: replacing the handler (or restoring the default, as the handler
     * does once it has logged) ends the process */
    WD_RULE_IF(sigsys_action, "rt_sigaction", SCMP_A0(SCMP_CMP_EQ, SIGSYS));
    WD_ALLOW_IF("rt_sigaction", SCMP_A0(SCMP_CMP_NE, SIGSYS));

    if (sb->seccomp == WD_SECCOMP_ON) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = wd_sandbox_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0) {
            snprintf(err, errlen, "sigaction(SIGSYS) failed: %s", strerror(errno));
            goto failed;
        }
    }
    /* modules compiled from now on would need PROT_EXEC: they stay interpreted */
    wd_wasm_jit_seal();
    rc = seccomp_load(ctx);
    if (rc < 0) {
        snprintf(err, errlen, "seccomp_load() failed: %s", strerror(-rc));
        goto failed;
    }
    seccomp_release(ctx);
    return 0;

failed:
    seccomp_release(ctx);
    return -1;
}

int
wd_sandbox_confine(const wd_sandbox_t *sb, char *err, size_t errlen, char *warn, size_t warnlen)
{
    err[0] = '\0';
    warn[0] = '\0';
    wd_sigsys_fds = sb->log_fds;
    wd_sigsys_nfds = sb->nlog_fds;
    wd_sigsys_who = sb->who ? sb->who : "worker";
    wd_sigsys_log_time = sb->who == NULL || strcmp(sb->who, "worker") == 0;

    if (sb->landlock) {
        if (wd_ll_abi == 0) {
            snprintf(warn, warnlen, "Landlock is not available (Linux 5.13 or later with "
                     "landlock in lsm=): the filesystem access of %ss is not confined",
                     wd_sigsys_who);
        } else if (wd_ll_ruleset < 0) {
            snprintf(err, errlen, "landlock: no ruleset prepared");
            return -1;
        } else {
            if (syscall(SYS_landlock_restrict_self, wd_ll_ruleset, 0) < 0) {
                snprintf(err, errlen, "landlock_restrict_self() failed: %s", strerror(errno));
                return -1;
            }
            close(wd_ll_ruleset);
            wd_ll_ruleset = -1;
        }
    }
    if (sb->seccomp != WD_SECCOMP_OFF) {
        if (RUNNING_ON_VALGRIND) {
            size_t n = strlen(warn);
            snprintf(warn + n, warnlen - n, "%sseccomp is not used under valgrind",
                     n ? "; " : "");
        } else if (wd_sandbox_seccomp(sb, err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

int
wd_sandbox_run(int n, const char *const *paths, const int *rw)
{
    wd_sandbox_path_t *p = calloc((size_t) n + 1, sizeof(*p));
    static const int stderr_fd[] = { STDERR_FILENO };
    char err[256], warn[256];
    wd_sandbox_t sb;
    int i, rc;

    if (p == NULL) {
        fprintf(stderr, "wasmd: out of memory\n");
        return -1;
    }
    for (i = 0; i < n; i++) {
        p[i].path = paths[i];
        p[i].access = rw[i] ? WD_SANDBOX_MODIFY : WD_SANDBOX_READ;
    }
    memset(&sb, 0, sizeof(sb));
    sb.rlimit_core = -1;
    sb.seccomp = WD_SECCOMP_ON;
    sb.landlock = 1;
    sb.paths = p;
    sb.npaths = n;
    sb.log_fds = stderr_fd;
    sb.nlog_fds = 1;
    sb.who = "wasmd run";
    rc = wd_sandbox_drop(&sb, err, sizeof(err));
    if (rc == 0) {
        rc = wd_sandbox_confine(&sb, err, sizeof(err), warn, sizeof(warn));
        if (rc == 0 && warn[0]) {
            fprintf(stderr, "wasmd: [warn] sandbox: %s\n", warn);
        }
    }
    free(p);
    if (rc < 0) {
        fprintf(stderr, "wasmd: sandbox: %s (--no-sandbox runs without it)\n", err);
    }
    return rc;
}

/* ---- the configuration side ---- */

#include "wd_process.h"
#include <pwd.h>

wd_sandbox_conf_t *
wd_sandbox_create_conf(wd_cycle_t *cycle)
{
    wd_sandbox_conf_t *sc = wd_pcalloc(cycle->pool, sizeof(wd_sandbox_conf_t));

    if (sc == NULL
        || wd_array_init(&sc->paths, cycle->pool, 4, sizeof(wd_sandbox_path_t)) != WD_OK) {
        return NULL;
    }
    sc->user_set = 0;
    sc->seccomp = WD_CONF_UNSET_UINT;
    sc->landlock = WD_CONF_UNSET;
    sc->rlimit_core = WD_CONF_UNSET;
    return sc;
}

char *
wd_sandbox_init_conf(wd_cycle_t *cycle)
{
    wd_sandbox_conf_t *sc = cycle->sandbox;
    struct passwd *pw;
    struct group *gr;

    wd_conf_init_uint_value(sc->seccomp, WD_SECCOMP_ON);
    wd_conf_init_value(sc->landlock, 1);
    if (sc->rlimit_core == WD_CONF_UNSET) {
        sc->rlimit_core = -1;
    }
    if (geteuid() != 0) {
        sc->change_user = 0;       /* a plain user keeps its identity */
        return WD_CONF_OK;
    }
    sc->change_user = 1;
    if (sc->user_set) {
        return WD_CONF_OK;
    }
    /* nginx's default: nobody, group nogroup (Debian) or nobody */
    pw = getpwnam("nobody");
    if (pw == NULL) {
        wd_log_error(WD_LOG_EMERG, cycle->log, errno,
                     "getpwnam(\"nobody\") failed: set the workers' user with the \"user\" directive");
        return WD_CONF_ERROR;
    }
    sc->uid = pw->pw_uid;
    sc->user_name = wd_pstrdup_c(cycle->pool, pw->pw_name);
    gr = getgrnam("nogroup");
    if (gr == NULL) {
        gr = getgrnam("nobody");
    }
    sc->gid = gr ? gr->gr_gid : pw->pw_gid;
    return sc->user_name ? WD_CONF_OK : WD_CONF_ERROR;
}

/* user USER [GROUP]; -- GROUP defaults to USER's primary group */
char *
wd_sandbox_set_user(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_cycle_t *cycle = conf;
    wd_sandbox_conf_t *sc = cycle->sandbox;
    wd_str_t *value = cf->args->elts;
    struct passwd *pw;
    struct group *gr;
    char *name;

    if (sc->user_set) {
        return "is duplicate";
    }
    sc->user_set = 1;
    if (geteuid() != 0) {
        wd_conf_log_error(WD_LOG_WARN, cf, 0, "the \"user\" directive makes sense only if the "
                          "master process runs with super-user privileges, ignored");
        return WD_CONF_OK;
    }
    name = (char *) wd_pstrdup(cf->pool, &value[1]);
    if (name == NULL) {
        return WD_CONF_ERROR;
    }
    errno = 0;
    pw = getpwnam(name);
    if (pw == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, errno, "getpwnam(\"%s\") failed: no such user", name);
        return WD_CONF_ERROR;
    }
    sc->uid = pw->pw_uid;
    sc->gid = pw->pw_gid;
    sc->user_name = wd_pstrdup_c(cycle->pool, pw->pw_name);
    if (sc->user_name == NULL) {
        return WD_CONF_ERROR;
    }
    if (cf->args->nelts == 3) {
        name = (char *) wd_pstrdup(cf->pool, &value[2]);
        if (name == NULL) {
            return WD_CONF_ERROR;
        }
        errno = 0;
        gr = getgrnam(name);
        if (gr == NULL) {
            wd_conf_log_error(WD_LOG_EMERG, cf, errno, "getgrnam(\"%s\") failed: no such group",
                              name);
            return WD_CONF_ERROR;
        }
        sc->gid = gr->gr_gid;
    }
    return WD_CONF_OK;
}

char *
wd_sandbox_set_seccomp(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_sandbox_conf_t *sc = ((wd_cycle_t *) conf)->sandbox;
    wd_str_t *value = cf->args->elts;

    if (sc->seccomp != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    if (wd_str_eq(&value[1], "on")) {
        sc->seccomp = WD_SECCOMP_ON;
    } else if (wd_str_eq(&value[1], "log")) {
        sc->seccomp = WD_SECCOMP_LOG;
    } else if (wd_str_eq(&value[1], "off")) {
        sc->seccomp = WD_SECCOMP_OFF;
    } else {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    return WD_CONF_OK;
}

char *
wd_sandbox_set_landlock(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_sandbox_conf_t *sc = ((wd_cycle_t *) conf)->sandbox;
    wd_str_t *value = cf->args->elts;

    if (sc->landlock != WD_CONF_UNSET) {
        return "is duplicate";
    }
    if (wd_str_eq(&value[1], "on")) {
        sc->landlock = 1;
    } else if (wd_str_eq(&value[1], "off")) {
        sc->landlock = 0;
    } else {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    return WD_CONF_OK;
}

char *
wd_sandbox_set_rlimit_core(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_sandbox_conf_t *sc = ((wd_cycle_t *) conf)->sandbox;
    wd_str_t *value = cf->args->elts;
    off_t n;

    if (sc->rlimit_core != WD_CONF_UNSET) {
        return "is duplicate";
    }
    n = wd_parse_offset(&value[1]);
    if (n == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    sc->rlimit_core = n;
    return WD_CONF_OK;
}

int
wd_sandbox_allow_path(wd_cycle_t *cycle, const char *path, unsigned access)
{
    wd_sandbox_conf_t *sc = cycle->sandbox;
    wd_sandbox_path_t *p;

    if (sc == NULL) {
        return WD_OK;
    }
    p = wd_array_push(&sc->paths);
    if (p == NULL || (p->path = wd_pstrdup_c(cycle->pool, path)) == NULL) {
        return WD_ERROR;
    }
    p->access = access;
    return WD_OK;
}

/* The sandbox of a worker (or the single process) of this cycle: the registered trees,
 * the directories of the log files (a worker reopens its logs by name on USR1, after the
 * master made new ones: a new inode, which a rule on the file itself would not cover, so
 * it may write existing files there) and the error logs for the SIGSYS line. */
static int
wd_sandbox_fill(wd_cycle_t *cycle, wd_sandbox_t *sb)
{
    wd_sandbox_conf_t *sc = cycle->sandbox;
    wd_open_file_t **files = cycle->open_files.elts;
    wd_sandbox_path_t *paths;
    wd_uint_t i;
    wd_log_t *log;
    int *fds, nfds = 0, npaths, j;
    char *slash;

    memset(sb, 0, sizeof(*sb));
    sb->uid = sc->uid;
    sb->gid = sc->gid;
    sb->user_name = sc->user_name;
    sb->rlimit_core = sc->rlimit_core;
    sb->seccomp = (int) sc->seccomp;
    sb->landlock = (int) sc->landlock;
    sb->who = "worker";

    fds = wd_palloc(cycle->pool, sizeof(int) * 16);
    paths = wd_palloc(cycle->pool, (sc->paths.nelts + cycle->open_files.nelts + 2)
                                   * sizeof(wd_sandbox_path_t));
    if (fds == NULL || paths == NULL) {
        return WD_ERROR;
    }
    for (log = cycle->log; log && nfds < 16; log = log->next) {
        if (log->file && log->file->fd >= 0) {
            for (j = 0; j < nfds && fds[j] != log->file->fd; j++) { /* dedup */ }
            if (j == nfds) {
                fds[nfds++] = log->file->fd;
            }
        }
    }
    memcpy(paths, sc->paths.elts, sc->paths.nelts * sizeof(wd_sandbox_path_t));
    npaths = (int) sc->paths.nelts;
    for (i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->name.data == NULL || files[i]->name.data[0] != '/') {
            continue;              /* "stderr" */
        }
        paths[npaths].path = wd_pstrdup_c(cycle->pool, (const char *) files[i]->name.data);
        if (paths[npaths].path == NULL) {
            return WD_ERROR;
        }
        slash = strrchr((char *) paths[npaths].path, '/');
        if (slash == paths[npaths].path) {
            slash[1] = '\0';       /* a file in / */
        } else {
            *slash = '\0';
        }
        /* without a master (master_process off) the process itself makes the new
         * files on USR1 and removes its pid file at exit */
        paths[npaths++].access = wd_process == WD_PROCESS_WORKER ? WD_SANDBOX_WRITE
                                                                 : WD_SANDBOX_CREATE;
    }
    if (wd_process != WD_PROCESS_WORKER && cycle->pid.len && cycle->pid.data[0] == '/') {
        paths[npaths].path = wd_pstrdup_c(cycle->pool, (const char *) cycle->pid.data);
        if (paths[npaths].path == NULL) {
            return WD_ERROR;
        }
        slash = strrchr((char *) paths[npaths].path, '/');
        slash[slash == paths[npaths].path ? 1 : 0] = '\0';
        paths[npaths++].access = WD_SANDBOX_CREATE;
    }
    sb->paths = paths;
    sb->npaths = npaths;
    sb->log_fds = fds;
    sb->nlog_fds = nfds;
    return WD_OK;
}

int
wd_sandbox_drop_process(wd_cycle_t *cycle, int is_worker)
{
    wd_sandbox_t sb;
    char err[256];

    if (wd_sandbox_fill(cycle, &sb) != WD_OK) {
        return WD_ERROR;
    }
    sb.change_user = is_worker && cycle->sandbox->change_user && geteuid() == 0;
    if (wd_sandbox_drop(&sb, err, sizeof(err)) < 0) {
        wd_log_error(WD_LOG_EMERG, cycle->log, 0, "sandbox: %s", err);
        return WD_ERROR;
    }
    return WD_OK;
}

#ifdef WD_TEST_HOOKS
/* Test builds only (t/ops/build.mk links objs/.../wasmd-hooks with this object compiled
 * with -DWD_TEST_HOOKS; the shipped binary has none of it): with
 * WD_TEST_SANDBOX_PROBE=NAME in the environment, SIGUSR2 makes a confined worker try a
 * forbidden thing and log what happened. */
static const char *wd_probe;
static wd_log_t *wd_probe_log;

static void
wd_sandbox_probe(int sig)
{
    int fd = -1, ok = 0;
    const char *what = wd_probe;
    char path[64];

    (void) sig;
    wd_log_error(WD_LOG_NOTICE, wd_probe_log, 0, "sandbox probe %s: trying", what);
    if (strcmp(what, "execve") == 0) {
        char *argv[] = { "/bin/sh", "-c", "true", NULL }, *envp[] = { NULL };
        ok = execve("/bin/sh", argv, envp) == 0;
    } else if (strcmp(what, "ptrace") == 0) {
        ok = syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) == 0;
    } else if (strcmp(what, "fork") == 0) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        ok = p > 0;
    } else if (strcmp(what, "shadow") == 0) {
        ok = (fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC)) >= 0;
    } else if (strcmp(what, "passwd") == 0) {
        ok = (fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC)) >= 0;
    } else if (strcmp(what, "write") == 0) {
        snprintf(path, sizeof(path), "/tmp/wasmd-probe-%d", (int) getpid());
        ok = (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) >= 0;
        if (ok) unlink(path);
    } else if (strcmp(what, "rawsock") == 0) {
        ok = (fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) >= 0;
    } else if (strcmp(what, "packet") == 0) {
        ok = (fd = socket(AF_PACKET, SOCK_RAW, 0)) >= 0;
    } else if (strcmp(what, "setuid") == 0) {
        ok = setuid(0) == 0;
    } else if (strcmp(what, "bind") == 0) {
        struct sockaddr_in sin;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok = fd >= 0 && bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0;
    } else if (strcmp(what, "mprotect") == 0) {
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ok = m != MAP_FAILED && mprotect(m, 4096, PROT_READ | PROT_EXEC) == 0;
    } else if (strcmp(what, "connect") == 0) {
        /* must stay allowed: outbound TCP (refused by nobody listening, not by us) */
        struct sockaddr_in sin;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons(1);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok = fd >= 0 && (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0
                         || errno == ECONNREFUSED);
    }
    wd_log_error(WD_LOG_NOTICE, wd_probe_log, ok ? 0 : errno, "sandbox probe %s: %s", what,
                 ok ? "ALLOWED" : "refused");
    if (fd >= 0) {
        close(fd);
    }
}

static void
wd_sandbox_test_hooks(wd_cycle_t *cycle)
{
    struct sigaction sa;

    wd_probe = getenv("WD_TEST_SANDBOX_PROBE");
    if (wd_probe == NULL || wd_process != WD_PROCESS_WORKER) {
        return;
    }
    wd_probe_log = cycle->log;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = wd_sandbox_probe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "sandbox probe %s: armed", wd_probe);
}
#endif

int
wd_sandbox_confine_process(wd_cycle_t *cycle)
{
    wd_sandbox_t sb;
    char err[256], warn[256];

    if (wd_sandbox_fill(cycle, &sb) != WD_OK) {
        return WD_ERROR;
    }
    if (wd_sandbox_confine(&sb, err, sizeof(err), warn, sizeof(warn)) < 0) {
        wd_log_error(WD_LOG_EMERG, cycle->log, 0, "sandbox: %s", err);
        return WD_ERROR;
    }
    if (warn[0] && wd_worker_index <= 0) {
        wd_log_error(WD_LOG_WARN, cycle->log, 0, "sandbox: %s", warn);
    }
#ifdef WD_TEST_HOOKS
    wd_sandbox_test_hooks(cycle);
#endif
    return WD_OK;
}

void
wd_sandbox_master_reopened(wd_cycle_t *cycle)
{
    wd_sandbox_conf_t *sc = cycle->sandbox;
    wd_open_file_t **files = cycle->open_files.elts;
    struct stat st;
    wd_uint_t i;

    if (sc == NULL || !sc->change_user || geteuid() != 0) {
        return;
    }
    for (i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->fd <= STDERR_FILENO || fstat(files[i]->fd, &st) < 0) {
            continue;
        }
        if (st.st_uid != sc->uid && fchown(files[i]->fd, sc->uid, (gid_t) -1) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "fchown(\"%.*s\", %u) failed",
                         wd_str_pf(&files[i]->name), (unsigned) sc->uid);
            continue;
        }
        if ((st.st_mode & (S_IRUSR | S_IWUSR)) != (S_IRUSR | S_IWUSR)
            && fchmod(files[i]->fd, st.st_mode | S_IRUSR | S_IWUSR) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "fchmod(\"%.*s\") failed",
                         wd_str_pf(&files[i]->name));
        }
    }
}
