# S3 helpers for integration tests; source after lib.sh:
#   . "$(dirname "$0")/lib_s3.sh"
# The server is a parameter: DBS_S3_SERVER=s3rver (default: the patched
# s3rver 3.7.1, test/tools/s3rver) or minio (MinIO, $DBS_PEERS/minio, from
# scripts/peers.sh). CTest runs every script labelled s3 once per server.
# s3_start [BUCKET]: starts the server on a free port of 127.0.0.1 with a
# fresh directory and BUCKET (default "dbs"), waits until it answers,
# registers s3_stop. Sets S3_SERVER S3_PORT S3_ENDPOINT S3_BUCKET S3_DIR
# S3_LOG and the credentials the server accepts, S3_ACCESS_KEY_ID /
# S3_SECRET_ACCESS_KEY (override them before the call) and S3_SESSION_TOKEN
# (empty unless a token is required). Objects are stored under
# $S3_DIR/data/BUCKET/KEY… by both servers (a directory per prefix).
# Server knobs from the environment (named after s3rver's, mapped onto
# MinIO's equivalents):
#   DBS_S3RVER_REGION         the server's region: other signing regions are
#                             refused (MinIO: MINIO_SITE_REGION)
#   DBS_S3RVER_LOCATION       GetBucketLocation's answer (MinIO: its region)
#   DBS_S3RVER_SESSION_TOKEN  a session token is required: s3rver requires
#                             this value; MinIO hands out temporary
#                             credentials through STS AssumeRole instead, so
#                             S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY /
#                             S3_SESSION_TOKEN become those (the root
#                             credentials stay in S3_ROOT_*)
# With S3_TLS=1 it serves HTTPS with a fresh self-signed certificate for
# 127.0.0.1, s3.amazonaws.com and *.s3[.REGION].amazonaws.com; S3_CA is
# the certificate to trust. MinIO answers virtual-host requests for
# BUCKET.s3.amazonaws.com, BUCKET.s3.eu-west-1.amazonaws.com and
# BUCKET.minio.test (MINIO_DOMAIN).
# s3_is SERVER: true when the tests run against SERVER.

# s3_make_replica drives the same workload as the file-replica fixtures.
. "$(dirname "${BASH_SOURCE[0]}")/restore_lib.sh"
S3RVER_JS=$DBS_PEERS/s3rver/node_modules/s3rver/bin/s3rver.js
S3_SERVER=${DBS_S3_SERVER:-s3rver}
case $S3_SERVER in
  s3rver | minio) ;;
  *) fail "DBS_S3_SERVER=$S3_SERVER: expected s3rver or minio" ;;
