# sctpshim — build and test entry points.
#   make          build target/release/libsctpshim.so
#   make check    every test: format, lints, unit/protocol tests, C tests, fuzzing (bounded)

CARGO ?= cargo
FUZZ_SECONDS ?= 15
FUZZ_DECODER_SECONDS ?= 15
CC ?= cc
CFLAGS ?= -O1 -g -Wall -Wextra -Werror -Iinclude
CTESTS := $(patsubst c-tests/%.c,c-tests/bin/%,$(wildcard c-tests/*.c))
LIB := target/release/libsctpshim.so

.PHONY: all lib check lint test ctests conformance e2e fuzz soak bench clean linux-check

all: lib

lib:
	$(CARGO) build --release --features preload
	$(CARGO) build --release --features preload --example sctp_flood
	@sed -e 's|@PREFIX@|$(CURDIR)|' -e 's|@VERSION@|$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)|' \
		sctpshim.pc.in > target/release/sctpshim.pc

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --features preload -- -D warnings

test:
	$(CARGO) test --release

# lksctp's header and library, when installed: the C API test is also built
# against them (its sctp_* calls then bind to the preloaded shim).
HAVE_LKSCTP := $(and $(wildcard /usr/include/netinet/sctp.h),$(wildcard /usr/lib/*/libsctp.so))
ifneq ($(HAVE_LKSCTP),)
CTESTS += c-tests/bin/capi_lksctp c-tests/bin/options_lksctp
endif
CTESTS += c-tests/bin/capi_pkgconfig

# The C API test links the shim itself, with only our header: no libsctp.
c-tests/bin/capi: c-tests/capi.c c-tests/common.h include/netinet/sctp.h $(LIB)
	@mkdir -p c-tests/bin
	$(CC) $(CFLAGS) -o $@ $< -L target/release -lsctpshim -Wl,-rpath,$(CURDIR)/target/release -pthread

# The same, built the pkg-config way (target/release/sctpshim.pc).
c-tests/bin/capi_pkgconfig: c-tests/capi.c c-tests/common.h include/netinet/sctp.h $(LIB)
	@mkdir -p c-tests/bin
	$(CC) -O1 -g -Wall -Wextra -Werror -o $@ $< $$(PKG_CONFIG_PATH=target/release pkg-config --cflags --libs sctpshim) -pthread

c-tests/bin/options_lksctp: c-tests/options.c c-tests/common.h
	@mkdir -p c-tests/bin
	$(CC) -O1 -g -Wall -Wextra -Werror -o $@ $< -lsctp -pthread

c-tests/bin/options: c-tests/options.c c-tests/common.h include/netinet/sctp.h $(LIB)
	@mkdir -p c-tests/bin
	$(CC) $(CFLAGS) -o $@ $< -L target/release -lsctpshim -Wl,-rpath,$(CURDIR)/target/release -pthread

c-tests/bin/capi_lksctp: c-tests/capi.c c-tests/common.h
	@mkdir -p c-tests/bin
	$(CC) -O1 -g -Wall -Wextra -Werror -o $@ $< -lsctp -pthread

c-tests/bin/%: c-tests/%.c c-tests/common.h c-tests/expect.h include/netinet/sctp.h
	@mkdir -p c-tests/bin
	$(CC) $(CFLAGS) -o $@ $< -pthread

# The c-tests also run under valgrind and ASan (issue 14's acceptance).
CHECKED_TESTS := bad_input errnos shutdown names early_send more_calls file_io threads_shared

