# t/kv: the wasi:keyvalue / wasi:config test handler (built by `make handlers`).
handlers: objs/handlers/kv-test.wasm
objs/handlers/kv-test.wasm: t/kv/kv-test.c wasm-handlers/include/wasmd.h wasm-handlers/include/wasmd_kv.h
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) -mexec-model=reactor $(HANDLER_LDFLAGS) -o $@ $<
# a WASI command using wasi:keyvalue under `wasmd run --keyvalue` (t/kv/test_kv_run.py)
handlers: objs/handlers/kv-cmd.wasm
objs/handlers/kv-cmd.wasm: t/kv/kv-cmd.c wasm-handlers/include/wasmd_kv.h
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) $(HANDLER_LDFLAGS) -o $@ $<
