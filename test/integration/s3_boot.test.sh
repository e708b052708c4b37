#!/usr/bin/env bash
# ctest-labels: integration;s3;setup
# ctest-timeout: 240
# The boot over an S3 replica (the verifying s3rver), with the credentials
# in LITESTREAM_* as on Fly: an empty bucket is "no backup" (fresh DB,
# seeded, replicated by litestream); a wiped volume is restored natively,
# also through transient faults; a refusing, unreachable or unresolvable
# storage stops the boot with 69 before the app starts, with no database
# left on the volume; a stop signal during a restore cuts it at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
s3_start
export LITESTREAM_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN || true
app=$T/app vol=$T/data
mkdir -p "$app"
cd "$app"
yml() { # ENDPOINT: litestream.yml with an S3 replica at ENDPOINT
  cat >litestream.yml <<YML
dbs:
  - path: $vol/dev.db
    monitor-interval: 100ms
    replicas:
      - type: s3
        bucket: $S3_BUCKET
        path: prod/dev.db
        endpoint: $1
        region: us-east-1
        force-path-style: true
        sync-interval: 100ms
YML
}
cat >app.sh <<'SH'
#!/bin/sh
echo started >>"$APP_MARK"
sqlite3 -cmd '.timeout 5000' "$DB" "insert into boots(at) values(strftime('%s','now'));" || exit 90
sleep 0.8
sqlite3 -cmd '.timeout 5000' "$DB" "select 'rows', (select count(*) from seeds), (select count(*) from boots);"
SH
chmod +x app.sh
export APP_MARK=$T/app-starts
migrate="sqlite3 -cmd '.timeout 5000' db/dev.db 'create table if not exists seeds(x); create table if not exists boots(at)'"
seed="sqlite3 -cmd '.timeout 5000' db/dev.db 'insert into seeds values(1),(2),(3)'"
boot() { # extra args...; output in $T/out, status in $rc
  run env DB=db/dev.db "$DBSETUP" --db db/dev.db --volume "$vol" \
    --litestream "$LITESTREAM" --litestream-config litestream.yml \
    --migrate "$migrate" --seed "$seed" --replicator-stop-timeout 5 \
    "$@" -- ./app.sh >"$T/out" 2>&1
}
starts() { [ -f "$APP_MARK" ] && wc -l <"$APP_MARK" || echo 0; }

yml "$S3_ENDPOINT"
boot
assert_eq 0 "$rc" "first boot"
assert_contains "$T/out" "no backup of" "empty bucket is no backup"
assert_contains "$T/out" "rows|3|1" "fresh, seeded, one boot"
ls "$S3_DIR/data/$S3_BUCKET/prod/dev.db/generations/" >/dev/null 2>&1 || fail "nothing replicated to S3"
ok "empty bucket: fresh database, seeded, replicated to S3 by litestream"

rm -rf "$vol"
boot
assert_eq 0 "$rc" "restore boot"
assert_contains "$T/out" "restored $vol/dev.db" "native restore logged"
assert_contains "$T/out" "rows|3|2" "restored rows plus this boot's"
ok "wiped volume: restored natively from S3, not seeded"

fp_start --fault 503:3 --fault reset:3:wal --fault drop:1 --fault 429:1 --reset-after 100
yml "$FP_ENDPOINT"
rm -rf "$vol"
boot
assert_eq 0 "$rc" "restore through faults"
assert_contains "$T/out" "rows|3|3" "restored through faults"
assert_contains "$T/out" "retrying" "retries were needed"
ok "wiped volume, flaky storage: restored after retries"

# kill -9 at random moments of a slow restore: the database is either
# absent or complete, and the next boot completes.
fp_start --fault trickle --trickle 64/15
yml "$FP_ENDPOINT"
for i in 1 2 3 4 5; do
  rm -rf "$vol"
  env DB=db/dev.db "$DBSETUP" --db db/dev.db --volume "$vol" \
    --litestream "$LITESTREAM" --litestream-config litestream.yml \
    --migrate "$migrate" --seed "$seed" -- ./app.sh >"$T/killed.out" 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  grep -q "restored $vol/dev.db" "$T/killed.out" && killed_after=$((${killed_after:-0} + 1))
  if [ -e "$vol/dev.db" ]; then
    assert_eq ok "$(sqlite3 "$vol/dev.db" 'PRAGMA integrity_check')" "kill $i: a database that exists is whole"
  fi
done
boot
assert_eq 0 "$rc" "boot after kills"
assert_contains "$T/out" "rows|3|" "boot after kills: restored data"
grep -o "restored $vol/dev.db: [^,]*, generation [0-9a-f]*, [^,]*, [^,]*, [0-9.]* s" "$T/out"
[ "${killed_after:-0}" -lt 5 ] || fail "every kill came after the restore"
ok "kill -9 during slow restores ($((5 - ${killed_after:-0})) of 5 mid-restore) leaves no partial database; the next boot completes"

