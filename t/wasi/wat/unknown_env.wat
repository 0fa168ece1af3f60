(module (import "env" "host_thing" (func)) (memory (export "memory") 1) (func (export "_start")))
