# ctest-labels: integration;setup;prisma
# ctest-timeout: 180
# A Prisma 7 app booted by dbsetup with no options: prisma.config.ts names
# the schema, the migrations, the seed and the url (none in the schema); the
# relative file:./dev.db is the app's working folder's file (where its
# driver adapter opens it), linked onto the volume; migrations.seed runs
# once; .env is not read because the config does not import dotenv (as
# Prisma 7). The app is a real libsql driver adapter when the Prisma 7 peer
# is installed, else sqlite3 opening the same relative path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prisma_lib.sh"

app=$T/app vol=$T/data rep=$T/replica
prisma_blog_app "$app" 7
# Prisma 7 reads no package.json and no .env (without dotenv in the config).
cat >package.json <<'J'
{ "name": "blog", "prisma": { "seed": "sh -c 'echo package-json-seed >>\"$SEED_LOG\"'" } }
J
echo 'DATABASE_URL=file:./from-dotenv.db' >.env
file_replica_yml litestream.yml "$vol/dev.db" "$rep"
NM=$DBS_PEERS/prisma7/node_modules
if [ -d "$NM/@prisma/adapter-libsql" ] && command -v node >/dev/null; then
  # The app: the libsql driver adapter with the config's url, from its cwd.
  # (Without a busy timeout it failed once with SQLITE_BUSY: litestream,
  # started beside it, was creating its tables.)
  cat >app.cjs <<'A'
const { PrismaLibSql } = require('@prisma/adapter-libsql')
;(async () => {
  const a = await new PrismaLibSql({ url: process.env.DATABASE_URL ?? 'file:./dev.db' }).connect()
  // As apps beside litestream should (its start-up briefly locks the DB).
  await a.queryRaw({ sql: 'PRAGMA busy_timeout = 5000', args: [], argTypes: [] })
  const r = await a.queryRaw({ sql: 'SELECT count(*) AS n FROM User', args: [], argTypes: [] })
  console.log('app sees ' + r.rows[0][0] + ' users')
  await a.dispose()
})().catch((e) => { console.error(e); process.exit(1) })
A
  APP=(env NODE_PATH="$NM" node app.cjs)
  echo "# app: @prisma/adapter-libsql"
else
  [ "${CI:-}" != true ] || fail "no Prisma 7 peer in $DBS_PEERS/prisma7 (scripts/peers.sh)"
  APP=(sh -c 'echo "app sees $(sqlite3 dev.db "select count(*) from User") users"')
  echo "# app: sqlite3 (no Prisma 7 peer)"
fi
export SEED_LOG=$T/seeds
count() { sqlite3 "$vol/dev.db" "select (select count(*) from User), (select count(*) from _prisma_migrations where finished_at is not null);"; }
boot() {
  run env DBSETUP_VOLUME="$vol" DBSETUP_LITESTREAM="$LITESTREAM" "$DBSETUP" -- "${APP[@]}" >"$T/out" 2>&1
}

boot
assert_eq 0 "$rc" "first boot"
assert_contains "$T/out" "3 migrations applied" "native migrations from migrations.path"
assert_eq "2|3" "$(count)" "seeded once, three migrations recorded"
assert_eq "$vol/dev.db" "$(readlink dev.db)" "file:./dev.db is the app folder's dev.db, linked onto the volume"
[ ! -e prisma/dev.db ] || fail "Prisma 7 does not put file:./dev.db next to the schema"
[ ! -e from-dotenv.db ] && [ ! -e "$vol/from-dotenv.db" ] || fail ".env must not be read"
assert_contains "$T/out" "app sees 2 users" "the app opens the linked database"
assert_eq "seeded" "$(cat "$SEED_LOG")" "migrations.seed ran, package.json's seed did not"
ok "fresh Prisma 7 app: url, migrations and seed from prisma.config.ts"

boot
assert_eq 0 "$rc" "second boot"
assert_contains "$T/out" "no pending migrations" "nothing pending"
assert_eq 1 "$(wc -l <"$SEED_LOG")" "no second seed"
assert_contains "$T/out" "app sees 2 users" "the app still sees its rows"
ok "second boot: no pending migrations, no seed"

# DATABASE_URL set: the config's ?? takes it, and so does dbsetup.
rm -rf "$vol" "$rep" "$SEED_LOG" dev.db litestream.yml # it names dev.db
run env DATABASE_URL=file:./other.db DBSETUP_VOLUME="$vol" DBSETUP_NO_REPLICATE=1 \
  "$DBSETUP" -- "${APP[@]}" >"$T/out" 2>&1
assert_eq 0 "$rc" "boot with DATABASE_URL"
assert_eq "$vol/other.db" "$(readlink other.db)" "DATABASE_URL's file linked"
assert_contains "$T/out" "app sees 2 users" "the app opens DATABASE_URL's file"
ok "DATABASE_URL overrides the config's default, for the app and dbsetup alike"

done_testing
