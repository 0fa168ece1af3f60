"""t/hostile/test_http_hostile.py -- the handler and HTTP items of the hostile-input
catalogue (issue 6) that t/handlers and t/http do not already cover, end to end through a
real server (master_process on, one worker):

  handlers: a pointer+length wrapping past 4 GiB in every wasi:http and preview1 host call
  that takes a pointer (t/hostile/gen_abi_wat.py), forged and dropped handles, header
  injection through append/set/from-list (never on the wire), a response that declares
  more / fewer bytes than it writes after its head went out, 10,000 log lines per request,
  a handler that never reads a large body with the next request pipelined behind it, 100
  fuel-heavy requests beside a trivial one;
  HTTP: 10,000 idle keep-alive connections, a connection flood beyond worker_connections,
  a slow reader of a large response.

After EVERY test (the `guarded` wrapper): the worker is the same process, its descriptor
count is back to the baseline taken before the test (+FD_TOL), its RSS is back within
RSS_TOL_KIB of that baseline (waiting up to SETTLE_S for closes to finish), and no
"[alert]" line was logged during the test.
"""
import os
import resource
import select
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness                     # noqa: E402
from harness import check, Server  # noqa: E402
import gen_abi_wat                 # noqa: E402

H = os.path.abspath("objs/handlers")
PORT = 19300          # 19300-19319 (t/ops uses 18900-18999)
FD_TOL = 2              # descriptors: back to the baseline, +2 for lazily opened ones
RSS_TOL_KIB = 24 * 1024  # RSS: back within 24 MiB of the baseline (malloc keeps freed arenas)
SETTLE_S = 5.0
SAN = bool(os.environ.get("SANITIZE")) or "/san/" in harness.WASMD_BIN
NCONN = int(os.environ.get("HOSTILE_IDLE_CONNS", "10000"))

MAIN_CONF = "worker_rlimit_nofile 20000;\nevents { worker_connections 11000; }\n"
CONF = r'''
http {
    access_log logs/access.log;
    server {
        listen 127.0.0.1:%(port)d backlog=4096;
        location /abi   { wasm_handler @H@/hostile-abi.wasm; wasm_dir data /data; }
        location /misc  { wasm_handler @H@/hostile-misc.wasm; }
        location /burn  { wasm_handler @H@/hostile-misc.wasm; wasm_pool 100 100; wasm_timeout 60s; }
        location /hello { wasm_handler @H@/hello.wasm; }
        location /big   { wasm_handler @H@/test-big.wasm; wasm_fuel 0; wasm_timeout 60s; }
        location / { return 200 "plain\n"; }
    }
}
'''.replace("@H@", H)

# client_header_timeout 2s: the flood leaves some half-open connections behind. A client
# that closes while the server's accept queue is full (the server drops its final ACK and
# stays in SYN-RECV) later answers the server's retransmitted SYN-ACK from TIME-WAIT, so
# the server holds an established connection on which nothing will ever arrive, until
# client_header_timeout (60 s by default, as in nginx) closes it. Seen in CI as "fds 14 -> 24".
FLOOD_CONF = r'''
http {
    client_header_timeout 2s;
    server {
        listen 127.0.0.1:%(port)d backlog=64;
        location /hello { wasm_handler @H@/hello.wasm; }
        location / { return 200 "plain\n"; }
    }
}
'''.replace("@H@", H)

HOST = b"Host: t\r\n"

# the client needs >10,000 descriptors too
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))
except (ValueError, OSError):
    pass


def get(s, path, extra=b""):
    return s.request(b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST + extra + b"\r\n")


def worker_pid(s):
    pid = s.worker_pid()
    check(pid is not None, "one worker")
    return pid


