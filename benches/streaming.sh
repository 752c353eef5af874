#!/usr/bin/env bash
# Adaptive streaming speed, in one run:
#  1. Just in time: a never-seen 1-hour 1080p video; the time from asking for its HLS
#     multivariant playlist to the last byte of the first segment (what a player fetches
#     before it can start: master, media playlists, init and first segment of video and
#     audio), and the same for a seek to the middle.
#  2. A whole hd ladder made in one decode pass (eager `sp_hd/m3u8` through `explicit`)
#     against one `ffmpeg` CLI run per rendition and one for the audio, with the same
#     filter graphs and encoder settings (`kino plan --segments 4 --ffmpeg`); prints the ratio.
# Usage: benches/streaming.sh [release|debug]
set -euo pipefail
PROFILE="${1:-release}"
cd "$(dirname "$0")/.."
if [ "$PROFILE" = release ]; then cargo build --release -q; BIN=target/release/kino; else cargo build -q; BIN=target/debug/kino; fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kino-stream-bench.XXXXXX")"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

echo "== sources"
# Two minutes of 1080p30 with sound, encoded as cameras and editors do (CABAC, B-frames),
# repeated to an hour without re-encoding.
ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t 120 -c:v libx264 -preset veryfast -crf 26 -g 60 -pix_fmt yuv420p -c:a aac -ac 2 "$WORK/piece.mp4"
for _ in $(seq 30); do echo "file '$WORK/piece.mp4'"; done > "$WORK/list.txt"
ffmpeg -v error -y -f concat -safe 0 -i "$WORK/list.txt" -c copy -movflags +faststart "$WORK/hour.mp4"
ffmpeg -v error -y -i "$WORK/piece.mp4" -t 60 -c copy "$WORK/minute.mp4"
ls -l "$WORK/hour.mp4" "$WORK/minute.mp4" | awk '{print $5, $9}'

KEY=123456789012345 SECRET=bench-secret
CLOUDINARY_URL="cloudinary://$KEY:$SECRET@bench" "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/out" 2> "$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q "kino listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE="$(grep -o 'http://[0-9.:]*' "$WORK/out" | head -1)"

# signed_post PATH key=value… : a signed Upload API call (fields sorted, SHA-1).
signed_post() {
  local path="$1"; shift
  local ts; ts="$(date +%s)"
  local fields=("$@" "timestamp=$ts") form=() signed=()
  for kv in "${fields[@]}"; do
    case "$kv" in file=*) form+=(-F "file=@${kv#file=}") ;; *) form+=(-F "$kv"); signed+=("$kv") ;; esac
  done
  local sig; sig="$(printf '%s\n' "${signed[@]}" | sort | paste -sd'&' | tr -d '\n'; printf '%s' "$SECRET")"
  sig="$(printf '%s' "$sig" | sha1sum | cut -d' ' -f1)"
  curl -sS -o "$WORK/last.json" -w '%{http_code}' "${form[@]}" -F "api_key=$KEY" -F "signature=$sig" "$BASE/v1_1/bench/video/$path"
}

echo "== just in time: a never-seen 1-hour 1080p source"
[ "$(signed_post upload file="$WORK/hour.mp4" public_id=hour)" = 200 ] || { cat "$WORK/last.json"; exit 1; }
S="$BASE/bench/video/upload/sp_hd/hour"
start_playing() {
  local seg="$1" t0 t1
  t0=$(date +%s.%N)
  curl -sS -o /dev/null "$S.m3u8"
  curl -sS -o /dev/null "$S.m3u8?r=0"
  curl -sS -o /dev/null "$S.m3u8?r=a"
  # A player fetches the video and audio of the first segment at once.
  curl -sS -o /dev/null "$S.mp4?r=0&init=1" & local a=$!
  curl -sS -o /dev/null "$S.mp4?r=a&init=1" & local b=$!
  wait $a $b
  curl -sS -o "$WORK/seg.m4s" "$S.mp4?r=0&s=$seg" & a=$!
  curl -sS -o /dev/null "$S.mp4?r=a&s=$seg" & b=$!
  wait $a $b
  t1=$(date +%s.%N)
  printf '%-34s %.2f s  (video segment: %s bytes)\n' "$2" "$(echo "$t1 - $t0" | bc -l)" "$(stat -c %s "$WORK/seg.m4s")"
}
start_playing 0 "master → first segment (start):"
sleep 1
t0=$(date +%s.%N); curl -sS -o /dev/null "$S.mp4?r=0&s=1"; t1=$(date +%s.%N)
printf '%-34s %.3f s\n' "the next segment (made ahead):" "$(echo "$t1 - $t0" | bc -l)"
# Right after starting, the start's read-ahead (three more segments per track) still runs.
start_playing 450 "seek to 30:00 during read-ahead:"
sleep 10
start_playing 675 "seek to 45:00, server idle:"

echo "== a whole hd ladder in one decode pass vs one ffmpeg CLI run per track (60 s 1080p)"
[ "$(signed_post upload file="$WORK/minute.mp4" public_id=minute)" = 200 ] || { cat "$WORK/last.json"; exit 1; }
t0=$(date +%s.%N)
code="$(signed_post explicit public_id=minute type=upload 'eager=sp_hd/m3u8')"
t1=$(date +%s.%N)
[ "$code" = 200 ] || { cat "$WORK/last.json"; exit 1; }
kino_s=$(echo "$t1 - $t0" | bc -l)
cli_s=0
mapfile -t RUNGS < <(python3 -c 'import json; print("\n".join(json.load(open("profiles/hd.json"))["representations"]))')
k=0
for rung in "${RUNGS[@]}" ""; do
  if [ -n "$rung" ]; then tx="so_0/$rung/ac_none"; ext=mp4; else tx="so_0"; ext=m4a; fi
  mapfile -t ARGS < <("$BIN" plan --input "$WORK/minute.mp4" --transformation "$tx" --format "$ext" --segments 4 --ffmpeg "$WORK/cli$k.$ext")
  t0=$(date +%s.%N); ffmpeg "${ARGS[@]}"; t1=$(date +%s.%N)
  cli_s=$(echo "$cli_s + $t1 - $t0" | bc -l)
  k=$((k + 1))
done
printf 'kino (one pass, %d tracks, stored as segments): %.2f s\nffmpeg CLI (one run per track):                %.2f s\nratio kino/ffmpeg: %.3f\n' \
  "$k" "$kino_s" "$cli_s" "$(echo "$kino_s / $cli_s" | bc -l)"
