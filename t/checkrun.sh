#!/bin/sh
# Runs every Check program given as an argument (each in its own process, with a
# timeout) and ends with "N passed, N failed" summed from Check's own summaries.
P=0; F=0
for bin in "$@"; do
    [ -x "$bin" ] || continue
    out=$(CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30} timeout 600 "$bin" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -vE '^Running suite' 
    sum=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    if [ -z "$sum" ]; then
        echo "$bin: no Check summary (exit $rc)"; F=$((F + 1)); continue
    fi
    n=$(echo "$sum" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$sum" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$sum" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    P=$((P + n - f - e)); F=$((F + f + e))
    [ $rc -ne 0 ] && [ $((f + e)) -eq 0 ] && { echo "$bin: exit $rc"; F=$((F + 1)); }
done
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
