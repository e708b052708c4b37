#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 180
# Damaged replicas (written by litestream, then damaged): dbsetup exits 65
# naming the object and places nothing; stray names are ignored as
# litestream ignores them; "no backup" is distinct from a failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

F=$T/fx
make_replica "$F" 1 12
GEN=$(ls "$F/replica/generations")
# Keep only the first snapshot, so the restore applies every WAL index.
ls "$F/replica/generations/$GEN/snapshots" | tail -n +2 |
  while read -r s; do rm "$F/replica/generations/$GEN/snapshots/$s"; done
G=$F/replica/generations/$GEN
n=0

fresh() { # copies the pristine replica to $T/c and sets URL
  rm -rf "$T/c"; cp -a "$F/replica" "$T/c"; C=$T/c/generations/$GEN; URL=file://$T/c
}
# expect_fail NAME STATUS NEEDLE: dbsetup restore fails with STATUS, says
# NEEDLE, and leaves nothing in the output directory.
expect_fail() {
  n=$((n + 1)); local o=$T/o$n
  mkdir -p "$o"
  run "$DBSETUP" restore -o "$o/db" "$URL" 2>"$o.err"
  [ "$rc" -eq "$2" ] || { cat "$o.err" >&2; fail "$1: exit $rc, expected $2"; }
  assert_contains "$o.err" "$3" "$1"
  assert_eq "" "$(ls -A "$o")" "$1: output directory must stay empty"
  ok "$1: exit $2"
}
# same_as_litestream NAME: both restore; identical dumps.
same_as_litestream() {
  n=$((n + 1)); local o=$T/o$n
  mkdir -p "$o/a" "$o/b"
  "$DBSETUP" restore -o "$o/a/db" "$URL" 2>/dev/null || fail "$1: dbsetup failed"
  "$LITESTREAM" restore -o "$o/b/db" "$URL" 2>/dev/null || fail "$1: litestream failed"
  [ "$(dump "$o/a/db")" == "$(dump "$o/b/db")" ] || fail "$1: dumps differ"
  ok "$1: same database as litestream"
}
# The latest snapshot and the WAL indexes applied on top of it.
snap=$(ls "$G/snapshots" | tail -1)
sidx=${snap%%.*}
last_seg=$(ls "$G/wal" | tail -1)
# An index after the snapshot with at least two segments.
multi=$(ls "$G/wal" | sed 's/_.*//' | sort | uniq -c | awk -v s="$sidx" '$1 >= 2 && $2 >= s {print $2}' | tail -1)
[ -n "$multi" ] || fail "fixture has no index with two segments after snapshot $sidx"

fresh; truncate -s -7 "$C/snapshots/$snap"
expect_fail "truncated snapshot" 65 "$snap"

fresh; truncate -s -5 "$C/wal/$last_seg"
expect_fail "truncated WAL segment" 65 "$last_seg"

fresh; f=$C/snapshots/$snap; sz=$(stat -c %s "$f")
printf '\xff' | dd of="$f" bs=1 seek=$((sz / 2)) conv=notrunc status=none
expect_fail "flipped byte in snapshot (LZ4 checksum)" 65 "$snap"

fresh; f=$C/wal/$last_seg; sz=$(stat -c %s "$f")
b=$(od -An -tu1 -j $((sz - 6)) -N1 "$f" | tr -d ' ')
printf "\\x$(printf %02x $((b ^ 0x55)))" | dd of="$f" bs=1 seek=$((sz - 6)) conv=notrunc status=none
expect_fail "flipped byte in WAL segment" 65 "$last_seg"

fresh; rm "$C"/wal/${multi}_*
expect_fail "missing WAL index" 65 "missing WAL index: $GEN/$multi"
run "$LITESTREAM" restore -o "$T/ls-missing" "$URL" 2>/dev/null
[ "$rc" -ne 0 ] || fail "litestream accepted a missing WAL index"

