# t/fuzz: libFuzzer targets.
#   fuzz_load  decode + validate + translate a module
#   fuzz_run   instantiate with stub imports and call every export under fuel
#   fuzz_http  bytes into a real connection (src/event + src/http) over a socketpair
#   fuzz_conf  the configuration parser (in-memory entry point)
#   fuzz_host  wasi:http + WASI preview1 host calls with hostile handles/pointers/lengths
#   fuzz_cabi  the Canonical ABI layer lifting hostile memory and core values (src/component)
#   fuzz_component  component load/validate/plan, instantiate with stub host functions, call
#              the exports, under fuel (seeds: the components t/component builds with jco)
# Everything they link (engine, host, server, llhttp) is compiled again with
# clang -fsanitize=fuzzer-no-link,address,undefined into objs/fuzz/ (never mixed with
# objs/ or objs/san/). Seed corpora are generated at build time, never committed:
# objs/fuzz/seed (spec testsuite modules, mkseed.sh) for load/run, objs/fuzz/seed-<name>
# (mkseed_inputs.sh) for the others.
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGET=fuzz_x]   every target N s (default 60), or one
#   t/fuzz/run                                          CI: seed replay + FUZZ_CI_SECONDS each
FUZZ_DIR := objs/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?=
FUZZ_TARGETS := fuzz_load fuzz_run fuzz_http fuzz_conf fuzz_host fuzz_cabi fuzz_component
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE $(INCS) $(UV_CFLAGS) $(SSL_CFLAGS) \
	-fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_WASM_OBJS := $(WASM_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_HOST_OBJS := $(HOST_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_SRV_OBJS := $(SRV_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_LLHTTP_OBJS := $(FUZZ_DIR)/llhttp/llhttp.o $(FUZZ_DIR)/llhttp/api.o $(FUZZ_DIR)/llhttp/http.o
FUZZ_ALL_OBJS := $(FUZZ_SRV_OBJS) $(FUZZ_HOST_OBJS) $(FUZZ_LLHTTP_OBJS) $(FUZZ_WASM_OBJS)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_SEED_STAMP := $(FUZZ_DIR)/seed/.stamp
FUZZ_INPUT_SEED_STAMP := $(FUZZ_DIR)/seed-inputs.stamp
FUZZ_COMP_SEED_STAMP := $(FUZZ_DIR)/seed-component/.stamp

FUZZ_CABI_SEED_STAMP := $(FUZZ_DIR)/seed-cabi.stamp

ifndef SWITCH
TEST_BINS += $(FUZZ_BINS) $(FUZZ_SEED_STAMP) $(FUZZ_INPUT_SEED_STAMP) $(FUZZ_CABI_SEED_STAMP) $(FUZZ_COMP_SEED_STAMP)
endif

$(FUZZ_DIR)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# The interpreter loop (one computed-goto function of ~700 handlers) costs clang about
# 340 s of CPU at -O1 with ASan+UBSan+coverage, 26 s at -O0 (measured here, 2 cores shared):
# the fuzz build compiles it at -O0 (FUZZ_INTERP_OPT=-O1 for long runs that want speed).
FUZZ_INTERP_OPT ?= -O0
$(FUZZ_DIR)/src/wasm/wd_wasm_interp.o: FUZZ_CFLAGS += $(FUZZ_INTERP_OPT)

$(FUZZ_DIR)/modules/%.o: modules/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -w -c $< -o $@

# the generated module list lives in the main build directory
$(FUZZ_DIR)/src/core/wd_modules.o: $(B)/wd_modules_gen.h
$(FUZZ_DIR)/src/core/wd_modules.o: FUZZ_CFLAGS += -I$(B)

$(FUZZ_DIR)/fuzz_load $(FUZZ_DIR)/fuzz_run: $(FUZZ_DIR)/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_WASM_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm

$(FUZZ_DIR)/fuzz_host: t/fuzz/fuzz_host.c $(FUZZ_HOST_OBJS) $(FUZZ_WASM_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -Isrc/host/http -Isrc/host/wasi -fsanitize=fuzzer -o $@ $^ $(UV_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) -lm

$(FUZZ_DIR)/fuzz_cabi: t/fuzz/fuzz_cabi.c $(filter $(FUZZ_DIR)/src/component/wd_cabi% $(FUZZ_DIR)/src/component/wd_comp_types.o,$(FUZZ_HOST_OBJS)) $(FUZZ_WASM_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm

$(FUZZ_CABI_SEED_STAMP): $(FUZZ_DIR)/fuzz_cabi
	rm -rf $(FUZZ_DIR)/seed-cabi && mkdir -p $(FUZZ_DIR)/seed-cabi
	FUZZ_CABI_MKSEED=$(FUZZ_DIR)/seed-cabi $(FUZZ_DIR)/fuzz_cabi
	touch $@

$(FUZZ_DIR)/fuzz_http $(FUZZ_DIR)/fuzz_conf: $(FUZZ_DIR)/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_ALL_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(FUZZ_DIR)/fuzz_component: t/fuzz/fuzz_component.c $(filter $(FUZZ_DIR)/src/component/%,$(FUZZ_HOST_OBJS)) $(FUZZ_WASM_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -Isrc/component -fsanitize=fuzzer -o $@ $^ -lm

# the components t/component builds (all but the multi-megabyte JS ones)
$(FUZZ_COMP_SEED_STAMP): $(COMP_STAMP)
	rm -rf $(dir $@) && mkdir -p $(dir $@)
	for f in $(COMP_OUT)/*.comp.wasm $(COMP_OUT)/ok/*.wasm $(COMP_OUT)/hostile/*.wasm; do \
	    cp $$f $(dir $@)$$(echo $$f | tr / _); done
	touch $@

$(FUZZ_SEED_STAMP): t/fuzz/mkseed.sh
	rm -rf $(FUZZ_DIR)/seed
	sh t/fuzz/mkseed.sh $(FUZZ_DIR)/seed
	touch $@

$(FUZZ_INPUT_SEED_STAMP): t/fuzz/mkseed_inputs.sh conf/wasmd.conf $(FUZZ_DIR)/fuzz_host
	sh t/fuzz/mkseed_inputs.sh $(FUZZ_DIR)
	touch $@

fuzz: $(FUZZ_BINS) $(FUZZ_SEED_STAMP) $(FUZZ_INPUT_SEED_STAMP) $(FUZZ_CABI_SEED_STAMP) $(FUZZ_COMP_SEED_STAMP)
	@mkdir -p $(FUZZ_DIR)/crashes; fail=""; \
	for t in $(if $(FUZZ_TARGET),$(FUZZ_TARGET),$(FUZZ_TARGETS)); do \
	    case $$t in fuzz_load|fuzz_run) seed=seed ;; *) seed=seed-$${t#fuzz_} ;; esac; \
	    mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	    echo "== $$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	        -timeout=10 -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- -print_final_stats=1 \
	        $$(test -f t/fuzz/$$t.dict && echo -dict=t/fuzz/$$t.dict) \
	        $(FUZZ_DIR)/corpus-$$t $(FUZZ_DIR)/$$seed || fail="$$fail $$t"; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: findings in:$$fail (reproducers in $(FUZZ_DIR)/crashes/)"; exit 1; fi

-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)
