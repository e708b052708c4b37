#!/usr/bin/env bash
# ctest-labels: integration;setup
# ctest-timeout: 120
# Link, lock, --user, discovery forms and bad inputs, each with its exit
# status, its message, and no file lost.
. "$(dirname "$0")/lib.sh"

app=$T/app vol=$T/data
mkdir -p "$app"
cd "$app"
mkdb() { sqlite3 "$1" "create table t(x); insert into t values(${2:-1});"; }
ds() { run "$DBSETUP" --volume "$vol" --no-replicate "$@" >"$T/out" 2>&1; }

# Image-baked database: moved aside with its -wal, linked, warned.
mkdir -p prisma
mkdb prisma/dev.db 42
printf 'w' >prisma/dev.db-wal
ds --db prisma/dev.db -- sh -c 'test -L prisma/dev.db'
assert_eq 0 "$rc" "baked DB boot"
[ -e prisma/dev.db-wal.in-image ] || [ -e prisma/dev.db.in-image-wal ] || fail "baked -wal not moved aside"
[ "$(sqlite3 prisma/dev.db.in-image 'select x from t')" = 42 ] || fail "baked DB not kept aside"
assert_contains "$T/out" ".dockerignore" "warning names the fix"
assert_contains "$T/out" "in-image" "warning names where it went"
ok "image-baked DB moved aside, never used"

# Dangling and wrong symlinks are replaced.
rm -f prisma/dev.db; ln -s /nonexistent/x.db prisma/dev.db
ds --db prisma/dev.db -- true
assert_eq 0 "$rc" "dangling link boot"
assert_eq "$vol/dev.db" "$(readlink prisma/dev.db)" "dangling link fixed"
rm -f prisma/dev.db; ln -s "$T/elsewhere.db" prisma/dev.db
ds --db prisma/dev.db -- true
assert_eq "$vol/dev.db" "$(readlink prisma/dev.db)" "wrong link fixed"
ok "dangling and wrong symlinks replaced"

# A second dbsetup on the same volume: 75 naming the holder.
"$DBSETUP" --volume "$vol" --no-replicate --db prisma/dev.db -- sleep 30 2>"$T/first" &
first=$!
cleanup "kill $first 2>/dev/null; wait $first 2>/dev/null"
wait_for 10 grep -q 'started' "$T/first" || { cat "$T/first"; fail "first dbsetup did not start"; }
ds --db prisma/dev.db -- true
assert_eq 75 "$rc" "second dbsetup"
assert_contains "$T/out" "$first" "message names the holder's pid"
kill "$first"; wait "$first" || true
ok "second dbsetup on the volume exits 75"

# Not SQLite on the volume: 65 and untouched (also when reached via a link).
echo "not a db" >"$vol/dev.db"
ds --db prisma/dev.db -- true
assert_eq 65 "$rc" "non-SQLite target"
assert_eq "not a db" "$(cat "$vol/dev.db")" "untouched"
rm "$vol/dev.db"
ok "non-SQLite file: 65"

# Unwritable volume: 73 (a read-only bind mount in a private mount namespace).
mkdir -p "$T/ro"
run unshare -m sh -c "mount --bind '$T/ro' '$T/ro' && mount -o remount,bind,ro '$T/ro' && \
  '$DBSETUP' --volume '$T/ro/vol' --no-replicate --db prisma/ro.db -- true" >"$T/out" 2>&1
assert_eq 73 "$rc" "unwritable volume"
ok "unwritable volume: 73"

# litestream.yml problems: malformed (line:column) and path mismatch.
printf 'dbs:\n  - path: %s/dev.db\n    replicas: [\n' "$vol" >bad.yml
ds --db prisma/dev.db --litestream-config bad.yml -- true
assert_eq 78 "$rc" "malformed YAML"
assert_contains "$T/out" "bad.yml:" "names the file"
printf 'dbs:\n  - path: /elsewhere/other.db\n    replicas:\n      - path: %s/rep\n' "$T" >other.yml
run "$DBSETUP" --volume "$vol" --db prisma/dev.db --litestream-config other.yml -- true >"$T/out" 2>&1
assert_eq 78 "$rc" "path mismatch"
assert_contains "$T/out" "/elsewhere/other.db" "names the config's path"
assert_contains "$T/out" "$vol/dev.db" "names the app's database"
ok "litestream.yml: malformed 78, mismatch 78"

