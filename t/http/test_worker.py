"""Worker-side behaviour: graceful QUIT (in-flight requests finish, idle keep-alive
connections close, new connections refused), TERM, USR1 log reopen, worker_connections."""
import os
import signal
import socket
import time

import harness
from harness import check, Server

CONF = r'''
http {
    access_log logs/access.log;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\n"; }
        location /sleep { echo_sleep 700ms; }
    }
}
'''

LIMIT_MAIN = "events { worker_connections 4; }\n"

H = b"Host: a\r\n"


def test_usr1_reopens_access_log(s):
    r = s.request(b"GET /first HTTP/1.1\r\n" + H + b"\r\n")
    check(r.status == 200)
    time.sleep(0.2)
    log = os.path.join(s.prefix, "logs", "access.log")
    os.rename(log, log + ".1")
    s.signal(signal.SIGUSR1)
    time.sleep(0.5)
    s.request(b"GET /second HTTP/1.1\r\n" + H + b"\r\n")
    time.sleep(0.3)
    with open(log + ".1") as f:
        old = f.read()
    check("/first" in old and "/second" not in old, old)
    check(os.path.exists(log), "access.log reopened")
    with open(log) as f:
        new = f.read()
    check("/second" in new, new)


def test_graceful_quit(s):
    # a separate server: QUIT ends it
    q = Server(CONF, 18241).start()
    try:
        idle = q.connect()
        idle.send(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        check(idle.recv_response().status == 200)
        busy = q.connect()
        busy.send(b"GET /sleep HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.2)
        q.signal(signal.SIGQUIT)
        check(idle.closed(timeout=2), "idle keep-alive connection closed on QUIT")
        r = busy.recv_response()
        check(r.status == 200 and r.body == b"slept\n", "in-flight request finished", r)
        check(r.header("Connection") == "close", r)
        check(busy.closed(timeout=2))
        q.proc.wait(5)
        check(q.proc.returncode == 0, q.proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", 18241), timeout=0.5).close()
            check(False, "still listening after QUIT")
        except OSError:
            pass
        q.stop()
    finally:
        q.cleanup()


def test_term_exits_now(s):
    q = Server(CONF, 18242).start()
    try:
        busy = q.connect()
        busy.send(b"GET /sleep HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.1)
        t0 = time.time()
        q.signal(signal.SIGTERM)
        q.proc.wait(5)
        check(time.time() - t0 < 0.6, "TERM does not wait for requests")
        check(busy.closed(timeout=1))
        q.stop()
    finally:
        q.cleanup()


def test_worker_connections_limit(s):
    q = Server(CONF, 18243, main_conf=LIMIT_MAIN).start(wait=False)
    try:
        time.sleep(0.5)
        conns = []
        for i in range(4):
            c = q.connect()
            c.send(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
            check(c.recv_response().status == 200)
            conns.append(c)
        extra = q.connect()              # queued in the kernel backlog, not served
        extra.send(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        extra.sock.settimeout(0.7)
        try:
            d = extra.sock.recv(100)
            check(False, "5th connection served beyond worker_connections: %r" % d)
        except socket.timeout:
            pass
        conns[0].close()
        extra.sock.settimeout(5)
        r = extra.recv_response()
        check(r.status == 200, "served once a slot is free", r)
        for c in conns[1:]:
            c.close()
        extra.close()
        q.stop()
    finally:
        q.cleanup()


def test_worker_shutdown_timeout(s):
    conf = CONF.replace("echo_sleep 700ms", "echo_sleep 10s")
    q = Server(conf, 18245, main_conf="worker_shutdown_timeout 500ms;").start()
    try:
        busy = q.connect()
        busy.send(b"GET /sleep HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.2)
        t0 = time.time()
        q.signal(signal.SIGQUIT)
        q.proc.wait(5)
        check(time.time() - t0 < 2.0, "exited after worker_shutdown_timeout")
        check(busy.closed(timeout=1), "the in-flight request was cut")
        check("worker_shutdown_timeout" in q.error_log(), q.error_log()[-400:])
        q.stop()
    finally:
        q.cleanup()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_emfile_pauses_accepting(s):
    q = Server(CONF, 18244, main_conf="events { worker_connections 1000; }", rlimit_nofile=48).start()
    conns = []
    try:
        for i in range(80):
            try:
                conns.append(socket.create_connection(("127.0.0.1", 18244), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        t0 = cpu_seconds(q.proc.pid)
        time.sleep(1.0)
        used = cpu_seconds(q.proc.pid) - t0
        check(used < 0.3, "server spins while out of descriptors: %.2fs CPU in 1s" % used)
        check("accept4() failed" in q.error_log() and "[crit]" in q.error_log(), q.error_log()[-500:])
        for c in conns:
            c.close()
        conns = []
        time.sleep(0.5)
        r = q.request(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
        check(r.status == 200, "serves again once descriptors are free", r)
        q.stop()
    finally:
        for c in conns:
            c.close()
        q.cleanup()


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=18240))
