"""$document_root and $realpath_root side by side with nginx: root, alias, a root with a
variable, a root reached through a symlink (realpath resolves it), used in add_header."""
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sbs import Tree, Pair, check   # noqa: E402

PORT = 18796

CONF = r'''
server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
    add_header X-DR $document_root;
    add_header X-RR $realpath_root;
    location /a/ { }
    location /al/ { alias %(tree)s/other/; }
    location /link/ { root %(tree)s/linkroot; }
    location /host/ { root %(tree)s/$host; }
}
'''


def req(path, host="x"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode()


def main():
    tree = Tree()
    tree.write("www/a/f.txt", b"a\n")
    tree.write("other/f.txt", b"o\n")
    tree.write("real/link/f.txt", b"l\n")
    tree.write("h1/host/f.txt", b"h\n")
    os.symlink(tree.path("real"), tree.path("linkroot"))
    pair = Pair(CONF, PORT, tree)
    www, t = tree.path("www"), tree.dir
    cases = [
        ("root", req("/a/f.txt"), www, os.path.realpath(www)),
        ("alias", req("/al/f.txt"), t + "/other/", os.path.realpath(t + "/other")),
        ("symlinked root", req("/link/f.txt"), t + "/linkroot", os.path.realpath(t + "/real")),
        ("root with $host", req("/host/f.txt", "h1"), t + "/h1", os.path.realpath(t + "/h1")),
    ]
    passed = failed = 0
    try:
        pair.start()
        for what, raw, dr, rr in cases:
            try:
                a, b = pair.both(raw)
                for name, r in (("wasmd", a), ("nginx", b)):
                    if r is None:
                        continue
                    check(r.status == 200, name, what, r)
                    check(r.header("X-DR") == dr, name, what, "X-DR", r.header("X-DR"), dr)
                    check(r.header("X-RR") == rr, name, what, "X-RR", r.header("X-RR"), rr)
                passed += 1
                print("ok   test_vars.py %s" % what)
            except Exception as e:      # noqa: BLE001
                failed += 1
                print("FAIL test_vars.py %s: %s" % (what, e))
                if os.environ.get("T_VERBOSE"):
                    traceback.print_exc()
    finally:
        try:
            pair.stop()
            passed += 1
            print("ok   test_vars.py teardown")
        except Exception as e:          # noqa: BLE001
            failed += 1
            print("FAIL test_vars.py teardown: %s" % e)
        tree.cleanup()
    print("%d passed, %d failed, %d skipped" % (passed, failed, 0 if pair.nginx else len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
