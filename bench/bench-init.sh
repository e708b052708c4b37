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
for tool in hyperfine node tini jq; do
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
stat() { jq -r --arg n "$1" --arg k "$2" '.results[] | select(.command == $n) | .[$k] * 1000' "$tmp/h.json"; }
d=$(stat dbsetup median) n=$(stat node median) t=$(stat tini median)
printf 'median ms: dbsetup %.3f  node %.3f  tini %.3f\n' "$d" "$n" "$t"
printf 'min ms:    dbsetup %.3f  node %.3f  tini %.3f\n' \
  "$(stat dbsetup min)" "$(stat node min)" "$(stat tini min)"
printf 'node/dbsetup = %.1fx (target >= 30x)   dbsetup/tini = %.2fx (target <= 2x)\n' \
  "$(echo "$n / $d" | bc -l)" "$(echo "$d / $t" | bc -l)"

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
printf 'VmRSS kB: dbsetup %d  tini %d   dbsetup = %.2f MiB (target <= 3 MiB)\n' \
  "$rd" "$rt" "$(echo "$rd / 1024" | bc -l)"
