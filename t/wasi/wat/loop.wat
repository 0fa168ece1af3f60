(module
  (global $n (mut i64) (i64.const 0))
  (func (export "_start") (loop $l global.get $n i64.const 1 i64.add global.set $n br $l))
  (func (export "count") (param i32) (result i32) (local i32)
    (block $b (loop $l local.get 1 local.get 0 i32.ge_u br_if $b
      local.get 1 i32.const 1 i32.add local.set 1 br $l))
    local.get 1))
