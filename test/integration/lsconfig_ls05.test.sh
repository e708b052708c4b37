# ctest-labels: integration;s3
# ctest-timeout: 180
# litestream.yml read by the rules of the litestream that will run. Each
# file goes to the real litestream 0.5 (`litestream databases`, which
# builds every database and replica as replicate does) and to
# lsconfig-dump -rules 05: both accept it with the same output, or both
# refuse it (and we say why, at FILE:LINE:COLUMN). Then the boot: dbsetup
# asks `litestream version` of the binary it will start and refuses (78)
# what that version would refuse or silently misread.
. "$(dirname "$0")/lib.sh"
DUMP=$DBS_TOOLS/lsconfig-dump
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "no litestream 0.5 at $LS05: run scripts/peers.sh (needs Go >= 1.25)"
[ -x "$LITESTREAM" ] || fail "no litestream at $LITESTREAM"
W=$T/work
mkdir -p "$W" && cd "$W"
unset LITESTREAM_CONFIG AWS_REGION AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE \
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN || true
y() { cat >"$W/$1"; }

# same05 NAME FILE [NEEDLE]: litestream 0.5 and we agree; when both refuse,
# our error contains NEEDLE (if given) and a FILE:LINE:COLUMN position.
same05() {
  local name=$1 f=$2 needle=${3:-} trc
  run env _=t "$LS05" databases -config "$f" >"$T/theirs.out" 2>"$T/theirs.err"
  trc=$rc
  run env _=t "$DUMP" -rules 05 "$f" >"$T/ours.out" 2>"$T/ours.err"
  if [ "$trc" -eq 0 ]; then
    [ "$rc" -eq 0 ] || { cat "$T/ours.err" >&2; fail "$name: litestream 0.5 accepts, we refuse"; }
    diff -u "$T/theirs.out" "$T/ours.out" >&2 || fail "$name: outputs differ"
  else
    [ "$rc" -ne 0 ] || { cat "$T/theirs.err" >&2; fail "$name: litestream 0.5 refuses, we accept"; }
    [ -z "$needle" ] || assert_contains "$T/ours.err" "$needle" "$name"
    grep -q "$f:[0-9]*:[0-9]*: " "$T/ours.err" || { cat "$T/ours.err" >&2; fail "$name: no FILE:LINE:COLUMN"; }
  fi
  ok "$name (litestream 0.5 rc=$trc)"
}

y single.yml <<'EOF'
dbs:
  - path: /data/a.db
    replica:
      url: file:///backups/a
  - path: /data/b.db
    replica:
      type: s3
      bucket: bkt
      path: b
EOF
same05 "replica: (singular)" single.yml

y one.yml <<'EOF'
dbs:
  - path: /data/a.db
    replicas:
      - url: s3://bkt/a
EOF
same05 "replicas: with one entry" one.yml

y inherit.yml <<'EOF'
bucket: bkt
region: eu-west-1
endpoint: http://127.0.0.1:9
access-key-id: AKIA
secret-access-key: SECRET
force-path-style: true
sync-interval: 5s
dbs:
  - path: /data/a.db
    replica:
      type: s3
      path: a
EOF
same05 "replica settings inherited from the top level" inherit.yml
run "$DUMP" -rules 05 -v inherit.yml >"$T/v.out" 2>&1
for want in bucket=bkt region=eu-west-1 endpoint=http://127.0.0.1:9 force_path_style=1 path=a; do
  assert_contains "$T/v.out" "db[0].replica[0].$want" "inherited $want"
done
run "$DUMP" -rules 03 -v inherit.yml >"$T/v3.out" 2>&1
assert_eq 1 "$rc" "0.3 does not inherit the bucket (litestream 0.3 refuses too)"
ok "the top-level bucket, region, endpoint and path style reach the replica under 0.5 only"

y newkeys.yml <<'EOF'
levels:
  - interval: 10s
  - interval: 1m
snapshot:
  interval: 1h
  retention: 2h
l0-retention: 1m
l0-retention-check-interval: 5s
shutdown-sync-timeout: 12s
shutdown-sync-interval: 250ms
retention:
  enabled: false
validation:
  interval: 1h
verify-compaction: true
dbs:
  - path: /data/a.db
    monitor-interval: 500ms
    busy-timeout: 2s
    snapshot:
      interval: 1h
    replica:
      path: /backups/a
      sync-interval: 200ms
