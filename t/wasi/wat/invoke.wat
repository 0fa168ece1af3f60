(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "mul64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "fdiv") (param f64 f64) (result f64) local.get 0 local.get 1 f64.div)
  (func (export "fsq") (param f32) (result f32) local.get 0 local.get 0 f32.mul)
  (func (export "pair") (param i32) (result i32 i64) local.get 0 local.get 0 i64.extend_i32_s i64.const 3 i64.mul)
  (func (export "nothing")))
