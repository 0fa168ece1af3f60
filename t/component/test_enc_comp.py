"""t/component/test_enc_comp.py -- wasi:http for components whose strings are UTF-16 or
latin1+UTF-16 (componentize-dotnet's encoding): t/component/enc/enc.c wrapped by `jco embed
--string-encoding utf16|compact-utf16` + `jco new` (objs/component/enc-utf16.comp.wasm,
enc-latin1.comp.wasm). The handler reports, raw, what the host lowered into its memory
(method other(string), path-with-query, fields.entries names and values, fields.get,
wasi:cli/environment) with the code-unit counts it received, and names response headers in
its own encoding; every byte is checked here. Ports 19650-19659."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
import harness
from harness import check

C = os.path.join(harness.ROOT, "objs", "component")

CONF = r'''
http {
    access_log off;
    server {
        listen 127.0.0.1:%(port)d;
        location /u16/ { wasm_handler @C@/enc-utf16.comp.wasm;
                         @ENV@ }
        location /l1/  { wasm_handler @C@/enc-latin1.comp.wasm; @ENV@ }
    }
}
'''.replace("@C@", C).replace("@ENV@", 'wasm_env GREETING "h\u00e9 \u20ac"; wasm_env LATIN "caf\u00e9";')

TAG = 0x80000000


def enc16(s):
    return len(s.encode("utf-16-le")) // 2, s.encode("utf-16-le")


def enc_l1(s):
    """latin1+utf16: latin1 when every char fits, else UTF-16 with the tag bit"""
    try:
        return len(s), s.encode("latin-1")
    except UnicodeEncodeError:
        u, b = enc16(s)
        return u | TAG, b


def s(enc, text):
    units, raw = enc(text)
    return b"%08x:" % units + raw


def expected(enc, method, path, headers, latin1):
    b = b"M" + s(enc, method) + b"\nP" + s(enc, path) + b"\n"
    for n, v in headers:
        b += b"H" + s(enc, n) + b"=" + v + b"\n"
    b += b"G:" + b"".join(v + b";" for n, v in headers if n.lower() == "x-in") + b"\n"
    for n, v in (("GREETING", "h\u00e9 \u20ac"), ("LATIN", "caf\u00e9")):
        b += b"E" + s(enc, n) + b"=" + s(enc, v) + b"\n"
    b += b"A:%08x%08x" % (0, 1)           # x-out ok; x-\u20ac: err(invalid-syntax) = 1 + 0
    if latin1:
        b += b"%08x" % 0                  # x-latin1 (untagged latin1) ok
    return b + b"\n"


def run(srv, prefix, enc, latin1):
    headers = [("Host", b"t"), ("x-in", b"v\xe9 1"), ("X-Other", b"w"), ("x-in", b"two")]
    raw = b"PROPFIND /" + prefix.encode() + b"/p?q=%E2%82%AC HTTP/1.1\r\n"
    raw += b"".join(n.encode() + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"
    r = srv.request(raw)
    check(r.status == 200, r.status, r.body)
    want = expected(enc, "PROPFIND", "/%s/p?q=%%E2%%82%%AC" % prefix, headers, latin1)
    check(r.body == want, "body byte for byte", r.body, want)
    check(r.header("x-out") == "v1", "a header named in the guest's encoding", r)
    if latin1:
        check(r.header("x-latin1") == "v3", "a latin1 name from a latin1+utf16 guest", r)


def test_utf16(s):
    run(s, "u16", enc16, False)


def test_latin1_utf16(s):
    run(s, "l1", enc_l1, True)


def test_both_again(s):
    """the scratch memory and transcoding state carry nothing from one call to the next"""
    for _ in range(3):
        run(s, "u16", enc16, False)
        run(s, "l1", enc_l1, True)


if __name__ == "__main__":
    harness.main(CONF, globals(), port=19650, per_test_timeout=60)
