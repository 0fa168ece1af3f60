/*
 * wd_conf.h -- modules, directive tables and the configuration parser.
 *
 * A module is three static tables, nginx style: its directives
 * (wd_command_t[], ended by wd_null_command), its context (wd_module_ctx_t:
 * how to create, initialise and merge its conf structs) and the module
 * itself (wd_module_t, with process hooks). Directives write into typed conf
 * structs through `offset` with generic setters (flag, number, size, time,
 * string, path, enum); create functions set fields to WD_CONF_UNSET* and the
 * merge functions inherit from the enclosing level (http -> server -> location).
 *
 * Where a directive's conf struct comes from:
 *   - in the main context (WD_MAIN_CONF) and inside events{} (WD_EVENT_CONF)
 *     and inside a module's own main-level block (WD_CONF_MODULE_CTX):
 *     the module's "core conf", created once per cycle by ctx->create_core_conf
 *     (cycle->conf_ctx[module->index]); `conf` is ignored;
 *   - inside http{}, server{}, location{}: cmd->conf selects the main, srv or
 *     loc slot of the current wd_http_conf_ctx_t (WD_HTTP_{MAIN,SRV,LOC}_CONF_OFFSET
 *     in wd_http_conf.h) indexed by module->ctx_index.
 * A setter returns WD_CONF_OK (NULL), WD_CONF_ERROR (it already logged with
 * wd_conf_log_error) or a short phrase that the parser turns into
 * `"name" directive <phrase> in FILE:LINE` (e.g. "is duplicate").
 *
 * Module registry: core modules are listed in wd_modules.c; modules under
 * modules/<name>/ (which must define `wd_module_t wd_<name>_module`) and any
 * `wd_module_t wd_*_module = ...` definition in src/event/ or src/http/ are
 * discovered by src/core/build.mk, so adding one never edits a core file.
 */
#ifndef WD_CONF_H
#define WD_CONF_H

#include "wd_core.h"
#include "wd_log.h"

/* argument count flags */
#define WD_CONF_NOARGS      0x00000001
#define WD_CONF_TAKE1       0x00000002
#define WD_CONF_TAKE2       0x00000004
#define WD_CONF_TAKE3       0x00000008
#define WD_CONF_TAKE4       0x00000010
#define WD_CONF_TAKE5       0x00000020
#define WD_CONF_TAKE6       0x00000040
#define WD_CONF_TAKE7       0x00000080
#define WD_CONF_MAX_ARGS    8
#define WD_CONF_TAKE12      (WD_CONF_TAKE1 | WD_CONF_TAKE2)
#define WD_CONF_TAKE13      (WD_CONF_TAKE1 | WD_CONF_TAKE3)
#define WD_CONF_TAKE23      (WD_CONF_TAKE2 | WD_CONF_TAKE3)
#define WD_CONF_TAKE123     (WD_CONF_TAKE1 | WD_CONF_TAKE2 | WD_CONF_TAKE3)
#define WD_CONF_TAKE1234    (WD_CONF_TAKE1 | WD_CONF_TAKE2 | WD_CONF_TAKE3 | WD_CONF_TAKE4)
#define WD_CONF_ARGS_NUMBER 0x000000ff
#define WD_CONF_BLOCK       0x00000100
#define WD_CONF_FLAG        0x00000200   /* exactly one arg: on|off */
#define WD_CONF_ANY         0x00000400
#define WD_CONF_1MORE       0x00000800
#define WD_CONF_2MORE       0x00001000

/* context flags */
#define WD_MAIN_CONF        0x01000000
#define WD_EVENT_CONF       0x02000000
#define WD_HTTP_MAIN_CONF   0x04000000
#define WD_HTTP_SRV_CONF    0x08000000
#define WD_HTTP_LOC_CONF    0x10000000
#define WD_CONF_MODULE_CTX  0x20000000   /* inside a module's own main-level block, e.g. wasm{} */
#define WD_ANY_CONF         0x3f000000

#define WD_CONF_UNSET       -1
#define WD_CONF_UNSET_UINT  ((wd_uint_t) -1)
#define WD_CONF_UNSET_PTR   ((void *) -1)
#define WD_CONF_UNSET_SIZE  ((size_t) -1)
#define WD_CONF_UNSET_MSEC  ((wd_msec_t) -1)
#define WD_CONF_UNSET_OFF   ((off_t) -1)

#define WD_CONF_OK          NULL
#define WD_CONF_ERROR       ((char *) -1)

#define WD_CONF_BLOCK_START 1
#define WD_CONF_BLOCK_DONE  2
#define WD_CONF_FILE_DONE   3

