/*
 * test_conf_cli.c -- the command line of the built binary: -t (ok / error
 * and exit codes), -p/-c resolution, -V/-v/-h, bad options, -s without a
 * running server, `wasmd run` dispatch, and the repository's default config.
 */
#include "wd_test_proc.h"

static void setup(void) { wdt_mkdir(); }
static void teardown(void) { wdt_rmdir(); }

static const char *good_conf =
    "worker_processes 1;\n"
    "events { worker_connections 64; }\n"
    "http { server { listen 127.0.0.1:18180; location / { return 200 ok; } } }\n";

START_TEST(test_t_ok)
{
    char conf[128], want[512], *out;
    int rc;

    wdt_write("wasmd.conf", good_conf);
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    snprintf(want, sizeof(want),
             "wasmd: the configuration file %s syntax is ok\n"
             "wasmd: configuration file %s test is successful\n", conf, conf);
    ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_t_quiet)
{
    char conf[128], *out;
    int rc;

    wdt_write("wasmd.conf", good_conf);
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-q", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    ck_assert_str_eq(out, "");
    /* errors are still printed */
    wdt_write("wasmd.conf", "foo;\n");
    rc = wdt_run(&out, 10000, (const char *[]) { "-tq", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert(strstr(out, "[emerg] unknown directive \"foo\"") != NULL);
}
END_TEST

START_TEST(test_T_dump)
{
    char conf[128], want[512], *out;
    int rc;

    wdt_write("inc.conf", "worker_processes 1;");
    wdt_write("wasmd.conf", "include inc.conf;\n# comment\n");
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-T", "-q", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    snprintf(want, sizeof(want),
             "# configuration file %s/wasmd.conf:\ninclude inc.conf;\n# comment\n\n"
             "# configuration file %s/inc.conf:\nworker_processes 1;\n\n", wdt_dir, wdt_dir);
    ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_g_directives)
{
    char conf[128], want[256], *out;
    int rc;

    wdt_write("wasmd.conf", good_conf);
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    /* parsed before the file, in the main context */
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-q", "-p", wdt_dir, "-c", conf,
                                                 "-g", "master_process off; daemon off;", NULL });
    ck_assert_msg(rc == 0, "%s", out);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-q", "-p", wdt_dir, "-c", conf,
                                                 "-g", "bogus 1;", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strncmp(out, "wasmd: [emerg] unknown directive \"bogus\" in command line\n",
                          57) == 0, "%s", out);
    /* the file cannot set it again */
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-q", "-p", wdt_dir, "-c", conf,
                                                 "-g", "worker_processes 2;", NULL });
    ck_assert_int_eq(rc, 1);
    snprintf(want, sizeof(want), "wasmd: [emerg] \"worker_processes\" directive is duplicate in %s:1\n",
             conf);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s", out);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-g", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "wasmd: option \"-g\" requires parameter\n");
}
END_TEST

START_TEST(test_t_error)
{
    char conf[128], want[512], *out;
    int rc;

    wdt_write("wasmd.conf", "worker_processes 1;\nfoo bar;\n");
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_int_eq(rc, 1);
    snprintf(want, sizeof(want),
             "wasmd: [emerg] unknown directive \"foo\" in %s:2\n"
             "wasmd: configuration file %s test failed\n", conf, conf);
    ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_t_missing_file)
{
    char conf[128], *out;
    int rc;

    snprintf(conf, sizeof(conf), "%s/none.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "wasmd: [emerg] open() \"") != NULL
                  && strstr(out, "none.conf\" failed (2: No such file or directory)") != NULL,
                  "%s", out);
    ck_assert(strstr(out, "test failed") != NULL);
}
END_TEST

START_TEST(test_prefix_and_relative_conf)
{
    char prefix[128], want[256], *out;
    int rc;

    /* -c relative to -p; the default -c is conf/wasmd.conf under the prefix */
    wdt_write("other.conf", good_conf);
    snprintf(prefix, sizeof(prefix), "%s/", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", prefix, "-c", "other.conf", "-t", NULL });
    ck_assert_msg(rc == 0, "%s", out);
    snprintf(want, sizeof(want), "%s/other.conf syntax is ok", wdt_dir);
    ck_assert_msg(strstr(out, want) != NULL, "%s", out);

    mkdir(strcat(strcpy(want, wdt_dir), "/conf"), 0755);
    wdt_write("conf/wasmd.conf", good_conf);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-p", wdt_dir, NULL });
    ck_assert_msg(rc == 0, "%s", out);
    snprintf(want, sizeof(want), "%s/conf/wasmd.conf syntax is ok", wdt_dir);
    ck_assert_msg(strstr(out, want) != NULL, "%s", out);
    /* attached option values: -pDIR -cFILE */
    snprintf(want, sizeof(want), "-p%s", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { want, "-cconf/wasmd.conf", "-t", NULL });
    ck_assert_msg(rc == 0, "%s", out);
}
END_TEST

START_TEST(test_t_does_not_bind)
{
    char conf[128], *out;
    struct sockaddr_in sin;
    int fd, one = 1, rc;

    /* hold the port: -t must still succeed (it never opens sockets) */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(18180);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0);
    ck_assert(listen(fd, 1) == 0);
    wdt_write("wasmd.conf", good_conf);
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_msg(rc == 0, "%s", out);
    /* but a real start fails with the bind error */
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "[emerg] bind() to 127.0.0.1:18180 failed (98: Address already in use)")
                  != NULL, "%s", out);
    close(fd);
}
END_TEST

