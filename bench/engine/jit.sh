#!/bin/sh
# bench/engine/jit.sh: the baseline compiler (WD_WASM_ENGINE=jit) against the interpreter
# and native code on the bench/engine programs. Per program, RUNS rounds; each round runs
# native (clang -O2), the interpreter and the compiler one after the other (alternating,
# so load on a shared machine hits all alike), each as a whole process (`wasmd run`: load,
# compile and instantiate included), pinned to one CPU with taskset (CPU, default 1).
# Prints user+sys CPU medians (TIME=wall: wall clock), the ratios jit/native,
# interp/native and interp/jit, and the geometric means. A run whose output differs from
# native is flagged. BASE_RUN="other-wasmd run" adds a fourth column: another build's
# interpreter (e.g. main before the compiler) to check the default path did not slow down.
# Environment: B, WASMD_BIN, RUNS (default 5), PROGS, SCALE_ARGS (as bench/engine/run).
cd "$(dirname "$0")/../.." || exit 1
B=${B:-objs}
RUNS=${RUNS:-5}
CPU=${CPU:-1}
O=$B/bench/engine
mkdir -p "$O" || exit 1
WASI_CC=$(sed -n 's/^WASI_CC *= *//p' objs/config.mk 2>/dev/null)
WASI_CC=${WASI_CC:-clang --target=wasm32-wasi}
PROGS=${PROGS:-sieve hash matmul nbody fib sort}
newer() { [ ! -f "$1" ] || [ "$2" -nt "$1" ]; }
for p in $PROGS; do
    src=bench/engine/$p.c
    if newer "$O/$p.clang.native" "$src"; then clang -O2 -o "$O/$p.clang.native" "$src" -lm || exit 1; fi
    if newer "$O/$p.wasm" "$src"; then $WASI_CC -O2 -o "$O/$p.wasm" "$src" -lm || exit 1; fi
done
WASMD_BIN=${WASMD_BIN:-$B/wasmd}
RUN="$WASMD_BIN run"
ptime() { tail -n 1 "$1" | awk -v w="${TIME:-cpu}" '{ if (w == "wall") print $1; else printf "%.3f\n", $2 + $3 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
argsof() { for kv in ${SCALE_ARGS:-}; do [ "${kv%%=*}" = "$1" ] && echo "${kv#*=}"; done; }
timed() { # out-file command...
    out=$1; shift
    /usr/bin/time -f '%e %U %S' -o "$O/time" taskset -c "$CPU" "$@" > "$out" 2>&1
    ptime "$O/time"
}
echo "bench/engine/jit.sh: $RUN, pinned to cpu $CPU, ${TIME:-cpu} seconds, median of $RUNS alternating rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %9s %9s %9s %s %9s %9s %9s  %s\n' program native interp jit "$([ -n "${BASE_RUN:-}" ] && printf '%9s' base)" \
    jit/nat int/nat int/jit check
RJ=""; RI=""; RS=""
for p in $PROGS; do
    a=$(argsof "$p")
    "$O/$p.clang.native" $a > "$O/$p.native.out" 2>&1
    nt=""; it=""; jt=""; bt=""; status=ok; i=0
    while [ $i -lt "$RUNS" ]; do
        nt="$nt $(timed "$O/$p.n.out" "$O/$p.clang.native" $a)"
        it="$it $(WD_WASM_ENGINE=interp timed "$O/$p.i.out" $RUN "$O/$p.wasm" $a)"
        cmp -s "$O/$p.native.out" "$O/$p.i.out" || status="INTERP OUTPUT DIFFERS"
        jt="$jt $(WD_WASM_ENGINE=jit timed "$O/$p.j.out" $RUN "$O/$p.wasm" $a)"
        cmp -s "$O/$p.native.out" "$O/$p.j.out" || status="JIT OUTPUT DIFFERS"
        if [ -n "${BASE_RUN:-}" ]; then
            bt="$bt $(timed "$O/$p.b.out" $BASE_RUN "$O/$p.wasm" $a)"
        fi
        i=$((i + 1))
    done
    nm=$(median $nt); im=$(median $it); jm=$(median $jt)
    bcol=""
    [ -n "${BASE_RUN:-}" ] && bcol=$(printf '%9.3f' "$(median $bt)")
    rj=$(echo "$jm / $nm" | bc -l); ri=$(echo "$im / $nm" | bc -l); rs=$(echo "$im / $jm" | bc -l)
    RJ="$RJ $rj"; RI="$RI $ri"; RS="$RS $rs"
    printf '%-8s %9.3f %9.3f %9.3f %s %8.2fx %8.2fx %8.2fx  %s\n' "$p" "$nm" "$im" "$jm" "$bcol" "$rj" "$ri" "$rs" "$status"
done
gm() { echo "$1" | awk '{s=0; for (i=1;i<=NF;i++) s+=log($i); printf "%.2fx", exp(s/NF)}'; }
echo "geometric means: jit/native $(gm "$RJ"), interp/native $(gm "$RI"), interp/jit $(gm "$RS")"
