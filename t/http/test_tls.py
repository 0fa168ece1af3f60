"""TLS: `listen ... ssl`, handshake + GET over TLSv1.2/1.3 (curl, openssl s_client, Python
ssl), SNI picks the server (and its certificate), ALPN http/1.1, plaintext HTTP / garbage /
a stalled handshake on the TLS port are closed and logged at info, keep-alive and pipelining
over TLS, a 1 MiB body echoed over TLS, session resumption, config errors for `-t`.
Certificates are self-signed, generated at test time with the openssl command.
Ports: 18700 (TLS), 18701 (plain), 18702 (TLS, no session reuse), 18710 -t servers,
18730 reload."""
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

import harness
from harness import check

CONF = r'''
http {
    access_log off;
    client_header_timeout 1s;
    client_max_body_size 0;
    ssl_session_cache builtin:1000;
    log_format tls '$request_uri https=$https $ssl_protocol $ssl_server_name $ssl_cipher';
    server {
        listen 127.0.0.1:%(port)d ssl;
        listen 127.0.0.1:%(port2)d;
        server_name a.test;
        access_log logs/tls.log tls;
        ssl_certificate a.crt;
        ssl_certificate_key a.key;
        location / { return 200 "server a\n"; }
        location /echo { echo_body; }
    }
    server {
        listen 127.0.0.1:%(port)d ssl;
        server_name b.test;
        ssl_certificate b.crt;
        ssl_certificate_key b.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "server b\n"; }
    }
    server {
        listen 127.0.0.1:%(port3)d ssl;
        server_name c.test;
        ssl_certificate a.crt;
        ssl_certificate_key a.key;
        ssl_session_cache off;
        ssl_session_tickets off;
        ssl_protocols TLSv1.2;
        location / { return 200 "server c\n"; }
    }
}
'''

PORT = 18700
TMP = tempfile.mkdtemp(prefix="wasmd-tls-")


def make_cert(name):
    key = os.path.join(TMP, name + ".key")
    crt = os.path.join(TMP, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name],
                   check=True, capture_output=True, timeout=60)
    with open(crt, "rb") as f1, open(key, "rb") as f2:
        return f1.read(), f2.read()


A_CRT, A_KEY = make_cert("a.test")
B_CRT, B_KEY = make_cert("b.test")
FILES = {"conf/a.crt": A_CRT, "conf/a.key": A_KEY, "conf/b.crt": B_CRT, "conf/b.key": B_KEY}


def client_ctx(maxv=None, minv=None, alpn=("http/1.1",)):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maxv:
        ctx.maximum_version = maxv
    if minv:
        ctx.minimum_version = minv
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class TlsConn(harness.Conn):
    def __init__(self, port, sni=None, ctx=None, timeout=5.0, session=None):
        super().__init__(port, timeout)
        self.raw = self.sock
        self.sock = (ctx or client_ctx()).wrap_socket(self.raw, server_hostname=sni,
                                                      session=session)


def curl(*args):
    p = subprocess.run(["curl", "-sk", "--max-time", "10"] + list(args), capture_output=True,
                       timeout=20)
    return p.returncode, p.stdout, p.stderr.decode("latin-1")


def s_client(*args, data=b""):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % PORT] + list(args),
                       input=data, capture_output=True, timeout=20)
    return p.stdout.decode("latin-1") + p.stderr.decode("latin-1")


def log_after(s, mark, pattern, timeout=3.0):
    end = time.time() + timeout
    while time.time() < end:
        text = s.error_log()[mark:]
        m = re.search(pattern, text)
        if m:
            return text
        time.sleep(0.05)
    raise harness.CheckError("no log line matching %r in %r" % (pattern, s.error_log()[mark:]))


def test_tls13_get_curl(s):
    rc, out, err = curl("-v", "--tlsv1.3", "https://127.0.0.1:%d/" % PORT)
    check(rc == 0 and out == b"server a\n", rc, out, err[-500:])
    check("SSL connection using TLSv1.3" in err, err[-800:])


def test_tls12_get_curl(s):
    rc, out, err = curl("-v", "--tlsv1.2", "--tls-max", "1.2", "https://127.0.0.1:%d/" % PORT)
    check(rc == 0 and out == b"server a\n", rc, out, err[-500:])
    check("SSL connection using TLSv1.2" in err, err[-800:])


def test_tls_versions_python(s):
    for v, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        with TlsConn(PORT, ctx=client_ctx(maxv=v, minv=v)) as c:
            check(c.sock.version() == name, c.sock.version())
            c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            r = c.recv_response()
            check(r.status == 200 and r.body == b"server a\n", r)


