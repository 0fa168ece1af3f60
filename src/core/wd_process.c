/*
 * wd_process.c -- the master process, worker processes and signals.
 *
 * The master keeps every signal it cares about blocked and waits in
 * sigsuspend(); handlers only set flags, the loop acts on them:
 *   CHLD  reap; a worker of the current generation that died unexpectedly
 *         is respawned (logged at alert), unless it exited with status 2
 *         (fatal init error) or we are stopping;
 *   TERM/INT  fast stop: TERM to workers; KILL after 5 s; exit when all are gone;
 *   QUIT  graceful stop: close listeners, QUIT to workers, exit when all are gone;
 *   HUP   reload: build a new cycle; on error log it and keep the old one;
 *         else open/take over sockets, run init_master, fork new workers,
 *         QUIT the old ones, free the old cycle;
 *   USR1  reopen log files here and in every worker;
 *   USR2  binary upgrade (nginx's): rename the pid file to <pid>.oldbin and
 *         fork + exec the binary (same path, same arguments) with the listening
 *         sockets inherited (WASMD_LISTEN="fd:worker;..."); both generations serve;
 *   WINCH stop this master's workers gracefully (not respawned); HUP then starts
 *         them again with the current configuration (to roll an upgrade back);
 *         QUIT makes the old master exit. If the new master dies, the old one
 *         renames <pid>.oldbin back.
 * Workers: see wd_process.h.
 */
#include "wd_cycle.h"
#include "wd_process.h"
#include "wd_event.h"
#include "wd_sandbox.h"
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sched.h>

#define WD_MAX_PROCESSES 1024
#define WD_KILL_DELAY_MS 5000

int wd_process = WD_PROCESS_SINGLE;
int wd_worker_index = -1;

volatile sig_atomic_t wd_sig_quit;
volatile sig_atomic_t wd_sig_terminate;
volatile sig_atomic_t wd_sig_reconfigure;
volatile sig_atomic_t wd_sig_reopen;
volatile sig_atomic_t wd_sig_child;
volatile sig_atomic_t wd_sig_upgrade;
volatile sig_atomic_t wd_sig_noaccept;
static volatile sig_atomic_t wd_sig_alarm;

/* binary upgrade state (master) */
static char   wd_exe_path[PATH_MAX];     /* the binary, resolved at start-up */
static char **wd_saved_argv;
static pid_t  wd_new_binary;             /* the upgraded master we started, 0 if none */
static int    wd_pid_renamed;            /* our pid file is now <pid>.oldbin */
static int    wd_no_workers;             /* after WINCH: workers stopped, not respawned */

typedef struct {
    pid_t       pid;          /* -1: free slot */
    int         slot;         /* worker index */
    wd_uint_t   generation;
    wd_msec_t   started;      /* wd_current_msec at fork */
    unsigned    exiting:1;    /* told to stop */
} wd_proc_t;

/* A slot whose workers keep dying right after start is given up after this many
 * consecutive quick deaths (instead of fork-looping and flooding the log). */
#define WD_RESPAWN_QUICK_MS   1000
#define WD_RESPAWN_MAX_QUICK  10
static int wd_quick_deaths[WD_MAX_PROCESSES];

static wd_proc_t wd_procs[WD_MAX_PROCESSES];
static int       wd_nprocs;
static pid_t     wd_master_pid;

wd_int_t
wd_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (wd_int_t) n : 1;
}

static void
wd_signal_handler(int signo)
{
    int saved = errno;

    switch (signo) {
    case SIGQUIT: wd_sig_quit = 1; break;
    case SIGTERM: case SIGINT: wd_sig_terminate = 1; break;
    case SIGHUP: wd_sig_reconfigure = 1; break;
    case SIGUSR1: wd_sig_reopen = 1; break;
    case SIGCHLD: wd_sig_child = 1; break;
    case SIGALRM: wd_sig_alarm = 1; break;
    case SIGUSR2: wd_sig_upgrade = 1; break;
    case SIGWINCH: wd_sig_noaccept = 1; break;
    default: break;
    }
    errno = saved;
}

static const int wd_signals[] = {
    SIGQUIT, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD, SIGALRM, SIGUSR2, SIGWINCH
};

