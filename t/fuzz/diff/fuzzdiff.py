#!/usr/bin/env python3
"""fuzzdiff.py -- differential fuzzer: our engine against binaryen and wabt.

Every iteration:
  1. random bytes -> `wasm-opt -ttf` (Wasm 2.0 minus reference types, SIMD
     included: FEATURES below) -> module M;
  2. execution: `wasm-opt M --fuzz-exec-before` (binaryen's interpreter) and
     `wd_fuzzdiff exec M` (our engine, t/fuzz/diff/wd_fuzzdiff.c) must print the
     same sequence of calls, loggings, results and traps. Values are compared
     numerically (binaryen prints floats as shortest decimal text); any NaN
     matches any NaN (NaN sign/payload is nondeterministic in Wasm). Trap
     kinds are compared by category (see trap_category);
  3. verdicts: M and --mutants byte-level mutants of M go through
     `wasm-validate` (wabt) and our loader (`wd_fuzzdiff validate`); the
     accept/reject verdicts must agree, except for the known wabt bugs listed
     in WABT_BUGS (each recognised by a precise check, counted separately).

A mismatch is saved as a reproducer directory under --out (the module, both
outputs, a README line); the run ends with one summary line
  "fuzzdiff: N passed, N failed" preceded by the counts by cause.

  fuzzdiff.py --driver objs/t/fuzz/diff/wd_fuzzdiff [--count N] [--seconds S]
              [--seed S] [--mutants K] [--out DIR] [--keep-going] [-v]
  fuzzdiff.py --driver D --replay DIR_OR_WASM      re-run one saved case
"""
import argparse
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

FEATURES = ["--mvp-features", "--enable-sign-ext", "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int", "--enable-bulk-memory",
            "--enable-multivalue", "--enable-simd"]
# wabt 1.0.32 enables mutable-globals, sat-float-to-int, sign-ext, SIMD, multi-value,
# bulk-memory and reference types by default: all of Wasm 2.0, like our engine.
WABT_FLAGS = []
TIMEOUT = 30


def run(cmd, timeout=TIMEOUT):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None, "", "timeout"


# ---------------------------------------------------------------- LEB / sections

def read_uleb(b, i, maxbits=32):
    r = 0
    shift = 0
    while True:
        if i >= len(b):
            raise ValueError("eof")
        x = b[i]
        i += 1
        r |= (x & 0x7f) << shift
        shift += 7
        if not (x & 0x80):
            return r, i
        if shift >= maxbits + 7:
            raise ValueError("leb too long")


def sections(b):
    """[(id, payload_start, payload_end)] of a well-formed-enough module, or None."""
    if len(b) < 8:
        return None
    out = []
    i = 8
    try:
        while i < len(b):
            sid = b[i]
            size, j = read_uleb(b, i + 1)
            if j + size > len(b):
                return None
            out.append((sid, j, j + size))
            i = j + size
    except ValueError:
        return None
    return out


# ---------------------------------------------------------------- known wabt bugs
# Each entry: (name, predicate(bytes, wabt_ok, ours_ok, ours_msg, wabt_msg) -> bool).
# Only disagreements matching a predicate are forgiven; everything else is a mismatch.

def wabt_bug_datacount_without_data(b, wabt_ok, ours_ok, ours_msg, wabt_msg):
    # wabt accepts a data count section declaring N > 0 segments when the module has
    # no data section at all (spec: "data count and data section have inconsistent
    # lengths", binary.wast); it only compares the counts when a data section exists.
    if not (wabt_ok and not ours_ok):
        return False
    secs = sections(b)
    if secs is None or "inconsistent" not in ours_msg:
        return False
    ids = [s[0] for s in secs]
    if 12 not in ids or 11 in ids:
        return False
    _, start, end = secs[ids.index(12)]
    try:
        n, _ = read_uleb(b, start)
    except ValueError:
        return False
    return n > 0


def code_bodies(b):
    """(number of imported functions, [(body_start, body_end)]) or None."""
    secs = sections(b)
    if secs is None:
        return None
    nimp = 0
    bodies = []
    try:
        for sid, start, end in secs:
            if sid == 2:
                n, i = read_uleb(b, start)
                for _ in range(n):
                    for _ in range(2):                   # module, field names
                        ln, i = read_uleb(b, i)
                        i += ln
                    kind = b[i]
                    i += 1
                    if kind == 0:
                        _, i = read_uleb(b, i)
                        nimp += 1
                    elif kind in (1, 2):
                        if kind == 1:
                            i += 1                        # reftype
                        flags = b[i]
                        i += 1
                        _, i = read_uleb(b, i)
                        if flags & 1:
                            _, i = read_uleb(b, i)
                    elif kind == 3:
                        i += 2
                    else:
                        return None
            elif sid == 10:
                n, i = read_uleb(b, start)
                for _ in range(n):
                    size, i = read_uleb(b, i)
                    bodies.append((i, i + size))
                    i += size
    except (ValueError, IndexError):
        return None
    return nimp, bodies


def wabt_bug_body_ends_inside_block(b, wabt_ok, ours_ok, ours_msg, wabt_msg):
    # wabt 1.0.32 accepts a function body whose bytes run out while a block/loop/if is
    # still open, as long as the last byte is an `end` (e.g. body `02 40 0b`: the 0x0b
    # closes the block and the function's own `end` is missing). The spec requires the
    # body's expression to be terminated by its own `end`: malformed. Recognised
    # precisely: we reject with "unexpected end of section or function" at exactly the
    # end offset of that function's body, and the body's last byte is 0x0b.
    if not (wabt_ok and not ours_ok) or "unexpected end of section or function" not in ours_msg:
        return False
    import re
    m = re.search(r"\(offset (-?\d+), func (-?\d+)\)", ours_msg)
    cb = code_bodies(b)
    if m is None or cb is None:
        return False
    off, fidx = int(m.group(1)), int(m.group(2))
    nimp, bodies = cb
    k = fidx - nimp
    if not 0 <= k < len(bodies):
        return False
    start, end = bodies[k]
    return off == end and end > start and b[end - 1] == 0x0b


