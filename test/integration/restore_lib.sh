# Helpers for the restore tests: real litestream v0.3.13 writes every replica.
# Source after lib.sh.

# make_replica DIR NGEN ROUNDS: runs `litestream replicate` with a file
# replica against a sqlite3 workload (inserts, updates, deletes) that
# produces NGEN generations (the meta directory is removed between runs),
# several snapshots (snapshot-interval) and many WAL indexes (tiny
# checkpoint page counts). Writes DIR/db.sqlite, DIR/replica/ and
# DIR/points (one RFC 3339 time per line, taken between writes).
make_replica() {
  local d=$1 ngen=${2:-3} rounds=${3:-12} g r lp
  mkdir -p "$d"
  cat >"$d/ls.yml" <<YML
dbs:
  - path: $d/db.sqlite
    monitor-interval: 50ms
    min-checkpoint-page-count: 4
    max-checkpoint-page-count: 16
    replicas:
      - type: file
        path: $d/replica
        sync-interval: 50ms
        snapshot-interval: 700ms
YML
  replicate_workload "$d" "$ngen" "$rounds" "$d/replica/generations"
}

_ngen_ge() { [ "$(ls "$1" 2>/dev/null | wc -l)" -ge "$2" ]; }

# dump DB: a canonical text form of a database.
dump() { sqlite3 "$1" .dump; }

# integrity DB: prints "ok" when PRAGMA integrity_check passes.
integrity() { sqlite3 "$1" "PRAGMA integrity_check" | head -1; }

# replicate_workload DIR NGEN ROUNDS GENDIR: creates DIR/db.sqlite and runs
# `litestream replicate -config DIR/ls.yml` against a sqlite3 workload
# (inserts, updates, deletes) NGEN times, removing litestream's meta
# directory in between so each run starts a generation (counted in GENDIR).
# Appends RFC 3339 times taken between writes to DIR/points.
replicate_workload() {
  local d=$1 ngen=$2 rounds=$3 gendir=$4 g r lp
  sqlite3 "$d/db.sqlite" "PRAGMA journal_mode=wal;
    CREATE TABLE t(id INTEGER PRIMARY KEY, g INT, v TEXT);
    CREATE INDEX t_g ON t(g);" >/dev/null
  : >"$d/points"
  for g in $(seq 1 "$ngen"); do
    rm -rf "$d/.db.sqlite-litestream"
    "$LITESTREAM" replicate -config "$d/ls.yml" >>"$d/ls.log" 2>&1 &
    lp=$!
    wait_for 10 _ngen_ge "$gendir" "$g" ||
      fail "litestream did not start generation $g"
    for r in $(seq 1 "$rounds"); do
      sqlite3 -cmd ".timeout 5000" "$d/db.sqlite" "
        INSERT INTO t(g, v) SELECT $g, hex(randomblob(300 + abs(random()) % 900))
          FROM generate_series(1, 4 + $r % 5);
        UPDATE t SET v = hex(randomblob(200)) WHERE id % 7 = $r % 7;
        DELETE FROM t WHERE id % 11 = $r % 11 AND g < $g;" >/dev/null
      sleep 0.06
      if [ $((r % 3)) -eq 0 ]; then
        sleep 0.2
        date -u +%Y-%m-%dT%H:%M:%S.%NZ >>"$d/points"
        sleep 0.05
      fi
    done
    sleep 0.4
    kill -INT "$lp"
    wait "$lp" || true
  done
}
