/* String and memory functions: copies, overlapping moves, comparisons,
 * searching, tokenizing, number parsing and formatting. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
    char buf[256], b2[256];
    const char *words[] = { "pear", "apple", "fig", "banana", "kiwi", "Apple", "cherry", "date", "", "zz" };
    int nw = sizeof(words) / sizeof(words[0]);
    strcpy(buf, "Hello");
    strcat(buf, ", ");
    strncat(buf, "WebAssembly world!", 11);
    printf("[%s] len=%zu\n", buf, strlen(buf));
    printf("chr=%s rchr=%s str=%s pbrk=%s spn=%zu cspn=%zu\n", strchr(buf, 'l'), strrchr(buf, 'l'),
           strstr(buf, "Assem"), strpbrk(buf, ",!"), strspn(buf, "Hel"), strcspn(buf, "W"));
    for (int i = 0; i < nw; i++)
        printf("cmp %s/%s=%d ncmp=%d case=%d\n", words[i], words[(i + 1) % nw],
               (strcmp(words[i], words[(i + 1) % nw]) > 0) - (strcmp(words[i], words[(i + 1) % nw]) < 0),
               strncmp(words[i], words[(i + 1) % nw], 1) == 0, strcasecmp(words[i], "apple") == 0);
    const char **sorted = malloc(sizeof(char *) * nw);
    memcpy(sorted, words, sizeof(char *) * nw);
    qsort(sorted, nw, sizeof(char *), cmpstr);
    for (int i = 0; i < nw; i++) printf("%s%c", sorted[i], i + 1 < nw ? ',' : '\n');
    free(sorted);
    for (int i = 0; i < 256; i++) buf[i] = (char)i;
    memmove(buf + 10, buf, 100);
    memmove(b2, buf + 50, 60);
    memmove(buf + 3, buf + 40, 80);
    unsigned sum = 0;
    for (int i = 0; i < 256; i++) sum = sum * 31 + (unsigned char)buf[i];
    for (int i = 0; i < 60; i++) sum = sum * 17 + (unsigned char)b2[i];
    printf("memmove sum %u\n", sum);
    memset(buf, 'x', 100);
    buf[100] = 0;
    printf("memset %zu %d %d\n", strlen(buf), memcmp(buf, "xxxx", 4), memcmp(buf, "xxxy", 4) < 0);
    printf("memchr %d\n", (int)((char *)memchr(buf, 0, 200) - buf));
    char text[] = "  the quick,brown fox;;jumps over\tthe lazy dog  ";
    int ntok = 0;
    for (char *t = strtok(text, " ,;\t"); t; t = strtok(NULL, " ,;\t"), ntok++) {
        for (char *p = t; *p; p++) *p = (char)toupper((unsigned char)*p);
        printf("tok%d=%s ", ntok, t);
    }
    printf("\n");
    const char *nums[] = { "42", "-17", "0x1f", "0777", "  +99abc", "9223372036854775807", "99999999999999999999", "" };
    for (int i = 0; i < 8; i++) {
        char *end;
        long long v = strtoll(nums[i], &end, 0);
        int small = i < 5 || i == 7;   /* atoi is undefined on overflow */
        printf("strtoll(%s)=%lld rest=[%s] atoi=%d strtoull10=%llu\n", nums[i], v, end,
               small ? atoi(nums[i]) : 0, strtoull(nums[i], NULL, 10));
    }
    int n = snprintf(buf, 20, "%s-%d-%05.1f-%x", "abcdefghij", 12345, 3.14159, 0xbeef);
    printf("snprintf n=%d [%s]\n", n, buf);
    sprintf(b2, "%10.3s|%-6s|%c%c", "truncate", "ab", 'o', 'k');
    printf("sprintf [%s]\n", b2);
    char *d = strdup("duplicate me");
    printf("strdup %s %zu\n", d, strlen(d));
    free(d);
    int counts[26] = {0};
    const char *pangram = "Sphinx of black quartz, judge my vow";
    for (const char *p = pangram; *p; p++) if (isalpha((unsigned char)*p)) counts[tolower((unsigned char)*p) - 'a']++;
    for (int i = 0; i < 26; i++) printf("%d", counts[i]);
    printf("\n");
    return 0;
}