typedef char *(*wd_conf_set_pt)(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

struct wd_command_s {
    const char      *name;
    wd_uint_t        type;     /* context flags | argument flags */
    wd_conf_set_pt   set;
    size_t           conf;     /* http slot: WD_HTTP_{MAIN,SRV,LOC}_CONF_OFFSET */
    size_t           offset;   /* offsetof(conf struct, field) for generic setters */
    const void      *post;     /* wd_conf_post_t-shaped data for the setter */
};

#define wd_null_command { NULL, 0, NULL, 0, 0, NULL }

/* post handlers run after a generic setter stored the value */
typedef char *(*wd_conf_post_handler_pt)(wd_conf_t *cf, void *data, void *field);

typedef struct {
    wd_conf_post_handler_pt post_handler;
} wd_conf_post_t;

typedef struct {
    wd_conf_post_handler_pt post_handler;   /* = wd_conf_check_num_bounds */
    wd_int_t                low;
    wd_int_t                high;           /* -1: no upper bound */
} wd_conf_num_bounds_t;

typedef struct {
    const char  *name;
    wd_uint_t    value;
} wd_conf_enum_t;                            /* cmd->post: array ended by {NULL, 0} */

char *wd_conf_check_num_bounds(wd_conf_t *cf, void *post, void *field);

/* ---- modules ---- */
typedef struct {
    /* core conf: one per cycle, for main-level / events{} / module-block directives */
    void *(*create_core_conf)(wd_cycle_t *cycle);
    char *(*init_core_conf)(wd_cycle_t *cycle, void *conf);

    /* http confs (leave NULL if the module has no http directives) */
    int   (*preconfiguration)(wd_conf_t *cf);
    int   (*postconfiguration)(wd_conf_t *cf);
    void *(*create_main_conf)(wd_conf_t *cf);
    char *(*init_main_conf)(wd_conf_t *cf, void *conf);
    void *(*create_srv_conf)(wd_conf_t *cf);
    char *(*merge_srv_conf)(wd_conf_t *cf, void *prev, void *conf);
    void *(*create_loc_conf)(wd_conf_t *cf);
    char *(*merge_loc_conf)(wd_conf_t *cf, void *prev, void *conf);
} wd_module_ctx_t;

#define WD_CORE_MODULE  1
#define WD_HTTP_MODULE  2      /* gets a ctx_index among the http modules */

struct wd_module_s {
    const char            *name;
    wd_uint_t              type;       /* WD_CORE_MODULE or WD_HTTP_MODULE */
    const wd_command_t    *commands;
    const wd_module_ctx_t *ctx;
    /* In the master after the config is parsed and merged, before fork (and
     * again for each new cycle on reload). Load shared read-only data here
     * (e.g. compile .wasm files). WD_OK or WD_ERROR (the cycle is rejected). */
    int  (*init_master)(wd_cycle_t *cycle);
    /* In each worker process after fork, before the event loop runs.
     * WD_ERROR makes the worker exit with status 2 (not respawned). */
    int  (*init_worker)(wd_cycle_t *cycle);
    void (*exit_worker)(wd_cycle_t *cycle);
    /* when a cycle is freed (master and single-process mode) */
    void (*exit_cycle)(wd_cycle_t *cycle);
    wd_uint_t              index;      /* set by wd_modules_init */
    wd_uint_t              ctx_index;  /* among WD_HTTP_MODULE modules */
};

extern wd_module_t  *wd_modules[];          /* NULL-terminated, in init order */
extern wd_uint_t     wd_modules_n;
extern wd_uint_t     wd_http_modules_n;     /* number of WD_HTTP_MODULE modules */
void         wd_modules_init(void);         /* idempotent: assigns index/ctx_index */
wd_module_t *wd_module_find(const char *name);

/* ---- parser state ---- */
typedef struct {
    wd_str_t    name;        /* file name as given (for messages) */
    wd_uint_t   line;
    u_char     *start, *pos, *end;
} wd_conf_file_t;

struct wd_conf_s {
    const char      *name;       /* directive being processed */
    wd_array_t      *args;       /* wd_str_t, args->elts[0] is the name */
    wd_cycle_t      *cycle;
    wd_pool_t       *pool;       /* the cycle's pool */
    wd_pool_t       *temp_pool;  /* freed after parsing */
    wd_conf_file_t  *conf_file;
    wd_log_t        *log;
    void            *ctx;        /* wd_http_conf_ctx_t * inside http{} */
    wd_uint_t        cmd_type;   /* current context flag (WD_MAIN_CONF, ...) */
    wd_module_t     *module_ctx; /* with WD_CONF_MODULE_CTX: only this module's directives */
    int              depth;      /* include nesting */
    int              block_depth;/* block nesting (bounded: the parser recurses) */
    /* set by a block directive whose contents are not directives (e.g. `types { }`):
     * every statement of the block goes to handler(cf, NULL, handler_conf) */
    wd_conf_set_pt   handler;
    void            *handler_conf;
};

/* The "file name" of -g directives; their errors read "... in command line". */
#define WD_CONF_PARAM_NAME "command line"

/* Parses the file (filename != NULL) or the rest of the current block
 * (filename == NULL, after a directive's '{'). */
char *wd_conf_parse(wd_conf_t *cf, const wd_str_t *filename);
/* Parses a whole configuration held in memory (tests); name is used in messages. */
char *wd_conf_parse_buffer(wd_conf_t *cf, const char *name, const u_char *buf, size_t len);

/* Appends " in FILE:LINE" and logs; EMERG messages are also kept as the last error. */
void wd_conf_log_error(unsigned level, wd_conf_t *cf, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The last EMERG configuration error (without "wasmd: [emerg] "); "" if none. */
const char *wd_conf_last_error(void);
void        wd_conf_clear_error(void);
/* Sets the last error for problems found outside the parser (already formatted). */
void        wd_conf_record_error(const char *msg);

/* Makes name absolute: relative to the prefix, or (conf_prefix != 0) to the
 * directory of the main configuration file. Allocates from cycle->pool. */
int wd_conf_full_name(wd_cycle_t *cycle, wd_str_t *name, int conf_prefix);

/* generic setters */
char *wd_conf_set_flag_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);   /* wd_flag_t */
char *wd_conf_set_str_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);    /* wd_str_t */
char *wd_conf_set_str_array_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf); /* wd_array_t * of wd_str_t */
char *wd_conf_set_num_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);    /* wd_int_t */
char *wd_conf_set_uint_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);   /* wd_uint_t */
char *wd_conf_set_size_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);   /* size_t */
char *wd_conf_set_off_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);    /* off_t */
char *wd_conf_set_msec_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);   /* wd_msec_t */
char *wd_conf_set_sec_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);    /* time_t */
char *wd_conf_set_enum_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);   /* wd_uint_t */
char *wd_conf_set_path_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf);   /* wd_str_t, absolute */
/* the "include" directive (any context) */
char *wd_conf_include(wd_conf_t *cf, const wd_command_t *cmd, void *conf);

