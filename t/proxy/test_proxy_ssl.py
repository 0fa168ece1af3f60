"""t/proxy/test_proxy_ssl.py -- nginx's proxy_ssl_* for https upstreams, side by side with
Debian's nginx where both run.

A CA hierarchy is made at test time with the openssl CLI (root CA, an intermediate CA, server
certificates for "backend.test" + 127.0.0.1 signed by the root and by the intermediate, a
client CA and a client certificate); TLS upstreams (Python's ssl) report what they saw of
each connection: SNI, protocol version, cipher, the client certificate's CN, whether the
session was resumed. Checked for wasmd and nginx alike:
  proxy_ssl_name (verified name and SNI; a wrong name fails verification),
  proxy_ssl_verify_depth (0: a chain through an intermediate fails; the default 1 passes),
  proxy_ssl_certificate / _key (an upstream that requires a client certificate gets it;
  without it the request fails), proxy_ssl_protocols (TLSv1.3 only against a TLS 1.2 server
  fails; TLSv1.2 works and is what was negotiated), proxy_ssl_ciphers (the cipher used),
  proxy_ssl_session_reuse (on: later connections resume the session; off: none does),
and -t's messages. Ports 18600-18699.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "static"))
import harness                                  # noqa: E402
from harness import check, Conn                  # noqa: E402
import sbs                                       # noqa: E402
import upstreams                                 # noqa: E402

W, N = 18600, 18650
P_ROOT, P_CHAIN, P_MTLS, P_TLS12 = 18610, 18611, 18612, 18613
D = tempfile.mkdtemp(prefix="wasmd-proxy-ssl-")
os.chmod(D, 0o755)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=D)


def make_pki():
    ext_ca = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
    ext_srv = ("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
               "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:backend.test,IP:127.0.0.1\n")
    ext_cli = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    for name, text in (("ca.ext", ext_ca), ("srv.ext", ext_srv), ("cli.ext", ext_cli)):
        with open(os.path.join(D, name), "w") as f:
            f.write(text)
    for ca in ("root", "clientca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout",
                ca + "-key.pem", "-out", ca + ".pem", "-subj", "/CN=wasmd test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(name, issuer, ext, cn):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + "-key.pem", "-out",
                name + ".csr", "-subj", "/CN=" + cn)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", issuer + ".pem", "-CAkey",
                issuer + "-key.pem", "-CAcreateserial", "-days", "2", "-out", name + ".pem",
                "-extfile", ext)
    issue("inter", "root", "ca.ext", "wasmd test intermediate")
    issue("srv", "root", "srv.ext", "backend.test")
    issue("srv2", "inter", "srv.ext", "backend.test")
    issue("client", "clientca", "cli.ext", "wasmd-client")
    with open(os.path.join(D, "srv2-chain.pem"), "w") as f:
        f.write(open(os.path.join(D, "srv2.pem")).read() + open(os.path.join(D, "inter.pem")).read())
    for fn in os.listdir(D):
        os.chmod(os.path.join(D, fn), 0o644)


class TlsUp(upstreams._Base):
    """HTTPS upstream answering every request with JSON about its TLS connection."""

    def __init__(self, port, cert, key, client_ca=None, max12=False):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(D, cert), os.path.join(D, key))
        if client_ca:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(os.path.join(D, client_ca))
        if max12:
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.sni = {}
        self.ctx.sni_callback = self._sni
        self.seen = []
        super().__init__(port)

    def _sni(self, sock, name, ctx):
        self.sni[id(sock)] = name

    def serve(self, s, cid):
        s.settimeout(10)
        try:
            t = self.ctx.wrap_socket(s, server_side=True)
        except (ssl.SSLError, OSError) as ex:
            self.seen.append({"error": str(ex)})
            return
        try:
            head, rest = upstreams._read_head(t)
        except (ssl.SSLError, OSError) as ex:
            self.seen.append({"error": str(ex)})
            return
        if head is None:
            return
        peer = t.getpeercert()
        cn = None
        if peer:
            for rdn in peer.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        info = {"sni": self.sni.get(id(t)), "version": t.version(), "cipher": t.cipher()[0],
                "client": cn, "reused": t.session_reused,
                "line": head.decode("latin-1").split("\r\n")[0]}
        self.seen.append(info)
        body = json.dumps(info).encode()
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
        try:
            t.unwrap()
        except (ssl.SSLError, OSError):
            pass


BODY = """
    server {{
        listen 127.0.0.1:{LISTEN};
        proxy_ssl_trusted_certificate {D}/root.pem;
        proxy_ssl_verify on;
        proxy_ssl_name backend.test;
        location /name/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; proxy_ssl_name backend.test;
                          proxy_ssl_server_name on; }}
        location /namevar/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/;
                             proxy_ssl_name $arg_n; proxy_ssl_server_name on; }}
        location /ip/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; proxy_ssl_name $proxy_host; }}
        location /badname/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; proxy_ssl_name other.test; }}
        location /depth0/ {{ proxy_pass https://127.0.0.1:{P_CHAIN}/; proxy_ssl_verify_depth 0;
                            proxy_ssl_session_reuse off; }}
        location /depth1/ {{ proxy_pass https://127.0.0.1:{P_CHAIN}/; proxy_ssl_session_reuse off; }}
        location /rdepth0/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; proxy_ssl_verify_depth 0;
                             proxy_ssl_session_reuse off; }}
        location /cert/ {{ proxy_pass https://127.0.0.1:{P_MTLS}/;
                          proxy_ssl_certificate {D}/client.pem;
                          proxy_ssl_certificate_key {D}/client-key.pem;
                          proxy_ssl_session_reuse off; }}
        location /nocert/ {{ proxy_pass https://127.0.0.1:{P_MTLS}/; proxy_ssl_session_reuse off; }}
        location /p13/ {{ proxy_pass https://127.0.0.1:{P_TLS12}/; proxy_ssl_protocols TLSv1.3; }}
        location /p12/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; proxy_ssl_protocols TLSv1.2; }}
        location /p123/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/;
                          proxy_ssl_protocols TLSv1.2 TLSv1.3; }}
        location /ciph/ {{ proxy_pass https://127.0.0.1:{P_TLS12}/;
                          proxy_ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
                          proxy_ssl_session_reuse off; }}
        location /ciph2/ {{ proxy_pass https://127.0.0.1:{P_TLS12}/;
                           proxy_ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384;
                           proxy_ssl_session_reuse off; }}
        location /reuse/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; }}
        location /noreuse/ {{ proxy_pass https://127.0.0.1:{P_ROOT}/; proxy_ssl_session_reuse off; }}
        location /reuse12/ {{ proxy_pass https://127.0.0.1:{P_TLS12}/; }}
        location /noreuse12/ {{ proxy_pass https://127.0.0.1:{P_TLS12}/;
                               proxy_ssl_session_reuse off; }}
    }}
"""


def body_for(listen):
    return BODY.format(LISTEN=listen, D=D, P_ROOT=P_ROOT, P_CHAIN=P_CHAIN, P_MTLS=P_MTLS,
                       P_TLS12=P_TLS12)


def get(port, path, timeout=10):
    with Conn(port, timeout) as c:
        c.send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
        return c.recv_response()


class Env:
    def __init__(self):
        make_pki()
        self.ups = {
            "root": TlsUp(P_ROOT, "srv.pem", "srv-key.pem"),
            "chain": TlsUp(P_CHAIN, "srv2-chain.pem", "srv2-key.pem"),
            "mtls": TlsUp(P_MTLS, "srv.pem", "srv-key.pem", client_ca="clientca.pem"),
            "tls12": TlsUp(P_TLS12, "srv.pem", "srv-key.pem", max12=True),
        }
        self.w = harness.Server(("http {\n" + body_for(W) + "\n}\n").replace("%", "%%"), W)
        self.n = sbs.NginxServer(body_for(N).replace("%", "%%"), N, {}) \
            if sbs.nginx_bin() else None
        self.ports = [(W, "wasmd")] + ([(N, "nginx")] if self.n else [])

    def start(self):
        self.w.start()
        if self.n:
            self.n.start()

    def stop(self):
        try:
            self.w.stop()
        finally:
            if self.n:
                self.n.stop()
            self.w.cleanup()
            for u in self.ups.values():
                u.stop()
            shutil.rmtree(D, ignore_errors=True)


def both(e, path):
    """(status, json or None) per server, in e.ports order."""
    out = []
    for port, who in e.ports:
        r = get(port, path)
        j = json.loads(r.body) if r.status == 200 else None
        out.append((who, r.status, j))
    return out


def test_ssl_name(e):
    for who, status, j in both(e, "/name/x"):
        check(status == 200 and j["sni"] == "backend.test", who, status, j)
    for who, status, j in both(e, "/namevar/x?n=backend.test:443"):
        # a variable, its port stripped (nginx)
        check(status == 200 and j["sni"] == "backend.test", who, status, j)
    for who, status, j in both(e, "/badname/x"):
        check(status == 502, who, "a name not in the certificate must fail", status)
    check("certificate verify failed" in e.w.error_log(), e.w.error_log()[-500:])
    # $proxy_host = 127.0.0.1: wasmd checks the certificate's IP SAN and sends no SNI
    # (nginx 1.22 matches names only: "upstream SSL certificate does not match")
    r = get(W, "/ip/x")
    j = json.loads(r.body) if r.status == 200 else None
    check(r.status == 200 and j["sni"] is None, r.status, j)


def test_verify_depth(e):
    # (without session reuse: nginx resumes a session verified by another location of the
    # same upstream and skips the check)
    # OpenSSL's depth counts the CA certificates below the trust anchor: nginx's default 1
    # takes a chain through one intermediate, 0 does not
    for who, status, j in both(e, "/depth0/x"):
        check(status == 502, who, "depth 0 with an intermediate must fail", status)
    for who, status, j in both(e, "/depth1/x"):
        check(status == 200, who, status)
    for who, status, j in both(e, "/rdepth0/x"):
        check(status == 200, who, "signed by the root itself: depth 0 suffices", status)


def test_client_certificate(e):
    for who, status, j in both(e, "/cert/x"):
        check(status == 200 and j["client"] == "wasmd-client", who, status, j)
    for who, status, j in both(e, "/nocert/x"):
        check(status == 502, who, "no client certificate must fail", status)


def test_protocols(e):
    for who, status, j in both(e, "/p13/x"):
        check(status == 502, who, "TLSv1.3 only against a TLS 1.2 server must fail", status)
    for who, status, j in both(e, "/p12/x"):
        check(status == 200 and j["version"] == "TLSv1.2", who, status, j)
    for who, status, j in both(e, "/p123/x"):
        check(status == 200 and j["version"] == "TLSv1.3", who, status, j)


def test_ciphers(e):
    for who, status, j in both(e, "/ciph/x"):
        check(status == 200 and j["cipher"] == "ECDHE-RSA-AES128-GCM-SHA256", who, status, j)
    for who, status, j in both(e, "/ciph2/x"):
        check(status == 200 and j["cipher"] == "ECDHE-RSA-AES256-GCM-SHA384", who, status, j)


def test_session_reuse(e):
    for path, want in (("/reuse/", True), ("/noreuse/", False), ("/reuse12/", True),
                       ("/noreuse12/", False)):
        for port, who in e.ports:
            seen = []
            for i in range(4):
                r = get(port, path + "x")
                check(r.status == 200, who, path, r.status)
                seen.append(json.loads(r.body)["reused"])
                time.sleep(0.05)        # TLS 1.3 tickets come after the response
            if want:
                check(all(seen[1:]), who, path, "later connections must resume", seen)
            else:
                check(not any(seen), who, path, "no session may be resumed", seen)


def conf_test(body):
    s = harness.Server(("http {\n server {\n listen 127.0.0.1:18690;\n%s\n }\n}\n" % body)
                       .replace("%", "%%"), 18690)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        return r.returncode, (r.stdout + r.stderr).decode()
    finally:
        s.cleanup()


def test_conf(e):
    up = "location / { proxy_pass https://127.0.0.1:1; %s }"
    cases = [
        (up % ("proxy_ssl_certificate %s/client.pem;" % D),
         'no "proxy_ssl_certificate_key" is defined for certificate'),
        (up % "proxy_ssl_certificate /nonexistent.pem; proxy_ssl_certificate_key /x.pem;",
         'cannot load certificate "/nonexistent.pem"'),
        (up % ("proxy_ssl_certificate %s/client.pem; proxy_ssl_certificate_key %s/srv-key.pem;"
               % (D, D)), "key values mismatch"),
        (up % "proxy_ssl_ciphers NOSUCHCIPHER;", 'invalid cipher list "NOSUCHCIPHER"'),
        (up % "proxy_ssl_protocols TLSv9;", 'invalid value "TLSv9" in "proxy_ssl_protocols"'),
        (up % "proxy_ssl_certificate $host.pem;", 'variables in "proxy_ssl_certificate" are not'),
        (up % "proxy_ssl_verify_depth x;", 'invalid value "x"'),
        (up % "proxy_ssl_session_reuse maybe;", 'invalid value "maybe"'),
        (up % "proxy_ssl_name a; proxy_ssl_name b;", "is duplicate"),
        (up % "proxy_ssl_crl c.pem;", '"proxy_ssl_crl" directive is not supported'),
        (up % "proxy_ssl_password_file p;", '"proxy_ssl_password_file" directive is not supported'),
        (up % "proxy_ssl_conf_command a b;", '"proxy_ssl_conf_command" directive is not supported'),
        (up % "proxy_ssl_key_log k;", '"proxy_ssl_key_log" directive is not supported'),
    ]
    for body, want in cases:
        rc, out = conf_test(body)
        check(rc != 0 and want in out and "wasmd.conf:" in out, body, rc, out[-400:])
    rc, out = conf_test(up % ("proxy_ssl_certificate %s/client.pem; proxy_ssl_certificate_key "
                              "%s/client-key.pem; proxy_ssl_protocols TLSv1.2 TLSv1.3; "
                              "proxy_ssl_ciphers HIGH:!aNULL; proxy_ssl_verify_depth 3; "
                              "proxy_ssl_session_reuse off; proxy_ssl_name $host;" % (D, D)))
    check(rc == 0, out[-400:])


TESTS = [test_ssl_name, test_verify_depth, test_client_certificate, test_protocols,
         test_ciphers, test_session_reuse, test_conf]


def main():
    only = os.environ.get("T_ONLY")
    passed = failed = 0
    try:
        e = Env()
        e.start()
    except Exception as ex:
        print("FAIL start: %s" % ex)
        traceback.print_exc()
        try:
            e.stop()
        except Exception:
            pass
        print("0 passed, 1 failed")
        return 1
    if e.n is None:
        print("note: no nginx binary: side-by-side comparisons skipped")
    for t in TESTS:
        if only and only not in t.__name__:
            continue
        t0 = time.time()
        try:
            t(e)
            passed += 1
            print("ok   test_proxy_ssl %s (%.2fs)" % (t.__name__, time.time() - t0))
        except Exception as ex:
            failed += 1
            print("FAIL test_proxy_ssl %s: %s" % (t.__name__, ex))
            if os.environ.get("T_VERBOSE"):
                traceback.print_exc()
        if e.w.proc.poll() is not None:
            print("FAIL server died after %s\n%s" % (t.__name__, e.w.stderr()[-3000:]))
            failed += 1
            break
    try:
        e.stop()
        passed += 1
        print("ok   test_proxy_ssl teardown (clean logs, no sanitizer reports)")
    except Exception as ex:
        failed += 1
        print("FAIL test_proxy_ssl teardown: %s" % ex)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
