/*
 * wd_process.h -- master and worker processes, signals.
 *
 * The master never runs an event loop: it blocks signals and waits in
 * sigsuspend(), acting on flags set by its signal handlers (nginx's design).
 * It forks `worker_processes` workers; each worker resets its signal state,
 * runs every module's init_worker, then wd_worker_process_run() (the event
 * layer, src/event/wd_event.h) until the loop stops, then exit_worker, exit(0).
 *
 * Signals the master sends to workers:
 *   SIGQUIT  graceful stop: stop accepting, finish in-flight requests, exit
 *            (after worker_shutdown_timeout, close what is left);
 *   SIGTERM  fast stop: close everything, exit;
 *   SIGUSR1  reopen log files: call wd_cycle_reopen_files(cycle).
 * In a worker, handlers installed here (before the loop exists) only set the
 * flags below; the event layer installs uv_signal_t handlers for the same
 * signals and, once they are installed, checks these flags once (a signal may
 * have arrived between fork and uv_signal_start).
 * A worker exits with status 2 when its initialisation fails (fatal config
 * problem): the master then does not respawn it.
 */
#ifndef WD_PROCESS_H
#define WD_PROCESS_H

#include "wd_core.h"
#include "wd_cycle.h"

#define WD_PROCESS_SINGLE   0
#define WD_PROCESS_MASTER   1
#define WD_PROCESS_WORKER   2

#define WD_WORKER_EXIT_FATAL 2

extern int wd_process;          /* WD_PROCESS_* of this process */
extern int wd_worker_index;     /* index of this worker, -1 in the master */

/* set by signal handlers */
extern volatile sig_atomic_t wd_sig_quit;        /* QUIT: graceful stop */
extern volatile sig_atomic_t wd_sig_terminate;   /* TERM/INT: fast stop */
extern volatile sig_atomic_t wd_sig_reconfigure; /* HUP (master only) */
extern volatile sig_atomic_t wd_sig_reopen;      /* USR1 */
extern volatile sig_atomic_t wd_sig_child;       /* CHLD (master only) */
extern volatile sig_atomic_t wd_sig_upgrade;     /* USR2 (master only): binary upgrade */
extern volatile sig_atomic_t wd_sig_noaccept;    /* WINCH (master only): stop the workers */

/* Runs the master: forks workers, handles signals; returns the exit status. */
int wd_master_process_cycle(wd_cycle_t *cycle);
/* master_process off: init_worker + wd_worker_process_run(cycle, 0) in this
 * process; returns the exit status. */
int wd_single_process_cycle(wd_cycle_t *cycle);
/* -s stop|quit|reload|reopen: signals the pid in the cycle's pid file. 0 or 1. */
int wd_signal_process(wd_cycle_t *cycle, const char *name);
/* daemon on: double fork, setsid, stdio to /dev/null. WD_OK or WD_ERROR. */
int wd_daemonize(void);
/* Remembers the executable and argv for a binary upgrade (USR2). Call first in main. */
void wd_process_save_argv(int argc, char **argv);
/* Removes this master's pid file (or its <pid>.oldbin after an upgrade). */
void wd_process_delete_pidfile(wd_cycle_t *cycle);
/* number of online CPUs (worker_processes auto) */
wd_int_t wd_ncpu(void);

#endif /* WD_PROCESS_H */
