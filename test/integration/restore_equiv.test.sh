#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 240
# dbsetup restore and litestream restore give the same database for every
# generation, WAL index and point in time of replicas litestream wrote; and
# dbsetup's direct WAL frame apply gives the same bytes as applying each
# index with SQLite's TRUNCATE checkpoint.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

F=$T/fx
make_replica "$F" 3 12
URL=file://$F/replica
n=0

# compare NAME ARGS...: restores with both tools, compares status and dump.
compare() {
  local name=$1; shift
  n=$((n + 1))
  local a=$T/r$n/dbs b=$T/r$n/ls
  mkdir -p "$a" "$b"
  run "$DBSETUP" restore "$@" -o "$a/db" "$URL" 2>"$a.err"; local ra=$rc
  run "$LITESTREAM" restore "$@" -o "$b/db" "$URL" 2>"$b.err"; local rb=$rc
  if [ "$rb" -ne 0 ]; then
    [ "$ra" -ne 0 ] || fail "$name: litestream failed ($(tail -1 "$b.err")) but dbsetup succeeded"
    [ ! -e "$a/db" ] || fail "$name: dbsetup left $a/db after failing"
    ok "$name: both fail ($ra/$rb)"
    return
  fi
  [ "$ra" -eq 0 ] || { cat "$a.err" >&2; fail "$name: dbsetup exit $ra"; }
  assert_eq ok "$(integrity "$a/db")" "$name: integrity"
  [ "$(dump "$a/db")" == "$(dump "$b/db")" ] || fail "$name: dumps differ"
  assert_eq "db" "$(ls -A "$a")" "$name: nothing beside the restored db"
  # The direct frame apply (default) gives the very bytes SQLite's own
  # TRUNCATE checkpoints give.
  local c=$T/r$n/ckpt; mkdir -p "$c"
  DBS_RESTORE_APPLY=checkpoint "$DBSETUP" restore "$@" -o "$c/db" "$URL" 2>"$c.err" ||
    { cat "$c.err" >&2; fail "$name: checkpoint apply failed"; }
  cmp -s "$a/db" "$c/db" || fail "$name: direct apply differs from the checkpoint apply"
  ok "$name: same database ($(sqlite3 "$a/db" 'SELECT count(*) FROM t') rows), byte-identical to the checkpoint apply"
}

compare "latest"
compare "latest, parallelism 1" -parallelism 1
while read -r ts; do
  compare "timestamp $ts" -timestamp "$ts"
done <"$F/points"
compare "timestamp before any backup" -timestamp 2000-01-01T00:00:00Z

for gdir in "$F"/replica/generations/*; do
  gen=$(basename "$gdir")
  compare "generation $gen" -generation "$gen"
  max=$(ls "$gdir/wal" | sed 's/_.*//' | sort -u | tail -1)
  for i in $(seq 0 $((16#$max))); do
    compare "generation $gen index $(printf %x "$i")" -generation "$gen" -index "$(printf %x "$i")"
  done
done
[ "$n" -gt 40 ] || fail "too few targets ($n)"

# The generations listing agrees with the replica directory.
"$DBSETUP" generations "$URL" >"$T/gens"
for gdir in "$F"/replica/generations/*; do
  gen=$(basename "$gdir")
  nsnap=$(ls "$gdir/snapshots" | wc -l)
  grep -qE "^file +$gen .* $nsnap +[0-9a-f]{8}-[0-9a-f]{8}$" "$T/gens" ||
    { cat "$T/gens" >&2; fail "generations: $gen with $nsnap snapshots missing"; }
done
ok "generations lists every generation with its snapshot count"

done_testing
