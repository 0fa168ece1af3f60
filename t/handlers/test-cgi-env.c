/* test-cgi-env: a CGI command (built without -mexec-model=reactor) for the CGI tests.
 *   ?env      prints selected meta-variables, Status: 202 and an X-Cgi header
 *   ?loop     spins forever (fuel or the deadline stops it)
 *   ?badhdr   emits a header line without a colon -> 500
 *   ?hop      emits a hop-by-hop header -> 500
 *   ?exit     exits with status 3 -> 500
 *   ?stdin    echoes stdin after the headers
 *   ?nap      sleeps 300 ms (poll_oneoff: the worker must keep serving meanwhile), answers "rested"
 *   ?sleep    sleeps 30 s (the deadline must cut it)
 *   ?file     prints /data/hello.txt (a wasm_dir preopen); ?write tries to create a file there */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void var(const char *n)
{
    const char *v = getenv(n);
    printf("%s=%s\n", n, v ? v : "(unset)");
}

int main(void)
{
    const char *q = getenv("QUERY_STRING");
    if (q == NULL)
        q = "";
    if (strcmp(q, "loop") == 0) {
        volatile unsigned long n = 0;
        for (;;)
            n++;
    }
    if (strcmp(q, "nap") == 0 || strcmp(q, "sleep") == 0) {
        if (q[0] == 'n')
            usleep(300000);
        else
            sleep(30);
        printf("Content-Type: text/plain\r\n\r\nrested\n");
        return 0;
    }
    if (strcmp(q, "badhdr") == 0) {
        printf("This is not a header\n\nbody\n");
        return 0;
    }
    if (strcmp(q, "hop") == 0) {
        printf("Transfer-Encoding: chunked\n\nbody\n");
        return 0;
    }
    if (strcmp(q, "exit") == 0) {
        printf("Content-Type: text/plain\n\npartial");
        return 3;
    }
    if (strcmp(q, "file") == 0 || strcmp(q, "write") == 0) {
        FILE *f = fopen(q[0] == 'f' ? "/data/hello.txt" : "/data/new.txt", q[0] == 'f' ? "r" : "w");
        printf("Content-Type: text/plain\r\n\r\n");
        if (f == NULL) {
            printf("open failed\n");
            return 0;
        }
        int c;
        while (q[0] == 'f' && (c = fgetc(f)) != EOF)
            putchar(c);
        if (q[0] == 'w')
            printf("created\n");
        fclose(f);
        return 0;
    }
    if (strcmp(q, "stdin") == 0) {
        int c;
        printf("Content-Type: application/octet-stream\r\n\r\n");
        while ((c = getchar()) != EOF)
            putchar(c);
        return 0;
    }
    printf("Status: 202 Accepted\r\nX-Cgi: yes\r\nContent-Type: text/plain\r\n\r\n");
    var("REQUEST_METHOD");
    var("SCRIPT_NAME");
    var("PATH_INFO");
    var("QUERY_STRING");
    var("SERVER_PROTOCOL");
    var("SERVER_PORT");
    var("REMOTE_ADDR");
    var("HTTP_X_FOO");
    var("HTTP_PROXY");
    var("CONTENT_TYPE");
    var("CONTENT_LENGTH");
    var("GREETING");
    fprintf(stderr, "cgi stderr line\n");
    return 0;
}
