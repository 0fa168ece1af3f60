;; an async lower passes a result pointer: memory is needed
;; expect: canon lower async: the function type passes values through memory, but no memory canonical option is given
(component
  (import "f" (func $f async (result u32)))
  (core func (canon lower (func $f) async))
)