def test_tls11_refused(s):
    ctx = client_ctx(maxv=ssl.TLSVersion.TLSv1_1)
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ssl.SSLError, ValueError):
        pass
    try:
        with TlsConn(PORT, ctx=ctx) as c:
            check(False, "TLSv1.1 handshake succeeded", c.sock.version())
    except (ssl.SSLError, OSError):
        pass


def test_sni_selects_server_and_certificate(s):
    for name, crt_name, body in (("a.test", b"a.test", b"server a\n"),
                                 ("b.test", b"b.test", b"server b\n")):
        with TlsConn(PORT, sni=name) as c:
            der = c.sock.getpeercert(binary_form=True)
            check(crt_name in der, name, "wrong certificate")
            c.send(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n")
            r = c.recv_response()
            check(r.status == 200 and r.body == body, name, r)
    # curl sends SNI from the URL's host name
    rc, out, err = curl("--resolve", "b.test:%d:127.0.0.1" % PORT, "-v",
                        "https://b.test:%d/" % PORT)
    check(rc == 0 and out == b"server b\n", rc, out, err[-500:])
    check("CN=b.test" in err, err[-1000:])
    # no Host (HTTP/1.0): the SNI name picks the server; with Host, Host routes
    with TlsConn(PORT, sni="b.test") as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"server b\n", r)
    with TlsConn(PORT, sni="a.test") as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200 and r.body == b"server a\n", r)
    # an unknown name gets the default server's certificate
    with TlsConn(PORT, sni="unknown.test") as c:
        check(b"a.test" in c.sock.getpeercert(binary_form=True))


def test_alpn_http11(s):
    out = s_client("-alpn", "h2,http/1.1", "-servername", "a.test", "-ign_eof",
                   data=b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
    check("ALPN protocol: http/1.1" in out, out[-1500:])
    check("server a" in out, out[-1500:])
    with TlsConn(PORT, ctx=client_ctx(alpn=("h2", "http/1.1"))) as c:
        check(c.sock.selected_alpn_protocol() == "http/1.1", c.sock.selected_alpn_protocol())
    # only h2 offered: no_application_protocol alert (like nginx)
    try:
        with TlsConn(PORT, ctx=client_ctx(alpn=("h2",))) as c:
            check(False, "handshake with only h2 succeeded")
    except ssl.SSLError as e:
        check("NO_APPLICATION_PROTOCOL" in str(e).upper() or "ALERT" in str(e).upper(), e)


def test_plain_http_on_tls_port_closed(s):
    mark = len(s.error_log())
    with s.connect() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        check(c.closed(3.0), "not closed")
        check(c.buf == b"", "got bytes", c.buf[:100])
    text = log_after(s, mark, r"\[info\].*plain HTTP request")
    check("[alert]" not in text and "[crit]" not in text, text)


def test_garbage_handshake_closed(s):
    mark = len(s.error_log())
    with s.connect() as c:
        c.send(b"\x16\x03\x01\x00\x10" + b"\xff" * 16 + os.urandom(300))
        check(c.closed(3.0), "not closed")
    log_after(s, mark, r"\[info\].*SSL_do_handshake\(\) failed .* while SSL handshaking")
    mark = len(s.error_log())
    with s.connect() as c:
        c.send(os.urandom(2000))
        check(c.closed(3.0), "not closed")
    log_after(s, mark, r"\[info\].*while SSL handshaking")


def test_stalled_handshake_timeout(s):
    mark = len(s.error_log())
    with s.connect() as c:
        # the start of a ClientHello record, then nothing
        c.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        t0 = time.time()
        check(c.closed(5.0), "not closed")
        dt = time.time() - t0
        check(0.7 < dt < 3.5, "closed after %.2fs" % dt)
    log_after(s, mark, r"\[info\].*client timed out while SSL handshaking")
    # a connection that sends nothing at all
    with s.connect() as c:
        t0 = time.time()
        check(c.closed(5.0), "silent client not closed")
        check(time.time() - t0 > 0.7)


def test_keepalive_and_pipelining_over_tls(s):
    with TlsConn(PORT, sni="a.test") as c:
        for i in range(5):
            c.send(b"GET /?i=%d HTTP/1.1\r\nHost: a.test\r\n\r\n" % i)
            r = c.recv_response()
            check(r.status == 200 and r.body == b"server a\n", i, r)
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n" * 3
               + b"GET / HTTP/1.1\r\nHost: b.test\r\n\r\n")
        for i in range(3):
            r = c.recv_response()
            check(r.status == 200 and r.body == b"server a\n", i, r)
        r = c.recv_response()
        check(r.status == 200 and r.body == b"server b\n", r)
    rc, out, err = curl("-v", *(["https://127.0.0.1:%d/" % PORT] * 4))
    check(rc == 0 and out == b"server a\n" * 4, rc, out)
    check(err.count("Re-using existing connection") + err.count("Reusing existing") >= 3,
          err[-1500:])


