# t/ops: two builds of one tiny handler ("v1" / "v2") for the module-swap reload test,
# built by `make handlers` into objs/handlers/ops-v1.wasm and ops-v2.wasm.
OPS_HANDLER_WASMS := objs/handlers/ops-v1.wasm objs/handlers/ops-v2.wasm

handlers: $(OPS_HANDLER_WASMS)

$(OPS_HANDLER_WASMS): objs/handlers/ops-%.wasm: t/ops/ops-version.c wasm-handlers/include/wasmd.h
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) -DOPS_VERSION='"$*"' -mexec-model=reactor $(HANDLER_LDFLAGS) -o $@ $<

# The sandbox test hooks (t/ops/test_sandbox.py): the server linked with wd_sandbox.c
# compiled with -DWD_TEST_HOOKS (SIGUSR2 makes a confined worker try a forbidden call).
# Only this test binary has them, never $(WASMD) (the test checks that too).
WASMD_HOOKS := $(B)/t/ops/wasmd-hooks
TEST_BINS += $(WASMD_HOOKS)
$(B)/t/ops/wd_sandbox_hooks.o: src/core/wd_sandbox.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DWD_TEST_HOOKS -MMD -MP -c $< -o $@
$(WASMD_HOOKS): $(B)/src/core/wd_main.o $(filter-out $(B)/src/core/wd_sandbox.o,$(SRV_OBJS)) \
		$(B)/t/ops/wd_sandbox_hooks.o $(HOST_OBJS) $(LLHTTP_OBJS) $(WASM_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
