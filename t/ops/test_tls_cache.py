"""t/ops/test_tls_cache.py -- `ssl_session_cache shared:NAME:SIZE` across 2 workers.

Each server listens with `reuseport` (the kernel spreads connections over both workers) and
answers `$pid $ssl_session_reused $ssl_protocol`, so every connection shows which worker took
it and whether its session was resumed.
  - shared cache, tickets on and off, TLS 1.2 and 1.3: one full handshake, then every
    reconnection with that session is resumed, on both workers (the proof that a worker
    resumes what the other one stored);
  - the control: `builtin` only with tickets off, a reconnection that lands on the other
    worker is NOT resumed (so the test above would fail without the shared cache);
  - `openssl s_client -reconnect` prints "Reused" for all its 5 reconnections;
  - a session stored before a reload (HUP) resumes after it, in the new workers (the zone
    and its ticket keys survive a reload);
  - configuration errors: bad zone sizes, a zone name declared with two sizes.
"""
import os
import re
import signal
import ssl
import subprocess
import tempfile

import opslib
from opslib import check
import harness

PORT = 18950
TMP = tempfile.mkdtemp(prefix="wasmd-tlsc-")


def make_cert(name):
    key = os.path.join(TMP, name + ".key")
    crt = os.path.join(TMP, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name],
                   check=True, capture_output=True, timeout=60)
    with open(crt, "rb") as f1, open(key, "rb") as f2:
        return f1.read(), f2.read()


CRT, KEY = make_cert("a.test")
FILES = {"conf/a.crt": CRT, "conf/a.key": KEY}

SERVER = """
    server {
        listen 127.0.0.1:%(port)s ssl reuseport;
        server_name a.test;
        ssl_certificate a.crt;
        ssl_certificate_key a.key;
        %(cache)s
        location / { return 200 "$pid $ssl_session_reused $ssl_protocol\\n"; }
    }
"""


def conf(*servers):
    return "http {\n    access_log off;\n%s}\n" % "".join(SERVER % s for s in servers)


def client_ctx(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


def ask(port, ctx, session=None):
    """One TLS connection with one request -> (worker pid, reused, protocol, session)."""
    with harness.Conn(port, 5.0) as c:
        c.sock = ctx.wrap_socket(c.sock, server_hostname="a.test", session=session)
        c.send(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        r = c.recv_response()
        check(r.status == 200, r)
        pid, reused, proto = r.body.decode().split()
        check((reused == "r") == c.sock.session_reused, "client and server disagree", r.body)
        # TLS 1.3: the tickets came after the handshake; take the session now
        return int(pid), reused == "r", proto, c.sock.session


def resumption_round(port, version, n=24):
    """A full handshake, then n reconnections offering its session:
    -> (first pid, [(pid, reused)])"""
    ctx = client_ctx(version)
    pid0, reused, proto, sess = ask(port, ctx)
    check(not reused, "the first connection cannot be resumed")
    check(proto == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version],
          proto)
    out = []
    for _ in range(n):
        pid, reused, _, _ = ask(port, ctx, session=sess)
        out.append((pid, reused))
    return pid0, out


def start(cfg, port):
    s = opslib.server(cfg, port, workers=2, files=FILES)
    s.start()
    opslib.wait_workers(s, 2)
    return s


def check_all_resumed(s, port, label):
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        pid0, out = resumption_round(port, version)
        workers = set(opslib.children(s.proc.pid))
        pids = {p for p, _ in out}
        check(pids <= workers | {pid0}, "pids %r not workers %r" % (pids, workers))
        check(len(pids | {pid0}) == 2, "%s %s: all connections went to one worker: %r"
              % (label, version, out))
        other = [r for p, r in out if p != pid0]
        check(other, "%s %s: no reconnection reached the other worker" % (label, version))
        check(all(r for _, r in out), "%s %s: not every reconnection was resumed: %r"
              % (label, version, out))


def test_shared_cache_resumes_on_every_worker():
    s = start(conf({"port": PORT, "cache": "ssl_session_cache shared:SSL:10m;"},
                   {"port": PORT + 1, "cache": "ssl_session_cache shared:SSL:10m; "
                                               "ssl_session_tickets off;"}), PORT)
    try:
        check_all_resumed(s, PORT, "tickets on")
        check_all_resumed(s, PORT + 1, "tickets off")
        check(not opslib.log_problems(s), opslib.log_problems(s))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_builtin_only_does_not_cross_workers():
    # the control: per-worker caches and no tickets -> the other worker cannot resume
    s = start(conf({"port": PORT + 2, "cache": "ssl_session_cache builtin:1000; "
                                               "ssl_session_tickets off;"}), PORT + 2)
    try:
        pid0, out = resumption_round(PORT + 2, ssl.TLSVersion.TLSv1_2)
        other = [r for p, r in out if p != pid0]
        same = [r for p, r in out if p == pid0]
        check(other and same, "connections not spread over both workers: %r" % out)
        check(not any(other), "resumed on the other worker without a shared cache: %r" % out)
        check(all(same), "builtin cache did not resume on the same worker: %r" % out)
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def s_client(port, *args):
    req = b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "a.test"] + list(args),
                       input=req, capture_output=True, timeout=60)
    return p.stdout.decode("latin-1") + p.stderr.decode("latin-1")


