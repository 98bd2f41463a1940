#!/usr/bin/env bash
# Browser tests of the dashboard: installs what is missing (Debian's Chromium, node + npm, the
# npm packages of tests/browser from its lock file), builds the SPA (scripts/build-web.sh) and the
# server (as `cargo test` does), then runs tests/browser/run.mjs: the real server on a free port
# with a temporary SQLite database, driven by playwright-core in headless Chromium. Screenshots:
# artifacts/browser/.
#
#   scripts/test-browser.sh            everything
#   SKIP_BROWSER_TESTS=1 scripts/test.sh   leaves them out of the full test run
#
# Environment: CHROMIUM (default /usr/bin/chromium), CARGO (default cargo).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "test-browser: $*" >&2; }

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    log "ERROR: $* missing and no root/sudo to install it (apt-get install -y $*)"; exit 1
  fi
  local SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

[ -x "$CHROMIUM" ] || { log "installing Debian's chromium"; apt_install chromium; }
command -v node >/dev/null && command -v npm >/dev/null || { log "installing node and npm"; apt_install nodejs npm; }

# npm packages exactly as locked; reinstalled only when the lock file changed.
LOCK_STAMP=tests/browser/node_modules/.package-lock.sha256
want="$(sha256sum tests/browser/package-lock.json | awk '{print $1}')"
if [ ! -f "$LOCK_STAMP" ] || [ "$(cat "$LOCK_STAMP")" != "$want" ]; then
  log "installing tests/browser npm packages (npm ci)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" >"$LOCK_STAMP"
fi

log "building the dashboard"
scripts/build-web.sh
# The server as `cargo test` builds it (`callbroker-server`, the same `main` built in the tests
# package): after scripts/test.sh this is already built. `cargo build --bin callbroker` resolves
# the dependencies' features for the api package alone, which rebuilt a score of crates and the
# server (about 3 minutes of every CI run).
log "building the server"
"${CARGO:-cargo}" test --no-run
CALLBROKER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/callbroker-server" CHROMIUM="$CHROMIUM" node tests/browser/run.mjs
