;; wasi:random: get-random-bytes(len: s64) (the WIT: u64)
;; expect: component imports "wasi:random/random@0.2.3#get-random-bytes" with the wrong type: parameter 1 (len): s64, the WIT's is u64
(component
  (import "wasi:random/random@0.2.3" (instance $r
    (export "get-random-bytes" (func (param "len" s64) (result (list u8))))
  ))
  (alias export $r "get-random-bytes" (func $f))
  (core module $mem
    (memory (export "m") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64))
  (core instance $mi (instantiate $mem))
  (alias core export $mi "m" (core memory $cm))
  (alias core export $mi "realloc" (core func $re))
  (core func $lf (canon lower (func $f) (memory $cm) (realloc $re)))
  (core module $m (import "h" "f" (func (param i64 i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
