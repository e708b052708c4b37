#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 240
# Hostile or odd replica metadata and litestream 0.3.13 parity: a gap of
# 2^31 indexes, absurd sizes and dates, stray bytes after a WAL segment's
# LZ4 frame, points outside the backup, and -index/-timestamp as
# litestream parses them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore_lib.sh"

# Two objects 2^31 indexes apart: exit 65 naming the gap, at once, with no
# allocation sized from the names (the base allocated 48 GiB, failed, and
# printed an unset buffer with exit 70).
R=$T/gap/generations/0000000000000001
mkdir -p "$R/snapshots" "$R/wal"
: >"$R/snapshots/00000000.snapshot.lz4"
: >"$R/wal/7fffffff_00000000.wal.lz4"
run "$DBSETUP" restore -o "$T/gap.db" "file://$T/gap" 2>"$T/gap.err"
assert_eq 65 "$rc" "2^31 index gap: exit status"
assert_contains "$T/gap.err" \
  "missing WAL indexes: 0000000000000001/00000000..7ffffffe" "2^31 index gap"
assert_contains "$T/gap.err" "wal/7fffffff_00000000.wal.lz4" "2^31 index gap"
[ ! -e "$T/gap.db" ] || fail "2^31 index gap: output created"
ok "two objects 2^31 indexes apart: exit 65 naming the gap"

# A real replica from litestream 0.3.13 for the cases below.
F=$T/fx
make_replica "$F" 1 9
URL=file://$F/replica
P=$(sed -n 2p "$F/points") # a point inside the generation, with a fraction

# litest NAME ARGS...: restores with both tools into $T/p/NAME.{d,l}; sets
# drc and lrc, and their logs $T/p/NAME.{d,l}.err.
litest() {
  local name=$1; shift
  mkdir -p "$T/p"
  run "$DBSETUP" restore -o "$T/p/$name.d" "$@" "$URL" 2>"$T/p/$name.d.err"; drc=$rc
  run "$LITESTREAM" restore -o "$T/p/$name.l" "$@" "$URL" 2>"$T/p/$name.l.err"; lrc=$rc
}

# -index and -timestamp are read as litestream reads them (Go's
# strconv.ParseInt(s, 16, 32) and time.Parse(time.RFC3339, s)): refused
# (64) exactly where litestream says "invalid", and where both accept and
# restore, the same bytes. The base accepted "0x3", " 3" and November 31st
# and refused the comma fraction Go accepts.
k=0
parity() { # FLAG VALUE
  k=$((k + 1))
  litest "parity$k" "$1" "$2"
  if grep -q "invalid value\|invalid -timestamp" "$T/p/parity$k.l.err"; then
    [ "$drc" -eq 64 ] || { cat "$T/p/parity$k.d.err" >&2; fail "$1 '$2': litestream refuses it, dbsetup exit $drc"; }
  else
    [ "$drc" -ne 64 ] || { cat "$T/p/parity$k.d.err" >&2; fail "$1 '$2': litestream accepts it, dbsetup refuses"; }
    if [ "$lrc" -eq 0 ] && [ "$drc" -eq 0 ]; then
      cmp -s "$T/p/parity$k.d" "$T/p/parity$k.l" || fail "$1 '$2': restores differ"
    fi
  fi
}
for v in 0x3 0X3 " 3" "3 " +3 _3 3_0 80000000 100000000 "" g 3g -0 +0 00000003 0000000003 7fffffff \
  00000004 4; do
  parity -index "$v"
