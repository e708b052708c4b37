#!/usr/bin/env bash
# Benchmark: the native restore over S3 vs `litestream restore` (v0.3.13),
# both from the same replica that litestream wrote to the patched s3rver
# on 127.0.0.1 and, the same objects copied there, to MinIO on 127.0.0.1
# ($DBS_PEERS/minio), plus the floor (lz4 -d of the same objects, read from
# s3rver's store, into a file + fsync) and per server the transfer floor
# (curl receiving the same objects from that server). Wall time and peak
# RSS (/usr/bin/time -v), ratios measured in the same run.
#
#   DBS_PEERS=/work/peers bench/bench-restore-s3.sh
#
# The native side is `dbsetup restore -config`. The commands run in
# interleaved rounds whose order changes; before each, its output is
# removed and `sync` run (untimed). Sizes (env): WAL_DB_MB (100) with
# WAL_INDEXES (500) writes; SNAP_DB_MB (1024); RUNS (3, median); KEEP=1;
# SERVERS ("s3rver minio"; "s3rver" alone without MinIO). Each server
# serves every byte, so it bounds both sides alike.
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
SERVERS=${SERVERS:-s3rver minio}
S3PID= MINIOPID=
finish() {
  [ -z "$S3PID" ] || { kill "$S3PID" 2>/dev/null; wait "$S3PID" 2>/dev/null || true; }
  [ -z "$MINIOPID" ] || { kill "$MINIOPID" 2>/dev/null; wait "$MINIOPID" 2>/dev/null || true; }
  [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap finish EXIT
. "$(dirname "$0")/lib.sh"

start_s3rver
SIGN=(--aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H x-amz-content-sha256:UNSIGNED-PAYLOAD)
MEP=
if [[ " $SERVERS " == *" minio "* ]]; then
  [ -x "$DBS_PEERS/minio" ] || { echo "bench: $DBS_PEERS/minio missing (scripts/peers.sh, or SERVERS=s3rver)" >&2; exit 1; }
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  cport=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY MINIO_BROWSER=off \
    MINIO_UPDATE=off HOME=$W "$DBS_PEERS/minio" server --quiet --address "127.0.0.1:$port" \
    --console-address "127.0.0.1:$cport" "$W/minio" >"$W/minio.log" 2>&1 &
  MINIOPID=$!
  MEP=http://127.0.0.1:$port
  until curl -sf -o /dev/null "${SIGN[@]}" -X PUT "$MEP/bench"; do sleep 0.1; done
fi

# mirror DIR: the objects litestream wrote to s3rver, PUT to MinIO under
# the same keys (same replica, second server).
mirror() {
  [ -n "$MEP" ] || return 0
  local f key
  find "$W/s3/bench/$(basename "$1")" -name '*._S3rver_object' | while read -r f; do
    key=${f#"$W/s3/bench/"}
    printf 'upload-file = "%s"\nurl = "%s/bench/%s"\noutput = "/dev/null"\n' \
      "$f" "$MEP" "${key%._S3rver_object}"
  done >"$W/put.cfg"
  curl -sf -Z --parallel-max 8 "${SIGN[@]}" -K "$W/put.cfg" 2>"$W/put.err" || { cat "$W/put.err" >&2; exit 1; }
  sed "s|endpoint: $EP|endpoint: $MEP|" "$1/ls.yml" >"$1/ls-minio.yml"
}

# replicate DIR NWRITES: litestream to s3://bench/DIRNAME, one WAL index per write.
replicate() {
  local d=$1 n=$2 lp
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
  writes "$d/db" "$n" 0.05
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

# curl_cmd DIR ENDPOINT: the transfer floor: curl (libcurl + OpenSSL, as
# dbsetup) downloading the same objects as the floor above from the server
# at ENDPOINT, to /dev/null, signed (SigV4), 8 at a time like dbsetup's
# default --parallelism. No decoding, no writing: the least any client of
# this server spends receiving them.
curl_cmd() {
  local G rel s i f EP=$2 cfg=$W/curl-${2##*:}.cfg
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
  } >"$cfg"
  echo curl -sf -Z --parallel-max 8 --aws-sigv4 aws:amz:us-east-1:s3 \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H x-amz-content-sha256:UNSIGNED-PAYLOAD -K "$cfg"
}

run_case() {
  local name=$1 d=$2 objs n=4
  objs=$(find "$W/s3/bench/$(basename "$d")" -name '*.lz4._S3rver_object' | wc -l)
  echo "$name: $(du -m "$d/db" | cut -f1) MB database, $objs objects"
  local -a c0 c1 c2 c3 c4 c5 c6 c7
  c0=("$DBSETUP" restore -config "$d/ls.yml" -o "$W/out/db" "$d/db")
  c1=("$LITESTREAM" restore -config "$d/ls.yml" -o "$W/out/db" "$d/db")
  read -ra c2 <<<"$(floor_cmd "$d")"
  read -ra c3 <<<"$(curl_cmd "$d" "$EP")"
  LABELS=("dbsetup restore, s3rver" "litestream restore, s3rver" "floor (lz4 -d + fsync)"
    "transfer floor, s3rver")
  if [ -n "$MEP" ]; then
    n=8
    c4=("$DBSETUP" restore -config "$d/ls-minio.yml" -o "$W/out/db" "$d/db")
    c5=("$LITESTREAM" restore -config "$d/ls-minio.yml" -o "$W/out/db" "$d/db")
    read -ra c6 <<<"$(curl_cmd "$d" "$MEP")"
    c7=("$DBSETUP" restore --verify none -config "$d/ls-minio.yml" -o "$W/out/db" "$d/db")
    LABELS+=("dbsetup restore, MinIO" "litestream restore, MinIO" "transfer floor, MinIO"
      "dbsetup --verify none, MinIO")
  fi
  WALLS=("" "" "" "" "" "" "" ""); RSSS=("" "" "" "" "" "" "" "")
  run_cmd() {
    case $1 in
      0) time_one 0 "${c0[@]}" ;;
      1) time_one 1 "${c1[@]}" ;;
      2) time_one 2 "${c2[@]}" ;;
      3) time_one 3 "${c3[@]}" ;;
      4) time_one 4 "${c4[@]}" ;;
      5) time_one 5 "${c5[@]}" ;;
      6) time_one 6 "${c6[@]}" ;;
      7) time_one 7 "${c7[@]}" ;;
    esac
  }
  rounds "$n" # in a changing order: see bench/lib.sh
  report "$n"
  ratios() { # server dbsetup litestream transfer-floor (command numbers)
    awk -v sv="$1" -v dw="${MW[$2]}" -v lw="${MW[$3]}" -v dr="${MR[$2]}" -v lr="${MR[$3]}" \
      -v fw="${MW[2]}" -v cw="${MW[$4]}" -v cr="${MR[$4]}" 'BEGIN {
      printf "  %s: speedup vs litestream %.2fx (target >= 2), RSS %.2f of litestream (target <= 0.25), %.2fx the floor (target <= 1.5)\n",
        sv, lw / dw, dr / lr, dw / fw
      printf "  %s: %.2fx the transfer floor (target <= 1.2); %.2fx max(floor, transfer floor); curl alone peaks at %.2f of litestream'"'"'s RSS\n",
        sv, dw / cw, dw / (fw > cw ? fw : cw), cr / lr }'
  }
  ratios s3rver 0 1 3
  [ "$n" = 4 ] || {
    ratios MinIO 4 5 6
    ratios "MinIO, --verify none" 7 5 6
    awk -v d0="${MW[0]}" -v d1="${MW[4]}" -v l0="${MW[1]}" -v l1="${MW[5]}" -v c0="${MW[3]}" -v c1="${MW[6]}" 'BEGIN {
      printf "  MinIO vs s3rver (wall time): dbsetup %.2fx, litestream %.2fx, curl %.2fx\n", d0 / d1, l0 / l1, c0 / c1 }'
  }
}

echo "# S3 restore benchmark ($SERVERS on 127.0.0.1), $(date -u +%FT%TZ), $(nproc) CPUs, RUNS=$RUNS (median)"
mkdir -p "$W/wal" "$W/snap"
fill "$W/wal/db" "$WAL_DB_MB"
replicate "$W/wal" "$WAL_INDEXES"
mirror "$W/wal"
run_case "WAL case (${WAL_DB_MB} MB, ${WAL_INDEXES} writes)" "$W/wal"
fill "$W/snap/db" "$SNAP_DB_MB"
replicate "$W/snap" 0
mirror "$W/snap"
run_case "snapshot-only case (${SNAP_DB_MB} MB)" "$W/snap"
