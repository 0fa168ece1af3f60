;; A wasi:http handler that leaves everything alive: per request it makes a fields (a host
;; wasi:http handle), a handle of its own resource (with a destructor that counts), takes the
;; preopened directories (wasi:filesystem descriptors: open fds) and never drops them, nor
;; the request and response-outparam, and returns without a response.
;; t/component/test_comp_host.c test_reset_no_leak serves 1,000 requests with the server's
;; per-request reset (wd_host_comp_reset + restore of every core instance) and counts what
;; the host holds afterwards: handles, descriptors, process fds, heap.
;; expect: lift "wasi:http/incoming-handler@0.2.0#handle"
(component
  (import "wasi:http/types@0.2.0" (instance $ht
    (export "fields" (type $fl (sub resource)))
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
    (export "[constructor]fields" (func (result (own $fl))))
  ))
  (alias export $ht "incoming-request" (type $req))
  (alias export $ht "response-outparam" (type $out))
  (alias export $ht "[constructor]fields" (func $newfields))
  (import "wasi:filesystem/types@0.2.0" (instance $ft
    (export "descriptor" (type (sub resource)))
  ))
  (alias export $ft "descriptor" (type $desc))
  (import "wasi:filesystem/preopens@0.2.0" (instance $po
    (alias outer 1 $desc (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (type $tu (tuple (own $d) string))
    (type $l (list $tu))
    (export "get-directories" (func (result $l)))
  ))
  (alias export $po "get-directories" (func $getdirs))

  (core module $mm
    (memory (export "memory") 1)
    (global $b (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $b) (i32.const 7)) (i32.const -8)))
      (global.set $b (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $mi (instantiate $mm))
  (alias core export $mi "memory" (core memory $mem))
  (alias core export $mi "realloc" (core func $realloc))

  (core module $dm
    (global $n (export "n") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))))
  (core instance $di (instantiate $dm))
  (alias core export $di "dtor" (core func $dtor))
  (type $r (resource (rep i32) (dtor (core func $dtor))))
  (core func $rnew (canon resource.new $r))

  (core func $lfields (canon lower (func $newfields)))
  (core func $ldirs (canon lower (func $getdirs) (memory $mem) (realloc $realloc)))
  (core module $main
    (import "h" "fields" (func $fields (result i32)))
    (import "h" "dirs" (func $dirs (param i32)))
    (import "h" "rnew" (func $rnew (param i32) (result i32)))
    (func (export "handle") (param i32 i32)
      (drop (call $fields))
      (drop (call $rnew (i32.const 7)))
      (call $dirs (i32.const 16))))
  (core instance $main (instantiate $main
    (with "h" (instance (export "fields" (func $lfields)) (export "dirs" (func $ldirs))
                        (export "rnew" (func $rnew))))))
  (func $handle (param "request" (own $req)) (param "response-out" (own $out))
    (canon lift (core func $main "handle")))
  (instance $e (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $e))
)
