"""bench/component/profile.py PROFILE [MODULE.wasm|COMPONENT.wasm] [incl|self|callers F|callees F] [N]

Reads the per-function profile written by `make PROFILE=1` builds (MICRO_PROFILE=FILE
objs/prof/bench/component/micro X.wasm) and prints, per request, the functions by inclusive
or self dispatches, or the callers/callees of function F. Names come from the name section of
the module (or of the biggest core module of a component) via wasm-objdump, demangled by
c++filt: a componentize-js handler built with `jco componentize --debug-starlingmonkey-build`
has one (its release engine has none). Function indices are those of the module's index space
(imports first); a component's core modules share the file, so give the module whose names
you want and read the biggest counts. A diagnostic, not a test."""
import re
import subprocess
import sys


def leb(d, i):
    r = s = 0
    while True:
        b = d[i]
        i += 1
        r |= (b & 0x7f) << s
        s += 7
        if b < 0x80:
            return r, i


def names_of(path):
    d = open(path, "rb").read()
    if d[4:8] != b"\x01\x00\x00\x00":          # a component: its biggest core module
        best, i = None, 8
        while i < len(d):
            sz, j = leb(d, i + 1)
            if d[i] == 1 and (best is None or sz > len(best)):
                best = d[j:j + sz]
            i = j + sz
        tmp = "/tmp/profile-py-%d.wasm" % __import__("os").getpid()
        open(tmp, "wb").write(best)
        path = tmp
    out = subprocess.run(["wasm-objdump", "-x", "-j", "name", path], capture_output=True,
                         text=True).stdout
    raw = dict((int(m.group(1)), m.group(2)) for m in
               re.finditer(r"^ - func\[(\d+)\] <(.*)>$", out, re.M))
    keys = list(raw)
    dem = subprocess.run(["c++filt"], input="\n".join(raw[k] for k in keys), capture_output=True,
                         text=True).stdout.split("\n")
    return dict(zip(keys, dem))


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        return 1
    names = names_of(a[1]) if len(a) > 1 and a[1].endswith(".wasm") else {}
    rest = a[2:] if names or (len(a) > 1 and a[1].endswith(".wasm")) else a[1:]
    mode = rest[0] if rest else "incl"
    target = int(rest[1]) if mode in ("callers", "callees") else None
    top = int(rest[-1]) if rest and rest[-1].isdigit() and mode not in ("callers", "callees") else 60
    reqs, funcs, edges, totals = 1, {}, [], ""
    for line in open(a[0]):
        p = line.split()
        if p[0] == "R":
            reqs = int(p[1])
        elif p[0] == "T":
            totals = line.strip()
        elif p[0] == "F":
            f = funcs.setdefault(int(p[1]), [0, 0, 0])
            for k in range(3):
                f[k] += int(p[2 + k])
        elif p[0] == "E":
            edges.append(tuple(int(x) for x in p[1:]))
    nm = lambda i: names.get(i, "func %d" % i)[:150]
    print("%d requests; %s; %.0f dispatches/request in these functions"
          % (reqs, totals, sum(f[0] for f in funcs.values()) / reqs))
    if mode in ("incl", "self"):
        k = 2 if mode == "incl" else 0
        for i, f in sorted(funcs.items(), key=lambda x: -x[1][k])[:top]:
            print("%6d incl %9.0f self %9.0f calls %8.1f  %s"
                  % (i, f[2] / reqs, f[0] / reqs, f[1] / reqs, nm(i)))
    else:
        sel = [e for e in edges if (e[1] if mode == "callers" else e[0]) == target]
        for e in sorted(sel, key=lambda e: -e[3])[:40]:
            o = e[0] if mode == "callers" else e[1]
            print("%6d calls %8.1f incl %9.0f  %s" % (o, e[2] / reqs, e[3] / reqs, nm(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
