# ctest-labels: integration;prisma
# ctest-timeout: 180
# The seed command runs as the real `prisma db seed` runs it. Prisma 7.10.1
# (prisma.config.ts migrations.seed) and 6.19.3 (package.json prisma.seed)
# both hand the string to execa's execaCommand: no shell, split at spaces, a
# backslash-space kept as a space. The seed script here records the
# arguments it got; the real CLI and a dbsetup boot of a new database must
# give it the same ones, for a string with quotes, a JSON argument (the
# `ts-node --compiler-options {"module":"CommonJS"}` form Prisma documented),
# a backslash-escaped space, $HOME, a tab and `&&`. dbsetup warns, before
# anything runs, about the shell syntax that reaches the command as
# arguments. --seed stays a /bin/sh -c command.
# Peers: $DBS_PEERS/prisma7 and prisma6 (scripts/peers.sh).
. "$(dirname "$0")/lib.sh"

P7=$DBS_PEERS/prisma7/node_modules P6=$DBS_PEERS/prisma6/node_modules
SHIM=$DBS_SRC/test/tools/prisma7/schema-engine-wasm.mjs
for nm in "$P7" "$P6"; do
  if [ ! -f "$nm/prisma/build/index.js" ] || ! command -v node >/dev/null; then
    [ "${CI:-}" != true ] || fail "no Prisma peer in $nm (scripts/peers.sh)"
    echo "skipped: no Prisma peer in $nm (run scripts/peers.sh)"
    done_testing
    exit 0
  fi
done
unset DATABASE_URL

# The seed: its arguments, one JSON line per run, appended to $ARGV_OUT.
seed_js() {
  cat >"$1/seed.js" <<'JS'
const fs = require('node:fs')
fs.appendFileSync(process.env.ARGV_OUT, JSON.stringify(process.argv.slice(2)) + '\n')
JS
}
# The seed string, as a JavaScript/JSON string literal's contents (\t: a tab).
SEED_JS='node seed.js {\"module\":\"CommonJS\"} a\\ b  '"'"'q r'"'"' $HOME tab\tin && echo x'

# Prisma 7: the seed in prisma.config.ts; the real CLI's `prisma db seed`.
p7=$T/p7
mkdir -p "$p7/prisma"
ln -s "$P7" "$p7/node_modules"
printf 'datasource db {\n  provider = "sqlite"\n}\n' >"$p7/prisma/schema.prisma"
# A migration, so that the new database is not empty after its first boot.
mkdir -p "$p7/prisma/migrations/20240101000000_init"
printf 'provider = "sqlite"\n' >"$p7/prisma/migrations/migration_lock.toml"
echo 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);' \
  >"$p7/prisma/migrations/20240101000000_init/migration.sql"
seed_js "$p7"
cat >"$p7/prisma.config.ts" <<TS
import { defineConfig } from "prisma/config";
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { seed: "$SEED_JS" },
  datasource: { url: "file:./dev.db" },
});
TS
# Prisma 6: the seed in package.json, the url in the schema.
p6=$T/p6
mkdir -p "$p6/prisma"
ln -s "$P6" "$p6/node_modules"
printf 'datasource db {\n  provider = "sqlite"\n  url = "file:./dev.db"\n}\n' \
  >"$p6/prisma/schema.prisma"
seed_js "$p6"
cat >"$p6/package.json" <<JSON
{ "name": "seed-argv", "prisma": { "seed": "$SEED_JS" } }
JSON

: >"$T/no-query-engine.so.node"
for v in 7 6; do
  dir=$T/p$v
  # The real CLI. db seed uses no engine, but fetches them first: the
  # WebAssembly stand-in for 7's schema engine; for 6, files that are never
  # loaded (as test/integration/prisma_interop_lib.sh does).
  (cd "$dir" && ARGV_OUT=$T/prisma$v.json PRISMA_SCHEMA_ENGINE_BINARY=$SHIM \
    PRISMA_QUERY_ENGINE_LIBRARY="$T/no-query-engine.so.node" CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    node node_modules/prisma/build/index.js db seed </dev/null) >"$T/cli$v.out" 2>&1 ||
    { cat "$T/cli$v.out" >&2; fail "prisma $v db seed failed"; }
  [ "$(wc -l <"$T/prisma$v.json")" = 1 ] || fail "prisma $v: the seed did not run once"
  # A dbsetup boot of a new database runs the same seed.
  (cd "$dir" && ARGV_OUT=$T/dbsetup$v.json "$DBSETUP" --volume "$T/vol$v" --no-replicate \
    -- true </dev/null) >"$T/boot$v.out" 2>&1 ||
    { cat "$T/boot$v.out" >&2; fail "Prisma $v app: dbsetup boot failed"; }
  assert_eq "$(cat "$T/prisma$v.json")" "$(cat "$T/dbsetup$v.json" 2>/dev/null)" \
    "Prisma $v: the seed's arguments, prisma db seed vs dbsetup"
  assert_contains "$T/boot$v.out" "without a shell: the word 'q reaches node as an argument" \
    "Prisma $v: the warning names the shell syntax"
  ok "Prisma $v: dbsetup runs the seed with the arguments prisma db seed gives it"
