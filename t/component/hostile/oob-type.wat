;; expect: type index 9 out of range
(component
  (import "f" (func (type 9)))
)
