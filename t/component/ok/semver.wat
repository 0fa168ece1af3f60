;; imports on two versions of the 0.2 track (wit-component merges the adapter's and the guest's);
;; both bind to the host's 0.2.8; a lowered string function bound to memory and realloc
;; expect: lower "wasi:io/streams@0.2.0#[method]output-stream.write" core (i32 i32 i32) -> () string-encoding=utf8 memory=core0.memory "memory"
;; expect: lower "wasi:cli/environment@0.2.12#get-arguments" core (i32) -> () string-encoding=utf8 memory=core0.memory "memory" realloc=core0.func "realloc"
;; expect: imports: all resolve
;; expect: instantiate: ok, 2 core instances
(component
  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type (sub resource)))
    (export "[method]output-stream.write" (func (param "self" (borrow 0)) (param "s" string)))))
  (import "wasi:cli/environment@0.2.12" (instance $env
    (export "get-arguments" (func (result (list string))))))
  (core module $main
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8))
  (core instance $m (instantiate $main))
  (alias core export $m "memory" (core memory $mem))
  (alias core export $m "realloc" (core func $realloc))
  (alias export $streams "[method]output-stream.write" (func $write))
  (alias export $env "get-arguments" (func $args))
  (core func $lw (canon lower (func $write) (memory $mem)))
  (core func $la (canon lower (func $args) (memory $mem) (realloc $realloc)))
  (core module $user
    (import "host" "write" (func (param i32 i32 i32)))
    (import "host" "args" (func (param i32))))
  (core instance $h (export "write" (func $lw)) (export "args" (func $la)))
  (core instance (instantiate $user (with "host" (instance $h))))
)
