# With --user the app's user owns the volume, so it can leave a symlink
# where the database belongs (/data/dev.db -> /etc/shadow). dbsetup, as
# root, must neither read through it nor log the bytes it finds: the boot
# refuses a symlink at the target (65, naming it), follows nothing, and
# touches neither the link nor what it points at.
# ctest-timeout: 60
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "# skipped: needs root"; done_testing; exit 0; }
chmod 755 "$T"
mkdir -p "$T/app" "$T/vol"
chown nobody "$T/vol"
printf 'root:$6$TOPSECRET-HASH-0123456789:19000:0:99999:7:::\n' >"$T/secret"
chmod 600 "$T/secret"
secret_sum=$(sha256sum <"$T/secret")

# boot: dbsetup as root with --user nobody, app `true`.
boot() {
  (cd "$T/app" && run "$DBSETUP" --db "$T/app/dev.db" --volume "$T/vol" \
    --no-restore --user nobody -- true >"$T/out" 2>&1
    echo "$rc" >"$T/rc")
  rc=$(cat "$T/rc")
}

# The app's user planted a link to a secret of root's.
ln -s "$T/secret" "$T/vol/dev.db"
boot
assert_eq 65 "$rc" "symlink to a secret"
assert_contains "$T/out" "$T/vol/dev.db is a symbolic link to $T/secret" "message"
assert_contains "$T/out" "Remove the link" "the fix"
assert_not_contains "$T/out" "TOPSECRET" "the secret's bytes"
assert_not_contains "$T/out" 'root:$6' "the secret's first bytes"
assert_eq "$secret_sum" "$(sha256sum <"$T/secret")" "the secret's content"
assert_eq "root 600" "$(stat -c '%U %a' "$T/secret")" "the secret's owner and mode"
[ -L "$T/vol/dev.db" ] || fail "the link was removed"
ok "a symlink to root's secret: 65, nothing read or logged, nothing touched"

# A link to a database of root's: it would be served to the app (and
# anything dbsetup later did to "the database" would reach root's file).
sqlite3 "$T/rootdb" "CREATE TABLE private(x); INSERT INTO private VALUES (42);"
chmod 644 "$T/rootdb"
rootdb_sum=$(sha256sum <"$T/rootdb")
ln -sfn "$T/rootdb" "$T/vol/dev.db"
boot
assert_eq 65 "$rc" "symlink to root's database"
assert_contains "$T/out" "is a symbolic link to $T/rootdb" "message"
assert_eq "$rootdb_sum" "$(sha256sum <"$T/rootdb")" "root's database"
assert_eq "root" "$(stat -c '%U' "$T/rootdb")" "root's database's owner"
ok "a symlink to root's database: 65, the database is not used"

# Dangling: refused as well, not taken for a missing database.
ln -sfn "$T/nowhere" "$T/vol/dev.db"
boot
assert_eq 65 "$rc" "dangling symlink"
[ ! -e "$T/nowhere" ] || fail "created the link's target"
ok "a dangling symlink: 65, its target is not created"

# Without the link the same boot works and the database is nobody's.
rm "$T/vol/dev.db"
sqlite3 "$T/vol/dev.db" "CREATE TABLE t(x)"
boot
assert_eq 0 "$rc" "plain boot"
assert_eq "nobody" "$(stat -c '%U' "$T/vol/dev.db")" "the database's owner"
ok "without the link: boots, the database belongs to --user"

done_testing
