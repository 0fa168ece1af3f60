/*
 * test_conf_fuzz.c -- the configuration parser never crashes and always
 * explains a rejection with "in FILE:LINE": thousands of deterministic
 * mutants of a valid configuration (byte flips biased towards syntax
 * characters, deletions, duplications, truncations) are parsed and freed.
 * Run it under `make SANITIZE=1` to catch memory errors too.
 *
 * Mutants that could touch the outside world are skipped: file-writing or
 * file-reading directives (error_log, access_log, include, wasm_*) and
 * `listen` (a mutated address could trigger a DNS lookup).
 */
#include <check.h>
#include "wd_http_conf.h"

static const char *base =
    "worker_processes 2;\n"
    "master_process on;\n"
    "worker_shutdown_timeout 1m30s;\n"
    "events { worker_connections 64; }\n"
    "http {\n"
    "    keepalive_timeout 5s 4;\n"
    "    client_max_body_size 2m;\n"
    "    add_header X-Test \"a \\\"quoted\\\" value\" always;\n"
    "    large_client_header_buffers 4 8k;\n"
    "    server {\n"
    "        server_name example.com *.example.org www.example.* ~^api[0-9]+$ '';\n"
    "        return 302 http://example.com/;\n"
    "        location = / { return 200 'root'; }\n"
    "        location / { keepalive_requests 10;\n"
    "            location ~ \\.php$ { return 403; }\n"
    "            location /a/ { send_timeout 1s; }\n"
    "        }\n"
    "        location ^~ /static/ { client_body_timeout 3s; }\n"
    "        location ~* \\.(png|gif)$ { add_header Cache-Control max-age=60; }\n"
    "        location @named { return 404; }\n"
    "    }\n"
    "    server { server_name other; client_header_timeout 1s; }\n"
    "}\n"
    "# trailing comment\n";

static uint64_t rng_state;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t) (rng_state >> 11);
}

static size_t
mutate(char *buf, size_t len, size_t cap)
{
    static const char interesting[] = ";{}\"'\\#\n ~*^=@$/.0123456789kmsx";
    int ops = 1 + rng() % 4, i;

    for (i = 0; i < ops && len > 0; i++) {
        size_t pos = rng() % len, n;
        switch (rng() % 5) {
        case 0:
            buf[pos] = interesting[rng() % (sizeof(interesting) - 1)];
            break;
        case 1:
            buf[pos] = (char) (rng() % 256);
            break;
        case 2:                                    /* delete a range */
            n = 1 + rng() % 16;
            if (pos + n > len) n = len - pos;
            memmove(buf + pos, buf + pos + n, len - pos - n);
            len -= n;
            break;
        case 3:                                    /* duplicate a range */
            n = 1 + rng() % 32;
            if (pos + n > len) n = len - pos;
            if (len + n < cap) {
                memmove(buf + pos + n, buf + pos, len - pos);
                len += n;
            }
            break;
        default:                                   /* truncate */
            len = pos;
            break;
        }
    }
    return len;
}

static int
dangerous(const char *s)
{
    return strstr(s, "error_log") || strstr(s, "access_log") || strstr(s, "include")
           || strstr(s, "wasm") || strstr(s, "listen") || strstr(s, "log_format");
}

START_TEST(test_mutants)
{
    static char buf[8192], text[8192];
    char prefix[64];
    size_t blen = strlen(base), len;
    int i, parsed = 0, rejected = 0, saved, nul, rounds;
    char *err;
    wd_cycle_t *c;

    strcpy(prefix, "/tmp/wdfuzz.XXXXXX");
    ck_assert(mkdtemp(prefix) != NULL);
    strcat(prefix, "/");

    /* the base itself is valid */
    c = wd_cycle_init_buffer(base, "fuzz.conf", prefix, &err);
    ck_assert_msg(c != NULL, "%s", err);
    wd_cycle_free(c);

    saved = dup(2);
    nul = open("/dev/null", O_WRONLY);
    dup2(nul, 2);
    rng_state = 0x9e3779b97f4a7c15ULL + (uint64_t) _i * 1000003;
    rounds = getenv("WD_CONF_FUZZ_ROUNDS") ? atoi(getenv("WD_CONF_FUZZ_ROUNDS")) : 1500;
    for (i = 0; i < rounds; i++) {
        memcpy(buf, base, blen);
        len = mutate(buf, blen, sizeof(buf));
        memcpy(text, buf, len);
        text[len] = '\0';
        if (strlen(text) != len || dangerous(text)) {
            continue;        /* embedded NUL (the buffer API takes C strings) or outside world */
        }
        err = NULL;
        c = wd_cycle_init_buffer(text, "fuzz.conf", prefix, &err);
        if (c) {
            parsed++;
            wd_cycle_free(c);
        } else {
            rejected++;
            if (err == NULL || strstr(err, "fuzz.conf:") == NULL || strstr(err, " in /") == NULL) {
                dup2(saved, 2);
                ck_abort_msg("rejection without file:line: \"%s\" for:\n%s", err ? err : "(null)",
                             text);
            }
        }
    }
    dup2(saved, 2);
    close(saved);
    close(nul);
    rmdir(prefix);
    ck_assert_msg(parsed > 10 && rejected > 100, "parsed %d rejected %d", parsed, rejected);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("conf_fuzz");
    TCase *tc = tcase_create("mutants");
    SRunner *sr;
    int nf;

    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_mutants, 0, 4);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
