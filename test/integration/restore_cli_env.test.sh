#!/usr/bin/env bash
# ctest-labels: integration;restore
# ctest-timeout: 60
# `dbsetup restore` honours --restore-timeout and the variables the boot
# reads (DBSETUP_RESTORE_TIMEOUT, DBSETUP_LOG_LEVEL), and refuses
# abbreviated flags.
. "$(dirname "$0")/lib.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="s3://bucket.localhost:$port/db"
start=$(date +%s)
run env DBSETUP_RESTORE_TIMEOUT=1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secretsecret \
  "$DBSETUP" restore -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 69 "$rc" "refused storage"
assert_contains "$T/out" "gave up after" "retries bounded"
[ $(( $(date +%s) - start )) -lt 15 ] || fail "DBSETUP_RESTORE_TIMEOUT=1 not honoured"
[ ! -e "$T/out.db" ] || fail "output created"
ok "DBSETUP_RESTORE_TIMEOUT bounds the retries: 69, no output"

run env DBSETUP_LOG_LEVEL=error AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secretsecret \
  "$DBSETUP" restore --restore-timeout 1 -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 69 "$rc" "refused storage, flag"
assert_not_contains "$T/out" "warn:" "DBSETUP_LOG_LEVEL=error hides the retry warnings"
ok "--restore-timeout and DBSETUP_LOG_LEVEL"

run "$DBSETUP" restore --restore-timeout soon -o "$T/out.db" "$url" >"$T/out" 2>&1
assert_eq 64 "$rc" "bad timeout"
ok "a bad --restore-timeout is a usage error"

# Flags are written in full, as litestream's: no getopt prefixes.
for cmd in "restore -gen 0123456789abcdef -o $T/out.db" "generations -rep s3"; do
  # shellcheck disable=SC2086
  run "$DBSETUP" $cmd "$url" >"$T/out" 2>&1
  assert_eq 64 "$rc" "$cmd: exit"
  assert_contains "$T/out" "is abbreviated: write it in full" "$cmd: message"
done
[ ! -e "$T/out.db" ] || fail "an abbreviated flag restored something"
ok "an abbreviated flag (-gen, -rep) is a usage error naming the full flag"
done_testing
