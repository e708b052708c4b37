# ctest-labels: integration;litefs
# ctest-timeout: 120
# The two-node LiteFS harness itself (test/integration/litefs_lib.sh):
# real LiteFS v0.5.14, static lease, A primary and B its replica on one
# machine; a write on A reaches B, a write on B is refused as LiteFS says,
# dbsetup's POST /import client (through test/tools/litefs-probe) streams
# a 20 MB database to A, which B receives, and gets 503 (-EAGAIN: not the
# primary) from B; and the teardown leaves no mount and no process behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require

lfs_config a
lfs_config b
lfs_start a
lfs_wait_ready a
lfs_start b
lfs_wait_ready b
lfs_info a | jq -e '.isPrimary == true' >/dev/null || fail "A is not primary: $(lfs_info a)"
lfs_info b | jq -e '.isPrimary == false and .primary.hostname == "node-a"' >/dev/null ||
  fail "B is not A's replica: $(lfs_info b)"
ok "A is primary, B its replica (/info)"

sqlite3 "$T/a/mnt/app.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (42);'
_b_has() { [ "$(sqlite3 "$T/b/mnt/app.db" 'SELECT x FROM t' 2>/dev/null)" = 42 ]; }
wait_for 10 _b_has || fail "A's write never reached B"
assert_eq "node-a" "$(cat "$T/b/mnt/.primary")" "B's .primary"
ok "a write on A reaches B"

run sqlite3 "$T/b/mnt/app.db" 'INSERT INTO t VALUES (1)' 2>"$T/err"
[ "$rc" -ne 0 ] || fail "a write on B succeeded"
assert_contains "$T/err" "readonly" "B's write error"
ok "a write on B fails (attempt to write a readonly database)"

# dbs_litefs_import against the real API.
sqlite3 "$T/big.db" "CREATE TABLE b(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) INSERT INTO b SELECT randomblob(1000) FROM c;"
size=$(stat -c %s "$T/big.db")
t0=$(date +%s%N)
run "$DBS_TOOLS/litefs-probe" --import big.db "$T/big.db" "$T/a.yml" >"$T/imp"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq 0 "$rc" "import to A ($(cat "$T/imp"))"
_b_big() { [ "$(sqlite3 "$T/b/mnt/big.db" 'SELECT count(*) FROM b' 2>/dev/null)" = 20000 ]; }
t0=$(date +%s%N)
wait_for 20 _b_big || fail "the import never reached B"
ms_b=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq ok "$(sqlite3 "$T/b/mnt/big.db" 'PRAGMA integrity_check')" "B's copy"
ok "POST /import of $size bytes to A in $ms ms; B had it $ms_b ms later, intact"

run "$DBS_TOOLS/litefs-probe" --import big2.db "$T/big.db" "$T/b.yml" >"$T/imp"
assert_eq 1 "$rc" "import to B"
assert_contains "$T/imp" "import rc=-11: POST http://127.0.0.1:$LFS_PORT_b/import?name=big2.db: HTTP status 503" "the answer of B"
ok "POST /import to the replica: 503, reported as -EAGAIN (not the primary)"

pa=$LFS_PID_a pb=$LFS_PID_b
lfs_teardown
! lfs_mounted a && ! lfs_mounted b || fail "a mount survived the teardown"
! kill -0 "$pa" 2>/dev/null && ! kill -0 "$pb" 2>/dev/null || fail "litefs survived the teardown"
ok "teardown: both litefs gone, both mounts gone"
done_testing
