/* Clocks, sleeping (poll_oneoff), random bytes, sched_yield, and file system
 * corners beneath argv[1]: big directories (fd_readdir refills), symlinks,
 * hard links, rename over a file, O_EXCL/O_APPEND, pwrite, utimensat, EISDIR.
 * Prints only facts that hold both natively and under wasmd run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double mono(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static char pb[512];
static const char *P(const char *d, const char *n) { snprintf(pb, sizeof(pb), "%s/%s", d, n); return pb; }

int main(int argc, char **argv)
{
    struct timespec ts, res;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t now = time(NULL);
    printf("realtime %s\n", ts.tv_sec >= now - 5 && ts.tv_sec <= now + 5 && ts.tv_sec > 1600000000 ? "ok" : "BAD");
    double a = mono(), b = mono();
    printf("monotonic %s\n", b >= a ? "ok" : "BAD");
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("res %s\n", res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000 ? "ok" : "BAD");
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    volatile unsigned x = 0;
    for (unsigned i = 0; i < 20000000; i++) x += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    printf("cputime %s\n", (c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec) > 0 ? "ok" : "BAD");
    a = mono();
    struct timespec sl = { 0, 60 * 1000 * 1000 };
    nanosleep(&sl, NULL);
    b = mono();
    printf("nanosleep %s\n", b - a >= 0.059 && b - a < 3 ? "ok" : "BAD");
    a = mono();
    usleep(30000);
    b = mono();
    printf("usleep %s\n", b - a >= 0.029 && b - a < 3 ? "ok" : "BAD");
    unsigned char r1[32], r2[32];
    getentropy(r1, sizeof(r1));
    getentropy(r2, sizeof(r2));
    int nz = 0;
    for (int i = 0; i < 32; i++) nz |= r1[i];
    printf("random %s\n", nz && memcmp(r1, r2, 32) ? "ok" : "BAD");
    printf("sched_yield %d\n", sched_yield());
    struct pollfd pf = { 0, POLLIN, 0 };
    int pr = poll(&pf, 1, 1000);                       /* stdin is /dev/null: readable */
    printf("poll stdin %d %d\n", pr, (pf.revents & POLLIN) != 0);
    struct pollfd po = { 1, POLLOUT, 0 };
    pr = poll(&po, 1, 1000);
    printf("poll stdout %d %d\n", pr, (po.revents & POLLOUT) != 0);
    a = mono();
    pr = poll(NULL, 0, 40);
    b = mono();
    printf("poll sleep %d %s\n", pr, b - a >= 0.039 && b - a < 3 ? "ok" : "BAD");
    if (argc < 2) return 0;

    const char *d = argv[1];
    char name[128];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "file-with-a-rather-long-name-to-fill-buffers-%04d.txt", i);
        int fd = open(P(d, name), O_CREAT | O_WRONLY | O_EXCL, 0644);
        if (fd < 0) { printf("create %d: %s\n", i, strerror(errno)); return 1; }
        close(fd);
    }
    DIR *dir = opendir(d);
    int count = 0, sum = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        count++;
        sum += atoi(e->d_name + strlen("file-with-a-rather-long-name-to-fill-buffers-"));
    }
    closedir(dir);
    printf("readdir count=%d sum=%d\n", count, sum);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "file-with-a-rather-long-name-to-fill-buffers-%04d.txt", i);
        unlink(P(d, name));
    }
    int fd = open(P(d, "t.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644);
    write(fd, "0123456789", 10);
    close(fd);
    int rc = open(P(d, "t.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644);
    printf("excl %d %s\n", rc, errno == EEXIST ? "EEXIST" : strerror(errno));
    fd = open(P(d, "t.txt"), O_WRONLY | O_APPEND);
    write(fd, "abc", 3);
    printf("append pos %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    fd = open(P(d, "t.txt"), O_RDWR);
    pwrite(fd, "XY", 2, 4);
    fsync(fd);
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    printf("pwrite [%.*s]\n", (int)n, buf);
    close(fd);
    char lnk[512];
    strcpy(lnk, P(d, "ln"));
    printf("symlink %d ", symlink("t.txt", lnk));
    n = readlink(lnk, buf, sizeof(buf) - 1);
    printf("readlink [%.*s] ", (int)(n > 0 ? n : 0), buf);
    struct stat st;
    lstat(lnk, &st);
    printf("lstat islnk=%d ", S_ISLNK(st.st_mode));
    stat(lnk, &st);
    printf("stat size=%lld\n", (long long)st.st_size);
    char hl[512];
    strcpy(hl, P(d, "hard"));
    printf("link %d ", link(P(d, "t.txt"), hl));
    stat(hl, &st);
    printf("nlink=%d\n", (int)st.st_nlink);
    fd = open(P(d, "other.txt"), O_CREAT | O_WRONLY, 0644);
    write(fd, "other", 5);
    close(fd);
    char from[512];
    strcpy(from, P(d, "other.txt"));
    printf("rename over %d ", rename(from, hl));
    stat(hl, &st);
    printf("size=%lld ", (long long)st.st_size);
    stat(P(d, "t.txt"), &st);
    printf("nlink=%d\n", (int)st.st_nlink);
    struct timespec tv[2] = { { 1000000000, 0 }, { 1234567890, 500 } };
    printf("utimensat %d ", utimensat(AT_FDCWD, P(d, "t.txt"), tv, 0));
    stat(P(d, "t.txt"), &st);
    printf("mtime=%lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    mkdir(P(d, "dd"), 0755);
    rc = open(P(d, "dd"), O_WRONLY);
    printf("open dir for writing %d %s\n", rc, errno == EISDIR ? "EISDIR" : strerror(errno));
    rc = open(P(d, "t.txt/x"), O_RDONLY);
    printf("file as dir %d %s\n", rc, errno == ENOTDIR ? "ENOTDIR" : strerror(errno));
    unlink(lnk); unlink(hl); unlink(P(d, "t.txt")); rmdir(P(d, "dd"));
    dir = opendir(d);
    count = 0;
    while ((e = readdir(dir))) count += e->d_name[0] != '.';
    closedir(dir);
    printf("left %d\n", count);
    return 0;
}
