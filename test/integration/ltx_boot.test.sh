#!/usr/bin/env bash
# ctest-labels: integration;ltx
# ctest-timeout: 240
# The hazard of issue #10, end to end with the real litestream 0.5 (v0.5.18)
# as the replicator and a litestream.yml in 0.5 syntax (`replica:`):
# - a fresh volume + a file replica written by `litestream replicate` 0.5:
#   the boot restores it, the app sees the RESTORED rows and writes one
#   more, dbsetup is stopped (TERM, as PID 1 and as a plain child), and
#   `litestream restore` 0.5 (latest) of the replica holds every old row
#   plus the new one;
# - a Prisma app: restore -> native migrate (one pending migration) -> no
#   seed (the log says so) -> app up and writing; stop -> the last write is
#   in the replica.
# Before the LTX restore (622c592) the boot saw no generations/, logged
# "no backup ... exists: starting with a new database", and the app found
# an empty database (the Prisma app a freshly migrated one) with
# litestream 0.5 replicating it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prisma_lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "missing $LS05: run scripts/peers.sh (litestream 0.5 needs Go >= 1.25)"
"$LS05" version | grep -q '^v0\.5\.' || fail "$LS05 is not litestream 0.5 ($("$LS05" version))"
# litestream 0.5's AWS SDK refuses AWS_CA_BUNDLE (set on this machine);
# dbsetup passes its environment to the replicator.
unset AWS_CA_BUNDLE || true
export PS

# yml05 FILE DB REPLICA: a litestream.yml in 0.5 syntax.
yml05() {
  cat >"$1" <<YML
dbs:
  - path: $2
    monitor-interval: 100ms
    replica:
      type: file
      path: $3
      sync-interval: 100ms
YML
}

# replicate05 YML DIR SQL...: `litestream replicate` 0.5 with YML until DIR
# holds an L0 file, then each SQL (sqlite3 on the database of YML, 0.3 s
# apart), then SIGTERM (its final sync).
replicate05() {
  local yml=$1 dir=$2 db lp s
  shift 2
  db=$(sed -n 's/^  - path: //p' "$yml")
  "$LS05" replicate -config "$yml" >>"$T/ls05.log" 2>&1 &
  lp=$!
  cleanup "kill $lp 2>/dev/null"
  wait_for 20 sh -c "ls '$dir/ltx/0' 2>/dev/null | grep -q '\.ltx$'" ||
    { cat "$T/ls05.log" >&2; fail "litestream 0.5 wrote nothing to $dir"; }
  for s in "$@"; do
    sqlite3 -cmd ".timeout 5000" "$db" "$s" >/dev/null
    sleep 0.3
  done
  sleep 1
  kill -TERM "$lp"
  wait "$lp" || true
}

# latest05 REPLICA OUT: `litestream restore` 0.5, latest, of a file replica.
latest05() {
  rm -f "$2"
  "$LS05" restore -o "$2" "file://$1" >"$T/restore05.log" 2>&1 ||
    { cat "$T/restore05.log" >&2; fail "litestream 0.5 cannot restore $1"; }
}

# no_app WHAT LOG: the app never came up; fails saying why.
no_app() {
  if grep -qE "(fresh|new) database" "$2"; then
    fail "$1: the boot started a fresh database over the litestream 0.5 backup (exit $rc)"
  fi
  fail "$1: the app did not come up (dbsetup exit $rc)"
}

# ---- the hazard: restore, one more write, stop -----------------------------

mkdir -p "$T/src" "$T/app"
yml05 "$T/src.yml" "$T/src/app.db" "$T/replica0"
sqlite3 "$T/src/app.db" "PRAGMA journal_mode=wal;
  CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
  INSERT INTO t(v) SELECT 'old-' || value || '-' || hex(randomblob(150)) FROM generate_series(1, 400);" >/dev/null
replicate05 "$T/src.yml" "$T/replica0" \
  "INSERT INTO t(v) SELECT 'old-b' || value FROM generate_series(1, 50)" \
  "UPDATE t SET v = v || '-u' WHERE id % 7 = 0" \
  "DELETE FROM t WHERE id % 11 = 0"
old_rows() { sqlite3 "file:$1?immutable=1" "SELECT id, v FROM t WHERE v NOT LIKE 'new-%' ORDER BY id" | sha1sum | cut -c1-16; }
want_old=$(old_rows "$T/src/app.db")
want_n=$(sqlite3 "$T/src/app.db" "SELECT count(*) FROM t")
[ "$want_n" -gt 400 ] || fail "source database: $want_n rows"
# The replica is litestream 0.5's: it restores that database.
latest05 "$T/replica0" "$T/check.db"
assert_eq "$want_old" "$(old_rows "$T/check.db")" "litestream 0.5 restores the source database"

