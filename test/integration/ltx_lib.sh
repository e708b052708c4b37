# Helpers for the LTX (litestream 0.5) restore tests: real `litestream
# replicate` 0.5 writes every replica under a seeded random sqlite3
# workload, and each restore is compared with `litestream restore` 0.5.
# Source after lib.sh (and lib_s3.sh for S3 replicas).
#
# Peers: $DBS_PEERS/litestream05 (v0.5.18, LZ4-block pages) and
# $DBS_PEERS/litestream-v0.5.15/litestream (LZ4-frame pages), built by
# scripts/peers.sh (Go >= 1.25); DBS_LITESTREAM05 / DBS_LITESTREAM0515
# point elsewhere.
#
# DBS_LTX_COMPARE=0 runs litestream's side alone: the harness checks its
# own replicas (litestream's restores equal the database recorded at each
# point) without asking dbsetup. Default 1: dbsetup restores every case
# too and must agree; disagreements are collected with the exact commands
# and fail the test at the end (ltx_report).
# DBS_LTX_SEED: the workload's seed (each test has its own default).

LS05=${DBS_LITESTREAM05:-$DBS_PEERS/litestream05}
LS0515=${DBS_LITESTREAM0515:-$DBS_PEERS/litestream-v0.5.15/litestream}
LS03=$DBS_PEERS/litestream
FORGE=$DBS_TOOLS/ltx-forge
: "${DBS_LTX_COMPARE:=1}"
# A dbsetup that cannot reach the storage gives up after 10 s, not 120.
export DBSETUP_RESTORE_TIMEOUT=10

# ltx_need BIN VERSION: BIN exists and is that version, else the test
# fails saying how to get it (no silent skip).
ltx_need() {
  [ -x "$1" ] || fail "missing $1: run scripts/peers.sh (litestream 0.5 needs Go >= 1.25)"
  "$1" version | grep -q "^$2" || fail "$1 is not $2 ($("$1" version))"
}

# lsrun BIN ARGS...: runs a litestream binary. 0.5's AWS SDK refuses to
# build its S3 client when AWS_CA_BUNDLE is set ("unable to add custom
# RootCAs HTTPClient"), and this machine sets it, so it is left out.
lsrun() { env -u AWS_CA_BUNDLE "$@"; }

# ltx_init KIND DIR [S3PATH]: a fresh working directory DIR for a replica
# of KIND file (DIR/replica) or s3 (S3PATH in the running s3rver's bucket).
# Sets LTX_D LTX_DB LTX_YML LTX_KIND LTX_URL LTX_ROOT (where the objects
# lie on this disk) and creates the database with one table.
ltx_init() {
  LTX_KIND=$1 LTX_D=$2
  LTX_DB=$LTX_D/db.sqlite LTX_YML=$LTX_D/ls.yml
  mkdir -p "$LTX_D"
  case $LTX_KIND in
    file)
      LTX_ROOT=$LTX_D/replica
      LTX_URL=file://$LTX_ROOT ;;
    s3)
      LTX_S3PATH=$3
      LTX_ROOT=$S3_DIR/data/$S3_BUCKET/$LTX_S3PATH
      # The MinIO-style host form (http, path-style requests), which
      # litestream 0.5 and dbsetup both read; LTX_URLQ: litestream 0.5's
      # query options instead.
      LTX_URL="s3://$S3_BUCKET.localhost:$S3_PORT/$LTX_S3PATH"
      LTX_URLQ="s3://$S3_BUCKET/$LTX_S3PATH?endpoint=$S3_ENDPOINT&region=us-east-1&forcePathStyle=true"
      export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY ;;
    *) fail "ltx_init: kind $LTX_KIND" ;;
  esac
  sqlite3 "$LTX_DB" "PRAGMA journal_mode=wal;
    CREATE TABLE t(id INTEGER PRIMARY KEY, g INT, v BLOB);
    CREATE TABLE steps(step INTEGER PRIMARY KEY, op TEXT);" >/dev/null
  : >"$LTX_D/points"
  LTX_STEP=0 LTX_XT=0 LTX_NCOL=0
}

