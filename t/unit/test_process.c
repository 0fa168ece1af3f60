/*
 * test_process.c -- master + workers, driven through the built binary:
 * start, workers present, serving; `-s reload` with a valid config (new
 * workers, new content, old workers gone); SIGHUP with an invalid config
 * (error with file:line in the log, old workers keep serving); a worker
 * killed with SIGKILL is respawned and logged at alert; `-s reopen`;
 * `-s quit` and `-s stop` (pid file removed); master_process off; reuseport;
 * daemon on. Ports 18181..18199. Every wait is bounded.
 */
#include "wd_test_proc.h"

static void setup(void) { wdt_sweep(); wdt_mkdir(); }
static void teardown(void) { wdt_kill_master(); wdt_rmdir(); }

static void
write_conf(int port, const char *extra_main, const char *body, int workers)
{
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "worker_processes %d;\n"
             "error_log %s/error.log info;\n"
             "pid %s/wasmd.pid;\n"
             "%s\n"
             "events { worker_connections 128; }\n"
             "http {\n"
             "  access_log off;\n"
             "  server {\n"
             "    listen 127.0.0.1:%d;\n"
             "    location / { return 200 \"%s\"; }\n"
             "  }\n"
             "}\n",
             workers, wdt_dir, wdt_dir, extra_main, port, body);
    wdt_write("wasmd.conf", conf);
}

static pid_t
pidfile(void)
{
    return (pid_t) atoi(wdt_read("wasmd.pid"));
}

static int
body_is(int port, const char *want)
{
    char body[256];
    return wdt_http_get(port, "/", "localhost", body, sizeof(body)) == 200
           && strcmp(body, want) == 0;
}

static int
nworkers(pid_t master)
{
    pid_t kids[16];
    return wdt_children(master, kids, 16);
}

/* the log has no alert/emerg/crit lines except those containing `allowed` (may be NULL) */
static void
assert_clean_log(const char *allowed1, const char *allowed2)
{
    char *log = wdt_read("error.log"), *line, *save = NULL;
    for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, "[alert]") || strstr(line, "[emerg]") || strstr(line, "[crit]")) {
            ck_assert_msg((allowed1 && strstr(line, allowed1))
                          || (allowed2 && strstr(line, allowed2)),
                          "unexpected log line: %s", line);
        }
    }
}

static void
ctl(const char *sig, int want_rc)
{
    char conf[128], *out;
    int rc;
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", wdt_dir, "-c", conf, "-s", sig, NULL });
    ck_assert_msg(rc == want_rc, "-s %s: rc %d (want %d): %s", sig, rc, want_rc, out);
}

static pid_t
start_and_wait(int port, const char *body, int workers)
{
    pid_t m;
    int tries;

    /* another run of this suite (a parallel `make test`) may hold the port for a moment */
    for (tries = 0;; tries++) {
        m = wdt_start();
        if (WDT_WAIT(10000, pidfile() == m || !wdt_alive(m)) && pidfile() == m) {
            break;
        }
        wdt_wait_exit(m, 1000);
        if (tries == 20 || strstr(wdt_read("out.txt"), "Address already in use") == NULL) {
            break;
        }
        wdt_write("out.txt", "");
        wdt_write("error.log", "");
        wdt_sleep_ms(500);
    }
    ck_assert_msg(WDT_WAIT(10000, pidfile() == m), "no pid file; output: %s", wdt_read("out.txt"));
    ck_assert_msg(WDT_WAIT(10000, body_is(port, body)), "not serving; log: %s",
                  wdt_read("error.log"));
    return m;
}