def wabt_bug_const_expr_end_in_leb(b, wabt_ok, ours_ok, ours_msg, wabt_msg):
    # wabt 1.0.32 accepts a global/elem/data section whose last constant expression has
    # its `end` byte (0x0b) swallowed by the preceding LEB immediate (e.g. `41 a8 0b` =
    # i32.const 1448 with no `end`): the expression is unterminated inside the section,
    # which the spec makes malformed. Recognised precisely: we reject with "unexpected end"
    # at exactly the end of a global (6), elem (9) or data (11) section whose last byte is
    # 0x0b preceded by a byte with the LEB continuation bit set.
    if not (wabt_ok and not ours_ok) or "unexpected end" not in ours_msg:
        return False
    import re
    m = re.search(r"\(offset (-?\d+), func -1\)", ours_msg)
    secs = sections(b)
    if m is None or secs is None:
        return False
    off = int(m.group(1))
    return any(sid in (6, 9, 11) and end == off and end - start >= 2 and b[end - 1] == 0x0b
               and b[end - 2] & 0x80 for sid, start, end in secs)


def wabt_bug_data_flags_4(b, wabt_ok, ours_ok, ours_msg, wabt_msg):
    # wabt 1.0.32 ignores bit 2 (value 4, the element segments' "declarative" bit) of a data
    # segment's flags: 4, 5 and 6 are read as 0 (active, memory 0), 1 (passive) and 2
    # (active, explicit memory). The spec allows only 0, 1 and 2 ("malformed data segment
    # kind" in binary.wast); 3, 7 and above are rejected by both. Recognised precisely: our
    # message at offset O, and the flags LEB at O (also a padded one, `84 00`) is 4, 5 or 6.
    if not (wabt_ok and not ours_ok) or "malformed data segment kind" not in ours_msg:
        return False
    import re
    m = re.search(r"\(offset (\d+), func -1\)", ours_msg)
    if m is None:
        return False
    try:
        return read_uleb(b, int(m.group(1)))[0] in (4, 5, 6)
    except ValueError:
        return False


def wabt_bug_typed_select_no_type(b, wabt_ok, ours_ok, ours_msg, wabt_msg):
    # wabt 1.0.32 accepts a typed `select` (0x1c) whose type vector is empty (`1c 00`) and
    # treats it as an untyped select; the spec requires exactly one type ("invalid result
    # arity", select.wast `(select (result))`). `1c 02 ..` is rejected by both. Recognised
    # precisely: our message at offset O, and the bytes at O are 1c 00.
    if not (wabt_ok and not ours_ok) or "invalid result arity" not in ours_msg:
        return False
    import re
    m = re.search(r"\(offset (\d+), func \d+\)", ours_msg)
    return m is not None and b[int(m.group(1)):int(m.group(1)) + 2] == b"\x1c\x00"


def data_offset_exprs(b):
    """Start offsets of the active data segments' offset expressions, or None."""
    secs = sections(b)
    if secs is None:
        return None
    out = []
    try:
        for sid, start, end in secs:
            if sid != 11:
                continue
            n, i = read_uleb(b, start)
            for _ in range(n):
                flags, i = read_uleb(b, i)
                if flags in (0, 2):
                    if flags == 2:
                        _, i = read_uleb(b, i)
                    out.append(i)
                    op = b[i]
                    if op == 0x0b:
                        i += 1
                    else:
                        i += 1
                        if op in (0x41, 0x42):
                            _, i = read_uleb(b, i, 64)
                        elif op == 0x23:
                            _, i = read_uleb(b, i)
                        elif op == 0x43:
                            i += 4
                        elif op == 0x44:
                            i += 8
                        else:
                            return out
                        if b[i] != 0x0b:
                            return out
                        i += 1
                elif flags != 1:
                    return out
                size, i = read_uleb(b, i)
                i += size
    except (ValueError, IndexError):
        return out
    return out


def wabt_bug_empty_const_expr(b, wabt_ok, ours_ok, ours_msg, wabt_msg):
    # wabt 1.0.32 accepts an empty constant expression (just `end`) as a data segment offset;
    # the spec requires a result of type i32 ("type mismatch"). Recognised precisely: our
    # "type mismatch" outside functions at offset O, where O is the start of an active data
    # segment's offset expression (found by walking the data section) and b[O] is `end`.
    if not (wabt_ok and not ours_ok) or "type mismatch" not in ours_msg:
        return False
    import re
    m = re.search(r"\(offset (\d+), func -1\)", ours_msg)
    if m is None:
        return False
    o = int(m.group(1))
    return o < len(b) and b[o] == 0x0b and o in (data_offset_exprs(b) or [])


WABT_BUGS = [
    ("empty-const-expr", wabt_bug_empty_const_expr),
    ("typed-select-without-type", wabt_bug_typed_select_no_type),
    ("data-segment-flags-4", wabt_bug_data_flags_4),
    ("const-expr-end-in-leb", wabt_bug_const_expr_end_in_leb),
    ("datacount-without-data-section", wabt_bug_datacount_without_data),
    ("body-ends-inside-block", wabt_bug_body_ends_inside_block),
]


# ---------------------------------------------------------------- v128 denan
# binaryen 108's --denan instruments f32/f64 values but leaves v128 alone, and its
# interpreter canonicalises the NaN results of f32x4/f64x2 arithmetic (0x7fc00000,
# 0x7ff8000000000000) where we propagate a payload: both are allowed (an arithmetic NaN),
# and the bits surface once the vector is read as integers (i64x2.extract_lane, a store
# and an integer load, a bitmask). denan_v128 rewrites a module so that every f32x4/f64x2
# instruction whose result may be a NaN is followed by
#     local.tee $t  local.get $t  local.get $t  fNxM.eq  v128.and
# (NaN lanes become +0, others unchanged; stack-neutral, valid in unreachable code too),
# $t a v128 local appended to every function.

def read_sleb(b, i, maxbits=64):
    while b[i] & 0x80:
        i += 1
    return 0, i + 1


