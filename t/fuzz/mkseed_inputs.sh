#!/bin/sh
# Seed corpora of the fuzz_http, fuzz_conf and fuzz_host targets, written from scratch by
# this script (no third-party data): OUTDIR/seed-http, OUTDIR/seed-conf, OUTDIR/seed-host.
# Usage: mkseed_inputs.sh OUTDIR
out=${1:?usage: mkseed_inputs.sh OUTDIR}
cd "$(dirname "$0")/../.." || exit 1
rm -rf "$out/seed-http" "$out/seed-conf" "$out/seed-host"
mkdir -p "$out/seed-http" "$out/seed-conf" "$out/seed-host" || exit 1

# ---- HTTP requests (fuzz_http: \377\376\375 = "let the server run, then send the rest")
n=0
http() { n=$((n + 1)); printf "$1" > "$out/seed-http/$(printf %03d $n)"; }
http 'GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'GET /?a=1&b=%%41 HTTP/1.1\r\nHost: www.fuzz.test\r\nUser-Agent: seed\r\nAccept: */*\r\n\r\n'
http 'GET / HTTP/1.1\r\nHost: a.fuzz.test\r\n\r\nGET /x.txt HTTP/1.1\r\nHost: re12.test\r\n\r\nHEAD /static/a HTTP/1.1\r\nHost: other.test\r\n\r\n'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 11\r\n\r\nhello world'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'
http 'PUT /buf HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n\377\376\3752\r\nde\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'POST /small HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 40\r\n\r\n0123456789012345678901234567890123456789GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'POST /small HTTP/1.1\r\nHost: fuzz.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n\377\376\375abcde'
http 'GET /redir?x=y HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n'
http 'GET /sleep HTTP/1.1\r\nHost: fuzz.test\r\n\r\nGET /sleep HTTP/1.1\r\nHost: fuzz.test\r\nConnection: close\r\n\r\n'
http 'GET /a/../b/./c%%2e%%2e/x.html HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'GET http://fuzz.test/abs?q HTTP/1.1\r\nHost: ignored\r\n\r\n'
http 'OPTIONS * HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'CONNECT fuzz.test:443 HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'
http 'GET / HTTP/1.1\r\nHost: fuzz.test\r\nHost: other.test\r\n\r\n'
http 'GET / HTTP/1.1\r\nHost: fuzz.test\r\nX-Fold: a\r\n  b\r\n\r\n'
http 'GET / HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'
http 'GET /\377\376\375 HTTP/1.1\r\nHo\377\376\375st: fuzz.test\r\n\377\376\375\r\n'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n'
http 'GET / HTTP/1.1\r\n\r\n'
http 'GET / HTTP/2.0\r\nHost: fuzz.test\r\n\r\n'
http 'BREW / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http '\r\n\r\nGET / HTTP/1.1\r\nHost: fuzz.test\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n'
http 'POST /wasm/echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 5\r\n\r\nhello'
http 'POST /wasm/echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwasm\r\n\377\376\3755\r\n body\r\n0\r\n\r\nGET /wasm/headers?x=1 HTTP/1.1\r\nHost: fuzz.test\r\nX-A: b\r\n\r\n'
http 'POST /wasm/cgi?a=1 HTTP/1.1\r\nHost: fuzz.test\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbodyGET /echo HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'POST /wasm/echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 9000\r\n\r\n'
http 'POST /wasm/echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 100\r\n\r\npartial\377\376\374'
http 'GET /sleep HTTP/1.1\r\nHost: fuzz.test\r\n\r\n\377\376\374'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n\377\376\375\377\376\374'
http 'GET /wasm/headers HTTP/1.1\r\nHost: fuzz.test\r\n\r\n\377\376\374'
# RFC 9112 framing (t/http/test_rfc9112.py): bare CR / LF / NUL in the chunked framing,
# chunk sizes and extensions, trailers, the valid forms llhttp alone refuses, each with a
# pipelined follow-up; on echo_body, a route that does not read the body and the Wasm echo
for path in /echo / /wasm/echo; do
    te="POST $path HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n"
    nx='GET /x.txt HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
    http "${te}5\rXhello\r\n0\r\n\r\n$nx"
    http "${te}5\r\rhello\r\n0\r\n\r\n$nx"
    http "${te}5;e\rXhello\r\n0\r\n\r\n$nx"
    http "${te}5\r\nhello\r\n0\rX\r\n$nx"
    http "${te}5\r\nhello\r\n0\r\r\n\r\n$nx"
    http "${te}5\r\r;ABCD\r\n34\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: fuzz.test\r\n\r\n0\r\n\r\n$nx"
    http "${te}0x5\r\nhello\r\n0\r\n\r\n$nx"
    http "${te}+5\r\nhello\r\n0\r\n\r\n$nx"
    http "${te} 5\r\nhello\r\n0\r\n\r\n$nx"
    http "${te}0_5\r\nhello\r\n0\r\n\r\n$nx"
    http "${te}10000000000000005\r\nhello\r\n0\r\n\r\n$nx"
    http "${te}5\r\nhello world\r\n0\r\n\r\n$nx"
    http "${te}5\r\nhello\000\r\n0\r\n\r\n$nx"
    http "${te}5;a\000\r\nhello\r\n0\r\n\r\n$nx"
    http "${te}5\nhello\n0\n\n$nx"
    http "${te}5 ;a=b\r\nhello\r\n0\r\n\r\n$nx"
    http "${te}5; a = \"q;\\\\\" x\" ;b\r\nhello\r\n000;x=y\r\nX-T: v\r\nX-U:\r\n\r\n$nx"
    http "${te}5\r\nhello\r\n0\r\nX v\r\n\r\n$nx"
    http "${te}5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n$nx"
    http "${te}5\r\nhello\r\n0\r\n\rX$nx"
    http "${te}5\r\nhel\377\376\375lo\r\n0\r\377\376\375X\r\n$nx"
    http "${te}5\r\nhello\r\n\377\376\3750\r\377\376\375\n\r\n$nx"
done
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: ,chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
http 'POST /wasm/echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
http 'POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n'
http '\r\n\r\nGET / HTTP/1.2\r\nHost: fuzz.test\r\n\r\n\r\nGET / HTTP/1.9\r\nHost: fuzz.test\r\n\r\n'
http '\nGET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http '\rGET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'get / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'FO\377\376\375O / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'GET / HTTP/1.\377\376\3752\r\nHost: fuzz.test\r\n\r\n'
http 'OPTIONS * HTTP/1.1\r\nHost: fuzz.test\r\n\r\nOPTIONS * HTTP/1.2\r\nHost: fuzz.test\r\n\r\n'
http 'POST / HTTP/1.1\r\nHost: fuzz.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n\377\376\375hello'
http 'POST /x.txt HTTP/1.1\r\nHost: fuzz.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'GET\r/ HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'GET /\000 HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'
http 'GET / HTTP/1.1\r\nHo\rst: fuzz.test\r\n\r\n'
http 'GET / HTTP/1.1\r\nHost: fuzz.test\r\nX: a\000b\r\n\r\n'
big=$(head -c 3000 /dev/zero | tr '\0' 'a')
http "GET /$big HTTP/1.1\r\nHost: fuzz.test\r\nX-Big: $big\r\n\r\n"
http "POST /echo HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 3000\r\n\r\n$big"
http 'DELETE /echo HTTP/1.1\r\nHost: fuzz.test\r\nCookie: a=b\r\nReferer: http://x/\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi'

# ---- configurations (fuzz_conf; directives that touch files are left out, the target skips them)
grep -v -E 'error_log|wasm|include|access_log|^ *pid' conf/wasmd.conf > "$out/seed-conf/wasmd.conf"
cat > "$out/seed-conf/full.conf" <<'EOF'
worker_processes 2;
master_process on;
worker_shutdown_timeout 1m30s;
worker_cpu_affinity auto;
events { worker_connections 64; }
http {
    keepalive_timeout 5s 4;
    client_max_body_size 2m;
    add_header X-Test "a \"quoted\" value" always;
    large_client_header_buffers 4 8k;
    client_header_buffer_size 1k;
    server {
        listen 127.0.0.1:8080 default_server reuseport backlog=64;
        listen [::1]:8081;
        server_name example.com *.example.org www.example.* ~^api[0-9]+$ '';
        return 302 http://example.com/$request_uri;
        location = / { return 200 'root $host $arg_x'; }
        location / { keepalive_requests 10;
            location ~ \.php$ { return 403; }
            location /a/ { send_timeout 1s; echo_body buffered; }
        }
        location ^~ /static/ { client_body_timeout 3s; echo_sleep 10ms; }
        location ~* \.(png|gif)$ { add_header Cache-Control max-age=60; }
        location @named { return 404; }
    }
    server { listen 8082; server_name other; client_header_timeout 1s; }
}
EOF
cat > "$out/seed-conf/logs-wasm.conf" <<'EOF'
http {
    log_format main '$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_user_agent"';
    log_format short $status;
    wasm_fuel 1000000; wasm_memory_limit 16m; wasm_timeout 2s; wasm_pool 2 8;
    server {
        listen 8080;
        location /a { wasm_env NAME value; wasm_pool 1; wasm_timeout 100ms; }
        location = /status { wasm_status; }
        location /b { add_header X-A "$request_time" always; return 200 "$connection_requests"; }
    }
}
EOF
printf 'events{}http{server{listen 1;location /{return 200;}}}' > "$out/seed-conf/tiny.conf"
printf 'http {\n  server {\n    location ~ "^/(a|b)\\\\d{1,3}$" { return 301 /x; }\n  }\n}\n' > "$out/seed-conf/regex.conf"

# ---- host-call programs (fuzz_host: see the input format at the top of fuzz_host.c):
# a blob of strings, then for every import selector a call with handle 1/2, a pointer
# into the blob, a small length, a heap pointer and a wrapping pointer.
blob='\000\042GET\000/fuzz\000x-hdr\000value\000A=1\000/data/f\000'
s=0
while [ $s -lt 256 ]; do
    sel=$(printf '\\%03o' $s)
    printf "$blob$sel\\010\\001\\000\\006\\005\\007\\000\\001\\006\\010\\003\\000$sel\\020\\001\\004\\006\\040\\000\\000$sel\\030\\002\\040" \
        > "$out/seed-host/$(printf %03d $s)"
    s=$((s + 1))
done
printf '\000\000' > "$out/seed-host/empty"
# long programs: every selector in a row, with three argument styles
for v in 0 1 2; do
    f="$out/seed-host/all-$v"
    printf "$blob" > "$f"
    s=0
    while [ $s -lt 256 ]; do
        sel=$(printf '\\%03o' $(( (s * 7 + v * 31) % 256 )))
        case $v in
        0) printf "$sel\\010\\020\\001\\000\\006\\005\\007\\000\\001\\006\\010" >> "$f" ;;
        1) printf "$sel\\030\\001\\004\\006\\040\\002\\010\\003\\000\\007\\040\\000" >> "$f" ;;
        *) printf "$sel\\010\\004\\377\\377\\377\\377\\003\\001\\005\\000\\000\\000\\000\\001\\000\\000\\000" >> "$f" ;;
        esac
        s=$((s + 1))
    done
done
# structured programs (a complete response, body echo, polling, WASI files), written by
# the target itself, which knows the import numbering
if [ -x "$out/fuzz_host" ]; then
    FUZZ_HOST_MKSEED="$out/seed-host" "$out/fuzz_host" > /dev/null 2>&1 || echo "mkseed_inputs: fuzz_host -> seeds failed"
fi
echo "seed inputs: $(ls "$out/seed-http" | wc -l) http, $(ls "$out/seed-conf" | wc -l) conf, $(ls "$out/seed-host" | wc -l) host"