START_TEST(test_master_workers_quit)
{
    pid_t m, kids[8];
    int n, i;

    write_conf(18181, "", "gen1", 2);
    m = start_and_wait(18181, "gen1", 2);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    n = wdt_children(m, kids, 8);
    for (i = 0; i < n; i++) {
        ck_assert(kids[i] != m);
    }
    for (i = 0; i < 20; i++) {
        ck_assert(body_is(18181, "gen1"));
    }
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    ck_assert(WDT_WAIT(3000, !wdt_alive(kids[0]) && !wdt_alive(kids[1])));
    ck_assert_msg(access(strcat(strcpy((char[128]) { 0 }, wdt_dir), "/wasmd.pid"), F_OK) != 0,
                  "pid file left behind");
    ck_assert(strstr(wdt_read("error.log"), "[notice]") != NULL);
    ck_assert(strstr(wdt_read("error.log"), "start worker process") != NULL);
    ck_assert(strstr(wdt_read("error.log"), "gracefully shutting down") != NULL);
    assert_clean_log(NULL, NULL);
    ck_assert_msg(wdt_read("out.txt")[0] == '\0', "terminal output: %s", wdt_read("out.txt"));
}
END_TEST

START_TEST(test_reload)
{
    pid_t m, old[8], now[8];
    int i, j, n;
    char want[256];

    write_conf(18182, "", "gen1", 2);
    m = start_and_wait(18182, "gen1", 2);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    wdt_children(m, old, 8);

    /* valid config: new content, new workers, old ones gone */
    write_conf(18182, "", "gen2", 2);
    ctl("reload", 0);
    ck_assert_msg(WDT_WAIT(10000, body_is(18182, "gen2")), "%s", wdt_read("error.log"));
    ck_assert(WDT_WAIT(10000, !wdt_alive(old[0]) && !wdt_alive(old[1])));
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    n = wdt_children(m, now, 8);
    for (i = 0; i < n; i++) {
        for (j = 0; j < 2; j++) {
            ck_assert(now[i] != old[j]);
        }
    }
    ck_assert(strstr(wdt_read("error.log"), "configuration reloaded") != NULL);

    /* invalid config: `-s reload` refuses (it must parse the config to find the pid file)... */
    wdt_write("wasmd.conf", "worker_processes 2;\n"
                            "bogus_directive on;\n");
    ctl("reload", 1);
    /* ...and a HUP makes the master log the error and keep its workers */
    ck_assert(kill(m, SIGHUP) == 0);
    snprintf(want, sizeof(want), "[emerg] %d#0: unknown directive \"bogus_directive\" in %s/wasmd.conf:2",
             (int) m, wdt_dir);
    ck_assert_msg(WDT_WAIT(5000, strstr(wdt_read("error.log"), want) != NULL), "%s",
                  wdt_read("error.log"));
    ck_assert(WDT_WAIT(5000, strstr(wdt_read("error.log"), "keeping the current configuration")
                             != NULL));
    wdt_sleep_ms(200);
    ck_assert_int_eq(nworkers(m), 2);
    for (i = 0; i < 2; i++) {
        ck_assert(wdt_alive(now[i]));
    }
    ck_assert(body_is(18182, "gen2"));

    /* reload onto another port: the new one serves, the old one is closed */
    write_conf(18183, "", "gen3", 1);
    ck_assert(kill(m, SIGHUP) == 0);
    ck_assert_msg(WDT_WAIT(10000, body_is(18183, "gen3")), "%s", wdt_read("error.log"));
    ck_assert(WDT_WAIT(10000, wdt_http_get(18182, "/", "x", NULL, 0) == 0));
    ck_assert(WDT_WAIT(5000, nworkers(m) == 1));

    kill(m, SIGTERM);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log("bogus_directive", NULL);
}
END_TEST

