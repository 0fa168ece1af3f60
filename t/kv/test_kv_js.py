"""The JavaScript examples (wasm-handlers/examples/counter.js and shorten.js, componentized
by jco with a world importing wasi:keyvalue and wasi:config: t/component/mkcomp.sh) served
end to end on both backends: LMDB and a redis-server this test starts on a free loopback
port. The counter with zero set-up (the implicit default store), two workers and a second
server incrementing one counter to exactly N, its error answer while Redis is down and
recovery; the shortener's routes and answers (the same checks as shorten.c's, fewer links:
a JS request costs ~40 ms under the interpreter), its links surviving a restart and
readable by the C shortener on the same store (same keys and encoding)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness                                     # noqa: E402
from harness import check                          # noqa: E402
import test_kv as base                             # noqa: E402
import test_kv_redis as rb                         # noqa: E402

C = os.path.join(harness.ROOT, "objs", "component")
COUNTER = os.path.join(C, "counter.js.wasm")
SHORTEN = os.path.join(C, "shorten.js.wasm")
R = rb.R
# a JS request costs ~40 ms of CPU here (x3-5 under the sanitizers): few of them
SAN = os.environ.get("SANITIZE") == "1"
N = 18 if SAN else 36                  # counter increments (a multiple of the 6 connections)
CONNS, PER = (2, 3) if SAN else (4, 5)  # shortener links made concurrently
body, get, post = base.body, base.get, base.post

ZERO = r'''
http {
    access_log off;
    server {
        listen 127.0.0.1:%(port)d;
        location /count { wasm_handler @COUNTER@; }
        location /named { wasm_handler @COUNTER@; wasm_config counter_key other; }
    }
}
'''.replace("@COUNTER@", COUNTER)

SHARED = r'''
http {
    access_log off;
    keyvalue_store default %(store)s;
    server {
        listen 127.0.0.1:%%(port)d;
        location / { wasm_handler @COUNTER@; wasm_config counter_key n; }
    }
}
'''.replace("@COUNTER@", COUNTER)


def workers(srv, n):
    with open(srv.conf_path) as f:
        text = f.read().replace("worker_processes 1;", "worker_processes %d;" % n)
    with open(srv.conf_path, "w") as f:
        f.write(text)


def test_counter_js_zero_setup(s):
    check(body(s, "/count") == "hit 1\n")
    check(body(s, "/count") == "hit 2\n")
    check(body(s, "/named") == "hit 1\n", "wasm_config counter_key picks the key")
    check(os.path.exists(os.path.join(s.prefix, "kv", "default", "data.mdb")),
          "the implicit default store lives under the prefix")


def counter_exact(s, store, n=N):
    """two workers of one server on one store, 6 connections: exactly n after n hits (two
    servers on one store: t/kv test_two_workers_two_servers_exact, with the C handler)"""
    conf = SHARED % {"store": store}
    a = harness.Server(conf, s.port + 1, master=True)
    workers(a, 2)
    try:
        a.start()
        errs = base.hammer([a.port], "/", n, conns=6)
        check(not errs, errs[:5])
        check(body(a, "/") == "hit %d\n" % (n + 1), "exactly N increments from 2 workers")
        a.stop()
    finally:
        a.cleanup()


def test_counter_js_two_workers_lmdb(s):
    counter_exact(s, "lmdb " + os.path.join(s.prefix, "kv", "shared"))


def test_counter_js_two_workers_redis(s):
    counter_exact(s, "redis redis://127.0.0.1:%d/7" % R.port)


def test_counter_js_redis_down(s):
    """Redis killed: the JS counter answers its error (503 with the store's other(...)
    message) at once, and counts on when Redis is back."""
    a = harness.Server(SHARED % {"store": "redis redis://127.0.0.1:%d/9" % R.port},
                       s.port + 3, master=True)
    try:
        a.start()
        check(body(a, "/") == "hit 1\n")
        R.kill()
        t0 = time.time()
        r = get(a, "/")
        check(r.status == 503 and b"redis 127.0.0.1:%d" % R.port in r.body, r.status, r.body)
        check(time.time() - t0 < 2.0, "answered at once", time.time() - t0)
        R.start()
        end = time.time() + 5
        while time.time() < end:
            r = get(a, "/")
            if r.status == 200:
                break
            time.sleep(0.1)
        check(r.status == 200 and r.body == b"hit 1\n", "recovers (a fresh redis: counts anew)",
              r.status, r.body)
        a.check_logs = False          # the example logs its store errors
        a.stop()
    finally:
        a.cleanup()


# /s/ and /h/: shorten.js (as test_kv's SHORT); /c/: the C shortener on the same store
SHORT = base.SHORT.replace(base.H + "/shorten.wasm", SHORTEN).replace(
    "        location /h/", "        location /c/ { wasm_handler " + base.H + "/shorten.wasm; "
    "wasm_keyvalue links;\n                       wasm_config store links; "
    "wasm_config base_url https://sho.rt/c; }\n        location /h/")


def shortener(s, store, port):
    """shorten.js on store (two workers), beside the C shortener on the same store: the JS
    links resolve and count visits in C and the other way round (same keys, same codes)."""
    conf = SHORT.replace("lmdb %(store)s", "%(store)s") % {"store": store}
    a = harness.Server(conf, port, master=True)
    workers(a, 2)
    try:
        a.start()
        code = base.shortener_checks(a, conns=CONNS, per=PER)
        r = get(a, "/c/" + code)
        check(r.status == 302 and r.header("location") == "https://example.com/a/very/long/path?x=1",
              "a JS link resolves in C", r.status)
        check(body(a, "/c/%s.stats" % code) == "visits 3\n", "visits counted by both")
        r = post(a, "/c/", b"https://from-c.example/")
        check(r.status == 201 and r.body.decode().startswith("https://sho.rt/c/"), r.status)
        ccode = r.body.decode().strip().rsplit("/", 1)[1]
        check(ccode != code, "the C shortener continues the same code counter")
        r = get(a, "/s/" + ccode)
        check(r.status == 302 and r.header("location") == "https://from-c.example/",
              "a C link resolves in JS", r.status, r.header("location"))
        a.check_logs = False          # no errors are expected, but the example logs them
        a.stop()
    finally:
        a.cleanup()


def test_shortener_js_lmdb(s):
    shortener(s, "lmdb " + os.path.join(s.prefix, "kv", "links"), s.port + 4)


def test_shortener_js_redis(s):
    shortener(s, "redis redis://127.0.0.1:%d/8" % R.port, s.port + 7)


if __name__ == "__main__":
    for f in (COUNTER, SHORTEN):
        if not os.path.exists(f):
            print("FAIL %s is not built (make components)\n0 passed, 1 failed" % f)
            sys.exit(1)
    try:
        R.start()
        rc = harness.main(ZERO, globals(), port=19680, master=True, per_test_timeout=180)
    finally:
        R.cleanup()
    sys.exit(rc)