# docker stop / fly deploy during a slow restore, with dbsetup as PID 1
# (where an unhandled TERM would be ignored) and as a plain child: the
# restore is cut at once, nothing is left on the volume, the app never
# starts, and dbsetup exits 128+N.
. "$(dirname "$0")/supervise_lib.sh"
fp_start --fault trickle::.snapshot.lz4 --trickle 16/100
yml "$FP_ENDPOINT"
for mode in "${MODES[@]}"; do
  for sig in TERM INT; do
    rm -rf "$vol"
    before=$(starts)
    stop_during "$mode" "$sig" "$T/stop.out" "restoring snapshot" \
      "restore interrupted by signal" "$vol" env DB=db/dev.db "$DBSETUP" \
      --db db/dev.db --volume "$vol" --litestream "$LITESTREAM" \
      --litestream-config litestream.yml --migrate "$migrate" --seed "$seed" -- ./app.sh
    assert_not_contains "$T/stop.out" "restored $vol/dev.db" "$mode $sig: the restore was not cut"
    assert_eq "$before" "$(starts)" "$mode $sig: the app must not start"
    ok "$mode: $sig during a slow restore stops in $STOP_MS ms with $STOP_WANT, nothing left, app not started"
  done
done

# Progress of a restore longer than 2 s (the snapshot still trickles): on
# a terminal one line updated in place (\r, erase to the end of line)
# every 250 ms, ended by a newline before the summary; otherwise an info
# line every 5 s.
command -v script >/dev/null || fail "script (util-linux) is needed"
rm -f "$T/tty.db"
run script -qefc "'$DBSETUP' restore -config litestream.yml -o '$T/tty.db' '$vol/dev.db'" \
  /dev/null >"$T/tty.out" 2>&1
assert_eq 0 "$rc" "restore on a terminal"
n=$(grep -o $'\rdbsetup: restoring: [0-9.]* / [0-9.]* [kMG]B ([0-9]*%), [0-9.]* [kMG]B/s, [0-9]*/[0-9]* objects\e\[K' "$T/tty.out" | wc -l)
[ "$n" -ge 3 ] || { cat -A "$T/tty.out"; fail "terminal: $n progress updates"; }
grep -q $'\e\\[K\r*$' "$T/tty.out" || { cat -A "$T/tty.out"; fail "terminal: the progress line is not ended"; }
grep -q "^dbsetup: info: restored $T/tty.db" "$T/tty.out" ||
  { cat -A "$T/tty.out"; fail "terminal: the summary does not start its own line"; }
assert_not_contains "$T/tty.out" "info: restoring:" "terminal: no log lines for progress"
ok "terminal: $n in-place progress updates, then the summary on its own line"
rm -f "$T/notty.db"
run "$DBSETUP" restore -config litestream.yml -o "$T/notty.db" "$vol/dev.db" >"$T/notty.out" 2>&1
assert_eq 0 "$rc" "restore to a file"
grep -q "^dbsetup: info: restoring: [0-9.]* / [0-9.]* \([kMG]B\) downloaded ([0-9]*%), [0-9.]* \1/s, [0-9]*/[0-9]* objects$" "$T/notty.out" ||
  { cat "$T/notty.out"; fail "no progress line"; }
! grep -q $'\r' "$T/notty.out" || fail "carriage returns in a log file"
ok "not a terminal: progress as info lines, no carriage returns"

# Refusals and outages: 69, no database, the app never started.
before=$(starts)
for case in 403 down dns; do
  rm -rf "$vol"
  case $case in
    403) fp_start --fault 403; yml "$FP_ENDPOINT" ;;
    down) yml "http://127.0.0.1:$(free_port)" ;;
    dns) yml "http://nonexistent.invalid:9000" ;;
  esac
  t0=$(date +%s%3N)
  boot --restore-timeout 2
  t1=$(date +%s%3N)
  assert_eq 69 "$rc" "$case: exit status"
  [ ! -e "$vol/dev.db" ] || fail "$case: a database was left on the volume"
  assert_eq "$before" "$(starts)" "$case: the app must not start"
  assert_not_contains "$T/out" "no backup of" "$case: not mistaken for no backup"
  assert_not_contains "$T/out" "$S3_SECRET_ACCESS_KEY" "$case: secret printed"
  [ $((t1 - t0)) -lt 12000 ] || fail "$case: took $((t1 - t0)) ms with a 2 s budget"
  ok "$case: exit 69 in $((t1 - t0)) ms, no database, app not started"
done
assert_contains "$T/out" "Could not resolve host" "dns: reason named"
done_testing