START_TEST(test_respawn)
{
    pid_t m, kids[8], after[8];
    int n, i, found_new = 0;
    char want[128];

    write_conf(18184, "", "resp", 2);
    m = start_and_wait(18184, "resp", 2);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    wdt_children(m, kids, 8);
    ck_assert(kill(kids[0], SIGKILL) == 0);
    ck_assert(WDT_WAIT(5000, !wdt_alive(kids[0])));
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    n = wdt_children(m, after, 8);
    for (i = 0; i < n; i++) {
        ck_assert(after[i] != kids[0]);
        found_new |= after[i] != kids[1];
    }
    ck_assert(found_new);
    snprintf(want, sizeof(want), "[alert] %d#0: worker process %d exited on signal 9", (int) m,
             (int) kids[0]);
    ck_assert_msg(WDT_WAIT(3000, strstr(wdt_read("error.log"), want) != NULL), "%s",
                  wdt_read("error.log"));
    for (i = 0; i < 10; i++) {
        ck_assert(body_is(18184, "resp"));
    }
    ctl("stop", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log("exited on signal 9", NULL);
}
END_TEST

START_TEST(test_reopen)
{
    pid_t m;
    char a[160], b[160];

    write_conf(18185, "", "reo", 1);
    m = start_and_wait(18185, "reo", 1);
    snprintf(a, sizeof(a), "%s/error.log", wdt_dir);
    snprintf(b, sizeof(b), "%s/error.log.1", wdt_dir);
    ck_assert(rename(a, b) == 0);
    ctl("reopen", 0);
    ck_assert_msg(WDT_WAIT(5000, access(a, F_OK) == 0), "error.log not reopened");
    ck_assert(WDT_WAIT(5000, strstr(wdt_read("error.log"), "reopening logs") != NULL));
    ck_assert(strstr(wdt_read("error.log.1"), "start worker process") != NULL);
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    /* the shutdown notices went to the new file */
    ck_assert(strstr(wdt_read("error.log"), "exit") != NULL);
}
END_TEST

START_TEST(test_single_process)
{
    pid_t m;

    write_conf(18186, "master_process off; worker_rlimit_nofile 4096;", "single", 4);
    m = start_and_wait(18186, "single", 1);
    ck_assert_int_eq(nworkers(m), 0);
    ck_assert_int_eq(pidfile(), m);
    {
        /* worker_rlimit_nofile applied to the (only) worker */
        char path[64], line[256];
        int found = 0;
        FILE *f;
        snprintf(path, sizeof(path), "/proc/%d/limits", (int) m);
        f = fopen(path, "r");
        ck_assert(f != NULL);
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "Max open files", 14) == 0) {
                long soft = 0, hard = 0;
                ck_assert(sscanf(line + 14, "%ld %ld", &soft, &hard) == 2);
                ck_assert_int_eq(soft, 4096);
                found = 1;
            }
        }
        fclose(f);
        ck_assert(found);
    }
    ck_assert(kill(m, SIGQUIT) == 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    ck_assert(access(strcat(strcpy((char[128]) { 0 }, wdt_dir), "/wasmd.pid"), F_OK) != 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

static int
cpus_allowed(pid_t pid, char *out, size_t len)
{
    char path[64], line[256];
    FILE *f;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
            char *v = line + 18;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, len, "%.*s", (int) (len - 1), v);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

START_TEST(test_cpu_affinity)
{
    pid_t m, kids[8];
    char a[64], b[64], want_a[16], want_b[16];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n;

    write_conf(18189, "worker_cpu_affinity auto;", "aff", 2);
    m = start_and_wait(18189, "aff", 2);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    n = wdt_children(m, kids, 8);
    ck_assert_int_eq(n, 2);
    ck_assert(cpus_allowed(kids[0], a, sizeof(a)) && cpus_allowed(kids[1], b, sizeof(b)));
    /* one CPU each: 0 and 1 (mod the CPU count), in either order */
    snprintf(want_a, sizeof(want_a), "%ld", 0 % ncpu);
    snprintf(want_b, sizeof(want_b), "%ld", 1 % ncpu);
    ck_assert_msg((strcmp(a, want_a) == 0 && strcmp(b, want_b) == 0)
                  || (strcmp(a, want_b) == 0 && strcmp(b, want_a) == 0), "%s / %s", a, b);
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_reuseport)
{
    pid_t m;
    int i;
    char conf[1024];

    snprintf(conf, sizeof(conf),
             "worker_processes 3;\nerror_log %s/error.log info;\npid %s/wasmd.pid;\n"
             "http { access_log off; server { listen 127.0.0.1:18187 reuseport; "
             "location / { return 200 rp; } } }\n", wdt_dir, wdt_dir);
    wdt_write("wasmd.conf", conf);
    m = start_and_wait(18187, "rp", 3);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 3));
    for (i = 0; i < 30; i++) {
        ck_assert(body_is(18187, "rp"));
    }
    /* reload keeps every per-worker socket */
    ck_assert(kill(m, SIGHUP) == 0);
    ck_assert(WDT_WAIT(5000, strstr(wdt_read("error.log"), "configuration reloaded") != NULL));
    for (i = 0; i < 30; i++) {
        ck_assert(WDT_WAIT(3000, body_is(18187, "rp")));
    }
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_daemon)
{
    char conf[128], *out;
    pid_t m;
    int rc;

    write_conf(18188, "daemon on;", "daemon", 1);
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert(WDT_WAIT(5000, pidfile() > 0));
    m = pidfile();
    wdt_master = m;       /* killed at exit if the test fails */
    wdt_record_pgid(getpgid(m));
    ck_assert(wdt_alive(m));
    ck_assert(WDT_WAIT(5000, body_is(18188, "daemon")));
    ck_assert(getsid(m) != getsid(0));    /* detached: a session of its own */
    ck_assert(getppid() != m);
    ctl("stop", 0);
    ck_assert(WDT_WAIT(10000, !wdt_alive(m)));
    assert_clean_log(NULL, NULL);
}
END_TEST

