;; expect: "[constructor]fields": a constructor returns (own fields)
(component
  (import "wasi:http/types@0.2.0" (instance
    (export "fields" (type (sub resource)))
    (export "[constructor]fields" (func (result u32)))))
)
