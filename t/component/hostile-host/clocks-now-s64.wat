;; wasi:clocks: monotonic-clock.now answering s64 (the WIT: instant = u64)
;; expect: component imports "wasi:clocks/monotonic-clock@0.2.0#now" with the wrong type: result: s64, the WIT's is u64
(component
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $c
    (export "now" (func (result s64)))
  ))
  (alias export $c "now" (func $f))
  (core func $lf (canon lower (func $f)))
  (core module $m (import "h" "f" (func (result i64))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
