#!/usr/bin/env bash
# ctest-labels: integration;ltx
# ctest-timeout: 300
# dbsetup restore equals litestream restore 0.5 on a file replica that real
# `litestream replicate` v0.5.18 wrote (L0, L1-L3 and L9 files, restarts,
# a seeded random workload with overflow pages, schema changes, VACUUM,
# checkpoints, growth and shrink): at latest, at every TXID the workload
# reached and every level boundary, and at points in time between the
# steps. Byte-identical output (cmp), or both refuse (dbsetup: 1 for no
# such backup, 65 otherwise, nothing left at the target). See ltx_lib.sh
# for DBS_LTX_COMPARE=0 (litestream's side alone) and DBS_LTX_SEED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ltx_lib.sh"
ltx_need "$LS05" v0.5.18
RANDOM=${DBS_LTX_SEED:-5018}
echo "seed ${DBS_LTX_SEED:-5018}"

ltx_init file "$T/fx"
ltx_yml
ltx_start
wait_for 20 _ltx_l0_gt 0 || fail "litestream wrote no L0 file"
ltx_workload 36
ltx_finish
ltx_inventory
ok "replica written: $(wc -l <"$LTX_D/points") points, $(grep -c restart "$LTX_D/steps.log" || true) restarts"

ltx_equiv_cases "$LTX_URL"
# The same source given as litestream.yml and the database path.
LTX_WANT=$(tail -1 "$LTX_D/points" | cut -d' ' -f4)
ltx_compare "config: latest" -config "$LTX_YML" "$LTX_DB"
mid=$(sed -n "$(($(wc -l <"$LTX_D/points") / 2))p" "$LTX_D/points")
LTX_WANT=$(echo "$mid" | cut -d' ' -f4)
ltx_compare "config: -txid $(echo "$mid" | cut -d' ' -f2)" -txid "$(echo "$mid" | cut -d' ' -f2)" -config "$LTX_YML" "$LTX_DB"
# Config mode does not check the time bounds: an hour ahead is latest.
ltx_compare "config: -timestamp an hour ahead" -timestamp "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" -config "$LTX_YML" "$LTX_DB"
# Double-dash flags, as dbsetup's own.
ltx_compare "--txid (double dash)" --txid "$(echo "$mid" | cut -d' ' -f2)" "$LTX_URL"
ltx_report 60
done_testing
