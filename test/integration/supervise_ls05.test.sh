#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 300
# The last write reaches the replica when dbsetup is stopped, with the real
# litestream 0.5 (v0.5.18, litestream.yml in 0.5 syntax: replica:) and
# 0.3.13 as the replicator: the app commits a row and dbsetup gets TERM
# (docker stop) or INT (Fly) at once, as PID 1 of a PID namespace and as a
# plain child; then `litestream restore` of the version that wrote the
# replica must find the row. File replicas, and S3 (the verifying s3rver)
# for 0.5. Then the two cases today's stop timing lost:
# - monitor-interval: 3s: litestream syncs first after 3 s and uploads
#   nothing when stopped sooner; a fixed 2 s wait stopped it too early;
# - the storage is down when the stop comes and back 3 s later: litestream
#   0.5 retries its final upload for shutdown-sync-timeout (30 s), and
#   dbsetup's SIGKILL after 2 s cut those retries.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
. "$(dirname "$0")/lib_s3.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "no litestream 0.5 at $LS05: run scripts/peers.sh (needs Go >= 1.25)"
# aws-sdk-go-v2 (litestream 0.5) refuses AWS_CA_BUNDLE with a custom client.
unset AWS_CA_BUNDLE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN || true
s3_start
export LITESTREAM_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY

export PS
app=$T/app
mkdir -p "$app"
cd "$app"
# The app commits row $ROW, then waits to be stopped (print-signals, which
# says it is ready and exits 0 on TERM or INT: a shell would inherit INT
# ignored from a non-interactive parent); with $GO set it first waits for
# that file (the outage case).
cat >app.sh <<'SH'
#!/bin/sh
if [ -n "$GO" ]; then while [ ! -e "$GO" ]; do sleep 0.05; done; fi
sqlite3 -cmd '.timeout 5000' "$DB" "insert into t values('$ROW');" || exit 90
exec "$PS" -o "$READY.sigs" -r "$READY" -T 120
SH
chmod +x app.sh
migrate="sqlite3 -cmd '.timeout 5000' db/app.db 'create table if not exists t(x)'"

# yml FILE VERSION KIND [EXTRA-DB-LINE]: a litestream.yml in the syntax of
# VERSION (05: replica:, 03: replicas:) for a file or s3 replica at $rep
# ($ENDPOINT: the S3 endpoint, default s3rver's).
yml() {
  local f=$1 v=$2 kind=$3 extra=${4:-} body
  if [ "$kind" = file ]; then
    body="type: file
path: $rep"
  else
    body="type: s3
bucket: $S3_BUCKET
path: $rep
endpoint: ${ENDPOINT:-$S3_ENDPOINT}
region: us-east-1
force-path-style: true"
  fi
  {
    [ -z "${TOP:-}" ] || echo "$TOP"
    echo "dbs:"
    echo "  - path: $vol/app.db"
    [ -z "$extra" ] || echo "    $extra"
    if [ "$v" = 05 ]; then
      echo "    replica:"
      echo "$body" | sed 's/^/      /'
    else
      echo "    replicas:"
      echo "$body" | sed '1s/^/      - /; 2,$s/^/        /'
    fi
  } >"$f"
}

# restored VERSION KIND: the rows `litestream restore` of VERSION finds.
restored() {
  local bin=$LS05 out=$T/restored.db
  [ "$1" = 03 ] && bin=$LITESTREAM
  rm -f "$out"
  "$bin" restore -config "$T/restore.yml" -o "$out" "$vol/app.db" >"$T/restore.log" 2>&1 ||
    { cat "$T/restore.log" >&2; return 1; }
  sqlite3 "$out" "select group_concat(x) from t"
}

n=0
# stop_case VERSION KIND MODE SIG [EXTRA-DB-LINE]
stop_case() {
  local v=$1 kind=$2 mode=$3 sig=$4 extra=${5:-} bin=$LS05 t0 got
  [ "$v" = 03 ] && bin=$LITESTREAM
  n=$((n + 1))
  vol=$T/vol$n rep=$T/rep$n
  [ "$kind" = s3 ] && rep=case$n
  yml litestream.yml "$v" "$kind" "$extra"
  yml "$T/restore.yml" "$v" "$kind"
  export DB=db/app.db ROW=row$n READY=$T/ready$n GO=
  start_bg "$mode" "$T/err$n" "$DBSETUP" --db db/app.db --volume "$vol" \
    --litestream "$bin" --litestream-config litestream.yml --migrate "$migrate" \
    -- ./app.sh
  wait_for 20 test -e "$READY" || { cat "$T/err$n"; fail "case $n: app not ready"; }
  t0=$(date +%s%3N)
  kill -"$sig" "$DPID"
  wait_bg
  STOP_MS=$(($(date +%s%3N) - t0))
  assert_eq 0 "$rc" "case $n ($v $kind $mode $sig): exit status (the app's)"
  got=$(restored "$v") || { cat "$T/err$n"; fail "case $n: restore failed"; }
  [ "$got" = "row$n" ] || { cat "$T/err$n"; fail "case $n ($v $kind $mode $sig ${extra:-}): replica holds [$got], not row$n"; }
}

