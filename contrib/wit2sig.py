#!/usr/bin/env python3
"""wit2sig.py -- render the WIT function types of the interfaces the component host binds
as compact signatures, for src/host/comp/wd_host_comp_sigs.c (the load-time type check of
every component import against the WIT; see wd_host_comp_sig.c for the grammar).

    python3 contrib/wit2sig.py ../shared/reference/wasi-http-wit > src/host/comp/wd_host_comp_sigs.c

Reads the WIT subset those packages use (packages, interfaces, use, type aliases, record,
variant, enum, flags, resource with constructor/method/static functions, free functions,
@since/@unstable/@deprecated gates, %-escaped identifiers). Named value types become shared
definitions ($N.), resources become own<iface#name> / borrow<iface#name> with the interface
named without its version.
"""
import os
import re
import sys

SKIP_PKGS = {"wasi:sockets"}          # not provided by wasmd: imports of them are refused

TOK = re.compile(r"\s*(///[^\n]*|//[^\n]*|/\*.*?\*/|->|[A-Za-z_%][A-Za-z0-9_\-%]*|@\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?|@[A-Za-z]+|[{}()<>,:;.=/*@]|\S)", re.S)


def tokens(text):
    out = []
    pos = 0
    while pos < len(text):
        m = TOK.match(text, pos)
        if not m:
            break
        pos = m.end()
        t = m.group(1)
        if t.startswith("//") or t.startswith("/*"):
            continue
        out.append(t)
    return out


class P:
    def __init__(self, toks):
        self.t = toks
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def next(self):
        t = self.t[self.i]
        self.i += 1
        return t

    def expect(self, s):
        t = self.next()
        if t != s:
            raise SyntaxError("expected %r got %r near %r" % (s, t, self.t[self.i - 5:self.i + 5]))

    def ident(self):
        t = self.next()
        return t[1:] if t.startswith("%") else t

    def gate(self):
        while self.peek() and re.match(r"@[A-Za-z]", self.peek()):
            self.next()
            if self.peek() == "(":
                depth = 0
                while True:
                    t = self.next()
                    depth += t == "("
                    depth -= t == ")"
                    if depth == 0:
                        break


# interfaces[(pkg, iface)] = {"types": {name: tdef}, "funcs": [(name, params, result)],
#                             "resources": [names], "uses": {local: (pkg, iface, name)}}
IFACES = {}


def parse_type(p):
    """a type expression: ('prim', n) | ('list', t) | ('option', t) | ('result', ok, err) |
    ('tuple', [t]) | ('own', ref) | ('borrow', ref) | ('ref', name)"""
    n = p.ident()
    if n in ("list", "option"):
        p.expect("<")
        e = parse_type(p)
        p.expect(">")
        return (n, e)
    if n == "result":
        if p.peek() != "<":
            return ("result", None, None)
        p.expect("<")
        ok = None if p.peek() == "_" else parse_type(p)
        if ok is None:
            p.next()
        err = None
        if p.peek() == ",":
            p.next()
            err = parse_type(p)
        p.expect(">")
        return ("result", ok, err)
    if n == "tuple":
        p.expect("<")
        ts = [parse_type(p)]
        while p.peek() == ",":
            p.next()
            ts.append(parse_type(p))
        p.expect(">")
        return ("tuple", ts)
    if n in ("own", "borrow"):
        p.expect("<")
        r = p.ident()
        p.expect(">")
        return (n, ("ref", r))
    if n in ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64",
             "char", "string"):
        return ("prim", n)
    return ("ref", n)


def parse_params(p):
    p.expect("(")
    ps = []
    while p.peek() != ")":
        n = p.ident()
        p.expect(":")
        ps.append((n, parse_type(p)))
        if p.peek() == ",":
            p.next()
    p.expect(")")
    return ps


def parse_func(p):
    p.expect("func")
    ps = parse_params(p)
    res = None
    if p.peek() == "->":
        p.next()
        res = parse_type(p)
    p.expect(";")
    return ps, res


