/*
 * wd_http_log_module.c -- the access log.
 *
 *   log_format name [escape=default|json|none] 'string with $variables' ...;   (http)
 *   access_log path [format [buffer=size] [flush=time]] | off;                 (http, server, location)
 *
 * The predefined format "combined" is nginx's.  Without any access_log directive a request
 * is logged to logs/access.log in "combined" (nginx's default).  A format is compiled at
 * configuration time into a list of literal / variable operations.  Lines are appended to
 * a per-file buffer in the worker and written at the end of each event loop iteration
 * (flush hook), when the buffer is full, and before log files are reopened (USR1): files
 * are wd_open_file_t entries of the cycle, so `wasmd -s reopen` reopens them in place.
 * Values are escaped like nginx's escape=default: '"', '\', bytes < 0x20 and >= 0x7f
 * become \xXX; empty values print "-".
 */
#include "wd_core.h"
#include "wd_log.h"
#include "wd_conf.h"
#include "wd_cycle.h"
#include "wd_event.h"
#include "wd_http_conf.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"

#define WD_HTTP_LOG_BUFFER   (64 * 1024)

enum { WD_HTTP_LOG_ESCAPE_DEFAULT = 0, WD_HTTP_LOG_ESCAPE_JSON, WD_HTTP_LOG_ESCAPE_NONE };

typedef struct {
    wd_str_t            literal;    /* literal text, or ... */
    wd_http_var_ref_t   var;        /* ... a variable (var.var != NULL) */
} wd_http_log_op_t;

typedef struct {
    wd_str_t            name;
    wd_array_t          ops;        /* wd_http_log_op_t */
    unsigned            escape;
} wd_http_log_fmt_t;

typedef struct wd_http_log_file_s {
    wd_open_file_t              *file;
    u_char                      *buf;
    size_t                       len;
    struct wd_http_log_file_s   *next;
} wd_http_log_file_t;

typedef struct {
    wd_http_log_file_t  *file;
    wd_http_log_fmt_t   *fmt;
} wd_http_log_t;

typedef struct {
    wd_array_t           formats;   /* wd_http_log_fmt_t */
    wd_http_log_file_t  *files;     /* every file of this cycle */
} wd_http_log_main_conf_t;

typedef struct {
    wd_array_t          *logs;      /* wd_http_log_t; NULL: access_log off */
    unsigned             set:1;     /* an access_log directive at this level */
} wd_http_log_loc_conf_t;

static char *wd_http_log_set_format(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static char *wd_http_log_set_log(wd_conf_t *cf, const wd_command_t *cmd, void *conf);
static void *wd_http_log_create_main_conf(wd_conf_t *cf);
static void *wd_http_log_create_loc_conf(wd_conf_t *cf);
static char *wd_http_log_merge_loc_conf(wd_conf_t *cf, void *parent, void *child);
static int   wd_http_log_init_worker(wd_cycle_t *cycle);
static void  wd_http_log_exit_worker(wd_cycle_t *cycle);

static const wd_command_t wd_http_log_commands[] = {
    { "log_format", WD_HTTP_MAIN_CONF | WD_CONF_2MORE, wd_http_log_set_format,
      WD_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { "access_log", WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF | WD_CONF_1MORE,
      wd_http_log_set_log, WD_HTTP_LOC_CONF_OFFSET, 0, NULL },
    wd_null_command
};

static const wd_module_ctx_t wd_http_log_module_ctx = {
    .create_main_conf = wd_http_log_create_main_conf,
    .create_loc_conf = wd_http_log_create_loc_conf,
    .merge_loc_conf = wd_http_log_merge_loc_conf,
};

wd_module_t wd_http_log_module = {
    .name = "wd_http_log_module",
    .type = WD_HTTP_MODULE,
    .commands = wd_http_log_commands,
    .ctx = &wd_http_log_module_ctx,
    .init_worker = wd_http_log_init_worker,
    .exit_worker = wd_http_log_exit_worker,
};

static const char wd_http_log_combined[] =
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\"";

/* the files of the cycle running in this worker */
static wd_http_log_file_t *wd_http_log_files;

static int
wd_http_log_compile(wd_conf_t *cf, wd_http_log_fmt_t *fmt, const u_char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        wd_http_log_op_t *op;
        size_t start = i;

        if (s[i] != '$') {
            while (i < len && s[i] != '$') {
                i++;
            }
            op = wd_array_push(&fmt->ops);
            if (op == NULL) {
                return WD_ERROR;
            }
            memset(op, 0, sizeof(*op));
            op->literal.data = (u_char *) s + start;
            op->literal.len = i - start;
            continue;
        }
        i++;
        int brace = 0;
        if (i < len && s[i] == '{') {
            brace = 1;
            i++;
        }
        size_t ns = i;
        while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
                           || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            i++;
        }
        size_t nl = i - ns;
        if (brace) {
            if (i >= len || s[i] != '}') {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "the closing bracket in \"%.*s\" "
                                  "variable is missing", (int) nl, s + ns);
                return WD_ERROR;
            }
            i++;
        }
        if (nl == 0) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid variable name in \"%.*s\"",
                              (int) len, s);
            return WD_ERROR;
        }
        op = wd_array_push(&fmt->ops);
        if (op == NULL) {
            return WD_ERROR;
        }
        memset(op, 0, sizeof(*op));
        if (wd_http_variable_compile(cf->pool, s + ns, nl, &op->var) != WD_OK) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unknown \"%.*s\" variable", (int) nl, s + ns);
            return WD_ERROR;
        }
    }
    return WD_OK;
}

