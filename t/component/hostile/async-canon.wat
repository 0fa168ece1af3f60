;; expect: canon backpressure.inc (component-model async/threads, WASI 0.3) is not supported
;; byte: 0x24
(component
  (core func (canon backpressure.inc))
)
