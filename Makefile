# ACE: a zero-copy message channel between KVM/QEMU hosts and Linux guests.
#
#   make demo         boot a guest with virtio-ace; guest and host mprocs talk;
#                     latency printed beside the host's shared-memory floor
#   make              build the core, libace, the tools, QEMU with the device
#                     and ace.ko (QEMU takes minutes the first time)
#   make examples     the first-hour examples (docs/usage.md): hello-service
#                     (host) and hello-client (guest, static too)
#   make test         every test: unit (plain, ASan+UBSan, TSan), fuzz (short),
#                     and the VM tests (QEMU with the device, Debian guest, TCG)
#   make test-unit    unit tests only
#   make test-host    host-only tests with fake devices (no VM): ace-bridge
#                     isolation and escaping, plain and ASan+UBSan
#   make test-vm      VM tests only (all of them, the long ones too)
#   make test-long    the long VM cases make test leaves out (soak, 6.12)
#   make test-docs    the commands of docs/usage.md, run as written (a VM)
#   make test-lint    sparse and checkpatch.pl --strict on guest-module/
#   make bench        ACE against virtio-serial and TCP in one guest (+ plots)
#   make bench-core   the core benchmark (host only, no VM)
#   make bench-insn   instructions per message, counted by callgrind
#   make soak         traffic in every mode with host services killed at
#                     random for SOAK_SECONDS (default 600); all accounted
#   make fuzz         fuzz the arena validator and the device's control
#                     parser, FUZZ_SECONDS each (default 600)
#   make deb          Debian packages in build/deb: ace-dkms, libace1,
#                     libace-dev, ace-tools
#
# Every output goes under build/.

BUILD       ?= build
CC          ?= gcc
CLANG       ?= clang
# -fno-tree-slp-vectorize: GCC 12's -O2 packs the four 32-bit stores
# that fill a struct ace_buf into one vector store built with seven
# shuffles (movd, punpck*): more instructions on the hot path, not fewer
# (bench_insn: 7 per alloc+send+recv+free).
CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Werror -pthread -fno-tree-slp-vectorize \
               -Iguest-module/include/uapi
CFLAGS      ?= -O2
SAN_CFLAGS  := -O1 -fno-omit-frame-pointer

