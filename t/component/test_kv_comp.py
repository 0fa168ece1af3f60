"""t/component/test_kv_comp.py -- wasi:keyvalue and wasi:config for components: t/kv's
kv-test handler (and the counter example) wrapped by jco embed + jco new with a world that
imports wasi:keyvalue/store|atomics|batch@0.2.0-draft2 and wasi:config/store@0.2.0-draft
(t/component/mkcomp.sh: objs/component/kv-test.comp.wasm, counter.comp.wasm), served as
component routes with keyvalue_store / wasm_keyvalue / wasm_keyvalue_limits / wasm_config.
The same requests and answers as t/kv/test_kv.py's single-server tests (they are run here
on the component), plus the implicit default store for a component route and a counter
shared by the component and the core module of the same handler. Ports 19620-19649."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kv"))
import harness
from harness import check
import test_kv

ROOT = harness.ROOT
C = os.path.join(ROOT, "objs", "component")
H = os.path.join(ROOT, "objs", "handlers")

# t/kv's configuration with the component in place of the core module
CONF = test_kv.CONF.replace(H + "/kv-test.wasm", C + "/kv-test.comp.wasm")
assert CONF != test_kv.CONF and "kv-test.wasm" not in CONF

body = test_kv.body

test_store_calls = test_kv.test_store_calls
test_increment_ascii_decimal = test_kv.test_increment_ascii_decimal
test_batch = test_kv.test_batch
test_cas = test_kv.test_cas
test_config = test_kv.test_config
test_grants = test_kv.test_grants
test_limits = test_kv.test_limits
test_hostile_keys = test_kv.test_hostile_keys
test_open_flood = test_kv.test_open_flood
test_list_paging = test_kv.test_list_paging


ZERO = r'''
http {
    access_log off;
    server {
        listen 127.0.0.1:%(port)d;
        location /count  { wasm_handler @C@/counter.comp.wasm; }
        location /named  { wasm_handler @C@/counter.comp.wasm; wasm_config counter_key other; }
        location /mcount { wasm_handler @H@/counter.wasm; }
    }
}
'''.replace("@C@", C).replace("@H@", H)


def test_counter_component_zero_setup(s):
    a = harness.Server(ZERO, s.port + 10, master=True)
    try:
        a.start()
        check(body(a, "/count") == "hit 1\n")
        check(body(a, "/count") == "hit 2\n")
        check(body(a, "/mcount") == "hit 3\n", "the core module shares the store and key")
        check(body(a, "/count") == "hit 4\n")
        check(body(a, "/named") == "hit 1\n", "wasm_config picks the key")
        check(os.path.exists(os.path.join(a.prefix, "kv", "default", "data.mdb")),
              "a component route importing wasi:keyvalue gets the implicit default store")
        a.stop()
    finally:
        a.cleanup()


if __name__ == "__main__":
    harness.main(CONF, globals(), port=19620, master=True, per_test_timeout=60)
