/*
 * wd_test_proc.h -- helpers for the unit suites that run the built binary
 * (test_conf_cli.c, test_process.c): locate objs/wasmd, run it with a
 * timeout and capture its output, a minimal blocking HTTP/1.1 client, and
 * /proc scans for a master's worker processes. Everything is bounded in time.
 */
#ifndef WD_TEST_PROC_H
#define WD_TEST_PROC_H

#include <check.h>
#include <dirent.h>
#include <poll.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include "wd_core.h"

static char wdt_bin[512];
static char wdt_dir[64];
static pid_t wdt_runner;        /* the test program's main process (set by wdt_find_bin) */

/* $WASMD_BIN, else <dir of this test>/../../wasmd (the same build variant) */
static __attribute__((unused)) void
wdt_find_bin(const char *argv0)
{
    const char *env = getenv("WASMD_BIN");
    char *slash;

    wdt_runner = getpid();
    if (env && *env) {
        snprintf(wdt_bin, sizeof(wdt_bin), "%s", env);
        return;
    }
    snprintf(wdt_bin, sizeof(wdt_bin), "%s", argv0);
    slash = strrchr(wdt_bin, '/');
    if (slash) {
        snprintf(slash, sizeof(wdt_bin) - (slash - wdt_bin), "/../../wasmd");
    } else {
        snprintf(wdt_bin, sizeof(wdt_bin), "objs/wasmd");
    }
}

static __attribute__((unused)) void
wdt_mkdir(void)
{
    strcpy(wdt_dir, "/tmp/wdproc.XXXXXX");
    ck_assert(mkdtemp(wdt_dir) != NULL);
}

static __attribute__((unused)) void
wdt_rmdir(void)
{
    char cmd[160];
    if (wdt_dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", wdt_dir);
        if (system(cmd) != 0) {
            /* ignore */
        }
    }
}

static __attribute__((unused)) void
wdt_write(const char *rel, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", wdt_dir, rel);
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "fopen %s", path);
    fputs(text, f);
    fclose(f);
}

static __attribute__((unused)) char *
wdt_read(const char *rel)
{
    static char buf[1 << 16];
    char path[256];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", wdt_dir, rel);
    f = fopen(path, "r");
    if (f == NULL) {
        buf[0] = '\0';
        return buf;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static __attribute__((unused)) wd_msec_t
wdt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (wd_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __attribute__((unused)) void
wdt_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Runs the binary with args (NULL-terminated), output (stdout+stderr) into *out.
 * Returns the exit status, or -1 on timeout (the process is killed). */
static __attribute__((unused)) int
wdt_run(char **out, int timeout_ms, const char *const *args)
{
    static char buf[1 << 16];
    const char *argv[32];
    int pfd[2], status, i, n = 0;
    size_t len = 0;
    pid_t pid;
    wd_msec_t end = wdt_now() + timeout_ms;

    argv[0] = wdt_bin;
    for (i = 0; args[i] && i < 30; i++) {
        argv[i + 1] = args[i];
    }
    argv[i + 1] = NULL;
    ck_assert(pipe(pfd) == 0);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execv(wdt_bin, (char *const *) argv);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        struct pollfd p = { pfd[0], POLLIN, 0 };
        int left = (int) (end - wdt_now());
        if (left <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            close(pfd[0]);
            buf[len] = '\0';
            *out = buf;
            return -1;
        }
        if (poll(&p, 1, left) > 0) {
            n = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
            if (n <= 0) {
                break;
            }
            len += n;
        }
    }
    close(pfd[0]);
    buf[len] = '\0';
    *out = buf;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (wdt_now() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        wdt_sleep_ms(10);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- HTTP ---- */

/* GET path with Host; returns the status, 0 when the connection is refused/fails,
 * -1 when no HTTP response came back; the body goes into body (may be NULL) */
static __attribute__((unused)) int
wdt_http_get(int port, const char *path, const char *host, char *body, size_t bodylen)
{
    struct sockaddr_in sin;
    char req[512], resp[8192];
    struct timeval tv = { 3, 0 };
    size_t len = 0;
    ssize_t n;
    int fd, status = 0;
    char *p;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
        close(fd);
        return 0;
    }
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 path, host);
    if (write(fd, req, n) != n) {
        close(fd);
        return 0;
    }
    while (len < sizeof(resp) - 1 && (n = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0) {
        len += n;
    }
    close(fd);
    resp[len] = '\0';
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
        return -1;          /* connected, but no response */
    }
    if (body) {
        p = strstr(resp, "\r\n\r\n");
        snprintf(body, bodylen, "%s", p ? p + 4 : "");
    }
    return status;
}

/* ---- processes ---- */

/* children of ppid (workers of a master), up to max; returns the count */
static __attribute__((unused)) int
wdt_children(pid_t ppid, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512], *rp;
        int pid, pp;
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        if (fgets(buf, sizeof(buf), f) == NULL) {
            fclose(f);
            continue;
        }
        fclose(f);
        rp = strrchr(buf, ')');
        if (rp == NULL || sscanf(rp + 2, "%*c %d", &pp) != 1) {
            continue;
        }
        pid = atoi(e->d_name);
        if (pp == ppid) {
            char st = rp[2];
            if (st == 'Z') {
                continue;
            }
            if (n < max) {
                out[n] = pid;
            }
            n++;
        }
    }
    closedir(d);
    return n;
}

