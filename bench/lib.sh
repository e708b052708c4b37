# Shared by the bench-restore*.sh scripts: the database they fill, the
# writes replicated on top, one timed run, the order of the rounds, the
# medians and the ratios. Source after setting W (scratch directory) and
# RUNS; fill LABELS, WALLS and RSSS (one entry per command) before rounds.

# fill DB MB: a table of semi-compressible rows (hex of random bytes).
fill() {
  sqlite3 "$1" "PRAGMA journal_mode=wal; PRAGMA synchronous=off;
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t(v) SELECT hex(randomblob(1000)) FROM generate_series(1, $2 * 1024 * 1024 / 2100);
    PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
}

# writes DB N PAUSE: N writes to DB's table t, PAUSE seconds apart, each
# rewriting about 1/977 of the rows and adding one.
writes() {
  local i
  for i in $(seq 1 "$2"); do
    sqlite3 -cmd ".timeout 5000" "$1" "UPDATE t SET v = hex(randomblob(1000)) WHERE id % 977 = $i % 977;
      INSERT INTO t(v) VALUES (hex(randomblob(1000)));" >/dev/null
    sleep "$3"
  done
}

# start_s3rver: the patched s3rver of $DBS_PEERS (default .peers) on
# 127.0.0.1, storing in $W/s3, with bucket "bench" and the bench's
# credentials exported (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); sets
# S3PID (the caller's exit trap stops it) and EP, its endpoint URL.
start_s3rver() {
  export AWS_ACCESS_KEY_ID=AKIADBSBENCH00000001 AWS_SECRET_ACCESS_KEY=dbs-bench-secret-value-0123456789
  DBS_S3RVER_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID DBS_S3RVER_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    node "${DBS_PEERS:-.peers}/s3rver/node_modules/s3rver/bin/s3rver.js" -s -d "$W/s3" -a 127.0.0.1 -p 0 \
    --configure-bucket bench >"$W/s3.log" 2>&1 &
  S3PID=$!
  until grep -q "S3rver listening on" "$W/s3.log"; do sleep 0.1; done
  EP=http://127.0.0.1:$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$W/s3.log")
}

# time_one N CMD...: one timed run into a fresh $W/out (removed, then
# `sync`, untimed); appends the wall seconds and peak RSS (KB) to WALLS[N]
# and RSSS[N].
time_one() {
  local n=$1; shift
  rm -rf "$W/out"; mkdir -p "$W/out"; sync
  /usr/bin/time -v -o "$W/time" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; echo "${LABELS[$n]} failed" >&2; exit 1; }
  WALLS[n]+=" $(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$W/time")"
  RSSS[n]+=" $(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/time")"
}

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | sed -n "$(( (RUNS + 1) / 2 ))p"; }

# rounds N: RUNS rounds of the commands 0..N-1, run by the caller's
# run_cmd. Round r runs command (r + k * step) mod N as its k-th, the step
# cycling through the numbers below N that are prime to it (1, 2, 3, 4 for
# 5 commands; 1, 3 for 4): over the rounds each command runs right after
# each other one. What ran before matters here: a 1 GB write right after
# another program's 1 GB file was deleted measured 1.0-3.5 s instead of
# 0.8 s (sys time, in the kernel's copy into the page cache), whichever
# command came next; in a fixed order one command took that every round.
rounds() {
  local n=$1 r k s a b t steps=()
  for ((s = 1; s < n; s++)); do
    a=$s b=$n
    while ((b)); do t=$((a % b)) a=$b b=$t; done
    ((a != 1)) || steps+=("$s")
  done
  for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < n; k++)); do
      run_cmd $(( (r + k * steps[r % ${#steps[@]}]) % n ))
    done
  done
}

# report N: the median wall time and peak RSS of commands 0..N-1 into MW
# and MR, one line each with every run's time.
report() {
  local n
  MW=() MR=()
  for ((n = 0; n < $1; n++)); do
    MW[n]=$(median "${WALLS[$n]}")
    MR[n]=$(median "${RSSS[$n]}")
    printf '  %-24s %7.2f s %9d KB   (runs:%s s)\n' "${LABELS[$n]}" "${MW[n]}" "${MR[n]}" "${WALLS[$n]}"
  done
}

# measure N: rounds N and report N, with the load average before and after.
measure() {
  echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  rounds "$1"
  echo "  load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
  report "$1"
}

# vs_peer PEER: the ratios of commands 0 and 1 (dbsetup, --verify quick and
# none) to command 2 (PEER's restore) and command 3 (the floor), with the
# targets, from report's medians.
vs_peer() {
  local n
  for n in 0 1; do
    awk -v p="$1" -v l="${LABELS[$n]}" -v dw="${MW[n]}" -v lw="${MW[2]}" -v dr="${MR[n]}" -v lr="${MR[2]}" -v fw="${MW[3]}" 'BEGIN {
      printf "  %s: %.2fx faster than %s (target >= 2), RSS %.2f of litestream'"'"'s (target <= 0.25), %.2fx the floor (target <= 1.5)\n",
        l, lw / dw, p, dr / lr, dw / fw }'
  done
}
