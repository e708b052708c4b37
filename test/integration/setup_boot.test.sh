#!/usr/bin/env bash
# ctest-labels: integration;setup
# ctest-timeout: 180
# The boot phases end to end with the real litestream v0.3.13 and a file
# replica: fresh volume → migrate + seed once + replicate; second boot → no
# seed; wiped volume → restored, not seeded; failing seed/migration.
. "$(dirname "$0")/lib.sh"

app=$T/app vol=$T/data rep=$T/replica
mkdir -p "$app" "$rep"
cd "$app"
file_replica_yml litestream.yml "$vol/dev.db" "$rep"
# The app: a row per boot, then print the table and exit with $APP_EXIT.
cat >app.sh <<'SH'
#!/bin/sh
sqlite3 -cmd '.timeout 5000' "$DB" "insert into boots(at) values(strftime('%s','now'));" || exit 90
sleep "${APP_SLEEP:-0.5}"
sqlite3 -cmd '.timeout 5000' "$DB" "select 'rows', (select count(*) from seeds), (select count(*) from boots);"
exit "${APP_EXIT:-0}"
SH
chmod +x app.sh
migrate="sqlite3 -cmd '.timeout 5000' db/dev.db 'create table if not exists seeds(x); create table if not exists boots(at)'"
seed="echo seeded >>$T/seed-runs && sqlite3 -cmd '.timeout 5000' db/dev.db 'insert into seeds values(1),(2),(3)'"
boot() { # extra args...; output in $T/out, status in $rc
  run env DB=db/dev.db "$DBSETUP" --db db/dev.db --volume "$vol" \
    --litestream "$LITESTREAM" --litestream-config litestream.yml \
    --migrate "$migrate" --seed "$seed" --replicator-stop-timeout 5 \
    "$@" -- ./app.sh >"$T/out" 2>&1
}

boot
cat "$T/out"
assert_eq 0 "$rc" "first boot exit status"
assert_contains "$T/out" "rows|3|1" "first boot: seeded and one boot row"
assert_eq 1 "$(wc -l <"$T/seed-runs")" "seed ran once"
[ -L db/dev.db ] && [ "$(readlink db/dev.db)" = "$vol/dev.db" ] || fail "db/dev.db is not a link to the volume"
assert_contains "$T/out" "[replicator] " "replicator output relayed"
ls "$rep/generations" >/dev/null || fail "no generation in the replica"
ok "fresh volume: migrated, seeded once, replicated"

boot
assert_eq 0 "$rc" "second boot exit status"
assert_contains "$T/out" "rows|3|2" "second boot: same seeds, two boot rows"
assert_eq 1 "$(wc -l <"$T/seed-runs")" "seed did not run again"
ok "second boot: no seed"

before=$(sqlite3 "$vol/dev.db" .dump | sha256sum)
rm -rf "$vol"
boot
assert_eq 0 "$rc" "restore boot exit status"
assert_contains "$T/out" "rows|3|3" "restored rows plus this boot's"
assert_eq 1 "$(wc -l <"$T/seed-runs")" "restored database not seeded"
ok "wiped volume: restored from the backup, not seeded"

# App exit code passes through, and litestream's final sync still happens.
run env APP_EXIT=3 DB=db/dev.db "$DBSETUP" --db db/dev.db --volume "$vol" \
  --litestream "$LITESTREAM" --litestream-config litestream.yml \
  --migrate "$migrate" -- ./app.sh >"$T/out" 2>&1
assert_eq 3 "$rc" "app exit code"
rm -rf "$vol"
boot
assert_contains "$T/out" "rows|3|5" "the crashed boot's row reached the backup"
ok "app exit code passes through; final sync before exit"

# An app that writes and exits at once, with litestream's default 1 s
# monitor interval: litestream uploads nothing when stopped before its first
# sync, so dbsetup gives the replicator that long before stopping it.
sed '/monitor-interval/d' litestream.yml >default-intervals.yml
rm -rf "$vol" "$rep"/*
run env APP_SLEEP=0 DB=db/dev.db "$DBSETUP" --db db/dev.db --volume "$vol" \
  --litestream "$LITESTREAM" --litestream-config default-intervals.yml \
  --migrate "$migrate" -- ./app.sh >"$T/out" 2>&1
assert_eq 0 "$rc" "quick app exit status"
cp "$T/out" "$T/quick.out"
rm -rf "$vol"
boot
assert_contains "$T/out" "rows|0|2" "the quick app's write reached the backup"
assert_contains "$T/quick.out" "for its first sync" "waited for the replicator's first sync"
ok "an app that exits in its first second still gets its writes backed up"

# Failing seed on a fresh database: DB removed, 81; next boot seeds.
rm -rf "$vol" "$rep"/* "$T/seed-runs"
boot --seed "echo seeded >>$T/seed-runs; exit 7"
assert_eq 81 "$rc" "failing seed exit status"
assert_contains "$T/out" "status 7" "seed status in the message"
[ ! -e "$vol/dev.db" ] || fail "half-seeded database left on the volume"
[ ! -e "$vol/dev.db-wal" ] || fail "-wal left"
assert_not_contains "$T/out" "rows|" "app must not start after a failed seed"
boot
assert_eq 0 "$rc" "boot after failed seed"
assert_contains "$T/out" "rows|3|1" "next boot seeds"
ok "failed seed: database removed (81), next boot seeds"

# Failing migration on an existing DB: 80, byte-identical; continue starts.
sum=$(sha256sum <"$vol/dev.db")
boot --migrate "exit 5"
assert_eq 80 "$rc" "failing migration exit status"
assert_eq "$sum" "$(sha256sum <"$vol/dev.db")" "database untouched"
assert_not_contains "$T/out" "rows|" "app not started"
boot --migrate "exit 5" --migrate-failure continue
assert_eq 0 "$rc" "continue: app runs"
assert_contains "$T/out" "MIGRATION FAILED" "loud warning"
assert_contains "$T/out" "rows|3|2" "app ran on the existing DB"
ok "failed migration: 80 with the DB untouched; continue starts the app"

# Failing migration on a fresh DB: removed, 80.
rm -rf "$vol" "$rep"/*
boot --migrate "sqlite3 db/dev.db 'create table x(y)'; exit 4"
assert_eq 80 "$rc" "failing migration on a fresh DB"
[ ! -e "$vol/dev.db" ] || fail "fresh DB kept after a failed migration"
ok "failed migration on a fresh DB removes it"

# Stale -wal beside a missing DB is removed before anything opens it.
rm -rf "$vol"; mkdir -p "$vol"
printf 'stale wal bytes' >"$vol/dev.db-wal"; printf 'x' >"$vol/dev.db-shm"
boot --no-restore
assert_eq 0 "$rc" "boot with stale wal"
assert_contains "$T/out" "rows|3|1" "fresh DB works"
ok "stale -wal/-shm removed"

# Not SQLite on the volume: 65, untouched.
rm -rf "$vol"; mkdir -p "$vol"; echo "hello" >"$vol/dev.db"
boot
assert_eq 65 "$rc" "non-SQLite file"
assert_eq hello "$(cat "$vol/dev.db")" "file untouched"
ok "non-SQLite file on the volume: 65"

done_testing
