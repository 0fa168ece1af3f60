"""bench/sandbox/bench.py -- see bench/sandbox/run."""
import os
import re
import signal
import socket
import statistics
import subprocess
import shutil
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "objs")
WASMD = os.environ.get("WASMD_BIN") or os.path.join(ROOT, B, "wasmd")
NOHARD = os.path.join(ROOT, "objs", "nohard", "wasmd")
WRK = shutil.which("wrk")
DURATION = os.environ.get("DURATION", "5s")
RUNS = int(os.environ.get("RUNS", "5"))
CONNS = int(os.environ.get("CONNS", "50"))
TICK = os.sysconf("SC_CLK_TCK")
OUT = "/tmp/wasmd-bench-sandbox"        # reachable by the workers' user
PORT = 18310
HELLO = os.path.join(ROOT, "objs", "handlers", "hello.wasm")

CONF = """daemon off;
master_process on;
worker_processes 1;
error_log logs/error.log warn;
pid logs/wasmd.pid;
%s
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "hello\\n"; }
        location /hello { wasm_handler %s; }
    }
}
"""
UNCONFINED = "user root; worker_seccomp off; worker_landlock off;"
VARIANTS = [("sandbox", WASMD, ""), ("unconfined", WASMD, UNCONFINED),
            ("unhardened", NOHARD, UNCONFINED)]
ROUTES = [("return", "/"), ("wasm hello", "/hello")]


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_ticks(pids):
    t = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])
    return t


def start(name, binary, main):
    pfx = os.path.join(OUT, name)
    shutil.rmtree(pfx, ignore_errors=True)
    for d in ("conf", "logs"):
        os.makedirs(os.path.join(pfx, d))
    os.chmod(OUT, 0o755)
    with open(os.path.join(pfx, "conf", "wasmd.conf"), "w") as f:
        f.write(CONF % (main, PORT, HELLO))
    log = open(os.path.join(pfx, "logs", "stderr.txt"), "w")
    proc = subprocess.Popen(["taskset", "-c", "0", binary, "-p", pfx + "/", "-c",
                             os.path.join(pfx, "conf", "wasmd.conf")], stdout=log, stderr=log)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.2).close()
            if children(proc.pid):
                break
        except OSError:
            pass
        time.sleep(0.05)
    time.sleep(0.3)
    return proc, log


def wrk(path, duration):
    out = subprocess.run(["taskset", "-c", "1", WRK, "-t1", "-c%d" % CONNS, "-d" + duration,
                          "http://127.0.0.1:%d%s" % (PORT, path)], capture_output=True,
                         text=True).stdout
    m = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors", out)
    return (int(m.group(1)) if m else 0), bool(bad)


def one(name, binary, main, path):
    proc, log = start(name, binary, main)
    try:
        wrk(path, "1s")                                     # warm-up
        pids = [proc.pid] + children(proc.pid)
        t0 = cpu_ticks(pids)
        n, bad = wrk(path, DURATION)
        t1 = cpu_ticks(pids)
        confined = None
        for w in children(proc.pid):
            with open("/proc/%d/status" % w) as f:
                confined = "Seccomp:\t2" in f.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        log.close()
    return (t1 - t0) / TICK / max(n, 1) * 1e6, n, bad, confined


def main():
    if os.geteuid() != 0:
        print("bench/sandbox: needs root (workers switch to nobody): skipped")
        return 0
    variants = [v for v in VARIANTS if os.path.exists(v[1])]
    res = {(v[0], r[0]): [] for v in variants for r in ROUTES}
    notes = []
    for i in range(RUNS):
        order = variants if i % 2 == 0 else list(reversed(variants))   # alternate
        for rname, path in ROUTES:
            for vname, binary, main in order:
                us, n, bad, confined = one(vname, binary, main, path)
                res[(vname, rname)].append(us)
                if bad:
                    notes.append("%s %s run %d: errors" % (vname, rname, i))
                if confined != (vname == "sandbox"):
                    notes.append("%s: workers confined=%s" % (vname, confined))
    print("server CPU per request, median of %d alternating runs of %s, c=%d "
          "(server on CPU 0, wrk on CPU 1; shared machine)" % (RUNS, DURATION, CONNS))
    print("%-12s %-12s %10s %8s   %s" % ("route", "variant", "us/req", "ratio", "runs"))
    for rname, _ in ROUTES:
        base = statistics.median(res[("unhardened", rname)]) if ("unhardened", rname) in res \
            else statistics.median(res[("unconfined", rname)])
        for vname, _, _ in variants:
            v = res[(vname, rname)]
            med = statistics.median(v)
            print("%-12s %-12s %10.2f %8.3f   %s" % (rname, vname, med, med / base,
                                                     " ".join("%.2f" % x for x in v)))
    for n in sorted(set(notes)):
        print("note:", n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
