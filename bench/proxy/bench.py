"""bench/proxy/bench.py -- see bench/proxy/run. The same comparison as bench/outbound (same
nginx upstream, same nginx proxy_pass reference, same runs and figures), with wasmd's own
proxy_pass in place of proxy.wasm: this file sets what differs and runs bench/outbound's main."""
import importlib.util
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_spec = importlib.util.spec_from_file_location("bench_outbound",
                                               os.path.join(ROOT, "bench", "outbound", "bench.py"))
ob = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ob)

ob.NAME = "proxy"
ob.TITLE = "proxy_pass + upstream keepalive, wasmd vs nginx"
ob.RATIO = "wasmd/nginx proxy_pass"
ob.WARMUP = False
ob.OUT = os.path.join(ROOT, ob.B, "bench", "proxy")
ob.WASMD_CONF = """daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/wasmd.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    upstream up { server 127.0.0.1:%d; keepalive 64; }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
""" % (ob.UP_PORT, ob.WASMD_PORT)

if __name__ == "__main__":
    sys.exit(ob.main())
