"""t/ops/test_sandbox.py -- workers are unprivileged, capability-free, seccomp- and
Landlock-confined (ports 18970-18979).

Started as root: workers run as nobody (nginx's default) or the `user` directive's user and
group, with no capabilities (effective, permitted, inheritable, ambient, bounding), NoNewPrivs,
seccomp filter mode, not dumpable (their /proc files belong to root), RLIMIT_CORE 0 unless
worker_rlimit_core; `-s reopen` and reloads keep working with unprivileged workers. A start as
a plain user keeps that user and still confines. The hooks build ($B/t/ops/wasmd-hooks, never
the shipped binary) makes a confined worker try forbidden things on SIGUSR2: each is refused or
kills the worker (logged by it and by the master, which respawns it) while the other worker
serves on; the same probes succeed with the sandbox switched off, so the checks can fail.
`wasmd run` confines itself too (--no-sandbox opts out)."""
import os
import pwd
import grp
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import opslib
import harness  # noqa: E402 (opslib puts t/http on the path)
from opslib import check, get, wait_for, wait_workers, children, log_problems

BIN = harness.WASMD_BIN
HOOKS = os.path.join(os.path.dirname(BIN), "t", "ops", "wasmd-hooks")
ROOT_RUN = os.geteuid() == 0

CONF = """
http {
    access_log logs/access.log;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\\n"; }
        location /hello { wasm_handler """ + opslib.HANDLERS + """/hello.wasm; }
        location /cgi { wasm_handler """ + opslib.HANDLERS + """/cgi.wasm; }
    }
}
"""


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4]
    return None


def wait_confined(pid):
    """The port answers before a worker has finished its start-up: wait for the filter."""
    return wait_for(lambda: status(pid)["Seccomp"] == "2")


def check_confined(pid, uid, gid, bounding_dropped=True):
    wait_confined(pid)
    st = status(pid)
    check(st["Uid"].split() == [str(uid)] * 4, "worker uid", pid, st["Uid"], uid)
    check(st["Gid"].split() == [str(gid)] * 4, "worker gid", pid, st["Gid"], gid)
    for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        check(int(st[cap], 16) == 0, cap, st[cap])
    if bounding_dropped:
        check(int(st["CapBnd"], 16) == 0, "CapBnd", st["CapBnd"])
    check(st["NoNewPrivs"] == "1", "NoNewPrivs", st["NoNewPrivs"])
    check(st["Seccomp"] == "2", "Seccomp (2 = filter)", st["Seccomp"])
    # a non-dumpable process's /proc entries belong to root whatever its uid
    check(os.stat("/proc/%d/status" % pid).st_uid == 0, "worker is dumpable")
    check(core_limit(pid) == "0", "RLIMIT_CORE", core_limit(pid))


def serve_all(s):
    check(get(s, "/").body == b"ok\n")
    r = get(s, "/hello")
    check(r.status == 200 and b"Hello" in r.body, r)
    r = get(s, "/cgi")
    check(r.status == 200, r)


def test_root_start_workers_run_as_nobody():
    if not ROOT_RUN:
        return
    nobody = pwd.getpwnam("nobody")
    gid = grp.getgrnam("nogroup").gr_gid
    s = opslib.server(CONF, 18970)
    try:
        s.start()
        for w in wait_workers(s, 2):
            check_confined(w, nobody.pw_uid, gid)
            groups = status(w)["Groups"].split()
            check(groups in ([], [str(gid)]), "supplementary groups", groups)
        m = status(s.proc.pid)
        check(m["Uid"].split()[0] == "0", "the master stays root", m["Uid"])
        serve_all(s)
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_user_directive_named_user_and_group():
    if not ROOT_RUN:
        return
    user = "www-data" if _has_user("www-data") else "daemon"
    pw = pwd.getpwnam(user)
    gid = grp.getgrnam("nogroup").gr_gid
    for main, want_gid in (("user %s;" % user, pw.pw_gid), ("user %s nogroup;" % user, gid)):
        s = opslib.server(CONF, 18971, main_conf=main)
        try:
            s.start()
            for w in wait_workers(s, 2):
                check_confined(w, pw.pw_uid, want_gid)
            serve_all(s)
            s.stop(signal.SIGQUIT)
        finally:
            s.cleanup()


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_workers_die_with_the_master():
    """The parent-death signal is cleared by setuid: it is armed again after the drop."""
    s = opslib.server(CONF, 18977)
    try:
        s.start()
        workers = wait_workers(s, 2)
        for w in workers:
            wait_confined(w)
        s.proc.kill()
        s.proc.wait()
        gone = wait_for(lambda: not any(os.path.exists("/proc/%d/status" % w)
                                        and status(w).get("State", "Z")[0] != "Z"
                                        for w in workers), timeout=5)
        check(gone, "workers outlived their master", workers)
        s.proc = None
    finally:
        s.cleanup()