# ltx_yml [LEVELS] [SNAPSHOT] [L0RETENTION]: writes $LTX_YML in 0.5 syntax
# (`replica:`), with compaction levels LEVELS (default "1s 2s 4s": L1-L3
# every few seconds), snapshots every SNAPSHOT (3s) kept an hour, L0 files
# kept L0RETENTION (5m) after compaction, a 100 ms sync and monitor.
ltx_yml() {
  local levels=${1:-1s 2s 4s} snap=${2:-3s} l0=${3:-5m} l
  {
    echo "levels:"
    for l in $levels; do echo "  - interval: $l"; done
    echo "snapshot:"
    echo "  interval: $snap"
    echo "  retention: 1h"
    echo "l0-retention: $l0"
    echo "l0-retention-check-interval: 1s"
    echo "dbs:"
    echo "  - path: $LTX_DB"
    echo "    monitor-interval: 100ms"
    echo "    checkpoint-interval: 2s"
    echo "    min-checkpoint-page-count: 64"
    echo "    replica:"
    if [ "$LTX_KIND" = file ]; then
      echo "      type: file"
      echo "      path: $LTX_ROOT"
    else
      echo "      type: s3"
      echo "      bucket: $S3_BUCKET"
      echo "      path: $LTX_S3PATH"
      echo "      endpoint: $S3_ENDPOINT"
      echo "      region: us-east-1"
      echo "      force-path-style: true"
      echo "      access-key-id: $S3_ACCESS_KEY_ID"
      echo "      secret-access-key: $S3_SECRET_ACCESS_KEY"
    fi
    echo "      sync-interval: 100ms"
  } >"$LTX_YML"
}

