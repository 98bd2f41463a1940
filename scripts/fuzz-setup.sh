#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer of the reliability tests) from tests/fuzz/requirements.txt
# into a virtualenv under the cache folder. Fast when already installed. Prints nothing on success.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CALLBROKER_FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/callbroker/fuzz-venv}"
stamp="$venv/.requirements.txt"
if [ -x "$venv/bin/st" ] && cmp -s tests/fuzz/requirements.txt "$stamp"; then
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "python3 (3.9+) with venv is needed for the API fuzzer (schemathesis)" >&2
    exit 1
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt
cp tests/fuzz/requirements.txt "$stamp"
