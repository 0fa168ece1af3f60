"""t/proxy/test_upgrade.py -- WebSocket / Upgrade proxying (nginx's "upgraded" connections),
side by side with Debian's nginx where both run.

The configuration is nginx's documented one (proxy_http_version 1.1, proxy_set_header Upgrade
$http_upgrade, and Connection either the literal "upgrade" or $connection_upgrade from a
`map`); the upstream is a small WebSocket server started here (RFC 6455 handshake with
Sec-WebSocket-Accept, then, by path: /echo echoes bytes, /big/N sends N bytes and closes,
/sink/ID reads to the end and records a digest, /idle says nothing, /frames speaks real
WebSocket frames: echoes text frames and answers a close frame).

Checked for wasmd and nginx alike: the 101 head (status, Upgrade, Connection, the upstream's
own fields), what the upstream received, byte-exact transfer of 48 MiB each way with
back-pressure both ways (a reader that stops stalls the writer within bounded memory), a
clean close from either side (all data delivered first), proxy_read_timeout as the tunnel's
idle time, a request without Upgrade answered 101 by the upstream (502), and the worker
unharmed. Ports 18800-18894.
"""
import base64
import hashlib
import os
import socket
import struct
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "static"))
import harness                                  # noqa: E402
from harness import check                       # noqa: E402
import sbs                                       # noqa: E402
import upstreams                                 # noqa: E402

W, N = 18800, 18850
U = 18810
MIB = 1 << 20
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

BODY = """
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    map $arg_k $mk {{
        default dflt;
        alpha   A;
        \\~tilde T;
        ~^re[0-9]+$ R-$host;
        ~*^CI   CI;
        ''      empty;
        volatile;
    }}
    map $mk $mk2 {{ A from-map; default other; }}
    server {{
        listen 127.0.0.1:{LISTEN};
        location = /m {{ return 200 "[$mk][$mk2]"; }}
        location /ws/ {{
            proxy_pass http://127.0.0.1:{U}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }}
        location /map/ {{
            proxy_pass http://127.0.0.1:{U}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }}
        location /short/ {{
            proxy_pass http://127.0.0.1:{U}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1s;
        }}
    }}
"""


def body_for(listen):
    return BODY.format(LISTEN=listen, U=U)


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


_PAT = {}


def pattern(n, seed=7):
    if (n, seed) not in _PAT:
        _PAT[(n, seed)] = _pattern(n, seed)
    return _PAT[(n, seed)]


def _pattern(n, seed):
    out = bytearray()
    x = seed
    blk = bytes((x * 31 + i * 7) & 255 for i in range(4093))
    while len(out) < n:
        out += blk[:n - len(out)]
    return bytes(out)


