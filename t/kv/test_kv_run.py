"""wasi:keyvalue / wasi:config under `wasmd run` (no server): --keyvalue 'NAME KIND LOCATION
[PARAM=VALUE...]' gives the guest a store, --config KEY=VALUE a config value. The stores run
on the process's own libuv loop: a call that waits for its store (an LMDB write on the thread
pool, a Redis reply) suspends the guest until the loop has the answer. t/kv/kv-cmd.c as a
core module and as a command component (objs/component/kv-cmd.cmd.wasm), on LMDB and on a
redis-server this test starts: values kept from one run to the next, thousands of keys
paged with the cursor, two processes counting to exactly N, Redis refused / stopped (errors
within the store's timeout, no hang), bad --keyvalue arguments refused saying why."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness                                     # noqa: E402
from harness import check                          # noqa: E402
import test_kv_redis as rb                         # noqa: E402

WASMD = harness.WASMD_BIN
CORE = os.path.join(harness.ROOT, "objs", "handlers", "kv-cmd.wasm")
COMP = os.path.join(harness.ROOT, "objs", "component", "kv-cmd.cmd.wasm")
R = rb.R
T = tempfile.mkdtemp(prefix="wd-kv-run-")


def run(guest, stores, *args, config=(), timeout=30):
    cmd = [WASMD, "run"]
    for st in stores:
        cmd += ["--keyvalue", st]
    for c in config:
        cmd += ["--config", c]
    p = subprocess.run(cmd + [guest] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode().strip(), p.stderr.decode().strip()


def out(guest, stores, *args, **kw):
    rc, o, e = run(guest, stores, *args, **kw)
    check(rc == 0, args, rc, o, e)
    return o


def lmdb(name):
    return "c lmdb " + os.path.join(T, name)


def redis(db, extra=""):
    return ("c redis redis://127.0.0.1:%d/%d %s" % (R.port, db, extra)).strip()


def calls(guest, store):
    check(out(guest, [store], "c", "incr", "n", "5") == "5")
    check(out(guest, [store], "c", "incr", "n", "2") == "7", "kept from one run to the next")
    check(out(guest, [store], "c", "set", "k", "hello") == "ok")
    check(out(guest, [store], "c", "get", "k") == "hello")
    check(out(guest, [store], "c", "get", "nope") == "none")
    check(out(guest, [store], "c", "fill", "p", "2500") == "ok")
    check(out(guest, [store], "c", "list") == "2502 3 2502",
          "thousands of keys paged with the cursor, each once")
    rc, o, e = run(guest, [store], "other", "get", "k")
    # exit(2): 2 from a core module; 1 from a component (the preview1 adapter makes any
    # non-zero exit code WASI 0.2's exit(err))
    check(rc == (1 if guest == COMP else 2) and o == "err 1", "an unknown store: no-such-store",
          rc, o, e)
    check(out(guest, [], "-", "config", "base_url", config=["base_url=https://x.example"])
          == "https://x.example")
    check(out(guest, [], "-", "config", "nope") == "none")


def exact(guest, store, n=40):
    """two processes at once, n/2 increments each, one key: exactly n"""
    errs = []

    def loop():
        for _ in range(n // 2):
            rc, o, e = run(guest, [store], "c", "incr", "both", "1")
            if rc != 0:
                errs.append((rc, o, e))
    ts = [threading.Thread(target=loop) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errs, errs[:3])
    check(out(guest, [store], "c", "get", "both") == str(n), "exactly N from two processes")


def test_lmdb_core():
    calls(CORE, lmdb("core"))
    check(os.path.exists(os.path.join(T, "core", "data.mdb")), "the directory is created")
    exact(CORE, lmdb("core"))


def test_lmdb_component():
    calls(COMP, lmdb("comp"))
    exact(COMP, lmdb("comp"), 10)


def test_redis_core():
    calls(CORE, redis(1))
    exact(CORE, redis(1))


def test_redis_component():
    calls(COMP, redis(2))
    exact(COMP, redis(2), 10)


def test_redis_refused_and_stopped():
    port = rb.free_port()
    t0 = time.time()
    rc, o, e = run(CORE, ["c redis redis://127.0.0.1:%d/0" % port], "c", "get", "k")
    check(rc == 2 and o.startswith("err 3 redis 127.0.0.1:%d: cannot connect" % port), rc, o, e)
    check(time.time() - t0 < 5, "at once")
    check(out(CORE, [redis(3, "timeout=300ms")], "c", "set", "k", "v") == "ok")
    R.proc.send_signal(signal.SIGSTOP)
    try:
        t0 = time.time()
        rc, o, e = run(CORE, [redis(3, "timeout=300ms")], "c", "get", "k")
        took = time.time() - t0
    finally:
        R.proc.send_signal(signal.SIGCONT)
    check(rc == 2 and "no reply within 300 ms" in o, rc, o, e)
    check(took < 3, "the store's timeout ends the wait", took)
    check(out(CORE, [redis(3)], "c", "get", "k") == "v", "and Redis answers again")


def test_bad_arguments():
    cases = [
        (["c lmdb"], "expected 'NAME lmdb DIR"),
        (["c memcached x"], "expected 'NAME lmdb DIR"),
        (["c redis http://x"], "invalid url"),
        (["c lmdb %s max_size=1k" % os.path.join(T, "x")], "invalid max_size"),
        (["c redis redis://127.0.0.1 pool=0"], "invalid pool"),
        ([lmdb("a"), lmdb("b")], "given twice"),
    ]
    for stores, want in cases:
        rc, o, e = run(CORE, stores, "c", "get", "k")
        check(rc == 1 and want in e, stores, rc, e)
    rc, o, e = run(CORE, [], "c", "get", "k", config=["novalue"])
    check(rc == 1 and "KEY=VALUE" in e, rc, e)


def main():
    for f in (CORE, COMP):
        if not os.path.exists(f):
            print("FAIL %s is not built (make handlers components)\n0 passed, 1 failed" % f)
            return 1
    passed = failed = 0
    R.start()
    try:
        for name, fn in [(k, v) for k, v in globals().items() if k.startswith("test_")]:
            if os.environ.get("T_ONLY") and os.environ["T_ONLY"] not in name:
                continue
            t0 = time.time()
            try:
                fn()
                passed += 1
                print("ok   test_kv_run.py %s (%.2fs)" % (name, time.time() - t0))
            except Exception as e:
                failed += 1
                print("FAIL test_kv_run.py %s: %s" % (name, e))
    finally:
        R.cleanup()
        shutil.rmtree(T, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
