/* test-cgi-cmd: a WASI command for `wasmd run` (t/component wraps it with jco new
 * --wasi-command): prints its arguments and $GREETING, the first line of the file named by
 * argv[1] (a preopened --dir), copies stdin to stdout, writes a line to stderr, and exits with
 * the status in argv[2]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *g = getenv("GREETING");
    char line[256];
    int c;
    printf("argc=%d", argc);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\ngreeting=%s\n", g ? g : "(unset)");
    if (argc > 1) {
        FILE *f = fopen(argv[1], "r");
        if (f && fgets(line, sizeof line, f))
            printf("file: %s", line);
        else
            printf("file: cannot read %s\n", argv[1]);
        if (f)
            fclose(f);
    }
    printf("stdin:");
    while ((c = getchar()) != EOF)
        putchar(c);
    printf("\n");
    fprintf(stderr, "to stderr\n");
    return argc > 2 ? atoi(argv[2]) : 0;
}
