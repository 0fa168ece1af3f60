;; expect: canon lower of a lifted function (a call between two components) is not supported yet
(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (type $t (func))
  (func $g (type $t) (canon lift (core func $f)))
  (core func (canon lower (func $g)))
)
