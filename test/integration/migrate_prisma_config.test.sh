# ctest-labels: integration;prisma
# ctest-timeout: 60
# `dbsetup migrate --prisma-config F` (and DBSETUP_PRISMA_CONFIG), as the
# boot reads them: a Prisma 7 config outside the working directory names the
# schema and the migrations (against its own folder) and the database.
. "$(dirname "$0")/lib.sh"

proj=$T/proj elsewhere=$T/elsewhere
mkdir -p "$proj/prisma" "$elsewhere"
cp -r "$DBS_FIXTURES/prisma/blog/migrations" "$proj/prisma/"
cat >"$proj/prisma/schema.prisma" <<'P'
datasource db {
  provider = "sqlite"
}
P
cat >"$proj/prisma.config.ts" <<C
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: 'file:$T/data/app.db' },
})
C
cd "$elsewhere"
q() { sqlite3 -cmd ".timeout 5000" "$@"; }

run "$DBSETUP" migrate --help >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "--help exit status"
assert_contains "$T/out" "--prisma-config F" "--help names --prisma-config"
assert_contains "$T/out" "DBSETUP_PRISMA_CONFIG" "--help names DBSETUP_PRISMA_CONFIG"
ok "--help lists --prisma-config and DBSETUP_PRISMA_CONFIG"

run "$DBSETUP" migrate --prisma-config ../proj/prisma.config.ts >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "deploy exit status"
assert_contains "$T/err" "migrating $T/data/app.db with $proj/prisma/migrations" "database and folder from the config"
assert_contains "$T/err" "3 migrations applied in " "summary line"
assert_eq 3 "$(q "$T/data/app.db" 'SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL')" "rows"
ok "--prisma-config: schema, migrations and url from the config file's folder"

run "$DBSETUP" migrate --status --prisma-config=../proj/prisma.config.ts >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "--status exit status"
assert_contains "$T/out" "3 applied, 0 pending, 0 failed" "--status summary"
DBSETUP_PRISMA_CONFIG=../proj/prisma.config.ts run "$DBSETUP" migrate --status >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "DBSETUP_PRISMA_CONFIG --status exit status"
assert_contains "$T/out" "database: $T/data/app.db" "DBSETUP_PRISMA_CONFIG names the same database"
ok "--prisma-config=F and DBSETUP_PRISMA_CONFIG=F with --status"

run "$DBSETUP" migrate --prisma-config ../proj/nope.ts >"$T/out" 2>"$T/err"
assert_eq 78 "$rc" "missing config exit status"
assert_contains "$T/err" "--prisma-config ../proj/nope.ts: no such file ($T/proj/nope.ts); fix the path" "missing config message"
run "$DBSETUP" migrate --prisma-config= >"$T/out" 2>"$T/err"
assert_eq 64 "$rc" "empty --prisma-config exit status"
assert_contains "$T/err" "--prisma-config needs a non-empty value" "empty value message"
ok "a missing config file exits 78 naming it; an empty value is a usage error"

# A relative url: the database the app (started here) opens, as at boot,
# with the boot's warning that `prisma migrate --config` would open another.
sed -i "s|file:$T/data/app.db|file:./rel.db|" "$proj/prisma.config.ts"
run "$DBSETUP" migrate --prisma-config ../proj/prisma.config.ts >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "relative url deploy exit status"
assert_contains "$T/err" "migrating $elsewhere/rel.db with $proj/prisma/migrations" "relative url against the working directory"
assert_contains "$T/err" "datasource.url is relative: the app, started in $elsewhere, opens $elsewhere/rel.db" "the boot's warning"
[ ! -e "$proj/rel.db" ] || fail "the config's folder got a database"
ok "a relative url: the working directory's file, as at boot, with the warning"
done_testing
