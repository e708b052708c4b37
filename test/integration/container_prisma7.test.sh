#!/usr/bin/env bash
# ctest-labels: container
# ctest-timeout: 1500
# The Prisma 7 example image (docker/example7: prisma.config.ts with
# datasource.url and migrations.seed, Prisma Client 7 over the better-sqlite3
# driver adapter) in podman against s3rver:
#  - a seed that fails (SEED_FAIL=1): exit 81, the half-seeded database
#    removed, nothing in the bucket; the next boot on that volume seeds;
#  - the seed from prisma.config.ts runs once: a second boot on the same
#    volume does not seed;
#  - a new empty volume is restored from the bucket (the app's write
#    included) and not seeded.
# Prints the image build time and each boot's time to HTTP 200.
. "$(dirname "$0")/lib.sh"
. "$DBS_SRC/test/container/lib.sh"
t0=$(date +%s.%N)
ct_images --example7
echo "# images (cached or built): $(echo "$(date +%s.%N) - $t0" | bc) s"
ct_s3_start
IMG=$CT_IMAGE7
SEED='hello from the seed'

# boot NAME VOLUME [podman options]: starts the app, waits for HTTP 200 and
# prints the time that took.
boot() {
  local name=$1 vol=$2 s; shift 2
  s=$(date +%s.%N)
  ct_run "$name" "$vol" "$@" "$IMG"
  ct_wait_http "$name" 120
  echo "# $name: HTTP 200 after $(echo "$(date +%s.%N) - $s" | bc) s"
}
posts() { curl -sf "http://127.0.0.1:$CT_PORT/"; }
stop() { # name: podman stop, a graceful exit
  podman stop -t 10 "$1" >/dev/null
  local code
  code=$(ct_wait_exit "$1")
  case $code in 0 | 143) ;; *) cat "$(ct_logs "$1")" >&2; fail "$1: exit status $code after podman stop" ;; esac
}
seeds() { grep -c "seed: inserted 1 post" "$1" || true; }

# 1. The seed fails: 81, nothing left behind, nothing uploaded.
ct_run p7-seedfail "$T/vol1" -e SEED_FAIL=1 "$IMG"
code=$(ct_wait_exit p7-seedfail 120)
log=$(ct_logs p7-seedfail)
assert_eq 81 "$code" "failing seed: exit status"
assert_contains "$log" "seed: running node prisma/seed.js (from the Prisma config's migrations.seed" \
  "the seed comes from prisma.config.ts"
assert_contains "$log" "seed: inserted 1 post" "the seed ran (and inserted before failing)"
assert_contains "$log" "seed failed (status 1)" "failing seed: its status"
assert_contains "$log" "removed the new database /data/dev.db" "failing seed: database removed"
[ ! -e "$T/vol1/dev.db" ] || fail "the half-seeded database is still on the volume"
[ -z "$(find "$T/s3" -path '*litestream*' -type f 2>/dev/null)" ] ||
  fail "something was uploaded after a failed seed"
ok "failing seed: exit 81, the half-seeded database removed, nothing uploaded"

# 2. The next boot on that volume seeds (once), migrates, serves, replicates.
boot p7-boot1 "$T/vol1"
ct_wait_synced p7-boot1
assert_eq '[{"id":1,"title":"'"$SEED"'"}]' "$(posts)" "next boot: seeded"
log=$(ct_logs p7-boot1)
assert_eq 1 "$(seeds "$log")" "next boot: one seed"
assert_contains "$log" "linked /app/dev.db -> /data/dev.db" \
  "the url file:./dev.db is the app's /app/dev.db, linked onto the volume"
assert_eq 1 "$(ct_sql "$T/vol1/dev.db" 'SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL')" \
  "the init migration is recorded"
assert_eq 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$CT_PORT/posts?title=write-1")" \
  "write through Prisma Client"
ok "the boot after a failed seed: migrated, seeded once, Prisma Client serves and writes"
stop p7-boot1

# 3. Same volume again: the database exists, no seed.
boot p7-boot2 "$T/vol1"
assert_eq '[{"id":1,"title":"'"$SEED"'"},{"id":2,"title":"write-1"}]' "$(posts)" \
  "second boot: same rows"
log=$(ct_logs p7-boot2)
assert_eq 0 "$(seeds "$log")" "second boot: no seed"
assert_contains "$log" "database /data/dev.db exists" "second boot: the database exists"
ok "second boot on the same volume: the seed does not run again"
stop p7-boot2
ct_restore_elsewhere p7-stop2
assert_eq "1|$SEED
2|write-1" "$(ct_sql "$T/p7-stop2.db" 'SELECT id, title FROM "Post" ORDER BY id')" \
  "the bucket holds the write"

# 4. A new empty volume: restored from the bucket, not seeded.
boot p7-boot3 "$T/vol2"
assert_eq '[{"id":1,"title":"'"$SEED"'"},{"id":2,"title":"write-1"}]' "$(posts)" \
  "new volume: restored rows"
log=$(ct_logs p7-boot3)
assert_eq 0 "$(seeds "$log")" "new volume: not seeded"
assert_contains "$log" "seed: skipped, the database was restored from its backup" \
  "new volume: the log says why there is no seed"
ok "new empty volume: restored from the bucket, not seeded"
stop p7-boot3

done_testing
