/*
 * test_log.c -- error log line format, levels, context handler, errno text,
 * several logs, reopen (USR1), the startup (stderr) format, cached time,
 * pools and containers used by the log and config code.
 */
#include <check.h>
#include <regex.h>
#include "wd_cycle.h"
#include "wd_http_conf.h"

static char tdir[64];

static void
setup(void)
{
    strcpy(tdir, "/tmp/wdlog.XXXXXX");
    ck_assert(mkdtemp(tdir) != NULL);
    wd_log_use_stderr = 0;      /* the server is "running": no echo to the terminal */
}

static void
teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
    if (system(cmd) != 0) {
        /* ignore */
    }
}

static char *
slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n;
    if (f == NULL) {
        buf[0] = '\0';
        return buf;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static wd_cycle_t *
cycle_with(const char *conf)
{
    char *err = NULL;
    wd_cycle_t *c = wd_cycle_init_buffer(conf, "log.conf", tdir, &err);
    ck_assert_msg(c != NULL, "%s", err ? err : "?");
    return c;
}

static void
assert_match(const char *text, const char *pattern)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
    ck_assert_msg(regexec(&re, text, 0, NULL, 0) == 0, "\"%s\" does not match /%s/", text, pattern);
    regfree(&re);
}

static u_char *
ctx_handler(wd_log_t *log, u_char *buf, size_t len)
{
    int n = snprintf((char *) buf, len, ", client: %s, server: %s, request: \"%s\"",
                     "127.0.0.1", "example.com", "GET / HTTP/1.1");
    return buf + (n < (int) len ? n : (int) len);
}

START_TEST(test_line_format)
{
    wd_cycle_t *c = cycle_with("error_log logs/error.log info;\n");
    char path[128];
    wd_log_t conn;
    char *t;

    wd_pid = getpid();
    wd_time_update();
    wd_log_error(WD_LOG_ERR, c->log, 0, "plain %d", 42);
    wd_log_error(WD_LOG_WARN, c->log, ENOENT, "open() \"%s\" failed", "/x");
    conn = *c->log;
    conn.connection = 17;
    conn.handler = ctx_handler;
    wd_log_error(WD_LOG_INFO, &conn, 0, "client closed connection");
    wd_log_error(WD_LOG_DEBUG, c->log, 0, "not written (debug > info)");
    wd_log_debug(c->log, "nor this");

    snprintf(path, sizeof(path), "%s/logs/error.log", tdir);
    t = slurp(path);
    assert_match(t, "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \\[error\\] "
                    "[0-9]+#0: plain 42$");
    assert_match(t, "\\[warn\\] [0-9]+#0: open\\(\\) \"/x\" failed \\(2: No such file or directory\\)$");
    assert_match(t, "\\[info\\] [0-9]+#0: \\*17 client closed connection, client: 127.0.0.1, "
                    "server: example.com, request: \"GET / HTTP/1.1\"$");
    ck_assert(strstr(t, "not written") == NULL);
    ck_assert(strstr(t, "nor this") == NULL);
    {
        char want[32];
        snprintf(want, sizeof(want), "] %d#0: ", (int) getpid());
        ck_assert(strstr(t, want) != NULL);
    }
    /* exactly three lines */
    {
        int lines = 0;
        char *p;
        for (p = t; *p; p++) lines += *p == '\n';
        ck_assert_int_eq(lines, 3);
    }
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_levels_parse)
{
    static const char *names[] = { "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug" };
    wd_str_t s;
    int i;
    for (i = 0; i < 8; i++) {
        s.data = (u_char *) names[i];
        s.len = strlen(names[i]);
        ck_assert_int_eq(wd_log_level_parse(&s), i + 1);
        ck_assert_str_eq(wd_log_levels[i + 1], names[i]);
    }
    wd_str_set(&s, "loud");
    ck_assert_int_eq(wd_log_level_parse(&s), WD_ERROR);
    wd_str_set(&s, "");
    ck_assert_int_eq(wd_log_level_parse(&s), WD_ERROR);
}
END_TEST

