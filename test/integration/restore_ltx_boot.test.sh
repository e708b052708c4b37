#!/usr/bin/env bash
# ctest-labels: integration;restore;ltx;s3
# ctest-timeout: 240
# A replica written by real litestream 0.5 (`litestream replicate`, file
# and S3 through the verifying s3rver) is a backup: a fresh volume boot
# never starts with a fresh database over it. Base 0e72e0f did exactly
# that: it saw no generations/ and logged "starting with a fresh database".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "litestream 0.5 missing: run scripts/peers.sh (needs Go >= 1.25; DBS_PEERS=$DBS_PEERS)"

# replicate05 YML DB DIR: rows into DB, then `litestream replicate` 0.5
# until DIR has an L0 file, a few more writes, SIGTERM (final sync).
replicate05() {
  local yml=$1 db=$2 dir=$3 lp
  sqlite3 "$db" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t(v) SELECT hex(randomblob(200)) FROM generate_series(1, 300);" >/dev/null
  # The machine-wide AWS_CA_BUNDLE makes the AWS SDK of litestream 0.5
  # refuse its plain-HTTP client; the test server is plain HTTP.
  env -u AWS_CA_BUNDLE "$LS05" replicate -config "$yml" >"$T/ls05.log" 2>&1 &
  lp=$!
  wait_for 20 sh -c "find '$dir' -name '*.ltx*' | grep -q ." ||
    { cat "$T/ls05.log" >&2; fail "litestream 0.5 wrote nothing to $dir"; }
  sqlite3 -cmd ".timeout 5000" "$db" "INSERT INTO t(v) VALUES ('last-row')"
  sleep 1.5
  kill -TERM "$lp"
  wait "$lp" || true
  sqlite3 "$db" "SELECT count(*) FROM t" >"$T/rows.want"
}

app=$T/app vol=$T/data
mkdir -p "$app"
cd "$app"
boot() { # YML: a fresh volume boot; output in $T/out, status in $rc
  rm -rf "$vol"
  run "$DBSETUP" --db db/dev.db --volume "$vol" --litestream "$LITESTREAM" \
    --litestream-config "$1" -- sh -c 'echo APP-STARTED' >"$T/out" 2>&1
}
check_refused() { # what: the boot failed with 65 and left no database
  assert_eq 65 "$rc" "$1: exit status"
  assert_not_contains "$T/out" "starting with a fresh database" "$1: fresh start"
  assert_not_contains "$T/out" "APP-STARTED" "$1: the app must not start"
  assert_contains "$T/out" "Litestream 0.5" "$1: names the format"
  [ ! -e "$vol/dev.db" ] || fail "$1: a database was created on the volume"
}

# File replica.
mkdir -p "$T/src"
cat >"$T/ls-file.yml" <<YML
dbs:
  - path: $T/src/db.sqlite
    replicas:
      - type: file
        path: $T/replica
YML
replicate05 "$T/ls-file.yml" "$T/src/db.sqlite" "$T/replica"
ls "$T/replica/ltx/0/" | grep -q '\.ltx$' || fail "no L0 file in the file replica"
sed "s#$T/src/db.sqlite#$vol/dev.db#" "$T/ls-file.yml" >litestream.yml
boot litestream.yml
check_refused "file replica"
ok "file replica by litestream 0.5: the boot refuses with 65, no fresh database"

# S3 replica.
s3_start
rm -rf "$T/src"; mkdir -p "$T/src"
s3_litestream_yml "$T/ls-s3.yml" "$T/src/db.sqlite" prod/dev.db
replicate05 "$T/ls-s3.yml" "$T/src/db.sqlite" "$S3_DIR/data/$S3_BUCKET/prod/dev.db"
ls "$S3_DIR/data/$S3_BUCKET/prod/dev.db/" | grep -q '^0000$' || fail "no 0000/ level on S3"
sed "s#$T/src/db.sqlite#$vol/dev.db#" "$T/ls-s3.yml" >litestream-s3.yml
boot litestream-s3.yml
check_refused "s3 replica"
ok "S3 replica by litestream 0.5: the boot refuses with 65, no fresh database"

# An object of no known layout is logged; alone it is still "no backup".
mkdir -p "$T/odd/stray"; echo x >"$T/odd/stray/file"
sed "s#$T/replica#$T/odd#" litestream.yml >odd.yml
boot odd.yml
assert_eq 0 "$rc" "unknown objects only: exit status"
assert_contains "$T/out" "of no layout litestream writes" "unknown object logged"
assert_contains "$T/out" "stray/" "unknown object named"
ok "unknown objects under the replica path are logged"
done_testing
