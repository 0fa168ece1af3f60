;; expect: a function result may not contain a borrow handle
(component
  (type $r (resource (rep i32)))
  (type (func (result (borrow $r))))
)
