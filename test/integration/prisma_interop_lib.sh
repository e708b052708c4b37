# The interop checks against a real Prisma CLI, sourced by
# prisma_interop.test.sh (Prisma 6.19.3) and prisma_interop7.test.sh (Prisma
# 7.10.1) with PRISMA_MAJOR set: one list of checks, the version as a
# parameter. dbsetup's native migrations and the real CLI must each accept
# what the other wrote, agree on order, checksums and the P3005/P3009
# conditions, and `prisma migrate resolve` must repair a failure dbsetup
# recorded.
#   Prisma 6: its WebAssembly schema engine with the libsql adapter named in
#     prisma.config.ts (experimental.adapter) runs in-process, offline.
#   Prisma 7: the CLI spawns the native schema-engine binary, which it would
#     download; PRISMA_SCHEMA_ENGINE_BINARY points it at
#     test/tools/prisma7/schema-engine-wasm.mjs, which serves the binary's
#     JSON-RPC with Prisma's WebAssembly schema engine and the libsql
#     adapter. The project is a Prisma 7 one (url in prisma.config.ts, none
#     in the schema) and dbsetup finds everything from the config, no flags.
. "$(dirname "$0")/lib.sh"

: "${PRISMA_MAJOR:?set by prisma_interop*.test.sh}"
PEER=$DBS_PEERS/prisma$PRISMA_MAJOR
if [ ! -f "$PEER/node_modules/prisma/build/index.js" ] || ! command -v node >/dev/null; then
  # CI installs the peer; there a missing peer is a failure, not a skip.
  [ "${CI:-}" != true ] || fail "no Prisma $PRISMA_MAJOR peer in $PEER (scripts/peers.sh)"
  echo "skipped: no Prisma $PRISMA_MAJOR peer in $PEER (run scripts/peers.sh)"
  done_testing
  exit 0
fi
PRISMA_VERSION=$(node -p "require('$PEER/node_modules/prisma/package.json').version")
echo "# Prisma CLI $PRISMA_VERSION"
SHIM=$DBS_SRC/test/tools/prisma7/schema-engine-wasm.mjs
FIX=$DBS_FIXTURES/prisma/blog/migrations
q() { sqlite3 -cmd ".timeout 5000" "$@"; }
touch "$T/no-query-engine.so.node"

mkproj() { # dir: a project whose CLI and dbsetup open the database given
  mkdir -p "$1/prisma/migrations"
  ln -s "$PEER/node_modules" "$1/node_modules"
  if [ "$PRISMA_MAJOR" = 6 ]; then
    cat >"$1/prisma/schema.prisma" <<'EOF'
datasource db {
  provider = "sqlite"
  url      = "file:./unused-with-adapter.db"
}
EOF
    cat >"$1/prisma.config.ts" <<'EOF'
import path from 'node:path'
import { defineConfig } from 'prisma/config'
import { PrismaLibSQL } from '@prisma/adapter-libsql'
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  async adapter() { return new PrismaLibSQL({ url: 'file:' + process.env.TEST_DB }) },
})
EOF
  else
    cat >"$1/prisma/schema.prisma" <<'EOF'
datasource db {
  provider = "sqlite"
}
EOF
    cat >"$1/prisma.config.ts" <<'EOF'
import { defineConfig, env } from 'prisma/config'
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: env('TEST_DB_URL') },
})
EOF
  fi
}
prisma() { # dir db args...: the real Prisma CLI; output in $T/pout, status in $rc
  local dir=$1 db=$2; shift 2
  if [ "$PRISMA_MAJOR" = 6 ]; then
    # PRISMA_SCHEMA_ENGINE_BINARY=/bin/false: the native engine, if ever
    # reached, fails loudly instead of pretending to migrate.
    run env -C "$dir" TEST_DB="$db" CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
      PRISMA_QUERY_ENGINE_LIBRARY="$T/no-query-engine.so.node" \
      PRISMA_SCHEMA_ENGINE_BINARY="${NATIVE_ENGINE:-/bin/false}" \
      node "$PEER/node_modules/prisma/build/index.js" "$@" >"$T/pout" 2>&1
  else
    run env -C "$dir" TEST_DB_URL="file:$db" CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
      DBS_PRISMA7_MODULES="$PEER/node_modules" PRISMA_SCHEMA_ENGINE_BINARY="$SHIM" \
      node "$PEER/node_modules/prisma/build/index.js" "$@" >"$T/pout" 2>&1
  fi
}
mig() { # dir db: dbsetup migrate on the project
  if [ "$PRISMA_MAJOR" = 6 ]; then
    run "$DBSETUP" migrate --db "$2" --prisma-migrations "$1/prisma/migrations" >"$T/out" 2>"$T/err"
  else
    # No flags: the database and the migrations come from prisma.config.ts.
    run env -C "$1" TEST_DB_URL="file:$2" "$DBSETUP" migrate >"$T/out" 2>"$T/err"
  fi
}

