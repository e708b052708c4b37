#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 180
# The patched s3rver verifies SigV4 (a wrong secret is rejected, litestream's
# own aws-sdk-go requests pass, our signer passes, unsigned requests are
# refused), lists CommonPrefixes
# below a prefix, takes bucket-level SigV2, and enforces a session token and
# a region when asked. Our backend pages through listings, sorts them, and
# addresses buckets path-style and virtual-host style.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"

db=$T/app.db
sqlite3 "$db" "PRAGMA journal_mode=wal; PRAGMA busy_timeout=5000;
  CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
  INSERT INTO t(v) SELECT hex(randomblob(64)) FROM generate_series(1,500);" >/dev/null
replicate() { # config: runs litestream replicate until a WAL segment is up
  "$LITESTREAM" replicate -config "$1" >"$T/replicate.log" 2>&1 &
  local pid=$!
  sleep 0.5
  sqlite3 "$db" "PRAGMA busy_timeout=5000; INSERT INTO t(v) VALUES('after');" >/dev/null
  wait_for 15 grep -qE "wal segment written|level=ERROR" "$T/replicate.log" || true
  sleep 0.5
  kill "$pid"; wait "$pid" || true
}
probe() { "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" "$@"; }

s3_start
s3_litestream_yml "$T/ls.yml" "$db" app
replicate "$T/ls.yml"
assert_contains "$T/replicate.log" "snapshot written" "litestream uploaded a snapshot"
assert_not_contains "$T/replicate.log" "SignatureDoesNotMatch" "litestream's signatures verify"
ok "litestream (aws-sdk-go SigV4) uploads pass the verifying s3rver"

run "$LITESTREAM" restore -config "$T/ls.yml" -o "$T/ls-restored.db" "$db" 2>"$T/err"
assert_eq 0 "$rc" "litestream restore from s3rver"
assert_eq "$(sqlite3 "$db" .dump)" "$(sqlite3 "$T/ls-restored.db" .dump)" "litestream restore content"
ok "litestream restore finds its backups (CommonPrefixes below a prefix)"

sed "s|secret-access-key: .*|secret-access-key: wrong-secret-value|" "$T/ls.yml" >"$T/bad.yml"
# (litestream generations logs the error and still exits 0)
run "$LITESTREAM" generations -config "$T/bad.yml" "$db" >"$T/out" 2>&1
assert_contains "$T/out" "SignatureDoesNotMatch" "litestream wrong secret"
ok "a wrong secret is rejected for litestream: SignatureDoesNotMatch"

