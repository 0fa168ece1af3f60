;; expect: canon error-context.new: needs the memory canonical option
(component
  (core func (canon error-context.new))
)
