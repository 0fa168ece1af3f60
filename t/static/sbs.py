"""t/static/sbs.py -- side by side with nginx: a document tree under /tmp (readable by an
unprivileged worker), the same configuration body for wasmd and for Debian's nginx, and
comparisons of status, the headers that matter and bodies.

    tree = Tree()                       # mktemp -d under /tmp, mode 755
    tree.write("www/a.txt", b"...")     # files; tree.path("www") -> absolute path
    pair = Pair(conf_body, port, tree)  # conf_body: the http{} contents (%(root)s, %(port)d)
    pair.start(); pair.stop()
    a, b = pair.both(raw_request)       # wasmd response, nginx response (None without nginx)
    same(a, b, "Content-Type", ...)     # status + those headers + body must agree
"""
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import harness                                  # noqa: E402
from harness import check, CheckError, Conn      # noqa: E402,F401


def nginx_bin():
    for p in ("/usr/sbin/nginx", shutil.which("nginx") or ""):
        if p and os.access(p, os.X_OK):
            return p
    return None


class Tree:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wasmd-static-")
        os.chmod(self.dir, 0o755)

    def path(self, rel=""):
        return os.path.join(self.dir, rel)

    def write(self, rel, data, mtime=None, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        d = os.path.dirname(p)
        while d.startswith(self.dir):
            os.chmod(d, 0o755)
            if d == self.dir:
                break
            d = os.path.dirname(d)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(p, mode)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
        return p

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class NginxServer:
    def __init__(self, conf_body, port, vars):
        self.port = port
        self.prefix = tempfile.mkdtemp(prefix="wasmd-t-nginx-")
        os.chmod(self.prefix, 0o755)
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(self.prefix, d))
        body = conf_body % dict(vars, port=port, wasmd_only="")
        tmp = os.path.join(self.prefix, "tmp")
        conf = ("daemon off;\nmaster_process off;\nworker_processes 1;\n"
                "error_log %s/logs/error.log info;\npid %s/logs/nginx.pid;\n"
                "events { worker_connections 256; }\n"
                "http {\n client_body_temp_path %s/b;\n proxy_temp_path %s/p;\n"
                " fastcgi_temp_path %s/f;\n uwsgi_temp_path %s/u;\n scgi_temp_path %s/s;\n"
                " access_log off;\n%s\n}\n" % (self.prefix, self.prefix, tmp, tmp, tmp, tmp,
                                                tmp, body))
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([nginx_bin(), "-p", self.prefix + "/", "-c", self.conf,
                                      "-e", self.prefix + "/logs/error.log"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.time() + 10
        while time.time() < end:
            if self.proc.poll() is not None:
                raise CheckError("nginx exited: %s" % self.proc.stderr.read()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise CheckError("nginx did not listen on %d" % self.port)

    def request(self, raw, head=False):
        with Conn(self.port) as c:
            c.send(raw)
            return c.recv_response(head=head)

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)


class Pair:
    """wasmd (harness.Server, port) and nginx (port + 50) with the same http{} body."""

    def __init__(self, conf_body, port, tree, wasmd_extra="", vars=None):
        self.vars = {"root": tree.path("www"), "tree": tree.dir, "wasmd_only": "",
                     "handlers": os.path.join(harness.ROOT, "objs", "handlers")}
        self.vars.update(vars or {})
        text = ("http {\n" + conf_body + "\n}\n") % dict(self.vars, wasmd_only=wasmd_extra,
                                                          port=port)
        self.wasmd = harness.Server(text.replace("%", "%%"), port)
        self.nginx = NginxServer(conf_body, port + 50, self.vars) if nginx_bin() else None

    def start(self):
        self.wasmd.start()
        if self.nginx:
            self.nginx.start()

    def stop(self):
        try:
            self.wasmd.stop()
        finally:
            if self.nginx:
                self.nginx.stop()
            self.wasmd.cleanup()

    def both(self, raw, head=False):
        a = self.wasmd.request(raw, head=head)
        b = self.nginx.request(raw, head=head) if self.nginx else None
        return a, b


def norm_location(v):
    return re.sub(r"^http://[^/]*", "http://HOST", v) if v else v


def norm_body(r):
    body = r.body
    ct = r.header("Content-Type") or ""
    m = re.match(r"multipart/byteranges; boundary=(\S+)", ct)
    if m:
        body = body.replace(m.group(1).encode(), b"BOUNDARY")
    if (r.header("Content-Encoding") or "") == "gzip" and body:
        body = gzip.decompress(body)
    return body


def same(a, b, *headers, body=True, what=""):
    """a: wasmd, b: nginx (None: nginx absent -> only a's sanity is checked)."""
    check(a is not None, "no wasmd response", what)
    if b is None:
        return
    check(a.status == b.status, what, "status wasmd %d nginx %d" % (a.status, b.status), a, b)
    for h in headers:
        va, vb = a.header(h), b.header(h)
        if h.lower() == "location":
            va, vb = norm_location(va), norm_location(vb)
        if h.lower() == "content-type" and va and vb and va.startswith("multipart/"):
            va, vb = va.split(";")[0], vb.split(";")[0]
        if h.lower() == "content-length" and va and vb and a.header("Content-Type", ) and \
                (a.header("Content-Type") or "").startswith("multipart/"):
            # boundaries differ in length (nginx: 20 digits on 64-bit, wasmd: 10)
            continue
        check(va == vb, what, "header %s: wasmd %r nginx %r" % (h, va, vb))
    if body and a.status < 300 or body is True and a.status == 206:
        check(norm_body(a) == norm_body(b), what, "bodies differ", a.body[:300], b.body[:300])
