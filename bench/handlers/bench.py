"""bench/handlers/bench.py -- see bench/handlers/run (the server-core benchmark's method and helpers, bench/http/bench.py)."""
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "objs")
WASMD = os.environ.get("WASMD_BIN") or os.path.join(ROOT, B, "wasmd")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk")
# many short runs, alternating: the machine's speed drifts by +-10-30% within minutes, so
# each wasmd run is compared with the nginx run right after it (paired), and the median of
# those ratios is the figure; 9 pairs of 3 s give a steadier median than 3 pairs of 10 s
RUNS = int(os.environ.get("RUNS", "9"))
CONNS = [int(c) for c in os.environ.get("CONNS", "50 1000").split()]
OUT = os.path.join(ROOT, B, "bench", "handlers")
HANDLERS = os.path.join(ROOT, "objs", "handlers")
WASMD_PORT, NGINX_PORT, STD_PORT = 18500, 18501, 18502

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
# the same hello in the standard call order (set, blocking-write-and-flush, finish), which the
# server coalesces into one write with a Content-Length
STD_CONF = WASMD_CONF.replace("%d;" % WASMD_PORT, "%d;" % STD_PORT).replace(
    "/hello.wasm", "/test-hello-std.wasm")

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


# the server-core benchmark's helpers: start/stop a pinned server, one wrk run with the
# server's CPU time, medians
_spec = importlib.util.spec_from_file_location("bench_http",
                                               os.path.join(ROOT, "bench", "http", "bench.py"))
hb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hb)
hb.DURATION = os.environ.get("DURATION", "3s")


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
    sp = prefix("wasmd-std", STD_CONF)
    np_ = prefix("nginx", NGINX_CONF)
    print("bench/handlers: wasmd / (wasm hello handler, SDK) vs nginx `return 200` of the same "
          "body; 1 worker, wrk -t1 -d%s, %d runs (medians)" % (hb.DURATION, RUNS), flush=True)
    servers = [("wasmd", [WASMD, "-p", wp + "/", "-c", os.path.join(wp, "conf", "wasmd.conf")],
                WASMD_PORT, wp)]
    if os.path.exists(os.path.join(HANDLERS, "test-hello-std.wasm")):
        servers.append(("wasmd-std", [WASMD, "-p", sp + "/", "-c",
                                      os.path.join(sp, "conf", "wasmd-std.conf")], STD_PORT, sp))
    if os.path.exists(NGINX):
        servers.append(("nginx", [NGINX, "-p", np_ + "/", "-c",
                                  os.path.join(np_, "conf", "nginx.conf"),
                                  "-g", "daemon off; master_process off;"], NGINX_PORT, np_))
    else:
        print("bench/handlers: nginx not installed (./configure --with-bench); no reference")
    # both servers run at once (idle while the other is measured) and runs alternate
    # wasmd, nginx, wasmd, ...: the machine's speed drifts (+-30% here), and a ratio of two
    # blocks measured a minute apart mostly measured the drift
    running = []
    runs = {}
    try:
        for name, cmd, port, pfx in servers:
            running.append((name, port) + hb.start_server(name, cmd, port, pfx))
        for conns in CONNS:
            for i in range(RUNS):
                for name, port, proc, log in running:
                    runs.setdefault((name, conns), []).append(hb.one_run(name, proc, port,
                                                                          conns, i))
    finally:
        for name, port, proc, log in running:
            hb.stop_server(proc, log)
    print()
    print("%-9s %-6s %12s %10s %8s %12s" % ("server", "conns", "req/s", "p99 ms", "errors",
                                            "cpu us/req"))
    for conns in CONNS:
        res = {}
        for name in ("wasmd", "wasmd-std", "nginx"):
            if (name, conns) in runs:
                r = res[name] = hb.median_of(runs[(name, conns)])
                print("%-9s %-6d %12.0f %10.2f %8d %12.2f" % (name, conns, r["rps"], r["p99"],
                                                               r["errors"], r["cpu_us"]))
        n = res.get("nginx")
        for name, what in (("wasmd", "wasm-hello"), ("wasmd-std", "wasm-hello-std-order")):
            w = res.get(name)
            if not (w and n and n["rps"] and n["cpu_us"]):
                continue
            # each wasmd run against the nginx run of the same round
            ratios = sorted(a["cpu_us"] / b["cpu_us"] for a, b in
                            zip(runs[(name, conns)], runs[("nginx", conns)]) if b["cpu_us"])
            print("ratio %s/nginx-return c=%d: cpu/req %.2fx (goal <= 1.2; median of %d "
                  "paired runs, each wasmd run over the nginx run of the same round; pairs range "
                  "%.2fx-%.2fx; ratio of the medians %.2fx), req/s %.2fx, p99 %.2fx, wasmd errors "
                  "%d in all runs (goal 0)"
                  % (what, conns, statistics.median(ratios), len(ratios), ratios[0], ratios[-1],
                     w["cpu_us"] / n["cpu_us"], w["rps"] / n["rps"],
                     (w["p99"] / n["p99"]) if n["p99"] else 0,
                     sum(x["errors"] for x in runs[(name, conns)])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
