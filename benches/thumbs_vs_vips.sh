#!/usr/bin/env bash
# Thumbnail speed: 512 px thumbnails of a 2K photo made by Kino's engine (`kino worker --repeat`,
# one process, the plan a delivery URL `w_512` makes) and by `vipsthumbnail` (libvips, one
# process, the same number of files), alternating, in one run; prints thumbnails per second
# and the ratio Kino/vips (above 1.0: Kino is faster). Sources: JPEG (baseline, from a real
# photo of the shared corpus), PNG and WebP made from it.
# Usage: benches/thumbs_vs_vips.sh [thumbnails] [runs]
set -euo pipefail
N="${1:-40}"
RUNS="${2:-3}"
cd "$(dirname "$0")/.."
command -v vipsthumbnail > /dev/null || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends libvips-tools > /dev/null
}
cargo build --release -q
BIN=target/release/kino
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kino-thumbs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
SRC=../shared/media/photo-4640x3472-phone-exif.jpg
ffmpeg -v error -y -i "$SRC" -vf scale=2048:-2 -q:v 2 "$WORK/photo.jpg"
ffmpeg -v error -y -i "$WORK/photo.jpg" "$WORK/photo.png"
ffmpeg -v error -y -i "$WORK/photo.jpg" -quality 90 "$WORK/photo.webp"

seconds() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

compare() {
  local ext="$1" k=0 v=0 t
  "$BIN" plan --input "$WORK/photo.$ext" --transformation w_512 --format jpg > "$WORK/plan.json" 2> /dev/null
  local files=()
  for i in $(seq "$N"); do ln -sf "$WORK/photo.$ext" "$WORK/in$i.$ext"; files+=("$WORK/in$i.$ext"); done
  for _ in $(seq "$RUNS"); do
    t=$(seconds "$BIN" worker --plan "$WORK/plan.json" --output "$WORK/kino.jpg" --repeat "$N"); k=$(echo "$k + $t" | bc -l)
    t=$(seconds vipsthumbnail -s 512 -o "$WORK/%s_vips.jpg" "${files[@]}"); v=$(echo "$v + $t" | bc -l)
  done
  printf '%-5s 2048 px -> 512 px   kino %6.1f/s   vips %6.1f/s   ratio %.2f\n' "$ext" \
    "$(echo "$N * $RUNS / $k" | bc -l)" "$(echo "$N * $RUNS / $v" | bc -l)" "$(echo "$v / $k" | bc -l)"
}

echo "== thumbnails per second ($N per process, $RUNS runs, $(nproc) cores)"
compare jpg
compare png
compare webp