static int
wd_init_signals(void)
{
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < wd_nelems(wd_signals); i++) {
        sa.sa_handler = wd_signal_handler;
        if (sigaction(wd_signals[i], &sa, NULL) < 0) {
            return WD_ERROR;
        }
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return WD_OK;
}

static void
wd_signal_workers(int signo, int only_generation, wd_uint_t generation)
{
    int i;

    for (i = 0; i < wd_nprocs; i++) {
        if (wd_procs[i].pid <= 0) {
            continue;
        }
        if (only_generation && wd_procs[i].generation != generation) {
            continue;
        }
        if (signo == SIGQUIT || signo == SIGTERM) {
            wd_procs[i].exiting = 1;
        }
        if (kill(wd_procs[i].pid, signo) < 0 && errno != ESRCH) {
            wd_log_error(WD_LOG_ALERT, wd_cycle->log, errno, "kill(%d, %d) failed",
                         (int) wd_procs[i].pid, signo);
        }
    }
}

static int
wd_live_workers(void)
{
    int i, n = 0;
    for (i = 0; i < wd_nprocs; i++) {
        if (wd_procs[i].pid > 0) {
            n++;
        }
    }
    return n;
}

/* ---- the worker side ---- */

static void
wd_worker_rlimits(wd_cycle_t *cycle)
{
    struct rlimit rl;

    if (cycle->worker_cpu_affinity == 1 && wd_worker_index >= 0) {
        cpu_set_t set;
        int ncpu = (int) wd_ncpu();
        CPU_ZERO(&set);
        CPU_SET(wd_worker_index % ncpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "sched_setaffinity(%d) failed",
                         wd_worker_index % ncpu);
        }
    }

    if (cycle->worker_rlimit_nofile > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) cycle->worker_rlimit_nofile;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno,
                         "setrlimit(RLIMIT_NOFILE, %ld) failed", (long) cycle->worker_rlimit_nofile);
        }
    }
}

static void
wd_worker_process(wd_cycle_t *cycle, int index)
{
    struct sigaction sa;
    sigset_t set;
    size_t i;

    wd_process = WD_PROCESS_WORKER;
    wd_worker_index = index;
    wd_pid = getpid();

    /* die with the master; and don't run at all if it is already gone */
    (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != wd_master_pid) {
        exit(0);
    }

    wd_sig_quit = wd_sig_terminate = wd_sig_reopen = 0;
    wd_sig_reconfigure = wd_sig_child = 0;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < wd_nelems(wd_signals); i++) {
        sa.sa_handler = (wd_signals[i] == SIGHUP || wd_signals[i] == SIGALRM
                         || wd_signals[i] == SIGUSR2 || wd_signals[i] == SIGWINCH) ? SIG_IGN
                        : (wd_signals[i] == SIGCHLD) ? SIG_DFL : wd_signal_handler;
        sigaction(wd_signals[i], &sa, NULL);
    }
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);

    wd_time_update();
    wd_worker_rlimits(cycle);
    /* nginx's order: limits, then the user, then the modules' worker init (as that
     * user); the filters last, once start-up work is done (wd_sandbox.h) */
    if (wd_sandbox_drop_process(cycle, 1) != WD_OK
        || wd_cycle_init_worker(cycle) != WD_OK
        || wd_sandbox_confine_process(cycle) != WD_OK)
    {
        exit(WD_WORKER_EXIT_FATAL);
    }
    wd_worker_process_run(cycle, index);
    wd_cycle_exit_worker(cycle);
    exit(0);
}

static int
wd_spawn_worker(wd_cycle_t *cycle, int index)
{
    int i;
    pid_t pid;

    for (i = 0; i < wd_nprocs; i++) {
        if (wd_procs[i].pid == -1) {
            break;
        }
    }
    if (i == WD_MAX_PROCESSES) {
        wd_log_error(WD_LOG_ALERT, cycle->log, 0, "no more than %d processes can be spawned",
                     WD_MAX_PROCESSES);
        return WD_ERROR;
    }
    pid = fork();
    if (pid < 0) {
        wd_log_error(WD_LOG_ALERT, cycle->log, errno, "fork() failed while spawning worker");
        return WD_ERROR;
    }
    if (pid == 0) {
        wd_worker_process(cycle, index);   /* never returns */
    }
    wd_procs[i].pid = pid;
    wd_procs[i].slot = index;
    wd_procs[i].generation = cycle->generation;
    wd_procs[i].exiting = 0;
    wd_procs[i].started = wd_current_msec;
    if (i == wd_nprocs) {
        wd_nprocs++;
    }
    wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "start worker process %d", (int) pid);
    return WD_OK;
}

