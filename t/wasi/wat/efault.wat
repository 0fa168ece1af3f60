;; fd_write with an iovec array outside memory must return EFAULT (21), and one whose buffer
;; runs past the end too; the results become the exit code: 21 * 10 + 21 -> proc_exit(231)
;; when both are right. Then a good write of "ok\n".
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok\n")
  (func (export "_start")
    (local i32)
    ;; iovec {buf=16,len=3} at 0; nwritten at 8
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    ;; iovec at 32 = {buf=65530,len=100}: runs past the 64 KiB memory
    (i32.store (i32.const 32) (i32.const 65530))
    (i32.store (i32.const 36) (i32.const 100))
    (call $w (i32.const 1) (i32.const 65535) (i32.const 1) (i32.const 8))
    i32.const 10 i32.mul
    (call $w (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 8))
    i32.add
    local.set 0
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (local.get 0))))