static wd_http_log_fmt_t *
wd_http_log_add_format(wd_conf_t *cf, wd_http_log_main_conf_t *lmcf, const wd_str_t *name)
{
    wd_http_log_fmt_t *f = lmcf->formats.elts;

    for (wd_uint_t i = 0; i < lmcf->formats.nelts; i++) {
        if (f[i].name.len == name->len && memcmp(f[i].name.data, name->data, name->len) == 0) {
            return NULL;
        }
    }
    f = wd_array_push(&lmcf->formats);
    if (f == NULL) {
        return NULL;
    }
    memset(f, 0, sizeof(*f));
    f->name = *name;
    if (wd_array_init(&f->ops, cf->pool, 8, sizeof(wd_http_log_op_t)) != WD_OK) {
        return NULL;
    }
    return f;
}

static void *
wd_http_log_create_main_conf(wd_conf_t *cf)
{
    wd_http_log_main_conf_t *lmcf = wd_pcalloc(cf->pool, sizeof(*lmcf));
    wd_str_t name = wd_string("combined");
    wd_http_log_fmt_t *f;

    if (lmcf == NULL || wd_array_init(&lmcf->formats, cf->pool, 4, sizeof(wd_http_log_fmt_t)) != WD_OK) {
        return NULL;
    }
    f = wd_http_log_add_format(cf, lmcf, &name);
    if (f == NULL || wd_http_log_compile(cf, f, (const u_char *) wd_http_log_combined,
                                         sizeof(wd_http_log_combined) - 1) != WD_OK)
    {
        return NULL;
    }
    return lmcf;
}

static char *
wd_http_log_set_format(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_log_main_conf_t *lmcf = conf;
    wd_str_t *args = cf->args->elts;
    wd_http_log_fmt_t *f;
    wd_uint_t i = 2;
    unsigned escape = WD_HTTP_LOG_ESCAPE_DEFAULT;

    if (args[2].len > 7 && memcmp(args[2].data, "escape=", 7) == 0) {
        if (wd_str_eq(&args[2], "escape=default")) {
            escape = WD_HTTP_LOG_ESCAPE_DEFAULT;
        } else if (wd_str_eq(&args[2], "escape=json")) {
            escape = WD_HTTP_LOG_ESCAPE_JSON;
        } else if (wd_str_eq(&args[2], "escape=none")) {
            escape = WD_HTTP_LOG_ESCAPE_NONE;
        } else {
            return wd_conf_invalid_value(cf, &args[2]);
        }
        i = 3;
        if (cf->args->nelts < 4) {
            return "has no format string";
        }
    }
    f = wd_http_log_add_format(cf, lmcf, &args[1]);
    if (f == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "duplicate \"log_format\" name \"%.*s\"",
                          wd_str_pf(&args[1]));
        return WD_CONF_ERROR;
    }
    f->escape = escape;
    for (; i < cf->args->nelts; i++) {
        if (wd_http_log_compile(cf, f, args[i].data, args[i].len) != WD_OK) {
            return WD_CONF_ERROR;
        }
    }
    return WD_CONF_OK;
}

static wd_http_log_file_t *
wd_http_log_file(wd_conf_t *cf, wd_http_log_main_conf_t *lmcf, wd_str_t *path)
{
    wd_open_file_t *of = wd_cycle_open_file(cf->cycle, path);
    wd_http_log_file_t *lf;

    if (of == NULL) {
        return NULL;
    }
    for (lf = lmcf->files; lf; lf = lf->next) {
        if (lf->file == of) {
            return lf;
        }
    }
    lf = wd_pcalloc(cf->pool, sizeof(*lf));
    if (lf == NULL) {
        return NULL;
    }
    lf->file = of;
    lf->next = lmcf->files;
    lmcf->files = lf;
    return lf;
}

