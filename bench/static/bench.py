"""bench/static/bench.py -- see bench/static/run.  The method of bench/handlers: both servers
run at once, runs alternate wasmd, nginx, wasmd, ... and each wasmd run is compared with the
nginx run right after it; the figure is the median of those ratios (the machine's speed
drifts).  The files live in a mktemp directory under /tmp."""
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("B", "objs")
WASMD = os.environ.get("WASMD_BIN") or os.path.join(ROOT, B, "wasmd")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk")
RUNS = int(os.environ.get("RUNS", "7"))
CONNS = [int(c) for c in os.environ.get("CONNS", "50").split()]
DURATION = os.environ.get("DURATION", "3s")
WASMD_PORT, NGINX_PORT = 18540, 18541    # not bench/outbound's (run at the same time by others)

# the same http{} body for both; sendfile on for nginx (Debian's default configuration)
BODY = """
    access_log off;
    keepalive_requests 100000;
    open_file_cache max=1000 inactive=60s;
    sendfile on;
    gzip on;
    gzip_comp_level 1;
    gzip_types text/html;
    types { text/html html; application/octet-stream bin; }
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
    }
"""

CASES = [
    ("1 KiB file", "/1k.bin", [], 1.0),
    ("1 MiB file", "/1m.bin", [], 1.1),
    ("gzip 100 KiB HTML", "/page.html", ["-H", "Accept-Encoding: gzip"], 1.1),
]

_spec = importlib.util.spec_from_file_location("bench_http",
                                               os.path.join(ROOT, "bench", "http", "bench.py"))
hb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hb)


def wrk(port, path, hdrs, conns):
    cmd = ["taskset", "-c", "1", WRK, "-t1", "-c%d" % conns, "-d" + DURATION] + hdrs + \
          ["http://127.0.0.1:%d%s" % (port, path)]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    r = {"rps": 0.0, "requests": 0, "errors": 0}
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


def one(proc, port, path, hdrs, conns):
    pids = hb.server_pids(proc)
    t0 = hb.cpu_ticks(pids)
    r = wrk(port, path, hdrs, conns)
    t1 = hb.cpu_ticks(pids)
    r["cpu_us"] = (t1 - t0) * 1e6 / hb.TICK / r["requests"] if r["requests"] else 0.0
    return r


def main():
    if not WRK or not os.path.exists(NGINX) or not os.path.exists(WASMD):
        print("bench/static: needs wrk, nginx and %s" % WASMD)
        return 0
    docs = tempfile.mkdtemp(prefix="wasmd-bench-static-")
    os.chmod(docs, 0o755)
    with open(os.path.join(docs, "1k.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4)
    with open(os.path.join(docs, "1m.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    with open(os.path.join(docs, "page.html"), "wb") as f:
        words = b"static files compress well when they are html with repeated markup "
        f.write(b"<html><body>\n" + b"".join(b"<p class=\"x%d\">%s</p>\n" % (i % 97, words)
                                             for i in range(1100))[:100 * 1024 - 30]
                + b"</body></html>\n")
    with open(os.path.join(docs, "index.html"), "wb") as f:
        f.write(b"warm-up\n")
    pfx = {}
    for name in ("wasmd", "nginx"):
        p = tempfile.mkdtemp(prefix="wasmd-bench-%s-" % name)
        for d in ("conf", "logs", "tmp"):
            os.makedirs(os.path.join(p, d))
        pfx[name] = p
    with open(os.path.join(pfx["wasmd"], "conf", "wasmd.conf"), "w") as f:
        f.write("daemon off;\nmaster_process off;\nworker_processes 1;\n"
                "error_log logs/error.log warn;\npid logs/wasmd.pid;\n"
                "events { worker_connections 4096; }\nhttp {%s}\n"
                % (BODY % {"port": WASMD_PORT, "root": docs}))
    t = os.path.join(pfx["nginx"], "tmp")
    with open(os.path.join(pfx["nginx"], "conf", "nginx.conf"), "w") as f:
        f.write("worker_processes 1;\nerror_log logs/error.log warn;\npid logs/nginx.pid;\n"
                "events { worker_connections 4096; }\nhttp {\n client_body_temp_path %s/b;\n"
                " proxy_temp_path %s/p;\n fastcgi_temp_path %s/f;\n uwsgi_temp_path %s/u;\n"
                " scgi_temp_path %s/s;\n%s}\n" % (t, t, t, t, t,
                                                  BODY % {"port": NGINX_PORT, "root": docs}))
    servers = [
        ("wasmd", [WASMD, "-p", pfx["wasmd"] + "/", "-c",
                   os.path.join(pfx["wasmd"], "conf", "wasmd.conf")], WASMD_PORT),
        ("nginx", [NGINX, "-p", pfx["nginx"] + "/", "-c",
                   os.path.join(pfx["nginx"], "conf", "nginx.conf"),
                   "-g", "daemon off; master_process off;"], NGINX_PORT),
    ]
    print("bench/static: wasmd vs nginx, same files and http{} body (open_file_cache, gzip "
          "level 1; nginx with sendfile on), 1 worker each pinned to CPU 0, wrk -t1 on CPU 1, "
          "-d%s, %d alternating runs per case" % (DURATION, RUNS), flush=True)
    running = []
    results = []
    try:
        for name, cmd, port in servers:
            running.append((name, port) + hb.start_server(name, cmd, port, pfx[name]))
        for label, path, hdrs, goal in CASES:
            for conns in CONNS:
                runs = {"wasmd": [], "nginx": []}
                for i in range(RUNS):
                    for name, port, proc, log in running:
                        r = one(proc, port, path, hdrs, conns)
                        runs[name].append(r)
                        print("  %-18s %-6s c=%-4d run %d: %9.0f req/s  cpu %.2f us/req  "
                              "errors %d" % (label, name, conns, i + 1, r["rps"], r["cpu_us"],
                                             r["errors"]), flush=True)
                ratios = sorted(a["cpu_us"] / b["cpu_us"] for a, b in
                                zip(runs["wasmd"], runs["nginx"]) if b["cpu_us"])
                med = {n: statistics.median(x["cpu_us"] for x in runs[n]) for n in runs}
                rps = {n: statistics.median(x["rps"] for x in runs[n]) for n in runs}
                errs = sum(x["errors"] for x in runs["wasmd"])
                results.append("%-18s c=%-4d cpu/req wasmd %.2f us, nginx %.2f us: %.2fx "
                               "(goal <= %.1f; median of %d paired ratios, range %.2f-%.2f), "
                               "req/s %.0f vs %.0f, wasmd errors %d"
                               % (label, conns, med["wasmd"], med["nginx"],
                                  statistics.median(ratios) if ratios else 0, goal,
                                  len(ratios), ratios[0] if ratios else 0,
                                  ratios[-1] if ratios else 0, rps["wasmd"], rps["nginx"], errs))
    finally:
        for name, port, proc, log in running:
            hb.stop_server(proc, log)
        shutil.rmtree(docs, ignore_errors=True)
    print()
    for line in results:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
