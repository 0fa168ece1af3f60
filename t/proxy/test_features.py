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
    }}
"""


def body_for(listen):
    return BODY.format(LISTEN=listen, U1=U1)


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


TESTS = [test_auto_redirect]


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
