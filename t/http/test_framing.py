"""Malformed requests and framing attacks: every one gets its status AND a closed
connection; limits (414/431/413), 501, 505, Host rules."""
import re

import harness
from harness import check

CONF = r'''
http {
    access_log off;
    large_client_header_buffers 4 1k;
    client_max_body_size 100;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\n"; }
        location /echo { echo_body buffered; }
    }
}
'''

H = b"Host: a\r\n"


def expect_close(s, raw, status=400):
    with s.connect() as c:
        c.send(raw)
        r = c.recv_response()
        check(r.status == status, "expected %d for %r" % (status, raw[:120]), r)
        check(r.header("Connection") == "close", "Connection: close expected", r)
        check(c.closed(), "connection not closed after %r" % raw[:120])
        return r


def expect_ok_then_next(s, raw):
    """raw must be answered 200 and the connection must go on."""
    with s.connect() as c:
        c.send(raw + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r1 = c.recv_response()
        r2 = c.recv_response()
        check(r1.status == 200 and r2.status == 200, raw, r1, r2)


def test_cl_and_te(s):
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
                 b"Content-Length: 5\r\n\r\n0\r\n\r\n")


def test_duplicate_content_length(s):
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    # identical duplicates are refused too (documented choice)
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3, 3\r\n\r\nabc")


def test_bad_content_length(s):
    for v in [b"-1", b"+3", b"3x", b"0x10", b"", b"99999999999999999999999"]:
        expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: " + v + b"\r\n\r\nabc")


def test_te_not_exactly_chunked(s):
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")


def test_te_unknown_501(s):
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\nabc", 501)
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n", 501)


def test_te_in_http10(s):
    expect_close(s, b"POST / HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")


def test_chunk_data_not_followed_by_crlf(s):
    with s.connect() as c:
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
               b"3\r\nabcXX0\r\n\r\n")
        r = c.recv_response()
        check(r.status == 400, r)
        check(c.closed())
    # also when the handler does not read the body: the bad bytes are there before the
    # response goes out, so the answer is 400 (and the smuggled request is not answered)
    with s.connect() as c:
        c.send(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
               b"3\r\nabcXX0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        r = c.recv_response()
        check(r.status == 400, r)
        check(c.closed(), "a smuggled request must not be answered")
    # the bad bytes arrive after the 200 went out: the connection closes, nothing more
    with s.connect() as c:
        c.send(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc")
        r = c.recv_response()
        check(r.status == 200, r)
        c.send(b"XX0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        check(c.closed(), "a smuggled request must not be answered")


def test_bad_chunk_sizes(s):
    for body in [b"3 \r\nabc\r\n0\r\n\r\n", b"-3\r\nabc\r\n0\r\n\r\n", b"g\r\n",
                 b"fffffffffffffffffff\r\n", b"3\nabc\n0\n\n"]:
        expect_close(s, b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" + body)


def test_obs_fold(s):
    expect_close(s, b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n\tb\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\n Host: a\r\n\r\n")


def test_host_rules(s):
    expect_close(s, b"GET / HTTP/1.1\r\n\r\n")                        # missing in 1.1
    expect_close(s, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")  # duplicate
    expect_close(s, b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\nHost: ..\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\nHost: a:x\r\n\r\n")
    # HTTP/1.0 without Host is fine
    r = s.request(b"GET / HTTP/1.0\r\n\r\n")
    check(r.status == 200, r)


def test_bad_header_names_values(s):
    for line in [b"Ho st: a", b"Host : a", b": x", b"X(y): z", b"X\x01: y", b"X: a\x01b",
                 b"X: a\x7fb", b"X: a\x00b"]:
        expect_close(s, b"GET / HTTP/1.1\r\n" + H + line + b"\r\n\r\n")


def test_bare_lf_cr(s):
    expect_close(s, b"GET / HTTP/1.1\n" + H + b"\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n")
    expect_close(s, b"GET / HTTP/1.1\r\n" + H + b"\n")
    expect_close(s, b"GET / HTTP/1.1\r\r\n" + H + b"\r\n")


def test_bad_request_lines(s):
    for line in [b"GET /a b HTTP/1.1", b"GET  / HTTP/1.1", b"GET / http/1.1",
                 b"GET / HTTP/1.1 ", b"GET /a\tb HTTP/1.1", b"GET a HTTP/1.1",
                 b"GET / HTTP/1", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                 b"G(T / HTTP/1.1"]:
        expect_close(s, line + b"\r\n" + H + b"\r\n")


def test_unknown_method_501(s):
    # a method is a token (RFC 9110 9.1); one we do not implement is 501 (15.6.2);
    # methods are case-sensitive, so "get" is an unknown one
    for line in [b"FOO / HTTP/1.1", b"get / HTTP/1.1", b"GETX / HTTP/1.1"]:
        expect_close(s, line + b"\r\n" + H + b"\r\n", 501)


def test_connect_method(s):
    expect_close(s, b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405)


def test_version_505(s):
    for v in [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"]:
        expect_close(s, b"GET / " + v + b"\r\n" + H + b"\r\n", 505)
    # a higher minor version is processed as HTTP/1.1 (RFC 9110 2.5)
    expect_ok_then_next(s, b"GET / HTTP/1.2\r\n" + H + b"\r\n")


def test_uri_too_long_414(s):
    expect_close(s, b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\n" + H + b"\r\n", 414)
    # sent in pieces, and never finished
    with s.connect() as c:
        c.send(b"GET /" + b"b" * 600)
        c.send(b"b" * 600)
        r = c.recv_response()
        check(r.status == 414, r)
        check(c.closed())


def test_headers_too_large_431(s):
    # one header line longer than a buffer
    expect_close(s, b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * 1100 + b"\r\n\r\n", 431)
    # many small headers, more than 4 x 1k in total
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(60))
    expect_close(s, b"GET / HTTP/1.1\r\n" + H + many + b"\r\n", 431)
    # just below the limits works
    ok = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90) for i in range(25))
    r = s.request(b"GET / HTTP/1.1\r\n" + H + ok + b"\r\n")
    check(r.status == 200, r)


def test_body_too_large_413(s):
    expect_close(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 101\r\n\r\n" + b"x" * 101, 413)
    log = s.error_log()
    check(re.search(r'\[error\] \d+#0: \*\d+ client intended to send too large body: 101 bytes, '
                    r'client: 127\.0\.0\.1, request: "POST / HTTP/1\.1", host: "a"', log), log[-600:])
    # chunked: detected while reading
    expect_close(s, b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
                 b"40\r\n" + b"x" * 64 + b"\r\n40\r\n" + b"y" * 64 + b"\r\n0\r\n\r\n", 413)
    # exactly at the limit
    with s.connect() as c:
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 100\r\n\r\n" + b"z" * 100)
        r = c.recv_response()
        check(r.status == 200 and r.body == b"z" * 100, r)


def test_valid_framing_still_works(s):
    expect_ok_then_next(s, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello")
    expect_ok_then_next(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
                        b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n")
    expect_ok_then_next(s, b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")
    expect_ok_then_next(s, b"GET / HTTP/1.1\r\n" + H + b"X-Obs: caf\xe9\r\nX-Tab: a\tb\r\n\r\n")


def test_garbage_after_close_is_ignored(s):
    with s.connect() as c:
        c.send(b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n")
        r = c.recv_response()
        check(r.status == 200, r)
        check(c.recv_all() == b"", "only one response")


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18210))