# ltx_level_dir LEVEL: the directory holding that level's objects.
ltx_level_dir() {
  if [ "$LTX_KIND" = file ]; then echo "$LTX_ROOT/ltx/$1"; else printf '%s/%04x\n' "$LTX_ROOT" "$1"; fi
}
# ltx_files LEVEL: that level's LTX names (MIN-MAX.ltx), sorted.
ltx_files() {
  local d
  d=$(ltx_level_dir "$1")
  [ -d "$d" ] || return 0
  ls "$d" | sed -n 's/^\([0-9a-f]\{16\}-[0-9a-f]\{16\}\.ltx\)\(\._S3rver_object\)\{0,1\}$/\1/p' | sort -u
}
# ltx_obj LEVEL NAME: the path of that object's bytes (MinIO keeps no
# plain file per object: there, a copy fetched for reading).
ltx_obj() {
  if [ "$LTX_KIND" = file ]; then
    echo "$(ltx_level_dir "$1")/$2"
  elif s3_is s3rver; then
    echo "$(ltx_level_dir "$1")/$2._S3rver_object"
  else
    s3_get_file "$(printf '%s/%04x/%s' "$LTX_S3PATH" "$1" "$2")" "$T/ltx-obj-$1-$2"
    echo "$T/ltx-obj-$1-$2"
  fi
}
# ltx_max_txid [LEVEL]: the newest MaxTXID at LEVEL (default 0), or 0.
ltx_max_txid() {
  local f
  f=$(ltx_files "${1:-0}" | tail -1)
  if [ -n "$f" ]; then echo $((16#${f:17:16})); else echo 0; fi
}
# ltx_all_max: the newest MaxTXID over every level.
ltx_all_max() {
  local l m=0 x
  for l in 0 1 2 3 4 5 6 7 8 9; do
    x=$(ltx_max_txid "$l")
    [ "$x" -le "$m" ] || m=$x
  done
  echo "$m"
}
hex16() { printf '%016x' "$1"; }

# ltx_start [BIN]: starts BIN (default litestream05) replicate with
# $LTX_YML; output in $LTX_D/ls.log.
ltx_start() {
  LTX_BIN=${1:-$LS05}
  # (not through the lsrun function: a backgrounded function is a subshell
  # that would stand between the signals and litestream)
  env -u AWS_CA_BUNDLE "$LTX_BIN" replicate -config "$LTX_YML" >>"$LTX_D/ls.log" 2>&1 &
  LTX_PID=$!
  if [ -z "${_ltx_cleanup:-}" ]; then cleanup ltx_stop KILL; _ltx_cleanup=1; fi
}
# ltx_stop [SIG]: stops the replicator (SIGINT: its final sync).
ltx_stop() {
  [ -n "${LTX_PID:-}" ] || return 0
  kill -"${1:-INT}" "$LTX_PID" 2>/dev/null || true
  wait "$LTX_PID" 2>/dev/null || true
  LTX_PID=
}
_ltx_alive() { kill -0 "$LTX_PID" 2>/dev/null || { tail -5 "$LTX_D/ls.log" >&2; fail "litestream exited"; }; }
_ltx_l0_gt() { _ltx_alive; [ "$(ltx_max_txid 0)" -gt "$1" ]; }

# ltx_settle BEFORE: waits until the newest L0 TXID is above BEFORE and has
# not moved for 0.6 s (the replicator synced everything written so far);
# sets LTX_TXID to it.
ltx_settle() {
  local before=$1 m t
  wait_for 30 _ltx_l0_gt "$before" || fail "replica did not move past TXID $before"
  m=$(ltx_max_txid 0) t=$(date +%s%N)
  while [ $(($(date +%s%N) - t)) -lt 600000000 ]; do
    sleep 0.1
    _ltx_alive
    local x
    x=$(ltx_max_txid 0)
    if [ "$x" != "$m" ]; then m=$x t=$(date +%s%N); fi
  done
  LTX_TXID=$m
}
# ltx_quiet: waits until the newest L0 TXID has not moved for 1.5 s (after
# a replicator start, whose first sync may or may not write a file).
ltx_quiet() {
  local m t x
  m=$(ltx_max_txid 0) t=$(date +%s%N)
  while [ $(($(date +%s%N) - t)) -lt 1500000000 ]; do
    sleep 0.1
    _ltx_alive
    x=$(ltx_max_txid 0)
    if [ "$x" != "$m" ]; then m=$x t=$(date +%s%N); fi
  done
}

# digest DB [live]: a hash of the user tables' content and schema
# (litestream's own _litestream_* tables left out: it writes them on its
# own). A restored file is read as immutable, so that reading it creates
# nothing beside it; "live" reads the replicated database with its WAL.
digest() {
  local uri="file:$1?immutable=1"
  [ "${2:-}" != live ] || uri=$1
  sqlite3 -cmd ".timeout 5000" "$uri" .dump | grep -v '_litestream_' | sha1sum | cut -c1-16
}

_sql() { sqlite3 -cmd ".timeout ${2:-5000}" "$LTX_DB" "$1" >/dev/null; }

# ltx_op: one random step of the workload (seeded through $RANDOM); its
# name in LTX_OPNAME. Each step ends by recording itself in table steps,
# so that it changes the database even when its own statements did not. Keeps the database between about 0 and 3 MB.
ltx_op() {
  local r=$((RANDOM % 100)) sz n k
  sz=$((100 + RANDOM % 12000))
  n=$((1 + RANDOM % 8))
  # Page data both incompressible (randomblob) and compressible (text).
  local val="CASE WHEN value % 2 THEN randomblob($sz) ELSE substr(replace(hex(zeroblob($sz)), '00', 'ab' || $LTX_STEP), 1, $sz) END"
  if [ "$r" -lt 30 ]; then
    _sql "BEGIN IMMEDIATE; INSERT INTO t(g, v) SELECT $LTX_STEP, $val FROM generate_series(1, $n); COMMIT;"
    LTX_OPNAME="insert $n x $sz"
  elif [ "$r" -lt 44 ]; then
    k=$((2 + RANDOM % 5))
    _sql "BEGIN IMMEDIATE; UPDATE t SET v = randomblob($sz), g = $LTX_STEP WHERE id % $k = $((RANDOM % k)); COMMIT;"
    LTX_OPNAME="update 1/$k to $sz"
  elif [ "$r" -lt 54 ]; then
    k=$((3 + RANDOM % 6))
    _sql "BEGIN IMMEDIATE; DELETE FROM t WHERE id % $k = $((RANDOM % k)); COMMIT;"
    LTX_OPNAME="delete 1/$k"
  elif [ "$r" -lt 64 ]; then
    case $((RANDOM % 4)) in
      0) LTX_XT=$((LTX_XT + 1))
         _sql "BEGIN IMMEDIATE; CREATE TABLE x$LTX_XT(a INTEGER PRIMARY KEY, b TEXT, c BLOB);
           INSERT INTO x$LTX_XT(b, c) SELECT hex(randomblob(40)), randomblob($sz) FROM generate_series(1, $n); COMMIT;"
         LTX_OPNAME="create table x$LTX_XT" ;;
      1) LTX_NCOL=$((LTX_NCOL + 1))
         _sql "BEGIN IMMEDIATE; ALTER TABLE t ADD COLUMN c$LTX_NCOL TEXT DEFAULT 'd$LTX_NCOL';
           UPDATE t SET c$LTX_NCOL = hex(randomblob(30)) WHERE id % 3 = 0; COMMIT;"
         LTX_OPNAME="add column c$LTX_NCOL" ;;
      2) _sql "BEGIN IMMEDIATE; CREATE INDEX IF NOT EXISTS t_g$LTX_STEP ON t(g, id); COMMIT;"
         LTX_OPNAME="create index" ;;
      3) if [ "$LTX_XT" -gt 0 ]; then
           _sql "BEGIN IMMEDIATE; DROP TABLE IF EXISTS x$((1 + RANDOM % LTX_XT)); COMMIT;"
           LTX_OPNAME="drop table"
         else
           _sql "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS x0(a); INSERT INTO x0 VALUES($LTX_STEP); COMMIT;"
           LTX_OPNAME="create table x0"
         fi ;;
    esac
  elif [ "$r" -lt 71 ]; then
    _sql "VACUUM;"
    LTX_OPNAME="vacuum"
  elif [ "$r" -lt 77 ]; then
    # litestream holds a read transaction, so TRUNCATE cannot finish: it
    # copies what it can and gives up after the busy timeout.
    _sql "BEGIN IMMEDIATE; UPDATE t SET g = g + 1 WHERE id % 5 = 0; COMMIT; PRAGMA wal_checkpoint(TRUNCATE);" 300
    LTX_OPNAME="update + checkpoint(TRUNCATE)"
  elif [ "$r" -lt 87 ]; then
    if [ "$(stat -c %s "$LTX_DB")" -gt 3000000 ]; then
      _sql "BEGIN IMMEDIATE; DELETE FROM t WHERE id % 4 != 0; COMMIT;"
      _sql "VACUUM;"
      LTX_OPNAME="shrink (delete 3/4, vacuum)"
    else
      _sql "BEGIN IMMEDIATE; INSERT INTO t(g, v) SELECT $LTX_STEP, $val FROM generate_series(1, 120); COMMIT;"
      LTX_OPNAME="grow 120 x $sz"
    fi
  else
    _sql "BEGIN IMMEDIATE; DELETE FROM t WHERE id % 4 != 0; COMMIT;"
    _sql "VACUUM;"
    LTX_OPNAME="shrink (delete 3/4, vacuum)"
  fi
  _sql "INSERT INTO steps VALUES($LTX_STEP, '$LTX_OPNAME');"
}

