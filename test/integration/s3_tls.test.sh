#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 120
# TLS is verified unless skip-verify; an untrusted certificate fails at once.
# With neither endpoint nor region the bucket's region is looked up with
# GetBucketLocation via us-east-1 (as litestream does) and then used for
# signing and addressing; the AWS host names are served by the HTTPS s3rver
# through curl's CONNECT_TO (a test hook), with its certificate trusted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
export S3_TLS=1
s3_start
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
echo hello >"$T/o"; s3_put_file k/o "$T/o"
probe() { "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" "$@"; }

run probe --endpoint "$S3_ENDPOINT" --ca "$S3_CA" get k/o "$T/got" 2>"$T/err"
assert_eq 0 "$rc" "verified TLS"
assert_eq hello "$(cat "$T/got")" "verified TLS content"
ok "HTTPS endpoint with a trusted certificate"

t0=$(date +%s%3N)
run probe --endpoint "$S3_ENDPOINT" --timeout-ms 10000 list k/ >/dev/null 2>"$T/err"
t1=$(date +%s%3N)
assert_eq 3 "$rc" "untrusted: unavailable"
assert_contains "$T/err" "skip-verify" "untrusted: hint"
[ $((t1 - t0)) -lt 3000 ] || fail "untrusted certificate was retried ($((t1 - t0)) ms)"
ok "an untrusted certificate fails at once, naming skip-verify"

run probe --endpoint "$S3_ENDPOINT" --skip-verify get k/o "$T/got" 2>"$T/err"
assert_eq 0 "$rc" "skip-verify"
ok "skip-verify accepts the untrusted certificate"

# No endpoint, no region: GetBucketLocation first (empty answer: us-east-1).
ct="::127.0.0.1:$S3_PORT"
run probe -v --ca "$S3_CA" --connect-to "$ct" list k/ >"$T/l" 2>"$T/err"
assert_eq 0 "$rc" "AWS lookup (us-east-1)"
grep -q "^F k/o " "$T/l" || fail "AWS listing"
assert_contains "$T/err" "GetBucketLocation https://$S3_BUCKET.s3.amazonaws.com/?location=" "lookup sent"
assert_contains "$T/err" "bucket $S3_BUCKET is in region us-east-1" "region found"
assert_contains "$T/err" "list https://$S3_BUCKET.s3.amazonaws.com/?prefix=k%2F" "virtual-host list"
ok "no endpoint and no region: GetBucketLocation, then us-east-1 virtual-host requests"
s3_stop

export DBS_S3RVER_LOCATION=eu-west-1 DBS_S3RVER_REGION=eu-west-1
s3_start
echo hello >"$T/o"; s3_put_file k/o "$T/o"
ct="::127.0.0.1:$S3_PORT"
run probe -v --ca "$S3_CA" --connect-to "$ct" get k/o "$T/got" 2>"$T/err"
assert_eq 0 "$rc" "AWS lookup (eu-west-1)"
assert_eq hello "$(cat "$T/got")" "eu-west-1 content"
assert_contains "$T/err" "bucket $S3_BUCKET is in region eu-west-1" "region found"
assert_contains "$T/err" "get https://$S3_BUCKET.s3.eu-west-1.amazonaws.com/k/o" "regional host"
ok "a bucket in eu-west-1 is found and then signed and addressed for eu-west-1"
run probe --region us-east-1 --ca "$S3_CA" --connect-to "$ct" list k/ >/dev/null 2>"$T/err"
assert_eq 4 "$rc" "explicit wrong region"
assert_contains "$T/err" "region" "wrong region hint"
ok "an explicit region is used as given (no lookup): the wrong one is denied"
done_testing
