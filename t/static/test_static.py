"""Static files side by side with nginx: root, alias (prefix and regex locations), index,
try_files, types/default_type, autoindex, etag, if_modified_since, expires, add_header,
disable_symlinks, open_file_cache; GET/HEAD, Range (single, multiple, 416, If-Range),
conditionals (304, 412), directories (301, 403), 404, 405.  Every case checks wasmd's
answer against the value nginx's documentation gives and, where nginx is installed,
against nginx's own answer to the same request on the same files."""
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sbs import Tree, Pair, same, check, norm_body   # noqa: E402

PORT = 18700
MTIME = 1700000000          # Tue, 14 Nov 2023 22:13:20 GMT
LM = "Tue, 14 Nov 2023 22:13:20 GMT"
A_TXT = b"hello, static world\n"             # 20 bytes
ETAG_A = '"%x-%x"' % (MTIME, len(A_TXT))
HTML = b"<html><body>" + b"<p>some text to compress</p>\n" * 400 + b"</body></html>\n"

CONF = r'''
    types { text/html html; text/plain txt; text/css css; image/png png;
            application/javascript js; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%(port)d;
        server_name localhost;
        root %(root)s;
        location /hdr/ { add_header X-Static yes; }
        location /exp/ { expires 1h; }
        location /epoch/ { alias %(root)s/exp/; expires epoch; }
        location /noetag/ { alias %(root)s/; etag off; }
        location /before/ { alias %(root)s/; if_modified_since before; }
        location /imsoff/ { alias %(root)s/; if_modified_since off; }
        location /al/ { alias %(tree)s/other/; }
        location /alfile { alias %(tree)s/other/o.txt; }
        location ~ ^/re/(.+)\.dat$ { alias %(tree)s/other/$1.txt; }
        location /auto/ { alias %(root)s/listing/; autoindex on; }
        location /idx/ { alias %(root)s/dir/; index first.html second.html; }
        location /tf/ { try_files $uri $uri/ /a.txt; }
        location /tf404/ { try_files $uri =404; }
        location /tfnamed/ { try_files $uri @fb; }
        location @fb { return 200 "named fallback\n"; }
        location /nosym/ { alias %(root)s/; disable_symlinks on; }
        location /ofc/ { alias %(root)s/; open_file_cache max=10 inactive=20s;
                         open_file_cache_valid 1s; }
        location /gz/ { alias %(root)s/; gzip on; gzip_vary on; gzip_types text/css;
                        gzip_min_length 100; }
        location /mr/ { alias %(root)s/; max_ranges 1; }
    }
'''


def req(path, *hdrs, method="GET"):
    h = "".join(x + "\r\n" for x in hdrs)
    return ("%s %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n"
            % (method, path, h)).encode()


