"""t/proxy/test_paste.py -- nginx directives a user pastes that wasmd does not implement:
`wasmd -t` must refuse each one naming it, with FILE:LINE, never with "unknown directive"
(and never accept one silently), while the few accepted no-ops (nginx's hash sizes,
`server_tokens off`) pass. The list is nginx's directives of the static, proxy, gzip,
rewrite, access, auth, real-ip, charset, sub, ssi, fastcgi/uwsgi/scgi/grpc/memcached and
core modules that wasmd lacks; where the Debian nginx binary is installed, each name is
also checked to be a real nginx directive (it appears in the binary), so the list cannot
drift into made-up names. Port 18895 (never listened on: -t only).
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "static"))
import harness                                  # noqa: E402
from harness import check                       # noqa: E402
import sbs                                       # noqa: E402

# name -> the arguments it is written with (in a location unless said otherwise)
REFUSED = {
    # proxy
    "proxy_cache": "c", "proxy_cache_path": "/tmp/c keys_zone=c:1m", "proxy_cache_valid": "200 1m",
    "proxy_cache_key": "$uri", "proxy_cache_bypass": "$arg_x", "proxy_no_cache": "$arg_x",
    "proxy_cache_use_stale": "error", "proxy_cache_lock": "on", "proxy_cache_lock_age": "5s",
    "proxy_cache_lock_timeout": "5s", "proxy_cache_methods": "GET",
    "proxy_cache_min_uses": "1", "proxy_cache_revalidate": "on",
    "proxy_cache_background_update": "on", "proxy_cache_convert_head": "on",
    "proxy_cache_max_range_offset": "1", "proxy_store": "on", "proxy_store_access": "user:rw",
    "proxy_cookie_domain": "a b", "proxy_cookie_path": "/ /", "proxy_cookie_flags": "one secure",
    "proxy_force_ranges": "on", "proxy_ignore_client_abort": "on",
    "proxy_ignore_headers": "X-Accel-Expires", "proxy_limit_rate": "1k",
    "proxy_send_lowat": "0", "proxy_socket_keepalive": "on", "proxy_pass_header": "Server",
    "proxy_intercept_errors": "on", "proxy_request_buffering": "off", "proxy_method": "GET",
    "proxy_set_body": "x", "proxy_bind": "127.0.0.1", "proxy_ssl_crl": "c.pem",
    "proxy_ssl_password_file": "p", "proxy_ssl_conf_command": "a b",
    # static / output
    "aio": "on", "aio_write": "on", "directio": "4m", "directio_alignment": "512",
    "output_buffers": "2 32k", "postpone_output": "1460", "read_ahead": "0",
    "open_file_cache_events": "on", "random_index": "on",
    "limit_rate": "1k", "limit_rate_after": "1m", "gunzip": "on", "gunzip_buffers": "4 8k",
    "gzip_static": "on", "charset": "utf-8", "charset_types": "text/html",
    "source_charset": "koi8-r", "override_charset": "on", "sub_filter": "a b",
    "sub_filter_once": "on", "sub_filter_types": "text/html", "ssi": "on", "add_trailer": "a b",
    # rewrite / access / auth
    "rewrite": "^/a /b", "set": "$x 1", "break": "", "rewrite_log": "on",
    "uninitialized_variable_warn": "on", "error_page": "404 /404.html",
    "recursive_error_pages": "on", "allow": "127.0.0.1", "deny": "all", "satisfy": "any",
    "auth_basic": "x", "auth_basic_user_file": "f", "auth_request": "/auth",
    "auth_request_set": "$x $y", "real_ip_header": "X-Real-IP",
    "set_real_ip_from": "127.0.0.1", "real_ip_recursive": "on", "internal": "",
    "resolver": "127.0.0.1", "resolver_timeout": "5s",
    # other upstream protocols
    "fastcgi_pass": "127.0.0.1:9000", "fastcgi_param": "A b", "uwsgi_pass": "127.0.0.1:9000",
    "scgi_pass": "127.0.0.1:9000", "grpc_pass": "grpc://127.0.0.1:9000",
    "memcached_pass": "127.0.0.1:11211",
    # connections
    "client_body_buffer_size": "16k", "client_body_temp_path": "/tmp/b",
    "client_body_in_file_only": "on", "underscores_in_headers": "on",
    "ignore_invalid_headers": "off", "merge_slashes": "off", "absolute_redirect": "off",
    "port_in_redirect": "off", "server_name_in_redirect": "on", "msie_padding": "on",
    "msie_refresh": "on", "chunked_transfer_encoding": "off",
    "reset_timedout_connection": "on", "lingering_close": "on", "lingering_time": "30s",
    "lingering_timeout": "5s", "keepalive_time": "1h", "keepalive_disable": "msie6",
    "open_log_file_cache": "max=10", "log_subrequest": "on", "ssl_stapling": "on",
    "ssl_stapling_verify": "on", "ssl_dhparam": "d.pem", "ssl_ecdh_curve": "auto",
    "ssl_buffer_size": "4k", "http2": "on", "http2_push": "/a",
}
BLOCKS = {"if": "($arg_x) { return 200; }", "limit_except": "GET { deny all; }"}
ACCEPTED = {"types_hash_max_size": "2048", "types_hash_bucket_size": "64",
            "server_names_hash_max_size": "512", "server_names_hash_bucket_size": "64",
            "variables_hash_max_size": "1024", "variables_hash_bucket_size": "64",
            "proxy_headers_hash_max_size": "512", "proxy_headers_hash_bucket_size": "64",
            "server_tokens": "off"}
# named by nginx's binary differently or only in newer nginx: not checked against it
NOT_IN_122 = {"http2", "keepalive_time", "proxy_ssl_conf_command", "auth_request",
              "auth_request_set", "real_ip_header", "set_real_ip_from", "real_ip_recursive",
              "sub_filter", "sub_filter_once", "sub_filter_types", "http2_push",
              "random_index", "gunzip", "gunzip_buffers", "gzip_static",
              "ssl_stapling", "ssl_stapling_verify",
              "limit_rate"}     # a real one, but its name string is shared ("$limit_rate")


def conf_run(lines):
    s = harness.Server(("http {\n server {\n listen 127.0.0.1:18895;\n location / {\n%s\n }\n"
                        " }\n}\n" % lines).replace("%", "%%"), 18895)
    try:
        r = s.run_cli("-t", "-p", s.prefix + "/", "-c", s.conf_path)
        return r.returncode, (r.stdout + r.stderr).decode()
    finally:
        s.cleanup()


def test_refused():
    bad = []
    for name, args in sorted(list(REFUSED.items()) + list(BLOCKS.items())):
        line = "%s %s%s" % (name, args, "" if name in BLOCKS else ";")
        rc, out = conf_run(line)
        ok = (rc != 0 and '"%s"' % name in out and "not support" in out
              and "unknown directive" not in out and re.search(r"wasmd\.conf:\d+", out))
        if not ok:
            bad.append((name, rc, out.strip()[-200:]))
    check(not bad, "%d of %d not refused by name:" % (len(bad), len(REFUSED) + len(BLOCKS)),
          bad[:8])


def test_accepted():
    for name, args in sorted(ACCEPTED.items()):
        where = "%s %s;" % (name, args)
        rc, out = conf_run(where)
        check(rc == 0, name, out[-300:])
    rc, out = conf_run("server_tokens on;")
    check(rc != 0 and '"server_tokens on" is not supported' in out, out[-300:])
    rc, out = conf_run("types_hash_max_size big;")
    check(rc != 0 and 'invalid value "big"' in out, out[-300:])


def test_names_are_nginx():
    ng = sbs.nginx_bin()
    if not ng:
        print("     note: no nginx binary: names not checked against it")
        return
    out = subprocess.run(["strings", ng], capture_output=True).stdout.decode("latin-1")
    known = set(out.split())
    names = set(REFUSED) | set(BLOCKS) | set(ACCEPTED)
    missing = sorted(n for n in names - NOT_IN_122 if n not in known)
    check(not missing, "not directives of this nginx:", missing)


def main():
    passed = failed = 0
    for t in (test_refused, test_accepted, test_names_are_nginx):
        t0 = time.time()
        try:
            t()
            passed += 1
            print("ok   test_paste %s (%.2fs)" % (t.__name__, time.time() - t0))
        except Exception as ex:
            failed += 1
            print("FAIL test_paste %s: %s" % (t.__name__, ex))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
