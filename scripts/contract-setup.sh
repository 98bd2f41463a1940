#!/usr/bin/env bash
# Installs Redocly's linter (the contract tests lint openapi.yaml with it) into tests/contract.
exec "$(dirname "$0")/npm-tool.sh" tests/contract redocly "the contract tests (@redocly/cli)"
