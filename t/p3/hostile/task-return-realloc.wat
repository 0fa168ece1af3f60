;; expect: canon task.return: only memory and string-encoding options are allowed
;; byte: 0x09
(component
  (core module $M (memory (export "m") 1) (func (export "r") (param i32 i32 i32 i32) (result i32) i32.const 0))
  (core instance $m (instantiate $M))
  (alias core export $m "m" (core memory $mem))
  (alias core export $m "r" (core func $r))
  (core func (canon task.return (result string) (memory $mem) (realloc $r)))
)