def parse_iface(p, pkg, name):
    it = IFACES.setdefault((pkg, name), {"types": {}, "funcs": [], "resources": [], "uses": {}})
    p.expect("{")
    while True:
        p.gate()
        t = p.next()
        if t == "}":
            return
        if t == "use":
            path = []
            while p.peek() != ".":
                path.append(p.next())
            p.expect(".")
            p.expect("{")
            src = "".join(path)
            if ":" in src:
                spkg, rest = src.split("/", 1)
                siface = rest.split("@")[0]
                spkg = spkg
            else:
                spkg, siface = pkg, src
            while p.peek() != "}":
                n = p.ident()
                local = n
                if p.peek() == "as":
                    p.next()
                    local = p.ident()
                it["uses"][local] = (spkg, siface, n)
                if p.peek() == ",":
                    p.next()
            p.expect("}")
            p.expect(";")
        elif t == "type":
            n = p.ident()
            p.expect("=")
            it["types"][n] = ("alias", parse_type(p))
            p.expect(";")
        elif t in ("record", "variant", "enum", "flags"):
            n = p.ident()
            p.expect("{")
            cases = []
            while p.peek() != "}":
                p.gate()
                if p.peek() == "}":
                    break
                c = p.ident()
                ct = None
                if t == "record":
                    p.expect(":")
                    ct = parse_type(p)
                elif t == "variant" and p.peek() == "(":
                    p.next()
                    ct = parse_type(p)
                    p.expect(")")
                cases.append((c, ct))
                if p.peek() == ",":
                    p.next()
            p.expect("}")
            it["types"][n] = (t, cases)
        elif t == "resource":
            r = p.ident()
            it["resources"].append(r)
            it["types"][r] = ("resource",)
            if p.peek() == ";":
                p.next()
                continue
            p.expect("{")
            while True:
                p.gate()
                if p.peek() == "}":
                    p.next()
                    break
                if p.peek() == "constructor":
                    p.next()
                    ps = parse_params(p)
                    p.expect(";")
                    it["funcs"].append(("[constructor]" + r, ps, ("own", ("ref", r))))
                    continue
                fn = p.ident()
                p.expect(":")
                static = p.peek() == "static"
                if static:
                    p.next()
                ps, res = parse_func(p)
                if static:
                    it["funcs"].append(("[static]%s.%s" % (r, fn), ps, res))
                else:
                    it["funcs"].append(("[method]%s.%s" % (r, fn),
                                        [("self", ("borrow", ("ref", r)))] + ps, res))
        else:
            fn = t[1:] if t.startswith("%") else t
            p.expect(":")
            ps, res = parse_func(p)
            it["funcs"].append((fn, ps, res))


def parse_file(path, pkg=None):
    p = P(tokens(open(path).read()))
    while p.peek() is not None:
        p.gate()
        t = p.next()
        if t == "package":
            parts = []
            while p.peek() != ";":
                parts.append(p.next())
            p.next()
            pkg = "".join(parts).split("@")[0]
        elif t == "interface":
            parse_iface(p, pkg, p.ident())
        elif t == "world":
            p.ident()
            depth = 0
            while True:
                x = p.next()
                depth += x == "{"
                depth -= x == "}"
                if depth == 0 and x == "}":
                    break
        else:
            raise SyntaxError("%s: unexpected %r" % (path, t))


def dir_package(d, files):
    for f in files:
        if f.endswith(".wit"):
            m = re.search(r"^\s*package\s+([a-z0-9:\-]+)", open(os.path.join(d, f)).read(), re.M)
            if m:
                return m.group(1)
    return None


DEFS = []
DEF_IX = {}


def lookup(pkg, iface, name):
    """the definition of name as seen in (pkg, iface): (pkg, iface, name, tdef)"""
    for _ in range(20):
        it = IFACES[(pkg, iface)]
        if name in it["types"]:
            return pkg, iface, name, it["types"][name]
        if name in it["uses"]:
            pkg, iface, name = it["uses"][name]
            continue
        raise KeyError("%s/%s: %s" % (pkg, iface, name))
    raise KeyError(name)


