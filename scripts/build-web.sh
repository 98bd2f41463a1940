#!/usr/bin/env bash
# Build the Callbroker SPA (web/) into web/dist/, ready to be served as static files:
#   index.html, boot.js, style.css, callbroker_web.js (wasm-bindgen glue, --target web), callbroker_web_bg.wasm
#
#   scripts/build-web.sh            build if web/, wire/ or the build inputs changed since last time
#   scripts/build-web.sh --force    build even if nothing changed
#   scripts/build-web.sh -- ARGS    extra arguments for `cargo build` (e.g. -- --locked)
#
# The wasm is compiled in release mode into its own target directory (web/target) so it never
# invalidates the host build in target/. Release settings for the wasm are passed as
# CARGO_PROFILE_RELEASE_* variables so the server's release profile in the root Cargo.toml is
# left alone. Toolchain selection and installs: scripts/setup-web-toolchain.sh.
#
# Environment: BUILD_WEB_NICE (default 10) niceness of the compile steps; BUILD_WEB_KEEP_NAMES=1 keeps
# function names in the .wasm (readable panic stack traces, about 4x the size); CALLBROKER_WEB_TOOLCHAIN
# and CALLBROKER_TOOLS_DIR are passed on to the setup script.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGET=wasm32-unknown-unknown
CRATE_FILE=callbroker_web          # lib name of the callbroker-web package
TARGET_DIR="$ROOT/web/target"
DIST="$ROOT/web/dist"
STAMP="$TARGET_DIR/build-web.stamp"
NICE=(nice -n "${BUILD_WEB_NICE:-10}")

FORCE=0
CARGO_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --) shift; CARGO_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-web: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

STEP="start"
on_error() {
  local rc=$?
  echo "build-web: FAILED while ${STEP} (exit code $rc); web/dist/ was not updated" >&2
  exit "$rc"
}
trap on_error ERR

log() { echo "build-web: $*" >&2; }
# shellcheck source=scripts/steps.sh
. "$ROOT/scripts/steps.sh"

# ---------------------------------------------------------------------------------------------
STEP="setting up the toolchain (scripts/setup-web-toolchain.sh)"
TOOLCHAIN_ENV="$("$ROOT/scripts/setup-web-toolchain.sh" --env)"
eval "$TOOLCHAIN_ENV"

# ---------------------------------------------------------------------------------------------
# Skip everything when the inputs are the same as at the last successful build. Content hashes,
# not mtimes: a fresh clone or a checkout touches every file.
STEP="hashing the build inputs"
inputs_fingerprint() {
  {
    echo "route=$CB_WEB_ROUTE rustc=$CB_WEB_RUSTC_VERSION wasm-bindgen=$CB_WASM_BINDGEN_VERSION"
    echo "cargo-args=${CARGO_ARGS[*]:-} keep-names=${BUILD_WEB_KEEP_NAMES:-0} brotli=${CB_BROTLI:+yes}"
    find web wire \
        \( -path web/target -o -path web/dist -o -path wire/target -o -name '.*' \) -prune \
        -o -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml scripts/build-web.sh scripts/setup-web-toolchain.sh
    [ -d .cargo ] && find .cargo -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    true
  } | sha256sum | awk '{ print $1 }'
}
# The lock file apart: the build itself may add entries to it, so it is read again afterwards.
lock_fingerprint() {
  if [ -f Cargo.lock ]; then sha256sum Cargo.lock | awk '{ print $1 }'; else echo none; fi
}
FINGERPRINT="$(inputs_fingerprint) $(lock_fingerprint)"

dist_complete() {
  local f
  for f in index.html boot.js style.css "$CRATE_FILE.js" "${CRATE_FILE}_bg.wasm" "${CRATE_FILE}_bg.wasm.gz"; do
    [ -s "$DIST/$f" ] || return 1
  done
}

report_sizes() {
  local f raw gz br
  for f in "${CRATE_FILE}_bg.wasm" "$CRATE_FILE.js" boot.js; do
    raw=$(wc -c <"$DIST/$f")
    gz=$(wc -c <"$DIST/$f.gz")
    br="-"
    [ -f "$DIST/$f.br" ] && br=$(wc -c <"$DIST/$f.br")
    printf 'build-web:   %-26s %8d bytes raw  %8s bytes gzip -9  %8s bytes brotli\n' "$f" "$raw" "$gz" "$br" >&2
  done
}

if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$FINGERPRINT" ] && dist_complete; then
  step_skip web "the dashboard (wasm)" "web/dist is up to date (nothing under web/ or wire/ changed; --force rebuilds)"
  report_sizes
  exit 0
fi