# An S3 replica whose bucket expands to empty (BUCKET_NAME unset on a
# laptop): warned, restore and replication off, the app runs.
printf 'dbs:\n  - path: %s/dev.db\n    replicas:\n      - type: s3\n        bucket: $BUCKET_NAME\n        path: db\n' "$vol" >s3.yml
run env -u BUCKET_NAME "$DBSETUP" --volume "$vol" --db prisma/dev.db --litestream "$LITESTREAM" \
  --litestream-config s3.yml -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "empty bucket: the app runs"
assert_contains "$T/out" "restore and replication are OFF" "loud warning"
assert_not_contains "$T/out" "replicator started" "no replicator"
ok "bucket expanding to empty: warned, restore and replication off"

# Discovery: Prisma schema forms.
rm -rf prisma "$vol"; mkdir -p prisma
cat >prisma/schema.prisma <<'P'
// url = "file:./wrong.db"
datasource db {
  provider = "sqlite"
  url      = "file:./dev.db?connection_limit=1" // comment
}
P
ds -- true
assert_eq 0 "$rc" "schema boot"
assert_eq "$vol/dev.db" "$(readlink prisma/dev.db)" "relative url resolved against the schema dir"
rm -rf prisma/dev.db "$vol"
cat >prisma/schema.prisma <<'P'
datasource db {
  provider = "sqlite"
  url      = env("MY_DB_URL")
}
P
run env -u MY_DB_URL "$DBSETUP" --volume "$vol" --no-replicate -- sh -c 'echo "url=$MY_DB_URL"' >"$T/out" 2>&1
assert_eq 0 "$rc" "env() unset boot"
assert_contains "$T/out" "url=file:$vol/sqlite.db" "unset variable set for children"
run env MY_DB_URL="file:$T/app/custom.db" "$DBSETUP" --volume "$vol" --no-replicate -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "env() set boot"
assert_eq "$vol/custom.db" "$(readlink "$T/app/custom.db")" "env() variable used"
ok "Prisma url forms: relative, query string, comments, env()"

cat >prisma/schema.prisma <<'P'
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
P
run env DATABASE_URL=postgres://x "$DBSETUP" --volume "$vol" -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "postgres provider: plain init"
assert_contains "$T/out" "postgresql" "says the provider"
cat >prisma/schema.prisma <<'P'
datasource a {
  provider = "sqlite"
  url      = "file:./a.db"
}
datasource b {
  provider = "sqlite"
  url      = "file:./b.db"
}
P
ds -- true
assert_eq 78 "$rc" "two sqlite datasources"
printf 'datasource db {\n  provider = "sqlite"\n  url = "file:./x.db\n' >prisma/schema.prisma
ds -- true
assert_eq 78 "$rc" "unparseable schema"
assert_contains "$T/out" "schema.prisma" "names the schema"
ok "postgres → plain init; two datasources and a broken schema → 78"

# ENTRYPOINT ["dbsetup", "--"] plus fly.toml's "dbsetup npm run start": the
# inner dbsetup runs in place of the outer one (same pid), once.
rm -rf prisma; mkdir -p "$T/bin"; ln -sf "$DBSETUP" "$T/bin/dbsetup"
run "$T/bin/dbsetup" -- "$T/bin/dbsetup" --volume "$vol" --no-replicate --db nested.db \
  -- sh -c 'echo "parent=$(ps -o comm= -p $PPID)"' >"$T/out" 2>&1
assert_eq 0 "$rc" "nested dbsetup"
assert_contains "$T/out" "running it in place" "says what it does"
assert_eq 1 "$(grep -c 'linked' "$T/out")" "one setup, not two"
assert_eq "$vol/nested.db" "$(readlink nested.db)" "the inner options apply"
ok "a nested dbsetup command runs in place of the outer one"

# --user: the app's uid/gid and the owners on the volume.
rm -rf prisma "$vol"; chmod 755 "$T" "$app"
ds --db app.db --user 4242 --migrate "sqlite3 app.db 'create table t(x)'" -- sh -c 'echo "ids=$(id -u):$(id -g)"'
assert_eq 0 "$rc" "--user boot"
assert_contains "$T/out" "ids=4242:4242" "app runs as uid 4242 with gid = uid"
assert_eq "4242:4242" "$(stat -c %u:%g "$vol")" "volume owner"
assert_eq "4242:4242" "$(stat -c %u:%g "$vol/app.db")" "database owner"
ok "--user: numeric uid without passwd entry runs as uid:uid, owns the volume"

done_testing
