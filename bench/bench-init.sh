#!/usr/bin/env bash
# Start-up cost and idle memory of dbsetup as an init, against peers
# measured in the same run:
#   time for `dbsetup -- /bin/true` vs `node -e 0` (the generated Node
#   entrypoint's floor) and `tini -s -- /bin/true`; idle RSS of dbsetup
#   supervising `sleep` vs tini doing the same.
# Targets: >= 30x faster than node, <= 2x tini, idle RSS <= 3 MiB.
# Usage: bench/bench-init.sh [path/to/dbsetup]   (default build/dbsetup;
# use a Release/RelWithDebInfo build, not the sanitizer one)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
DBSETUP=$(readlink -f "${1:-${DBSETUP:-$root/build/dbsetup}}")
for tool in hyperfine node tini; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not installed" >&2; exit 1; }
done
[ -x "$DBSETUP" ] || { echo "bench: $DBSETUP not built" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "== start to exit (hyperfine, no shell)"
hyperfine -N --warmup 10 --min-runs 50 --export-json "$tmp/h.json" \
  -n dbsetup "$DBSETUP -q -- /bin/true" \
  -n node "node -e 0" \
  -n tini "tini -s -- /bin/true" >&2
# Medians: this is often a shared machine, and means follow its outliers.
node -e '
  const r = Object.fromEntries(require(process.argv[1]).results
    .map((x) => [x.command, x]));
  const ms = (n, k) => (r[n][k] * 1000).toFixed(3);
  console.log(`median ms: dbsetup ${ms("dbsetup", "median")}  node ${ms("node", "median")}  tini ${ms("tini", "median")}`);
  console.log(`min ms:    dbsetup ${ms("dbsetup", "min")}  node ${ms("node", "min")}  tini ${ms("tini", "min")}`);
  const q = (a, b, k) => (r[a][k] / r[b][k]).toFixed(2);
  console.log(`node/dbsetup = ${q("node", "dbsetup", "median")}x median, ${q("node", "dbsetup", "min")}x min (target >= 30x)`);
  console.log(`dbsetup/tini = ${q("dbsetup", "tini", "median")}x median, ${q("dbsetup", "tini", "min")}x min (target <= 2x)`);
' "$tmp/h.json"

echo "== idle RSS while supervising sleep"
rss() { # command...: VmRSS (kB) of the process after it settles
  "$@" 2>/dev/null &
  local pid=$! kb
  sleep 0.5
  kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$kb"
}
rd=$(rss "$DBSETUP" -q -- sleep 30)
rt=$(rss tini -s -- sleep 30)
printf 'VmRSS kB: dbsetup %d  tini %d   dbsetup = %d.%02d MiB (target <= 3 MiB)\n' \
  "$rd" "$rt" $((rd / 1024)) $((rd % 1024 * 100 / 1024))
