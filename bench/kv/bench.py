"""bench/kv/bench.py -- see bench/kv/run (helpers: bench/http/bench.py)."""
import importlib.util
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "objs")
WASMD = os.environ.get("WASMD_BIN") or os.path.join(ROOT, B, "wasmd")
WRK = shutil.which("wrk")
REDIS = shutil.which("redis-server")
RUNS = int(os.environ.get("RUNS", "7"))
CONNS = [int(c) for c in os.environ.get("CONNS", "50").split()]
OUT = os.path.join(ROOT, B, "bench", "kv")
HANDLERS = os.path.join(ROOT, "objs", "handlers")
PORTS = {"hello": 18560, "lmdb": 18561, "redis": 18562}
REDIS_PORT = 18563

CONF = """daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/wasmd.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    %(store)s
    server {
        listen 127.0.0.1:%(port)d;
        location / { wasm_handler %(h)s/%(wasm)s; wasm_pool 4 64; %(grant)s }
    }
}
"""

_spec = importlib.util.spec_from_file_location("bench_http",
                                               os.path.join(ROOT, "bench", "http", "bench.py"))
hb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hb)
hb.DURATION = os.environ.get("DURATION", "3s")


def prefix(name, conf):
    p = os.path.join(OUT, name)
    for d in ("conf", "logs", "kv"):
        os.makedirs(os.path.join(p, d), exist_ok=True)
    with open(os.path.join(p, "conf", "wasmd.conf"), "w") as f:
        f.write(conf)
    return p


def redis_cpu(proc):
    return hb.cpu_ticks([proc.pid])


def main():
    if not WRK or not os.path.exists(WASMD):
        print("bench/kv: wrk or %s missing" % WASMD)
        return 1
    confs = {
        "hello": CONF % {"store": "", "port": PORTS["hello"], "h": HANDLERS,
                         "wasm": "hello.wasm", "grant": ""},
        "lmdb": CONF % {"store": "keyvalue_store default lmdb kv/default;",
                        "port": PORTS["lmdb"], "h": HANDLERS, "wasm": "counter.wasm",
                        "grant": "wasm_keyvalue default;"},
        "redis": CONF % {"store": "keyvalue_store default redis redis://127.0.0.1:%d pool=2;"
                         % REDIS_PORT, "port": PORTS["redis"], "h": HANDLERS,
                         "wasm": "counter.wasm", "grant": "wasm_keyvalue default;"},
    }
    rp = None
    if REDIS:
        rdir = os.path.join(OUT, "redis")
        os.makedirs(rdir, exist_ok=True)
        rp = subprocess.Popen(["taskset", "-c", "1", REDIS, "--port", str(REDIS_PORT), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", rdir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", REDIS_PORT), 0.2).close()
                break
            except OSError:
                time.sleep(0.02)
    else:
        print("bench/kv: redis-server not installed; the redis counter is skipped")
        del confs["redis"]
    print("bench/kv: counter (increment, then answer) vs hello; 1 worker on CPU 0, wrk -t1 "
          "-d%s on CPU 1 (redis-server on CPU 1 too), %d rounds (medians)" % (hb.DURATION, RUNS),
          flush=True)
    running, runs, rcpu = [], {}, {}
    try:
        for name, conf in confs.items():
            p = prefix(name, conf)
            cmd = [WASMD, "-p", p + "/", "-c", os.path.join(p, "conf", "wasmd.conf")]
            running.append((name, PORTS[name]) + hb.start_server(name, cmd, PORTS[name], p))
        for conns in CONNS:
            for i in range(RUNS):
                for name, port, proc, log in running:
                    r0 = redis_cpu(rp) if rp and name == "redis" else 0
                    r = hb.one_run(name, proc, port, conns, i)
                    if rp and name == "redis" and r["requests"]:
                        r["redis_cpu_us"] = ((redis_cpu(rp) - r0) * 1e6 / hb.TICK
                                             / r["requests"])
                    runs.setdefault((name, conns), []).append(r)
    finally:
        for name, port, proc, log in running:
            hb.stop_server(proc, log)
        if rp:
            rp.kill()
            rp.wait()
    print()
    print("%-7s %-6s %12s %10s %8s %12s" % ("server", "conns", "req/s", "p99 ms", "errors",
                                            "cpu us/req"))
    for conns in CONNS:
        res = {}
        for name in confs:
            r = res[name] = hb.median_of(runs[(name, conns)])
            print("%-7s %-6d %12.0f %10.2f %8d %12.2f" % (name, conns, r["rps"], r["p99"],
                                                           r["errors"], r["cpu_us"]))
        hello = runs[("hello", conns)]
        lm = runs[("lmdb", conns)]
        cpu = sorted(a["cpu_us"] / b["cpu_us"] for a, b in zip(lm, hello) if b["cpu_us"])
        rps = sorted(a["rps"] / b["rps"] for a, b in zip(lm, hello) if b["rps"])
        print("ratio counter-lmdb/hello c=%d: cpu/req %.2fx (goal <= 1.5; median of %d rounds, "
              "range %.2fx-%.2fx), req/s %.2fx, errors %d"
              % (conns, statistics.median(cpu), len(cpu), cpu[0], cpu[-1],
                 statistics.median(rps), sum(x["errors"] for x in lm)))
        if ("redis", conns) in runs:
            rd = runs[("redis", conns)]
            rps = sorted(a["rps"] / b["rps"] for a, b in zip(rd, hello) if b["rps"])
            cpu = sorted(a["cpu_us"] / b["cpu_us"] for a, b in zip(rd, hello) if b["cpu_us"])
            rc = statistics.median([x.get("redis_cpu_us", 0) for x in rd])
            print("ratio counter-redis/hello c=%d: req/s %.2fx (goal >= 0.5; median of %d "
                  "rounds, range %.2fx-%.2fx), wasmd cpu/req %.2fx, redis-server %.2f us/req, "
                  "errors %d" % (conns, statistics.median(rps), len(rps), rps[0], rps[-1],
                                 statistics.median(cpu), rc, sum(x["errors"] for x in rd)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
