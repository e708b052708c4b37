#!/usr/bin/env bash
# ctest-labels: integration;restore;ltx
# ctest-timeout: 240
# One file replica location written by real litestream v0.3.13, then by
# litestream 0.5, then by v0.3.13 again (an upgrade and a rollback): the
# restore takes the layout written most recently, as litestream 0.5
# chooses, logs which and why, and holds what litestream 0.5 restores;
# `dbsetup generations` lists both layouts and which one a restore uses.
. "$(dirname "$0")/lib.sh"
LS05=$DBS_PEERS/litestream05
[ -x "$LS05" ] || fail "litestream 0.5 missing: run scripts/peers.sh (needs Go >= 1.25; DBS_PEERS=$DBS_PEERS)"
file_replica_yml "$T/ls.yml" "$T/db.sqlite" "$T/replica"
# run_with BIN TAG: BIN replicates while rows tagged TAG are written.
run_with() {
  local lp i
  "$1" replicate -config "$T/ls.yml" >>"$T/ls.log" 2>&1 &
  lp=$!
  cleanup "kill $lp 2>/dev/null"
  sleep 1.5
  for i in 1 2 3; do
    sqlite3 -cmd ".timeout 5000" "$T/db.sqlite" "INSERT INTO t(tag, v) SELECT '$2', hex(randomblob(200)) FROM generate_series(1, 30)"
    sleep 0.4
  done
  sleep 1.2
  kill -TERM "$lp"
  wait "$lp" || true
  sleep 1.1 # the next writer's objects are strictly newer (whole-second mtimes)
}
rows() { sqlite3 "$1" "SELECT tag || ':' || count(*) FROM t GROUP BY tag ORDER BY tag" | tr '\n' ' '; }
sqlite3 "$T/db.sqlite" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, tag TEXT, v TEXT)" >/dev/null

run_with "$LITESTREAM" v3a
run_with "$LS05" ltx
ls "$T/replica/generations" >/dev/null && ls "$T/replica/ltx/0" >/dev/null || fail "not both layouts"
run "$DBSETUP" restore -o "$T/r1.db" "file://$T/replica" 2>"$T/r1.err"
assert_eq 0 "$rc" "after the upgrade: exit status"
assert_contains "$T/r1.err" "restoring the LTX files" "after the upgrade: logs the choice"
assert_contains "$T/r1.err" "the most recently written wins" "after the upgrade: says why"
env -u AWS_CA_BUNDLE "$LS05" restore -o "$T/l1.db" "file://$T/replica" >/dev/null 2>&1
cmp "$T/r1.db" "$T/l1.db" || fail "after the upgrade: differs from litestream 0.5's restore"
assert_eq "ltx:90 v3a:90 " "$(rows "$T/r1.db")" "after the upgrade: rows"
"$DBSETUP" generations "file://$T/replica" >"$T/g1.out" 2>&1
assert_contains "$T/g1.out" "L0" "generations: LTX levels listed"
assert_contains "$T/g1.out" "a restore without -txid uses the LTX files" "generations: the choice"
[ "$(awk 'NR==2 {print $2}' "$T/g1.out" | wc -c)" -eq 17 ] || fail "generations: no v0.3 generation line"
ok "v0.3 then 0.5 at one location: the LTX files are restored (as litestream 0.5), the log and generations say why"

run_with "$LITESTREAM" v3b
run "$DBSETUP" restore -o "$T/r2.db" "file://$T/replica" 2>"$T/r2.err"
assert_eq 0 "$rc" "after the rollback: exit status"
assert_contains "$T/r2.err" "restoring the v0.3 generations" "after the rollback: logs the choice"
env -u AWS_CA_BUNDLE "$LS05" restore -o "$T/l2.db" "file://$T/replica" >/dev/null 2>&1
[ "$(sqlite3 "$T/r2.db" .dump)" == "$(sqlite3 "$T/l2.db" .dump)" ] ||
  fail "after the rollback: differs from litestream 0.5's restore"
assert_eq "ltx:90 v3a:90 v3b:90 " "$(rows "$T/r2.db")" "after the rollback: rows"
"$DBSETUP" generations "file://$T/replica" >"$T/g2.out" 2>&1
assert_contains "$T/g2.out" "a restore without -txid uses the v0.3 generations" "generations: the choice"
# -txid always means the LTX files.
run "$DBSETUP" restore -o "$T/r3.db" -txid "$(ls "$T/replica/ltx/0" | tail -1 | cut -c18-33)" "file://$T/replica" 2>"$T/r3.err"
assert_eq 0 "$rc" "-txid at a mixed location"
assert_eq "ltx:90 v3a:90 " "$(rows "$T/r3.db")" "-txid restores the LTX files"
ok "then v0.3 again: the v0.3 generations are restored (as litestream 0.5), -txid still means LTX"
done_testing