# Private buckets, as on S3: an unsigned request is refused.
code=$(curl -s -o "$T/anon" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/?list-type=2")
assert_eq 403 "$code" "anonymous listing: status"
assert_contains "$T/anon" "AccessDenied" "anonymous listing: code"
ok "an unsigned request is refused: 403 AccessDenied"

export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
run probe --delimiter list app/generations/ >"$T/gens" 2>"$T/err"
assert_eq 0 "$rc" "our list"
gen=$(awk '/^P /{print $2}' "$T/gens")
[ -n "$gen" ] || fail "no generation listed"
run probe list "$gen" >"$T/objs" 2>"$T/err"
assert_eq 0 "$rc" "our list of the generation"
grep -Eq "^F ${gen}snapshots/[0-9a-f]{8}\.snapshot\.lz4 [0-9]+ [0-9]+$" "$T/objs" || fail "snapshot not listed"
snap=$(awk '/snapshot.lz4/{print $2; exit}' "$T/objs")
run probe get "$snap" "$T/snap.lz4" 2>"$T/err"
assert_eq 0 "$rc" "our get"
s3_get_file "$snap" "$T/snap.stored"
cmp "$T/snap.lz4" "$T/snap.stored" || fail "object bytes differ"
lz4 -dcq "$T/snap.lz4" >"$T/snap.db"
assert_eq "SQLite format 3" "$(head -c 15 "$T/snap.db")" "snapshot decodes to SQLite"
ok "our signer's list and get pass; bytes equal the stored object"

AWS_SECRET_ACCESS_KEY=wrong-secret-value run probe list app/ >/dev/null 2>"$T/err"
assert_eq 4 "$rc" "our wrong secret: denied"
assert_contains "$T/err" "HTTP 403 SignatureDoesNotMatch" "provider code"
assert_contains "$T/err" "LITESTREAM_SECRET_ACCESS_KEY / AWS_SECRET_ACCESS_KEY" "hint"
ok "a wrong secret is rejected for our signer: denied, SignatureDoesNotMatch, hint"
AWS_ACCESS_KEY_ID=AKIANOTKNOWN000000 run probe list app/ >/dev/null 2>"$T/err"
assert_eq 4 "$rc" "unknown key id"
assert_contains "$T/err" "InvalidAccessKeyId" "unknown key id code"
ok "an unknown access key id is InvalidAccessKeyId, denied"
run probe --bucket nosuchbucket list app/ >/dev/null 2>"$T/err"
assert_eq 4 "$rc" "no bucket"
assert_contains "$T/err" "bucket nosuchbucket does not exist at $S3_ENDPOINT" "no bucket hint"
ok "a missing bucket is NoSuchBucket, denied, naming bucket and endpoint"
run probe get app/nothing-here >/dev/null 2>"$T/err"
assert_eq 2 "$rc" "missing key: not found"
ok "a missing key is not-found"

# SigV2, bucket level (the client signs the path it sends, "/dbs/", and
# the Date header); a wrong secret must still fail.
sigv2() { # secret: prints the HTTP status of GET /BUCKET/
  node -e '
const crypto = require("crypto"), http = require("http");
const [port, bucket, akid, secret] = process.argv.slice(1);
const date = new Date().toUTCString();
const sts = `GET\n\n\n${date}\n/${bucket}/`;
const sig = crypto.createHmac("sha1", secret).update(sts).digest("base64");
http.get({ host: "127.0.0.1", port, path: `/${bucket}/`,
  headers: { Date: date, Authorization: `AWS ${akid}:${sig}` } }, r => {
  console.log(r.statusCode); r.resume();
});' "$S3_PORT" "$S3_BUCKET" "$S3_ACCESS_KEY_ID" "$1"
}
assert_eq 200 "$(sigv2 "$S3_SECRET_ACCESS_KEY")" "bucket-level SigV2"
assert_eq 403 "$(sigv2 wrong-secret-value)" "bucket-level SigV2, wrong secret"
ok "bucket-level SigV2 requests verify"

# Keys with bytes that need encoding: path and query encoded once, signed
# the same way the server recomputes.
odd='odd dir/a b+c=d~e,f(1)&x$y'
echo odd >"$T/obj"; s3_put_file "$odd" "$T/obj"
run probe get "$odd" "$T/o" 2>"$T/err"
assert_eq 0 "$rc" "odd key get"
assert_eq odd "$(cat "$T/o")" "odd key content"
run probe --delimiter list "odd dir/a b+" >"$T/l" 2>"$T/err"
assert_eq "F $odd" "$(cut -d' ' -f1-4 "$T/l")" "odd prefix listing"
ok "keys and prefixes with spaces, +, =, ~, comma, parentheses, & and \$"

# Pagination and order: keys whose per-directory order differs from byte order.
for k in pg/a/1 pg/a/2 pg/a-b pg/a.c pg/b pg/c/d/e pg/c/f pg/d0 pg/d1 pg/d2 pg/z; do
  echo "$k" >"$T/obj"; s3_put_file "$k" "$T/obj"
done
probe list pg/ >"$T/all"
assert_eq "pg/a-b pg/a.c pg/a/1 pg/a/2 pg/b pg/c/d/e pg/c/f pg/d0 pg/d1 pg/d2 pg/z" \
  "$(awk '{printf "%s%s", sep, $2; sep=" "}' "$T/all")" "full listing in byte order"
for mk in 1 2 3 5; do
  probe --max-keys "$mk" list pg/ >"$T/paged"
  cmp "$T/all" "$T/paged" || fail "max-keys $mk listing differs"
  probe --max-keys "$mk" --delimiter list pg/ >"$T/pagedd"
  assert_eq "F pg/a-b|F pg/a.c|P pg/a/|F pg/b|P pg/c/|F pg/d0|F pg/d1|F pg/d2|F pg/z" \
    "$(awk '{printf "%s%s %s", sep, $1, $2; sep="|"}' "$T/pagedd")" "delimiter, max-keys $mk"
done
ok "paged listings (max-keys 1,2,3,5) equal the full listing, with and without delimiter"

# Virtual-host style: the bucket in the host name.
run probe --endpoint "http://s3.amazonaws.com:$S3_PORT" --vhost \
  --connect-to "$S3_BUCKET.s3.amazonaws.com:$S3_PORT:127.0.0.1:$S3_PORT" \
  list pg/ >"$T/vh" 2>"$T/err"
assert_eq 0 "$rc" "vhost list"
cmp "$T/all" "$T/vh" || fail "vhost listing differs"
run probe --endpoint "http://s3.amazonaws.com:$S3_PORT" --vhost \
  --connect-to "$S3_BUCKET.s3.amazonaws.com:$S3_PORT:127.0.0.1:$S3_PORT" \
  get pg/a-b "$T/o" 2>"$T/err"
assert_eq "pg/a-b" "$(cat "$T/o")" "vhost get"
ok "virtual-host style addressing lists and gets"
s3_stop

# Session token and region enforced by the server.
export DBS_S3RVER_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLE//token+value=="
export DBS_S3RVER_REGION=auto
s3_start
cat >"$T/tok.yml" <<YML
dbs:
  - path: $db
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: tok
        endpoint: $S3_ENDPOINT
        region: auto
        force-path-style: true
        sync-interval: 100ms
YML
# (MinIO: temporary credentials from STS AssumeRole; s3rver: the static
# keys with the token it was told to require)
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
AWS_SESSION_TOKEN=$S3_SESSION_TOKEN replicate "$T/tok.yml"
assert_contains "$T/replicate.log" "snapshot written" "litestream with token"
ok "litestream signing with a session token and region auto passes"
AWS_SESSION_TOKEN=wrong-token-value replicate "$T/tok.yml"
assert_contains "$T/replicate.log" "InvalidToken" "litestream wrong token"
ok "a wrong session token is rejected for litestream"
AWS_SESSION_TOKEN=$S3_SESSION_TOKEN run probe --region auto list tok/ >"$T/l" 2>"$T/err"
assert_eq 0 "$rc" "our token list"
grep -q "snapshot.lz4" "$T/l" || fail "token listing empty"
ok "our signer with a session token and region auto passes"
run probe --region auto list tok/ >/dev/null 2>"$T/err"
assert_eq 4 "$rc" "no token"
assert_contains "$T/err" "InvalidToken" "no token code"
assert_contains "$T/err" "AWS_SESSION_TOKEN" "no token hint"
ok "a missing session token is InvalidToken, denied, with a hint"
AWS_SESSION_TOKEN=$S3_SESSION_TOKEN run probe --region us-east-1 list tok/ >/dev/null 2>"$T/err"
assert_eq 4 "$rc" "wrong region"
assert_contains "$T/err" "AuthorizationHeaderMalformed" "wrong region code"
ok "signing for the wrong region is rejected (so 'auto' really is the signing region)"
done_testing
