;; a write to a stream whose reader is gone reports DROPPED (1); writing again traps
;; expect: canon stream.write: stream.write on an end that is done
;; run: (local.set 0 (call $sn)) (call $sdr (i32.wrap_i64 (local.get 0))) (if (i32.ne (call $sw (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32))) (i32.const 0) (i32.const 4)) (i32.const 1)) (then unreachable)) (drop (call $sw (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32))) (i32.const 0) (i32.const 4))) (i32.const 0)
;; cb: (i32.const 0)
