#!/usr/bin/env bash
# Benchmark: `dbsetup restore` vs `litestream restore` 0.5 on file replicas
# that litestream 0.5 itself wrote (LTX), plus the floor. Wall time and peak
# RSS (/usr/bin/time -v), medians of RUNS rounds, and the ratios, all
# measured in the same run (bench/lib.sh: fill, time_one, rounds, report).
#
#   DBSETUP=build/dbsetup LITESTREAM05=.peers/litestream05 \
#     LTX_FLOOR=build/test/tools/ltx-floor RUNS=3 bench/bench-restore-ltx.sh
#
# dbsetup runs with the default --verify quick (a PRAGMA quick_check before
# the rename) and with --verify none, which does what litestream 0.5's
# restore does by default (-integrity-check none).
#
# The floor is test/tools/ltx-floor: the files of the restore plan (from
# `dbsetup restore -dry-run`) decoded in order by the same LTX decoder
# (checksums checked), pages written at their offsets, one fsync: the
# least work any restore of these files has to do.
#
# Sizes (env): MANY_DB_MB (100) with MANY_WRITES (500) writes replicated
# at a 20 ms sync interval (many L0 files, L1 compactions on 30 s
# boundaries); SNAP_DB_MB (1024) for the snapshot-only case; RUNS (3);
# CASES ("many snap"; "s3many" is the many-files case replicated to the
# patched s3rver, both restores in config mode; its floor decodes
# s3rver's stored files, no transfer); KEEP=1 keeps the scratch directory.
set -euo pipefail
DBSETUP=${DBSETUP:-build/dbsetup}
LITESTREAM05=${LITESTREAM05:-${DBS_PEERS:-.peers}/litestream05}
LTX_FLOOR=${LTX_FLOOR:-$(dirname "$DBSETUP")/test/tools/ltx-floor}
MANY_DB_MB=${MANY_DB_MB:-100}
MANY_WRITES=${MANY_WRITES:-500}
SNAP_DB_MB=${SNAP_DB_MB:-1024}
RUNS=${RUNS:-3}
CASES=${CASES:-many snap}
W=$(mktemp -d "${TMPDIR:-/tmp}/dbs-bench.XXXXXX")
S3PID=
finish() {
  [ -z "$S3PID" ] || { kill "$S3PID" 2>/dev/null; wait "$S3PID" 2>/dev/null || true; }
  [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap finish EXIT
. "$(dirname "$0")/lib.sh"

# replicate DIR NWRITES: litestream 0.5 on DIR/db with a file replica (or
# S3 with $EP set) while NWRITES writes happen; stopped with SIGTERM.
replicate() {
  local d=$1 n=$2 lp replica
  replica="      - type: file
        path: $d/replica"
  [ -z "${EP:-}" ] || replica="      - type: s3
        bucket: bench
        path: $(basename "$d")
        endpoint: $EP
        region: us-east-1
        force-path-style: true"
  cat >"$d/ls.yml" <<YML
dbs:
  - path: $d/db
    monitor-interval: 20ms
    replicas:
$replica
        sync-interval: 20ms
YML
  env -u AWS_CA_BUNDLE "$LITESTREAM05" replicate -config "$d/ls.yml" >"$d/ls.log" 2>&1 &
  lp=$!
  until [ -n "$(find "$d/replica" "$W/s3/bench/$(basename "$d")" -name '*.ltx*' 2>/dev/null || true)" ]; do
    sleep 0.1
  done
  writes "$d/db" "$n" 0.03
  sleep 1
  kill -TERM "$lp"; wait "$lp" || true
}

run_case() {
  local name=$1 d=$2 files bytes src
  src=("file://$d/replica")
  [ -z "${EP:-}" ] || src=(-config "$d/ls.yml" "$d/db")
  if [ -z "${EP:-}" ]; then
    "$DBSETUP" restore -dry-run -o "$W/plan.db" "${src[@]}" |
      awk -v r="$d/replica/ltx" '$1 ~ /^[0-9]$/ {print r "/" $1 "/" $2}' >"$W/objects"
    files=$(find "$d/replica" -name '*.ltx' | wc -l)
    bytes=$(du -sb "$d/replica" | cut -f1)
  else
    "$DBSETUP" restore -dry-run -o "$W/plan.db" "${src[@]}" |
      awk -v r="$W/s3/bench/$(basename "$d")" '$1 ~ /^[0-9]$/ {printf "%s/%04x/%s._S3rver_object\n", r, $1, $2}' >"$W/objects"
    files=$(find "$W/s3/bench/$(basename "$d")" -name '*.ltx._S3rver_object' | wc -l)
    bytes=$(du -sb "$W/s3/bench/$(basename "$d")" | cut -f1)
  fi
  echo "$name: $(du -m "$d/db" | cut -f1) MB database, $files LTX files ($((bytes / 1024 / 1024)) MB), plan of $(wc -l <"$W/objects") files"
  LABELS=("dbsetup (verify quick)" "dbsetup (verify none)" "litestream 0.5 restore" "floor: ltx-floor")
  WALLS=("" "" "" ""); RSSS=("" "" "" "")
  run_cmd() {
    case $1 in
      0) time_one 0 "$DBSETUP" restore -o "$W/out/db" "${src[@]}" ;;
      1) time_one 1 "$DBSETUP" restore --verify none -o "$W/out/db" "${src[@]}" ;;
      2) time_one 2 env -u AWS_CA_BUNDLE "$LITESTREAM05" restore -o "$W/out/db" "${src[@]}" ;;
      # shellcheck disable=SC2046
      3) time_one 3 "$LTX_FLOOR" "$W/out/floor" $(cat "$W/objects") ;;
    esac
  }
  measure 4
  vs_peer "litestream 0.5"
}

echo "# dbsetup LTX restore benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, RUNS=$RUNS (median)"
echo "# $(uname -r), scratch on $(df -T "$W" | awk 'NR==2 {print $2}'), litestream $("$LITESTREAM05" version 2>/dev/null | head -1)"
case " $CASES " in *" many "*)
  mkdir -p "$W/many"
  fill "$W/many/db" "$MANY_DB_MB"
  replicate "$W/many" "$MANY_WRITES"
  run_case "many-files case (${MANY_DB_MB} MB, ${MANY_WRITES} writes)" "$W/many" ;;
esac
case " $CASES " in *" snap "*)
  mkdir -p "$W/snap"
  fill "$W/snap/db" "$SNAP_DB_MB"
  replicate "$W/snap" 0
  run_case "snapshot-only case (${SNAP_DB_MB} MB)" "$W/snap" ;;
esac
case " $CASES " in *" s3many "*)
  start_s3rver
  mkdir -p "$W/s3many"
  fill "$W/s3many/db" "$MANY_DB_MB"
  replicate "$W/s3many" "$MANY_WRITES"
  sleep 1
  run_case "S3 many-files case (${MANY_DB_MB} MB, ${MANY_WRITES} writes)" "$W/s3many" ;;
esac
