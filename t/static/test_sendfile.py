"""`sendfile on`: big static files leave by sendfile(2) (on the thread pool, waiting for a
full socket on the loop), byte for byte the same as with `sendfile off`: whole files,
ranges, multipart ranges, HEAD, a client reading slowly (the socket fills up again and
again), a client leaving mid-file (the worker serves on), gzip (the filter needs the bytes:
read and write), and strace shows the worker calling sendfile only where it is on, at most
sendfile_max_chunk per call, TCP_CORK around it with tcp_nopush on, on the loop for a page-cached file and on the thread pool for
one that is not."""
import gzip
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sbs import Tree, check, harness   # noqa: E402

PORT = 18790

CONF = '''
http {
    sendfile on;
    gzip_types text/plain;
    server {
        listen 127.0.0.1:%(port)d;
        root ROOT;
        location /off/ { sendfile off; alias ROOT/; }
        location /chunk/ { sendfile_max_chunk 256k; alias ROOT/; }
        location /nopush/ { tcp_nopush on; alias ROOT/; }
        location /gz/ { gzip on; gzip_min_length 1; alias ROOT/; }
        location /ofc/ { open_file_cache max=10; alias ROOT/; }
    }
}
'''

SIZE = 6 * 1024 * 1024 + 12345
BIG = None


