"""t/proxy/upstreams.py -- upstream servers the proxy tests start on loopback ports.

    Echo(port, name)     HTTP/1.1 (keep-alive), answers every request with JSON: the request
                         line, the header fields in order, the body's length, the server's
                         name and the number of the connection it came on. Paths:
                           /status/N       answer with status N (JSON body as well)
                           /slow/MS        wait MS milliseconds before the head
                           /hdr            extra response fields (Server, Date, X-Accel-*, ...)
    Raw(port, behaviour) a raw-socket server: "reset" (RST at once), "hang" (read, never
                         answer), "garbage", "cl_te", "bare_lf", "two_cl", "short" (head with
                         Content-Length 1000, 10 bytes, close), "big:N" (N bytes of body),
                         "sink" (wait 1.5 s, then read a Content-Length body, answer its length).
"""
import json
import socket
import struct
import threading
import time


def _read_head(sock, buf=b""):
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return None, b""
        buf += d
    i = buf.index(b"\r\n\r\n") + 4
    return buf[:i], buf[i:]


def _fields(head):
    lines = head.decode("latin-1").split("\r\n")
    out = []
    for ln in lines[1:]:
        if not ln:
            continue
        k, _, v = ln.partition(":")
        out.append([k, v.strip()])
    return lines[0], out


def _read_body(sock, fields, rest):
    d = {k.lower(): v for k, v in fields}
    if "content-length" in d:
        n = int(d["content-length"])
        body = rest
        while len(body) < n:
            x = sock.recv(min(1 << 20, n - len(body)))
            if not x:
                break
            body += x
        return body[:n], body[n:]
    if d.get("transfer-encoding", "").lower() == "chunked":
        buf, body = rest, b""
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            line, _, buf = buf.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                return body, buf
    return b"", rest


class _Base:
    def __init__(self, port):
        self.port = port
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(128)
        self.conns = 0
        self.requests = 0
        self.stopped = False
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            self.conns += 1
            self.socks.append(s)
            threading.Thread(target=self._serve_safe, args=(s, self.conns), daemon=True).start()

    def _serve_safe(self, s, cid):
        try:
            self.serve(s, cid)
        except OSError:
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


class Echo(_Base):
    def __init__(self, port, name="up"):
        self.name = name
        super().__init__(port)

    def serve(self, s, cid):
        rest = b""
        while True:
            head, rest = _read_head(s, rest)
            if head is None:
                return
            line, fields = _fields(head)
            body, rest = _read_body(s, fields, rest)
            self.requests += 1
            path = line.split(" ")[1] if " " in line else ""
            status, extra = 200, ""
            if "/status/" in path:
                status = int(path.split("/status/")[1][:3])
            if "/slow/" in path:
                time.sleep(int(path.split("/slow/")[1].split("?")[0]) / 1000.0)
            if path.startswith("/hdr"):
                extra = ("Server: upstream-sw\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                         "X-Accel-Buffering: yes\r\nX-Pad: y\r\nX-Secret: s\r\nX-Kept: k\r\n"
                         "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n")
            out = json.dumps({"line": line, "headers": fields, "body_len": len(body),
                              "server": self.name, "conn": cid}).encode()
            close = any(k.lower() == "connection" and "close" in v.lower() for k, v in fields) \
                or line.endswith("HTTP/1.0")
            s.sendall(("HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                       "%s%s\r\n" % (status, len(out), extra,
                                     "Connection: close\r\n" if close else "")).encode() + out)
            if close:
                return


class TlsEcho(Echo):
    """Echo over TLS (cert/key files); sni records the server names clients sent."""

    def __init__(self, port, name, cert, key):
        import ssl
        self.sni = []
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        super().__init__(port, name)

    def serve(self, s, cid):
        s = self.ctx.wrap_socket(s, server_side=True)
        super().serve(s, cid)


class Raw(_Base):
    def __init__(self, port, behaviour):
        self.behaviour = behaviour
        super().__init__(port)

    def serve(self, s, cid):
        b = self.behaviour
        if b == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            _read_head(s)
            return
        head, rest = _read_head(s)
        if head is None:
            return
        self.requests += 1
        if b == "hang":
            while s.recv(65536):
                pass
            return
        if b == "garbage":
            s.sendall(b"HELLO THERE\r\n\r\n")
        elif b == "cl_te":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5\r\nhello\r\n0\r\n\r\n")
        elif b == "bare_lf":
            s.sendall(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
        elif b == "two_cl":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!")
        elif b == "short":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            time.sleep(0.2)
        elif b.startswith("big:"):
            n = int(b[4:])
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n)
            chunk = b"x" * (1 << 20)
            while n > 0:
                k = min(n, len(chunk))
                s.sendall(chunk[:k])
                n -= k
        elif b == "sink":
            time.sleep(1.5)          # a slow reader first: the proxy must stop reading too
            _, fields = _fields(head)
            d = {k.lower(): v for k, v in fields}
            n, got = int(d.get("content-length", "0")), len(rest)
            buf = bytearray(1 << 20)
            while got < n:
                k = s.recv_into(buf)
                if not k:
                    break
                got += k
            out = str(got).encode()
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                      % (len(out), out))
        time.sleep(0.05)
