# ctest-labels: integration;litefs
# ctest-timeout: 180
# Until dbsetup sets databases up under LiteFS, it refuses (78) every setup
# that would hurt there, before anything changes, against the real LiteFS
# v0.5.14. Before this, dbsetup as LiteFS's exec command linked the app's
# database onto the volume (beside LiteFS, never replicated) and migrated
# and seeded it on every node; as LiteFS's parent it made the database in
# the directory LiteFS then mounts over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
lfs_app

# Runs node a with EXEC and expects litefs to exit 78 with MESSAGE logged,
# its mount gone and nothing new on the volume or at the app's path.
expect_refusal() { # what exec message
  lfs_config a "$2"
  lfs_start a
  lfs_wait_exit a 30
  assert_eq 78 "$rc" "$1: litefs's exit status (dbsetup's 78 passed on)"
  assert_contains "$T/a.log" "$3" "$1: message"
  ! lfs_mounted a || fail "$1: the mount is left"
  assert_eq "litefs" "$(ls -A "$T/a/vol")" "$1: the volume holds only LiteFS's data.dir"
  assert_eq "" "$(ls -A "$T/a/app")" "$1: nothing at the app's path"
  assert_eq "" "$(ls -A "$T/a/vol/litefs/dbs" 2>/dev/null)" "$1: no LiteFS database made"
  [ ! -e "$T/events" ] || fail "$1: the app was started"
}

expect_refusal "exec with a database" \
  "$DBSETUP --volume $T/a/vol --db $T/a/app/app.db -- $T/app.sh" \
  "LiteFS is mounted at $T/a/mnt, and dbsetup cannot set up a database under LiteFS yet: it would link $T/a/app/app.db onto $T/a/vol/app.db"
ok "dbsetup as LiteFS's exec command with a database: 78, nothing changed, litefs exits 78 and unmounts"

expect_refusal "database in data.dir" \
  "$DBSETUP --volume $T/a/vol --db $T/a/vol/litefs/app.db -- $T/app.sh" \
  "the database $T/a/vol/litefs/app.db is inside LiteFS's data.dir $T/a/vol/litefs ($T/a.yml)"
ok "a database inside LiteFS's data.dir (litefs.yml read from litefs's -config): 78"

expect_refusal "volume in the mount" \
  "$DBSETUP --volume $T/a/mnt/vol --db $T/a/app/app.db -- $T/app.sh" \
  "the volume $T/a/mnt/vol is inside the LiteFS mount $T/a/mnt"
ok "a volume inside the LiteFS mount: 78"

# dbsetup started before LiteFS, its database in fuse.dir.
mkdir -p "$T/parent" && cp "$T/a.yml" "$T/parent/litefs.yml"
run env -C "$T/parent" "$DBSETUP" --volume "$T/pvol" --db "$T/a/mnt/app.db" -- true 2>"$T/err"
assert_eq 78 "$rc" "dbsetup before LiteFS"
assert_contains "$T/err" "the database $T/a/mnt/app.db is in LiteFS's fuse.dir $T/a/mnt ($T/parent/litefs.yml), but LiteFS is not mounted there" "message"
assert_eq "" "$(ls -A "$T/a/mnt")" "nothing made in the directory LiteFS mounts over"
[ ! -e "$T/pvol" ] || fail "the volume was made"
ok "dbsetup before LiteFS with its database in fuse.dir: 78, nothing made"

# A LiteFS mount that is not dbsetup's business: its boot goes on.
lfs_config a
lfs_start a
lfs_wait_ready a
run env -C "$T" "$DBSETUP" --volume "$T/ovol" --db "$T/other/app.db" -- true 2>"$T/err"
assert_eq 0 "$rc" "a database away from LiteFS, dbsetup not under litefs (log: $(cat "$T/err"))"
[ -L "$T/other/app.db" ] || fail "the database was not linked"
ok "with LiteFS mounted elsewhere and dbsetup not its exec command: the boot goes on"

# doctor, run from a shell on the node, says what the boot would do.
run env -C "$T" "$DBSETUP" doctor --volume "$T/dvol" --db "$T/a/mnt/app.db" >"$T/doc" 2>&1
assert_eq 78 "$rc" "doctor's status (output: $(cat "$T/doc"))"
assert_contains "$T/doc" "the boot would exit 78 at the checks and lock phase: LiteFS is mounted at $T/a/mnt" "doctor's verdict"
[ ! -e "$T/dvol" ] || fail "doctor made the volume"
assert_eq ".lag" "$(ls -A "$T/a/mnt")" "doctor made something in the LiteFS mount (LiteFS lists only .lag)"
ok "doctor on a LiteFS node reports the same refusal (78), changing nothing"
done_testing
