# Test handlers for t/handlers and t/unit/test_host_http.c: t/handlers/test-*.c (built with the
# SDK like the examples) and t/handlers/test-*.wat (hand-written hostile ones, wat2wasm) ->
# objs/handlers/test-*.wasm, built by `make handlers`.
TEST_HANDLER_C := $(sort $(filter-out t/handlers/test-cgi%,$(wildcard t/handlers/test-*.c)))
TEST_HANDLER_CGI := $(sort $(wildcard t/handlers/test-cgi*.c))
TEST_HANDLER_WAT := $(sort $(wildcard t/handlers/test-*.wat))
TEST_HANDLER_WASMS := $(TEST_HANDLER_C:t/handlers/%.c=objs/handlers/%.wasm) \
	$(TEST_HANDLER_CGI:t/handlers/%.c=objs/handlers/%.wasm) \
	$(TEST_HANDLER_WAT:t/handlers/%.wat=objs/handlers/%.wasm)

handlers: $(TEST_HANDLER_WASMS)

$(TEST_HANDLER_C:t/handlers/%.c=objs/handlers/%.wasm): objs/handlers/%.wasm: t/handlers/%.c wasm-handlers/include/wasmd.h
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) -mexec-model=reactor $(HANDLER_LDFLAGS) -o $@ $<

$(TEST_HANDLER_CGI:t/handlers/%.c=objs/handlers/%.wasm): objs/handlers/%.wasm: t/handlers/%.c
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) $(HANDLER_LDFLAGS) -o $@ $<

$(TEST_HANDLER_WAT:t/handlers/%.wat=objs/handlers/%.wasm): objs/handlers/%.wasm: t/handlers/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --enable-all $< -o $@

# bench/handlers/micro: host-path micro-benchmarks (built by bench/handlers/run; not a test).
$(B)/bench/handlers/micro: bench/handlers/micro.c $(HOST_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