def uleb(n):
    out = bytearray()
    while True:
        x = n & 0x7f
        n >>= 7
        if n:
            out.append(x | 0x80)
        else:
            out.append(x)
            return bytes(out)


# 0xfd sub-opcodes with a float vector result: demote/promote, ceil..nearest, abs..pmax
V128_F32_OPS = {94, 103, 104, 105, 106} | set(range(224, 236)) - {226}
V128_F64_OPS = {95, 116, 117, 122, 148} | set(range(236, 248)) - {238}
MEMARG_OPS = {0x28 + k for k in range(23)}      # i32.load .. i64.store32


def skip_instr(b, i):
    """-> (next index, 0xfd sub-opcode or None) for the instruction at b[i]."""
    op = b[i]
    i += 1
    if op in (0x02, 0x03, 0x04):                  # blocktype: 0x40, a value type or s33
        if b[i] in (0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f):
            return i + 1, None
        return read_sleb(b, i)[1], None
    if op in (0x0c, 0x0d, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xd2):
        return read_uleb(b, i)[1], None
    if op == 0x0e:
        n, i = read_uleb(b, i)
        for _ in range(n + 1):
            _, i = read_uleb(b, i)
        return i, None
    if op == 0x11:
        return read_uleb(b, read_uleb(b, i)[1])[1], None
    if op == 0x1c:
        n, i = read_uleb(b, i)
        return i + n, None
    if op in MEMARG_OPS:
        return read_uleb(b, read_uleb(b, i)[1])[1], None
    if op in (0x3f, 0x40, 0xd0):
        return i + 1, None
    if op in (0x41, 0x42):
        return read_sleb(b, i)[1], None
    if op == 0x43:
        return i + 4, None
    if op == 0x44:
        return i + 8, None
    if op == 0xfc:
        sub, i = read_uleb(b, i)
        if sub <= 7:
            return i, None
        if sub == 8:
            return read_uleb(b, i)[1] + 1, None
        if sub in (9, 13) or 15 <= sub <= 17:
            return read_uleb(b, i)[1], None
        if sub == 10:
            return i + 2, None
        if sub == 11:
            return i + 1, None
        if sub in (12, 14):
            return read_uleb(b, read_uleb(b, i)[1])[1], None
        raise ValueError("0xfc %d" % sub)
    if op == 0xfd:
        sub, i = read_uleb(b, i)
        if sub <= 11 or sub in (92, 93):
            return read_uleb(b, read_uleb(b, i)[1])[1], sub
        if sub in (12, 13):
            return i + 16, sub
        if 21 <= sub <= 34:
            return i + 1, sub
        if 84 <= sub <= 91:
            return read_uleb(b, read_uleb(b, i)[1])[1] + 1, sub
        return i, sub
    return i, None


def func_param_counts(b, secs):
    """[number of params] of every defined function, in code section order."""
    types, funcs = [], []
    for sid, start, end in secs:
        if sid == 1:
            n, i = read_uleb(b, start)
            for _ in range(n):
                if b[i] != 0x60:
                    raise ValueError("type form")
                np, i = read_uleb(b, i + 1)
                i += np
                nr, i = read_uleb(b, i)
                i += nr
                types.append(np)
        elif sid == 3:
            n, i = read_uleb(b, start)
            for _ in range(n):
                t, i = read_uleb(b, i)
                funcs.append(types[t])
    return funcs


def denan_v128(b):
    """-> the rewritten module (bytes), the module itself when it has no float vector
    instruction, or None when it cannot be parsed."""
    secs = sections(b)
    if secs is None:
        return None
    try:
        params = func_param_counts(b, secs)
        out = bytearray(b[:8])
        changed = False
        for sid, start, end in secs:
            if sid != 10:
                out += bytes([sid]) + uleb(end - start) + b[start:end]
                continue
            n, i = read_uleb(b, start)
            code = bytearray(uleb(n))
            for f in range(n):
                size, i = read_uleb(b, i)
                bend = i + size
                ngroups, j = read_uleb(b, i)
                nlocals = 0
                for _ in range(ngroups):
                    c, j = read_uleb(b, j)
                    nlocals += c
                    j += 1
                t = uleb(params[f] + nlocals)
                body = bytearray(uleb(ngroups + 1) + b[read_uleb(b, i)[1]:j] + b"\x01\x7b")
                k = j
                while k < bend:
                    nk, sub = skip_instr(b, k)
                    body += b[k:nk]
                    if sub in V128_F32_OPS or sub in V128_F64_OPS:
                        eq = b"\xfd\x41" if sub in V128_F32_OPS else b"\xfd\x47"
                        body += b"\x22" + t + b"\x20" + t + b"\x20" + t + eq + b"\xfd\x4e"
                        changed = True
                    k = nk
                if k != bend:
                    return None
                code += uleb(len(body)) + body
                i = bend
            out += b"\x0a" + uleb(len(code)) + code
        return bytes(out) if changed else b
    except (ValueError, IndexError, KeyError):
        return None


# ---------------------------------------------------------------- output comparison

def trap_category_binaryen(msg):
    m = msg.lower()
    if "unreachable" in m:
        return "unreachable"
    if "by 0" in m or "by zero" in m:
        return "div-zero"
    if "trunc" in m or "float" in m and ("nan" in m or "overflow" in m):
        return "conversion"
    if "div" in m or "rem" in m:
        return "int-overflow"
    if "calllindirect" in m or "callindirect" in m or "call_indirect" in m or "table" in m:
        return "table"
    if "memory" in m or "segment" in m or "out of bounds" in m:
        return "memory"
    if "stack" in m or "depth" in m:
        return "stack"
    return "other:" + msg


OUR_TRAP_KIND = {1: "unreachable", 2: "div-zero", 3: "int-overflow", 4: "conversion",
                 5: "memory", 6: "table", 7: "table", 8: "table", 9: "table", 10: "stack"}


def trap_category_ours(text):
    # "[trap K: msg]"
    try:
        k = int(text[len("[trap "):].split(":", 1)[0])
    except ValueError:
        return "other:" + text
    return OUR_TRAP_KIND.get(k, "other:%d" % k)