def test_large_body_echo_over_tls(s):
    body = os.urandom(1 << 20)
    with TlsConn(PORT, sni="a.test", timeout=20) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: %d\r\n\r\n" % len(body))
        c.send(body)
        r = c.recv_response()
        check(r.status == 200 and r.body == body, r.status, len(r.body))
        # the connection is still usable
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        check(c.recv_response().body == b"server a\n")
    # and with curl (chunked upload)
    path = os.path.join(TMP, "big.bin")
    with open(path, "wb") as f:
        f.write(body)
    rc, out, err = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path,
                        "https://127.0.0.1:%d/echo" % PORT)
    check(rc == 0 and out == body, rc, len(out), err[-300:])


def test_connection_close_sends_close_notify(s):
    with TlsConn(PORT, sni="a.test") as c:
        c.sock.setblocking(True)
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200, r)
        # SSLSocket.recv returns b"" on close_notify; a bare FIN raises SSLEOFError when
        # ragged EOFs are not suppressed
        c.sock.suppress_ragged_eofs = False
        try:
            rest = c.sock.recv(100)
        except ssl.SSLEOFError as e:
            check(False, "no close_notify", e)
        check(rest == b"", rest)


def test_session_resumption(s):
    ctx = client_ctx(maxv=ssl.TLSVersion.TLSv1_2)
    with TlsConn(PORT, ctx=ctx, sni="a.test") as c:
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        c.recv_response()
        sess = c.sock.session
    with TlsConn(PORT, ctx=ctx, sni="a.test", session=sess) as c:
        check(c.sock.session_reused, "session not reused")
    # port3: ssl_session_cache off + ssl_session_tickets off
    with TlsConn(PORT + 2, ctx=ctx, sni="c.test") as c:
        c.send(b"GET / HTTP/1.1\r\nHost: c.test\r\n\r\n")
        check(c.recv_response().body == b"server c\n")
        sess = c.sock.session
    with TlsConn(PORT + 2, ctx=ctx, sni="c.test", session=sess) as c:
        check(not c.sock.session_reused, "session reused with cache and tickets off")


def test_tls_variables_in_access_log(s):
    with TlsConn(PORT, sni="a.test", ctx=client_ctx(maxv=ssl.TLSVersion.TLSv1_2)) as c:
        c.send(b"GET /tlsv HTTP/1.1\r\nHost: a.test\r\n\r\n")
        check(c.recv_response().status == 200)
        cipher = c.sock.cipher()[0]
    c = harness.Conn(PORT + 1)
    c.send(b"GET /plainv HTTP/1.1\r\nHost: a.test\r\n\r\n")
    check(c.recv_response().status == 200)
    c.close()
    time.sleep(0.3)
    lines = open(os.path.join(s.prefix, "logs", "tls.log")).read().splitlines()
    check("/tlsv https=on TLSv1.2 a.test %s" % cipher in lines, cipher, lines[-5:])
    check("/plainv https=- - - -" in lines, lines[-5:])


def test_renegotiation_refused(s):
    mark = len(s.error_log())
    # s_client: a line "R" renegotiates (TLS 1.2); the server refuses (SSL_OP_NO_RENEGOTIATION)
    sh = ("(sleep 0.5; printf 'R\\n'; sleep 0.5; "
          "printf 'GET / HTTP/1.1\\r\\nHost: a.test\\r\\n\\r\\n'; sleep 1) | "
          "openssl s_client -connect 127.0.0.1:%d -tls1_2 2>&1" % PORT)
    out = subprocess.run(["sh", "-c", sh], capture_output=True, timeout=20).stdout.decode("latin-1")
    check("RENEGOTIATING" in out, out[-1500:])
    check("server a" not in out and "no renegotiation" in out, out[-1500:])
    log_after(s, mark, r"\[info\].*SSL_read\(\) failed")
    rc, body, err = curl("https://127.0.0.1:%d/" % PORT)
    check(rc == 0 and body == b"server a\n", rc, body)


def test_client_gone_mid_response(s):
    import struct
    body = os.urandom(4 << 20)
    for i in range(3):
        c = TlsConn(PORT, sni="a.test", timeout=20)
        c.send(b"POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: %d\r\n\r\n" % len(body))
        c.send(body[:1 << 20])
        c.sock.recv(1000)
        # reset while the server is writing (and still expects body bytes)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sock.close()
    # a client that stops mid-handshake record and resets
    with s.connect() as c:
        c.send(b"\x16\x03\x01\x02\x00\x01")
    rc, out, err = curl("https://127.0.0.1:%d/" % PORT)
    check(rc == 0 and out == b"server a\n", rc, out, err)