static void
wd_start_workers(wd_cycle_t *cycle)
{
    wd_int_t i;
    for (i = 0; i < cycle->worker_processes; i++) {
        wd_spawn_worker(cycle, (int) i);
    }
}

static void wd_upgrade_child_exited(wd_cycle_t *cycle, int status);

/* Reaps children and respawns the ones of the current generation that died unexpectedly. */
static void
wd_reap_children(wd_cycle_t *cycle, int stopping)
{
    int status, i, slot;
    wd_uint_t gen;
    wd_msec_t started;
    pid_t pid;
    unsigned exiting;

    for (;;) {
        pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0) {
            return;
        }
        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;          /* ECHILD */
        }
        if (pid == wd_new_binary) {
            wd_upgrade_child_exited(cycle, status);
            continue;
        }
        for (i = 0; i < wd_nprocs; i++) {
            if (wd_procs[i].pid == pid) {
                break;
            }
        }
        if (i == wd_nprocs) {
            continue;        /* not ours (daemon helper etc.) */
        }
        slot = wd_procs[i].slot;
        gen = wd_procs[i].generation;
        exiting = wd_procs[i].exiting;
        started = wd_procs[i].started;
        wd_procs[i].pid = -1;

        if (WIFSIGNALED(status)) {
            wd_log_error(exiting ? WD_LOG_NOTICE : WD_LOG_ALERT, cycle->log, 0,
                         "worker process %d exited on signal %d%s%s", (int) pid,
                         WTERMSIG(status), WCOREDUMP(status) ? " (core dumped)" : "",
                         WTERMSIG(status) == SIGSYS
                         ? " (a system call forbidden by worker_seccomp)" : "");
        } else if (WEXITSTATUS(status) != 0 || !exiting) {
            wd_log_error(exiting ? WD_LOG_NOTICE : WD_LOG_ALERT, cycle->log, 0,
                         "worker process %d exited with code %d", (int) pid,
                         WEXITSTATUS(status));
        } else {
            wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "worker process %d exited with code 0",
                         (int) pid);
        }

        if (exiting || stopping || gen != cycle->generation || wd_no_workers) {
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == WD_WORKER_EXIT_FATAL) {
            wd_log_error(WD_LOG_ALERT, cycle->log, 0,
                         "worker process %d exited with fatal code %d and cannot be respawned",
                         (int) pid, WD_WORKER_EXIT_FATAL);
            continue;
        }
        if (slot >= 0 && slot < WD_MAX_PROCESSES) {
            if (wd_current_msec - started < WD_RESPAWN_QUICK_MS) {
                if (++wd_quick_deaths[slot] >= WD_RESPAWN_MAX_QUICK) {
                    wd_log_error(WD_LOG_ALERT, cycle->log, 0,
                                 "worker processes of slot %d keep dying right after start: "
                                 "not respawning it", slot);
                    continue;
                }
            } else {
                wd_quick_deaths[slot] = 0;
            }
        }
        wd_spawn_worker(cycle, slot);
    }
}


/* ---- binary upgrade ---- */

void
wd_process_save_argv(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", wd_exe_path, sizeof(wd_exe_path) - 1);

    wd_exe_path[n > 0 ? n : 0] = '\0';
    wd_saved_argv = argv;
    (void) argc;
}

static void
wd_oldbin_path(wd_cycle_t *cycle, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s.oldbin", wd_str_pf(&cycle->pid));
}