/* logs `invalid value "X" in "name" directive in F:L`, returns WD_CONF_ERROR */
char *wd_conf_invalid_value(wd_conf_t *cf, const wd_str_t *value);

#define wd_conf_init_value(conf, default)       if ((conf) == WD_CONF_UNSET) (conf) = (default)
#define wd_conf_init_uint_value(conf, default)  if ((conf) == WD_CONF_UNSET_UINT) (conf) = (default)
#define wd_conf_init_msec_value(conf, default)  if ((conf) == WD_CONF_UNSET_MSEC) (conf) = (default)
#define wd_conf_init_size_value(conf, default)  if ((conf) == WD_CONF_UNSET_SIZE) (conf) = (default)
#define wd_conf_init_ptr_value(conf, default)   if ((conf) == WD_CONF_UNSET_PTR) (conf) = (default)

#define wd_conf_merge_value(conf, prev, default)                               \
    if ((conf) == WD_CONF_UNSET) (conf) = ((prev) == WD_CONF_UNSET) ? (default) : (prev)
#define wd_conf_merge_uint_value(conf, prev, default)                          \
    if ((conf) == WD_CONF_UNSET_UINT)                                          \
        (conf) = ((prev) == WD_CONF_UNSET_UINT) ? (default) : (prev)
#define wd_conf_merge_msec_value(conf, prev, default)                          \
    if ((conf) == WD_CONF_UNSET_MSEC)                                          \
        (conf) = ((prev) == WD_CONF_UNSET_MSEC) ? (default) : (prev)
#define wd_conf_merge_size_value(conf, prev, default)                          \
    if ((conf) == WD_CONF_UNSET_SIZE)                                          \
        (conf) = ((prev) == WD_CONF_UNSET_SIZE) ? (default) : (prev)
#define wd_conf_merge_off_value(conf, prev, default)                           \
    if ((conf) == WD_CONF_UNSET_OFF)                                           \
        (conf) = ((prev) == WD_CONF_UNSET_OFF) ? (default) : (prev)
#define wd_conf_merge_ptr_value(conf, prev, default)                           \
    if ((conf) == WD_CONF_UNSET_PTR)                                           \
        (conf) = ((prev) == WD_CONF_UNSET_PTR) ? (default) : (prev)
#define wd_conf_merge_str_value(conf, prev, default)                           \
    if ((conf).data == NULL) {                                                 \
        if ((prev).data) { (conf) = (prev); }                                  \
        else { (conf).len = sizeof(default) - 1; (conf).data = (u_char *) (default); } \
    }

#endif /* WD_CONF_H */
