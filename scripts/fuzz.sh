#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/) for a bounded time, growing the committed corpora.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     random exploration (default 20 s per target)
#   scripts/fuzz.sh --runs N                 N inputs per target from a fixed seed: a bounded,
#                                            nearly repeatable run (what `make test` runs)
#
# cargo-fuzz needs a nightly toolchain (libFuzzer's instrumentation); it is used when rustup has
# one, and cargo-fuzz is built into ~/.local/kino-tools the first time. A crash stops the run
# with the failing input saved under fuzz/artifacts/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "--runs" ]; then
  BOUND=(-runs="${2:?--runs needs a number}" -seed=1)
  WHAT="${2} inputs (seed 1)"
else
  BOUND=(-max_total_time="${1:-20}")
  WHAT="${1:-20}s"
fi
TOOLS="$HOME/.local/kino-tools"

if ! cargo +nightly --version > /dev/null 2>&1; then
  echo "fuzz: no nightly Rust toolchain on this machine; the fuzz targets were not run" >&2
  exit 0
fi
if [ ! -x "$TOOLS/bin/cargo-fuzz" ]; then
  echo "fuzz: building cargo-fuzz into $TOOLS (once)"
  cargo install cargo-fuzz@0.12.0 --locked --root "$TOOLS" --quiet
fi
export PATH="$TOOLS/bin:$PATH"
cd "$HERE"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
for target in delivery_url upload_params; do
  echo "fuzz: $target, $WHAT"
  if ! cargo +nightly fuzz run --dev --sanitizer none "$target" "fuzz/corpus/$target" -- \
      "${BOUND[@]}" -max_len=4096 -print_final_stats=1 > "$LOG" 2>&1; then
    tail -40 "$LOG" >&2
    echo "fuzz: $target failed; the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added)" "$LOG" || tail -3 "$LOG"
done
