#!/usr/bin/env bash
# ctest-labels: integration;prisma
# ctest-timeout: 180
# A stop (TERM) during the migration phase of an existing database: the
# running migration script finishes, the next one and the app do not
# start, dbsetup exits 143, and the next boot applies the rest. Only a
# script still running at --stop-timeout is interrupted, and the message
# names the way out of the P3009 it leaves. A --migrate command gets the
# signal and --stop-timeout, then SIGKILL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

FIX=$DBS_FIXTURES/prisma/blog/migrations
ROWS=400000 # of 6 M steps: a second or more, little disk
q() { sqlite3 -cmd ".timeout 5000" "$@"; }
mkmig() { # dir name sql
  mkdir -p "$1/$2"
  printf '%s\n' "$3" >"$1/$2/migration.sql"
}
SLOW_SQL='CREATE TABLE "Big" ("x" INTEGER NOT NULL);
INSERT INTO "Big" SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
  SELECT x + 1 FROM c WHERE x < '$((ROWS * 15))') SELECT x FROM c) WHERE x % 15 = 0;'
AFTER_SQL='CREATE TABLE "After" ("id" INTEGER NOT NULL PRIMARY KEY);'
# Minutes of work: only a stop can end it in time.
ENDLESS_SQL='CREATE TABLE "Sum" AS SELECT sum(x) AS s FROM (WITH RECURSIVE
  c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000)
  SELECT x FROM c);'

# setup DIR: an app whose volume holds a database migrated with init.
setup() {
  local d=$1
  mkdir -p "$d/app/prisma/migrations" "$d/data"
  cp "$FIX/migration_lock.toml" "$d/app/prisma/migrations/"
  cp -r "$FIX/20240101000000_init" "$d/app/prisma/migrations/"
  boot_fg "$d"
  assert_eq 0 "$rc" "$d: first boot"
}
# boot_args DIR: the boot's command line (app: writes APP-RAN).
boot_args() {
  local d=$1
  BOOT=(env DBSETUP_VOLUME="$d/data" "$DBSETUP" --db "$d/app/dev.db"
    --prisma-migrations "$d/app/prisma/migrations" --no-restore
    -- sh -c "echo APP-RAN >>'$d/app.log'")
}
boot_fg() { # DIR [options...]
  local d=$1; shift
  boot_args "$d"
  run "${BOOT[@]:0:3}" "$@" "${BOOT[@]:3}" >"$d/fg.out" 2>&1
}
applied() { # DIR NAME: rows of NAME as "finished|rolled_back" flags
  q "$d/data/dev.db" "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '$2'
    AND finished_at IS NOT NULL AND rolled_back_at IS NULL"
}