# ---------------------------------------------------------------------------------------------
STEP="compiling callbroker-web for $TARGET (cargo build --release)"
# Usual durations of the build alone on 2 cores (docs/first-run.md); beside the server's (make run) longer.
if [ -d "$TARGET_DIR/$TARGET/release/deps" ]; then usual="usually 1-3 min after a change"; else usual="a first build alone usually 7-10 min on 2 cores"; fi
step_begin web "the dashboard (wasm32 with $CB_WEB_RUSTC_VERSION, $CB_WEB_ROUTE route)" "$usual"
started=$SECONDS
build_env=(
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z
  CARGO_PROFILE_RELEASE_LTO=fat
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
  CARGO_PROFILE_RELEASE_PANIC=abort
  CARGO_PROFILE_RELEASE_DEBUG=false
  CARGO_PROFILE_RELEASE_INCREMENTAL=false
)
build_args=(build --release --target "$TARGET" -p callbroker-web --target-dir "$TARGET_DIR")
# Leptos's `erase_components`: each component's view is type-erased where it is used, so the
# views of a page are compiled once instead of once per place that nests them (smaller wasm).
rustflags="--cfg erase_components"
# (The -Z flags first: the same RUSTFLAGS string as before keeps cargo's build cache valid.)
if [ "$CB_WEB_BUILD_STD" = 1 ]; then
  # Debian route: std compiled from /usr/lib/rustlib/src; -Z flags allowed by RUSTC_BOOTSTRAP.
  # For the first load's 400 KB budget: -Zlocation-detail=none drops the file/line strings of
  # panics, panic=immediate-abort the panic machinery itself (the app stops on a panic anyway),
  # -Zfmt-debug=none the `Debug` formatting nobody reads in the browser, and std's
  # optimize_for_size feature picks its smaller algorithms.
  build_env+=(RUSTC_BOOTSTRAP=1 RUSTC="$CB_WEB_RUSTC" RUSTDOC=/usr/bin/rustdoc CARGO_PROFILE_RELEASE_PANIC=immediate-abort)
  rustflags="-Zlocation-detail=none -Zfmt-debug=none $rustflags"
  build_args+=("-Zbuild-std=std,panic_abort" "-Zbuild-std-features=optimize_for_size" "-Zpanic-immediate-abort")
fi
build_env+=(RUSTFLAGS="$rustflags")
env "${build_env[@]}" "${NICE[@]}" "$CB_WEB_CARGO" "${build_args[@]}" ${CARGO_ARGS[@]+"${CARGO_ARGS[@]}"}
WASM_IN="$TARGET_DIR/$TARGET/release/$CRATE_FILE.wasm"
[ -s "$WASM_IN" ] || { STEP="looking for $WASM_IN"; false; }
log "compiled in $((SECONDS - started)) s"

# ---------------------------------------------------------------------------------------------
# Assemble the new dist/ beside the old one and swap at the end, so a server reading web/dist
# never sees a half-written set of files.
STEP="running wasm-bindgen $CB_WASM_BINDGEN_VERSION"
STAGE="$TARGET_DIR/dist.new"
rm -rf "$STAGE"
mkdir -p "$STAGE"
# The name section (function names for stack traces) is over two thirds of the file; keep it only
# when asked: BUILD_WEB_KEEP_NAMES=1.
bindgen_args=(--target web --no-typescript --out-dir "$STAGE")
[ "${BUILD_WEB_KEEP_NAMES:-0}" = 1 ] || bindgen_args+=(--remove-name-section --remove-producers-section)
"${NICE[@]}" "$CB_WASM_BINDGEN" "${bindgen_args[@]}" "$WASM_IN"

STEP="copying index.html, boot.js and stylesheets"
cp web/index.html web/boot.js "$STAGE/"
for css in web/*.css; do
  [ -e "$css" ] && cp "$css" "$STAGE/"
done

# Compressed copies of the big files, made once at the best level; the server sends the one the
# browser accepts (brotli, else gzip) with Content-Encoding. -n: no name or time in the gzip header,
# so the same input gives the same bytes.
STEP="compressing the wasm and JS (gzip -9${CB_BROTLI:+, brotli -q 11})"
for f in "$STAGE/${CRATE_FILE}_bg.wasm" "$STAGE/$CRATE_FILE.js" "$STAGE/boot.js"; do
  gzip -9 -n -k -f "$f"
  if [ -n "${CB_BROTLI:-}" ]; then "$CB_BROTLI" -q 11 -k -f "$f"; fi
done

STEP="replacing web/dist"
rm -rf "$DIST.old"
[ -d "$DIST" ] && mv "$DIST" "$DIST.old"
mv "$STAGE" "$DIST"
rm -rf "$DIST.old"

echo "${FINGERPRINT% *} $(lock_fingerprint)" >"$STAMP"
step_end web
log "web/dist:"
report_sizes
