# The spec-test runner (t/spec/wd_spec.c): links the engine library alone, plus jansson.
# `make spec` builds it twice -- against the default engine and against the switch-dispatch
# engine (a sub-make with SWITCH=1 builds $(B)/switch/libwdwasm.a and its own runner) --
# and runs t/spec/run, which runs the testsuite with both.
SPEC_BIN := $(B)/t/spec/wd_spec
SPEC_BINS := $(SPEC_BIN)
TEST_BINS += $(SPEC_BIN)

$(SPEC_BIN): t/spec/wd_spec.c $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(JANSSON_CFLAGS) $(LDFLAGS) -o $@ $< $(WASM_LIB) $(JANSSON_LIBS) -lm

ifndef SWITCH
SPEC_SWITCH_BIN := $(B)/switch/t/spec/wd_spec
SPEC_BINS += $(SPEC_SWITCH_BIN)
TEST_BINS += $(SPEC_SWITCH_BIN)
.PHONY: $(SPEC_SWITCH_BIN)
$(SPEC_SWITCH_BIN):
	+$(MAKE) --no-print-directory SWITCH=1 $@
endif

spec: $(SPEC_BINS)
	B=$(B) sh t/spec/run

# The engine's portable SIMD fallback (no x86 intrinsics, -DWD_WASM_NO_SSE): a third runner,
# which t/spec/run uses for the SIMD files only.
ifndef SWITCH
ifndef SIMD_PORTABLE
SPEC_PORTABLE_BIN := $(B)/portable/t/spec/wd_spec
SPEC_BINS += $(SPEC_PORTABLE_BIN)
TEST_BINS += $(SPEC_PORTABLE_BIN)
.PHONY: $(SPEC_PORTABLE_BIN)
$(SPEC_PORTABLE_BIN):
	+$(MAKE) --no-print-directory SIMD_PORTABLE=1 $@
endif
endif
