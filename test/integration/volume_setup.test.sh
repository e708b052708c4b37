# Link and lock with real processes, the sqlite3 CLI and a mount namespace,
# driven through test/tools/dbs-volume (lib/volume.c with dbsetup's exit
# statuses).
# ctest-timeout: 60
. "$(dirname "$0")/lib.sh"
VOL=$DBS_TOOLS/dbs-volume
V=$T/data
APP=$T/app/prisma/dev.db

# Fresh: the volume is created (with a warning), the app path linked.
run "$VOL" setup "$V" "$APP" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "fresh setup"
assert_contains "$T/out" "target=$V/dev.db state=missing" "fresh state"
assert_contains "$T/err" "did not exist: created it" "missing volume warning"
assert_eq "$V/dev.db" "$(readlink "$APP")" "app path links to the volume"
ok "fresh volume: created, linked, DB missing"

# The app writes through the link; the next boot sees an existing DB and
# keeps the link.
sqlite3 "$APP" "CREATE TABLE t(a); INSERT INTO t VALUES ('one');"
[ -f "$V/dev.db" ] && [ ! -L "$V/dev.db" ] || fail "DB not on the volume"
run "$VOL" setup "$V" "$APP" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "second setup"
assert_contains "$T/out" "state=exists" "second boot sees the DB"
assert_not_contains "$T/err" "linked" "right link kept"
ok "existing DB through the link, link kept"

# A second process on the same volume: 75, naming the holder's pid.
"$VOL" setup "$V" "$APP" --hold >"$T/holder.out" 2>"$T/holder.err" &
holder=$!
cleanup "kill $holder 2>/dev/null; wait $holder 2>/dev/null"
wait_for 10 grep -q holding "$T/holder.out" || fail "holder did not start"
run "$VOL" setup "$V" "$APP" >"$T/out" 2>"$T/err"
assert_eq 75 "$rc" "second dbsetup on the volume"
assert_contains "$T/err" "another dbsetup (pid $holder on host $(hostname)) is using" \
  "holder named"
assert_eq "$holder $(hostname)" "$(cat "$V/.dbsetup.lock")" \
  "lock file keeps the holder's pid"
kill "$holder"
wait "$holder" 2>/dev/null || true
run "$VOL" setup "$V" "$APP" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "lock free once the holder is gone"
ok "second holder exits 75 naming pid $holder; lock released on exit"

# A database baked into the image is moved aside with its WAL, never used.
APP2=$T/app2/dev.db
mkdir -p "$(dirname "$APP2")"
sqlite3 "$APP2" "PRAGMA journal_mode=WAL; CREATE TABLE baked(a);
  INSERT INTO baked VALUES ('from the image');" >/dev/null
echo junk >"$APP2-shm"
size=$(stat -c %s "$APP2")
V2=$T/data2
run "$VOL" setup "$V2" "$APP2" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "setup over a baked DB"
assert_contains "$T/err" "baked into the image ($size bytes)" "size in warning"
assert_contains "$T/err" ".dockerignore" "fix in warning"
assert_eq "$V2/dev.db" "$(readlink "$APP2")" "baked DB replaced by a link"
[ ! -e "$APP2-shm" ] && [ -e "$APP2.in-image-shm" ] || fail "-shm not moved"
assert_eq "from the image" "$(sqlite3 "$APP2.in-image" "SELECT a FROM baked")" \
  "moved-aside DB intact"
assert_contains "$T/out" "state=missing" "volume DB still missing"
ok "image-baked DB moved aside to .in-image, rows intact"

# Dangling and wrong symlinks are replaced.
APP3=$T/app3/dev.db
mkdir -p "$(dirname "$APP3")"
ln -s /nonexistent/dev.db "$APP3"
run "$VOL" setup "$V" "$APP3" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "dangling link"
assert_eq "$V/dev.db" "$(readlink "$APP3")" "dangling link fixed"
assert_contains "$T/err" "dangling symlink" "dangling reported"
ln -sfn "$T/app2/dev.db.in-image" "$APP3"
run "$VOL" setup "$V" "$APP3" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "wrong link"
assert_eq "$V/dev.db" "$(readlink "$APP3")" "wrong link fixed"
assert_eq "from the image" "$(sqlite3 "$APP2.in-image" "SELECT a FROM baked")" \
  "old link target untouched"
ok "dangling and wrong symlinks replaced"

# Stale -wal/-shm beside a missing DB are removed before restore.
V4=$T/data4
mkdir -p "$V4"
echo stale >"$V4/dev.db-wal"
echo stale >"$V4/dev.db-shm"
run "$VOL" setup "$V4" "$T/app4/dev.db" >"$T/out" 2>"$T/err"
assert_eq 0 "$rc" "stale files"
[ ! -e "$V4/dev.db-wal" ] && [ ! -e "$V4/dev.db-shm" ] || fail "stale kept"
assert_contains "$T/err" "left beside a missing database" "stale reported"
ok "stale -wal/-shm removed"

# A non-SQLite file on the volume: 65, byte-identical afterwards.
V5=$T/data5
mkdir -p "$V5"
printf 'not a database\n' >"$V5/dev.db"
echo wal >"$V5/dev.db-wal"
sum=$(sha256sum "$V5/dev.db" "$V5/dev.db-wal")
run "$VOL" setup "$V5" "$T/app5/dev.db" >"$T/out" 2>"$T/err"
assert_eq 65 "$rc" "non-SQLite file"
assert_contains "$T/err" "is not an SQLite database" "message"
assert_eq "$sum" "$(sha256sum "$V5/dev.db" "$V5/dev.db-wal")" "nothing touched"
ok "non-SQLite file: 65, untouched"

# A read-only volume (a read-only tmpfs in a private mount namespace): 73.
V6=$T/data6
mkdir -p "$V6"
run unshare -m sh -c "mount --make-rprivate / && mount -t tmpfs -o ro tmpfs '$V6' &&
  exec '$VOL' setup '$V6' '$T/app6/dev.db'" >"$T/out" 2>"$T/err"
assert_eq 73 "$rc" "read-only volume"
assert_contains "$T/err" "is not writable: Read-only file system" "message"
ok "read-only volume: 73"

# An unwritable volume for a non-root dbsetup: 73.
V7=$T/data7
mkdir -p "$V7"
chmod 555 "$V7"
chmod 755 "$T"
run setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$VOL" setup "$V7" "$T/app7/dev.db" >"$T/out" 2>"$T/err"
assert_eq 73 "$rc" "unwritable volume as nobody"
assert_contains "$T/err" "is not writable by uid 65534" "message"
ok "unwritable volume as non-root: 73"

# chown for --user: the volume and DB files, not what a symlink points at.
ln -s "$T/outside" "$V/dev.db-journal"
echo keep >"$T/outside"
run "$VOL" chown "$V" "$V/dev.db" 12345 12345
assert_eq 0 "$rc" "chown"
assert_eq "12345:12345 12345:12345 12345:12345 0:0" \
  "$(stat -c %u:%g "$V" "$V/dev.db" "$V/dev.db-journal" "$T/outside" | xargs)" \
  "owners"
ok "chown: volume and DB files, symlinks not followed"

done_testing
