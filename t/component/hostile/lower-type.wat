;; expect: core module 0 import "host" "f": expects (i32) -> (i32), the argument has (i64) -> (i32)
(component
  (import "f" (func $f (param "x" u64) (result u32)))
  (core func $lf (canon lower (func $f)))
  (core module $m (import "host" "f" (func (param i32) (result i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "host" (instance $h))))
)
