#!/usr/bin/env bash
# ctest-labels: integration;ltx
# ctest-timeout: 240
# Damaged LTX replicas (written by real litestream v0.5.18, then damaged):
# dbsetup restore exits 65 naming the damage, places nothing at the target
# and leaves nothing beside it, in every case. What `litestream restore`
# 0.5.18 does with each is asserted too (LITESTREAM: refuses / accepts),
# so the test says where dbsetup is stricter:
#   flipped bit in page data (newest L9 / tail L0)   litestream refuses
#   truncated L0 (7 bytes off) / L9 (to 60 bytes)    litestream refuses
#   missing middle L0 file (gap), latest            litestream refuses
#   the same gap, -txid past it                     litestream: "no matching backup" (exit 1)
#   the same gap, -timestamp past it                litestream ACCEPTS: restores up to the gap
#   junk L0 file with a valid name                  litestream refuses
#   L0 file of another page size (valid otherwise)  litestream refuses
#   legacy v1 L0 (flags 0x3) / L9 (flags 0x1)       litestream refuses
# Controls: L0 files made by ltx-forge from a changed copy of the database
# (block and frame pages) are restored by both, byte-identical, so the
# forged page-size and v1 files differ from a valid file in that alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ltx_lib.sh"
ltx_need "$LS05" v0.5.18
RANDOM=${DBS_LTX_SEED:-6500}

# Phase 1 with short levels (L1-L3, L9 exist); phase 2 with hour-long ones,
# so that its L0 files stay above every compaction: the tail of the latest
# restore's plan, where a missing file is a gap.
ltx_init file "$T/fx"
ltx_yml
ltx_start
wait_for 20 _ltx_l0_gt 0 || fail "litestream wrote no L0 file"
ltx_workload 8
ltx_finish
ltx_yml 1h 1h
ltx_workload 6 "$LS05"
ltx_stop INT
ltx_inventory
H=0
for l in 1 2 3 9; do x=$(ltx_max_txid "$l"); [ "$x" -le "$H" ] || H=$x; done
mapfile -t TAIL < <(ltx_files 0 | awk -v h="$(hex16 "$H")" 'substr($0, 1, 16) > h')
[ "${#TAIL[@]}" -ge 4 ] || fail "expected 4 or more L0 files above the levels (TXID $(hex16 "$H")): ${TAIL[*]}"
SNAP=$(ltx_files 9 | tail -1)
M=$(ltx_all_max)
NEXT=$(hex16 $((M + 1)))
PRISTINE=$T/pristine
cp -a "$LTX_ROOT" "$PRISTINE"
ok "replica: ${#TAIL[@]} L0 files above the levels, newest snapshot $SNAP, latest TXID $(hex16 "$M")"

fresh() { rm -rf "$LTX_ROOT"; cp -a "$PRISTINE" "$LTX_ROOT"; }
# A copy of the latest database, for the forged files.
lsrun "$LS05" restore -o "$T/latest.db" "$LTX_URL" >/dev/null 2>&1 || fail "litestream cannot restore the pristine replica"

n=0
# corrupt NAME LITESTREAM NEEDLE [ARGS...]: litestream restore ARGS of the
# (damaged) replica refuses or accepts as LITESTREAM says; dbsetup exits
# 65 saying NEEDLE, with its output directory left empty.
corrupt() {
  local name=$1 lsexp=$2 needle=$3; shift 3
  n=$((n + 1))
  local o=$T/c$n lsgot cmd
  mkdir -p "$o/ls" "$o/dbs"
  run lsrun "$LS05" restore -o "$o/ls/db" "$@" "$LTX_URL" </dev/null >"$o/ls.log" 2>&1
  if [ "$rc" -eq 0 ]; then lsgot=accepts; else lsgot=refuses; fi
  [ "$lsgot" = "$lsexp" ] ||
    { cat "$o/ls.log" >&2; fail "$name: litestream restore $lsgot, the test says it $lsexp"; }
  local lsmsg
  lsmsg=$(grep -m1 '^Error' "$o/ls.log" || echo "exit 0")
  if [ "$DBS_LTX_COMPARE" != 1 ]; then
    ok "$name: litestream $lsgot ($lsmsg)"
    return 0
  fi
  run "$DBSETUP" restore -o "$o/dbs/db" "$@" "$LTX_URL" </dev/null >"$o/dbs.log" 2>&1
  cmd=$(printf '%q ' "$DBSETUP" restore -o OUT "$@" "$LTX_URL")
  if [ "$rc" -ne 65 ]; then
    ltx_disagree "$name" "$cmd" "dbsetup exits $rc, expected 65 (litestream $lsgot: $lsmsg): $(tail -1 "$o/dbs.log")"
  elif [ -n "$(ls -A "$o/dbs")" ]; then
    ltx_disagree "$name" "$cmd" "dbsetup exits 65 but left: $(ls -A "$o/dbs" | tr '\n' ' ')"
  elif ! grep -qiF -- "$needle" "$o/dbs.log"; then
    ltx_disagree "$name" "$cmd" "dbsetup exits 65 without naming '$needle': $(tail -1 "$o/dbs.log")"
  else
    ok "$name: dbsetup 65, nothing placed; litestream $lsgot ($lsmsg)"
  fi
}
# flip LEVEL NAME: flips one bit in the middle of the compressed data of
# the file's largest page (when that page is incompressible, as random
# blobs are, its middle is a run of literals: LZ4 still decodes it and only
# the file checksum finds the change; elsewhere LZ4 itself may fail).
flip() {
  local f pg off sz pos b
  f=$(ltx_obj "$1" "$2")
  read -r pg off sz < <("$FORGE" index "$f" | sort -k3 -n | tail -1)
  pos=$((off + 10 + (sz - 10) / 2))
  b=$(od -An -tu1 -j "$pos" -N1 "$f" | tr -d ' ')
  printf "\\x$(printf %02x $((b ^ 16)))" | dd of="$f" bs=1 seek="$pos" conv=notrunc status=none
}

