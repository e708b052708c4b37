#!/usr/bin/env bash
# ctest-labels: integration;setup;prisma
# ctest-timeout: 120
# A Prisma app booted by dbsetup with no options: the schema's url, native
# migrations on every boot, package.json's prisma.seed once, litestream
# replication; a broken new migration on a fresh volume leaves no database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prisma_lib.sh"

app=$T/app vol=$T/data rep=$T/replica
prisma_blog_app "$app"
file_replica_yml litestream.yml "$vol/dev.db" "$rep"
export SEED_LOG=$T/seeds
count() { sqlite3 "$vol/dev.db" "select (select count(*) from User), (select count(*) from _prisma_migrations where finished_at is not null);"; }
boot() {
  run env DBSETUP_VOLUME="$vol" DBSETUP_LITESTREAM="$LITESTREAM" "$DBSETUP" -- \
    sh -c 'sleep 0.5; sqlite3 prisma/dev.db "select count(*) from User"' >"$T/out" 2>&1
}

boot
assert_eq 0 "$rc" "first boot"
assert_contains "$T/out" "3 migrations applied" "native migrations, summary line"
assert_eq "2|3" "$(count)" "seeded once, three migrations recorded"
assert_eq "$vol/dev.db" "$(readlink prisma/dev.db)" "schema-relative path linked onto the volume"
assert_contains "$T/out" "replicator started" "litestream started"
ok "fresh Prisma app: native migrations, seed, replication"

boot
assert_eq 0 "$rc" "second boot"
assert_contains "$T/out" "no pending migrations" "nothing pending"
assert_eq 1 "$(wc -l <"$SEED_LOG")" "no second seed"
ok "second boot: no pending migrations, no seed"

# A new migration lands with the next deploy.
mkdir prisma/migrations/20240104000000_add_bio
echo 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;' >prisma/migrations/20240104000000_add_bio/migration.sql
boot
assert_eq 0 "$rc" "boot with a new migration"
assert_contains "$T/out" "1 migration applied" "one applied"
assert_eq "2|4" "$(count)" "four migrations recorded"
ok "a new migration is applied on the next boot"

# Restore from the backup on a new volume: migrations already there, no seed.
rm -rf "$vol"
boot
assert_eq 0 "$rc" "restore boot"
assert_contains "$T/out" "no pending migrations" "restored DB is up to date"
assert_eq 1 "$(wc -l <"$SEED_LOG")" "restored DB not seeded"
assert_eq "2|4" "$(count)" "restored rows"
ok "restored database: not migrated again, not seeded"

# A failing migration on an existing database: 80 with Prisma's code, then
# P3009 blocks the next boot; the database keeps its rows.
mkdir prisma/migrations/20240105000000_broken
echo 'ALTER TABLE "Nope" ADD COLUMN "x" TEXT;' >prisma/migrations/20240105000000_broken/migration.sql
boot
assert_eq 80 "$rc" "failing migration"
assert_contains "$T/out" "P3018" "Prisma's code for a failed script"
boot
assert_eq 80 "$rc" "next boot blocked"
assert_contains "$T/out" "P3009" "failed migration recorded, as Prisma would"
assert_eq "2|4" "$(count)" "rows kept"
ok "failed migration: P3018 then P3009, 80, database kept"

# The same broken migration on a fresh volume with no backup: no database left.
rm -rf "$vol" "$rep" "$SEED_LOG"
boot
assert_eq 80 "$rc" "failing migration on a fresh DB"
[ ! -e "$vol/dev.db" ] || fail "fresh DB kept after a failed migration"
[ ! -e "$SEED_LOG" ] || fail "seed ran after a failed migration"
rm -r prisma/migrations/20240105000000_broken
boot
assert_eq 0 "$rc" "boot after the fix"
assert_eq 1 "$(wc -l <"$SEED_LOG")" "seeded on the boot that created the DB"
ok "failed migration on a fresh DB removes it; the next boot starts fresh"

done_testing