/* connect and send a request now; the response is read later */
static int
send_request(int port, const char *path)
{
    struct sockaddr_in sin;
    struct timeval tv = { 15, 0 };
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n;

    ck_assert(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0);
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    ck_assert(write(fd, req, n) == n);
    return fd;
}

static void
read_all(int fd, char *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;
    while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0) {
        got += n;
    }
    buf[got] = '\0';
    close(fd);
}

static void
write_sleep_conf(int port, const char *extra_main, const char *sleep)
{
    char conf[1024];
    snprintf(conf, sizeof(conf),
             "worker_processes 1;\nerror_log %s/error.log info;\npid %s/wasmd.pid;\n%s\n"
             "http { access_log off; server { listen 127.0.0.1:%d;\n"
             "  location / { return 200 \"up\"; }\n"
             "  location /sleep { echo_sleep %s; } } }\n",
             wdt_dir, wdt_dir, extra_main, port, sleep);
    wdt_write("wasmd.conf", conf);
}

START_TEST(test_graceful_quit_finishes_requests)
{
    char resp[4096];
    wd_msec_t t0;
    pid_t m;
    int fd;

    write_sleep_conf(18190, "", "1s");
    m = start_and_wait(18190, "up", 1);
    t0 = wdt_now();
    fd = send_request(18190, "/sleep");
    wdt_sleep_ms(200);
    ctl("quit", 0);
    read_all(fd, resp, sizeof(resp));
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200", 12) == 0 && strstr(resp, "slept") != NULL,
                  "in-flight request cut: \"%s\"", resp);
    ck_assert(wdt_now() - t0 >= 900);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    /* no new connections after the quit */
    ck_assert_int_eq(wdt_http_get(18190, "/", "x", NULL, 0), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_graceful_reload_finishes_requests)
{
    char resp[4096];
    pid_t m;
    int fd;

    write_sleep_conf(18191, "", "1s");
    m = start_and_wait(18191, "up", 1);
    fd = send_request(18191, "/sleep");
    wdt_sleep_ms(200);
    ck_assert(kill(m, SIGHUP) == 0);
    /* the new generation answers at once while the old worker still sleeps */
    ck_assert(WDT_WAIT(5000, strstr(wdt_read("error.log"), "configuration reloaded") != NULL));
    ck_assert(body_is(18191, "up"));
    read_all(fd, resp, sizeof(resp));
    ck_assert_msg(strstr(resp, "slept") != NULL, "in-flight request cut: \"%s\"", resp);
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_fast_stop_and_shutdown_timeout)
{
    char resp[4096];
    wd_msec_t t0;
    pid_t m;
    int fd;

    /* TERM: the master exits at once, the in-flight request is dropped */
    write_sleep_conf(18192, "", "20s");
    m = start_and_wait(18192, "up", 1);
    fd = send_request(18192, "/sleep");
    wdt_sleep_ms(200);
    t0 = wdt_now();
    ctl("stop", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    ck_assert_msg(wdt_now() - t0 < 3000, "fast stop took %ld ms", (long) (wdt_now() - t0));
    read_all(fd, resp, sizeof(resp));
    ck_assert(strstr(resp, "slept") == NULL);

    /* QUIT with worker_shutdown_timeout: a request longer than the timeout is cut */
    write_sleep_conf(18192, "worker_shutdown_timeout 500ms;", "20s");
    wdt_write("out.txt", "");
    m = start_and_wait(18192, "up", 1);
    fd = send_request(18192, "/sleep");
    wdt_sleep_ms(200);
    t0 = wdt_now();
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    ck_assert_msg(wdt_now() - t0 < 5000, "graceful stop took %ld ms", (long) (wdt_now() - t0));
    read_all(fd, resp, sizeof(resp));
    ck_assert(strstr(resp, "slept") == NULL);
}
END_TEST

/* routing end to end: Host -> server, URI -> location, through the real server */
START_TEST(test_routing_end_to_end)
{
    char conf[2048], body[256];
    pid_t m;
    static const struct { const char *host, *path; int status; const char *body; } cases[] = {
        { "a.test", "/", 200, "a-root" },
        { "A.TEST:18193", "/x/y", 200, "a-prefix" },
        { "www.b.test", "/", 200, "b" },
        { "unknown", "/", 200, "default" },
        { "a.test", "/img/x.PNG", 200, "a-regex" },
        { "a.test", "/static/x.png", 200, "a-static" },
        { "a.test", "/static/../x.png", 200, "a-regex" },
        { "a.test", "/%73tatic/x.png", 200, "a-static" },
        { "a.test", "/../x", 400, NULL },
        { "a.test", "/exact", 201, "exact" },
        { "a.test", "/exact/", 200, "a-prefix" },
        { "c.test", "/anything", 302, NULL },
    };
    size_t i;

    snprintf(conf, sizeof(conf),
             "worker_processes 1;\nerror_log %s/error.log info;\npid %s/wasmd.pid;\n"
             "http { access_log off;\n"
             "  server { listen 127.0.0.1:18193 default_server; return 200 default; }\n"
             "  server { listen 127.0.0.1:18193; server_name a.test;\n"
             "    location = / { return 200 a-root; }\n"
             "    location / { return 200 a-prefix; }\n"
             "    location = /exact { return 201 exact; }\n"
             "    location ^~ /static/ { return 200 a-static; }\n"
             "    location ~* \\.png$ { return 200 a-regex; }\n"
             "  }\n"
             "  server { listen 127.0.0.1:18193; server_name *.b.test; return 200 b; }\n"
             "  server { listen 127.0.0.1:18193; server_name ~^c; return 302 http://elsewhere/; }\n"
             "}\n", wdt_dir, wdt_dir);
    wdt_write("wasmd.conf", conf);
    m = wdt_start();
    ck_assert(WDT_WAIT(10000, pidfile() == m));
    ck_assert(WDT_WAIT(10000, wdt_http_get(18193, "/", "a.test", NULL, 0) == 200));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int st = wdt_http_get(18193, cases[i].path, cases[i].host, body, sizeof(body));
        ck_assert_msg(st == cases[i].status, "%s %s: status %d, want %d", cases[i].host,
                      cases[i].path, st, cases[i].status);
        if (cases[i].body) {
            ck_assert_msg(strcmp(body, cases[i].body) == 0, "%s %s: body \"%s\", want \"%s\"",
                          cases[i].host, cases[i].path, body, cases[i].body);
        }
    }
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_ctrl_c_process_group)
{
    pid_t m, kids[8];
    int i, round;

    /* Ctrl-C reaches master and workers at once: no worker may be taken for a crash */
    for (round = 0; round < 3; round++) {
        write_conf(18194, "", "int", 2);
        wdt_write("error.log", "");
        m = start_and_wait(18194, "int", 2);
        ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
        wdt_children(m, kids, 8);
        ck_assert(kill(-m, SIGINT) == 0);
        ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
        for (i = 0; i < 2; i++) {
            ck_assert(WDT_WAIT(3000, !wdt_alive(kids[i])));
        }
        ck_assert(strstr(wdt_read("error.log"), "start worker process") != NULL);
        assert_clean_log(NULL, NULL);
        /* and nothing was respawned: exactly the two initial "start worker" lines */
        {
            char *p = wdt_read("error.log");
            int n = 0;
            while ((p = strstr(p, "start worker process")) != NULL) {
                n++;
                p++;
            }
            ck_assert_int_eq(n, 2);
        }
    }
}
END_TEST

