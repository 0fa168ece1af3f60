;; expect: post-return is only allowed on canon lift
(component
  (import "f" (func $f))
  (core module $m (func (export "pr")))
  (core instance $i (instantiate $m))
  (alias core export $i "pr" (core func $pr))
  (core func (canon lower (func $f) (post-return $pr)))
)
