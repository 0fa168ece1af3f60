;; A resource the component defines, with a destructor (Canonical ABI: canon resource.drop of
;; an own handle calls the resource's dtor with its rep). run: makes a handle of rep 42, lends
;; it (resource.rep), drops it, then returns dtors * 1000 + the rep the dtor saw (t/component/
;; test_comp_host.c test_guest_dtor expects 1042; without the dtor call, 0).
;; expect: lift "run"
(component
  (core module $d
    (global $n (export "n") (mut i32) (i32.const 0))
    (global $last (export "last") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (global.set $last (local.get 0))))
  (core instance $di (instantiate $d))
  (alias core export $di "dtor" (core func $dtor))
  (type $r (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "r" "new" (func $new (param i32) (result i32)))
    (import "r" "rep" (func $rep (param i32) (result i32)))
    (import "r" "drop" (func $drop (param i32)))
    (import "d" "n" (global $n (mut i32)))
    (import "d" "last" (global $last (mut i32)))
    (func (export "run") (result i32)
      (local $h i32)
      (local.set $h (call $new (i32.const 42)))
      (if (i32.ne (call $rep (local.get $h)) (i32.const 42)) (then unreachable))
      (call $drop (local.get $h))
      (i32.add (i32.mul (global.get $n) (i32.const 1000)) (global.get $last))))
  (core instance $mi (instantiate $m
    (with "r" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))
    (with "d" (instance $di))))
  (func $run (result u32) (canon lift (core func $mi "run")))
  (export "run" (func $run)))
