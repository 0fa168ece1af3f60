# t/component: the component loader (src/component/wd_comp_*) on real components built at
# test time with pinned jco from npm (installed into objs/npm when absent), on component
# text (t/component/ok, t/component/hostile) assembled by `jco parse`, and a unit test of the
# semver name matching. Built components land in objs/component/ (shared by every build
# variant, like objs/handlers); t/fuzz seeds fuzz_component from them.
JCO_VERSION := 1.35.0
PREVIEW2_SHIM_VERSION := 0.26.1
JCO_STAMP := objs/npm/.stamp-jco-$(JCO_VERSION)
COMP_OUT := objs/component
COMP_STAMP := $(COMP_OUT)/.stamp
COMP_INPUTS := $(wildcard t/component/js/*.js t/component/hostile/*.wat t/component/ok/*.wat t/component/hostile-host/*.wat)
# the JS example handlers (wasm-handlers/examples/*.js: componentized with wasi:keyvalue/config)
COMP_INPUTS += $(wildcard wasm-handlers/examples/*.js)
COMP_OBJS := $(filter $(B)/src/component/%,$(HOST_OBJS))
# wasm-handlers/build.mk is read after this file: name the example handlers from their sources
COMP_HANDLERS := $(patsubst wasm-handlers/examples/%.c,objs/handlers/%.wasm,$(wildcard wasm-handlers/examples/*.c))
# t/handlers' test handlers that test_serve.py serves as components (mkcomp.sh wraps them)
COMP_HANDLERS += $(patsubst %,objs/handlers/test-%.wasm,trapmid loop grow hello-std state stdio cgi-cmd)
# t/kv's handler, wrapped with wasi:keyvalue / wasi:config imports (t/component/test_kv_comp.py)
COMP_HANDLERS += objs/handlers/kv-test.wasm objs/handlers/kv-cmd.wasm
# t/component/enc/enc.c: a handler with UTF-16 (1) / latin1+UTF-16 (2) strings
COMP_HANDLERS += objs/handlers/comp-enc1.wasm objs/handlers/comp-enc2.wasm
objs/handlers/comp-enc%.wasm: t/component/enc/enc.c
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) -DENC=$* -mexec-model=reactor $(HANDLER_LDFLAGS) -o $@ $<
COMPT_BINS := $(B)/t/component/test_comp_names
TEST_BINS += $(COMP_STAMP) $(COMPT_BINS)

$(JCO_STAMP):
	@mkdir -p objs/npm
	npm install --prefix objs/npm --no-audit --no-fund --loglevel=error \
	    @bytecodealliance/jco@$(JCO_VERSION) @bytecodealliance/preview2-shim@$(PREVIEW2_SHIM_VERSION)
	touch $@

$(COMP_STAMP): $(JCO_STAMP) t/component/mkcomp.sh $(COMP_INPUTS) $(COMP_HANDLERS)
	sh t/component/mkcomp.sh $(COMP_OUT)
	touch $@

components: $(COMP_STAMP)
.PHONY: components

$(B)/t/component/%: t/component/%.c $(COMP_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc/component $(LDFLAGS) -o $@ $^ -lm -lpthread

# the component host end to end (src/host/wd_host_comp.h): links the host and the server
# objects like t/unit
COMPT_HOST_BIN := $(B)/t/component/test_comp_host
TEST_BINS += $(COMPT_HOST_BIN)
$(COMPT_HOST_BIN): t/component/test_comp_host.c $(SRV_OBJS) $(HOST_OBJS) $(LLHTTP_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# what an idle pooled JS instance costs (shared snapshot image, RSS per instance)
COMPT_MEM_BIN := $(B)/t/component/test_comp_pool_mem
TEST_BINS += $(COMPT_MEM_BIN)
$(COMPT_MEM_BIN): t/component/test_comp_pool_mem.c $(SRV_OBJS) $(HOST_OBJS) $(LLHTTP_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# bench/component/micro: component load, per-request and idle-instance benchmarks (built by
# bench/component/run; not a test).
$(B)/bench/component/micro: bench/component/micro.c $(HOST_OBJS) $(WASM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
