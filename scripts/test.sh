#!/usr/bin/env bash
# Runs every test with one build profile (dev, dependencies optimised). Default workspace
# members only: the wasm dashboard (web/) is built by scripts/build-web.sh, never for the host.
# Then the browser tests of the dashboard (scripts/test-browser.sh; SKIP_BROWSER_TESTS=1 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=1
scripts/twilio-mock.sh
cargo test --no-fail-fast
if [ "${SKIP_BROWSER_TESTS:-0}" != 1 ]; then
  scripts/test-browser.sh
fi
