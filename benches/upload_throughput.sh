#!/usr/bin/env bash
# Upload throughput: a 200 MB file through Kino's Upload API (multipart, signed, streamed to
# disk, hashed, fsynced, renamed) against a plain `cp` + `sync` of the same file on the same
# disk. Prints MB/s for both and the ratio. Usage: benches/upload_throughput.sh [MB] [release|debug]
set -euo pipefail
MB="${1:-200}"
PROFILE="${2:-release}"
cd "$(dirname "$0")/.."
if [ "$PROFILE" = release ]; then cargo build --release -q; BIN=target/release/kino; else cargo build -q; BIN=target/debug/kino; fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kino-bench.XXXXXX")"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
head -c "$((MB * 1024 * 1024))" /dev/urandom > "$WORK/big.bin"

KEY=123456789012345 SECRET=bench-secret
CLOUDINARY_URL="cloudinary://$KEY:$SECRET@bench" "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/out" 2> "$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q "kino listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE="$(grep -o 'http://[0-9.:]*' "$WORK/out" | head -1)"

TS="$(date +%s)"
SIG="$(printf 'public_id=big&timestamp=%s%s' "$TS" "$SECRET" | sha1sum | cut -d' ' -f1)"
sync
START="$(date +%s.%N)"
curl -sS -o "$WORK/resp.json" -F "file=@$WORK/big.bin" -F public_id=big -F "timestamp=$TS" \
  -F "api_key=$KEY" -F "signature=$SIG" "$BASE/v1_1/bench/raw/upload"
END="$(date +%s.%N)"
grep -q '"bytes":'"$((MB * 1024 * 1024))" "$WORK/resp.json" || { cat "$WORK/resp.json"; exit 1; }

sync
CSTART="$(date +%s.%N)"
cp "$WORK/big.bin" "$WORK/copy.bin" && sync -f "$WORK/copy.bin"
CEND="$(date +%s.%N)"

python3 - "$MB" "$START" "$END" "$CSTART" "$CEND" <<'PY'
import sys
mb, s, e, cs, ce = float(sys.argv[1]), *map(float, sys.argv[2:])
up, cp = mb / (e - s), mb / (ce - cs)
print(f"upload: {mb:.0f} MB in {e - s:.2f} s = {up:.0f} MB/s")
print(f"cp+sync: {mb:.0f} MB in {ce - cs:.2f} s = {cp:.0f} MB/s")
print(f"ratio upload/cp: {up / cp:.2f}")
PY
