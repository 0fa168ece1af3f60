;; Self-test of the spec runner: t/spec/run checks that wd_spec reports exactly
;; the expected numbers for this script (see the SELFTEST_* values in t/spec/run),
;; so a runner that counted everything as passed would itself fail the group.
;; Commands marked "fail" are deliberately wrong.

(module $A
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "one") (result f64) (f64.const 1))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func $loop (export "loop") (call $loop))
  (global (export "g") i64 (i64.const -1))
)
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))          ;; pass
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))          ;; fail
(assert_return (invoke "nan") (f32.const nan:canonical))                          ;; pass
(assert_return (invoke "one") (f64.const nan:arithmetic))                         ;; fail
(assert_return (invoke "one") (f64.const 1))                                      ;; pass
(assert_return (invoke "id" (ref.extern 7)) (ref.extern 7))                       ;; pass
(assert_return (invoke "id" (ref.extern 7)) (ref.extern 8))                       ;; fail
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))                 ;; pass
(assert_return (get "g") (i64.const -1))                                          ;; pass
(assert_return (get "g") (i64.const 1))                                           ;; fail
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero") ;; pass
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer overflow")       ;; fail
(assert_trap (invoke "div" (i32.const 4) (i32.const 2)) "integer divide by zero") ;; fail
(assert_exhaustion (invoke "loop") "call stack exhausted")                        ;; pass
(assert_exhaustion (invoke "add" (i32.const 0) (i32.const 0)) "call stack exhausted") ;; fail
(assert_return (invoke "missing"))                                                ;; fail
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")       ;; pass
(assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")       ;; fail
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")  ;; pass
(assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end")          ;; fail
(assert_malformed (module quote "(func (i32.const))") "unexpected token")         ;; pass (text)
(register "A" $A)                                                                 ;; pass
(assert_unlinkable (module (import "A" "nope" (func))) "unknown import")          ;; pass
(assert_unlinkable (module (import "A" "add" (func (param i32 i32) (result i32)))) "incompatible import type") ;; fail
(module (import "A" "add" (func (param i32 i32) (result i32))) (import "spectest" "print_i32" (func (param i32)))
  (func (export "add2") (param i32) (result i32) (call 0 (local.get 0) (i32.const 2))))        ;; pass
(assert_return (invoke "add2" (i32.const 40)) (i32.const 42))                     ;; pass
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")   ;; pass
(assert_trap (module (func $s) (start $s)) "unreachable")               ;; fail
(module $V (func (export "v") (result v128) (v128.const i32x4 1 2 3 4))
  (func (export "n") (result v128) (v128.const f32x4 nan 1 nan:0x600000 -nan)))  ;; pass
(assert_return (invoke $V "v") (v128.const i32x4 1 2 3 4))                        ;; pass
(assert_return (invoke $V "v") (v128.const i32x4 1 2 3 5))                        ;; fail (last lane)
(assert_return (invoke $V "v") (v128.const i64x2 0x200000001 0x400000003))        ;; pass (other lane shape)
(assert_return (invoke "n") (v128.const f32x4 nan:canonical 1 nan:arithmetic nan:canonical)) ;; pass
(assert_return (invoke "n") (v128.const f32x4 nan:canonical 1 nan:canonical nan:canonical))  ;; fail (lane 2)
(assert_return (invoke "v") (i32.const 0))                                        ;; fail (type)
(assert_return (invoke $A "add" (i32.const 2) (i32.const 2)) (i32.const 4))       ;; pass
