# t/hostile: hostile-module tests against the engine (Check, links the engine library
# alone) and the differential fuzzer's driver (t/fuzz/diff/wd_fuzzdiff.c, engine alone).
#   make fuzz-diff [FUZZ_SECONDS=N]   long differential run (binaryen/wabt vs our engine),
#                                     reproducers in objs/fuzz-diff/
#   sh t/hostile/run                  the test group (short bounded fuzz-diff run included)
HOSTILE_BIN := $(B)/t/hostile/test_modules
FUZZDIFF_BIN := $(B)/t/fuzz/diff/wd_fuzzdiff
TEST_BINS += $(HOSTILE_BIN) $(FUZZDIFF_BIN)
FUZZ_SECONDS ?= 60

$(HOSTILE_BIN): t/hostile/test_modules.c $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(WASM_LIB) $(CHECK_LIBS) -lm -lpthread

$(FUZZDIFF_BIN): t/fuzz/diff/wd_fuzzdiff.c $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(WASM_LIB) -lm

# the same driver against the switch-dispatch engine (compared too: --driver2)
ifndef SWITCH
FUZZDIFF_SWITCH_BIN := $(B)/switch/t/fuzz/diff/wd_fuzzdiff
TEST_BINS += $(FUZZDIFF_SWITCH_BIN)
.PHONY: $(FUZZDIFF_SWITCH_BIN)
$(FUZZDIFF_SWITCH_BIN):
	+$(MAKE) --no-print-directory SWITCH=1 $@
endif

.PHONY: fuzz-diff
fuzz-diff: $(FUZZDIFF_BIN) $(FUZZDIFF_SWITCH_BIN)
	nice -n 10 python3 t/fuzz/diff/fuzzdiff.py --driver $(FUZZDIFF_BIN) \
		$(if $(FUZZDIFF_SWITCH_BIN),--driver2 $(FUZZDIFF_SWITCH_BIN)) --count 100000000 \
		--seconds $(FUZZ_SECONDS) --mutants 8 --out objs/fuzz-diff -v
