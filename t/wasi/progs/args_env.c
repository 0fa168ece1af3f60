/* Arguments and environment: prints argv[1..] and the sorted environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
    int n = 0;
    while (environ && environ[n]) n++;
    char **env = malloc(sizeof(char *) * (n + 1));
    for (int i = 0; i < n; i++) env[i] = environ[i];
    qsort(env, n, sizeof(char *), cmp);
    printf("environ=%d\n", n);
    for (int i = 0; i < n; i++) printf("env [%s]\n", env[i]);
    const char *h = getenv("WD_TEST_VAR");
    printf("WD_TEST_VAR=%s\n", h ? h : "(unset)");
    free(env);
    return 0;
}
