/*
 * test_conf.c -- the configuration parser: grammar, every error message with
 * file:line, includes with globs, sizes and times, core directives,
 * http -> server -> location inheritance, listening socket hand-over.
 *
 * Each test writes its config into a fresh temp directory (which is also the
 * prefix) and builds a cycle from it. Error messages are compared with the
 * config path replaced by "F" and the directory by "D".
 */
#include <check.h>
#include "wd_http_conf.h"
#include "wd_process.h"
#include "wd_http_request.h"

static char tdir[64];
static char tconf[128];

static void
setup(void)
{
    strcpy(tdir, "/tmp/wdconf.XXXXXX");
    ck_assert(mkdtemp(tdir) != NULL);
    snprintf(tconf, sizeof(tconf), "%s/wasmd.conf", tdir);
}

static void
teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
    if (system(cmd) != 0) {
        /* nothing useful to do */
    }
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "fopen %s", path);
    fputs(text, f);
    fclose(f);
}

static void
write_rel(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tdir, rel);
    write_file(path, text);
}

static wd_cycle_t *
conf_ok(const char *text)
{
    char *err = NULL;
    wd_cycle_t *c;

    write_file(tconf, text);
    c = wd_cycle_init(tconf, tdir, &err);
    ck_assert_msg(c != NULL, "unexpected error: %s", err ? err : "?");
    return c;
}

