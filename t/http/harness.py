"""t/http/harness.py -- integration test harness for wasmd (Python 3 stdlib only).

Each test file t/<group>/test_*.py carries its own configuration, starts a real server
and speaks raw bytes to it.  Shape of a test file:

    import harness
    from harness import check, Server

    CONF = '''
    http {
        access_log logs/access.log;
        server {
            listen 127.0.0.1:%(port)d;
            location / { return 200 "hello\\n"; }
        }
    }
    '''

    def test_hello(s):                      # s: the running Server of this file
        r = s.request(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
        check(r.status == 200, r)
        check(r.body == b"hello\\n")

    if __name__ == "__main__":
        harness.main(CONF, globals(), port=18200)

harness.main(conf, globals(), port, main_conf="", master=False) starts ONE server for the
file (the configuration is formatted with %(port)d, %(port2)d = port+1, %(prefix)s), runs
every function named test_* in file order with a 20 s alarm each, stops the server and
checks its logs, then prints "N passed, N failed".  A test may start its own extra
Server(conf, port, ...) (use ports from your range) and must .stop() it (or use `with`).

Server API:
    Server(conf, port, main_conf="", master=False, files=None, rlimit_nofile=None)
                             # files: {relpath: bytes}; rlimit_nofile: RLIMIT_NOFILE of the server
    s.start(); s.stop(sig=_signal.SIGQUIT)   # stop() also asserts the log checks below
    s.prefix                 temp prefix dir (conf/wasmd.conf, logs/error.log, logs/access.log)
    s.connect() -> Conn      a raw client connection (timeout 5 s)
    s.request(raw, head=False) -> Response  one request on a fresh connection
    s.error_log() / s.access_log() -> str
    s.signal(sig)            send a signal to the server process
    s.run_cli(*args) -> CompletedProcess   run $WASMD_BIN with args (e.g. "-t", "-c", ...)
Conn API:
    c.send(bytes); c.recv_response(head=False) -> Response (status, reason, headers (list of
    (name, value) str pairs), header(name) -> first value or None, body (bytes), raw (bytes));
    c.recv_all() -> bytes until EOF; c.closed(timeout=2) -> True if the server closed it;
    c.recv_some(n) -> bytes available now (or b"" on EOF); c.close()
Checks done by Server.stop(): no "[alert]" or "[emerg]" lines in logs/error.log and no
sanitizer report ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer") in the
server's stderr.  The binary is $WASMD_BIN (default objs/wasmd; `make test SANITIZE=1`
passes objs/san/wasmd).
"""
import os
import re
import signal as _signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import shutil

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WASMD_BIN = os.environ.get("WASMD_BIN") or os.path.join(ROOT, "objs", "wasmd")


class CheckError(AssertionError):
    pass


def check(cond, *what):
    """assert that survives python -O and prints its context"""
    if not cond:
        raise CheckError(" ".join(repr(w) if not isinstance(w, str) else w for w in what)
                         or "check failed")


class Response:
    def __init__(self):
        self.status = 0
        self.reason = ""
        self.version = ""
        self.headers = []
        self.body = b""
        self.raw = b""
        self.chunked = False

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def __repr__(self):
        return "<Response %d %r headers=%r body=%r>" % (self.status, self.reason,
                                                       self.headers, self.body[:200])


