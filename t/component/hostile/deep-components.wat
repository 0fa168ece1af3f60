;; expect: components nested too deeply (limit 16)
(component (component (component (component (component (component (component (component (component (component (component (component (component (component (component (component (component (component (component (component ))))))))))))))))))))
