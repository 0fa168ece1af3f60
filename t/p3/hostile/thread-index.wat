;; expect: canon thread.index (component-model threads) is not supported
;; byte: 0x26
(component
  (core func (canon thread.index))
)
