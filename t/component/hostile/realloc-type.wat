;; expect: realloc (core func 1) has type (i32) -> (i32), not (i32 i32 i32 i32) -> (i32)
;; byte: 0x04
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "f") (param i32 i32))
    (func (export "realloc") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (alias core export $i "realloc" (core func $r))
  (alias core export $i "mem" (core memory $mem))
  (type $t (func (param "s" string)))
  (func (type $t) (canon lift (core func $f) (memory $mem) (realloc $r)))
)
