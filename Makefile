# cvmkit — one hand-written GNU Makefile.
#
#   make            host tools (build/bin/cvm-*), the static init and demo workload (build/musl/)
#   make check      unit tests (one cmocka binary per module) + fuzz-corpus replay
#   make fuzz       libFuzzer binaries (clang) in build/fuzz/
#
# Library dependencies are built from pinned Debian sources by scripts/deps.sh,
# which writes build/deps.mk.  build.sh and tests/run call it first.

# Every rule here is explicit: searching make's built-in implicit rules for
# each of ~250 targets and their .d prerequisites was most of a no-op `make`.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

B        := build
-include $(B)/deps.mk

CC       ?= gcc
MUSL_CC  ?= musl-gcc
CLANG    ?= clang
AR       ?= ar

SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

WARN     := -Wall -Wextra -Werror -Wformat=2 -Wno-unused-parameter
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
REPRO    := -ffile-prefix-map=$(CURDIR)=.
CSTD     := -std=gnu11
OPT      ?= -O2
CFLAGS_COMMON := $(CSTD) $(OPT) $(WARN) $(HARDEN) $(REPRO) -ffunction-sections -fdata-sections
CPPFLAGS_COMMON := -Iinclude -D_GNU_SOURCE

HOST_CFLAGS   := $(CFLAGS_COMMON) -g -MMD -MP
HOST_CPPFLAGS := $(CPPFLAGS_COMMON) $(DEPS_HOST_CPPFLAGS)
HOST_LDFLAGS  := $(DEPS_HOST_LDFLAGS) -Wl,--gc-sections
# libarchive (Debian's libarchive-dev) reads container image tarballs and
# layers (tar, gzip, zstd) for cvm-image; zlib inflates peer-pod initdata. The
# guest never links libarchive.
HOST_LIBS     := -lmbedtls -lmbedx509 -lmbedcrypto -lcrypto -llz4 -lcjson -lcbor -larchive -lz -pthread

MUSL_CFLAGS   := $(CFLAGS_COMMON) -Os -MMD -MP
MUSL_CPPFLAGS := $(CPPFLAGS_COMMON) $(DEPS_MUSL_CPPFLAGS)
MUSL_LDFLAGS  := -static $(DEPS_MUSL_LDFLAGS) -Wl,--gc-sections -Wl,--build-id=none -s
MUSL_LIBS     := -lmbedtls -lmbedx509 -lmbedcrypto -lcjson -lz

# ---------------------------------------------------------------- modules
# Every module is a directory of .c files; main.c (if any) is its CLI.
# A module's library is everything but main.c.
MODULES  := common image measure attest verify net ovmf
lib_srcs  = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
lib_objs  = $(patsubst %.c,$(B)/host/%.o,$(call lib_srcs,$(1)))

$(foreach m,$(MODULES),$(eval $(B)/host/libcvm-$(m).a: $(call lib_objs,$(m)) | $(B)/host/empty.o))
$(B)/host/libcvm-%.a:
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcsD $@ $(or $^,$(B)/host/empty.o)

$(B)/host/empty.o:
	@mkdir -p $(@D)
	echo '' | $(CC) -x c -c -o $@ -

# Objects depend on build/deps.mk: a library rebuilt with another
# configuration (include paths, mbedtls options) must recompile every user.
$(B)/host/%.o: %.c $(wildcard $(B)/deps.mk)
	@mkdir -p $(@D)
	$(CC) $(HOST_CPPFLAGS) $(HOST_CFLAGS) -c -o $@ $<

HOST_ALL_LIBS := $(foreach m,measure verify attest net image ovmf common,$(B)/host/libcvm-$(m).a)

# CLIs: which module libraries each links (dependencies point one way).
CLI_image   := image common
CLI_measure := measure image verify attest common
CLI_attest  := verify attest net common
CLI_ovmf    := ovmf common
# Third-party libraries per CLI: measure never links TLS.  -lcrypto is
# OpenSSL's libcrypto (common/hash.c's host backend: hardware SHA), not its
# TLS library libssl; ovmf gets it too: it uses common/.
CLILIBS_image   := -lmbedx509 -lmbedcrypto -lcrypto -llz4 -lcjson -larchive -lz -pthread
CLILIBS_measure := -lmbedx509 -lmbedcrypto -lcrypto -llz4 -lcjson -lcbor -lz -pthread
CLILIBS_attest  := -lmbedtls -lmbedx509 -lmbedcrypto -lcrypto -lcjson -pthread
CLILIBS_ovmf    := -lmbedcrypto -lcrypto -lcjson -pthread
CLIS := $(foreach m,image measure attest ovmf,$(if $(wildcard $(m)/main.c),$(B)/bin/cvm-$(m)))

