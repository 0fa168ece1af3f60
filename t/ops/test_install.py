"""t/ops/test_install.py -- ./configure paths, `make install`, the systemd unit, logrotate.

The source tree is copied to a temporary directory (with the objects of the plain build, so
only wd_main.c is compiled again) and configured there with --prefix=$TMP/p, so the tree's
own objs/config.mk is never touched and nothing is installed outside $TMP.
  - `make install DESTDIR=$TMP/stage`, then the staged tree is deployed to $TMP/p and its
    binary, started from / with no -c and no -p, serves the installed default config;
  - a second `make install` keeps a modified wasmd.conf and refreshes wasmd.conf.default;
  - --conf-path/--pid-path/--error-log-path/--http-log-path outside the prefix are used;
  - `systemd-analyze verify` accepts the installed unit, and its ExecStartPre, ExecStart,
    ExecReload and ExecStop command lines, run in that order, start the server in the
    background, reload it and stop it gracefully (an in-flight request completes);
  - `logrotate -f` with the installed logrotate file, three times while wrk runs against
    2 workers: the access-log lines and the error-log lines (one per request) counted over
    the rotated and the new files equal the requests the server answered (its own counter),
    which wrk's count agrees with.
"""
import glob
import gzip
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import harness
import opslib
from opslib import check

ROOT = opslib.ROOT
PORT = 18960
# the copy is the plain build whatever variant runs the suite (make test passes SANITIZE and B)
ENV = dict(os.environ, LC_ALL="C")
for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SANITIZE", "SWITCH", "B", "OPT",
          "EXTRA_CFLAGS", "EXTRA_LDFLAGS", "CC"):
    ENV.pop(k, None)

STATE = {}


def sh(cmd, cwd=None, timeout=600, ok=True):
    p = subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), capture_output=True,
                       text=True, timeout=timeout, env=ENV)
    if ok:
        check(p.returncode == 0, "%s failed (%d):\n%s%s" % (cmd, p.returncode, p.stdout[-3000:],
                                                            p.stderr[-3000:]))
    return p


def copy_tree():
    """$TMP/src: the sources and the plain build's objects (mtimes kept)."""
    tmp = tempfile.mkdtemp(prefix="wasmd-inst-")
    os.chmod(tmp, 0o755)       # like /usr/local: unprivileged workers reopen logs by name
    src = os.path.join(tmp, "src")
    ign = shutil.ignore_patterns(".git", "objs", "__pycache__")
    shutil.copytree(ROOT, src, ignore=ign, symlinks=True)
    objs = os.path.join(ROOT, "objs")
    os.makedirs(os.path.join(src, "objs"))
    for name in ("src", "modules", "llhttp", "handlers", "libwdwasm.a", "wd_modules_gen.h"):
        p = os.path.join(objs, name)
        if os.path.isdir(p):
            shutil.copytree(p, os.path.join(src, "objs", name), symlinks=True)
        elif os.path.exists(p):
            shutil.copy2(p, os.path.join(src, "objs", name))
    return tmp, src


def setup():
    """Copies, configures with --prefix=$TMP/p, builds and stages the install (once)."""
    if STATE:
        return STATE
    tmp, src = copy_tree()
    prefix = os.path.join(tmp, "p")
    stage = os.path.join(tmp, "stage")
    # the default prefix first (nothing is installed with it)
    sh(["./configure", "--no-install"], cwd=src)
    with open(os.path.join(src, "objs", "config.mk")) as f:
        check("WD_PREFIX_DIR = /usr/local/wasmd\n" in f.read(), "default prefix")
    p = sh(["make", "-n", "install", "DESTDIR=/nowhere"], cwd=src)
    check("/nowhere/usr/local/wasmd/sbin/wasmd" in p.stdout, p.stdout[-2000:])
    sh(["./configure", "--no-install", "--prefix=" + prefix], cwd=src)
    sh(["make", "-j2", "all", "handlers"], cwd=src)
    sh(["make", "install", "DESTDIR=" + stage], cwd=src)
    STATE.update(tmp=tmp, src=src, prefix=prefix, stage=stage,
                 staged=stage + prefix, sbin=os.path.join(prefix, "sbin", "wasmd"))
    return STATE


