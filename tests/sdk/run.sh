#!/usr/bin/env bash
# Runs the Cloudinary-SDK compatibility suite against a built Kino binary.
#   KINO_BIN       server binary       (default: <repo>/target/debug/kino)
#   KINO_SDK_VENV  Python venv to use  (default: <repo>/target/sdk-venv)
# Extra arguments go to pytest, e.g. `tests/sdk/run.sh -k upload -x`. Exit code = pytest's.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${KINO_SDK_VENV:-$REPO/target/sdk-venv}"
KINO_BIN="${KINO_BIN:-$REPO/target/debug/kino}"

# Resolve a relative KINO_BIN against the caller's directory before we cd.
case "$KINO_BIN" in /*) ;; *) KINO_BIN="$PWD/$KINO_BIN" ;; esac
if [ ! -f "$KINO_BIN" ] || [ ! -x "$KINO_BIN" ]; then
  echo "run.sh: Kino server binary not found (or not executable): $KINO_BIN" >&2
  echo "run.sh: build it first (cargo build) or point KINO_BIN at it." >&2
  exit 2
fi
export KINO_BIN

if [ ! -x "$VENV/bin/python" ]; then
  echo "run.sh: creating venv $VENV" >&2
  python3 -m venv "$VENV"
fi

# Reinstall only when requirements.txt changed (hash stamp kept inside the venv).
STAMP="$VENV/.kino-sdk-requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  echo "run.sh: installing $HERE/requirements.txt" >&2
  "$VENV/bin/python" -m pip install -q -r "$HERE/requirements.txt"
  echo "$WANT" > "$STAMP"
fi

cd "$REPO"
# No .pytest_cache in the source tree; no .pyc files either.
export PYTHONDONTWRITEBYTECODE=1
set +e
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/sdk "$@"
exit $?
