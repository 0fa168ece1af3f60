;; expect: duplicate string-encoding canonical option
(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (type $t (func))
  (func (type $t) (canon lift (core func $f) string-encoding=utf8 string-encoding=utf16))
)