# (what, request, headers to compare, expected status [, check(resp)])
def cases():
    cl, ct, et, lmh = "Content-Length", "Content-Type", "ETag", "Last-Modified"
    cr, ar, loc = "Content-Range", "Accept-Ranges", "Location"
    ce, vary = "Content-Encoding", "Vary"
    A = "/a.txt"
    return [
        ("plain file", req(A), (cl, ct, et, lmh, ar), 200,
         lambda r: r.body == A_TXT and r.header("ETag") == ETAG_A and r.header(lmh) == LM),
        ("HEAD", req(A, method="HEAD"), (cl, ct, et, lmh), 200, lambda r: r.body == b""),
        ("types: css", req("/s.css"), (ct,), 200, lambda r: r.header(ct) == "text/css"),
        ("types: upper-case extension", req("/UP.PNG"), (ct,), 200,
         lambda r: r.header(ct) == "image/png"),
        ("default_type", req("/noext"), (ct,), 200,
         lambda r: r.header(ct) == "application/octet-stream"),
        ("index.html for /", req("/"), (cl, ct, et), 200, lambda r: r.body == b"<p>index</p>\n"),
        ("directory without slash: 301", req("/dir"), (loc,), 301,
         lambda r: r.header(loc).endswith("/dir/")),
        ("directory without slash keeps args", req("/dir?x=1"), (loc,), 301,
         lambda r: r.header(loc).endswith("/dir/?x=1")),
        ("directory without index: 403", req("/dir/"), (), 403),
        ("missing: 404", req("/nope.txt"), (), 404),
        ("missing directory: 404", req("/nodir/"), (), 404),
        ("file as directory: 404", req("/a.txt/x"), (), 404),
        ("unreadable: 403", req("/secret.txt"), (), 403),
        ("POST to a file: 405", req(A, "Content-Length: 0", method="POST"), (), 405),
        ("DELETE: 405", req(A, method="DELETE"), (), 405),
        ("index list, second exists", req("/idx/"), (cl,), 200,
         lambda r: r.body == b"second\n"),
        ("add_header on static", req("/hdr/h.txt"), ("X-Static",), 200,
         lambda r: r.header("X-Static") == "yes"),
        ("add_header not on 404", req("/hdr/none.txt"), ("X-Static",), 404,
         lambda r: r.header("X-Static") is None),
        ("expires 1h", req("/exp/e.txt"), ("Cache-Control",), 200,
         lambda r: r.header("Cache-Control") == "max-age=3600" and r.header("Expires")),
        ("expires epoch", req("/epoch/e.txt"), ("Cache-Control", "Expires"), 200,
         lambda r: r.header("Expires") == "Thu, 01 Jan 1970 00:00:01 GMT"),
        ("etag off", req("/noetag/a.txt"), (et, lmh), 200, lambda r: r.header(et) is None),
        # alias
        ("alias prefix", req("/al/o.txt"), (cl, et), 200, lambda r: r.body == b"other\n"),
        ("alias file", req("/alfile"), (cl,), 200, lambda r: r.body == b"other\n"),
        ("alias regex with capture", req("/re/o.dat"), (cl,), 200,
         lambda r: r.body == b"other\n"),
        ("alias regex missing", req("/re/zz.dat"), (), 404),
        # try_files
        ("try_files file", req("/tf/t.txt"), (cl,), 200, lambda r: r.body == b"tf\n"),
        ("try_files dir", req("/tf/sub/"), (cl,), 200, lambda r: r.body == b"tf index\n"),
        ("try_files fallback uri", req("/tf/missing"), (cl,), 200, lambda r: r.body == A_TXT),
        ("try_files =404", req("/tf404/missing"), (), 404),
        ("try_files found with =404", req("/tf404/t.txt"), (), 200),
        ("try_files @named", req("/tfnamed/missing"), (), 200,
         lambda r: r.body == b"named fallback\n"),
        # autoindex
        ("autoindex", req("/auto/"), (ct,), 200,
         lambda r: b'<a href="f1.txt">f1.txt</a>' in r.body and b'<a href="d/">d/</a>' in r.body
         and b".hidden" not in r.body),
        # symlinks
        ("symlink followed by default", req("/link.txt"), (cl,), 200),
        ("disable_symlinks on", req("/nosym/link.txt"), (), 403),
        ("disable_symlinks on, plain file", req("/nosym/a.txt"), (), 200),
        ("disable_symlinks on, symlinked dir", req("/nosym/linkdir/x.txt"), (), 404),
        # open_file_cache
        ("open_file_cache hit 1", req("/ofc/a.txt"), (cl, et), 200),
        ("open_file_cache hit 2", req("/ofc/a.txt"), (cl, et), 200,
         lambda r: r.body == A_TXT),
        ("open_file_cache miss", req("/ofc/none.txt"), (), 404),
        # Range
        ("range 0-3", req(A, "Range: bytes=0-3"), (cl, cr), 206, lambda r: r.body == A_TXT[:4]),
        ("range 5-", req(A, "Range: bytes=5-"), (cl, cr), 206, lambda r: r.body == A_TXT[5:]),
        ("range suffix -3", req(A, "Range: bytes=-3"), (cl, cr), 206,
         lambda r: r.body == A_TXT[-3:]),
        ("range past the end clamps", req(A, "Range: bytes=10-9999"), (cl, cr), 206,
         lambda r: r.header(cr) == "bytes 10-19/20"),
        ("range suffix larger than file", req(A, "Range: bytes=-100"), (cl, cr), 206),
        ("range -0: 416", req(A, "Range: bytes=-0"), (cr,), 416),
        ("range 20-: 416", req(A, "Range: bytes=20-"), (cr,), 416),
        ("range overlapping whole: 200", req(A, "Range: bytes=0-0,-100"), (cl,), 200),
        ("range unsatisfiable: 416", req(A, "Range: bytes=50-60"), (cr,), 416,
         lambda r: r.header(cr) == "bytes */20"),
        ("range multipart", req(A, "Range: bytes=0-1,5-7"), (ct,), 206,
         lambda r: b"Content-Range: bytes 5-7/20" in r.body),
        ("range multipart three", req(A, "Range: bytes=0-0,-2,4-5"), (ct,), 206),
        ("range sum larger than file: 200", req(A, "Range: bytes=0-19,0-19"), (cl,), 200),
        ("range bad unit: 200", req(A, "Range: items=0-3"), (cl,), 200),
        ("range garbage: 416", req(A, "Range: bytes=abc"), (), 416),
        ("range reversed: 416", req(A, "Range: bytes=5-2"), (), 416),
        ("range on HEAD: 206", req(A, "Range: bytes=0-3", method="HEAD"), (cl, cr), 206),
        ("max_ranges 1, two ranges: 200", req("/mr/a.txt", "Range: bytes=0-1,4-5"), (cl,), 200),
        ("max_ranges 1, one range", req("/mr/a.txt", "Range: bytes=0-1"), (cl, cr), 206),
        ("If-Range etag match", req(A, "Range: bytes=0-3", "If-Range: " + ETAG_A), (cr,), 206),
        ("If-Range etag mismatch", req(A, "Range: bytes=0-3", 'If-Range: "x"'), (cl,), 200),
        ("If-Range date match", req(A, "Range: bytes=0-3", "If-Range: " + LM), (cr,), 206),
        ("If-Range date mismatch", req(A, "Range: bytes=0-3",
                                       "If-Range: Tue, 14 Nov 2023 22:13:21 GMT"), (cl,), 200),
        # conditionals
        ("If-None-Match match: 304", req(A, "If-None-Match: " + ETAG_A), (et, lmh), 304,
         lambda r: r.header("Content-Length") is None),
        ("If-None-Match weak: 304", req(A, "If-None-Match: W/" + ETAG_A), (et,), 304),
        ("If-None-Match list: 304", req(A, 'If-None-Match: "a", ' + ETAG_A), (et,), 304),
        ("If-None-Match star: 304", req(A, "If-None-Match: *"), (et,), 304),
        ("If-None-Match other: 200", req(A, 'If-None-Match: "zz"'), (cl,), 200),
        ("If-Modified-Since exact: 304", req(A, "If-Modified-Since: " + LM), (), 304),
        ("If-Modified-Since older: 200", req(A, "If-Modified-Since: Mon, 13 Nov 2023 "
                                                "22:13:20 GMT"), (cl,), 200),
        ("If-Modified-Since newer, exact: 200", req(A, "If-Modified-Since: Wed, 15 Nov "
                                                       "2023 22:13:20 GMT"), (cl,), 200),
        ("If-Modified-Since newer, before: 304", req("/before/a.txt", "If-Modified-Since: Wed, "
                                                     "15 Nov 2023 22:13:20 GMT"), (), 304),
        ("If-Modified-Since, off: 200", req("/imsoff/a.txt", "If-Modified-Since: " + LM), (), 200),
        ("If-Modified-Since RFC 850", req(A, "If-Modified-Since: Tuesday, 14-Nov-23 "
                                             "22:13:20 GMT"), (), 304),
        ("If-Modified-Since asctime", req(A, "If-Modified-Since: Tue Nov 14 22:13:20 2023"),
         (), 304),
        ("If-Modified-Since garbage: 200", req(A, "If-Modified-Since: yesterday"), (), 200),
        ("INM mismatch beats IMS: 200", req(A, 'If-None-Match: "x"', "If-Modified-Since: " + LM),
         (), 200),
        ("If-Match mismatch: 412", req(A, 'If-Match: "x"'), (), 412),
        ("If-Match match: 200", req(A, "If-Match: " + ETAG_A), (), 200),
        ("If-Unmodified-Since older: 412", req(A, "If-Unmodified-Since: Mon, 13 Nov 2023 "
                                                  "22:13:20 GMT"), (), 412),
        ("If-Unmodified-Since same: 200", req(A, "If-Unmodified-Since: " + LM), (), 200),
        # gzip
        ("gzip accepted", req("/gz/page.html", "Accept-Encoding: gzip, deflate"),
         (ce, vary, ct), 200,
         lambda r: r.header(ce) == "gzip" and r.header("Content-Length") is None
         and norm_body(r) == HTML and r.header(et).startswith("W/")),
        ("gzip css", req("/gz/s.css", "Accept-Encoding: gzip"), (ce, vary), 200,
         lambda r: r.header(ce) == "gzip"),
        ("gzip not for png", req("/gz/UP.PNG", "Accept-Encoding: gzip"), (ce, vary), 200,
         lambda r: r.header(ce) is None),
        ("gzip q=0", req("/gz/page.html", "Accept-Encoding: gzip;q=0"), (ce, vary, cl), 200,
         lambda r: r.header(ce) is None and r.header(vary) == "Accept-Encoding"),
        ("gzip not accepted", req("/gz/page.html"), (ce, vary, cl), 200,
         lambda r: r.header(ce) is None and r.body == HTML),
        ("gzip below min_length", req("/gz/small.html", "Accept-Encoding: gzip"), (ce, vary), 200,
         lambda r: r.header(ce) is None and r.header(vary) is None),
        ("gzip and HEAD", req("/gz/page.html", "Accept-Encoding: gzip", method="HEAD"),
         (ce, vary), 200, lambda r: r.header(ce) == "gzip"),
        ("gzip and Range: whole compressed", req("/gz/page.html", "Accept-Encoding: gzip",
                                                 "Range: bytes=0-9"), (ce,), 200),
        ("gzip and 304", req("/gz/a.txt", "Accept-Encoding: gzip",
                             "If-Modified-Since: " + LM), (ce,), 304),
        ("gzip 404 page", req("/gz/none.html", "Accept-Encoding: gzip"), (ce,), 404,
         lambda r: r.header(ce) == "gzip"),
    ]


