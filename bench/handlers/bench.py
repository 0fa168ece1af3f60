"""bench/handlers/bench.py -- see bench/handlers/run (self-contained; same method as bench/http)."""
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
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk")
DURATION = os.environ.get("DURATION", "10s")
RUNS = int(os.environ.get("RUNS", "3"))
CONNS = [int(c) for c in os.environ.get("CONNS", "50 1000").split()]
TICK = os.sysconf("SC_CLK_TCK")
OUT = os.path.join(ROOT, B, "bench", "handlers")
HANDLERS = os.path.join(ROOT, "objs", "handlers")
WASMD_PORT, NGINX_PORT = 18500, 18501

WASMD_CONF = """daemon off;
master_process off;
worker_processes 1;
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
""" % (WASMD_PORT, HANDLERS)

NGINX_CONF = """worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "Hello from wasmd!\\n"; }
    }
}
""" % NGINX_PORT


def prefix(name, conf):
    p = os.path.join(OUT, name)
    for d in ("conf", "logs", "tmp"):
        os.makedirs(os.path.join(p, d), exist_ok=True)
    with open(os.path.join(p, "conf", name + ".conf"), "w") as f:
        f.write(conf)
    return p


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


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def latency_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else v


def run_wrk(port, conns, duration):
    out = subprocess.run(["taskset", "-c", "1", WRK, "-t1", "-c%d" % conns, "-d" + duration,
                          "--latency", "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True).stdout
    r = {"rps": 0.0, "p99": 0.0, "errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    r["p99"] = latency_ms(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["errors"] += int(m.group(1))
    return r


def bench_server(name, cmd, port, pfx):
    log = open(os.path.join(pfx, "logs", "stderr.txt"), "w")
    proc = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=log, stderr=log, cwd=pfx)
    res = {}
    try:
        wait_port(port, proc)
        run_wrk(port, 50, "2s")                       # warm-up
        for conns in CONNS:
            runs = []
            for i in range(RUNS):
                t0 = cpu_ticks(proc.pid)
                r = run_wrk(port, conns, DURATION)
                t1 = cpu_ticks(proc.pid)
                r["cpu_us"] = (t1 - t0) * 1e6 / TICK / r["requests"] if r["requests"] else 0.0
                runs.append(r)
                print("  %-6s c=%-5d run %d: %9.0f req/s  p99 %7.2f ms  errors %d  cpu %.2f us/req"
                      % (name, conns, i + 1, r["rps"], r["p99"], r["errors"], r["cpu_us"]),
                      flush=True)
            res[conns] = {k: statistics.median([r[k] for r in runs])
                          for k in ("rps", "p99", "errors", "cpu_us")}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return res


def main():
    micro = os.path.join(ROOT, B, "bench", "handlers", "micro")
    subprocess.run(["make", "-s", os.path.relpath(micro, ROOT)], cwd=ROOT)
    if os.path.exists(micro):
        print("bench/handlers micro (pinned to CPU 0):", flush=True)
        subprocess.run(["taskset", "-c", "0", micro, HANDLERS], cwd=ROOT)
    if not WRK:
        print("bench/handlers: wrk not installed; HTTP part skipped")
        return 0
    if not os.path.exists(WASMD):
        print("bench/handlers: %s missing (make first)" % WASMD)
        return 1
    wp = prefix("wasmd", WASMD_CONF)
    np_ = prefix("nginx", NGINX_CONF)
    print("bench/handlers: wasmd / (wasm hello handler, SDK) vs nginx `return 200` of the same "
          "body; 1 worker, wrk -t1 -d%s, %d runs (medians)" % (DURATION, RUNS), flush=True)
    w = bench_server("wasmd", [WASMD, "-p", wp + "/", "-c", os.path.join(wp, "conf", "wasmd.conf")],
                     WASMD_PORT, wp)
    n = {}
    if os.path.exists(NGINX):
        n = bench_server("nginx", [NGINX, "-p", np_ + "/", "-c",
                                   os.path.join(np_, "conf", "nginx.conf"),
                                   "-g", "daemon off; master_process off;"], NGINX_PORT, np_)
    else:
        print("bench/handlers: nginx not installed (./configure --with-bench); no reference")
    print()
    print("%-7s %-6s %12s %10s %8s %12s" % ("server", "conns", "req/s", "p99 ms", "errors",
                                            "cpu us/req"))
    for conns in CONNS:
        for name, res in (("wasmd", w), ("nginx", n)):
            if conns in res:
                r = res[conns]
                print("%-7s %-6d %12.0f %10.2f %8d %12.2f" % (name, conns, r["rps"], r["p99"],
                                                               r["errors"], r["cpu_us"]))
        if conns in n and conns in w and n[conns]["rps"] and n[conns]["cpu_us"]:
            print("ratio wasm-hello/nginx-return c=%d: cpu/req %.2fx (goal <= 1.2), req/s %.2fx, "
                  "p99 %.2fx, wasmd errors %d (goal 0)"
                  % (conns, w[conns]["cpu_us"] / n[conns]["cpu_us"],
                     w[conns]["rps"] / n[conns]["rps"],
                     (w[conns]["p99"] / n[conns]["p99"]) if n[conns]["p99"] else 0,
                     w[conns]["errors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