done
D=${P%%T*} H=${P#*T}; H=${H%%.*} # 2026-12-06 and 18:16:12
for v in "$P" "${P/./,}" "${D}T${H}Z" "${D}T${H}.Z" "${D}T${H},Z" "${D}T${H}z" "${D}t${H}Z" \
  "${D}T${H}+01:00" "${D}T${H}+24:00" "${D}T${H}+24:60" "${D}T${H}+ab:00" \
  "${D}T${H}+0100" "${D}T${H}Z " " ${D}T${H}Z" "${D}T${H}.1234567891234Z" \
  "2026-11-31T10:00:00Z" "2026-02-29T10:00:00Z" "2024-02-29T10:00:00Z" "2100-02-29T10:00:00Z" \
  "2000-02-29T10:00:00Z" "2026-12-06T24:00:00Z" "2026-12-06T23:60:00Z" "2026-12-06T23:59:60Z" \
  "2026-12-6T10:00:00Z" "2026-1-06T10:00:00Z" "2026-12-06T9:00:00Z" "0000-01-01T00:00:00Z" \
  "9999-12-31T23:59:59Z" "2026-12-06 10:00:00Z" "2026-13-01T10:00:00Z" "2026-00-01T10:00:00Z"; do
  parity -timestamp "$v"
done
# Zone offsets past 24:60: today's Go (1.26, src/time/format.go) refuses
# them; the Go 1.21 that litestream 0.3.13 is built with took +99:99 as a
# time. dbsetup refuses them, as current Go does.
for z in +25:00 +23:61 +99:99; do
  run "$DBSETUP" restore -o "$T/p/z.db" -timestamp "${D}T${H}$z" "$URL" 2>"$T/p/z.err"
  assert_eq 64 "$rc" "zone offset $z"
  assert_contains "$T/p/z.err" "invalid -timestamp" "zone offset $z"
done
ok "-index and -timestamp: refused and accepted as litestream 0.3.13 ($k cases)"

# Stray bytes after a complete LZ4 frame of a WAL segment (litestream
# 0.3.13 leaves them when a shutdown interrupts its second write of the
# segment): litestream restores such a replica, and so does dbsetup, with a
# warning naming the object, and the same bytes (cmp). The base refused it
# (65, "data after the end of the LZ4 frame"), and with it every later point
# of the generation. Only the first snapshot is kept so that every WAL index
# is applied.
B=$T/tb
cp -a "$F/replica" "$B"
GB=$B/generations/$(ls "$B/generations")
ls "$GB/snapshots" | tail -n +2 | while read -r x; do rm "$GB/snapshots/$x"; done
# A segment followed by another of the same index, and the very last one.
mid=$(ls "$GB/wal" | awk -F_ 'prev == $1 {print last; exit} {prev = $1; last = $0}')
end=$(ls "$GB/wal" | tail -1)
[ -n "$mid" ] || fail "fixture: no index with two segments"
stray() { # SEGMENT KIND: appends stray bytes of KIND to a copy of SEGMENT
  local f=$GB/wal/$1 sz
  cp "$f" "$T/seg.orig"; sz=$(stat -c %s "$f")
  case $2 in
  garbage) head -c 100 /dev/urandom >>"$f" ;;
  magic) printf '\x04\x22' >>"$f" ;;             # a frame cut after 2 bytes
  partial) head -c $((sz / 2)) "$T/seg.orig" >>"$f" ;; # the rewrite died midway
  whole) cat "$T/seg.orig" >>"$f" ;;                  # a complete second frame
  esac
}
unstray() { cp "$T/seg.orig" "$GB/wal/$1"; }
URL=file://$B
for seg in "$mid" "$end"; do
  for kind in garbage magic partial whole; do
    stray "$seg" "$kind"
    litest "stray-$kind-${seg%%.*}"
    d=$T/p/stray-$kind-${seg%%.*}
    [ "$lrc" -eq 0 ] || { cat "$d.l.err" >&2; fail "litestream refused stray $kind bytes after $seg"; }
    [ "$drc" -eq 0 ] || { cat "$d.d.err" >&2; fail "stray $kind bytes after $seg: dbsetup exit $drc"; }
    cmp -s "$d.d" "$d.l" || fail "stray $kind bytes after $seg: restores differ"
    assert_contains "$d.d.err" "wal/$seg has" "stray $kind bytes after $seg: warning"
    assert_contains "$d.d.err" "stray bytes after its LZ4 frame" "stray $kind bytes after $seg: warning"
    unstray "$seg"
  done
done
ok "stray bytes after a WAL segment's LZ4 frame: restored as litestream restores them (cmp), with a warning naming the object"

# What cannot be verified stays refused: a frame holding only the WAL
# header, then stray bytes; a frame cut short, then stray bytes.
cp "$GB/wal/$end" "$T/seg.orig"
lz4 -dc "$T/seg.orig" | head -c 32 | lz4 -zq >"$GB/wal/$end"
head -c 50 /dev/urandom >>"$GB/wal/$end"
run "$DBSETUP" restore -o "$T/uv.db" "$URL" 2>"$T/uv.err"
assert_eq 65 "$rc" "header-only frame with stray bytes"
assert_contains "$T/uv.err" "wal/$end has 50 bytes after its LZ4 frame, and the frame holds no WAL frame" \
  "header-only frame with stray bytes"
[ ! -e "$T/uv.db" ] || fail "header-only frame with stray bytes: output created"
head -c $(($(stat -c %s "$T/seg.orig") - 9)) "$T/seg.orig" >"$GB/wal/$end"
head -c 50 /dev/urandom >>"$GB/wal/$end"
run "$DBSETUP" restore -o "$T/uv.db" "$URL" 2>"$T/uv.err"
assert_eq 65 "$rc" "cut frame with stray bytes"
assert_contains "$T/uv.err" "wal/$end" "cut frame with stray bytes"
[ ! -e "$T/uv.db" ] || fail "cut frame with stray bytes: output created"
cp "$T/seg.orig" "$GB/wal/$end"
ok "stray bytes after a frame that cannot be verified: exit 65 naming the object"
URL=file://$F/replica