class WsUp(upstreams._Base):
    """The WebSocket upstream (see the module's docstring)."""

    def __init__(self, port):
        self.heads = {}        # id -> the request head it received
        self.sinks = {}        # id -> (bytes, sha256 hex, time of EOF)
        self.progress = {}     # id -> bytes sent so far (/big)
        self.closed = {}       # id -> time the upstream saw its connection end
        super().__init__(port)

    def serve(self, s, cid):
        head, rest = upstreams._read_head(s)
        if head is None:
            return
        line, fields = upstreams._fields(head)
        d = {k.lower(): v for k, v in fields}
        target = line.split(" ")[1]
        rid = d.get("x-id", target)
        self.heads[rid] = (line, fields)
        key = d.get("sec-websocket-key", "")
        if "noupgrade" in target or d.get("upgrade", "").lower() == "websocket" or \
                "force101" in target:
            s.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Up: ws\r\n\r\n"
                       % accept_key(key)).encode())
        else:
            s.sendall(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 4\r\n"
                      b"Connection: close\r\n\r\nwant")
            return
        path = target.split("?")[0]
        if path.startswith("/echo"):
            if rest:
                s.sendall(rest)
            while True:
                x = s.recv(65536)
                if not x:
                    break
                s.sendall(x)
        elif path.startswith("/big/"):
            n = int(path.split("/")[2])
            data, sent = pattern(n), 0
            while sent < n:
                k = s.send(data[sent:sent + 65536])
                sent += k
                self.progress[rid] = sent
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        elif path.startswith("/sink/"):
            if "wait" in target:
                time.sleep(2.0)         # not reading: the client must be stalled
            h, total = hashlib.sha256(rest), len(rest)
            while True:
                x = s.recv(1 << 20)
                if not x:
                    break
                h.update(x)
                total += len(x)
            self.sinks[rid] = (total, h.hexdigest(), time.time())
        elif path.startswith("/idle"):
            while s.recv(65536):
                pass
        elif path.startswith("/frames"):
            self.frames(s, rest)
        self.closed[rid] = time.time()

    def frames(self, s, buf):
        # RFC 6455 frames: echo text frames unmasked, answer a close frame and close
        def need(n):
            nonlocal buf
            while len(buf) < n:
                x = s.recv(65536)
                if not x:
                    raise EOFError
                buf += x
        try:
            while True:
                need(2)
                op, ln = buf[0] & 15, buf[1] & 127
                off = 2
                if ln == 126:
                    need(4)
                    ln, off = struct.unpack(">H", buf[2:4])[0], 4
                elif ln == 127:
                    need(10)
                    ln, off = struct.unpack(">Q", buf[2:10])[0], 10
                masked = buf[1] & 128
                need(off + (4 if masked else 0) + ln)
                mask = buf[off:off + 4] if masked else b"\0\0\0\0"
                off += 4 if masked else 0
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buf[off:off + ln]))
                buf = buf[off + ln:]
                if op == 8:
                    s.sendall(frame(8, payload, mask=False))
                    return
                s.sendall(frame(op, payload.upper(), mask=False))
        except EOFError:
            return


def frame(op, payload, mask=True):
    h = bytes([0x80 | op])
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack(">H", n)
    else:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        k = b"\x01\x02\x03\x04"
        return h + k + bytes(b ^ k[i % 4] for i, b in enumerate(payload))
    return h + payload


def read_frame(s, buf):
    while len(buf) < 2:
        x = s.recv(65536)
        check(x, "connection closed before a frame")
        buf += x
    n, off = buf[1] & 127, 2
    if n >= 126:
        off = 4 if n == 126 else 10
        while len(buf) < off:
            x = s.recv(65536)
            check(x, "connection closed inside a frame head")
            buf += x
        n = struct.unpack(">H" if n == 126 else ">Q", buf[2:off])[0]
    while len(buf) < off + n:
        x = s.recv(65536)
        check(x, "connection closed inside a frame")
        buf += x
    return buf[0] & 15, buf[off:off + n], buf[off + n:]


KEY = base64.b64encode(b"0123456789abcdef").decode()