START_TEST(test_two_logs)
{
    wd_cycle_t *c = cycle_with("error_log logs/a.log warn;\nerror_log logs/b.log debug;\n");
    char pa[128], pb[128];

    wd_log_error(WD_LOG_NOTICE, c->log, 0, "notice line");
    wd_log_error(WD_LOG_EMERG, c->log, 0, "emerg line");
    snprintf(pa, sizeof(pa), "%s/logs/a.log", tdir);
    snprintf(pb, sizeof(pb), "%s/logs/b.log", tdir);
    ck_assert(strstr(slurp(pa), "notice line") == NULL);
    ck_assert(strstr(slurp(pa), "[emerg]") != NULL);
    ck_assert(strstr(slurp(pb), "[notice]") != NULL);
    ck_assert(strstr(slurp(pb), "[emerg]") != NULL);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_same_file_shared)
{
    wd_cycle_t *c = cycle_with("error_log logs/e.log;\nhttp { error_log logs/e.log info; }\n");
    wd_open_file_t **f = c->open_files.elts;
    wd_uint_t i, n = 0;
    wd_http_core_loc_conf_t *hl;

    /* other modules (the access log) may register files too: count ours */
    for (i = 0; i < c->open_files.nelts; i++) {
        if (f[i]->name.len > 10
            && strcmp((char *) f[i]->name.data + f[i]->name.len - 10, "logs/e.log") == 0)
        {
            n++;
            ck_assert(f[i]->fd > 2);
            ck_assert_ptr_eq(f[i], c->log->file);
        }
    }
    ck_assert_int_eq(n, 1);
    hl = ((wd_http_conf_ctx_t *) c->http_ctx)->loc_conf[wd_http_core_module.ctx_index];
    ck_assert_ptr_eq(hl->error_log->file, c->log->file);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_reopen)
{
    wd_cycle_t *c = cycle_with("error_log logs/error.log;\n");
    char path[128], moved[128];
    int fd_before = c->log->file->fd;

    snprintf(path, sizeof(path), "%s/logs/error.log", tdir);
    snprintf(moved, sizeof(moved), "%s/logs/error.log.1", tdir);
    wd_log_error(WD_LOG_ERR, c->log, 0, "before rotation");
    ck_assert_int_eq(rename(path, moved), 0);
    wd_log_error(WD_LOG_ERR, c->log, 0, "still to the old file");
    ck_assert_int_eq(wd_cycle_reopen_files(c), WD_OK);
    ck_assert_int_eq(c->log->file->fd, fd_before);      /* same fd number */
    wd_log_error(WD_LOG_ERR, c->log, 0, "after rotation");
    ck_assert(strstr(slurp(moved), "before rotation") != NULL);
    ck_assert(strstr(slurp(moved), "still to the old file") != NULL);
    ck_assert(strstr(slurp(moved), "after rotation") == NULL);
    ck_assert(strstr(slurp(path), "after rotation") != NULL);
    ck_assert(strstr(slurp(path), "before rotation") == NULL);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_reopen_owner)
{
    /* unprivileged workers reopen by name after the master: it hands new files to them */
    wd_cycle_t *c = cycle_with("error_log logs/error.log;\n");
    char path[128], moved[128];
    struct stat st;

    if (geteuid() != 0) {
        wd_cycle_free(c);
        return;                      /* fchown needs root (CI runs as root) */
    }
    snprintf(path, sizeof(path), "%s/logs/error.log", tdir);
    snprintf(moved, sizeof(moved), "%s/logs/error.log.1", tdir);
    ck_assert_int_eq(rename(path, moved), 0);
    wd_log_files_owner = 65534;
    ck_assert_int_eq(wd_cycle_reopen_files(c), WD_OK);
    wd_log_files_owner = (uid_t) -1;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int) st.st_uid, 65534);
    ck_assert((st.st_mode & (S_IRUSR | S_IWUSR)) == (S_IRUSR | S_IWUSR));
    /* without an owner nothing changes hands */
    ck_assert_int_eq(rename(path, moved), 0);
    ck_assert_int_eq(wd_cycle_reopen_files(c), WD_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int) st.st_uid, 0);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_startup_log_format)
{
    char path[128];
    int saved = dup(2), fd;

    snprintf(path, sizeof(path), "%s/stderr.txt", tdir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    wd_log_error(WD_LOG_EMERG, wd_log_startup(), 0, "bad thing in %s:%d", "f.conf", 3);
    wd_log_error(WD_LOG_DEBUG, wd_log_startup(), 0, "hidden");
    wd_log_stderr(EACCES, "cannot %s", "open");
    dup2(saved, 2);
    close(saved);
    close(fd);
    ck_assert_str_eq(slurp(path), "wasmd: [emerg] bad thing in f.conf:3\n"
                                  "wasmd: cannot open (13: Permission denied)\n");
}
END_TEST

START_TEST(test_long_line_truncated)
{
    wd_cycle_t *c = cycle_with("error_log logs/error.log;\n");
    char path[128], *big = malloc(10000), *t;
    memset(big, 'x', 9999);
    big[9999] = '\0';
    wd_log_error(WD_LOG_ERR, c->log, 0, "%s", big);
    wd_log_error(WD_LOG_ERR, c->log, 0, "next");
    snprintf(path, sizeof(path), "%s/logs/error.log", tdir);
    t = slurp(path);
    ck_assert(strlen(t) < WD_MAX_ERROR_STR + 300);
    assert_match(t, "x\n.*\\[error\\] [0-9]+#0: next$");
    free(big);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_cached_time)
{
    u_char buf[64], *e;

    wd_time_init();
    assert_match((char *) wd_cached_http_time.data,
                 "^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
                 "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT$");
    ck_assert_int_eq(wd_cached_http_time.len, 29);
    assert_match((char *) wd_cached_log_time.data,
                 "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$");
    assert_match((char *) wd_cached_http_log_time.data,
                 "^[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$");
    ck_assert(wd_time_sec > 1700000000);
    ck_assert(wd_current_msec / 1000 == wd_time_sec);
    e = wd_http_time(buf, 0);
    *e = '\0';
    ck_assert_str_eq((char *) buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    e = wd_http_time(buf, 1784000000);
    *e = '\0';
    ck_assert_str_eq((char *) buf, "Tue, 14 Jul 2026 03:33:20 GMT");
}
END_TEST

/* ---- pools and containers ---- */

static int cleanup_order[4];
static int cleanup_n;

static void
record_cleanup(void *data)
{
    cleanup_order[cleanup_n++] = *(int *) data;
}

START_TEST(test_pool)
{
    wd_pool_t *p = wd_pool_create(1024);
    wd_pool_cleanup_t *c1, *c2;
    void *big, *a;
    int i;

    ck_assert(p != NULL);
    for (i = 0; i < 1000; i++) {
        a = wd_palloc(p, 24);
        ck_assert(a != NULL);
        ck_assert(((uintptr_t) a % WD_ALIGNMENT) == 0);
        memset(a, 0xab, 24);
    }
    big = wd_palloc(p, 100000);
    ck_assert(big != NULL);
    memset(big, 1, 100000);
    ck_assert(wd_pool_size(p) >= 100000 + 24000);
    ck_assert_int_eq(wd_pfree(p, big), WD_OK);
    ck_assert_int_eq(wd_pfree(p, a), WD_DECLINED);
    a = wd_pcalloc(p, 64);
    for (i = 0; i < 64; i++) {
        ck_assert(((u_char *) a)[i] == 0);
    }
    c1 = wd_pool_cleanup_add(p, sizeof(int));
    *(int *) c1->data = 1;
    c1->handler = record_cleanup;
    c2 = wd_pool_cleanup_add(p, sizeof(int));
    *(int *) c2->data = 2;
    c2->handler = record_cleanup;
    cleanup_n = 0;
    wd_pool_reset(p);
    ck_assert_int_eq(cleanup_n, 2);
    ck_assert_int_eq(cleanup_order[0], 2);     /* reverse order */
    ck_assert_int_eq(cleanup_order[1], 1);
    ck_assert_int_eq(wd_pool_size(p), 1024);
    a = wd_pnalloc(p, 3);
    ck_assert(a != NULL);
    wd_pool_destroy(p);
    wd_pool_destroy(NULL);
}
END_TEST

START_TEST(test_array_list)
{
    wd_pool_t *p = wd_pool_create(1024);
    wd_array_t *a = wd_array_create(p, 1, sizeof(int));
    wd_list_t *l = wd_list_create(p, 2, sizeof(int));
    wd_list_part_t *part;
    int *first, i, sum = 0, *e;
    wd_uint_t j;

    for (i = 0; i < 100; i++) {
        *(int *) wd_array_push(a) = i;
    }
    ck_assert_int_eq(a->nelts, 100);
    for (i = 0; i < 100; i++) {
        ck_assert_int_eq(((int *) a->elts)[i], i);
    }
    e = wd_array_push_n(a, 50);
    ck_assert(e != NULL);
    ck_assert_int_eq(a->nelts, 150);

    first = wd_list_push(l);
    *first = 7;
    for (i = 1; i < 10; i++) {
        *(int *) wd_list_push(l) = i;
    }
    ck_assert_int_eq(*first, 7);          /* elements never move */
    for (part = &l->part; part; part = part->next) {
        for (j = 0; j < part->nelts; j++) {
            sum += ((int *) part->elts)[j];
        }
    }
    ck_assert_int_eq(sum, 7 + 45 - 0);
    wd_pool_destroy(p);
}
END_TEST

START_TEST(test_strings)
{
    wd_pool_t *p = wd_pool_create(1024);
    wd_str_t s = wd_string("Hello"), d;
    u_char low[8];

    ck_assert(wd_str_eq(&s, "Hello"));
    ck_assert(!wd_str_eq(&s, "hello"));
    ck_assert(wd_str_caseeq(&s, "hello"));
    ck_assert(!wd_str_caseeq(&s, "hell"));
    wd_strlow(low, s.data, s.len);
    ck_assert(memcmp(low, "hello", 5) == 0);
    ck_assert_str_eq((char *) wd_pstrdup(p, &s), "Hello");
    ck_assert_int_eq(wd_pstr_copy(p, &d, (u_char *) "abc", 2), WD_OK);
    ck_assert_int_eq(d.len, 2);
    ck_assert_str_eq((char *) d.data, "ab");
    ck_assert_str_eq(wd_pstrdup_c(p, "xyz"), "xyz");
    wd_pool_destroy(p);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    TCase *tp = tcase_create("pool");
    SRunner *sr;
    int nf;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_line_format);
    tcase_add_test(tc, test_levels_parse);
    tcase_add_test(tc, test_two_logs);
    tcase_add_test(tc, test_same_file_shared);
    tcase_add_test(tc, test_reopen);
    tcase_add_test(tc, test_reopen_owner);
    tcase_add_test(tc, test_startup_log_format);
    tcase_add_test(tc, test_long_line_truncated);
    tcase_add_test(tc, test_cached_time);
    suite_add_tcase(s, tc);
    tcase_add_test(tp, test_pool);
    tcase_add_test(tp, test_array_list);
    tcase_add_test(tp, test_strings);
    suite_add_tcase(s, tp);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
