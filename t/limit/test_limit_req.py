"""limit_req and limit_conn: the cases of nginx's documentation, side by side with Debian's
nginx (the same http{} body on port + 50): which requests of a burst pass, are delayed (and
by how long) or are rejected, with `burst`, `nodelay`, `delay=`, `limit_req_status`,
`limit_req_dry_run`, $limit_req_status, inheritance, keys that are empty, limit_conn
while a response is in progress, and what -t says about bad or unsupported directives."""
import os
import selectors
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "static"))
from sbs import Tree, Pair, check, harness   # noqa: E402

PORT = 19740

CONF = r'''
limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
limit_req_zone $http_x_k zone=k:1m rate=10r/s;
limit_req_zone $http_x_k zone=slow:64k rate=1r/m;
limit_conn_zone $http_x_k zone=kc:1m;
limit_req_zone $http_x_k zone=small:32k rate=1r/m;
server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
    location = /doc.txt { limit_req zone=one; }
    location /burst/ { limit_req zone=k burst=3; }
    location /nodelay/ { limit_req zone=k burst=3 nodelay; }
    location /twostage/ { limit_req zone=k burst=4 delay=2; }
    location /status/ { limit_req zone=slow; limit_req_status 429; limit_req_log_level warn; }
    location /dry/ { limit_req zone=slow; limit_req_dry_run on;
                     add_header X-LR $limit_req_status always; }
    location /var/ { limit_req zone=slow nodelay; add_header X-LR $limit_req_status always; }
    location /outer/ {
        limit_req zone=slow;
        location /outer/own/ { limit_req zone=k burst=5 nodelay; }
    }
    location /conn/ { limit_conn kc 1; limit_conn_status 429; }
    location /small/ { limit_req zone=small; }
    location /ret { limit_req zone=slow; return 200 "return runs before limit_req\n"; }
}
'''

FILES = ["small/f", "doc.txt", "burst/f", "nodelay/f", "twostage/f", "status/f", "dry/f", "var/f",
         "outer/f", "outer/inner/f", "outer/own/f", "conn/small"]


def req(path, key=None, method="GET"):
    h = "X-K: %s\r\n" % key if key else ""
    return ("%s %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
            % (method, path, h)).encode()


