#!/usr/bin/env bash
# ctest-labels: integration;s3;restore
# ctest-timeout: 300
# `dbsetup restore` from S3 replicas that litestream wrote to the verifying
# s3rver equals `litestream restore`, with the configuration read as
# litestream reads it: litestream.yml keys, LITESTREAM_* and AWS_*
# credentials with AWS_SESSION_TOKEN, AWS_ENDPOINT_URL_S3, and the
# s3://BUCKET.localhost:PORT/PATH URL form. Refusals exit 69 with nothing
# at the target and no secret in the output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
s3_start
F=$T/fx
s3_make_replica "$F" app 2 6
DB=$F/db.sqlite
dump() { sqlite3 "$1" .dump; }
n=0
# same NAME DBSETUP-ARGS... -- LITESTREAM-ARGS...: both restore, same dump.
same() {
  local name=$1; shift
  local da=() la=()
  while [ "$1" != -- ]; do da+=("$1"); shift; done
  shift; la=("$@")
  n=$((n + 1))
  mkdir -p "$T/c$n/a" "$T/c$n/b"
  run "$DBSETUP" restore "${da[@]}" 2>"$T/c$n/dbs.err"; local ra=$rc
  run "$LITESTREAM" restore "${la[@]}" 2>"$T/c$n/ls.err"; local rb=$rc
  [ "$ra" -eq 0 ] || { cat "$T/c$n/dbs.err" >&2; fail "$name: dbsetup exit $ra"; }
  [ "$rb" -eq 0 ] || { cat "$T/c$n/ls.err" >&2; fail "$name: litestream exit $rb"; }
  assert_eq ok "$(sqlite3 "$T/c$n/a/db" 'PRAGMA integrity_check')" "$name: integrity"
  [ "$(dump "$T/c$n/a/db")" == "$(dump "$T/c$n/b/db")" ] || fail "$name: dumps differ"
  # (litestream 0.3.13 leaves db.tmp-wal/-shm beside its output; we must not)
  assert_eq "db" "$(ls -A "$T/c$n/a")" "$name: nothing beside the restored database"
  ok "$name: same database ($(sqlite3 "$T/c$n/a/db" 'SELECT count(*) FROM t') rows)"
}
o() { echo "-o" "$T/c$((n + 1))/$1/db"; }

# Keys in litestream.yml.
same "config, latest" -config "$F/ls.yml" $(o a) "$DB" -- -config "$F/ls.yml" $(o b) "$DB"
# The newest object's LastModified, to the millisecond, is inside the
# newest generation's bounds for both tools. (Rounded to the second it may
# fall before that generation's start: MinIO keeps milliseconds, and a
# generation written within one second has then no bounds holding it.)
last_ms=$(AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
  "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" list app/ |
  awk '$4 > m {m = $4} END {print m}')