def cat_equal(a, b):
    # Float-to-int traps: binaryen says "truncSFloat overflow" / "truncUFloat of nan"; we
    # say "integer overflow" (out of range) or "invalid conversion to integer" (NaN), so a
    # binaryen "conversion" matches either of ours.
    if a == b:
        return True
    return a == "conversion" and b in ("int-overflow", "conversion")


def parse_float_token(tok):
    t = tok.strip()
    if "nan" in t:
        return float("nan")
    if t in ("inf", "+inf", "infinity"):
        return float("inf")
    if t in ("-inf", "-infinity"):
        return float("-inf")
    return float(t)


def our_value(tok):
    """('i', int) | ('f32'|'f64', python float, bits)"""
    if tok.startswith("f32:"):
        bits = int(tok[4:], 16)
        return ("f32", struct.unpack("<f", struct.pack("<I", bits))[0], bits)
    if tok.startswith("f64:"):
        bits = int(tok[4:], 16)
        return ("f64", struct.unpack("<d", struct.pack("<Q", bits))[0], bits)
    return ("i", int(tok), None)


def v128_lanes(tok):
    """'i32x4 0xA 0xB 0xC 0xD' (either side's spelling) -> [A, B, C, D] or None."""
    t = tok.split()
    if len(t) != 5 or t[0] != "i32x4":
        return None
    try:
        return [int(x, 16) for x in t[1:]]
    except ValueError:
        return None


def f32_nan(x):
    return (x & 0x7f800000) == 0x7f800000 and (x & 0x007fffff) != 0


def f64_nan(lo, hi):
    return (hi & 0x7ff00000) == 0x7ff00000 and ((hi & 0x000fffff) != 0 or lo != 0)


def v128_equal(a, b):
    """Bit-equal, except that NaN bits are nondeterministic: a lane pair where both sides
    hold a NaN of the same width matches (binaryen canonicalises f32x4/f64x2 NaNs, we
    propagate payloads; --denan of binaryen 108 leaves v128 values alone). The lane
    width is unknown from the value, so each differing 32-bit lane must be an f32 NaN on
    both sides, or each differing 64-bit half an f64 NaN on both sides."""
    if a == b:
        return True
    if all(x == y or (f32_nan(x) and f32_nan(y)) for x, y in zip(a, b)):
        return True
    return all((a[k:k + 2] == b[k:k + 2]) or (f64_nan(a[k], a[k + 1]) and f64_nan(b[k], b[k + 1]))
               for k in (0, 2))


def value_equal(ours_tok, bin_tok):
    # v128: binaryen prints four i32 lanes in hex; compared bit for bit but for NaN lanes
    if ours_tok.startswith("i32x4") or bin_tok.startswith("i32x4"):
        a, b = v128_lanes(ours_tok), v128_lanes(bin_tok)
        return a is not None and b is not None and v128_equal(a, b)
    kind, v, _ = our_value(ours_tok)
    if kind == "i":
        try:
            return int(bin_tok) == v
        except ValueError:
            return False
    try:
        b = parse_float_token(bin_tok)
    except ValueError:
        return False
    if math.isnan(v) or math.isnan(b):
        return math.isnan(v) and math.isnan(b)
    if kind == "f32" and not math.isinf(b):
        try:
            b = struct.unpack("<f", struct.pack("<f", b))[0]
        except OverflowError:
            return False
    return b == v and math.copysign(1, b) == math.copysign(1, v)


def split_values(s):
    s = s.strip()
    if s.startswith("(") and s.endswith(")"):
        return [x.strip() for x in s[1:-1].split(",")]
    return [s]


def normalise(lines, ours):
    """-> list of (kind, payload) events; kind in calling/result/log/trap/other."""
    ev = []
    for ln in lines:
        ln = ln.rstrip("\n")
        if not ln:
            continue
        if ln.startswith("[fuzz-exec] calling "):
            ev.append(("calling", ln[len("[fuzz-exec] calling "):]))
        elif ln.startswith("[fuzz-exec] note result: "):
            rest = ln[len("[fuzz-exec] note result: "):]
            name, _, vals = rest.partition(" => ")
            ev.append(("result", (name, split_values(vals))))
        elif ln.startswith("[LoggingExternalInterface logging"):
            body = ln[len("[LoggingExternalInterface logging"):].rstrip("]").strip()
            # one v128 argument stays one token ("i32x4 0x.. 0x.. 0x.. 0x..")
            ev.append(("log", [body] if body.startswith("i32x4 ") else body.split()))
        elif ln.startswith("[trap "):
            ev.append(("trap", trap_category_ours(ln) if ours else
                       trap_category_binaryen(ln[len("[trap "):-1])))
        elif ours and ln.startswith("[instantiate error]"):
            ev.append(("trap-instantiate", ln))
        elif ours and ln.startswith("[fuel exhausted]"):
            ev.append(("fuel", ln))
        elif ln.startswith("warning:"):
            continue
        else:
            ev.append(("other", ln))
    return ev


