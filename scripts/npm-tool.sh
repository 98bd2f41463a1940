#!/usr/bin/env bash
# Installs the npm packages of a test folder from its package-lock.json (npm ci), unless the
# named binary is there and newer than the lock file. Fast when already installed.
#   scripts/npm-tool.sh <folder under the repository> <binary in node_modules/.bin> <what it is for>
set -euo pipefail
dir="$1" bin="$2" purpose="$3"
cd "$(dirname "$0")/../$dir"
if [ -x "node_modules/.bin/$bin" ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "npm is needed for $purpose: install Node.js 20.19+ and npm" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