# A point the backup does not reach is "no matching backups" (exit 1, as
# documented), not "corrupt" (65, which the base said): a time before the
# first snapshot, an index below the lowest snapshot, an index past the
# highest (litestream 0.3.13 silently restores the highest one there).
# -if-replica-exists does not cover them (litestream's does not either).
GEN=$(ls "$F/replica/generations")
first=$(ls "$F/replica/generations/$GEN/snapshots" | head -1); first=${first%%.*}
last=$(ls "$F/replica/generations/$GEN/wal" | tail -1); last=${last%%_*}
early=$(date -u -d "@$(($(stat -c %Y "$F/replica/generations/$GEN/snapshots/$first.snapshot.lz4") - 1))" +%Y-%m-%dT%H:%M:%SZ)
# A WAL segment older than the first snapshot keeps $early inside the
# generation's bounds, so the generation matches but no snapshot does.
touch -d "@$(($(stat -c %Y "$F/replica/generations/$GEN/snapshots/$first.snapshot.lz4") - 60))" \
  "$F/replica/generations/$GEN/wal/${first}_00000000.wal.lz4"
nomatch() { # NAME NEEDLE ARGS...
  local name=$1 needle=$2; shift 2
  run "$DBSETUP" restore -o "$T/nm.db" "$@" "$URL" 2>"$T/nm.err"
  assert_eq 1 "$rc" "$name: exit status"
  assert_contains "$T/nm.err" "no matching backups found" "$name"
  assert_contains "$T/nm.err" "$needle" "$name"
  run "$DBSETUP" restore -if-replica-exists -o "$T/nm.db" "$@" "$URL" 2>"$T/nm.err"
  assert_eq 1 "$rc" "$name with -if-replica-exists"
  [ ! -e "$T/nm.db" ] || fail "$name: output created"
  ok "$name: exit 1 (no matching backups), nothing created"
}
nomatch "time before the first snapshot" "no snapshot at or before the requested time" -timestamp "$early"
[ "$first" != 00000000 ] || fail "fixture: the first snapshot is at index 0"
nomatch "index below the lowest snapshot" "no snapshot at or below index 00000000" -index 0
nomatch "index past the highest" "highest index was $last" -index "$(printf %x $((16#$last + 5)))"

# The README's memory bound: one LZ4 block (up to 4 MiB) per download
# running at once, so peak RSS grows with --parallelism and not with the
# database. WAL segments decoding past a block make every download hold a
# full one. (Not under AddressSanitizer, whose shadow memory inflates RSS.)
if grep -qa __asan_init "$DBSETUP"; then
  echo "# skipped the memory bound: AddressSanitizer build"
  done_testing
  exit 0
fi
M=$T/mem; mkdir -p "$M"
file_replica_yml "$M/ls.yml" "$M/db" "$M/replica"
sqlite3 "$M/db" "PRAGMA journal_mode=wal; CREATE TABLE t(v TEXT);" >/dev/null
"$LITESTREAM" replicate -config "$M/ls.yml" >"$M/ls.log" 2>&1 &
lp=$!
_has_snap() { compgen -G "$M/replica/generations/*/snapshots/*.lz4" >/dev/null; }
wait_for 10 _has_snap || fail "litestream made no snapshot"
for i in 1 2 3 4; do # four WAL indexes of ~8 MB each (checkpoint at 1000 pages)
  sqlite3 -cmd ".timeout 5000" "$M/db" \
    "INSERT INTO t SELECT hex(randomblob(400)) FROM generate_series(1, 10000);" >/dev/null
  sleep 0.6
done
sleep 0.5; kill -INT "$lp"; wait "$lp" || true
big=$(find "$M/replica" -name '*.wal.lz4' -size +4M | wc -l)
[ "$big" -ge 4 ] || fail "fixture: $big WAL segments above 4 MiB, want 4"
rss() { # PARALLELISM: peak RSS of a restore, in kB
  rm -f "$M/out.db"
  /usr/bin/time -f %M -o "$M/rss" "$DBSETUP" restore --parallelism "$1" --verify none \
    -o "$M/out.db" "file://$M/replica" 2>/dev/null || fail "restore --parallelism $1 failed"
  [ "$(integrity "$M/out.db")" = ok ] || fail "restore --parallelism $1: integrity_check"
  cat "$M/rss"
}
r1=$(rss 1) r4=$(rss 4)
[ "$r1" -le 12288 ] || fail "--parallelism 1: peak RSS $r1 kB, README says about 7.6 MB (<= 12 MB)"
[ "$r4" -le 28672 ] || fail "--parallelism 4: peak RSS $r4 kB, README says about 21 MB (<= 28 MB)"
ok "peak RSS: $r1 kB with --parallelism 1, $r4 kB with 4 (one LZ4 block per download)"

done_testing
