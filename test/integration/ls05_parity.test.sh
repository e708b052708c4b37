#!/usr/bin/env bash
# ctest-labels: integration;restore;ltx;s3
# ctest-timeout: 180
# litestream.yml read as real litestream 0.5.18 reads it, where a naive
# reading differs:
# - dbs[].path "sqlite:///dir/db" (a connection string): 0.5's expand()
#   strips "sqlite://" / "sqlite3://", so the entry is /dir/db. litestream
#   replicates and restores that file, and `dbsetup restore /dir/db`
#   finds the same entry and gives the same bytes.
# - an s3 url's query: Go's url.ParseQuery drops a pair holding ';'
#   whole, so "?x=1;endpoint=DEAD&endpoint=LIVE" reaches LIVE in
#   litestream 0.5, and must in dbsetup (not DEAD, as a split at ';'
#   would give).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "litestream 0.5 missing: run scripts/peers.sh (DBS_PEERS=$DBS_PEERS)"
ls05() { env -u AWS_CA_BUNDLE "$LS05" "$@"; }

# replicate05 YML DB: rows in DB, litestream 0.5 replicating it, more rows,
# stopped once the replica holds them (ltx files under REPLICA_CHECK).
replicate05() {
  local yml=$1 db=$2 lp
  sqlite3 "$db" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t(v) SELECT hex(randomblob(100)) FROM generate_series(1, 200);" >/dev/null
  env -u AWS_CA_BUNDLE "$LS05" replicate -config "$yml" >"$T/ls05.log" 2>&1 &
  lp=$!
  cleanup "kill $lp 2>/dev/null"
  sleep 1.5
  sqlite3 -cmd ".timeout 5000" "$db" "INSERT INTO t(v) VALUES ('last')"
  sleep 1.5
  kill -TERM "$lp"
  wait "$lp" || true
  grep -q "$db" "$T/ls05.log" || { cat "$T/ls05.log" >&2; fail "litestream 0.5 did not open $db"; }
}

# 1. sqlite:// in dbs[].path, file replica.
mkdir -p "$T/f"
cat >"$T/f/ls.yml" <<YML
dbs:
  - path: sqlite://$T/f/app.db
    monitor-interval: 100ms
    replica:
      type: file
      path: $T/f/replica
      sync-interval: 100ms
YML
replicate05 "$T/f/ls.yml" "$T/f/app.db"
[ -d "$T/f/replica/ltx" ] || fail "litestream 0.5 wrote no replica of $T/f/app.db"
run ls05 restore -config "$T/f/ls.yml" -o "$T/f/ls.db" "$T/f/app.db" >"$T/f/ls.out" 2>&1
assert_eq 0 "$rc" "litestream 0.5 restore $T/f/app.db ($(cat "$T/f/ls.out"))"
assert_eq last "$(sqlite3 "$T/f/ls.db" "SELECT v FROM t ORDER BY id DESC LIMIT 1")" "litestream's restore"
run "$DBSETUP" restore -config "$T/f/ls.yml" -o "$T/f/dbs.db" "$T/f/app.db" >"$T/f/dbs.out" 2>&1
assert_eq 0 "$rc" "dbsetup restore $T/f/app.db ($(cat "$T/f/dbs.out"))"
cmp "$T/f/ls.db" "$T/f/dbs.db" || fail "dbsetup restored other bytes than litestream 0.5"
ok "path: sqlite://$T/f/app.db is $T/f/app.db for litestream 0.5 and dbsetup restore"

# sqlite3:// too; both tools refuse the entry's path written with the
# prefix as a DB_PATH argument (it is a replica URL of type sqlite3).
sed "s|sqlite://|sqlite3://|" "$T/f/ls.yml" >"$T/f/ls3.yml"
run "$DBSETUP" restore -config "$T/f/ls3.yml" -o "$T/f/dbs3.db" "$T/f/app.db" >"$T/f/dbs3.out" 2>&1
assert_eq 0 "$rc" "dbsetup restore, sqlite3:// ($(cat "$T/f/dbs3.out"))"
cmp "$T/f/ls.db" "$T/f/dbs3.db" || fail "sqlite3://: other bytes"
run ls05 restore -config "$T/f/ls3.yml" -o "$T/f/x.db" "sqlite3://$T/f/app.db" >"$T/f/lsx.out" 2>&1
[ "$rc" -ne 0 ] || fail "litestream 0.5 took a sqlite3:// DB_PATH argument"
run "$DBSETUP" restore -config "$T/f/ls3.yml" -o "$T/f/y.db" "sqlite3://$T/f/app.db" >"$T/f/dbsx.out" 2>&1
[ "$rc" -ne 0 ] || fail "dbsetup took a sqlite3:// DB_PATH argument"
[ ! -e "$T/f/x.db" ] && [ ! -e "$T/f/y.db" ] || fail "a refused restore wrote a file"
ok "sqlite3:// in dbs[].path too; as an argument both refuse it (a URL)"

# 2. ';' in an s3 url's query (litestream 0.5 replicated through the
# config fields, with a sqlite:// path again).
s3_start
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
mkdir -p "$T/s"
s3_litestream_yml "$T/s/w.yml" "sqlite://$T/s/app.db" prod/db
replicate05 "$T/s/w.yml" "$T/s/app.db"
sleep 1 # s3rver may answer a PUT before the object is listable
# A closed port: what a split at ';' would reach.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/s/r.yml" <<YML
dbs:
  - path: $T/s/app.db
    replica:
      url: "s3://$S3_BUCKET/prod/db?region=us-east-1&x=1;endpoint=http://127.0.0.1:$dead&endpoint=$S3_ENDPOINT&forcePathStyle=true"
YML
run ls05 restore -config "$T/s/r.yml" -o "$T/s/ls.db" "$T/s/app.db" >"$T/s/ls.out" 2>&1
assert_eq 0 "$rc" "litestream 0.5 restore through the live endpoint ($(cat "$T/s/ls.out"))"
run "$DBSETUP" restore --restore-timeout 5 -config "$T/s/r.yml" -o "$T/s/dbs.db" "$T/s/app.db" >"$T/s/dbs.out" 2>&1
assert_eq 0 "$rc" "dbsetup restore through the live endpoint ($(cat "$T/s/dbs.out"))"
cmp "$T/s/ls.db" "$T/s/dbs.db" || fail "S3: dbsetup restored other bytes than litestream 0.5"
assert_not_contains "$T/s/dbs.out" "127.0.0.1:$dead" "dbsetup never names the dropped endpoint"
ok "s3 url ?x=1;endpoint=DEAD&endpoint=LIVE: both reach LIVE, same bytes"
done_testing