/* returns the error with the paths abbreviated (static buffer) */
static const char *
conf_err(const char *text)
{
    static char out[2048];
    char *err = NULL, *o = out;
    const char *p;
    int saved = dup(2), fd;
    wd_cycle_t *c;
    char errfile[160];

    write_file(tconf, text);
    snprintf(errfile, sizeof(errfile), "%s/stderr.txt", tdir);
    fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    c = wd_cycle_init(tconf, tdir, &err);
    dup2(saved, 2);
    close(saved);
    close(fd);
    ck_assert_msg(c == NULL, "config unexpectedly accepted: %s", text);
    ck_assert(err != NULL);

    /* the same message went to stderr in the startup format */
    {
        char buf[4096] = "";
        FILE *f = fopen(errfile, "r");
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        ck_assert_msg(strncmp(buf, "wasmd: [emerg] ", 15) == 0, "stderr: %s", buf);
        ck_assert_msg(strstr(buf, err) != NULL, "stderr \"%s\" lacks \"%s\"", buf, err);
    }

    for (p = err; *p && o < out + sizeof(out) - 2;) {
        if (strncmp(p, tconf, strlen(tconf)) == 0) {
            *o++ = 'F';
            p += strlen(tconf);
        } else if (strncmp(p, tdir, strlen(tdir)) == 0) {
            *o++ = 'D';
            p += strlen(tdir);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* ---- error messages ---- */

typedef struct {
    const char *conf;
    const char *err;
} err_case_t;

static const err_case_t err_cases[] = {
    { "foo;\n", "unknown directive \"foo\" in F:1" },
    { "\n\n  bar 1 2;\n", "unknown directive \"bar\" in F:3" },
    { "http {\n server {\n  listen 127.0.0.1:18160;\n }\n listen 81;\n}\n",
      "\"listen\" directive is not allowed here in F:5" },
    { "worker_connections 10;\n", "\"worker_connections\" directive is not allowed here in F:1" },
    { "http { server { location / { return; } } }\n",
      "invalid number of arguments in \"return\" directive in F:1" },
    { "http { server { location / { return 200 a b; } } }\n",
      "invalid number of arguments in \"return\" directive in F:1" },
    { "pid;\n", "invalid number of arguments in \"pid\" directive in F:1" },
    { "daemon on off;\n", "invalid number of arguments in \"daemon\" directive in F:1" },
    { "http {\n keepalive_timeout abc;\n}\n",
      "invalid value \"abc\" in \"keepalive_timeout\" directive in F:2" },
    { "http { client_max_body_size 10x; }\n",
      "invalid value \"10x\" in \"client_max_body_size\" directive in F:1" },
    { "http { send_timeout 1s1m; }\n", "invalid value \"1s1m\" in \"send_timeout\" directive in F:1" },
    { "http { keepalive_requests -1; }\n",
      "invalid value \"-1\" in \"keepalive_requests\" directive in F:1" },
    { "http { large_client_header_buffers 0 8k; }\n",
      "invalid value \"0\" in \"large_client_header_buffers\" directive in F:1" },
    { "http { large_client_header_buffers 4 8q; }\n",
      "invalid value \"8q\" in \"large_client_header_buffers\" directive in F:1" },
    { "worker_processes 0;\n", "invalid value \"0\" in \"worker_processes\" directive in F:1" },
    { "worker_cpu_affinity 0101;\n", "invalid value \"0101\" in \"worker_cpu_affinity\" directive in F:1" },
    { "worker_rlimit_nofile 0;\n",
      "\"worker_rlimit_nofile\" directive value must be between 1 and 1048576 in F:1" },
    { "worker_processes many;\n", "invalid value \"many\" in \"worker_processes\" directive in F:1" },
    { "worker_shutdown_timeout 5y5y;\n",
      "invalid value \"5y5y\" in \"worker_shutdown_timeout\" directive in F:1" },
    { "daemon maybe;\n",
      "invalid value \"maybe\" in \"daemon\" directive, it must be \"on\" or \"off\" in F:1" },
    { "error_log logs/e.log loud;\n", "invalid value \"loud\" in \"error_log\" directive in F:1" },
    { "pid a;\npid b;\n", "\"pid\" directive is duplicate in F:2" },
    { "worker_processes 1;\nworker_processes 2;\n",
      "\"worker_processes\" directive is duplicate in F:2" },
    { "http { }\nhttp { }\n", "\"http\" directive is duplicate in F:2" },
    { "events { }\nevents { }\n", "\"events\" directive is duplicate in F:2" },
    { "http { keepalive_timeout 1s; keepalive_timeout 2s; }\n",
      "\"keepalive_timeout\" directive is duplicate in F:1" },
    { "http {\n", "unexpected end of file, expecting \"}\" in F:2" },
    { "http { server {\n", "unexpected end of file, expecting \"}\" in F:2" },
    { "}\n", "unexpected \"}\" in F:1" },
    { "http { }\n}\n", "unexpected \"}\" in F:2" },
    { "worker_processes 2", "unexpected end of file, expecting \";\" or \"}\" in F:1" },
    { "http { server { location / { return 200 } } }\n", "unexpected \"}\" in F:1" },
    { ";\n", "unexpected \";\" in F:1" },
    { "{ }\n", "unexpected \"{\" in F:1" },
    { "pid \"abc;\n", "unexpected end of file, expecting \"\\\"\" in F:2" },
    { "pid 'abc;\n", "unexpected end of file, expecting \"'\" in F:2" },
    { "pid \"a\"b;\n", "unexpected \"b\" in F:1" },
    { "pid a\"b\";\n", "unexpected \"\"\" in F:1" },
    { "http;\n", "directive \"http\" has no opening \"{\" in F:1" },
    { "worker_processes 2 { }\n", "directive \"worker_processes\" is not terminated by \";\" in F:1" },
    { "events { worker_connections 0; }\n",
      "\"worker_connections\" directive value must be between 1 and 1000000 in F:1" },
    { "http { server { listen 127.0.0.1:99999; } }\n",
      "invalid port in \"127.0.0.1:99999\" of the \"listen\" directive in F:1" },
    { "http { server { listen 0; } }\n", "invalid port in \"0\" of the \"listen\" directive in F:1" },
    { "http { server { listen 1.2.3.4:80 foo; } }\n", "invalid parameter \"foo\" in F:1" },
    { "http { server { listen 1.2.3.4:80 backlog=x; } }\n", "invalid backlog \"x\" in F:1" },
    { "http { server { listen [::1:80; } }\n",
      "invalid host in \"[::1:80\" of the \"listen\" directive in F:1" },
    { "http { server { listen unix:/tmp/x.sock; } }\n",
      "unix domain sockets are not supported in \"unix:/tmp/x.sock\" of the \"listen\" directive in F:1" },
    { "http { server { listen 127.0.0.1:18161; listen 127.0.0.1:18161; } }\n",
      "duplicate listen 127.0.0.1:18161 in F:1" },
    { "http {\n server { listen 127.0.0.1:18162 default_server; }\n"
      " server { listen 127.0.0.1:18162 default_server; }\n}\n",
      "a duplicate default server for 127.0.0.1:18162 in F:3" },
    { "http {\n server { listen 127.0.0.1:18163 backlog=10; }\n"
      " server { listen 127.0.0.1:18163 reuseport; }\n}\n",
      "duplicate listen options for 127.0.0.1:18163 in F:3" },
    { "http { server { location /a { location /b { } } } }\n",
      "location \"/b\" is outside location \"/a\" in F:1" },
    { "http { server { location ~ ^/r/ { location /r/x { } } } }\n",
      "location \"/r/x\" is outside location \"^/r/\" in F:1" },
    { "http { server { location = /a { location /a/b { } } } }\n",
      "location \"/a/b\" cannot be inside the exact location \"/a\" in F:1" },
    { "http { server { location @n { location /a { } } } }\n",
      "location \"/a\" cannot be inside the named location \"@n\" in F:1" },
    { "http { server { location /a { location @n { } } } }\n",
      "named location \"@n\" can be on the server level only in F:1" },
    { "http { server {\n location /a { }\n location ^~ /a { }\n} }\n",
      "duplicate location \"/a\" in F:3" },
    { "http { server { location = /a { } location = /a { } } }\n",
      "duplicate location \"/a\" in F:1" },
    { "http { server { location !! /a { } } }\n", "invalid location modifier \"!!\" in F:1" },
    { "http { location / { } }\n", "\"location\" directive is not allowed here in F:1" },
    { "http { server { server_name a*b; } }\n", "invalid server name or wildcard \"a*b\" in F:1" },
    { "http { server { server_name *.a.*; } }\n", "invalid server name or wildcard \"*.a.*\" in F:1" },
    { "http { server { return abc; } }\n", "invalid value \"abc\" in \"return\" directive in F:1" },
    { "http { server { return 1000; } }\n", "invalid value \"1000\" in \"return\" directive in F:1" },
    { "http { server { return 301 \"\"; } }\n", "empty redirect URL in \"return\" directive in F:1" },
    { "http { server { return 302 http://$nosuchvar/; } }\n",
      "unknown variable \"$nosuchvar\" in F:1" },
    { "http { server { location ~ ^/(.*) { return 301 /new/$1; } } }\n",
      "regex captures (\"$1\") are not supported in \"/new/$1\" in F:1" },
    { "http { server { return 200 \"${uri\"; } }\n",
      "the closing bracket in \"${uri\" variable is missing in F:1" },
    { "http { add_header \"bad name\" v; }\n",
      "invalid value \"bad name\" in \"add_header\" directive in F:1" },
    { "http { add_header X-A v sometimes; }\n",
      "invalid value \"sometimes\" in \"add_header\" directive in F:1" },
    { "http { add_header X-A \"a\\nb\"; }\n",
      "invalid value \"a\nb\" in \"add_header\" directive in F:1" },
    { "http { return 200; }\n", "\"return\" directive is not allowed here in F:1" },
    { "http { client_header_timeout 5s; server { location / { client_header_timeout 1s; } } }\n",
      "\"client_header_timeout\" directive is not allowed here in F:1" },
    { "include nonexistent.conf;\n",
      "open() \"D/nonexistent.conf\" failed (2: No such file or directory) in F:1" },
};

START_TEST(test_error_table)
{
    const err_case_t *c = &err_cases[_i];
    const char *got = conf_err(c->conf);
    ck_assert_msg(strcmp(got, c->err) == 0, "config:\n%s\nexpected: %s\n     got: %s", c->conf,
                  c->err, got);
}
END_TEST

START_TEST(test_error_regex)
{
    const char *got = conf_err("http { server { location ~ ( { } } }\n");
    ck_assert_msg(strncmp(got, "regcomp() failed: ", 18) == 0, "%s", got);
    ck_assert_msg(strstr(got, " in \"(\" in F:1") != NULL, "%s", got);
}
END_TEST

START_TEST(test_error_in_include_names_that_file)
{
    char inc[256];
    const char *got;

    mkdir(strcat(strcpy(inc, tdir), "/conf.d"), 0755);
    write_rel("conf.d/a.conf", "server {\n  listen 127.0.0.1:18164;\n  bogus on;\n}\n");
    got = conf_err("http {\n  include conf.d/*.conf;\n}\n");
    ck_assert_str_eq(got, "unknown directive \"bogus\" in D/conf.d/a.conf:3");
}
END_TEST

START_TEST(test_error_include_directory)
{
    char d[256];
    const char *got;
    snprintf(d, sizeof(d), "%s/adir", tdir);
    mkdir(d, 0755);
    got = conf_err("include adir;\n");
    ck_assert_str_eq(got, "\"D/adir\" is not a regular file in F:1");
}
END_TEST

START_TEST(test_error_deep_nesting)
{
    static char text[8192];
    const char *got;
    int i, n = 0;

    n += sprintf(text + n, "http { server { location /a {");
    for (i = 0; i < 100; i++) {
        n += sprintf(text + n, " location /a {");
    }
    n += sprintf(text + n, "\n");
    got = conf_err(text);
    ck_assert_str_eq(got, "too deeply nested blocks in F:1");
}
END_TEST

START_TEST(test_error_include_loop)
{
    const char *got;
    write_rel("loop.conf", "include loop.conf;\n");
    got = conf_err("include loop.conf;\n");
    ck_assert_msg(strstr(got, "too many nested includes") != NULL, "%s", got);
}
END_TEST

START_TEST(test_error_no_file)
{
    char *err = NULL;
    int saved = dup(2), fd = open("/dev/null", O_WRONLY);
    wd_cycle_t *c;

    dup2(fd, 2);
    c = wd_cycle_init("/nonexistent/dir/wasmd.conf", tdir, &err);
    dup2(saved, 2);
    close(saved);
    close(fd);
    ck_assert(c == NULL);
    ck_assert_str_eq(err, "open() \"/nonexistent/dir/wasmd.conf\" failed "
                          "(2: No such file or directory)");
}
END_TEST

/* ---- grammar ---- */

START_TEST(test_grammar_escapes)
{
    wd_cycle_t *c = conf_ok(
        "# comment with ; { } \" '\n"
        "worker_processes   3 ;# trailing\n"
        "pid\t'my pid.file';\n"
        "http {\n"
        "  add_header X-A \"a\\\"b\\tc\\\\d\\'e\\x\" always;\n"
        "  add_header X-B 'single \"quoted\"';\n"
        "  add_header X-C bare\\;semi;\n"
        "  server { listen 127.0.0.1:18177; return 200 \"multi\nline\"; }\n"
        "}\n");
    wd_http_conf_ctx_t *ctx = c->http_ctx;
    wd_http_core_loc_conf_t *clcf = ctx->loc_conf[wd_http_core_module.ctx_index];
    wd_http_add_header_t *h = clcf->add_headers->elts;
    char want_pid[256];

    ck_assert_int_eq(c->worker_processes, 3);
    snprintf(want_pid, sizeof(want_pid), "%s/my pid.file", tdir);
    ck_assert_str_eq((char *) c->pid.data, want_pid);
    ck_assert_int_eq(clcf->add_headers->nelts, 3);
    ck_assert(wd_str_eq(&h[0].name, "X-A"));
    ck_assert_msg(wd_str_eq(&h[0].value, "a\"b\tc\\d'e\\x"), "%.*s", wd_str_pf(&h[0].value));
    ck_assert(h[0].always);
    ck_assert(wd_str_eq(&h[1].value, "single \"quoted\""));
    ck_assert(!h[1].always);
    ck_assert(wd_str_eq(&h[2].value, "bare;semi"));
    {
        wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
        wd_http_core_srv_conf_t *srv = ((wd_http_core_srv_conf_t **) cmcf->servers.elts)[0];
        ck_assert(wd_str_eq(&srv->return_text, "multi\nline"));
    }
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_grammar_line_numbers_after_multiline_string)
{
    const char *got = conf_err("pid \"a\nb\nc\";\n\nfoo;\n");
    ck_assert_str_eq(got, "unknown directive \"foo\" in F:5");
}
END_TEST

START_TEST(test_grammar_empty_and_comment_only)
{
    wd_cycle_t *c = conf_ok("");
    ck_assert_int_eq(c->worker_processes, 1);
    ck_assert(c->http_ctx == NULL);
    ck_assert_int_eq(c->listening.nelts, 0);
    wd_cycle_free(c);
    c = conf_ok("# only a comment");
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_include_glob)
{
    char d[256];
    wd_cycle_t *c;
    wd_http_core_main_conf_t *cmcf;

    snprintf(d, sizeof(d), "%s/conf.d", tdir);
    mkdir(d, 0755);
    snprintf(d, sizeof(d), "%s/sub", tdir);
    mkdir(d, 0755);
    write_rel("conf.d/b.conf", "server { listen 127.0.0.1:18165; server_name b; }\n");
    write_rel("conf.d/a.conf", "server { listen 127.0.0.1:18165; server_name a; "
                               "include sub/loc.inc; }\n");
    write_rel("conf.d/ignored.txt", "this is not a config\n");
    /* relative includes resolve against the main file's directory (nginx) */
    write_rel("sub/loc.inc", "location /inc { return 299; }\n");
    write_rel("main.inc", "worker_processes 2;\n");
    c = conf_ok("include main.inc;\n"
                "include nomatch/*.conf;\n"          /* a pattern matching nothing is fine */
                "http {\n  include conf.d/*.conf;\n}\n");
    ck_assert_int_eq(c->worker_processes, 2);
    cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    ck_assert_int_eq(cmcf->servers.nelts, 2);
    /* glob results are sorted: a.conf first */
    {
        wd_http_core_srv_conf_t **s = cmcf->servers.elts;
        wd_http_core_loc_conf_t *l;
        ck_assert(wd_str_eq(&s[0]->server_name, "a"));
        ck_assert(wd_str_eq(&s[1]->server_name, "b"));
        l = wd_http_find_location(s[0], (u_char *) "/inc", 4);
        ck_assert_int_eq(l->return_code, 299);
        ck_assert_msg(strstr((char *) l->file.data, "sub/loc.inc") != NULL, "%s", l->file.data);
        ck_assert_int_eq(l->line, 1);
    }
    wd_cycle_free(c);
}
END_TEST

/* ---- sizes and times ---- */

typedef struct {
    const char *in;
    int64_t     v;      /* -1: error */
} num_case_t;

static const num_case_t size_cases[] = {
    { "0", 0 }, { "1", 1 }, { "1024", 1024 }, { "1k", 1024 }, { "8K", 8192 },
    { "1m", 1048576 }, { "2M", 2097152 }, { "1g", 1073741824 }, { "3G", 3221225472LL },
    { "", -1 }, { "k", -1 }, { "1x", -1 }, { "1kk", -1 }, { "-1", -1 }, { "1.5m", -1 },
    { " 1", -1 }, { "99999999999999999999", -1 }, { "9999999999999g", -1 },
};

START_TEST(test_size_table)
{
    const num_case_t *c = &size_cases[_i];
    wd_str_t s = { strlen(c->in), (u_char *) c->in };
    ck_assert_msg((int64_t) wd_parse_size(&s) == c->v, "size \"%s\": %ld", c->in,
                  (long) wd_parse_size(&s));
    ck_assert_msg((int64_t) wd_parse_offset(&s) == c->v, "offset \"%s\"", c->in);
}
END_TEST

static const num_case_t msec_cases[] = {
    { "0", 0 }, { "10", 10000 }, { "500ms", 500 }, { "30s", 30000 }, { "1m", 60000 },
    { "1m30s", 90000 }, { "2h", 7200000 }, { "1d", 86400000 }, { "1w", 604800000 },
    { "1h1m1s1ms", 3661001 }, { "1d12h", 129600000 },
    { "", -1 }, { "s", -1 }, { "1x", -1 }, { "1s1m", -1 }, { "1m1m", -1 }, { "1m30", -1 },
    { "-1s", -1 }, { "1.5s", -1 }, { "1 s", -1 }, { "99999999999999999999y", -1 },
};

START_TEST(test_msec_table)
{
    const num_case_t *c = &msec_cases[_i];
    wd_str_t s = { strlen(c->in), (u_char *) c->in };
    ck_assert_msg((int64_t) wd_parse_time(&s, 0) == c->v, "time \"%s\": %ld", c->in,
                  (long) wd_parse_time(&s, 0));
}
END_TEST

START_TEST(test_sec_parse)
{
    wd_str_t s;
    wd_str_set(&s, "1m30s");
    ck_assert_int_eq(wd_parse_time(&s, 1), 90);
    wd_str_set(&s, "500ms");
    ck_assert_int_eq(wd_parse_time(&s, 1), WD_ERROR);
    wd_str_set(&s, "7");
    ck_assert_int_eq(wd_parse_time(&s, 1), 7);
}
END_TEST

START_TEST(test_atoi)
{
    ck_assert_int_eq(wd_atoi((u_char *) "123", 3), 123);
    ck_assert_int_eq(wd_atoi((u_char *) "", 0), WD_ERROR);
    ck_assert_int_eq(wd_atoi((u_char *) "12a", 3), WD_ERROR);
    ck_assert_int_eq(wd_atoi((u_char *) "99999999999999999999", 20), WD_ERROR);
    ck_assert_int_eq(wd_atoi((u_char *) "9223372036854775807", 19), INTPTR_MAX);
}
END_TEST

/* ---- core directives and defaults ---- */

START_TEST(test_core_defaults)
{
    wd_cycle_t *c = conf_ok("http { server { listen 127.0.0.1:18166; } }\n");
    char want[256];

    ck_assert_int_eq(c->worker_processes, 1);
    ck_assert_int_eq(c->master_process, 1);
    ck_assert_int_eq(c->daemon, 0);
    ck_assert_int_eq(c->worker_connections, 1024);
    ck_assert_int_eq(c->worker_shutdown_timeout, 0);
    snprintf(want, sizeof(want), "%s/logs/wasmd.pid", tdir);
    ck_assert_str_eq((char *) c->pid.data, want);
    snprintf(want, sizeof(want), "%s/", tdir);
    ck_assert_str_eq((char *) c->prefix.data, want);
    ck_assert_str_eq((char *) c->conf_prefix.data, tconf);   /* same buffer, longer string */
    ck_assert_int_eq(c->conf_prefix.len, strlen(want));
    ck_assert_str_eq((char *) c->conf_file.data, tconf);
    /* default error log: stderr, level error */
    ck_assert(c->log->file != NULL && c->log->file->fd == 2);
    ck_assert_int_eq(c->log->level, WD_LOG_ERR);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_core_directives)
{
    wd_cycle_t *c = conf_ok("worker_processes auto;\nmaster_process off;\ndaemon on;\n"
                            "pid /tmp/x.pid;\nworker_shutdown_timeout 1m30s;\n"
                            "worker_rlimit_nofile 8192;\nworker_cpu_affinity auto;\n"
                            "error_log logs/error.log info;\nerror_log logs/debug.log debug;\n"
                            "events {\n  worker_connections 77;\n}\n");
    char want[256];
    struct stat st;

    ck_assert_int_eq(c->worker_processes, wd_ncpu());
    ck_assert_int_eq(c->master_process, 0);
    ck_assert_int_eq(c->daemon, 1);
    ck_assert_str_eq((char *) c->pid.data, "/tmp/x.pid");
    ck_assert_int_eq(c->worker_shutdown_timeout, 90000);
    ck_assert_int_eq(c->worker_rlimit_nofile, 8192);
    ck_assert_int_eq(c->worker_cpu_affinity, 1);
    ck_assert_int_eq(c->worker_connections, 77);
    ck_assert_int_eq(c->log->level, WD_LOG_INFO);
    ck_assert(c->log->next != NULL && c->log->next->level == WD_LOG_DEBUG);
    snprintf(want, sizeof(want), "%s/logs/error.log", tdir);
    ck_assert_str_eq((char *) c->log->file->name.data, want);
    ck_assert(c->log->file->fd > 2);
    /* <prefix>/logs/ was created for it, and the file exists */
    ck_assert(stat(want, &st) == 0);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_error_log_unwritable)
{
    const char *got = conf_err("error_log /nonexistent-dir/e.log;\n");
    ck_assert_str_eq(got, "open() \"/nonexistent-dir/e.log\" failed (2: No such file or directory)");
}
END_TEST

/* ---- inheritance ---- */

static wd_http_core_loc_conf_t *
loc(wd_http_core_srv_conf_t *s, const char *path)
{
    return wd_http_find_location(s, (const u_char *) path, strlen(path));
}

START_TEST(test_inheritance)
{
    wd_cycle_t *c = conf_ok(
        "http {\n"
        "  keepalive_timeout 5s 4;\n"
        "  client_max_body_size 2m;\n"
        "  add_header X-Http 1;\n"
        "  large_client_header_buffers 8 16k;\n"
        "  server { listen 127.0.0.1:18167;\n"
        "    keepalive_timeout 6s;\n"
        "    client_header_timeout 7s;\n"
        "    location /a { return 201; }\n"
        "    location /b { keepalive_timeout 0; add_header X-B 2 always; send_timeout 3s;\n"
        "      location /b/c { return 203; }\n"
        "      location /b/d { add_header X-D 4; }\n"
        "    }\n"
        "  }\n"
        "  server { listen 127.0.0.1:18168; keepalive_requests 5; client_max_body_size 0; }\n"
        "}\n");
    wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    wd_http_core_srv_conf_t **s = cmcf->servers.elts;
    wd_http_core_loc_conf_t *l;
    wd_http_add_header_t *h;

    /* server 1 level */
    l = s[0]->loc_conf;
    ck_assert_int_eq(l->keepalive_timeout, 6000);
    ck_assert_int_eq(l->keepalive_header, 0);
    ck_assert_int_eq(l->client_header_timeout, 7000);
    ck_assert_int_eq(l->client_max_body_size, 2 * 1024 * 1024);
    ck_assert_int_eq(l->large_client_header_buffers_num, 8);
    ck_assert_int_eq(l->large_client_header_buffers_size, 16384);
    ck_assert_int_eq(l->keepalive_requests, 1000);
    ck_assert_int_eq(l->send_timeout, 60000);
    ck_assert_int_eq(l->client_body_timeout, 60000);
    ck_assert_int_eq(l->client_header_buffer_size, 1024);
    ck_assert(l->error_log == &c->new_log);
    h = l->add_headers->elts;
    ck_assert(l->add_headers->nelts == 1 && wd_str_eq(&h[0].name, "X-Http"));

    l = loc(s[0], "/a");
    ck_assert_int_eq(l->return_code, 201);
    ck_assert_int_eq(l->keepalive_timeout, 6000);
    ck_assert_int_eq(l->client_header_timeout, 7000);
    ck_assert(l->add_headers->nelts == 1);

    l = loc(s[0], "/b");
    ck_assert_int_eq(l->keepalive_timeout, 0);
    ck_assert_int_eq(l->send_timeout, 3000);
    h = l->add_headers->elts;
    ck_assert(l->add_headers->nelts == 1 && wd_str_eq(&h[0].name, "X-B") && h[0].always);

    l = loc(s[0], "/b/c");
    ck_assert_int_eq(l->return_code, 203);
    ck_assert_int_eq(l->keepalive_timeout, 0);          /* from /b */
    ck_assert_int_eq(l->send_timeout, 3000);
    h = l->add_headers->elts;
    ck_assert(l->add_headers->nelts == 1 && wd_str_eq(&h[0].name, "X-B"));

    l = loc(s[0], "/b/d");
    h = l->add_headers->elts;
    ck_assert(l->add_headers->nelts == 1 && wd_str_eq(&h[0].name, "X-D"));  /* own only */

    /* server 2: http values and defaults */
    l = s[1]->loc_conf;
    ck_assert_int_eq(l->keepalive_timeout, 5000);
    ck_assert_int_eq(l->keepalive_header, 4);
    ck_assert_int_eq(l->keepalive_requests, 5);
    ck_assert_int_eq(l->client_max_body_size, 0);
    ck_assert_int_eq(l->client_header_timeout, 60000);
    ck_assert(wd_str_eq(&s[1]->server_name, ""));
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_defaults_without_directives)
{
    wd_cycle_t *c = conf_ok("http { server { listen 127.0.0.1:18169; location / { } } }\n");
    wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    wd_http_core_srv_conf_t *s = ((wd_http_core_srv_conf_t **) cmcf->servers.elts)[0];
    wd_http_core_loc_conf_t *l = loc(s, "/");

    ck_assert_int_eq(l->kind, WD_HTTP_LOC_PREFIX);
    ck_assert_int_eq(l->keepalive_timeout, 75000);
    ck_assert_int_eq(l->keepalive_requests, 1000);
    ck_assert_int_eq(l->client_header_timeout, 60000);
    ck_assert_int_eq(l->client_body_timeout, 60000);
    ck_assert_int_eq(l->send_timeout, 60000);
    ck_assert_int_eq(l->client_max_body_size, 1048576);
    ck_assert_int_eq(l->large_client_header_buffers_num, 4);
    ck_assert_int_eq(l->large_client_header_buffers_size, 8192);
    ck_assert(l->add_headers == NULL);
    ck_assert(l->handler == NULL);
    ck_assert_int_eq(l->return_code, 0);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_default_listen)
{
    wd_cycle_t *c = conf_ok("http { server { } }\n");
    wd_listening_t *ls = c->listening.elts;
    ck_assert_int_eq(c->listening.nelts, 1);
    ck_assert(wd_str_eq(&ls[0].addr_text, geteuid() == 0 ? "0.0.0.0:80" : "0.0.0.0:8000"));
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_return_forms)
{
    wd_cycle_t *c = conf_ok(
        "http { server { listen 127.0.0.1:18170;\n"
        "  location /a { return https://example.com/x; }\n"
        "  location /b { return 404; }\n"
        "  location /c { return 307 /relative; }\n"
        "  location /d { return 200 first; return 500 second; }\n"
        "} }\n");
    wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    wd_http_core_srv_conf_t *s = ((wd_http_core_srv_conf_t **) cmcf->servers.elts)[0];
    wd_http_core_loc_conf_t *l;

    l = loc(s, "/a");
    ck_assert_int_eq(l->return_code, 302);
    ck_assert(wd_str_eq(&l->return_text, "https://example.com/x"));
    l = loc(s, "/b");
    ck_assert_int_eq(l->return_code, 404);
    ck_assert_int_eq(l->return_text.len, 0);
    l = loc(s, "/c");
    ck_assert_int_eq(l->return_code, 307);
    ck_assert(wd_str_eq(&l->return_text, "/relative"));
    l = loc(s, "/d");
    ck_assert_int_eq(l->return_code, 200);
    ck_assert(wd_str_eq(&l->return_text, "first"));
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_return_variables)
{
    wd_cycle_t *c = conf_ok(
        "http { server { listen 127.0.0.1:18178;\n"
        "  return 301 https://$host$request_uri;\n"
        "  location /a { return 200 \"${uri}x $ cost: $$ $-\"; }\n"
        "  location /b { return 200 \"no variables\"; add_header X-A plain; add_header X-B host=$host; }\n"
        "} }\n");
    wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    wd_http_core_srv_conf_t *s = ((wd_http_core_srv_conf_t **) cmcf->servers.elts)[0];
    wd_http_request_t r;
    wd_str_t out;

    memset(&r, 0, sizeof(r));
    r.pool = wd_pool_create(1024);
    wd_str_set(&r.host, "example.com");
    wd_str_set(&r.unparsed_uri, "/p?q=1");
    wd_str_set(&r.uri, "/p");

    ck_assert(s->return_value != NULL);
    ck_assert(wd_str_eq(&s->return_text, "https://$host$request_uri"));
    ck_assert_int_eq(wd_http_complex_value(&r, s->return_value, &out), WD_OK);
    ck_assert_msg(wd_str_eq(&out, "https://example.com/p?q=1"), "%.*s", wd_str_pf(&out));

    ck_assert(loc(s, "/a")->return_value != NULL);
    ck_assert_int_eq(wd_http_complex_value(&r, loc(s, "/a")->return_value, &out), WD_OK);
    ck_assert_msg(wd_str_eq(&out, "/px $ cost: $$ $-"), "%.*s", wd_str_pf(&out));
    ck_assert(loc(s, "/b")->return_value == NULL);
    {
        wd_http_add_header_t *h = loc(s, "/b")->add_headers->elts;
        ck_assert(h[0].value_cv == NULL);
        ck_assert(h[1].value_cv != NULL);
        ck_assert_int_eq(wd_http_complex_value(&r, h[1].value_cv, &out), WD_OK);
        ck_assert_msg(wd_str_eq(&out, "host=example.com"), "%.*s", wd_str_pf(&out));
    }
    wd_pool_destroy(r.pool);
    wd_cycle_free(c);
}
END_TEST

START_TEST(test_http_level_error_log)
{
    wd_cycle_t *c = conf_ok("http { error_log logs/http.log warn;\n"
                            "  server { listen 127.0.0.1:18171; location /x { error_log logs/x.log debug; } } }\n");
    wd_http_core_main_conf_t *cmcf = wd_http_cycle_get_module_main_conf(c, wd_http_core_module);
    wd_http_core_srv_conf_t *s = ((wd_http_core_srv_conf_t **) cmcf->servers.elts)[0];
    wd_http_core_loc_conf_t *l = loc(s, "/x");

    ck_assert_int_eq(s->loc_conf->error_log->level, WD_LOG_WARN);
    ck_assert(strstr((char *) s->loc_conf->error_log->file->name.data, "logs/http.log") != NULL);
    ck_assert_int_eq(l->error_log->level, WD_LOG_DEBUG);
    ck_assert(l->error_log->file->fd > 2);
    wd_cycle_free(c);
}
END_TEST

/* ---- the module table is complete ---- */

START_TEST(test_modules_registered)
{
    wd_modules_init();
    ck_assert(wd_module_find("core") != NULL);
    ck_assert(wd_module_find("events") != NULL);
    ck_assert(wd_module_find("http") != NULL);
    ck_assert(wd_module_find("http_core") != NULL);
    ck_assert_int_eq(wd_http_core_module.ctx_index, 0);
    ck_assert(wd_http_modules_n >= 1);
    ck_assert(wd_module_find("nope") == NULL);
}
END_TEST

/* ---- listening sockets: open, hand over on reload ---- */

START_TEST(test_listening_handover)
{
    wd_cycle_t *c1, *c2;
    wd_listening_t *l1, *l2;
    int fd;

    c1 = conf_ok("http { server { listen 127.0.0.1:18172; } server { listen 127.0.0.1:18173; } }\n");
    ck_assert_int_eq(wd_cycle_open_listening(c1, NULL), WD_OK);
    l1 = c1->listening.elts;
    ck_assert(l1[0].fd >= 0 && l1[1].fd >= 0);
    fd = l1[0].fd;
    ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);

    /* same first address, new second one */
    c2 = conf_ok("http { server { listen 127.0.0.1:18172; } server { listen 127.0.0.1:18174; } }\n");
    ck_assert_int_eq(wd_cycle_open_listening(c2, c1), WD_OK);
    l2 = c2->listening.elts;
    ck_assert_int_eq(l2[0].fd, fd);
    ck_assert(l2[0].inherited);
    ck_assert_int_eq(l1[0].fd, -1);
    ck_assert(l2[1].fd >= 0 && !l2[1].inherited);
    ck_assert(l1[1].fd >= 0);          /* 18173 stays with the old cycle until it is freed */
    wd_cycle_free(c1);
    ck_assert(fcntl(fd, F_GETFD) != -1);
    wd_cycle_free(c2);
    ck_assert(fcntl(fd, F_GETFD) == -1);
}
END_TEST

START_TEST(test_listening_bind_failure_keeps_old)
{
    wd_cycle_t *c1, *c2;
    wd_listening_t *l1;
    int fd, saved, nul;
    char *err;

    c1 = conf_ok("http { server { listen 127.0.0.1:18175; } }\n");
    ck_assert_int_eq(wd_cycle_open_listening(c1, NULL), WD_OK);
    l1 = c1->listening.elts;
    fd = l1[0].fd;
    /* the new cycle keeps 18175 and adds an address that cannot be bound */
    c2 = conf_ok("http { server { listen 127.0.0.1:18175; } server { listen 192.0.2.1:18176; } }\n");
    saved = dup(2);
    nul = open("/dev/null", O_WRONLY);
    dup2(nul, 2);
    ck_assert_int_eq(wd_cycle_open_listening(c2, c1), WD_ERROR);
    dup2(saved, 2);
    close(saved);
    close(nul);
    err = (char *) wd_conf_last_error();
    ck_assert_msg(strstr(err, "bind() to 192.0.2.1:18176 failed") != NULL, "%s", err);
    ck_assert_int_eq(l1[0].fd, fd);    /* untouched */
    wd_cycle_free(c2);
    ck_assert(fcntl(fd, F_GETFD) != -1);
    wd_cycle_free(c1);
}
END_TEST

START_TEST(test_buffer_parse)
{
    char *err = NULL;
    wd_cycle_t *c;
    int saved = dup(2), nul = open("/dev/null", O_WRONLY);

    dup2(nul, 2);
    c = wd_cycle_init_buffer("worker_processes 2;\nbad;\n", "mem.conf", tdir, &err);
    dup2(saved, 2);
    close(saved);
    close(nul);
    ck_assert(c == NULL);
    ck_assert_msg(strstr(err, "unknown directive \"bad\" in ") != NULL && strstr(err, "mem.conf:2"),
                  "%s", err);
}
END_TEST

/* found by t/fuzz/fuzz_conf: stacked or nested quantifiers made regcomp() take gigabytes */
START_TEST(test_error_regex_too_complex)
{
    const char *got;
    got = conf_err("http { server { location ~ \\.(png|g++++++++++++++++++++++++++++++++++++++++++if)$ "
                   "{ return 200; } } }\n");
    ck_assert_msg(strstr(got, "is too complex") != NULL && strstr(got, "F:1") != NULL, "%s", got);
    got = conf_err("http { server { server_name ~^((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)$; } }\n");
    ck_assert_msg(strstr(got, "is too complex") != NULL, "%s", got);
    got = conf_err("http { server { location ~ \"^/(x{999}){999}\" { return 200; } } }\n");
    ck_assert_msg(strstr(got, "is too complex") != NULL, "%s", got);
    /* repeating what can match "": minutes in regcomp's epsilon closures */
    got = conf_err("http { server { location ~ \"(a|)+++++++++++++++bbbb++++++++\" { return 200; } } }\n");
    ck_assert_msg(strstr(got, "is too complex") != NULL, "%s", got);
    got = conf_err("http { server { location ~ \"((((((((((a*)+)+)+)+)+)+)+)+)+)+\" { return 200; } } }\n");
    ck_assert_msg(strstr(got, "is too complex") != NULL, "%s", got);
    /* stacked quantifiers (undefined in POSIX EREs): ~100 "*" took a minute */
    got = conf_err("http { server { location ~ \"^/*****(a|b)\" { return 200; } } }\n");
    ck_assert_msg(strstr(got, "is too complex") != NULL, "%s", got);
    /* ordinary ones stay accepted */
    {
        char *err = NULL;
        wd_cycle_t *c;
        int saved = dup(2), nul = open("/dev/null", O_WRONLY);
        dup2(nul, 2);
        c = wd_cycle_init_buffer("http { server { location ~ \"^/api/v[0-9]{1,3}/(\\\\.[a-z0-9-]{1,63}){1,127}$\" "
                                 "{ return 200; } location ~* \"(.*)+\\\\.(png|gif)$\" { return 204; } } }\n",
                                 "mem.conf", tdir, &err);
        dup2(saved, 2);
        close(saved);
        close(nul);
        ck_assert_msg(c != NULL, "%s", err);
        wd_cycle_free(c);
    }
}
END_TEST

/* found by t/fuzz/fuzz_conf: a message quoting a long argument lost its " in FILE:LINE" */
START_TEST(test_error_long_argument_keeps_location)
{
    static char text[8192];
    char *err = NULL;
    wd_cycle_t *c;
    int saved = dup(2), nul = open("/dev/null", O_WRONLY);
    size_t n;

    n = (size_t) sprintf(text, "worker_processes 1;\n\n");
    memset(text + n, 'x', 3000);
    strcpy(text + n + 3000, ";\n");
    dup2(nul, 2);
    c = wd_cycle_init_buffer(text, "mem.conf", tdir, &err);
    dup2(saved, 2);
    close(saved);
    close(nul);
    ck_assert(c == NULL);
    n = strlen(err);
    ck_assert_msg(strncmp(err, "unknown directive \"xxx", 22) == 0, "%s", err);
    ck_assert_msg(strstr(err, "...") != NULL && strstr(err, "/mem.conf:3") != NULL
                  && strcmp(strstr(err, "/mem.conf:3"), "/mem.conf:3") == 0,
                  "location lost: ...%s", err + (n > 80 ? n - 80 : 0));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("conf");
    TCase *te = tcase_create("errors");
    TCase *tg = tcase_create("grammar");
    TCase *tn = tcase_create("numbers");
    TCase *ti = tcase_create("inheritance");
    TCase *tl = tcase_create("listening");
    SRunner *sr;
    int nf;

    tcase_add_checked_fixture(te, setup, teardown);
    tcase_add_loop_test(te, test_error_table, 0, sizeof(err_cases) / sizeof(err_cases[0]));
    tcase_add_test(te, test_error_regex);
    tcase_add_test(te, test_error_in_include_names_that_file);
    tcase_add_test(te, test_error_include_loop);
    tcase_add_test(te, test_error_include_directory);
    tcase_add_test(te, test_error_deep_nesting);
    tcase_add_test(te, test_error_long_argument_keeps_location);
    tcase_add_test(te, test_error_regex_too_complex);
    tcase_add_test(te, test_error_no_file);
    tcase_add_test(te, test_error_log_unwritable);
    tcase_add_test(te, test_buffer_parse);
    suite_add_tcase(s, te);

    tcase_add_checked_fixture(tg, setup, teardown);
    tcase_add_test(tg, test_grammar_escapes);
    tcase_add_test(tg, test_grammar_line_numbers_after_multiline_string);
    tcase_add_test(tg, test_grammar_empty_and_comment_only);
    tcase_add_test(tg, test_include_glob);
    tcase_add_test(tg, test_core_defaults);
    tcase_add_test(tg, test_core_directives);
    tcase_add_test(tg, test_modules_registered);
    suite_add_tcase(s, tg);

    tcase_add_loop_test(tn, test_size_table, 0, sizeof(size_cases) / sizeof(size_cases[0]));
    tcase_add_loop_test(tn, test_msec_table, 0, sizeof(msec_cases) / sizeof(msec_cases[0]));
    tcase_add_test(tn, test_sec_parse);
    tcase_add_test(tn, test_atoi);
    suite_add_tcase(s, tn);

    tcase_add_checked_fixture(ti, setup, teardown);
    tcase_add_test(ti, test_inheritance);
    tcase_add_test(ti, test_defaults_without_directives);
    tcase_add_test(ti, test_default_listen);
    tcase_add_test(ti, test_return_forms);
    tcase_add_test(ti, test_http_level_error_log);
    tcase_add_test(ti, test_return_variables);
    suite_add_tcase(s, ti);

    tcase_add_checked_fixture(tl, setup, teardown);
    tcase_add_test(tl, test_listening_handover);
    tcase_add_test(tl, test_listening_bind_failure_keeps_old);
    suite_add_tcase(s, tl);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
