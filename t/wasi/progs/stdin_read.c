/* Reads stdin to the end: counts bytes, lines and words, a checksum, and echoes
 * every 100th line upper-cased. */
#include <ctype.h>
#include <stdio.h>

int main(void)
{
    char line[4096];
    unsigned long long bytes = 0, lines = 0, words = 0, sum = 0;
    int inword = 0;
    while (fgets(line, sizeof(line), stdin)) {
        for (char *p = line; *p; p++) {
            bytes++;
            sum = sum * 131 + (unsigned char)*p;
            if (isspace((unsigned char)*p)) inword = 0;
            else if (!inword) { inword = 1; words++; }
        }
        if (lines % 100 == 0) {
            for (char *p = line; *p; p++) *p = (char)toupper((unsigned char)*p);
            fputs(line, stdout);
        }
        lines++;
    }
    printf("bytes=%llu lines=%llu words=%llu sum=%llu eof=%d\n", bytes, lines, words, sum, feof(stdin) != 0);
    return 0;
}