# --- Prisma accepts what dbsetup wrote -------------------------------------
P=$T/blog
mkproj "$P"
cp -r "$FIX"/. "$P/prisma/migrations/"
DB=$T/blog.db
mig "$P" "$DB"
assert_eq 0 "$rc" "dbsetup deploy"
prisma "$P" "$DB" migrate deploy
assert_eq 0 "$rc" "prisma migrate deploy after dbsetup"
assert_contains "$T/pout" "No pending migrations to apply." "prisma sees nothing pending"
prisma "$P" "$DB" migrate status
assert_eq 0 "$rc" "prisma migrate status after dbsetup"
assert_contains "$T/pout" "Database schema is up to date!" "prisma status (checksums compared)"
ok "prisma migrate deploy/status accept dbsetup's rows and checksums"

# --- a failure recorded by dbsetup, repaired with prisma migrate resolve ----
q "$DB" "INSERT INTO User (email, name) VALUES ('a@x', 'A'), ('b@x', 'A')"
mkdir "$P/prisma/migrations/20240104000000_unique_name"
echo 'CREATE UNIQUE INDEX "User_name_key" ON "User"("name");' \
  >"$P/prisma/migrations/20240104000000_unique_name/migration.sql"
mig "$P" "$DB"
assert_eq 80 "$rc" "dbsetup failing migration"
prisma "$P" "$DB" migrate deploy
[ "$rc" -ne 0 ] || fail "prisma deploy must refuse past dbsetup's failed row"
assert_contains "$T/pout" "P3009" "prisma reports P3009 on dbsetup's failed row"
assert_contains "$T/pout" "20240104000000_unique_name" "prisma names the failed migration"
q "$DB" "UPDATE User SET name = 'B' WHERE email = 'b@x'"
# Prisma 6.19's resolve first probes the database with the native engine
# (can-connect-to-database), which cannot be had offline: /bin/true answers
# that probe; the marking itself runs in the WebAssembly engine, as the row
# check below proves.
NATIVE_ENGINE=/bin/true prisma "$P" "$DB" migrate resolve --rolled-back 20240104000000_unique_name
assert_eq 0 "$rc" "prisma migrate resolve --rolled-back on dbsetup's row"
assert_contains "$T/pout" "marked as rolled back" "prisma resolve output"
assert_eq "NULL|1" "$(q "$DB" "SELECT quote(finished_at), rolled_back_at IS NOT NULL FROM _prisma_migrations
  WHERE migration_name = '20240104000000_unique_name'")" "row marked rolled back by Prisma"
mig "$P" "$DB"
assert_eq 0 "$rc" "dbsetup after prisma resolve"
assert_contains "$T/err" "applied migration 20240104000000_unique_name" "re-applied after resolve"
prisma "$P" "$DB" migrate status
assert_eq 0 "$rc" "prisma status after repair"
assert_contains "$T/pout" "Database schema is up to date!" "up to date after repair"
ok "failure recorded by dbsetup: prisma says P3009, resolve --rolled-back repairs it"

# --- order: both apply the same directories in the same order ------------------
names=(20240101000000_init 1_first 10_second 2_third a_lower B_upper b_lower A_upper
  20240101000000-dash 20240101000000_Init 20240101000000a)
O=$T/order
mkproj "$O"
for n in "${names[@]}"; do
  mkdir "$O/prisma/migrations/$n"
  echo "CREATE TABLE IF NOT EXISTS \"ord\" (\"seq\" INTEGER PRIMARY KEY AUTOINCREMENT, \"name\" TEXT);
INSERT INTO \"ord\" (\"name\") VALUES ('$n');" >"$O/prisma/migrations/$n/migration.sql"
done
prisma "$O" "$T/order-prisma.db" migrate deploy
assert_eq 0 "$rc" "prisma deploy of the order set"
mig "$O" "$T/order-dbsetup.db"
assert_eq 0 "$rc" "dbsetup deploy of the order set"
order_p=$(q "$T/order-prisma.db" 'SELECT group_concat(name) FROM (SELECT name FROM ord ORDER BY seq)')
order_d=$(q "$T/order-dbsetup.db" 'SELECT group_concat(name) FROM (SELECT name FROM ord ORDER BY seq)')
assert_eq "$order_p" "$order_d" "application order"
[ "$order_d" != "$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | paste -sd,)" ] ||
  fail "the order set must differ from byte order"