def test_s_client_reconnect_reused():
    s = start(conf({"port": PORT + 3, "cache": "ssl_session_cache shared:SSL:10m;"},
                   {"port": PORT + 4, "cache": "ssl_session_cache shared:SSL:10m; "
                                               "ssl_session_tickets off;"}), PORT + 3)
    try:
        workers = set(opslib.children(s.proc.pid))
        for port in (PORT + 3, PORT + 4):
            # -reconnect: 5 reconnections in one run (TLS 1.2: s_client 3.0 reconnects before
            # a TLS 1.3 ticket could arrive, so it cannot resume 1.3 this way)
            out = s_client(port, "-tls1_2", "-reconnect")
            new = re.findall(r"^New, ", out, re.M)
            reused = re.findall(r"^Reused, ", out, re.M)
            check(len(new) == 1 and len(reused) == 5,
                  "port %d -reconnect: %d New, %d Reused\n%s" % (port, len(new), len(reused),
                                                                 out[-3000:]))
            # -sess_out / -sess_in, TLS 1.2 and 1.3, each run answered with the worker's pid
            for proto in ("-tls1_2", "-tls1_3"):
                sess = os.path.join(TMP, "sess-%d%s" % (port, proto))
                out = s_client(port, proto, "-ign_eof", "-sess_out", sess)
                check(re.search(r"^New, ", out, re.M) and os.path.getsize(sess) > 0, out[-3000:])
                pids = set()
                for i in range(24):
                    if i >= 4 and pids == workers:
                        break
                    out = s_client(port, proto, "-ign_eof", "-sess_in", sess)
                    m = re.search(r"^(\d+) (r|\.) TLSv1\.[23]$", out, re.M)
                    check(m is not None, out[-3000:])
                    check(re.search(r"^Reused, ", out, re.M) and m.group(2) == "r",
                          "port %d %s run %d not reused:\n%s" % (port, proto, i, out[-3000:]))
                    pids.add(int(m.group(1)))
                check(pids == workers, "port %d %s: answered by %r, workers %r"
                      % (port, proto, pids, workers))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_sessions_survive_reload():
    s = start(conf({"port": PORT + 5, "cache": "ssl_session_cache shared:SSL:1m; "
                                               "ssl_session_tickets off;"},
                   {"port": PORT + 6, "cache": "ssl_session_cache shared:SSL:1m;"}), PORT + 5)
    try:
        sessions = {}
        for port in (PORT + 5, PORT + 6):
            for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                ctx = client_ctx(v)
                _, reused, _, sess = ask(port, ctx)
                check(not reused)
                sessions[(port, v)] = (ctx, sess)
        old = set(opslib.children(s.proc.pid))
        s.proc.send_signal(signal.SIGHUP)
        check(opslib.wait_for(lambda: "configuration reloaded" in s.error_log(), 10), "no reload")
        check(opslib.wait_for(lambda: not (set(opslib.children(s.proc.pid)) & old), 15),
              "old workers still running")
        new = set(opslib.children(s.proc.pid))
        for (port, v), (ctx, sess) in sessions.items():
            pid, reused, _, _ = ask(port, ctx, session=sess)
            check(pid in new, "answered by %d, not a new worker %r" % (pid, new))
            check(reused, "port %d %s: session from before the reload not resumed" % (port, v))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_config_errors():
    cases = [
        ("ssl_session_cache shared:SSL:1k;", "is too small"),
        ("ssl_session_cache shared:SSL;", 'invalid value "shared:SSL"'),
        ("ssl_session_cache shared::1m;", 'invalid value "shared::1m"'),
        ("ssl_session_cache shared:SSL:abc;", 'invalid value "shared:SSL:abc"'),
        ("ssl_session_cache none builtin;", 'invalid value "none"'),
        ("ssl_session_cache builtin:0;", 'invalid value "builtin:0"'),
        ("ssl_session_cache bogus;", 'invalid value "bogus"'),
    ]
    for cache, want in cases:
        s = opslib.server(conf({"port": PORT + 7, "cache": cache}), PORT + 7, files=FILES)
        try:
            r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
            check(r.returncode == 1 and want.encode() in r.stderr,
                  "%s -> %r" % (cache, r.stderr))
            check(re.search(rb"wasmd\.conf:\d+", r.stderr), r.stderr)
        finally:
            s.cleanup()
    # one name, two sizes
    s = opslib.server(conf({"port": PORT + 7, "cache": "ssl_session_cache shared:Z:1m;"},
                           {"port": PORT + 8, "cache": "ssl_session_cache shared:Z:2m;"}),
                      PORT + 7, files=FILES)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        check(r.returncode == 1 and b'conflicts with already declared size' in r.stderr,
              r.stderr)
    finally:
        s.cleanup()
    # the same zone in two servers, with builtin too, and a timeout: fine
    s = opslib.server(conf({"port": PORT + 7, "cache": "ssl_session_cache builtin:100 "
                                                       "shared:Z:1m; ssl_session_timeout 1h;"},
                           {"port": PORT + 8, "cache": "ssl_session_cache shared:Z:1m;"}),
                      PORT + 7, files=FILES)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        check(r.returncode == 0, r.stderr)
    finally:
        s.cleanup()


if __name__ == "__main__":
    raise SystemExit(opslib.main(globals()))
