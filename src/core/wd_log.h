/*
 * wd_log.h -- the error log and the cached time.
 *
 * An error log line has nginx's shape:
 *     2026/11/25 04:51:17 [error] 1234#0: *5 message (2: No such file...), client: ...
 * "*5" appears when log->connection is non-zero; the trailing context is
 * appended by log->handler (set by whoever owns the connection/request).
 * Before the configured error log is opened (and for `wasmd -t`), the
 * startup log writes "wasmd: [emerg] message" lines to stderr, like nginx.
 *
 * Log files are wd_open_file_t entries registered in the cycle so that
 * `-s reopen` (SIGUSR1) reopens every one of them in place (same struct, new fd).
 *
 * The cached time is refreshed by wd_time_update() (call it once per event
 * loop iteration); the formatted strings only change when the second does.
 * Single-threaded by design (one loop per process).
 */
#ifndef WD_LOG_H
#define WD_LOG_H

#include "wd_core.h"

#define WD_LOG_STDERR   0
#define WD_LOG_EMERG    1
#define WD_LOG_ALERT    2
#define WD_LOG_CRIT     3
#define WD_LOG_ERR      4
#define WD_LOG_WARN     5
#define WD_LOG_NOTICE   6
#define WD_LOG_INFO     7
#define WD_LOG_DEBUG    8

#define WD_MAX_ERROR_STR 2048

/* A file opened once per config generation, shared by everyone writing to it. */
typedef struct wd_open_file_s {
    int       fd;      /* -1 until opened; STDERR_FILENO for "stderr" */
    wd_str_t  name;    /* absolute path, NUL-terminated; "stderr" for stderr */
} wd_open_file_t;

typedef u_char *(*wd_log_handler_pt)(wd_log_t *log, u_char *buf, size_t len);

struct wd_log_s {
    unsigned            level;       /* messages with level <= this are written */
    wd_open_file_t     *file;        /* NULL: the startup log ("wasmd: [lvl] msg" on stderr) */
    wd_uint_t           connection;  /* printed as "*N " when non-zero */
    wd_log_handler_pt   handler;     /* appends ", client: X, server: Y, request: ..." */
    void               *data;        /* for handler */
    wd_log_t           *next;        /* another error_log of the same context */
};

/* Writes one line to log (and to every log->next whose level admits it). */
void wd_log_error_core(unsigned level, wd_log_t *log, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define wd_log_error(level, log, err, ...)                                     \
    do {                                                                       \
        wd_log_t *wd__l = (log);                                               \
        if (wd_log_wants(wd__l, level))                                        \
            wd_log_error_core(level, wd__l, err, __VA_ARGS__);                 \
    } while (0)

#define wd_log_debug(log, ...) wd_log_error(WD_LOG_DEBUG, log, 0, __VA_ARGS__)

int wd_log_wants(wd_log_t *log, unsigned level);

/* "wasmd: message[ (errno: text)]\n" on stderr (CLI messages). */
void wd_log_stderr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The startup log: level NOTICE, writes "wasmd: [lvl] ..." to stderr. */
wd_log_t *wd_log_startup(void);

/* "error" -> WD_LOG_ERR etc.; WD_ERROR if unknown. */
int wd_log_level_parse(const wd_str_t *name);
extern const char *wd_log_levels[];    /* index by level: "stderr", "emerg", ... "debug" */

/* The owner given to log files the master (re)opens on USR1 before the workers reopen them
 * by name: set it to the workers' uid when they run unprivileged (nginx's `user`), so a file
 * logrotate removed or recreated is writable by them. (uid_t) -1: owners are left alone. */
extern uid_t wd_log_files_owner;

/* The process id printed in log lines; set at startup and after fork. */
extern pid_t wd_pid;
/* 1 until the server runs (set to 0 by the master / single process after start-up):
 * stderr logs use the "wasmd: [lvl] msg" format and warn..emerg messages sent to
 * log files are echoed to stderr, so start-up failures are seen on the terminal. */
extern int wd_log_use_stderr;

/* ---- cached time ---- */
extern volatile time_t     wd_time_sec;          /* wall clock seconds */
extern volatile wd_msec_t  wd_current_msec;      /* wall clock milliseconds */
extern wd_str_t wd_cached_log_time;      /* "2026/11/25 04:51:17" (local time, error log) */
extern wd_str_t wd_cached_http_time;     /* "Wed, 25 Nov 2026 04:51:17 GMT" (Date header) */
extern wd_str_t wd_cached_http_log_time; /* "25/Nov/2026:04:51:17 +0000" (access log) */

void wd_time_init(void);
void wd_time_update(void);
/* Formats t as an HTTP date into buf (at least 30 bytes); returns the end. */
u_char *wd_http_time(u_char *buf, time_t t);

#endif /* WD_LOG_H */