def upgrade(port, path, rid, extra="", upgrade_hdr=True, timeout=10):
    """Connects and asks to upgrade; returns (socket, status, fields dict, bytes after head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    hdrs = "Host: 127.0.0.1\r\nX-Id: %s\r\n" % rid
    if upgrade_hdr:
        hdrs += ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n" % KEY)
    s.sendall(("GET %s HTTP/1.1\r\n%s%s\r\n" % (path, hdrs, extra)).encode())
    head, rest = upstreams._read_head(s)
    check(head is not None, path, "no response head")
    line, fields = upstreams._fields(head)
    d = {}
    for k, v in fields:
        d.setdefault(k.lower(), v)
    return s, int(line.split(" ")[1]), d, rest, line


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def read_all(s, rest=b"", limit=None):
    h, total = hashlib.sha256(rest), len(rest)
    while True:
        x = s.recv(1 << 20)
        if not x:
            return total, h.hexdigest()
        h.update(x)
        total += len(x)


class Env:
    def __init__(self):
        self.up = WsUp(U)
        self.w = harness.Server(("http {\n" + body_for(W) + "\n}\n").replace("%", "%%"), W)
        self.n = sbs.NginxServer(body_for(N).replace("%", "%%"), N, {}) \
            if sbs.nginx_bin() else None
        self.ports = [(W, "wasmd")] + ([(N, "nginx")] if self.n else [])

    def start(self):
        self.w.start()
        if self.n:
            self.n.start()

    def stop(self):
        try:
            self.w.stop()
        finally:
            if self.n:
                self.n.stop()
            self.w.cleanup()
            self.up.stop()


def test_handshake(e):
    got = {}
    for loc in ("/ws/", "/map/"):
        for port, who in e.ports:
            rid = "hs-%s-%s" % (who, loc)
            s, status, d, rest, line = upgrade(port, loc + "echo", rid)
            try:
                check(status == 101, who, loc, line)
                check(d.get("upgrade") == "websocket", who, d)
                check(d.get("connection", "").lower() == "upgrade", who, d)
                check(d.get("sec-websocket-accept") == accept_key(KEY), who, d)
                check(d.get("x-up") == "ws", who, d)
                check("content-length" not in d and "transfer-encoding" not in d, who, d)
                s.sendall(b"hello through the tunnel")
                buf = rest
                while len(buf) < 24:
                    x = s.recv(100)
                    check(x, who, "closed")
                    buf += x
                check(buf == b"hello through the tunnel", who, buf)
            finally:
                s.close()
            line_up, fields = e.up.heads[rid]
            fd = {k.lower(): v for k, v in fields}
            got[(who, loc)] = (line_up, fd.get("upgrade"), fd.get("connection"),
                               fd.get("sec-websocket-key"), sorted(d))
            check(line_up == "GET /echo HTTP/1.1", who, line_up)
            check(fd.get("upgrade") == "websocket" and fd.get("connection") == "upgrade",
                  who, loc, fields)
    if e.n:
        for loc in ("/ws/", "/map/"):
            check(got[("wasmd", loc)] == got[("nginx", loc)], loc, got)


MAPCASES = [("alpha", "[A][from-map]"), ("ALPHA", "[A][from-map]"),
            ("~tilde", "[T][other]"), ("re12", "[R-127.0.0.1][other]"),
            ("re1x", "[dflt][other]"), ("cix", "[CI][other]"), ("xyz", "[dflt][other]"),
            (None, "[empty][other]")]


def test_map(e):
    # nginx's map: exact keys (case-insensitive), "\\" escape, regexes in order (~*
    # caseless), a value with a variable, '' and default, a map of a map
    for k, want in MAPCASES:
        path = "/m" if k is None else "/m?k=" + k
        for port, who in e.ports:
            with harness.Conn(port) as c:
                c.send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
                resp = c.recv_response()
            got = resp.body.decode()
            check(resp.status == 200 and got == want, who, path, resp.status, got, want)


def conf_test(body):
    s = harness.Server(("http {\n%s\n server {\n listen 127.0.0.1:18890;\n }\n}\n" % body)
                       .replace("%", "%%"), 18890)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        return r.returncode, (r.stdout + r.stderr).decode()
    finally:
        s.cleanup()


def test_map_conf(e):
    cases = [
        ("map $arg_a $b { hostnames; default x; }", '"hostnames" in "map" is not supported'),
        ("map $arg_a $b { include m.conf; }", '"include" inside "map" is not supported'),
        ("map $arg_a $b { default x; default y; }", "duplicate default map parameter"),
        ("map $arg_a $b { k 1; K 2; }", 'conflicting parameter "K"'),
        ("map $a b { k 1; }", 'invalid variable name "b"'),
        ("map $arg_a $host { k 1; }", 'is the name of a variable wasmd already has'),
        ("map $arg_a $b { \"~(a{999}){999}\" 1; }", "too complex"),
        ("map $arg_a $b { ~^(x 1; }", "regcomp() failed"),
        ("map $arg_a $b { ~^(x)$ $1; }", 'regex captures ("$1")'),
        ("map $arg_a $b { k 1 2; }", "invalid number of the map parameters"),
        ("map $arg_a $b { k $nosuchvar; }", 'unknown variable'),
    ]
    for body, want in cases:
        rc, out = conf_test(body)
        check(rc != 0 and want in out and "wasmd.conf:" in out, body, rc, out[-300:])
    rc, out = conf_test("map $arg_a $b { default x; k y; volatile; }\n"
                        "map_hash_bucket_size 128; map_hash_max_size 4096;")
    check(rc == 0, rc, out[-300:])


def test_no_upgrade_header(e):
    # the map gives "close" without an Upgrade from the client; a plain request is proxied
    # as any other (the upstream's 426 passes)
    for port, who in e.ports:
        s, status, d, rest, line = upgrade(port, "/map/echo", "nu-" + who, upgrade_hdr=False)
        s.close()
        check(status == 426, who, line)
        fd = {k.lower(): v for k, v in e.up.heads["nu-" + who][1]}
        check(fd.get("connection") == "close" and "upgrade" not in fd, who, fd)
    # the upstream switches protocols although the client did not ask: 502 (wasmd)
    s, status, d, rest, line = upgrade(W, "/ws/echo?force101", "f101", upgrade_hdr=False)
    s.close()
    check(status == 502, line)
    check("upstream switched protocols" in e.w.error_log(), e.w.error_log()[-500:])


def test_websocket_frames(e):
    for port, who in e.ports:
        s, status, d, rest, line = upgrade(port, "/ws/frames", "fr-" + who)
        try:
            check(status == 101, who, line)
            buf = rest
            for msg in (b"hi", b"x" * 300, b"y" * 70000):
                s.sendall(frame(1, msg))
                op, payload, buf = read_frame(s, buf)
                check(op == 1 and payload == msg.upper(), who, len(payload))
            s.sendall(frame(8, struct.pack(">H", 1000)))
            op, payload, buf = read_frame(s, buf)
            check(op == 8 and payload == struct.pack(">H", 1000), who, op, payload)
            check(s.recv(10) == b"", who, "not closed after the close frame")
        finally:
            s.close()


def test_large_down_backpressure(e):
    # the upstream sends 24 MiB then closes; the client reads nothing for 1.5 s first:
    # the upstream must stall (bounded buffering), then every byte arrives, then EOF
    n = 48 * MIB
    want = hashlib.sha256(pattern(n)).hexdigest()
    for port, who in e.ports:
        rid = "down-" + who
        rss0 = rss_kib(e.w.proc.pid)
        s, status, d, rest, line = upgrade(port, "/ws/big/%d" % n, rid, timeout=30)
        try:
            check(status == 101, who, line)
            time.sleep(1.5)
            stalled = e.up.progress.get(rid, 0)
            check(stalled < 24 * MIB, who, "upstream not held back: sent", stalled)
            if who == "wasmd":
                grew = rss_kib(e.w.proc.pid) - rss0
                check(grew < 4096, "wasmd's memory grew by %d KiB" % grew)
            total, dig = read_all(s, rest)
            check(total == n and dig == want, who, total)
        finally:
            s.close()
        print("  %s: upstream had sent %.1f MiB while the client did not read"
              % (who, stalled / MIB))


def test_large_up_backpressure(e):
    # the client sends 24 MiB then shuts its side; the upstream reads nothing for 2 s first:
    # the client must stall; then all arrives, the upstream sees the end, the client its EOF
    n = 48 * MIB
    data = pattern(n, 3)
    want = hashlib.sha256(data).hexdigest()
    for port, who in e.ports:
        rid = "up-" + who
        s, status, d, rest, line = upgrade(port, "/ws/sink/x?wait", rid, timeout=30)
        sent = [0]

        def writer():
            try:
                view = memoryview(data)
                while sent[0] < n:
                    sent[0] += s.send(view[sent[0]:sent[0] + 65536])
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        try:
            check(status == 101, who, line)
            t = threading.Thread(target=writer, daemon=True)
            t.start()
            rss0 = rss_kib(e.w.proc.pid)
            time.sleep(1.2)
            stalled = sent[0]
            check(stalled < 24 * MIB, who, "client not held back: sent", stalled)
            if who == "wasmd":
                grew = rss_kib(e.w.proc.pid) - rss0
                check(grew < 4096, "wasmd's memory grew by %d KiB" % grew)
            t.join(30)
            check(sent[0] == n, who, "not all sent", sent[0])
            check(s.recv(10) == b"", who, "tunnel not closed after the client's end")
            end = time.time() + 5
            while rid not in e.up.sinks and time.time() < end:
                time.sleep(0.05)
            check(e.up.sinks.get(rid, (0, ""))[:2] == (n, want), who, e.up.sinks.get(rid))
        finally:
            s.close()
        print("  %s: client had sent %.1f MiB while the upstream did not read"
              % (who, stalled / MIB))


def test_echo_both_ways(e):
    # 8 MiB through /echo with a concurrent reader: both directions at once
    n = 8 * MIB
    data = pattern(n, 11)
    for port, who in e.ports:
        s, status, d, rest, line = upgrade(port, "/ws/echo", "echo-" + who, timeout=30)
        try:
            check(status == 101, who, line)
            out = [rest]

            def reader():
                got = len(rest)
                while got < n:
                    x = s.recv(1 << 20)
                    if not x:
                        break
                    out.append(x)
                    got += len(x)
            t = threading.Thread(target=reader, daemon=True)
            t.start()
            s.sendall(data)
            t.join(30)
            check(b"".join(out) == data, who, sum(map(len, out)))
        finally:
            s.close()


def test_client_abort(e):
    # the client resets mid-stream: the upstream's connection is closed soon after
    for port, who in e.ports:
        rid = "abort-" + who
        s, status, d, rest, line = upgrade(port, "/ws/idle", rid)
        check(status == 101, who, line)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        end = time.time() + 5
        while rid not in e.up.closed and time.time() < end:
            time.sleep(0.02)
        check(rid in e.up.closed, who, "upstream connection left open")


def test_idle_timeout(e):
    # proxy_read_timeout 1s is the tunnel's idle time: an idle tunnel closes after ~1 s,
    # one with traffic every 0.4 s (either direction) stays open
    for port, who in e.ports:
        rid = "idle-" + who
        s, status, d, rest, line = upgrade(port, "/short/idle", rid)
        t0 = time.time()
        try:
            check(status == 101, who, line)
            check(s.recv(10) == b"", who, "idle tunnel not closed")
            took = time.time() - t0
            check(0.8 <= took <= 3.0, who, "closed after", took)
        except socket.timeout:
            check(False, who, "idle tunnel still open after 10 s")
        finally:
            s.close()
        s, status, d, rest, line = upgrade(port, "/short/echo", "busy-" + who)
        try:
            check(status == 101, who, line)
            for i in range(6):
                time.sleep(0.4)
                s.sendall(b"p")
                check(s.recv(10) == b"p", who, "no echo at", i)
        finally:
            s.close()
    check("while proxying upgraded connection" in e.w.error_log(), e.w.error_log()[-400:])


def test_after_all(e):
    # the worker is unharmed: ordinary requests and new tunnels still work
    s, status, d, rest, line = upgrade(W, "/ws/echo", "after")
    s.sendall(b"z")
    check(s.recv(10) == b"z")
    s.close()


TESTS = [test_map, test_map_conf, test_handshake, test_no_upgrade_header, test_websocket_frames,
         test_large_down_backpressure, test_large_up_backpressure, test_echo_both_ways,
         test_client_abort, test_idle_timeout, test_after_all]


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
            print("ok   test_upgrade %s (%.2fs)" % (t.__name__, time.time() - t0))
        except Exception as ex:
            failed += 1
            print("FAIL test_upgrade %s: %s" % (t.__name__, ex))
            if os.environ.get("T_VERBOSE"):
                traceback.print_exc()
        if e.w.proc.poll() is not None:
            print("FAIL server died after %s\n%s" % (t.__name__, e.w.stderr()[-3000:]))
            failed += 1
            break
    try:
        e.stop()
        passed += 1
        print("ok   test_upgrade teardown (clean logs, no sanitizer reports)")
    except Exception as ex:
        failed += 1
        print("FAIL test_upgrade teardown: %s" % ex)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
