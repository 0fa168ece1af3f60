/*
 * wd_cycle.h -- one configuration generation.
 *
 * A cycle owns everything derived from one parse of the configuration: its
 * pool, the module conf structs, the error log, the open files (logs) and the
 * listening sockets. Reload builds a new cycle next to the old one; sockets
 * for the same address (and the same reuseport worker slot) are handed over
 * (fd moved), the rest of the old cycle is freed once its workers were told
 * to quit. Workers inherit the cycle through fork() and never change it.
 */
#ifndef WD_CYCLE_H
#define WD_CYCLE_H

#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"

#define WD_DEFAULT_CONF_PATH   "conf/wasmd.conf"
#define WD_DEFAULT_PID_PATH    "logs/wasmd.pid"
#define WD_DEFAULT_ERROR_LOG   "logs/error.log"
#ifndef WD_PREFIX
#define WD_PREFIX              ""     /* empty: the current directory */
#endif

/* The default paths when neither the command line nor the configuration names them.
 * Relative ones are relative to the prefix. These values are the library's (unit tests);
 * the wasmd binary replaces them with the ./configure paths (wd_main.c, `wasmd -V`). */
typedef struct {
    const char     *prefix;          /* "": the current directory */
    const char     *conf;            /* -c */
    const char     *pid;             /* pid */
    const char     *error_log;       /* main error_log; NULL: stderr */
    const char     *http_log;        /* access_log when none is configured */
} wd_paths_t;
extern wd_paths_t wd_paths;

typedef struct wd_listening_s {
    struct sockaddr_storage sockaddr;
    socklen_t       socklen;
    wd_str_t        addr_text;       /* "127.0.0.1:8080", "[::1]:8080" */
    int             fd;              /* -1 until opened */
    int             backlog;
    int             worker;          /* -1: shared by all workers; else the reuseport
                                        clone belonging to worker number `worker` */
    unsigned        reuseport:1;
    unsigned        ssl:1;
    unsigned        ipv6only:1;
    unsigned        inherited:1;     /* fd taken over from the previous cycle */
    void           *servers;         /* wd_http_addr_conf_t *: the servers on this address,
                                        with the default server (see wd_http_conf.h) */
    void           *data;            /* free for the event layer */
} wd_listening_t;

typedef struct {
    wd_str_t        name;
    wd_str_t        text;
} wd_conf_dump_t;

/* Set before wd_cycle_init to keep a copy of every configuration file read (-T). */
extern int wd_cycle_keep_config;
/* -g "directives;": main-context directives parsed before the file (every cycle). */
extern const char *wd_cycle_conf_param;

struct wd_cycle_s {
    wd_pool_t      *pool;
    wd_log_t       *log;             /* the main error_log (startup log until opened) */
    wd_log_t        new_log;         /* storage for the main error_log */
    void          **conf_ctx;        /* core conf per module (index by module->index) */
    void           *http_ctx;        /* wd_http_conf_ctx_t * of http{}, NULL if none */

    wd_str_t        conf_file;       /* absolute, NUL-terminated */
    wd_str_t        conf_prefix;     /* directory of conf_file, with trailing '/' */
    wd_str_t        prefix;          /* with trailing '/' */

    wd_array_t      listening;       /* wd_listening_t */
    wd_array_t      open_files;      /* wd_open_file_t * */

    /* main-level directives */
    wd_int_t        worker_processes;
    wd_flag_t       daemon;
    wd_flag_t       master_process;
    wd_str_t        pid;             /* absolute path */
    wd_msec_t       worker_shutdown_timeout;   /* 0: wait forever */
    wd_uint_t       worker_connections;        /* events { worker_connections N; } */
    wd_int_t        worker_rlimit_nofile;      /* 0: leave RLIMIT_NOFILE alone */
    wd_flag_t       worker_cpu_affinity;       /* `auto`: worker i runs on CPU i mod ncpu */
    wd_log_t       *error_log_conf;  /* head of the main error_log list while parsing */
    struct wd_sandbox_conf_s *sandbox;         /* user, worker_seccomp, ... (wd_sandbox.h) */

    wd_uint_t       generation;      /* 1, 2, ... on each reload */
    wd_array_t     *config_dump;     /* wd_conf_dump_t, when wd_cycle_keep_config */
};

/* The current cycle of this process (NULL before the first one is built). */
extern wd_cycle_t *wd_cycle;

/* Parses + merges + validates conf_file (NULL: prefix/conf/wasmd.conf) under
 * prefix (NULL: the compile-time prefix or the current directory). Opens the
 * log files but not the sockets. On error returns NULL and points *err (if
 * non-NULL) at the message ("unknown directive \"foo\" in /x/wasmd.conf:12"),
 * which was also logged to the current cycle's log (stderr before the first). */
wd_cycle_t *wd_cycle_init(const char *conf_file, const char *prefix, char **err);
/* Same, from an in-memory configuration (unit tests); conf_name is used in messages. */
wd_cycle_t *wd_cycle_init_buffer(const char *conf_text, const char *conf_name,
                                 const char *prefix, char **err);

/* Opens (bind + listen) every listening socket, taking over the fd of an
 * identical socket of old_cycle (may be NULL). WD_OK or WD_ERROR (logged). */
int  wd_cycle_open_listening(wd_cycle_t *cycle, wd_cycle_t *old_cycle);
void wd_cycle_close_listening(wd_cycle_t *cycle);
/* Binary upgrade: like wd_cycle_open_listening, taking over the sockets listed in
 * spec ("fd:worker;..." from WASMD_LISTEN, left by the previous master); inherited
 * sockets the configuration no longer uses are closed. */
int  wd_cycle_open_listening_inherited(wd_cycle_t *cycle, const char *spec);

/* Runs every module's init_master; WD_OK or WD_ERROR. */
int  wd_cycle_init_master(wd_cycle_t *cycle);
/* Worker side: every module's init_worker / exit_worker. */
int  wd_cycle_init_worker(wd_cycle_t *cycle);
void wd_cycle_exit_worker(wd_cycle_t *cycle);

/* Closes the sockets and files still open and frees the pool. NULL is fine. */
void wd_cycle_free(wd_cycle_t *cycle);

/* Registers a file to be opened (O_APPEND|O_CREAT) when the cycle is ready and
 * reopened on USR1. name is made absolute (relative to the prefix); "stderr"
 * maps to fd 2. The same path returns the same entry. Call while parsing. */
wd_open_file_t *wd_cycle_open_file(wd_cycle_t *cycle, const wd_str_t *name);
/* Reopens every registered file (USR1 / -s reopen). WD_OK or WD_ERROR (logged). */
int  wd_cycle_reopen_files(wd_cycle_t *cycle);

int  wd_cycle_create_pidfile(wd_cycle_t *cycle);
void wd_cycle_delete_pidfile(wd_cycle_t *cycle);
/* Reads the pid file; the pid or WD_ERROR (logged to stderr). */
pid_t wd_cycle_read_pidfile(wd_cycle_t *cycle);

#endif /* WD_CYCLE_H */
