# S3 helpers for integration tests; source after lib.sh:
#   . "$(dirname "$0")/lib_s3.sh"
# s3_start [BUCKET]: starts the patched s3rver ($DBS_PEERS/s3rver, see
# test/tools/s3rver) on a free port of 127.0.0.1 with a fresh directory and
# BUCKET (default "dbs"), waits until it answers, registers s3_stop. Sets
# S3_PORT S3_ENDPOINT S3_BUCKET S3_DIR S3_LOG and the credentials the server
# accepts, S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (override them before the
# call). Server knobs from the environment: DBS_S3RVER_REGION,
# DBS_S3RVER_SESSION_TOKEN, DBS_S3RVER_LOCATION (test/tools/s3rver/).
# With S3_TLS=1 it serves HTTPS with a fresh self-signed certificate for
# 127.0.0.1, s3.amazonaws.com and *.s3[.REGION].amazonaws.com; S3_CA is
# the certificate to trust.

# s3_make_replica drives the same workload as the file-replica fixtures.
. "$(dirname "${BASH_SOURCE[0]}")/restore_lib.sh"
S3RVER_JS=$DBS_PEERS/s3rver/node_modules/s3rver/bin/s3rver.js
s3_start() {
  [ -f "$DBS_PEERS/s3rver/node_modules/s3rver/lib/middleware/dbs-sigv4-verify.js" ] ||
    fail "patched s3rver missing: run scripts/peers.sh (DBS_PEERS=$DBS_PEERS)"
  S3_BUCKET=${1:-dbs}
  S3_DIR=$(mktemp -d "$T/s3rver.XXXXXX")
  S3_LOG=$S3_DIR/log
  : "${S3_ACCESS_KEY_ID:=AKIADBSTESTKEY000001}"
  : "${S3_SECRET_ACCESS_KEY:=dbs-test-secret/Key+0123456789abcdefABCDEF}"
  local tls=() scheme=http
  if [ "${S3_TLS:-0}" = 1 ]; then
    S3_CA=$S3_DIR/cert.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=s3.amazonaws.com \
      -addext "subjectAltName=IP:127.0.0.1,DNS:s3.amazonaws.com,DNS:*.s3.amazonaws.com,DNS:*.s3.eu-west-1.amazonaws.com,DNS:s3.eu-west-1.amazonaws.com" \
      -keyout "$S3_DIR/key.pem" -out "$S3_CA" 2>/dev/null || fail "openssl req failed"
    tls=(--key "$S3_DIR/key.pem" --cert "$S3_CA")
    scheme=https
  fi
  DBS_S3RVER_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
    DBS_S3RVER_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
    node "$S3RVER_JS" -d "$S3_DIR/data" -a 127.0.0.1 -p 0 "${tls[@]}" \
    --configure-bucket "$S3_BUCKET" >"$S3_LOG" 2>&1 &
  S3_PID=$!
  cleanup s3_stop
  wait_for 20 grep -q "S3rver listening on" "$S3_LOG" ||
    { cat "$S3_LOG" >&2; fail "s3rver did not start"; }
  S3_PORT=$(sed -n 's/.*S3rver listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$S3_LOG")
  S3_ENDPOINT=$scheme://127.0.0.1:$S3_PORT
}
s3_stop() {
  if [ -n "${S3_PID:-}" ]; then
    kill "$S3_PID" 2>/dev/null || true
    wait "$S3_PID" 2>/dev/null || true
    S3_PID=
  fi
}
# Writes a litestream.yml replicating DB to the s3rver bucket under PATH.
# s3_litestream_yml FILE DB PATH [extra replica lines]
s3_litestream_yml() {
  cat >"$1" <<YML
dbs:
  - path: $2
    monitor-interval: 100ms
    checkpoint-interval: 1s
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: $3
        endpoint: $S3_ENDPOINT
        region: ${4:-us-east-1}
        force-path-style: true
        sync-interval: 100ms
        access-key-id: $S3_ACCESS_KEY_ID
        secret-access-key: $S3_SECRET_ACCESS_KEY
YML
}
# fp_start [--port P] [--fault SPEC]...: starts test/tools/faultproxy in
# front of the running s3rver (stopping an earlier proxy first). Sets
# FP_PORT FP_ENDPOINT FP_LOG; registers fp_stop.
fp_start() {
  fp_stop
  FP_LOG=$(mktemp "$T/faultproxy.XXXXXX")
  node "$DBS_SRC/test/tools/faultproxy/faultproxy.js" --upstream "127.0.0.1:$S3_PORT" "$@" \
    >"$FP_LOG" 2>&1 &
  FP_PID=$!
  [ -n "${_fp_cleanup:-}" ] || { cleanup fp_stop; _fp_cleanup=1; }
  wait_for 10 grep -q "faultproxy listening on" "$FP_LOG" ||
    { cat "$FP_LOG" >&2; fail "faultproxy did not start"; }
  FP_PORT=$(sed -n 's/^faultproxy listening on \([0-9]*\)$/\1/p' "$FP_LOG")
  FP_ENDPOINT=http://127.0.0.1:$FP_PORT
}
fp_stop() {
  if [ -n "${FP_PID:-}" ]; then
    kill "$FP_PID" 2>/dev/null || true
    wait "$FP_PID" 2>/dev/null || true
    FP_PID=
  fi
}
# free_port: prints a TCP port of 127.0.0.1 that was free a moment ago.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
# s3_put_file KEY FILE: places FILE in the bucket as object KEY, by writing
# it into s3rver's store directly (for storage tests that need objects
# litestream would not make, such as a large one).
s3_put_file() {
  local dst=$S3_DIR/data/$S3_BUCKET/$1._S3rver_object
  mkdir -p "$(dirname "$dst")"
  cp "$2" "$dst"
}
# s3_make_replica DIR PATH NGEN ROUNDS: real litestream replicates a sqlite3
# workload (inserts, updates, deletes) to the running s3rver under PATH:
# NGEN generations (the meta directory is removed between runs), several
# snapshots and many WAL indexes (tiny checkpoint page counts). Writes
# DIR/db.sqlite, DIR/ls.yml (the config litestream used) and DIR/points
# (RFC 3339 times taken between writes). With AWS_SESSION_TOKEN set the
# credentials are left to litestream's environment (aws-sdk-go reads the
# token only there).
s3_make_replica() {
  local d=$1 p=$2 ngen=${3:-2} rounds=${4:-9} g r lp keys
  keys="access-key-id: $S3_ACCESS_KEY_ID
        secret-access-key: $S3_SECRET_ACCESS_KEY"
  [ -z "${AWS_SESSION_TOKEN:-}" ] || keys="name: s3"
  mkdir -p "$d"
  cat >"$d/ls.yml" <<YML
dbs:
  - path: $d/db.sqlite
    monitor-interval: 50ms
    min-checkpoint-page-count: 4
    max-checkpoint-page-count: 16
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: $p
        endpoint: $S3_ENDPOINT
        region: us-east-1
        force-path-style: true
        $keys
        sync-interval: 50ms
        snapshot-interval: 700ms
YML
  replicate_workload "$d" "$ngen" "$rounds" "$S3_DIR/data/$S3_BUCKET/$p/generations"
}
