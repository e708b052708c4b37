#!/usr/bin/env bash
# Benchmark of dbsetup's native Prisma migrations, against peers measured in
# the same run:
#  1. boot with nothing pending: `dbsetup migrate` vs `node -e 0` (the floor
#     under `npx prisma migrate deploy`, which also starts Prisma's schema
#     engine). Target: ratio >= 50.
#     Also the check in-process (test/tools/prisma-deploy-timer), which is
#     what a boot pays: dbsetup is already running when it migrates.
#  2. 200 pending migrations (CREATE TABLE + CREATE UNIQUE INDEX each, in
#     Prisma's SQLite DDL) applied to a fresh database: wall time.
# Usage: bench/bench-migrate.sh [path/to/dbsetup]   (default build/dbsetup)
# Needs hyperfine, jq, node and sqlite3. Prints a summary (medians: the
# machines are shared and noisy); exits 1 only when a run went wrong.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
DBSETUP=${1:-${DBSETUP:-$here/build/dbsetup}}
TIMER=${DBS_TOOLS:-$(dirname "$DBSETUP")/test/tools}/prisma-deploy-timer
FIX=$here/test/fixtures/prisma/blog/migrations
for tool in hyperfine jq node; do
  command -v "$tool" >/dev/null || { echo "bench-migrate: needs $tool" >&2; exit 2; }
done
[ -x "$DBSETUP" ] && [ -x "$TIMER" ] || { echo "bench-migrate: build dbsetup and its test tools first ($DBSETUP, $TIMER)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/dbs-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

# 1. Nothing pending.
cp -r "$FIX" "$W/m1"
"$DBSETUP" migrate --db "$W/app.db" --prisma-migrations "$W/m1" 2>/dev/null
hyperfine -N --warmup 5 --runs 200 --export-json "$W/boot.json" \
  -n "dbsetup migrate (nothing pending)" \
  "$DBSETUP migrate --db $W/app.db --prisma-migrations $W/m1" \
  -n "node -e 0" "node -e 0" \
  -n "dbsetup --version (process floor)" "$DBSETUP --version" >"$W/boot.txt" 2>&1
native=$(jq '.results[0].median' "$W/boot.json")
node=$(jq '.results[1].median' "$W/boot.json")
floor=$(jq '.results[2].median' "$W/boot.json")
ratio=$(jq -n "$node / $native")
read -r cold warm < <("$TIMER" "$W/app.db" "$W/m1" 500)
ratio_in=$(jq -n "$node * 1000000 / $cold")

# 2. 200 pending migrations on a fresh database.
mkdir -p "$W/m2"
cp "$FIX/migration_lock.toml" "$W/m2/"
for i in $(seq 1 200); do
  d=$W/m2/$(printf '20240101%06d' "$i")_table_$i
  mkdir "$d"
  cat >"$d/migration.sql" <<EOF
-- CreateTable
CREATE TABLE "Model$i" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "Model${i}_name_key" ON "Model$i"("name");
EOF
done
hyperfine -N --warmup 1 --runs 5 --export-json "$W/many.json" \
  --prepare "rm -f $W/many.db" \
  -n "dbsetup migrate (200 pending)" \
  "$DBSETUP migrate --db $W/many.db --prisma-migrations $W/m2" >"$W/many.txt" 2>&1
many=$(jq '.results[0].median' "$W/many.json")
many_sd=$(jq '.results[0].stddev' "$W/many.json")
applied=$(sqlite3 "$W/many.db" 'SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL')

verdict=$(jq -r -n "if $ratio >= 50 then \"target met\" else \"BELOW the 50x target\" end")
printf 'boot, nothing pending (medians of 200): dbsetup migrate %.2f ms, node -e 0 %.2f ms: ratio %.0fx, %s\n' \
  "$(jq -n "$native * 1000")" "$(jq -n "$node * 1000")" "$ratio" "$verdict"
printf '  (dbsetup --version, the bare process start, %.2f ms)\n' "$(jq -n "$floor * 1000")"
printf 'in-process check, as at boot: first call %.0f us (then %.0f us each): %.0fx node -e 0\n' \
  "$cold" "$warm" "$ratio_in"
printf '200 pending migrations applied to a fresh database (median of 5): %.1f ms (stddev %.1f ms, %s rows finished)\n' \
  "$(jq -n "$many * 1000")" "$(jq -n "$many_sd * 1000")" "$applied"
[ "$applied" = 200 ] || { echo "bench-migrate: expected 200 applied rows" >&2; exit 1; }
