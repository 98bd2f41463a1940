#!/usr/bin/env bash
# Makes sure the services the tests need answer: PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_URL).
set -euo pipefail
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "services: using TEST_DATABASE_URL"
  exit 0
fi
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
    sleep 1
  done
fi
echo "services: PostgreSQL is not reachable on 127.0.0.1:5432 (set TEST_DATABASE_URL)" >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
