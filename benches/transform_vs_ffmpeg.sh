#!/usr/bin/env bash
# Transform speed: the same plan (filter graph, encoder and muxer settings) run by Kino's engine
# (`kino worker`, in-process libav) and by the `ffmpeg` CLI (`kino plan --ffmpeg` prints the
# equivalent command), alternating, in one run; prints the wall-clock ratio Kino/ffmpeg.
# Then the time to first byte of an uncached transform of a 10-minute 1080p source over HTTP.
# Usage: benches/transform_vs_ffmpeg.sh [runs] [release|debug]
set -euo pipefail
RUNS="${1:-3}"
PROFILE="${2:-release}"
cd "$(dirname "$0")/.."
if [ "$PROFILE" = release ]; then cargo build --release -q; BIN=target/release/kino; else cargo build -q; BIN=target/debug/kino; fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kino-bench.XXXXXX")"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

echo "== sources"
ffmpeg -v error -y -f lavfi -i testsrc2=size=1080x1920:rate=30 -f lavfi -i sine -t 20 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$WORK/portrait20.mp4"
ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine -t 600 \
  -c:v libx264 -preset ultrafast -crf 30 -pix_fmt yuv420p -c:a aac "$WORK/long1080.mp4"

seconds() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

compare() {
  local tx="$1" ext="$2"
  "$BIN" plan --input "$WORK/portrait20.mp4" --transformation "$tx" --format "$ext" > "$WORK/plan.json"
  mapfile -t ARGS < <("$BIN" plan --input "$WORK/portrait20.mp4" --transformation "$tx" --format "$ext" --ffmpeg "$WORK/cli.$ext")
  local k=0 f=0 t
  for _ in $(seq "$RUNS"); do
    t=$(seconds "$BIN" worker --plan "$WORK/plan.json" --output "$WORK/kino.$ext"); k=$(echo "$k + $t" | bc -l)
    t=$(seconds ffmpeg "${ARGS[@]}"); f=$(echo "$f + $t" | bc -l)
  done
  printf '%-90s kino %6.2fs  ffmpeg %6.2fs  ratio %.3f\n' "$tx .$ext" \
    "$(echo "$k / $RUNS" | bc -l)" "$(echo "$f / $RUNS" | bc -l)" "$(echo "$k / $f" | bc -l)"
}

echo "== engine vs ffmpeg CLI (20 s 1080x1920 source, mean of $RUNS alternating runs)"
[ -n "${SKIP_COMPARE:-}" ] || {
compare "c_scale,h_320/b_blurred:400:15,c_pad,h_320,w_480/e_volume:mute/e_accelerate:100" mp4
compare "c_fill,w_640,h_360" webm
compare "so_5,du_10,w_720" mp4
}

echo "== time to first byte, uncached, 10-minute 1080p source over HTTP"
KEY=123456789012345 SECRET=bench-secret
CLOUDINARY_URL="cloudinary://$KEY:$SECRET@bench" "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/out" 2> "$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q "kino listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE="$(grep -o 'http://[0-9.:]*' "$WORK/out" | head -1)"
TS="$(date +%s)"
SIG="$(printf 'public_id=long&timestamp=%s%s' "$TS" "$SECRET" | sha1sum | cut -d' ' -f1)"
curl -sS -o /dev/null -F "file=@$WORK/long1080.mp4" -F public_id=long -F "timestamp=$TS" \
  -F "api_key=$KEY" -F "signature=$SIG" "$BASE/v1_1/bench/video/upload"
for tx in "c_scale,w_640" "c_fill,w_480,h_480/e_volume:-50" "so_300,du_5,w_1280" "c_fill,g_auto,w_480,h_480"; do
  # The client hangs up after 3 s, which also cancels the transform (a full one takes minutes).
  curl -sS -o "$WORK/part.mp4" --max-time 3 -w "$tx: HTTP %{http_code}, first byte after %{time_starttransfer}s, %{size_download} bytes in 3 s\n" \
    "$BASE/bench/video/upload/$tx/long.mp4" 2>/dev/null || true
done