class Conn:
    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        if self.eof:
            return False
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _read_line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise CheckError("connection closed while reading a line; have %r" % self.buf[:200])
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_n(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise CheckError("connection closed with %d of %d body bytes" % (len(self.buf), n))
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def recv_response(self, head=False):
        """Reads one response (1xx interim responses are returned as they come)."""
        r = Response()
        start = len(self.buf)
        raw = []
        line = self._read_line()
        raw.append(line + b"\r\n")
        parts = line.decode("latin-1").split(" ", 2)
        check(len(parts) >= 2 and parts[0].startswith("HTTP/"), "bad status line", line)
        r.version = parts[0]
        r.status = int(parts[1])
        r.reason = parts[2] if len(parts) > 2 else ""
        while True:
            line = self._read_line()
            raw.append(line + b"\r\n")
            if line == b"":
                break
            k, _, v = line.decode("latin-1").partition(":")
            r.headers.append((k, v.strip()))
        if head or r.status < 200 or r.status in (204, 304):
            r.raw = b"".join(raw)
            return r
        te = r.header("Transfer-Encoding")
        cl = r.header("Content-Length")
        if te is not None:
            check(te.lower() == "chunked", "unexpected TE", te)
            r.chunked = True
            body = []
            while True:
                size_line = self._read_line()
                raw.append(size_line + b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while True:
                        t = self._read_line()
                        raw.append(t + b"\r\n")
                        if t == b"":
                            break
                    break
                chunk = self._read_n(size)
                body.append(chunk)
                raw.append(chunk)
                crlf = self._read_n(2)
                check(crlf == b"\r\n", "bad chunk end", crlf)
                raw.append(crlf)
            r.body = b"".join(body)
        elif cl is not None:
            r.body = self._read_n(int(cl))
            raw.append(r.body)
        else:
            while self._fill():
                pass
            r.body, self.buf = self.buf, b""
            raw.append(r.body)
        r.raw = b"".join(raw)
        return r

    def recv_all(self, timeout=5.0):
        self.sock.settimeout(timeout)
        while self._fill():
            pass
        d, self.buf = self.buf, b""
        return d

    def recv_some(self, timeout=1.0):
        self.sock.settimeout(timeout)
        try:
            self._fill()
        except socket.timeout:
            pass
        d, self.buf = self.buf, b""
        return d

    def closed(self, timeout=2.0):
        """True if the server closed the connection (EOF or reset) within timeout;
        any data still pending is discarded."""
        if self.eof:
            return True
        self.sock.settimeout(timeout)
        end = time.time() + timeout
        try:
            while time.time() < end:
                d = self.sock.recv(65536)
                if not d:
                    self.eof = True
                    return True
                self.buf += d
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.eof = True
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


SAN_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                "ERROR: UndefinedBehaviorSanitizer")


class Server:
    def __init__(self, conf, port, main_conf="", master=False, files=None, check_logs=True,
                 rlimit_nofile=None):
        self.port = port
        self.prefix = tempfile.mkdtemp(prefix="wasmd-t-")
        os.chmod(self.prefix, 0o755)    # workers run as nobody: they reopen logs here
        self.vars = {"port": port, "port2": port + 1, "port3": port + 2, "prefix": self.prefix}
        self.conf_text = conf % self.vars
        self.main_conf = main_conf % self.vars
        self.master = master
        self.files = files or {}
        self.proc = None
        self.check_logs = check_logs
        self.rlimit_nofile = rlimit_nofile
        os.makedirs(os.path.join(self.prefix, "conf"))
        os.makedirs(os.path.join(self.prefix, "logs"))
        for rel, data in self.files.items():
            p = os.path.join(self.prefix, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
        head = "daemon off;\nmaster_process %s;\nworker_processes 1;\n" % ("on" if master else "off")
        head += "error_log logs/error.log info;\npid logs/wasmd.pid;\n"
        self.conf_path = os.path.join(self.prefix, "conf", "wasmd.conf")
        with open(self.conf_path, "w") as f:
            f.write(head + self.main_conf + "\n" + self.conf_text)

    def run_cli(self, *args, timeout=20):
        return subprocess.run([WASMD_BIN] + list(args), cwd=self.prefix, capture_output=True,
                              timeout=timeout)

    def start(self, wait=True):
        self.stderr_path = os.path.join(self.prefix, "stderr.txt")
        self.stderr_f = open(self.stderr_path, "wb")
        pre = None
        if self.rlimit_nofile:
            import resource
            n = self.rlimit_nofile

            def pre():
                resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        self.proc = subprocess.Popen([WASMD_BIN, "-p", self.prefix + "/", "-c", self.conf_path],
                                     cwd=self.prefix, stdout=self.stderr_f, stderr=self.stderr_f,
                                     preexec_fn=pre)
        if wait:
            self.wait_port()
        return self

    def wait_port(self, timeout=None):
        # T_START_TIMEOUT: a slow start (valgrind on a loaded machine) is not a failure
        timeout = timeout or float(os.environ.get("T_START_TIMEOUT", "10"))
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise CheckError("server exited early (%d): %s" % (self.proc.returncode,
                                                                   self.stderr()[-2000:]))
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
                s.close()
                return
            except OSError:
                time.sleep(0.05)
        raise CheckError("server did not listen on %d" % self.port)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def connect(self, timeout=5.0):
        return Conn(self.port, timeout)

    def request(self, raw, head=False):
        with self.connect() as c:
            c.send(raw)
            return c.recv_response(head=head)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def _read(self, rel):
        try:
            with open(os.path.join(self.prefix, rel), "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def error_log(self):
        return self._read("logs/error.log")

    def access_log(self):
        return self._read("logs/access.log")

    def worker_pid(self, wait=5.0):
        """With master_process on and one worker: its pid, or None. The port accepts before
        the master has forked the worker, so this waits up to `wait` seconds for it."""
        end = time.time() + wait
        while True:
            try:
                with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            if len(kids) == 1 or time.time() >= end:
                return int(kids[0]) if len(kids) == 1 else None
            time.sleep(0.05)

    def stop(self, sig=_signal.SIGTERM, timeout=10.0):
        """Stops the server and checks its logs (raises CheckError on problems)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise CheckError("server did not exit within %.0fs after signal %d" % (timeout, sig))
        self.stderr_f.close()
        rc = self.proc.returncode
        self.proc = None
        problems = []
        if self.check_logs:
            for line in self.error_log().splitlines():
                if "[alert]" in line or "[emerg]" in line:
                    problems.append("error.log: " + line)
            err = self.stderr()
            for pat in SAN_PATTERNS:
                if pat in err:
                    problems.append("sanitizer: " + err[err.index(pat):][:3000])
                    break
            if rc not in (0, -sig) and rc is not None:
                problems.append("exit status %d; stderr: %s" % (rc, err[-1000:]))
        if problems:
            raise CheckError("\n".join(problems))

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get("WD_KEEP_PREFIX") is None:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, et, ev, tb):
        try:
            if et is None:
                self.stop()
        finally:
            self.cleanup()


class _Alarm(Exception):
    pass


def _alarm(signum, frame):
    raise _Alarm("test timed out")


def main(conf, g, port, main_conf="", master=False, files=None, per_test_timeout=20):
    """Runs every test_* function of the calling module against one server."""
    name = os.path.basename(g.get("__file__", "?"))
    tests = [(k, v) for k, v in g.items() if k.startswith("test_") and callable(v)]
    only = os.environ.get("T_ONLY")
    if only:
        tests = [(k, v) for k, v in tests if only in k]
    passed = failed = 0
    _signal.signal(_signal.SIGALRM, _alarm)
    s = Server(conf, port, main_conf=main_conf, master=master, files=files)
    try:
        s.start()
    except Exception as e:
        print("FAIL %s: server start: %s" % (name, e))
        print(s.error_log()[-3000:])
        s.cleanup()
        print("0 passed, %d failed" % (len(tests) + 1))
        return 1
    for tname, fn in tests:
        _signal.alarm(per_test_timeout)
        t0 = time.time()
        try:
            fn(s)
            _signal.alarm(0)
            passed += 1
            print("ok   %s %s (%.2fs)" % (name, tname, time.time() - t0))
        except Exception as e:
            _signal.alarm(0)
            failed += 1
            print("FAIL %s %s: %s" % (name, tname, e))
            if os.environ.get("T_VERBOSE"):
                traceback.print_exc()
        if s.proc is not None and s.proc.poll() is not None:
            print("FAIL %s: server died after %s (exit %s)\n%s" % (name, tname, s.proc.returncode,
                                                                   s.stderr()[-3000:]))
            failed += 1
            break
    try:
        s.stop()
        passed += 1
        print("ok   %s teardown (clean logs, no sanitizer reports)" % name)
    except Exception as e:
        failed += 1
        print("FAIL %s teardown: %s" % (name, e))
    finally:
        s.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def worker_nfds(pid):
    """The worker's open descriptors. A plain user cannot list /proc/PID/fd of its own
    non-dumpable (sandboxed) worker: then the server side of the TCP connections the
    worker's user holds on its listening ports (accepted ones, from /proc/net/tcp*) stand in, plus 1000,
    which is what the fd checks here are about (connections released, none leaked)."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except PermissionError:
        return 1000 + _conns_of_uid(os.stat("/proc/%d" % pid).st_uid)


def _conns_of_uid(uid):
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                rows += [line.split() for line in f]
        except OSError:
            pass
    mine = [r for r in rows if len(r) > 7 and r[7] == str(uid)]
    listening = {r[1].rsplit(":", 1)[1] for r in mine if r[3] == "0A"}
    # inode 0: still in the accept queue, not (yet) a descriptor of the worker
    return sum(1 for r in mine if r[3] != "0A" and r[9] != "0"
               and r[1].rsplit(":", 1)[1] in listening)
