#!/bin/sh
# t/component/mkcomp.sh OUT: builds the components t/component tests, with the pinned jco in
# objs/npm (t/component/build.mk installs it):
#   OUT/NAME.comp.wasm   every C example handler (objs/handlers/NAME.wasm, a core module using
#                        the lowered Canonical ABI names) wrapped by `jco embed` (WIT: the
#                        reference wasi:http re-versioned to @0.2.0, @since/@unstable/@deprecated
#                        gates removed) + `jco new --wasi-reactor`; cgi.wasm (a WASI command)
#                        by `jco new --wasi-command`
#   OUT/serve-test-NAME.wasm  t/handlers' test-trapmid, test-loop, test-grow, test-hello-std and
#                        test-state, test-stdio wrapped the same way (limits, traps and isolation of components)
#   OUT/cgi-cmd.comp.wasm t/handlers/test-cgi-cmd.c (a WASI command) by jco new --wasi-command
#   OUT/counter.comp.wasm, OUT/kv-test.comp.wasm  the keyvalue handlers (examples/counter.c,
#                        t/kv/kv-test.c) wrapped with a world adding wasi:keyvalue@0.2.0-draft2
#                        (store, atomics, batch) and wasi:config@0.2.0-draft (store) imports
#   OUT/kv-cmd.cmd.wasm  t/kv/kv-cmd.c (a WASI command importing wasi:keyvalue / wasi:config;
#                        `wasmd run --keyvalue`, t/kv/test_kv_run.py) by jco embed (a world of
#                        those imports) + jco new --wasi-command
#   OUT/enc-utf16.comp.wasm, OUT/enc-latin1.comp.wasm  t/component/enc/enc.c (objs/handlers/
#                        comp-enc{1,2}.wasm) by jco embed --string-encoding utf16 |
#                        compact-utf16 (a world adding wasi:cli/environment) + jco new
#   OUT/NAME.js.wasm     every t/component/js/NAME.js by `jco componentize` (WIT re-versioned
#                        to @0.2.10, the version componentize-js 0.22's engine has), and every
#                        wasm-handlers/examples/NAME.js (the JS counter and URL shortener) with
#                        that world plus the wasi:keyvalue / wasi:config imports (OUT/wit-kv-js)
#   OUT/hostile/NAME.wasm, OUT/ok/NAME.wasm  every t/component/{hostile,ok}/NAME.wat assembled
#                        by `jco parse` (component text format)
# jco runs its bundled wasm-tools under preview2-shim, which sees no files without a preopen:
# OUT/preopen.mjs sets '/' before jco starts (node --import).
set -e
cd "$(dirname "$0")/../.."
OUT=${1:-objs/component}
NPM=$PWD/objs/npm/node_modules
[ -x "$NPM/.bin/jco" ] || { echo "mkcomp: $NPM/.bin/jco missing (make objs/npm/.stamp-jco)"; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
echo "import { _setPreopens } from '$NPM/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js'; _setPreopens({'/': '/'});" > "$OUT/preopen.mjs"
jco() { node --import "$OUT/preopen.mjs" "$NPM/.bin/jco" "$@"; }
REF=${WASI_HTTP_WIT:-../shared/reference/wasi-http-wit}
[ -d "$REF" ] || REF=/work/shared/reference/wasi-http-wit
[ -d "$REF" ] || { echo "mkcomp: no wasi:http WIT at $REF (set WASI_HTTP_WIT)"; exit 1; }
# wit_copy DIR VERSION: the reference WIT as one package world "handler" including
# wasi:http/proxy@VERSION (one world in the root package, so no --world is needed)
wit_copy() {
    rm -rf "$1"; mkdir -p "$1/deps/http"
    cp "$REF"/*.wit "$1/deps/http/"
    cp -r "$REF"/deps/* "$1/deps/"
    chmod -R u+w "$1"       # the reference tree is read-only: a plain user could not edit the copy
    find "$1" -name '*.wit' | xargs sed -i -E "s/@0\.2\.[0-9]+/@$2/g"
    printf 'package wasmd:handler;\n\nworld handler {\n  include wasi:http/proxy@%s;\n}\n' "$2" > "$1/world.wit"
}
wit_copy "$OUT/wit-0.2.0" 0.2.0
find "$OUT/wit-0.2.0" -name '*.wit' | xargs sed -i -E '/^[[:space:]]*@(since|unstable|deprecated)\(/d'
# the same plus wasi:keyvalue and wasi:config (the handlers importing them)
KVREF=$(dirname "$REF")/wasi-keyvalue-wit; CFGREF=$(dirname "$REF")/wasi-config-wit
[ -d "$KVREF" ] || KVREF=/work/shared/reference/wasi-keyvalue-wit
[ -d "$CFGREF" ] || CFGREF=/work/shared/reference/wasi-config-wit
rm -rf "$OUT/wit-kv"; cp -r "$OUT/wit-0.2.0" "$OUT/wit-kv"
mkdir -p "$OUT/wit-kv/deps/keyvalue" "$OUT/wit-kv/deps/config"
cp "$KVREF"/*.wit "$OUT/wit-kv/deps/keyvalue/"; cp "$CFGREF"/*.wit "$OUT/wit-kv/deps/config/"
chmod -R u+w "$OUT/wit-kv"
printf 'package wasmd:handler;\n\nworld handler {\n  include wasi:http/proxy@0.2.0;\n  import wasi:keyvalue/store@0.2.0-draft2;\n  import wasi:keyvalue/atomics@0.2.0-draft2;\n  import wasi:keyvalue/batch@0.2.0-draft2;\n  import wasi:config/store@0.2.0-draft;\n}\n' > "$OUT/wit-kv/world.wit"
# a command's world: the wasi:keyvalue and wasi:config imports (the adapter adds wasi:cli)
rm -rf "$OUT/wit-kv-cmd"; mkdir -p "$OUT/wit-kv-cmd/deps/keyvalue" "$OUT/wit-kv-cmd/deps/config"
cp "$KVREF"/*.wit "$OUT/wit-kv-cmd/deps/keyvalue/"; cp "$CFGREF"/*.wit "$OUT/wit-kv-cmd/deps/config/"
chmod -R u+w "$OUT/wit-kv-cmd"
printf 'package wasmd:cmd;\n\nworld cmd {\n  import wasi:keyvalue/store@0.2.0-draft2;\n  import wasi:keyvalue/atomics@0.2.0-draft2;\n  import wasi:keyvalue/batch@0.2.0-draft2;\n  import wasi:config/store@0.2.0-draft;\n}\n' > "$OUT/wit-kv-cmd/world.wit"
# the wasi:http world plus wasi:cli/environment (t/component/enc/enc.c reads it)
rm -rf "$OUT/wit-enc"; cp -r "$OUT/wit-0.2.0" "$OUT/wit-enc"
printf 'package wasmd:handler;\n\nworld handler {\n  include wasi:http/proxy@0.2.0;\n  import wasi:cli/environment@0.2.0;\n}\n' > "$OUT/wit-enc/world.wit"
wit_copy "$OUT/wit-0.2.10" 0.2.10
sed -i '/@unstable(feature = network-error-code)/d' "$OUT/wit-0.2.10/deps/sockets/network.wit"
# the JS examples' world: wasi:http 0.2.10 plus wasi:keyvalue and wasi:config
rm -rf "$OUT/wit-kv-js"; cp -r "$OUT/wit-0.2.10" "$OUT/wit-kv-js"
mkdir -p "$OUT/wit-kv-js/deps/keyvalue" "$OUT/wit-kv-js/deps/config"
cp "$KVREF"/*.wit "$OUT/wit-kv-js/deps/keyvalue/"; cp "$CFGREF"/*.wit "$OUT/wit-kv-js/deps/config/"
chmod -R u+w "$OUT/wit-kv-js"
printf 'package wasmd:handler;\n\nworld handler {\n  include wasi:http/proxy@0.2.10;\n  import wasi:keyvalue/store@0.2.0-draft2;\n  import wasi:keyvalue/atomics@0.2.0-draft2;\n  import wasi:keyvalue/batch@0.2.0-draft2;\n  import wasi:config/store@0.2.0-draft;\n}\n' > "$OUT/wit-kv-js/world.wit"

for w in objs/handlers/*.wasm; do
    n=$(basename "$w" .wasm)
    case $n in
    cgi*) jco new "$w" --wasi-command -o "$OUT/$n.comp.wasm" ;;
    test-trapmid|test-loop|test-grow|test-hello-std|test-state|test-stdio)   # test_serve.py
        jco embed --wit "$OUT/wit-0.2.0" "$w" -o "$OUT/$n.embed.wasm"
        jco new "$OUT/$n.embed.wasm" --wasi-reactor -o "$OUT/serve-$n.wasm"
        rm -f "$OUT/$n.embed.wasm" ;;
    test-cgi-cmd) jco new "$w" --wasi-command -o "$OUT/cgi-cmd.comp.wasm" ;;   # wasmd run
    test-*|hostile-*|ops-*) ;;
    counter|kv-test|shorten)    # import wasi:keyvalue / wasi:config
        jco embed --wit "$OUT/wit-kv" "$w" -o "$OUT/$n.embed.wasm"
        jco new "$OUT/$n.embed.wasm" --wasi-reactor -o "$OUT/$n.comp.wasm"
        rm -f "$OUT/$n.embed.wasm" ;;
    kv-cmd)     # wasmd run --keyvalue (a command)
        jco embed --wit "$OUT/wit-kv-cmd" "$w" -o "$OUT/$n.embed.wasm"
        jco new "$OUT/$n.embed.wasm" --wasi-command -o "$OUT/kv-cmd.cmd.wasm"
        rm -f "$OUT/$n.embed.wasm" ;;
    kv-*) ;;
    comp-enc1|comp-enc2)   # strings in UTF-16 / latin1+UTF-16
        e=utf16; o=enc-utf16; [ "$n" = comp-enc2 ] && e=compact-utf16 && o=enc-latin1
        jco embed --wit "$OUT/wit-enc" --string-encoding $e "$w" -o "$OUT/$n.embed.wasm"
        jco new "$OUT/$n.embed.wasm" --wasi-reactor -o "$OUT/$o.comp.wasm"
        rm -f "$OUT/$n.embed.wasm" ;;
    *)  jco embed --wit "$OUT/wit-0.2.0" "$w" -o "$OUT/$n.embed.wasm"
        jco new "$OUT/$n.embed.wasm" --wasi-reactor -o "$OUT/$n.comp.wasm"
        rm -f "$OUT/$n.embed.wasm" ;;
    esac
done
for j in t/component/js/*.js; do
    n=$(basename "$j" .js)
    [ -f "$OUT/$n.js.wasm" ] && [ "$OUT/$n.js.wasm" -nt "$j" ] && continue
    jco componentize "$j" --wit "$OUT/wit-0.2.10" -n handler -o "$OUT/$n.js.wasm"
done
for j in wasm-handlers/examples/*.js; do
    n=$(basename "$j" .js)
    [ -f "$OUT/$n.js.wasm" ] && [ "$OUT/$n.js.wasm" -nt "$j" ] && continue
    jco componentize "$j" --wit "$OUT/wit-kv-js" -n handler -o "$OUT/$n.js.wasm"
done
rm -rf "$OUT/hostile" "$OUT/ok" "$OUT/hostile-host"
mkdir -p "$OUT/hostile" "$OUT/ok" "$OUT/hostile-host"
for d in hostile ok hostile-host; do
    for h in t/component/$d/*.wat; do
        jco parse "$h" -o "$OUT/$d/$(basename "$h" .wat).wasm"
    done
done