def test_plain_port_serves(s):
    c = harness.Conn(PORT + 1)
    c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
    r = c.recv_response()
    check(r.status == 200 and r.body == b"server a\n", r)
    c.close()
    # TLS still fine after all the abuse above
    rc, out, err = curl("https://127.0.0.1:%d/" % PORT)
    check(rc == 0 and out == b"server a\n", rc, out, err)


def test_wrk_over_tls(s):
    import shutil
    wrk = shutil.which("wrk")
    if not wrk:
        return
    p = subprocess.run([wrk, "-t1", "-c20", "-d2s", "https://127.0.0.1:%d/" % PORT],
                       capture_output=True, text=True, timeout=30)
    m = re.search(r"(\d+) requests in", p.stdout)
    check(m and int(m.group(1)) > 1000, p.stdout)
    check("Socket errors" not in p.stdout and "Non-2xx" not in p.stdout, p.stdout)
    rc, out, err = curl("https://127.0.0.1:%d/" % PORT)
    check(rc == 0 and out == b"server a\n", rc, out, err)


def test_reload_picks_up_renewed_certificate(s):
    import signal
    conf = r'''
http { access_log off;
    server { listen 127.0.0.1:%(port)d ssl; ssl_certificate cur.crt; ssl_certificate_key cur.key;
             return 200 "ok\n"; } }
'''
    srv = harness.Server(conf, 18730, master=True,
                         files={"conf/cur.crt": A_CRT, "conf/cur.key": A_KEY})
    try:
        srv.start()
        with TlsConn(18730) as c:
            check(b"a.test" in c.sock.getpeercert(binary_form=True))
        for rel, data in (("conf/cur.crt", B_CRT), ("conf/cur.key", B_KEY)):
            with open(os.path.join(srv.prefix, rel), "wb") as f:
                f.write(data)
        srv.signal(signal.SIGHUP)
        end = time.time() + 10
        der = b""
        # while the old worker quits, a connection it accepted may be closed as idle
        # (the client retries, as browsers do); the new generation must serve the new cert
        while time.time() < end:
            try:
                with TlsConn(18730) as c:
                    der = c.sock.getpeercert(binary_form=True)
                if b"b.test" in der:
                    break
            except (OSError, ssl.SSLError):
                pass
            time.sleep(0.1)
        check(b"b.test" in der, "the renewed certificate is not served")
        time.sleep(0.3)
        for i in range(3):
            with TlsConn(18730) as c:
                check(b"b.test" in c.sock.getpeercert(binary_form=True), i)
                c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                check(c.recv_response().body == b"ok\n", i)
    finally:
        srv.stop()
        srv.cleanup()


def _t_fails(conf, files, want):
    srv = harness.Server(conf, 18710, files=files)
    try:
        p = srv.run_cli("-t", "-p", srv.prefix + "/", "-c", srv.conf_path)
        out = (p.stdout + p.stderr).decode("latin-1")
        check(p.returncode != 0, "-t succeeded", out)
        check(re.search(want, out), want, out)
    finally:
        srv.cleanup()


def test_config_errors(s):
    base = r'''
http { server { listen 127.0.0.1:18710 ssl;
%s
} }
'''
    # missing certificate file: reported at the ssl_certificate line (line 9 of the file:
    # 5 header lines + 2 blank + "http {" line)
    _t_fails(base.replace("%s", "ssl_certificate missing.crt;\nssl_certificate_key a.key;"),
             {"conf/a.key": A_KEY}, r"cannot load certificate .*missing\.crt.* in .*wasmd\.conf:9")
    _t_fails(base.replace("%s", "ssl_certificate a.crt;\nssl_certificate_key bad.key;"),
             {"conf/a.crt": A_CRT, "conf/bad.key": b"not a key\n"},
             r"cannot load certificate key .*bad\.key.* in .*wasmd\.conf:10")
    _t_fails(base.replace("%s", "ssl_certificate a.crt;\nssl_certificate_key b.key;"),
             {"conf/a.crt": A_CRT, "conf/b.key": B_KEY},
             r"does not match the certificate.* in .*wasmd\.conf:10")
    _t_fails(base.replace("%s", "server_name x;"), {},
             r"no \"ssl_certificate\" is defined .* in .*wasmd\.conf:8")
    _t_fails(base.replace("%s", "ssl_protocols TLSv9;"), {},
             r"invalid value \"TLSv9\".* in .*wasmd\.conf:9")


if __name__ == "__main__":
    import sys
    sys.exit(harness.main(CONF, globals(), port=PORT, files=FILES))
