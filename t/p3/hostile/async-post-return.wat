;; expect: post-return may not be given with async
(component
  (core module $M (func (export "f")) (func (export "pr")))
  (core instance $m (instantiate $M))
  (func (export "run") async (canon lift (core func $m "f") async (post-return (core func $m "pr"))))
)
