;; expect: canon context.get: slot 2 (only 0 and 1 exist)
(component
  (core func (canon context.get i32 2))
)
