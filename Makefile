# sluice: plain Makefile. `make` builds build/sluice; see README.md for the rest.
VERSION   := 0.1.0
BUILD     ?= build
CC        ?= cc
WERROR    ?= 1
OPT       ?= -O2 -g
SANITIZE  ?=

WARN := -std=gnu11 -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKGS      := libpci libseccomp libmnl jansson
CPPFLAGS  += -I. -D_GNU_SOURCE -DSLUICE_VERSION='"$(VERSION)"'
CFLAGS    += $(OPT) $(WARN) $(SANITIZE) -MMD -MP
LDFLAGS   += $(SANITIZE)
LDLIBS    += -lpthread

MODULES   := vmm vfio iommu irqremap sriov sandbox
# Every .c below a module, in its rooms too (vmm/cli, vmm/virtio, ...).
LIB_SRC   := $(filter-out vmm/cli/main.c,$(shell find $(MODULES) -name '*.c'))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/vmm/cli/main.o
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzzers/%)
TOOLS_SRC := $(wildcard tests/tools/*.c)
TOOLS_BIN := $(TOOLS_SRC:tests/tools/%.c=$(BUILD)/tools/%)
SETUP     := $(BUILD)/.setup-done

.PHONY: all unit unit-bins asan ubsan fuzz fuzz-bins test demo bed bench clean setup
all: $(BUILD)/sluice $(TOOLS_BIN)

# Every target that needs packages runs the (idempotent, stamped) setup first.
$(SETUP): scripts/setup
	@scripts/setup
	@mkdir -p $(@D) && touch $@
setup: $(SETUP)

$(BUILD)/obj/%.o: %.c | $(SETUP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsluice.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sluice: $(MAIN_OBJ) $(BUILD)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $^ $$(pkg-config --libs $(PKGS)) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libsluice.a | $(SETUP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libsluice.a $(LDFLAGS) \
		$$(pkg-config --libs cmocka $(PKGS)) $(LDLIBS)

# Small programs the test bed runs inside L1 (static, so they need no libraries there);
# they may call sluice's own modules from libsluice.a.
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsluice.a | $(SETUP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -static -o $@ $< $(BUILD)/libsluice.a -lpthread

# Host-only test helpers (not copied into the bed): tests/acpi/acpi-dump writes
# sluice's ACPI tables to files for ACPICA (tests/acpi/run).
$(BUILD)/host/acpi-dump: tests/acpi/acpi-dump.c $(BUILD)/libsluice.a | $(SETUP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libsluice.a $(LDFLAGS) $(LDLIBS)

# libFuzzer harnesses (tests/fuzz): built only by the clang build below (FUZZ_VARS).
$(BUILD)/fuzzers/%: tests/fuzz/%.c tests/fuzz/fz.h $(BUILD)/libsluice.a | $(SETUP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libsluice.a $(LDFLAGS) \
		$$(pkg-config --libs $(PKGS)) $(LDLIBS)

unit: $(UNIT_BIN)
	@scripts/run-unit $(UNIT_BIN)
unit-bins: $(UNIT_BIN)

ASAN_VARS := BUILD=$(BUILD)/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all"
asan:
	$(MAKE) $(ASAN_VARS) unit
ubsan:
	$(MAKE) BUILD=$(BUILD)/ubsan OPT="-O1 -g" \
		SANITIZE="-fsanitize=undefined -fno-sanitize-recover=all" unit

# Fuzzing: the library rebuilt by clang with libFuzzer's coverage, ASan and UBSan in its
# own BUILD dir; `make fuzz` runs every target FUZZ_SECONDS (corpus kept in
# build/fuzz/corpus, crashes in build/fuzz/artifacts); `make test` runs a short,
# deterministic pass of each (scripts/run-fuzz --short).
FUZZ_SECONDS ?= 60
FUZZ_VARS := BUILD=$(BUILD)/fuzz CC=clang-14 \
	OPT="-O1 -g -fno-omit-frame-pointer -Wno-gnu-variable-sized-type-not-at-end" \
	SANITIZE="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
fuzz-bins: $(FUZZ_BIN)
fuzz:
	@$(MAKE) --no-print-directory $(FUZZ_VARS) fuzz-bins
	@scripts/run-fuzz --seconds $(FUZZ_SECONDS) $(BUILD)/fuzz

# Unit tests (under ASan+UBSan), CLI golden files, the ACPI tables under ACPICA, the
# short fuzzing pass, then every test-bed scenario; ends with "N passed, N failed".
test: all $(BUILD)/host/acpi-dump
	@$(MAKE) --no-print-directory $(ASAN_VARS) unit-bins
	@$(MAKE) --no-print-directory $(FUZZ_VARS) fuzz-bins
	@UNIT_DIR=$(BUILD)/asan/unit FUZZ_BUILD=$(BUILD)/fuzz scripts/run-tests

bed: all
	@scripts/testbed $(SCENARIO)

# Benchmarks print numbers (tests/bed/bench); they never pass or fail on speed.
bench: all
	@scripts/testbed $$(scripts/testbed --list-bench)

demo: all
	@scripts/demo

clean:
	rm -rf $(BUILD)/obj $(BUILD)/unit $(BUILD)/tools $(BUILD)/asan $(BUILD)/ubsan $(BUILD)/fuzz \
		$(BUILD)/host $(BUILD)/sluice $(BUILD)/libsluice.a

-include $(shell find $(BUILD)/obj $(BUILD)/unit $(BUILD)/tools $(BUILD)/host $(BUILD)/fuzzers -name '*.d' 2>/dev/null)
