"""bench/http/bench.py -- see bench/http/run."""
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
LOG_ON = os.environ.get("ACCESS_LOG") == "on"
TICK = os.sysconf("SC_CLK_TCK")
OUT = os.path.join(ROOT, B, "bench", "http")
WASMD_PORT, NGINX_PORT = 18300, 18301

ACCESS = "access_log logs/access.log;" if LOG_ON else "access_log off;"

WASMD_CONF = """daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/wasmd.pid;
events { worker_connections 4096; }
http {
    %s
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "hello\\n"; }
    }
}
""" % (ACCESS, WASMD_PORT)

NGINX_CONF = """worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    %s
    keepalive_requests 100000;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "hello\\n"; }
    }
}
""" % (ACCESS, NGINX_PORT)


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


def cpu_ticks(pids):
    t = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])     # utime, stime (fields 14, 15)
    return t


def server_pids(proc):
    pids = [proc.pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout
        pids += [int(x) for x in out.split()]
    except OSError:
        pass
    return pids


def parse_latency(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else v


def run_wrk(port, conns):
    cmd = ["taskset", "-c", "1", WRK, "-t1", "-c%d" % conns, "-d" + DURATION, "--latency",
           "http://127.0.0.1:%d/" % port]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    res = {"rps": 0.0, "p99": 0.0, "errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    res["p99"] = parse_latency(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["errors"] += int(m.group(1))
    res["raw"] = out
    return res


def start_server(name, cmd, port, pfx):
    log = open(os.path.join(pfx, "logs", "stderr.txt"), "w")
    proc = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=log, stderr=log, cwd=pfx)
    wait_port(port, proc)
    subprocess.run(["taskset", "-c", "1", WRK, "-t1", "-c50", "-d2s", "http://127.0.0.1:%d/" % port],
                   capture_output=True)                                  # warm-up
    return proc, log


def stop_server(proc, log):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def one_run(name, proc, port, conns, i):
    pids = server_pids(proc)
    t0 = cpu_ticks(pids)
    r = run_wrk(port, conns)
    t1 = cpu_ticks(pids)
    r["cpu_us"] = (t1 - t0) * 1e6 / TICK / r["requests"] if r["requests"] else 0.0
    print("  %-6s c=%-5d run %d: %9.0f req/s  p99 %7.2f ms  errors %d  cpu %.2f us/req"
          % (name, conns, i + 1, r["rps"], r["p99"], r["errors"], r["cpu_us"]), flush=True)
    return r


def median_of(runs):
    return {k: statistics.median([r[k] for r in runs]) for k in ("rps", "p99", "errors", "cpu_us")}


def main():
    if not WRK:
        print("bench/http: wrk not installed; skipped")
        return 0
    if not os.path.exists(WASMD):
        print("bench/http: %s missing (make first)" % WASMD)
        return 1
    wp = prefix("wasmd", WASMD_CONF)
    np_ = prefix("nginx", NGINX_CONF)
    print("bench/http: return 200 \"hello\\n\", 1 worker, %s, wrk -t1 -d%s, %d runs (medians)"
          % ("access_log on" if LOG_ON else "access_log off", DURATION, RUNS))
    servers = [("wasmd", [WASMD, "-p", wp + "/", "-c", os.path.join(wp, "conf", "wasmd.conf")],
                WASMD_PORT, wp)]
    if os.path.exists(NGINX):
        servers.append(("nginx", [NGINX, "-p", np_ + "/", "-c", os.path.join(np_, "conf", "nginx.conf"),
                                  "-g", "daemon off; master_process off;"], NGINX_PORT, np_))
    else:
        print("bench/http: nginx not installed (./configure --with-bench); no reference")
    # both servers run at once (idle while the other is measured) and runs alternate
    # wasmd, nginx, wasmd, ... so that background load hits both alike
    running = []
    results = {name: {} for name, _, _, _ in servers}
    try:
        for name, cmd, port, pfx in servers:
            running.append((name, port) + start_server(name, cmd, port, pfx))
        for conns in CONNS:
            runs = {name: [] for name, _, _, _ in servers}
            for i in range(RUNS):
                for name, port, proc, log in running:
                    runs[name].append(one_run(name, proc, port, conns, i))
            for name in runs:
                results[name][conns] = median_of(runs[name])
    finally:
        for name, port, proc, log in running:
            stop_server(proc, log)
    w = results["wasmd"]
    n = results.get("nginx", {})
    print()
    print("%-7s %-6s %12s %10s %8s %12s" % ("server", "conns", "req/s", "p99 ms", "errors", "cpu us/req"))
    for conns in CONNS:
        for name, res in (("wasmd", w), ("nginx", n)):
            if conns in res:
                r = res[conns]
                print("%-7s %-6d %12.0f %10.2f %8d %12.2f" % (name, conns, r["rps"], r["p99"],
                                                               r["errors"], r["cpu_us"]))
        if conns in n and conns in w and n[conns]["rps"] and n[conns]["cpu_us"]:
            print("ratio wasmd/nginx c=%d: req/s %.2fx (goal >= 0.95), cpu/req %.2fx (goal <= 1.0), "
                  "p99 %.2fx" % (conns, w[conns]["rps"] / n[conns]["rps"],
                                 w[conns]["cpu_us"] / n[conns]["cpu_us"],
                                 (w[conns]["p99"] / n[conns]["p99"]) if n[conns]["p99"] else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
