"""bench/handlers/bench.py -- see bench/handlers/run. Reuses bench/http/bench.py's drivers."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import bench as hb   # noqa: E402  (bench/http/bench.py)

ROOT = hb.ROOT
WASMD_PORT, NGINX_PORT = 18500, 18501
HANDLERS = os.path.join(ROOT, "objs", "handlers")
hb.OUT = os.path.join(ROOT, hb.B, "bench", "handlers")

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

NGINX_CONF = hb.NGINX_CONF.replace("%d;" % hb.NGINX_PORT, "%d;" % NGINX_PORT)


def main():
    micro = os.path.join(ROOT, hb.B, "bench", "handlers", "micro")
    subprocess.run(["make", "-s", os.path.relpath(micro, ROOT)], cwd=ROOT)
    if os.path.exists(micro):
        print("bench/handlers micro (pinned to CPU 0):")
        sys.stdout.flush()
        subprocess.run(["taskset", "-c", "0", micro, HANDLERS], cwd=ROOT)
    if not hb.WRK:
        print("bench/handlers: wrk not installed; HTTP part skipped")
        return 0
    if not os.path.exists(hb.WASMD):
        print("bench/handlers: %s missing (make first)" % hb.WASMD)
        return 1
    wp = hb.prefix("wasmd", WASMD_CONF)
    np_ = hb.prefix("nginx", NGINX_CONF)
    print("bench/handlers: wasmd /hello (wasm handler, SDK) vs nginx return 200; 1 worker, "
          "wrk -t1 -d%s, %d runs (medians)" % (hb.DURATION, hb.RUNS))
    w = hb.bench_server("wasmd", [hb.WASMD, "-p", wp + "/", "-c",
                                  os.path.join(wp, "conf", "wasmd.conf")], WASMD_PORT, wp)
    n = {}
    if os.path.exists(hb.NGINX):
        n = hb.bench_server("nginx", [hb.NGINX, "-p", np_ + "/", "-c",
                                      os.path.join(np_, "conf", "nginx.conf"),
                                      "-g", "daemon off; master_process off;"], NGINX_PORT, np_)
    else:
        print("bench/handlers: nginx not installed (./configure --with-bench); no reference")
    print()
    print("%-7s %-6s %12s %10s %8s %12s" % ("server", "conns", "req/s", "p99 ms", "errors",
                                            "cpu us/req"))
    for conns in hb.CONNS:
        for name, res in (("wasmd", w), ("nginx", n)):
            if conns in res:
                r = res[conns]
                print("%-7s %-6d %12.0f %10.2f %8d %12.2f" % (name, conns, r["rps"], r["p99"],
                                                               r["errors"], r["cpu_us"]))
        if conns in n and conns in w and n[conns]["rps"] and n[conns]["cpu_us"]:
            print("ratio wasm-hello/nginx-return c=%d: cpu/req %.2fx (goal <= 1.2), req/s %.2fx, "
                  "p99 %.2fx, errors %d (goal 0)"
                  % (conns, w[conns]["cpu_us"] / n[conns]["cpu_us"],
                     w[conns]["rps"] / n[conns]["rps"],
                     (w[conns]["p99"] / n[conns]["p99"]) if n[conns]["p99"] else 0,
                     w[conns]["errors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
