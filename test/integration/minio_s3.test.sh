#!/usr/bin/env bash
# ctest-labels: integration;minio
# ctest-timeout: 240
# What only a production S3 server shows (MinIO, $DBS_PEERS/minio; the S3
# suites themselves run against it as <name>.minio):
# - STS temporary credentials end to end: litestream replicates and the boot
#   restores with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN
#   from AssumeRole; a wrong token, a token of other credentials and a token
#   sent with static keys fail at once (exit 69) with MinIO's InvalidTokenId
#   and a hint naming AWS_SESSION_TOKEN;
# - a snapshot litestream uploads in multipart (ETag "…-N") restores, also
#   resumed after a reset (If-Match on the multipart ETag);
# - listings paged a few keys at a time give the same restore; a restore
#   begun while MinIO is down or starting retries until it serves;
# - a replica path needing URI escaping;
# - virtual-hosted-style addressing (MINIO_DOMAIN, the bucket's host name
#   resolved to 127.0.0.1 by a private /etc/hosts in this test's own mount
#   namespace) and path style, for litestream and dbsetup;
# - region: a bucket made in eu-west-1 on a server in eu-west-1.
# The mount namespace first (the private /etc/hosts is bound in it below).
if [ "${DBS_MINIO_NS:-}" != 1 ]; then
  exec unshare --mount --propagation private env DBS_MINIO_NS=1 bash "$0" "$@"
fi
export DBS_S3_SERVER=minio
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
ms() { date +%s%3N; }
dump() { sqlite3 "$1" .dump; }

# ---- STS temporary credentials, end to end through the boot.
export DBS_S3RVER_SESSION_TOKEN=required
s3_start
unset DBS_S3RVER_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_SESSION_TOKEN=$S3_SESSION_TOKEN
unset LITESTREAM_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY || true
[ "$S3_ACCESS_KEY_ID" != "$S3_ROOT_ACCESS_KEY_ID" ] || fail "AssumeRole gave the root key"
vol=$T/data app=$T/app
mkdir -p "$app"
cat >"$app/litestream.yml" <<YML
dbs:
  - path: $vol/dev.db
    monitor-interval: 100ms
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: sts/dev.db
        endpoint: $S3_ENDPOINT
        force-path-style: true
        sync-interval: 100ms
YML
boot() { # extra dbsetup args: output in $T/boot.out, status in $rc
  run "$DBSETUP" --db "$app/dev.db" --volume "$vol" --litestream "$LITESTREAM" \
    --litestream-config "$app/litestream.yml" --replicator-stop-timeout 5 \
    --migrate "sqlite3 $vol/dev.db 'create table if not exists boots(at)'" "$@" \
    -- sh -c "sqlite3 -cmd '.timeout 5000' $vol/dev.db \"insert into boots values(1)\"; sleep 1.5;
      sqlite3 $vol/dev.db \"select 'rows', count(*) from boots\"" >"$T/boot.out" 2>&1
}
boot
assert_eq 0 "$rc" "first boot (no backup)"
assert_contains "$T/boot.out" "no backup of" "first boot: no backup"
rm -rf "$vol"
boot
assert_eq 0 "$rc" "restore boot with temporary credentials"
assert_contains "$T/boot.out" "restored $vol/dev.db" "restored natively"
assert_contains "$T/boot.out" "rows|2" "restored row plus this boot's"
ok "STS temporary credentials: litestream replicates, the boot restores (AWS_SESSION_TOKEN)"

