;; expect: the task exited without calling task.return
;; run: (i32.const 0)
;; cb: (i32.const 0)
