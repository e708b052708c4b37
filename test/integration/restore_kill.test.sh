#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 180
# kill -9 at random moments of a restore: the target never exists
# partially, and the next run cleans up and completes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

F=$T/fx
make_replica "$F" 1 24
GEN=$(ls "$F/replica/generations")
# Keep only the first snapshot so that every WAL index gets applied.
ls "$F/replica/generations/$GEN/snapshots" | tail -n +2 |
  while read -r s; do rm "$F/replica/generations/$GEN/snapshots/$s"; done
URL=file://$F/replica
"$DBSETUP" restore -o "$T/ref.db" "$URL" 2>/dev/null
want=$(dump "$T/ref.db")
start=$(date +%s%N); "$DBSETUP" restore -o "$T/t.db" "$URL" 2>/dev/null
dur_us=$(( ($(date +%s%N) - start) / 1000 )); rm "$T/t.db"
echo "# one restore takes ${dur_us} us"

# Kill at a random point of the measured duration, until 10 restores were
# killed mid-way (at most 120 runs: on a loaded machine a run's duration
# varies, and a fixed count of runs could interrupt too few).
killed=0 finished=0 i=0
while [ "$killed" -lt 10 ] && [ "$i" -lt 120 ]; do
  i=$((i + 1))
  o=$T/k/db; mkdir -p "$T/k"
  "$DBSETUP" restore -parallelism 3 -o "$o" "$URL" 2>/dev/null &
  pid=$!
  us=$(( (RANDOM * 32768 + RANDOM) % (dur_us + dur_us / 4 + 1) ))
  sleep "$((us / 1000000)).$(printf %06d $((us % 1000000)))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
  wait "$pid" 2>/dev/null || true
  if [ -e "$o" ]; then
    # Only a complete database may ever appear at the target.
    [ "$(dump "$o")" == "$want" ] || fail "run $i: partial database at the target"
  else
    "$DBSETUP" restore -o "$o" "$URL" 2>"$T/k.err" || { cat "$T/k.err" >&2; fail "run $i: rerun failed"; }
    [ "$(dump "$o")" == "$want" ] || fail "run $i: rerun gave a different database"
  fi
  assert_eq "db" "$(ls -A "$T/k")" "run $i: leftovers beside the target"
  rm -rf "$T/k"
done
echo "# killed $killed restores mid-way, $finished had finished"
[ "$killed" -ge 10 ] || fail "too few restores were interrupted ($killed)"
ok "40 kill -9 at random moments: never a partial target, reruns complete"

done_testing
