(module
  (func $deep (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32) unreachable else local.get 0 i32.const 1 i32.sub call $deep end)
  (func $div (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "_start") i32.const 5 call $deep drop))
