"""bench/scale/bench.py -- see bench/scale/run."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "objs")
WASMD = os.environ.get("WASMD_BIN") or os.path.join(ROOT, B, "wasmd")
WRK = shutil.which("wrk")
DURATION = os.environ.get("DURATION", "10s")
RUNS = int(os.environ.get("RUNS", "3"))
CONNS = int(os.environ.get("CONNS", "100"))
WRK_CPUS = os.environ.get("WRK_CPUS", "")
SERVER_CPUS = os.environ.get("SERVER_CPUS", "")
TICK = os.sysconf("SC_CLK_TCK")
OUT = os.path.join(ROOT, B, "bench", "scale")
HANDLERS = os.path.join(ROOT, "objs", "handlers")
PORT = 18520

CONF = """daemon off;
master_process on;
worker_processes %d;
error_log logs/error.log warn;
pid logs/wasmd.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%d;
        location / { wasm_handler %s/hello.wasm; wasm_pool 4 64; }
    }
}
"""


def pin(cpus, cmd):
    return (["taskset", "-c", cpus] + cmd) if cpus else cmd


def wait_port(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("server exited: %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("no listener on %d" % port)


def workers(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_ticks(pids):
    t = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            t += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return t


def run_wrk(conns, duration):
    out = subprocess.run(pin(WRK_CPUS, [WRK, "-t2", "-c%d" % conns, "-d" + duration,
                                        "http://127.0.0.1:%d/" % PORT]),
                         capture_output=True, text=True).stdout
    r = {"rps": 0.0, "errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["errors"] += int(m.group(1))
    return r


def bench(nworkers):
    pfx = os.path.join(OUT, "w%d" % nworkers)
    for d in ("conf", "logs"):
        os.makedirs(os.path.join(pfx, d), exist_ok=True)
    conf = os.path.join(pfx, "conf", "wasmd.conf")
    with open(conf, "w") as f:
        f.write(CONF % (nworkers, PORT, HANDLERS))
    log = open(os.path.join(pfx, "logs", "stderr.txt"), "w")
    proc = subprocess.Popen(pin(SERVER_CPUS, [WASMD, "-p", pfx + "/", "-c", conf]),
                            stdout=log, stderr=log, cwd=pfx)
    runs = []
    try:
        wait_port(PORT, proc)
        for _ in range(100):
            if len(workers(proc.pid)) == nworkers:
                break
            time.sleep(0.05)
        pids = workers(proc.pid)
        run_wrk(CONNS, "1s")                               # warm-up
        for i in range(RUNS):
            t0 = cpu_ticks(pids)
            r = run_wrk(CONNS, DURATION)
            t1 = cpu_ticks(pids)
            r["cpu_us"] = (t1 - t0) * 1e6 / TICK / r["requests"] if r["requests"] else 0.0
            runs.append(r)
            print("  %d worker%s run %d: %9.0f req/s  errors %d  server cpu %.2f us/req"
                  % (nworkers, "s" if nworkers > 1 else " ", i + 1, r["rps"], r["errors"],
                     r["cpu_us"]), flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return {k: statistics.median([r[k] for r in runs]) for k in ("rps", "errors", "cpu_us")}


def main():
    if not WRK:
        print("bench/scale: wrk not installed; skipped")
        return 0
    if not os.path.exists(WASMD) or not os.path.exists(os.path.join(HANDLERS, "hello.wasm")):
        print("bench/scale: %s or objs/handlers/hello.wasm missing (make all handlers)" % WASMD)
        return 1
    print("bench/scale: wasm hello handler, 1 vs 2 workers, wrk -t2 -c%d -d%s, %d runs (medians)"
          "; %d CPUs%s" % (CONNS, DURATION, RUNS, os.cpu_count() or 0,
                           " (wrk shares them with the workers)" if not WRK_CPUS else ""),
          flush=True)
    one = bench(1)
    two = bench(2)
    print()
    print("%-8s %12s %8s %16s" % ("workers", "req/s", "errors", "server cpu us/req"))
    for n, r in ((1, one), (2, two)):
        print("%-8d %12.0f %8d %16.2f" % (n, r["rps"], r["errors"], r["cpu_us"]))
    if one["rps"]:
        print("ratio 2 workers / 1 worker: req/s %.2fx (ideal 2.0 with a core per worker and "
              "one for wrk)" % (two["rps"] / one["rps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
