;; a guest that makes streams without end: refused when the instance's handle space is full
;; expect: canon stream.new: too many handles
;; run: (loop $l (drop (call $sn)) (local.set 2 (i32.add (local.get 2) (i32.const 1))) (br_if $l (i32.lt_u (local.get 2) (i32.const 1000000)))) (i32.const 0)
;; cb: (i32.const 0)
