#!/usr/bin/env bash
# ctest-labels: integration;ltx
# ctest-timeout: 300
# Upgrade in place: litestream v0.3.13 replicates a database to a file
# replica (generations/), then v0.5.18 replicates the same database to the
# same location (ltx/), then v0.3.13 once more. At each stage dbsetup
# restore equals litestream restore 0.5.18, which reads both layouts and
# takes the one written most recently: latest (v0.3 after the first stage,
# LTX after the second, v0.3 again after the third), -txid points (LTX),
# and -timestamp points of each era and between them (where 0.5 has
# written, its rules for the v0.3 generations apply).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ltx_lib.sh"
ltx_need "$LS05" v0.5.18
ltx_need "$LS03" v0.3.13
RANDOM=${DBS_LTX_SEED:-313}

ltx_init file "$T/fx"
cat >"$T/ls03.yml" <<YML
dbs:
  - path: $LTX_DB
    monitor-interval: 100ms
    min-checkpoint-page-count: 64
    replicas:
      - type: file
        path: $LTX_ROOT
        sync-interval: 100ms
        snapshot-interval: 2s
YML
_gen_present() { [ -n "$(ls "$LTX_ROOT/generations" 2>/dev/null)" ]; }
# v03_phase STEPS: v0.3.13 replicates STEPS random steps; appends
# "STEP - TIME DIGEST OP" lines (no TXID) to points03.
v03_phase() {
  local i lp
  "$LS03" replicate -config "$T/ls03.yml" >>"$LTX_D/ls03.log" 2>&1 &
  lp=$!
  wait_for 10 _gen_present || fail "litestream v0.3.13 did not start a generation"
  sleep 0.5
  for i in $(seq 1 "$1"); do
    LTX_STEP=$((LTX_STEP + 1))
    ltx_op
    sleep 0.6
    echo "$LTX_STEP - $(date -u +%Y-%m-%dT%H:%M:%S.%NZ) $(digest "$LTX_DB" live) $LTX_OPNAME" >>"$LTX_D/points03"
    sleep 0.1
  done
  sleep 0.5
  kill -INT "$lp"
  wait "$lp" || true
}
: >"$LTX_D/points03"

# Stage 1: v0.3.13 alone.
v03_phase 8
LTX_WANT=$(tail -1 "$LTX_D/points03" | cut -d' ' -f4)
ltx_compare "v0.3 only: latest" "$LTX_URL"
ltx_compare "v0.3 only: latest (config)" -config "$T/ls03.yml" "$LTX_DB"

# Stage 2: v0.5.18 at the same location, 0.5 syntax.
ltx_yml
ltx_start
ltx_workload 12
ltx_finish
ltx_inventory
[ -n "$(ls "$LTX_ROOT/generations")" ] || fail "v0.5 removed the v0.3 generations"
# This stage's cases read a copy (kept with the scratch directory when a
# case fails, as the commands printed name it), since stage 3 writes on.
cp -a "$LTX_ROOT" "$T/stage2"
URL2=file://$T/stage2
LTX_WANT=$(tail -1 "$LTX_D/points" | cut -d' ' -f4)
ltx_compare "v0.3 then v0.5: latest (LTX, written last)" "$URL2"
LTX_WANT=$(tail -1 "$LTX_D/points" | cut -d' ' -f4)
ltx_compare "v0.3 then v0.5: latest (config)" -config "$LTX_YML" "$LTX_DB"
while read -r step txid ts dg op; do
  LTX_WANT=$dg
  ltx_compare "v0.3 then v0.5: -txid $txid (step $step: $op)" -txid "$txid" "$URL2"
done <"$LTX_D/points"
# Points in time of both eras (before the first LTX snapshot, litestream
# takes the v0.3 generation).
while read -r step txid ts dg op; do
  ltx_compare "v0.3 then v0.5: -timestamp $ts (v0.3 step $step)" -timestamp "$ts" "$URL2"
done < <(awk 'NR % 2 == 0' "$LTX_D/points03")
# A v0.5 point restores its own step once an LTX snapshot is older than it
# (before that, litestream takes the v0.3 generation's newest snapshot).
while read -r step txid ts dg op; do
  [ -z "$(find "$(ltx_level_dir 9)" -name '*.ltx' ! -newermt "$ts" | head -1)" ] || LTX_WANT=$dg
  ltx_compare "v0.3 then v0.5: -timestamp $ts (v0.5 step $step)" -timestamp "$ts" "$URL2"
done < <(awk 'NR % 2 == 1' "$LTX_D/points")

# The two eras meet: litestream 0.5 reads the v0.3 generations by its own
# rules once LTX files share the location (time bounds over both layouts,
# the newest v0.3 snapshot at or before the time over all generations, the
# WAL segments written by then), not by 0.3.13's (the time must fall
# inside one generation's bounds). Both points restore the last v0.3 state
# (0.5 started from the same database): between the last v0.3 object and
# the first LTX file (0.3.13's rule finds no generation there), and 1 ms
# after the first LTX file while no LTX snapshot (L9) is older.
_mtime_ns() { find "$@" -type f -exec stat -c '%.9Y' {} + | tr -d . | sort -n; }
_ts_of_ns() { date -u -d "@$(($1 / 1000000000)).$(printf %09d $(($1 % 1000000000)))" +%Y-%m-%dT%H:%M:%S.%NZ; }
v3_last=$(_mtime_ns "$T/stage2/generations" | tail -1)
ltx_first=$(_mtime_ns "$T/stage2/ltx" | head -1)
l9_first=$(_mtime_ns "$T/stage2/ltx/9" | head -1)
v3_state=$(tail -1 "$LTX_D/points03" | cut -d' ' -f4)
[ "$ltx_first" -gt $((v3_last + 2)) ] || fail "no time between the v0.3 era ($v3_last) and the first LTX file ($ltx_first)"
LTX_WANT=$v3_state
ltx_compare "v0.3 then v0.5: -timestamp between the eras" -timestamp "$(_ts_of_ns $(((v3_last + ltx_first) / 2)))" "$URL2"
if [ "$l9_first" -gt $((ltx_first + 1000000)) ]; then
  LTX_WANT=$v3_state
  ltx_compare "v0.3 then v0.5: -timestamp 1 ms after the first LTX file, before any LTX snapshot" \
    -timestamp "$(_ts_of_ns $((ltx_first + 1000000)))" "$URL2"
else
  echo "# (the first LTX snapshot is as old as the first LTX file: no point between them)"
fi

# Stage 3: back to v0.3.13, which writes last.
v03_phase 4
LTX_WANT=$(tail -1 "$LTX_D/points03" | cut -d' ' -f4)
ltx_compare "v0.3, v0.5, v0.3 again: latest (v0.3, written last)" "$LTX_URL"
mid=$(sed -n 6p "$LTX_D/points")
LTX_WANT=$(echo "$mid" | cut -d' ' -f4)
ltx_compare "v0.3, v0.5, v0.3 again: -txid $(echo "$mid" | cut -d' ' -f2)" -txid "$(echo "$mid" | cut -d' ' -f2)" "$LTX_URL"
ltx_report 27
done_testing