ts=$(date -u -d "@$((last_ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((last_ms % 1000)))Z
same "config, timestamp $ts" -config "$F/ls.yml" -timestamp "$ts" $(o a) "$DB" \
  -- -config "$F/ls.yml" -timestamp "$ts" $(o b) "$DB"
gen=$("$DBSETUP" generations -config "$F/ls.yml" "$DB" | awk 'NR==2 {print $2}')
same "config, generation $gen index 1" -config "$F/ls.yml" -generation "$gen" -index 1 $(o a) "$DB" \
  -- -config "$F/ls.yml" -generation "$gen" -index 1 $(o b) "$DB"

# Credentials from the environment as litestream takes them: LITESTREAM_*
# when AWS_* are unset; AWS_* win when both are set.
grep -v -e access-key-id -e secret-access-key "$F/ls.yml" >"$T/nokeys.yml"
export LITESTREAM_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
same "LITESTREAM_* credentials" -config "$T/nokeys.yml" $(o a) "$DB" \
  -- -config "$T/nokeys.yml" $(o b) "$DB"
export LITESTREAM_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG LITESTREAM_SECRET_ACCESS_KEY=ls-wrong-secret-value
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
same "AWS_* credentials win over LITESTREAM_*" -config "$T/nokeys.yml" $(o a) "$DB" \
  -- -config "$T/nokeys.yml" $(o b) "$DB"
unset LITESTREAM_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY

# The URL form: s3://BUCKET.localhost:PORT/PATH (litestream's rule: path
# style at http://localhost:PORT, us-east-1) with AWS_* credentials.
URL=s3://$S3_BUCKET.localhost:$S3_PORT/app
same "URL $URL" $(o a) "$URL" -- $(o b) "$URL"

# Endpoint from AWS_ENDPOINT_URL_S3 (as Fly sets for Tigris).
grep -v -e "endpoint:" "$F/ls.yml" | sed 's/force-path-style: true/force-path-style: true/' >"$T/noep.yml"
AWS_ENDPOINT_URL_S3=$S3_ENDPOINT run "$DBSETUP" restore -config "$T/noep.yml" -o "$T/ep.db" "$DB" 2>"$T/ep.err"
assert_eq 0 "$rc" "AWS_ENDPOINT_URL_S3: exit"
[ "$(dump "$T/ep.db")" == "$(dump "$T/c1/a/db")" ] || fail "AWS_ENDPOINT_URL_S3: content"
ok "the endpoint comes from AWS_ENDPOINT_URL_S3 when litestream.yml has none"

# Refusals: exit 69, nothing at the target, the provider's code, no secret.
mkdir -p "$T/deny"
sed "s|secret-access-key: .*|secret-access-key: cli-wrong-secret-value|" "$F/ls.yml" >"$T/bad.yml"
run "$DBSETUP" restore -config "$T/bad.yml" -o "$T/deny/db" "$DB" >"$T/deny.out" 2>&1
assert_eq 69 "$rc" "wrong secret: exit"
assert_contains "$T/deny.out" "SignatureDoesNotMatch" "wrong secret: code"
assert_not_contains "$T/deny.out" "cli-wrong-secret-value" "wrong secret: not printed"
assert_not_contains "$T/deny.out" "$S3_SECRET_ACCESS_KEY" "secret: not printed"
assert_eq "" "$(ls -A "$T/deny")" "wrong secret: nothing at the target"
ok "a wrong secret: exit 69 naming SignatureDoesNotMatch, nothing at the target"
sed "s|bucket: .*|bucket: no-such-bucket|" "$F/ls.yml" >"$T/nob.yml"
run "$DBSETUP" restore -config "$T/nob.yml" -o "$T/deny/db" "$DB" >"$T/deny.out" 2>&1
assert_eq 69 "$rc" "no bucket: exit"
assert_contains "$T/deny.out" "bucket no-such-bucket does not exist at $S3_ENDPOINT" "no bucket: hint"
assert_eq "" "$(ls -A "$T/deny")" "no bucket: nothing at the target"
ok "a missing bucket: exit 69 naming bucket and endpoint"
for f in "$T"/c*/dbs.err "$T/ep.err"; do
  assert_not_contains "$f" "$S3_SECRET_ACCESS_KEY" "secret in $f"
  assert_not_contains "$f" "Signature=" "signature in $f"
done
ok "no secret or signature in any dbsetup output"

# A replica path with a leading '/': AWS keeps the slash in object keys,
# MinIO and s3rver store litestream's objects without it (here: as app/…,
# what "path: app" wrote) and list nothing below "/app/". litestream 0.3
# then finds no backup of its own replica; dbsetup must not call that "no
# backup" (the boot would start a fresh database over the real one): 69,
# naming the fix, also with --if-replica-exists.
sed 's|^\( *path:\) app$|\1 /app|' "$F/ls.yml" >"$T/slash.yml"
grep -q "path: /app$" "$T/slash.yml" || fail "slash.yml"
run "$LITESTREAM" restore -config "$T/slash.yml" -o "$T/deny/ls.db" "$DB" >"$T/slash-ls.out" 2>&1
assert_eq 1 "$rc" "leading '/': litestream finds no backup"
assert_contains "$T/slash-ls.out" "no matching backups found" "leading '/': litestream's message"
for flag in "" --if-replica-exists; do
  run "$DBSETUP" restore -config "$T/slash.yml" $flag -o "$T/deny/db" "$DB" >"$T/deny.out" 2>&1
  assert_eq 69 "$rc" "leading '/' $flag: exit"
  assert_contains "$T/deny.out" "remove the leading '/' from path in litestream.yml" "leading '/' $flag: hint"
  assert_eq "" "$(ls -A "$T/deny")" "leading '/' $flag: nothing at the target"
done
ok "path: /app where the server stored app/: exit 69 naming the fix, not 'no backup' (litestream: no backup)"

# A server that requires a session token: litestream and dbsetup both take
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
s3_stop
export DBS_S3RVER_SESSION_TOKEN="IQoJb3JpZ2luX2VjEXAMPLE/session+token=="
s3_start
# (MinIO: temporary credentials from STS AssumeRole; s3rver: the same keys)
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_SESSION_TOKEN=$S3_SESSION_TOKEN
s3_make_replica "$T/tok" app 1 4
same "AWS_SESSION_TOKEN" -config "$T/tok/ls.yml" $(o a) "$T/tok/db.sqlite" \
  -- -config "$T/tok/ls.yml" $(o b) "$T/tok/db.sqlite"
AWS_SESSION_TOKEN=not-the-token run "$DBSETUP" restore -config "$T/tok/ls.yml" \
  -o "$T/deny/db" "$T/tok/db.sqlite" >"$T/deny.out" 2>&1
assert_eq 69 "$rc" "wrong token: exit"
assert_contains "$T/deny.out" "InvalidToken" "wrong token: code"
assert_not_contains "$T/deny.out" "not-the-token" "wrong token: not printed"
assert_eq "" "$(ls -A "$T/deny")" "wrong token: nothing at the target"
ok "a wrong session token: exit 69 naming InvalidToken"
done_testing