static int
count_fds(pid_t pid)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
    d = opendir(path);
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

START_TEST(test_reload_storm)
{
    pid_t m;
    int i, fds_before, fds_after, ok = 0;

    write_conf(18195, "", "storm", 2);
    m = start_and_wait(18195, "storm", 2);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 2));
    fds_before = count_fds(m);
    ck_assert(fds_before > 0);
    for (i = 0; i < 10; i++) {
        ck_assert(kill(m, SIGHUP) == 0);
        wdt_sleep_ms(30);
        ok += body_is(18195, "storm");
    }
    /* every request during the storm was served (the socket never closed) */
    ck_assert_int_eq(ok, 10);
    ck_assert(WDT_WAIT(10000, nworkers(m) == 2));
    fds_after = count_fds(m);
    ck_assert_msg(fds_after == fds_before, "master fds: %d before, %d after 10 reloads",
                  fds_before, fds_after);
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 15000), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_respawn_gives_up_on_quick_deaths)
{
    pid_t m, kid, prev = 0;
    int i;

    write_conf(18197, "", "quick", 1);
    m = start_and_wait(18197, "quick", 1);
    /* a worker that dies right after start, again and again, is eventually not respawned */
    for (i = 0; i < 15 && strstr(wdt_read("error.log"), "keep dying") == NULL; i++) {
        if (!WDT_WAIT(3000, (wdt_children(m, &kid, 1) == 1 && kid != prev)
                            || strstr(wdt_read("error.log"), "keep dying") != NULL))
        {
            ck_abort_msg("no respawn after death %d", i);
        }
        if (strstr(wdt_read("error.log"), "keep dying") != NULL) {
            break;
        }
        prev = kid;
        ck_assert(kill(kid, SIGKILL) == 0);
    }
    /* 10 consecutive quick deaths (the first kill may hit a worker older than 1 s) */
    ck_assert(i >= 10);
    ck_assert(WDT_WAIT(3000, strstr(wdt_read("error.log"), "keep dying right after start")
                             != NULL));
    wdt_sleep_ms(300);
    ck_assert_int_eq(nworkers(m), 0);
    /* HUP (a reload) starts the slot again */
    ck_assert(kill(m, SIGHUP) == 0);
    ck_assert(WDT_WAIT(5000, nworkers(m) == 1));
    ck_assert(WDT_WAIT(5000, body_is(18197, "quick")));
    kill(m, SIGTERM);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
}
END_TEST

