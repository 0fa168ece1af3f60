;; the exported wasi:cli/run#run answers u32 (the WIT: result)
;; expect: component exports "wasi:cli/run@0.2.0#run" with the wrong type: result: u32, the WIT's is result<_,_>
(component
  (core module $m (func (export "run") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $h (result u32) (canon lift (core func $i "run")))
  (instance $e (export "run" (func $h)))
  (export "wasi:cli/run@0.2.0" (instance $e))
)
