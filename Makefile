# Kino: `make run` serves on the embedded default; `make test` passes every test.
# Both install what is missing first (apt packages, the SDK test venv), idempotently.

CARGO ?= cargo
export CARGO_INCREMENTAL ?= 0

.PHONY: setup build run test test-rust test-sdk lint fmt bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build

run: build
	$(CARGO) run -- serve

test: setup
	$(CARGO) build --all-targets
	$(MAKE) lint
	$(MAKE) test-rust
	$(MAKE) test-sdk

test-rust:
	$(CARGO) test --all-targets

test-sdk:
	bash tests/sdk/run.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