cd "$T/app"
# The app: reports the rows it sees, commits row new-$ROW, then waits to
# be stopped (print-signals exits 0 on TERM).
cat >app.sh <<'SH'
#!/bin/sh
sqlite3 -cmd '.timeout 5000' db/app.db "select count(*) from t" >"$READY.rows" 2>&1 || exit 91
sqlite3 -cmd '.timeout 5000' db/app.db "insert into t(v) values('new-$ROW')" || exit 90
exec "$PS" -o "$READY.sigs" -r "$READY" -T 120
SH
chmod +x app.sh
n=0
for mode in "${MODES[@]}"; do
  n=$((n + 1))
  vol=$T/vol$n rep=$T/replica$n
  cp -a "$T/replica0" "$rep"
  yml05 litestream.yml "$vol/app.db" "$rep"
  export ROW=$n READY=$T/ready$n
  start_bg "$mode" "$T/err$n" "$DBSETUP" --db db/app.db --volume "$vol" \
    --litestream "$LS05" --litestream-config litestream.yml -- ./app.sh
  wait_for 30 test -e "$READY" || { wait_bg; cat "$T/err$n" >&2; no_app "$mode" "$T/err$n"; }
  assert_eq "$want_n" "$(cat "$READY.rows")" "$mode: rows the app sees (the restored database)"
  kill -TERM "$DPID"
  wait_bg
  assert_eq 0 "$rc" "$mode: exit status after TERM (the app's)"
  assert_not_contains "$T/err$n" "fresh database" "$mode: fresh start"
  assert_not_contains "$T/err$n" "starting with a new database" "$mode: fresh start"
  assert_contains "$T/err$n" "replicator started" "$mode: litestream 0.5 replicated"
  latest05 "$rep" "$T/after$n.db"
  assert_eq "$want_old" "$(old_rows "$T/after$n.db")" "$mode: every old row in the replica's latest restore"
  assert_eq "1" "$(sqlite3 "file:$T/after$n.db?immutable=1" "SELECT count(*) FROM t WHERE v = 'new-$n'")" \
    "$mode: the app's new row in the replica's latest restore"
  assert_eq "$((want_n + 1))" "$(sqlite3 "file:$T/after$n.db?immutable=1" "SELECT count(*) FROM t")" \
    "$mode: rows in the replica's latest restore"
  ok "$mode: fresh volume + litestream 0.5 replica: the boot restores it, the app writes, TERM; litestream 0.5 restores every old row and the new one"
done

# ---- a Prisma app: restore -> migrate -> no seed -> app; stop -----------------

papp=$T/papp vol=$T/pvol rep=$T/preplica
prisma_blog_app "$papp"
export SEED_LOG=$T/seeds
# The database as it was deployed: three migrations and the seed, by a
# boot without replication; then litestream 0.5 replicates it (and one
# more user written meanwhile).
run env DBSETUP_VOLUME="$vol" "$DBSETUP" --no-replicate -- true >"$T/pfirst" 2>&1
assert_eq 0 "$rc" "first deploy (fresh database)"
assert_eq 1 "$(wc -l <"$SEED_LOG")" "first deploy seeded"
yml05 "$T/psrc.yml" "$vol/dev.db" "$rep"
replicate05 "$T/psrc.yml" "$rep" "insert into User(email,name) values('c@example.com','C')"
users() { sqlite3 "file:$1?immutable=1" "select group_concat(email, ' ') from (select email from User order by id)"; }
migrations() { sqlite3 "file:$1?immutable=1" "select count(*) from _prisma_migrations where finished_at is not null and rolled_back_at is null"; }
assert_eq "a@example.com b@example.com c@example.com" "$(users "$vol/dev.db")" "users before the move"

# A new volume, a pending migration that the app needs, litestream 0.5 as
# the replicator (found as litestream.yml beside the app).
rm -rf "$vol"
mkdir prisma/migrations/20240104000000_add_bio
echo 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;' >prisma/migrations/20240104000000_add_bio/migration.sql
yml05 litestream.yml "$vol/dev.db" "$rep"
cat >app.sh <<'SH'
#!/bin/sh
sqlite3 -cmd '.timeout 5000' prisma/dev.db "insert into User(email,name,bio) values('late@example.com','Late','written by the app')" || exit 90
exec "$PS" -o "$READY.sigs" -r "$READY" -T 120
SH
chmod +x app.sh
export READY=$T/pready
start_bg child "$T/perr" env DBSETUP_VOLUME="$vol" "$DBSETUP" --litestream "$LS05" -- ./app.sh
wait_for 30 test -e "$READY" || { wait_bg; cat "$T/perr" >&2; no_app "Prisma app" "$T/perr"; }
kill -TERM "$DPID"
wait_bg
assert_eq 0 "$rc" "Prisma app: exit status after TERM"
assert_not_contains "$T/perr" "fresh database" "Prisma app: fresh start"
assert_not_contains "$T/perr" "starting with a new database" "Prisma app: fresh start"
assert_contains "$T/perr" "1 migration applied" "Prisma app: the pending migration applied"
assert_contains "$T/perr" "seed: skipped, the database was restored from its backup" "Prisma app: no seed, and the log says why"
assert_eq 1 "$(wc -l <"$SEED_LOG")" "Prisma app: the seed ran once in all (the first deploy)"
assert_contains "$T/perr" "replicator started" "Prisma app: litestream 0.5 replicated"
latest05 "$rep" "$T/pafter.db"
assert_eq "a@example.com b@example.com c@example.com late@example.com" "$(users "$T/pafter.db")" \
  "Prisma app: users in the replica's latest restore"
assert_eq "written by the app" "$(sqlite3 "file:$T/pafter.db?immutable=1" "select bio from User where email = 'late@example.com'")" \
  "Prisma app: the last write (in the migrated column)"
assert_eq 4 "$(migrations "$T/pafter.db")" "Prisma app: migrations recorded in the replica"
ok "Prisma app on a new volume: restore (litestream 0.5 replica) -> 1 migration -> no seed -> app writes; TERM; the write is in the replica"
done_testing
