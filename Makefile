# wasmd top-level Makefile. Run ./configure first (it writes objs/config.mk).
#
# Variants (each builds into its own directory, so they never mix objects):
#   make                      -> objs/wasmd
#   make SANITIZE=1           -> objs/san/wasmd   (ASan + UBSan; or SANITIZE=address,undefined)
#   make SWITCH=1             -> objs/switch/...  (engine built with switch dispatch, no computed goto,
#                                                  and -march=x86-64-v2 on a CPU with SSE4.1+SSSE3)
#   make SIMD_PORTABLE=1      -> objs/portable/... (engine's v128 code without x86 intrinsics)
#   make PROFILE=1            -> objs/prof/...    (diagnostic: per-function dispatch counts of
#                                                  Wasm code, bench/component/profile.py)
#
# Each subsystem adds its own rules in a fragment next to its code
# (src/*/build.mk, modules/*/build.mk, t/*/build.mk, wasm-handlers/build.mk, bench/build.mk);
# fragments append test programs to TEST_BINS and groups to t/run's list.

-include objs/config.mk
ifndef LLHTTP_SRC
$(error run ./configure first)
endif

B := objs
ifdef SANITIZE
  ifeq ($(SANITIZE),1)
    override SANITIZE := address,undefined
  endif
  B := $(B)/san
  SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifndef SANITIZE
  HARDEN := $(HARDEN_CFLAGS)
  HARDEN_LD := $(HARDEN_LDFLAGS)
endif
ifdef SWITCH
  B := $(B)/switch
  SWITCH_FLAGS := -DWD_WASM_SWITCH_DISPATCH=1
  # ...and for x86-64-v2 when this CPU has it, so the spec run of the switch build also
  # tests the v128 code's SSE4.1/SSSE3 paths (the default build compiles the SSE2 ones)
  SWITCH_FLAGS += $(shell [ "$$(uname -m)" = x86_64 ] && grep -qw sse4_1 /proc/cpuinfo \
	&& grep -qw ssse3 /proc/cpuinfo && echo -march=x86-64-v2)
endif
ifdef PROFILE
  B := $(B)/prof
  SWITCH_FLAGS += -DWD_WASM_PROFILE=1
endif
ifdef SIMD_PORTABLE
  B := $(B)/portable
  SWITCH_FLAGS += -DWD_WASM_NO_SSE
endif

OPT ?= -O2
CFLAGS_BASE := -std=gnu11 -g $(OPT) -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -fno-strict-aliasing -D_GNU_SOURCE $(HARDEN) $(SAN_FLAGS) $(SWITCH_FLAGS) $(EXTRA_CFLAGS)
INCS := -Isrc -Isrc/core -Isrc/event -Isrc/http -Isrc/wasm -Isrc/host -I$(LLHTTP_INC)
CFLAGS := $(CFLAGS_BASE) $(INCS) $(UV_CFLAGS) $(SSL_CFLAGS) $(ZLIB_CFLAGS) $(SECCOMP_CFLAGS)
LDFLAGS := $(HARDEN_LD) $(SAN_FLAGS) $(EXTRA_LDFLAGS)
LIBS := $(UV_LIBS) $(SSL_LIBS) $(ZLIB_LIBS) $(SECCOMP_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) -lpthread -lm

# The engine: libc only; a static library so the spec runner, fuzzers and tools link it alone.
WASM_SRCS := $(sort $(wildcard src/wasm/*.c src/wasm/*/*.c))
WASM_OBJS := $(WASM_SRCS:%.c=$(B)/%.o)
WASM_LIB  := $(B)/libwdwasm.a

# Host interfaces (WASI preview1, wasi:http, `wasmd run`) and the component runtime
# (src/component: Canonical ABI, loader): depend on the engine and libc.
HOST_SRCS := $(sort $(wildcard src/host/*.c src/host/*/*.c src/component/*.c))
HOST_OBJS := $(HOST_SRCS:%.c=$(B)/%.o)

# The server: core, event, http, modules. wd_main.c holds main() and is left out of SRV_OBJS
# so unit tests can link the rest.
SRV_SRCS := $(sort $(filter-out src/core/wd_main.c, \
	$(wildcard src/core/*.c src/event/*.c src/http/*.c modules/*/*.c)))
SRV_OBJS := $(SRV_SRCS:%.c=$(B)/%.o)
LLHTTP_OBJS := $(B)/llhttp/llhttp.o $(B)/llhttp/api.o $(B)/llhttp/http.o

WASMD := $(B)/wasmd
TEST_BINS :=

.PHONY: all test test-bins spec run handlers bench fuzz soak clean distclean
all: $(WASMD)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Wall -Wextra,$(CFLAGS_BASE)) -w -I$(LLHTTP_INC) -c $< -o $@

$(WASM_LIB): $(WASM_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(WASMD): $(B)/src/core/wd_main.o $(SRV_OBJS) $(HOST_OBJS) $(LLHTTP_OBJS) $(WASM_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

include $(sort $(wildcard src/*/build.mk modules/*/build.mk t/*/build.mk wasm-handlers/build.mk bench/build.mk))
include contrib/build.mk

# make test-bins: everything make test builds, without running it (what landing a branch checks;
# after the fragments: they fill TEST_BINS, and a prerequisite list is expanded where it is read).
test-bins: all handlers $(TEST_BINS)

# make test: build everything the tests need, then run every group; ends "N passed, N failed".
test: all handlers $(TEST_BINS)
	WASMD_BIN=$(abspath $(WASMD)) B=$(B) SANITIZE=$(SANITIZE) sh t/run

run: all handlers
	$(WASMD) -p $(CURDIR) -c conf/wasmd.conf

clean:
	rm -rf objs/*/ objs/wasmd objs/*.a
distclean:
	rm -rf objs

-include $(shell find $(B) -name '*.d' 2>/dev/null)
