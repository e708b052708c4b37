#!/usr/bin/env bash
# Benchmark: the native restore over S3 vs `litestream restore` (v0.3.13),
# both from the same replica that litestream wrote to the patched s3rver
# on 127.0.0.1, plus the floor (lz4 -d of the same objects, read from
# s3rver's store, into a file + fsync) and the transfer floor (curl
# receiving the same objects from the same s3rver). Wall time and peak RSS
# (/usr/bin/time -v), ratios measured in the same run.
#
#   DBS_PEERS=/work/peers bench/bench-restore-s3.sh
#
# The native side is `dbsetup restore -config`. The commands run in
# interleaved rounds whose order changes; before each, its output is
# removed and `sync` run (untimed). Sizes (env): WAL_DB_MB (100) with
# WAL_INDEXES (500) writes; SNAP_DB_MB (1024); RUNS (3, median); KEEP=1.
# s3rver (node) serves every byte, so it bounds both sides alike.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
DBS_PEERS=${DBS_PEERS:-$root/.peers}
DBSETUP=${DBSETUP:-$root/build/dbsetup}
LITESTREAM=${LITESTREAM:-$DBS_PEERS/litestream}
WAL_DB_MB=${WAL_DB_MB:-100}
WAL_INDEXES=${WAL_INDEXES:-500}
SNAP_DB_MB=${SNAP_DB_MB:-1024}
RUNS=${RUNS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/dbs-bench-s3.XXXXXX")
S3PID=
finish() {
  [ -z "$S3PID" ] || { kill "$S3PID" 2>/dev/null; wait "$S3PID" 2>/dev/null || true; }
  [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap finish EXIT
. "$(dirname "$0")/lib.sh"

export AWS_ACCESS_KEY_ID=AKIADBSBENCH00000001 AWS_SECRET_ACCESS_KEY=dbs-bench-secret-value-0123456789
DBS_S3RVER_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID DBS_S3RVER_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  node "$DBS_PEERS/s3rver/node_modules/s3rver/bin/s3rver.js" -s -d "$W/s3" -a 127.0.0.1 -p 0 \
  --configure-bucket bench >"$W/s3.log" 2>&1 &
S3PID=$!
until grep -q "S3rver listening on" "$W/s3.log"; do sleep 0.1; done
EP=http://127.0.0.1:$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$W/s3.log")

# replicate DIR NWRITES: litestream to s3://bench/DIRNAME, one WAL index per write.
replicate() {
  local d=$1 n=$2 lp i
  cat >"$d/ls.yml" <<YML
dbs:
  - path: $d/db
    monitor-interval: 20ms
    min-checkpoint-page-count: 2
    max-checkpoint-page-count: 8
    replicas:
      - type: s3
        bucket: bench
        path: $(basename "$d")
        endpoint: $EP
        region: us-east-1
        force-path-style: true
        sync-interval: 20ms
YML
  "$LITESTREAM" replicate -config "$d/ls.yml" >"$d/ls.log" 2>&1 &
  lp=$!
  until ls "$W/s3/bench/$(basename "$d")"/generations/*/snapshots/*.lz4._S3rver_object >/dev/null 2>&1; do sleep 0.1; done
  for i in $(seq 1 "$n"); do
    sqlite3 -cmd ".timeout 5000" "$d/db" "UPDATE t SET v = hex(randomblob(1000)) WHERE id % 977 = $i % 977;
      INSERT INTO t(v) VALUES (hex(randomblob(1000)));" >/dev/null
    sleep 0.05
  done
  sleep 1
  kill -INT "$lp"; wait "$lp" || true
}

floor_cmd() { # DIR: lz4 -d of the latest snapshot and later WAL segments + fsync
  local G
  G=$(ls -td "$W/s3/bench/$(basename "$1")"/generations/* | head -1)
  cat >"$W/floor.sh" <<SH
set -e
s=\$(ls "$G/snapshots" | grep '_S3rver_object\$' | tail -1)
{ lz4 -dc "$G/snapshots/\$s"; i=\${s%%.*}
  for f in \$(ls "$G/wal" 2>/dev/null | grep '_S3rver_object\$'); do [ "\${f%%_*}" \\< "\$i" ] || lz4 -dc "$G/wal/\$f"; done
} >"$W/out/floor"
sync "$W/out/floor"
SH
  echo bash "$W/floor.sh"
}

# curl_cmd DIR: the transfer floor: curl (libcurl + OpenSSL, as dbsetup)
# downloading the same objects as the floor above from the same s3rver, to
# /dev/null, signed (SigV4), 8 at a time like dbsetup's default
# --parallelism. No decoding, no writing: the least any client of this
# server spends receiving them.
curl_cmd() {
  local G rel s i f
  G=$(ls -td "$W/s3/bench/$(basename "$1")"/generations/* | head -1)
  rel=${G#"$W/s3/bench/"}
  s=$(ls "$G/snapshots" | grep '_S3rver_object$' | tail -1)
  i=${s%%.*}
  {
    printf 'url = "%s/bench/%s/snapshots/%s"\noutput = "/dev/null"\n' "$EP" "$rel" "${s%._S3rver_object}"
    for f in $(ls "$G/wal" 2>/dev/null | grep '_S3rver_object$'); do
      [ "${f%%_*}" \< "$i" ] ||
        printf 'url = "%s/bench/%s/wal/%s"\noutput = "/dev/null"\n' "$EP" "$rel" "${f%._S3rver_object}"
    done
  } >"$W/curl.cfg"
  echo curl -sf -Z --parallel-max 8 --aws-sigv4 aws:amz:us-east-1:s3 \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H x-amz-content-sha256:UNSIGNED-PAYLOAD -K "$W/curl.cfg"
}

run_case() {
  local name=$1 d=$2 objs
  objs=$(find "$W/s3/bench/$(basename "$d")" -name '*.lz4._S3rver_object' | wc -l)
  echo "$name: $(du -m "$d/db" | cut -f1) MB database, $objs objects"
  local -a c0 c1 c2 c3
  c0=("$DBSETUP" restore -config "$d/ls.yml" -o "$W/out/db" "$d/db")
  c1=("$LITESTREAM" restore -config "$d/ls.yml" -o "$W/out/db" "$d/db")
  read -ra c2 <<<"$(floor_cmd "$d")"
  read -ra c3 <<<"$(curl_cmd "$d")"
  LABELS=("dbsetup restore" "litestream restore" "floor (lz4 -d + fsync)" "transfer floor (curl)")
  WALLS=("" "" "" ""); RSSS=("" "" "" "")
  run_cmd() {
    case $1 in
      0) time_one 0 "${c0[@]}" ;;
      1) time_one 1 "${c1[@]}" ;;
      2) time_one 2 "${c2[@]}" ;;
      3) time_one 3 "${c3[@]}" ;;
    esac
  }
  rounds 4 # in a changing order: see bench/lib.sh
  report 4
  awk -v dw="${MW[0]}" -v lw="${MW[1]}" -v dr="${MR[0]}" -v lr="${MR[1]}" -v fw="${MW[2]}" -v cw="${MW[3]}" -v cr="${MR[3]}" 'BEGIN {
    printf "  speedup vs litestream %.2fx (target >= 2), RSS %.2f of litestream (target <= 0.25), %.2fx the floor (target <= 1.5)\n",
      lw / dw, dr / lr, dw / fw
    printf "  %.2fx the transfer floor; %.2fx max(floor, transfer floor); curl alone peaks at %.2f of litestream'"'"'s RSS\n",
      dw / cw, dw / (fw > cw ? fw : cw), cr / lr }'
}

echo "# S3 restore benchmark (s3rver on 127.0.0.1), $(date -u +%FT%TZ), $(nproc) CPUs, RUNS=$RUNS (median)"
mkdir -p "$W/wal" "$W/snap"
fill "$W/wal/db" "$WAL_DB_MB"
replicate "$W/wal" "$WAL_INDEXES"
run_case "WAL case (${WAL_DB_MB} MB, ${WAL_INDEXES} writes)" "$W/wal"
fill "$W/snap/db" "$SNAP_DB_MB"
replicate "$W/snap" 0
run_case "snapshot-only case (${SNAP_DB_MB} MB)" "$W/snap"
