/*
 * test_http_chunked.c -- the chunked transfer coding checker (src/http/wd_http_chunked.c)
 * on its own, as the server's body reader and the outbound client's response reader use it:
 * valid bodies decode to the same bytes whether they arrive whole, byte by byte or are
 * drained one data byte at a time; invalid ones fail with their reason at the offending
 * byte however they arrive; DONE stops right after the final CRLF (a pipelined message
 * follows); wd_http_chunked_check never changes the state it is given.
 */
#include <check.h>
#include <string.h>
#include "wd_http_chunked.h"

typedef struct {
    const char *in;
    const char *out;          /* decoded body, NULL: invalid */
    const char *why;          /* the error for invalid ones */
} chunk_case_t;

#define V(in, out) { in, out, NULL }
#define I(in, why) { in, NULL, why }

static const chunk_case_t cases[] = {
    V("0\r\n\r\n", ""),
    V("5\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world"),
    V("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij"),
    V("0005\r\nhello\r\n000\r\n\r\n", "hello"),
    V("3\r\n\r\n\r\r\n0\r\n\r\n", "\r\n\r"),
    V("5;a\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5;a=b\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5 ;a=b\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5\t ;a=b\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5;a=\"x;y \\\" \\\\ z\"\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5;a=\"caf\xe9\"\r\nhello\r\n0\r\n\r\n", "hello"),
    V("5\r\nhello\r\n0;x=y\r\n\r\n", "hello"),
    V("5\r\nhello\r\n0\r\nX-T: v\r\n\r\n", "hello"),
    V("5\r\nhello\r\n0\r\nX-A: 1\r\nX-B:\r\nX-C: a\tb\xe9\r\n\r\n", "hello"),
    V("7fffffffffffffff\r\n", NULL),     /* largest size: valid, incomplete (out unused) */
    I("5\rXhello\r\n0\r\n\r\n", "chunk size line not ended by CRLF"),
    I("5\r\rhello\r\n0\r\n\r\n", "chunk size line not ended by CRLF"),
    I("5;e\rXhello\r\n0\r\n\r\n", "chunk size line not ended by CRLF"),
    I("5\r\nhello\r\n0\rX\r\n", "chunk size line not ended by CRLF"),
    I("5\r\nhello\r\n0\r\r\n\r\n", "chunk size line not ended by CRLF"),
    I("5\r\r;ABCD\r\n34\r\n", "chunk size line not ended by CRLF"),
    I("5\nhello\r\n0\r\n\r\n", "invalid chunk size"),
    I("0x5\r\nhello\r\n", "invalid chunk size"),
    I("+5\r\nhello\r\n", "invalid chunk size"),
    I(" 5\r\nhello\r\n", "invalid chunk size"),
    I("0_5\r\nhello\r\n", "invalid chunk size"),
    I("\r\nhello\r\n", "invalid chunk size"),
    I("5\x00\r\nhello\r\n", "invalid chunk size"),
    I("5 \r\nhello\r\n", "invalid chunk extension"),
    I("8000000000000000\r\n", "chunk size too large"),
    I("10000000000000005\r\n", "chunk size too large"),
    I("5;\r\nhello\r\n", "invalid chunk extension"),
    I("5;=b\r\nhello\r\n", "invalid chunk extension"),
    I("5;a=\r\nhello\r\n", "invalid chunk extension"),
    I("5;a b\r\nhello\r\n", "invalid chunk extension"),
    I("5;a=b c\r\nhello\r\n", "invalid chunk extension"),
    I("5;a=b \r\nhello\r\n", "invalid chunk extension"),
    I("5;a=\"b\r\nhello\r\n", "invalid chunk extension"),
    I("5;a=\"\x01\"\r\nhello\r\n", "invalid chunk extension"),
    I("5;a\x00\r\nhello\r\n", "invalid chunk extension"),
    I("5\r\nhelloXX0\r\n\r\n", "chunk data not followed by CRLF"),
    I("5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"),
    I("5\r\nhello\r0\r\n\r\n", "chunk data not followed by CRLF"),
    I("5\r\nhello world\r\n", "chunk data not followed by CRLF"),
    I("5\r\nhello\r\n0\r\nX v\r\n\r\n", "invalid trailer field"),
    I("5\r\nhello\r\n0\r\n: v\r\n\r\n", "invalid trailer field"),
    I("5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n", "invalid trailer field"),
    I("5\r\nhello\r\n0\r\nX: a\x00b\r\n\r\n", "invalid trailer field"),
    I("5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n", "invalid trailer field"),
    I("5\r\nhello\r\n0\r\n\n", "invalid trailer field"),
    I("5\r\nhello\r\n0\r\n\rX", "chunked body not ended by CRLF"),
};

/* Feeds in[0..len) as it would arrive `step` bytes at a time (0: all at once), taking at
 * most `max` data bytes per call.  Returns the last status; out/out_len collect the data;
 * *consumed: input bytes used. */
static int
feed(const char *in, size_t len, size_t step, size_t max, char *out, size_t *out_len,
     size_t *consumed, const char **why)
{
    wd_http_chunked_t ck;
    const unsigned char *p = (const unsigned char *) in, *data;
    size_t avail = step && step < len ? step : len, n;
    int rc;

    wd_http_chunked_init(&ck);
    *out_len = 0;
    for (;;) {
        rc = wd_http_chunked_parse(&ck, &p, (const unsigned char *) in + avail, max, &data, &n);
        if (rc == WD_HTTP_CHUNKED_DATA) {
            ck_assert(n > 0 && n <= max);
            memcpy(out + *out_len, data, n);
            *out_len += n;
            continue;
        }
        if (rc == WD_HTTP_CHUNKED_AGAIN && avail < len) {
            ck_assert((const char *) p == in + avail);     /* AGAIN: everything consumed */
            avail = avail + step < len ? avail + step : len;
            continue;
        }
        break;
    }
    *consumed = (const char *) p - in;
    *why = ck.error;
    return rc;
}

