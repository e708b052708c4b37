# ctest-labels: integration;litefs
# ctest-timeout: 180
# dbsetup refuses (78; 69 when LiteFS's API does not answer) every setup
# that would hurt under LiteFS, before anything changes, against the real
# LiteFS v0.5.14. Before 807b48e, dbsetup as LiteFS's parent made the
# database in the directory LiteFS then mounts over; the refusals after
# the mount's own (a reserved name, --user without allow-other, a volume
# in data.dir/dbs, litestream.yml with a consul lease, the wrong path or
# meta-path, an unreachable API) are new with the boot under LiteFS.
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

expect_refusal "a reserved name" \
  "$DBSETUP --volume $T/a/vol --db $T/a/app/app.db-wal -- $T/app.sh" \
  "the database name app.db-wal ends in -wal: LiteFS takes such a name for the wal file of the database app.db"
ok "dbsetup as LiteFS's exec command with a database named app.db-wal: 78, nothing changed, litefs exits 78 and unmounts"

expect_refusal "a name LiteFS keeps" \
  "$DBSETUP --volume $T/a/vol --db $T/a/app/.primary -- $T/app.sh" \
  "the database name .primary is one LiteFS reserves"
ok "a database named .primary: 78"

expect_refusal "--user without allow-other" \
  "$DBSETUP --user nobody --volume $T/a/vol --db $T/a/app/app.db -- $T/app.sh" \
  "--user runs the app as another user, but the LiteFS mount $T/a/mnt lacks allow_other"
ok "--user without fuse.allow-other: 78"

printf 'dbs:\n  - path: %s\n    meta-path: %s\n    replicas: [ { type: file, path: %s } ]\n' \
  "$T/a/app/app.db" "$T/a/vol/app.db-litestream" "$T/backup" >"$T/ls-app.yml"
expect_refusal "litestream path" \
  "$DBSETUP --volume $T/a/vol --db $T/a/app/app.db --litestream-config $T/ls-app.yml --litestream $DBS_PEERS/litestream -- $T/app.sh" \
  "replicates $T/a/app/app.db, but LiteFS serves the database as $T/a/mnt/app.db: litestream must replicate the file in the mount; set \`path: $T/a/mnt/app.db\`"
ok "litestream.yml replicating the app's path instead of the file in the mount: 78"

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

# From here node a runs alone, and dbsetup from a shell with the
# database in its mount (LiteFS serves it) and litefs.yml in its cwd.
lfs_config a
lfs_start a
lfs_wait_ready a
mkdir -p "$T/cwd"
# Runs dbsetup in $T/cwd with litefs.yml $1 and the rest as its options;
# expects STATUS and MESSAGE, and nothing changed: no volume $T/rvol, the
# mount as LiteFS made it, nothing at the app's path.
expect_shell_refusal() { # status message litefs.yml-lines... -- options...
  local want=$1 msg=$2
  shift 2
  : >"$T/cwd/litefs.yml"
  while [ "$1" != -- ]; do echo "$1" >>"$T/cwd/litefs.yml"; shift; done
  shift
  run env -C "$T/cwd" "$DBSETUP" --volume "$T/rvol" --db "$T/a/mnt/app.db" "$@" -- true 2>"$T/err"
  assert_eq "$want" "$rc" "status (log: $(cat "$T/err"))"
  assert_contains "$T/err" "$msg" "message"
  [ ! -e "$T/rvol" ] || fail "the volume was made"
  assert_eq ".lag" "$(ls -A "$T/a/mnt")" "the mount"
  assert_eq "" "$(ls -A "$T/a/vol/litefs/dbs" 2>/dev/null)" "dbs/"
}
base=("fuse: { dir: \"$T/a/mnt\" }" "data: { dir: \"$T/a/vol/litefs\" }" "http: { addr: \"127.0.0.1:$LFS_PORT_a\" }")
printf 'dbs:\n  - path: %s\n    meta-path: %s\n    replicas: [ { type: file, path: %s } ]\n' \
  "$T/a/mnt/app.db" "$T/rvol/app.db-litestream" "$T/backup" >"$T/ls.yml"
