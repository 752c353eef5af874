#!/usr/bin/env bash
# Installs the system packages Kino needs to build and test (and the browser tests' npm
# package), only when something is missing. Idempotent: a second run checks and returns in
# well under a second.
#
#   scripts/setup.sh        what `make run` needs
#   scripts/setup.sh test   and what `make test` needs: PostgreSQL (Debian's) and s3s-fs (an
#                           S3-protocol server from crates.io) for the scale-out tests
set -euo pipefail
FOR_TESTS="${1:-}"

PACKAGES=(
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavfilter-dev libavdevice-dev libavutil-dev
  libswscale-dev libswresample-dev ffmpeg fonts-dejavu-core opencv-data
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  chromium
)
if [ "$FOR_TESTS" = "test" ]; then
  PACKAGES+=(postgresql)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js runs the browser tests (playwright-core drives Debian's Chromium).
if ! command -v npm > /dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages of the Node suites, from their lock files: playwright-core for
# tests/browser (no browser download: it uses /usr/bin/chromium), the official Node SDK for
# tests/node. Only when missing or a lock file changed.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for suite in tests/browser tests/node; do
  DIR="$HERE/$suite"
  STAMP="$DIR/node_modules/.kino-lock.sha256"
  WANT="$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    echo "setup: installing $suite/package-lock.json"
    (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$WANT" > "$STAMP"
  fi
done

# The S3-protocol server the scale-out tests run (0.14.1: the newest that builds on rustc 1.95).
if [ "$FOR_TESTS" = "test" ]; then
  TOOLS="$HOME/.local/kino-tools"
  if [ ! -x "$TOOLS/bin/s3s-fs" ]; then
    echo "setup: building s3s-fs 0.14.1 into $TOOLS (about 3 minutes, once)"
    cargo install s3s-fs@0.14.1 --features binary --locked --root "$TOOLS" --quiet
  fi
fi