for mode in "${MODES[@]}"; do
  d=$T/$mode
  setup "$d"
  M=$d/app/prisma/migrations
  mkmig "$M" 20240201000000_slow "$SLOW_SQL"
  mkmig "$M" 20240301000000_after "$AFTER_SQL"
  boot_args "$d"
  start_bg "$mode" "$d/stop.out" "${BOOT[@]:0:3}" --stop-timeout 60 "${BOOT[@]:3}"
  wait_for 20 grep -q "applying migration 20240201000000_slow" "$d/stop.out" ||
    { cat "$d/stop.out"; fail "$mode: the slow migration never started"; }
  kill -TERM "$DPID"
  wait_bg
  assert_eq 143 "$rc" "$mode: TERM during a migration: exit status"
  assert_contains "$d/stop.out" "applied migration 20240201000000_slow" \
    "$mode: the running migration finished"
  assert_contains "$d/stop.out" "stopped before migration 20240301000000_after" \
    "$mode: the next one did not start"
  assert_contains "$d/stop.out" "exit status 143 is 128+SIGTERM" "$mode: 143 explained"
  [ "$(grep -c APP-RAN "$d/app.log")" = 1 ] || fail "$mode: the app ran after the stop"
  assert_eq 1 "$(applied "$d" 20240201000000_slow)" "$mode: slow recorded as finished"
  assert_eq 0 "$(applied "$d" 20240301000000_after)" "$mode: after still pending"
  assert_eq "$ROWS" "$(q "$d/data/dev.db" 'SELECT count(*) FROM Big')" "$mode: Big filled"
  ok "$mode: TERM during a migration lets it finish, starts no further one, exits 143"

  boot_fg "$d"
  assert_eq 0 "$rc" "$mode: the boot after the stop"
  assert_contains "$d/fg.out" "applied migration 20240301000000_after" "$mode: rest applied"
  assert_not_contains "$d/fg.out" "applying migration 20240201000000_slow" "$mode: slow not rerun"
  assert_eq "1|1" "$(q "$d/data/dev.db" "SELECT
    (SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20240201000000_slow'),
    (SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20240301000000_after'
      AND finished_at IS NOT NULL)")" "$mode: each migration recorded once"
  assert_eq "$ROWS" "$(q "$d/data/dev.db" 'SELECT count(*) FROM Big')" "$mode: Big filled once"
  ok "$mode: the next boot applies the rest and exits 0"
done

# --- a script still running at --stop-timeout -----------------------------------
d=$T/child M=$d/app/prisma/migrations
mkmig "$M" 20240401000000_endless "$ENDLESS_SQL"
boot_args "$d"
start_bg child "$d/cut.out" "${BOOT[@]:0:3}" --stop-timeout 1 "${BOOT[@]:3}"
wait_for 20 grep -q "applying migration 20240401000000_endless" "$d/cut.out" ||
  { cat "$d/cut.out"; fail "the endless migration never started"; }
t0=$(date +%s%3N)
kill -TERM "$DPID"
wait_bg
t1=$(date +%s%3N)
assert_eq 143 "$rc" "cut at the stop timeout: exit status"
[ $((t1 - t0)) -lt 5000 ] || fail "took $((t1 - t0)) ms to stop with --stop-timeout 1"
[ $((t1 - t0)) -ge 900 ] || fail "stopped after $((t1 - t0)) ms, before --stop-timeout 1"
assert_contains "$d/cut.out" "migration 20240401000000_endless was still running 1.0 s after SIGTERM" \
  "cut: says what happened"
assert_contains "$d/cut.out" "npx prisma migrate resolve --rolled-back 20240401000000_endless" \
  "cut: names the fix"
assert_contains "$d/cut.out" "exit status 143 is 128+SIGTERM" "cut: 143 explained"
ok "a script still running at --stop-timeout is interrupted within it; the message names the fix ($((t1 - t0)) ms)"

boot_fg "$d"
assert_eq 80 "$rc" "the boot after a cut migration"
assert_contains "$d/fg.out" "P3009" "the cut migration blocks (the truth)"
assert_contains "$d/fg.out" "resolve --rolled-back 20240401000000_endless" "P3009 names the fix"
q "$d/data/dev.db" "SELECT logs FROM _prisma_migrations
  WHERE migration_name = '20240401000000_endless'" >"$d/logs"
assert_contains "$d/logs" "interrupted: still running 1.0 s after SIGTERM" "its logs say why"
# What `prisma migrate resolve --rolled-back` does, then the fix: drop it.
q "$d/data/dev.db" "UPDATE _prisma_migrations SET rolled_back_at = 1
  WHERE migration_name = '20240401000000_endless'"
rm -r "$M/20240401000000_endless"
boot_fg "$d"
assert_eq 0 "$rc" "after resolve --rolled-back"
ok "the cut migration is recorded as failed (P3009) until resolved as the message says"

# --- a second TERM kills the migration: the message names it and the fix ---------
d=$T/pid1 M=$d/app/prisma/migrations
mkmig "$M" 20240401000000_endless "$ENDLESS_SQL"
boot_args "$d"
start_bg child "$d/kill.out" "${BOOT[@]:0:3}" --stop-timeout 60 "${BOOT[@]:3}"
wait_for 20 grep -q "applying migration 20240401000000_endless" "$d/kill.out" ||
  { cat "$d/kill.out"; fail "the endless migration never started"; }
kill -TERM "$DPID"
sleep 0.5
kill -TERM "$DPID"
wait_bg
assert_eq 143 "$rc" "two TERMs during a migration: exit status"
assert_contains "$d/kill.out" "second stop signal: sending SIGKILL" "the second TERM kills"
assert_contains "$d/kill.out" "migration 20240401000000_endless was killed while it ran" \
  "names the killed migration"
assert_contains "$d/kill.out" "npx prisma migrate resolve --rolled-back 20240401000000_endless" \
  "names the fix"
ok "a second TERM kills a running migration; the message names it and the fix"

# --- dbsetup migrate: TERM lets the running migration finish too ------------------
d=$T/cli M=$d/app/prisma/migrations
mkdir -p "$M" "$d/data"
cp -r "$FIX/20240101000000_init" "$M/"
mkmig "$M" 20240201000000_slow "$SLOW_SQL"
mkmig "$M" 20240301000000_after "$AFTER_SQL"
DBSETUP_STOP_TIMEOUT=60 "$DBSETUP" migrate --db "$d/data/dev.db" --prisma-migrations "$M" 2>"$d/cli.out" &
cpid=$!
cleanup "kill -KILL $cpid 2>/dev/null"
wait_for 20 grep -q "applying migration 20240201000000_slow" "$d/cli.out" ||
  { cat "$d/cli.out"; fail "dbsetup migrate: the slow migration never started"; }
kill -TERM "$cpid"
set +e; wait "$cpid"; rc=$?; set -e
assert_eq 143 "$rc" "dbsetup migrate after TERM"
assert_contains "$d/cli.out" "stopped before migration 20240301000000_after" "the next one not started"
assert_eq 1 "$(applied "$d" 20240201000000_slow)" "slow finished and recorded"
run "$DBSETUP" migrate --db "$d/data/dev.db" --prisma-migrations "$M" 2>"$d/cli2.out"
assert_eq 0 "$rc" "dbsetup migrate again"
assert_eq 1 "$(applied "$d" 20240301000000_after)" "the rest applied"
ok "dbsetup migrate: TERM lets the running migration finish, exits 143; a rerun applies the rest"

# --- a --migrate command --------------------------------------------------------
cmd_args() { # DIR CMD: boot with --migrate CMD
  BOOT=(env DBSETUP_VOLUME="$1/data" "$DBSETUP" --db "$1/app/dev.db" --no-restore
    --stop-timeout 1 --migrate "$2" -- sh -c "echo APP-RAN >>'$1/app.log'")
}
d=$T/cmd
mkdir -p "$d/app" "$d/data"
# Handles TERM and finishes its work first: it gets that time.
cmd_args "$d" "trap 'echo TERM >>$d/cmd.log' TERM; echo START >>$d/cmd.log;
  for i in 1 2 3 4 5 6; do sleep 0.1; done; echo DONE >>$d/cmd.log"
start_bg child "$d/finish.out" "${BOOT[@]}"
wait_for 10 grep -q START "$d/cmd.log" || fail "the migrate command never started"
kill -TERM "$DPID"
wait_bg
assert_eq 143 "$rc" "TERM during --migrate: exit status"
assert_eq "START TERM DONE" "$(tr '\n' ' ' <"$d/cmd.log" | sed 's/ $//')" \
  "the command got TERM and finished"
[ ! -e "$d/app.log" ] || fail "the app ran after a stop during --migrate"
ok "--migrate: the command gets the stop signal and finishes; no app; 143"

# Ignores TERM: SIGKILL at --stop-timeout, and the message says what to check.
rm -f "$d/cmd.log"
cmd_args "$d" "trap '' TERM; echo START >>$d/cmd.log; sleep 30; echo DONE >>$d/cmd.log"
start_bg child "$d/kill.out" "${BOOT[@]}"
wait_for 10 grep -q START "$d/cmd.log" || fail "the migrate command never started"
t0=$(date +%s%3N)
kill -TERM "$DPID"
wait_bg
t1=$(date +%s%3N)
assert_eq 143 "$rc" "--migrate ignoring TERM: exit status"
[ $((t1 - t0)) -lt 5000 ] || fail "took $((t1 - t0)) ms to stop with --stop-timeout 1"
assert_contains "$d/kill.out" "sending SIGKILL" "killed at the stop timeout"
assert_contains "$d/kill.out" "npx prisma migrate resolve --rolled-back NAME" "names the fix"
assert_not_contains "$d/cmd.log" DONE "the command was killed"
ok "--migrate: a command that ignores TERM is killed at --stop-timeout ($((t1 - t0)) ms); the message names the fix"
done_testing
