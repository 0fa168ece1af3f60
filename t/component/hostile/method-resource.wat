;; expect: "[method]input-stream.read": no resource "input-stream" declared before it
(component
  (import "wasi:io/streams@0.2.0" (instance
    (export "output-stream" (type (sub resource)))
    (export "[method]input-stream.read" (func (param "self" u32)))))
)
