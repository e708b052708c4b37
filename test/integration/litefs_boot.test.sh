# ctest-labels: integration;litefs
# ctest-timeout: 180
# dbsetup as LiteFS's exec command on both nodes of a real two-node
# cluster (LiteFS v0.5.14, static lease): the primary A links the app's
# path into its mount, migrates and seeds once; the replica B does
# neither, waits for A's database and migrations, then serves A's data;
# a write on B fails as LiteFS says; only the app's database is in dbs/.
# Before (807b48e) dbsetup refused every database under LiteFS (78).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
lfs_db_app

# litefs B execs dbsetup as soon as it has synced with A; A runs dbsetup
# 2 s after it is up, so B's dbsetup must wait for A's database.
lfs_config a "$(lfs_db_exec a)" "sleep 2"
lfs_config b "$(lfs_db_exec b)"
lfs_start a
lfs_wait_ready a 30
lfs_start b
lfs_wait_ready b 30
t0=$(date +%s%N)
_served() { [ "$(cat "$T/served-$1" 2>/dev/null)" = "$2" ]; }
wait_for 30 _served a seeded || { cat "$T/a.log" >&2; fail "A does not serve its seeded database"; }
wait_for 30 _served b seeded || { cat "$T/b.log" >&2; fail "B does not serve A's data"; }
ok "A migrated and seeded; B serves A's data ($(( ($(date +%s%N) - t0) / 1000000 )) ms after both were up)"
assert_contains "$T/b.log" "LiteFS replica: waiting up to 300 s for the primary (node-a) to make the database $T/b/mnt/app.db" "B's wait"
grep -o "LiteFS replica: the primary's database .* after [0-9.]* s" "$T/b.log" || fail "B did not log the end of its wait"

assert_eq "$T/a/mnt/app.db" "$(readlink "$T/a/app/app.db")" "A's app path"
assert_eq "$T/b/mnt/app.db" "$(readlink "$T/b/app/app.db")" "B's app path"
ok "each node's app path is linked into its LiteFS mount"

assert_eq 1 "$(grep -c '^seed a$' "$T/events")" "A's seeds"
assert_eq 0 "$(grep -c '^seed b$' "$T/events")" "B's seeds"
assert_contains "$T/b.log" "LiteFS replica: no migration here" "B's log"
assert_not_contains "$T/b.log" "migration 2024" "B's log"
assert_contains "$T/b.log" "LiteFS: this node is a replica of node-a" "B's role"
assert_contains "$T/a.log" "LiteFS: this node is the primary" "A's role"
ok "A seeded once, B neither migrated nor seeded"

ma=$(lfs_migrations a)
[ "$(echo "$ma" | wc -l)" -eq 3 ] || fail "A's migrations: $ma"
assert_eq "$ma" "$(lfs_migrations b)" "B's _prisma_migrations"
ok "B's _prisma_migrations equals A's (3 rows)"

run sqlite3 "$T/b/app/app.db" "INSERT INTO \"User\"(email) VALUES ('b@example.com')" 2>"$T/err"
[ "$rc" -ne 0 ] || fail "a write on B succeeded"
assert_contains "$T/err" "readonly" "B's write error"
ok "a write on B fails (attempt to write a readonly database)"

for n in a b; do
  assert_eq "app.db" "$(ls -A "$T/$n/vol/litefs/dbs")" "$n: dbs/"
  assert_eq "app.db" "$(ls -A "$T/$n/mnt" | grep -v -e '^\.lag$' -e '^\.primary$' -e '^app\.db-\(pos\|shm\|wal\|journal\)$')" "$n: the mount"
done
assert_eq ".dbsetup.lock litefs" "$(ls -A "$T/a/vol" | tr '\n' ' ' | sed 's/ $//')" "A's volume"
ok "nothing in dbs/ or the mount beside the app's database; the lock on the volume"

# doctor from a shell on each node (its litefs.yml in the cwd, the app's
# path already linked into the mount): the target in the mount, the link
# kept; counts of migrations on the primary only (a replica migrates
# nothing).
for n in a b; do
  cp "$T/$n.yml" "$T/$n/litefs.yml"
  run env -C "$T/$n" "$DBSETUP" doctor --ignore-lock --volume "$T/$n/vol" --db "$T/$n/app/app.db" \
    --prisma-migrations "$T/migrations" --seed "$T/seed.sh" -- "$T/dbapp.sh" >"$T/doc-$n" 2>&1
  assert_eq 0 "$rc" "doctor on $n (output: $(cat "$T/doc-$n"))"
  assert_contains "$T/doc-$n" "target: $T/$n/mnt/app.db" "doctor on $n"
  assert_contains "$T/doc-$n" "link: $T/$n/app/app.db -> $T/$n/mnt/app.db: in place (kept)" "doctor on $n"
  rm "$T/$n/litefs.yml"
done
assert_contains "$T/doc-a" "applied: 3" "doctor on a"
assert_contains "$T/doc-a" "litefs: this node is the primary (static lease)" "doctor on a"
assert_contains "$T/doc-b" "litefs: this node is a replica of node-a: it waits" "doctor on b"
assert_not_contains "$T/doc-b" "applied:" "doctor on b"
ok "doctor on each node names its role and follows LiteFS: the database in the mount, migrations on the primary only"

# A restart of both: nothing migrated or seeded again; B finds the data.
lfs_teardown
: >"$T/events"
lfs_start a
lfs_wait_ready a 30
lfs_start b
lfs_wait_ready b 30
_started() { grep -q "^app $1: started" "$T/events"; }
wait_for 30 _started a || fail "A's app did not start again"
wait_for 30 _started b || fail "B's app did not start again"
assert_not_contains "$T/events" "seed" "events after the restart"
ok "after a restart of both nodes: no seed, both apps start"
lfs_teardown

# --user with fuse.allow-other: the migration, the seed and the app run as
# nobody and use the database in the mount (LiteFS's files are root's;
# nothing is chowned there).
# (the root-run apps may have been stopped between writing served-*.tmp and
# moving it: a root-owned leftover would refuse nobody's write)
rm -rf "$T/a" "$T/b" "$T/events" "$T"/served-*
chmod 1777 "$T"
chmod -R a+rX "$T/migrations" "$T/seed.sh" "$T/dbapp.sh"
lfs_config a "$(lfs_db_exec a --user nobody)"
sed -i 's|^fuse: { dir: \(.*\) }$|fuse: { dir: \1, allow-other: true }|' "$T/a.yml"
lfs_start a
lfs_wait_ready a 30
wait_for 30 _served a seeded || { cat "$T/a.log" >&2; fail "A with --user does not serve its database"; }
assert_eq nobody "$(stat -c %U "$T/events")" "the app's user"
assert_contains "$T/a.log" "applied migration 20240103000000_audit_trigger" "A's log"
ok "--user nobody with fuse.allow-other: migrated, seeded and served as nobody"
done_testing