def compare_exec(bout, oout):
    """-> (status, detail): status 'ok' | 'inconclusive' | mismatch cause."""
    be = normalise(bout.splitlines(), False)
    oe = normalise(oout.splitlines(), True)
    # binaryen: a trap during instance creation prints "[trap ...]" and nothing else.
    if oe and oe[0][0] == "trap-instantiate":
        if len(be) >= 1 and be[0][0] == "trap" and not any(e[0] == "calling" for e in be):
            return "ok", ""
        return "instantiate", "we failed to instantiate (%s), binaryen: %r" % (oe[0][1], be[:3])
    for k in range(max(len(be), len(oe))):
        if k >= len(oe):
            return "missing-events", "ours ended at event %d; binaryen continues with %r" % (k, be[k])
        if oe[k][0] == "fuel":
            return "inconclusive", "fuel exhausted at event %d" % k
        if oe[k][0] == "other":
            return "driver", "event %d: %s" % (k, oe[k][1])
        if k >= len(be):
            return "extra-events", "binaryen ended at event %d; ours continues with %r" % (k, oe[k])
        b, o = be[k], oe[k]
        if b[0] == "other":
            return "binaryen-other", "event %d: %s" % (k, b[1])
        if b[0] != o[0]:
            return "event-kind", "event %d: binaryen %r, ours %r" % (k, b, o)
        if b[0] == "calling" and b[1] != o[1]:
            return "event-kind", "event %d: calling %s vs %s" % (k, b[1], o[1])
        if b[0] == "trap" and not cat_equal(b[1], o[1]):
            return "trap-kind", "event %d: binaryen %s, ours %s" % (k, b[1], o[1])
        if b[0] == "result":
            bn, bv = b[1]
            on, ov = o[1]
            if bn != on or len(bv) != len(ov) or not all(value_equal(x, y) for x, y in zip(ov, bv)):
                return "result", "event %d: binaryen %s => %s, ours %s => %s" % (k, bn, bv, on, ov)
        if b[0] == "log":
            if len(b[1]) != len(o[1]) or not all(value_equal(x, y) for x, y in zip(o[1], b[1])):
                return "log", "event %d: binaryen %s, ours %s" % (k, b[1], o[1])
    return "ok", ""


# ---------------------------------------------------------------- mutation

def mutate(rng, b):
    b = bytearray(b)
    op = rng.randrange(7)
    if op == 0:            # flip bits in 1..4 bytes
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif op == 1:          # random byte values
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == 2:          # insert bytes
        i = rng.randrange(len(b) + 1)
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif op == 3:          # delete a range
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 8)]
    elif op == 4:          # truncate
        del b[rng.randrange(8, max(9, len(b))):]
    elif op == 5:          # interesting values
        i = rng.randrange(len(b))
        b[i] = rng.choice([0x00, 0x0b, 0x7f, 0x80, 0xff, 0x40, 0x41, 0x0f, 0x10, 0x11, 0x70, 0x6f, 0xfc, 0xfd])
    else:                  # bump a byte inside a section payload by +-1 (keeps structure)
        secs = sections(bytes(b)) or []
        if secs:
            _, s, e = rng.choice(secs)
            if e > s:
                i = rng.randrange(s, e)
                b[i] = (b[i] + rng.choice([1, 255])) & 0xff
    return bytes(b)


# ---------------------------------------------------------------- main loop

class Stats:
    def __init__(self):
        self.generated = 0
        self.gen_failed = 0
        self.compared = 0
        self.exec_ok = 0
        self.inconclusive = 0
        self.nan_dependent = 0
        self.events = {}
        self.mismatch = {}
        self.verdicts = 0
        self.verdict_agree = 0
        self.whitelisted = {}

    def bad(self, cause):
        self.mismatch[cause] = self.mismatch.get(cause, 0) + 1


def save(outdir, tag, files, note):
    os.makedirs(outdir, exist_ok=True)
    d = tempfile.mkdtemp(prefix=tag + "-", dir=outdir)
    for name, data in files.items():
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(os.path.join(d, name), mode) as f:
            f.write(data)
    with open(os.path.join(d, "README"), "w") as f:
        f.write(note + "\n")
    return d


def check_exec(args, path, driver=None):
    driver = driver or args.driver
    brc, bout, berr = run(["wasm-opt"] + FEATURES + [path, "--fuzz-exec-before", "-q"])
    if brc is None:
        return "inconclusive", "binaryen timeout", bout, ""
    if brc != 0:
        return "binaryen-error", "wasm-opt exit %s: %s" % (brc, berr.strip()[-300:]), bout, ""
    orc, oout, oerr = run([driver, "exec", path])
    if orc is None:
        return "timeout", "our driver timed out (%d s)" % TIMEOUT, bout, oout
    if orc < 0:
        return "crash", "our driver died with signal %d: %s" % (-orc, oerr.strip()[-300:]), bout, oout
    if orc != 0:
        return "driver-exit", "driver exit %d: %s %s" % (orc, oout.strip()[-300:], oerr.strip()[-300:]), bout, oout
    st, detail = compare_exec(bout, oout)
    return st, detail, bout, oout


# comparison outcomes that NaN bits can explain (not crashes, timeouts or tool errors)
VALUE_MISMATCHES = ("result", "log", "event-kind", "trap-kind", "missing-events", "extra-events",
                    "instantiate")


def nan_dependent(args, wasm, tmp):
    """Does the module agree once NaNs are taken out: binaryen's --denan (scalars)
    and denan_v128 (float vectors)?"""
    d = os.path.join(tmp, "denan.wasm")
    rc, _, _ = run(["wasm-opt"] + FEATURES + [wasm, "--denan", "-o", d])
    if rc != 0:
        return False
    with open(d, "rb") as f:
        v = denan_v128(f.read())
    if v is None:
        return False
    with open(d, "wb") as f:
        f.write(v)
    for drv in [args.driver] + ([args.driver2] if args.driver2 else []):
        status, _, _, _ = check_exec(args, d, drv)
        if status != "ok":
            return False
    return True


def verdicts(args, paths):
    """-> {path: (ours_ok, ours_msg)}"""
    rc, out, err = run([args.driver, "validate"] + paths, timeout=TIMEOUT * 4)
    res = {}
    if rc is None or rc < 0:
        return None, "validate run died (%s): %s" % (rc, err.strip()[-300:])
    for ln in out.splitlines():
        if ln.startswith("ok "):
            res[ln[3:]] = (True, "")
        elif ln.startswith("invalid "):
            p, _, msg = ln[8:].partition(": ")
            res[p] = (False, msg)
    return res, ""


