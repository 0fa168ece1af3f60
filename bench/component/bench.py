"""bench/component/bench.py -- see bench/component/run (method and helpers: bench/http/bench.py,
bench/handlers/bench.py)."""
import importlib.util
import os
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "objs")
C = os.path.join(ROOT, "objs", "component")
OUT = os.path.join(ROOT, B, "bench", "component")
RUNS = int(os.environ.get("RUNS", "7"))
CONNS = [int(c) for c in os.environ.get("CONNS", "50").split()]
PORTS = {"wasmd-c": 18530, "wasmd-js": 18531, "nginx": 18532}

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
        location / { wasm_handler %s; wasm_pool 4 64; wasm_fuel 0; wasm_timeout 60s; }
    }
}
"""

_spec = importlib.util.spec_from_file_location("bench_handlers",
                                               os.path.join(ROOT, "bench", "handlers", "bench.py"))
bh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bh)
hb = bh.hb
hb.DURATION = os.environ.get("DURATION", "3s")


def prefix(name, conf):
    p = os.path.join(OUT, name)
    for d in ("conf", "logs", "tmp"):
        os.makedirs(os.path.join(p, d), exist_ok=True)
    with open(os.path.join(p, "conf", name + ".conf"), "w") as f:
        f.write(conf)
    return p


def main():
    js, ch = os.path.join(C, "hello.js.wasm"), os.path.join(C, "hello.comp.wasm")
    if not (os.path.exists(js) and os.path.exists(ch)):
        subprocess.run(["make", "-s", "components"], cwd=ROOT)   # jco from npm, minutes
    if not (os.path.exists(js) and os.path.exists(ch)):
        print("bench/component: %s and %s missing (make components)" % (js, ch))
        return 1
    micro = os.path.join(ROOT, B, "bench", "component", "micro")
    subprocess.run(["make", "-s", os.path.relpath(micro, ROOT)], cwd=ROOT)
    print("bench/component micro (load unpinned: the engine compiles with 2 threads):", flush=True)
    for f in (js, ch):
        subprocess.run([micro, f, "4"], cwd=ROOT)
    if not hb.WRK or not os.path.exists(bh.WASMD):
        print("bench/component: wrk or %s missing; HTTP part skipped" % bh.WASMD)
        return 0
    servers = []
    for name, f in (("wasmd-c", ch), ("wasmd-js", js)):
        p = prefix(name, WASMD_CONF % (PORTS[name], f))
        servers.append((name, [bh.WASMD, "-p", p + "/", "-c", os.path.join(p, "conf", name + ".conf")],
                        PORTS[name], p))
    if os.path.exists(bh.NGINX):
        p = prefix("nginx", bh.NGINX_CONF.replace(str(bh.NGINX_PORT), str(PORTS["nginx"])))
        servers.append(("nginx", [bh.NGINX, "-p", p + "/", "-c", os.path.join(p, "conf", "nginx.conf"),
                                  "-g", "daemon off; master_process off;"], PORTS["nginx"], p))
    print("bench/component: C hello component and JS hello component vs nginx `return 200`; "
          "1 worker, wrk -t1 -d%s, %d rounds (medians)" % (hb.DURATION, RUNS), flush=True)
    running, runs = [], {}
    try:
        for name, cmd, port, pfx in servers:
            running.append((name, port) + hb.start_server(name, cmd, port, pfx))
        for conns in CONNS:
            for i in range(RUNS):
                for name, port, proc, log in running:
                    runs.setdefault((name, conns), []).append(hb.one_run(name, proc, port, conns, i))
    finally:
        for name, port, proc, log in running:
            hb.stop_server(proc, log)
    print()
    for conns in CONNS:
        res = {n: hb.median_of(runs[(n, conns)]) for n in ("wasmd-c", "wasmd-js", "nginx")
               if (n, conns) in runs}
        for n, r in res.items():
            print("%-9s c=%-5d %10.0f req/s  p99 %8.2f ms  errors %d  cpu %10.2f us/req"
                  % (n, conns, r["rps"], r["p99"], r["errors"], r["cpu_us"]))
        if "nginx" in res:
            ratios = sorted(a["cpu_us"] / b["cpu_us"] for a, b in
                            zip(runs[("wasmd-c", conns)], runs[("nginx", conns)]) if b["cpu_us"])
            print("ratio C-hello-component/nginx-return c=%d: cpu/req %.2fx (goal <= 1.2; median "
                  "of %d rounds, each over the nginx run of its round)"
                  % (conns, statistics.median(ratios), len(ratios)))
        if res.get("wasmd-js", {}).get("rps"):
            print("JS hello component c=%d: %.2f ms CPU/request (goal <= 1 ms)"
                  % (conns, res["wasmd-js"]["cpu_us"] / 1000))
        else:
            print("JS hello component c=%d: no request completed within wrk's timeout (see the "
                  "micro-benchmark's CPU/request above)" % conns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