# A wrong token, a token of other credentials, a token sent with the
# static root keys, no token: each refused at once, exit 69, nothing
# created, MinIO's code and the AWS_SESSION_TOKEN hint, no secret printed.
_s3_minio_assume_role_into() { # prints the token of a second AssumeRole
  local k=$S3_ACCESS_KEY_ID s=$S3_SECRET_ACCESS_KEY t=$S3_SESSION_TOKEN other
  _s3_minio_assume_role
  other=$S3_SESSION_TOKEN
  S3_ACCESS_KEY_ID=$k S3_SECRET_ACCESS_KEY=$s S3_SESSION_TOKEN=$t
  echo "$other"
}
other=$(_s3_minio_assume_role_into)
[ -n "$other" ] && [ "$other" != "$AWS_SESSION_TOKEN" ] || fail "no second token"
refused() { # name, then env assignments: a restore that must be refused at once
  local name=$1; shift
  rm -rf "$vol"
  local t0 t1
  t0=$(ms)
  run env "$@" "$DBSETUP" restore -config "$app/litestream.yml" --restore-timeout 30 \
    -o "$T/refused.db" "$vol/dev.db" >"$T/ref.out" 2>&1
  t1=$(ms)
  assert_eq 69 "$rc" "$name: exit"
  [ ! -e "$T/refused.db" ] || fail "$name: a database was created"
  [ $((t1 - t0)) -lt 3000 ] || fail "$name: took $((t1 - t0)) ms (retried?)"
  assert_not_contains "$T/ref.out" "$S3_SECRET_ACCESS_KEY" "$name: secret printed"
  assert_not_contains "$T/ref.out" "$S3_SESSION_TOKEN" "$name: token printed"
  assert_not_contains "$T/ref.out" "retrying" "$name: retried"
}
for c in wrong other root none; do
  case $c in
    wrong) refused "wrong token" AWS_SESSION_TOKEN="${AWS_SESSION_TOKEN%??????}AAAAAA" ;;
    other) refused "another session's token" AWS_SESSION_TOKEN="$other" ;;
    root) refused "a token with static keys" AWS_ACCESS_KEY_ID="$S3_ROOT_ACCESS_KEY_ID" \
      AWS_SECRET_ACCESS_KEY="$S3_ROOT_SECRET_ACCESS_KEY" ;;
    none) refused "no token" -u AWS_SESSION_TOKEN ;;
  esac
  assert_contains "$T/ref.out" "HTTP 403 InvalidTokenId" "$c: MinIO's code"
  assert_contains "$T/ref.out" "check AWS_SESSION_TOKEN" "$c: hint"
  ok "$c session token: exit 69 at once naming InvalidTokenId and AWS_SESSION_TOKEN"
done
# Expired temporary credentials: MinIO forgets them (CheckKey: not valid
# once expired), so their key id is unknown. AssumeRole cannot make any
# shorter than 900 s, so an unknown temporary key id stands in for one.
refused "expired credentials" AWS_ACCESS_KEY_ID=ASIAEXPIREDTEMPKEY01
assert_contains "$T/ref.out" "HTTP 403 InvalidAccessKeyId" "expired: MinIO's code"
assert_contains "$T/ref.out" "temporary credentials are forgotten once they expire" "expired: hint"
ok "expired (unknown) temporary credentials: exit 69 at once, the hint says they expire"
# Through the boot: 69 before the app starts, nothing on the volume.
rm -rf "$vol"
AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN%??????}AAAAAA boot --restore-timeout 30
assert_eq 69 "$rc" "boot with a wrong token"
assert_contains "$T/boot.out" "InvalidTokenId" "boot: code"
[ ! -e "$vol/dev.db" ] || fail "boot with a wrong token: database on the volume"
ok "a boot with a wrong session token stops with 69, nothing on the volume"
s3_stop
unset AWS_SESSION_TOKEN

# ---- Multipart, pagination, escaping: plain root credentials from here.
S3_ACCESS_KEY_ID=$S3_ROOT_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY=$S3_ROOT_SECRET_ACCESS_KEY
s3_start
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
# A 14 MB database of incompressible rows: litestream 0.3.13 (aws-sdk-go's
# s3manager, 5 MiB parts) uploads its snapshot in three parts.
M=$T/mp
mkdir -p "$M"
sqlite3 "$M/db.sqlite" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
  INSERT INTO t(v) SELECT randomblob(4000) FROM generate_series(1, 3500);" >/dev/null
