# With --user the app's user owns the volume and, where
# fs.protected_hardlinks=0, can give a file of root's a second name there.
# dbsetup runs as root: it must not truncate and write the volume lock, nor
# chown the database, its -wal/-shm/-journal or litestream's metadata,
# through such a name. Each is refused (65, naming the file and the fix)
# before anything is written or chowned. The links are made by root here
# (root may link anything whatever the sysctl says), which is what a user
# could do with protected_hardlinks=0.
# ctest-timeout: 60
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "# skipped: needs root"; done_testing; exit 0; }
chmod 755 "$T"
mkdir -p "$T/app" "$T/vol"
chown nobody "$T/vol"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$T/victim"
chmod 644 "$T/victim"
victim_sum=$(sha256sum <"$T/victim")

boot() {
  (cd "$T/app" && run "$DBSETUP" --db "$T/app/dev.db" --volume "$T/vol" \
    --no-restore --user nobody -- true >"$T/out" 2>&1
    echo "$rc" >"$T/rc")
  rc=$(cat "$T/rc")
}
victim_untouched() { # what
  assert_eq "$victim_sum" "$(sha256sum <"$T/victim")" "$1: the victim's content"
  assert_eq "root:root" "$(stat -c '%U:%G' "$T/victim")" "$1: the victim's owner"
}

# The lock.
ln "$T/victim" "$T/vol/.dbsetup.lock"
boot
assert_eq 65 "$rc" "hard-linked lock"
assert_contains "$T/out" "$T/vol/.dbsetup.lock (the volume lock) has 2 hard links" "message"
assert_contains "$T/out" "Remove it" "the fix"
victim_untouched "lock"
[ ! -e "$T/vol/dev.db" ] || fail "went on after the lock was refused"
rm "$T/vol/.dbsetup.lock"
ok "a hard-linked volume lock: 65, not truncated or written"

# The database itself: a database of root's.
sqlite3 "$T/rootdb" "CREATE TABLE private(x); INSERT INTO private VALUES (42);"
ln "$T/rootdb" "$T/vol/dev.db"
boot
assert_eq 65 "$rc" "hard-linked database"
assert_contains "$T/out" "$T/vol/dev.db (the database) has 2 hard links" "message"
assert_eq "root" "$(stat -c '%U' "$T/rootdb")" "root's database's owner"
rm "$T/vol/dev.db"
ok "a hard-linked database: 65, root's database keeps its owner"

# The sidecars and litestream's metadata, beside a database of its own.
sqlite3 "$T/vol/dev.db" "CREATE TABLE t(x)"
for name in dev.db-wal dev.db-shm dev.db-journal .dev.db-litestream/generation; do
  mkdir -p "$T/vol/.dev.db-litestream"
  ln "$T/victim" "$T/vol/$name"
  boot
  assert_eq 65 "$rc" "hard-linked $name"
  assert_contains "$T/out" "$T/vol/$name (" "message names $name"
  assert_contains "$T/out" "has 2 hard links" "message for $name"
  victim_untouched "$name"
  assert_eq "root" "$(stat -c '%U' "$T/vol/dev.db")" "$name: nothing chowned"
  rm "$T/vol/$name"
done
ok "a hard-linked -wal, -shm, -journal or litestream file: 65, nothing chowned"

# Their own files: the same boot works and chowns them to --user.
echo g >"$T/vol/.dev.db-litestream/generation"
boot
assert_eq 0 "$rc" "plain boot"
assert_eq "nobody nobody" \
  "$(stat -c '%U' "$T/vol/dev.db" "$T/vol/.dev.db-litestream/generation" | xargs)" \
  "chowned to --user"
victim_untouched "plain boot"
ok "files of their own: boots, chowned to --user"

done_testing
