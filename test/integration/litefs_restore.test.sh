# ctest-labels: integration;litefs
# ctest-timeout: 180
# On a real two-node LiteFS cluster (v0.5.14, static lease) whose primary A
# has an empty volume and a Litestream backup (file replica, written by
# litestream v0.3.13): A's dbsetup restores the backup to a file on its
# volume, checks it, imports it (POST /import), migrates nothing, seeds
# nothing, and runs litestream on the database in the mount (meta-path on
# the volume); B receives the import and serves the backup's data, runs no
# replicator; nothing but the app's database is in either node's dbs/, and
# the restore's file is gone. Before (807b48e) dbsetup refused (78).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
lfs_db_app

# The backup: the blog schema migrated by dbsetup, three posts, replicated
# by litestream 0.3.13 to $T/backup, litestream stopped.
mkdir -p "$T/src"
"$DBSETUP" migrate --db "$T/src/app.db" --prisma-migrations "$T/migrations" >/dev/null 2>&1
sqlite3 "$T/src/app.db" "INSERT INTO \"User\"(email) VALUES ('b@example.com');
  INSERT INTO \"Post\"(title, authorId) VALUES ('backup-1', 1), ('backup-2', 1), ('backup-3', 1);"
cat >"$T/src/ls.yml" <<YML
dbs:
  - path: $T/src/app.db
    replicas: [ { type: file, path: $T/backup, sync-interval: 100ms } ]
