;; test-abi: a hand-written wasi:http handler that misuses the ABI in the way selected by
;; the first byte of the path after "/" (path-with-query is read through the ABI itself):
;;   a: drop a handle that never existed          -> trap (invalid handle)
;;   b: fields.append with an out-of-bounds name  -> trap (pointer out of bounds)
;;   c: pass the response-outparam as a fields    -> trap (wrong type)
;;   d: use the request after dropping it         -> trap (use after drop)
;;   e: return pointer misaligned                 -> trap
;;   f: cabi_realloc calls back into the host     -> trap (may_leave)
;;   g: fields.append with CR/LF in the value     -> header-error (no trap); responds 200 "refused"
;;   h: status 700                                -> set-status-code returns err; responds 200 "refused"
;;   j: appends 1000-byte values to one fields until the host's per-request header
;;      limit (1 MiB) traps
;;   k: cabi_realloc calls preview1 poll_oneoff (a 50 ms sleep: the server suspends such
;;      waits) while the host is lowering a result -> trap, and the instance stays usable
;;   i: an outgoing-response built from the request's (immutable) headers view: a
;;      deep copy is made; then the normal "ok" response
;;   anything else: a correct 200 "ok" response built by hand.
(module
  (import "wasi:http/types@0.2.0" "[method]incoming-request.path-with-query" (func $path (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]fields" (func $fields_drop (param i32)))
  (import "wasi:http/types@0.2.0" "[constructor]fields" (func $fields_new (result i32)))
  (import "wasi:http/types@0.2.0" "[method]fields.append" (func $append (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request" (func $req_drop (param i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-request.headers" (func $req_headers (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-response" (func $resp_new (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.set-status-code" (func $set_status (param i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.body" (func $resp_body (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]response-outparam.set" (func $set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-body.write" (func $body_write (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish" (func $body_finish (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush" (func $bwf (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $out_drop (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $evil (mut i32) (i32.const 0))
  (global $sleepy (mut i32) (i32.const 0))
  (data (i32.const 64) "x-test")
  (data (i32.const 80) "bad\r\nvalue")
  (data (i32.const 96) "ok")
  (data (i32.const 112) "refused")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (if (global.get $evil) (then (call $fields_drop (i32.const 1))))
    (if (global.get $sleepy) (then
      ;; one relative clock subscription (monotonic, 50 ms) at 3072, event out at 3136
      (i64.store (i32.const 3072) (i64.const 0))
      (i32.store8 (i32.const 3080) (i32.const 0))
      (i32.store (i32.const 3088) (i32.const 1))
      (i64.store (i32.const 3096) (i64.const 50000000))
      (i64.store (i32.const 3104) (i64.const 0))
      (i32.store16 (i32.const 3112) (i32.const 0))
      (drop (call $poll_oneoff (i32.const 3072) (i32.const 3136) (i32.const 1) (i32.const 3200)))))
    ;; bump allocator aligned to 8
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func $respond (param $out i32) (param $msg i32) (param $len i32)
    (local $r i32) (local $b i32) (local $s i32)
    (local.set $r (call $resp_new (call $fields_new)))
    (call $resp_body (local.get $r) (i32.const 256))
    (local.set $b (i32.load (i32.const 260)))
    (call $set (local.get $out) (i32.const 0) (local.get $r) (i32.const 0) (i64.const 0)
               (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $body_write (local.get $b) (i32.const 256))
    (local.set $s (i32.load (i32.const 260)))
    (call $bwf (local.get $s) (local.get $msg) (local.get $len) (i32.const 272))
    (call $out_drop (local.get $s))
    (call $body_finish (local.get $b) (i32.const 0) (i32.const 0) (i32.const 288)))
  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $req i32) (param $out i32)
    (local $c i32) (local $f i32)
    (call $path (local.get $req) (i32.const 16))
    ;; option<string>: tag @16, ptr @20, len @24; char after the leading '/'
    (local.set $c (i32.load8_u (i32.add (i32.load (i32.const 20)) (i32.const 1))))
    (if (i32.eq (local.get $c) (i32.const 97)) (then (call $fields_drop (i32.const 12345))))
    (if (i32.eq (local.get $c) (i32.const 98)) (then
      (call $append (call $fields_new) (i32.const 65530) (i32.const 100) (i32.const 64) (i32.const 1) (i32.const 32))))
    (if (i32.eq (local.get $c) (i32.const 99)) (then
      (call $append (local.get $out) (i32.const 64) (i32.const 6) (i32.const 64) (i32.const 1) (i32.const 32))))
    (if (i32.eq (local.get $c) (i32.const 100)) (then
      (call $req_drop (local.get $req))
      (call $path (local.get $req) (i32.const 16))))
    (if (i32.eq (local.get $c) (i32.const 101)) (then (call $path (local.get $req) (i32.const 17))))
    (if (i32.eq (local.get $c) (i32.const 102)) (then
      (global.set $evil (i32.const 1))
      (call $path (local.get $req) (i32.const 16))))
    (if (i32.eq (local.get $c) (i32.const 103)) (then
      (local.set $f (call $fields_new))
      (call $append (local.get $f) (i32.const 64) (i32.const 6) (i32.const 80) (i32.const 10) (i32.const 32))
      ;; result<_, header-error>: tag @32 = 1, case @33 = 0 (invalid-syntax)
      (if (i32.and (i32.eq (i32.load8_u (i32.const 32)) (i32.const 1))
                   (i32.eq (i32.load8_u (i32.const 33)) (i32.const 0)))
        (then (call $respond (local.get $out) (i32.const 112) (i32.const 7)) (return)))
      (unreachable)))
    (if (i32.eq (local.get $c) (i32.const 104)) (then
      (if (i32.eq (call $set_status (call $resp_new (call $fields_new)) (i32.const 700)) (i32.const 1))
        (then (call $respond (local.get $out) (i32.const 112) (i32.const 7)) (return)))
      (unreachable)))
    (if (i32.eq (local.get $c) (i32.const 107)) (then
      (global.set $sleepy (i32.const 1))
      (call $path (local.get $req) (i32.const 16))))
    (if (i32.eq (local.get $c) (i32.const 106)) (then
      (memory.fill (i32.const 2048) (i32.const 97) (i32.const 1000))
      (local.set $f (call $fields_new))
      (loop $l
        (call $append (local.get $f) (i32.const 64) (i32.const 6) (i32.const 2048) (i32.const 1000) (i32.const 32))
        (br $l))))
    (if (i32.eq (local.get $c) (i32.const 105)) (then
      (drop (call $resp_new (call $req_headers (local.get $req))))))
    (call $respond (local.get $out) (i32.const 96) (i32.const 2)))
)
