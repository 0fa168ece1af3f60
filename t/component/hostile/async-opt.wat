;; expect: canon lower: the async option needs an async function type
(component
  (import "f" (func $f))
  (core func (canon lower (func $f) async))
)
