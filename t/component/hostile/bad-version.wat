;; expect: invalid import/export name "wasi:io/streams@0.2": the version is not valid semver
(component
  (import "wasi:io/streams@0.2" (instance))
)
