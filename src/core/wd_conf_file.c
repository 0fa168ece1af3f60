/*
 * wd_conf_file.c -- the configuration parser and the generic directive setters.
 *
 * Grammar (nginx's): a directive is a name and arguments ended by ';' or by a
 * '{' that opens a block ended by '}'. Tokens are separated by whitespace;
 * '#' starts a comment up to the end of the line (at the start of a token);
 * single- or double-quoted strings may hold anything, with the escapes \" \'
 * \\ \n \t \r (any other "\x" stays as is). `include` (any context) parses
 * other files, a glob pattern relative to the main file's directory.
 *
 * The parser tokenizes, finds the directive in the module tables, checks its
 * context and argument count, locates the conf struct (see wd_conf.h) and
 * calls the setter. Every error ends with " in FILE:LINE" (the line where the
 * directive ended, like nginx) and is logged at emerg.
 */
#include "wd_cycle.h"
#include <glob.h>

#define WD_CONF_MAX_INCLUDE_DEPTH 16
#define WD_CONF_MAX_BLOCK_DEPTH   64
#define WD_CONF_MAX_TOKEN         (64 * 1024)

static char wd_conf_last_err[WD_MAX_ERROR_STR];
static u_char wd_conf_scratch[WD_CONF_MAX_TOKEN + 1];   /* one token being decoded */

static const wd_uint_t wd_argument_number[] = {
    WD_CONF_NOARGS, WD_CONF_TAKE1, WD_CONF_TAKE2, WD_CONF_TAKE3,
    WD_CONF_TAKE4, WD_CONF_TAKE5, WD_CONF_TAKE6, WD_CONF_TAKE7
};

const char *
wd_conf_last_error(void)
{
    return wd_conf_last_err;
}

void
wd_conf_clear_error(void)
{
    wd_conf_last_err[0] = '\0';
}

/* used by wd_cycle.c for errors outside the parser (open(), bind() ...) */
void
wd_conf_record_error(const char *msg)
{
    snprintf(wd_conf_last_err, sizeof(wd_conf_last_err), "%s", msg);
}

void
wd_conf_log_error(unsigned level, wd_conf_t *cf, int err, const char *fmt, ...)
{
    char msg[WD_MAX_ERROR_STR], where[WD_MAX_ERROR_STR / 2];
    size_t len, wlen, room;
    va_list ap;
    int n;

    /* " in FILE:LINE" is formatted first and always kept: a message quoting a long
     * argument is shortened (ending "...") instead of losing its location */
    where[0] = '\0';
    if (cf->conf_file) {
        if (wd_str_eq(&cf->conf_file->name, WD_CONF_PARAM_NAME)) {
            snprintf(where, sizeof(where), " in " WD_CONF_PARAM_NAME);
        } else {
            snprintf(where, sizeof(where), " in %.*s:%lu",
                     wd_str_pf(&cf->conf_file->name), (unsigned long) cf->conf_file->line);
        }
    }
    wlen = strlen(where);
    room = sizeof(msg) - 1 - wlen;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    len = n < 0 ? 0 : wd_min((size_t) n, sizeof(msg) - 1);
    if (err && len < sizeof(msg) - 1) {
        n = snprintf(msg + len, sizeof(msg) - len, " (%d: %s)", err, strerror(err));
        len += n < 0 ? 0 : wd_min((size_t) n, sizeof(msg) - 1 - len);
    }
    if (len > room) {
        len = room;
        memcpy(msg + len - 3, "...", 3);
    }
    memcpy(msg + len, where, wlen + 1);
    if (level <= WD_LOG_EMERG) {
        wd_conf_record_error(msg);
    }
    wd_log_error(level, cf->log, 0, "%s", msg);
}

/* ---- tokenizer ---- */

/* Reads one directive's tokens into cf->args. Returns WD_OK (';'),
 * WD_CONF_BLOCK_START ('{'), WD_CONF_BLOCK_DONE ('}'), WD_CONF_FILE_DONE or WD_ERROR. */
