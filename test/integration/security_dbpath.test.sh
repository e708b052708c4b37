# A database baked into the image is moved aside and replaced by a link to
# the volume; any other file at the app's database path is not: a wrong
# DATABASE_URL naming a config file must leave that file exactly as it was
# (65, the message names the path and the fix), with nothing linked and the
# app not started. Only a file with the SQLite header, or an empty one, is
# moved aside.
# ctest-timeout: 60
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/app" "$T/vol"
printf '{"port": 3000, "apiKey": "k-0123456789"}\n' >"$T/app/config.json"
sum=$(sha256sum <"$T/app/config.json")
ino=$(stat -c %i "$T/app/config.json")

# boot DATABASE_URL: the boot in $T/app, the app writes $T/started.
boot() {
  rm -f "$T/started"
  (cd "$T/app" && DATABASE_URL=$1 run "$DBSETUP" --volume "$T/vol" \
    --no-restore -- touch "$T/started" >"$T/out" 2>&1
    echo "$rc" >"$T/rc")
  rc=$(cat "$T/rc")
}

boot "file:$T/app/config.json"
assert_eq 65 "$rc" "DATABASE_URL naming a config file"
assert_contains "$T/out" "$T/app/config.json is where the app opens its database, but it is not an SQLite database (first bytes do not match" "message"
assert_contains "$T/out" "Is DATABASE_URL (or --db) naming the wrong file?" "the fix"
assert_not_contains "$T/out" "k-0123456789" "the file's bytes"
[ -f "$T/app/config.json" ] && [ ! -L "$T/app/config.json" ] ||
  fail "config.json was replaced"
assert_eq "$sum" "$(sha256sum <"$T/app/config.json")" "config.json's content"
assert_eq "$ino" "$(stat -c %i "$T/app/config.json")" "config.json's inode"
[ ! -e "$T/app/config.json.in-image" ] || fail "config.json was moved aside"
[ ! -e "$T/vol/config.json" ] || fail "a database was made on the volume"
[ ! -e "$T/started" ] || fail "the app was started"
ok "a config file at the database path: 65, untouched, app not started"

# A database baked into the image is still moved aside, rows intact.
sqlite3 "$T/app/dev.db" "CREATE TABLE baked(x); INSERT INTO baked VALUES (7);"
boot "file:$T/app/dev.db"
assert_eq 0 "$rc" "baked database"
[ -L "$T/app/dev.db" ] || fail "no link"
assert_eq 7 "$(sqlite3 "$T/app/dev.db.in-image" 'SELECT x FROM baked')" "moved aside"
[ -e "$T/started" ] || fail "the app did not start"
ok "a baked SQLite database: moved aside, linked, app started"

# An empty file (nothing to lose) is moved aside too.
: >"$T/app/empty.db"
boot "file:$T/app/empty.db"
assert_eq 0 "$rc" "empty file"
[ -L "$T/app/empty.db" ] && [ -e "$T/app/empty.db.in-image" ] ||
  fail "empty file not moved aside"
ok "an empty file: moved aside, linked"

done_testing
