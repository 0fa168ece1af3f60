;; wasi:filesystem: [method]descriptor.read with length: u32 (the WIT: u64); the host would
;; read a parameter the guest never passed
;; expect: component imports "wasi:filesystem/types@0.2.0#[method]descriptor.read" with the wrong type: parameter 2 (length): u32, the WIT's is u64
(component
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (export "[method]descriptor.read" (func (param "self" (borrow $d)) (param "length" u32) (param "offset" u64) (result u32)))
  ))
  (alias export $fs "[method]descriptor.read" (func $f))
  (core func $lf (canon lower (func $f)))
  (core module $m (import "h" "f" (func (param i32 i32 i64) (result i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
