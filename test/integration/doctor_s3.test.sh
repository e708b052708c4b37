#!/usr/bin/env bash
# ctest-labels: integration;doctor;s3
# ctest-timeout: 240
# dbsetup doctor over an S3 replica (the verifying s3rver; credentials in
# LITESTREAM_* as on Fly), differential as doctor.test.sh: a backup made
# by real litestream 0.3.13 (restore predicted, then done by the boot), an
# empty prefix (no backup: start fresh), a storage refusing with 403 (69).
# doctor leaves the volume and the bucket's files (s3rver's store on disk)
# byte-for-byte unchanged and prints no secret.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
s3_start
export LITESTREAM_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN || true
s3_make_replica "$T/src" prod/dev.db 1 3
app=$T/app vol=$T/data
mkdir -p "$app"
cd "$app"

snap() {
  local d
  for d in "$app" "$vol" "$S3_DIR/data"; do
    [ -e "$d" ] || { echo "absent $d"; continue; }
    find "$d" -printf '%p %y %s %m %T@ %l\n'
    find "$d" -type f -exec sha256sum {} +
  done | sort
}
yml() { # ENDPOINT PREFIX
  cat >litestream.yml <<YML
dbs:
  - path: $vol/dev.db
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: $2
        endpoint: $1
        region: us-east-1
        force-path-style: true
YML
}
agrees() { # WHAT WANT NEEDLE ARGS...
  local what=$1 want=$2 needle=$3 before drc
  shift 3
  rm -rf "$vol" && mkdir -p "$vol"
  before=$(snap)
  run "$DBSETUP" doctor --volume "$vol" --db dev.db --litestream "$LITESTREAM" \
    --litestream-config litestream.yml --restore-timeout 2 "$@" -- true \
    >"$T/doc.out" 2>"$T/doc.err"
  drc=$rc
  [ "$before" = "$(snap)" ] || {
    diff <(echo "$before") <(snap) >&2 || true
    fail "$what: doctor changed the volume or the bucket"
  }
  tail -n 1 "$T/doc.out" >"$T/doc.last"
  assert_contains "$T/doc.last" "$needle" "$what: doctor's last line"
  assert_not_contains "$T/doc.out" "$S3_SECRET_ACCESS_KEY" "$what: secret in stdout"
  assert_not_contains "$T/doc.err" "$S3_SECRET_ACCESS_KEY" "$what: secret in stderr"
  run "$DBSETUP" --volume "$vol" --db dev.db --litestream "$LITESTREAM" \
    --litestream-config litestream.yml --restore-timeout 2 "$@" -- true \
    >"$T/boot.out" 2>&1
  assert_eq "$want" "$rc" "$what: the boot's exit status"
  assert_eq "$rc" "$drc" "$what: doctor predicted $drc, the boot exited $rc"
  ok "$what: doctor predicts exit $rc, changes nothing in the volume or bucket"
}

yml "$S3_ENDPOINT" prod/dev.db
agrees "restore from S3" 0 "would start the app"
assert_contains "$T/doc.out" "would restore from replica s3" "restore: plan"
assert_contains "$T/doc.out" "(s3 bucket $S3_BUCKET, path prod/dev.db" "restore: replica"
[ "$(integrity "$vol/dev.db")" = ok ] || fail "restore: the boot did not restore"

yml "$S3_ENDPOINT" nothing/here.db
agrees "no backup under the prefix" 0 "would start the app"
assert_contains "$T/doc.out" "no backup exists" "no backup: plan"

fp_start --fault 403
yml "$FP_ENDPOINT" prod/dev.db
agrees "storage refuses (403)" 69 "would exit 69"
done_testing
