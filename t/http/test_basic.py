"""Basic request handling: return, Date/Server, HEAD, HTTP/1.0, keep-alive, pipelining,
add_header, redirects, 404, location selection, URI normalization, -t."""
import re
import socket
import time

import harness
from harness import check

CONF = r'''
http {
    access_log logs/access.log;
    keepalive_requests 5;
    server {
        listen 127.0.0.1:%(port)d;
        server_name a.test;
        add_header X-Srv srv;

        location / { return 200 "root\n"; }
        location = /exact { return 200 "exact\n"; }
        location /prefix/ { return 200 "prefix\n"; }
        location ^~ /static/ { return 200 "static\n"; }
        location ~ \.php$ { return 200 "php\n"; }
        location /moved { return 301 /new-place; }
        location /found { return 302 http://example.com/x; }
        location /gone { return 410; }
        location /nocontent { return 204; }
        location /empty { return 200; }
        location /hdr {
            add_header X-Always yes always;
            add_header X-Ok ok;
            location /hdr/notfound { return 404; }
            location /hdr/fine { return 200 "fine\n"; }
        }
        location /none { }
        location /vars { return 200 "host=$host uri=$uri a=$arg_a\n"; }
        location /varmoved { return 302 https://$host/to$uri; }
    }
    server {
        listen 127.0.0.1:%(port)d;
        server_name b.test;
        location / { return 200 "server b\n"; }
    }
}
'''

GET = b"GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n"


