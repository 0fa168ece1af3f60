;; expect: core module 0 import "env" "f": no instantiation argument named "env"
(component
  (core module $m (import "env" "f" (func)))
  (core instance (instantiate $m))
)