CORE_SRC    := $(wildcard shared/ace_*.c)
CORE_HDR    := $(wildcard shared/*.h)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_NAMES  := $(notdir $(basename $(UNIT_SRC)))

# Sanitizer variants of the unit tests: plain, asan (ASan+UBSan), tsan.
VARIANTS    := plain asan tsan
plain_CC    := $(CC)
plain_FLAGS := $(CFLAGS)
asan_CC     := $(CLANG)
asan_FLAGS  := $(SAN_CFLAGS) -fsanitize=address,undefined \
               -fno-sanitize-recover=all
tsan_CC     := $(CLANG)
tsan_FLAGS  := $(SAN_CFLAGS) -fsanitize=thread

UNIT_BINS   := $(foreach v,$(VARIANTS),$(addprefix $(BUILD)/unit-$(v)/,$(UNIT_NAMES)))

FUZZ_SECONDS ?= 600
FUZZ_SMOKE   ?= 20

.PHONY: bench all core lib tools examples qemu module guest-tools install deb deps demo test test-long test-unit test-docs test-lint test-host host-bins test-vm vm-prepare unit-bins fuzz fuzz-bins bench-core bench-insn clean
.DELETE_ON_ERROR:

all: core lib tools qemu module

# QEMU 7.2 with virtio-ace (cached by the device sources' hash), and ace.ko
# against the guest kernel's headers (make -C guest-module KDIR=... for
# any other kernel).
qemu:
	bash scripts/build-qemu.sh

module:
	bash scripts/fetch-guest-kernel.sh
	$(MAKE) -C guest-module KDIR=$$(cat $(BUILD)/guest/kdir)

core: $(BUILD)/libacecore.a

deps:
	bash scripts/deps.sh core

$(BUILD)/core/%.o: shared/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -fPIC -c $< -o $@

$(BUILD)/libacecore.a: $(patsubst shared/%.c,$(BUILD)/core/%.o,$(CORE_SRC))
	ar rcs $@ $^

# ---- libace (static, shared, pkg-config) and the tools ----
LIB_SRC     := lib/ace.c lib/ace_host.c
LIB_HDR     := lib/ace.h lib/ace_host.h
TOOLS       := ace-echo ace-ping ace-bench ace-stat ace-rngd ace-bridge ace-proxy
PREFIX      ?= /usr/local
LIBDIR      ?= $(PREFIX)/lib

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -fPIC -c $< -o $@

LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC)) \
            $(patsubst shared/%.c,$(BUILD)/core/%.o,$(CORE_SRC))

$(BUILD)/lib/libace.a: $(LIB_OBJS)
	ar rcs $@ $^

$(BUILD)/lib/libace.so: $(LIB_OBJS)
	$(CC) -shared -pthread $(LDFLAGS) -Wl,-soname,libace.so.1 $^ -o $@

$(BUILD)/lib/ace.pc: lib/ace.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' $< > $@

lib: $(BUILD)/lib/libace.a $(BUILD)/lib/libace.so $(BUILD)/lib/ace.pc

# Host tools link libace statically; guest tools are fully static so they
# run from the busybox initramfs.
$(BUILD)/tools/%: tools/%.c tools/tool_util.h $(BUILD)/lib/libace.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(LDFLAGS) -Ilib $< $(BUILD)/lib/libace.a -o $@

$(BUILD)/guest-bin/%: tools/%.c tools/tool_util.h $(LIB_SRC) $(CORE_SRC) $(LIB_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -static -Ilib $< $(LIB_SRC) $(CORE_SRC) -o $@

$(BUILD)/tools/ace-rngd $(BUILD)/guest-bin/ace-rngd: shared/ace_rng_proto.h

tools: $(addprefix $(BUILD)/tools/,$(TOOLS))
guest-tools: $(addprefix $(BUILD)/guest-bin/,$(TOOLS)) $(BUILD)/guest-bin/hello-client

# The examples of docs/usage.md ("The first hour"): the host service
# linked with libace.a, the guest client static (it runs from the test
# initramfs; a full guest builds it with pkg-config, as the docs say).
$(BUILD)/examples/%: examples/%.c $(BUILD)/lib/libace.a lib/ace.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(LDFLAGS) -Ilib $< $(BUILD)/lib/libace.a -o $@

$(BUILD)/guest-bin/hello-client: examples/hello-client.c $(BUILD)/lib/libace.a lib/ace.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -static -Ilib $< $(BUILD)/lib/libace.a -o $@

examples: $(BUILD)/examples/hello-service $(BUILD)/examples/hello-client \
	  $(BUILD)/guest-bin/hello-client

# VM test programs: guest ones static (they run from the initramfs).
VM_GUEST_SRC := $(wildcard tests/vm/guest/*.c)
VM_GUEST_BIN := $(patsubst tests/vm/guest/%.c,$(BUILD)/guest-bin/%,$(VM_GUEST_SRC))

$(BUILD)/guest-bin/%: tests/vm/guest/%.c tools/tool_util.h $(LIB_SRC) $(CORE_SRC) $(LIB_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -static -Ilib $< $(LIB_SRC) $(CORE_SRC) -o $@

# The one host test peer: the tests/vm cases, and guest-module/tests/vm-test.sh
# (its "driver" mode, which uses the shared core and none of lib/).
$(BUILD)/vm/ace_hostpeer: tests/vm/ace_hostpeer.c lib/ace_host.c $(LIB_HDR) $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< lib/ace_host.c $(CORE_SRC) -o $@

$(BUILD)/vm/guest-tests: $(VM_GUEST_BIN)
	@mkdir -p $(dir $@)
	@touch $@

install: lib tools
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/include/ace/linux $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/lib/libace.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/lib/libace.so $(DESTDIR)$(LIBDIR)/libace.so.1
	ln -sf libace.so.1 $(DESTDIR)$(LIBDIR)/libace.so
	@# written here, not copied: PREFIX may differ from the one lib was built with
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' lib/ace.pc.in \
		> $(DESTDIR)$(LIBDIR)/pkgconfig/ace.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/ace.pc
	install -m 644 lib/ace.h $(DESTDIR)$(PREFIX)/include/
	@# the driver's uapi (the /dev/aceN ioctls), where pkg-config's
	@# -I$${includedir}/ace finds it as <linux/ace.h>
	install -m 644 guest-module/include/uapi/linux/ace.h \
		$(DESTDIR)$(PREFIX)/include/ace/linux/
	install -m 755 $(addprefix $(BUILD)/tools/,$(TOOLS)) $(DESTDIR)$(PREFIX)/bin/

# Debian packages (debian/, dpkg-buildpackage in a clean copy of the tree):
# ace-dkms, libace1, libace-dev, ace-tools, in build/deb/.
deb:
	bash scripts/build-deb.sh

# One rule per variant: test binary = test source + the core, same flags;
# test_lib_* also link libace (its host backend, on a fake device).
define unit_variant
$(BUILD)/unit-$(1)/%: tests/unit/%.c tests/unit/ace_test.h $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $$(dir $$@)
	$$($(1)_CC) $(CFLAGS_BASE) -D_GNU_SOURCE $$($(1)_FLAGS) $$(UNIT_DEFS) $$< $(CORE_SRC) -o $$@
$(BUILD)/unit-$(1)/test_livelock: UNIT_DEFS := -DACE_NOTIFY_RETRIES=0
$(BUILD)/unit-$(1)/test_lib%: tests/unit/test_lib%.c tests/unit/ace_test.h \
		tests/unit/lib_fake_dev.h $(LIB_SRC) $(LIB_HDR) $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $$(dir $$@)
	$$($(1)_CC) $(CFLAGS_BASE) $$($(1)_FLAGS) -Ilib $$< $(LIB_SRC) $(CORE_SRC) -o $$@
endef
$(foreach v,$(VARIANTS),$(eval $(call unit_variant,$(v))))

unit-bins: $(UNIT_BINS)

# The test list: name<TAB>timeout<TAB>command.  Sanitizer runs use fewer
# messages; TSan runs the stress test with both sides in one process, so
# it sees every access.
define unit_list
	for t in $(UNIT_NAMES); do \
	  printf 'plain/%s\t600\t%s\n' $$t "$(BUILD)/unit-plain/$$t"; \
	done; \
	for t in $(UNIT_NAMES); do \
	  case $$t in \
	    test_stress) a="-n 200000";; test_wakeup) a="-n 100000";; \
	    test_hostile) a="-s 2";; *) a="";; esac; \
	  printf 'asan/%s\t600\t%s %s\n' $$t "$(BUILD)/unit-asan/$$t" "$$a"; \
	done; \
	for t in $(UNIT_NAMES); do \
	  case $$t in \
	    test_stress) a="--threads -n 50000";; test_wakeup) a="-n 30000";; \
	    test_hostile) continue;; *) a="";; esac; \
	  printf 'tsan/%s\t600\t%s %s\n' $$t "$(BUILD)/unit-tsan/$$t" "$$a"; \
	done
endef

# The instruction-count guard: fails when a part of the hot path costs
# more than 10% above the figures committed in tests/bench/insn.ref.
define insn_list
	printf 'insn/guard\t600\tbash tests/bench/insn.sh $(BUILD)/bench/bench_insn --check tests/bench/insn.ref\n'
endef

test-unit:
	bash scripts/deps.sh core
	$(MAKE) unit-bins $(BUILD)/bench/bench_insn
	@{ $(unit_list); $(insn_list); } | tests/run-tests.sh

# ---- fuzzing (clang's libFuzzer) ----
# fuzz_arena: the arena validator and the core on a hostile arena;
# fuzz_ctrl: the device's control-command parser and peer-stream framer
# (the device's own source, built outside QEMU).  Each runs FUZZ_SECONDS
# in `make fuzz` and FUZZ_SMOKE in `make test`; new inputs go to
# build/fuzz/corpus-*, the committed seeds stay in tests/fuzz/seeds-*.
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all
FUZZ_TARGETS := arena ctrl
CTRL_SRC    := host-qemu-device/hw/virtio/virtio-ace-ctrl.c
CTRL_HDR    := host-qemu-device/hw/virtio/virtio-ace-ctrl.h

$(BUILD)/fuzz/fuzz_arena: tests/fuzz/fuzz_arena.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -Wall -Wextra -Werror $(FUZZ_FLAGS) $< $(CORE_SRC) -o $@

$(BUILD)/fuzz/fuzz_ctrl: tests/fuzz/fuzz_ctrl.c $(CTRL_SRC) $(CTRL_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -Wall -Wextra -Werror $(FUZZ_FLAGS) \
		-DVIRTIO_ACE_CTRL_STANDALONE $< $(CTRL_SRC) -o $@

$(BUILD)/fuzz/mkseeds: tests/fuzz/mkseeds.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Werror $< -o $@

fuzz-bins: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS)) $(BUILD)/fuzz/mkseeds
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$t && \
	  $(BUILD)/fuzz/mkseeds $$t $(BUILD)/fuzz/corpus-$$t || exit 1; \
	done

define fuzz_list
	for t in $(FUZZ_TARGETS); do \
	  printf 'fuzz/%s\t%s\t%s\n' $$t $$(($(1) + 60)) \
	    "$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(1) -timeout=10 -rss_limit_mb=1024 -error_exitcode=1 -print_final_stats=1 $(BUILD)/fuzz/corpus-$$t tests/fuzz/seeds-$$t"; \
	done
endef

fuzz: fuzz-bins
	@{ $(call fuzz_list,$(FUZZ_SECONDS)); } | tests/run-tests.sh

# ---- VM tests: boot the Debian guest under TCG with the device ----
# The long VM cases (the short soak, the driver suite on the second guest
# kernel, the restart and reload rounds) run in `make test-long`, which CI
# runs after `make test`; they keep `make test` under half an hour on a
# fresh two-core machine.
VM_LONG  := soak guest-driver-6.12 restart
VM_CASES := $(filter-out $(VM_LONG),$(notdir $(basename $(wildcard tests/vm/cases/*.sh))))

define tools_list
	printf 'tools/cli\t120\tbash tests/tools/test_cli.sh $(BUILD)\n'
endef

# The Debian packages, built, installed, used and purged (make test-long)
define pkg_list
	printf 'pkg/deb\t1200\tbash tests/pkg/test_deb.sh\n'
endef

# The guest driver as the kernel's tools read it: sparse (C=2) and
# checkpatch.pl --strict, 0 errors, 0 warnings, 0 checks (tests/lint/lint.sh)
define lint_list
	printf 'lint/guest-module\t600\tbash tests/lint/lint.sh\n'
endef

test-lint:
	@{ $(lint_list); } | tests/run-tests.sh

# ---- host-only tests: fake devices on the peer socket, no VM ----
# tests/host/fake_dev.c is a device and its guest in one process; the
# tools are also built with ASan+UBSan (build/tools-asan/) and the same
# test runs them there, without its rate bounds (sanitizers slow it).
HOST_TOOLS  := ace-bridge ace-stat ace-echo ace-ping ace-rngd ace-bench

$(BUILD)/host/fake_dev: tests/host/fake_dev.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< $(CORE_SRC) -o $@

$(BUILD)/tools-asan/%: tools/%.c tools/tool_util.h $(LIB_SRC) $(CORE_SRC) $(LIB_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(asan_CC) $(CFLAGS_BASE) $(asan_FLAGS) -Ilib $< $(LIB_SRC) $(CORE_SRC) -o $@

# libace's contract under arena events (a fake device inside), ASan+UBSan.
# The wrapped core calls let a case hold a thread inside a window.
CONTRACT_WRAP := -Wl,--wrap=ace_disarm -Wl,--wrap=ace_mproc_release \
		 -Wl,--wrap=ace_mproc_claim
$(BUILD)/host/test_contract: tests/host/test_contract.c $(LIB_SRC) $(CORE_SRC) $(LIB_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(asan_CC) $(CFLAGS_BASE) $(asan_FLAGS) -Ilib $< $(LIB_SRC) $(CORE_SRC) \
		$(CONTRACT_WRAP) -o $@
$(BUILD)/host/test_contract-tsan: tests/host/test_contract.c $(LIB_SRC) $(CORE_SRC) $(LIB_HDR) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(tsan_CC) $(CFLAGS_BASE) $(tsan_FLAGS) -Ilib $< $(LIB_SRC) $(CORE_SRC) \
		$(CONTRACT_WRAP) -o $@

host-bins: $(BUILD)/host/fake_dev $(addprefix $(BUILD)/tools/,$(TOOLS)) \
	   $(addprefix $(BUILD)/tools-asan/,$(HOST_TOOLS)) $(BUILD)/host/test_contract \
	   $(BUILD)/host/test_contract-tsan

define host_list
	printf 'host/contract-asan\t120\t$(BUILD)/host/test_contract\n'; \
	printf 'host/contract-race-tsan\t120\tenv TSAN_OPTIONS=suppressions=tests/host/tsan-contract.supp $(BUILD)/host/test_contract-tsan persist persist_race persist_call errors kick_eof reformat\n'; \
	printf 'host/bridge-isolation-asan\t300\tbash tests/host/test_bridge.sh $(BUILD) $(BUILD)/tools-asan --sanitized\n'; \
	printf 'host/reflect-asan\t60\tbash tests/host/test_reflect.sh $(BUILD) $(BUILD)/tools-asan\n'
endef

# ace-bridge's isolation test again, unsanitized, with its rate bounds, and
# every host tool (ASan+UBSan) against a hostile device: 81 runs, 2.5 min
# (make test-long)
define host_long_list
	printf 'host/bridge-isolation\t300\tbash tests/host/test_bridge.sh $(BUILD) $(BUILD)/tools\n'; \
	printf 'host/hostile-dev-asan\t600\tbash tests/host/test_hostile_dev.sh $(BUILD) $(BUILD)/tools-asan\n'
endef

test-host:
	$(MAKE) host-bins
	@{ $(host_list); $(host_long_list); } | tests/run-tests.sh

define vm_list
	for c in $(1); do printf 'vm/%s\t900\tbash tests/vm/cases/%s.sh\n' $$c $$c; done
endef

vm-prepare:
	bash tests/vm/prepare.sh

# Side by side in one guest: ACE (poll/interrupt/adaptive), virtio-serial,
# TCP over virtio-net, and the host floor; JSON, table and plots in build/bench.
bench:
	bash scripts/bench.sh

# The soak: one guest, host<->guest traffic both ways in every delivery
# mode for SOAK_SECONDS (default 600) while host services are killed and
# restarted at random; at the end every message is accounted for and no
# block leaked.  Logs in build/soak/.
SOAK_SECONDS ?= 600

$(BUILD)/vm/ace-soak: tests/vm/guest/ace-soak.c tools/tool_util.h $(BUILD)/lib/libace.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -Ilib $< $(BUILD)/lib/libace.a -o $@

.PHONY: soak
soak:
	SOAK_SECONDS=$(SOAK_SECONDS) nice -n 10 bash scripts/soak.sh

# The main job: boot a guest, guest and host mprocs talk, latency printed.
demo:
	bash scripts/demo.sh

# KERNEL=6.1|6.12: only the guest driver's suite, on that guest kernel
# (e.g. make test-vm KERNEL=6.12); without it, every VM case.
test-vm: vm-prepare
ifeq ($(KERNEL),)
	@{ $(call vm_list,$(VM_CASES) $(VM_LONG)); } | tests/run-tests.sh
else
	@printf 'vm/guest-driver-%s\t900\tenv ACE_KERNEL=%s bash guest-module/tests/vm-test.sh all\n' $(KERNEL) $(KERNEL) | tests/run-tests.sh
endif

# The documentation's command lines (docs/usage.md, blocks marked
# "sh run"), run as written: builds, a guest, a host service, QEMU.
define docs_list
	printf 'docs/usage\t1800\tbash tests/docs/test_docs.sh\n'
endef

test-docs: vm-prepare
	@{ $(docs_list); } | tests/run-tests.sh

# ---- everything make test runs ----
test:
	bash scripts/deps.sh core
	$(MAKE) unit-bins fuzz-bins tools host-bins $(BUILD)/bench/bench_insn
	bash tests/vm/prepare.sh
	@{ $(unit_list); $(insn_list); $(call fuzz_list,$(FUZZ_SMOKE)); $(tools_list); $(lint_list); $(host_list); $(call vm_list,$(VM_CASES)); $(docs_list); } | tests/run-tests.sh

# What CI runs after `make test`: the Debian packages, the host tools
# against a hostile device, the unsanitized bridge isolation test, the
# long VM cases (VM_LONG).
test-long: vm-prepare
	$(MAKE) tools host-bins
	@{ $(pkg_list); $(host_long_list); $(call vm_list,$(VM_LONG)); } | tests/run-tests.sh

# ---- benchmarks ----
$(BUILD)/bench/bench_core: tests/bench/bench_core.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -march=native $< $(CORE_SRC) -o $@ -lck

bench-core:
	bash scripts/deps.sh core
	$(MAKE) $(BUILD)/bench/bench_core
	$(BUILD)/bench/bench_core --json $(BUILD)/bench/core.json

# Instructions per message (core, libace, both sides of a round trip),
# exact: bench_insn under callgrind.  Fixed -O2, no -march, so the counts
# compare across runs and machines of one architecture.
$(BUILD)/bench/bench_insn: tests/bench/bench_insn.c $(LIB_SRC) $(LIB_HDR) $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -Ilib $< lib/ace_host.c $(CORE_SRC) -o $@

bench-insn:
	bash scripts/deps.sh core
	$(MAKE) $(BUILD)/bench/bench_insn
	bash tests/bench/insn.sh $(BUILD)/bench/bench_insn --json $(BUILD)/bench/insn.json

clean:
	rm -rf $(BUILD)