def setup_tree(tree):
    w = tree.write
    w("www/a.txt", A_TXT, MTIME)
    w("www/s.css", b"body { color: red; }\n" * 10, MTIME)
    w("www/UP.PNG", b"\x89PNG fake", MTIME)
    w("www/noext", b"raw\n", MTIME)
    w("www/index.html", b"<p>index</p>\n", MTIME)
    w("www/dir/second.html", b"second\n", MTIME)
    w("www/dir/other.txt", b"x\n", MTIME)
    w("www/secret.txt", b"no\n", MTIME, mode=0o000)
    w("www/hdr/h.txt", b"h\n", MTIME)
    w("www/exp/e.txt", b"e\n", MTIME)
    w("www/tf/t.txt", b"tf\n", MTIME)
    w("www/tf/sub/index.html", b"tf index\n", MTIME)
    w("www/tf404/t.txt", b"tf\n", MTIME)
    w("www/listing/f1.txt", b"1\n", MTIME)
    w("www/listing/d/f2.txt", b"2\n", MTIME)
    w("www/listing/.hidden", b"h\n", MTIME)
    w("www/page.html", HTML, MTIME)
    w("www/small.html", b"<p>tiny</p>\n", MTIME)
    w("other/o.txt", b"other\n", MTIME)
    w("linked/x.txt", b"x\n", MTIME)
    os.symlink(tree.path("www/a.txt"), tree.path("www/link.txt"))
    os.symlink(tree.path("linked"), tree.path("www/linkdir"))