static pid_t wdt_new_master;

static void
kill_new_master(void)
{
    if (wdt_new_master > 0 && wdt_alive(wdt_new_master)) {
        kill(wdt_new_master, SIGKILL);
    }
}

static pid_t
read_pid(const char *rel)
{
    return (pid_t) atoi(wdt_read(rel));
}

START_TEST(test_binary_upgrade)
{
    pid_t m1, m2, old_kids[8], new_kids[8];
    int i, served = 0, tries = 0;

    atexit(kill_new_master);
    write_conf(18196, "", "upg", 2);
    m1 = start_and_wait(18196, "upg", 2);
    ck_assert(WDT_WAIT(5000, nworkers(m1) == 2));
    wdt_children(m1, old_kids, 8);

    /* USR2: a new master (same binary, same arguments) takes over the sockets */
    ck_assert(kill(m1, SIGUSR2) == 0);
    ck_assert_msg(WDT_WAIT(10000, read_pid("wasmd.pid") > 0 && read_pid("wasmd.pid") != m1),
                  "%s", wdt_read("error.log"));
    m2 = read_pid("wasmd.pid");
    wdt_new_master = m2;
    ck_assert_int_eq(read_pid("wasmd.pid.oldbin"), m1);
    ck_assert(WDT_WAIT(10000, nworkers(m2) == 2));
    ck_assert(strstr(wdt_read("error.log"), "using 1 inherited sockets") != NULL);

    /* WINCH: the old workers leave; the new ones serve; no connection is refused
     * meanwhile (the listening socket stays open in the new generation) */
    ck_assert(kill(m1, SIGWINCH) == 0);
    while (tries++ < 50) {
        int st = wdt_http_get(18196, "/", "x", NULL, 0);
        ck_assert_msg(st != 0, "connection refused during the upgrade (request %d)", tries);
        served += st == 200;
        wdt_sleep_ms(10);
    }
    /* seen once in many runs: 49 of 50 (a connection an old worker accepted at the very
     * moment it got QUIT was closed unanswered; reported to SRV-B) -- refusals are never ok */
    ck_assert_msg(served >= 48, "only %d of 50 requests served during the upgrade", served);
    for (i = 0; i < 2; i++) {
        ck_assert(WDT_WAIT(5000, !wdt_alive(old_kids[i])));
    }
    wdt_sleep_ms(200);
    /* not respawned: the only child left is the new master */
    ck_assert_int_eq(wdt_children(m1, new_kids, 8), 1);
    ck_assert_int_eq(new_kids[0], m2);
    wdt_children(m2, new_kids, 8);

    /* QUIT to the old master: it exits and removes only its .oldbin */
    ck_assert(kill(m1, SIGQUIT) == 0);
    ck_assert_int_eq(wdt_wait_exit(m1, 10000), 0);
    ck_assert(access(strcat(strcpy((char[160]) { 0 }, wdt_dir), "/wasmd.pid.oldbin"), F_OK) != 0);
    ck_assert_int_eq(read_pid("wasmd.pid"), m2);
    for (i = 0; i < 10; i++) {
        ck_assert(body_is(18196, "upg"));
    }

    /* the new master is fully functional: reload, then stop */
    ck_assert(kill(m2, SIGHUP) == 0);
    ck_assert(WDT_WAIT(5000, !wdt_alive(new_kids[0]) && !wdt_alive(new_kids[1])));
    ck_assert(body_is(18196, "upg"));
    ctl("stop", 0);
    ck_assert(WDT_WAIT(10000, !wdt_alive(m2)));
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_binary_upgrade_failure_rolls_back)
{
    pid_t m1;
    char conf[1024];

    write_conf(18197, "", "roll", 1);
    m1 = start_and_wait(18197, "roll", 1);
    /* the new binary will fail on this configuration */
    snprintf(conf, sizeof(conf), "error_log %s/error.log info;\npid %s/wasmd.pid;\nbroken;\n",
             wdt_dir, wdt_dir);
    wdt_write("wasmd.conf", conf);
    ck_assert(kill(m1, SIGUSR2) == 0);
    ck_assert_msg(WDT_WAIT(10000, strstr(wdt_read("error.log"), "new binary process") != NULL),
                  "%s", wdt_read("error.log"));
    /* the old master took its pid file back and still serves */
    ck_assert(WDT_WAIT(5000, read_pid("wasmd.pid") == m1));
    ck_assert(access(strcat(strcpy((char[160]) { 0 }, wdt_dir), "/wasmd.pid.oldbin"), F_OK) != 0);
    ck_assert(body_is(18197, "roll"));
    kill(m1, SIGTERM);
    ck_assert_int_eq(wdt_wait_exit(m1, 10000), 0);
    assert_clean_log("broken", "new binary process");
}
END_TEST

