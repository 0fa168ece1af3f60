;; wasi:cli: exit(status: u32) (the WIT: result)
;; expect: component imports "wasi:cli/exit@0.2.0#exit" with the wrong type: parameter 1 (status): u32, the WIT's is result<_,_>
(component
  (import "wasi:cli/exit@0.2.0" (instance $x
    (export "exit" (func (param "status" u32)))
  ))
  (alias export $x "exit" (func $f))
  (core func $lf (canon lower (func $f)))
  (core module $m (import "h" "f" (func (param i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
