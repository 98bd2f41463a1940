#!/usr/bin/env bash
# Instructions the SQLite writer thread spends per call, counted by callgrind: repeatable to about
# one percent whatever else the machine is doing, where calls/s on a shared 2-core machine move by
# 10-20% from run to run. The server runs under valgrind with only
# `callbroker::db::writer::pass` collected (every write transaction of the request path, commit
# included); loadgen plays calls one at a time, so each webhook is a batch of its own: 100 calls,
# then 300, and the difference over 200 calls is printed (start-up and setup cancel out).
# Batch-wide work (the rollup upsert, the commit) is counted per call here, where under load a
# batch shares it.
#
# Usage: scripts/writer-instructions.sh [server binary]   (`make writer-instructions`)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind > /dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bin=$(realpath "${1:-target/release/callbroker}")
loadgen=target/release/loadgen
[ -x "$bin" ] && [ -x "$loadgen" ] || { echo "build first: cargo build --release --bin callbroker -p callbroker-api && cargo build --release -p callbroker-tests --bin loadgen" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# loadgen kills the server it started. valgrind writes its counts only when it ends normally, so
# the wrapper starts it in the background (it outlives the wrapper), and count() dumps and stops it.
cat > "$work/server" <<WRAPPER
#!/usr/bin/env bash
valgrind --tool=callgrind --toggle-collect='callbroker::db::writer::pass*' --callgrind-out-file="\$CG_OUT" "$bin" "\$@" &
wait
WRAPPER
chmod +x "$work/server"
count() {
  local out="$work/cg.$1" pid
  CG_OUT="$out" "$loadgen" --calls "$1" --concurrency 1 --healthz-secs 0 --backend sqlite --server "$work/server" > "$work/loadgen.$1" 2>&1
  pid=$(pgrep -f -- "--callgrind-out-file=$out" | head -1)
  callgrind_control -d "$pid" > /dev/null 2>&1
  sleep 1
  kill "$pid"
  while kill -0 "$pid" 2> /dev/null; do sleep 0.2; done
  grep -h '^summary:' "$out"* | awk '{ s += $2 } END { print s }'
}
few=$(count 100)
many=$(count 300)
echo "SQLite writer: $(( (many - few) / 200 )) instructions per call (${bin}: ${many} for 300 calls, ${few} for 100)"