done
# The arguments themselves (what the comparison above compared).
assert_eq '["{\"module\":\"CommonJS\"}","a b","'"'"'q","r'"'"'","$HOME","tab\tin","&&","echo","x"]' \
  "$(cat "$T/prisma7.json")" "Prisma 7.10.1's own split"
ok "Prisma's split: no quotes removed, no expansion, backslash-space kept"

# A second boot: the database exists, no seed.
(cd "$p7" && ARGV_OUT=$T/dbsetup7.json "$DBSETUP" --volume "$T/vol7" --no-replicate -- true) \
  >"$T/boot7b.out" 2>&1 || { cat "$T/boot7b.out" >&2; fail "second boot"; }
assert_eq 1 "$(wc -l <"$T/dbsetup7.json")" "no seed on the second boot"
ok "second boot: the seed does not run again"

# A seed whose program is missing: 81 with the status a shell gives (127),
# the new database removed, as for any failed seed.
cat >"$p7/prisma.config.ts" <<'TS'
import { defineConfig } from "prisma/config";
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { seed: "no-such-seed-tool prisma/seed.ts" },
  datasource: { url: "file:./dev.db" },
});
TS
run env -C "$p7" "$DBSETUP" --volume "$T/vol7c" --no-replicate -- true >"$T/boot7c.out" 2>&1
assert_eq 81 "$rc" "missing seed program"
assert_contains "$T/boot7c.out" "cannot run 'no-such-seed-tool': command not found" "names the program"
assert_contains "$T/boot7c.out" "seed failed (status 127)" "shell-like status"
[ ! -e "$T/vol7c/dev.db" ] || fail "the unseeded new database was kept"
ok "a seed program that is not found: 81 (status 127), the new database removed"

# The program is found in ./node_modules/.bin first, as under npx.
mkdir -p "$T/p7bin/node_modules/.bin" "$T/p7bin/prisma"
cp "$p7/prisma/schema.prisma" "$T/p7bin/prisma/"
cat >"$T/p7bin/node_modules/.bin/seed-tool" <<'SH'
#!/bin/sh
echo "seed-tool $*" >>"$ARGV_OUT"
SH
chmod +x "$T/p7bin/node_modules/.bin/seed-tool"
cat >"$T/p7bin/prisma.config.ts" <<'TS'
export default {
  schema: "prisma/schema.prisma",
  migrations: { seed: "seed-tool one  two" },
  datasource: { url: "file:./dev.db" },
};
TS
(cd "$T/p7bin" && ARGV_OUT=$T/bin.out "$DBSETUP" --volume "$T/vol7d" --no-replicate -- true) \
  >"$T/boot7d.out" 2>&1 || { cat "$T/boot7d.out" >&2; fail "node_modules/.bin seed"; }
assert_eq "seed-tool one two" "$(cat "$T/bin.out")" "seed from node_modules/.bin"
assert_not_contains "$T/boot7d.out" "without a shell" "no warning for a plain command"
ok "the seed program is looked up in ./node_modules/.bin, then PATH"

# --seed is dbsetup's own option: a /bin/sh -c command, as documented.
(cd "$T/p7bin" && "$DBSETUP" --volume "$T/vol7e" --no-replicate \
  --seed "echo shell-seed >\"$T/sh.out\" && echo \$HOME >>\"$T/sh.out\"" -- true) \
  >"$T/boot7e.out" 2>&1 || { cat "$T/boot7e.out" >&2; fail "--seed boot"; }
assert_eq "shell-seed
$HOME" "$(cat "$T/sh.out")" "--seed runs in /bin/sh"
ok "--seed is still a /bin/sh -c command"
done_testing