# A CLI is its main.c plus MODULE/cli/*.c (verbs split out of main.c), never in the library.
# cvm-image parses the init.conf it renders with the init's own parser
# (init/config.c), so build time and boot time cannot disagree.
CLI_EXTRA_image := $(B)/host/init/config.o
define cli_rule
$(B)/bin/cvm-$(1): $(B)/host/$(1)/main.o $(patsubst %.c,$(B)/host/%.o,$(wildcard $(1)/cli/*.c)) $(CLI_EXTRA_$(1)) $(foreach l,$(CLI_$(1)),$(B)/host/libcvm-$(l).a)
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $$^ $$(HOST_LDFLAGS) $$(CLILIBS_$(1))
endef
$(foreach m,image measure attest ovmf,$(eval $(call cli_rule,$(m))))

# ---------------------------------------------------------------- guest (musl, static)
# The init links the guest collector (attest/) and never the host verifier
# (verify/: chains, roots, appraisal); tests/cli/test-init-guest-only.sh
# checks the symbols of init.syms, the same link unstripped.
# HOST_ONLY_SRCS are library files of guest modules that only host tools
# need (their headers declare them only without CVM_GUEST): the init never
# compiles them.
HOST_ONLY_SRCS := attest/tpm2rc.c common/cert.c common/ecdsasig.c
INIT_SRCS := $(filter-out $(HOST_ONLY_SRCS),$(wildcard init/*.c) $(call lib_srcs,attest) $(call lib_srcs,net) $(call lib_srcs,common))
INIT_OBJS := $(patsubst %.c,$(B)/musl/%.o,$(INIT_SRCS))

$(B)/musl/%.o: %.c $(wildcard $(B)/deps.mk)
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CPPFLAGS) $(MUSL_CFLAGS) -DCVM_GUEST=1 -c -o $@ $<

$(B)/guest/init: $(INIT_OBJS)
	@mkdir -p $(@D)
	$(MUSL_CC) -o $@ $^ $(MUSL_LDFLAGS) $(MUSL_LIBS)

# The shipped init is stripped (-s); this is the same link with its symbols.
$(B)/guest/init.syms: $(INIT_OBJS)
	@mkdir -p $(@D)
	$(MUSL_CC) -o $@ $^ $(filter-out -s,$(MUSL_LDFLAGS)) $(MUSL_LIBS)

$(B)/guest/hello: $(B)/musl/workload/hello.o
	@mkdir -p $(@D)
	$(MUSL_CC) -o $@ $^ $(MUSL_LDFLAGS)

GUEST := $(if $(wildcard init/*.c),$(B)/guest/init) $(B)/guest/hello

# ---------------------------------------------------------------- tests
# tests/unit/test-NAME.c -> build/tests/test-NAME, linked against every host library.
UNIT_SRCS  := $(wildcard tests/unit/test-*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
TEST_LIBS  := $(HOST_LIBS) -lcmocka

# A test links only its module's libraries (and what they depend on): test-X
# belongs to the module with X.c (or X-*.c); tests of unknown modules link all.
MODLIBS_common  := common
MODLIBS_image   := image common
MODLIBS_measure := measure image verify attest common
# attest's tests check what the collector produced with the host verifier.
MODLIBS_attest  := attest verify net common
MODLIBS_verify  := verify attest net common
MODLIBS_net     := net common
MODLIBS_ovmf    := ovmf common
test_module = $(firstword $(filter $(1),$(MODULES)) $(foreach m,$(MODULES),$(if $(wildcard $(m)/$(1).c $(m)/$(1)-*.c),$(m))))
test_libs   = $(foreach l,$(or $(MODLIBS_$(call test_module,$(1))),measure verify attest net image ovmf common),$(B)/host/libcvm-$(l).a)

# Guest-only code under test is compiled for the host as extra objects.
TEST_EXTRA_init := $(B)/host/init/config.o $(B)/host/init/modules.o $(B)/host/init/identity.o
MODLIBS_init    := common
test_libs_init   = $(B)/host/libcvm-common.a
TEST_EXTRA_init-azure := $(B)/host/init/azure.o $(B)/host/init/config.o
TEST_EXTRA_init-stop := $(B)/host/init/stop.o $(B)/host/init/config.o
test_libs_init-stop   = $(B)/host/libcvm-common.a

.SECONDEXPANSION:
$(B)/tests/test-%: $(B)/host/tests/unit/test-%.o $(B)/host/tests/unit/testutil.o $$(TEST_EXTRA_$$*) $$(or $$(test_libs_$$*),$$(call test_libs,$$*)) $(B)/host/libcvm-common.a
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(B)/host/tests/unit/testutil.o $(TEST_EXTRA_$*) -Wl,--start-group $(or $(test_libs_$*),$(call test_libs,$*)) $(B)/host/libcvm-common.a -Wl,--end-group $(HOST_LDFLAGS) $(TEST_LIBS)

# Fuzz harnesses: tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput.
# The replay build (gcc + ASan/UBSan) runs the corpus in tests/fuzz/corpus/NAME.
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_REPLAY  := $(patsubst tests/fuzz/fuzz-%.c,$(B)/fuzz-replay/fuzz-%,$(FUZZ_SRCS))
FUZZ_BINS    := $(patsubst tests/fuzz/fuzz-%.c,$(B)/fuzz/fuzz-%,$(FUZZ_SRCS))
SAN          := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_LIB_SRCS := $(foreach m,$(MODULES),$(call lib_srcs,$(m)))

# Every library source is compiled once per instrumentation into one archive;
# each harness is one compile and a link that takes only what it calls.
SAN_FLAGS    := $(HOST_CPPFLAGS) $(CSTD) -O1 -g $(WARN) -MMD -MP
FUZZ_FLAGS   := $(HOST_CPPFLAGS) $(CSTD) -O1 -g -MMD -MP
$(B)/san/%.o: %.c $(wildcard $(B)/deps.mk)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(SAN) -c -o $@ $<
$(B)/fuzzobj/%.o: %.c $(wildcard $(B)/deps.mk)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c -o $@ $<
$(B)/san/libcvm-all.a: $(patsubst %.c,$(B)/san/%.o,$(ALL_LIB_SRCS))
$(B)/fuzzobj/libcvm-all.a: $(patsubst %.c,$(B)/fuzzobj/%.o,$(ALL_LIB_SRCS))
$(B)/san/libcvm-all.a $(B)/fuzzobj/libcvm-all.a:
	rm -f $@ && $(AR) rcsD $@ $^

$(B)/fuzz-replay/fuzz-%: $(B)/san/tests/fuzz/fuzz-%.o $(B)/san/tests/fuzz/replay.o $(B)/san/libcvm-all.a
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(HOST_LDFLAGS) $(HOST_LIBS)

$(B)/fuzz/fuzz-%: $(B)/fuzzobj/tests/fuzz/fuzz-%.o $(B)/fuzzobj/libcvm-all.a
	@mkdir -p $(@D)
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(HOST_LDFLAGS) $(HOST_LIBS)

# ---------------------------------------------------------------- phony targets
.SECONDARY:
.PHONY: all host guest tests check fuzz clean
all: host guest
host: $(CLIS)
guest: $(GUEST)
tests: $(UNIT_BINS) $(FUZZ_REPLAY) $(if $(wildcard init/*.c),$(B)/guest/init.syms)

# The CLIs the unit tests call are built too (test-eventlog runs cvm-measure).
check: tests host
	@tests/unit/run-all $(UNIT_BINS) -- $(FUZZ_REPLAY)

fuzz: $(FUZZ_BINS)

clean:
	rm -rf $(B)/host $(B)/musl $(B)/guest $(B)/tests $(B)/bin $(B)/fuzz $(B)/fuzz-replay $(B)/san $(B)/fuzzobj

# Two levels below each object tree (module/x.d, module/cli/x.d): no shell.
-include $(wildcard $(foreach t,host musl san fuzzobj,$(B)/$(t)/*/*.d $(B)/$(t)/*/*/*.d))
