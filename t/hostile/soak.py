#!/usr/bin/env python3
"""t/hostile/soak.py -- `make soak`: wrk at full load against a mix of wasm routes, watching
the worker.

    python3 t/hostile/soak.py [--seconds N] [--warmup N] [--port P]

One server (master + one worker, like production), four concurrent wrk runs, one per route
group so socket errors are counted per group:
    hello  GET  /hello   (hello.wasm)                          32 connections
    echo   POST /echo    (echo.wasm, 4 KiB body, wrk Lua)      16 connections
    trap   GET  /trap    (hostile-misc.wasm ?trap: 500)         8 connections
    fuel   GET  /burn    (hostile-misc.wasm ?burn=1: ~15 ms)    4 connections
Every pool is fully instantiated at start with one instance per connection of its group
(so no request ever queues, and pool growth, one snapshot memfd per instance, cannot be
mistaken for a leak). A warm-up phase (--warmup seconds, the same load) comes first; then the measured phase of
--seconds (default $SOAK_SECONDS or 600), sampling the worker's VmRSS and descriptor count
every 0.5 s (SAMPLE_S). Requirements (exit 1 on a violation):
    - 0 socket errors and 0 non-2xx responses on hello and echo;
    - RSS at the end of the phase (median of the last quarter of the samples) within 10% of
      the peak RSS of the first half (from 4 s in) (floor 1 MiB): the pooled instances'
      restored pages move it by ~2 MiB either way, a leak grows past the peak; and the idle
      RSS after the phase within 10% of the idle RSS before it;
    - no descriptor growth: the idle count after the phase equals the idle count before it;
    - the same worker pid throughout and no [alert] in the error log.
Prints one line per group and a summary; the last line is "soak: ok" or "soak: FAILED".
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "t", "http"))
import harness                     # noqa: E402

H = os.path.join(ROOT, "objs", "handlers")
CONF = r'''
http {
    access_log off;
    server {
        listen 127.0.0.1:%(port)d backlog=1024;
        location /hello { wasm_handler @H@/hello.wasm;        wasm_pool 32 32; }
        location /echo  { wasm_handler @H@/echo.wasm;         wasm_pool 16 16; }
        location /trap  { wasm_handler @H@/hostile-misc.wasm; wasm_pool 8 8; }
        location /burn  { wasm_handler @H@/hostile-misc.wasm; wasm_pool 4 4; }
    }
}
'''.replace("@H@", H)

ECHO_LUA = '''wrk.method = "POST"
wrk.body = string.rep("0123456789abcdef", 256)
wrk.headers["Content-Type"] = "application/octet-stream"
'''

GROUPS = [  # name, path, connections, lua?, must be clean
    ("hello", "/hello", 32, False, True),
    ("echo", "/echo", 16, True, True),
    ("trap", "/trap?trap", 8, False, False),
    ("fuel", "/burn?burn=1", 4, False, False),
]


SAMPLE_S = 0.5   # under load the RSS moves by ~1 MiB as pooled instances are used and trimmed:
                 # a 20 s run sampled every 2 s had 2 samples a quarter, and one low first
                 # sample failed a clean-clone CI run (4520 -> 6280 KiB, no trend over 60 s)
IDLE_S = 3.0     # idle instances are trimmed after 1 s by a 1 s timer: settled after 2 s


def worker_pid(s):
    return s.worker_pid()


def sample(pid):
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, harness.worker_nfds(pid)


def run_wrk(port, seconds, lua_path, sample_cb=None):
    procs = []
    for name, path, conns, lua, _ in GROUPS:
        cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--timeout", "5s"]
        if lua:
            cmd += ["-s", lua_path]
        cmd.append("http://127.0.0.1:%d%s" % (port, path))
        procs.append((name, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             text=True)))
    while any(p.poll() is None for _, p in procs):
        if sample_cb:
            sample_cb()
        time.sleep(SAMPLE_S)
    res = {}
    for name, p in procs:
        out = p.stdout.read()
        m = re.search(r"(\d+) requests in", out)
        reqs = int(m.group(1)) if m else 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        errs = sum(int(x) for x in m.groups()) if m else 0
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        non2xx = int(m.group(1)) if m else 0
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        rps = float(m.group(1)) if m else 0.0
        res[name] = (reqs, errs, non2xx, rps, out, m is not None)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--port", type=int, default=19320)
    a = ap.parse_args()
    warm = a.warmup if a.warmup is not None else max(3, min(30, a.seconds // 5))
    if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode != 0:
        print("soak: skipped (no wrk)")
        return 0
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write(ECHO_LUA)
    lua.close()
    s = harness.Server(CONF, a.port, master=True,
                       main_conf="worker_rlimit_nofile 4096;\nevents { worker_connections 2048; }\n")
    problems = []
    try:
        s.start()
        pid = worker_pid(s)
        if pid is None:
            raise RuntimeError("no single worker process after start")
        run_wrk(a.port, warm, lua.name)
        time.sleep(IDLE_S)
        rss_idle0, fd_idle0 = sample(pid)
        samples = []
        res = run_wrk(a.port, a.seconds, lua.name, lambda: samples.append(sample(pid)))
        time.sleep(IDLE_S)
        rss_idle1, fd_idle1 = sample(pid)
        if worker_pid(s) != pid:
            problems.append("the worker was replaced (pid %d -> %s)" % (pid, worker_pid(s)))
        for name, _, conns, _, clean in GROUPS:
            reqs, errs, non2xx, rps, out, ok = res[name]
            print("soak %-5s %3d conns: %9d requests, %8.0f req/s, %d socket errors, %d non-2xx"
                  % (name, conns, reqs, rps, errs, non2xx))
            if not ok:
                problems.append("%s: wrk output not understood: %s" % (name, out[-500:]))
            if clean and (errs or non2xx or reqs == 0):
                problems.append("%s: %d socket errors, %d non-2xx, %d requests" % (name, errs, non2xx, reqs))
        if os.environ.get("SOAK_VERBOSE"):
            print("soak samples (RSS KiB, fds): %s" % samples)
        samples = samples[int(4 / SAMPLE_S):]    # the first 4 s: wrk still connecting
        if len(samples) >= 4:
            # medians of the first and the last quarter: transient spikes (bodies in flight)
            # are not growth
            q = max(1, len(samples) // 4)
            # the peak of the first half against the median of the last quarter: the pooled
            # instances' restored pages move the RSS under load between ~4.5 and ~7.2 MiB
            # (which instances are populated at the moment, in stretches of seconds), and a
            # low first sample failed a clean-clone CI run (4,520 -> 6,280 KiB) although a
            # 60 s run was flat. A leak grows past the peak; churn within the pool does not.
            r0 = max(r for r, _ in samples[:max(1, len(samples) // 2)])
            r1 = int(statistics.median(r for r, _ in samples[-q:]))
            fds = [f for _, f in samples]
            print("soak worker %d: RSS %d KiB after warm-up -> %d KiB at the end (peak of the first"
                  " half, median of the last quarter; max %d), idle %d -> %d KiB;"
                  " fds under load %d..%d, idle %d -> %d; %d samples over %d s"
                  % (pid, r0, r1, max(r for r, _ in samples), rss_idle0, rss_idle1, min(fds), max(fds),
                     fd_idle0, fd_idle1, len(samples), a.seconds))
            if r1 > r0 + max(r0 // 10, 1024):
                problems.append("RSS grew by more than 10%% under load: %d -> %d KiB" % (r0, r1))
        else:
            problems.append("too few samples")
        if rss_idle1 > rss_idle0 + max(rss_idle0 // 10, 1024):
            problems.append("idle RSS grew by more than 10%%: %d -> %d KiB" % (rss_idle0, rss_idle1))
        if fd_idle1 > fd_idle0:
            problems.append("descriptors grew: %d -> %d" % (fd_idle0, fd_idle1))
        alerts = [l for l in s.error_log().splitlines() if "[alert]" in l]
        if alerts:
            problems.append("alerts: %s" % alerts[:3])
        try:
            s.stop()
        except harness.CheckError as e:
            problems.append("stop: %s" % e)
    finally:
        s.cleanup()
        os.unlink(lua.name)
    for p in problems:
        print("soak: " + p)
    print("soak: ok" if not problems else "soak: FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