s3_litestream_yml "$M/ls.yml" "$M/db.sqlite" mp
"$LITESTREAM" replicate -config "$M/ls.yml" >"$M/ls.log" 2>&1 &
lp=$!
wait_for 30 grep -q "snapshot written" "$M/ls.log" || { cat "$M/ls.log"; fail "no snapshot"; }
sqlite3 -cmd ".timeout 5000" "$M/db.sqlite" "INSERT INTO t(v) VALUES (randomblob(100));" >/dev/null
sleep 1
kill -INT "$lp"; wait "$lp" || true
snap=$(AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" \
  --endpoint "$S3_ENDPOINT" list mp/ | awk '/snapshot.lz4/ {print $2, $3; exit}')
etag=$(_s3_curl -I "$S3_ENDPOINT/$S3_BUCKET/${snap% *}" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
[[ "$etag" =~ -[0-9]+\"$ ]] || fail "snapshot ${snap% *} is not multipart: ETag $etag"
run "$LITESTREAM" restore -config "$M/ls.yml" -o "$M/ls.db" "$M/db.sqlite" 2>"$M/ls.err"
assert_eq 0 "$rc" "litestream restore (multipart)"
run "$DBSETUP" restore -config "$M/ls.yml" -o "$M/dbs.db" "$M/db.sqlite" 2>"$M/dbs.err"
assert_eq 0 "$rc" "dbsetup restore (multipart)"
[ "$(dump "$M/dbs.db")" == "$(dump "$M/ls.db")" ] || fail "multipart: dumps differ"
ok "a multipart snapshot (${snap#* } bytes, ETag $etag) restores like litestream's"
fp_start --fault reset:1:.snapshot.lz4 --reset-after $((6 * 1024 * 1024))
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$FP_ENDPOINT" --path mp \
  --timeout-ms 20000 restore "$M/fp.db" >"$M/fp.out" 2>"$M/fp.err"
assert_eq 0 "$rc" "multipart through a reset"
[ "$(dump "$M/fp.db")" == "$(dump "$M/ls.db")" ] || fail "multipart resumed: dumps differ"
grep -Eq "range=bytes=[1-9][0-9]*- fault=none" "$FP_LOG" || { cat "$FP_LOG"; fail "no Range resume"; }
ok "a multipart snapshot reset mid-body resumes (Range + If-Match on ETag $etag)"

# Keys needing URI escaping (no '$': litestream expands variables in its
# config), and pagination: a replica of many objects listed two keys per
# page.
P=$T/pg
s3_make_replica "$P" 'odd path/a b+c=d~e,f(1)&x;y@z' 2 9
nobj=$("$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" list 'odd path/' | wc -l)
run "$LITESTREAM" restore -config "$P/ls.yml" -o "$P/ls.db" "$P/db.sqlite" 2>"$P/ls.err"
assert_eq 0 "$rc" "litestream restore (escaped path)"
run "$DBSETUP" restore -config "$P/ls.yml" -o "$P/dbs.db" "$P/db.sqlite" 2>"$P/dbs.err"
assert_eq 0 "$rc" "dbsetup restore (escaped path)"
[ "$(dump "$P/dbs.db")" == "$(dump "$P/ls.db")" ] || fail "escaped path: dumps differ"
ok "a replica under 'odd path/a b+c=d~e,f(1)&x;y@z' ($nobj objects) restores like litestream's"
fp_start
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$FP_ENDPOINT" \
  --path 'odd path/a b+c=d~e,f(1)&x;y@z' --max-keys 2 restore "$P/paged.db" >"$P/paged.out" 2>"$P/paged.err"
assert_eq 0 "$rc" "paged restore"
[ "$(dump "$P/paged.db")" == "$(dump "$P/ls.db")" ] || fail "paged: dumps differ"
pages=$(grep -c "^REQ GET .*max-keys=2" "$FP_LOG" || true)
[ "$pages" -gt $((nobj / 2 - 4)) ] || { cat "$FP_LOG"; fail "only $pages listing pages"; }
ok "listings of 2 keys per page ($pages pages) give the same database"
fp_stop

# A boot racing the storage's start (a MinIO beside the app): refused
# connections, then MinIO's 503 XMinioServerNotInitialized while it comes
# up, are retried until it serves.
s3_restart_later 1.5
run "$DBSETUP" restore -config "$P/ls.yml" --restore-timeout 30 -o "$P/late.db" "$P/db.sqlite" 2>"$P/late.err"
s3_restarted
assert_eq 0 "$rc" "restore while MinIO starts"
[ "$(dump "$P/late.db")" == "$(dump "$P/ls.db")" ] || fail "late start: dumps differ"
assert_contains "$P/late.err" "retrying" "late start: retried"
ok "a restore begun while MinIO is down retries until it serves ($(grep -c retrying "$P/late.err") retries)"

# ---- Virtual-hosted style: MinIO serves BUCKET.minio.test (MINIO_DOMAIN);
# the names resolve to 127.0.0.1 only in this mount namespace.
{ cat /etc/hosts; echo "127.0.0.1 minio.test $S3_BUCKET.minio.test"; } >"$T/hosts"
mount --bind "$T/hosts" /etc/hosts
cleanup "umount /etc/hosts"
getent hosts "$S3_BUCKET.minio.test" | grep -q '^127.0.0.1' || fail "private /etc/hosts not in effect"
for style in vhost path; do
  V=$T/$style
  mkdir -p "$V"
  fps=false
  [ $style = path ] && fps=true
  sqlite3 "$V/db.sqlite" "PRAGMA journal_mode=wal; CREATE TABLE t(v);
    INSERT INTO t SELECT hex(randomblob(100)) FROM generate_series(1, 200);" >/dev/null
  cat >"$V/ls.yml" <<YML
dbs:
  - path: $V/db.sqlite
    monitor-interval: 100ms
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: $style
        endpoint: http://minio.test:$S3_PORT
        region: us-east-1
        force-path-style: $fps
        sync-interval: 100ms
YML
  fp_start
  # (through the proxy, which keeps the Host header: requests are logged)
  sed -i "s|minio.test:$S3_PORT|minio.test:$FP_PORT|" "$V/ls.yml"
  "$LITESTREAM" replicate -config "$V/ls.yml" >"$V/ls.log" 2>&1 &
  lp=$!
  wait_for 20 grep -q "snapshot written" "$V/ls.log" || { cat "$V/ls.log"; fail "$style: no snapshot"; }
  sleep 0.3
  kill -INT "$lp"; wait "$lp" || true
  DBSETUP_LOG_LEVEL=debug run "$DBSETUP" restore -config "$V/ls.yml" -o "$V/dbs.db" "$V/db.sqlite" 2>"$V/dbs.err"
  assert_eq 0 "$rc" "$style: dbsetup restore"
  [ "$(dump "$V/dbs.db")" == "$(dump "$V/db.sqlite")" ] || fail "$style: dumps differ"
  if [ $style = vhost ]; then
    assert_contains "$V/dbs.err" "list http://$S3_BUCKET.minio.test:$FP_PORT/?" "vhost: dbsetup's host"
    grep -q "^REQ PUT /vhost/" "$FP_LOG" || { cat "$FP_LOG"; fail "vhost: litestream's PUTs"; }
    ! grep -q "^REQ [A-Z]* /$S3_BUCKET/" "$FP_LOG" || { cat "$FP_LOG"; fail "vhost: a path-style request"; }
  else
    assert_contains "$V/dbs.err" "list http://minio.test:$FP_PORT/$S3_BUCKET?" "path: dbsetup's URL"
    grep -q "^REQ PUT /$S3_BUCKET/path/" "$FP_LOG" || { cat "$FP_LOG"; fail "path: litestream's PUTs"; }
  fi
  ok "$style style: litestream replicates and dbsetup restores at minio.test"
done
s3_stop

# ---- Region: a server and bucket in eu-west-1.
export DBS_S3RVER_REGION=eu-west-1
s3_start
unset DBS_S3RVER_REGION
R=$T/region
mkdir -p "$R"
sqlite3 "$R/db.sqlite" "PRAGMA journal_mode=wal; CREATE TABLE t(v); INSERT INTO t VALUES (1);" >/dev/null
s3_litestream_yml "$R/ls.yml" "$R/db.sqlite" reg eu-west-1
"$LITESTREAM" replicate -config "$R/ls.yml" >"$R/ls.log" 2>&1 &
lp=$!
wait_for 20 grep -q "snapshot written" "$R/ls.log" || { cat "$R/ls.log"; fail "region: no snapshot"; }
sleep 0.3
kill -INT "$lp"; wait "$lp" || true
run "$DBSETUP" restore -config "$R/ls.yml" -o "$R/a.db" "$R/db.sqlite" 2>"$R/a.err"
assert_eq 0 "$rc" "region eu-west-1 given"
ok "region: eu-west-1 in litestream.yml restores from a bucket in eu-west-1"
grep -v "region:" "$R/ls.yml" >"$R/noregion.yml"
AWS_REGION=eu-west-1 run "$DBSETUP" restore -config "$R/noregion.yml" -o "$R/b.db" "$R/db.sqlite" 2>"$R/b.err"
assert_eq 0 "$rc" "region from AWS_REGION"
ok "region: AWS_REGION=eu-west-1 with no region in litestream.yml restores"
# Region absent, custom endpoint: litestream and dbsetup sign for us-east-1,
# which MinIO refuses naming its region; dbsetup says which to set.
t0=$(ms)
run "$DBSETUP" restore -config "$R/noregion.yml" --restore-timeout 30 -o "$R/c.db" "$R/db.sqlite" >"$R/c.err" 2>&1
t1=$(ms)
assert_eq 69 "$rc" "no region: exit"
[ ! -e "$R/c.db" ] || fail "no region: database created"
[ $((t1 - t0)) -lt 3000 ] || fail "no region: took $((t1 - t0)) ms"
assert_contains "$R/c.err" "AuthorizationHeaderMalformed" "no region: code"
assert_contains "$R/c.err" "set region: eu-west-1" "no region: hint"
run "$LITESTREAM" restore -config "$R/noregion.yml" -o "$R/ls.db" "$R/db.sqlite" >"$R/ls.err" 2>&1
[ "$rc" -ne 0 ] || fail "litestream restored with the wrong region"
ok "region absent with an endpoint: us-east-1 is refused at once (exit 69), the hint names eu-west-1 (litestream fails too)"
done_testing
