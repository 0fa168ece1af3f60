"""Zones are shared by every worker and survive reloads (master + 2 workers): 10,000
requests over a rate limit, each with the right status, served by both workers that count
in one zone, the workers unharmed; limit_conn counted across workers; a zone kept by a
reload with the same name, size and key, fresh with a new size, and a reload that changes
a kept zone's key refused (the old workers keep serving)."""
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops"))
import opslib                                 # noqa: E402
from opslib import check, harness             # noqa: E402

CONF = '''
http {
    limit_req_zone $binary_remote_addr zone=one:%(size)s rate=1r/m;
    limit_req_zone $binary_remote_addr zone=ten:1m rate=10r/s;
    limit_conn_zone $binary_remote_addr zone=addr:1m;
    server {
        listen 127.0.0.1:%(port)d;
        root %(prefix)s/www;
        add_header X-Pid $pid always;
        location /l/ { limit_req zone=one; }
        location /t/ { limit_req zone=ten burst=20 nodelay; }
        location /slow { limit_conn addr 1; echo_sleep 1500ms; }
        location /free/ { }
    }
}
'''

FILES = {"www/l/f": b"limited\n", "www/t/f": b"ten\n", "www/free/f": b"free\n"}


def server(port, size="1m", check_logs=True):
    s = opslib.server(CONF.replace("%(size)s", size), port, workers=2, files=FILES,
                      check_logs=check_logs)
    os.chmod(os.path.join(s.prefix, "www"), 0o755)
    for d in ("l", "t", "free"):
        os.chmod(os.path.join(s.prefix, "www", d), 0o755)
    return s


def get(s, path, key=None):
    h = "X-K: %s\r\n" % key if key else ""
    return s.request(("GET %s HTTP/1.1\r\nHost: a\r\n%sConnection: close\r\n\r\n"
                      % (path, h)).encode())


def hammer(s, path, total, threads=8, per_conn=100):
    """total requests on keep-alive connections from `threads` threads, a new connection
    every per_conn requests; -> list of (status, pid)"""
    out, lock, errors = [], threading.Lock(), []

    def run(n):
        got = []
        try:
            c = None
            for i in range(n):
                if c is None or i % per_conn == 0:
                    if c:
                        c.close()
                    c = s.connect()
                c.send(("GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path).encode())
                r = c.recv_response()
                got.append((r.status, r.header("X-Pid")))
                if (r.header("Connection") or "").lower() == "close":
                    c.close()
                    c = None
            if c:
                c.close()
        except Exception as e:      # noqa: BLE001
            errors.append(repr(e))
        with lock:
            out.extend(got)

    ts = [threading.Thread(target=run, args=(total // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errors, errors[:3])
    return out


def test_10000_over_the_limit_across_two_workers():
    s = server(19760)
    try:
        s.start()
        pids = opslib.wait_workers(s, 2)
        res = hammer(s, "/l/f", 10000)
        check(len(res) == 10000, len(res))
        ok = [r for r in res if r[0] == 200]
        bad = [r for r in res if r[0] not in (200, 503)]
        check(len(ok) == 1, "exactly one request passes 1r/m in one zone", len(ok))
        check(not bad, "every other one is 503", bad[:5])
        served = set(int(p) for _, p in res)
        check(served == set(pids), "both workers answered (and counted in one zone)",
              served, pids)
        # the workers are unharmed: the same processes, serving
        check(opslib.children(s.proc.pid) == pids, "no worker restarted",
              opslib.children(s.proc.pid), pids)
        check(get(s, "/free/f").status == 200)
        n = len(re.findall(r'limiting requests, excess: 0\.9\d\d by zone "one"|'
                           r'limiting requests, excess: 1\.000 by zone "one"', s.error_log()))
        check(n == 9999, "each rejection logged once", n)
        # a burst shared by both workers: burst=20 nodelay at 10r/s lets 21 of 200 through
        # (give or take the few that drain while they run)
        res = hammer(s, "/t/f", 200, threads=4, per_conn=10)
        ok = [r for r in res if r[0] == 200]
        check(21 <= len(ok) <= 30, "burst counted across workers", len(ok))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_limit_conn_across_workers():
    s = server(19762)
    try:
        s.start()
        pids = opslib.wait_workers(s, 2)
        holder = s.connect(timeout=10)
        holder.send(b"GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)
        seen = set()
        for _ in range(40):
            r = get(s, "/slow")
            check(r.status == 503, "a second request while one is in progress", r)
            seen.add(int(r.header("X-Pid")))
            if seen == set(pids):
                break
        r = holder.recv_response()
        check(r.status == 200 and r.body == b"slept\n", r)
        holder.close()
        check(seen == set(pids), "rejected by both workers, the holder's and the other",
              seen, pids)
        time.sleep(0.1)
        r = get(s, "/slow")
        check(r.status == 200, "the count was given back", r)
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def reload(s, old, want="configuration reloaded"):
    n = s.error_log().count(want)
    s.signal(signal.SIGHUP)
    check(opslib.wait_for(lambda: s.error_log().count(want) > n, 10), s.error_log()[-1500:])
    if want == "configuration reloaded":
        check(opslib.wait_for(lambda: len(opslib.children(s.proc.pid)) == 2
                              and not set(opslib.children(s.proc.pid)) & set(old), 10),
              "new workers", old, opslib.children(s.proc.pid))
    return opslib.children(s.proc.pid)


def test_zone_survives_reload():
    s = server(19764, check_logs=False)
    try:
        s.start()
        pids = opslib.wait_workers(s, 2)
        check(get(s, "/l/f").status == 200)
        check(get(s, "/l/f").status == 503)
        pids = reload(s, pids)
        for _ in range(6):      # whichever new worker answers
            r = get(s, "/l/f")
            check(r.status == 503, "the zone kept its state across the reload", r)
        # another size: a new, empty zone (nginx does the same)
        with open(s.conf_path) as f:
            text = f.read()
        with open(s.conf_path, "w") as f:
            f.write(text.replace("zone=one:1m", "zone=one:2m"))
        pids = reload(s, pids)
        check(get(s, "/l/f").status == 200, "a resized zone starts empty")
        check(get(s, "/l/f").status == 503)
        # another key for a zone the reload would keep: refused, the old workers serve on
        with open(s.conf_path, "w") as f:
            f.write(text.replace("zone=one:1m", "zone=one:2m")
                    .replace("$binary_remote_addr zone=one", "$remote_addr zone=one"))
        reload(s, pids, want="reload failed")
        log = s.error_log()
        check('limit_req_zone "one" uses the "$remote_addr" key while previously it used the '
              '"$binary_remote_addr" key' in log, log[-1500:])
        check(opslib.children(s.proc.pid) == pids, "old workers kept")
        check(get(s, "/l/f").status == 503)
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


if __name__ == "__main__":
    sys.exit(opslib.main(globals()))