# ltx_restart: stops and restarts the replicator in one of several ways
# (seeded): SIGINT, SIGKILL, SIGINT with a TRUNCATE checkpoint while it is
# down, or SIGINT with its meta directory removed; the way in LTX_OPNAME.
ltx_restart() {
  local how
  case $((RANDOM % 4)) in
    0) ltx_stop INT; how="restart (SIGINT)" ;;
    1) ltx_stop KILL; how="restart (SIGKILL)" ;;
    2) ltx_stop INT; _sql "PRAGMA wal_checkpoint(TRUNCATE);"
       how="restart (SIGINT, checkpoint TRUNCATE while down)" ;;
    3) ltx_stop INT; rm -rf "$LTX_D/.db.sqlite-litestream"
       how="restart (SIGINT, meta directory removed)" ;;
  esac
  ltx_start "${1:-$LTX_BIN}"
  LTX_OPNAME=$how
}

# ltx_workload STEPS [BIN]: runs STEPS random steps against the running
# replicator (a replicator restart every ~8 steps, with BIN if given). After
# each step that changed the database it waits until the replica has it and
# appends to $LTX_D/points a line "STEP TXID TIME DIGEST OP": the newest L0
# TXID (hex), an RFC 3339 time taken after that file was written and
# before the next step, and the digest of the database at that point.
ltx_workload() {
  local steps=$1 bin=${2:-} i before ts restart
  for i in $(seq 1 "$steps"); do
    LTX_STEP=$((LTX_STEP + 1))
    restart=$((RANDOM % 8 == 0))
    [ -z "$bin" ] || [ "$i" -ne 1 ] || restart=1
    if [ "$restart" = 1 ]; then
      ltx_restart "${bin:-$LTX_BIN}"
      echo "# step $LTX_STEP: $LTX_OPNAME" >>"$LTX_D/steps.log"
      ltx_quiet
    fi
    before=$(ltx_max_txid 0)
    ltx_op
    ltx_settle "$before"
    ts=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
    echo "$LTX_STEP $(hex16 "$LTX_TXID") $ts $(digest "$LTX_DB" live) $LTX_OPNAME" >>"$LTX_D/points"
    echo "# step $LTX_STEP: $LTX_OPNAME -> txid $(hex16 "$LTX_TXID")" >>"$LTX_D/steps.log"
    sleep 0.05
  done
}

