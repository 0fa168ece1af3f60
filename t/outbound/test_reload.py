"""Reloads under outbound load: master + 2 workers run proxy.wasm against a Python upstream
(each answer after 20 ms, so proxied requests are always in flight); wrk keeps 16
keep-alive connections busy while the configuration is reloaded twice. Checked: no socket
error, no non-2xx, every body the upstream's; the old generation exits (its in-flight
outgoing requests finished, its pooled upstream connections closed); and afterwards no
upstream connection is left but the new workers' idle pooled ones."""
import http.server
import os
import signal
import socketserver
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops"))
import opslib                                     # noqa: E402
from opslib import check                          # noqa: E402

PORT = 19405


class Up(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    live = 0
    lock = threading.Lock()

    def setup(self):
        with Up.lock:
            Up.live += 1
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            with Up.lock:
                Up.live -= 1

    def do_GET(self):
        time.sleep(0.02)
        body = b"upstream says ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class TServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass


UP = TServer(("127.0.0.1", 0), Up)
UP_PORT = UP.server_address[1]
threading.Thread(target=UP.serve_forever, daemon=True).start()

CONF = r'''
http {
    wasm_outbound_pool 4 8 30s;
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            wasm_handler @H@;
            wasm_env UPSTREAM http://127.0.0.1:@UP@;
            wasm_outbound_allow http://127.0.0.1:@UP@;
        }
        location = /metrics { wasm_status; }
    }
}
'''


def test_reload_under_outbound_load():
    conf = CONF.replace("@H@", opslib.handler("proxy.wasm")).replace("@UP@", str(UP_PORT))
    s = opslib.server(conf, PORT)
    try:
        s.start()
        old = opslib.wait_workers(s, 2)
        check(opslib.get(s, "/x").body == b"upstream says ok\n")
        wrk = opslib.Wrk("http://127.0.0.1:%d/load" % s.port, duration=4 * opslib.SLOW, conns=16)
        time.sleep(1.0 * opslib.SLOW)
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: s.error_log().count("configuration reloaded") >= 1, 10),
              s.error_log()[-1000:])
        time.sleep(1.0 * opslib.SLOW)
        s.signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: s.error_log().count("configuration reloaded") >= 2, 10),
              s.error_log()[-1000:])
        w = wrk.result()
        check(w["requests"] > 100, "load ran", w["out"])
        check(w["socket_errors"] == 0, "socket errors during the reloads", w["out"])
        check(w["non2xx"] == 0, "non-2xx during the reloads", w["out"])
        new = opslib.wait_workers(s, 2)
        check(not set(new) & set(old), "old workers exited", old, new)
        # the new generation's pools: at most 4 idle per worker; everything else closed
        check(opslib.wait_for(lambda: Up.live <= 8, 10), "upstream connections left", Up.live)
        m = opslib.get(s, "/metrics").body.decode()
        check("wasmd_wasm_outbound_in_flight 0" in m, m)
        opened = [l for l in m.splitlines()
                  if l.startswith('wasmd_wasm_outbound_connections{state="open"}')]
        idle = [l for l in m.splitlines()
                if l.startswith('wasmd_wasm_outbound_connections{state="idle"}')]
        check(opened and idle and opened[0].split()[-1] == idle[0].split()[-1], opened, idle)
        s.stop(signal.SIGQUIT)
        bad = opslib.log_problems(s)
        check(not bad, bad)
        check(opslib.wait_for(lambda: Up.live == 0, 5), "all upstream connections closed at "
              "exit", Up.live)
    finally:
        s.cleanup()


if __name__ == "__main__":
    sys.exit(opslib.main(globals()))
