"""wasi:keyvalue and wasi:config end to end through a C handler (t/kv/kv-test.c) on the LMDB
backend: every store/atomics/batch call and both config calls, grants (access-denied,
no-such-store), limits, map full, hostile keys and handle floods, cursor paging, exact
counters from two workers and two servers sharing one store (increment and CAS retries),
values surviving kill -9 of the worker and a restart, and configuration errors with
file:line."""
import os
import signal
import subprocess
import sys
import threading
import time

import harness
from harness import check

H = os.path.abspath("objs/handlers")

CONF = r'''
http {
    access_log off;
    keyvalue_store default lmdb %(prefix)s/kv/default;
    keyvalue_store big lmdb %(prefix)s/kv/big;
    keyvalue_store tiny lmdb %(prefix)s/kv/tiny max_size=1m;
    keyvalue_store secret lmdb %(prefix)s/kv/secret;
    wasm_config base_url https://s.example;
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            wasm_handler @H@/kv-test.wasm;
            wasm_keyvalue default big tiny;
            wasm_keyvalue_limits 256 4m;
            wasm_config greeting hello;
            location /nested/ { wasm_handler @H@/kv-test.wasm; wasm_config greeting nested; }
        }
        location /small/ { wasm_handler @H@/kv-test.wasm; wasm_keyvalue_limits 16 100; }
        location /none/ { wasm_handler @H@/kv-test.wasm; wasm_keyvalue off; }
    }
}
'''.replace("@H@", H)