static void
wd_upgrade_child_exited(wd_cycle_t *cycle, int status)
{
    char old[PATH_MAX];

    wd_log_error(WD_LOG_ALERT, cycle->log, 0, "new binary process %d exited with %s %d",
                 (int) wd_new_binary, WIFSIGNALED(status) ? "signal" : "code",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    wd_new_binary = 0;
    if (wd_pid_renamed) {
        wd_oldbin_path(cycle, old, sizeof(old));
        if (rename(old, (const char *) cycle->pid.data) < 0) {
            wd_log_error(WD_LOG_ALERT, cycle->log, errno, "rename() \"%s\" back failed", old);
        }
        wd_pid_renamed = 0;
    }
}

static void
wd_master_upgrade(wd_cycle_t *cycle)
{
    wd_listening_t *ls = cycle->listening.elts;
    char env[4096], old[PATH_MAX];
    size_t n = 0;
    wd_uint_t i;
    pid_t pid;

    if (wd_new_binary) {
        wd_log_error(WD_LOG_NOTICE, cycle->log, 0,
                     "binary upgrade already in progress (process %d)", (int) wd_new_binary);
        return;
    }
    if (wd_exe_path[0] == '\0' || wd_saved_argv == NULL) {
        wd_log_error(WD_LOG_ALERT, cycle->log, 0, "binary upgrade: executable path unknown");
        return;
    }
    n = snprintf(env, sizeof(env), "WASMD_LISTEN=");
    for (i = 0; i < cycle->listening.nelts && n < sizeof(env) - 32; i++) {
        if (ls[i].fd != -1) {
            n += snprintf(env + n, sizeof(env) - n, "%d:%d;", ls[i].fd, ls[i].worker);
        }
    }
    wd_oldbin_path(cycle, old, sizeof(old));
    if (rename((const char *) cycle->pid.data, old) < 0) {
        wd_log_error(WD_LOG_ALERT, cycle->log, errno, "rename() \"%.*s\" to \"%s\" failed",
                     wd_str_pf(&cycle->pid), old);
        return;
    }
    wd_pid_renamed = 1;

    pid = fork();
    if (pid < 0) {
        wd_log_error(WD_LOG_ALERT, cycle->log, errno, "fork() failed for the new binary");
        rename(old, (const char *) cycle->pid.data);
        wd_pid_renamed = 0;
        return;
    }
    if (pid == 0) {
        sigset_t set;
        char *envp_add = env;
        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].fd != -1) {
                int fl = fcntl(ls[i].fd, F_GETFD);
                fcntl(ls[i].fd, F_SETFD, fl & ~FD_CLOEXEC);
            }
        }
        putenv(envp_add);
        sigemptyset(&set);
        sigprocmask(SIG_SETMASK, &set, NULL);
        execv(wd_exe_path, wd_saved_argv);
        wd_log_error(WD_LOG_ALERT, cycle->log, errno, "execv(\"%s\") failed", wd_exe_path);
        _exit(1);
    }
    wd_new_binary = pid;
    wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "started new binary %s as process %d",
                 wd_exe_path, (int) pid);
}

void
wd_process_delete_pidfile(wd_cycle_t *cycle)
{
    char old[PATH_MAX];

    if (wd_pid_renamed) {
        /* the pid file belongs to the new master now: remove only ours */
        wd_oldbin_path(cycle, old, sizeof(old));
        unlink(old);
        return;
    }
    wd_cycle_delete_pidfile(cycle);
}