START_TEST(test_ipv6_listen)
{
    char conf[1024], resp[512];
    struct sockaddr_in6 sin6;
    struct timeval tv = { 3, 0 };
    pid_t m;
    int fd, probe;
    ssize_t n;
    size_t got = 0;

    probe = socket(AF_INET6, SOCK_STREAM, 0);
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    if (probe < 0 || bind(probe, (struct sockaddr *) &sin6, sizeof(sin6)) < 0) {
        if (probe >= 0) close(probe);
        return;                        /* no IPv6 loopback on this machine */
    }
    close(probe);

    snprintf(conf, sizeof(conf),
             "worker_processes 1;\nerror_log %s/error.log info;\npid %s/wasmd.pid;\n"
             "http { access_log off;\n"
             "  server { listen [::1]:18199; location / { return 200 v6; } }\n"
             "  server { listen 127.0.0.1:18199; location / { return 200 v4; } }\n"
             "}\n", wdt_dir, wdt_dir);
    wdt_write("wasmd.conf", conf);
    m = start_and_wait(18199, "v4", 1);

    fd = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sin6.sin6_port = htons(18199);
    ck_assert(connect(fd, (struct sockaddr *) &sin6, sizeof(sin6)) == 0);
    {
        static const char req[] = "GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
        n = write(fd, req, sizeof(req) - 1);
        ck_assert_int_eq(n, (ssize_t) sizeof(req) - 1);
    }
    while (got < sizeof(resp) - 1 && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0) {
        got += n;
    }
    resp[got] = '\0';
    close(fd);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 200", 12) == 0 && strstr(resp, "\r\n\r\nv6") != NULL,
                  "%s", resp);
    ctl("quit", 0);
    ck_assert_int_eq(wdt_wait_exit(m, 10000), 0);
    assert_clean_log(NULL, NULL);
}
END_TEST

