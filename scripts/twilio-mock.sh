#!/usr/bin/env bash
# Installs Prism (the contract-checking Twilio stand-in of the integration tests) into tests/twilio-mock.
exec "$(dirname "$0")/npm-tool.sh" tests/twilio-mock prism "the Twilio mock (Prism)"