def deploy(st, port, extra_main="", extra_server="", workers=2):
    """Copies the staged install to $TMP/p (like a package) with the test's port."""
    if os.path.exists(st["prefix"]):
        shutil.rmtree(st["prefix"])
    shutil.copytree(st["staged"], st["prefix"], symlinks=True)
    conf = os.path.join(st["prefix"], "conf", "wasmd.conf")
    with open(conf) as f:
        text = f.read()
    text = text.replace("worker_processes  auto;", "worker_processes  %d;\n%s" % (workers, extra_main))
    text = text.replace("listen       8080 default_server;",
                        "listen       127.0.0.1:%d default_server;\n%s" % (port, extra_server))
    with open(conf, "w") as f:
        f.write(text)
    return conf


def http_get(port, path, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, body


def wait_port(port, timeout=15):
    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    check(opslib.wait_for(up, timeout), "port %d never opened" % port)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def read_pid(path, timeout=10):
    """The pid in path once it is there and complete (the master writes it after open)."""
    def get():
        try:
            with open(path) as f:
                text = f.read()
            return int(text) if text.endswith("\n") else None
        except (OSError, ValueError):
            return None
    pid = opslib.wait_for(get, timeout)
    check(pid, "no pid in %s" % path)
    return pid


def stop_pidfile(path):
    try:
        pid = read_pid(path, timeout=3)
    except harness.CheckError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    opslib.wait_for(lambda: not pid_alive(pid), 10)


def reap():
    """The daemonized masters are re-parented to us (child subreaper): reap them."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def reaper(pid):
    """Reaps the daemonized master (our child as subreaper) the moment it exits, as
    systemd (PID 1) would: a zombie would look alive to start-stop-daemon."""
    def run():
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def set_subreaper():
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)          # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


# ---------------------------------------------------------------------------------------

def test_install_layout_and_serve():
    st = setup()
    staged = st["staged"]
    for rel in ("sbin/wasmd", "conf/wasmd.conf", "conf/wasmd.conf.default",
                "share/wasmd/handlers/hello.wasm", "share/wasmd/handlers/cgi.wasm",
                "share/wasmd/include/wasmd.h", "share/wasmd/examples/hello.c",
                "share/wasmd/wasmd.service", "share/wasmd/wasmd.logrotate"):
        check(os.path.isfile(os.path.join(staged, rel)), "not installed: " + rel)
    check(os.path.isdir(os.path.join(staged, "logs")), "logs/ not created")
    check(os.access(os.path.join(staged, "sbin/wasmd"), os.X_OK))
    # nothing leaked outside DESTDIR: the stage holds only the prefix
    check(sorted(os.listdir(st["stage"])) == [st["tmp"].split("/")[1]], os.listdir(st["stage"]))
    unit = open(os.path.join(staged, "share/wasmd/wasmd.service")).read()
    check("PIDFile=%s/logs/wasmd.pid\n" % st["prefix"] in unit, unit)
    check("ExecStart=%s -g" % st["sbin"] in unit, unit)
    check(re.search(r"@[A-Z_]+@", unit) is None, "unsubstituted: " + unit)
    lr = open(os.path.join(staged, "share/wasmd/wasmd.logrotate")).read()
    check("%s/logs/access.log %s/logs/error.log {" % (st["prefix"], st["prefix"]) in lr, lr)

    # -V prints the configure paths
    v = sh([os.path.join(staged, "sbin/wasmd"), "-V"]).stderr
    check("configure arguments: --prefix=%s\n" % st["prefix"] in v, v)
    for want in ("--prefix=%s/" % st["prefix"], "--sbin-path=%s" % st["sbin"],
                 "--conf-path=conf/wasmd.conf", "--error-log-path=logs/error.log",
                 "--pid-path=logs/wasmd.pid", "--http-log-path=logs/access.log"):
        check(want in v, "-V lacks %s:\n%s" % (want, v))

    # deployed, run from / with no -c / -p: finds its configuration, handlers, logs
    deploy(st, PORT)
    proc = subprocess.Popen([st["sbin"]], cwd="/", stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_port(PORT)
        check(http_get(PORT, "/healthz") == (200, b"ok\n"))
        st_, body = http_get(PORT, "/hello")
        check(st_ == 200 and body.startswith(b"Hello"), (st_, body))
        check(http_get(PORT, "/api/sum?a=1&b=2")[0] == 200)
        pidf = os.path.join(st["prefix"], "logs", "wasmd.pid")
        check(open(pidf).read().strip() == str(proc.pid), "pid file")
        check(opslib.wait_for(lambda: os.path.exists(os.path.join(st["prefix"], "logs", "access.log"))
                              and "GET /hello" in open(os.path.join(st["prefix"], "logs",
                                                                    "access.log")).read(), 5),
              "access log in the prefix")
        check("start worker process" in open(os.path.join(st["prefix"], "logs", "error.log")).read())
    finally:
        proc.send_signal(signal.SIGQUIT)
        out, _ = proc.communicate(timeout=20)
    check(proc.returncode == 0, out)


def test_reinstall_keeps_modified_conf():
    st = setup()
    conf = os.path.join(st["staged"], "conf", "wasmd.conf")
    default = conf + ".default"
    with open(conf, "a") as f:
        f.write("# changed by the admin\n")
    os.unlink(default)
    sh(["make", "install", "DESTDIR=" + st["stage"]], cwd=st["src"])
    check(open(conf).read().endswith("# changed by the admin\n"), "wasmd.conf overwritten")
    check(os.path.isfile(default), "wasmd.conf.default not refreshed")
    check(open(default).read() == open(os.path.join(st["src"], "objs/install/wasmd.conf")).read())
    check("share/wasmd/handlers/hello.wasm" in open(default).read())


def test_paths_outside_prefix():
    st = setup()
    tmp = tempfile.mkdtemp(prefix="wasmd-paths-")
    prefix = os.path.join(tmp, "opt")
    paths = {"--conf-path": os.path.join(tmp, "etc/wasmd/main.conf"),
             "--pid-path": os.path.join(tmp, "run/wasmd.pid"),
             "--error-log-path": os.path.join(tmp, "log/wasmd/error.log"),
             "--http-log-path": os.path.join(tmp, "log/wasmd/access.log"),
             "--sbin-path": os.path.join(tmp, "bin/wasmd")}
    args = ["--prefix=" + prefix] + ["%s=%s" % kv for kv in sorted(paths.items())]
    try:
        sh(["./configure", "--no-install"] + args, cwd=st["src"])
        sh(["make", "-j2", "all"], cwd=st["src"])
        sh(["make", "install"], cwd=st["src"])     # no DESTDIR: everything is under $TMP
        v = sh([paths["--sbin-path"], "-V"]).stderr
        for k, val in paths.items():
            check("%s=%s" % (k, val) in v, "-V lacks %s=%s:\n%s" % (k, val, v))
        conf = paths["--conf-path"]
        check(os.path.isfile(conf) and os.path.isfile(conf + ".default"), "conf not installed")
        text = open(conf).read()
        check("pid        %s;" % paths["--pid-path"] in text, text)
        check("error_log  %s notice;" % paths["--error-log-path"] in text, text)
        # no error_log/pid/access_log in the conf: the configured defaults are used
        text = re.sub(r"(?m)^(error_log|pid) .*$", "", text)
        text = text.replace("listen       8080 default_server;",
                            "listen       127.0.0.1:%d;" % (PORT + 1))
        text = text.replace("worker_processes  auto;", "worker_processes  1;")
        with open(conf, "w") as f:
            f.write(text)
        sh([paths["--sbin-path"], "-t", "-q"], cwd="/")
        proc = subprocess.Popen([paths["--sbin-path"]], cwd="/", stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            wait_port(PORT + 1)
            check(http_get(PORT + 1, "/hello")[0] == 200)
            check(opslib.wait_for(lambda: os.path.exists(paths["--http-log-path"]) and
                                  "GET /hello" in open(paths["--http-log-path"]).read(), 5),
                  "access log not at --http-log-path")
            check(open(paths["--pid-path"]).read().strip() == str(proc.pid))
            check(os.path.isfile(paths["--error-log-path"]), "no error log at --error-log-path")
        finally:
            proc.send_signal(signal.SIGQUIT)
            proc.communicate(timeout=20)
        check(not os.path.exists(paths["--pid-path"]), "pid file left behind")
    finally:
        # back to the state the other tests expect
        sh(["./configure", "--no-install", "--prefix=" + st["prefix"]], cwd=st["src"])
        sh(["make", "-j2", "all"], cwd=st["src"])
        shutil.rmtree(tmp, ignore_errors=True)


def test_configure_refuses_modules_path():
    st = setup()
    p = sh(["./configure", "--no-install", "--modules-path=/x"], cwd=st["src"], ok=False)
    check(p.returncode != 0 and "no loadable modules" in p.stderr, p.stderr)
    p = sh(["./configure", "--no-install", "--prefix=relative"], cwd=st["src"], ok=False)
    check(p.returncode != 0 and "absolute" in p.stderr, p.stderr)
    sh(["./configure", "--no-install", "--prefix=" + st["prefix"]], cwd=st["src"])


def unit_lines(path):
    """{key: [command line, ...]} of the [Service] section."""
    out = {}
    section = None
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def run_unit_cmd(cmd, timeout=60):
    ignore = cmd.startswith("-")
    argv = shlex.split(cmd.lstrip("-@:+!"))
    p = subprocess.run(argv, cwd="/", capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return p, ignore


def test_systemd_unit():
    st = setup()
    check(shutil.which("systemd-analyze") is not None,
          "systemd-analyze missing (./configure installs Debian's systemd package)")
    conf = deploy(st, PORT + 2,
                  extra_server="        location /slow { echo_sleep 1500ms; }\n")
    unit = os.path.join(st["prefix"], "share", "wasmd", "wasmd.service")
    p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0 and p.stdout.strip() == "" and p.stderr.strip() == "",
          "systemd-analyze verify: rc %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    u = unit_lines(unit)
    check(u.get("Type") == ["forking"], u.get("Type"))
    pidf = os.path.join(st["prefix"], "logs", "wasmd.pid")
    check(u.get("PIDFile") == [pidf], u.get("PIDFile"))
    for k in ("ExecStartPre", "ExecStart", "ExecReload", "ExecStop"):
        check(len(u.get(k, [])) == 1, "%s: %r" % (k, u.get(k)))

    set_subreaper()
    try:
        # ExecStartPre: the configuration test, quiet
        r, _ = run_unit_cmd(u["ExecStartPre"][0])
        check(r.returncode == 0 and r.stdout == "" and r.stderr == "", r)
        # a broken configuration fails ExecStartPre (so systemd never starts it)
        good = open(conf).read()
        with open(conf, "w") as f:
            f.write(good.replace("events {", "bogus_directive;\nevents {"))
        r, _ = run_unit_cmd(u["ExecStartPre"][0])
        check(r.returncode != 0 and "bogus_directive" in r.stderr, r)
        with open(conf, "w") as f:
            f.write(good)
        # ExecStart: returns once the master is in the background (Type=forking)
        r, _ = run_unit_cmd(u["ExecStart"][0], timeout=30)
        check(r.returncode == 0, r)
        master = read_pid(pidf)
        check(pid_alive(master), "master not running")
        reaper(master)
        wait_port(PORT + 2)
        check(http_get(PORT + 2, "/healthz") == (200, b"ok\n"))
        # ExecReload: the new configuration is served, same master
        with open(conf, "w") as f:
            f.write(good.replace('return 200 "ok\\n";', 'return 200 "reloaded\\n";'))
        r, _ = run_unit_cmd(u["ExecReload"][0])
        check(r.returncode == 0, r)
        check(opslib.wait_for(lambda: http_get(PORT + 2, "/healthz")[1] == b"reloaded\n", 10),
              "reload not applied")
        check(read_pid(pidf) == master)
        # ExecStop: graceful -- a request in flight completes; returns once the master is gone
        s = socket.create_connection(("127.0.0.1", PORT + 2), timeout=10)
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)
        t0 = time.time()
        r, ignore = run_unit_cmd(u["ExecStop"][0], timeout=60)
        check(ignore or r.returncode == 0, r)
        check(r.returncode == 0, "ExecStop: %r" % (r,))
        check(not pid_alive(master), "master still running after ExecStop")
        check(time.time() - t0 < 20, "stop took %.1fs" % (time.time() - t0))
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        check(data.startswith(b"HTTP/1.1 200") and data.endswith(b"slept\n"),
              "in-flight request: %r" % data[:200])
        check(not os.path.exists(pidf), "pid file left after stop")
        err = open(os.path.join(st["prefix"], "logs", "error.log")).read()
        check("gracefully shutting down" in err, err[-2000:])
    finally:
        stop_pidfile(pidf)
        reap()


LUA_COUNT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0 end
function response(status, headers, body) n = n + 1 end
"""


def count_lines(pattern, needle):
    n = 0
    for path in glob.glob(pattern):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", errors="replace") as f:
            for line in f:
                if needle in line:
                    n += 1
    return n


def test_logrotate_under_load():
    st = setup()
    lr_bin = shutil.which("logrotate") or ("/usr/sbin/logrotate"
                                           if os.path.exists("/usr/sbin/logrotate") else None)
    check(lr_bin is not None, "logrotate missing (./configure installs Debian's logrotate)")
    port = PORT + 3
    spin = os.path.join(ROOT, "objs", "handlers", "test-loop.wasm")
    check(os.path.exists(spin), "missing %s (make handlers)" % spin)
    # /spin: every request runs out of fuel -> 500 and exactly one error-log line
    deploy(st, port, extra_server=(
        "        location = /spin { wasm_handler %s; wasm_fuel 20000; }\n"
        "        location = /metrics { wasm_status; access_log off; }\n" % spin))
    unit = unit_lines(os.path.join(st["prefix"], "share", "wasmd", "wasmd.service"))
    logs = os.path.join(st["prefix"], "logs")
    pidf = os.path.join(logs, "wasmd.pid")
    lrconf = os.path.join(st["prefix"], "share", "wasmd", "wasmd.logrotate")
    state = os.path.join(st["tmp"], "logrotate.state")
    set_subreaper()
    try:
        r, _ = run_unit_cmd(unit["ExecStart"][0], timeout=30)
        check(r.returncode == 0, r)
        reaper(read_pid(pidf))
        wait_port(port)
        check(http_get(port, "/spin")[0] == 500)
        err = open(os.path.join(logs, "error.log")).read()
        per_req = len(re.findall(r"wasm /spin \(.*\): .*fuel", err))
        check(per_req == 1, "expected one error line for one /spin request:\n" + err[-2000:])
        wrk = opslib.Wrk("http://127.0.0.1:%d/spin" % port, duration=5 * opslib.SLOW,
                         conns=16, lua=LUA_COUNT)
        time.sleep(1)
        rotations = 0
        for _ in range(3):
            p = subprocess.run([lr_bin, "-f", "-s", state, lrconf], capture_output=True,
                               text=True, timeout=60)
            check(p.returncode == 0, "logrotate: %s%s" % (p.stdout, p.stderr))
            rotations += 1
            time.sleep(1.0 * opslib.SLOW)
        res = wrk.result()
        check(res["requests"] > 100, res["out"])
        check(res["socket_errors"] == 0, res["out"])
        time.sleep(0.5)
        # the server's own count of /spin answers (shared across workers)
        _, body = http_get(port, "/metrics")
        m = re.search(rb'wasmd_requests_total\{route="/spin",code="500",class="5xx"\} (\d+)', body)
        check(m is not None, body[:2000])
        served = int(m.group(1))
        files = sorted(glob.glob(os.path.join(logs, "access.log*")))
        check(len(files) >= 3, "rotations did not happen: %r\n%s" % (
            files, "".join("".join(l for l in open(f, errors="replace") if "wasm /spin" not in l)[-2500:]
                           for f in sorted(glob.glob(os.path.join(logs, "error.log*")))
                           if not f.endswith(".gz"))))
        acc = count_lines(os.path.join(logs, "access.log*"), '"GET /spin HTTP/1.1" 500')
        errs = count_lines(os.path.join(logs, "error.log*"), "wasm /spin (")
        reopened = count_lines(os.path.join(logs, "error.log*"), "reopening logs")
        check(reopened >= 3 * 3, "reopen notices (master + 2 workers per rotation): %d" % reopened)
        # every worker wrote to the new files after each rotation: none is empty
        for path in files:
            check(count_lines(path, "GET /spin") > 0, "no lines in %s (%r)" % (path, files))
        check(acc == served, "access-log lines %d != requests served %d (files %r)"
              % (acc, served, files))
        check(errs == served, "error-log lines %d != requests served %d" % (errs, served))
        # wrk counts the answers it read; the ones in flight when it stopped (a few per
        # connection at most, 16 connections) are served and logged too
        check(served - 64 <= res["requests"] <= served,
              "wrk %d vs served %d" % (res["requests"], served))
        r, _ = run_unit_cmd(unit["ExecStop"][0], timeout=60)
        check(r.returncode == 0, r)
    finally:
        stop_pidfile(pidf)
        reap()


if __name__ == "__main__":
    try:
        rc = opslib.main(globals(), per_test_timeout=300)
    finally:
        if STATE:
            shutil.rmtree(STATE["tmp"], ignore_errors=True)
    raise SystemExit(rc)
