# t/wasi: WASI preview1 and `wasmd run` tests.
#  - $(B)/t/wasi/wd_run_test: `wasmd run` as a program of its own (engine + WASI host only).
#  - every t/wasi/progs/NAME.c is built natively (gcc -O2) and for wasm32-wasi in four
#    variants; t/wasi/run compares their outputs.
#      O0/O2/Os: -msign-ext -mbulk-memory -mnontrapping-fptoint (+ -ftls-model=local-exec:
#                clang 14 refuses wasi-libc's thread-local errno with -mbulk-memory otherwise)
#      simd3:    -O3 -msimd128 (clang autovectorises loops into v128 code)
#      simd2:    -O2 -msimd128 (progs/simd_intrin.c uses wasm_simd128.h intrinsics then)
#      mv:       -O2 -mmultivalue -mreference-types -target-abi experimental-mv: functions
#                returning structs return several values. Compiled with -c and linked at -O0,
#                because clang 14 runs wasm-opt at link time when optimizing and wasm-opt
#                aborts on it ("DWARF + multivalue is not yet complete"). The prebuilt
#                wasi-libc keeps the default ABI; the test programs call no libc function
#                that returns a struct (div, ldiv...).
#  - t/wasi/wat/*.wat -> .wasm with wat2wasm (small modules for the CLI tests).
WASI_TEST_DIR := $(B)/t/wasi
WASI_PROG_NAMES := $(basename $(notdir $(wildcard t/wasi/progs/*.c)))
WASI_FEAT := -msign-ext -mbulk-memory -mnontrapping-fptoint -ftls-model=local-exec
WASI_VFLAGS_O0 := -O0 $(WASI_FEAT)
WASI_VFLAGS_O2 := -O2 $(WASI_FEAT)
WASI_VFLAGS_Os := -Os $(WASI_FEAT)
WASI_VFLAGS_simd3 := -O3 -msimd128 $(WASI_FEAT)
WASI_VFLAGS_simd2 := -O2 -msimd128 $(WASI_FEAT)
WASI_VFLAGS_mv := -O2 -mmultivalue -mreference-types -Xclang -target-abi -Xclang experimental-mv
WASI_VARIANTS := O0 O2 Os mv simd3 simd2
WASI_PROG_WASMS := $(foreach p,$(WASI_PROG_NAMES),$(foreach v,$(WASI_VARIANTS),$(WASI_TEST_DIR)/progs/$(p).$(v).wasm))
WASI_PROG_NATIVES := $(WASI_PROG_NAMES:%=$(WASI_TEST_DIR)/progs/%.native)
WASI_WAT_WASMS := $(patsubst t/wasi/wat/%.wat,$(WASI_TEST_DIR)/wat/%.wasm,$(wildcard t/wasi/wat/*.wat))
WASI_HOST_OBJS := $(filter $(B)/src/host/% $(B)/src/component/%,$(HOST_OBJS))
WASI_RUNNER := $(WASI_TEST_DIR)/wd_run_test

TEST_BINS += $(WASI_PROG_WASMS) $(WASI_PROG_NATIVES) $(WASI_WAT_WASMS) $(WASI_RUNNER)

.PHONY: wasi-tests
wasi-tests: $(WASI_RUNNER) $(WASI_PROG_WASMS) $(WASI_PROG_NATIVES) $(WASI_WAT_WASMS)

$(WASI_RUNNER): t/wasi/wd_run_test.c $(WASI_HOST_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(UV_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) -lm

define WASI_VARIANT_RULE
$(WASI_TEST_DIR)/progs/%.$(1).wasm: t/wasi/progs/%.c
	@mkdir -p $$(dir $$@)
	$$(WASI_CC) $$(WASI_VFLAGS_$(1)) -o $$@ $$< -lm
endef
$(foreach v,O0 O2 Os simd3 simd2,$(eval $(call WASI_VARIANT_RULE,$(v))))

$(WASI_TEST_DIR)/progs/%.mv.wasm: t/wasi/progs/%.c
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_VFLAGS_mv) -c -o $@.o $<
	$(WASI_CC) -O0 -o $@ $@.o -lm

$(WASI_TEST_DIR)/progs/%.native: t/wasi/progs/%.c
	@mkdir -p $(dir $@)
	gcc -O2 -w -o $@ $< -lm

$(WASI_TEST_DIR)/wat/%.wasm: t/wasi/wat/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --enable-all -o $@ $<

# The WASI context's embedder API (callback stdio, reset, sources, link errors).
WASI_API_TEST := $(WASI_TEST_DIR)/wd_wasi_api_test
TEST_BINS += $(WASI_API_TEST)
wasi-tests: $(WASI_API_TEST)
$(WASI_API_TEST): t/wasi/wd_wasi_api_test.c $(filter $(B)/src/host/wasi/%,$(HOST_OBJS)) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lm
