"""t/proxy/test_features.py -- nginx's proxy behaviours beyond forwarding, side by side with
Debian's nginx where both run: the automatic 301 "/x" -> "/x/" of proxy_pass locations,
proxy_redirect (its default and explicit rules), WebSocket (Upgrade) tunnelling, and
proxy_buffering with a slow client (the upstream released early, the excess spilled to a
temporary file, bounded by proxy_max_temp_file_size).

One http{} body serves wasmd (port 18300) and nginx (18350); the upstreams are started here.
Ports 18300-18399.
"""
import hashlib
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
U2 = 18311          # "Big": /big/N sends N bytes and records when it was done
MIB = 1 << 20
BIGN = 32 * MIB

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
        location /buf/ {{ proxy_pass http://127.0.0.1:{U2}; }}
        location /nobuf/ {{ proxy_pass http://127.0.0.1:{U2}; proxy_buffering off; }}
        location /small/ {{ proxy_pass http://127.0.0.1:{U2}; proxy_max_temp_file_size 2m; }}
        location /nofile/ {{ proxy_pass http://127.0.0.1:{U2}; proxy_max_temp_file_size 0; }}
        location /bigbufs/ {{ proxy_pass http://127.0.0.1:{U2}; proxy_max_temp_file_size 0;
                              proxy_buffers 512 64k; proxy_busy_buffers_size 128k; }}
        location = /r6 {{ proxy_pass http://127.0.0.1:{U1}/up6; }}
        location /x1/ {{
            proxy_pass http://127.0.0.1:{U1}/up/;
            proxy_redirect ~^http://[^/]+/up/(.*)$ /x1/$1;
            proxy_redirect ~*^HTTP://ci\.example/([a-z]+)/(.*)$ https://$host/$2/$1;
            proxy_redirect ~/nocap/ /fixed;
            proxy_redirect default;
        }}
    }}
    server {{
        listen 127.0.0.1:{LISTEN2};
        proxy_redirect http://127.0.0.1:{U1}/ /srv/;
        location /s1/ {{ proxy_pass http://127.0.0.1:{U1}/up/; }}
        location /s2/ {{ proxy_pass http://127.0.0.1:{U1}/up/; proxy_redirect default; }}
    }}
"""


def body_for(listen):
    return BODY.format(LISTEN=listen, LISTEN2=listen + 1, U1=U1, U2=U2)


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


_CYCLE = bytes(range(251)) * (4 * 1024 + 2)     # > 1 MiB + 251


_DIGESTS = {}


def expected_digest(n):
    if n not in _DIGESTS:
        h, off = hashlib.sha256(), 0
        while off < n:
            k = min(1 << 20, n - off)
            h.update(pattern(k, off))
            off += k
        _DIGESTS[n] = h.digest()
    return _DIGESTS[n]


def pattern(n, off=0):
    # bytes off..off+n of the body Big sends: a 251-byte cycle (never aligned with buffers)
    out = bytearray()
    while len(out) < n:
        k = (off + len(out)) % 251
        out += _CYCLE[k:k + min(1 << 20, n - len(out))]
    return bytes(out)


class Big(upstreams._Base):
    """GET /x/N[?accel=no|yes] -> 200 with N bytes; done[path] = the time it had sent all."""

    def __init__(self, port):
        self.done = {}
        self.progress = {}
        self.block = pattern(251 * 4096)
        super().__init__(port)

    def serve(self, s, cid):
        head, rest = upstreams._read_head(s)
        if head is None:
            return
        line, fields = upstreams._fields(head)
        target = line.split(" ")[1]
        n = int(target.split("?")[0].rsplit("/", 1)[1])
        extra = ""
        if "accel=" in target:
            extra = "X-Accel-Buffering: %s\r\n" % target.split("accel=")[1].split("&")[0]
        s.sendall(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n"
                   % (n, extra)).encode())
        sent = 0
        while sent < n:
            k = min(n - sent, len(self.block))
            s.sendall(self.block[:k])
            sent += k
            self.progress[target] = sent
        self.done[target] = time.time()
        time.sleep(0.2)


def get(port, path, headers="", timeout=10):
    raw = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (path, headers)
    with Conn(port, timeout) as c:
        c.send(raw.encode())
        return c.recv_response()


class Env:
    def __init__(self):
        self.big = Big(U2)
        self.ups = [Loc(U1), self.big]
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
    # regex rules (~ and ~*): captures, variables, the whole value replaced, order
    (0, "/x1/a", UP + "/up/k/l?m=1", "http://127.0.0.1:PORT/x1/k/l?m=1"),
    (0, "/x1/a", "http://ci.EXAMPLE/abc/rest", "https://127.0.0.1/rest/abc"),
    (0, "/x1/a", "http://ci.example/ABC/rest", "https://127.0.0.1/rest/ABC"),  # ~*: [a-z] too
    (0, "/x1/a", "http://h/a/nocap/b", "http://127.0.0.1:PORT/fixed"),   # found inside
    (0, "/x1/a", "http://h/a/b", "http://h/a/b"),                        # no rule matches
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
                             ("/x1/a", "5; url=" + UP + "/up/y", "5; url=/x1/y"),
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
        ("location / { proxy_redirect ~^http://a/(.* /$1; }", "regcomp() failed"),
        ("location / { proxy_redirect ~^http://a/(.*) /$2; }", "refers to capture $2"),
        ("location / { proxy_redirect \"~(a{999}){999}\" /; }", "too complex"),
        ("location / { proxy_redirect ~^http://a/(.*) /$1$nosuchvar; }", 'unknown variable'),
        ("location / { proxy_redirect http://a/ $nosuchvar; }", 'unknown variable'),
    ]
    for body, want in cases:
        rc, out = conf_test(body)
        check(rc != 0 and want in out, body, out)
    rc, out = conf_test("location / { proxy_pass http://127.0.0.1:1/a/; proxy_redirect default; "
                        "proxy_redirect http://x/ http://$host/; "
                        "proxy_redirect ~*^http://y/(.*)$ http://$host/$1; }")
    check(rc == 0, out)


# ---------------------------------------------------------------- proxy_buffering

def slow_fetch(e, port, path, pause):
    """Requests path with a tiny receive window, reads the head, reads nothing for
    `pause` seconds (then: did the upstream finish?), then reads the whole body and checks
    every byte. Returns (upstream finished during the pause, seconds it took)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    t0 = time.time()
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        check(d, path, "no head")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), path, head[:200])
    n = int(path.split("?")[0].rsplit("/", 1)[1])
    end = t0 + pause
    while time.time() < end and path not in e.big.done:
        time.sleep(0.05)
    finished = path in e.big.done
    took = e.big.done.get(path, time.time()) - t0
    if os.environ.get("T_VERBOSE"):
        print("     %d %s: upstream sent %d in %.2fs" % (port, path, e.big.progress.get(path, 0),
                                                         took))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MIB)
    h = hashlib.sha256(rest)
    got = len(rest)
    mv = bytearray(1 << 20)
    while True:
        k = s.recv_into(mv)
        if not k:
            break
        h.update(memoryview(mv)[:k])
        got += k
    s.close()
    check(got == n, path, "got", got, "of", n)
    check(h.digest() == expected_digest(n), path, "the body differs from the upstream's")
    e.big.done.pop(path, None)
    return finished, took


BUFFERING = [
    # path, does the upstream finish while the client reads nothing?
    ("/buf/%d" % BIGN, True),                   # on (default): memory, then a temporary file
    ("/nobuf/%d" % BIGN, False),                # off: the upstream waits for the client
    ("/small/%d" % BIGN, False),                # the file stops at 2m
    ("/nofile/%d" % BIGN, False),               # no file: 8 x 4k in memory only
    ("/bigbufs/%d" % (24 * MIB), True),         # no file, but 32 MiB of proxy_buffers
    ("/buf/%d?accel=no" % BIGN, False),         # X-Accel-Buffering: no from the upstream
    ("/nobuf/%d?accel=yes" % BIGN, True),       # X-Accel-Buffering: yes
]


def test_proxy_buffering(e):
    # every case on both servers at once (each fetch has its own tag for the upstream):
    # the ones whose upstream must finish have `pause` seconds for it
    pause = 12.0 if os.environ.get("SANITIZE") else 5.0
    jobs = []
    for i, (path, finishes) in enumerate(BUFFERING):
        for name, port in ([("wasmd", W)] + ([("nginx", N)] if e.n else [])):
            tagged = path + ("&" if "?" in path else "?") + "k=%s%d" % (name, i)
            jobs.append((name, tagged, finishes, port))
    results = {}

    def run(job):
        try:
            results[job] = slow_fetch(e, job[3], job[1], pause)
        except Exception as ex:             # reported below
            results[job] = ex

    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for job in jobs:
        name, path, finishes, _ = job
        r = results.get(job)
        check(not isinstance(r, Exception) and r is not None, name, path, r)
        fin, took = r
        check(fin == finishes, name, path, "upstream finished" if fin else
              "upstream still sending", "after %.1fs" % took)
    log = e.w.error_log()
    check("an upstream response is buffered to a temporary file" in log, log[-2000:])
    left = os.listdir(os.path.join(e.w.prefix, "proxy_temp"))
    check(left == [], "temporary files left", left)


def test_proxy_buffering_workers(e):
    # master + a worker (nobody when run as root, under Landlock and seccomp): the temporary
    # directory is made by the master for the worker, which writes its files there
    srv = harness.Server(("http {\n server {\n listen 127.0.0.1:%d;\n"
                          " location /buf/ { proxy_pass http://127.0.0.1:%d; }\n }\n}\n"
                          % (18391, U2)).replace("%", "%%"), 18391, master=True)
    try:
        srv.start()
        fin, took = slow_fetch(e, 18391, "/buf/%d?k=master" % BIGN,
                               12.0 if os.environ.get("SANITIZE") else 5.0)
        check(fin, "upstream still sending after %.1fs" % took, srv.error_log()[-2000:])
        check("buffered to a temporary file" in srv.error_log(), srv.error_log()[-2000:])
        srv.stop()
    finally:
        srv.cleanup()


def test_proxy_buffers_conf(e):
    cases = [
        ("location / { proxy_buffers 1 4k; }", 'there must be at least 2 "proxy_buffers"'),
        ("location / { proxy_buffers 4 4k; proxy_busy_buffers_size 16k; }",
         '"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus '
         'one buffer'),
        ("location / { proxy_busy_buffers_size 1k; }",
         '"proxy_busy_buffers_size" must be equal to or greater than'),
        ("location / { proxy_max_temp_file_size 1k; }",
         '"proxy_max_temp_file_size" must be equal to zero'),
        ("location / { proxy_temp_file_write_size 1k; }",
         '"proxy_temp_file_write_size" must be equal to or greater than'),
        ("location / { proxy_buffers 8 x; }", 'invalid value "x"'),
        ("location / { proxy_temp_path /tmp/x 3; }", 'invalid value "3"'),
    ]
    for body, want in cases:
        rc, out = conf_test(body)
        check(rc != 0 and want in out, body, out)
    rc, out = conf_test("location / { proxy_pass http://127.0.0.1:1; proxy_buffers 16 8k; "
                        "proxy_busy_buffers_size 16k; proxy_temp_path proxy_tmp 1 2; "
                        "proxy_max_temp_file_size 0; proxy_temp_file_write_size 32k; }")
    check(rc == 0, out)


TESTS = [test_auto_redirect, test_proxy_redirect, test_proxy_redirect_refresh,
         test_proxy_redirect_conf, test_proxy_buffering, test_proxy_buffering_workers,
         test_proxy_buffers_conf]


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