# ltx_levels_present: every level 0, 1, 2, 3 and 9 holds a file.
ltx_levels_present() {
  local l
  for l in 0 1 2 3 9; do [ -n "$(ltx_files "$l")" ] || return 1; done
}

# ltx_finish: waits until L1-L3 and L9 exist and have caught up with the
# newest L0 (short intervals), then stops the replicator with SIGINT.
ltx_finish() {
  local m
  m=$(ltx_max_txid 0)
  _ltx_caught_up() { _ltx_alive; ltx_levels_present && [ "$(ltx_max_txid 9)" -ge "$m" ] && [ "$(ltx_max_txid 3)" -ge "$m" ]; }
  wait_for 40 _ltx_caught_up || { ltx_inventory >&2; fail "levels 1-3 and 9 did not catch up with TXID $(hex16 "$m")"; }
  ltx_stop INT
}

# ltx_inventory: one line per level: its file count and TXID range.
ltx_inventory() {
  local l f
  for l in 0 1 2 3 4 5 6 7 8 9; do
    f=$(ltx_files "$l")
    [ -n "$f" ] || continue
    echo "L$l: $(echo "$f" | wc -l) files, $(echo "$f" | head -1 | cut -c1-16)..$(echo "$f" | tail -1 | cut -c18-33)"
  done
}

# ---- comparison ------------------------------------------------------------