def get(s, path, hdrs=(), head=False):
    h = "".join(x + "\r\n" for x in hdrs)
    with s.connect(timeout=20) as c:
        c.send(("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % ("HEAD" if head else "GET", path, h))
               .encode())
        return c.recv_response(head=head)


def test_whole_file(s, data):
    for p in ("/big.bin", "/off/big.bin"):
        r = get(s, p)
        check(r.status == 200 and r.header("Content-Length") == str(SIZE), p, r.status)
        check(hashlib.sha256(r.body).digest() == hashlib.sha256(data).digest(), p, "bytes")
    r = get(s, "/big.bin", head=True)
    check(r.status == 200 and r.header("Content-Length") == str(SIZE) and r.body == b"", r)


def test_ranges(s, data):
    r = get(s, "/big.bin", ["Range: bytes=100000-5000000"])
    check(r.status == 206 and r.body == data[100000:5000001], r.status, len(r.body))
    r = get(s, "/big.bin", ["Range: bytes=-70000"])
    check(r.status == 206 and r.body == data[-70000:], r.status)
    r = get(s, "/big.bin", ["Range: bytes=0-99,1000000-2999999,6000000-"])
    check(r.status == 206 and r.header("Content-Type").startswith("multipart/byteranges"), r)
    for part in (data[0:100], data[1000000:3000000], data[6000000:]):
        check(part in r.body, "each part's bytes in the multipart body")


def test_slow_reader(s, data):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    c.connect(("127.0.0.1", s.port))
    c.settimeout(20)
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = bytearray()
    t0 = time.time()
    while True:
        d = c.recv(262144)
        if not d:
            break
        got += d
        if time.time() - t0 < 1.0:
            time.sleep(0.01)        # slow for a second: the socket is full many times
    c.close()
    body = bytes(got[got.index(b"\r\n\r\n") + 4:])
    check(len(body) == SIZE and body == data, "slow reader got every byte", len(body))


def test_client_leaves(s, data):
    for _ in range(5):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        c.connect(("127.0.0.1", s.port))
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        c.recv(4096)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()                   # reset mid-file
    time.sleep(0.3)
    r = get(s, "/small.txt")
    check(r.status == 200 and r.body == b"small\n", "the worker serves on", r)
    test_whole_file(s, data)


def test_gzip_reads(s, data):
    r = get(s, "/gz/text.txt", ["Accept-Encoding: gzip"])
    check(r.status == 200 and r.header("Content-Encoding") == "gzip", r.status)
    check(gzip.decompress(r.body) == TEXT, "gzip of a big file with sendfile on")


def strace_sendfiles(s, path, pids=False, trace="sendfile", pat="sendfile("):
    """sendfile calls of the server while it serves path (with pids: the set of thread ids
    that made them), or None if strace cannot attach"""
    if not shutil.which("strace"):
        return None
    out = os.path.join(s.prefix, "strace.txt")
    p = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=" + trace, "-o", out,
                          "-p", str(s.proc.pid)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    time.sleep(0.5)
    if p.poll() is not None:
        return None                 # ptrace not allowed here (a plain user, yama)
    try:
        r = get(s, path)
        check(r.status == 200 and len(r.body) == SIZE, path)
        time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    with open(out) as f:
        lines = [line for line in f if pat in line]
    if pids:
        return set(int(line.split()[0]) for line in lines)
    return len(lines)


def test_sendfile_is_used(s, data):
    on = strace_sendfiles(s, "/big.bin")
    if on is None:
        print("skip test_sendfile.py strace cannot attach: sendfile use not observed")
        return
    off = strace_sendfiles(s, "/off/big.bin")
    check(on > 0, "sendfile on: the worker calls sendfile", on)
    check(off == 0, "sendfile off: it does not", off)
    corks = strace_sendfiles(s, "/nopush/big.bin", trace="setsockopt", pat="TCP_CORK")
    check(corks == 2, "tcp_nopush on: TCP_CORK set for the header and file, then cleared",
          corks)
    corks = strace_sendfiles(s, "/big.bin", trace="setsockopt", pat="TCP_CORK")
    check(corks == 0, "tcp_nopush off: no TCP_CORK", corks)
    chunked = strace_sendfiles(s, "/chunk/big.bin")
    check(chunked >= SIZE // (256 * 1024), "sendfile_max_chunk 256k: a call per 256 KiB at most",
          chunked)


def test_cached_on_loop_uncached_on_pool(s, data):
    """a page-cached file is sent by the loop's thread; one evicted from the page cache
    (posix_fadvise DONTNEED) by a thread of the pool, never blocking the loop"""
    get(s, "/big.bin")                  # cached now
    on_loop = strace_sendfiles(s, "/big.bin", pids=True)
    if on_loop is None:
        print("skip test_sendfile.py strace cannot attach: threads not observed")
        return
    check(on_loop == {s.proc.pid}, "cached: sendfile on the loop", on_loop, s.proc.pid)
    fd = os.open(BIG, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    on_pool = strace_sendfiles(s, "/big.bin", pids=True)
    check(on_pool and on_pool - {s.proc.pid}, "uncached: sendfile on the thread pool (then "
          "on the loop for what the pool read into the cache)", on_pool, s.proc.pid)


def test_residency_trusted_for_cached_files(s, data):
    """with open_file_cache, a file found entirely in the page cache is trusted to stay
    there for 1 s: the page-cache check (mmap + mincore + munmap) is made once, not per
    response; without the cache it is made for every response"""
    if not shutil.which("strace"):
        print("skip test_sendfile.py no strace: residency checks not observed")
        return
    counts = {}
    for path in ("/ofc/big.bin", "/big.bin"):
        get(s, path)                    # cached (and, for /ofc/, checked) now
        out = os.path.join(s.prefix, "strace-mincore.txt")
        p = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=mincore", "-o", out,
                              "-p", str(s.proc.pid)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        time.sleep(0.5)
        if p.poll() is not None:
            print("skip test_sendfile.py strace cannot attach: residency checks not observed")
            return
        try:
            for i in range(5):
                r = get(s, path)
                check(r.status == 200 and r.body == data, path, i)
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(10)
        with open(out) as f:
            counts[path] = sum(1 for line in f if "mincore(" in line)
    per = -(-SIZE // 4096) // 256 + 1      # mincore calls of one check (256 pages each)
    check(counts["/big.bin"] >= 5 * (per - 1), "no open_file_cache: a check per response",
          counts)
    check(counts["/ofc/big.bin"] <= per, "open_file_cache: at most one check in 5 responses",
          counts)


TEXT = b"".join(b"line %d of a text file that compresses well\n" % i for i in range(40000))


def main():
    tree = Tree()
    data = os.urandom(SIZE)
    global BIG
    BIG = tree.write("www/big.bin", data)
    tree.write("www/small.txt", b"small\n")
    tree.write("www/text.txt", TEXT)
    s = harness.Server(CONF.replace("ROOT", tree.path("www")), PORT)
    passed = failed = 0
    try:
        s.start()
        for name, fn in sorted(globals().items()):
            if not name.startswith("test_"):
                continue
            try:
                fn(s, data)
                passed += 1
                print("ok   test_sendfile.py %s" % name)
            except Exception as e:      # noqa: BLE001
                failed += 1
                print("FAIL test_sendfile.py %s: %s" % (name, e))
    finally:
        try:
            s.stop()
            passed += 1
            print("ok   test_sendfile.py teardown (clean logs, no sanitizer reports)")
        except Exception as e:          # noqa: BLE001
            failed += 1
            print("FAIL test_sendfile.py teardown: %s" % e)
        s.cleanup()
        tree.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
