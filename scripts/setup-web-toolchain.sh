#!/usr/bin/env bash
# Make sure the tools that build the Callbroker SPA (web/) are present. Idempotent and
# non-interactive: a second run finds everything in place and returns within a second.
#
#   scripts/setup-web-toolchain.sh          set up, then print a short summary
#   scripts/setup-web-toolchain.sh --env    set up, then print `export NAME=value` lines on
#                                           stdout (used by scripts/build-web.sh); logs go to stderr
#
# Two routes to a wasm32-unknown-unknown standard library:
#   rustup  - the active toolchain already has the target (`rustup target add wasm32-unknown-unknown`
#             on a developer machine): plain `cargo`, prebuilt std.
#   debian  - otherwise: Debian's rustc-web, cargo-web, rust-web-src and lld-22 packages (Rust 1.9x in
#             bookworm-security, /usr/bin/{rustc,cargo,rust-lld}; since 1.96.0+dfsg1-1~deb12u2 the
#             rust-lld link comes with rust-web-llvm, installed when the archive has it); std is compiled from the shipped
#             sources with cargo's -Zbuild-std, which RUSTC_BOOTSTRAP=1 unlocks on that stable compiler.
#
# Then wasm-bindgen-cli at exactly the wasm-bindgen version recorded in the root Cargo.lock (the
# CLI refuses modules made by any other version). It is installed into a per-user cache keyed by
# version, so fresh clones (CI) on the same machine reuse it: $CALLBROKER_TOOLS_DIR, by default
# ${XDG_CACHE_HOME:-~/.cache}/callbroker/tools/wasm-bindgen-<version>/bin/wasm-bindgen.
#
# Settings (environment):
#   CALLBROKER_WEB_TOOLCHAIN = auto (default) | rustup | debian   force a route
#   CALLBROKER_TOOLS_DIR     = where tool versions are cached (see above)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=wasm32-unknown-unknown
DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld-22)
ROUTE="${CALLBROKER_WEB_TOOLCHAIN:-auto}"
TOOLS_DIR="${CALLBROKER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/callbroker/tools}"

EMIT_ENV=0
case "${1:-}" in
  --env) EMIT_ENV=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup-web-toolchain: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

log() { echo "setup-web-toolchain: $*" >&2; }
# shellcheck source=scripts/steps.sh
. "$ROOT/scripts/steps.sh"
die() { echo "setup-web-toolchain: ERROR: $*" >&2; exit 1; }

cd "$ROOT"

# ---------------------------------------------------------------------------------------------
# 1. A compiler that can produce wasm32-unknown-unknown.
# ---------------------------------------------------------------------------------------------
rustup_has_target() {
  command -v rustup >/dev/null 2>&1 && command -v cargo >/dev/null 2>&1 &&
    rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}

# A non-rustup Rust whose sysroot carries a prebuilt wasm32 std counts as the normal route too.
sysroot_has_target() {
  command -v rustc >/dev/null 2>&1 && command -v cargo >/dev/null 2>&1 || return 1
  local sysroot
  sysroot="$(rustc --print sysroot 2>/dev/null)" || return 1
  compgen -G "$sysroot/lib/rustlib/$TARGET/lib/libstd-*.rlib" >/dev/null
}

