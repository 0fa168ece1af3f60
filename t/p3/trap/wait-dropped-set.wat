;; expect: canon waitable-set.wait: unknown handle
;; run: (local.set 1 (call $wn)) (call $wd (local.get 1)) (drop (call $ww (local.get 1) (i32.const 0))) (i32.const 0)
;; cb: (i32.const 0)
