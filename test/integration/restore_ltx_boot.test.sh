#!/usr/bin/env bash
# ctest-labels: integration;restore;ltx;s3
# ctest-timeout: 240
# A replica written by real litestream 0.5 (`litestream replicate`, file
# and S3 through the verifying s3rver) is a backup: a fresh volume boot
# restores it natively (the same bytes as `litestream restore` 0.5) and
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
  cleanup "kill $lp 2>/dev/null"
  wait_for 20 sh -c "find '$dir' -name '*.ltx*' | grep -q ." ||
    { cat "$T/ls05.log" >&2; fail "litestream 0.5 wrote nothing to $dir"; }
  for i in 1 2 3 4; do
    sqlite3 -cmd ".timeout 5000" "$db" "INSERT INTO t(v) VALUES ('row-$i');
      UPDATE t SET v = hex(randomblob(100)) WHERE id % 9 = $i" >/dev/null
    sleep 0.4
  done
  sleep 1
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
    --no-replicate --litestream-config "$1" -- \
    sh -c 'echo "APP-STARTED rows=$(sqlite3 db/dev.db "SELECT count(*) FROM t")"' \
    >"$T/out" 2>&1
}
check_restored() { # what URL: the boot restored what litestream 0.5 restores
  assert_eq 0 "$rc" "$1: exit status"
  assert_not_contains "$T/out" "starting with a fresh database" "$1: fresh start"
  assert_not_contains "$T/out" "starting with a new database" "$1: fresh start"
  assert_contains "$T/out" "APP-STARTED rows=$(cat "$T/rows.want")" "$1: the app sees every row"
  rm -f "$T/ls05.db"
  env -u AWS_CA_BUNDLE "$LS05" restore -o "$T/ls05.db" "$2" >/dev/null 2>&1 ||
    fail "$1: litestream 0.5 restore failed"
  cmp "$vol/dev.db" "$T/ls05.db" || fail "$1: the boot's database differs from litestream 0.5's restore"
}

# File replica.
mkdir -p "$T/src"
file_replica_yml "$T/ls-file.yml" "$T/src/db.sqlite" "$T/replica"
replicate05 "$T/ls-file.yml" "$T/src/db.sqlite" "$T/replica"
ls "$T/replica/ltx/0/" | grep -q '\.ltx$' || fail "no L0 file in the file replica"
sed "s#$T/src/db.sqlite#$vol/dev.db#" "$T/ls-file.yml" >litestream.yml
boot litestream.yml
check_restored "file replica" "file://$T/replica"
ok "file replica by litestream 0.5: the boot restores it, byte-identical to litestream 0.5's restore"

# A flipped bit in page data (whichever files the plan takes, each has
# one): 65 naming the file, nothing on the volume.
cp -a "$T/replica" "$T/flip"
for f in "$T"/flip/ltx/*/*.ltx; do
  python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[110]^=0x10; open(p,"wb").write(b)' "$f"
done
sed "s#$T/replica#$T/flip#" litestream.yml >flip.yml
boot flip.yml
assert_eq 65 "$rc" "flipped bit: exit status"
assert_contains "$T/out" "corrupt LTX file $T/flip/ltx/" "flipped bit: names the file"
assert_not_contains "$T/out" "APP-STARTED" "flipped bit: the app must not start"
[ -z "$(ls -A "$vol" 2>/dev/null | grep -v '^\.dbsetup')" ] || { ls -la "$vol"; fail "flipped bit: files left on the volume"; }
ok "a flipped bit in an LTX file: 65 naming it, nothing on the volume"

# TXID k = newest - 1 in no file of any level (a missing L0 file whose
# compactions are gone too): 65 naming the missing TXIDs (litestream 0.5
# refuses it as well, "non-contiguous ltx files").
cp -a "$T/replica" "$T/gap"
gt=$(python3 - "$T/gap" <<'PY'
import glob, os, sys
files = glob.glob(sys.argv[1] + "/ltx/*/*.ltx")
rng = lambda f: [int(x, 16) for x in os.path.basename(f)[:-4].split("-")]
k = max(rng(f)[1] for f in files) - 1
for f in files:
    lo, hi = rng(f)
    if lo <= k <= hi:
        os.remove(f)
print("%016x" % k)
PY
)
sed "s#$T/replica#$T/gap#" litestream.yml >gap.yml
boot gap.yml
assert_eq 65 "$rc" "gap: exit status"
assert_contains "$T/out" "TXIDs $gt-$gt are missing" "gap: names the missing range"
assert_not_contains "$T/out" "APP-STARTED" "gap: the app must not start"
[ ! -e "$vol/dev.db" ] || fail "gap: a database was created on the volume"
ok "TXID missing mid-chain: 65 naming the missing TXIDs, nothing on the volume"

# S3 replica.
s3_start
rm -rf "$T/src"; mkdir -p "$T/src"
s3_litestream_yml "$T/ls-s3.yml" "$T/src/db.sqlite" prod/dev.db
replicate05 "$T/ls-s3.yml" "$T/src/db.sqlite" "$S3_DIR/data/$S3_BUCKET/prod/dev.db"
ls "$S3_DIR/data/$S3_BUCKET/prod/dev.db/" | grep -q '^0000$' || fail "no 0000/ level on S3"
sed "s#$T/src/db.sqlite#$vol/dev.db#" "$T/ls-s3.yml" >litestream-s3.yml
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
boot litestream-s3.yml
check_restored "s3 replica" "s3://$S3_BUCKET/prod/dev.db?endpoint=$S3_ENDPOINT&region=us-east-1&forcePathStyle=true"
ok "S3 replica by litestream 0.5: the boot restores it, byte-identical to litestream 0.5's restore"

# An object of no known layout is logged; alone it is still "no backup".
mkdir -p "$T/odd/stray"; echo x >"$T/odd/stray/file"
sed "s#$T/replica#$T/odd#" litestream.yml >odd.yml
boot odd.yml
assert_eq 0 "$rc" "unknown objects only: exit status"
assert_contains "$T/out" "of no layout litestream writes" "unknown object logged"
assert_contains "$T/out" "stray/" "unknown object named"
ok "unknown objects under the replica path are logged"
done_testing