static wd_http_log_main_conf_t *
wd_http_log_main(wd_conf_t *cf)
{
    return wd_http_conf_get_module_main_conf(cf, wd_http_log_module);
}

static char *
wd_http_log_set_log(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_http_log_loc_conf_t *llcf = conf;
    wd_http_log_main_conf_t *lmcf = wd_http_log_main(cf);
    wd_str_t *args = cf->args->elts;
    wd_str_t fmt_name = wd_string("combined");
    wd_http_log_fmt_t *fmt = NULL, *f;
    wd_http_log_t *log;
    wd_uint_t i;

    if (wd_str_eq(&args[1], "off")) {
        if (cf->args->nelts != 2 || llcf->set) {
            return llcf->set ? "is duplicate" : "has invalid number of arguments";
        }
        llcf->set = 1;
        llcf->logs = NULL;
        return WD_CONF_OK;
    }
    if (llcf->set && llcf->logs == NULL) {
        return "is duplicate";
    }
    if (cf->args->nelts >= 3) {
        fmt_name = args[2];
    }
    for (i = 3; i < cf->args->nelts; i++) {
        if ((args[i].len > 7 && memcmp(args[i].data, "buffer=", 7) == 0)
            || (args[i].len > 6 && memcmp(args[i].data, "flush=", 6) == 0))
        {
            continue;   /* accepted; lines are flushed every loop iteration anyway */
        }
        return wd_conf_invalid_value(cf, &args[i]);
    }
    f = lmcf->formats.elts;
    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (f[i].name.len == fmt_name.len && memcmp(f[i].name.data, fmt_name.data, fmt_name.len) == 0) {
            fmt = &f[i];
        }
    }
    if (fmt == NULL) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unknown log format \"%.*s\"", wd_str_pf(&fmt_name));
        return WD_CONF_ERROR;
    }
    if (llcf->logs == NULL) {
        llcf->logs = wd_array_create(cf->pool, 2, sizeof(wd_http_log_t));
        if (llcf->logs == NULL) {
            return WD_CONF_ERROR;
        }
    }
    llcf->set = 1;
    log = wd_array_push(llcf->logs);
    if (log == NULL) {
        return WD_CONF_ERROR;
    }
    log->fmt = fmt;
    log->file = wd_http_log_file(cf, lmcf, &args[1]);
    if (log->file == NULL) {
        return WD_CONF_ERROR;
    }
    return WD_CONF_OK;
}

static void *
wd_http_log_create_loc_conf(wd_conf_t *cf)
{
    return wd_pcalloc(cf->pool, sizeof(wd_http_log_loc_conf_t));
}

static char *
wd_http_log_merge_loc_conf(wd_conf_t *cf, void *parent, void *child)
{
    wd_http_log_loc_conf_t *prev = parent, *conf = child;
    wd_http_log_main_conf_t *lmcf = wd_http_log_main(cf);

    if (conf->set) {
        return WD_CONF_OK;
    }
    if (!prev->set) {
        /* nginx's default: access_log logs/access.log combined; (the configured path) */
        wd_str_t path = { strlen(wd_paths.http_log), (u_char *) wd_paths.http_log };
        wd_http_log_t *log;
        prev->logs = wd_array_create(cf->pool, 1, sizeof(wd_http_log_t));
        if (prev->logs == NULL) {
            return WD_CONF_ERROR;
        }
        log = wd_array_push(prev->logs);
        log->fmt = lmcf->formats.elts;     /* "combined" is the first */
        log->file = wd_http_log_file(cf, lmcf, &path);
        if (log->file == NULL) {
            return WD_CONF_ERROR;
        }
        prev->set = 1;
    }
    conf->logs = prev->logs;
    conf->set = 1;
    return WD_CONF_OK;
}

/* ---- run time ---- */

static void
wd_http_log_write(wd_http_log_file_t *lf, const u_char *data, size_t len)
{
    int fd = lf->file->fd;

    while (len > 0 && fd >= 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;      /* a full disk must not stop the server */
        }
        data += n;
        len -= n;
    }
}

static void
wd_http_log_flush_file(wd_http_log_file_t *lf)
{
    if (lf->len) {
        wd_http_log_write(lf, lf->buf, lf->len);
        lf->len = 0;
    }
}

