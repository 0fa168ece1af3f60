(module (memory 64) (func (export "_start")))