static __attribute__((unused)) int
wdt_alive(pid_t pid)
{
    char path[64], buf[512], *rp;
    FILE *f;

    if (kill(pid, 0) != 0) {
        return 0;
    }
    /* a zombie is not alive */
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return 0;
    }
    fclose(f);
    rp = strrchr(buf, ')');
    return rp && rp[2] != 'Z';
}

static pid_t wdt_master;        /* started server (killed at exit) */

/* Check ends a failed test with _exit(): atexit() cannot be trusted to clean up.
 * Every server's process group is recorded in a file that the test program's main
 * sweeps (wdt_sweep) after the suite, and before each test. */
static __attribute__((unused)) void
wdt_record_pgid(pid_t pgid)
{
    char path[64];
    FILE *f;
    snprintf(path, sizeof(path), "/tmp/wdproc.pgids.%d", (int) wdt_runner);
    f = fopen(path, "a");
    if (f) {
        fprintf(f, "%d\n", (int) pgid);
        fclose(f);
    }
}

static __attribute__((unused)) void
wdt_sweep(void)
{
    char path[64];
    FILE *f;
    int pg;
    snprintf(path, sizeof(path), "/tmp/wdproc.pgids.%d", (int) wdt_runner);
    f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    while (fscanf(f, "%d", &pg) == 1) {
        if (pg > 1 && pg != getpgrp() && pg != wdt_runner) {
            kill(-pg, SIGKILL);
        }
    }
    fclose(f);
    unlink(path);
}

static __attribute__((unused)) void
wdt_kill_master(void)
{
    if (wdt_master > 0 && wdt_alive(wdt_master)) {
        kill(wdt_master, SIGKILL);
    }
}

/* Starts `wasmd -p DIR -c DIR/wasmd.conf` in the foreground; returns its pid.
 * The process dies with the test (PDEATHSIG) and is killed at exit. */
static __attribute__((unused)) pid_t
wdt_start(void)
{
    char conf[128], prefix[128], outp[128];
    pid_t pid;

    snprintf(conf, sizeof(conf), "%s/wasmd.conf", wdt_dir);
    snprintf(prefix, sizeof(prefix), "%s/", wdt_dir);
    snprintf(outp, sizeof(outp), "%s/out.txt", wdt_dir);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(outp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);          /* its own process group, like a shell job */
        execl(wdt_bin, wdt_bin, "-p", prefix, "-c", conf, (char *) NULL);
        _exit(127);
    }
    setpgid(pid, pid);          /* also done by the child: no race either way */
    wdt_record_pgid(pid);
    wdt_master = pid;
    return pid;
}

/* polls cond() every 20 ms for up to ms milliseconds */
#define WDT_WAIT(ms, cond)                                                     \
    ({                                                                         \
        wd_msec_t wdt__end = wdt_now() + (ms);                                 \
        int wdt__ok;                                                           \
        while (!(wdt__ok = (cond)) && wdt_now() < wdt__end) {                  \
            wdt_sleep_ms(20);                                                  \
        }                                                                      \
        wdt__ok;                                                               \
    })

/* waits for the exit of our child pid (not a daemon); returns the status or -1 */
static __attribute__((unused)) int
wdt_wait_exit(pid_t pid, int ms)
{
    int status;
    wd_msec_t end = wdt_now() + ms;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0 || wdt_now() > end) {
            return -1;
        }
        wdt_sleep_ms(20);
    }
}

#endif
