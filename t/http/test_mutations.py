"""Robustness: 3000 mutated requests (random byte edits of valid ones, sent in random pieces,
deterministic seed); every answer must be a well-formed HTTP response or a close, the
server must survive, and (under SANITIZE=1) stay silent."""
import random
import socket

import harness
from harness import check

CONF = r'''
http {
    access_log off;
    client_header_timeout 2s;
    client_body_timeout 2s;
    large_client_header_buffers 4 1k;
    client_max_body_size 1k;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\n"; }
        location /echo { echo_body; }
        location /buf { echo_body buffered; }
    }
}
'''

SEEDS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /buf HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    b"3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
    b"GET /a/../b%20c?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"HEAD http://a/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
]
ALPHABET = b"\r\n :;,\t\x00\x7f\xff/%.0123456789abcdefxHTTP-chunkedContent-Length"


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randint(0, 3)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 1:
            data[pos:pos] = bytes([rng.choice(ALPHABET)])
        elif op == 2 and data:
            data[min(pos, len(data) - 1)] = rng.randint(0, 255)
        else:
            a = rng.randint(0, len(data))
            data[pos:pos] = data[a:a + rng.randint(1, 20)]
    if rng.random() < 0.3:
        data += rng.choice(SEEDS)       # a pipelined follower
    return bytes(data)


def exchange(s, data, rng):
    c = s.connect(timeout=4)
    try:
        i = 0
        while i < len(data):
            n = rng.randint(1, len(data) - i)
            c.send(data[i:i + n])
            i += n
        c.sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass                            # the server may have answered and closed already
    try:
        raw = c.recv_all(timeout=4)
    except OSError:
        raw = c.buf
    finally:
        c.close()
    # whatever came back must be a sequence of HTTP/1.1 status lines with headers
    if raw:
        check(raw.startswith(b"HTTP/1.1 "), "garbage response", data, raw[:200])
    return raw


def test_mutations(s):
    rng = random.Random(20261125)
    statuses = {}
    for i in range(3000):
        data = mutate(rng, rng.choice(SEEDS))
        raw = exchange(s, data, rng)
        if raw:
            st = raw[9:12]
            statuses[st] = statuses.get(st, 0) + 1
    print("     statuses: %r" % sorted(statuses.items()))
    check(b"400" in statuses and b"200" in statuses, statuses)
    r = s.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    check(r.status == 200 and r.body == b"ok\n", r)


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18260, per_test_timeout=120))
