# Check unit suites for the engine: every t/wasm/test_*.c links the engine library alone.
WASMT_SRCS := $(sort $(wildcard t/wasm/test_*.c))
WASMT_BINS := $(WASMT_SRCS:%.c=$(B)/%)
TEST_BINS += $(WASMT_BINS)

$(B)/t/wasm/%: t/wasm/%.c $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -It/wasm $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) -lm -lpthread
