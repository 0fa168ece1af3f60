;; expect: core instance index 3 out of range (0 defined)
(component
  (core module $m (import "env" "f" (func)))
  (core instance (instantiate $m (with "env" (instance 3))))
)
