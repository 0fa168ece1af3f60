/*
 * wd_log.c -- error log lines.
 *
 * One write(2) per line (appends from several processes to the same file
 * never interleave mid-line). A line is cut at WD_MAX_ERROR_STR bytes.
 * The startup log (no file) prints "wasmd: [level] message" on stderr.
 */
#include "wd_log.h"

pid_t wd_pid;
int   wd_log_use_stderr = 1;
uid_t wd_log_files_owner = (uid_t) -1;

const char *wd_log_levels[] = {
    "stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", NULL
};

static wd_log_t wd_startup_log = { WD_LOG_NOTICE, NULL, 0, NULL, NULL, NULL };

wd_log_t *
wd_log_startup(void)
{
    return &wd_startup_log;
}

int
wd_log_level_parse(const wd_str_t *name)
{
    int i;
    for (i = 1; wd_log_levels[i]; i++) {
        if (wd_str_eq(name, wd_log_levels[i])) {
            return i;
        }
    }
    return WD_ERROR;
}

int
wd_log_wants(wd_log_t *log, unsigned level)
{
    for (; log; log = log->next) {
        if (level <= log->level) {
            return 1;
        }
    }
    return 0;
}

static size_t
wd_log_append_err(u_char *p, size_t room, int err)
{
    int n;
    if (err == 0 || room == 0) {
        return 0;
    }
    n = snprintf((char *) p, room, " (%d: %s)", err, strerror(err));
    return n < 0 ? 0 : wd_min((size_t) n, room - 1);
}

static void
wd_log_write(int fd, const u_char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        buf += n;
        len -= n;
    }
}

void
wd_log_error_core(unsigned level, wd_log_t *log, int err, const char *fmt, ...)
{
    u_char msg[WD_MAX_ERROR_STR], line[WD_MAX_ERROR_STR + 256];
    size_t mlen, llen, room;
    va_list ap;
    int n, wrote_stderr = 0;
    wd_log_t *l;

    va_start(ap, fmt);
    n = vsnprintf((char *) msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mlen = n < 0 ? 0 : wd_min((size_t) n, sizeof(msg) - 1);
    mlen += wd_log_append_err(msg + mlen, sizeof(msg) - mlen, err);

    if (level > WD_LOG_DEBUG) {
        level = WD_LOG_DEBUG;
    }
    for (l = log; l; l = l->next) {
        if (level > l->level) {
            continue;
        }
        if (l->file == NULL || (wd_log_use_stderr && l->file->fd == STDERR_FILENO)) {
            if (wrote_stderr) {
                continue;
            }
            wrote_stderr = 1;
            n = snprintf((char *) line, sizeof(line), "wasmd: [%s] %.*s\n",
                         wd_log_levels[level], (int) mlen, msg);
            llen = n < 0 ? 0 : wd_min((size_t) n, sizeof(line) - 1);
            wd_log_write(STDERR_FILENO, line, llen);
            continue;
        }
        if (l->file->fd < 0) {
            continue;
        }
        if (wd_cached_log_time.data[0] == '\0') {
            wd_time_update();
        }
        n = snprintf((char *) line, sizeof(line), "%.*s [%s] %d#0: ",
                     (int) wd_cached_log_time.len, wd_cached_log_time.data,
                     wd_log_levels[level], (int) wd_pid);
        llen = n < 0 ? 0 : (size_t) n;
        if (l->connection) {
            n = snprintf((char *) line + llen, sizeof(line) - llen, "*%lu ",
                         (unsigned long) l->connection);
            llen += n < 0 ? 0 : (size_t) n;
        }
        room = sizeof(line) - llen - 1;
        n = (int) wd_min(mlen, room);
        memcpy(line + llen, msg, n);
        llen += n;
        if (l->handler && llen < sizeof(line) - 1) {
            u_char *e = l->handler(l, line + llen, sizeof(line) - 1 - llen);
            if (e > line + llen && e <= line + sizeof(line) - 1) {
                llen = e - line;
            }
        }
        line[llen++] = '\n';
        wd_log_write(l->file->fd, line, llen);
    }

    /* while starting up, problems also reach the terminal (nginx does the same) */
    if (wd_log_use_stderr && !wrote_stderr && level <= WD_LOG_WARN) {
        n = snprintf((char *) line, sizeof(line), "wasmd: [%s] %.*s\n",
                     wd_log_levels[level], (int) mlen, msg);
        llen = n < 0 ? 0 : wd_min((size_t) n, sizeof(line) - 1);
        wd_log_write(STDERR_FILENO, line, llen);
    }
}

void
wd_log_stderr(int err, const char *fmt, ...)
{
    u_char buf[WD_MAX_ERROR_STR];
    size_t len;
    va_list ap;
    int n;

    memcpy(buf, "wasmd: ", 7);
    va_start(ap, fmt);
    n = vsnprintf((char *) buf + 7, sizeof(buf) - 8, fmt, ap);
    va_end(ap);
    len = 7 + (n < 0 ? 0 : wd_min((size_t) n, sizeof(buf) - 9));
    len += wd_log_append_err(buf + len, sizeof(buf) - 1 - len, err);
    buf[len++] = '\n';
    wd_log_write(STDERR_FILENO, buf, len);
}
