"""t/ops/test_hardening.py -- the shipped binary is built hardened (configure's
HARDEN_CFLAGS/HARDEN_LDFLAGS): PIE, full RELRO (BIND_NOW), stack protector, _FORTIFY_SOURCE,
CET (IBT/SHSTK notes) on x86-64; and it carries no sandbox test hook. Read with readelf
and nm. Sanitizer builds keep their own flags (checked: they are not hardened builds)."""
import os
import platform
import re
import subprocess

import opslib
from opslib import check

BIN = os.environ.get("WASMD_BIN") or os.path.join(opslib.ROOT, "objs", "wasmd")
SAN = "/san/" in BIN or bool(os.environ.get("SANITIZE"))


def readelf(*args):
    r = subprocess.run(["readelf", "-W"] + list(args) + [BIN], capture_output=True, text=True)
    check(r.returncode == 0, "readelf failed", r.stderr)
    return r.stdout


def undefined_symbols():
    r = subprocess.run(["nm", "-D", "--undefined-only", BIN], capture_output=True, text=True)
    check(r.returncode == 0, "nm failed", r.stderr)
    return set(l.split()[-1].split("@")[0] for l in r.stdout.splitlines() if l.strip())


def test_pie():
    h = readelf("-h")
    check(re.search(r"Type:\s+DYN", h), "not a position-independent executable", h)
    check(re.search(r"\(FLAGS_1\).*\bPIE\b", readelf("-d")), "no PIE flag in the dynamic section")


def test_full_relro():
    if SAN:
        return
    check("GNU_RELRO" in readelf("-l"), "no GNU_RELRO segment")
    d = readelf("-d")
    check(re.search(r"\(BIND_NOW\)|\(FLAGS\).*\bBIND_NOW\b|\(FLAGS_1\).*\bNOW\b", d),
          "lazy binding: not linked with -z now", d)


def test_stack_protector_and_fortify():
    if SAN:
        return
    syms = undefined_symbols()
    check("__stack_chk_fail" in syms, "no __stack_chk_fail: built without -fstack-protector")
    chk = sorted(s for s in syms if s.startswith("__") and s.endswith("_chk")
                 and s != "__stack_chk_fail")
    check(len(chk) >= 3, "too few fortified calls (_FORTIFY_SOURCE missing?)", chk)


def test_cet_on_x86_64():
    """-fcf-protection: our functions start with endbr64 (the ELF IBT/SHSTK property note
    is absent because Debian's crt1.o/crti.o are not CET-marked, so it cannot be used)."""
    if SAN or platform.machine() != "x86_64":
        return
    for fn in ("main", "wd_sandbox_drop", "wd_http_parse_request_line", "wd_wasm_call"):
        r = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--disassemble=" + fn, BIN],
                           capture_output=True, text=True)
        body = r.stdout.split("<%s>:" % fn, 1)
        if len(body) < 2:
            continue
        first = body[1].strip().splitlines()[0]
        check("endbr64" in first, fn, "does not start with endbr64: built without -fcf-protection",
              first)
        return
    check(False, "none of the probed functions found in", BIN)


def test_no_test_hook_in_shipped_binary():
    with open(BIN, "rb") as f:
        data = f.read()
    check(b"WD_TEST_SANDBOX_PROBE" not in data, "the shipped binary carries the sandbox test hook")
    hooks = os.path.join(os.path.dirname(BIN), "t", "ops", "wasmd-hooks")
    if os.path.exists(hooks):
        with open(hooks, "rb") as f:
            check(b"WD_TEST_SANDBOX_PROBE" in f.read(), "the hooks build lacks its hook")


if __name__ == "__main__":
    raise SystemExit(opslib.main(globals()))
