"""t/ops/test_status.py -- `wasm_status;` (Prometheus counters summed across 2 workers, kept
across reloads) and the access-log variables $wasm_fuel / $wasm_instance_wait."""
import os
import re
import signal
import socket
import threading
import time

import opslib
from opslib import check, get, metric, metrics

CONF = """
http {
    log_format ops '$pid $status "$request" fuel=$wasm_fuel wait=$wasm_instance_wait rt=$request_time';
    access_log logs/access.log ops;
    server {
        listen 127.0.0.1:%(port)d;
        location = /metrics { wasm_status; }
        location /static { return 200 "static\\n"; }
        location /hello { wasm_handler HANDLERS/hello.wasm; }
        location /loop { wasm_handler HANDLERS/test-loop.wasm; wasm_fuel 1000000; }
        location /sleepy { wasm_handler HANDLERS/test-loop.wasm; wasm_timeout 300ms; }
        location /recurse { wasm_handler HANDLERS/test-recurse.wasm; }
        location /cgi { wasm_handler HANDLERS/cgi.wasm; }
        location /busy { wasm_handler HANDLERS/test-loop.wasm; wasm_pool 1 1; wasm_timeout 1500ms; }
    }
}
""".replace("HANDLERS", opslib.HANDLERS)


def access_lines(s):
    out = []
    for line in s.access_log().splitlines():
        m = re.match(r'^(\d+) (\d+) "(\S+) (\S+) [^"]*" fuel=(\S+) wait=(\S+) rt=(\S+)$', line)
        check(m is not None, "access log line %r" % line)
        out.append({"pid": int(m.group(1)), "status": int(m.group(2)), "uri": m.group(4),
                    "fuel": m.group(5), "wait": m.group(6)})
    return out


