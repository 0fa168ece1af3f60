;; a read nobody will ever write to, and a callback that waits for it
;; expect: waitable-set.wait waits forever: nothing it waits for can happen
;; run: (local.set 0 (call $sn)) (drop (call $sr (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 4))) (local.set 1 (call $wn)) (call $wj (i32.wrap_i64 (local.get 0)) (local.get 1)) (i32.or (i32.const 2) (i32.shl (local.get 1) (i32.const 4)))
;; cb: (i32.const 0)
