"""t/ops/test_processes.py -- master/workers under wrk load: kill -9 of a worker, a reload
that swaps a route's .wasm module, an invalid reload, QUIT draining in-flight Wasm requests.
(Single-worker QUIT/HUP drains with echo_sleep, respawn and reload storms are in
t/unit/test_process.c.)"""
import os
import re
import shutil
import signal
import socket
import threading
import time

import opslib
from opslib import check, get, Wrk

PID_CONF = """
http {
    log_format conn '$pid $remote_port $status';
    access_log logs/access.log conn;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\\n"; }
    }
}
"""


def port_pids(s):
    """client port -> worker pid, from the access log ($pid $remote_port)."""
    out = {}
    for line in s.access_log().splitlines():
        f = line.split()
        if len(f) == 3:
            out[int(f[1])] = int(f[0])
    return out


class KeepAliveClient(threading.Thread):
    """GET / in a loop on one keep-alive connection; records every error with the local
    port of the connection it happened on (the access log tells which worker served that
    port); reconnects after an error."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.ports = []           # local ports of every connection, in order
        self.ok = {}              # port -> responses
        self.errors = []          # (port, what)
        self.c = None

    def connect(self):
        self.c = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.f = self.c.makefile("rb")
        self.ports.append(self.c.getsockname()[1])

    def one(self):
        self.c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        status = self.f.readline()
        if not status.startswith(b"HTTP/1.1 200"):
            raise OSError("status line %r" % status)
        length, close = 0, False
        while True:
            h = self.f.readline()
            if not h:
                raise OSError("eof in header")
            if h in (b"\r\n", b"\n"):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
            if h.lower().startswith(b"connection:") and b"close" in h.lower():
                close = True        # keepalive_requests reached: reconnect, not an error
        body = self.f.read(length)
        if body != b"ok\n":
            raise OSError("body %r" % body)
        return close

    def run(self):
        while not self.stop.is_set():
            try:
                if self.c is None:
                    self.connect()
                close = self.one()
                p = self.ports[-1]
                self.ok[p] = self.ok.get(p, 0) + 1
                if close:
                    self.c.close()
                    self.c = None
            except (OSError, ValueError) as e:
                self.errors.append((self.ports[-1] if self.ports else None, str(e)))
                try:
                    self.c.close()
                except Exception:
                    pass
                self.c = None
                time.sleep(0.01)
            time.sleep(0.002)
        if self.c:
            self.c.close()


def test_kill9_worker_under_load():
    s = opslib.server(PID_CONF, 18900, check_logs=False)
    try:
        s.start()
        pids = opslib.wait_workers(s, 2)
        # keep-alive clients until both workers have some
        clients = []
        for _ in range(40):
            c = KeepAliveClient(s.port)
            c.start()
            clients.append(c)
            opslib.wait_for(lambda: c.ok, 5)
            if len(clients) >= 6:
                pp = port_pids(s)
                if set(pids) <= {pp.get(x.ports[0]) for x in clients}:
                    break
        pp = port_pids(s)
        first = {x: pp.get(x.ports[0]) for x in clients}
        check(set(pids) <= set(first.values()), "clients on both workers", first, pids)
        wrk = Wrk("http://127.0.0.1:%d/" % s.port, duration=4, conns=8)
        time.sleep(1.0)
        victim, other = pids[0], pids[1]
        os.kill(victim, signal.SIGKILL)
        new = opslib.wait_for(lambda: len(opslib.children(s.proc.pid)) == 2
                              and victim not in opslib.children(s.proc.pid)
                              and opslib.children(s.proc.pid), 5)
        check(new and other in new, "respawned", new, other)
        respawned = [p for p in new if p != other][0]
        time.sleep(1.0)
        for c in clients:
            c.stop.set()
        for c in clients:
            c.join(5)
        w = wrk.result()
        time.sleep(0.2)
        pp = port_pids(s)

        log = s.error_log()
        check(re.search(r"\[alert\] .*worker process %d exited on signal 9" % victim, log),
              "alert about the killed worker", log[-2000:])
        check("start worker process %d" % respawned in log, log[-2000:])
        # clients of the other worker never noticed; only the victim's connections broke
        on_other = [c for c in clients if first[c] == other]
        on_victim = [c for c in clients if first[c] == victim]
        for c in on_other:
            check(not c.errors, "a client of the surviving worker saw errors", c.errors)
        # (a connection the victim accepted but never answered is not in the access log)
        errs = [(pp.get(p), e) for c in clients for p, e in c.errors]
        check(all(p in (victim, None) for p, _ in errs), "errors only on the killed worker's "
              "connections", errs, victim)
        check(all(c.errors for c in on_victim), "the killed worker's clients lost their "
              "connection", [c.errors for c in on_victim])
        check(len(errs) <= len(on_victim) + 2, "about one error per killed connection", errs)
        served = {}
        for c in clients:
            for p, n in c.ok.items():
                served[pp.get(p)] = served.get(pp.get(p), 0) + n
        check(served.get(other, 0) > 0 and served.get(respawned, 0) + served.get(other, 0)
              > 0, served)
        # wrk: only connections of the killed worker may fail (one error each)
        check(w["requests"] > 100, w["out"])
        check(w["non2xx"] == 0, w["out"])
        check(w["socket_errors"] <= 8, w["out"])
        # still serving, the respawned worker too (fresh connections land on either)
        for _ in range(200):
            check(get(s, "/").status == 200)
            if respawned in port_pids(s).values():
                break
            time.sleep(0.01)
        check(respawned in port_pids(s).values(), "the respawned worker serves", respawned)
        s.stop(signal.SIGQUIT)
        bad = opslib.log_problems(s, allowed=(r"worker process %d exited on signal 9" % victim,))
        check(not bad, bad)
    finally:
        s.cleanup()


SWAP_CONF = """
http {
    access_log off;
    server {
        listen 127.0.0.1:%(port)d;
        location /v { wasm_handler app.wasm; wasm_pool 2 8; }
        location /static { return 200 "static\\n"; }
    }
}
"""


def install(s, version):
    """Replaces <prefix>/app.wasm with the vN build (atomically: copy + rename)."""
    tmp = os.path.join(s.prefix, "app.wasm.tmp")
    shutil.copyfile(opslib.handler("ops-%s.wasm" % version), tmp)
    os.rename(tmp, os.path.join(s.prefix, "app.wasm"))


def test_reload_swaps_module_under_load():
    s = opslib.server(SWAP_CONF, 18910)
    try:
        install(s, "v1")
        s.start()
        old = opslib.wait_workers(s, 2)
        check(get(s, "/v").body == b"v1\n")
        wrk = Wrk("http://127.0.0.1:%d/v" % s.port, duration=5, conns=8, lua=opslib.LUA_BODIES)
        time.sleep(1.0)
        install(s, "v2")
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: "configuration reloaded" in s.error_log(), 10),
              s.error_log()[-1000:])
        w = wrk.result()
        check("v1" in w and "v2" in w, w["out"])
        check(w["socket_errors"] == 0, "socket errors during the reload", w["out"])
        check(w["non2xx"] == 0, "non-2xx during the reload", w["out"])
        check(w["other"] == 0, "unexpected bodies", w["out"])
        check(w["v1"] > 0 and w["v2"] > 0, "responses switch from v1 to v2", w["out"])
        check(w["requests"] == w["v1"] + w["v2"], w["out"])
        # afterwards: only v2, from the new generation
        for _ in range(20):
            r = get(s, "/v")
            check(r.status == 200 and r.body == b"v2\n", r)
        new = opslib.wait_workers(s, 2)
        check(not set(new) & set(old), "old workers exited", old, new)
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_invalid_reload_under_load():
    s = opslib.server(SWAP_CONF, 18920, check_logs=False)
    try:
        install(s, "v1")
        s.start()
        old = opslib.wait_workers(s, 2)
        wrk = Wrk("http://127.0.0.1:%d/v" % s.port, duration=3, conns=8, lua=opslib.LUA_BODIES)
        time.sleep(1.0)
        with open(s.conf_path) as f:
            text = f.read()
        lines = text.split("\n")
        at = [i for i, l in enumerate(lines) if "location /static" in l][0]
        lines.insert(at, "        bogus_directive on;")
        with open(s.conf_path, "w") as f:
            f.write("\n".join(lines))
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: "reload failed" in s.error_log(), 10),
              s.error_log()[-1000:])
        w = wrk.result()
        log = s.error_log()
        want = 'unknown directive "bogus_directive" in %s:%d' % (s.conf_path, at + 1)
        check(want in log, "file:line in the error log", want, log[-1500:])
        check(w["socket_errors"] == 0, w["out"])
        check(w["non2xx"] == 0 and w["other"] == 0, w["out"])
        check(w["v1"] > 100, w["out"])
        check(opslib.children(s.proc.pid) == old, "the old workers keep serving",
              old, opslib.children(s.proc.pid))
        check(get(s, "/v").body == b"v1\n")
        # a module that fails to load is the same: error with file:line, old workers stay
        with open(s.conf_path, "w") as f:
            f.write(text)
        with open(os.path.join(s.prefix, "app.wasm"), "wb") as f:
            f.write(b"\0asm\1\0\0\0garbage")
        wrk = Wrk("http://127.0.0.1:%d/static" % s.port, duration=2, conns=4)
        time.sleep(0.5)
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: s.error_log().count("reload failed") == 2, 10))
        w = wrk.result()
        check(w["socket_errors"] == 0 and w["non2xx"] == 0 and w["requests"] > 50, w["out"])
        check(re.search(r'wasm_handler: ".*app\.wasm": .* in %s:\d+' % re.escape(s.conf_path),
                        s.error_log()), s.error_log()[-1500:])
        check(opslib.children(s.proc.pid) == old)
        check(get(s, "/v").body == b"v1\n", "the loaded module is still v1")
        s.stop(signal.SIGQUIT)
        # the only [emerg] lines are the two configuration errors
        bad = opslib.log_problems(s, allowed=(r'unknown directive "bogus_directive"',
                                              r'wasm_handler: ".*app\.wasm"'))
        check(not bad, bad)
    finally:
        s.cleanup()


def test_quit_drains_inflight_wasm_requests():
    s = opslib.server(SWAP_CONF, 18930)
    try:
        install(s, "v1")
        s.start()
        opslib.wait_workers(s, 2)
        conns = []
        for _ in range(4):          # handlers suspended on a 1 s timer (likely on both workers)
            c = s.connect(timeout=10)
            c.send(b"GET /v?sleep HTTP/1.1\r\nHost: a\r\n\r\n")
            conns.append(c)
        time.sleep(0.3)
        t0 = time.time()
        s.signal(signal.SIGQUIT)
        for c in conns:
            r = c.recv_response()
            check(r.status == 200 and r.body == b"v1 slept\n", "in-flight request drained", r)
            check(c.closed(timeout=3), "closed after the drained response")
            c.close()
        check(time.time() - t0 >= 0.5, "answered only after the timer")
        s.proc.wait(10 * opslib.SLOW)
        check(s.proc.returncode == 0, "master exit status", s.proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
            check(False, "still listening after QUIT")
        except OSError:
            pass
        check(not os.path.exists(os.path.join(s.prefix, "logs", "wasmd.pid")), "pid file removed")
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


if __name__ == "__main__":
    raise SystemExit(opslib.main(globals()))
