"""t/ops/opslib.py -- helpers for the operations tests (master + 2 workers, wrk load).

Builds on t/http/harness.py (Server, Conn, check). Each test starts its own server (ports
18900-18999) with master_process on and N workers, so a file's tests never share state.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import harness                                      # noqa: E402
from harness import check, Server, SAN_PATTERNS     # noqa: E402,F401

ROOT = harness.ROOT
HANDLERS = os.path.join(ROOT, "objs", "handlers")
# under sanitizers everything is slower: wrk runs stay short, waits get longer
SLOW = 3 if os.environ.get("SANITIZE") else 1


def handler(name):
    p = os.path.join(HANDLERS, name)
    check(os.path.exists(p), "missing %s: run `make handlers`" % p)
    return p


def server(conf, port, workers=2, files=None, check_logs=True, main_conf=""):
    """A Server with master_process on and `workers` workers (not started)."""
    s = Server(conf, port, master=True, files=files, check_logs=check_logs, main_conf=main_conf)
    with open(s.conf_path) as f:
        text = f.read()
    with open(s.conf_path, "w") as f:
        f.write(text.replace("worker_processes 1;", "worker_processes %d;" % workers, 1))
    return s


def children(pid):
    """Live child pids of pid (the workers of a master)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return sorted(int(x) for x in f.read().split())
    except OSError:
        return []


def wait_for(cond, timeout=10.0, step=0.05):
    end = time.time() + timeout * SLOW
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def wait_workers(s, n, timeout=10.0):
    """Waits until the master has exactly n workers that answer; returns their pids."""
    pids = wait_for(lambda: len(children(s.proc.pid)) == n and children(s.proc.pid), timeout)
    check(pids and len(pids) == n, "expected %d workers, have %r" % (n, children(s.proc.pid)))
    return pids


def get(s, path, host="a"):
    """One GET on a fresh connection -> Response."""
    return s.request(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                      % (path, host)).encode())


LUA_BODIES = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) v1 = 0; v2 = 0; other = 0; last = "" end
function response(status, headers, body)
  if body == "v1\n" then v1 = v1 + 1
  elseif body == "v2\n" then v2 = v2 + 1
  else other = other + 1; last = tostring(status) .. " " .. tostring(body) end
end
function done(summary, latency, requests)
  local a, b, c, l = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    a = a + t:get("v1"); b = b + t:get("v2"); c = c + t:get("other")
    if t:get("last") ~= "" then l = t:get("last") end
  end
  io.write(string.format("BODIES v1=%d v2=%d other=%d last=%q\n", a, b, c, l))
end
"""


class Wrk:
    """wrk in the background; .result() waits and parses its report."""

    def __init__(self, url, duration=4, conns=8, threads=2, lua=None):
        self.script = None
        cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration, "--timeout", "5s"]
        if lua:
            fd, self.script = tempfile.mkstemp(suffix=".lua", prefix="wasmd-ops-")
            with os.fdopen(fd, "w") as f:
                f.write(lua)
            cmd += ["-s", self.script]
        cmd.append(url)
        self.duration = duration
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def result(self):
        out, _ = self.proc.communicate(timeout=self.duration + 30)
        if self.script:
            os.unlink(self.script)
        out = out.decode("latin-1")
        r = {"out": out, "requests": 0, "socket_errors": 0, "non2xx": 0, "errors": {}}
        m = re.search(r"(\d+) requests in", out)
        if m:
            r["requests"] = int(m.group(1))
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        if m:
            r["errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                   (int(x) for x in m.groups())))
            r["socket_errors"] = sum(r["errors"].values())
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if m:
            r["non2xx"] = int(m.group(1))
        m = re.search(r"BODIES v1=(\d+) v2=(\d+) other=(\d+)", out)
        if m:
            r["v1"], r["v2"], r["other"] = (int(x) for x in m.groups())
        return r


def metrics(s, path="/metrics"):
    """GET the wasm_status page -> (response, {(name, frozenset(labels)): value})."""
    r = get(s, path)
    check(r.status == 200, "status page", r)
    out = {}
    for line in r.body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        check(m is not None, "bad exposition line %r" % line)
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return r, out


def metric(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def log_problems(s, allowed=()):
    """[alert]/[emerg] lines of error.log not matching any regex in allowed, and sanitizer
    reports on stderr."""
    bad = []
    for line in s.error_log().splitlines():
        if ("[alert]" in line or "[emerg]" in line) and not any(re.search(a, line)
                                                                for a in allowed):
            bad.append(line)
    err = s.stderr()
    for pat in SAN_PATTERNS:
        if pat in err:
            bad.append("sanitizer: " + err[err.index(pat):][:3000])
            break
    return bad


def main(g, per_test_timeout=90):
    """Runs every test_* function of the calling module (each starts its own servers)."""
    name = os.path.basename(g.get("__file__", "?"))
    tests = [(k, v) for k, v in g.items() if k.startswith("test_") and callable(v)]
    only = os.environ.get("T_ONLY")
    if only:
        tests = [(k, v) for k, v in tests if only in k]
    passed = failed = 0
    signal.signal(signal.SIGALRM, harness._alarm)
    for tname, fn in tests:
        signal.alarm(per_test_timeout * SLOW)
        t0 = time.time()
        try:
            fn()
            signal.alarm(0)
            passed += 1
            print("ok   %s %s (%.2fs)" % (name, tname, time.time() - t0))
        except Exception as e:
            signal.alarm(0)
            failed += 1
            print("FAIL %s %s: %s" % (name, tname, e))
            if os.environ.get("T_VERBOSE"):
                traceback.print_exc()
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
