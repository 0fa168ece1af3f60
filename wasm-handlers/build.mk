# make handlers: builds every wasm-handlers/examples/NAME.c into objs/handlers/NAME.wasm with
# $(WASI_CC) (wasi:http handlers as reactors, cgi* as WASI commands), strips debug sections,
# and checks every import is one the server provides (wasm-objdump -x).
# Test handlers (t/handlers/*.c and *.wat) are built into $(B)/handlers-test/.
HANDLER_SRCS := $(sort $(wildcard wasm-handlers/examples/*.c))
HANDLER_WASMS := $(HANDLER_SRCS:wasm-handlers/examples/%.c=objs/handlers/%.wasm)
HANDLER_CFLAGS := -O2 -Wall -Wextra -Iwasm-handlers/include
HANDLER_LDFLAGS := -Wl,--strip-debug

CGI_WASMS := $(filter objs/handlers/cgi%,$(HANDLER_WASMS))

handlers: $(HANDLER_WASMS)

$(CGI_WASMS): objs/handlers/%.wasm: wasm-handlers/examples/%.c
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) $(HANDLER_LDFLAGS) -o $@ $<
	sh wasm-handlers/check-imports $@ || { rm -f $@; exit 1; }

$(filter-out $(CGI_WASMS),$(HANDLER_WASMS)): objs/handlers/%.wasm: wasm-handlers/examples/%.c wasm-handlers/include/wasmd.h wasm-handlers/include/wasmd_kv.h
	@mkdir -p $(dir $@)
	$(WASI_CC) $(HANDLER_CFLAGS) -mexec-model=reactor $(HANDLER_LDFLAGS) -o $@ $<
	sh wasm-handlers/check-imports $@ || { rm -f $@; exit 1; }