static void
wd_master_reload(void)
{
    wd_cycle_t *old = wd_cycle, *cycle;
    wd_uint_t old_generation;
    char *err = NULL;

    wd_log_error(WD_LOG_NOTICE, old->log, 0, "reconfiguring");
    cycle = wd_cycle_init((const char *) old->conf_file.data,
                          (const char *) old->prefix.data, &err);
    if (cycle == NULL) {
        /* the parser already logged the error (file:line) to old->log */
        wd_log_error(WD_LOG_ERR, old->log, 0,
                     "reload failed, keeping the current configuration");
        return;
    }
    if (wd_cycle_open_listening(cycle, old) != WD_OK) {
        wd_log_error(WD_LOG_ERR, old->log, 0,
                     "reload failed (listen), keeping the current configuration");
        wd_cycle_free(cycle);
        return;
    }
    if (wd_cycle_init_master(cycle) != WD_OK) {
        wd_log_error(WD_LOG_ERR, old->log, 0,
                     "reload failed (module init), keeping the current configuration");
        /* give the taken-over sockets back */
        {
            wd_listening_t *ls = cycle->listening.elts, *ols = old->listening.elts;
            wd_uint_t i, j;
            for (i = 0; i < cycle->listening.nelts; i++) {
                if (!ls[i].inherited) {
                    continue;
                }
                for (j = 0; j < old->listening.nelts; j++) {
                    if (ols[j].fd == -1 && ols[j].socklen == ls[i].socklen
                        && ols[j].worker == ls[i].worker
                        && memcmp(&ols[j].sockaddr, &ls[i].sockaddr, ls[i].socklen) == 0)
                    {
                        ols[j].fd = ls[i].fd;
                        ls[i].fd = -1;
                        break;
                    }
                }
            }
        }
        wd_cycle_free(cycle);
        return;
    }
    wd_cycle = cycle;
    if (cycle->pid.len != old->pid.len
        || memcmp(cycle->pid.data, old->pid.data, old->pid.len) != 0)
    {
        if (wd_cycle_create_pidfile(cycle) == WD_OK) {
            wd_cycle_delete_pidfile(old);
        }
    }
    /* free the old generation first: its sockets that were not handed over must not
     * leak into the new workers (a removed port would keep accepting into a backlog
     * nobody serves); the old workers hold their own copies until they exit */
    old_generation = old->generation;
    wd_cycle_free(old);
    memset(wd_quick_deaths, 0, sizeof(wd_quick_deaths));
    wd_start_workers(cycle);
    wd_signal_workers(SIGQUIT, 1, old_generation);
    wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "configuration reloaded (generation %lu)",
                 (unsigned long) cycle->generation);
}

int
wd_master_process_cycle(wd_cycle_t *cycle)
{
    sigset_t set, empty;
    size_t i;
    int terminating = 0, quitting = 0;
    struct itimerval itv;

    wd_process = WD_PROCESS_MASTER;
    wd_master_pid = getpid();
    wd_log_use_stderr = 0;
    wd_cycle = cycle;
    for (i = 0; i < WD_MAX_PROCESSES; i++) {
        wd_procs[i].pid = -1;
    }

    sigemptyset(&set);
    for (i = 0; i < wd_nelems(wd_signals); i++) {
        sigaddset(&set, wd_signals[i]);
    }
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || wd_init_signals() != WD_OK) {
        wd_log_error(WD_LOG_ALERT, cycle->log, errno, "signal setup failed");
        return 1;
    }
    sigemptyset(&empty);

    wd_start_workers(cycle);

    for (;;) {
        sigsuspend(&empty);
        wd_time_update();

        /* stop requests first: workers that exit because of the same signal (Ctrl-C
         * reaches the whole process group) must not be taken for crashes */
        if (wd_sig_terminate) {
            wd_sig_terminate = 0;
            if (!terminating) {
                wd_log_error(WD_LOG_NOTICE, wd_cycle->log, 0, "exiting (fast shutdown)");
                terminating = 1;
                memset(&itv, 0, sizeof(itv));
                itv.it_value.tv_sec = WD_KILL_DELAY_MS / 1000;
                setitimer(ITIMER_REAL, &itv, NULL);
            }
            wd_signal_workers(SIGTERM, 0, 0);
        }
        if (wd_sig_quit) {
            wd_sig_quit = 0;
            if (!quitting && !terminating) {
                wd_log_error(WD_LOG_NOTICE, wd_cycle->log, 0, "gracefully shutting down");
                quitting = 1;
                wd_cycle_close_listening(wd_cycle);
                wd_signal_workers(SIGQUIT, 0, 0);
            }
        }
        if (wd_sig_alarm) {
            wd_sig_alarm = 0;
            if (terminating && wd_live_workers() > 0) {
                wd_log_error(WD_LOG_ALERT, wd_cycle->log, 0,
                             "workers did not exit in time: sending SIGKILL");
                wd_signal_workers(SIGKILL, 0, 0);
            }
        }
        if (wd_sig_child) {
            wd_sig_child = 0;
            wd_reap_children(wd_cycle, terminating || quitting);
        }
        if (terminating || quitting) {
            if (wd_live_workers() == 0) {
                break;
            }
            continue;
        }
        if (wd_sig_upgrade) {
            wd_sig_upgrade = 0;
            wd_master_upgrade(wd_cycle);
        }
        if (wd_sig_noaccept) {
            wd_sig_noaccept = 0;
            if (!wd_no_workers) {
                wd_log_error(WD_LOG_NOTICE, wd_cycle->log, 0,
                             "gracefully shutting down worker processes");
                wd_no_workers = 1;
                wd_signal_workers(SIGQUIT, 0, 0);
            }
        }
        if (wd_sig_reconfigure) {
            wd_sig_reconfigure = 0;
            if (wd_no_workers) {
                /* after WINCH, HUP restarts the workers without re-reading the config */
                wd_log_error(WD_LOG_NOTICE, wd_cycle->log, 0, "starting worker processes again");
                wd_no_workers = 0;
                wd_start_workers(wd_cycle);
            } else {
                wd_master_reload();
            }
        }
        if (wd_sig_reopen) {
            wd_sig_reopen = 0;
            wd_cycle_reopen_files(wd_cycle);
            wd_sandbox_master_reopened(wd_cycle);
            wd_log_error(WD_LOG_NOTICE, wd_cycle->log, 0, "reopening logs");
            wd_signal_workers(SIGUSR1, 0, 0);
        }
    }

    wd_log_error(WD_LOG_NOTICE, wd_cycle->log, 0, "exit");
    return 0;
}