def nfds(pid):
    return harness.worker_nfds(pid)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def guarded(fn, rss_tol=RSS_TOL_KIB):
    """Runs fn(s); then: same worker pid, fds and RSS back near the baseline, no [alert].
    fn.prepare(s), if set, runs before the baseline is taken. (/burn's pool is fully
    instantiated at start: pool growth, one snapshot memfd per instance, is not a leak.)"""
    def run(s):
        wait_ready(s)
        if hasattr(fn, "prepare"):
            fn.prepare(s)
        pid = worker_pid(s)
        fd0, rss0, log0 = nfds(pid), rss_kib(pid), len(s.error_log())
        fn(s)
        end = time.time() + SETTLE_S
        while True:
            check(worker_pid(s) == pid, "the worker was replaced (pid %d)" % pid)
            fd, rss = nfds(pid), rss_kib(pid)
            if fd <= fd0 + FD_TOL and rss <= rss0 + rss_tol:
                break
            check(time.time() < end, "worker %d: fds %d -> %d (tolerance %d), RSS %d -> %d KiB "
                  "(tolerance %d KiB)" % (pid, fd0, fd, FD_TOL, rss0, rss, rss_tol))
            time.sleep(0.1)
        new = s.error_log()[log0:]
        alerts = [l for l in new.splitlines() if "[alert]" in l]
        check(not alerts, "alerts logged", alerts[:5])
        if os.environ.get("T_VERBOSE"):
            print("     guard: pid %d fds %d->%d RSS %d->%d KiB" % (pid, fd0, fd, rss0, rss))
    run.__name__ = fn.__name__
    return run


def log_since(s, n):
    return s.error_log()[n:]


# ---------------------------------------------------------------- handlers

def t_abi_wrapping_pointers_every_host_call(s):
    bad = []
    for name, kind, _ in gen_abi_wat.cases():
        if kind not in ("trap", "efault"):
            continue
        n = len(s.error_log())
        r = get(s, "/abi?" + name)
        new = log_since(s, n)
        if kind == "trap":
            if r.status != 500 or "out of bounds" not in new:
                bad.append("%s: %d %r / log: %s" % (name, r.status, r.body[:40], new.strip()[-200:]))
        else:
            if r.status != 200 or r.body != b"errno=21":
                bad.append("%s: %d %r (want errno=21 EFAULT)" % (name, r.status, r.body[:40]))
    check(not bad, "%d host calls misbehaved:\n  " % len(bad) + "\n  ".join(bad))
    check(get(s, "/abi?none").body == b"x-test", "the instance still serves")


def t_abi_forged_and_dropped_handles(s):
    bad = []
    for name, kind, want in gen_abi_wat.cases():
        if kind != "handle":
            continue
        n = len(s.error_log())
        r = get(s, "/abi?" + name)
        new = log_since(s, n)
        if r.status != 500 or not any(w in new for w in want.split("|")):
            bad.append("%s: %d %r / log: %s" % (name, r.status, r.body[:40], new.strip()[-200:]))
    check(not bad, "\n  ".join(bad))


def t_abi_header_injection_never_on_the_wire(s):
    with s.connect() as c:
        c.send(b"GET /abi?inject:all HTTP/1.1\r\n" + HOST + b"\r\n")
        r = c.recv_response()
        check(r.status == 200, r)
        want = b"1" * (3 * len(gen_abi_wat.INJECT))
        check(r.body == want, "every injection attempt refused (1 = refused)", r.body)
        head = r.raw.split(b"\r\n\r\n", 1)[0]
        check(b"Injected" not in head and b"x-a" not in head.lower(), head)
        check(r.header("x-test") is None, "from-list with a bad entry adds nothing", head)
        # the connection is still in sync
        c.send(b"GET /hello HTTP/1.1\r\n" + HOST + b"\r\n")
        check(c.recv_response().status == 200)


def _read_until_eof(c, timeout=5.0):
    c.sock.settimeout(timeout)
    data = c.buf
    c.buf = b""
    while True:
        try:
            d = c.sock.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        data += d
    return data


def t_response_declares_more_or_fewer_bytes_after_head(s):
    # (before the head went out, cl-short/cl-long -> 500: t/handlers test_framing)
    for q, declared in (("cl-more", 100000), ("cl-less", 50000)):
        with s.connect() as c:
            c.send(b"GET /misc?" + q.encode() + b" HTTP/1.1\r\n" + HOST + b"\r\n")
            raw = _read_until_eof(c)
            head, _, body = raw.partition(b"\r\n\r\n")
            check(b" 200 " in head.split(b"\r\n")[0], q, head)
            check(b"content-length: %d" % declared in head.lower(), q, head)
            check(len(body) < declared, q, "a complete response was emitted", len(body))
            check(b"HTTP/1.1" not in body, q)
    check(get(s, "/hello").status == 200)


