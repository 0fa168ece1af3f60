#!/bin/sh
# Builds the fuzzers' seed corpus: every binary module wast2json extracts from the
# spec testsuite (valid, invalid and malformed ones), named by content hash so
# duplicates collapse. Usage: mkseed.sh OUTDIR   (third-party binaries stay in objs/).
out=${1:?usage: mkseed.sh OUTDIR}
ts=${WASM_TESTSUITE:-/work/shared/wasm-testsuite}
tmp=$(mktemp -d /tmp/wd-seed-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$out" || exit 1
n=0
for w in "$ts"/core/*.wast; do
    b=$(basename "$w" .wast)
    mkdir -p "$tmp/$b"
    wast2json --enable-all -o "$tmp/$b/$b.json" "$w" > /dev/null 2>&1 ||
        wast2json -o "$tmp/$b/$b.json" "$w" > /dev/null 2>&1 || continue
    for m in "$tmp/$b"/*.wasm; do
        [ -f "$m" ] || continue
        h=$(sha1sum "$m" | cut -c1-16)
        cp "$m" "$out/$h.wasm" && n=$((n + 1))
    done
    rm -rf "${tmp:?}/$b"
done
echo "seed corpus: $(ls "$out" | wc -l) modules in $out"