for v in 05 03; do
  for mode in "${MODES[@]}"; do
    for sig in TERM INT; do
      stop_case "$v" file "$mode" "$sig"
      ok "litestream $v, file replica, $mode, $sig right after the commit: row in the replica (stopped in $STOP_MS ms)"
    done
  done
done
for mode in "${MODES[@]}"; do
  for sig in TERM INT; do
    stop_case 05 s3 "$mode" "$sig"
    ok "litestream 05, S3 replica, $mode, $sig right after the commit: row in the replica (stopped in $STOP_MS ms)"
  done
done
assert_contains "$T/err1" "is litestream v0.5.18" "the version is logged"
assert_contains "$T/err1" "to replicator (process group" "0.5 stopped"
assert_contains "$T/err1" "SIGKILL in 32.0 s" "0.5: shutdown-sync-timeout + 2 s"
assert_contains "$T/err5" "SIGKILL in 5.0 s" "0.3: 5 s"
ok "the replicator gets 32 s (litestream 0.5: shutdown-sync-timeout + 2) or 5 s (0.3) before SIGKILL"

# monitor-interval 3s: the first sync comes at 3 s. (With 0.5, also a
# shutdown-sync-timeout of 5s: the replicator then gets 7 s.)
for v in 05 03; do
  TOP="shutdown-sync-timeout: 5s" stop_case "$v" file child TERM "monitor-interval: 3s"
  [ "$STOP_MS" -ge 1500 ] || fail "monitor-interval 3s: stopped after $STOP_MS ms, before the first sync"
  assert_contains "$T/err$n" "giving it until 4.0 s for its first sync" "$v: waits for the first sync"
  ok "litestream $v, monitor-interval: 3s: waited for the first sync ($STOP_MS ms), row in the replica"
done
assert_contains "$T/err$((n - 1))" "SIGKILL in 7.0 s" "0.5 with shutdown-sync-timeout: 5s"
ok "litestream 0.5 with shutdown-sync-timeout: 5s gets 7 s"

# The storage is down at the stop and back 3 s later (litestream 0.5 only:
# 0.3 has no retries). The replicator reaches s3rver through faultproxy.
for mode in "${MODES[@]}"; do
  n=$((n + 1))
  vol=$T/vol$n rep=case$n
  fp_start
  ENDPOINT=$FP_ENDPOINT yml litestream.yml 05 s3
  yml "$T/restore.yml" 05 s3
  export DB=db/app.db ROW=late$n READY=$T/ready$n GO=$T/go$n
  start_bg "$mode" "$T/err$n" "$DBSETUP" --db db/app.db --volume "$vol" \
    --litestream "$LS05" --litestream-config litestream.yml --migrate "$migrate" \
    -- ./app.sh
  wait_for 20 test -d "$S3_DIR/data/$S3_BUCKET/$rep/0000" ||
    { cat "$T/err$n"; fail "outage $mode: nothing uploaded"; }
  port=$FP_PORT
  fp_stop
  touch "$GO"
  wait_for 10 test -e "$READY" || { cat "$T/err$n"; fail "outage $mode: app not ready"; }
  kill -TERM "$DPID"
  sleep 3
  fp_start --port "$port"
  wait_bg
  assert_eq 0 "$rc" "outage $mode: exit status"
  got=$(restored 05) || { cat "$T/err$n"; fail "outage $mode: restore failed"; }
  [ "$got" = "late$n" ] || { cat "$T/err$n"; fail "outage $mode: replica holds [$got], not late$n (the final sync's retries were cut)"; }
  assert_not_contains "$T/err$n" "still running" "outage $mode: litestream was not killed"
  ok "litestream 05, storage down at the stop for 3 s ($mode): the final sync's retries got the row through"
  fp_stop
done

done_testing