LTX_N=0 LTX_OK=0 LTX_BOTHREFUSE=0
# ltx_expect_state NAME DIGEST: set before ltx_compare to require that
# litestream's restore holds the database recorded at that point.
LTX_WANT=
# ltx_compare NAME ARGS...: restores ARGS (flags then the source: a URL, or
# -config FILE DB) with `litestream restore` 0.5 and, when DBS_LTX_COMPARE
# is 1, with `dbsetup restore`. Either both restore byte-identical files
# (`cmp`), dbsetup's alone in its directory, or both refuse: then dbsetup
# exits 1 when litestream says there is no such backup, else 65, and
# leaves nothing in its output directory. litestream's result must pass
# integrity_check and match $LTX_WANT when set.
ltx_compare() {
  local name=$1; shift
  LTX_N=$((LTX_N + 1))
  local c=$T/cmp/$LTX_N a b rb ra want
  a=$c/dbs b=$c/ls
  mkdir -p "$a" "$b"
  run lsrun "$LS05" restore -o "$b/db" "$@" </dev/null >"$b.log" 2>&1; rb=$rc
  if [ "$rb" -eq 0 ]; then
    assert_eq ok "$(sqlite3 "file:$b/db?immutable=1" 'PRAGMA integrity_check' | head -1)" \
      "$name: integrity of litestream's restore"
    if [ -n "$LTX_WANT" ]; then
      [ "$(digest "$b/db")" = "$LTX_WANT" ] ||
        fail "$name: litestream's restore is not the database recorded at that point ($(printf '%q ' "$LS05" restore -o "$b/db" "$@"))"
    fi
  fi
  LTX_WANT=
  if [ "$DBS_LTX_COMPARE" != 1 ]; then
    if [ "$rb" -eq 0 ]; then LTX_OK=$((LTX_OK + 1)); else LTX_BOTHREFUSE=$((LTX_BOTHREFUSE + 1)); fi
    ok "$name: litestream $([ "$rb" -eq 0 ] && echo restores || echo "refuses: $(grep -m1 '^Error' "$b.log")")"
    return 0
  fi
  run "$DBSETUP" restore -o "$a/db" "$@" </dev/null >"$a.log" 2>&1; ra=$rc
  local cmd
  cmd=$(printf '%q ' "$DBSETUP" restore -o OUT "$@")
  if [ "$rb" -eq 0 ]; then
    if [ "$ra" -ne 0 ]; then
      ltx_disagree "$name" "$cmd" "litestream restores, dbsetup exits $ra: $(grep -v '^ *$' "$a.log" | tail -1)"
    elif ! cmp -s "$a/db" "$b/db"; then
      ltx_disagree "$name" "$cmd" "both restore, the files differ ($(cmp "$a/db" "$b/db" 2>&1 | head -1))"
    elif [ "$(ls -A "$a")" != db ]; then
      ltx_disagree "$name" "$cmd" "dbsetup left beside its output: $(ls -A "$a" | tr '\n' ' ')"
    else
      LTX_OK=$((LTX_OK + 1))
      ok "$name: byte-identical"
    fi
    return 0
  fi
  if grep -qE 'no matching backup files available|timestamp does not exist|no backups found' "$b.log"; then
    want=1
  else
    want=65
  fi
  if [ "$ra" -ne "$want" ]; then
    ltx_disagree "$name" "$cmd" "litestream refuses ($(grep -m1 '^Error' "$b.log")); dbsetup exits $ra, expected $want: $(grep -v '^ *$' "$a.log" | tail -1)"
  elif [ -n "$(ls -A "$a")" ]; then
    ltx_disagree "$name" "$cmd" "dbsetup exits $ra but left: $(ls -A "$a" | tr '\n' ' ')"
  else
    LTX_BOTHREFUSE=$((LTX_BOTHREFUSE + 1))
    ok "$name: both refuse (dbsetup $ra)"
  fi
}
# ltx_disagree NAME COMMAND WHAT: records a disagreement (reported by
# ltx_report) and carries on with the other cases.
ltx_disagree() {
  echo "DISAGREE: $1: $3" >&2
  printf '%s\n  %s\n  %s\n' "$1" "$3" "$2" >>"$T/disagreements"
}
# ltx_report MIN: at least MIN cases ran; prints the counts; fails listing
# every disagreement if there was one.
ltx_report() {
  [ "$LTX_N" -ge "$1" ] || fail "only $LTX_N cases (expected >= $1)"
  echo "cases: $LTX_N ($LTX_OK restored identically, $LTX_BOTHREFUSE refused by both)"
  if [ -s "$T/disagreements" ]; then
    echo "--- dbsetup disagrees with litestream restore $("$LS05" version) in $(grep -c '^  /' "$T/disagreements") cases:" >&2
    cat "$T/disagreements" >&2
    fail "dbsetup restore disagrees with litestream restore (see above; scratch kept in $T)"
  fi
}

