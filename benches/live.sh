#!/usr/bin/env bash
# Live streaming speed: publish → first part and first segment, CPU per session for the hd
# ladder, and how many sessions this machine holds (see benches/live.py).
# Usage: benches/live.sh [release|debug] [latency] [cpu] [capacity]
set -euo pipefail
PROFILE="${1:-release}"
shift || true
cd "$(dirname "$0")/.."
if [ "$PROFILE" = release ]; then cargo build --release -q; BIN=target/release/kino; else cargo build -q; BIN=target/debug/kino; fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kino-live-bench.XXXXXX")"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

export KINO_KEY=123456789012345 KINO_SECRET=bench-secret KINO_CLOUD=bench
CLOUDINARY_URL="cloudinary://$KINO_KEY:$KINO_SECRET@$KINO_CLOUD" "$BIN" serve --listen 127.0.0.1:0 \
  --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/out" 2> "$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q "kino listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE="$(grep -o 'http://[0-9.:]*' "$WORK/out" | head -1)"
echo "kino ($PROFILE) at $BASE on $(nproc) cores"
python3 benches/live.py "$BASE" "$PID" "$WORK" "$@"