static int
wd_conf_read_token(wd_conf_t *cf)
{
    wd_conf_file_t *f = cf->conf_file;
    u_char *p = f->pos, *end = f->end, ch, quote;
    wd_str_t *word;
    u_char *buf;
    size_t blen;

    cf->args->nelts = 0;

    for (;;) {
        /* skip whitespace and comments */
        for (;;) {
            if (p >= end) {
                f->pos = p;
                if (cf->args->nelts > 0) {
                    wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                      "unexpected end of file, expecting \";\" or \"}\"");
                    return WD_ERROR;
                }
                return WD_CONF_FILE_DONE;
            }
            ch = *p;
            if (ch == '\n') {
                f->line++;
                p++;
            } else if (ch == ' ' || ch == '\t' || ch == '\r') {
                p++;
            } else if (ch == '#') {
                while (p < end && *p != '\n') {
                    p++;
                }
            } else {
                break;
            }
        }

        ch = *p;
        if (ch == ';' || ch == '{') {
            p++;
            f->pos = p;
            if (cf->args->nelts == 0) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected \"%c\"", ch);
                return WD_ERROR;
            }
            return ch == ';' ? WD_OK : WD_CONF_BLOCK_START;
        }
        if (ch == '}') {
            p++;
            f->pos = p;
            if (cf->args->nelts != 0) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected \"}\"");
                return WD_ERROR;
            }
            return WD_CONF_BLOCK_DONE;
        }

        /* a word: quoted or bare; escapes are decoded into a fresh buffer */
        buf = wd_conf_scratch;
        blen = 0;
        quote = 0;
        if (ch == '"' || ch == '\'') {
            quote = ch;
            p++;
        }
        for (;;) {
            if (p >= end) {
                if (quote) {
                    f->pos = p;
                    wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                      "unexpected end of file, expecting %s",
                                      quote == '"' ? "\"\\\"\"" : "\"'\"");
                    return WD_ERROR;
                }
                break;
            }
            ch = *p;
            if (blen >= WD_CONF_MAX_TOKEN) {
                f->pos = p;
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "too long parameter");
                return WD_ERROR;
            }
            if (quote) {
                if (ch == quote) {
                    p++;
                    /* a quoted word must be followed by a separator */
                    if (p < end && !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'
                                     || *p == ';' || *p == '{' || *p == '}')) {
                        f->pos = p;
                        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected \"%c\"", *p);
                        return WD_ERROR;
                    }
                    break;
                }
                if (ch == '\\' && p + 1 < end) {
                    u_char n = p[1];
                    switch (n) {
                    case '"': case '\'': case '\\': buf[blen++] = n; p += 2; continue;
                    case 'n': buf[blen++] = '\n'; p += 2; continue;
                    case 't': buf[blen++] = '\t'; p += 2; continue;
                    case 'r': buf[blen++] = '\r'; p += 2; continue;
                    default: break;
                    }
                }
                if (ch == '\n') {
                    f->line++;
                }
                buf[blen++] = ch;
                p++;
                continue;
            }
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'
                || ch == ';' || ch == '{' || ch == '}')
            {
                break;
            }
            if (ch == '"' || ch == '\'') {
                f->pos = p;
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected \"%c\"", ch);
                return WD_ERROR;
            }
            if (ch == '\\' && p + 1 < end && p[1] != '\n') {
                buf[blen++] = p[1];
                p += 2;
                continue;
            }
            buf[blen++] = ch;
            p++;
        }
        word = wd_array_push(cf->args);
        if (word == NULL || wd_pstr_copy(cf->pool, word, buf, blen) != WD_OK) {
            return WD_ERROR;
        }
    }
}

/* ---- dispatch ---- */

static int
wd_conf_handler(wd_conf_t *cf, int last)
{
    wd_str_t *name = cf->args->elts;
    wd_uint_t i, argc;
    int found = 0;
    const wd_command_t *cmd;
    wd_module_t *m;
    void *conf;
    char *rv;

    for (i = 0; wd_modules[i]; i++) {
        m = wd_modules[i];
        if (m->commands == NULL) {
            continue;
        }
        for (cmd = m->commands; cmd->name; cmd++) {
            if (!wd_str_eq(name, cmd->name)) {
                continue;
            }
            found = 1;
            if (!(cmd->type & cf->cmd_type)) {
                continue;
            }
            if (cf->cmd_type == WD_CONF_MODULE_CTX && cf->module_ctx != m
                && (cmd->type & WD_ANY_CONF) != WD_ANY_CONF)
            {
                continue;
            }
            cf->name = cmd->name;

            if (!(cmd->type & WD_CONF_BLOCK) && last != WD_OK) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                  "directive \"%s\" is not terminated by \";\"", cmd->name);
                return WD_ERROR;
            }
            if ((cmd->type & WD_CONF_BLOCK) && last != WD_CONF_BLOCK_START) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                                  "directive \"%s\" has no opening \"{\"", cmd->name);
                return WD_ERROR;
            }

            argc = cf->args->nelts - 1;
            if (cmd->type & WD_CONF_ANY) {
                /* any number */
            } else if (cmd->type & WD_CONF_FLAG) {
                if (argc != 1) goto invalid;
            } else if (cmd->type & WD_CONF_1MORE) {
                if (argc < 1) goto invalid;
            } else if (cmd->type & WD_CONF_2MORE) {
                if (argc < 2) goto invalid;
            } else if (argc >= WD_CONF_MAX_ARGS
                       || !(cmd->type & wd_argument_number[argc]))
            {
                goto invalid;
            }

            conf = NULL;
            if (m->type == WD_HTTP_MODULE
                && (cf->cmd_type & (WD_HTTP_MAIN_CONF | WD_HTTP_SRV_CONF | WD_HTTP_LOC_CONF))
                && cf->ctx)
            {
                void **slot = *(void ***) ((char *) cf->ctx + cmd->conf);
                conf = slot ? slot[m->ctx_index] : NULL;
            } else if (cf->cycle->conf_ctx) {
                conf = cf->cycle->conf_ctx[m->index];
            }

            rv = cmd->set(cf, cmd, conf);
            if (rv == WD_CONF_OK) {
                return WD_OK;
            }
            if (rv == WD_CONF_ERROR) {
                return WD_ERROR;
            }
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" directive %s", cmd->name, rv);
            return WD_ERROR;

        invalid:
            wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                              "invalid number of arguments in \"%s\" directive", cmd->name);
            return WD_ERROR;
        }
    }

    if (found) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%.*s\" directive is not allowed here",
                          wd_str_pf(name));
    } else {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unknown directive \"%.*s\"", wd_str_pf(name));
    }
    return WD_ERROR;
}

