/*
 * test_http_parse.c -- the llhttp glue (src/http/wd_http_parse.c) without sockets:
 * status for malformed requests and framing attacks, header limits (414/431), header
 * fields, and body decoding (Content-Length, chunked, the CRLF after chunk data, chunked
 * client_max_body_size), and the response header validation of wd_http_add_header().
 * Every request is parsed twice: in one piece and byte by byte
 * (the connection buffer grows exactly as it does when data trickles in).
 */
#include <check.h>
#include "wd_core.h"
#include "wd_http_request.h"
#include "wd_http_variables.h"

typedef struct {
    wd_http_connection_t hc;
    wd_http_request_t req;        /* hc.r (the server takes it from a per-worker cache) */
} tconn_t;

static void
tconn_init(tconn_t *t, size_t large, size_t nlarge, int64_t max_body)
{
    memset(t, 0, sizeof(*t));
    t->hc.r = &t->req;
    t->hc.r->pool = wd_pool_create(4096);
    ck_assert(t->hc.r->pool != NULL);
    t->hc.r->hc = &t->hc;
    t->hc.large_header = large;
    t->hc.max_header = large * nlarge;
    t->hc.max_body = max_body;
    t->hc.size = t->hc.max_header + 65536;
    t->hc.buf = malloc(t->hc.size);
    ck_assert(t->hc.buf != NULL);
    t->hc.r->content_length_n = -1;
    wd_http_parser_start(t->hc.r);
}

static void
tconn_free(tconn_t *t)
{
    wd_pool_destroy(t->hc.r->pool);
    free(t->hc.buf);
}

/* Feeds the request header; returns WD_AGAIN, WD_OK or the status. */
static int
parse(tconn_t *t, const char *req, size_t len, int bytewise)
{
    wd_http_connection_t *hc = &t->hc;
    size_t i = 0;
    int rc = WD_AGAIN;

    while (i < len) {
        size_t n = bytewise ? 1 : len - i;
        memcpy(hc->buf + hc->last, req + i, n);
        hc->last += n;
        i += n;
        rc = wd_http_parse_header(hc->r);
        if (rc != WD_AGAIN) {
            break;
        }
    }
    if (rc == WD_OK) {
        rc = wd_http_process_request_header(hc->r);
    }
    return rc;
}

static int
parse_status(const char *req, int bytewise)
{
    tconn_t t;
    tconn_init(&t, 1024, 4, 100);
    int rc = parse(&t, req, strlen(req), bytewise);
    tconn_free(&t);
    return rc;
}

