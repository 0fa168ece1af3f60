;; expect: canon task.return: the result is passed through memory, but no memory canonical option is given
(component
  (core func (canon task.return (result string)))
)
