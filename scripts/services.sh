#!/usr/bin/env bash
# Makes sure the services the tests need answer: PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_URL).
# Fails when it cannot: the PostgreSQL tests never skip.
set -euo pipefail
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "services: using TEST_DATABASE_URL"
  exit 0
fi
answers() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}
if answers; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do
    answers && exit 0
    sleep 1
  done
fi
# The PostgreSQL tests fail without it, in CI or not: stop here with what to do.
echo "services: PostgreSQL is not reachable on 127.0.0.1:5432, and the tests need it." >&2
echo "  Install it (Debian: apt-get install postgresql) and run 'make services' to start the cluster," >&2
echo "  or set TEST_DATABASE_URL to a PostgreSQL that lets its user create databases (trust auth)." >&2
exit 1
