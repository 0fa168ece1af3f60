;; expect: canon future.drop-writable: dropping the writable end of a future that was never written
;; run: (local.set 0 (call $fn)) (call $fdw (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32)))) (i32.const 0)
;; cb: (i32.const 0)
