#!/usr/bin/env bash
# ctest-labels: integration;setup
# ctest-timeout: 90
# Messages a newcomer reads: one line for "no backup", 143 after a stop
# explained as 128+SIGTERM, the boolean values listed in full, one wording
# for unknown options everywhere, singular/plural and sizes in sensible
# units in a restore's summary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

# --- "no backup": one line ------------------------------------------------------
mkdir -p "$T/nb/app" "$T/nb/data" "$T/nb/replica"
printf 'dbs:\n  - path: %s\n    replicas:\n      - type: file\n        path: %s\n' \
  "$T/nb/data/dev.db" "$T/nb/replica" >"$T/nb/ls.yml"
run "$DBSETUP" --volume "$T/nb/data" --db "$T/nb/app/dev.db" --litestream-config "$T/nb/ls.yml" \
  --no-replicate -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "boot without a backup"
assert_eq 1 "$(grep -ci "no backup" "$T/out")" "lines saying there is no backup"
ok "no backup: said once"

# --- 143 after a stop -------------------------------------------------------------
for mode in "${MODES[@]}"; do
  start_bg "$mode" "$T/stop.$mode" "$DBSETUP" -- sleep 30
  wait_for 10 grep -q "app started" "$T/stop.$mode" || fail "$mode: app never started"
  kill -TERM "$DPID"
  wait_bg
  assert_eq 143 "$rc" "$mode: exit after TERM"
  assert_contains "$T/stop.$mode" "exiting with status 143 = 128+SIGTERM: the app ended on the stop, as expected" \
    "$mode: 143 explained"
  ok "$mode: 143 after a stop is explained as 128+SIGTERM"
done
run "$DBSETUP" -- sh -c 'exit 3' >"$T/out" 2>&1
assert_eq 3 "$rc" "plain exit"
assert_not_contains "$T/out" "128+" "no stop, no explanation"
ok "an exit without a stop is not explained as one"

# --- boolean values -----------------------------------------------------------------
run env DBSETUP_NO_RESTORE=maybe "$DBSETUP" -- true >"$T/out" 2>&1
assert_eq 64 "$rc" "bad boolean"
assert_contains "$T/out" "invalid value 'maybe' for DBSETUP_NO_RESTORE (expected 1/true/yes/on or 0/false/no/off" \
  "lists every accepted value"
run "$DBSETUP" --no-restore=maybe -- true >"$T/out" 2>&1
assert_eq 64 "$rc" "value for a flag without one"
assert_contains "$T/out" "option '--no-restore' takes no value" "flag without a value"
ok "booleans: every accepted value listed; a flag that takes none says so"

# --- one wording for unknown options ------------------------------------------------
check_unknown() { # expected-line args...
  local want=$1; shift
  run "$DBSETUP" "$@" >"$T/out" 2>&1
  assert_eq 64 "$rc" "$*: exit"
  assert_eq "dbsetup: error: $want" "$(cat "$T/out")" "$*: message"
}
check_unknown "unknown option '--bogus' (see dbsetup --help; put the app command after --)" --bogus true
check_unknown "unknown option '-x' (see dbsetup --help; put the app command after --)" -x true
check_unknown "option '--db' needs a value (see dbsetup --help)" --db
check_unknown "unknown option '--bogus' (see dbsetup restore --help)" restore --bogus x
check_unknown "unknown option '-x' (see dbsetup restore --help)" restore -x x
check_unknown "option '-o' needs a value (see dbsetup restore --help)" restore -o
check_unknown "unknown option '--bogus' (see dbsetup generations --help)" generations --bogus x
check_unknown "unknown option '--timestamp' (see dbsetup generations --help)" generations --timestamp t x
check_unknown "unknown option '--bogus' (see dbsetup migrate --help)" migrate --bogus
check_unknown "option '--db' needs a value (see dbsetup migrate --help)" migrate --db
check_unknown "option '--stop' is abbreviated: write it in full, --stop-timeout (see dbsetup --help)" --stop 3 true
check_unknown "option '-gen' is abbreviated: write it in full, -generation (see dbsetup restore --help)" restore -gen g x
ok "unknown options and missing values: one wording in the boot and every subcommand"

# --- a small restore's summary: units and plural -------------------------------------
d=$T/small
mkdir -p "$d"
sqlite3 "$d/db.sqlite" "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES (1);" >/dev/null
printf 'dbs:\n  - path: %s\n    monitor-interval: 50ms\n    replicas:\n      - type: file\n        path: %s\n        sync-interval: 50ms\n' \
  "$d/db.sqlite" "$d/replica" >"$d/ls.yml"
"$LITESTREAM" replicate -config "$d/ls.yml" >"$d/ls.log" 2>&1 &
lp=$!
cleanup "kill $lp 2>/dev/null"
wait_for 10 sh -c "ls $d/replica/generations/*/wal/* >/dev/null 2>&1" || fail "no WAL segment replicated"
sleep 0.3
kill -TERM "$lp"; wait "$lp" || true
run "$DBSETUP" restore --litestream-config "$d/ls.yml" -o "$d/out.db" "$d/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "small restore"
line=$(grep "restored $d/out.db" "$T/out")
[[ $line =~ :\ ([0-9.]+)\ kB, ]] || fail "size not in kB: $line"
assert_not_contains "$T/out" "0.0 MB" "no 0.0 MB"
n=$(sed -E 's/.* ([0-9]+) WAL index(es)? applied.*/\1/' <<<"$line")
if [ "$n" = 1 ]; then
  [[ $line == *" 1 WAL index applied"* ]] || fail "singular: $line"
  assert_not_contains "$T/out" "segments)" "one segment"
else
  [[ $line == *" $n WAL indexes applied"* ]] || fail "plural: $line"
fi
ok "a small restore's summary: '$(sed 's/.*: //' <<<"$line" | cut -d, -f1)', '$n WAL index…' agreeing in number"

# --- a restored database is not seeded: one line says so -------------------------
mkdir -p "$T/rs/app"
printf 'dbs:\n  - path: %s\n    replicas:\n      - type: file\n        path: %s\n' \
  "$T/rs/data/dev.db" "$d/replica" >"$T/rs/ls.yml"
run "$DBSETUP" --volume "$T/rs/data" --db "$T/rs/app/dev.db" --litestream-config "$T/rs/ls.yml" \
  --no-replicate --seed "echo SEEDED" -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "restore boot with a seed"
assert_not_contains "$T/out" SEEDED "the restored database is not seeded"
assert_eq 1 "$(grep -c "seed: skipped, the database was restored from its backup" "$T/out")" \
  "one line says why"
ok "a restored database: one line says the seed was skipped because it was restored"
done_testing
