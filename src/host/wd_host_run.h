/*
 * wd_host_run.h -- `wasmd run`: run a WASI command or invoke one export of a
 * module from the command line, with the engine alone (no server).
 *
 *   wasmd run [--fuel N] [--max-memory SIZE] [--env NAME[=VALUE]]...
 *             [--dir HOST[::GUEST]]... [--dir-rw HOST[::GUEST]]...
 *             [--invoke NAME [ARGS...]] FILE.wasm [ARGS...]
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

/* argv[0] is "run"; returns the process exit status (does not call exit()). */
int wd_run_main(int argc, char **argv);

#endif /* WD_HOST_RUN_H */
