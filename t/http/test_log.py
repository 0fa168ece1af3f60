"""Access log: log_format with variables, escaping, several logs, off per location,
errors logged, default combined format."""
import json
import re
import time

import harness
from harness import check

CONF = r'''
http {
    log_format vars '$request_method|$uri|$args|$host|$status|$body_bytes_sent|'
                    '$bytes_sent|$request_length|$request_time|$msec|$connection|'
                    '$connection_requests|$http_x_custom|$sent_http_content_type|'
                    '$sent_http_x_added|$server_protocol|$request_uri|$arg_b|${remote_addr}x';
    log_format js escape=json '{"ua":"$http_user_agent","st":$status}';
    access_log logs/access.log;
    server {
        listen 127.0.0.1:%(port)d;
        server_name srv.test;
        access_log logs/vars.log vars;
        access_log logs/json.log js;
        location / { add_header X-Added yes; return 200 "hello\n"; }
        location /quiet { access_log off; return 200 "q\n"; }
        location /default { access_log logs/combined.log; return 200 "d\n"; }
    }
}
'''

H = b"Host: Srv.Test:1234\r\n"


def lines(s, name):
    time.sleep(0.3)
    try:
        with open(s.prefix + "/logs/" + name, encoding="latin-1") as f:
            return f.read().splitlines()
    except OSError:
        return []


def test_variables(s):
    with s.connect() as c:
        for i in range(2):
            c.send(b"GET /a/../x%20y?a=1&b=two HTTP/1.1\r\n" + H + b"X-Custom: cv\r\n\r\n")
            r = c.recv_response()
            check(r.status == 200, r)
    l = lines(s, "vars.log")
    check(len(l) >= 2, l)
    f = l[-1].split("|")
    check(len(f) == 19, f)
    check(f[0] == "GET" and f[1] == "/x y" and f[2] == "a=1&b=two" and f[3] == "srv.test", f)
    check(f[4] == "200" and f[5] == "6", f)
    check(int(f[6]) > 100, "bytes_sent includes the header", f)
    check(int(f[7]) == len(b"GET /a/../x%20y?a=1&b=two HTTP/1.1\r\n" + H + b"X-Custom: cv\r\n\r\n"), f)
    check(re.match(r"^\d+\.\d{3}$", f[8]) and re.match(r"^\d{10}\.\d{3}$", f[9]), f)
    check(f[11] == "2" and l[-2].split("|")[11] == "1", "connection_requests", f)
    check(f[10] == l[-2].split("|")[10], "same $connection", f)
    check(f[12] == "cv" and f[13] == "text/plain" and f[14] == "yes", f)
    check(f[15] == "HTTP/1.1" and f[16] == "/a/../x%20y?a=1&b=two" and f[17] == "two", f)
    check(f[18] == "127.0.0.1x", f)


def test_json_escape(s):
    s.request(b"GET / HTTP/1.1\r\n" + H + b"User-Agent: a\"b\\c\r\n\r\n")
    l = lines(s, "json.log")
    d = json.loads(l[-1])
    check(d == {"ua": "a\"b\\c", "st": 200}, d)


def test_default_escape_and_dash(s):
    s.request(b"GET /default HTTP/1.1\r\n" + H + b"User-Agent: x\"y\xff\r\n\r\n")
    l = lines(s, "combined.log")
    check(l and l[-1].endswith('"GET /default HTTP/1.1" 200 2 "-" "x\\x22y\\xFF"'), l[-1:])


def test_access_log_off(s):
    s.request(b"GET /quiet HTTP/1.1\r\n" + H + b"\r\n")
    for name in ("vars.log", "json.log", "access.log", "combined.log"):
        check(not any("/quiet" in x for x in lines(s, name)), name)


def test_errors_logged(s):
    with s.connect() as c:
        c.send(b"GET /\x01 HTTP/1.1\r\n" + H + b"\r\n")
        r = c.recv_response()
        check(r.status == 400)
    with s.connect() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: srv.test\r\nHost: b\r\n\r\n")
        check(c.recv_response().status == 400)
    # logged with the default server's configuration (its server-level access_log)
    l = lines(s, "vars.log")
    check(sum(1 for x in l if x.split("|")[4] == "400") >= 2, l[-3:])


def test_server_level_default_file(s):
    # the server has its own access_log directives, so http's logs/access.log only gets
    # requests of servers without any: none here except error responses before routing
    l = lines(s, "vars.log")
    check(l, "vars.log written")


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18250))
