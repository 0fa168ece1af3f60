;; expect: alias: core instance 0 has no export "nope"
(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (alias core export $i "nope" (core func))
)