def test_status_counters_and_variables():
    opslib.handler("hello.wasm")
    opslib.handler("test-loop.wasm")
    opslib.handler("test-recurse.wasm")
    s = opslib.server(CONF, 18940)
    try:
        s.start()
        opslib.wait_workers(s, 2)
        r = get(s, "/metrics")
        check(r.status == 200, r)
        check(r.header("Content-Type") == "text/plain; version=0.0.4", r.header("Content-Type"))
        check(b"# TYPE wasmd_requests_total counter" in r.body, r.body[:300])

        # /hello on fresh connections until both workers served some (access log $pid)
        n_hello = 0
        for _ in range(400):
            check(get(s, "/hello").status == 200)
            n_hello += 1
            if n_hello >= 20:
                pids = {e["pid"] for e in access_lines(s) if e["uri"] == "/hello"}
                if len(pids) == 2:
                    break
        pids = {e["pid"] for e in access_lines(s) if e["uri"] == "/hello"}
        check(len(pids) == 2, "both workers must serve /hello: %r" % pids)
        for _ in range(3):
            check(get(s, "/static").status == 200)

        # failing handlers: fuel, stack/trap, timeout
        check(get(s, "/loop").status == 500)
        check(get(s, "/recurse").status == 500)
        check(get(s, "/sleepy?sleep").status == 504)
        check(get(s, "/cgi").status == 200)

        # pool waits: 4 concurrent requests on routes with 1 instance per worker (each
        # holds it 1.5 s, past the 1 s queue limit): at least 2 wait and get 503
        results = []

        def busy():
            results.append(get(s, "/busy?sleep").status)
        ts = [threading.Thread(target=busy) for _ in range(4)]
        for t in ts:
            t.start()
            time.sleep(0.02)
        for t in ts:
            t.join()
        n503 = results.count(503)
        check(n503 >= 2 and results.count(504) + n503 == 4, "busy results %r" % results)

        _, m = metrics(s)
        got = metric(m, "wasmd_requests_total", route="/hello", code="200", **{"class": "2xx"})
        check(got == n_hello, "/hello requests %r, sent %d" % (got, n_hello))
        check(metric(m, "wasmd_wasm_requests_total", route="/hello") == n_hello)
        check(metric(m, "wasmd_requests_total", route="/static", code="200",
                     **{"class": "2xx"}) == 3)
        check(metric(m, "wasmd_wasm_fuel_used_total", route="/hello") > 0)
        check(metric(m, "wasmd_wasm_fuel_used_total", route="/loop") >= 1000000,
              metric(m, "wasmd_wasm_fuel_used_total", route="/loop"))
        check(metric(m, "wasmd_wasm_traps_total", route="/loop", kind="fuel") == 1)
        check(metric(m, "wasmd_requests_total", route="/loop", code="500",
                     **{"class": "5xx"}) == 1)
        rec = sum(metric(m, "wasmd_wasm_traps_total", route="/recurse", kind=k)
                  for k in ("trap", "stack"))
        check(rec == 1, "recurse traps %r" % rec)
        check(metric(m, "wasmd_wasm_traps_total", route="/sleepy", kind="timeout") == 1)
        check(metric(m, "wasmd_wasm_traps_total", route="/hello", kind="trap") == 0)
        check(metric(m, "wasmd_wasm_requests_total", route="/cgi") == 1)
        check(metric(m, "wasmd_wasm_fuel_used_total", route="/cgi") > 0)
        check(sum(metric(m, "wasmd_wasm_traps_total", route="/cgi", kind=k)
                  for k in ("trap", "fuel", "memory", "timeout", "stack", "exit", "error")) == 0)
        check(("wasmd_wasm_traps_total", frozenset({("route", "/hello"), ("kind", "trap")})) in m,
              "zero trap counters are listed")
        check(metric(m, "wasmd_wasm_pool_waits_total", route="/busy") == n503,
              metric(m, "wasmd_wasm_pool_waits_total", route="/busy"), results)
        check(metric(m, "wasmd_wasm_pool_rejected_total", route="/busy") == n503)
        check(metric(m, "wasmd_requests_total", route="/busy", code="503",
                     **{"class": "5xx"}) == n503)
        check(metric(m, "wasmd_wasm_instance_wait_seconds_total", route="/busy") >= 0.9 * n503)
        check(metric(m, "wasmd_wasm_instances", route="/hello", state="idle") == 2,
              "one idle /hello instance per worker",
              metric(m, "wasmd_wasm_instances", route="/hello", state="idle"))
        check(metric(m, "wasmd_wasm_instances", route="/hello", state="busy") == 0)
        check(metric(m, "wasmd_workers") == 2, metric(m, "wasmd_workers"))
        check(metric(m, "wasmd_reloads_total") == 0)
        check(metric(m, "wasmd_connections_active") >= 1)

        # active connections: 4 idle keep-alive connections are counted, then not
        conns = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(4)]
        try:
            ok = opslib.wait_for(lambda: metric(metrics(s)[1], "wasmd_connections_active") >= 5,
                                 5)
            check(ok, "connections_active with 4 open",
                  metric(metrics(s)[1], "wasmd_connections_active"))
        finally:
            for c in conns:
                c.close()
        ok = opslib.wait_for(lambda: metric(metrics(s)[1], "wasmd_connections_active") <= 2, 5)
        check(ok, "connections_active after close", metric(metrics(s)[1],
                                                           "wasmd_connections_active"))

        # access log variables
        lines = access_lines(s)
        hello = [e for e in lines if e["uri"] == "/hello"]
        check(all(re.match(r"^\d+$", e["fuel"]) and int(e["fuel"]) > 0 for e in hello),
              hello[:3])
        check(all(e["wait"] == "0.000" for e in hello), [e["wait"] for e in hello][:5])
        st = [e for e in lines if e["uri"] in ("/static", "/metrics")]
        check(st and all(e["fuel"] == "-" and e["wait"] == "-" for e in st), st[:3])
        cgi = [e for e in lines if e["uri"] == "/cgi"][0]
        check(int(cgi["fuel"]) > 0 and cgi["wait"] == "0.000", cgi)
        loop = [e for e in lines if e["uri"] == "/loop"][0]
        check(int(loop["fuel"]) >= 1000000, loop)
        rejected = [e for e in lines if e["uri"] == "/busy?sleep" and e["status"] == 503]
        check(len(rejected) == n503 and all(e["fuel"] == "-" and float(e["wait"]) >= 0.9
                                            for e in rejected), rejected)
        ran = [e for e in lines if e["uri"] == "/busy?sleep" and e["status"] == 504]
        check(ran and all(re.match(r"^\d+$", e["fuel"]) for e in ran), ran)

        # reload: counters survive, reloads counts
        before = metric(metrics(s)[1], "wasmd_requests_total", route="/hello", code="200",
                        **{"class": "2xx"})
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: "configuration reloaded" in s.error_log(), 10),
              "reload")
        _, m = metrics(s)
        check(metric(m, "wasmd_reloads_total") == 1, metric(m, "wasmd_reloads_total"))
        check(metric(m, "wasmd_requests_total", route="/hello", code="200",
                     **{"class": "2xx"}) == before)
        check(get(s, "/hello").status == 200)
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: s.error_log().count("configuration reloaded") == 2, 10))
        # the old generation leaves: 2 workers again, counters kept
        ok = opslib.wait_for(lambda: metric(metrics(s)[1], "wasmd_workers") == 2, 10)
        _, m = metrics(s)
        check(ok, "workers after reloads", metric(m, "wasmd_workers"))
        check(metric(m, "wasmd_reloads_total") == 2)
        check(metric(m, "wasmd_requests_total", route="/hello", code="200",
                     **{"class": "2xx"}) == before + 1)
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_status_not_on_other_levels():
    s = opslib.server("http { server { listen 127.0.0.1:%(port)d; wasm_status; } }", 18941)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        check(r.returncode == 1, r)
        check(b'"wasm_status" directive is not allowed here' in r.stderr, r.stderr)
        bad = "http { server { listen 127.0.0.1:%d; location / { wasm_status x; } } }" % s.port
        with open(s.conf_path, "w") as f:
            f.write(bad)
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        check(r.returncode == 1 and b"invalid number of arguments" in r.stderr, r.stderr)
    finally:
        s.cleanup()


if __name__ == "__main__":
    raise SystemExit(opslib.main(globals()))
