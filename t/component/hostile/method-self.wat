;; expect: "[method]output-stream.write": a method takes (param "self" (borrow output-stream)) first
(component
  (import "wasi:io/streams@0.2.0" (instance
    (export "output-stream" (type (sub resource)))
    (export "[method]output-stream.write" (func (param "this" u32)))))
)