EOF
same05 "0.5's new keys" newkeys.yml

y old03.yml <<'EOF'
dbs:
  - path: /data/a.db
    max-checkpoint-page-count: 1000
    replicas:
      - path: /backups/a
        retention: 72h
        retention-check-interval: 1h
        snapshot-interval: 24h
        validation-interval: 6h
EOF
same05 "0.3-only keys (0.5 ignores them)" old03.yml
for k in max-checkpoint-page-count retention retention-check-interval snapshot-interval validation-interval; do
  grep -q "^warning: $W/old03.yml:[0-9]*:[0-9]*: .*$k: litestream 0.5 ignores this 0.3 setting" "$T/ours.err" ||
    { cat "$T/ours.err"; fail "no warning for $k"; }
done
run "$DUMP" -rules 03 old03.yml >/dev/null 2>"$T/ours3.err"
[ ! -s "$T/ours3.err" ] || fail "warnings under 0.3: $(cat "$T/ours3.err")"
ok "each 0.3-only key is warned about with its position under 0.5, not under 0.3"

y both.yml <<'EOF'
dbs:
  - path: /data/a.db
    replica:
      path: /b1
    replicas:
      - path: /b2
EOF
same05 "replica and replicas together" both.yml "cannot specify 'replica' and 'replicas' on a database"
assert_contains "$T/ours.err" "both.yml:5:5:" "points at replicas:"

y two.yml <<'EOF'
dbs:
  - path: /data/a.db
    replicas:
      - path: /b1
      - path: /b2
EOF
same05 "two replicas" two.yml "multiple replicas on a single database are no longer supported"
assert_contains "$T/ours.err" "two.yml:5:9:" "points at the second entry"

y none.yml <<'EOF'
dbs:
  - path: /data/a.db
EOF
same05 "no replica" none.yml "must specify replica for database"

y age.yml <<'EOF'
dbs:
  - path: /data/a.db
    replica:
      path: /b
      age:
        identities: [AGE-SECRET-KEY-1XXXX]
EOF
same05 "age: on the replica" age.yml "age encryption is not currently supported"
assert_contains "$T/ours.err" "age.yml:5:7:" "points at age:"

y agetop.yml <<'EOF'
age:
  recipients: [age1xxxx]
dbs:
  - path: /data/a.db
    replica:
      path: /b
EOF
same05 "age: at the top level (inherited)" agetop.yml "age encryption is not currently supported"

y dup.yml <<'EOF'
dbs:
  - path: /data/a.db
    replica: {path: /b1}
  - path: /data/./a.db
    replica: {path: /b2}
EOF
same05 "the same database twice" dup.yml "duplicate path"

y gcs.yml <<'EOF'
dbs:
  - path: /data/a.db
    replica: {type: gcs, bucket: b, path: p}
EOF
same05 "gcs is gs in 0.5" gcs.yml "unknown replica type in config: \"gcs\""
y gs.yml <<'EOF'
dbs:
  - path: /data/a.db
    replica: {url: "gs://b/p"}
EOF
same05 "gs replica" gs.yml

y retdur.yml <<'EOF'
retention: 24h
dbs:
  - path: /data/a.db
    replica: {path: /b}
EOF
same05 "top-level retention as a duration" retdur.yml "retention: {enabled: true}"

i=0
for bad in "snapshot: {interval: 0s}" "snapshot: {retention: -1h}" "levels: [{interval: 0s}]" \
  "l0-retention: -1s" "l0-retention-check-interval: 0s" "shutdown-sync-timeout: -1s" \
  "shutdown-sync-interval: 0s" "sync-interval: 0s" "shutdown-sync-timeout: soon"; do
  i=$((i + 1))
  printf '%s\ndbs:\n  - path: /data/a.db\n    replica: {path: /b}\n' "$bad" >"bad$i.yml"
  same05 "refused: $bad" "bad$i.yml"
done
printf 'dbs:\n  - path: /data/a.db\n    replica: {path: /b, sync-interval: 0s}\n' >badsync.yml
same05 "refused: replica sync-interval 0s" badsync.yml "sync interval must be greater than 0"
printf 'dbs:\n  - path: ""\n    replica: {path: /b}\n' >nopath.yml
same05 "refused: empty db path" nopath.yml "must specify either 'path' or 'dir'"

