# dbsetup started with stdin, stdout or stderr closed (2>&-, a supervisor
# that closes them) puts /dev/null there before it opens anything: otherwise
# the first file it opens becomes fd 2 and receives its messages.
# - `dbsetup restore 2>&-` of a real litestream 0.3.13 replica, paused
#   mid-snapshot so that its progress line is due, gives a database byte
#   for byte equal to the normal restore (before: the progress line was
#   written into <out>.tmp and, with --verify none, placed).
# - The boot with 2>&-: the volume lock holds exactly "<pid> <host>" while
#   the app runs, and the app's fd 2 is /dev/null (this already held: the
#   boot's dbs_proc_init reopened 0-2, but only after option parsing, and
#   the subcommands never called it; kept as a guard).
# ctest-timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

# A 150 MB database of zeros: a tiny LZ4 snapshot that takes a while to
# write out, so a restore can be caught in the middle of it.
d=$T/big
mkdir -p "$d"
cat >"$d/ls.yml" <<YML
dbs:
  - path: $d/db.sqlite
    replicas:
      - type: file
        path: $d/replica
YML
sqlite3 "$d/db.sqlite" "PRAGMA journal_mode=wal; CREATE TABLE t(v);
  INSERT INTO t SELECT zeroblob(60000) FROM generate_series(1, 2500);" >/dev/null
"$LITESTREAM" replicate -config "$d/ls.yml" >"$d/ls.log" 2>&1 &
lp=$!
cleanup "kill $lp 2>/dev/null"
_snap() { compgen -G "$d/replica/generations/*/snapshots/*.snapshot.lz4" >/dev/null; }
_wal() { compgen -G "$d/replica/generations/*/wal/*.wal.lz4" >/dev/null; }
wait_for 60 _snap || fail "litestream wrote no snapshot"
wait_for 30 _wal || fail "litestream wrote no WAL segment"
sqlite3 "$d/db.sqlite" "INSERT INTO t VALUES ('last row')" >/dev/null
sleep 1.5
kill -INT "$lp"
wait "$lp" || true
want=$(dump "$d/db.sqlite" | sha256sum)
rm -f "$d/db.sqlite"*

run "$DBSETUP" restore --verify none -o "$T/ref.db" "file://$d/replica" 2>"$T/err"
assert_eq 0 "$rc" "normal restore"
assert_eq "$want" "$(dump "$T/ref.db" | sha256sum)" "normal restore's content"
ref=$(sha256sum <"$T/ref.db")
rm -f "$T/ref.db"

# paused_restore OUT REDIR: restores into OUT with the fds REDIR closes
# ("0 1 2" or a subset), stopping dbsetup for 2.3 s once OUT.tmp exists so
# that the restore passes its 2 s progress threshold while writing it.
paused_restore() {
  local out=$1 fds=$2 pid
  local -a cmd=("$DBSETUP" restore --verify none -o "$out" "file://$d/replica")
  case $fds in
  2) "${cmd[@]}" 2>&- & ;;
  "0 1 2") "${cmd[@]}" <&- >&- 2>&- & ;;
  *) fail "paused_restore: $fds" ;;
  esac
  pid=$!
  until [ -e "$out.tmp" ] || ! kill -0 "$pid" 2>/dev/null; do :; done
  kill -STOP "$pid" 2>/dev/null || true
  paused=0
  if [ -e "$out.tmp" ]; then
    paused=1
    sleep 2.3
    kill -CONT "$pid"
  fi
  run wait "$pid"
}
# paused_restore_retry OUT REDIR: a busy machine may let the restore end
# before it is caught; try again (the check needs the pause).
paused_restore_retry() {
  local try
  for try in 1 2 3; do
    rm -f "$1"
    paused_restore "$1" "$2"
    [ "$paused" = 0 ] || return 0
    echo "# attempt $try: the restore ended before it could be paused"
  done
  fail "the restore could not be paused in 3 attempts"
}

paused_restore_retry "$T/b.db" 2
assert_eq 0 "$rc" "restore 2>&-"
assert_eq "$ref" "$(sha256sum <"$T/b.db")" "restore 2>&- is byte-identical"
rm -f "$T/b.db"
ok "restore 2>&-, past its progress threshold: byte-identical database"

paused_restore_retry "$T/c.db" "0 1 2"
assert_eq 0 "$rc" "restore <&- >&- 2>&-"
assert_eq "$ref" "$(sha256sum <"$T/c.db")" "restore <&- >&- 2>&- is byte-identical"
rm -f "$T/c.db"
ok "restore with fds 0, 1 and 2 closed: byte-identical database"

# The boot: the lock file is the first thing dbsetup keeps open.
mkdir -p "$T/app" "$T/vol"
# shellcheck disable=SC2016 # expanded by the app's shell
app='cat "$1/.dbsetup.lock" >"$2/lock"; readlink /proc/$$/fd/2 >"$2/fd2"'
(cd "$T/app" && run "$DBSETUP" --db "$T/app/dev.db" --volume "$T/vol" \
  --no-restore -- sh -c "$app" app "$T/vol" "$T" 2>&-
  echo "$rc" >"$T/rc")
assert_eq 0 "$(cat "$T/rc")" "boot 2>&-"
grep -qxE "[0-9]+ $(hostname)" "$T/lock" ||
  { cat "$T/lock" >&2; fail "the volume lock holds more than '<pid> <host>'"; }
assert_eq "/dev/null" "$(cat "$T/fd2")" "the app's stderr"
ok "boot 2>&-: the lock holds only '<pid> <host>', the app's stderr is /dev/null"

done_testing
