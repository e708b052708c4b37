#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 120
# Known secret values (secret access key, session token, a wrong secret)
# never appear in any output of the S3 backend or of the native restore
# over it, at debug level, on success and on every failure path; neither
# do Authorization headers or signatures. (litestream's own config here
# holds the secret, so its log is not part of the output checked.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
SECRET="S3CRET-value/must+not+leak-7f3a9c"
TOKEN="T0KEN-value/must+not+leak-19bd4e"
WRONG="WR0NG-secret/must+not+leak-55e1"
S3_SECRET_ACCESS_KEY=$SECRET
export DBS_S3RVER_SESSION_TOKEN=$TOKEN
s3_start
# (MinIO hands out temporary credentials: their secret and token are the
# values that must not leak; the root secret is checked as well)
ROOT_SECRET=$SECRET SECRET=$S3_SECRET_ACCESS_KEY TOKEN=$S3_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN
head -c 200000 /dev/urandom >"$T/obj"
s3_put_file k/obj "$T/obj"
out=$T/all-output
probe() { # endpoint args...: appends stdout and stderr to $out
  local ep=$1; shift
  run "$DBS_TOOLS/s3probe" -v --bucket "$S3_BUCKET" --endpoint "$ep" "$@" >>"$out" 2>&1
  echo "[exit $rc]" >>"$out"
}
probe "$S3_ENDPOINT" --delimiter list k/
probe "$S3_ENDPOINT" list k/
probe "$S3_ENDPOINT" get k/obj "$T/got"
cmp "$T/obj" "$T/got" || fail "get did not work"
probe "$S3_ENDPOINT" get k/missing "$T/x"
AWS_SECRET_ACCESS_KEY=$WRONG probe "$S3_ENDPOINT" list k/
LITESTREAM_SECRET_ACCESS_KEY=$WRONG probe "$S3_ENDPOINT" get k/obj "$T/x"
AWS_SESSION_TOKEN=$WRONG probe "$S3_ENDPOINT" list k/
probe "$S3_ENDPOINT" --bucket nosuch list k/
fp_start --fault 503:2 --fault reset:1 --fault 429:1 --fault 403:1
probe "$FP_ENDPOINT" --timeout-ms 20000 get k/obj "$T/got"
probe "$FP_ENDPOINT" --timeout-ms 20000 get k/obj "$T/got"
probe "$FP_ENDPOINT" --timeout-ms 20000 list k/
fp_start --fault stall
probe "$FP_ENDPOINT" --timeout-ms 1500 --stall-ms 1000 get k/obj "$T/got"
probe http://nonexistent.invalid:9 --timeout-ms 500 list k/
# The native restore engine over this backend, at debug level, with faults.
s3_make_replica "$T/fx" app 1 4
fp_start --fault 503:3 --fault reset:2:wal --reset-after 100
probe "$FP_ENDPOINT" --timeout-ms 20000 --path app restore "$T/restored.db"
[ -f "$T/restored.db" ] || fail "restore through faults failed"
AWS_SECRET_ACCESS_KEY=$WRONG probe "$S3_ENDPOINT" --path app restore "$T/r2.db"
probe "https://127.0.0.1:$S3_PORT" --timeout-ms 500 list k/

assert_contains "$out" "dbsetup: debug: s3:" "debug lines were printed"
assert_contains "$out" "[exit 4]" "failures were exercised"
assert_contains "$out" "retrying" "retries were exercised"
for needle in "$SECRET" "$ROOT_SECRET" "$TOKEN" "$WRONG" "Signature=" "Credential=" \
  "Authorization" "x-amz-security-token" "AWS4-HMAC"; do
  assert_not_contains "$out" "$needle" "output"
done
# Also the pieces a careless encoder would print.
for needle in "${SECRET//\//%2F}" "${TOKEN//+/%2B}" "${SECRET:0:20}" "${TOKEN:0:20}"; do
  assert_not_contains "$out" "$needle" "output (encoded/partial)"
done
ok "no secret, token, signature or Authorization header in $(wc -l <"$out") lines of debug output"
done_testing