START_TEST(test_start_failure_exit_code)
{
    char conf[128], *out;
    int rc;

    wdt_write("wasmd.conf", "http { server { listen 127.0.0.1:18189; location / { return 200 x; } }\n");
    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    rc = wdt_run(&out, 10000, (const char *[]) { "-p", wdt_dir, "-c", conf, NULL });
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "wasmd: [emerg] unexpected end of file, expecting \"}\" in ") != NULL,
                  "%s", out);
}
END_TEST

int
main(int argc, char **argv)
{
    Suite *s = suite_create("process");
    TCase *tc = tcase_create("process");
    SRunner *sr;
    int nf;

    wdt_find_bin(argv[0]);
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_master_workers_quit);
    tcase_add_test(tc, test_reload);
    tcase_add_test(tc, test_respawn);
    tcase_add_test(tc, test_reopen);
    tcase_add_test(tc, test_single_process);
    tcase_add_test(tc, test_reuseport);
    tcase_add_test(tc, test_cpu_affinity);
    tcase_add_test(tc, test_ipv6_listen);
    tcase_add_test(tc, test_daemon);
    tcase_add_test(tc, test_start_failure_exit_code);
    tcase_add_test(tc, test_routing_end_to_end);
    tcase_add_test(tc, test_ctrl_c_process_group);
    tcase_add_test(tc, test_reload_storm);
    tcase_add_test(tc, test_binary_upgrade);
    tcase_add_test(tc, test_binary_upgrade_failure_rolls_back);
    tcase_add_test(tc, test_respawn_gives_up_on_quick_deaths);
    tcase_add_test(tc, test_graceful_quit_finishes_requests);
    tcase_add_test(tc, test_graceful_reload_finishes_requests);
    tcase_add_test(tc, test_fast_stop_and_shutdown_timeout);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    wdt_sweep();            /* servers left behind by failed tests */
    return nf == 0 ? 0 : 1;
}
