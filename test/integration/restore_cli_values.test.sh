#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 60
# `dbsetup restore` takes the values the boot takes, with the boot's rules
# (one set of parsers in lib/config.c): --parallelism 1 to 64, --verify,
# DBSETUP_LOG_LEVEL (empty is unset).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/replica"
url="file://$T/replica"
for n in 0 65 256 +5; do
  run "$DBSETUP" restore --parallelism "$n" -o "$T/out.db" "$url" >"$T/out" 2>&1
  assert_eq 64 "$rc" "--parallelism $n: exit"
  assert_contains "$T/out" "invalid --parallelism $n: use 1 to 64" "--parallelism $n: message"
done
for n in 1 64; do
  run "$DBSETUP" restore --parallelism "$n" -o "$T/out.db" "$url" >"$T/out" 2>&1
  assert_eq 1 "$rc" "--parallelism $n: no backup, exit 1 ($(cat "$T/out"))"
done
run "$DBSETUP" --parallelism 65 -- true >"$T/out" 2>&1
assert_eq 64 "$rc" "boot --parallelism 65"
ok "--parallelism is 1 to 64 for restore as for the boot (was 1 to 256 for restore)"

run "$DBSETUP" restore --verify sometimes -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 64 "$rc" "--verify sometimes"
assert_contains "$T/out" "invalid --verify sometimes: use full, quick or none" "--verify message"
run "$DBSETUP" restore --integrity-check none -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 1 "$rc" "--integrity-check none"
ok "--verify and --integrity-check"

run env DBSETUP_LOG_LEVEL=loud "$DBSETUP" restore -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 64 "$rc" "DBSETUP_LOG_LEVEL=loud"
assert_contains "$T/out" "invalid DBSETUP_LOG_LEVEL loud: use debug, info, warn or error" "level message"
run env DBSETUP_LOG_LEVEL= "$DBSETUP" restore -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 1 "$rc" "restore, empty DBSETUP_LOG_LEVEL"
run env DBSETUP_LOG_LEVEL= DBSETUP_VOLUME="$T/vol" "$DBSETUP" --db "$T/vol/app.db" \
  --no-restore --no-replicate -- true >"$T/out" 2>&1
assert_eq 0 "$rc" "boot, empty DBSETUP_LOG_LEVEL ($(cat "$T/out"))"
ok "DBSETUP_LOG_LEVEL: a bad name is refused, an empty one is unset (boot and restore alike)"
done_testing
