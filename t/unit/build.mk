# Check unit suites for the server side: every t/unit/test_*.c is its own program,
# linked against the server objects (all but main), host objects, llhttp and the engine.
UNIT_SRCS := $(sort $(wildcard t/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)
TEST_BINS += $(UNIT_BINS)

$(B)/t/unit/%: t/unit/%.c $(SRV_OBJS) $(HOST_OBJS) $(LLHTTP_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -It/unit $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)
