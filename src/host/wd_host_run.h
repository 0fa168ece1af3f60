/*
 * wd_host_run.h -- `wasmd run`: run a WASI command or invoke one export of a
 * module from the command line, with the engine alone (no server).
 *
 *   wasmd run [--fuel N] [--max-memory SIZE] [--env NAME[=VALUE]]...
 *             [--dir HOST[::GUEST]]... [--dir-rw HOST[::GUEST]]...
 *             [--invoke NAME [ARGS...]] FILE.wasm [ARGS...]
 *
 * Once the module is loaded and instantiated (before _start or the export runs) the
 * process confines itself through wd_run_sandbox when it is set (the server binary
 * sets it to wd_sandbox's: no capabilities, no new privileges, Landlock limited to the
 * --dir trees, the seccomp allow-list); --no-sandbox skips that.
 *
 * Exit status: the guest's proc_exit code (0 if _start returns); 134 after a
 * trap ("wasmd: trap: <message> (in function N)" on stderr); 1 for usage
 * errors, modules that fail to load ("wasmd: FILE: <message> at byte offset X"),
 * link or instantiate, and --invoke arguments that do not parse.
 */
#ifndef WD_HOST_RUN_H
#define WD_HOST_RUN_H

#define WD_RUN_EXIT_TRAP 134
#define WD_RUN_EXIT_ERROR 1

/* Confines the process to the preopened directories (paths[i], writable when rw[i]);
 * 0, or -1 after printing why. NULL (the default, e.g. test runners): no sandbox. */
extern int (*wd_run_sandbox)(int n, const char *const *paths, const int *rw);

/* argv[0] is "run"; returns the process exit status (does not call exit()). */
int wd_run_main(int argc, char **argv);

#endif /* WD_HOST_RUN_H */
