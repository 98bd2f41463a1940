#!/usr/bin/env bash
# Installs Prism (the contract-checking Twilio stand-in of the integration tests) into
# tests/twilio-mock/node_modules from its package-lock.json. Fast when already installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/twilio-mock"
if [ -x node_modules/.bin/prism ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    echo "npm is needed for the Twilio mock (Prism): install Node.js 18+ and npm" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
