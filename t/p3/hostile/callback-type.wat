;; expect: has type (i32) -> (i32), not (i32 i32 i32) -> (i32)
(component
  (core module $M (func (export "f") (result i32) i32.const 0)
                  (func (export "cb") (param i32) (result i32) i32.const 0))
  (core instance $m (instantiate $M))
  (func (export "run") async (canon lift (core func $m "f") async (callback (core func $m "cb"))))
)