fresh; second=$(ls "$C/wal" | grep "^${multi}_" | sed -n 2p); off=${second#*_}; off=${off%%.*}
mv "$C/wal/$second" "$C/wal/${multi}_$(printf %08x $((16#$off + 24)))".wal.lz4
expect_fail "offset gap" 65 "WAL offset gap"

fresh; rm "$C/wal/${multi}_00000000.wal.lz4"
expect_fail "missing initial segment" 65 "missing initial wal segment"

fresh; rm "$C"/snapshots/*
expect_fail "missing snapshot" 65 "no snapshots available"

# A WAL header or frame damaged below the LZ4 layer (recompressed with the
# lz4 CLI): SQLite would silently skip it; dbsetup refuses.
fresh; f=$C/wal/${multi}_00000000.wal.lz4
lz4 -dc "$f" >"$T/w"; printf '\x00' | dd of="$T/w" bs=1 seek=1 conv=notrunc status=none
lz4 -zfq "$T/w" "$f"
expect_fail "bad WAL header magic" 65 "bad WAL header magic"
fresh; f=$C/wal/${multi}_00000000.wal.lz4
lz4 -dc "$f" >"$T/w"; printf '\x42' | dd of="$T/w" bs=1 seek=200 conv=notrunc status=none
lz4 -zfq "$T/w" "$f"
expect_fail "bad WAL frame checksum" 65 "fails its checksum"

fresh; { printf 'age-encryption.org/v1\n-> X25519 abc\n'; head -c 64 /dev/urandom; } >"$C/snapshots/$snap"
expect_fail "age-encrypted object" 65 "not supported"

# Stray names are skipped, as litestream skips them.
fresh
mkdir -p "$T/c/generations/not-a-generation/snapshots" "$T/c/generations/0123456789ABCDEF"
cp "$C/snapshots/$snap" "$T/c/generations/not-a-generation/snapshots/"
touch "$T/c/generations/0123456789abcdef" "$T/c/README" "$C/wal/junk.wal.lz4" \
  "$C/wal/00000001_0000.wal.lz4" "$C/snapshots/${snap}.tmp" "$C/snapshots/0000000G.snapshot.lz4"
same_as_litestream "stray names"

# No backup is its own outcome, not an error.
mkdir -p "$T/empty"; URL=file://$T/empty
run "$DBSETUP" restore -o "$T/nb/db" "$URL" 2>"$T/nb.err"
assert_eq 1 "$rc" "no backup: exit status"
assert_contains "$T/nb.err" "no matching backups found" "no backup"
run "$DBSETUP" restore -if-replica-exists -o "$T/nb/db" "$URL" 2>"$T/nb.err"
assert_eq 0 "$rc" "no backup with -if-replica-exists"
[ ! -e "$T/nb/db" ] || fail "no backup created a database"
ok "no backup: exit 1, or 0 with -if-replica-exists, nothing created"

# An existing output is never overwritten.
URL=file://$F/replica; echo keep >"$T/exists"
run "$DBSETUP" restore -o "$T/exists" "$URL" 2>"$T/ex.err"
assert_eq 73 "$rc" "existing output"
assert_contains "$T/ex.err" "output path already exists" "existing output"
assert_eq keep "$(cat "$T/exists")" "existing output untouched"
run "$DBSETUP" restore -if-db-not-exists -o "$T/exists" "$URL" 2>/dev/null
assert_eq 0 "$rc" "-if-db-not-exists"
ok "existing output: 73, or 0 with -if-db-not-exists, untouched"

# An output whose directory is a file: 73, naming that directory as what
# cannot be created (not the leftovers beside it), the file untouched.
run "$DBSETUP" restore -o "$T/exists/db" "$URL" 2>"$T/nd.err"
assert_eq 73 "$rc" "output directory is a file"
assert_contains "$T/nd.err" "cannot create directory $T/exists: Not a directory" \
  "output directory is a file"
assert_eq keep "$(cat "$T/exists")" "file in the output's path untouched"
ok "output directory is a file: 73, names the directory"

# Usage errors.
run "$DBSETUP" restore "$URL" 2>"$T/u.err"; assert_eq 64 "$rc" "URL without -o"
assert_contains "$T/u.err" "output path required" "URL without -o"
run "$DBSETUP" restore -o "$T/u" -index 3 -timestamp 2020-01-01T00:00:00Z "$URL" 2>"$T/u.err"
assert_eq 64 "$rc" "index and timestamp"
run "$DBSETUP" restore -o "$T/u" -timestamp yesterday "$URL" 2>"$T/u.err"
assert_contains "$T/u.err" "invalid -timestamp" "bad timestamp"
ok "usage errors exit 64 with litestream's messages"

# A snapshot whose LZ4 frame is intact but whose database is not: only the
# integrity check can see it. The default (quick) and full checks refuse it
# (65, nothing placed); --verify none places it, which proves the check is
# what catches it. The snapshot-only replica keeps WAL frames away from the
# damaged page (an index b-tree page given an invalid page type).
S=$T/vs; mkdir -p "$S"
sqlite3 "$S/db" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, g INT, v TEXT);
  CREATE INDEX t_g ON t(g);
  INSERT INTO t(g, v) SELECT value % 50, hex(randomblob(200)) FROM generate_series(1, 3000);
  PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cat >"$S/ls.yml" <<YML
dbs:
  - path: $S/db
    monitor-interval: 50ms
    replicas:
      - type: file
        path: $S/replica
        sync-interval: 50ms
YML
"$LITESTREAM" replicate -config "$S/ls.yml" >"$S/ls.log" 2>&1 &
lp=$!
_has_wal() { compgen -G "$1/replica/generations/*/wal/*.lz4" >/dev/null; }
wait_for 10 _has_wal "$S" || fail "litestream made no replica"
sleep 0.5; kill -INT "$lp"; wait "$lp" || true
vsnap=$(ls "$S"/replica/generations/*/snapshots/*.lz4 | tail -1)
lz4 -dc "$vsnap" >"$S/snap.db"
root=$(sqlite3 "$S/snap.db" "SELECT rootpage FROM sqlite_schema WHERE name = 't_g'")
psz=$(sqlite3 "$S/snap.db" "PRAGMA page_size")
[ "$root" -gt 1 ] || fail "no index root page in the snapshot"
printf '\x01' | dd of="$S/snap.db" bs=1 seek=$(((root - 1) * psz)) conv=notrunc status=none
lz4 -q -f -c "$S/snap.db" >"$vsnap"
URL=file://$S/replica
expect_fail "valid LZ4, corrupt b-tree page (verify quick, the default)" 65 "fails quick_check"
n=$((n + 1)); mkdir -p "$T/o$n"
run "$DBSETUP" restore --verify full -o "$T/o$n/db" "$URL" 2>"$T/o$n.err"
assert_eq 65 "$rc" "verify full"
assert_contains "$T/o$n.err" "integrity_check" "verify full"
assert_eq "" "$(ls -A "$T/o$n")" "verify full: nothing placed"
ok "valid LZ4, corrupt b-tree page (verify full): exit 65"
n=$((n + 1)); mkdir -p "$T/o$n"
run "$DBSETUP" restore --verify none -o "$T/o$n/db" "$URL" 2>"$T/o$n.err"
assert_eq 0 "$rc" "verify none places the damaged database"
[ "$(integrity "$T/o$n/db")" != ok ] || fail "the damaged database passes integrity_check"
ok "valid LZ4, corrupt b-tree page (verify none): placed, so the check is what refuses it"

# The system refusing memory (here a 24 MB address-space limit: the
# download threads' stacks do not fit) is an internal error: 70, not a
# corrupt replica or an outage, and nothing is placed. A thread's stack is
# RLIMIT_STACK's size (glibc), so a 64 MB stack limit makes sure that even
# the first download thread cannot fit: with the default 8 MB one it
# sometimes did, and the restore then succeeded.
# (Not under AddressSanitizer, which reserves terabytes of address space.)
if grep -qa __asan_init "$DBSETUP"; then
  echo "# skipped the memory-limit check: AddressSanitizer build"
  done_testing
  exit 0
fi
fresh
n=$((n + 1)); mkdir -p "$T/o$n"
run bash -c "ulimit -s 65536; ulimit -v 24576; exec '$DBSETUP' restore -o '$T/o$n/db' '$URL'" 2>"$T/o$n.err"
assert_eq 70 "$rc" "no memory: exit status"
grep -Eq "out of memory|Cannot allocate memory|cannot start download threads" "$T/o$n.err" ||
  { cat "$T/o$n.err"; fail "no memory: reason"; }
assert_eq "" "$(ls -A "$T/o$n")" "no memory: nothing placed"
ok "the system refusing memory: exit 70, nothing placed"

done_testing
