;; expect: invalid import/export name "Foo_bar": not a kebab-case label
(component
  (import "Foo_bar" (func))
)