def test_bad_user_is_a_config_error():
    if not ROOT_RUN:
        return
    for main, msg in (("user no-such-user-x;", 'getpwnam("no-such-user-x") failed'),
                      ("user nobody no-such-group-x;", 'getgrnam("no-such-group-x") failed'),
                      ("worker_seccomp maybe;", 'invalid value "maybe"'),
                      ("worker_landlock maybe;", "maybe"),
                      ("worker_rlimit_core lots;", 'invalid value "lots"')):
        s = opslib.server(CONF, 18972, main_conf=main)
        try:
            r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
            out = (r.stdout + r.stderr).decode()
            check(r.returncode == 1 and msg in out and "wasmd.conf:" in out, main, out)
        finally:
            s.cleanup()


def test_worker_rlimit_core():
    s = opslib.server(CONF, 18973, main_conf="worker_rlimit_core 1m;")
    try:
        s.start()
        for w in wait_workers(s, 2):
            wait_confined(w)
            check(core_limit(w) == str(1 << 20), "worker_rlimit_core", core_limit(w))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_reopen_and_reload_with_unprivileged_workers():
    """The master reopens the logs first and gives them to the workers' user (nginx's
    way); the workers then reopen them by name; a reload starts confined workers too."""
    s = opslib.server(CONF, 18974)
    try:
        os.chmod(s.prefix, 0o755)      # mkdtemp's 0700 would keep nobody out
        s.start()
        old = wait_workers(s, 2)
        check(get(s, "/").status == 200)
        logs = os.path.join(s.prefix, "logs")
        os.rename(os.path.join(logs, "access.log"), os.path.join(logs, "access.log.1"))
        os.rename(os.path.join(logs, "error.log"), os.path.join(logs, "error.log.1"))
        r = s.run_cli("-p", s.prefix + "/", "-c", s.conf_path, "-s", "reopen")
        check(r.returncode == 0, r)
        check(wait_for(lambda: s.error_log().count("reopening logs") >= 3),
              "master and both workers reopened", s.error_log())
        for i in range(6):
            check(get(s, "/hello").status == 200)
        check(wait_for(lambda: s.access_log().count("GET /hello") == 6),
              "requests after reopen are logged in the new file", s.access_log())
        if ROOT_RUN:
            check(os.stat(os.path.join(logs, "access.log")).st_uid == pwd.getpwnam("nobody").pw_uid,
                  "the new access.log belongs to the workers' user")
        s.signal(signal.SIGHUP)
        new = wait_for(lambda: len(children(s.proc.pid)) == 2
                       and not set(children(s.proc.pid)) & set(old) and children(s.proc.pid))
        check(new, "reload replaced the workers", children(s.proc.pid), old)
        for w in new:
            if ROOT_RUN:
                check_confined(w, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        serve_all(s)
        check(not log_problems(s), log_problems(s))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


def test_single_process_keeps_user_but_is_confined():
    s = harness.Server(CONF, 18975)
    try:
        s.start()
        wait_confined(s.proc.pid)
        st = status(s.proc.pid)
        check(st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", st)
        for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            check(int(st[cap], 16) == 0, cap, st[cap])
        check(st["Uid"].split()[0] == str(os.geteuid()), "master_process off keeps its user")
        serve_all(s)
        s.stop()
    finally:
        s.cleanup()


class UserServer(harness.Server):
    """A server started as another (unprivileged) user, in a prefix that user owns."""

    def __init__(self, conf, port, uid, gid, **kw):
        super().__init__(conf, port, master=True, **kw)
        self.uid, self.gid = uid, gid
        for d, _, files in os.walk(self.prefix):
            os.chown(d, uid, gid)
            for f in files:
                os.chown(os.path.join(d, f), uid, gid)

    def start(self, wait=True):
        self.stderr_path = os.path.join(self.prefix, "stderr.txt")
        self.stderr_f = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([harness.WASMD_BIN, "-p", self.prefix + "/", "-c",
                                      self.conf_path], cwd=self.prefix, stdout=self.stderr_f,
                                     stderr=self.stderr_f, user=self.uid, group=self.gid,
                                     extra_groups=[])
        if wait:
            self.wait_port()
        return self


def test_plain_user_start_keeps_user_and_confines():
    if not ROOT_RUN:
        return      # the plain-user case is this run itself: the other tests cover it
    nobody = pwd.getpwnam("nobody")
    gid = grp.getgrnam("nogroup").gr_gid
    s = UserServer(CONF.replace("worker_processes 1;", ""), 18976, nobody.pw_uid, gid)
    try:
        with open(s.conf_path) as f:
            text = f.read()
        with open(s.conf_path, "w") as f:
            f.write(text.replace("worker_processes 1;", "worker_processes 2;"))
        os.chmod(s.prefix, 0o755)
        s.start()
        for w in wait_workers(s, 2):
            # a plain user cannot empty its bounding set (no CAP_SETPCAP): nothing is in
            # its effective/permitted sets to use anyway
            check_confined(w, nobody.pw_uid, gid, bounding_dropped=False)
        serve_all(s)
        logs = os.path.join(s.prefix, "logs")
        os.rename(os.path.join(logs, "access.log"), os.path.join(logs, "access.log.1"))
        s.signal(signal.SIGUSR1)
        check(wait_for(lambda: s.error_log().count("reopening logs") >= 3), s.error_log())
        check(get(s, "/").status == 200)
        check(wait_for(lambda: "GET / " in s.access_log()), "reopened access.log", s.access_log())
        check(not log_problems(s), log_problems(s))
        s.stop(signal.SIGQUIT)
    finally:
        s.cleanup()


# ---- the test hooks: forbidden calls from a confined worker ----

KILLED = ("execve", "ptrace", "fork", "rawsock", "packet", "setuid", "bind", "mprotect")
REFUSED = ("shadow", "passwd", "write")
# sanitizer builds also allow what the sanitizer runtime needs (LeakSanitizer's tracer:
# ptrace, clone of a process, any mprotect; reading the whole filesystem): see wd_sandbox.c
SAN = bool(os.environ.get("SANITIZE")) or "/san/" in BIN
if SAN:
    KILLED = ("execve", "rawsock", "packet", "setuid", "bind")
    REFUSED = ("shadow", "write")


def probe(name, main_conf="", port=18980):
    """Starts the hooks build with 2 workers, makes worker 1 try `name`; returns
    (server log, whether it was killed, whether the probe was allowed, still-serving)."""
    check(os.path.exists(HOOKS), "missing %s: build it with make %s" % (HOOKS, HOOKS))
    saved = harness.WASMD_BIN
    harness.WASMD_BIN = HOOKS
    os.environ["WD_TEST_SANDBOX_PROBE"] = name
    s = opslib.server(CONF, port, main_conf=main_conf)
    try:
        s.start()
        workers = wait_workers(s, 2)
        # both workers confined, their probe armed
        check(wait_for(lambda: s.error_log().count("sandbox probe %s: armed" % name) == 2),
              "probes not armed", s.error_log())
        victim = workers[0]
        errors = []
        stop = threading.Event()

        def client():
            while not stop.is_set():
                try:
                    r = get(s, "/hello")
                    if r.status != 200:
                        errors.append(r.status)
                except Exception as e:    # noqa: BLE001
                    errors.append(repr(e))
        t = threading.Thread(target=client, daemon=True)
        t.start()
        os.kill(victim, signal.SIGUSR2)
        done = wait_for(lambda: ("sandbox probe %s: " % name) in s.error_log().replace(
            "sandbox probe %s: trying" % name, "") or "forbidden system call" in s.error_log())
        check(done, "the probe did not report", s.error_log()[-2000:])
        time.sleep(0.3 * opslib.SLOW)
        killed = wait_for(lambda: victim not in children(s.proc.pid), timeout=1.0)
        if killed:
            check(wait_for(lambda: len(children(s.proc.pid)) == 2), "worker not respawned")
        stop.set()
        t.join(10)
        log = s.error_log()
        allowed = "sandbox probe %s: ALLOWED" % name in log
        serve_all(s)
        s.check_logs = False
        s.stop(signal.SIGQUIT)
        check(not log_problems(s, allowed=(r"forbidden system call", r"exited on signal 31 \(a")),
              log_problems(s))
        return log, bool(killed), allowed, errors
    finally:
        os.environ.pop("WD_TEST_SANDBOX_PROBE", None)
        harness.WASMD_BIN = saved
        s.check_logs = False
        s.cleanup()


def test_forbidden_calls_kill_the_worker():
    for name in KILLED:
        log, killed, allowed, errors = probe(name)
        check(killed and not allowed, name, "was not killed", log[-1500:])
        check("forbidden system call" in log and "killed by worker_seccomp" in log,
              name, "the worker did not log the call", log[-1500:])
        check("exited on signal 31 (a system call forbidden by worker_seccomp)" in log,
              name, "the master did not log it", log[-1500:])
        # the other worker served on: requests during the kill succeeded (a connection
        # accepted by the dying worker may be reset: at most one)
        check(len(errors) <= 1, name, "requests failed while a worker died", errors[:5])


def test_forbidden_files_are_refused():
    for name in REFUSED:
        log, killed, allowed, errors = probe(name, port=18981)
        check(not killed and not allowed and ("sandbox probe %s: refused" % name) in log,
              name, log[-1500:])
        check("(13: Permission denied)" in log.split("sandbox probe %s: refused" % name)[1][:40],
              name, "not EACCES", log[-800:])
        check(not errors, name, errors[:5])


def test_landlock_alone_refuses_files():
    """worker_seccomp off: Landlock still keeps /etc/passwd and /tmp out of reach."""
    for name in ("write",) if SAN else ("passwd", "write"):
        log, killed, allowed, _ = probe(name, main_conf="worker_seccomp off;", port=18982)
        check(not killed and not allowed, name, log[-1500:])


def test_probes_succeed_without_the_sandbox():
    """The same probes with the sandbox off (and as root) succeed: the tests above
    would catch a sandbox that is not there."""
    if not ROOT_RUN:
        return
    main = "user root; worker_seccomp off; worker_landlock off;"
    for name in ("passwd", "write", "fork", "shadow"):
        log, killed, allowed, _ = probe(name, main_conf=main, port=18983)
        check(allowed and not killed, name, "probe failed without a sandbox", log[-1500:])


def test_outbound_tcp_stays_allowed():
    log, killed, allowed, _ = probe("connect", port=18984)
    check(allowed and not killed, log[-1500:])


def test_seccomp_log_mode_does_not_kill():
    log, killed, allowed, _ = probe("fork", main_conf="worker_seccomp log;", port=18985)
    check(allowed and not killed, log[-1500:])


# ---- wasmd run ----

def _run_status(extra):
    prog = os.path.join(os.path.dirname(BIN), "t", "wasi", "progs", "stdin_read.O2.wasm")
    if not os.path.exists(prog):
        prog = os.path.join(opslib.ROOT, "objs", "t", "wasi", "progs", "stdin_read.O2.wasm")
    check(os.path.exists(prog), "missing", prog)
    p = subprocess.Popen([BIN, "run"] + extra + [prog], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5 * opslib.SLOW)   # loaded and blocked reading stdin
        st = status(p.pid)
    finally:
        out, err = p.communicate(b"abc\n", timeout=20)
    check(p.returncode == 0, "wasmd run failed", p.returncode, out, err)
    return st


def test_wasmd_run_confines_itself():
    st = _run_status([])
    check(st["NoNewPrivs"] == "1" and st["Seccomp"] == "2" and int(st["CapEff"], 16) == 0, st)
    st = _run_status(["--no-sandbox"])
    check(st["Seccomp"] == "0" and st["NoNewPrivs"] == "0", "--no-sandbox", st)


if __name__ == "__main__":
    raise SystemExit(opslib.main(globals()))