int
wd_single_process_cycle(wd_cycle_t *cycle)
{
    struct sigaction sa;

    wd_process = WD_PROCESS_SINGLE;
    wd_worker_index = 0;
    wd_log_use_stderr = 0;
    wd_cycle = cycle;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);    /* reload needs the master */
    sa.sa_handler = wd_signal_handler;
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    wd_worker_rlimits(cycle);
    /* one process: it keeps its user (nginx does too) but is confined like a worker */
    if (wd_sandbox_drop_process(cycle, 0) != WD_OK
        || wd_cycle_init_worker(cycle) != WD_OK
        || wd_sandbox_confine_process(cycle) != WD_OK)
    {
        return WD_WORKER_EXIT_FATAL;
    }
    wd_worker_process_run(cycle, 0);
    wd_cycle_exit_worker(cycle);
    wd_log_error(WD_LOG_NOTICE, cycle->log, 0, "exit");
    return 0;
}

int
wd_signal_process(wd_cycle_t *cycle, const char *name)
{
    static const struct { const char *name; int signo; } sigs[] = {
        { "stop", SIGTERM }, { "quit", SIGQUIT }, { "reload", SIGHUP }, { "reopen", SIGUSR1 },
    };
    size_t i;
    pid_t pid;

    for (i = 0; i < wd_nelems(sigs); i++) {
        if (strcmp(name, sigs[i].name) == 0) {
            break;
        }
    }
    if (i == wd_nelems(sigs)) {
        wd_log_stderr(0, "invalid option: \"-s %s\"", name);
        return 1;
    }
    pid = wd_cycle_read_pidfile(cycle);
    if (pid == WD_ERROR) {
        return 1;
    }
    if (kill(pid, sigs[i].signo) < 0) {
        wd_log_stderr(errno, "[alert] kill(%d, %d) failed", (int) pid, sigs[i].signo);
        return 1;
    }
    return 0;
}

int
wd_daemonize(void)
{
    pid_t pid;
    int fd;

    pid = fork();
    if (pid < 0) {
        wd_log_stderr(errno, "[emerg] fork() failed");
        return WD_ERROR;
    }
    if (pid > 0) {
        _exit(0);
    }
    if (setsid() < 0) {
        wd_log_stderr(errno, "[emerg] setsid() failed");
        return WD_ERROR;
    }
    pid = fork();
    if (pid < 0) {
        wd_log_stderr(errno, "[emerg] fork() failed");
        return WD_ERROR;
    }
    if (pid > 0) {
        _exit(0);
    }
    umask(0022);
    fd = open("/dev/null", O_RDWR);
    if (fd < 0) {
        wd_log_stderr(errno, "[emerg] open(\"/dev/null\") failed");
        return WD_ERROR;
    }
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    /* stderr too, unless it is the error log */
    if (wd_cycle == NULL || wd_cycle->log->file == NULL
        || wd_cycle->log->file->fd != STDERR_FILENO)
    {
        dup2(fd, STDERR_FILENO);
    }
    if (fd > STDERR_FILENO) {
        close(fd);
    }
    wd_pid = getpid();
    return WD_OK;
}
