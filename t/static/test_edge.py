"""Static assets and Wasm functions behind one server: the edge pattern
`try_files $uri $uri/ @fn;` with `location @fn { wasm_handler ...; }`, gzip on Wasm handler
responses (streamed, 1 MiB through the filter), and `-t` naming what wasmd does not
support of nginx's directives."""
import gzip
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sbs import Tree, check, harness   # noqa: E402

PORT = 18780
H = os.path.join(harness.ROOT, "objs", "handlers")

CONF = r'''
http {
    server {
        listen 127.0.0.1:%(port)d;
        root ROOT;
        location / { try_files $uri $uri/ @fn; }
        location @fn { wasm_handler H/hello.wasm; }
        location /echo { wasm_handler H/echo.wasm; gzip on; gzip_types *;
                         gzip_min_length 1; gzip_vary on; client_max_body_size 4m; }
        location = /loop { try_files /nope /loop; }
    }
}
'''


def req(s, path, body=None, hdrs=()):
    h = "".join(x + "\r\n" for x in hdrs)
    if body is None:
        raw = ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, h)).encode()
    else:
        raw = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
               "Content-Length: %d\r\n%s\r\n" % (path, len(body), h)).encode() + body
    return s.request(raw)


def test_file(s):
    r = req(s, "/a.txt")
    check(r.status == 200 and r.body == b"asset\n", r)


def test_directory_index(s):
    r = req(s, "/")
    check(r.status == 200 and r.body == b"<p>home</p>\n", r)
    r = req(s, "/docs/")
    check(r.status == 200 and r.body == b"<p>docs</p>\n", r)


def test_fallback_to_wasm(s):
    for p in ("/missing", "/api/v1/x?y=1", "/docs/missing.html"):
        r = req(s, p)
        check(r.status == 200 and r.body == b"Hello from wasmd!\n", p, r)


def test_redirect_cycle_500(s):
    r = req(s, "/loop")
    check(r.status == 500, r)
    check("rewrite or internal redirection cycle" in s.error_log(), "cycle logged")


def test_gzip_wasm_streamed(s):
    body = b"".join(b"line %06d of a streamed wasm response\n" % i for i in range(27000))
    check(len(body) > 1 << 20)
    r = req(s, "/echo", body, ("Accept-Encoding: gzip",))
    check(r.status == 200 and r.header("Content-Encoding") == "gzip", r)
    check(r.header("Vary") == "Accept-Encoding", r)
    check(gzip.decompress(r.body) == body, "decompressed echo differs")
    check(len(r.body) < len(body) / 5, "compressed", len(r.body))
    r = req(s, "/echo", body)
    check(r.status == 200 and r.header("Content-Encoding") is None and r.body == body, r)


def test_config_subset_named(s):
    bad = {
        "disable_symlinks if_not_owner;": "not supported",
        "autoindex_format json;": "not supported",
        "expires @15h;": "not supported",
        "gzip_disable msie6;": "not supported",
        "open_file_cache max=0;": "invalid value",
        "alias /x;": "not allowed here",
        "types { text/html; }": "needs at least one extension",
    }
    for line, want in bad.items():
        conf = os.path.join(s.prefix, "conf", "bad.conf")
        with open(conf, "w") as f:
            f.write("events {}\nhttp { server { listen 127.0.0.1:1; %s } }\n" % line)
        p = s.run_cli("-t", "-p", s.prefix, "-c", conf)
        err = p.stderr.decode()
        check(p.returncode == 1 and want in err and "bad.conf:2" in err, line, err)
    conf = os.path.join(s.prefix, "conf", "good.conf")
    with open(conf, "w") as f:
        f.write("events {}\nhttp { include %s/conf/mime.types; server { listen 127.0.0.1:1; "
                "location /s/ { alias /tmp/; autoindex on; expires max; etag off; "
                "open_file_cache max=100 inactive=10s; open_file_cache_valid 5s; "
                "gzip on; gzip_comp_level 6; gzip_proxied any; } } }\n" % harness.ROOT)
    p = s.run_cli("-t", "-p", s.prefix, "-c", conf)
    check(p.returncode == 0, p.stderr.decode())


def main():
    tree = Tree()
    tree.write("www/a.txt", b"asset\n")
    tree.write("www/index.html", b"<p>home</p>\n")
    tree.write("www/docs/index.html", b"<p>docs</p>\n")
    conf = CONF.replace("ROOT", tree.path("www")).replace("H/", H + "/")
    g = dict(globals())
    g["__file__"] = __file__
    try:
        return harness.main(conf, g, PORT)
    finally:
        tree.cleanup()


if __name__ == "__main__":
    sys.exit(main())
