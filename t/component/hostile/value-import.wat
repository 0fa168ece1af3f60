;; expect: value imports/exports are not supported
(component
  (import "v" (value u32))
)
