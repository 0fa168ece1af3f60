;; t/cabi/guest.wat: a core module standing in for a component's main module in
;; test_cabi_calls.c. Exports memory, a bump cabi_realloc (set_bad 1/2 makes it return a
;; misaligned / out-of-bounds pointer, 3 calls the host import), run(s: string) -> string lowered as
;; (i32 i32) -> i32 calling the host import shout (i32 i32 i32) (string in, string result
;; through a return pointer), its post-return, and a counter of post-return calls.
(module
  (import "host" "shout" (func $shout (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 4096))
  (global $posted (mut i32) (i32.const 0))
  (global $bad (mut i32) (i32.const 0))
  (func (export "set_bad") (param i32) (global.set $bad (local.get 0)))
  (func (export "posted") (result i32) (global.get $posted))
  (func (export "cabi_realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32)
        (result i32)
    (local $p i32)
    (if (i32.eq (global.get $bad) (i32.const 1)) (then (return (i32.const 4097))))
    (if (i32.eq (global.get $bad) (i32.const 2)) (then (return (i32.const 65534))))
    (if (i32.eq (global.get $bad) (i32.const 3))
      (then (call $shout (i32.const 0) (i32.const 0) (i32.const 64))))
    (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get $al) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $al))))
    (global.set $next (i32.add (local.get $p) (local.get $nsz)))
    (if (local.get $osz)
      (then (memory.copy (local.get $p) (local.get $old)
              (select (local.get $osz) (local.get $nsz)
                      (i32.lt_u (local.get $osz) (local.get $nsz))))))
    (local.get $p))
  (func (export "run") (param $p i32) (param $n i32) (result i32)
    (call $shout (local.get $p) (local.get $n) (i32.const 64))
    (i32.const 64))
  (func (export "cabi_post_run") (param i32)
    (global.set $posted (i32.add (global.get $posted) (i32.const 1))))
)
