#!/usr/bin/env bash
# The server's build for `make run`: `cargo build --bin callbroker`, the dev profile that `make test`
# builds too (the same dependencies with the same features), so either command reuses the other's
# build. It runs beside the dashboard's build, so its output goes to target/build-server.log; the
# log's end is printed when it fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/steps.sh
. "$ROOT/scripts/steps.sh"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LOG="$TARGET_DIR/build-server.log"
mkdir -p "$TARGET_DIR"

if [ -x "$TARGET_DIR/debug/callbroker" ]; then
  usual="usually 1-3 min after a change to the server"
else
  usual="a first build alone usually 25-38 min on 2 cores"
fi
step_begin server "the server (cargo build --bin callbroker; output in ${LOG#"$ROOT"/})" "$usual"
if ! "${CARGO:-cargo}" build --bin callbroker >"$LOG" 2>&1; then
  tail -n 30 "$LOG" >&2
  echo "==> $(step_number server)the server's build FAILED; its whole output: $LOG" >&2
  exit 1
fi
step_end server
