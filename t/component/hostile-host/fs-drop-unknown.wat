;; wasi:filesystem: a resource the interface does not define, dropped through the host
;; expect: component imports the resource "wasi:filesystem/types@0.2.0#socket", which the host does not provide
(component
  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "socket" (type $d (sub resource)))
  ))
  (alias export $fs "socket" (type $sock))
  (core func $drop (canon resource.drop $sock))
  (core module $m (import "h" "drop" (func (param i32))))
  (core instance $h (export "drop" (func $drop)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
