#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 120
# The boot-time API: RESTORED, NO_BACKUP (fresh start, nothing created),
# UNSUPPORTED_TYPE (litestream fallback), and errors that stop the boot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"
B=$DBS_TOOLS/restore_boot

F=$T/fx
make_replica "$F" 1 6

run "$B" file "$F/replica" "$T/a/db" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "restored: status"; assert_eq RESTORED "$(cat "$T/out")" "restored"
"$LITESTREAM" restore -o "$T/ls.db" "file://$F/replica" 2>/dev/null
[ "$(dump "$T/a/db")" == "$(dump "$T/ls.db")" ] || fail "boot restore differs from litestream's"
ok "backup present: RESTORED, same database as litestream restore"

mkdir -p "$T/empty"
run "$B" file "$T/empty" "$T/b/db" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "no backup: status"; assert_eq NO_BACKUP "$(cat "$T/out")" "no backup"
[ ! -e "$T/b/db" ] || fail "no backup created a database"
ok "empty replica: NO_BACKUP, status 0, nothing created"

run "$B" gcs "bucket/path" "$T/c/db" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "other type: status"; assert_eq UNSUPPORTED_TYPE "$(cat "$T/out")" "other type"
ok "gcs replica: UNSUPPORTED_TYPE (litestream fallback)"

run "$B" file "$F/replica" "$T/d/db" nosuch >"$T/out" 2>"$T/err"
assert_eq 78 "$rc" "unknown replica name"
ok "unknown --replica name: 78, not a fresh database"

cp -a "$F/replica" "$T/bad"; s=$(ls "$T"/bad/generations/*/snapshots/* | tail -1); truncate -s -9 "$s"
run "$B" file "$T/bad" "$T/e/db" >"$T/out" 2>"$T/err"
assert_eq 65 "$rc" "corrupt: status"; assert_eq ECORRUPT "$(cat "$T/out")" "corrupt"
assert_contains "$T/err" "$(basename "$s")" "corrupt: names the object"
[ -z "$(ls -A "$T/e" 2>/dev/null)" ] || fail "corrupt restore left files: $(ls -A "$T/e")"
ok "corrupt replica: 65 naming the object, nothing at the target"

# Leftovers of a crashed restore are removed before restoring.
mkdir -p "$T/f"; echo junk >"$T/f/db.tmp"; echo junk >"$T/f/db.tmp-0000000a-wal"
echo junk >"$T/f/db.tmp-wal"; echo junk >"$T/f/db-wal"; echo junk >"$T/f/db-shm"
run "$B" file "$F/replica" "$T/f/db" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "leftovers: status"
assert_eq "db" "$(ls -A "$T/f")" "leftovers removed"
[ "$(dump "$T/f/db")" == "$(dump "$T/ls.db")" ] || fail "restore over leftovers differs"
ok "leftovers (.tmp, staged WAL, stale -wal/-shm) removed, restore completes"

done_testing
