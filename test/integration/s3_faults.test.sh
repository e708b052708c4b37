#!/usr/bin/env bash
# ctest-labels: integration;s3
# ctest-timeout: 180
# The S3 backend against injected faults (test/tools/faultproxy in front of
# the patched s3rver): transient faults are retried and the data arrives
# intact; permanent ones fail at once with the right class; an unreachable
# or unresolvable endpoint fails as "unavailable" once the budget is spent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_s3.sh"
s3_start
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
head -c 300000 /dev/urandom >"$T/big.bin"
want=$(sha256sum <"$T/big.bin" | cut -d' ' -f1)
s3_put_file obj/big.bin "$T/big.bin"
for i in 1 2 3 4 5; do echo "$i" >"$T/s$i"; s3_put_file "obj/small/s$i" "$T/s$i"; done

probe() { "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "$FP_ENDPOINT" "$@"; }
get_ok() { # message probe-options...: the big object arrives intact
  local msg=$1; shift
  rm -f "$T/out"
  run probe "$@" get obj/big.bin "$T/out" 2>"$T/err"
  [ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "$msg: exit $rc"; }
  assert_eq "$want" "$(sha256sum <"$T/out" | cut -d' ' -f1)" "$msg: content"
}
nreq() { grep -c "^REQ $1" "$FP_LOG" || true; }
ms() { date +%s%3N; }

# Transient answers, then success.
for f in 503 500 502 504; do
  fp_start --fault "$f:3"
  get_ok "$f x3" --timeout-ms 20000
  assert_eq 4 "$(nreq GET)" "$f: three failures then one success"
  assert_contains "$T/err" "HTTP $f" "$f: the retries are logged"
  ok "GET after three $f answers recovers"
done
fp_start --fault 503:2:prefix=
run probe --timeout-ms 20000 --delimiter list obj/ >"$T/list" 2>"$T/err"
assert_eq 0 "$rc" "list after 503 x2"
assert_eq "P obj/small/" "$(grep '^P' "$T/list")" "list after 503: prefixes"
assert_contains "$T/err" "SlowDown" "503 SlowDown code reported"
ok "listing after two 503 SlowDown answers recovers"

fp_start --fault 429:2
t0=$(ms)
get_ok "429 x2" --timeout-ms 20000
t1=$(ms)
[ $((t1 - t0)) -ge 1900 ] || fail "429: Retry-After: 1 not honoured ($((t1 - t0)) ms)"
ok "429 with Retry-After is retried after the server's delay"

# A reset in the middle of the body: resumed with a Range from byte 100.
fp_start --fault reset:2 --reset-after 100000
get_ok "reset mid-body" --timeout-ms 20000
grep -q "range=bytes=100000- fault=reset" "$FP_LOG" || { cat "$FP_LOG"; fail "no resume from 100000"; }
grep -q "range=bytes=200000- fault=none" "$FP_LOG" || { cat "$FP_LOG"; fail "no resume from 200000"; }
assert_eq 3 "$(nreq GET)" "reset: two resumed requests"
ok "GET reset mid-body twice resumes with Range and delivers every byte once"

fp_start --fault drop:2
get_ok "drop" --timeout-ms 20000
ok "connection reset before the answer is retried"

fp_start --fault trickle --trickle 4096/5
get_ok "trickle" --timeout-ms 20000
assert_eq 1 "$(nreq GET)" "trickle: one request"
ok "slow trickle completes without a retry"

fp_start --fault stall:1
t0=$(ms)
get_ok "stall" --timeout-ms 20000 --stall-ms 1000
t1=$(ms)
assert_eq 2 "$(nreq GET)" "stall: one retry"
[ $((t1 - t0)) -lt 8000 ] || fail "stall detection too slow: $((t1 - t0)) ms"
ok "a stalled transfer is abandoned after the stall timeout and retried"

# The budget counts time without progress: a download slower than the
# budget that is reset late still resumes and completes.
fp_start --fault slowreset:1 --reset-after 200000 --trickle 8192/30
t0=$(ms)
get_ok "slow then reset" --timeout-ms 300
t1=$(ms)
[ $((t1 - t0)) -gt 600 ] || fail "slowreset was not slow ($((t1 - t0)) ms)"
grep -Eq "range=bytes=2[0-9]{5}- fault=none" "$FP_LOG" || { cat "$FP_LOG"; fail "no resume after the slow part"; }
ok "a reset after a transfer longer than the budget is still resumed (budget = time without progress)"

# Refused: nothing listens yet; the proxy comes up a second later.
port=$(free_port)
(sleep 1; exec node "$DBS_SRC/test/tools/faultproxy/faultproxy.js" \
  --upstream "127.0.0.1:$S3_PORT" --port "$port" >"$T/late.log" 2>&1) &
late=$!
cleanup "kill $late 2>/dev/null; wait $late 2>/dev/null"
run "$DBS_TOOLS/s3probe" --bucket "$S3_BUCKET" --endpoint "http://127.0.0.1:$port" \
  --timeout-ms 20000 get obj/big.bin "$T/out" 2>"$T/err"
assert_eq 0 "$rc" "refused then up: exit"
assert_eq "$want" "$(sha256sum <"$T/out" | cut -d' ' -f1)" "refused then up: content"
assert_contains "$T/err" "Couldn't connect" "refusal logged as a retry"
kill $late; wait $late 2>/dev/null || true
ok "connection refused is retried until the server comes up"

# Permanent: 403 fails at once, one request, class denied.
fp_start --fault 403
t0=$(ms)
run probe --timeout-ms 20000 get obj/big.bin "$T/out" 2>"$T/err"
t1=$(ms)
assert_eq 4 "$rc" "403: exit (denied)"
assert_eq 1 "$(nreq GET)" "403: not retried"
[ $((t1 - t0)) -lt 2000 ] || fail "403 took $((t1 - t0)) ms"
assert_contains "$T/err" "HTTP 403 AccessDenied" "403: provider code"
assert_contains "$T/err" "s3:ListBucket and s3:GetObject" "403: hint"
ok "403 AccessDenied fails at once as denied, with a hint"
run probe --timeout-ms 20000 list obj/ 2>"$T/err" >/dev/null
assert_eq 4 "$rc" "403 list: exit"
ok "403 on a listing fails at once as denied"

# Persistent 503: unavailable once the budget is spent.
fp_start --fault 503
t0=$(ms)
run probe --timeout-ms 2000 get obj/big.bin "$T/out" 2>"$T/err"
t1=$(ms)
assert_eq 3 "$rc" "503 forever: exit (unavailable)"
[ $((t1 - t0)) -ge 1900 ] && [ $((t1 - t0)) -lt 6000 ] || fail "503 forever took $((t1 - t0)) ms"
assert_contains "$T/err" "gave up after" "503 forever: attempts reported"
ok "persistent 503 gives up as unavailable when the budget is spent"

# DNS failure and refused-forever: unavailable after the budget.
t0=$(ms)
run "$DBS_TOOLS/s3probe" --bucket b --endpoint http://nonexistent.invalid:9000 \
  --timeout-ms 2000 list x 2>"$T/err"
t1=$(ms)
assert_eq 3 "$rc" "DNS: exit (unavailable)"
assert_contains "$T/err" "resolve host" "DNS: curl's reason"
[ $((t1 - t0)) -ge 1900 ] && [ $((t1 - t0)) -lt 8000 ] || fail "DNS took $((t1 - t0)) ms"
ok "an unresolvable endpoint is unavailable after the budget"
port=$(free_port)
run "$DBS_TOOLS/s3probe" --bucket b --endpoint "http://127.0.0.1:$port" \
  --timeout-ms 1500 list x 2>"$T/err"
assert_eq 3 "$rc" "refused forever: exit"
ok "a refusing endpoint is unavailable after the budget"

# Many parallel GETs through a flaky proxy.
fp_start --fault 503:4:small --fault reset:1:big --reset-after 50000
mkdir "$T/par"
run probe --timeout-ms 20000 --parallelism 4 getall "$T/par" obj/big.bin \
  obj/small/s1 obj/small/s2 obj/small/s3 obj/small/s4 obj/small/s5 2>"$T/err"
assert_eq 0 "$rc" "parallel: exit"
assert_eq "$want" "$(sha256sum <"$T/par/big.bin" | cut -d' ' -f1)" "parallel: big"
for i in 1 2 3 4 5; do assert_eq "$i" "$(cat "$T/par/s$i")" "parallel: s$i"; done
ok "six parallel GETs with faults all arrive intact"

# An endpoint that always answers "truncated" with a new marker: the base
# listed forever (memory growing, never reaching 69). A listing stops at
# its page cap, its key cap or the time budget, as unavailable (69), with
# a message that names the endpoint's behaviour.
nlist() { grep -c "^REQ GET .*prefix=" "$FP_LOG" || true; }
fp_start --fault endless
run probe --timeout-ms 20000 --list-max-pages 50 list obj/ 2>"$T/err" >/dev/null
assert_eq 3 "$rc" "endless listing, page cap: exit (unavailable)"
assert_contains "$T/err" 'still answers "truncated" with a new marker after 50 pages' "endless: page cap"
assert_contains "$T/err" "stopped at the page cap" "endless: page cap"
assert_eq 50 "$(nlist)" "endless: 50 pages requested"
ok "a listing that never ends stops at the page cap: unavailable, naming the behaviour"
fp_start --fault endless --endless-keys 1000
run probe --timeout-ms 20000 --list-max-keys 5000 list obj/ 2>"$T/err" >/dev/null
assert_eq 3 "$rc" "endless listing, key cap: exit"
assert_contains "$T/err" "after 5 pages, 5000 keys" "endless: key cap"
assert_contains "$T/err" "stopped at the key cap" "endless: key cap"
ok "a listing that never ends stops at the key cap"
fp_start --fault endless --endless-keys 1001
run probe --timeout-ms 20000 --list-max-keys 1000 list obj/ 2>"$T/err" >/dev/null
assert_eq 3 "$rc" "one page over the key cap: exit"
assert_contains "$T/err" "one page of the listing holds more than 1000 keys" "one page over the key cap"
ok "one page over the key cap is refused as it streams in"
fp_start --fault endless --endless-delay 50
t0=$(ms)
run probe --timeout-ms 1500 list obj/ 2>"$T/err" >/dev/null
t1=$(ms)
assert_eq 3 "$rc" "endless listing, time budget: exit"
assert_contains "$T/err" "stopped at the time budget (--restore-timeout)" "endless: time budget"
[ $((t1 - t0)) -ge 1400 ] && [ $((t1 - t0)) -lt 5000 ] || fail "endless listing took $((t1 - t0)) ms for a 1.5 s budget"
ok "a listing that never ends stops when the budget is spent ($((t1 - t0)) ms for 1.5 s)"
fp_start --fault stuck
run probe --timeout-ms 20000 list obj/ 2>"$T/err" >/dev/null
assert_eq 3 "$rc" "stuck marker: exit"
assert_contains "$T/err" "next marker does not advance" "stuck marker"
assert_eq 2 "$(nlist)" "stuck marker: stops at the second page"
ok "a truncated listing whose marker does not advance: unavailable at once"

# The same through dbsetup restore and its defaults (the caps) but a short
# --restore-timeout: exit 69, nothing created.
fp_start --fault endless --endless-delay 20
t0=$(ms)
run "$DBSETUP" restore --restore-timeout 2 -o "$T/endless.db" \
  "s3://$S3_BUCKET.localhost:$FP_PORT/db" 2>"$T/err"
t1=$(ms)
assert_eq 69 "$rc" "dbsetup restore, endless listing: exit"
assert_contains "$T/err" 'still answers "truncated" with a new marker' "dbsetup restore, endless listing"
[ ! -e "$T/endless.db" ] || fail "endless listing: output created"
[ $((t1 - t0)) -lt 8000 ] || fail "endless listing: dbsetup restore took $((t1 - t0)) ms"
ok "dbsetup restore against a listing that never ends: 69 within the budget, nothing created"
done_testing
