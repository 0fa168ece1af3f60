;; expect: the async canonical option (component-model async) is not supported
(component
  (import "f" (func $f))
  (core func (canon lower (func $f) async))
)