def t_log_flood_10000_lines(s):
    n = len(s.error_log())
    for _ in range(3):
        t0 = time.time()
        r = get(s, "/misc?log")
        check(r.status == 200 and r.body == b"logged\n", r)
        check(time.time() - t0 < (10 if SAN else 3), "slow", time.time() - t0)
    new = log_since(s, n)
    lines = [l for l in new.splitlines() if "wasm /misc: stderr: line " in l]
    check(0 < len(lines) <= 3 * 64, "guest lines logged: %d (at most 64 a request)" % len(lines))
    check(len(lines) <= 100 * 2, "at most 100 a second per route", len(lines))
    check("suppressed" in new, "the suppression is logged")
    check(len(new) < 200000, "error log grew by %d bytes" % len(new))


def t_unread_large_body_then_pipelined_request(s):
    smuggle = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
    body = (smuggle * (512 * 1024 // len(smuggle) + 1))[:512 * 1024]
    for framing in ("length", "chunked"):
        if framing == "length":
            req = (b"POST /misc?ignore HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % len(body)
                   + body)
        else:
            req = b"POST /misc?ignore HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
            for off in range(0, len(body), 100000):
                piece = body[off:off + 100000]
                req += b"%x\r\n" % len(piece) + piece + b"\r\n"
            req += b"0\r\n\r\n"
        req += b"GET /hello HTTP/1.1\r\n" + HOST + b"\r\n"
        with s.connect(timeout=10) as c:
            err = []

            def send():
                try:
                    c.sock.sendall(req)
                except OSError as e:     # the server may close instead of draining
                    err.append(e)
            th = threading.Thread(target=send)
            th.start()
            r1 = c.recv_response()
            check(r1.status == 200 and r1.body == b"ignored\n", framing, r1)
            if (r1.header("Connection") or "").lower() == "close":
                check(c.closed(timeout=5), framing, "closed after Connection: close")
            else:
                r2 = c.recv_response()
                check(r2.status == 200 and r2.body == b"Hello from wasmd!\n", framing, r2)
            th.join(10)
    check("/smuggled" not in s.access_log(), "body bytes were parsed as a request")


def t_fuel_heavy_100_beside_trivial(s):
    def hello_latency():
        t0 = time.time()
        r = get(s, "/hello")
        check(r.status == 200, r)
        return time.time() - t0
    base = statistics.median(hello_latency() for _ in range(9))
    # one burn alone, to size the load: ~70 ms each (the sanitizer build is ~10x slower)
    burn = "/burn?burn=%d" % (1 if SAN else 5)
    t0 = time.time()
    check(get(s, burn).status == 200)
    one = time.time() - t0
    conns = []
    for _ in range(100):
        c = s.connect(timeout=60)
        c.send(b"GET " + burn.encode() + b" HTTP/1.1\r\n" + HOST + b"\r\n")
        conns.append(c)
    time.sleep(0.05)
    lat = [hello_latency() for _ in range(5)]
    got = []
    for c in conns:
        got.append(c.recv_response().status)
        c.close()
    # "normal latency": a few of the engine's 5 ms slices, not the 100 handlers' total CPU
    limit = max(0.1, 10 * base)
    check(got == [200] * 100, "fuel-heavy responses", got)
    # one of the five may be late (a shared, loaded machine: 0.124 s seen once in a
    # plain run); without the scheduler every one takes about 100 burns' time
    check(sorted(lat)[-2] < limit, "hello took %s s beside 100 fuel-heavy handlers (%.3f s of work "
          "each, alone %.4f s; limit %.3f s)" % (["%.3f" % x for x in lat], one, base, limit))
    if os.environ.get("T_VERBOSE"):
        print("     hello alone %.4f s, beside 100 burns (%.3f s each): %s" % (base, one, lat))




# ---------------------------------------------------------------- HTTP

def _open_many(port, n):
    socks = []
    for i in range(n):
        so = socket.socket()
        so.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        so.connect(("127.0.0.1", port))
        socks.append(so)
    return socks


def _read_responses(socks, req_len_check, timeout=30):
    """reads one small Content-Length response from every socket (non-blocking, with poll)"""
    pend = {so.fileno(): [so, b""] for so in socks}
    for so in socks:
        so.setblocking(False)
    p = select.poll()
    for fd in pend:
        p.register(fd, select.POLLIN)
    end = time.time() + timeout
    done = 0
    while pend and time.time() < end:
        for fd, ev in p.poll(500):
            so, buf = pend[fd]
            try:
                d = so.recv(4096)
            except BlockingIOError:
                continue
            if not d:
                raise harness.CheckError("connection closed early: %r" % buf[:100])
            buf += d
            pend[fd][1] = buf
            if req_len_check(buf):
                p.unregister(fd)
                del pend[fd]
                done += 1
    check(not pend, "%d connections got no response" % len(pend))
    return done


def t_idle_keepalive_10000(s):
    """three rounds of 10,000 connections. RSS after a round is not monotonic: freed
    connection memory stays in the allocator and settles at 25-60 MiB (6 rounds measured:
    60, 60, 52, 52, 52, 52 MiB), so the bound is the guard's tolerance for this test
    (RSS_TOL) over the three rounds, and every connection is closed (fd count back)."""
    pid = worker_pid(s)
    fd0 = nfds(pid)
    rss, peak = [], []
    for _ in range(3):
        peak.append(_idle_round(s, pid))
        end = time.time() + SETTLE_S
        while nfds(pid) > fd0 + FD_TOL and time.time() < end:
            time.sleep(0.1)
        rss.append(rss_kib(pid))
    if os.environ.get("T_VERBOSE"):
        print("     RSS after rounds 1-3: %s KiB, with the connections open: %s KiB" % (rss, peak))


def _idle_round(s, pid):
    t0 = time.time()
    socks = _open_many(s.port, NCONN)
    try:
        req = b"GET / HTTP/1.1\r\n" + HOST + b"\r\n"
        for so in socks:
            so.sendall(req)
        _read_responses(socks, lambda b: b.endswith(b"\r\n\r\nplain\n"))
        setup = time.time() - t0
        peak = rss_kib(pid)
        check(nfds(pid) >= NCONN, "the worker holds the idle connections", nfds(pid))
        lat = []
        for _ in range(5):
            t1 = time.time()
            r = get(s, "/hello")
            lat.append(time.time() - t1)
            check(r.status == 200, r)
        check(max(lat) < (1.0 if SAN else 0.1), "hello beside %d idle keep-alive connections: %s"
              % (NCONN, lat))
        # the idle ones still work
        for so in socks[:: max(1, NCONN // 50)]:
            so.setblocking(True)
            so.settimeout(5)
            so.sendall(req)
            d = b""
            while not d.endswith(b"plain\n"):
                x = so.recv(4096)
                check(x, "idle connection closed")
                d += x
        if os.environ.get("T_VERBOSE"):
            print("     %d idle connections set up in %.1f s; hello %s" % (NCONN, setup, lat))
    finally:
        for so in socks:
            so.close()
    return peak


def t_slow_reader_large_response(s):
    pid = worker_pid(s)
    rss0 = rss_kib(pid)
    mib = 16
    peak = 0
    with s.connect(timeout=20) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.send(b"GET /big?mib=%d HTTP/1.1\r\n" % mib + HOST + b"Connection: close\r\n\r\n")
        got = 0
        t0 = time.time()
        slow_until = t0 + 3.0            # 3 s trickling at ~256 KiB/s, then full speed
        hello_ok = 0
        while True:
            d = c.sock.recv(16384)
            if not d:
                break
            got += len(d)
            if time.time() < slow_until:
                time.sleep(0.05)
                if hello_ok < 3:
                    t1 = time.time()
                    check(get(s, "/hello").status == 200)
                    check(time.time() - t1 < 0.5, "hello while a reader is slow")
                    hello_ok += 1
                peak = max(peak, rss_kib(pid))
        check(got > mib << 20, "got %d bytes" % got)
    check(peak - rss0 < 16 * 1024, "RSS grew by %d KiB while the reader was slow" % (peak - rss0))


def t_connection_flood_beyond_worker_connections(s):
    port = PORT + 10
    q = Server(FLOOD_CONF, port, master=True,
               main_conf="worker_rlimit_nofile 4096;\nevents { worker_connections 64; }\n")
    q.start()
    socks = []
    try:
        qpid = worker_pid(q)
        # the port accepts before the worker has finished its start-up (loop, sandbox):
        # measure once it has served a request
        q.request(b"GET / HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
        fd0, rss0 = nfds(qpid), rss_kib(qpid)
        # 1500 connections, each sending a request (non-blocking connects: beyond the backlog
        # the kernel drops SYNs, which the clients see as slow or failed connects)
        for _ in range(1500):
            so = socket.socket()
            so.setblocking(False)
            so.connect_ex(("127.0.0.1", port))
            socks.append(so)
        time.sleep(0.5)
        peak = 0
        sent = 0
        for so in socks:
            try:
                so.send(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
                sent += 1
            except OSError:
                pass
        for _ in range(10):
            peak = max(peak, nfds(qpid))
            time.sleep(0.1)
        check(peak <= fd0 + 64 + 2, "the worker held %d descriptors (limit 64 connections)" % peak)
        check(q.proc.poll() is None and worker_pid(q) == qpid, "worker alive")
        # the ones that got in were served (read what is there without waiting)
        served = 0
        for so in socks:
            try:
                if so.recv(4096).startswith(b"HTTP/1.1 200"):
                    served += 1
            except OSError:
                pass
        check(served > 0, "some flood connections were served", sent)
    finally:
        for so in socks:
            so.close()
    try:
        # recovery: a fresh client is served promptly once the flood is gone
        time.sleep(0.5)
        t0 = time.time()
        ok = False
        while time.time() - t0 < 5:
            try:
                r = q.request(b"GET /hello HTTP/1.1\r\n" + HOST + b"\r\n")
                ok = r.status == 200
                break
            except (OSError, harness.CheckError):
                time.sleep(0.1)
        check(ok, "served after the flood")
        # half-open ones may still complete at the SYN-ACK retransmissions (1, 3, 7 s) and
        # then need client_header_timeout: up to 7 + 2 s
        end = time.time() + 10.0
        while nfds(qpid) > fd0 + FD_TOL and time.time() < end:
            time.sleep(0.1)
        check(nfds(qpid) <= fd0 + FD_TOL, "flood worker fds %d -> %d" % (fd0, nfds(qpid)))
        check(rss_kib(qpid) <= rss0 + RSS_TOL_KIB, "flood worker RSS %d -> %d" % (rss0, rss_kib(qpid)))
        check(worker_pid(q) == qpid, "flood worker replaced")
        q.stop()
    finally:
        q.cleanup()


# 10,000 connections leave 3-5 KiB each in the allocator's free lists (glibc does not give
# it back) and it settles at 25-60 MiB: 80 MiB (8 KiB a connection).
# ASan's quarantine keeps up to 256 MiB of freed memory: looser there.
RSS_TOL = {t_idle_keepalive_10000: (192 if SAN else 80) * 1024}

TESTS = [
    t_abi_wrapping_pointers_every_host_call,
    t_abi_forged_and_dropped_handles,
    t_abi_header_injection_never_on_the_wire,
    t_response_declares_more_or_fewer_bytes_after_head,
    t_log_flood_10000_lines,
    t_unread_large_body_then_pipelined_request,
    t_fuel_heavy_100_beside_trivial,
    t_idle_keepalive_10000,
    t_slow_reader_large_response,
    t_connection_flood_beyond_worker_connections,
]


def test_first_pid(s):
    STATE["pid"] = worker_pid(s)
    wait_ready(s)


def wait_ready(s):
    """the worker is up with its pools instantiated (slow under ASan): wait for a request to
    be served and the descriptor count to be stable for a second"""
    if STATE.get("ready"):
        return
    STATE["ready"] = True
    pid = worker_pid(s)
    check(get(s, "/hello").status == 200)
    end = time.time() + 40
    last = -1
    while time.time() < end:
        n = nfds(pid)
        if n == last:
            break
        last = n
        time.sleep(1.0)


STATE = {}
G = {"__file__": __file__, "test_00_first_pid": test_first_pid}
for i, fn in enumerate(TESTS):
    G["test_%02d_%s" % (i + 1, fn.__name__[2:])] = guarded(fn, RSS_TOL.get(fn, RSS_TOL_KIB))


def test_99_same_worker(s):
    check(worker_pid(s) == STATE["pid"], "the worker was never replaced")


G["test_99_same_worker"] = test_99_same_worker

if __name__ == "__main__":
    sys.exit(harness.main(CONF, G, port=PORT, main_conf=MAIN_CONF, master=True,
                          files={"data/hello.txt": b"hello\n"},
                          per_test_timeout=120 if SAN else 60))