expect_shell_refusal 78 "Litestream on LiteFS works only with a static lease" \
  "${base[@]}" "lease: { type: consul, candidate: true }" -- \
  --litestream-config "$T/ls.yml" --litestream "$DBS_PEERS/litestream"
ok "litestream.yml with a consul lease: 78, nothing changed"

printf 'dbs:\n  - path: %s\n    replicas: [ { type: file, path: %s } ]\n' \
  "$T/a/mnt/app.db" "$T/backup" >"$T/ls-nometa.yml"
expect_shell_refusal 78 "litestream's meta-path for $T/a/mnt/app.db is $T/a/mnt/.app.db-litestream, inside the LiteFS mount" \
  "${base[@]}" "lease: { type: static, candidate: true }" -- \
  --litestream-config "$T/ls-nometa.yml" --litestream "$DBS_PEERS/litestream"
ok "litestream.yml without meta-path (litestream's default is in the mount): 78"

printf 'dbs:\n  - path: %s\n    meta-path: %s\n    replicas: [ { type: file, path: %s } ]\n' \
  "$T/a/mnt/app.db" "$T/a/vol/litefs/dbs/app.db-litestream" "$T/backup" >"$T/ls-dbsmeta.yml"
expect_shell_refusal 78 "inside LiteFS's data.dir/dbs" \
  "${base[@]}" "lease: { type: static, candidate: true }" -- \
  --litestream-config "$T/ls-dbsmeta.yml" --litestream "$DBS_PEERS/litestream"
ok "litestream.yml with meta-path in data.dir/dbs: 78"

expect_shell_refusal 78 "the volume $T/a/vol/litefs/dbs/v is inside $T/a/vol/litefs/dbs" \
  "${base[@]}" "lease: { type: static, candidate: true }" -- --volume "$T/a/vol/litefs/dbs/v"
ok "a volume inside data.dir/dbs: 78"

port=$(_lfs_free_port)
start=$(date +%s%N)
expect_shell_refusal 69 "GET http://127.0.0.1:$port/info: Connection refused (tried for" \
  "fuse: { dir: \"$T/a/mnt\" }" "data: { dir: \"$T/a/vol/litefs\" }" "http: { addr: \"127.0.0.1:$port\" }" -- 
ok "LiteFS's API unreachable: 69 after $(( ($(date +%s%N) - start) / 1000000 )) ms, nothing changed"
lfs_teardown

# A LiteFS mount that is not dbsetup's business: its boot goes on.
lfs_config a
lfs_start a
lfs_wait_ready a
run env -C "$T" "$DBSETUP" --volume "$T/ovol" --db "$T/other/app.db" -- true 2>"$T/err"
assert_eq 0 "$rc" "a database away from LiteFS, dbsetup not under litefs (log: $(cat "$T/err"))"
[ -L "$T/other/app.db" ] || fail "the database was not linked"
ok "with LiteFS mounted elsewhere and dbsetup not its exec command: the boot goes on"

# doctor, run from a shell on the node, says what the boot would do.
run env -C "$T" "$DBSETUP" doctor --volume "$T/dvol" --db "$T/a/mnt/app.db-journal" >"$T/doc" 2>&1
assert_eq 78 "$rc" "doctor's status (output: $(cat "$T/doc"))"
assert_contains "$T/doc" "the boot would exit 78 at the checks and lock phase: the database name app.db-journal ends in -journal" "doctor's verdict"
[ ! -e "$T/dvol" ] || fail "doctor made the volume"
assert_eq ".lag" "$(ls -A "$T/a/mnt")" "doctor made something in the LiteFS mount (LiteFS lists only .lag)"
ok "doctor on a LiteFS node reports the same refusal (78), changing nothing"
done_testing