fresh; flip 9 "$SNAP"
corrupt "flipped bit in page data of the newest snapshot" refuses "$SNAP"
assert_contains "$T/c$n/ls.log" "file checksum mismatch" "the flipped bit decodes: only the checksum catches it"
fresh; flip 0 "${TAIL[-1]}"
corrupt "flipped bit in page data of the newest L0" refuses "${TAIL[-1]}"

fresh; truncate -s -7 "$(ltx_obj 0 "${TAIL[-1]}")"
corrupt "L0 file 7 bytes short" refuses "${TAIL[-1]}"
fresh; truncate -s 60 "$(ltx_obj 9 "$SNAP")"
corrupt "snapshot cut to 60 bytes" refuses "$SNAP"

gap=${TAIL[1]}
fresh; rm "$(ltx_obj 0 "$gap")"
corrupt "missing L0 $gap (gap), latest" refuses "${gap:0:16}"
corrupt "missing L0 $gap (gap), -txid past it" refuses "${gap:0:16}" -txid "${TAIL[-1]:17:16}"
# (the newest file's own time: past every other file, and inside the
# replica's time bounds, which litestream checks for a URL)
t0=$("$FORGE" info "$(ltx_obj 0 "${TAIL[-1]}")" | sed 's/.*timestamp=\([0-9]*\).*/\1/')
ts=$(date -u -d "@$((t0 / 1000)).$(printf %03d $((t0 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
corrupt "missing L0 $gap (gap), -timestamp past it" accepts "${gap:0:16}" -timestamp "$ts"

fresh; head -c 5000 /dev/urandom >"$(ltx_obj 0 "$NEXT-$NEXT.ltx")"
corrupt "junk L0 file $NEXT-$NEXT.ltx" refuses "$NEXT-$NEXT.ltx"

sqlite3 "$T/p1k.db" "PRAGMA page_size=1024; CREATE TABLE x(a); INSERT INTO x VALUES(randomblob(3000));"
fresh; "$FORGE" encode --min "$NEXT" --max "$NEXT" "$T/p1k.db" "$(ltx_obj 0 "$NEXT-$NEXT.ltx")"
corrupt "L0 file of page size 1024 in a 4096 replica" refuses "page size"

fresh; "$FORGE" v1 --flags 3 --min "$NEXT" --max "$NEXT" "$T/latest.db" "$(ltx_obj 0 "$NEXT-$NEXT.ltx")"
corrupt "legacy v1 L0 file (flags 0x3)" refuses "$NEXT-$NEXT.ltx"
fresh; "$FORGE" v1 --flags 1 --min 1 --max "$NEXT" "$T/latest.db" "$(ltx_obj 9 "0000000000000001-$NEXT.ltx")"
corrupt "legacy v1 snapshot (flags 0x1)" refuses "0000000000000001-$NEXT.ltx"

# Controls: the same kind of forged file, valid, is restored by both.
cp "$T/latest.db" "$T/changed.db"
sqlite3 "$T/changed.db" "CREATE TABLE forged(a); INSERT INTO forged SELECT randomblob(5000) FROM generate_series(1, 4);"
want=$(digest "$T/changed.db")
for enc in block frame; do
  fresh; "$FORGE" encode --encoding "$enc" --min "$NEXT" --max "$NEXT" "$T/changed.db" "$(ltx_obj 0 "$NEXT-$NEXT.ltx")"
  LTX_WANT=$want
  ltx_compare "control: valid forged L0 file ($enc pages)" "$LTX_URL"
done
[ -n "$(ls "$T/cmp/$LTX_N/ls/db")" ] && cmp -s "$T/cmp/$LTX_N/ls/db" "$T/changed.db" ||
  fail "litestream's restore of the forged L0 file is not the database it was made from"
ltx_report 2
done_testing