static void
wd_http_log_flush(void *data)
{
    for (wd_http_log_file_t *lf = wd_http_log_files; lf; lf = lf->next) {
        wd_http_log_flush_file(lf);
    }
}

static int
wd_http_log_init_worker(wd_cycle_t *cycle)
{
    wd_http_log_main_conf_t *lmcf = wd_http_cycle_get_module_main_conf(cycle, wd_http_log_module);

    wd_http_log_files = lmcf ? lmcf->files : NULL;
    wd_event_add_flush_hook(wd_http_log_flush, NULL);
    return WD_OK;
}

static void
wd_http_log_exit_worker(wd_cycle_t *cycle)
{
    wd_http_log_flush(NULL);
    for (wd_http_log_file_t *lf = wd_http_log_files; lf; lf = lf->next) {
        free(lf->buf);
        lf->buf = NULL;
    }
    wd_http_log_files = NULL;
}

static size_t
wd_http_log_escape(u_char *dst, const wd_str_t *v, unsigned escape)
{
    static const char hex[] = "0123456789ABCDEF";
    u_char *d = dst;

    if (escape == WD_HTTP_LOG_ESCAPE_NONE) {
        memcpy(d, v->data, v->len);
        return v->len;
    }
    for (size_t i = 0; i < v->len; i++) {
        u_char ch = v->data[i];
        if (escape == WD_HTTP_LOG_ESCAPE_JSON) {
            if (ch == '"' || ch == '\\') {
                *d++ = '\\';
                *d++ = ch;
            } else if (ch < 0x20) {
                d += sprintf((char *) d, "\\u%04x", ch);
            } else {
                *d++ = ch;
            }
        } else if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            *d++ = '\\';
            *d++ = 'x';
            *d++ = hex[ch >> 4];
            *d++ = hex[ch & 0xf];
        } else {
            *d++ = ch;
        }
    }
    return d - dst;
}

static void
wd_http_log_one(wd_http_request_t *r, wd_http_log_t *log)
{
    wd_http_log_fmt_t *fmt = log->fmt;
    wd_http_log_op_t *ops = fmt->ops.elts;
    wd_http_log_file_t *lf = log->file;
    wd_str_t *vals;
    size_t len = 1, i;
    u_char *line, *p;

    vals = wd_palloc(r->pool, fmt->ops.nelts * sizeof(wd_str_t));
    if (vals == NULL) {
        return;
    }
    for (i = 0; i < fmt->ops.nelts; i++) {
        if (ops[i].var.var == NULL) {
            len += ops[i].literal.len;
            continue;
        }
        wd_http_variable_value(r, &ops[i].var, &vals[i]);
        len += vals[i].len ? vals[i].len * 6 : 1;
    }

    if (lf->buf == NULL) {
        lf->buf = malloc(WD_HTTP_LOG_BUFFER);
        if (lf->buf == NULL) {
            return;
        }
        lf->len = 0;
    }
    if (lf->len + len > WD_HTTP_LOG_BUFFER) {
        wd_http_log_flush_file(lf);
    }
    if (len > WD_HTTP_LOG_BUFFER) {
        line = wd_pnalloc(r->pool, len);
        if (line == NULL) {
            return;
        }
    } else {
        line = lf->buf + lf->len;
    }
    p = line;
    for (i = 0; i < fmt->ops.nelts; i++) {
        if (ops[i].var.var == NULL) {
            memcpy(p, ops[i].literal.data, ops[i].literal.len);
            p += ops[i].literal.len;
        } else if (vals[i].len == 0) {
            *p++ = '-';
        } else {
            p += wd_http_log_escape(p, &vals[i], fmt->escape);
        }
    }
    *p++ = '\n';
    if (line == lf->buf + lf->len) {
        lf->len += p - line;
    } else {
        wd_http_log_write(lf, line, p - line);
    }
}

wd_http_event_handler_pt wd_http_log_hook;

void
wd_http_log_request(wd_http_request_t *r)
{
    wd_http_core_loc_conf_t *clcf = r->loc_conf ? r->loc_conf : r->hc->default_clcf;
    wd_http_log_loc_conf_t *llcf;

    if (wd_http_log_hook) {
        wd_http_log_hook(r);
    }
    if (clcf == NULL) {
        return;
    }
    llcf = wd_http_loc_get_module_conf(clcf, wd_http_log_module);
    if (llcf == NULL || llcf->logs == NULL) {
        return;
    }
    wd_http_log_t *logs = llcf->logs->elts;
    for (wd_uint_t i = 0; i < llcf->logs->nelts; i++) {
        wd_http_log_one(r, &logs[i]);
    }
}
