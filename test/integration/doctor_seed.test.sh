#!/usr/bin/env bash
# ctest-labels: integration;doctor
# ctest-timeout: 60
# `dbsetup doctor` says how the boot would run the seed: package.json's
# prisma.seed (or prisma.config.ts migrations.seed) as prisma db seed runs
# it, without a shell, with the argv it gets and the boot's own warning when
# a word would have been shell syntax; --seed with /bin/sh -c. Text and
# --json alike; doctor changes nothing (no seed runs). --help says so too.
. "$(dirname "$0")/lib.sh"

unset DATABASE_URL
app=$T/app
mkdir -p "$app/prisma" "$T/vol"
printf 'datasource db {\n  provider = "sqlite"\n  url = "file:./dev.db"\n}\n' \
  >"$app/prisma/schema.prisma"
cat >"$app/package.json" <<'JSON'
{ "name": "doctor-seed", "prisma": { "seed": "node seed.js a\\ b && touch ran" } }
JSON
cd "$app"
run "$DBSETUP" doctor --volume "$T/vol" --no-replicate -- true >"$T/doc" 2>"$T/doc.err"
assert_eq 0 "$rc" "doctor exit"
assert_contains "$T/doc" '  runs: as prisma db seed runs it, without a shell: argv ["node", "seed.js", "a b", "&&", "touch", "ran"] (from package.json prisma.seed)' \
  "the argv"
warning='the seed command (package.json prisma.seed) is run as prisma db seed runs it, without a shell: the word && reaches node as an argument, not as shell syntax'
assert_contains "$T/doc" "  warning: $warning" "the warning in the seed section"
# The boot's own words, logged once: the line doctor prints is that warning.
n=$(grep -c "warn.*$warning" "$T/doc.err" || true)
assert_eq 1 "$n" "the boot's warning on stderr, once"
[ ! -e ran ] && [ ! -e "$T/vol/dev.db" ] || fail "doctor ran the seed or created the database"
ok "doctor: the Prisma seed's argv, no shell, and the shell-syntax warning"

run "$DBSETUP" doctor --json --volume "$T/vol" --no-replicate -- true >"$T/doc.json" 2>/dev/null
assert_eq 0 "$rc" "doctor --json exit"
python3 - "$T/doc.json" "$warning" <<'PY' || fail "doctor --json seed section"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["seed"]
assert s["runs"].startswith('as prisma db seed runs it, without a shell: argv ["node", "seed.js", "a b", "&&"'), s
assert s["warning"].startswith(sys.argv[2]), s
PY
ok "doctor --json: seed.runs and seed.warning"

# A plain seed: the argv, no warning.
cat >"$app/package.json" <<'JSON'
{ "name": "doctor-seed", "prisma": { "seed": "node prisma/seed.js" } }
JSON
run "$DBSETUP" doctor --volume "$T/vol" --no-replicate -- true >"$T/doc" 2>"$T/doc.err"
assert_eq 0 "$rc" "doctor exit, plain seed"
assert_contains "$T/doc" 'argv ["node", "prisma/seed.js"]' "plain argv"
assert_not_contains "$T/doc" "warning:" "no warning for a plain seed"
ok "doctor: a plain seed has its argv and no warning"

# --seed: dbsetup's own, a /bin/sh -c command.
run "$DBSETUP" doctor --volume "$T/vol" --no-replicate --seed 'node seed.js && touch ran' -- true \
  >"$T/doc" 2>"$T/doc.err"
assert_eq 0 "$rc" "doctor exit, --seed"
assert_contains "$T/doc" "  runs: with /bin/sh -c (--seed)" "--seed runs with a shell"
assert_not_contains "$T/doc" "warning:" "no warning for --seed"
ok "doctor: --seed runs with /bin/sh -c"

# --help says the same of --seed and of the default.
"$DBSETUP" --help | tr -s ' \n' ' ' >"$T/help"
assert_contains "$T/help" "seed command for a fresh database, run with /bin/sh -c" "--help: --seed"
assert_contains "$T/help" "run as prisma db seed runs it: split at spaces, no shell" "--help: the default"
ok "--help: --seed runs with /bin/sh -c, the Prisma seed without a shell"
done_testing
