;; expect: core func index 7 out of range (1 defined)
;; byte: 0x07
(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (type $t (func))
  (func (type $t) (canon lift (core func 7)))
)
