;; another compatibility track: refused, naming the version the host has
;; rc: 1
;; expect: imports: component imports "wasi:io/streams@0.3.0", which the host does not provide (it has "wasi:io/streams@0.2.8")
;; instantiate: component imports "wasi:io/streams@0.3.0", which the host does not provide (it has "wasi:io/streams@0.2.8")
(component
  (import "wasi:io/streams@0.3.0" (instance $s (export "f" (func))))
  (alias export $s "f" (func $f))
  (core func (canon lower (func $f)))
)
