# t/cabi: the Canonical ABI layer (src/component/wd_comp_types*, wd_cabi*): Check suites linked
# with the component objects and the engine; the oracle test (oracle.py) compares the C layer
# with the reference canonical-abi-definitions.py through the cabi_oracle tool.
CABI_OBJS := $(filter $(B)/src/component/wd_cabi% $(B)/src/component/wd_comp_types.o,$(HOST_OBJS))
CABIT_SRCS := $(sort $(wildcard t/cabi/test_*.c))
CABIT_BINS := $(CABIT_SRCS:%.c=$(B)/%)
TEST_BINS += $(CABIT_BINS)

$(B)/t/cabi/%: t/cabi/%.c $(CABI_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Isrc/component -It/cabi $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) -lm -lpthread

# the C side of the oracle test
CABI_ORACLE := $(B)/t/cabi/cabi_oracle
TEST_BINS += $(CABI_ORACLE)
$(CABI_ORACLE): t/cabi/cabi_oracle.c $(CABI_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc/component $(LDFLAGS) -o $@ $^ -lm -lpthread

# the guest module test_cabi_calls runs
CABI_GUEST := $(B)/t/cabi/guest.wasm
TEST_BINS += $(CABI_GUEST)
$(CABI_GUEST): t/cabi/guest.wat
	@mkdir -p $(dir $@)
	wat2wasm --enable-all $< -o $@
