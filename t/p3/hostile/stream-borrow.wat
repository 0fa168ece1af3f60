;; expect: a stream element may not contain a borrow handle
(component
  (type $r (resource (rep i32)))
  (type $s (stream (borrow $r)))
)
