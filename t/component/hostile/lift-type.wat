;; expect: canon lift: core func 0 has type (i32) -> (), but the function type flattens to (i32 i64) -> (i32)
(component
  (core module $m (func (export "f") (param i32)))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (type $t (func (param "a" u32) (param "b" u64) (result bool)))
  (func (type $t) (canon lift (core func $f)))
)
