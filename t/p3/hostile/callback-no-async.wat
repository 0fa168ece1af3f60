;; expect: the callback canonical option needs async
(component
  (core module $M (func (export "f") (result i32) i32.const 0)
                  (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0))
  (core instance $m (instantiate $M))
  (func (export "run") async (result u32) (canon lift (core func $m "f") (callback (core func $m "cb"))))
)
