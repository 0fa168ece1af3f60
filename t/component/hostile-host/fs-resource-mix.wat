;; wasi:filesystem: [method]descriptor.is-same-object whose other is a directory-entry-stream
;; (same flattening, the wrong resource)
;; expect: component imports "wasi:filesystem/types@0.2.0#[method]descriptor.is-same-object" with the wrong type: parameter 2 (other): borrow<directory-entry-stream of wasi:filesystem/types@0.2.0>, the WIT's is borrow<wasi:filesystem/types#descriptor>
(component
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (export "directory-entry-stream" (type $s (sub resource)))
    (export "[method]descriptor.is-same-object" (func (param "self" (borrow $d)) (param "other" (borrow $s)) (result bool)))
  ))
  (alias export $fs "[method]descriptor.is-same-object" (func $f))
  (core func $lf (canon lower (func $f)))
  (core module $m (import "h" "f" (func (param i32 i32) (result i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
