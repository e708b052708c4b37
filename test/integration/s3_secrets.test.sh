#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 120
# Known secret values (secret access key, session token, a wrong secret)
# never appear in any output of the S3 backend or of the native restore
# over it, at debug level, on success and on every failure path; neither
# do Authorization headers or signatures. Nor do an endpoint's userinfo
# password or what a custom --replicate prints of the environment's
# credentials (in any case, across long-line cuts). (litestream's own config here
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

# Credentials in an endpoint's userinfo (litestream.yml endpoint: and
# AWS_ENDPOINT_URL_S3) are secrets too, in whatever case a message prints
# the host in.
EPPW="EpPaSs-Secret/99"
EPPW_ENC="EpPaSs-Secret%2F99"
ep_url="http://EpUser:$EPPW_ENC@127.0.0.1:$S3_PORT"
cat >"$T/ls.yml" <<EOF
dbs:
  - path: $T/app.db
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: nothing-here
        endpoint: $ep_url
EOF
out2=$T/endpoint-output
run env DBSETUP_LOG_LEVEL=debug DBSETUP_RESTORE_TIMEOUT=1 "$DBSETUP" restore \
  --litestream-config "$T/ls.yml" -o "$T/ep1.db" "$T/app.db" >>"$out2" 2>&1
echo "[exit $rc]" >>"$out2"
run env DBSETUP_LOG_LEVEL=debug DBSETUP_RESTORE_TIMEOUT=1 AWS_ENDPOINT_URL_S3="$ep_url" \
  "$DBSETUP" restore -o "$T/ep2.db" "s3://$S3_BUCKET/nothing-here" >>"$out2" 2>&1
echo "[exit $rc]" >>"$out2"
assert_contains "$out2" "dbsetup: debug: s3:" "endpoint runs: debug lines were printed"
for needle in "$EPPW" "$EPPW_ENC" "${EPPW:0:13}"; do
  ! grep -qiF -- "$needle" "$out2" || { cat "$out2" >&2; fail "endpoint password in the output (any case): $needle"; }
done
ok "an endpoint's userinfo password is redacted in any case ($(wc -l <"$out2") lines)"

# A custom --replicate without litestream.yml gets the environment's
# credentials: whatever it prints of them is redacted, also when a line is
# longer than the relay's buffer and a secret straddles the cut.
mkdir -p "$T/boot"
LSK="LsS3cret-value/must+not+leak-0c4d"
pad() { head -c "$1" /dev/zero | tr '\0' x; }
run env -C "$T/boot" AWS_ENDPOINT_URL_S3="$ep_url" LITESTREAM_SECRET_ACCESS_KEY="$LSK" \
  "$DBSETUP" --replicate "
  echo \"key=\$AWS_SECRET_ACCESS_KEY token=\$AWS_SESSION_TOKEN ls=\$LITESTREAM_SECRET_ACCESS_KEY\"
  echo \"endpoint=\$AWS_ENDPOINT_URL_S3\" | tr A-Z a-z
  echo \"$(pad 4090)\${AWS_SECRET_ACCESS_KEY}\"
  echo \"$(pad 8180)\${AWS_SESSION_TOKEN}$(pad 20000)\"
  echo \"$(pad 100)\${LITESTREAM_SECRET_ACCESS_KEY}$(pad 50000)\"
  echo relayed-all; exec sleep 30" -- sh -c 'sleep 0.5' >"$T/boot.out" 2>&1
assert_eq 0 "$rc" "custom --replicate boot: exit status"
assert_contains "$T/boot.out" "[replicator] relayed-all" "custom --replicate boot: output relayed"
assert_contains "$T/boot.out" "[replicator] key=[REDACTED] token=[REDACTED] ls=[REDACTED]" "env secrets redacted"
for needle in "$SECRET" "$TOKEN" "$LSK" "$EPPW" "$EPPW_ENC" "${SECRET:0:8}" "${SECRET: -8}" \
  "${TOKEN:0:8}" "${TOKEN: -8}" "${LSK:0:8}" "${LSK: -8}"; do
  ! grep -qiF -- "$needle" "$T/boot.out" || fail "custom --replicate: secret (or a piece) relayed: $needle"
done
[ "$(grep -o 'REDACTED' "$T/boot.out" | wc -l)" -ge 7 ] || { cat "$T/boot.out" | cut -c1-200 >&2; fail "custom --replicate: long lines were not redacted"; }
ok "custom --replicate: environment secrets, endpoint password and secrets across cuts redacted"
done_testing