def get(s, path):
    return s.request(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")


def body(s, path, status=200):
    r = get(s, path)
    check(r.status == status, path, r.status, r.body)
    return r.body.decode("latin-1")


def test_store_calls(s):
    check(body(s, "/set?k=a&v=hello") == "ok")
    check(body(s, "/get?k=a") == "hello")
    check(body(s, "/exists?k=a") == "yes")
    check(body(s, "/exists?k=zz") == "no")
    check(body(s, "/get?k=zz", 404) == "none")
    check(body(s, "/del?k=a") == "ok")
    check(body(s, "/get?k=a", 404) == "none")
    check(body(s, "/del?k=a") == "ok", "deleting a missing key is fine")
    # binary value bytes round-trip unchanged
    r = get(s, "/set?k=bin&v=%00%01%ff%fe")
    check(r.status == 200, r)
    check(get(s, "/get?k=bin").body == b"\x00\x01\xff\xfe")


def test_increment_ascii_decimal(s):
    check(body(s, "/incr?k=newcounter&n=3") == "3", "a missing key starts at delta")
    check(body(s, "/set?k=five&v=5") == "ok")
    check(body(s, "/incr?k=five&n=2") == "7")
    check(body(s, "/get?k=five") == "7", "stored as ASCII decimal")
    check(body(s, "/incr?k=five&n=-10") == "-3")
    check(body(s, "/set?k=word&v=abc") == "ok")
    b = body(s, "/incr?k=word", 409)
    check(b.startswith("err 3 ") and "not an integer" in b, b)


def test_batch(s):
    check(body(s, "/batch") == "b1=one;-;b2=two;b3=three;deleted")


def test_cas(s):
    check(body(s, "/casincr?k=c1") == "1")
    check(body(s, "/casincr?k=c1") == "1")
    check(body(s, "/get?k=c1") == "2")
    check(body(s, "/caslost?k=c2") == "cas-failed")
    check(body(s, "/get?k=c2") == "other", "the failed swap wrote nothing")


def test_config(s):
    check(body(s, "/config?k=base_url") == "https://s.example", "inherited from http")
    check(body(s, "/config?k=greeting") == "hello")
    check(body(s, "/config?k=nope", 404) == "none")
    check(body(s, "/nested/config?k=greeting") == "nested")
    check(body(s, "/nested/config?k=base_url") == "https://s.example")
    check(body(s, "/configall") == "base_url=https://s.example\ngreeting=hello\n")


def test_grants(s):
    check(body(s, "/open?s=big") == "ok")
    check(body(s, "/open?s=secret", 409) == "err 2 ", "exists, not granted: access-denied")
    check(body(s, "/open?s=nosuch", 409) == "err 1 ", "unknown: no-such-store")
    check(body(s, "/none/open?s=default", 409) == "err 2 ", "wasm_keyvalue off")
    check(body(s, "/small/open?s=default") == "ok", "no wasm_keyvalue: default is granted")
    check(body(s, "/small/open?s=big", 409) == "err 2 ")


def test_limits(s):
    check(body(s, "/small/set?k=" + "k" * 16 + "&v=x") == "ok")
    b = body(s, "/small/set?k=" + "k" * 17 + "&v=x", 409)
    check("err 3 key of 17 bytes is longer than the limit of 16" in b, b)
    b = body(s, "/small/get?k=" + "k" * 17, 409)
    check("longer than the limit" in b, b)
    check(body(s, "/small/setbig?k=v&n=100") == "ok")
    b = body(s, "/small/setbig?k=v&n=101", 409)
    check("value of 101 bytes is larger than the limit of 100" in b, b)


def test_map_full(s):
    for i in range(8):
        r = get(s, "/setbig?s=tiny&k=f%d&n=300000" % i)
        if r.status != 200:
            break
    check(r.status == 409 and b"store is full (max_size=1048576 bytes)" in r.body, r.status, r.body)
    check(body(s, "/get?s=tiny&k=f0").startswith("xxx"), "earlier values are intact")
    check(body(s, "/del?s=tiny&k=f0") == "ok")


def test_hostile_keys(s):
    r = get(s, "/set?k=%ff%fe&v=x")
    check(r.status == 500, "invalid UTF-8 key traps the request", r.status)
    check(body(s, "/set?k=%e2%82%ac%00x&v=euro") == "ok", "UTF-8 with NUL is a key")
    check(body(s, "/get?k=%e2%82%ac%00x") == "euro")
    check(body(s, "/get?k=%e2%82%ac", 404) == "none")
    b = body(s, "/get?k=", 409)
    check("empty key" in b, b)
    b = body(s, "/set?k=" + "h" * 300 + "&v=x", 409)
    check("longer than the limit of 256" in b, b)


def test_open_flood(s):
    check(body(s, "/openmany?n=100000") == "ok", "100,000 opens with drops")
    r = get(s, "/openmany?n=100000&v=keep")
    check(r.status == 500, "handles are bounded", r.status)
    check(body(s, "/openmany?n=1000&v=keep") == "ok", "and freed on reset")


def walk_pages(s, store, between=None):
    """list-keys page by page, one request each (the cursor goes back through the client, as
    a guest paging across requests would): the pages' keys. between(i) runs after page i."""
    import urllib.parse
    pages, cur = [], None
    while True:
        path = "/page?s=" + store + ("&c=" + urllib.parse.quote(cur, safe="") if cur else "")
        lines = body(s, path).split("\n")
        check(lines[0].startswith("ok "), lines[0])
        pages.append(lines[1:])
        if between:
            between(len(pages) - 1)
        cur = lines[0][3:]
        if cur == "-":
            return pages
        check(len(pages) < 100, "the cursor ends")


def test_list_paging(s):
    check(body(s, "/fill?s=big&k=p&n=2500") == "ok")
    check(body(s, "/list?s=big") == "ok 2500 3", "1000 keys a page, cursor to the end")
    pages = walk_pages(s, "big")
    keys = [k for p in pages for k in p]
    check([len(p) for p in pages] == [1000, 1000, 500], [len(p) for p in pages])
    check(keys == sorted(set(keys)) and len(keys) == 2500 and keys[0] == "p000000"
          and keys[-1] == "p002499", "every key once, in byte order", len(keys), len(set(keys)))


def lmdb_hold_writer(path, seconds):
    """Another process holding the store's LMDB writer lock for a while (a write transaction
    begun through liblmdb and kept open), as a slow writer in another worker or server would."""
    code = r'''
import ctypes, sys, time
l = ctypes.CDLL("liblmdb.so.0")
env, txn = ctypes.c_void_p(), ctypes.c_void_p()
assert l.mdb_env_create(ctypes.byref(env)) == 0
l.mdb_env_set_mapsize(env, ctypes.c_size_t(256 << 20))
l.mdb_env_set_maxreaders(env, 1024)
assert l.mdb_env_open(env, sys.argv[1].encode(), 0x10000 | 0x200000, 0o600) == 0
assert l.mdb_txn_begin(env, None, 0, ctypes.byref(txn)) == 0
print("held", flush=True)
time.sleep(float(sys.argv[2]))
l.mdb_txn_abort(txn)
'''
    p = subprocess.Popen([sys.executable, "-c", code, path, str(seconds)],
                         stdout=subprocess.PIPE)
    check(p.stdout.readline().strip() == b"held", "writer lock taken")
    return p


def test_writes_do_not_block_the_loop(s):
    """A write waiting for LMDB's writer lock suspends its request on libuv's thread pool;
    the worker (one here) keeps answering reads meanwhile, and the write lands after."""
    check(body(s, "/set?k=rd&v=there") == "ok")
    holder = lmdb_hold_writer(os.path.join(s.prefix, "kv", "default"), 2.0)
    res = {}

    def writer():
        t0 = time.time()
        with harness.Conn(s.port, 10.0) as c:
            c.send(b"GET /set?k=waits&v=done HTTP/1.1\r\nHost: t\r\n\r\n")
            res["r"] = c.recv_response()
        res["t"] = time.time() - t0
    try:
        th = threading.Thread(target=writer)
        th.start()
        time.sleep(0.1)
        t0 = time.time()
        check(body(s, "/config?k=greeting") == "hello")
        check(body(s, "/get?k=rd") == "there", "reads go on while a write waits")
        check(time.time() - t0 < 1.0, "served at once", time.time() - t0)
        th.join(5)
        check(res["r"].status == 200 and res["t"] >= 1.5, "the write waited for the lock",
              res["r"].status, res["t"])
        check(body(s, "/get?k=waits") == "done")
    finally:
        holder.wait()


def test_config_errors(s):
    conf = os.path.join(s.prefix, "conf", "bad.conf")
    cases = [
        ("keyvalue_store x redis2 /tmp/x;", "unknown backend", 3),
        ("keyvalue_store x lmdb /tmp/x max_size=12;", "invalid max_size", 3),
        ("keyvalue_store b@d lmdb /tmp/x;", "invalid name", 3),
        ("server { location / { wasm_handler %s/kv-test.wasm;\nwasm_keyvalue nosuch; } }" % H,
         "no keyvalue_store named \"nosuch\"", 4),
        ("wasm_keyvalue_limits 1000 1m;", "key limit", 3),
        ("wasm_config a;", "invalid number of arguments", 3),
    ]
    for text, want, line in cases:
        with open(conf, "w") as f:
            f.write("events {}\nhttp {\n%s\n}\n" % text)
        p = s.run_cli("-t", "-p", s.prefix + "/", "-c", conf)
        err = p.stderr.decode()
        check(p.returncode != 0 and want in err and "bad.conf:%d" % line in err, text, err)


# ---------------------------------------------------------------- several processes

SHARED = r'''
http {
    access_log off;
    keyvalue_store shared lmdb %(store)s;
    server {
        listen 127.0.0.1:%%(port)d;
        location / { wasm_handler @H@/kv-test.wasm; wasm_keyvalue shared; }
    }
}
'''.replace("@H@", H)


def hammer(ports, path, n, conns=8):
    errors = []
    per = n // conns

    def run(i):
        port = ports[i % len(ports)]
        try:
            with harness.Conn(port, 10.0) as c:
                for _ in range(per):
                    c.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
                    r = c.recv_response()
                    if r.status != 200:
                        errors.append(r.status)
        except Exception as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def test_two_workers_two_servers_exact(s):
    store = os.path.join(s.prefix, "kv", "shared")
    conf = SHARED % {"store": store}
    a = harness.Server(conf, s.port + 10, master=True)
    b = harness.Server(conf, s.port + 20, master=True)
    with open(a.conf_path) as f:
        text = f.read().replace("worker_processes 1;", "worker_processes 2;")
    with open(a.conf_path, "w") as f:
        f.write(text)
    try:
        a.start()
        b.start()
        errs = hammer([a.port, b.port], "/incr?s=shared&k=n", 800)
        check(not errs, errs[:5])
        check(body(a, "/get?s=shared&k=n") == "800", "exactly N increments")
        errs = hammer([a.port, b.port], "/casincr?s=shared&k=m", 400)
        check(not errs, errs[:5])
        check(body(b, "/get?s=shared&k=m") == "400", "exactly N CAS increments")
        a.stop()
        b.stop()
    finally:
        a.cleanup()
        b.cleanup()


def test_kill9_and_restart(s):
    store = os.path.join(s.prefix, "kv", "durable")
    conf = SHARED % {"store": store}
    a = harness.Server(conf, s.port + 30, master=True)
    try:
        a.start()
        pid = a.worker_pid()
        check(body(a, "/set?s=shared&k=d&v=survives") == "ok")
        os.kill(pid, signal.SIGKILL)
        end = time.time() + 5
        while time.time() < end:
            np = a.worker_pid()
            if np and np != pid:
                break
            time.sleep(0.05)
        check(np and np != pid, "worker respawned")
        a.wait_port()
        check(body(a, "/get?s=shared&k=d") == "survives", "after kill -9 of the worker")
        a.proc.kill()          # kill -9 of the master too
        a.proc.wait()
        os.kill(np, signal.SIGKILL) if os.path.exists("/proc/%d" % np) else None
        time.sleep(0.2)
    finally:
        a.check_logs = False
        a.cleanup()
    b = harness.Server(conf, s.port + 31, master=True)
    try:
        b.start()
        check(body(b, "/get?s=shared&k=d") == "survives", "after a restart")
        b.stop()
    finally:
        b.cleanup()


ZERO = r'''
http {
    access_log off;
    server {
        listen 127.0.0.1:%(port)d;
        location /count { wasm_handler @H@/counter.wasm; }
        location /named { wasm_handler @H@/counter.wasm; wasm_config counter_key other; }
    }
}
'''.replace("@H@", H)


def test_counter_example_zero_setup(s):
    a = harness.Server(ZERO, s.port + 40, master=True)
    try:
        a.start()
        check(body(a, "/count") == "hit 1\n")
        check(body(a, "/count") == "hit 2\n")
        check(body(a, "/named") == "hit 1\n", "wasm_config picks the key")
        check(os.path.exists(os.path.join(a.prefix, "kv", "default", "data.mdb")),
              "the implicit default store lives under the prefix")
        a.stop()
    finally:
        a.cleanup()


def test_single_process_store(s):
    """master_process off (one process, which keeps its identity): the store it created is
    usable (as root, the files used to be given to the workers' user and then refused)."""
    store = os.path.join(s.prefix, "kv", "single")
    a = harness.Server(SHARED % {"store": store}, s.port + 47, master=False)
    try:
        a.start()
        check(body(a, "/incr?s=shared&k=one") == "1")
        check(body(a, "/incr?s=shared&k=one") == "2")
        a.stop()
    finally:
        a.cleanup()


SHORT = r'''
http {
    access_log off;
    keyvalue_store links lmdb %(store)s;
    server {
        listen 127.0.0.1:%%(port)d;
        location /s/ { wasm_handler @H@/shorten.wasm; wasm_keyvalue links;
                       wasm_config store links; wasm_config base_url https://sho.rt/s; }
        location /h/ { wasm_handler @H@/shorten.wasm; wasm_keyvalue links;
                       wasm_config store links; }
    }
}
'''.replace("@H@", H)


def post(s, path, data):
    return s.request(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nContent-Length: "
                     + str(len(data)).encode() + b"\r\n\r\n" + data)


def shortener_checks(a, conns=8, per=25):
    """The URL shortener (shorten.c, shorten.js) on server a (/s/ with base_url
    https://sho.rt/s, /h/ without): links, redirects, visit counts, bad URLs, unknown codes,
    conns x per links made concurrently all distinct and resolving. Returns a code."""
    r = post(a, "/s/", b"https://example.com/a/very/long/path?x=1\n")
    check(r.status == 201, r.status, r.body)
    link = r.body.decode().strip()
    check(link.startswith("https://sho.rt/s/") and r.header("location") == link, link,
          "wasm_config base_url gives the link")
    code = link.rsplit("/", 1)[1]
    r = get(a, "/s/" + code)
    check(r.status == 302 and r.header("location") == "https://example.com/a/very/long/path?x=1",
          r.status, r.header("location"))
    get(a, "/s/" + code)
    check(body(a, "/s/%s.stats" % code) == "visits 2\n", "visits counted")
    r = post(a, "/h/?url=http%3A%2F%2Fexample.org%2Fq", b"")
    check(r.status == 201 and r.body.decode().startswith("http://t/s/"), r.status, r.body,
          "without base_url: http://HOST/s")
    code2 = r.body.decode().strip().rsplit("/", 1)[1]
    check(code2 != code, "a new code per link")
    r = get(a, "/h/" + code2)
    check(r.status == 302 and r.header("location") == "http://example.org/q", r.header("location"))
    for bad in (b"ftp://x/y", b"not a url", b"https://", b"https://a b", b"http://x/" + b"a" * 2100):
        r = post(a, "/s/", bad)
        check(r.status == 400, bad[:40], r.status)
    check(get(a, "/s/zzzzzz").status == 404, "unknown code")
    check(get(a, "/s/a%2fb").status == 404, "not a code")
    check(a.request(b"DELETE /s/x HTTP/1.1\r\nHost: t\r\n\r\n").status == 405)
    # many links from many connections (two workers): all distinct, all resolving
    codes, errs = {}, []

    def make(i):
        try:
            with harness.Conn(a.port, 30.0) as c:
                for j in range(per):
                    u = b"https://e.example/%d/%d" % (i, j)
                    c.send(b"POST /s/ HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s"
                           % (len(u), u))
                    r = c.recv_response()
                    if r.status != 201:
                        errs.append(r.status)
                    else:
                        codes[r.body.decode().strip()] = u
        except Exception as e:
            errs.append(repr(e))
    ts = [threading.Thread(target=make, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errs and len(codes) == conns * per, errs[:3], len(codes),
          "%d distinct links" % (conns * per))
    some = list(codes.items())[::max(1, conns * per // 6)]
    for l, u in some:
        r = get(a, "/s/" + l.rsplit("/", 1)[1])
        check(r.status == 302 and r.header("location") == u.decode(), l, r.header("location"))
    return code


def test_url_shortener_example(s):
    """wasm-handlers/examples/shorten.c end to end: links made by POST (body or ?url=), the
    base URL from wasm_config (or the Host), redirects, visit counts, bad URLs, unknown
    codes, distinct codes from two workers, links kept across a restart."""
    store = os.path.join(s.prefix, "kv", "links")
    a = harness.Server(SHORT % {"store": store}, s.port + 45, master=True)
    with open(a.conf_path) as f:
        text = f.read().replace("worker_processes 1;", "worker_processes 2;")
    with open(a.conf_path, "w") as f:
        f.write(text)
    try:
        a.start()
        code = shortener_checks(a)
        a.stop()
    finally:
        a.cleanup()
    # restarted, and served by the same example wrapped as a component (mkcomp.sh)
    comp = os.path.join(harness.ROOT, "objs", "component", "shorten.comp.wasm")
    check(os.path.exists(comp), "objs/component/shorten.comp.wasm is built (make components)")
    b = harness.Server((SHORT % {"store": store}).replace(H + "/shorten.wasm", comp),
                       s.port + 46, master=True)
    try:
        b.start()
        r = get(b, "/s/" + code)
        check(r.status == 302, "links survive a restart", r.status)
        r = post(b, "/s/", b"https://component.example/x")
        check(r.status == 201, r.status, r.body)
        r = get(b, "/s/" + r.body.decode().strip().rsplit("/", 1)[1])
        check(r.status == 302 and r.header("location") == "https://component.example/x",
              "the component shortens and redirects", r.status)
        b.stop()
    finally:
        b.cleanup()


if __name__ == "__main__":
    harness.main(CONF, globals(), port=19600, master=True, per_test_timeout=60)
