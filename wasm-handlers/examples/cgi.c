/* cgi: a plain WASI command (exports _start) run CGI-style, like WAGI: the
 * request comes in as environment variables plus the body on stdin; the
 * response is written to stdout as CGI headers, a blank line, then the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *method = getenv("REQUEST_METHOD");
    const char *path = getenv("PATH_INFO");
    const char *query = getenv("QUERY_STRING");
    const char *ua = getenv("HTTP_USER_AGENT");
    long body = 0;
    int c;
    while ((c = getchar()) != EOF)
        body++;
    printf("Content-Type: text/plain\r\n");
    printf("Status: 200 OK\r\n\r\n");
    printf("CGI handler\nmethod=%s\npath=%s\nquery=%s\nuser-agent=%s\nbody-bytes=%ld\n",
           method ? method : "", path ? path : "", query ? query : "", ua ? ua : "", body);
    return 0;
}
