;; every async built-in of Binary.md decodes, validates and is planned as a host function
;; expect: builtin "task.return" core (i32 i32) -> () type string string-encoding=utf8 memory=core0.memory "m"
;; expect: builtin "task.cancel" core () -> ()
;; expect: builtin "subtask.cancel" core (i32) -> (i32) async
;; expect: builtin "subtask.drop" core (i32) -> ()
;; expect: builtin "context.get" core () -> (i32) slot 1
;; expect: builtin "context.set" core (i32) -> () slot 0
;; expect: builtin "thread.yield" core () -> (i32)
;; expect: builtin "backpressure.inc" core () -> ()
;; expect: builtin "backpressure.dec" core () -> ()
;; expect: builtin "stream.new" core () -> (i64) type stream<u8>
;; expect: builtin "stream.read" core (i32 i32 i32) -> (i32) type stream<u8> string-encoding=utf8 memory=core0.memory "m" async
;; expect: builtin "stream.write" core (i32 i32 i32) -> (i32) type stream<string> string-encoding=utf8 memory=core0.memory "m" realloc=core0.func "r"
;; expect: builtin "stream.cancel-read" core (i32) -> (i32) type stream<u8> async
;; expect: builtin "stream.cancel-write" core (i32) -> (i32) type stream<u8>
;; expect: builtin "stream.drop-readable" core (i32) -> () type stream
;; expect: builtin "stream.drop-writable" core (i32) -> () type stream<u8>
;; expect: builtin "future.new" core () -> (i64) type future<u32>
;; expect: builtin "future.read" core (i32 i32) -> (i32) type future<u32>
;; expect: builtin "future.write" core (i32 i32) -> (i32) type future<u32>
;; expect: builtin "future.cancel-read" core (i32) -> (i32) type future<u32>
;; expect: builtin "future.cancel-write" core (i32) -> (i32) type future<u32> async
;; expect: builtin "future.drop-readable" core (i32) -> () type future
;; expect: builtin "future.drop-writable" core (i32) -> () type future<u32>
;; expect: builtin "error-context.new" core (i32 i32) -> (i32)
;; expect: builtin "error-context.debug-message" core (i32 i32) -> ()
;; expect: builtin "error-context.drop" core (i32) -> ()
;; expect: builtin "waitable-set.new" core () -> (i32)
;; expect: builtin "waitable-set.wait" core (i32 i32) -> (i32) string-encoding=utf8 memory=core0.memory "m"
;; expect: builtin "waitable-set.poll" core (i32 i32) -> (i32) string-encoding=utf8 memory=core0.memory "m"
;; expect: builtin "waitable-set.drop" core (i32) -> ()
;; expect: builtin "waitable.join" core (i32 i32) -> ()
;; expect: lower "f#g" core (i32 i32 i32) -> (i32) string-encoding=utf8 memory=core0.memory "m" realloc=core0.func "r" async
;; expect: lift "run" = core1.func "run" core (i32 i32) -> (i32) string-encoding=utf8 memory=core0.memory "m" realloc=core0.func "r" async callback=core1.func "cb"
;; expect: lift "stackful" = core1.func "sf" core () -> () string-encoding=utf8 async
(component
  (import "f" (instance $fi (export "g" (func async (param "s" string) (result string)))))
  (alias export $fi "g" (func $g))
  (core module $M
    (memory (export "m") 1)
    (func (export "r") (param i32 i32 i32 i32) (result i32) i32.const 0))
  (core instance $m (instantiate $M))
  (alias core export $m "m" (core memory $mem))
  (alias core export $m "r" (core func $realloc))
  (type $s8 (stream u8))
  (type $ss (stream string))
  (type $su (stream))
  (type $fu32 (future u32))
  (type $fu (future))
  (core func $tr (canon task.return (result string) (memory $mem)))
  (core func $tc (canon task.cancel))
  (core func $sc (canon subtask.cancel async))
  (core func $sd (canon subtask.drop))
  (core func $cg (canon context.get i32 1))
  (core func $cs (canon context.set i32 0))
  (core func $y (canon thread.yield))
  (core func $bi (canon backpressure.inc))
  (core func $bd (canon backpressure.dec))
  (core func $sn (canon stream.new $s8))
  (core func $sr (canon stream.read $s8 (memory $mem) async))
  (core func $sw (canon stream.write $ss (memory $mem) (realloc $realloc)))
  (core func $scr (canon stream.cancel-read $s8 async))
  (core func $scw (canon stream.cancel-write $s8))
  (core func $sdr (canon stream.drop-readable $su))
  (core func $sdw (canon stream.drop-writable $s8))
  (core func $fn (canon future.new $fu32))
  (core func $fr (canon future.read $fu32 (memory $mem)))
  (core func $fw (canon future.write $fu32 (memory $mem)))
  (core func $fcr (canon future.cancel-read $fu32))
  (core func $fcw (canon future.cancel-write $fu32 async))
  (core func $fdr (canon future.drop-readable $fu))
  (core func $fdw (canon future.drop-writable $fu32))
  (core func $en (canon error-context.new (memory $mem)))
  (core func $ed (canon error-context.debug-message (memory $mem) (realloc $realloc)))
  (core func $edr (canon error-context.drop))
  (core func $wn (canon waitable-set.new))
  (core func $ww (canon waitable-set.wait (memory $mem)))
  (core func $wp (canon waitable-set.poll (memory $mem)))
  (core func $wd (canon waitable-set.drop))
  (core func $wj (canon waitable.join))
  (core func $gl (canon lower (func $g) async (memory $mem) (realloc $realloc)))
  (core module $N
    (import "" "tr" (func (param i32 i32)))
    (import "" "gl" (func (param i32 i32 i32) (result i32)))
    (func (export "run") (param i32 i32) (result i32) i32.const 0)
    (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0)
    (func (export "sf")))
  (core instance $n (instantiate $N (with "" (instance
    (export "tr" (func $tr)) (export "gl" (func $gl))
    (export "tc" (func $tc)) (export "sc" (func $sc)) (export "sd" (func $sd))
    (export "cg" (func $cg)) (export "cs" (func $cs)) (export "y" (func $y))
    (export "bi" (func $bi)) (export "bd" (func $bd)) (export "sn" (func $sn))
    (export "sr" (func $sr)) (export "sw" (func $sw)) (export "scr" (func $scr))
    (export "scw" (func $scw)) (export "sdr" (func $sdr)) (export "sdw" (func $sdw))
    (export "fn" (func $fn)) (export "fr" (func $fr)) (export "fw" (func $fw))
    (export "fcr" (func $fcr)) (export "fcw" (func $fcw)) (export "fdr" (func $fdr))
    (export "fdw" (func $fdw)) (export "en" (func $en)) (export "ed" (func $ed))
    (export "edr" (func $edr)) (export "wn" (func $wn)) (export "ww" (func $ww))
    (export "wp" (func $wp)) (export "wd" (func $wd)) (export "wj" (func $wj))))))
  (func (export "run") async (param "s" string) (result string)
    (canon lift (core func $n "run") async (callback (core func $n "cb")) (memory $mem) (realloc $realloc)))
  (func (export "stackful") async (canon lift (core func $n "sf") async))
)
