;; an async lift with a callback returns the i32 code, not the result
;; expect: canon lift: core func 0 has type () -> (i64), but the function type flattens to () -> (i32)
(component
  (core module $M (func (export "f") (result i64) i64.const 0)
                  (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0))
  (core instance $m (instantiate $M))
  (func (export "run") async (result u64) (canon lift (core func $m "f") async (callback (core func $m "cb"))))
)
