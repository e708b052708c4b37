#!/usr/bin/env bash
# ctest-labels: integration;restore;ltx;s3
# ctest-timeout: 300
# `dbsetup restore` of replicas written by real litestream 0.5 (file, and
# S3 through the verifying s3rver), with litestream 0.5's flags: latest,
# -txid and -timestamp give the bytes `litestream restore` 0.5 gives (cmp),
# or both find nothing; -dry-run prints the plan and writes nothing;
# -force replaces an existing output only after the restore; flags of the
# other format are usage errors (64) that say why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "litestream 0.5 missing: run scripts/peers.sh (needs Go >= 1.25; DBS_PEERS=$DBS_PEERS)"
ls05() { env -u AWS_CA_BUNDLE "$LS05" "$@"; }

# workload05 YML DB: rows, then litestream 0.5 replicating while 8 rounds
# of writes happen; appends a time between rounds to $T/points.
workload05() {
  local yml=$1 db=$2 lp i
  sqlite3 "$db" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t(v) SELECT hex(randomblob(300)) FROM generate_series(1, 400);" >/dev/null
  # Not through ls05: $! of a backgrounded function is a subshell, and
  # killing that would leave litestream running.
  env -u AWS_CA_BUNDLE "$LS05" replicate -config "$yml" >"$T/ls05.log" 2>&1 &
  lp=$!
  cleanup "kill $lp 2>/dev/null"
  sleep 1.5
  : >"$T/points"
  for i in $(seq 1 8); do
    sqlite3 -cmd ".timeout 5000" "$db" "INSERT INTO t(v) SELECT hex(randomblob(200)) FROM generate_series(1, 20 * $i);
      UPDATE t SET v = 'r$i' WHERE id % 7 = $i % 7; DELETE FROM t WHERE id % 23 = $i" >/dev/null
    sleep 0.5
    date -u +%Y-%m-%dT%H:%M:%S.%NZ >>"$T/points"
    sleep 0.3
  done
  kill -TERM "$lp"
  wait "$lp" || true
}

