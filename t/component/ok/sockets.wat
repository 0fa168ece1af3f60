;; an interface the host does not have at all
;; rc: 1
;; expect: imports: component imports "wasi:sockets/tcp@0.2.3", which the host does not provide
;; instantiate: component imports "wasi:sockets/tcp@0.2.3", which the host does not provide
(component
  (import "wasi:sockets/tcp@0.2.3" (instance $tcp (export "f" (func))))
  (alias export $tcp "f" (func $f))
  (core func (canon lower (func $f)))
)
