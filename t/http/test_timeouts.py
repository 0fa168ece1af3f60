"""Timeouts: slow headers (slowloris) -> 408, slow body -> 408, idle keep-alive close,
send_timeout for a client that stops reading."""
import socket
import threading
import time

import harness
from harness import check

CONF = r'''
http {
    access_log off;
    client_header_timeout 1s;
    client_body_timeout 1s;
    keepalive_timeout 1s;
    send_timeout 1s;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\n"; }
        location /buffered { echo_body buffered; }
        location /echo { echo_body; }
    }
}
'''

H = b"Host: a\r\n"


def test_slowloris_header_408(s):
    with s.connect() as c:
        t0 = time.time()
        c.send(b"GET / HTTP/1.1\r\n")
        # trickle header bytes: each byte must not extend the deadline
        for i in range(8):
            try:
                c.send(b"X-%d: y\r\n" % i)
            except OSError:
                break
            time.sleep(0.25)
            if time.time() - t0 > 3:
                break
        r = c.recv_response()
        check(r.status == 408, r)
        check(c.closed())
        check(time.time() - t0 < 2.9, "deadline is counted from the first byte")


def test_fresh_connection_idle_closed(s):
    with s.connect() as c:
        t0 = time.time()
        check(c.closed(timeout=3), "idle fresh connection closed")
        check(0.8 < time.time() - t0 < 2.5, time.time() - t0)


def test_keepalive_timeout(s):
    with s.connect() as c:
        c.send(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        check(c.recv_response().status == 200)
        t0 = time.time()
        check(c.closed(timeout=3), "keep-alive connection closed after keepalive_timeout")
        check(0.8 < time.time() - t0 < 2.5, time.time() - t0)


def test_slow_body_408(s):
    with s.connect() as c:
        c.send(b"POST /buffered HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\nabc")
        r = c.recv_response()
        check(r.status == 408, r)
        check(c.closed())


def test_body_bytes_rearm_body_timeout(s):
    with s.connect() as c:
        c.send(b"POST /buffered HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n\r\n")
        for b in b"abcd":
            time.sleep(0.5)
            c.send(bytes([b]))
        r = c.recv_response()
        check(r.status == 200 and r.body == b"abcd", r)


def test_send_timeout_client_not_reading(s):
    c = s.connect()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    size = 64 * 1024 * 1024
    c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % size)
    chunk = b"x" * 65536
    sent = 0
    t0 = time.time()
    c.sock.settimeout(1.0)
    closed = False
    while time.time() - t0 < 8:
        try:
            c.sock.send(chunk)
            sent += len(chunk)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
    c.close()
    check(closed, "server must drop a client that does not read (sent %d)" % sent)


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18230))