debian_ready() {
  local p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || return 1
  done
  [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && [ -e /usr/bin/rust-lld ] &&
    [ -d /usr/lib/rustlib/src/rust/library ] &&
    /usr/bin/rustc --print target-list | grep -qx "$TARGET"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root to run '$*' (run this script as root, or give this user password-less sudo;
       alternatively install the rustup target: rustup target add $TARGET)"
  fi
}

install_debian_toolchain() {
  command -v apt-get >/dev/null 2>&1 ||
    die "no rustup $TARGET target and no apt-get: run 'rustup target add $TARGET'"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when they do not know the packages yet (fresh machine).
  if ! apt-cache show "${DEBIAN_PACKAGES[@]}" >/dev/null 2>&1; then
    log "apt-get update (package lists do not know ${DEBIAN_PACKAGES[*]} yet)"
    as_root apt-get update -q >&2 || die "apt-get update failed"
  fi
  local packages=("${DEBIAN_PACKAGES[@]}")
  # Newer rustc-web builds moved /usr/bin/rust-lld into rust-web-llvm (a recommendation).
  if apt-cache show rust-web-llvm >/dev/null 2>&1; then
    packages+=(rust-web-llvm)
  fi
  log "apt-get install ${packages[*]}"
  if ! as_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2; then
    log "install failed; refreshing package lists and retrying once"
    as_root apt-get update -q >&2 || die "apt-get update failed"
    as_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2 ||
      die "apt-get install ${packages[*]} failed (these come from bookworm-security)"
  fi
  debian_ready || die "Debian packages installed but /usr/bin/rustc cannot target $TARGET (or /usr/bin/rust-lld is missing)"
}

if [ "$ROUTE" = auto ]; then
  if rustup_has_target || sysroot_has_target; then ROUTE=rustup; else ROUTE=debian; fi
fi

case "$ROUTE" in
  rustup)
    rustup_has_target || sysroot_has_target ||
      die "CALLBROKER_WEB_TOOLCHAIN=rustup but the active toolchain has no $TARGET std
       (rustup target add $TARGET)"
    WEB_CARGO="$(command -v cargo)"
    WEB_RUSTC=""        # whatever rustup / PATH picks
    WEB_BUILD_STD=0
    ;;
  debian)
    debian_ready || install_debian_toolchain
    WEB_CARGO=/usr/bin/cargo
    WEB_RUSTC=/usr/bin/rustc
    WEB_BUILD_STD=1
    ;;
  *) die "CALLBROKER_WEB_TOOLCHAIN must be auto, rustup or debian (got '$ROUTE')" ;;
esac

# Runs the chosen cargo with the environment its route needs.
web_cargo() {
  if [ "$WEB_BUILD_STD" = 1 ]; then
    RUSTC_BOOTSTRAP=1 RUSTC="$WEB_RUSTC" RUSTDOC=/usr/bin/rustdoc "$WEB_CARGO" "$@"
  else
    "$WEB_CARGO" "$@"
  fi
}

if [ -n "$WEB_RUSTC" ]; then RUSTC_VERSION="$("$WEB_RUSTC" -V)"; else RUSTC_VERSION="$(rustc -V)"; fi

