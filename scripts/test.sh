#!/usr/bin/env bash
# Runs every test with one build profile (dev, dependencies optimised).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=1
cargo test --workspace --no-fail-fast
