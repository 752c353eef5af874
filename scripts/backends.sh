#!/usr/bin/env bash
# Runs a command with the scale-out backends up: a throwaway PostgreSQL (Debian's) and, when
# installed, an S3-protocol server (s3s-fs), both on free local ports, both stopped afterwards.
#
#   scripts/backends.sh cargo test --test api
#
# The command sees KINO_TEST_POSTGRES (a server URL; tests make one database each),
# KINO_TEST_S3 (an endpoint URL; tests make one bucket each), AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, and KINO_TEST_BACKENDS (this script, for tests that stop and start a
# backend: `scripts/backends.sh postgres-stop|postgres-start|s3-stop|s3-start`).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
S3S_FS="${S3S_FS:-$HOME/.local/kino-tools/bin/s3s-fs}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL refuses to run as root: its files belong to the `postgres` user then.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_start() {
  as_pg "$PG_BIN/pg_ctl" -D "$KINO_BACKENDS_DIR/pg" -l "$KINO_BACKENDS_DIR/pg.log" -w -t 30 \
    -o "-p $KINO_PG_PORT -k $KINO_BACKENDS_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
    start > /dev/null
}

postgres_stop() {
  as_pg "$PG_BIN/pg_ctl" -D "$KINO_BACKENDS_DIR/pg" -m fast -w stop > /dev/null
}

s3_start() {
  "$S3S_FS" --host 127.0.0.1 --port "$KINO_S3_PORT" --access-key kino --secret-key kino-secret \
    "$KINO_BACKENDS_DIR/s3" > "$KINO_BACKENDS_DIR/s3.log" 2>&1 &
  echo $! > "$KINO_BACKENDS_DIR/s3.pid"
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$KINO_S3_PORT") 2> /dev/null; then return 0; fi
    sleep 0.1
  done
  echo "backends: s3s-fs did not start" >&2; cat "$KINO_BACKENDS_DIR/s3.log" >&2; return 1
}

s3_stop() {
  if [ -f "$KINO_BACKENDS_DIR/s3.pid" ]; then
    kill "$(cat "$KINO_BACKENDS_DIR/s3.pid")" 2> /dev/null || true
    rm -f "$KINO_BACKENDS_DIR/s3.pid"
  fi
}

case "${1:-}" in
  postgres-stop) postgres_stop; exit 0 ;;
  postgres-start) postgres_start; exit 0 ;;
  s3-stop) s3_stop; exit 0 ;;
  s3-start) s3_start; exit 0 ;;
  "") echo "usage: scripts/backends.sh COMMAND [ARGS…]" >&2; exit 2 ;;
esac

if [ -z "$PG_BIN" ]; then
  echo "backends: PostgreSQL is not installed (make setup installs it)" >&2
  exit 1
fi
KINO_BACKENDS_DIR="$(mktemp -d /tmp/kino-backends.XXXXXX)"
chmod 755 "$KINO_BACKENDS_DIR"
KINO_PG_PORT="$(free_port)"
KINO_S3_PORT="$(free_port)"
export KINO_BACKENDS_DIR KINO_PG_PORT KINO_S3_PORT
cleanup() {
  s3_stop
  postgres_stop 2> /dev/null || true
  rm -rf "$KINO_BACKENDS_DIR"
}
trap cleanup EXIT

mkdir -p "$KINO_BACKENDS_DIR/pg" "$KINO_BACKENDS_DIR/s3"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$KINO_BACKENDS_DIR" "$KINO_BACKENDS_DIR/pg"; fi
as_pg "$PG_BIN/initdb" -D "$KINO_BACKENDS_DIR/pg" -A trust -U kino --no-sync > /dev/null
postgres_start
export KINO_TEST_POSTGRES="postgres://kino@127.0.0.1:$KINO_PG_PORT"

if [ -x "$S3S_FS" ]; then
  s3_start
  export KINO_TEST_S3="http://127.0.0.1:$KINO_S3_PORT"
  export AWS_ACCESS_KEY_ID=kino AWS_SECRET_ACCESS_KEY=kino-secret AWS_REGION=us-east-1
fi
export KINO_TEST_BACKENDS="$HERE/scripts/backends.sh"

"$@"