# ---------------------------------------------------------------------------------------------
# 2. wasm-bindgen-cli, the version in Cargo.lock.
# ---------------------------------------------------------------------------------------------
lock_wasm_bindgen_versions() {
  [ -f Cargo.lock ] || return 0
  awk '/^\[\[package\]\]/ { name = "" }
       /^name = / { name = $3 }
       /^version = / && name == "\"wasm-bindgen\"" { gsub(/"/, "", $3); print $3 }' Cargo.lock |
    sort -u
}

WB_VERSIONS="$(lock_wasm_bindgen_versions)"
if [ -z "$WB_VERSIONS" ]; then
  # No lock file yet, or one written before web/ depended on wasm-bindgen: let cargo resolve it.
  log "Cargo.lock has no wasm-bindgen entry yet; resolving the workspace (cargo metadata)"
  web_cargo metadata --format-version 1 >/dev/null || die "cargo could not resolve the workspace"
  WB_VERSIONS="$(lock_wasm_bindgen_versions)"
fi
[ -n "$WB_VERSIONS" ] || die "Cargo.lock still lists no wasm-bindgen (does web/Cargo.toml depend on it?)"
[ "$(printf '%s\n' "$WB_VERSIONS" | wc -l)" -eq 1 ] ||
  die "Cargo.lock lists several wasm-bindgen versions ($(tr "\n" " " <<<"$WB_VERSIONS"| sed "s/ *$//")); keep exactly one"
WB_VERSION="$WB_VERSIONS"

wb_version_of() { "$1" --version 2>/dev/null | awk '{ print $2 }'; }

WB_ROOT="$TOOLS_DIR/wasm-bindgen-$WB_VERSION"
WASM_BINDGEN=""
if [ -x "$WB_ROOT/bin/wasm-bindgen" ] && [ "$(wb_version_of "$WB_ROOT/bin/wasm-bindgen")" = "$WB_VERSION" ]; then
  WASM_BINDGEN="$WB_ROOT/bin/wasm-bindgen"
elif command -v wasm-bindgen >/dev/null 2>&1 &&
     [ "$(wb_version_of "$(command -v wasm-bindgen)")" = "$WB_VERSION" ]; then
  WASM_BINDGEN="$(command -v wasm-bindgen)"
fi
if [ -n "$WASM_BINDGEN" ]; then
  step_skip tools "wasm-bindgen-cli $WB_VERSION" "installed ($WASM_BINDGEN)"
else
  # Host tool: any working cargo will do; prefer the one on PATH, else the Debian one.
  if command -v cargo >/dev/null 2>&1 && cargo -V >/dev/null 2>&1; then
    install_cargo=(cargo)
  else
    install_cargo=(env RUSTC="$WEB_RUSTC" "$WEB_CARGO")
  fi
  step_begin tools "wasm-bindgen-cli $WB_VERSION into $WB_ROOT (once per machine)" "alone usually 4-6 min on 2 cores"
  mkdir -p "$TOOLS_DIR"
  # Only the `wasm-bindgen` binary, without default features: they are the TLS stack (rustls, ring)
  # that the test runner downloads with, which the binding step never uses.
  install_args=(install wasm-bindgen-cli --version "=$WB_VERSION" --root "$WB_ROOT" --bin wasm-bindgen --no-default-features)
  # --locked first (the dependency versions its authors tested); a registry that lacks one of
  # them (a mirror behind crates.io) fails to resolve, so then let cargo pick what is there.
  if ! nice -n "${BUILD_WEB_NICE:-10}" "${install_cargo[@]}" "${install_args[@]}" --locked >&2; then
    log "install with --locked failed; retrying with freshly resolved dependencies"
    nice -n "${BUILD_WEB_NICE:-10}" "${install_cargo[@]}" "${install_args[@]}" >&2 ||
      die "cargo install wasm-bindgen-cli --version =$WB_VERSION failed"
  fi
  step_end tools
  WASM_BINDGEN="$WB_ROOT/bin/wasm-bindgen"
  [ "$(wb_version_of "$WASM_BINDGEN")" = "$WB_VERSION" ] ||
    die "$WASM_BINDGEN does not report version $WB_VERSION"
fi

# ---------------------------------------------------------------------------------------------
# 3. brotli, for the compressed copies of the wasm and JS that the server sends to browsers
#    (Debian package `brotli`). Without it (and without root to install it) the build makes
#    gzip copies only.
# ---------------------------------------------------------------------------------------------
BROTLI="$(command -v brotli || true)"
if [ -z "$BROTLI" ] && command -v apt-get >/dev/null 2>&1 &&
   { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show brotli >/dev/null 2>&1 || as_root apt-get update -q >&2 || true
  log "apt-get install brotli"
  as_root apt-get install -y -qq --no-install-recommends brotli >&2 || log "could not install brotli; gzip copies only"
  BROTLI="$(command -v brotli || true)"
fi

# ---------------------------------------------------------------------------------------------
# 4. Report.
# ---------------------------------------------------------------------------------------------
if [ "$EMIT_ENV" = 1 ]; then
  printf 'export CB_WEB_ROUTE=%q\n' "$ROUTE"
  printf 'export CB_WEB_CARGO=%q\n' "$WEB_CARGO"
  printf 'export CB_WEB_RUSTC=%q\n' "$WEB_RUSTC"
  printf 'export CB_WEB_BUILD_STD=%q\n' "$WEB_BUILD_STD"
  printf 'export CB_WEB_RUSTC_VERSION=%q\n' "$RUSTC_VERSION"
  printf 'export CB_WASM_BINDGEN=%q\n' "$WASM_BINDGEN"
  printf 'export CB_WASM_BINDGEN_VERSION=%q\n' "$WB_VERSION"
  printf 'export CB_BROTLI=%q\n' "$BROTLI"
else
  echo "route:        $ROUTE ($RUSTC_VERSION via $WEB_CARGO$([ "$WEB_BUILD_STD" = 1 ] && echo ', -Zbuild-std'))"
  echo "wasm-bindgen: $WASM_BINDGEN ($WB_VERSION)"
  echo "brotli:       ${BROTLI:-none (gzip copies only)}"
fi
