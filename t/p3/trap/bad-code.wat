;; expect: the callback returned the invalid code 3
;; run: (i32.const 3)
;; cb: (i32.const 0)