ok "same order as Prisma $PRISMA_VERSION: $order_d"

# --- _prisma_migrations as this Prisma version writes it ----------------------
# The same columns, declared types and constraints; the same values except the
# random id and the times (Prisma's engine through a driver adapter stores
# dates as TEXT, the native engine and dbsetup as INTEGER ms; both read both).
cols='SELECT group_concat(name || " " || type || " " || "notnull" || " " || ifnull(dflt_value, "-") || " " || pk, ", ")
  FROM pragma_table_info("_prisma_migrations")'
assert_eq "$(q "$T/order-prisma.db" "$cols")" "$(q "$T/order-dbsetup.db" "$cols")" "_prisma_migrations columns"
rows='SELECT group_concat(migration_name || "|" || checksum || "|" || quote(logs) || "|" || quote(rolled_back_at)
  || "|" || applied_steps_count || "|" || (finished_at IS NOT NULL) || "|" || length(id), ";")
  FROM (SELECT * FROM _prisma_migrations ORDER BY migration_name)'
assert_eq "$(q "$T/order-prisma.db" "$rows")" "$(q "$T/order-dbsetup.db" "$rows")" "_prisma_migrations rows"
echo "# Prisma $PRISMA_VERSION's date storage: $(q "$T/order-prisma.db" \
  'SELECT typeof(started_at) || " " || started_at FROM _prisma_migrations LIMIT 1')"
ok "_prisma_migrations: Prisma $PRISMA_VERSION and dbsetup write the same table and rows"

# --- dbsetup accepts what Prisma wrote (its adapter stores TEXT dates) ------------
mig "$O" "$T/order-prisma.db"
assert_eq 0 "$rc" "dbsetup on a Prisma-migrated database"
assert_contains "$T/err" "no pending migrations" "dbsetup sees nothing pending"
mkdir "$O/prisma/migrations/zz_later"
echo 'CREATE TABLE "Later" ("id" INTEGER NOT NULL PRIMARY KEY);' >"$O/prisma/migrations/zz_later/migration.sql"
mig "$O" "$T/order-prisma.db"
assert_eq 0 "$rc" "dbsetup adds to a Prisma-migrated database"
prisma "$O" "$T/order-prisma.db" migrate status
assert_eq 0 "$rc" "prisma status on the mixed history"
assert_contains "$T/pout" "Database schema is up to date!" "mixed history up to date"
ok "dbsetup continues a history Prisma started, and Prisma agrees"

# --- an edited migration: both detect it, neither deploy refuses ----------------
# Prisma's schema engine reports it (diagnoseMigrationHistory's
# editedMigrationNames, seen with DEBUG=prisma:migrate:status) while the
# CLI's `migrate status` still says up to date and exits 0; dbsetup's
# status marks it and exits 0 too. Deploy checks no checksum on either side.
printf '\n-- edited after it was applied\n' >>"$O/prisma/migrations/1_first/migration.sql"
DEBUG=prisma:migrate:status prisma "$O" "$T/order-prisma.db" migrate status
assert_eq 0 "$rc" "prisma status with an edited migration"
assert_contains "$T/pout" "Database schema is up to date!" "prisma's status text"
tr -d ' \n' <"$T/pout" | sed 's/\\n//g; s/\\//g' >"$T/pout.flat"
assert_contains "$T/pout.flat" '"editedMigrationNames":["1_first"]' "Prisma's engine sees the edit"
run "$DBSETUP" migrate --status --db "$T/order-prisma.db" --prisma-migrations "$O/prisma/migrations" \
  >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "dbsetup status with an edited migration"
assert_contains "$T/out" "1_first  (migration.sql changed since it was applied)" "dbsetup marks it"
[ "$(grep -c 'changed since' "$T/out")" = 1 ] || fail "only 1_first is marked"
prisma "$O" "$T/order-prisma.db" migrate deploy
assert_eq 0 "$rc" "prisma deploy checks no checksum"
mig "$O" "$T/order-prisma.db"
assert_eq 0 "$rc" "dbsetup deploy checks no checksum"
assert_contains "$T/err" "no pending migrations" "nothing re-applied"
ok "edited migration: Prisma's engine and dbsetup's status both see it; both deploys go on"

