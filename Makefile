# Kino: `make run` serves on the embedded default; `make test` passes every test.
# Both install what is missing first (apt packages, the SDK test venv), idempotently.

CARGO ?= cargo
# Where cargo puts binaries (CI may share a target dir outside the clone).
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
export CARGO_INCREMENTAL ?= 0

.PHONY: setup build run test test-rust test-scale test-sdk test-node test-fuzz lint fmt bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build

run: build
	$(CARGO) run -- serve

test:
	@bash scripts/setup.sh test
	$(CARGO) build --all-targets
	$(MAKE) lint
	$(MAKE) test-rust
	$(MAKE) test-scale
	$(MAKE) test-sdk
	$(MAKE) test-node
	$(MAKE) test-fuzz

test-rust:
	$(CARGO) test --all-targets

# The black-box API suite again, on PostgreSQL and an S3-protocol server (scripts/backends.sh
# starts both and stops them after); the fault tests stop those servers, so they run last, alone.
test-scale:
	bash scripts/backends.sh sh -c '$(CARGO) test --test api -- --skip fault_ && \
	  $(CARGO) test --test api fault_ -- --test-threads=1'

# The cargo-fuzz targets (fuzz/): 40000 inputs each from a fixed seed and the committed corpora
# (nightly toolchain): a bounded run, nearly the same on every machine (coverage feedback may
# differ a little); `scripts/fuzz.sh 60` explores at random.
test-fuzz:
	bash scripts/fuzz.sh --runs 40000

test-sdk:
	KINO_BIN=$(abspath $(TARGET_DIR))/debug/kino bash tests/sdk/run.sh

# The official Node SDK (npm `cloudinary`, tests/node) against a Kino of its own.
test-node:
	KINO_BIN=$(abspath $(TARGET_DIR))/debug/kino node --test tests/node/

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
