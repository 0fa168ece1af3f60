"""Request bodies through the streaming handler API (echo_body), 100-continue, unread bodies
discarded before the next pipelined request, asynchronous handlers and client aborts."""
import os
import socket
import threading
import time

import harness
from harness import check

CONF = r'''
http {
    access_log logs/access.log;
    client_max_body_size 0;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\n"; }
        location /echo { echo_body; }
        location /buffered { echo_body buffered; }
        location /sleep { echo_sleep 300ms; }
    }
}
'''

H = b"Host: a\r\n"


def test_echo_content_length(s):
    with s.connect() as c:
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 11\r\n\r\nhello world")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"hello world", r)
        check(r.chunked, "streamed response is chunked", r)
        c.send(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        check(c.recv_response().body == b"ok\n")


def test_echo_chunked(s):
    with s.connect() as c:
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n1;x=y\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"hello world", r)
        c.send(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        check(c.recv_response().body == b"ok\n")


def test_echo_chunked_split_everywhere(s):
    data = (b"POST /buffered HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n")
    with s.connect() as c:
        for i in range(len(data)):
            c.send(data[i:i + 1])
            if i % 7 == 0:
                time.sleep(0.001)
        r = c.recv_response()
        check(r.status == 200 and r.body == b"abc0123456789", r)


def test_echo_large_body_backpressure(s):
    size = 4 * 1024 * 1024
    payload = os.urandom(1024) * (size // 1024)
    with s.connect() as c:
        c.sock.settimeout(20)
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % size)
        err = []

        def sender():
            try:
                c.sock.sendall(payload)
            except OSError as e:
                err.append(e)
        t = threading.Thread(target=sender)
        t.start()
        time.sleep(0.5)         # let the server fill its buffers before we read
        r = c.recv_response()
        t.join(20)
        check(not err, err)
        check(r.status == 200 and len(r.body) == size and r.body == payload, len(r.body))


def test_100_continue(s):
    with s.connect() as c:
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        r = c.recv_response()
        check(r.status == 100, r)
        c.send(b"data")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"data", r)


def test_100_continue_not_sent_when_body_unread(s):
    with s.connect() as c:
        c.send(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"ok\n", r)
        check(r.header("Connection") == "close" or c.closed(), r)


def test_100_continue_http10_ignored(s):
    with s.connect() as c:
        c.send(b"POST /buffered HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"hi", r)


def test_unread_body_discarded_pipelined(s):
    with s.connect() as c:
        c.send(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\n0123456789"
               b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\n"
               b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        for i in range(3):
            r = c.recv_response()
            check(r.status == 200 and r.body == b"ok\n", i, r)


def test_unread_body_arrives_later(s):
    with s.connect() as c:
        c.send(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\n01234")
        r = c.recv_response()
        check(r.status == 200, r)
        time.sleep(0.2)
        c.send(b"56789GET / HTTP/1.1\r\n" + H + b"\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"ok\n", r)


def test_echo_http10_close_delimited(s):
    with s.connect() as c:
        c.send(b"POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"abc", r)
        check(r.header("Content-Length") is None and r.header("Transfer-Encoding") is None, r)
        check(c.closed())


def test_head_echo_has_no_body(s):
    with s.connect() as c:
        c.send(b"HEAD /buffered HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc"
               b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        r = c.recv_response(head=True)
        check(r.status == 200 and r.header("Content-Length") == "3", r)
        r = c.recv_response()
        check(r.body == b"ok\n", r)


def test_async_handler_pipelined(s):
    with s.connect() as c:
        t0 = time.time()
        c.send(b"GET /sleep HTTP/1.1\r\n" + H + b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n")
        r1 = c.recv_response()
        r2 = c.recv_response()
        check(r1.body == b"slept\n" and r2.body == b"ok\n", r1, r2)
        check(time.time() - t0 >= 0.25, "the sleep happened")


def test_async_client_abort_runs_cleanup(s):
    for i in range(5):
        c = s.connect()
        c.send(b"GET /sleep HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.05)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()           # RST
    c = s.connect()
    c.send(b"GET /sleep HTTP/1.1\r\n" + H + b"\r\n")
    c.sock.shutdown(socket.SHUT_WR)      # EOF while an async handler runs
    time.sleep(0.5)
    c.close()
    time.sleep(0.3)
    r = s.request(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
    check(r.status == 200, r)
    time.sleep(0.2)
    log = s.access_log()
    check(" 499 " in log, "aborted requests are logged with 499", log[-500:])


def test_pipelining_many_unread(s):
    # the client writes 3000 requests before reading anything: the server must neither
    # deadlock nor buffer without bound (it stops reading while responses are unsent)
    import threading
    n = 3000
    with s.connect() as c:
        c.sock.settimeout(20)
        t = threading.Thread(target=lambda: c.sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * n))
        t.start()
        time.sleep(0.5)
        got = 0
        while got < n:
            r = c.recv_response()
            check(r.body == b"ok\n", got, r)
            got += 1
        t.join(10)
        check(got == n)


def test_many_concurrent_connections(s):
    conns = [s.connect() for _ in range(50)]
    for c in conns:
        c.send(b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello")
    for c in conns:
        r = c.recv_response()
        check(r.body == b"hello", r)
        c.close()


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18220))
