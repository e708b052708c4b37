# ctest-labels: integration;litefs
# ctest-timeout: 180
# Failures under a real LiteFS v0.5.14 (static lease):
# - a replica whose primary never makes the database waits
#   DBSETUP_LITEFS_REPLICA_WAIT seconds, logging, then exits 75 (and litefs
#   with it), having created nothing;
# - the primary's LiteFS dies during a migration: dbsetup exits 75
#   ("LiteFS no longer answers") and keeps the new database (no discard of
#   the fresh database); LiteFS rolled the script's write back, so the next
#   boot stops at Prisma's P3009 for the migration recorded as started,
#   naming `prisma migrate resolve --rolled-back` (as after any migration
#   killed while it ran);
# - the seed of a new database fails on the primary: 81, the database
#   dropped through LiteFS (no pages left, on the replica too), so the next
#   boot starts fresh and seeds.
# Before (807b48e) dbsetup refused both setups (78).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
lfs_db_app

# A runs LiteFS alone (no database ever); B's dbsetup waits 2 s.
lfs_config a
lfs_config b "$(lfs_db_exec b)"
lfs_start a
lfs_wait_ready a 30
export DBSETUP_LITEFS_REPLICA_WAIT=2
t0=$(date +%s%N)
lfs_start b
lfs_wait_exit b 30
unset DBSETUP_LITEFS_REPLICA_WAIT
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq 75 "$rc" "litefs b's status (dbsetup's 75 passed on; log: $(cat "$T/b.log"))"
assert_contains "$T/b.log" "LiteFS replica: waiting up to 2 s for the primary (node-a) to make the database $T/b/mnt/app.db: no database yet" "B's log"
assert_contains "$T/b.log" "the primary's database $T/b/mnt/app.db did not arrive within 2 s (no database yet): exiting 75" "B's log"
assert_eq "" "$(ls -A "$T/b/vol/litefs/dbs" 2>/dev/null)" "B's dbs/"
[ ! -e "$T/events" ] || fail "B's app started"
ok "a replica without the primary's database: 75 after 2 s (litefs b ended after $ms ms), nothing made"
lfs_teardown

# A slow first migration (a count over 15 M rows, then its write); A's
# litefs is killed while it runs.
mkdir -p "$T/slow/20240101000000_slow" "$T/cwd"
cp "$T/migrations/migration_lock.toml" "$T/slow/"
cat >"$T/slow/20240101000000_slow/migration.sql" <<'SQL'
CREATE TABLE "Slow" AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 15000000) SELECT count(*) AS n FROM c;
SQL
lfs_start a
lfs_wait_ready a 30
cp "$T/a.yml" "$T/cwd/litefs.yml"
( cd "$T/cwd" && exec "$DBSETUP" --volume "$T/avol" --db "$T/a/mnt/app.db" --prisma-migrations "$T/slow" -- true ) 2>"$T/dbs.log" &
dpid=$!
_applying() { grep -q "applying migration 20240101000000_slow" "$T/dbs.log"; }
wait_for 30 _applying || fail "the migration did not start: $(cat "$T/dbs.log")"
sleep 0.5
kill -KILL "$LFS_PID_a"
t0=$(date +%s%N)
set +e; wait "$dpid"; rc=$?; set -e
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq 75 "$rc" "dbsetup's status (log: $(cat "$T/dbs.log"))"
assert_contains "$T/dbs.log" "the migration failed and LiteFS no longer answers" "dbsetup's log"
assert_contains "$T/dbs.log" "the database $T/a/mnt/app.db is kept as it is; exiting 75" "dbsetup's log"
assert_not_contains "$T/dbs.log" "removed the new database" "dbsetup's log"
ok "LiteFS killed during the primary's migration: 75 $ms ms later, the new database kept"

# The next start (LiteFS restarted): the database is still there, the
# script's write rolled back, the migration recorded as started: P3009.
lfs_teardown
lfs_start a
lfs_wait_ready a 30
assert_eq "app.db" "$(ls -A "$T/a/vol/litefs/dbs")" "A's dbs/ after the restart"
assert_eq "20240101000000_slow|" "$(sqlite3 "$T/a/mnt/app.db" 'SELECT migration_name, finished_at FROM _prisma_migrations')" "the migration's row"
assert_eq "" "$(sqlite3 "$T/a/mnt/app.db" "SELECT name FROM sqlite_master WHERE name = 'Slow'")" "the script's table"
run env -C "$T/cwd" "$DBSETUP" --volume "$T/avol" --db "$T/a/mnt/app.db" --prisma-migrations "$T/slow" -- true 2>"$T/dbs2.log"
assert_eq 80 "$rc" "the next boot (log: $(cat "$T/dbs2.log"))"
assert_contains "$T/dbs2.log" "npx prisma migrate resolve --rolled-back 20240101000000_slow" "the next boot's advice"
ok "after LiteFS restarts: the database kept, the script's write rolled back, the next boot names the resolve (P3009)"
lfs_teardown

# A failing seed: the new database is dropped cluster-wide (LiteFS keeps
# the name with no pages), and the next boot makes it again and seeds.
rm -rf "$T/a" "$T/b" "$T/events"
printf '#!/bin/sh\necho "badseed $LFS_NODE" >>"$T/events"\nsqlite3 "$T/$LFS_NODE/app/app.db" "INSERT INTO \\"User\\"(email) VALUES (1)"\nexit 5\n' >"$T/badseed.sh"
chmod +x "$T/badseed.sh"
lfs_config a "$DBSETUP --volume $T/a/vol --db $T/a/app/app.db --prisma-migrations $T/migrations --seed $T/badseed.sh -- $T/dbapp.sh"
lfs_config b
lfs_start a
lfs_wait_exit a 60
assert_eq 81 "$rc" "litefs a's status (dbsetup's 81; log: $(cat "$T/a.log"))"
assert_contains "$T/a.log" "seed failed: removed the new database $T/a/mnt/app.db" "A's log"
lfs_config a
lfs_start a
lfs_wait_ready a 30
lfs_start b
lfs_wait_ready b 30
_dropped() { [ "$(stat -c %s "$T/$1/mnt/app.db" 2>/dev/null || echo 0)" = 0 ]; }
_dropped a || fail "A's database still has pages"
_dropped b || fail "B received pages of the dropped database"
ok "a failed seed on the primary: 81, the new database dropped through LiteFS (0 bytes on A and B)"
lfs_teardown
lfs_config a "$(lfs_db_exec a)"
lfs_start a
lfs_wait_ready a 30
_served() { [ "$(cat "$T/served-$1" 2>/dev/null)" = "$2" ]; }
wait_for 30 _served a seeded || { cat "$T/a.log" >&2; fail "A did not start fresh and seed"; }
assert_contains "$T/a.log" "database $T/a/mnt/app.db is new (LiteFS primary)" "A's log"
ok "the next boot takes the dropped database for new: migrates and seeds"
done_testing
