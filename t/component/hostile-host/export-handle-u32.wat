;; the exported wasi:http handler takes two u32s (the WIT: own<incoming-request>,
;; own<response-outparam>); flattens to the same (i32 i32) -> ()
;; expect: component exports "wasi:http/incoming-handler@0.2.0#handle" with the wrong type: parameter 1 (request): u32, the WIT's is own<wasi:http/types#incoming-request>
(component
  (core module $m (func (export "handle") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func $h (param "request" u32) (param "response-out" u32) (canon lift (core func $i "handle")))
  (instance $e (export "handle" (func $h)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $e))
)