def get(s, path, host=b"a.test"):
    return s.request(b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")


def test_return_text(s):
    r = get(s, b"/")
    check(r.status == 200, r)
    check(r.body == b"root\n", r)
    check(r.header("Content-Length") == "5", r)
    check(r.header("Content-Type") == "text/plain", r)
    check(r.version == "HTTP/1.1", r)


def test_return_variables(s):
    r = get(s, b"/vars/x?a=7&b=1", b"v.example")
    check(r.status == 200 and r.body == b"host=v.example uri=/vars/x a=7\n", r)
    check(r.header("Content-Length") == str(len(r.body)), r)
    r = get(s, b"/varmoved/y", b"w.example")
    check(r.status == 302 and r.header("Location") == "https://w.example/to/varmoved/y", r)


def test_date_server(s):
    r = get(s, b"/")
    check(r.header("Server") == "wasmd", r)
    d = r.header("Date")
    check(d is not None and re.match(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$", d), d)
    t = time.strptime(d, "%a, %d %b %Y %H:%M:%S GMT")
    check(abs(time.mktime(t) - time.mktime(time.gmtime())) < 5, d)


def test_date_advances(s):
    # the cached time is refreshed by the event loop
    with s.connect() as c:
        c.send(GET % b"/")
        d1 = c.recv_response().header("Date")
        time.sleep(1.1)
        c.send(GET % b"/")
        d2 = c.recv_response().header("Date")
    check(d1 != d2, d1, d2)


def test_head(s):
    with s.connect() as c:
        c.send(b"HEAD / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        r = c.recv_response(head=True)
        check(r.status == 200 and r.header("Content-Length") == "5", r)
        # no body: the next response follows immediately on the same connection
        c.send(GET % b"/exact")
        r2 = c.recv_response()
        check(r2.status == 200 and r2.body == b"exact\n", r2)


def test_keepalive_default_11(s):
    with s.connect() as c:
        for i in range(3):
            c.send(GET % b"/")
            r = c.recv_response()
            check(r.status == 200 and r.body == b"root\n", r)
            check(r.header("Connection") == "keep-alive", r)


def test_keepalive_requests_limit(s):
    with s.connect() as c:
        for i in range(5):
            c.send(GET % b"/")
            r = c.recv_response()
            check(r.status == 200, r)
        check(r.header("Connection") == "close", "5th response", r)
        check(c.closed(), "connection should close after keepalive_requests")


def test_connection_close(s):
    with s.connect() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.header("Connection") == "close", r)
        check(c.closed())


def test_http10_closes(s):
    with s.connect() as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"root\n", r)
        check(r.header("Connection") == "close", r)
        check(c.closed())


def test_http10_keepalive(s):
    with s.connect() as c:
        c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.header("Connection") == "keep-alive", r)
        c.send(b"GET /exact HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"exact\n", r)


def test_pipelining_in_order(s):
    with s.connect() as c:
        paths = [b"/", b"/exact", b"/prefix/x", b"/static/a.php", b"/x.php"]
        c.send(b"".join(GET % p for p in paths[:4]))
        bodies = [c.recv_response().body for _ in range(4)]
        check(bodies == [b"root\n", b"exact\n", b"prefix\n", b"static\n"], bodies)


def test_pipelining_byte_by_byte(s):
    with s.connect() as c:
        data = (GET % b"/exact") + (GET % b"/x.php")
        for i in range(len(data)):
            c.send(data[i:i + 1])
        r1 = c.recv_response()
        r2 = c.recv_response()
        check(r1.body == b"exact\n" and r2.body == b"php\n", r1, r2)


def test_pipelined_then_half_close(s):
    with s.connect() as c:
        c.send((GET % b"/exact") + (GET % b"/"))
        c.sock.shutdown(socket.SHUT_WR)
        r1 = c.recv_response()
        r2 = c.recv_response()
        check(r1.body == b"exact\n" and r2.body == b"root\n", r1, r2)
        check(c.closed(), "closed after the buffered requests")


def test_half_close_partial_request(s):
    with s.connect() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        check(c.closed(), "an incomplete request followed by EOF is dropped")


def test_upgrade_ignored(s):
    # no protocol switching: an Upgrade request is an ordinary request
    with s.connect() as c:
        c.send(b"GET /exact HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\n"
               b"Upgrade: websocket\r\n\r\n" + (GET % b"/"))
        r1 = c.recv_response()
        r2 = c.recv_response()
        check(r1.status == 200 and r1.body == b"exact\n" and r2.body == b"root\n", r1, r2)


def test_location_selection(s):
    cases = [(b"/", b"root\n"), (b"/exact", b"exact\n"), (b"/exact/", b"root\n"),
             (b"/prefix/a/b", b"prefix\n"), (b"/prefix", b"root\n"),
             (b"/static/x.php", b"static\n"), (b"/dir/x.php", b"php\n"),
             (b"/hdr/fine", b"fine\n")]
    for path, body in cases:
        r = get(s, path)
        check(r.status == 200 and r.body == body, path, r)


def test_server_name(s):
    r = get(s, b"/", host=b"b.test")
    check(r.body == b"server b\n", r)
    r = get(s, b"/", host=b"B.TEST:80")
    check(r.body == b"server b\n", r)
    r = get(s, b"/", host=b"unknown.test")
    check(r.body == b"root\n", "default server is the first", r)


def test_absolute_form_overrides_host(s):
    r = s.request(b"GET http://b.test/x HTTP/1.1\r\nHost: a.test\r\n\r\n")
    check(r.status == 200 and r.body == b"server b\n", r)


def test_uri_normalization(s):
    for path, body in [(b"/%65xact", b"exact\n"), (b"/a/../exact", b"exact\n"),
                       (b"//exact", b"exact\n"), (b"/./exact", b"exact\n"),
                       (b"/exact?x=1", b"exact\n"), (b"/prefix/../static/x", b"static\n")]:
        r = get(s, path)
        check(r.status == 200 and r.body == body, path, r)


def test_uri_escaping_root(s):
    for path in [b"/../etc/passwd", b"/a/../../x", b"/%2e%2e/x", b"/x%00y", b"/%zz"]:
        with s.connect() as c:
            c.send(b"GET " + path + b" HTTP/1.1\r\nHost: a.test\r\n\r\n")
            r = c.recv_response()
            check(r.status == 400, path, r)
            check(r.header("Connection") == "close", r)
            check(c.closed(), path)


def test_redirects(s):
    r = get(s, b"/moved")
    check(r.status == 301 and r.header("Location") == "/new-place", r)
    check(b"301 Moved Permanently" in r.body, r)
    r = get(s, b"/found")
    check(r.status == 302 and r.header("Location") == "http://example.com/x", r)


def test_status_only_returns(s):
    r = get(s, b"/gone")
    check(r.status == 410 and b"410" in r.body and r.header("Content-Type") == "text/html", r)
    with s.connect() as c:
        c.send(GET % b"/nocontent")
        r = c.recv_response()
        check(r.status == 204 and r.header("Content-Length") is None, r)
        c.send(GET % b"/empty")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"" and r.header("Content-Length") == "0", r)


def test_404_without_handler(s):
    r = get(s, b"/none")
    check(r.status == 404 and b"404 Not Found" in r.body, r)
    check(r.header("Connection") == "keep-alive", r)


def test_add_header(s):
    r = get(s, b"/")
    check(r.header("X-Srv") == "srv", r)
    r = get(s, b"/hdr/fine")
    check(r.header("X-Ok") == "ok" and r.header("X-Always") == "yes", r)
    check(r.header("X-Srv") is None, "add_header is not inherited by a level with its own", r)
    r = get(s, b"/hdr/notfound")
    check(r.status == 404, r)
    check(r.header("X-Always") == "yes" and r.header("X-Ok") is None, r)


def test_options_star(s):
    # the asterisk form asks about the server (RFC 9112 3.2.4): 200 with Allow
    r = s.request(b"OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n")
    check(r.status == 200 and "GET" in (r.header("Allow") or "") and r.body == b"", r)
    r = s.request(b"GET * HTTP/1.1\r\nHost: a.test\r\n\r\n")
    check(r.status == 400, r)


def test_access_log_line(s):
    with s.connect() as c:
        c.send(b"GET /exact?q=1 HTTP/1.1\r\nHost: a.test\r\nUser-Agent: t\"ua\r\n"
               b"Referer: http://r/\r\n\r\n")
        c.recv_response()
    time.sleep(0.2)
    log = s.access_log().splitlines()
    check(log, "empty access log")
    pat = (r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
           r'"GET /exact\?q=1 HTTP/1\.1" 200 6 "http://r/" "t\\x22ua"$')
    check(any(re.match(pat, l) for l in log), log[-3:])


def test_config_test_flag(s):
    p = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
    out = (p.stdout + p.stderr).decode()
    check(p.returncode == 0, out)
    check("syntax is ok" in out and "successful" in out, out)
    bad = s.prefix + "/conf/bad.conf"
    with open(bad, "w") as f:
        f.write("http { server { listen 127.0.0.1:1; location / { return 200 \"x\"; } } }\n"
                "http_bogus_directive on;\n")
    p = s.run_cli("-t", "-p", s.prefix + "/", "-c", bad)
    out = (p.stdout + p.stderr).decode()
    check(p.returncode != 0 and "bad.conf:2" in out, out)


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18200))
