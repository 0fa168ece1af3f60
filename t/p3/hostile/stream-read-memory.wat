;; expect: canon stream.read: the element type needs a memory canonical option
;; byte: 0x0f
(component
  (type $s (stream u8))
  (core func (canon stream.read $s async))
)
