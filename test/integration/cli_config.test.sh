#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 60
# The commands for humans find litestream.yml as the boot does: the flag,
# DBSETUP_LITESTREAM_CONFIG, LITESTREAM_CONFIG, ./litestream.yml, then
# /etc/litestream.yml; and each prints its own --help.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

run "$DBSETUP" generations --help >"$T/out" 2>&1
assert_eq 0 "$rc" "generations --help"
assert_contains "$T/out" "usage: dbsetup generations" "its own usage"
assert_not_contains "$T/out" "usage: dbsetup restore" "not restore's"
assert_not_contains "$T/out" "--timestamp" "no restore-only options"
ok "dbsetup generations --help prints its own usage"

make_replica "$T/src" 1 3
want=$(dump "$T/src/db.sqlite")
mkdir -p "$T/cwd" "$T/empty"

cd "$T/empty"
run env DBSETUP_LITESTREAM_CONFIG="$T/src/ls.yml" "$DBSETUP" restore -o "$T/a.db" \
  "$T/src/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "restore with DBSETUP_LITESTREAM_CONFIG"
assert_eq "$want" "$(dump "$T/a.db")" "restored content"
run env DBSETUP_LITESTREAM_CONFIG="$T/src/ls.yml" "$DBSETUP" generations \
  "$T/src/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "generations with DBSETUP_LITESTREAM_CONFIG"
assert_eq 1 "$(grep -c '^file ' "$T/out")" "one generation listed"
# It wins over litestream's own variable, as at boot.
run env DBSETUP_LITESTREAM_CONFIG="$T/src/ls.yml" LITESTREAM_CONFIG=/nonexistent.yml \
  "$DBSETUP" restore -o "$T/b.db" "$T/src/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "DBSETUP_LITESTREAM_CONFIG before LITESTREAM_CONFIG"
run env DBSETUP_LITESTREAM_CONFIG="$T/none.yml" "$DBSETUP" restore -o "$T/c.db" \
  "$T/src/db.sqlite" >"$T/out" 2>&1
assert_eq 78 "$rc" "a missing DBSETUP_LITESTREAM_CONFIG"
assert_contains "$T/out" "$T/none.yml" "names the file"
ok "restore and generations read DBSETUP_LITESTREAM_CONFIG (before LITESTREAM_CONFIG)"

cd "$T/cwd"
cp "$T/src/ls.yml" litestream.yml
run env -u LITESTREAM_CONFIG "$DBSETUP" restore -o "$T/d.db" "$T/src/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "restore with ./litestream.yml"
assert_eq "$want" "$(dump "$T/d.db")" "restored content from ./litestream.yml"
run env -u LITESTREAM_CONFIG "$DBSETUP" generations "$T/src/db.sqlite" >"$T/out" 2>&1
assert_eq 0 "$rc" "generations with ./litestream.yml"
ok "restore and generations read ./litestream.yml"

# dbsetup migrate: the database named by litestream.yml, as at boot.
mkdir -p "$T/mig/app" && cd "$T/mig/app"
cp -r "$DBS_FIXTURES/prisma/blog/migrations" migrations
printf 'dbs:\n  - path: %s\n    replicas:\n      - type: file\n        path: %s\n' \
  "$T/mig/data/app.db" "$T/mig/replica" >"$T/mig/ls.yml"
run env DBSETUP_LITESTREAM_CONFIG="$T/mig/ls.yml" "$DBSETUP" migrate \
  --prisma-migrations migrations >"$T/out" 2>&1
assert_eq 0 "$rc" "migrate with DBSETUP_LITESTREAM_CONFIG"
assert_eq 3 "$(sqlite3 "$T/mig/data/app.db" 'SELECT count(*) FROM _prisma_migrations')" \
  "migrated the database litestream.yml names"
cp "$T/mig/ls.yml" litestream.yml
run "$DBSETUP" migrate --status --prisma-migrations migrations >"$T/out" 2>&1
assert_eq 0 "$rc" "migrate --status with ./litestream.yml"
assert_contains "$T/out" "database: $T/mig/data/app.db" "the same database"
ok "dbsetup migrate finds the database through litestream.yml as the boot does"
done_testing
