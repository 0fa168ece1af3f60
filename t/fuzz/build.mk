# t/fuzz: libFuzzer targets for the engine (fuzz_load: decode+validate+translate;
# fuzz_run: instantiate with stub imports and call every export under fuel).
# The engine is compiled again with clang -fsanitize=fuzzer-no-link,address,undefined
# into objs/fuzz/ (independent of B), the seed corpus comes from the spec testsuite
# (t/fuzz/mkseed.sh, generated at build time; never committed).
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGET=fuzz_load|fuzz_run]   (default 60 s of fuzz_load)
#   t/fuzz/run                                                     (short CI run, ~30 s)
FUZZ_DIR := objs/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= fuzz_load
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc/wasm -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_WASM_OBJS := $(WASM_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS := $(FUZZ_DIR)/fuzz_load $(FUZZ_DIR)/fuzz_run
FUZZ_SEED_STAMP := $(FUZZ_DIR)/seed/.stamp

ifndef SWITCH
TEST_BINS += $(FUZZ_BINS) $(FUZZ_SEED_STAMP)
endif

$(FUZZ_DIR)/src/wasm/%.o: src/wasm/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_WASM_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm

$(FUZZ_SEED_STAMP): t/fuzz/mkseed.sh
	rm -rf $(FUZZ_DIR)/seed
	sh t/fuzz/mkseed.sh $(FUZZ_DIR)/seed
	touch $@

fuzz: $(FUZZ_BINS) $(FUZZ_SEED_STAMP)
	@mkdir -p $(FUZZ_DIR)/corpus-$(FUZZ_TARGET) $(FUZZ_DIR)/crashes
	$(FUZZ_DIR)/$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -artifact_prefix=$(FUZZ_DIR)/crashes/ -print_final_stats=1 \
		$(FUZZ_DIR)/corpus-$(FUZZ_TARGET) $(FUZZ_DIR)/seed

-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)