def burst(port, path, key, n):
    """n requests sent back to back on n connections; (status, seconds) of each."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    t0 = time.time()
    for c in conns:
        c.sendall(req(path, key))
    data = {c: b"" for c in conns}
    done = {}
    sel = selectors.DefaultSelector()
    for c in conns:
        sel.register(c, selectors.EVENT_READ)
    while len(done) < n and time.time() - t0 < 10:
        for key, _ in sel.select(timeout=1):
            c = key.fileobj
            d = c.recv(65536)
            if d:
                data[c] += d
            else:
                done[c] = time.time() - t0
                sel.unregister(c)
    out = []
    for c in conns:
        out.append((int(data[c].split(b" ", 2)[1]) if data[c] else 0, done.get(c, 99)))
        c.close()
    return out


def servers(pair):
    yield "wasmd", pair.wasmd.port, pair.wasmd
    if pair.nginx:
        yield "nginx", pair.nginx.port, pair.nginx


def statuses(res):
    return [s for s, _ in res]


# ---------------------------------------------------------------- the cases

def case_doc_no_burst(pair):
    """limit_req zone=one (1r/s, $binary_remote_addr): the 2nd..5th request of a burst 503"""
    got = {}
    for name, port, _ in servers(pair):
        got[name] = statuses(burst(port, "/doc.txt", None, 5))
        check(got[name] == [200, 503, 503, 503, 503], name, got[name])
    time.sleep(1.1)
    for name, port, _ in servers(pair):
        check(statuses(burst(port, "/doc.txt", None, 1)) == [200], name, "after 1 s")


def case_burst_delays(pair):
    """burst=3 at 10r/s: 4 pass, spaced by 100 ms; the 5th and 6th are rejected at once"""
    for name, port, _ in servers(pair):
        res = burst(port, "/burst/f", "b-" + name, 6)
        check(statuses(res) == [200, 200, 200, 200, 503, 503], name, res)
        t = [x[1] for x in res]
        check(t[0] < t[1] - 0.05, name, "first not delayed", res)
        for i, want in ((1, 0.1), (2, 0.2), (3, 0.3)):
            check(want - 0.03 < t[i] < want + 0.2, name, "request %d after %.3f s" % (i, t[i]),
                  res)


def case_nodelay(pair):
    """burst=3 nodelay: 4 pass at once, then 503; slots come back at the rate"""
    for name, port, _ in servers(pair):
        res = burst(port, "/nodelay/f", "n-" + name, 6)
        check(statuses(res) == [200, 200, 200, 200, 503, 503], name, res)
        check(max(t for _, t in res) < 0.25, name, "nothing delayed (without nodelay the 4th "
              "would wait 300 ms)", res)
        time.sleep(0.25)        # two slots drained at 10r/s (three on a slow machine)
        res = burst(port, "/nodelay/f", "n-" + name, 4)
        st = statuses(res)
        check(st in ([200, 200, 503, 503], [200, 200, 200, 503]), name, "after 250 ms", res)


def case_two_stage(pair):
    """burst=4 delay=2 (the documentation's two-stage limiting): 3 at once, 2 delayed, 503"""
    for name, port, _ in servers(pair):
        res = burst(port, "/twostage/f", "t-" + name, 7)
        check(statuses(res) == [200, 200, 200, 200, 200, 503, 503], name, res)
        t = [x[1] for x in res]
        check(max(t[:3]) < t[3] - 0.05, name, "first three not delayed", res)
        check(0.07 < t[3] < 0.3 and 0.17 < t[4] < 0.4, name, "4th and 5th delayed", res)
        check(t[5] < t[3] and t[6] < t[3], name, "the 6th rejected at once", res)


def case_status_and_log(pair):
    """limit_req_status 429 and limit_req_log_level warn: the line nginx writes"""
    for name, port, srv in servers(pair):
        res = burst(port, "/status/f", "s-" + name, 3)
        check(statuses(res) == [200, 429, 429], name, res)
        log = srv.error_log()
        check('[warn]' in log and 'limiting requests, excess: 1.000 by zone "slow"' in log,
              name, log[-1500:])


def case_dry_run(pair):
    """limit_req_dry_run on: nothing rejected, $limit_req_status says REJECTED_DRY_RUN"""
    a, b = pair.both(req("/dry/f", "d"))
    a2, b2 = pair.both(req("/dry/f", "d"))
    for name, r1, r2 in (("wasmd", a, a2), ("nginx", b, b2)):
        if r1 is None:
            continue
        check(r1.status == 200 and r1.header("X-LR") == "PASSED", name, r1)
        check(r2.status == 200 and r2.header("X-LR") == "REJECTED_DRY_RUN", name, r2)
    log = pair.wasmd.error_log()
    check('limiting requests, dry run, excess: 1.000 by zone "slow"' in log, log[-1500:])


def case_status_variable(pair):
    """$limit_req_status: PASSED, then REJECTED (add_header ... always)"""
    a, b = pair.both(req("/var/f", "v"))
    a2, b2 = pair.both(req("/var/f", "v"))
    for name, r1, r2 in (("wasmd", a, a2), ("nginx", b, b2)):
        if r1 is None:
            continue
        check(r1.status == 200 and r1.header("X-LR") == "PASSED", name, r1)
        check(r2.status == 503 and r2.header("X-LR") == "REJECTED", name, r2)


def case_empty_key(pair):
    """a request whose key is empty (no X-K header) is not limited"""
    for name, port, _ in servers(pair):
        check(statuses(burst(port, "/status/f", None, 4)) == [200] * 4, name)


def case_keys_independent(pair):
    """each key has its own bucket"""
    for name, port, _ in servers(pair):
        for k in ("i1", "i2", "i3"):
            res = burst(port, "/status/f", k + name, 2)
            check(statuses(res) == [200, 429], name, k, res)


def case_long_keys(pair):
    """keys longer than a record holds (stored as their SHA-256): each its own bucket, even
    when they share their first 200 bytes"""
    base = "k" * 200
    for name, port, _ in servers(pair):
        for tail in ("-a-" + name, "-b-" + name):
            res = burst(port, "/status/f", base + tail, 2)
            check(statuses(res) == [200, 429], name, tail, res)


def case_full_zone_evicts(pair):
    """a full zone drops its least recently used key: after 600 other keys in a 32k zone,
    the first key starts again"""
    for name, port, _ in servers(pair):
        k0 = "first-" + name
        check(statuses(burst(port, "/small/f", k0, 2)) == [200, 503], name)
        for i in range(0, 600, 50):
            res = [burst(port, "/small/f", "other-%d-%s" % (i + j, name), 1)[0][0]
                   for j in range(50)]
            check(res == [200] * 50, name, res)
        check(statuses(burst(port, "/small/f", k0, 1)) == [200], name, "evicted")


def case_inheritance(pair):
    """a nested location without limit_req inherits its parent's; one with its own replaces"""
    for name, port, _ in servers(pair):
        check(statuses(burst(port, "/outer/inner/f", "h-" + name, 2)) == [200, 503], name)
        check(statuses(burst(port, "/outer/own/f", "o-" + name, 7)) == [200] * 6 + [503], name)


def case_return_first(pair):
    """`return` (nginx's rewrite phase) answers before limit_req (its preaccess phase)"""
    for name, port, _ in servers(pair):
        check(statuses(burst(port, "/ret", "r-" + name, 3)) == [200] * 3, name)


def case_limit_conn(pair):
    """limit_conn kc 1: while one response is in progress, a second request with the same key
    gets limit_conn_status (429); another key passes; once it ends the key passes again"""
    for name, port, srv in servers(pair):
        hold = socket.socket()
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hold.connect(("127.0.0.1", port))
        hold.sendall(req("/conn/big", "c-" + name))
        hold.recv(1024)         # the response started; the client reads no more
        try:
            check(statuses(burst(port, "/conn/small", "c-" + name, 1)) == [429], name)
            check(statuses(burst(port, "/conn/small", "other-" + name, 1)) == [200], name)
            log = srv.error_log()
            check('limiting connections by zone "kc"' in log, name, log[-1000:])
        finally:
            hold.close()
        end = time.time() + 5
        while time.time() < end:
            st = statuses(burst(port, "/conn/small", "c-" + name, 1))
            if st == [200]:
                break
            time.sleep(0.1)
        check(st == [200], name, "the count is given back when the request ends", st)


CASES = [case_doc_no_burst, case_burst_delays, case_nodelay, case_two_stage,
         case_status_and_log, case_dry_run, case_status_variable, case_empty_key,
         case_keys_independent, case_long_keys, case_full_zone_evicts, case_inheritance, case_return_first, case_limit_conn]


# ---------------------------------------------------------------- -t

TCONF = '''
http {
    %s
    server { listen 127.0.0.1:19736; location / { %s } }
}
'''

BAD = [
    ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/s sync;", "",
     '"limit_req_zone ... sync" (zone synchronization of NGINX Plus) is not supported'),
    ("", "limit_req zone=nope;", 'limit_req zone "nope"'),
    ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/h;", "", 'invalid rate "rate=1r/h"'),
    ("limit_req_zone $binary_remote_addr zone=a:1m zone=a:1m;", "",
     '"limit_req_zone" must have "rate" parameter'),
    ("limit_req_zone $binary_remote_addr zone=a:1k rate=1r/s;", "", 'zone "a" is too small'),
    ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/s;\n"
     "limit_req_zone $binary_remote_addr zone=a:1m rate=2r/s;", "", 'duplicate zone "a"'),
    ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/s;\n"
     "limit_conn_zone $binary_remote_addr zone=a:1m;", "",
     'zone "a" is already declared for a different use'),
    ("limit_req_zone $nosuchvar zone=a:1m rate=1r/s;", "", 'unknown variable "$nosuchvar"'),
    ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/s;", "limit_req zone=a burst=x;",
     'invalid burst value "burst=x"'),
    ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/s;",
     "limit_req zone=a; limit_req zone=a;", '"limit_req" directive is duplicate'),
    ("", "limit_req_status 600;", "limit_req_status"),
    ("", "limit_req_log_level debug;", 'invalid value "debug"'),
    ("limit_conn_zone $binary_remote_addr zone=c:1m;", "limit_conn c 0;",
     'invalid number of connections "0"'),
    ("", "limit_conn nope 1;", 'limit_conn zone "nope"'),
    ("limit_conn_zone $binary_remote_addr size=1m;", "", 'invalid parameter "size=1m"'),
]


