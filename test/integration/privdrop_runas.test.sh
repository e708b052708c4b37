# --user end to end through exec: ids, supplementary groups and HOME as the
# child sees them, and the refusals (64, 77). Driven through
# test/tools/dbs-runas (lib/privdrop.c with dbsetup's exit statuses).
# ctest-timeout: 60
. "$(dirname "$0")/lib.sh"
RUNAS=$DBS_TOOLS/dbs-runas
# shellcheck disable=SC2016 # expanded by the child's shell
SHOW='echo "$(id -u) $(id -g) [$(id -G)] $HOME $USER"'

# A numeric uid with no passwd entry: gid = uid, no other group, HOME=/.
u=12345
while getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; do
  u=$((u + 1))
done
run "$RUNAS" "$u" sh -c "$SHOW" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "unknown uid"
assert_eq "$u $u [$u] / $u" "$(cat "$T/out")" "ids, groups, HOME"
ok "uid $u without passwd entry runs as $u:$u, never gid 0"

# A named user: its passwd group, its supplementary groups, its HOME.
pw_home=$(getent passwd nobody | cut -d: -f6)
pw_gid=$(getent passwd nobody | cut -d: -f4)
run "$RUNAS" nobody sh -c "$SHOW" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "nobody"
assert_eq "65534 $pw_gid [$(id -G nobody)] $pw_home nobody" "$(cat "$T/out")" \
  "nobody's ids"
ok "nobody: passwd group, groups and HOME"

# USER:GROUP: exactly that group.
run "$RUNAS" "nobody:100" sh -c "$SHOW" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "nobody:100"
assert_eq "65534 100 [100] $pw_home nobody" "$(cat "$T/out")" "explicit group"
ok "USER:GROUP runs with exactly GROUP"

# The child cannot get root back.
run "$RUNAS" "$u" sh -c 'exec setpriv --reuid=0 true' >"$T/out" 2>"$T/err"
[ "$rc" -ne 0 ] || fail "child regained root"
ok "no way back to root"

# Refusals.
run "$RUNAS" no-such-user-dbs true 2>"$T/err"
assert_eq 64 "$rc" "unknown user"
assert_contains "$T/err" "no user named 'no-such-user-dbs'" "message"
for spec in ":" "a:" ":g" "nobody:x:y"; do
  run "$RUNAS" "$spec" true 2>"$T/err"
  assert_eq 64 "$rc" "malformed '$spec'"
  assert_contains "$T/err" "expected USER[:GROUP]" "message for '$spec'"
done
ok "unknown names and malformed specs: 64"

chmod 755 "$T"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$RUNAS" "$u" true \
  2>"$T/err"
assert_eq 77 "$rc" "not root, another user"
assert_contains "$T/err" "needs root" "message"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$RUNAS" nobody \
  sh -c 'id -u' >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "not root, same user"
assert_eq 65534 "$(cat "$T/out")" "same user runs"
ok "non-root: another user is 77, the same user runs"

# Installed setuid root: refused (needs a filesystem without nosuid).
if findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid; then
  echo "# skipped the setuid check: $T is mounted nosuid"
else
  cp "$RUNAS" "$T/runas-suid"
  chown 0:0 "$T/runas-suid"
  chmod 4755 "$T/runas-suid"
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$T/runas-suid" \
    nobody true 2>"$T/err"
  assert_eq 77 "$rc" "setuid"
  assert_contains "$T/err" "refusing to run setuid" "message"
  ok "installed setuid: 77"
fi

# Root without CAP_SETUID/CAP_SETGID (a container started with those
# capabilities dropped): the native migration, which runs as --user in a
# child, cannot switch: 77 (not a failed migration, 80), and the new
# database is removed.
mkdir -p "$T/mig/prisma/migrations/20240101000000_init" "$T/vol"
printf 'datasource db {\n  provider = "sqlite"\n  url = "file:./dev.db"\n}\n' \
  >"$T/mig/prisma/schema.prisma"
echo 'CREATE TABLE t(x);' >"$T/mig/prisma/migrations/20240101000000_init/migration.sql"
(cd "$T/mig" && run setpriv --bounding-set -setuid,-setgid "$DBSETUP" \
  --volume "$T/vol" --user nobody -- true >"$T/out" 2>&1
  echo "$rc" >"$T/rc")
assert_eq 77 "$(cat "$T/rc")" "migration child without CAP_SETUID"
assert_contains "$T/out" "migrate: cannot switch to --user nobody" "message"
[ ! -e "$T/vol/dev.db" ] || fail "the new database was left"
ok "root without CAP_SETUID: the native migration's --user switch fails with 77"

done_testing
