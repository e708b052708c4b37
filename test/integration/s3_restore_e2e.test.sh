#!/usr/bin/env bash
# ctest-labels: integration;s3;restore
# ctest-timeout: 300
# End to end over S3: litestream replicates to the verifying s3rver; the
# native restore (restore.h over storage_s3, driven by s3probe restore)
# gives the same database as `litestream restore` for the latest state,
# every generation, indexes and points in time, also through injected
# transient faults. Unreachable or refusing storage: exit 69 and nothing
# at the target; an empty prefix: no backup.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
s3_start
F=$T/fx
s3_make_replica "$F" app 2 9
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
dump() { sqlite3 "$1" .dump; }
n=0
# compare NAME ENDPOINT [probe options] -- [litestream restore flags]
compare() {
  local name=$1 ep=$2; shift 2
  local popts=() lopts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do popts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  lopts=("$@")
  n=$((n + 1))
  local a=$T/r$n/dbs b=$T/r$n/ls
  mkdir -p "$a" "$b"
  run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$ep" --path app \
    "${popts[@]}" restore "$a/db" >"$a.out" 2>"$a.err"; local ra=$rc
  run "$LITESTREAM" restore -config "$F/ls.yml" "${lopts[@]}" -o "$b/db" \
    "$F/db.sqlite" 2>"$b.err"; local rb=$rc
  if [ "$rb" -ne 0 ]; then # litestream: 1 for "no matching backups" too
    [ "$(cat "$a.out")" != "result: restored" ] ||
      fail "$name: litestream failed ($rb) but we restored"
    [ ! -e "$a/db" ] || fail "$name: a failed restore left $a/db"
    ok "$name: neither restores ($(cat "$a.out"), exit $ra; litestream $rb)"
    return
  fi
  [ "$ra" -eq 0 ] || { cat "$a.err" >&2; fail "$name: exit $ra"; }
  assert_eq "result: restored" "$(cat "$a.out")" "$name: result"
  assert_eq ok "$(sqlite3 "$a/db" 'PRAGMA integrity_check' | head -1)" "$name: integrity"
  [ "$(dump "$a/db")" == "$(dump "$b/db")" ] || fail "$name: dumps differ"
  assert_eq "db" "$(ls -A "$a")" "$name: nothing beside the restored db"
  ok "$name: same database ($(sqlite3 "$a/db" 'SELECT count(*) FROM t') rows)"
}

compare "latest" "$S3_ENDPOINT"
compare "latest, parallelism 1" "$S3_ENDPOINT" --parallelism 1 -- -parallelism 1
while read -r ts; do
  compare "timestamp $ts" "$S3_ENDPOINT" --timestamp "$ts" -- -timestamp "$ts"
done <"$F/points"
gens=$("$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" \
  --delimiter list app/generations/ | awk '/^P /{print $2}')
[ "$(echo "$gens" | wc -l)" -eq 2 ] || fail "expected 2 generations: $gens"
for gp in $gens; do
  gen=$(basename "$gp")
  compare "generation $gen" "$S3_ENDPOINT" --generation "$gen" -- -generation "$gen"
  max=$("$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" \
    list "${gp}wal/" | sed -n 's|.*/wal/\([0-9a-f]*\)_.*|\1|p' | sort -u | tail -1)
  for i in 0 $((16#$max / 2)) $((16#$max)); do
    x=$(printf %x "$i")
    compare "generation $gen index $x" "$S3_ENDPOINT" --generation "$gen" --index "$x" \
      -- -generation "$gen" -index "$x"
  done
done

# The same through transient faults: 503 bursts, 429, resets mid-body,
# refused-then-served connections (drop), a trickle.
# At most six consecutive failures of one request: the worst-case backoff
# (full jitter, 0.2 s doubling) stays well inside the 30 s budget.
fp_start --fault 503:3 --fault 429:1 --fault reset:4:wal --fault drop:2 \
  --fault trickle:5:snapshot --reset-after 200 --trickle 512/2
compare "latest through faults" "$FP_ENDPOINT" --timeout-ms 30000 -v
grep -q "fault=reset" "$FP_LOG" && grep -q "fault=503" "$FP_LOG" &&
  grep -q "fault=drop" "$FP_LOG" || { cat "$FP_LOG"; fail "faults were not injected"; }
assert_contains "$T/r$n/dbs.err" "retrying" "retries logged"
ok "faults were injected and retried ($(grep -c 'fault=[^n]' "$FP_LOG") faulty answers)"

# Permanent refusal: exit 69 at once, nothing at the target.
fp_start --fault 403
mkdir -p "$T/deny"
t0=$(date +%s%3N)
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$FP_ENDPOINT" --path app \
  --timeout-ms 20000 restore "$T/deny/db" >"$T/deny.out" 2>"$T/deny.err"
t1=$(date +%s%3N)
assert_eq 69 "$rc" "403: exit"
assert_eq "result: storage" "$(cat "$T/deny.out")" "403: result"
assert_eq "" "$(ls -A "$T/deny")" "403: nothing at the target"
[ $((t1 - t0)) -lt 3000 ] || fail "403 restore took $((t1 - t0)) ms"
assert_contains "$T/deny.err" "AccessDenied" "403: provider code in the message"
ok "403: exit 69 at once, AccessDenied named, nothing at the target"

# Unreachable: exit 69 after the budget, nothing at the target.
port=$(free_port)
mkdir -p "$T/down"
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "http://127.0.0.1:$port" \
  --path app --timeout-ms 1500 restore "$T/down/db" >"$T/down.out" 2>"$T/down.err"
assert_eq 69 "$rc" "refused: exit"
assert_eq "" "$(ls -A "$T/down")" "refused: nothing at the target"
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "http://nonexistent.invalid:9000" \
  --path app --timeout-ms 1500 restore "$T/down/db" >"$T/down.out" 2>"$T/down.err"
assert_eq 69 "$rc" "DNS: exit"
assert_eq "" "$(ls -A "$T/down")" "DNS: nothing at the target"
ok "unreachable storage (refused, DNS): exit 69 after the budget, nothing at the target"

# Wrong secret: denied, 69.
AWS_SECRET_ACCESS_KEY=wrong-secret-value run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" \
  --endpoint "$S3_ENDPOINT" --path app restore "$T/down/db" >"$T/down.out" 2>"$T/down.err"
assert_eq 69 "$rc" "wrong secret: exit"
assert_contains "$T/down.err" "SignatureDoesNotMatch" "wrong secret: code"
assert_not_contains "$T/down.err" "wrong-secret-value" "wrong secret: not printed"
ok "a wrong secret: exit 69 naming SignatureDoesNotMatch"

# An empty prefix is "no backup" (every listing succeeded).
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$S3_ENDPOINT" \
  --path nothing-here restore "$T/down/db" >"$T/down.out" 2>"$T/down.err"
assert_eq 0 "$rc" "no backup: exit"
assert_eq "result: no-backup" "$(cat "$T/down.out")" "no backup: result"
assert_eq "" "$(ls -A "$T/down")" "no backup: nothing at the target"
ok "an empty prefix is no backup"
done_testing
