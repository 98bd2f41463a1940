# Sourced by the build scripts: each step of a build announced with how long it usually takes,
# then reported with how long it took. Under `make run` (CALLBROKER_RUN_STEPS=1) the steps carry
# their number in the run: 1/3 wasm-bindgen-cli, 2/3 the dashboard, 3/3 the server (docs/first-run.md).
#
#   step_begin KEY WHAT USUAL    e.g. step_begin web "the dashboard (wasm)" "usually 8-10 min on 2 cores"
#   step_end KEY                 prints "KEY: ... done in 9 min 12 s"
#   step_skip KEY WHAT WHY       a step with nothing to do

step_number() {
  [ "${CALLBROKER_RUN_STEPS:-0}" = 1 ] || return 0
  case "$1" in
    tools) echo "step 1/3: " ;;
    web) echo "step 2/3: " ;;
    server) echo "step 3/3: " ;;
  esac
}

step_duration() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%d min %d s' $((s / 60)) $((s % 60)); else printf '%d s' "$s"; fi
}

step_begin() {
  printf -v "STEP_STARTED_$1" '%s' "$SECONDS"
  printf -v "STEP_WHAT_$1" '%s' "$2"
  echo "==> $(step_number "$1")$2, $3" >&2
}

step_end() {
  local started="STEP_STARTED_$1" what="STEP_WHAT_$1"
  echo "==> $(step_number "$1")${!what} done in $(step_duration $((SECONDS - ${!started})))" >&2
}

step_skip() {
  echo "==> $(step_number "$1")$2: $3" >&2
}
