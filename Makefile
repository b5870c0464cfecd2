# sctpshim — build and test entry points.
#   make          build target/release/libsctpshim.so
#   make check    every test: format, lints, unit/protocol tests, C tests, fuzzing (bounded)

CARGO ?= cargo
FUZZ_SECONDS ?= 20
FUZZ_DECODER_SECONDS ?= 60
CC ?= cc
CFLAGS ?= -O1 -g -Wall -Wextra -Werror -Iinclude
CTESTS := $(patsubst c-tests/%.c,c-tests/bin/%,$(wildcard c-tests/*.c))
LIB := target/release/libsctpshim.so

.PHONY: all lib check lint test ctests e2e fuzz clean

all: lib

lib:
	$(CARGO) build --release --features preload

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --features preload -- -D warnings

test:
	$(CARGO) test --release

c-tests/bin/%: c-tests/%.c c-tests/common.h include/netinet/sctp.h
	@mkdir -p c-tests/bin
	$(CC) $(CFLAGS) -o $@ $< -pthread

ctests: lib $(CTESTS)
	bash scripts/check-header-abi.sh
	@bash scripts/run-ctests.sh $(LIB) $(CTESTS)

e2e: lib
	bash scripts/e2e-socat.sh $(LIB)
	bash scripts/e2e-programs.sh $(LIB)

fuzz:
	FUZZ_DECODER_SECONDS=$(FUZZ_DECODER_SECONDS) bash scripts/fuzz.sh $(FUZZ_SECONDS)

check: lint test ctests e2e fuzz
	@echo "make check: all stages passed"

clean:
	$(CARGO) clean
	rm -rf c-tests/bin fuzz/target