static const struct {
    const char *req;
    int         status;
} cases[] = {
    { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", WD_OK },
    { "GET / HTTP/1.0\r\n\r\n", WD_OK },
    { "GET /x?y HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
    { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", 400 },
    { "GET / HTTP/1.1\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400 },
    { "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
    { "GET / HTTP/1.2\r\nHost: a\r\n\r\n", WD_OK },       /* processed as 1.1 */
    { "GET / HTTP/1.9\r\nHost: a\r\n\r\n", WD_OK },
    { "GET / HTTP/1.a\r\nHost: a\r\n\r\n", 400 },
    { "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", WD_OK },   /* empty lines first */
    { "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", WD_OK },
    { "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },          /* unknown method */
    { "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
    { "GETX / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
    { "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n\r\n", WD_OK },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400 },
    { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", 400 },
    { "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
    { "CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
    { "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", WD_OK },
    { "GET http://h/p HTTP/1.1\r\nHost: a\r\n\r\n", WD_OK },
    { "GET ftp://h/p HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: a", WD_AGAIN },
};

START_TEST(test_cases)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        int rc = parse_status(cases[_i].req, bytewise);
        ck_assert_msg(rc == cases[_i].status, "case %d (%s): got %d want %d", _i,
                      bytewise ? "bytewise" : "whole", rc, cases[_i].status);
    }
}
END_TEST

START_TEST(test_fields)
{
    tconn_t t;
    const char *req = "POST /p%41th?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nX-A:  v1  \r\n"
                      "Connection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n";
    tconn_init(&t, 1024, 4, 0);
    ck_assert_int_eq(parse(&t, req, strlen(req), 1), WD_OK);
    wd_http_request_t *r = t.hc.r;
    ck_assert(wd_str_eq(&r->method_name, "POST"));
    ck_assert(wd_str_eq(&r->unparsed_uri, "/p%41th?q=1"));
    ck_assert(wd_str_eq(&r->uri, "/p%41th"));       /* raw here; decoded by the request code */
    ck_assert(wd_str_eq(&r->args, "q=1"));
    ck_assert(wd_str_eq(&r->host, "example.com"));
    ck_assert(wd_str_eq(&r->request_line, "POST /p%41th?q=1 HTTP/1.1"));
    ck_assert_int_eq(r->content_length_n, 7);
    ck_assert(r->keepalive && r->expect_continue);
    ck_assert_int_eq(r->body_state, WD_HTTP_BODY_PENDING);
    wd_http_header_t *h = wd_http_find_header(&r->headers_in, "x-a", 3);
    ck_assert(h != NULL && wd_str_eq(&h->value, "v1"));
    ck_assert_int_eq(r->headers_in.nelts, 5);
    ck_assert_int_eq(t.hc.pos, strlen(req));
    tconn_free(&t);
}
END_TEST

START_TEST(test_limits)
{
    char req[8192];
    /* request line longer than one buffer: 414, also before it ends */
    snprintf(req, sizeof(req), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", 1100, 0);
    ck_assert_int_eq(parse_status(req, 0), 414);
    snprintf(req, sizeof(req), "GET /%0*d", 1100, 0);
    ck_assert_int_eq(parse_status(req, 0), 414);
    /* one header line longer than a buffer: 431 */
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nX: %0*d\r\n\r\n", 1100, 0);
    ck_assert_int_eq(parse_status(req, 1), 431);
    /* the whole header above 4 x 1k: 431 */
    size_t n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 50; i++) {
        n += snprintf(req + n, sizeof(req) - n, "X-%02d: %0*d\r\n", i, 90, 0);
    }
    snprintf(req + n, sizeof(req) - n, "\r\n");
    ck_assert_int_eq(parse_status(req, 0), 431);
}
END_TEST

/* Parses a whole request with its body; returns the body parse status. */
static int
body(const char *req, size_t len, int bytewise, int64_t max, char *out, size_t *out_len)
{
    tconn_t t;
    wd_http_connection_t *hc;
    size_t hdr, produced, i;
    int rc;
    const char *end = strstr(req, "\r\n\r\n");

    tconn_init(&t, 1024, 4, max);
    hc = &t.hc;
    hdr = end - req + 4;
    rc = parse(&t, req, hdr, 0);
    ck_assert_int_eq(rc, WD_OK);
    *out_len = 0;
    hc->pos = hc->last = 0;     /* the request code compacts the buffer here */
    rc = WD_AGAIN;
    for (i = hdr; i < len && rc == WD_AGAIN; ) {
        size_t n = bytewise ? 1 : len - i;
        memcpy(hc->buf + hc->last, req + i, n);
        hc->last += n;
        i += n;
        while (hc->pos < hc->last) {
            rc = wd_http_parse_body(hc->r, (u_char *) out + *out_len, 3, &produced);
            *out_len += produced;
            if (rc != WD_AGAIN) {
                break;
            }
        }
    }
    tconn_free(&t);
    return rc;
}

START_TEST(test_body_chunked)
{
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;e=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nT: x\r\n\r\n";
    char out[64];
    size_t n;
    for (int bw = 0; bw < 2; bw++) {
        ck_assert_int_eq(body(req, sizeof(req) - 1, bw, 0, out, &n), WD_DONE);
        ck_assert_int_eq(n, 16);
        ck_assert(memcmp(out, "hello 0123456789", 16) == 0);
    }
}
END_TEST

START_TEST(test_body_content_length)
{
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
    char out[64];
    size_t n;
    for (int bw = 0; bw < 2; bw++) {
        ck_assert_int_eq(body(req, sizeof(req) - 1, bw, 0, out, &n), WD_DONE);
        ck_assert_int_eq(n, 10);
    }
}
END_TEST

START_TEST(test_body_bad_chunk_end)
{
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabcXX0\r\n\r\n";
    static const char req2[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\n\r0\r\n\r\n";
    char out[64];
    size_t n;
    for (int bw = 0; bw < 2; bw++) {
        ck_assert_int_eq(body(req, sizeof(req) - 1, bw, 0, out, &n), 400);
        ck_assert_int_eq(body(req2, sizeof(req2) - 1, bw, 0, out, &n), 400);
    }
}
END_TEST

START_TEST(test_body_chunked_too_large)
{
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n";
    char out[64];
    size_t n;
    for (int bw = 0; bw < 2; bw++) {
        ck_assert_int_eq(body(req, sizeof(req) - 1, bw, 12, out, &n), 413);
        ck_assert_int_eq(body(req, sizeof(req) - 1, bw, 16, out, &n), WD_DONE);
    }
}
END_TEST

START_TEST(test_add_header_validation)
{
    tconn_t t;
    wd_http_request_t *r;

    tconn_init(&t, 1024, 4, 0);
    r = t.hc.r;
    r->content_length_out = -1;
#define ADD(n, v) wd_http_add_header(r, n, sizeof(n) - 1, v, sizeof(v) - 1)
    ck_assert_int_eq(ADD("X-Ok", "value with spaces\tand tab"), WD_OK);
    ck_assert_int_eq(ADD("X-Obs", "caf\xc3\xa9"), WD_OK);
    ck_assert_int_eq(ADD("X-Bad", "a\r\nSet-Cookie: x"), WD_ERROR);    /* response splitting */
    ck_assert_int_eq(ADD("X-Bad", "a\nb"), WD_ERROR);
    ck_assert_int_eq(wd_http_add_header(r, "X-Nul", 5, "a\0b", 3), WD_ERROR);
    ck_assert_int_eq(ADD("X Bad", "v"), WD_ERROR);
    ck_assert_int_eq(ADD("X:Bad", "v"), WD_ERROR);
    ck_assert_int_eq(ADD("", "v"), WD_ERROR);
    ck_assert_int_eq(ADD("Connection", "close"), WD_ERROR);
    ck_assert_int_eq(ADD("transfer-encoding", "chunked"), WD_ERROR);
    ck_assert_int_eq(ADD("Keep-Alive", "timeout=5"), WD_ERROR);
    ck_assert_int_eq(ADD("Upgrade", "h2c"), WD_ERROR);
    ck_assert_int_eq(ADD("TE", "trailers"), WD_ERROR);
    ck_assert_int_eq(ADD("Date", "x"), WD_ERROR);
    ck_assert_int_eq(ADD("Server", "x"), WD_ERROR);
    ck_assert_int_eq(ADD("Content-Length", "12x"), WD_ERROR);
    ck_assert_int_eq(ADD("Content-Length", "-1"), WD_ERROR);
    ck_assert_int_eq(r->content_length_out, -1);
    ck_assert_int_eq(ADD("Content-Length", "42"), WD_OK);
    ck_assert_int_eq(r->content_length_out, 42);
    ck_assert_int_eq(ADD("Content-Type", "text/x"), WD_OK);
    ck_assert(wd_str_eq(&r->content_type, "text/x"));
    ck_assert_int_eq(r->headers_out.nelts, 2);
    ck_assert(wd_str_eq(&r->headers_out.elts[0].name, "X-Ok"));
    r->header_sent = 1;
    ck_assert_int_eq(ADD("X-Late", "v"), WD_ERROR);
#undef ADD
    tconn_free(&t);
}
END_TEST

static int
test_var_get(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    wd_str_set(v, "42");
    return WD_OK;
}

static int
test_var_prefix(wd_http_request_t *r, wd_str_t *v, const wd_str_t *arg)
{
    *v = *arg;
    return WD_OK;
}

START_TEST(test_module_variables)
{
    tconn_t t;
    wd_http_var_ref_t ref;
    wd_str_t v;
    const char *req = "GET /?a=1&bb=22 HTTP/1.1\r\nHost: h\r\nX-Some-Thing: yes\r\n\r\n";

    tconn_init(&t, 1024, 4, 0);
    ck_assert_int_eq(parse(&t, req, strlen(req), 0), WD_OK);
    ck_assert_int_eq(wd_http_add_variable("test_fuel", test_var_get, 0), WD_OK);
    ck_assert_int_eq(wd_http_add_variable("test_fuel", test_var_get, 0), WD_OK);   /* reload */
    ck_assert_int_eq(wd_http_add_variable("test_fuel", test_var_prefix, 0), WD_ERROR);
    ck_assert_int_eq(wd_http_add_variable("status", test_var_get, 0), WD_ERROR);
    ck_assert_int_eq(wd_http_add_variable("tp_", test_var_prefix, 1), WD_OK);
    ck_assert_int_eq(wd_http_variable_compile(t.hc.r->pool, (u_char *) "test_fuel", 9, &ref), WD_OK);
    wd_http_variable_value(t.hc.r, &ref, &v);
    ck_assert(wd_str_eq(&v, "42"));
    ck_assert_int_eq(wd_http_variable_compile(t.hc.r->pool, (u_char *) "tp_Abc", 6, &ref), WD_OK);
    wd_http_variable_value(t.hc.r, &ref, &v);
    ck_assert(wd_str_eq(&v, "abc"));
    ck_assert_int_eq(wd_http_variable_compile(t.hc.r->pool, (u_char *) "nope", 4, &ref), WD_ERROR);
    ck_assert_int_eq(wd_http_variable_compile(t.hc.r->pool, (u_char *) "http_x_some_thing", 17, &ref),
                     WD_OK);
    wd_http_variable_value(t.hc.r, &ref, &v);
    ck_assert(wd_str_eq(&v, "yes"));
    ck_assert_int_eq(wd_http_variable_compile(t.hc.r->pool, (u_char *) "arg_bb", 6, &ref), WD_OK);
    wd_http_variable_value(t.hc.r, &ref, &v);
    ck_assert(wd_str_eq(&v, "22"));
    tconn_free(&t);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("http_parse");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_cases, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_body_chunked);
    tcase_add_test(tc, test_body_content_length);
    tcase_add_test(tc, test_body_bad_chunk_end);
    tcase_add_test(tc, test_body_chunked_too_large);
    tcase_add_test(tc, test_add_header_validation);
    tcase_add_test(tc, test_module_variables);
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
