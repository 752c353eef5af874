#!/usr/bin/env bash
# What running transformations in `kino worker` processes costs: the same uncached transforms
# over HTTP from a server with isolation on (the default) and one with it off, alternating, in
# one run. Prints time to first byte and total time of each, and the ratio of the totals.
# Usage: benches/isolation_cost.sh [runs] [release|debug]
set -euo pipefail
RUNS="${1:-3}"
PROFILE="${2:-release}"
cd "$(dirname "$0")/.."
if [ "$PROFILE" = release ]; then cargo build --release -q; BIN=target/release/kino; else cargo build -q; BIN=target/debug/kino; fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kino-isolation.XXXXXX")"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
KEY=123456789012345 SECRET=bench-secret

ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine -t 10 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$WORK/clip.mp4"
ffmpeg -v error -y -f lavfi -i testsrc2=size=2048x1536 -frames:v 1 -q:v 3 "$WORK/photo.jpg"

start() { # name, isolation on/off -> base URL
  mkdir -p "$WORK/$1"
  KINO_ISOLATION__ENABLED="$2" CLOUDINARY_URL="cloudinary://$KEY:$SECRET@bench" \
    "$BIN" serve --listen 127.0.0.1:0 --rtmp-listen '' --srt-listen '' --data-dir "$WORK/$1/data" \
    > "$WORK/$1/out" 2> "$WORK/$1/err" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "kino listening on" "$WORK/$1/out" 2>/dev/null && break; sleep 0.1; done
  grep -o 'http://[0-9.:]*' "$WORK/$1/out" | head -1
}
upload() { # base, file, public id, resource type
  local ts sig; ts="$(date +%s)"
  sig="$(printf 'public_id=%s&timestamp=%s%s' "$3" "$ts" "$SECRET" | sha1sum | cut -d' ' -f1)"
  curl -sS -o /dev/null -F "file=@$2" -F "public_id=$3" -F "timestamp=$ts" -F "api_key=$KEY" \
    -F "signature=$sig" "$1/v1_1/bench/$4/upload"
}

ON="$(start on true)"; OFF="$(start off false)"
for base in "$ON" "$OFF"; do upload "$base" "$WORK/clip.mp4" clip video; upload "$base" "$WORK/photo.jpg" photo image; done

declare -A TOTAL=([on]=0 [off]=0) FIRST=([on]=0 [off]=0)
n=0
for run in $(seq "$RUNS"); do
  # Each run asks for new outputs (another fps or quality), so nothing comes from the cache.
  for path in "video/upload/c_scale,w_640,fps_$((20 + run))/clip.mp4" \
              "video/upload/c_fill,w_320,h_320,q_$((60 + run))/clip.jpg" \
              "image/upload/c_thumb,w_256,h_256,q_$((70 + run))/photo.jpg"; do
    for mode in on off; do
      base="$ON"; [ "$mode" = off ] && base="$OFF"
      read -r first total < <(curl -sS -o /dev/null -w '%{time_starttransfer} %{time_total}\n' "$base/bench/$path")
      FIRST[$mode]="$(echo "${FIRST[$mode]} + $first" | bc -l)"
      TOTAL[$mode]="$(echo "${TOTAL[$mode]} + $total" | bc -l)"
    done
    n=$((n + 1))
  done
done
printf 'isolation on : first byte %.3fs, total %.3fs (mean of %d uncached transforms)\n' \
  "$(echo "${FIRST[on]} / $n" | bc -l)" "$(echo "${TOTAL[on]} / $n" | bc -l)" "$n"
printf 'isolation off: first byte %.3fs, total %.3fs\n' \
  "$(echo "${FIRST[off]} / $n" | bc -l)" "$(echo "${TOTAL[off]} / $n" | bc -l)"
printf 'ratio on/off (total): %.3f\n' "$(echo "${TOTAL[on]} / ${TOTAL[off]}" | bc -l)"
