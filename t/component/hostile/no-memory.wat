;; expect: no memory canonical option is given
(component
  (core module $m (func (export "f") (param i32 i32)))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (type $t (func (param "s" string)))
  (func (type $t) (canon lift (core func $f)))
)
