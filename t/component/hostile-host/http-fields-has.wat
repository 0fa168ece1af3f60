;; wasi:http: [method]fields.has with name: list<u8> (the WIT: string); flattens the same,
;; so only the WIT-level check sees it
;; expect: component imports "wasi:http/types@0.2.0#[method]fields.has" with the wrong type: parameter 2 (name): list<u8>, the WIT's is string
(component
  (import "wasi:http/types@0.2.0" (instance $ht
    (export "fields" (type $fl (sub resource)))
    (export "[method]fields.has" (func (param "self" (borrow $fl)) (param "name" (list u8)) (result bool)))
  ))
  (alias export $ht "[method]fields.has" (func $f))
  (core module $mem (memory (export "m") 1))
  (core instance $mi (instantiate $mem))
  (alias core export $mi "m" (core memory $cm))
  (core func $lf (canon lower (func $f) (memory $cm)))
  (core module $m (import "h" "f" (func (param i32 i32 i32) (result i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
