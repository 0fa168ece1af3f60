"""t/hostile/test_vg_handlers.py -- a small, representative set of Wasm handler cases for
the valgrind run (t/hostile/valgrind.sh): one process (master_process off), small
transfers and little fuel, so it stays quick under valgrind's ~50x slowdown. Covers a plain
handler, a streamed chunked echo, the host-call boundary (every wrapping pointer case,
forged handles, header injection), a trap before and after the head, fuel exhaustion,
memory growth up to the limit, and a client leaving while its handler waits."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness                     # noqa: E402
from harness import check          # noqa: E402
import gen_abi_wat                 # noqa: E402

H = os.path.abspath("objs/handlers")
CONF = r'''
http {
    server {
        listen 127.0.0.1:%(port)d;
        location /hello   { wasm_handler @H@/hello.wasm; }
        location /echo    { wasm_handler @H@/echo.wasm; }
        location /abi     { wasm_handler @H@/hostile-abi.wasm; wasm_dir data /data; }
        location /misc    { wasm_handler @H@/hostile-misc.wasm; }
        location /trapmid { wasm_handler @H@/test-trapmid.wasm; }
        location /fuel    { wasm_handler @H@/test-loop.wasm; wasm_fuel 3000000; }
        location /grow    { wasm_handler @H@/test-grow.wasm; wasm_memory_limit 4m; }
        location / { return 200 "plain\n"; }
    }
}
'''.replace("@H@", H)
HOST = b"Host: t\r\n"


def get(s, path):
    return s.request(b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST + b"\r\n")


def test_hello(s):
    r = get(s, "/hello")
    check(r.status == 200 and r.body == b"Hello from wasmd!\n", r)


def test_echo_chunked(s):
    data = bytes(range(256)) * 256
    with s.connect(timeout=20) as c:
        c.send(b"POST /echo HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n")
        for off in range(0, len(data), 16384):
            piece = data[off:off + 16384]
            c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
        c.send(b"0\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == data, r.status, len(r.body))


def test_host_boundary(s):
    bad = []
    for name, kind, want in gen_abi_wat.cases():
        r = get(s, "/abi?" + name)
        if kind == "efault":
            ok = r.status == 200 and r.body == b"errno=21"
        elif kind == "inject":
            ok = r.status == 200 and set(r.body) == {ord("1")}
        else:
            ok = r.status == 500
        if not ok:
            bad.append("%s: %r" % (name, r))
    check(not bad, bad)


def test_misc(s):
    check(get(s, "/misc?log").status == 200)
    check(get(s, "/misc?trap").status == 500)
    for q in ("cl-more", "cl-less"):
        with s.connect(timeout=20) as c:
            c.send(b"GET /misc?" + q.encode() + b" HTTP/1.1\r\n" + HOST + b"\r\n")
            check(c.closed(timeout=15), q)


def test_trap_mid_body(s):
    with s.connect(timeout=20) as c:
        c.send(b"GET /trapmid HTTP/1.1\r\n" + HOST + b"\r\n")
        raw = c.recv_all(timeout=15)
        check(b" 200 " in raw.split(b"\r\n")[0] and not raw.endswith(b"0\r\n\r\n"), raw[:100])


def test_fuel_and_memory(s):
    check(get(s, "/fuel").status == 500)
    r = get(s, "/grow")
    check(r.status == 200 and r.body.startswith(b"grew "), r)


def test_client_gone(s):
    c = s.connect()
    c.send(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 100000\r\n\r\n" + b"x" * 100)
    time.sleep(0.5)
    c.close()
    time.sleep(0.5)
    check(get(s, "/hello").status == 200)


if __name__ == "__main__":
    sys.exit(harness.main(CONF, globals(), port=19330, files={"data/hello.txt": b"hello\n"},
                          per_test_timeout=120))
