;; wasi:cli: terminal-stdout.get-terminal-stdout with an extra parameter
;; expect: component imports "wasi:cli/terminal-stdout@0.2.0#get-terminal-stdout" with the wrong type: 1 parameters where the WIT has 0
(component
  (import "wasi:cli/terminal-output@0.2.0" (instance $to
    (export "terminal-output" (type (sub resource)))
  ))
  (alias export $to "terminal-output" (type $tout))
  (import "wasi:cli/terminal-stdout@0.2.0" (instance $t
    (alias outer 1 $tout (type $o))
    (export "terminal-output" (type $e (eq $o)))
    (export "get-terminal-stdout" (func (param "x" u32) (result (option (own $e)))))
  ))
  (alias export $t "get-terminal-stdout" (func $f))
  (core module $mem (memory (export "m") 1))
  (core instance $mi (instantiate $mem))
  (alias core export $mi "m" (core memory $cm))
  (core func $lf (canon lower (func $f) (memory $cm)))
  (core module $m (import "h" "f" (func (param i32 i32))))
  (core instance $h (export "f" (func $lf)))
  (core instance (instantiate $m (with "h" (instance $h))))
  ;; a wasi:cli/run export, so that nothing but the import is wrong
  (core module $run (func (export "run") (result i32) i32.const 0))
  (core instance $runi (instantiate $run))
  (func $runf (result (result)) (canon lift (core func $runi "run")))
  (instance $rune (export "run" (func $runf)))
  (export "wasi:cli/run@0.2.0" (instance $rune))
)
