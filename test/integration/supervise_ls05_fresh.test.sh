#!/usr/bin/env bash
# ctest-labels: integration
# ctest-timeout: 120
# litestream 0.5 is never started on a new database that the restore did
# not find to be without a backup: started on an empty database while its
# replica holds data, 0.5 uploads the empty database as the replica's
# latest state (docs: litestream-0.5.md §6). A 0.5 replica holds row 'old';
# the volume is wiped; a boot with --no-restore must refuse (78) before
# the replicator or the app starts, leave no database on the volume, and
# the replica's latest restore must still hold 'old'. As PID 1 and as a
# child. --no-restore --no-replicate still boots (nothing replicates).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "no litestream 0.5 at $LS05: run scripts/peers.sh (needs Go >= 1.25)"
export PS
app=$T/app vol=$T/vol rep=$T/rep
mkdir -p "$app"
cd "$app"
cat >litestream.yml <<EOF
dbs:
  - path: $vol/app.db
    replica:
      type: file
      path: $rep
EOF
cat >app.sh <<'SH'
#!/bin/sh
sqlite3 -cmd '.timeout 5000' "$DB" "insert into t values('$ROW');" || exit 90
echo started >>"$STARTS"
exec "$PS" -o "$READY.sigs" -r "$READY" -T 120
SH
chmod +x app.sh
migrate="sqlite3 -cmd '.timeout 5000' db/app.db 'create table if not exists t(x)'"
export DB=db/app.db STARTS=$T/starts
latest() { # the rows of the replica's latest state, by litestream 0.5
  rm -f "$T/latest.db"
  "$LS05" restore -o "$T/latest.db" "file://$rep" >"$T/restore.log" 2>&1 || { cat "$T/restore.log" >&2; return 1; }
  sqlite3 "$T/latest.db" "select group_concat(x) from t"
}

# A backup holding 'old', written by litestream 0.5 under dbsetup.
export ROW=old READY=$T/ready0
start_bg child "$T/err0" "$DBSETUP" --db db/app.db --volume "$vol" \
  --litestream "$LS05" --migrate "$migrate" -- ./app.sh
wait_for 20 test -e "$READY" || { cat "$T/err0"; fail "first boot: app not ready"; }
kill -TERM "$DPID"
wait_bg
assert_eq 0 "$rc" "first boot"
assert_eq old "$(latest)" "the backup"
ok "a litestream 0.5 backup holding 'old'"

for mode in "${MODES[@]}"; do
  rm -rf "$vol" "$STARTS"
  export ROW=new READY=$T/ready-$mode
  start_bg "$mode" "$T/err-$mode" "$DBSETUP" --db db/app.db --volume "$vol" \
    --litestream "$LS05" --migrate "$migrate" --no-restore -- ./app.sh
  if ! wait_for 15 test ! -d "/proc/$BG"; then
    sleep 2 # litestream's first sync
    kill -TERM "$DPID"
    wait_bg
    fail "$mode: --no-restore booted with litestream 0.5; the replica's latest state is now [$(latest)]"
  fi
  wait_bg
  assert_eq 78 "$rc" "$mode: --no-restore on a new database with litestream 0.5"
  assert_contains "$T/err-$mode" "is a new database that was not restored (--no-restore): litestream v0.5.18 would upload it over any backup" "$mode: says why"
  assert_not_contains "$T/err-$mode" "replicator started" "$mode: no replicator"
  [ ! -e "$STARTS" ] || fail "$mode: the app was started"
  [ ! -e "$vol/app.db" ] || fail "$mode: the new database was left on the volume"
  assert_eq old "$(latest)" "$mode: the backup after the refused boot"
  ok "$mode: --no-restore + new database + litestream 0.5: 78 before anything starts, backup intact"
done

rm -rf "$vol" "$STARTS"
export ROW=new READY=$T/ready-norepl
start_bg child "$T/err-norepl" "$DBSETUP" --db db/app.db --volume "$vol" \
  --litestream "$LS05" --migrate "$migrate" --no-restore --no-replicate -- ./app.sh
wait_for 20 test -e "$READY" || { cat "$T/err-norepl"; fail "--no-replicate: app not ready"; }
kill -TERM "$DPID"
wait_bg
assert_eq 0 "$rc" "--no-restore --no-replicate"
assert_eq old "$(latest)" "the backup after --no-replicate"
ok "--no-restore --no-replicate: boots, nothing replicated, backup intact"

done_testing