n=0
# same NAME ARGS...: dbsetup and litestream 0.5 restore with ARGS (-o is
# added); both restore the same bytes or both exit 1 with nothing written.
same() {
  local name=$1; shift
  n=$((n + 1)); mkdir -p "$T/c$n"
  run "$DBSETUP" restore -o "$T/c$n/a.db" "$@" 2>"$T/c$n/dbs.err"; local ra=$rc
  run ls05 restore -o "$T/c$n/b.db" "$@" >"$T/c$n/ls.out" 2>&1; local rb=$rc
  if [ "$rb" = 0 ]; then
    assert_eq 0 "$ra" "$name: dbsetup exit status ($(tail -1 "$T/c$n/dbs.err"))"
    cmp "$T/c$n/a.db" "$T/c$n/b.db" || fail "$name: dbsetup's restore differs from litestream 0.5's"
  else
    assert_eq 1 "$ra" "$name: litestream found nothing ($(tail -1 "$T/c$n/ls.out")), dbsetup's exit status"
    [ ! -e "$T/c$n/a.db" ] || fail "$name: dbsetup wrote a database"
  fi
  echo "# $name: $([ "$rb" = 0 ] && echo restored || echo 'no match')"
}
check_all() { # KIND ARGS...: latest, every TXID, every point
  local kind=$1; shift
  local max tx p
  same "$kind latest" "$@"
  max=$(ls05 ltx "$@" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {print $3}' | sort | tail -1)
  [ -n "$max" ] || max=0000000000000010
  for tx in $(seq 1 $((16#$max + 1))); do
    same "$kind -txid $tx" -txid "$(printf %016x "$tx")" "$@"
  done
  while read -r p; do same "$kind -timestamp $p" -timestamp "$p" "$@"; done <"$T/points"
}

# File replica.
mkdir -p "$T/f"
file_replica_yml "$T/f/ls.yml" "$T/f/db.sqlite" "$T/f/replica"
workload05 "$T/f/ls.yml" "$T/f/db.sqlite"
check_all file -config "$T/f/ls.yml" "$T/f/db.sqlite"
same "file URL latest" "file://$T/f/replica"
ok "file replica: latest, every -txid and -timestamp as litestream 0.5 restores them"

# S3 replica (config mode).
s3_start
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
mkdir -p "$T/s"
s3_litestream_yml "$T/s/ls.yml" "$T/s/db.sqlite" prod/db
workload05 "$T/s/ls.yml" "$T/s/db.sqlite"
sleep 1 # s3rver may answer a PUT before the object is listable
check_all s3 -config "$T/s/ls.yml" "$T/s/db.sqlite"
ok "S3 replica: latest, every -txid and -timestamp as litestream 0.5 restores them"

# A flipped bit (in the first page number) of every object that ends at
# the newest TXID: the restore's last file is one of them, whichever levels
# its plan takes (litestream's 30 s compaction may have covered the newest
# L0 file with an L1 one when the workload ran slowly). That file is
# downloaded ahead by a worker and decoded from its staged copy: 65 naming
# it, nothing beside the output.
# (A flip in compressed bytes may decode to the same page, and pass.)
# (read and written back through lib_s3.sh: either server's store)
keys=$(AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
  "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" list prod/db/ |
  awk '$2 ~ /\.ltx$/ {k = $2; sub(/\.ltx$/, "", k); n = split(k, a, "-"); t = a[n]
       if (t > max) max = t; keys[$2] = t}
       END {for (k in keys) if (keys[k] == max) print k}')
[ -n "$keys" ] || fail "no LTX object listed"
for key in $keys; do
  s3_get_file "$key" "$T/l0.ltx"
  python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[103]^=1; open(p,"wb").write(b)' "$T/l0.ltx"
  s3_put_file "$key" "$T/l0.ltx"
done
run "$DBSETUP" restore -o "$T/s3bad/db" -config "$T/s/ls.yml" "$T/s/db.sqlite" 2>"$T/s3bad.err"
assert_eq 65 "$rc" "S3 flipped bit: exit status"
named=0
for key in $keys; do grep -qF "corrupt LTX file $key" "$T/s3bad.err" && named=1; done
[ "$named" = 1 ] || { cat "$T/s3bad.err" >&2; fail "S3 flipped bit: names the corrupt file ($keys)"; }
assert_eq "" "$(ls -A "$T/s3bad")" "S3 flipped bit: nothing beside the output"
ok "S3: a flipped bit in a prefetched object is 65 naming it, nothing left beside the output"

# -dry-run: the plan on stdout, nothing written.
run "$DBSETUP" restore -dry-run -o "$T/dry/db" -txid 0000000000000003 "file://$T/f/replica" >"$T/dry.out" 2>&1
assert_eq 0 "$rc" "dry run: exit status"
assert_contains "$T/dry.out" "txid range: 0000000000000001 - 0000000000000003" "dry run: plan range"
assert_contains "$T/dry.out" "level  file" "dry run: file table"
[ ! -e "$T/dry" ] || fail "dry run wrote $(ls -A "$T/dry")"
ok "-dry-run prints the plan and writes nothing"

# -force: an existing output is replaced only by a complete restore.
mkdir -p "$T/force"; echo keep >"$T/force/db"; echo stale >"$T/force/db-wal"
run "$DBSETUP" restore -o "$T/force/db" "file://$T/f/replica" 2>"$T/force.err"
assert_eq 73 "$rc" "existing output without -force"
assert_eq keep "$(cat "$T/force/db")" "existing output untouched"
cp -a "$T/f/replica" "$T/broken"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[120]^=1; open(p,"wb").write(b)' \
  "$(ls "$T"/broken/ltx/9/*.ltx | tail -1)"
run "$DBSETUP" restore -force -o "$T/force/db" "file://$T/broken" 2>"$T/force.err"
assert_eq 65 "$rc" "-force over a corrupt replica"
assert_eq keep "$(cat "$T/force/db")" "-force: a failed restore keeps the old output"
assert_eq stale "$(cat "$T/force/db-wal")" "-force: a failed restore keeps the old -wal"
run "$DBSETUP" restore -force -o "$T/force/db" "file://$T/f/replica" 2>"$T/force.err"
assert_eq 0 "$rc" "-force"
assert_eq db "$(ls -A "$T/force")" "-force: the old -wal is gone"
cmp "$T/force/db" "$T/c1/b.db" || fail "-force: not the latest restore"
ok "-force replaces the output and its -wal only after a complete restore"

# An empty output file counts as missing for an LTX restore (litestream
# 0.5 removes it too); a v0.3 restore refuses it as 0.3.13 does.
mkdir -p "$T/empty-out"; : >"$T/empty-out/db"
run "$DBSETUP" restore -o "$T/empty-out/db" "file://$T/f/replica" 2>"$T/eo.err"
assert_eq 0 "$rc" "empty output, LTX"
cmp "$T/empty-out/db" "$T/c1/b.db" || fail "empty output: not the latest restore"
ok "an empty output file is replaced by an LTX restore"

# Flags of the other format are usage errors that say why.
run "$DBSETUP" restore -o "$T/u1/db" -generation 0123456789abcdef "file://$T/f/replica" 2>"$T/u.err"
assert_eq 64 "$rc" "-generation against an LTX replica"
assert_contains "$T/u.err" "holds only a litestream 0.5 (LTX) backup" "-generation: why"
run "$DBSETUP" restore -o "$T/u1/db" -txid 12 "file://$T/f/replica" 2>"$T/u.err"
assert_eq 64 "$rc" "-txid of 2 digits"
assert_contains "$T/u.err" "16 hex digits" "-txid: why"
run "$DBSETUP" restore -o "$T/u1/db" -txid 0000000000000002 -timestamp 2030-01-01T00:00:00Z \
  "file://$T/f/replica" 2>"$T/u.err"
assert_eq 64 "$rc" "-txid with -timestamp"
run "$DBSETUP" restore -o "$T/u1/db" -integrity-check most "file://$T/f/replica" 2>"$T/u.err"
assert_eq 64 "$rc" "-integrity-check most"
. "$(dirname "$0")/restore_lib.sh"
make_replica "$T/v3" 1 3
mkdir -p "$T/v3out"; : >"$T/v3out/db"
run "$DBSETUP" restore -o "$T/v3out/db" "file://$T/v3/replica" 2>"$T/v3out.err"
assert_eq 73 "$rc" "empty output, v0.3 (0.3.13 refuses it)"
run "$DBSETUP" restore -force -o "$T/v3out/db" "file://$T/v3/replica" 2>"$T/v3out.err"
assert_eq 0 "$rc" "empty output, v0.3, -force"
run "$DBSETUP" restore -o "$T/u1/db" -txid 0000000000000002 "file://$T/v3/replica" 2>"$T/u.err"
assert_eq 64 "$rc" "-txid against a v0.3 replica"
assert_contains "$T/u.err" "holds only litestream v0.3 generations" "-txid: why"
[ ! -e "$T/u1" ] || fail "usage errors wrote $(ls -A "$T/u1")"
ok "flags of the other format, malformed -txid, -txid with -timestamp: 64 saying why"

mkdir -p "$T/empty"
run "$DBSETUP" restore -o "$T/e/db" "file://$T/empty" 2>/dev/null
assert_eq 1 "$rc" "empty replica"
run "$DBSETUP" restore -if-replica-exists -o "$T/e/db" "file://$T/empty" 2>/dev/null
assert_eq 0 "$rc" "empty replica, -if-replica-exists"
run "$DBSETUP" restore -if-db-not-exists -o "$T/force/db" "file://$T/f/replica" 2>/dev/null
assert_eq 0 "$rc" "-if-db-not-exists"
ok "no backup: 1, 0 with -if-replica-exists; -if-db-not-exists over an existing output: 0"
done_testing
