#!/usr/bin/env bash
# Runs every test with one build profile (dev, dependencies optimised). Default workspace
# members only: the wasm dashboard (web/) is built by scripts/build-web.sh, never for the host.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=1
scripts/twilio-mock.sh
cargo test --no-fail-fast
