;; the threads built-ins (🧵) are not supported (the async ones are: t/p3)
;; expect: canon thread.index (component-model threads) is not supported
;; byte: 0x26
(component
  (core func (canon thread.index))
)