def one(args, st, rng, it, tmp):
    size = rng.choice([rng.randint(64, 1024), rng.randint(1024, 8192), rng.randint(8192, 40000)])
    data = rng.randbytes(size) if hasattr(rng, "randbytes") else bytes(rng.getrandbits(8) for _ in range(size))
    dat = os.path.join(tmp, "in.dat")
    wasm = os.path.join(tmp, "m.wasm")
    with open(dat, "wb") as f:
        f.write(data)
    denan = rng.random() < args.denan
    # binaryen's optimizer reshapes the random code (br_table, select, fused blocks, ...)
    opt = rng.choice([[], [], [], ["-O1"], ["-O3"], ["-Oz"], ["--fuzz-passes"]])
    extra = opt + (["--denan"] if denan else [])
    rc, _, err = run(["wasm-opt"] + FEATURES + ["-ttf", dat, "-o", wasm] + extra)
    if rc != 0:
        st.gen_failed += 1
        return
    st.generated += 1
    with open(wasm, "rb") as f:
        mbytes = f.read()

    # execution (the second driver, e.g. the switch-dispatch build, checked the same way)
    status, detail, bout, oout = check_exec(args, wasm)
    if status in ("ok", "inconclusive") and args.driver2:
        s2, d2, b2, o2 = check_exec(args, wasm, args.driver2)
        if s2 not in ("ok", "inconclusive"):
            status, detail, bout, oout = "driver2-" + s2, d2, b2, o2
    if status == "ok":
        st.compared += 1
        st.exec_ok += 1
        for kind, _ in normalise(bout.splitlines(), False):
            st.events[kind] = st.events.get(kind, 0) + 1
    elif status == "inconclusive":
        st.inconclusive += 1
    elif status.replace("driver2-", "") in VALUE_MISMATCHES and nan_dependent(args, wasm, tmp):
        # NaN sign/payload bits are nondeterministic in Wasm (arithmetic NaN results):
        # binaryen's interpreter and our engine may differ legitimately, and the bits
        # show up in results/loggings via reinterpret, and in control flow via a NaN
        # stored to memory and loaded back as an integer. If the same module with
        # binaryen's --denan instrumentation and denan_v128 agrees, count it as
        # NaN-dependent. (A module generated with --denan is re-checked too: --denan
        # leaves float vectors alone.)
        st.compared += 1
        st.nan_dependent += 1
    else:
        st.compared += 1
        st.bad("exec-" + status)
        d = save(args.out, "exec-" + status, {"m.wasm": mbytes, "binaryen.txt": bout, "ours.txt": oout},
                 "iteration %d seed %s, ttf %s: %s" % (it, args.seed, " ".join(extra) or "-", detail))
        print("MISMATCH exec-%s: %s -> %s" % (status, detail, d), flush=True)

    # verdicts: the module itself and its mutants
    cands = [("orig", mbytes)] + [("mut%d" % k, mutate(rng, mbytes)) for k in range(args.mutants)]
    paths = []
    for name, b in cands:
        p = os.path.join(tmp, name + ".wasm")
        with open(p, "wb") as f:
            f.write(b)
        paths.append(p)
    ours, why = verdicts(args, paths)
    if ours is None:
        st.bad("validate-crash")
        d = save(args.out, "validate-crash", {"m.wasm": mbytes}, why)
        print("MISMATCH validate-crash: %s -> %s" % (why, d), flush=True)
        return
    for (name, b), p in zip(cands, paths):
        wrc, wout, werr = run(["wasm-validate"] + WABT_FLAGS + [p])
        if wrc is None or wrc < 0:
            continue
        st.verdicts += 1
        wabt_ok = wrc == 0
        ours_ok, ours_msg = ours.get(p, (None, "missing"))
        if ours_ok is None:
            st.bad("verdict-missing")
            continue
        if wabt_ok == ours_ok:
            st.verdict_agree += 1
            continue
        wmsg = (wout + werr).strip()
        bug = next((n for n, pred in WABT_BUGS if pred(b, wabt_ok, ours_ok, ours_msg, wmsg)), None)
        if bug:
            st.whitelisted[bug] = st.whitelisted.get(bug, 0) + 1
            continue
        cause = "verdict-" + ("we-reject" if wabt_ok else "we-accept")
        st.bad(cause)
        d = save(args.out, cause, {"m.wasm": b}, "iteration %d seed %s (%s): wabt %s %r; ours %s %r"
                 % (it, args.seed, name, "accepts" if wabt_ok else "rejects", wmsg[-300:],
                    "accepts" if ours_ok else "rejects", ours_msg))
        print("MISMATCH %s: wabt=%s ours=%s (%s) -> %s" % (cause, wabt_ok, ours_ok, ours_msg, d), flush=True)


