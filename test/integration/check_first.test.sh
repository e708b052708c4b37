#!/usr/bin/env bash
# ctest-labels: integration;setup
# ctest-timeout: 120
# Check before you change: every configuration or binary problem that
# refuses the boot is found before the first change to the volume or the
# app's path (lock file, link, baked database moved aside, restore). For
# each refusal the exit status and message are checked, and a listing of
# both trees with stat data (type, mode, size, mtime, link) is the same
# before and after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

make_replica "$T/src" 1 3 # a real backup that a boot would restore
app=$T/app vol=$T/data
mkdir -p "$app/prisma/migrations" "$vol"
cp -r "$DBS_FIXTURES/prisma/blog/migrations/20240101000000_init" "$app/prisma/migrations/"
cp "$DBS_FIXTURES/prisma/blog/migrations/migration_lock.toml" "$app/prisma/migrations/"
sqlite3 "$app/dev.db" "CREATE TABLE baked(x); INSERT INTO baked VALUES (1);"
echo keep >"$vol/unrelated"
cat >"$app/litestream.yml" <<YML
dbs:
  - path: $vol/dev.db
    replicas:
      - type: file
        path: $T/src/replica
YML
cat >"$app/other.yml" <<YML
dbs:
  - path: $vol/other.db
    replicas:
      - type: file
        path: $T/src/replica
YML
cd "$app"
# PATH without litestream (the peer lives in $DBS_PEERS only).
NOLS=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
! PATH=$NOLS command -v litestream >/dev/null || fail "litestream is on $NOLS"

snap() { find "$app" "$vol" -printf '%p %y %m %s %T@ %l\n' | sort; }
# refuses STATUS NEEDLE WHAT ARGS...: a boot with ARGS exits STATUS, says
# NEEDLE, and changes nothing.
refuses() {
  local want=$1 needle=$2 what=$3 before
  shift 3
  before=$(snap)
  run env PATH="$NOLS" "$DBSETUP" --volume "$vol" --db dev.db \
    --prisma-migrations prisma/migrations "$@" >"$T/out" 2>&1
  [ "$before" = "$(snap)" ] || {
    diff <(echo "$before") <(snap) >&2 || true
    fail "$what: the volume or the app's path changed (exit $rc)"
  }
  assert_eq "$want" "$rc" "$what: exit status"
  assert_contains "$T/out" "$needle" "$what: message"
  ok "$what: exit $want before any change"
}

refuses 78 "no litestream binary was found" "litestream.yml without a litestream binary" \
  --litestream-config litestream.yml -- true
refuses 78 "/nonexistent/litestream" "--litestream names a missing binary" \
  --litestream-config litestream.yml --litestream /nonexistent/litestream -- true
refuses 78 "fix dbs[].path" "litestream.yml replicates another database" \
  --litestream-config other.yml --litestream "$LITESTREAM" -- true
refuses 78 "migrations folder $app/missing is missing" "missing migrations folder" \
  --litestream-config litestream.yml --litestream "$LITESTREAM" \
  --prisma-migrations missing -- true
mkdir -p "$T/pg" && cp -r prisma/migrations/20240101000000_init "$T/pg/" &&
  printf 'provider = "postgresql"\n' >"$T/pg/migration_lock.toml"
refuses 80 "P3019" "migration_lock.toml for another provider" \
  --litestream-config litestream.yml --litestream "$LITESTREAM" \
  --prisma-migrations "$T/pg" -- true
refuses 127 "'nosuch-migrator' not found" "--migrate command not on PATH" \
  --litestream-config litestream.yml --litestream "$LITESTREAM" \
  --migrate "nosuch-migrator deploy" -- true
refuses 78 "the seed command (--seed) is not a valid /bin/sh command" "--seed that does not parse" \
  --litestream-config litestream.yml --litestream "$LITESTREAM" \
  --seed "if then fi" -- true
refuses 78 "the replicator command (--replicate) is not a valid /bin/sh command" \
  "--replicate that does not parse" --litestream-config litestream.yml \
  --litestream "$LITESTREAM" --replicate "echo (" -- true
refuses 127 "cannot run the app 'nosuch-app'" "app command not on PATH" \
  --litestream-config litestream.yml --litestream "$LITESTREAM" -- nosuch-app
refuses 64 "nosuch-user" "--user that does not exist" \
  --litestream-config litestream.yml --litestream "$LITESTREAM" --user nosuch-user -- true

# Builtins and assignments in the first word are not refused.
echo 'export X=1' >"$T/env.sh"
for m in ". $T/env.sh && true" "cd . && true" "X=1 true"; do
  run env PATH="$NOLS" "$DBSETUP" --volume "$T/okvol" --db "$T/ok.db" --no-restore --no-replicate \
    --migrate "$m" -- true >"$T/out" 2>&1
  assert_eq 0 "$rc" "--migrate '$m'"
done
ok "--migrate starting with a builtin or an assignment is not refused"

# A volume that does not exist yet: dbsetup creates it to find the target;
# a refusal found then removes it again.
before=$(snap)
run env PATH="$NOLS" "$DBSETUP" --volume "$T/newvol" --db dev.db \
  --litestream-config litestream.yml -- true >"$T/out" 2>&1
assert_eq 78 "$rc" "missing volume, no litestream binary: exit status"
[ ! -e "$T/newvol" ] || { ls -laR "$T/newvol"; fail "the volume directory was left behind"; }
[ "$before" = "$(snap)" ] || fail "missing volume: the app's path changed"
ok "a volume created to find the target is removed again on a refusal"

# And the same boot without the fault does change things: restored, linked.
# (No migrations: the backup's schema is not Prisma's.)
run env PATH="$NOLS" "$DBSETUP" --volume "$vol" --db dev.db --no-replicate \
  --litestream-config litestream.yml \
  --litestream "$LITESTREAM" -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "the good boot"
[ -L dev.db ] && [ -f dev.db.in-image ] || fail "the good boot did not link"
assert_eq 1 "$(sqlite3 "$vol/dev.db" "SELECT count(*) > 0 FROM t")" "restored from the backup"
ok "without a fault the same boot restores and links (the checks are not vacuous)"
done_testing