def main():
    tree = Tree()
    setup_tree(tree)
    pair = Pair(CONF, PORT, tree)
    passed = failed = skipped = 0
    root_user = os.geteuid() == 0
    try:
        pair.start()
        for c in cases():
            what, raw, headers, status = c[:4]
            extra = c[4] if len(c) > 4 else None
            if what.startswith("unreadable") and root_user and pair.nginx is None:
                pass
            try:
                head = b"HEAD " in raw[:5]
                a, b = pair.both(raw, head=head)
                if what.startswith("unreadable") and root_user:
                    # nginx as root reads a mode-000 file; wasmd's confined process has
                    # no CAP_DAC_OVERRIDE (src/core/wd_sandbox.c): 403 like a plain user
                    check(a.status == 403, what, "wasmd read a mode-000 file", a)
                else:
                    check(a.status == status, what, "status %d, expected %d" % (a.status, status),
                          a)
                    if extra:
                        check(extra(a), what, "wasmd's answer", a)
                    same(a, b, *headers, what=what)
                if b is None:
                    skipped += 1
                passed += 1
                print("ok   test_static.py %s" % what)
            except Exception as e:
                failed += 1
                print("FAIL test_static.py %s: %s" % (what, e))
                if os.environ.get("T_VERBOSE"):
                    traceback.print_exc()
        # the worker is unharmed and the open file cache sees a replaced file after
        # open_file_cache_valid
        try:
            tree.write("www/a.txt", b"replaced\n")
            time.sleep(1.2)
            a, _ = pair.both(req("/ofc/a.txt"))
            check(a.status == 200 and a.body == b"replaced\n", "open_file_cache revalidated", a)
            os.unlink(tree.path("www/a.txt"))
            time.sleep(1.2)
            a, _ = pair.both(req("/ofc/a.txt"))
            check(a.status == 404, "open_file_cache: removed file", a)
            log = pair.wasmd.error_log()
            check('open() "%s/www/nope.txt" failed (2: No such file or directory)' % tree.dir
                  in log, "404 logged like nginx", log[-2000:])
            check('directory index of "%s/www/dir/" is forbidden' % tree.dir in log,
                  "403 logged like nginx")
            passed += 1
            print("ok   test_static.py open_file_cache revalidation, logs")
        except Exception as e:
            failed += 1
            print("FAIL test_static.py open_file_cache revalidation, logs: %s" % e)
    finally:
        try:
            pair.stop()
            passed += 1
            print("ok   test_static.py teardown (clean logs, no sanitizer reports)")
        except Exception as e:
            failed += 1
            print("FAIL test_static.py teardown: %s" % e)
        tree.cleanup()
    if pair.nginx is None:
        print("nginx not installed: %d comparisons skipped" % skipped)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped if pair.nginx is None
                                                 else 0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
