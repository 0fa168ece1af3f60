;; a nested component instantiated twice (each instantiation gets its own core instance and its
;; own resource type), outer aliases, inline instances, a local resource with a destructor and its
;; intrinsics, a lifted export with string params (memory + realloc) and post-return, exported
;; through an instance; the shim/fixup pattern: a table filled by a later module's active elements
;; expect: resources 2
;; expect: instantiate core0 = module 0
;; expect: instantiate core1 = module 0
;; expect: host[0] = resource.new resource 0 core (i32) -> (i32)
;; expect: host[1] = resource.rep resource 0 core (i32) -> (i32)
;; expect: host[2] = resource.drop resource 0 core (i32) -> ()
;; expect: host[3] = resource.new resource 1 core (i32) -> (i32)
;; expect: lift "wasi:http/incoming-handler@0.2.0#greet" = core2.func "greet" core (i32 i32) -> (i32) string-encoding=utf8 memory=core2.memory "mem" realloc=core2.func "realloc" post-return=core2.func "free"
;; expect: lift "run" = core2.func "run" core () -> ()
;; expect: import "fix" "tbl" <- core3.table "tbl"
;; expect: import "fix" "greet" <- core2.func "greet"
;; expect: instantiate: ok, 5 core instances
(component $root
  (core module $inner
    (func (export "dtor") (param i32)))
  (component $c
    (alias outer $root $inner (core module $im))
    (core instance $i (instantiate $im))
    (alias core export $i "dtor" (core func $dtor))
    (type $r (resource (rep i32) (dtor (core func $dtor))))
    (core func (canon resource.new $r))
    (core func (canon resource.rep $r))
    (core func (canon resource.drop $r))
    (export "r" (type $r))
  )
  (instance $a (instantiate $c))
  (instance $b (instantiate $c))
  (core module $main
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 16)
    (func (export "greet") (param i32 i32) (result i32) i32.const 0)
    (func (export "free") (param i32))
    (func (export "run")))
  (core instance $m (instantiate $main))
  (alias core export $m "mem" (core memory $mem))
  (alias core export $m "realloc" (core func $realloc))
  (alias core export $m "greet" (core func $greet))
  (alias core export $m "free" (core func $free))
  (alias core export $m "run" (core func $run))
  (type $gt (func (param "who" string) (result string)))
  (func $g (type $gt) (canon lift (core func $greet) (memory $mem) (realloc $realloc) (post-return $free)))
  (type $rt (func))
  (func $r (type $rt) (canon lift (core func $run)))
  (instance $exp (export "greet" (func $g)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $exp))
  (export "run" (func $r))
  (core module $shim
    (table (export "tbl") 1 1 funcref))
  (core instance $sh (instantiate $shim))
  (core module $fixup
    (import "fix" "tbl" (table 1 1 funcref))
    (import "fix" "greet" (func (param i32 i32) (result i32)))
    (elem (i32.const 0) func 0))
  (core instance $fx (export "tbl" (table $sh "tbl")) (export "greet" (func $greet)))
  (core instance (instantiate $fixup (with "fix" (instance $fx))))
)
