;; wasi:keyvalue: atomics.increment whose bucket is a "cas" handle (the WIT: borrow<bucket>)
;; expect: component imports "wasi:keyvalue/atomics@0.2.0-draft2#increment" with a type that is not the WIT's
(component
  (import "wasi:keyvalue/atomics@0.2.0-draft2" (instance $kv
    (export "cas" (type $c (sub resource)))
    (type $e0 (variant (case "no-such-store") (case "access-denied") (case "other" string)))
    (export "error" (type $e (eq $e0)))
    (export "increment" (func (param "bucket" (borrow $c)) (param "key" string) (param "delta" s64) (result (result s64 (error $e)))))
  ))
  (alias export $kv "increment" (func $f))
  (core module $mem
    (memory (export "m") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64))
  (core instance $mi (instantiate $mem))
  (alias core export $mi "m" (core memory $cm))
  (alias core export $mi "realloc" (core func $re))
  (core func $lf (canon lower (func $f) (memory $cm) (realloc $re)))
  (core module $m (import "h" "f" (func (param i32 i32 i32 i64 i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