def test_t_flag():
    s = harness.Server(TCONF % ("limit_req_zone $binary_remote_addr zone=a:1m rate=1r/s;\n"
                                "limit_conn_zone $binary_remote_addr zone=c:1m;",
                                "limit_req zone=a burst=5 delay=2; limit_conn c 10; "
                                "limit_req_dry_run off; limit_conn_dry_run on; "
                                "limit_req_log_level notice; limit_conn_log_level info; "
                                "limit_conn_status 429;"), 19736)
    try:
        p = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        check(p.returncode == 0, "a valid configuration passes -t", p.stderr.decode()[-800:])
    finally:
        s.cleanup()
    for main, loc, want in BAD:
        s = harness.Server(TCONF % (main, loc), 19736)
        try:
            p = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
            err = p.stderr.decode()
            check(p.returncode != 0 and want in err, main, loc, err[-800:])
            check(s.conf_path in err, "file:line named", err[-800:])
        finally:
            s.cleanup()


def main():
    tree = Tree()
    for f in FILES:
        tree.write("www/" + f, ("%s\n" % f).encode())
    tree.write("www/conn/big", b"x" * (32 << 20))
    pair = Pair(CONF, PORT, tree)
    passed = failed = skipped = 0
    try:
        pair.start()
        for c in CASES + [lambda p: test_t_flag()]:
            what = c.__doc__.split("\n")[0] if c.__doc__ else "-t names bad and unsupported"
            try:
                c(pair)
                passed += 1
                print("ok   test_limit_req.py %s" % what)
            except Exception as e:
                failed += 1
                print("FAIL test_limit_req.py %s: %s" % (what, e))
                if os.environ.get("T_VERBOSE"):
                    traceback.print_exc()
    finally:
        try:
            pair.stop()
            passed += 1
            print("ok   test_limit_req.py teardown (clean logs, no sanitizer reports)")
        except Exception as e:
            failed += 1
            print("FAIL test_limit_req.py teardown: %s" % e)
        tree.cleanup()
    if pair.nginx is None:
        skipped = len(CASES)
        print("nginx not installed: the nginx half of %d cases skipped" % skipped)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
