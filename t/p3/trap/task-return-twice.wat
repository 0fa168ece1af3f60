;; expect: canon task.return: task.return called twice
;; run: (call $tr (i32.const 0)) (call $tr (i32.const 0)) (i32.const 0)
;; cb: (i32.const 0)