esac
s3_is() { [ "$S3_SERVER" = "$1" ]; }
s3_start() {
  S3_BUCKET=${1:-dbs}
  S3_DIR=$(mktemp -d "$T/$S3_SERVER.XXXXXX")
  S3_LOG=$S3_DIR/log
  : "${S3_ACCESS_KEY_ID:=AKIADBSTESTKEY000001}"
  : "${S3_SECRET_ACCESS_KEY:=dbs-test-secret/Key+0123456789abcdefABCDEF}"
  S3_ROOT_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID S3_ROOT_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
  S3_SESSION_TOKEN=${DBS_S3RVER_SESSION_TOKEN:-}
  S3_REGION=${DBS_S3RVER_REGION:-${DBS_S3RVER_LOCATION:-us-east-1}}
  local scheme=http
  if [ "${S3_TLS:-0}" = 1 ]; then
    S3_CA=$S3_DIR/cert.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=s3.amazonaws.com \
      -addext "subjectAltName=IP:127.0.0.1,DNS:s3.amazonaws.com,DNS:*.s3.amazonaws.com,DNS:*.s3.eu-west-1.amazonaws.com,DNS:s3.eu-west-1.amazonaws.com" \
      -keyout "$S3_DIR/key.pem" -out "$S3_CA" 2>/dev/null || fail "openssl req failed"
    scheme=https
  fi
  cleanup s3_stop
  "_s3_start_$S3_SERVER" "$scheme"
  S3_ENDPOINT=$scheme://127.0.0.1:$S3_PORT
  s3_is minio || return 0
  _s3_minio_bucket
  [ -z "$S3_SESSION_TOKEN" ] || _s3_minio_assume_role
}
_s3_start_s3rver() {
  [ -f "$DBS_PEERS/s3rver/node_modules/s3rver/lib/middleware/dbs-sigv4-verify.js" ] ||
    fail "patched s3rver missing: run scripts/peers.sh (DBS_PEERS=$DBS_PEERS)"
  local tls=()
  [ "$1" = http ] || tls=(--key "$S3_DIR/key.pem" --cert "$S3_CA")
  DBS_S3RVER_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
    DBS_S3RVER_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
    node "$S3RVER_JS" -d "$S3_DIR/data" -a 127.0.0.1 -p 0 "${tls[@]}" \
    --configure-bucket "$S3_BUCKET" >"$S3_LOG" 2>&1 &
  S3_PID=$!
  wait_for 20 grep -q "S3rver listening on" "$S3_LOG" ||
    { cat "$S3_LOG" >&2; fail "s3rver did not start"; }
  S3_PORT=$(sed -n 's/.*S3rver listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$S3_LOG")
}
# MinIO in single-drive mode on 127.0.0.1 only (S3 API and console), the
# console UI, update checks and telemetry off. It cannot report a port it
# picked itself, so a free port is chosen first (retried if taken since).
_s3_start_minio() {
  [ -x "$DBS_PEERS/minio" ] || fail "minio missing: run scripts/peers.sh (DBS_PEERS=$DBS_PEERS)"
  local try port cport
  mkdir -p "$S3_DIR/certs"
  if [ "$1" = https ]; then
    cp "$S3_CA" "$S3_DIR/certs/public.crt"
    cp "$S3_DIR/key.pem" "$S3_DIR/certs/private.key"
  fi
  for try in 1 2 3; do
    port=${_s3_port:-$(free_port)} cport=$(free_port)
    env -u MINIO_REGION MINIO_ROOT_USER="$S3_ROOT_ACCESS_KEY_ID" \
      MINIO_ROOT_PASSWORD="$S3_ROOT_SECRET_ACCESS_KEY" \
      MINIO_SITE_REGION="${DBS_S3RVER_REGION:-${DBS_S3RVER_LOCATION:-}}" \
      MINIO_DOMAIN=s3.amazonaws.com,s3.eu-west-1.amazonaws.com,minio.test \
      MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
      HOME="$S3_DIR" "$DBS_PEERS/minio" server --quiet --anonymous \
      --certs-dir "$S3_DIR/certs" --address "127.0.0.1:$port" \
      --console-address "127.0.0.1:$cport" "$S3_DIR/data" >"$S3_LOG" 2>&1 &
    S3_PID=$! S3_PORT=$port
    if wait_for 20 _s3_minio_ready "$1"; then return 0; fi
    kill "$S3_PID" 2>/dev/null || true
    wait "$S3_PID" 2>/dev/null || true
    S3_PID=
  done
  cat "$S3_LOG" >&2
  fail "minio did not start"
}
_s3_minio_ready() {
  kill -0 "$S3_PID" 2>/dev/null || return 1
  curl -sf ${S3_CA:+--cacert "$S3_CA"} -o /dev/null "$1://127.0.0.1:$S3_PORT/minio/health/ready"
}
# _s3_curl [curl args...]: a request signed (SigV4) with the root
# credentials for S3_REGION's s3 service.
_s3_curl() {
  curl -sS ${S3_CA:+--cacert "$S3_CA"} --aws-sigv4 "aws:amz:$S3_REGION:${_s3_service:-s3}" \
    --user "$S3_ROOT_ACCESS_KEY_ID:$S3_ROOT_SECRET_ACCESS_KEY" "$@"
}
# Makes the bucket (in the server's region), retried while MinIO still
# answers 503 XMinioServerNotInitialized (ready before its object layer).
_s3_minio_bucket() {
  wait_for 20 _s3_minio_mb ||
    { cat "$S3_DIR/mb.out" >&2; fail "minio: making bucket $S3_BUCKET failed"; }
}
_s3_minio_mb() {
  local code body=
  [ "$S3_REGION" = us-east-1 ] ||
    body="<CreateBucketConfiguration><LocationConstraint>$S3_REGION</LocationConstraint></CreateBucketConfiguration>"
  # (curl signs a body only with its hash given in x-amz-content-sha256)
  code=$(_s3_curl -o "$S3_DIR/mb.out" -w '%{http_code}' -X PUT --data-binary "$body" \
    -H "x-amz-content-sha256: $(printf %s "$body" | sha256sum | cut -d' ' -f1)" \
    "$S3_ENDPOINT/$S3_BUCKET")
  [ "$code" = 200 ] && return 0
  [ "$code" = 503 ] || { cat "$S3_DIR/mb.out" >&2; fail "minio: making bucket $S3_BUCKET: HTTP $code"; }
  return 1
}
# STS AssumeRole as the root user (a signed POST to the S3 port): temporary
# credentials valid 15 minutes (MinIO's minimum), with their session token.
_s3_minio_assume_role() {
  _s3_service=sts _s3_curl -o "$S3_DIR/sts.xml" -X POST \
    --data 'Action=AssumeRole&Version=2011-06-15&DurationSeconds=900' "$S3_ENDPOINT/" ||
    fail "minio: STS AssumeRole failed"
  S3_ACCESS_KEY_ID=$(sed -n 's|.*<AccessKeyId>\([^<]*\)</AccessKeyId>.*|\1|p' "$S3_DIR/sts.xml")
  S3_SECRET_ACCESS_KEY=$(sed -n 's|.*<SecretAccessKey>\([^<]*\)</SecretAccessKey>.*|\1|p' "$S3_DIR/sts.xml")
  S3_SESSION_TOKEN=$(sed -n 's|.*<SessionToken>\([^<]*\)</SessionToken>.*|\1|p' "$S3_DIR/sts.xml")
  [ -n "$S3_ACCESS_KEY_ID" ] && [ -n "$S3_SECRET_ACCESS_KEY" ] && [ -n "$S3_SESSION_TOKEN" ] ||
    { cat "$S3_DIR/sts.xml" >&2; fail "minio: no credentials in the AssumeRole answer"; }
}
# s3_restart_later SECONDS: stops the server now and starts it again on the
# same port with the same data after SECONDS, in the background (MinIO);
# s3_restarted waits for that.
s3_restart_later() {
  s3_is minio || fail "s3_restart_later: MinIO only"
  s3_stop
  rm -f "$S3_DIR/pid"
  (sleep "$1"; _s3_port=$S3_PORT _s3_start_minio "${S3_ENDPOINT%%:*}"
    echo "$S3_PID" >"$S3_DIR/pid") >>"$S3_DIR/restart.log" 2>&1 &
  S3_RESTARTER=$!
  cleanup '[ ! -f "$S3_DIR/pid" ] || kill "$(cat "$S3_DIR/pid")" 2>/dev/null'
}
s3_restarted() {
  wait "$S3_RESTARTER" || { cat "$S3_DIR/restart.log" >&2; fail "the server did not restart"; }
  S3_PID=$(cat "$S3_DIR/pid")
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
# s3_uri KEY: KEY percent-encoded as an S3 path (every byte but
# A-Za-z0-9-._~ and /), the form SigV4 signs.
s3_uri() {
  node -e 'process.stdout.write(encodeURIComponent(process.argv[1]).replace(/[!*()\x27]/g, c => "%" + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%2F/g, "/"))' "$1"
}
# s3_put_file KEY FILE: places FILE in the bucket as object KEY (for
# storage tests that need objects litestream would not make, such as a
# large one): in s3rver's store directly, or a signed PUT to MinIO with the
# root credentials.
s3_put_file() {
  if s3_is s3rver; then
    local dst=$S3_DIR/data/$S3_BUCKET/$1._S3rver_object
    mkdir -p "$(dirname "$dst")"
    cp "$2" "$dst"
    return
  fi
  local code
  code=$(_s3_curl -o "$S3_DIR/put.out" -w '%{http_code}' -T "$2" \
    "$S3_ENDPOINT/$S3_BUCKET/$(s3_uri "$1")")
  [ "$code" = 200 ] || { cat "$S3_DIR/put.out" >&2; fail "PUT $1: HTTP $code"; }
}
# s3_get_file KEY FILE: the stored object KEY into FILE, read by the test
# harness itself (s3rver's store, or curl signing as MinIO's root).
s3_get_file() {
  if s3_is s3rver; then
    cp "$S3_DIR/data/$S3_BUCKET/$1._S3rver_object" "$2"
    return
  fi
  local code
  code=$(_s3_curl -o "$2" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$(s3_uri "$1")")
  [ "$code" = 200 ] || fail "GET $1: HTTP $code"
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
