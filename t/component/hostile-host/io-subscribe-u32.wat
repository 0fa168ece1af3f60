;; wasi:io: [method]input-stream.subscribe answering a plain u32 (the WIT: own<pollable>)
;; expect: component imports "wasi:io/streams@0.2.0#[method]input-stream.subscribe" with the wrong type: result: u32, the WIT's is own<wasi:io/poll#pollable>
(component
  (import "wasi:io/streams@0.2.0" (instance $io
    (export "input-stream" (type $is (sub resource)))
    (export "[method]input-stream.subscribe" (func (param "self" (borrow $is)) (result u32)))
  ))
  (alias export $io "[method]input-stream.subscribe" (func $f))
  (core func $lf (canon lower (func $f)))
  (core module $m (import "h" "f" (func (param i32) (result i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