def render(t, pkg, iface):
    k = t[0]
    if k == "prim":
        return t[1]
    if k in ("list", "option"):
        return "%s<%s>" % (k, render(t[1], pkg, iface))
    if k == "result":
        return "result<%s,%s>" % ("_" if t[1] is None else render(t[1], pkg, iface),
                                  "_" if t[2] is None else render(t[2], pkg, iface))
    if k == "tuple":
        return "tuple<%s>" % ",".join(render(x, pkg, iface) for x in t[1])
    if k in ("own", "borrow"):
        dp, di, dn, d = lookup(pkg, iface, t[1][1])
        while d[0] == "alias":
            dp, di, dn, d = resolve_alias(d[1], dp, di)
        assert d[0] == "resource", dn
        return "%s<%s/%s#%s>" % (k, dp, di, dn)
    # a named type
    dp, di, dn, d = lookup(pkg, iface, t[1])
    if d[0] == "alias":
        return render(d[1], dp, di)
    if d[0] == "resource":
        return "own<%s/%s#%s>" % (dp, di, dn)
    key = (dp, di, dn)
    if key not in DEF_IX:
        DEF_IX[key] = None
        kind, cases = d
        if kind == "record":
            body = "record{%s}" % ",".join("%s:%s" % (c, render(ct, dp, di)) for c, ct in cases)
        elif kind == "variant":
            body = "variant{%s}" % ",".join(c if ct is None else "%s(%s)" % (c, render(ct, dp, di))
                                            for c, ct in cases)
        else:
            body = "%s{%s}" % (kind, ",".join(c for c, _ in cases))
        DEF_IX[key] = len(DEFS)
        DEFS.append(("%s/%s#%s" % key, body))
    return "$%d." % DEF_IX[key]


def resolve_alias(t, pkg, iface):
    if t[0] == "ref":
        return lookup(pkg, iface, t[1])
    if t[0] in ("own", "borrow"):
        return lookup(pkg, iface, t[1][1])
    raise KeyError(t)


def main():
    root = sys.argv[1]
    for d, _, files in sorted(os.walk(root)):
        pkg = dir_package(d, files)
        for f in sorted(files):
            if f.endswith(".wit"):
                parse_file(os.path.join(d, f), pkg)
    funcs = []
    resources = []
    for (pkg, iface), it in sorted(IFACES.items()):
        if pkg in SKIP_PKGS:
            continue
        name = "%s/%s" % (pkg, iface)
        for r in it["resources"]:
            resources.append((name, r))
        for fn, ps, res in it["funcs"]:
            sig = "(%s)" % ",".join("%s:%s" % (n, render(t, pkg, iface)) for n, t in ps)
            if res is not None:
                sig += "->" + render(res, pkg, iface)
            funcs.append((name, fn, sig))
    out = sys.stdout
    out.write("/*\n * wd_host_comp_sigs.c -- GENERATED by contrib/wit2sig.py from the wasi:http 0.2 WIT and\n"
              " * its deps (../shared/reference/wasi-http-wit): the WIT function type of every function and\n"
              " * the resources of the interfaces the component host binds, in the signature grammar of\n"
              " * wd_host_comp_sig.c. Do not edit; regenerate.\n */\n")
    out.write('#include "wd_host_comp_int.h"\n\n')
    out.write("const char *const wd_hc_sig_defs[] = {\n")
    for i, (n, body) in enumerate(DEFS):
        out.write("    /* %d %s */\n    \"%s\",\n" % (i, n, body))
    out.write("};\nconst uint32_t wd_hc_sig_ndefs = %d;\n\n" % len(DEFS))
    out.write("const wd_hc_sig_t wd_hc_sigs[] = {\n")
    for iface, fn, sig in funcs:
        out.write("    { \"%s\", \"%s\",\n      \"%s\" },\n" % (iface, fn, sig))
    out.write("};\nconst uint32_t wd_hc_nsigs = %d;\n\n" % len(funcs))
    out.write("const wd_hc_sig_t wd_hc_sig_resources[] = {\n")
    for iface, r in resources:
        out.write("    { \"%s\", \"%s\", NULL },\n" % (iface, r))
    out.write("};\nconst uint32_t wd_hc_sig_nresources = %d;\n" % len(resources))


if __name__ == "__main__":
    main()
