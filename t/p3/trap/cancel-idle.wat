;; expect: canon stream.cancel-read: stream.cancel-read without a copy in progress
;; run: (local.set 0 (call $sn)) (drop (call $scr (i32.wrap_i64 (local.get 0)))) (i32.const 0)
;; cb: (i32.const 0)
