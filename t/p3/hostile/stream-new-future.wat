;; expect: canon stream.new: type 0 is not a stream type
(component
  (type $f (future u8))
  (core func (canon stream.new $f))
)