YML
"$DBS_PEERS/litestream" replicate -config "$T/src/ls.yml" >"$T/src/ls.log" 2>&1 &
lspid=$!
_snap() { ls "$T"/backup/generations/*/snapshots/*.lz4 >/dev/null 2>&1; }
wait_for 20 _snap || fail "litestream wrote no snapshot"
sleep 1
kill -TERM "$lspid"
wait "$lspid" || true
want=$(printf 'backup-1\nbackup-2\nbackup-3')

# Each node has the litestream.yml of one image (the database in its
# mount, the meta-path on its volume; on one machine the paths differ); B
# never runs litestream.
for n in a b; do
  cat >"$T/ls-$n.yml" <<YML
dbs:
  - path: $T/$n/mnt/app.db
    meta-path: $T/$n/vol/app.db-litestream
    replicas: [ { type: file, path: $T/backup } ]
YML
  lfs_config $n "$(lfs_db_exec $n "--litestream-config $T/ls-$n.yml --litestream $DBS_PEERS/litestream")"
done
lfs_start a
lfs_wait_ready a 30
lfs_start b
lfs_wait_ready b 30
_served() { [ "$(cat "$T/served-$1" 2>/dev/null)" = "$2" ]; }
wait_for 30 _served a "$want" || { cat "$T/a.log" >&2; fail "A does not serve the backup's data"; }
wait_for 30 _served b "$want" || { cat "$T/b.log" >&2; fail "B does not serve the backup's data"; }
ok "A restored and imported the backup; B received it and serves it"

grep -o "LiteFS: imported .* in [0-9.]* s" "$T/a.log" || fail "A did not log the import"
assert_contains "$T/a.log" "importing the restored database" "A's log"
assert_not_contains "$T/events" "seed" "events"
assert_contains "$T/a.log" "seed: skipped, the database was restored from its backup" "A's log"
assert_contains "$T/b.log" "LiteFS replica: no replicator here" "B's log"
assert_not_contains "$T/b.log" "restoring" "B's log"
ok "no seed anywhere; B neither restores nor replicates"

assert_eq "$(lfs_migrations a)" "$(lfs_migrations b)" "B's _prisma_migrations"
[ "$(lfs_migrations a | wc -l)" -eq 3 ] || fail "A's migrations: $(lfs_migrations a)"
ok "the backup's _prisma_migrations (3 rows) on both nodes"

for n in a b; do
  assert_eq "app.db" "$(ls -A "$T/$n/vol/litefs/dbs")" "$n: dbs/"
done
[ -z "$(ls -A "$T/a/vol" | grep dbsetup-restore)" ] || fail "the restore's file is left: $(ls -A "$T/a/vol")"
ok "only app.db in dbs/; the restore's file is gone from the volume"

# litestream on A replicates writes made through the mount.
_repl() { pgrep -f "litestream replicate -config $T/ls-a.yml" >/dev/null; }
wait_for 10 _repl || { cat "$T/a.log" >&2; fail "A runs no litestream"; }
sqlite3 -cmd '.timeout 5000' "$T/a/mnt/app.db" "INSERT INTO \"Post\"(title, authorId) VALUES ('after', 1)"
wait_for 10 _served b "$(printf '%s\nafter' "$want")" || fail "A's write did not reach B"
_meta() { [ -d "$T/a/vol/app.db-litestream/generations" ]; }
wait_for 10 _meta || fail "litestream made no meta-path directory on A's volume"
assert_eq ".dbsetup.lock app.db-litestream litefs" "$(ls -A "$T/a/vol" | sort | tr '\n' ' ' | sed 's/ $//')" "A's volume"
assert_eq "app.db" "$(ls -A "$T/a/vol/litefs/dbs")" "A's dbs/ with litestream running"
kill -TERM "$LFS_PID_a"
lfs_wait_exit a 30
assert_eq 0 "$rc" "litefs a's status after SIGTERM"
! lfs_mounted a || fail "A's mount is left after SIGTERM"
lfs_teardown
rm -rf "$T/check.db"
"$DBS_PEERS/litestream" restore -o "$T/check.db" "file://$T/backup" >/dev/null 2>&1 ||
  fail "the backup does not restore after A's run"
assert_eq "$(printf '%s\nafter' "$want")" "$(sqlite3 "$T/check.db" 'SELECT title FROM "Post" ORDER BY id')" "the backup after A's run"
ok "SIGTERM to litefs A with litestream running: litefs exits 0 and unmounts; the backup has a write made through the mount"

# A new migration on the database litestream left in WAL mode: A applies
# it (LiteFS refuses WAL writes under locking_mode=EXCLUSIVE, which
# Prisma's migrate takes); B, whose dbsetup starts 2 s before A's, waits
# until the migration has arrived too.
mkdir "$T/migrations/20240104000000_tag"
echo 'ALTER TABLE "Post" ADD COLUMN "tag" TEXT;' >"$T/migrations/20240104000000_tag/migration.sql"
: >"$T/events"
lfs_config a "$(lfs_db_exec a "--litestream-config $T/ls-a.yml --litestream $DBS_PEERS/litestream")" "sleep 2"
lfs_start a
lfs_wait_ready a 30
lfs_start b
lfs_wait_ready b 30
_started() { grep -q "^app $1: started" "$T/events"; }
wait_for 30 _started a || { cat "$T/a.log" >&2; fail "A's app did not start"; }
wait_for 30 _started b || { cat "$T/b.log" >&2; fail "B's app did not start"; }
assert_contains "$T/a.log" "applied migration 20240104000000_tag" "A's log"
assert_eq wal "$(sqlite3 -cmd '.timeout 5000' "$T/a/mnt/app.db" 'PRAGMA journal_mode')" "A's journal mode"
assert_contains "$T/b.log" "3 of 4 migrations applied" "B's wait"
grep -o "LiteFS replica: the primary's database .* (4 of 4 migrations applied) after [0-9.]* s" "$T/b.log" ||
  fail "B did not wait for the 4th migration"
assert_eq "$(lfs_migrations a)" "$(lfs_migrations b)" "B's _prisma_migrations"
[ "$(lfs_migrations b | wc -l)" -eq 4 ] || fail "B's migrations: $(lfs_migrations b)"
ok "A migrated its WAL-mode database in LiteFS; B waited for the migration, then started"

run sqlite3 -cmd '.timeout 5000' "$T/a/mnt/app.db" 'PRAGMA locking_mode=EXCLUSIVE; INSERT INTO "User"(email) VALUES ("x@example.com")' 2>"$T/err"
[ "$rc" -ne 0 ] || fail "an EXCLUSIVE write in WAL mode succeeded on LiteFS"
ok "negative control: LiteFS refuses a WAL write under locking_mode=EXCLUSIVE ($(head -1 "$T/err"))"
done_testing
