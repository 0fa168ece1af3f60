;; `wasmd run --invoke` with v128: an argument as four i32 lanes, results printed lane by lane
(module
  (func (export "addsplat") (param v128 i32) (result v128 i32)
    (i32x4.add (local.get 0) (i32x4.splat (local.get 1)))
    (i32x4.extract_lane 3 (local.get 0))))