# ltx_equiv_cases SOURCE...: the restore points of a replica made by
# ltx_workload, each through ltx_compare with SOURCE (a URL, or -config
# FILE DB): latest; -txid at every recorded step (which must give the
# database of that step), at every L1-L3 and L9 boundary, at 1, past the
# end and 0; -timestamp at every recorded step (again that step's
# database, when a file ends at its TXID), before the first file, exactly at an L0 (else L1) file's
# time and 1 ms after it, and after the newest file.
ltx_equiv_cases() {
  local step txid ts dg op l f seen=" " m mid t0
  LTX_WANT=$(tail -1 "$LTX_D/points" | cut -d' ' -f4)
  ltx_compare "latest" "$@"
  while read -r step txid ts dg op; do
    LTX_WANT=$dg
    ltx_compare "-txid $txid (step $step: $op)" -txid "$txid" "$@"
    seen="$seen$txid "
  done <"$LTX_D/points"
  for l in 1 2 3 9; do
    for f in $(ltx_files "$l"); do
      txid=${f:17:16}
      case $seen in *" $txid "*) continue ;; esac
      seen="$seen$txid "
      ltx_compare "-txid $txid (end of L$l file $f)" -txid "$txid" "$@"
    done
  done
  m=$(ltx_all_max)
  ltx_compare "-txid 0000000000000001" -txid 0000000000000001 "$@"
  ltx_compare "-txid past the end" -txid "$(hex16 $((m + 1)))" "$@"
  ltx_compare "-txid far past the end" -txid "$(hex16 $((m + 4096)))" "$@"
  ltx_compare "-txid 0000000000000000" -txid 0000000000000000 "$@"
  # A point in time restores the step before it only if some file ends at
  # that step's TXID (L0 files may have been removed after compaction).
  local ends=" "
  for l in 0 1 2 3 4 5 6 7 8 9; do
    ends="$ends$(ltx_files "$l" | cut -c18-33 | tr '\n' ' ')"
  done
  while read -r step txid ts dg op; do
    case $ends in *" $txid "*) LTX_WANT=$dg ;; esac
    ltx_compare "-timestamp $ts (step $step: $op)" -timestamp "$ts" "$@"
  done <"$LTX_D/points"
  ltx_compare "-timestamp before the first file" -timestamp 2000-01-01T00:00:00Z "$@"
  l=0
  [ "$(ltx_files 0 | wc -l)" -ge 3 ] || l=1
  mid=$(ltx_files "$l" | sed -n "$((($(ltx_files "$l" | wc -l) + 1) / 2))p")
  t0=$("$FORGE" info "$(ltx_obj "$l" "$mid")" | sed 's/.*timestamp=\([0-9]*\).*/\1/')
  ts=$(date -u -d "@$((t0 / 1000)).$(printf %03d $((t0 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
  ltx_compare "-timestamp $ts (exactly L$l $mid)" -timestamp "$ts" "$@"
  ts=$(date -u -d "@$(((t0 + 1) / 1000)).$(printf %03d $(((t0 + 1) % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
  ltx_compare "-timestamp $ts (1 ms after L$l $mid)" -timestamp "$ts" "$@"
  ltx_compare "-timestamp an hour ahead" -timestamp "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$@"
}

# ltx_encoding LEVEL NAME: "block" (LZ4 block pages, litestream >= 0.5.16)
# or "frame" (LZ4 frame pages, <= 0.5.15) for that file's first page.
ltx_encoding() {
  case $("$FORGE" info "$(ltx_obj "$1" "$2")") in
    *page_flags=0x1) echo block ;;
    *page_flags=0x0) echo frame ;;
    *) echo other ;;
  esac
}
