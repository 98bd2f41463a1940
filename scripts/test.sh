#!/usr/bin/env bash
# Runs every test with one build profile (dev, dependencies optimised). Default workspace
# members only: the wasm dashboard (web/) is built by scripts/build-web.sh, never for the host.
# The reliability tests (schemathesis, kill -9, database restart, scale-out, secrets) write their
# counters to target/reliability/results.jsonl; their table is printed after the tests.
# Then the browser tests of the dashboard (scripts/test-browser.sh; SKIP_BROWSER_TESTS=1 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=1
scripts/twilio-mock.sh
scripts/fuzz-setup.sh
scripts/contract-setup.sh
rm -f "${CARGO_TARGET_DIR:-target}/reliability/results.jsonl"
status=0
# Formatting first: rustfmt.toml sets the width; a diff fails the run.
cargo fmt --all --check || status=$?
# Lints (`make lint`): clippy's defaults and pedantic group, [workspace.lints] in Cargo.toml; any
# warning fails the run. A check build of the dependencies: a few minutes on a fresh machine.
cargo clippy --all-targets -- -D warnings || status=$?
cargo test --no-fail-fast || status=$?
# Built by `cargo test` (a binary of the tests package), so no second build with other features.
"${CARGO_TARGET_DIR:-target}/debug/reliability-summary" || status=$?
if [ "$status" != 0 ]; then
  exit "$status"
fi
if [ "${SKIP_BROWSER_TESTS:-0}" != 1 ]; then
  scripts/test-browser.sh
fi
