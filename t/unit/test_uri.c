/*
 * test_uri.c -- wd_http_normalize_uri and wd_http_validate_host: table driven.
 */
#include <check.h>
#include "wd_http_conf.h"

typedef struct {
    const char *in;
    const char *out;        /* NULL: WD_ERROR expected */
} uri_case_t;

static const uri_case_t uri_cases[] = {
    { "/", "/" },
    { "/a/b", "/a/b" },
    { "/a/b/", "/a/b/" },
    { "/a?x=1", "/a" },
    { "/a?x=/../..", "/a" },
    { "/?", "/" },
    { "//", "/" },
    { "///a//b///c", "/a/b/c" },
    { "/a//", "/a/" },
    { "/./a", "/a" },
    { "/a/.", "/a/" },
    { "/a/./b/.", "/a/b/" },
    { "/a/..", "/" },
    { "/a/../", "/" },
    { "/a/b/../c", "/a/c" },
    { "/a/b/../../c", "/c" },
    { "/a/b/c/../../../d/", "/d/" },
    { "/..", NULL },
    { "/../a", NULL },
    { "/a/../..", NULL },
    { "/a/../../b", NULL },
    { "/a/%2e%2e/%2E%2E/b", NULL },
    { "/%2e%2e", NULL },
    { "/a/%2e%2e/b", "/b" },
    { "/a/%2e/b", "/a/b" },
    { "/a%2fb", "/a/b" },
    { "/a%2F..%2Fb", "/b" },
    { "/%41%42%63", "/ABc" },
    { "/a%20b", "/a b" },
    { "/a+b", "/a+b" },
    { "/caf%C3%A9", "/caf\xc3\xa9" },
    { "/a%3Fb?c", "/a?b" },
    { "/a%00b", NULL },
    { "/%zz", NULL },
    { "/%4", NULL },
    { "/%", NULL },
    { "/a%g1", NULL },
    { "/a%1g", NULL },
    { "a/b", NULL },
    { "", NULL },
    { "*", NULL },
    { "/...", "/..." },
    { "/a/...b/..", "/a/" },
    { "/.hidden", "/.hidden" },
    { "/a/..b", "/a/..b" },
    { "/a#frag", "/a" },
};

START_TEST(test_normalize_table)
{
    const uri_case_t *c = &uri_cases[_i];
    u_char out[256];
    size_t olen = 0;
    int rc;

    rc = wd_http_normalize_uri((const u_char *) c->in, strlen(c->in), out, &olen);
    if (c->out == NULL) {
        ck_assert_msg(rc == WD_ERROR, "\"%s\": expected error, got \"%.*s\"", c->in,
                      (int) olen, out);
    } else {
        ck_assert_msg(rc == WD_OK, "\"%s\": unexpected error", c->in);
        ck_assert_msg(olen == strlen(c->out) && memcmp(out, c->out, olen) == 0,
                      "\"%s\": expected \"%s\", got \"%.*s\"", c->in, c->out, (int) olen, out);
    }
}
END_TEST

START_TEST(test_normalize_in_place)
{
    u_char buf[] = "/a//b/./c/../d?q";
    size_t olen;

    ck_assert_int_eq(wd_http_normalize_uri(buf, sizeof(buf) - 1, buf, &olen), WD_OK);
    ck_assert_int_eq(olen, 6);
    ck_assert(memcmp(buf, "/a/b/d", 6) == 0);
}
END_TEST

START_TEST(test_normalize_no_overrun)
{
    /* output buffer of exactly the input length must suffice */
    static const char *ins[] = { "/", "//", "/a/.", "/a/..", "/./", "/%2e/", "/a/b/.." };
    size_t i, olen;

    for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
        size_t n = strlen(ins[i]);
        u_char *out = malloc(n);
        ck_assert_int_eq(wd_http_normalize_uri((const u_char *) ins[i], n, out, &olen), WD_OK);
        ck_assert(olen <= n);
        free(out);
    }
}
END_TEST

typedef struct {
    const char *in;
    const char *out;
} host_case_t;

static const host_case_t host_cases[] = {
    { "example.com", "example.com" },
    { "Example.COM", "example.com" },
    { "example.com:8080", "example.com" },
    { "example.com.", "example.com" },
    { "EXAMPLE.com.:80", "example.com" },
    { "[::1]:8080", "[::1]" },
    { "[::1]", "[::1]" },
    { "127.0.0.1:18100", "127.0.0.1" },
    { "", "" },
    { "a..b", NULL },
    { "a/b", NULL },
    { "a\\b", NULL },
    { "a b", NULL },
    { "example.com:80x", NULL },
    { "[::1", NULL },
    { "::1]", NULL },
    { ":80", NULL },
    { ".example.com", NULL },
    { ".", NULL },
};

START_TEST(test_host_table)
{
    const host_case_t *c = &host_cases[_i];
    u_char out[256];
    size_t olen = 0;
    int rc = wd_http_validate_host((const u_char *) c->in, strlen(c->in), out, &olen);

    if (c->out == NULL) {
        ck_assert_msg(rc == WD_ERROR, "\"%s\": expected error", c->in);
    } else {
        ck_assert_msg(rc == WD_OK, "\"%s\": unexpected error", c->in);
        ck_assert_msg(olen == strlen(c->out) && memcmp(out, c->out, olen) == 0,
                      "\"%s\": expected \"%s\", got \"%.*s\"", c->in, c->out, (int) olen, out);
    }
}
END_TEST

START_TEST(test_host_with_nul)
{
    u_char out[16];
    size_t olen;
    ck_assert_int_eq(wd_http_validate_host((const u_char *) "a\0b", 3, out, &olen), WD_ERROR);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("uri");
    TCase *tc = tcase_create("normalize");
    SRunner *sr;
    int nf;

    tcase_add_loop_test(tc, test_normalize_table, 0, sizeof(uri_cases) / sizeof(uri_cases[0]));
    tcase_add_test(tc, test_normalize_in_place);
    tcase_add_test(tc, test_normalize_no_overrun);
    tcase_add_loop_test(tc, test_host_table, 0, sizeof(host_cases) / sizeof(host_cases[0]));
    tcase_add_test(tc, test_host_with_nul);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
