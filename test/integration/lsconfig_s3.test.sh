# ctest-labels: integration
# ctest-timeout: 120
# S3 replica settings, compared with what litestream 0.3.13 really sends:
# a small HTTP server records each request `litestream generations` makes
# (host, bucket path, list prefix, signing region, access key id) and we
# check that our parse of the same litestream.yml predicts every one.
. "$(dirname "$0")/lib.sh"
DUMP=$DBS_TOOLS/lsconfig-dump
[ -x "$LITESTREAM" ] || fail "no litestream at $LITESTREAM (set DBS_PEERS=/work/peers)"
unset LITESTREAM_CONFIG AWS_REGION AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID \
  AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN LITESTREAM_ACCESS_KEY_ID \
  LITESTREAM_SECRET_ACCESS_KEY AWS_ACCESS_KEY AWS_SECRET_KEY || true
export AWS_EC2_METADATA_DISABLED=true
cd "$T"

cat >"$T/srv.js" <<'EOF'
// Records each request and answers with an empty listing.
const http = require('http'), fs = require('fs');
const [log, portFile] = process.argv.slice(2);
const srv = http.createServer((req, res) => {
  const m = /Credential=([^/]*)\/[0-9]*\/([^/]*)\/s3\//.exec(req.headers.authorization || '');
  const u = new URL(req.url, 'http://x');
  const bucketPath = u.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  fs.appendFileSync(log, `host=${req.headers.host} bucket-path=${bucketPath} ` +
    `prefix=${u.searchParams.get('prefix')} region=${m ? m[2] : ''} akid=${m ? m[1] : ''} ` +
    `token=${req.headers['x-amz-security-token'] ? 1 : 0}\n`);
  res.setHeader('Content-Type', 'application/xml');
  res.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult ' +
    'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated>' +
    '</ListBucketResult>');
});
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile + '.tmp', String(srv.address().port)) ||
  fs.renameSync(portFile + '.tmp', portFile));
EOF
node "$T/srv.js" "$T/requests.log" "$T/port" &
srvpid=$!
cleanup "kill $srvpid"
wait_for 10 test -s "$T/port" || fail "request recorder did not start"
export P=$(cat "$T/port")
touch "$T/app.db"

