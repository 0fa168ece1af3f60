#!/bin/sh
# t/hostile/valgrind.sh: a representative subset of the integration tests with the server
# under valgrind (memcheck, --leak-check=full): t/http/test_basic.py, test_framing.py, test_body.py,
# test_rfc9112.py (the framing table, Wasm echo included) and t/hostile/test_vg_handlers.py (handlers and the host-call boundary). The server
# binary is replaced by a wrapper script (WASMD_BIN), so the harness is unchanged; every
# valgrind report goes to $VG_DIR/vg.PID.log and any non-empty log is a failure (-q prints
# only errors; definite and indirect leaks count as errors).
# Needs `make all handlers`. Run by t/hostile/run (plain build; HOSTILE_VALGRIND=0 skips), or alone:
#   sh t/hostile/valgrind.sh            ends with "N passed, N failed"
# The engine bounds-checks linear memory explicitly by default (no guard pages, no SIGSEGV
# handler: WD_WASM_GUARD_PAGES=0), so valgrind needs no special handling or suppressions.
cd "$(dirname "$0")/../.." || exit 1
B=${B:-objs}
REAL=$(cd "$(dirname "${WASMD_BIN:-$B/wasmd}")" && pwd)/$(basename "${WASMD_BIN:-$B/wasmd}")
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind: not installed: skipped"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
case "$REAL" in */san/*) echo "valgrind: $REAL is a sanitizer build: use objs/wasmd"; echo "0 passed, 1 failed"; exit 1 ;; esac
VG_DIR=$(mktemp -d /tmp/wasmd-vg.XXXXXX)
cat > "$VG_DIR/wasmd" <<EOW
#!/bin/sh
exec valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --num-callers=30 \\
    --log-file=$VG_DIR/vg.%p.log "$REAL" "\$@"
EOW
chmod +x "$VG_DIR/wasmd"
P=0; F=0
for t in ${VG_FILES:-t/http/test_basic.py t/http/test_framing.py t/http/test_body.py t/http/test_rfc9112.py t/hostile/test_vg_handlers.py}; do
    t0=$(date +%s)
    # these files use their groups' fixed ports: if a concurrent run of that group holds one
    # (a shared machine; CI runs groups one after the other), wait and retry
    for try in 1 2 3 4 5; do
        out=$(WASMD_BIN=$VG_DIR/wasmd T_START_TIMEOUT=${T_START_TIMEOUT:-120} timeout 600 python3 "$t" 2>&1); rc=$?
        case "$out" in *"Address already in use"*) sleep 10 ;; *) break ;; esac
    done
    printf '%s\n' "$out" | grep -E '^FAIL' 
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL valgrind $t: no summary (exit $rc)"; printf '%s\n' "$out" | tail -5; F=$((F + 1)); continue
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    P=$((P + p)); F=$((F + f))
    echo "valgrind $t: $line ($(( $(date +%s) - t0 )) s)"
done
n=0
for l in "$VG_DIR"/vg.*.log; do
    [ -s "$l" ] || continue
    n=$((n + 1))
    echo "FAIL valgrind report $l:"; head -60 "$l"
done
if [ $n -eq 0 ]; then P=$((P + 1)); echo "valgrind: no reports from $(ls "$VG_DIR"/vg.*.log 2>/dev/null | wc -l) server processes"
else F=$((F + 1)); fi
[ $n -eq 0 ] && [ -z "$VG_KEEP" ] && rm -rf "$VG_DIR"
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
