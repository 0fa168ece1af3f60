;; the exported wasi:http handler takes handles of a resource the component defines itself:
;; the host's request handle would be read as one of the guest's
;; expect: component exports "wasi:http/incoming-handler@0.2.0#handle" with the wrong type: parameter 1 (request): own<resource not imported>, the WIT's is own<wasi:http/types#incoming-request>
(component
  (type $r (resource (rep i32)))
  (core module $m (func (export "handle") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func $h (param "request" (own $r)) (param "response-out" (own $r)) (canon lift (core func $i "handle")))
  (instance $e (export "incoming-request" (type $r)) (export "handle" (func $h)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $e))
)
