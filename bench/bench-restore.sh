#!/usr/bin/env bash
# Benchmark: `dbsetup restore` vs `litestream restore` (v0.3.13) on file
# replicas that litestream itself wrote, plus the floor. Reports wall time
# and peak RSS (/usr/bin/time -v), medians of RUNS rounds, and the ratios,
# all measured in the same run.
#
#   DBSETUP=build/dbsetup LITESTREAM=/work/peers/litestream \
#     LZ4_FLOOR=build/test/tools/lz4-floor RUNS=5 bench/bench-restore.sh
#
# dbsetup is measured twice: with the default --verify quick (a
# PRAGMA quick_check before the rename) and with --verify none, which does
# the same work as litestream (litestream verifies nothing).
#
# The floor is test/tools/lz4-floor: the snapshot and every WAL segment the
# restore reads, decoded with liblz4 (LZ4F_decompress, content checksum
# checked) through 128 KiB buffers into one file, then one fsync: the least
# work any restore of these objects must do. `lz4 -d` (the CLI, 64 KiB
# stdio writes) is reported beside it for reference only.
#
# Fairness: each round runs every command once, in an order that changes
# from round to round (rounds in bench/lib.sh); before each command its
# output is removed and `sync` run (untimed), so no command pays for the
# writeback of the previous one. The inputs stay in the page cache for
# all. The load average is printed before and after.
#
# Sizes (env): WAL_DB_MB (100) with WAL_INDEXES (500) WAL indexes on top of
# its snapshot; SNAP_DB_MB (1024) for the snapshot-only case; RUNS (3, the
# median is reported); CASES ("wal snap") picks the cases; KEEP=1 keeps
# the scratch directory.
set -euo pipefail
DBSETUP=${DBSETUP:-build/dbsetup}
LITESTREAM=${LITESTREAM:-${DBS_PEERS:-/work/peers}/litestream}
LZ4_FLOOR=${LZ4_FLOOR:-$(dirname "$DBSETUP")/test/tools/lz4-floor}
WAL_DB_MB=${WAL_DB_MB:-100}
WAL_INDEXES=${WAL_INDEXES:-500}
SNAP_DB_MB=${SNAP_DB_MB:-1024}
RUNS=${RUNS:-3}
CASES=${CASES:-wal snap}
W=$(mktemp -d "${TMPDIR:-/tmp}/dbs-bench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/lib.sh"

# replicate DIR NINDEXES: runs litestream on DIR/db with a file replica,
# making NINDEXES WAL indexes (a RESTART checkpoint after each write).
replicate() {
  local d=$1 n=$2 lp
  cat >"$d/ls.yml" <<YML
dbs:
  - path: $d/db
    monitor-interval: 20ms
    min-checkpoint-page-count: 2
    max-checkpoint-page-count: 8
    replicas:
      - type: file
        path: $d/replica
        sync-interval: 20ms
YML
  "$LITESTREAM" replicate -config "$d/ls.yml" >"$d/ls.log" 2>&1 &
  lp=$!
  until ls "$d"/replica/generations/*/snapshots/*.lz4 >/dev/null 2>&1; do sleep 0.1; done
  writes "$d/db" "$n" 0.05
  sleep 1
  kill -INT "$lp"; wait "$lp" || true
}

# objects DIR: the snapshot and WAL segments a restore of DIR's latest
# generation reads, in order.
objects() {
  local d=$1 G s i f
  # shellcheck disable=SC2012
  G=$d/replica/generations/$(ls -t "$d/replica/generations" | head -1)
  # shellcheck disable=SC2012
  s=$(ls "$G/snapshots" | tail -1)
  echo "$G/snapshots/$s"
  i=${s%%.*}
  for f in "$G"/wal/*.lz4; do
    [ -e "$f" ] || continue
    f=${f##*/}
    [ "${f%%_*}" \< "$i" ] || echo "$G/wal/$f"
  done
}

run_case() {
  local name=$1 d=$2
  local objs bytes
  objs=$(find "$d/replica" -name '*.lz4' | wc -l)
  bytes=$(du -sb "$d/replica" | cut -f1)
  echo "$name: $(du -m "$d/db" | cut -f1) MB database, $objs objects, $((bytes / 1024 / 1024)) MB compressed"
  objects "$d" >"$W/objects"
  cat >"$W/lz4cli.sh" <<SH
set -e
while read -r f; do lz4 -dc "\$f"; done <"$W/objects" >"$W/out/floor"
sync "$W/out/floor"
SH
  LABELS=("dbsetup (verify quick)" "dbsetup (verify none)" "litestream restore"
          "floor: lz4-floor" "lz4 -d CLI + fsync")
  WALLS=("" "" "" "" ""); RSSS=("" "" "" "" "")
  run_cmd() {
    case $1 in
      0) time_one 0 "$DBSETUP" restore -o "$W/out/db" "file://$d/replica" ;;
      1) time_one 1 "$DBSETUP" restore --verify none -o "$W/out/db" "file://$d/replica" ;;
      2) time_one 2 "$LITESTREAM" restore -o "$W/out/db" "file://$d/replica" ;;
      # shellcheck disable=SC2046
      3) time_one 3 "$LZ4_FLOOR" "$W/out/floor" $(cat "$W/objects") ;;
      4) time_one 4 bash "$W/lz4cli.sh" ;;
    esac
  }
  measure 5
  vs_peer litestream
}

echo "# dbsetup restore benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, RUNS=$RUNS (median)"
echo "# $(uname -r), scratch on $(df -T "$W" | awk 'NR==2 {print $2}'), $("$LITESTREAM" version 2>/dev/null | head -1 || echo litestream)"
case " $CASES " in *" wal "*)
  mkdir -p "$W/wal"
  fill "$W/wal/db" "$WAL_DB_MB"
  replicate "$W/wal" "$WAL_INDEXES"
  run_case "WAL case (${WAL_DB_MB} MB, ${WAL_INDEXES} writes)" "$W/wal" ;;
esac
case " $CASES " in *" snap "*)
  mkdir -p "$W/snap"
  fill "$W/snap/db" "$SNAP_DB_MB"
  replicate "$W/snap" 0
  run_case "snapshot-only case (${SNAP_DB_MB} MB)" "$W/snap" ;;
esac