START_TEST(test_cases)
{
    const chunk_case_t *c = &cases[_i];
    static const char tail[] = "GET / HTTP/1.1\r\n";
    char in[256], out[256];
    size_t len = strlen(c->in), steps[] = { 0, 1, 2, 7 }, maxes[] = { SIZE_MAX, 1, 3 };

    ck_assert(len + sizeof(tail) < sizeof(in));
    memcpy(in, c->in, len);
    memcpy(in + len, tail, sizeof(tail) - 1);          /* a pipelined request follows */

    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
            size_t out_len, used;
            const char *why;
            int rc = feed(in, len + sizeof(tail) - 1, steps[s], maxes[m], out, &out_len,
                          &used, &why);
            if (c->why) {
                ck_assert_msg(rc == WD_HTTP_CHUNKED_ERROR, "case %d step %zu max %zu: rc %d",
                              _i, steps[s], maxes[m], rc);
                ck_assert_msg(why && strcmp(why, c->why) == 0, "case %d: \"%s\", want \"%s\"",
                              _i, why ? why : "(null)", c->why);
            } else if (c->out) {
                ck_assert_msg(rc == WD_HTTP_CHUNKED_DONE, "case %d step %zu max %zu: rc %d (%s)",
                              _i, steps[s], maxes[m], rc, why ? why : "");
                ck_assert_int_eq(used, len);           /* stops right after the body */
                ck_assert_int_eq(out_len, strlen(c->out));
                ck_assert(memcmp(out, c->out, out_len) == 0);
            } else {
                /* valid so far: the "GET ..." after it is taken as data, no error */
                ck_assert_msg(rc != WD_HTTP_CHUNKED_ERROR, "case %d: %s", _i, why);
            }
        }
    }
}
END_TEST

START_TEST(test_check_does_not_consume)
{
    static const char body[] = "5\r\nhello\r\n0\r\n\r\n";
    static const char bad[] = "5\r\nhello\r\n0\rX\r\n";
    wd_http_chunked_t ck, before;
    const unsigned char *p = (const unsigned char *) body, *data;
    size_t n;
    const char *why = NULL;

    wd_http_chunked_init(&ck);
    /* read the size line and two data bytes */
    ck_assert_int_eq(wd_http_chunked_parse(&ck, &p, p + 5, 2, &data, &n), WD_HTTP_CHUNKED_DATA);
    ck_assert_int_eq(n, 2);
    before = ck;
    ck_assert_int_eq(wd_http_chunked_check(&ck, p, (const unsigned char *) body + sizeof(body) - 1,
                                           &why), 0);
    ck_assert(memcmp(&before, &ck, sizeof(ck)) == 0);
    /* the same state, with bad bytes after */
    ck_assert_int_eq(wd_http_chunked_check(&ck, (const unsigned char *) bad + 5,
                                           (const unsigned char *) bad + sizeof(bad) - 1, &why), -1);
    ck_assert_str_eq(why, "chunk size line not ended by CRLF");
    ck_assert(memcmp(&before, &ck, sizeof(ck)) == 0);
}
END_TEST

START_TEST(test_declared_and_limits)
{
    char in[8192];
    wd_http_chunked_t ck;
    const unsigned char *p, *data;
    size_t n;

    /* declared: the sum of the sizes, known as soon as a size line ends */
    wd_http_chunked_init(&ck);
    strcpy(in, "400\r\n");
    p = (const unsigned char *) in;
    ck_assert_int_eq(wd_http_chunked_parse(&ck, &p, p + 5, SIZE_MAX, &data, &n),
                     WD_HTTP_CHUNKED_AGAIN);
    ck_assert_int_eq(ck.declared, 0x400);

    /* a chunk-size line longer than WD_HTTP_CHUNKED_LINE_MAX */
    wd_http_chunked_init(&ck);
    memset(in, 'b', sizeof(in));
    memcpy(in, "5;a=", 4);
    p = (const unsigned char *) in;
    ck_assert_int_eq(wd_http_chunked_parse(&ck, &p, p + sizeof(in), SIZE_MAX, &data, &n),
                     WD_HTTP_CHUNKED_ERROR);
    ck_assert_str_eq(ck.error, "chunk extension too long");
    ck_assert_int_eq((const char *) p - in, WD_HTTP_CHUNKED_LINE_MAX);

    /* after DONE / ERROR the parser stays there */
    ck_assert_int_eq(wd_http_chunked_parse(&ck, &p, p + 1, SIZE_MAX, &data, &n),
                     WD_HTTP_CHUNKED_ERROR);
    wd_http_chunked_init(&ck);
    strcpy(in, "0\r\n\r\nX");
    p = (const unsigned char *) in;
    ck_assert_int_eq(wd_http_chunked_parse(&ck, &p, p + 6, SIZE_MAX, &data, &n),
                     WD_HTTP_CHUNKED_DONE);
    ck_assert_int_eq((const char *) p - in, 5);
    ck_assert_int_eq(wd_http_chunked_parse(&ck, &p, p + 1, SIZE_MAX, &data, &n),
                     WD_HTTP_CHUNKED_DONE);
    ck_assert_int_eq((const char *) p - in, 5);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("http_chunked");
    TCase *tc = tcase_create("chunked");
    tcase_add_loop_test(tc, test_cases, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_check_does_not_consume);
    tcase_add_test(tc, test_declared_and_limits);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
