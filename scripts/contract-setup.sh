#!/usr/bin/env bash
# Installs Redocly's linter (the contract tests lint openapi.yaml with it) into
# tests/contract/node_modules from its package-lock.json. Fast when already installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/contract"
if [ -x node_modules/.bin/redocly ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "npm is needed for the contract tests (@redocly/cli): install Node.js 20.19+ and npm" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
