/* Exit status: argv[1] = "return N", "exit N" (atexit handler runs), "abort". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bye(void) { printf("atexit ran\n"); }

int main(int argc, char **argv)
{
    atexit(bye);
    if (argc < 3) { printf("usage\n"); return 2; }
    int n = atoi(argv[2]);
    printf("mode %s %d\n", argv[1], n);
    if (!strcmp(argv[1], "exit")) exit(n);
    if (!strcmp(argv[1], "abort")) { fflush(stdout); abort(); }
    return n;
}
