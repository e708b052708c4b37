#!/usr/bin/env bash
# ctest-labels: integration;ltx;s3
# ctest-timeout: 300
# ltx_equiv over S3: real `litestream replicate` v0.5.18 writes to the
# verifying s3rver (keys <path>/0000/..., <path>/0009/...), with L0 files
# removed 2 s after compaction, so that most TXIDs are gone and only level
# boundaries restore by -txid. dbsetup restore equals litestream restore
# 0.5 at latest, at every recorded TXID and level boundary and at points in
# time (litestream-timestamp metadata), through the URL s3://BUCKET.localhost:PORT/PATH,
# the URL with ?endpoint= options and litestream.yml: byte-identical, or both refuse
# (dbsetup: 1 for no such backup, 65 otherwise, nothing at the target).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
. "$(dirname "$0")/ltx_lib.sh"
ltx_need "$LS05" v0.5.18
RANDOM=${DBS_LTX_SEED:-5019}
echo "seed ${DBS_LTX_SEED:-5019}"
s3_start

ltx_init s3 "$T/fx" app/db
ltx_yml "1s 2s 4s" 3s 2s
ltx_start
wait_for 20 _ltx_l0_gt 0 || fail "litestream wrote no L0 file"
ltx_workload 28
ltx_finish
ltx_inventory
ok "replica written: $(wc -l <"$LTX_D/points") points, $(grep -c restart "$LTX_D/steps.log" || true) restarts"

ltx_equiv_cases "$LTX_URL"
# The other ways to name the replica: litestream 0.5's URL query options,
# litestream.yml in 0.5 syntax (replica:) and with a one-entry replicas:.
last=$(tail -1 "$LTX_D/points" | cut -d' ' -f4)
mid=$(sed -n 10p "$LTX_D/points")
LTX_WANT=$last
ltx_compare "URL with ?endpoint=&region=&forcePathStyle=: latest" "$LTX_URLQ"
LTX_WANT=$last
ltx_compare "config (replica:): latest" -config "$LTX_YML" "$LTX_DB"
ltx_compare "config (replica:): -timestamp an hour ahead" -timestamp "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" -config "$LTX_YML" "$LTX_DB"
awk '/^    replica:$/ {print "    replicas:"; r = 1; next}
  r && /^      [a-z]/ && !d {sub(/^      /, "      - "); d = 1; print; next}
  r && /^      [a-z]/ {sub(/^      /, "        ")} {print}' "$LTX_YML" >"$T/replicas.yml"
grep -q -- '- type: s3' "$T/replicas.yml" || fail "replicas.yml: $(cat "$T/replicas.yml")"
LTX_WANT=$last
ltx_compare "config (one-entry replicas:): latest" -config "$T/replicas.yml" "$LTX_DB"
LTX_WANT=$(echo "$mid" | cut -d' ' -f4)
ltx_compare "config (one-entry replicas:): -txid $(echo "$mid" | cut -d' ' -f2)" -txid "$(echo "$mid" | cut -d' ' -f2)" -config "$T/replicas.yml" "$LTX_DB"
ltx_report 60
done_testing