static char *
wd_conf_parse_loop(wd_conf_t *cf, int in_block)
{
    int rc;

    for (;;) {
        rc = wd_conf_read_token(cf);
        if (rc == WD_ERROR) {
            return WD_CONF_ERROR;
        }
        if (rc == WD_CONF_BLOCK_DONE) {
            if (!in_block) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected \"}\"");
                return WD_CONF_ERROR;
            }
            return WD_CONF_OK;
        }
        if (rc == WD_CONF_FILE_DONE) {
            if (in_block) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected end of file, expecting \"}\"");
                return WD_CONF_ERROR;
            }
            return WD_CONF_OK;
        }
        if (cf->handler) {
            char *rv;
            if (rc != WD_OK) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "unexpected \"{\"");
                return WD_CONF_ERROR;
            }
            rv = cf->handler(cf, NULL, cf->handler_conf);
            if (rv == WD_CONF_OK) {
                continue;
            }
            if (rv != WD_CONF_ERROR) {
                wd_conf_log_error(WD_LOG_EMERG, cf, 0, "%s", rv);
            }
            return WD_CONF_ERROR;
        }
        if (wd_conf_handler(cf, rc) != WD_OK) {
            return WD_CONF_ERROR;
        }
    }
}

char *
wd_conf_parse_buffer(wd_conf_t *cf, const char *name, const u_char *buf, size_t len)
{
    wd_conf_file_t file, *prev = cf->conf_file;
    char *rv;

    file.name.data = (u_char *) name;
    file.name.len = strlen(name);
    file.line = 1;
    file.start = file.pos = (u_char *) buf;
    file.end = (u_char *) buf + len;
    cf->conf_file = &file;
    rv = wd_conf_parse_loop(cf, 0);
    cf->conf_file = prev;
    return rv;
}

char *
wd_conf_parse(wd_conf_t *cf, const wd_str_t *filename)
{
    wd_conf_file_t *prev = cf->conf_file;
    struct stat st;
    u_char *buf;
    ssize_t n;
    size_t got = 0;
    char *rv;
    int fd;

    if (filename == NULL) {
        if (cf->block_depth >= WD_CONF_MAX_BLOCK_DEPTH) {
            wd_conf_log_error(WD_LOG_EMERG, cf, 0, "too deeply nested blocks");
            return WD_CONF_ERROR;
        }
        cf->block_depth++;
        rv = wd_conf_parse_loop(cf, 1);
        cf->block_depth--;
        return rv;
    }

    fd = open((const char *) filename->data, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wd_conf_log_error(WD_LOG_EMERG, cf, errno, "open() \"%.*s\" failed",
                          wd_str_pf(filename));
        return WD_CONF_ERROR;
    }
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        wd_conf_log_error(WD_LOG_EMERG, cf, e, "fstat() \"%.*s\" failed", wd_str_pf(filename));
        return WD_CONF_ERROR;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%.*s\" is not a regular file",
                          wd_str_pf(filename));
        return WD_CONF_ERROR;
    }
    buf = malloc(st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return WD_CONF_ERROR;
    }
    while (got < (size_t) st.st_size) {
        n = read(fd, buf + got, st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            free(buf);
            close(fd);
            wd_conf_log_error(WD_LOG_EMERG, cf, e, "read() \"%.*s\" failed",
                              wd_str_pf(filename));
            return WD_CONF_ERROR;
        }
        got += n;
    }
    close(fd);

    if (cf->cycle->config_dump) {
        wd_conf_dump_t *d = wd_array_push(cf->cycle->config_dump);
        if (d == NULL || wd_pstr_copy(cf->pool, &d->name, filename->data, filename->len) != WD_OK
            || wd_pstr_copy(cf->pool, &d->text, buf, got) != WD_OK)
        {
            free(buf);
            return WD_CONF_ERROR;
        }
    }
    rv = wd_conf_parse_buffer(cf, (const char *) filename->data, buf, got);
    free(buf);
    cf->conf_file = prev;
    return rv;
}

