#!/usr/bin/env bash
# Installs the Python tools of the API tests into one virtualenv under the cache folder:
# schemathesis (the API fuzzer, tests/fuzz/requirements.txt), openapi-spec-validator and
# openapi-python-client (the contract tests, tests/contract/requirements.txt). Fast when already
# installed. Prints nothing on success.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CALLBROKER_FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/callbroker/fuzz-venv}"
stamp="$venv/.requirements.txt"
wanted="$(cat tests/fuzz/requirements.txt tests/contract/requirements.txt)"
if [ -x "$venv/bin/st" ] && [ -f "$stamp" ] && [ "$wanted" = "$(cat "$stamp")" ]; then
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "python3 (3.9+) with venv is needed for the API fuzzer (schemathesis) and the contract tests" >&2
    exit 1
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt -r tests/contract/requirements.txt
printf '%s\n' "$wanted" > "$stamp"
