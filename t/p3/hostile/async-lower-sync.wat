;; expect: canon lower: the async option needs an async function type
;; byte: 0x01
(component
  (import "f" (func $f))
  (core func (canon lower (func $f) async))
)
