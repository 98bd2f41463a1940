#!/usr/bin/env bash
# What PostgreSQL on this machine can do at best, measured with its own C client (pgbench, prepared
# statements) on a database of its own: the ceiling any server in front of it works under. Four
# transaction shapes, each at 16 and 64 clients:
#   read    one indexed read, no transaction block (one round trip)
#   tx-read BEGIN; one indexed read; COMMIT (three round trips, as diesel runs a transaction)
#   write   one single-row UPDATE, no transaction block (one round trip, one commit)
#   tx-write BEGIN; one single-row UPDATE; COMMIT (three round trips, one commit)
# A call is six webhooks, each committed by one statement without a transaction block
# (docs/architecture.md): the `write` shape at best, so calls/s can never pass a sixth of the
# write figures.
#
# Usage: scripts/pg-ceiling.sh [seconds per run]   (`make pg-ceiling`; needs pgbench and the
# PostgreSQL of `scripts/services.sh`; PGHOST/PGPORT/PGUSER as for psql, default 127.0.0.1/postgres)
set -euo pipefail
secs=${1:-8}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
command -v pgbench > /dev/null || { echo "needs pgbench (Debian ships it with the server: apt-get install postgresql)" >&2; exit 1; }
db=callbroker_ceiling_$$
work=$(mktemp -d)
trap 'psql -qc "DROP DATABASE IF EXISTS $db" postgres > /dev/null 2>&1; rm -rf "$work"' EXIT
psql -qc "CREATE DATABASE $db" postgres
pgbench -i -q -s 10 "$db" > /dev/null 2>&1
printf '\\set aid random(1, 100000 * :scale)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n' > "$work/read.sql"
printf '\\set aid random(1, 100000 * :scale)\nBEGIN;\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\nCOMMIT;\n' > "$work/tx-read.sql"
printf '\\set aid random(1, 100000 * :scale)\n\\set d random(-5000, 5000)\nUPDATE pgbench_accounts SET abalance = abalance + :d WHERE aid = :aid;\n' > "$work/write.sql"
printf '\\set aid random(1, 100000 * :scale)\n\\set d random(-5000, 5000)\nBEGIN;\nUPDATE pgbench_accounts SET abalance = abalance + :d WHERE aid = :aid;\nCOMMIT;\n' > "$work/tx-write.sql"
for clients in 16 64; do
  line="clients $clients:"
  for shape in read tx-read write tx-write; do
    tps=$(pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "$work/$shape.sql" "$db" 2>&1 | sed -n 's/^tps = \([0-9]*\).*/\1/p')
    line="$line  $shape $tps/s"
  done
  echo "$line"
done