# --- Prisma's failed row blocks dbsetup (P3009) -------------------------------
F=$T/fail
mkproj "$F"
mkdir "$F/prisma/migrations/20240101000000_bad"
printf 'CREATE TABLE "Half" ("id" INTEGER);\nINSERT INTO "Nope" VALUES (1);\n' \
  >"$F/prisma/migrations/20240101000000_bad/migration.sql"
prisma "$F" "$T/fail.db" migrate deploy
[ "$rc" -ne 0 ] || fail "prisma must fail on the bad migration"
# (Through a driver adapter Prisma prints the SQLite error itself rather
# than the native engine's P3018 text.)
assert_contains "$T/pout" "no such table: Nope" "prisma reports the script error"
assert_eq "NULL|0" "$(q "$T/fail.db" "SELECT quote(finished_at), applied_steps_count FROM _prisma_migrations")" \
  "Prisma's failed row"
mig "$F" "$T/fail.db"
assert_eq 80 "$rc" "dbsetup on Prisma's failed row"
assert_contains "$T/err" "P3009" "dbsetup P3009 on Prisma's row"
assert_contains "$T/err" "The \`20240101000000_bad\` migration started at " "names Prisma's row"
assert_eq 1 "$(q "$T/fail.db" "SELECT count(*) FROM sqlite_master WHERE name = 'Half'")" \
  "Prisma also keeps statements before the failure (autocommit)"
ok "Prisma's failed row blocks dbsetup with P3009; both run without a transaction"

# --- P3005 on both ----------------------------------------------------------------
q "$T/legacy.db" 'CREATE TABLE legacy (id INTEGER PRIMARY KEY)'
prisma "$P" "$T/legacy.db" migrate deploy
[ "$rc" -ne 0 ] || fail "prisma must refuse a non-empty database"
assert_contains "$T/pout" "P3005" "prisma P3005"
mig "$P" "$T/legacy.db"
assert_eq 80 "$rc" "dbsetup P3005"
assert_contains "$T/err" "P3005" "dbsetup P3005"
ok "both refuse a non-empty unmanaged database with P3005"

# --- BOM and CRLF: same checksums ---------------------------------------------------
B=$T/bom
mkproj "$B"
mkdir -p "$B/prisma/migrations/20240101000000_crlf" "$B/prisma/migrations/20240102000000_bom"
printf -- '-- CreateTable\r\nCREATE TABLE "Crlf" (\r\n    "id" INTEGER NOT NULL PRIMARY KEY\r\n);\r\n' \
  >"$B/prisma/migrations/20240101000000_crlf/migration.sql"
printf '\xef\xbb\xbf-- CreateTable\nCREATE TABLE "Bom" ("id" INTEGER NOT NULL PRIMARY KEY);\n' \
  >"$B/prisma/migrations/20240102000000_bom/migration.sql"
mkdir -p "$B/prisma/migrations/20240103000000_latin1"
printf -- '-- caf\xe9 \xc0\xaf \xed\xa0\x80 \xf0\x9f\x98 ok\nCREATE TABLE "L" ("v" TEXT);\nINSERT INTO "L" VALUES (\x27\xe9t\xe9\x27);\n-- \xe2\x82' \
  >"$B/prisma/migrations/20240103000000_latin1/migration.sql"
prisma "$B" "$T/bom-prisma.db" migrate deploy
assert_eq 0 "$rc" "prisma deploy BOM/CRLF"
mig "$B" "$T/bom-dbsetup.db"
assert_eq 0 "$rc" "dbsetup deploy BOM/CRLF"
sums='SELECT group_concat(migration_name || "=" || checksum) FROM (SELECT * FROM _prisma_migrations ORDER BY migration_name)'
assert_eq "$(q "$T/bom-prisma.db" "$sums")" "$(q "$T/bom-dbsetup.db" "$sums")" "checksums"
assert_eq "$(sha256sum "$B/prisma/migrations/20240102000000_bom/migration.sql" | cut -d' ' -f1)" \
  "$(q "$T/bom-prisma.db" "SELECT checksum FROM _prisma_migrations WHERE migration_name = '20240102000000_bom'")" \
  "Prisma's checksum covers the BOM"
assert_eq "$(q "$T/bom-prisma.db" 'SELECT hex(v) FROM L')" "$(q "$T/bom-dbsetup.db" 'SELECT hex(v) FROM L')" \
  "ill-formed UTF-8 decoded alike"
ok "BOM, CRLF and ill-formed UTF-8 files: Prisma and dbsetup store the same checksums and data"

done_testing
