#!/bin/sh
# t/p3/mktrap.sh OUT: each t/p3/trap/NAME.wat gives its ";; run:" and ";; cb:" bodies to
# t/p3/trap.tmpl (a wasi:cli/run@0.3.0 command with the async built-ins imported); the
# result is assembled by the pinned jco into OUT/NAME.wasm.
set -e
cd "$(dirname "$0")/../.."
OUT=$1
NPM=$PWD/objs/npm/node_modules
mkdir -p "$OUT"
for w in t/p3/trap/*.wat; do
    n=$(basename "$w" .wat)
    run=$(sed -n 's/^;; run: //p' "$w")
    cb=$(sed -n 's/^;; cb: //p' "$w")
    awk -v run="$run" -v cb="$cb" '{ gsub(/@RUN@/, run); gsub(/@CB@/, cb); print }' t/p3/trap.tmpl > "$OUT/$n.wat"
    node --import "$PWD/objs/component/preopen.mjs" "$NPM/.bin/jco" parse "$PWD/$OUT/$n.wat" -o "$PWD/$OUT/$n.wasm"
done
