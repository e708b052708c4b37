#!/usr/bin/env bash
# Benchmark: `dbsetup restore` vs `litestream restore` (v0.3.13) on file
# replicas that litestream itself wrote, plus the floor (lz4 -d of the same
# objects into a file + fsync). Reports wall time and peak RSS
# (/usr/bin/time -v) and the ratios, measured in the same run.
#
#   DBSETUP=build/dbsetup LITESTREAM=/work/peers/litestream bench/bench-restore.sh
#
# Sizes (env): WAL_DB_MB (100) with WAL_INDEXES (500) WAL indexes on top of
# its snapshot; SNAP_DB_MB (1024) for the snapshot-only case; RUNS (3, the
# median is reported); KEEP=1 keeps the scratch directory.
set -euo pipefail
DBSETUP=${DBSETUP:-build/dbsetup}
LITESTREAM=${LITESTREAM:-${DBS_PEERS:-/work/peers}/litestream}
WAL_DB_MB=${WAL_DB_MB:-100}
WAL_INDEXES=${WAL_INDEXES:-500}
SNAP_DB_MB=${SNAP_DB_MB:-1024}
RUNS=${RUNS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/dbs-bench.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT

# fill DB MB: a table of semi-compressible rows (hex of random bytes).
fill() {
  sqlite3 "$1" "PRAGMA journal_mode=wal; PRAGMA synchronous=off;
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t(v) SELECT hex(randomblob(1000)) FROM generate_series(1, $2 * 1024 * 1024 / 2100);
    PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
}

# replicate DIR NINDEXES: runs litestream on DIR/db with a file replica,
# making NINDEXES WAL indexes (a RESTART checkpoint after each write).
replicate() {
  local d=$1 n=$2 lp i
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
  for i in $(seq 1 "$n"); do
    sqlite3 -cmd ".timeout 5000" "$d/db" "UPDATE t SET v = hex(randomblob(1000)) WHERE id % 977 = $i % 977;
      INSERT INTO t(v) VALUES (hex(randomblob(1000)));" >/dev/null
    sleep 0.05
  done
  sleep 1
  kill -INT "$lp"; wait "$lp" || true
}

# measure LABEL CMD...: median wall seconds and peak RSS (KB) of RUNS runs.
# The output is removed before each run; page cache stays warm for all.
measure() {
  local label=$1; shift
  local walls=() rss=()
  for r in $(seq 1 "$RUNS"); do
    rm -rf "$W/out"; mkdir -p "$W/out"
    /usr/bin/time -v -o "$W/time" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; echo "$label failed" >&2; exit 1; }
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$W/time")")
    rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/time")")
  done
  M_WALL=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(( (RUNS + 1) / 2 ))p")
  M_RSS=$(printf '%s\n' "${rss[@]}" | sort -g | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '  %-22s %8.2f s %10d KB\n' "$label" "$M_WALL" "$M_RSS"
}

# floor DIR: lz4 -d of the snapshot and every WAL segment the restore
# reads, into one file, then fsync.
floor_cmd() {
  local d=$1
  cat >"$W/floor.sh" <<SH
set -e
g=\$(ls -t "$d/replica/generations" | head -1)
G="$d/replica/generations/\$g"
s=\$(ls "\$G/snapshots" | tail -1)
{ lz4 -dc "\$G/snapshots/\$s"; i=\${s%%.*}
  for f in \$(ls "\$G/wal" 2>/dev/null); do [ "\${f%%_*}" \\< "\$i" ] || lz4 -dc "\$G/wal/\$f"; done
} >"$W/out/floor"
sync "$W/out/floor"
SH
  echo bash "$W/floor.sh"
}

run_case() {
  local name=$1 d=$2
  local objs bytes
  objs=$(find "$d/replica" -name '*.lz4' | wc -l)
  bytes=$(du -sb "$d/replica" | cut -f1)
  echo "$name: $(du -m "$d/db" | cut -f1) MB database, $objs objects, $((bytes / 1024 / 1024)) MB compressed"
  measure "dbsetup restore" "$DBSETUP" restore -o "$W/out/db" "file://$d/replica"
  local dw=$M_WALL dr=$M_RSS
  measure "litestream restore" "$LITESTREAM" restore -o "$W/out/db" "file://$d/replica"
  local lw=$M_WALL lr=$M_RSS
  # shellcheck disable=SC2046
  measure "floor (lz4 -d + fsync)" $(floor_cmd "$d")
  local fw=$M_WALL
  awk -v dw="$dw" -v lw="$lw" -v dr="$dr" -v lr="$lr" -v fw="$fw" 'BEGIN {
    printf "  speedup vs litestream %.2fx (target >= 2), RSS %.2f of litestream (target <= 0.25), %.2fx the floor (target <= 1.5)\n",
      lw / dw, dr / lr, dw / fw }'
}

echo "# dbsetup restore benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, RUNS=$RUNS (median)"
mkdir -p "$W/wal" "$W/snap"
fill "$W/wal/db" "$WAL_DB_MB"
replicate "$W/wal" "$WAL_INDEXES"
run_case "WAL case (${WAL_DB_MB} MB, ${WAL_INDEXES} writes)" "$W/wal"
fill "$W/snap/db" "$SNAP_DB_MB"
replicate "$W/snap" 0
run_case "snapshot-only case (${SNAP_DB_MB} MB)" "$W/snap"