# expect FILE: what our parse says each s3 replica's first list request is.
expect() {
  "$DUMP" -v -env -show-key-id "$@" >"$T/dump.out"
  awk -F= '
    function flush() {
      if (kind != "s3") return
      host = endpoint; sub(/^[a-z]+:\/\//, "", host)
      bp = bucket
      if (pathstyle != 1) { host = bucket "." host; bp = "" }
      pre = (path == "" ? "" : path "/") "generations/"
      printf "host=%s bucket-path=%s prefix=%s region=%s akid=%s token=%d\n", host, bp, pre, region, akid, token
    }
    /\.replica\[[0-9]+\]\.name=/ { flush(); kind = ""; path = "" }
    { key = $1; sub(/.*\./, "", key); val = substr($0, length($1) + 2) }
    key == "kind" { kind = val }
    key == "path" { path = val }
    key == "bucket" { bucket = val }
    key == "endpoint" { endpoint = val }
    key == "region" { region = val }
    key == "force_path_style" { pathstyle = val }
    key == "access_key_id" { akid = val }
    key == "session_token" { token = (val != "") }
    END { flush() }' "$T/dump.out" | sort
}

# check NAME FILE: litestream's requests equal our prediction.
check() {
  : >"$T/requests.log"
  run timeout 30 "$LITESTREAM" generations -config "$2" "$T/app.db" >"$T/gen.out" 2>&1
  [ "$rc" -eq 0 ] || { cat "$T/gen.out" >&2; fail "$1: litestream generations rc=$rc"; }
  sort -u "$T/requests.log" >"$T/theirs"
  expect "$2" >"$T/ours"
  [ -s "$T/theirs" ] || fail "$1: litestream sent nothing"
  diff -u "$T/theirs" "$T/ours" >&2 || fail "$1: our s3 settings differ from litestream's requests"
  ok "$1 ($(wc -l <"$T/theirs") requests)"
}

cat >"$T/s3.yml" <<'EOF'
access-key-id: AKIDTOPLEVEL
secret-access-key: top$SECRET_PART
dbs:
  - path: app.db
    replicas:
      - url: s3://mybucket.localhost:${P}/some//path/./to/
        name: localhost-url
      - name: explicit
        type: s3
        bucket: b2
        path: /lead/x/
        endpoint: http://127.0.0.1:${P}
        region: auto
        access-key-id: AKIDOWN
        secret-access-key: own
      - name: url-keeps-explicit-region
        url: s3://b3.localhost:${P}
        region: eu-central-1
      - name: explicit-path-style-false-but-provider-host
        url: s3://b4.localhost:${P}/db
        force-path-style: false
      - name: url-root
        url: s3://b5.localhost:${P}/
      - name: endpoint-only
        type: s3
        bucket: b6
        path: db.sqlite
        endpoint: http://127.0.0.1:${P}
EOF
check "url forms, explicit fields, top-level keys" "$T/s3.yml"

cat >"$T/env.yml" <<'EOF'
dbs:
  - path: app.db
    replicas:
      - type: s3
        bucket: $BUCKET_NAME
        path: litestream/app.db
        endpoint: $ENDPOINT
EOF
BUCKET_NAME=fly-bucket ENDPOINT=http://127.0.0.1:$P AWS_ACCESS_KEY_ID=AKIDFROMAWS \
  AWS_SECRET_ACCESS_KEY=s check "credentials from AWS_* (Fly's generated config)" "$T/env.yml"
BUCKET_NAME=fly-bucket ENDPOINT=http://127.0.0.1:$P LITESTREAM_ACCESS_KEY_ID=AKIDFROMLS \
  LITESTREAM_SECRET_ACCESS_KEY=s check "credentials from LITESTREAM_*" "$T/env.yml"
BUCKET_NAME=fly-bucket ENDPOINT=http://127.0.0.1:$P LITESTREAM_ACCESS_KEY_ID=AKIDFROMLS \
  LITESTREAM_SECRET_ACCESS_KEY=s AWS_ACCESS_KEY_ID=AKIDAWSWINS AWS_SECRET_ACCESS_KEY=s \
  check "AWS_* wins over LITESTREAM_* as in litestream" "$T/env.yml"
BUCKET_NAME=fly-bucket ENDPOINT=http://127.0.0.1:$P AWS_ACCESS_KEY_ID=AKIDWITHTOKEN \
  AWS_SECRET_ACCESS_KEY=s AWS_SESSION_TOKEN=tok check "session token" "$T/env.yml"
# AWS_ENDPOINT_URL_S3 (what Fly sets for Tigris) is ignored by litestream
# 0.3.13 (aws-sdk-go 1.44 predates it: it would go to
# envbucket.s3.amazonaws.com; not run here, no network). We take it and
# flag it (endpoint_from_env), so the caller can warn that `litestream
# replicate` will not use it.
printf 'dbs:\n  - path: app.db\n    replicas:\n      - url: s3://envbucket/db\n' >"$T/envep.yml"
AWS_ENDPOINT_URL_S3=http://127.0.0.1:$P "$DUMP" -v -env "$T/envep.yml" >"$T/dump.out"
assert_contains "$T/dump.out" "endpoint=http://127.0.0.1:$P" "our endpoint"
assert_contains "$T/dump.out" "endpoint_from_env=1" "flagged"
assert_contains "$T/dump.out" "force_path_style=1" "path style with an env endpoint"
assert_contains "$T/dump.out" "region=us-east-1" "default region with an endpoint"
ok "AWS_ENDPOINT_URL_S3 taken and flagged"

done_testing
