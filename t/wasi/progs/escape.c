/* Sandbox escape attempts beneath the preopen argv[1]: each open must fail
 * except the ones inside the sandbox. Prints "ok"/"refused" per attempt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifndef ENOTCAPABLE
#define ENOTCAPABLE (-12345)
#endif

static void try(const char *dir, const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    int fd = open(p, O_RDONLY);
    if (fd >= 0) {
        char b[64] = {0};
        ssize_t n = read(fd, b, sizeof(b) - 1);
        printf("%s: ok %zd [%.*s]\n", rel, n, (int)strcspn(b, "\n"), b);
        close(fd);
    } else {
        printf("%s: refused (%s)\n", rel, errno == ENOTCAPABLE ? "ENOTCAPABLE" : strerror(errno));
    }
}

int main(int argc, char **argv)
{
    const char *d = argc > 1 ? argv[1] : ".";
    try(d, "inside.txt");
    try(d, "sub/../inside.txt");
    try(d, "../secret.txt");
    try(d, "sub/../../secret.txt");
    try(d, "link_out/secret.txt");
    try(d, "abs_link");
    try(d, "rel_link_in");
    try(d, "rel_link_out");
    int fd = open("/etc/passwd", O_RDONLY);
    printf("/etc/passwd: %s\n", fd >= 0 ? "ok" : "refused");
    return 0;
}
