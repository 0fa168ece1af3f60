;; expect: duplicate import name "A-B"
;; byte: 0x00
(component
  (import "a-b" (func))
  (import "A-B" (func))
)