def replay(args):
    p = args.replay
    if os.path.isdir(p):
        p = os.path.join(p, "m.wasm")
    status, detail, bout, oout = check_exec(args, p)
    print("exec: %s %s" % (status, detail), flush=True)
    if status in VALUE_MISMATCHES:
        tmp = tempfile.mkdtemp(prefix="fuzzdiff-")
        print("exec after --denan: %s" % ("agrees (NaN-dependent)" if nan_dependent(args, p, tmp)
                                           else "still differs"), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    ours, _ = verdicts(args, [p])
    wrc, wout, werr = run(["wasm-validate"] + WABT_FLAGS + [p])
    ok, msg = ours.get(p, (None, ""))
    with open(p, "rb") as f:
        b = f.read()
    bug = next((n for n, pred in WABT_BUGS if pred(b, wrc == 0, ok, msg, (wout + werr).strip())), None)
    print("verdict: wabt %s (%s), ours %s%s" % ("ok" if wrc == 0 else "invalid", (wout + werr).strip(),
                                                 (ok, msg), " -> known wabt bug " + bug if bug else ""))
    return 0 if status in ("ok", "inconclusive") else 1


def selftest(driver=None):
    """The comparer must accept equal runs and catch planted differences."""
    b = ("[fuzz-exec] calling f\n[LoggingExternalInterface logging 5 -1]\n"
         "[fuzz-exec] note result: f => (1, -0, nan:0x400000, 0.1, 3402823466385288598117041e14)\n"
         "[fuzz-exec] calling g\n[trap i32.div_s by 0]\n"
         "[fuzz-exec] calling h\n[trap i64.truncUFloat of nan]\n"
         "[fuzz-exec] calling v\n[LoggingExternalInterface logging i32x4 0x00800000 0x00000000 0xfffffff4 0x7fc00000]\n"
         "[fuzz-exec] note result: v => (i32x4 0x00000001 0x00000002 0x00000003 0xffffffff, 7)\n")
    o = ("[fuzz-exec] calling f\n[LoggingExternalInterface logging 5 -1]\n"
         "[fuzz-exec] note result: f => (1, f64:0x8000000000000000, f32:0xffc00001, "
         "f64:0x3fb999999999999a, f32:0x7f7fffff)\n"
         "[fuzz-exec] calling g\n[trap 2: integer divide by zero]\n"
         "[fuzz-exec] calling h\n[trap 4: invalid conversion to integer]\n"
         "[fuzz-exec] calling v\n[LoggingExternalInterface logging i32x4 0x00800000 0x00000000 0xfffffff4 0x7fc00000]\n"
         "[fuzz-exec] note result: v => (i32x4 0x00000001 0x00000002 0x00000003 0xffffffff, 7)\n")
    bad = 0
    if compare_exec(b, o)[0] != "ok":
        print("selftest: equal runs reported as %s" % (compare_exec(b, o),))
        bad += 1
    planted = [("f64:0x8000000000000000", "f64:0x0000000000000000", "result"),   # -0 vs +0
               ("f32:0xffc00001", "f32:0x3f800000", "result"),                   # NaN vs 1.0
               ("f64:0x3fb999999999999a", "f64:0x3fb999999999999b", "result"),   # 1 ulp
               ("logging 5 -1", "logging 5 1", "log"),
               ("[trap 2: integer divide by zero]", "[trap 5: out of bounds memory access]", "trap-kind"),
               ("[fuzz-exec] calling h\n[trap 4: invalid conversion to integer]\n",
                "[fuzz-exec] calling h\n", "event-kind"),
               ("[fuzz-exec] note result: v => (i32x4 0x00000001 0x00000002 0x00000003 0xffffffff, 7)\n",
                "", "missing-events"),
               ("0xfffffff4 0x7fc00000]", "0xfffffff4 0x3f800000]", "log"),      # v128 lane 3
               ("i32x4 0x00000001 0x00000002", "i32x4 0x00000001 0x00000012", "result"),
               ("0x00000003 0xffffffff, 7", "0x00000003 0xffffffff, 8", "result"),
               ("0xfffffff4 0x7fc00000]", "0xfffffff4 0x7f800000]", "log"),      # NaN vs inf
               ("0xfffffff4 0x7fc00000]", "0xfffffff4 0xffc01234]", "ok")]        # NaN vs NaN
    for old, new, want in planted:
        got = compare_exec(b, o.replace(old, new))[0]
        if got != want:
            print("selftest: planted %r -> %r gave %s, want %s" % (old, new, got, want))
            bad += 1
    # whitelist predicates must recognise exactly their bug
    noend = bytes.fromhex("0061736d01000000010401600000030201000a0601040002400b")
    if not wabt_bug_body_ends_inside_block(noend, True, False, "unexpected end of section or function "
                                           "(offset 26, func 0)", ""):
        print("selftest: body-ends-inside-block not recognised")
        bad += 1
    if wabt_bug_body_ends_inside_block(noend, True, False, "unexpected end of section or function "
                                       "(offset 24, func 0)", ""):
        print("selftest: body-ends-inside-block matched a different offset")
        bad += 1
    dc = bytes.fromhex("0061736d01000000050301000" + "10c0101")
    if not wabt_bug_datacount_without_data(dc, True, False, "data count and data section have "
                                           "inconsistent lengths", ""):
        print("selftest: datacount-without-data not recognised")
        bad += 1
    ce = bytes.fromhex("0061736d01000000" "0606017f0141a80b" "070100")
    if not wabt_bug_const_expr_end_in_leb(ce, True, False, "unexpected end of section or function (offset 16, func -1)", ""):
        print("selftest: const-expr-end-in-leb not recognised")
        bad += 1
    df = bytes.fromhex("0061736d01000000" "0503010001" "0b070104" "41000b0161")
    if not wabt_bug_data_flags_4(df, True, False, "malformed data segment kind (offset 16, func -1)", ""):
        print("selftest: data-segment-flags-4 not recognised")
        bad += 1
    dfp = bytes.fromhex("0061736d01000000" "0503010001" "0b08018400" "41000b0161")
    if not wabt_bug_data_flags_4(dfp, True, False, "malformed data segment kind (offset 16, func -1)", ""):
        print("selftest: data-segment-flags-4 as a padded LEB (84 00) not recognised")
        bad += 1
    if wabt_bug_data_flags_4(df.replace(bytes.fromhex("0b070104"), bytes.fromhex("0b070103")), True, False,
                             "malformed data segment kind (offset 16, func -1)", ""):
        print("selftest: data-segment-flags-4 matched flags 3")
        bad += 1
    sel = bytes.fromhex("0061736d01000000" "010501600001" "7f" "03020100" "0a0c010a00" "4101410241001c000b")
    if not wabt_bug_typed_select_no_type(sel, True, False, "invalid result arity (offset 30, func 0)", ""):
        print("selftest: typed-select-without-type not recognised")
        bad += 1
    if wabt_bug_typed_select_no_type(sel, True, False, "invalid result arity (offset 29, func 0)", ""):
        print("selftest: typed-select-without-type matched another offset")
        bad += 1
    ece = bytes.fromhex("0061736d01000000" "0503010001" "0b04" "01000b00")
    if not wabt_bug_empty_const_expr(ece, True, False, "type mismatch (offset 17, func -1)", ""):
        print("selftest: empty-const-expr not recognised")
        bad += 1
    gg = bytes.fromhex("0061736d01000000" "0503010001" "0b06" "010023000b00")
    if wabt_bug_empty_const_expr(gg, True, False, "type mismatch (offset 19, func -1)", ""):
        print("selftest: empty-const-expr matched global.get 0")
        bad += 1
    nv, vbad = selftest_denan_v128(driver)
    bad += vbad
    print("fuzzdiff selftest: %d passed, %d failed" % (len(planted) + 13 + nv - bad, bad))
    return 1 if bad else 0


# f32x4/f64x2 NaN results whose bits reach an integer: binaryen canonicalises them, we
# keep the payload (both allowed); lanes that are not NaN and integer vectors must
# survive denan_v128 unchanged; "g" checks the appended local's index after params and
# locals, and a float vector op in unreachable code.
DENAN_V128_WAT = """(module
  (import "fuzzing-support" "log-i64" (func $log (param i64)))
  (func (export "f")
    (call $log (i64x2.extract_lane 1 (f32x4.add
      (v128.const i32x4 0xc2c60000 0xd1800000 0xffffb15e 0xd9800000) (v128.const f32x4 1 1 1 1))))
    (call $log (i64x2.extract_lane 0 (f64x2.mul
      (v128.const i64x2 0xfff0000000000123 3) (v128.const f64x2 2 2))))
    (call $log (i64x2.extract_lane 0 (i32x4.add
      (v128.const i32x4 0xffffb15e 0x7fc01234 0 0) (v128.const i32x4 1 1 1 1)))))
  (func (export "g") (param i32 f64) (result i32) (local i64 v128)
    (local.set 3 (f32x4.sqrt (v128.const f32x4 -1 4 9 16)))
    (block (br 0) (drop (f32x4.neg (local.get 3))))
    (i32x4.extract_lane 1 (local.get 3))))
"""
DENAN_V128_WANT = ["[LoggingExternalInterface logging 0 -645922816]",
                   "[LoggingExternalInterface logging 0 0]",
                   "[LoggingExternalInterface logging -20129 2143294005]",
                   "[fuzz-exec] note result: g => 1073741824"]


def selftest_denan_v128(driver):
    """-> (checks, failed). With a driver: the module differs between binaryen and us
    only by NaN bits, which nan_dependent must recognise (it did not before denan_v128:
    a CI failure, seed 1516351615)."""
    bad = 0
    checks = 3 + (1 if driver else 0)
    tmp = tempfile.mkdtemp(prefix="fuzzdiff-st-")
    try:
        wat, m = os.path.join(tmp, "m.wat"), os.path.join(tmp, "m.wasm")
        with open(wat, "w") as f:
            f.write(DENAN_V128_WAT)
        rc, _, err = run(["wat2wasm", wat, "-o", m])
        if rc != 0:
            print("selftest: wat2wasm: %s" % err.strip())
            return checks, checks
        with open(m, "rb") as f:
            b = f.read()
        v = denan_v128(b)
        r = os.path.join(tmp, "r.wasm")
        if v is None or v == b:
            print("selftest: denan_v128 did not rewrite the module")
            return checks, checks
        with open(r, "wb") as f:
            f.write(v)
        rc, out, err = run(["wasm-validate", r])
        if rc != 0:
            print("selftest: denan_v128 output invalid: %s" % (out + err).strip())
            bad += 1
        rc, out, err = run(["wasm-opt"] + FEATURES + [r, "--fuzz-exec-before", "-q"])
        got = [ln for ln in out.splitlines() if "logging" in ln or "note result" in ln]
        if got != DENAN_V128_WANT:
            print("selftest: denan_v128 output under binaryen: %r, want %r" % (got, DENAN_V128_WANT))
            bad += 1
        if denan_v128(v[:-3]) is not None:
            print("selftest: denan_v128 accepted a truncated module")
            bad += 1
        if driver:
            class A:
                pass
            a = A()
            a.driver, a.driver2 = driver, None
            st, detail, _, _ = check_exec(a, m)
            if st == "ok" or not nan_dependent(a, m, tmp):
                print("selftest: NaN-only difference (%s %s) not recognised as NaN-dependent" % (st, detail))
                bad += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checks, bad


def main():
    if "--selftest" in sys.argv:
        k = sys.argv.index("--driver") if "--driver" in sys.argv else -1
        return selftest(sys.argv[k + 1] if k > 0 else None)
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--driver2", help="a second build of the driver (e.g. SWITCH=1), compared too")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--mutants", type=int, default=4)
    ap.add_argument("--denan", type=float, default=0.5, help="fraction of modules run through --denan")
    ap.add_argument("--out", default="objs/fuzz-diff")
    ap.add_argument("--replay")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    if args.replay:
        return replay(args)
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "little")
    # run private copies of the drivers: a rebuild during a long run must not swap the
    # engine under us (or leave the path briefly non-executable)
    bindir = tempfile.mkdtemp(prefix="fuzzdiff-bin-")
    for attr in ("driver", "driver2"):
        if getattr(args, attr):
            dst = os.path.join(bindir, attr)
            shutil.copy2(getattr(args, attr), dst)
            setattr(args, attr, dst)
    rng = random.Random(args.seed)
    st = Stats()
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="fuzzdiff-")
    try:
        it = 0
        while it < args.count and time.time() - t0 < args.seconds:
            one(args, st, rng, it, tmp)
            it += 1
            if args.v and it % 50 == 0:
                print("... %d iterations, %d mismatches, %.0f s" % (it, sum(st.mismatch.values()), time.time() - t0),
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(bindir, ignore_errors=True)
    nbad = sum(st.mismatch.values())
    print("seed %d, %.1f s: modules generated %d (ttf failures %d), executions compared %d "
          "(agree %d, NaN-dependent %d, inconclusive %d), verdicts compared %d (agree %d, known wabt bugs %s)"
          % (args.seed, time.time() - t0, st.generated, st.gen_failed, st.compared, st.exec_ok,
             st.nan_dependent, st.inconclusive, st.verdicts, st.verdict_agree,
             ", ".join("%s %d" % kv for kv in sorted(st.whitelisted.items())) or "0"))
    print("events compared in agreeing runs: %s" % ", ".join("%s %d" % kv for kv in sorted(st.events.items())))
    print("mismatches by cause: %s" % (", ".join("%s %d" % kv for kv in sorted(st.mismatch.items())) or "none"))
    if nbad:
        print("reproducers in %s (replay: fuzzdiff.py --driver D --replay DIR)" % args.out)
    print("fuzzdiff: %d passed, %d failed" % (st.exec_ok + st.nan_dependent + st.verdict_agree + sum(st.whitelisted.values()), nbad))
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())
