"""bench/outbound/bench.py -- see bench/outbound/run (helpers: bench/http/bench.py)."""
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
RUNS = int(os.environ.get("RUNS", "9"))
CONNS = [int(c) for c in os.environ.get("CONNS", "50 1000").split()]
OUT = os.path.join(ROOT, B, "bench", "outbound")
HANDLERS = os.path.join(ROOT, "objs", "handlers")
WASMD_PORT, NGINX_PORT, UP_PORT = 18520, 18521, 18522
# What differs between this bench and bench/proxy (which sets these and calls main()):
NAME = "outbound"
TITLE = "proxy.wasm (wasmd) vs nginx proxy_pass + upstream keepalive"
RATIO = "proxy.wasm/nginx-proxy_pass"
WARMUP = True   # wasmd grows its instance pool on demand (wasm_pool 64 1024)

NGINX_TMP = """    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
"""

UP_CONF = """worker_processes 1;
error_log logs/error.log warn;
pid logs/up.pid;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 1000000;
%s    default_type text/plain;
    server {
        listen 127.0.0.1:%d;
        location / { return 200 "Hello from the upstream!\\n"; }
    }
}
""" % (NGINX_TMP, UP_PORT)

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
        location / {
            wasm_handler %s/proxy.wasm;
            wasm_pool 64 1024;
            wasm_env UPSTREAM http://127.0.0.1:%d;
            wasm_outbound_allow http://127.0.0.1:%d;
        }
    }
}
""" % (WASMD_PORT, HANDLERS, UP_PORT, UP_PORT)

NGINX_CONF = """worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
%s    upstream up { server 127.0.0.1:%d; keepalive 64; }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
""" % (NGINX_TMP, UP_PORT, NGINX_PORT)

_spec = importlib.util.spec_from_file_location("bench_http",
                                               os.path.join(ROOT, "bench", "http", "bench.py"))
hb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hb)
hb.DURATION = os.environ.get("DURATION", "3s")


def prefix(name, conf):
    p = os.path.join(OUT, name)
    for d in ("conf", "logs", "tmp"):
        os.makedirs(os.path.join(p, d), exist_ok=True)
    with open(os.path.join(p, "conf", name + ".conf"), "w") as f:
        f.write(conf)
    return p


def main():
    if not WRK or not os.path.exists(NGINX):
        print("bench/%s: needs wrk and nginx (./configure --with-bench)" % NAME)
        return 0
    if not os.path.exists(WASMD):
        print("bench/%s: %s missing (make first)" % (NAME, WASMD))
        return 1
    up = prefix("up", UP_CONF)
    wp = prefix("wasmd", WASMD_CONF)
    np_ = prefix("nginx", NGINX_CONF)
    upl = open(os.path.join(up, "logs", "out.txt"), "wb")
    upstream = subprocess.Popen(["taskset", "-c", "1", NGINX, "-p", up + "/", "-c",
                                 os.path.join(up, "conf", "up.conf"),
                                 "-g", "daemon off; master_process off;"],
                                stdout=upl, stderr=upl, cwd=up)
    print("bench/%s: %s, same nginx upstream; 1 worker, wrk -t1 -d%s, %d alternating runs "
          "(medians); the machine is shared with other work, so absolute figures drift"
          % (NAME, TITLE, hb.DURATION, RUNS),
          flush=True)
    servers = [("wasmd", [WASMD, "-p", wp + "/", "-c", os.path.join(wp, "conf", "wasmd.conf")],
                WASMD_PORT, wp),
               ("nginx", [NGINX, "-p", np_ + "/", "-c", os.path.join(np_, "conf", "nginx.conf"),
                          "-g", "daemon off; master_process off;"], NGINX_PORT, np_)]
    running, runs = [], {}
    try:
        hb.wait_port(UP_PORT, upstream)
        for name, cmd, port, pfx in servers:
            running.append((name, port) + hb.start_server(name, cmd, port, pfx))
        for conns in CONNS:
            # a warm-up run each, not counted: wasmd grows its instance pool on demand
            # (wasm_pool 64 1024: ~1000 instantiations at -c1000), nginx its upstream pool.
            # WARMUP_DURATION (10s): long enough for the pool to stop growing on a loaded
            # 2-core machine (a 2-3 s warm-up left ~250 instantiations, snapshot included,
            # inside the first measured -c1000 runs: strace counted memfd_create)
            d, hb.DURATION = hb.DURATION, os.environ.get("WARMUP_DURATION", "10s")
            for name, port, proc, log in running if WARMUP else []:
                hb.run_wrk(port, conns)
            hb.DURATION = d
            for i in range(RUNS):
                for name, port, proc, log in running:
                    runs.setdefault((name, conns), []).append(hb.one_run(name, proc, port,
                                                                          conns, i))
    finally:
        for name, port, proc, log in running:
            hb.stop_server(proc, log)
        upstream.terminate()
        upstream.wait()
    print()
    print("%-7s %-6s %12s %10s %8s %12s" % ("server", "conns", "req/s", "p99 ms", "errors",
                                            "cpu us/req"))
    for conns in CONNS:
        res = {}
        for name in ("wasmd", "nginx"):
            r = res[name] = hb.median_of(runs[(name, conns)])
            print("%-7s %-6d %12.0f %10.2f %8d %12.2f" % (name, conns, r["rps"], r["p99"],
                                                           r["errors"], r["cpu_us"]))
        w, n = res["wasmd"], res["nginx"]
        ratios = sorted(a["cpu_us"] / b["cpu_us"] for a, b in
                        zip(runs[("wasmd", conns)], runs[("nginx", conns)]) if b["cpu_us"])
        if ratios:
            print("ratio %s c=%d: cpu/req %.2fx (goal <= 1.3; median "
                  "of %d paired runs; pairs range %.2fx-%.2fx), req/s %.2fx, wasmd errors %d "
                  "in all runs (goal 0)"
                  % (RATIO, conns, statistics.median(ratios), len(ratios), ratios[0], ratios[-1],
                     w["rps"] / n["rps"] if n["rps"] else 0,
                     sum(x["errors"] for x in runs[("wasmd", conns)])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
