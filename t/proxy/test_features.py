"""t/proxy/test_features.py -- nginx's proxy behaviours beyond forwarding, side by side with
Debian's nginx where both run: the automatic 301 "/x" -> "/x/" of proxy_pass locations,
proxy_redirect (its default and explicit rules), WebSocket (Upgrade) tunnelling, and
proxy_buffering with a slow client (the upstream released early, the excess spilled to a
temporary file, bounded by proxy_max_temp_file_size).

One http{} body serves wasmd (port 18300) and nginx (18350); the upstreams are started here.
Ports 18300-18399.
"""
import json
import os
import socket
import sys
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "static"))
import harness                                  # noqa: E402
from harness import check, Conn                  # noqa: E402
import sbs                                       # noqa: E402
import upstreams                                 # noqa: E402

W, N = 18300, 18350
U1 = 18310          # "Loc": answers with the fields its query asks for (Location, Refresh)

BODY = """
    server {{
        listen 127.0.0.1:{LISTEN};
        location /api/ {{ proxy_pass http://127.0.0.1:{U1}/; }}
        location = /ex/ {{ proxy_pass http://127.0.0.1:{U1}; }}
        location /both {{ return 200 "both-noslash"; }}
        location /both/ {{ proxy_pass http://127.0.0.1:{U1}; }}
        location ~ ^/rx {{ return 200 "regex"; }}
        location /rx/ {{ proxy_pass http://127.0.0.1:{U1}; }}
        location /st/ {{ return 200 "static-ish"; }}
        location /outer/ {{
            location /outer/in/ {{ proxy_pass http://127.0.0.1:{U1}; }}
        }}
        location /r1/ {{ proxy_pass http://127.0.0.1:{U1}/up/; }}
        location /r2/ {{ proxy_pass http://127.0.0.1:{U1}; }}
        location /r3/ {{ proxy_pass http://127.0.0.1:{U1}/up/; proxy_redirect off; }}
        location /r4/ {{
            proxy_pass http://127.0.0.1:{U1}/up/;
            proxy_redirect http://other.example/ http://$host/o/;
            proxy_redirect default;
        }}
        location ~ ^/r5/ {{ proxy_pass http://127.0.0.1:{U1}; }}
        location = /r6 {{ proxy_pass http://127.0.0.1:{U1}/up6; }}
    }}
    server {{
        listen 127.0.0.1:{LISTEN2};
        proxy_redirect http://127.0.0.1:{U1}/ /srv/;
        location /s1/ {{ proxy_pass http://127.0.0.1:{U1}/up/; }}
        location /s2/ {{ proxy_pass http://127.0.0.1:{U1}/up/; proxy_redirect default; }}
    }}
"""


def body_for(listen):
    return BODY.format(LISTEN=listen, LISTEN2=listen + 1, U1=U1)


class Loc(upstreams._Base):
    """GET /...?h=Name:value&h=... -> 302 with those fields; else 200 with the request line."""

    def serve(self, s, cid):
        rest = b""
        while True:
            head, rest = upstreams._read_head(s, rest)
            if head is None:
                return
            line, fields = upstreams._fields(head)
            body, rest = upstreams._read_body(s, fields, rest)
            self.requests += 1
            target = line.split(" ")[1]
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
            extra = "".join("%s\r\n" % h for h in q.get("h", []))
            out = json.dumps({"line": line}).encode()
            s.sendall(("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n%s\r\n"
                       % (302 if extra else 200, len(out), extra)).encode() + out)


def get(port, path, headers="", timeout=10):
    raw = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (path, headers)
    with Conn(port, timeout) as c:
        c.send(raw.encode())
        return c.recv_response()


