# A setuid (or setgid) install of dbsetup is refused (77, naming the fix)
# before any subcommand or option is looked at: run by an unprivileged user
# (nobody) through a real setuid-root copy of the built binary, and by root
# itself, for `restore`, `generations`, `migrate`, `--help` and the boot.
# Without it, any user could restore or migrate (ATTACH writes any file)
# as root.
# ctest-timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "# skipped: needs root"; done_testing; exit 0; }
if findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid; then
  echo "# skipped: $T is mounted nosuid"
  done_testing
  exit 0
fi
chmod 755 "$T"

# A real replica (litestream 0.3.13) and a migration that would write a
# file anywhere through ATTACH.
make_replica "$T/src" 1 3
mkdir -p "$T/mig/20240101000000_init" "$T/out"
chmod 777 "$T/out"
echo "ATTACH DATABASE '$T/attached.db' AS a; CREATE TABLE a.t(x);" \
  >"$T/mig/20240101000000_init/migration.sql"
chmod -R a+rX "$T/src" "$T/mig"

# as_nobody CMD...: runs CMD as uid/gid 65534 with no groups.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# refused WHO BIN: every way into BIN is 77 with the message, nothing made.
refused() {
  local who=$1 bin=$2 n=0
  local -a runner=()
  [ "$who" = nobody ] && runner=(as_nobody)
  for args in "restore --verify none -o $T/out/restored.db $T/src/db.sqlite" \
    "restore -o $T/out/restored.db file://$T/src/replica" \
    "generations file://$T/src/replica" \
    "migrate --db $T/out/m.db --prisma-migrations $T/mig" \
    "migrate --status --db $T/out/m.db --prisma-migrations $T/mig" \
    "--help" "--version" "--bogus-option" \
    "--db $T/out/boot.db --volume $T/out/vol --no-restore -- true" \
    "-- true"; do
    n=$((n + 1))
    # shellcheck disable=SC2086 # args are words
    (cd "$T/src" && run "${runner[@]}" "$bin" $args >"$T/stdout" 2>"$T/err"
      echo "$rc" >"$T/rc")
    assert_eq 77 "$(cat "$T/rc")" "$who, $(basename "$bin") $args"
    assert_contains "$T/err" "remove the setuid bit: chmod u-s,g-s $bin" \
      "$who, $args: message"
    [ ! -s "$T/stdout" ] || fail "$who, $args: printed $(cat "$T/stdout")"
    for f in restored.db m.db boot.db vol; do
      [ ! -e "$T/out/$f" ] || fail "$who, $args: $T/out/$f was made"
    done
    [ ! -e "$T/attached.db" ] || fail "$who, $args: the migration ran"
  done
}

cp "$DBSETUP" "$T/dbsetup-suid"
chown 0:0 "$T/dbsetup-suid"
chmod 4755 "$T/dbsetup-suid"
refused nobody "$T/dbsetup-suid"
ok "setuid root, run by nobody: restore, generations, migrate, options, boot: 77"

refused root "$T/dbsetup-suid"
ok "setuid root, run by root itself: 77 (the file is still a way in)"

cp "$DBSETUP" "$T/dbsetup-sgid"
chown 0:0 "$T/dbsetup-sgid"
chmod 2755 "$T/dbsetup-sgid"
refused nobody "$T/dbsetup-sgid"
refused root "$T/dbsetup-sgid"
ok "setgid root, run by nobody and by root: 77"

# The plain binary still works for both (the refusal is about the bit).
cp "$DBSETUP" "$T/dbsetup-plain"
chmod 755 "$T/dbsetup-plain"
run as_nobody "$T/dbsetup-plain" restore --verify none -o "$T/out/restored.db" \
  "file://$T/src/replica" 2>"$T/err"
assert_eq 0 "$rc" "plain binary as nobody"
assert_eq "$(dump "$T/src/db.sqlite")" "$(dump "$T/out/restored.db")" "restored"
# The setgid bit without group execute is the mandatory-locking mark, not
# setgid: such a file runs with the caller's ids and is not refused.
chmod 2745 "$T/dbsetup-plain"
run "$T/dbsetup-plain" --version >"$T/stdout" 2>"$T/err"
assert_eq 0 "$rc" "g+s without g+x"
ok "without the bits: runs for nobody and root"

done_testing