char *
wd_conf_include(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *value = cf->args->elts, file, name;
    char *rv = WD_CONF_OK;
    glob_t gl;
    size_t i;
    int rc;

    file = value[1];
    if (wd_conf_full_name(cf->cycle, &file, 1) != WD_OK) {
        return WD_CONF_ERROR;
    }
    if (cf->depth >= WD_CONF_MAX_INCLUDE_DEPTH) {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0, "too many nested includes of \"%.*s\"",
                          wd_str_pf(&file));
        return WD_CONF_ERROR;
    }
    cf->depth++;
    if (strpbrk((const char *) file.data, "*?[") == NULL) {
        rv = wd_conf_parse(cf, &file);
        cf->depth--;
        return rv;
    }
    rc = glob((const char *) file.data, 0, NULL, &gl);
    if (rc == GLOB_NOMATCH) {
        cf->depth--;
        return WD_CONF_OK;          /* a pattern matching nothing is fine (nginx) */
    }
    if (rc != 0) {
        cf->depth--;
        wd_conf_log_error(WD_LOG_EMERG, cf, errno, "glob() \"%.*s\" failed", wd_str_pf(&file));
        return WD_CONF_ERROR;
    }
    for (i = 0; i < gl.gl_pathc && rv == WD_CONF_OK; i++) {
        name.len = strlen(gl.gl_pathv[i]);
        name.data = (u_char *) wd_pstrdup_c(cf->pool, gl.gl_pathv[i]);
        if (name.data == NULL) {
            rv = WD_CONF_ERROR;
            break;
        }
        rv = wd_conf_parse(cf, &name);
    }
    globfree(&gl);
    cf->depth--;
    return rv;
}

int
wd_conf_full_name(wd_cycle_t *cycle, wd_str_t *name, int conf_prefix)
{
    const wd_str_t *prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;
    u_char *p;

    if (name->len > 0 && name->data[0] == '/') {
        /* make sure it is NUL-terminated */
        p = wd_pstrdup(cycle->pool, name);
        if (p == NULL) {
            return WD_ERROR;
        }
        name->data = p;
        return WD_OK;
    }
    p = wd_pnalloc(cycle->pool, prefix->len + name->len + 1);
    if (p == NULL) {
        return WD_ERROR;
    }
    memcpy(p, prefix->data, prefix->len);
    memcpy(p + prefix->len, name->data, name->len);
    p[prefix->len + name->len] = '\0';
    name->data = p;
    name->len += prefix->len;
    return WD_OK;
}

/* ---- generic setters ---- */

char *
wd_conf_invalid_value(wd_conf_t *cf, const wd_str_t *value)
{
    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "invalid value \"%.*s\" in \"%s\" directive",
                      wd_str_pf(value), cf->name);
    return WD_CONF_ERROR;
}

static char *
wd_conf_post(wd_conf_t *cf, const wd_command_t *cmd, void *field)
{
    if (cmd->post) {
        const wd_conf_post_t *post = cmd->post;
        return post->post_handler(cf, (void *) cmd->post, field);
    }
    return WD_CONF_OK;
}

char *
wd_conf_set_flag_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_flag_t *fp = (wd_flag_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;

    if (*fp != WD_CONF_UNSET) {
        return "is duplicate";
    }
    if (wd_str_caseeq(&value[1], "on")) {
        *fp = 1;
    } else if (wd_str_caseeq(&value[1], "off")) {
        *fp = 0;
    } else {
        wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                          "invalid value \"%.*s\" in \"%s\" directive, it must be \"on\" or \"off\"",
                          wd_str_pf(&value[1]), cmd->name);
        return WD_CONF_ERROR;
    }
    return wd_conf_post(cf, cmd, fp);
}

