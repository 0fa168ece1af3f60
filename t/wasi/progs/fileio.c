/* File I/O beneath a directory given as argv[1] (a preopen under wasmd run):
 * create, write, append, read back, seek/tell, stat, directory listing,
 * mkdir/rename/unlink/rmdir, and errors for missing files. Prints no paths
 * that differ between the native and the sandboxed run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[512];
static const char *P(const char *dir, const char *name) { snprintf(path, sizeof(path), "%s/%s", dir, name); return path; }
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir, const char *sub)
{
    char *names[64]; int n = 0;
    DIR *d = opendir(P(dir, sub));
    if (!d) { printf("opendir %s: %s\n", sub, strerror(errno)); return; }
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(char *), cmp);
    printf("ls %s:", sub);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: fileio DIR\n"); return 2; }
    const char *dir = argv[1];
    FILE *f = fopen(P(dir, "a.txt"), "w");
    if (!f) { printf("fopen w: %s\n", strerror(errno)); return 1; }
    for (int i = 0; i < 1000; i++) fprintf(f, "line %d %x\n", i, i * i);
    fclose(f);
    f = fopen(P(dir, "a.txt"), "a");
    fputs("appended\n", f);
    fclose(f);
    struct stat st;
    if (stat(P(dir, "a.txt"), &st) == 0) printf("size %lld reg=%d dir=%d\n", (long long)st.st_size, S_ISREG(st.st_mode), S_ISDIR(st.st_mode));
    f = fopen(P(dir, "a.txt"), "r");
    char line[128]; int lines = 0; unsigned long long sum = 0;
    while (fgets(line, sizeof(line), f)) { lines++; for (char *p = line; *p; p++) sum = sum * 33 + (unsigned char)*p; }
    printf("lines %d sum %llu\n", lines, sum);
    fseek(f, 100, SEEK_SET);
    printf("tell %ld ", ftell(f));
    fgets(line, sizeof(line), f);
    printf("at100 [%.*s]\n", (int)strcspn(line, "\n"), line);
    fseek(f, -9, SEEK_END);
    fgets(line, sizeof(line), f);
    printf("end [%.*s] tell %ld\n", (int)strcspn(line, "\n"), line, ftell(f));
    fclose(f);

    int fd = open(P(dir, "b.bin"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    unsigned char buf[4096];
    for (int i = 0; i < 4096; i++) buf[i] = (unsigned char)(i * 7);
    printf("write %zd\n", write(fd, buf, sizeof(buf)));
    printf("lseek %lld\n", (long long)lseek(fd, 1000, SEEK_SET));
    unsigned char r[16];
    ssize_t got = read(fd, r, sizeof(r));
    printf("read %zd first %u\n", got, r[0]);
    got = pread(fd, r, 4, 4000);
    printf("pread %zd byte %u\n", got, r[0]);
    printf("ftruncate %d ", ftruncate(fd, 100));
    fstat(fd, &st);
    printf("size %lld\n", (long long)st.st_size);
    close(fd);

    printf("mkdir %d ", mkdir(P(dir, "sub"), 0755));
    int rc = mkdir(P(dir, "sub"), 0755);
    printf("again %d %s\n", rc, errno == EEXIST ? "EEXIST" : strerror(errno));
    f = fopen(P(dir, "sub/inner.txt"), "w"); fputs("inner\n", f); fclose(f);
    char from[512]; strcpy(from, P(dir, "b.bin"));
    printf("rename %d\n", rename(from, P(dir, "sub/moved.bin")));
    list(dir, ".");
    list(dir, "sub");
    printf("missing %s\n", fopen(P(dir, "nope.txt"), "r") == NULL && errno == ENOENT ? "ENOENT" : "??");
    rc = rmdir(P(dir, "sub"));
    printf("rmdir nonempty %d %s\n", rc, errno == ENOTEMPTY ? "ENOTEMPTY" : strerror(errno));
    printf("unlink %d ", unlink(P(dir, "sub/inner.txt")));
    printf("%d ", unlink(P(dir, "sub/moved.bin")));
    printf("rmdir %d ", rmdir(P(dir, "sub")));
    printf("unlink a %d\n", unlink(P(dir, "a.txt")));
    list(dir, ".");
    return 0;
}
