;; expect: canon stream.read: stream.read while another copy on this end is in progress
;; run: (local.set 0 (call $sn)) (drop (call $sr (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 4))) (drop (call $sr (i32.wrap_i64 (local.get 0)) (i32.const 0) (i32.const 4))) (i32.const 0)
;; cb: (i32.const 0)