START_TEST(test_version_help)
{
    char *out;
    int rc;

    rc = wdt_run(&out, 10000, (const char *[]) { "-V", NULL });
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strncmp(out, "wasmd version: wasmd/", 21) == 0, "%s", out);
    ck_assert(strstr(out, "configure arguments:") != NULL);
    ck_assert(strstr(out, "wasm engine: ") != NULL);
    rc = wdt_run(&out, 10000, (const char *[]) { "-v", NULL });
    ck_assert_int_eq(rc, 0);
    ck_assert(strncmp(out, "wasmd version: wasmd/", 21) == 0);
    ck_assert(strstr(out, "configure arguments:") == NULL);
    rc = wdt_run(&out, 10000, (const char *[]) { "-h", NULL });
    ck_assert_int_eq(rc, 0);
    ck_assert(strncmp(out, "Usage: wasmd", 12) == 0);
    ck_assert(strstr(out, "-s signal") != NULL);
}
END_TEST

START_TEST(test_bad_options)
{
    char *out;
    int rc;

    rc = wdt_run(&out, 10000, (const char *[]) { "-x", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "wasmd: invalid option: \"x\"\n");
    rc = wdt_run(&out, 10000, (const char *[]) { "-c", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "wasmd: option \"-c\" requires file name\n");
    rc = wdt_run(&out, 10000, (const char *[]) { "-s", "bogus", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "wasmd: invalid option: \"-s bogus\"\n");
    rc = wdt_run(&out, 10000, (const char *[]) { "file.conf", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "wasmd: invalid option: \"file.conf\"\n");
}
END_TEST

START_TEST(test_signal_without_server)
{
    char conf[128], *out;
    int rc;

    wdt_write("wasmd.conf", "pid nothere.pid;\n");
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", wdt_dir, "-c", conf, "-s", "stop", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "nothere.pid\" failed (2: No such file or directory)") != NULL,
                  "%s", out);
    /* a pid file with garbage */
    wdt_write("nothere.pid", "abc\n");
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", wdt_dir, "-c", conf, "-s", "reload", NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "invalid PID number \"abc\"") != NULL, "%s", out);
}
END_TEST

START_TEST(test_run_dispatch)
{
    char *out;
    int rc;

    /* `wasmd run` goes to the WASI runner (its own usage/errors), never to our option parser */
    rc = wdt_run(&out, 10000, (const char *[]) { "run", "/nonexistent.wasm", NULL });
    ck_assert_msg(rc != 0 && rc != -1, "rc %d", rc);
    ck_assert_msg(strstr(out, "invalid option") == NULL, "%s", out);
}
END_TEST

START_TEST(test_repo_default_conf)
{
    char *out;
    int rc;

    /* the shipped conf/wasmd.conf stays valid (tests run from the repository root) */
    if (access("conf/wasmd.conf", R_OK) != 0) {
        ck_abort_msg("conf/wasmd.conf not found (cwd must be the repository root)");
    }
    {
        /* prefix = a temp dir that mirrors the repository's conf/ and objs/ (the config
         * names handler files under objs/), so logs/ is created there, not in the tree */
        char conf[PATH_MAX], objs[PATH_MAX], link[256];
        ck_assert(realpath("conf/wasmd.conf", conf) != NULL);
        ck_assert(realpath("objs", objs) != NULL);
        snprintf(link, sizeof(link), "%s/objs", wdt_dir);
        ck_assert(symlink(objs, link) == 0);
        rc = wdt_run(&out, 10000, (const char *[]) { "-t", "-p", wdt_dir, "-c", conf, NULL });
    }
    ck_assert_msg(rc == 0, "%s", out);
}
END_TEST

int
main(int argc, char **argv)
{
    Suite *s = suite_create("conf_cli");
    TCase *tc = tcase_create("cli");
    SRunner *sr;
    int nf;

    wdt_find_bin(argv[0]);
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_t_ok);
    tcase_add_test(tc, test_t_quiet);
    tcase_add_test(tc, test_t_error);
    tcase_add_test(tc, test_T_dump);
    tcase_add_test(tc, test_g_directives);
    tcase_add_test(tc, test_t_missing_file);
    tcase_add_test(tc, test_prefix_and_relative_conf);
    tcase_add_test(tc, test_t_does_not_bind);
    tcase_add_test(tc, test_version_help);
    tcase_add_test(tc, test_bad_options);
    tcase_add_test(tc, test_signal_without_server);
    tcase_add_test(tc, test_run_dispatch);
    tcase_add_test(tc, test_repo_default_conf);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