class Env:
    def __init__(self):
        self.ups = [Loc(U1)]
        self.w = harness.Server(("http {\n" + body_for(W) + "\n}\n").replace("%", "%%"), W)
        self.n = sbs.NginxServer(body_for(N).replace("%", "%%"), N, {}) \
            if sbs.nginx_bin() else None

    def start(self):
        self.w.start()
        if self.n:
            self.n.start()

    def both(self, path, **kw):
        a = get(W, path, **kw)
        b = get(N, path, **kw) if self.n else None
        return a, b

    def stop(self):
        try:
            self.w.stop()
        finally:
            if self.n:
                self.n.stop()
            self.w.cleanup()
            for u in self.ups:
                u.stop()


def norm(v, port):
    return v.replace(":%d" % port, ":PORT") if v else v


# ---------------------------------------------------------------- auto-redirect

AUTO = [
    # path, wasmd's expected status, expected Location (":PORT" = the server's own port)
    ("/api", 301, "http://127.0.0.1:PORT/api/"),
    ("/api?x=1&y=%20", 301, "http://127.0.0.1:PORT/api/?x=1&y=%20"),
    ("/ex", 301, "http://127.0.0.1:PORT/ex/"),
    ("/both", 200, None),                 # a location named exactly the path wins
    ("/rx", 301, "http://127.0.0.1:PORT/rx/"),   # before any regex
    ("/rxa", 200, None),                  # only the exact path minus '/' redirects
    ("/st", 404, None),                   # no proxy_pass: no redirect
    ("/outer/in", 301, "http://127.0.0.1:PORT/outer/in/"),   # nested
    ("/ap", 404, None),
]


def test_auto_redirect(e):
    for path, status, loc in AUTO:
        a, b = e.both(path)
        check(a.status == status, path, a.status, a.body[:200])
        check(norm(a.header("Location"), W) == loc, path, a.header("Location"))
        if b is not None:
            check(b.status == a.status, path, "nginx", b.status, "wasmd", a.status)
            check(norm(b.header("Location"), N) == norm(a.header("Location"), W), path,
                  "nginx", b.header("Location"), "wasmd", a.header("Location"))
    # the redirected path itself is proxied
    a = get(W, "/api/v?q")
    check(a.status == 200 and json.loads(a.body)["line"] == "GET /v?q HTTP/1.0", a.body)


# ---------------------------------------------------------------- proxy_redirect

def loc(path, *fields):
    return path + "?" + "&".join("h=" + urllib.parse.quote(f, safe="") for f in fields)


UP = "http://127.0.0.1:%d" % U1
REDIRECTS = [
    # server offset, request, Location sent by the upstream, what the client must get
    # (":PORT" = the server's own port, "" = the field is absent)
    (0, "/r1/a", UP + "/up/x?y=1", "http://127.0.0.1:PORT/r1/x?y=1"),   # default with a URI
    (0, "/r1/a", UP + "/other/x", UP + "/other/x"),                     # no match: unchanged
    (0, "/r1/a", "/up/rel", "/up/rel"),               # relative from the upstream: unchanged
    (0, "/r1/a", UP.upper() + "/up/x", UP.upper() + "/up/x"),          # case-sensitive
    (0, "/r2/a", UP + "/z/q", "http://127.0.0.1:PORT/z/q"),              # default, no URI
    (0, "/r3/a", UP + "/up/x", UP + "/up/x"),                            # off
    (0, "/r4/a", "http://other.example/p", "http://127.0.0.1/o/p"),      # a rule, $host
    (0, "/r4/a", UP + "/up/k", "http://127.0.0.1:PORT/r4/k"),          # then default
    (0, "/r5/a", UP + "/up/k", "http://127.0.0.1:PORT/up/k"),          # regex location
    (0, "/r6", UP + "/up6/k", "http://127.0.0.1:PORT/r6/k"),           # exact location
    (1, "/s1/a", UP + "/up/k", "http://127.0.0.1:PORT/srv/up/k"),      # inherited from server
    (1, "/s2/a", UP + "/up/k", "http://127.0.0.1:PORT/s2/k"),          # own rule replaces it
]