char *
wd_conf_set_str_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *field = (wd_str_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;

    if (field->data) {
        return "is duplicate";
    }
    *field = value[1];
    return wd_conf_post(cf, cmd, field);
}

char *
wd_conf_set_path_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_str_t *field = (wd_str_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;

    if (field->data) {
        return "is duplicate";
    }
    if (value[1].len == 0) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    *field = value[1];
    if (wd_conf_full_name(cf->cycle, field, 0) != WD_OK) {
        return WD_CONF_ERROR;
    }
    return wd_conf_post(cf, cmd, field);
}

char *
wd_conf_set_str_array_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_array_t **a = (wd_array_t **) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts, *s;
    wd_uint_t i;

    if (*a == NULL || *a == WD_CONF_UNSET_PTR) {
        *a = wd_array_create(cf->pool, 4, sizeof(wd_str_t));
        if (*a == NULL) {
            return WD_CONF_ERROR;
        }
    }
    for (i = 1; i < cf->args->nelts; i++) {
        s = wd_array_push(*a);
        if (s == NULL) {
            return WD_CONF_ERROR;
        }
        *s = value[i];
    }
    return wd_conf_post(cf, cmd, *a);
}

char *
wd_conf_set_num_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_int_t *np = (wd_int_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;

    if (*np != WD_CONF_UNSET) {
        return "is duplicate";
    }
    *np = wd_atoi(value[1].data, value[1].len);
    if (*np == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    return wd_conf_post(cf, cmd, np);
}

char *
wd_conf_set_uint_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_uint_t *np = (wd_uint_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;
    wd_int_t v;

    if (*np != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    v = wd_atoi(value[1].data, value[1].len);
    if (v == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    *np = (wd_uint_t) v;
    return wd_conf_post(cf, cmd, np);
}

char *
wd_conf_set_size_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    size_t *sp = (size_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;
    ssize_t v;

    if (*sp != WD_CONF_UNSET_SIZE) {
        return "is duplicate";
    }
    v = wd_parse_size(&value[1]);
    if (v == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    *sp = (size_t) v;
    return wd_conf_post(cf, cmd, sp);
}

char *
wd_conf_set_off_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    off_t *op = (off_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;

    if (*op != WD_CONF_UNSET_OFF) {
        return "is duplicate";
    }
    *op = wd_parse_offset(&value[1]);
    if (*op == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    return wd_conf_post(cf, cmd, op);
}

char *
wd_conf_set_msec_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_msec_t *mp = (wd_msec_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;
    wd_int_t v;

    if (*mp != WD_CONF_UNSET_MSEC) {
        return "is duplicate";
    }
    v = wd_parse_time(&value[1], 0);
    if (v == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    *mp = v;
    return wd_conf_post(cf, cmd, mp);
}

char *
wd_conf_set_sec_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    time_t *tp = (time_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;
    wd_int_t v;

    if (*tp != WD_CONF_UNSET) {
        return "is duplicate";
    }
    v = wd_parse_time(&value[1], 1);
    if (v == WD_ERROR) {
        return wd_conf_invalid_value(cf, &value[1]);
    }
    *tp = (time_t) v;
    return wd_conf_post(cf, cmd, tp);
}

char *
wd_conf_set_enum_slot(wd_conf_t *cf, const wd_command_t *cmd, void *conf)
{
    wd_uint_t *np = (wd_uint_t *) ((char *) conf + cmd->offset);
    wd_str_t *value = cf->args->elts;
    const wd_conf_enum_t *e;

    if (*np != WD_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    for (e = cmd->post; e->name; e++) {
        if (wd_str_eq(&value[1], e->name)) {
            *np = e->value;
            return WD_CONF_OK;
        }
    }
    return wd_conf_invalid_value(cf, &value[1]);
}

char *
wd_conf_check_num_bounds(wd_conf_t *cf, void *post, void *field)
{
    wd_conf_num_bounds_t *b = post;
    wd_int_t v = *(wd_int_t *) field;

    if (b->high == -1) {
        if (v >= b->low) {
            return WD_CONF_OK;
        }
        wd_conf_log_error(WD_LOG_EMERG, cf, 0,
                          "\"%s\" directive value must be equal to or more than %ld",
                          cf->name, (long) b->low);
        return WD_CONF_ERROR;
    }
    if (v >= b->low && v <= b->high) {
        return WD_CONF_OK;
    }
    wd_conf_log_error(WD_LOG_EMERG, cf, 0, "\"%s\" directive value must be between %ld and %ld",
                      cf->name, (long) b->low, (long) b->high);
    return WD_CONF_ERROR;
}
