"""bench/tls/bench.py -- see bench/tls/run.  Reuses bench/http/bench.py (server start, wrk
parsing, CPU accounting, table) with TLS configurations and https:// URLs."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
os.environ.setdefault("CONNS", "50")
import bench as hb  # noqa: E402

OUT = os.path.join(hb.ROOT, hb.B, "bench", "tls")
hb.OUT = OUT
hb.WASMD_PORT, hb.NGINX_PORT = 18720, 18721
CERT = os.path.join(OUT, "cert.pem")
KEY = os.path.join(OUT, "key.pem")

SSL = """ssl_certificate %s; ssl_certificate_key %s; ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache builtin:1000;""" % (CERT, KEY)
hb.WASMD_CONF = hb.WASMD_CONF.replace("listen 127.0.0.1:18300;",
                                      "listen 127.0.0.1:18720 ssl;\n        " + SSL)
hb.NGINX_CONF = hb.NGINX_CONF.replace("listen 127.0.0.1:18301;",
                                      "listen 127.0.0.1:18721 ssl;\n        " + SSL)
assert "18720 ssl" in hb.WASMD_CONF and "18721 ssl" in hb.NGINX_CONF


class _Sub:
    """subprocess for bench/http's functions, with http:// URLs turned into https://."""
    Popen = subprocess.Popen
    TimeoutExpired = subprocess.TimeoutExpired
    PIPE = subprocess.PIPE

    @staticmethod
    def run(cmd, **kw):
        cmd = [c.replace("http://", "https://") if isinstance(c, str) else c for c in cmd]
        return subprocess.run(cmd, **kw)


hb.subprocess = _Sub


def main():
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(CERT):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", KEY,
                        "-out", CERT, "-days", "30", "-subj", "/CN=bench.test"],
                       check=True, capture_output=True)
    print("bench/tls: the table below is TLS (https://, keep-alive)")
    return hb.main()


if __name__ == "__main__":
    sys.exit(main())