# A URL whose query holds the endpoint (0.5 only): litestream 0.5 writes
# where we say the replica is.
. "$(dirname "$0")/lib_s3.sh"
s3_start
sqlite3 "$W/q.db" "pragma journal_mode=wal; create table t(x); insert into t values(1);" >/dev/null
y query.yml <<EOF
dbs:
  - path: $W/q.db
    replica:
      url: s3://$S3_BUCKET/q/db?endpoint=127.0.0.1:$S3_PORT&region=us-east-1
      access-key-id: $S3_ACCESS_KEY_ID
      secret-access-key: $S3_SECRET_ACCESS_KEY
EOF
"$LS05" replicate -config query.yml >"$T/q.log" 2>&1 &
qpid=$!
cleanup "kill $qpid 2>/dev/null"
wait_for 15 test -d "$S3_DIR/data/$S3_BUCKET/q/db/0000" || { cat "$T/q.log"; fail "litestream 0.5 wrote nothing"; }
kill -TERM $qpid; wait $qpid || true
run "$DUMP" -rules 05 -v query.yml >"$T/v.out" 2>&1
for want in "endpoint=http://127.0.0.1:$S3_PORT" "path=q/db" "bucket=$S3_BUCKET" force_path_style=1 region=us-east-1; do
  assert_contains "$T/v.out" "db[0].replica[0].$want" "query: $want"
done
ok "s3 URL with ?endpoint=&region=: litestream 0.5 wrote to $S3_ENDPOINT/q/db, where we read it"

# --- the boot ------------------------------------------------------------
app=$T/app vol=$T/vol
mkdir -p "$app"
cd "$app"
boot() { # LITESTREAM-BIN YML [args...]: boots with `true` as the app
  local bin=$1 yml=$2
  shift 2
  run "$DBSETUP" --db db/app.db --volume "$vol" --litestream "$bin" \
    --litestream-config "$yml" "$@" -- true >"$T/boot.out" 2>&1
}
cat >single05.yml <<EOF
dbs:
  - path: $vol/app.db
    replica:
      type: file
      path: $T/rep05
EOF
cat >two05.yml <<EOF
dbs:
  - path: $vol/app.db
    replicas:
      - {name: a, path: $T/repa}
      - {name: b, path: $T/repb}
EOF

boot "$LS05" single05.yml
assert_eq 0 "$rc" "replica: with litestream 0.5"
assert_contains "$T/boot.out" "is litestream v0.5.18" "version logged"
assert_contains "$T/boot.out" "replicator started" "litestream 0.5 replicates"
ok "replica: (0.5 syntax) with litestream 0.5 as the replicator: boots, replicates"

rm -rf "$vol"
boot "$LITESTREAM" single05.yml
assert_eq 78 "$rc" "replica: with litestream 0.3"
assert_contains "$T/boot.out" "single05.yml:3:5: dbs[0]: 'replica:' is litestream 0.5 syntax, and the litestream that will run is 0.3" "0.3 error"
assert_contains "$T/boot.out" "is litestream v0.3.13" "version logged"
[ ! -e "$vol/app.db" ] || fail "0.3 + replica: created a database"
ok "replica: with litestream 0.3.13 as the replicator: 78 naming the fix, nothing created"

boot "$LITESTREAM" single05.yml --no-replicate
assert_eq 0 "$rc" "replica: with --no-replicate"
ok "replica: without a replicator to start (--no-replicate): read (restore only)"

rm -rf "$vol"
boot "$LS05" two05.yml
assert_eq 78 "$rc" "two replicas with litestream 0.5"
assert_contains "$T/boot.out" "two05.yml:5:9: dbs[0]: multiple replicas on a single database are no longer supported" "0.5 error"
boot "$LITESTREAM" two05.yml --no-restore
assert_eq 0 "$rc" "two replicas with litestream 0.3"
ok "two replicas: 78 with litestream 0.5, fine with 0.3"

boot /bin/false single05.yml
assert_eq 78 "$rc" "a failing version call"
assert_contains "$T/boot.out" "/bin/false version exited with status 1" "names the failure"
boot /bin/echo single05.yml
assert_eq 78 "$rc" "not litestream"
assert_contains "$T/boot.out" "/bin/echo version printed \"version\", not a litestream version" "names the output"
ok "a --litestream whose version call fails or is not litestream's: 78 naming it"

done_testing