def test_proxy_redirect(e):
    for off, path, sent, want in REDIRECTS:
        target = loc(path, "Location: " + sent)
        a = get(W + off, target)
        check(a.status == 302, path, a.status, a.body[:200])
        check(norm(a.header("Location"), W + off) == want, path, sent, "got",
              a.header("Location"), "want", want)
        if e.n:
            b = get(N + off, target)
            check(norm(b.header("Location"), N + off) == want, path, sent, "nginx gives",
                  b.header("Location"))


def test_proxy_redirect_refresh(e):
    for path, sent, want in [("/r1/a", "5; url=" + UP + "/up/y", "5; url=/r1/y"),
                             ("/r1/a", "5; URL=" + UP + "/up/y", "5; URL=/r1/y"),
                             ("/r3/a", "5; url=" + UP + "/up/y", "5; url=" + UP + "/up/y"),
                             ("/r1/a", "5", "5")]:
        target = loc(path, "Refresh: " + sent)
        a = get(W, target)
        check(a.header("Refresh") == want, path, sent, a.header("Refresh"))
        if e.n:
            b = get(N, target)
            check(b.header("Refresh") == want, path, sent, "nginx", b.header("Refresh"))


def conf_test(body):
    s = harness.Server(("http {\n server {\n listen 127.0.0.1:18390;\n%s\n }\n}\n" % body)
                       .replace("%", "%%"), 18390)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        return r.returncode, (r.stdout + r.stderr).decode()
    finally:
        s.cleanup()


def test_proxy_redirect_conf(e):
    cases = [
        ("proxy_redirect default; location / { proxy_pass http://127.0.0.1:1/a/; }",
         '"proxy_redirect default" should be placed after the "proxy_pass" directive'),
        ("location / { proxy_pass http://$host:1/a/; proxy_redirect default; }",
         '"proxy_redirect default" cannot be used with "proxy_pass" directive with variables'),
        ("location / { proxy_pass http://127.0.0.1:1/; proxy_redirect http://a/ /; "
         "proxy_redirect off; }", '"proxy_redirect" directive is duplicate'),
        ("location / { proxy_pass http://127.0.0.1:1/; proxy_redirect off; "
         "proxy_redirect http://a/ /; }", '"proxy_redirect" directive is duplicate'),
        ("location / { proxy_redirect foo; }", 'invalid parameter "foo"'),
        ("location / { proxy_redirect ~^http://a/(.*) /$1; }", "regular expression"),
        ("location / { proxy_redirect http://a/ $nosuchvar; }", 'unknown variable'),
    ]
    for body, want in cases:
        rc, out = conf_test(body)
        check(rc != 0 and want in out, body, out)
    rc, out = conf_test("location / { proxy_pass http://127.0.0.1:1/a/; proxy_redirect default; "
                        "proxy_redirect http://x/ http://$host/; }")
    check(rc == 0, out)


TESTS = [test_auto_redirect, test_proxy_redirect, test_proxy_redirect_refresh,
         test_proxy_redirect_conf]


def main():
    only = os.environ.get("T_ONLY")
    passed = failed = 0
    e = Env()
    try:
        e.start()
    except Exception as ex:
        print("FAIL start: %s" % ex)
        e.stop()
        print("0 passed, 1 failed")
        return 1
    if e.n is None:
        print("note: no nginx binary: side-by-side comparisons skipped")
    for t in TESTS:
        if only and only not in t.__name__:
            continue
        t0 = time.time()
        try:
            t(e)
            passed += 1
            print("ok   test_features %s (%.2fs)" % (t.__name__, time.time() - t0))
        except Exception as ex:
            failed += 1
            print("FAIL test_features %s: %s" % (t.__name__, ex))
            if os.environ.get("T_VERBOSE"):
                traceback.print_exc()
        if e.w.proc.poll() is not None:
            print("FAIL server died after %s\n%s" % (t.__name__, e.w.stderr()[-3000:]))
            failed += 1
            break
    try:
        e.stop()
        passed += 1
        print("ok   test_features teardown (clean logs, no sanitizer reports)")
    except Exception as ex:
        failed += 1
        print("FAIL test_features teardown: %s" % ex)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
