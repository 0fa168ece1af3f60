;; A small module for the instantiate benchmark: one memory page with a data
;; segment, a table with an element segment, globals, a few functions.
(module
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  (global $k i64 (i64.const 42))
  (table 4 funcref)
  (elem (i32.const 0) $a $b $c)
  (data (i32.const 1024) "hello, small module")
  (type $t (func (param i32) (result i32)))
  (func $a (type $t) local.get 0 i32.const 1 i32.add)
  (func $b (type $t) local.get 0 i32.const 2 i32.mul)
  (func $c (type $t) local.get 0 global.get $g i32.add)
  (func (export "run") (param i32) (result i32)
    local.get 0 local.get 0 i32.const 3 i32.rem_u call_indirect (type $t)))