ctests: lib $(CTESTS)
	bash scripts/check-header-abi.sh
	@bash scripts/run-ctests.sh $(LIB) $(CTESTS)
	@# The same programs with the engine in a thread of each process (the
	@# in-process placement, SCTPSHIM_ENGINE=thread).
	@SCTPSHIM_ENGINE=thread bash scripts/run-ctests.sh $(LIB) $(CTESTS)
	@# The wrong-call table and the Linux-answer tests again under valgrind
	@# and AddressSanitizer (the ASan runtime must come first in
	@# LD_PRELOAD): no invalid accesses, in the program or in the shim.
	@if command -v valgrind >/dev/null; then for t in $(CHECKED_TESTS) bad_pointers; do \
		LD_PRELOAD=$(CURDIR)/$(LIB) valgrind -q --error-exitcode=9 --suppressions=c-tests/valgrind.supp c-tests/bin/$$t || exit 1; done; \
	else echo "valgrind missing: $(CHECKED_TESTS) bad_pointers not rerun under it"; fi
	@# (bad_pointers not under ASan: its own interceptors, getsockname's
	@# for one, dereference the bad pointers before the shim sees them.)
	@asan=$$($(CC) -print-file-name=libasan.so); if [ -f "$$asan" ]; then for t in $(CHECKED_TESTS); do \
		$(CC) -O1 -g -fsanitize=address -fno-omit-frame-pointer -Iinclude \
			-o c-tests/bin/$${t}_asan c-tests/$$t.c -pthread && \
		LD_PRELOAD="$$asan $(CURDIR)/$(LIB)" c-tests/bin/$${t}_asan || exit 1; done; \
	else echo "libasan missing: $(CHECKED_TESTS) not rerun under ASan"; fi

e2e: lib
	bash scripts/e2e-socat.sh $(LIB)
	bash scripts/e2e-programs.sh $(LIB)
	bash scripts/e2e-impair.sh $(LIB)
	bash scripts/e2e-netns.sh $(LIB)
	bash scripts/e2e-multihome.sh $(LIB)
	bash scripts/e2e-security.sh $(LIB)
	bash scripts/e2e-usrsctp.sh $(LIB)
	bash scripts/e2e-process.sh $(LIB)
	KILL_ROUNDS=4 bash scripts/e2e-kill.sh $(LIB)
	bash scripts/e2e-kamailio.sh $(LIB)
	bash scripts/e2e-java.sh $(LIB)

fuzz:
	FUZZ_DECODER_SECONDS=$(FUZZ_DECODER_SECONDS) bash scripts/fuzz.sh $(FUZZ_SECONDS)

conformance/bin/helper: conformance/helper.c include/netinet/sctp.h
	@mkdir -p conformance/bin
	$(CC) $(CFLAGS) -o $@ conformance/helper.c

# RFC 9260 on the wire: scripted peers (src/bin/sctpshim-peer) against the
# shim, one behaviour per script (conformance/README.md).
conformance: lib conformance/bin/helper
	target/release/sctpshim-peer --lib $(LIB) --helper conformance/bin/helper conformance/scripts

check: lint test ctests conformance e2e fuzz
	@echo "make check: all stages passed"

# The long versions (not part of make check): a 1 GiB transfer through the
# impairment proxy, 10,000 associations, 100 rounds of random kills and
# five minutes per fuzz target.
soak: lib $(CTESTS)
	KILL_ROUNDS=100 bash scripts/e2e-kill.sh $(LIB)
	IMPAIR_MB=64 IMPAIR_PROXY_MB=1024 IMPAIR_TIMEOUT=3600 bash scripts/e2e-impair.sh $(LIB)
	MANY_ASSOCS=10000 CTEST_TIMEOUT=1800 bash scripts/run-ctests.sh $(LIB) c-tests/bin/many_assocs
	FUZZ_DECODER_SECONDS=300 bash scripts/fuzz.sh 300

# C tests on the Linux kernel's own SCTP in a qemu guest (not part of make
# check: needs qemu and a kernel image, see the script).
linux-check:
	bash scripts/linux-check.sh

# Throughput against kernel TCP and usrsctp, from one run (not a test).
bench: lib
	bash scripts/bench.sh $(LIB)

clean:
	$(CARGO) clean
	rm -rf c-tests/bin conformance/bin fuzz/target
