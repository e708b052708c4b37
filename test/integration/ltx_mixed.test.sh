#!/usr/bin/env bash
# ctest-labels: integration;ltx
# ctest-timeout: 300
# One file replica written by litestream v0.5.15 (LZ4-frame pages), then by
# v0.5.18 (LZ4-block pages) at the same location with the same database:
# first with hour-long levels, so that its L0 files lie on top of 0.5.15's
# snapshot and levels (restores there read both encodings in one plan),
# then with short levels, so that it compacts 0.5.15's files with its own.
# dbsetup restore equals litestream restore 0.5.18 at latest, every TXID,
# level boundary and point in time (ltx_equiv_cases).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ltx_lib.sh"
ltx_need "$LS05" v0.5.18
ltx_need "$LS0515" v0.5.15
RANDOM=${DBS_LTX_SEED:-5015}
echo "seed ${DBS_LTX_SEED:-5015}"

ltx_init file "$T/fx"
ltx_yml
ltx_start "$LS0515"
wait_for 20 _ltx_l0_gt 0 || fail "litestream v0.5.15 wrote no L0 file"
ltx_workload 12
ltx_finish
p1=$(wc -l <"$LTX_D/points")
ok "v0.5.15 wrote $p1 points: $(ltx_inventory | tr '\n' ' ')"
# The two litestream versions agree on v0.5.15's own replica.
while read -r step txid ts dg op; do
  for v in 15 18; do
    b=$LS05; [ $v = 18 ] || b=$LS0515
    lsrun "$b" restore -o "$T/v$v-$txid.db" -txid "$txid" "$LTX_URL" >/dev/null 2>&1 ||
      fail "litestream v0.5.$v cannot restore -txid $txid of v0.5.15's replica"
  done
  cmp -s "$T/v15-$txid.db" "$T/v18-$txid.db" || fail "v0.5.15 and v0.5.18 restore -txid $txid differently"
done <"$LTX_D/points"
ok "litestream v0.5.15 and v0.5.18 restore v0.5.15's replica identically at all $p1 points"

ltx_yml 1h 1h
ltx_workload 8 "$LS05"
ltx_stop INT
p2=$(wc -l <"$LTX_D/points")
last2=$(sed -n "${p2}p" "$LTX_D/points" | cut -d' ' -f2)
ltx_yml
ltx_workload 8 "$LS05"
ltx_finish
ltx_inventory

# Both encodings are in the replica, and the points of the middle phase
# (but its last, where the last phase's first snapshot lies) restore from a
# v0.5.15 snapshot under v0.5.18 L0 files.
nframe=0 nblock=0
for l in 0 1 2 3 9; do
  for f in $(ltx_files "$l"); do
    case $(ltx_encoding "$l" "$f") in
      frame) nframe=$((nframe + 1)) ;;
      block) nblock=$((nblock + 1)) ;;
      *) fail "L$l $f: unknown page encoding" ;;
    esac
  done
done
[ "$nframe" -gt 0 ] && [ "$nblock" -gt 0 ] || fail "expected both encodings: $nframe frame, $nblock block files"
snap=$(ltx_files 9 | awk -v m="$last2" 'substr($0, 18, 16) < m' | tail -1)
assert_eq frame "$(ltx_encoding 9 "$snap")" "the snapshot under the middle phase ($snap)"
[ "$(ltx_encoding 0 "$(ltx_files 0 | awk -v m="$last2" 'substr($0, 18, 16) == m')")" = block ] ||
  fail "the middle phase's last L0 file is not block-encoded"
ok "$nframe frame-encoded and $nblock block-encoded files; snapshot $snap (frame) under block L0 files"

# v0.5.15 cannot read v0.5.18's pages (one-directional compatibility).
run lsrun "$LS0515" restore -o "$T/v15-latest.db" "$LTX_URL" >"$T/v15.log" 2>&1
[ "$rc" -ne 0 ] || fail "litestream v0.5.15 restored a replica with LZ4-block pages"
ok "litestream v0.5.15 refuses the mixed replica: $(grep -m1 '^Error' "$T/v15.log")"

ltx_equiv_cases "$LTX_URL"
ltx_report 60
done_testing
