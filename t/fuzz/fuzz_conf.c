/*
 * fuzz_conf.c -- libFuzzer target: the configuration parser.
 *
 * Input: configuration file text, parsed with the in-memory entry point
 * (wd_cycle_init_buffer, the same parser, merge and validation code as
 * `wasmd -t`) under a scratch prefix, then freed. Oracles: no crash, no
 * sanitizer report, no leak, and a rejection always names "FILE:LINE".
 *
 * Inputs that could touch the outside world are skipped (as in
 * t/unit/test_conf_fuzz.c): directives that open or read files (error_log,
 * access_log, include, wasm_handler, wasm_dir, ssl_certificate*), and embedded
 * NULs (the buffer API
 * takes a C string). `listen` stays: getaddrinfo() is replaced below by a
 * stub that never resolves, so a mutated host name cannot cause a DNS query.
 */
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wd_core.h"
#include "wd_log.h"
#include "wd_cycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* No name resolution in a fuzzer: the executable's definition wins over libc's. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    (void) node; (void) service; (void) hints;
    *res = NULL;
    return EAI_NONAME;
}

static char prefix[64];

static void
fz_rmdir(void)
{
    char path[128];
    static const char *const made[] = { "logs/access.log", "logs/error.log", "logs", "" };
    for (int i = 0; i < 4; i++) {   /* default logs opened in the scratch prefix */
        snprintf(path, sizeof(path), "%s%s", prefix, made[i]);
        remove(path);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc; (void) argv;
    snprintf(prefix, sizeof(prefix), "/tmp/wd-fuzzconf.XXXXXX");
    if (mkdtemp(prefix) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    strcat(prefix, "/");
    atexit(fz_rmdir);
    /* parse errors are expected by the million: keep stderr for sanitizer reports */
    wd_log_startup()->level = 0;
    wd_log_use_stderr = 0;
    return 0;
}

static int
outside_world(const char *s)
{
    static const char *const words[] = {
        "error_log", "access_log", "include", "wasm_handler", "wasm_dir", "ssl_certificate", NULL
    };
    for (int i = 0; words[i]; i++) {
        if (strstr(s, words[i])) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *err = NULL;
    wd_cycle_t *c;

    if (size > 65536 || memchr(data, 0, size) != NULL) {
        return 0;
    }
    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (outside_world(text)) {
        free(text);
        return 0;
    }
    c = wd_cycle_init_buffer(text, "fuzz.conf", prefix, &err);
    if (c != NULL) {
        wd_cycle_free(c);
    } else if (err == NULL || (strstr(err, "fuzz.conf:") == NULL
                               && strcmp(err, "out of memory") != 0))
    {
        fprintf(stderr, "rejection without FILE:LINE: \"%s\"\n", err ? err : "(null)");
        __builtin_trap();
    }
    free(text);
    return 0;
}
