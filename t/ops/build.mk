# t/ops: two builds of one tiny handler ("v1" / "v2") for the module-swap reload test,
# built by `make handlers` into objs/handlers/ops-v1.wasm and ops-v2.wasm.
OPS_HANDLER_WASMS := objs/handlers/ops-v1.wasm objs/handlers/ops-v2.wasm

handlers: $(OPS_HANDLER_WASMS)

$(OPS_HANDLER_WASMS): objs/handlers/ops-%.wasm: t/ops/ops-version.c wasm-handlers/include/wasmd.h
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) -DOPS_VERSION='"$*"' -mexec-model=reactor $(HANDLER_LDFLAGS) -o $@ $<
