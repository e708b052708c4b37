#!/usr/bin/env bash
# ctest-labels: integration;restore;setup
# ctest-timeout: 120
# Replica types dbsetup does not read itself (sftp here, also gcs and abs)
# are restored at boot by the real `litestream restore`: logged as such;
# its failure stops the boot with 69, nothing on the volume, the app not
# started; a stop signal during it exits 128+N, also as PID 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
app=$T/app vol=$T/data
mkdir -p "$app"
cd "$app"
yml() { # PORT: an sftp replica on 127.0.0.1:PORT
  cat >litestream.yml <<YML
dbs:
  - path: $vol/dev.db
    replicas:
      - type: sftp
        host: 127.0.0.1:$1
        user: dbs
        password: dbs-fallback-password-value
        path: /backups/dev.db
YML
}
boot_args=(--db db/dev.db --volume "$vol" --litestream "$LITESTREAM"
  --litestream-config litestream.yml -- sh -c 'echo APP-STARTED')

# Nothing listens: litestream fails, dbsetup exits 69.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
yml "$port"
run "$DBSETUP" "${boot_args[@]}" >"$T/out" 2>&1
assert_eq 69 "$rc" "unreachable sftp: exit status"
assert_contains "$T/out" "is of type sftp: restoring with litestream" "fallback logged"
assert_contains "$T/out" "litestream restore of $vol/dev.db failed" "failure named"
assert_not_contains "$T/out" "APP-STARTED" "the app must not start"
assert_not_contains "$T/out" "dbs-fallback-password-value" "secret printed"
[ -z "$(ls -A "$vol" 2>/dev/null | grep -v '^\.dbsetup')" ] || { ls -la "$vol"; fail "files left on the volume"; }
ok "sftp replica: restored by litestream; unreachable, the boot exits 69 with nothing on the volume"

# A server that accepts and never answers: litestream waits; TERM or INT
# stops the boot at once. dbsetup starts its commands with the signals it
# was started with ignored still ignored (as tini does), and a background
# job of this script starts with INT ignored: dflt resets INT and QUIT
# first, as on a container's PID 1 or under Fly's init.
dflt=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])')
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept())
' >"$T/silent.port" &
silent=$!
cleanup "kill $silent 2>/dev/null"
wait_for 5 test -s "$T/silent.port" || fail "silent server did not start"
yml "$(cat "$T/silent.port")"
for mode in "${MODES[@]}"; do
  for sig in TERM INT; do
    stop_during "$mode" "$sig" "$T/stop.out" "restoring with litestream" \
      "litestream restore interrupted by signal" "$vol" \
      "${dflt[@]}" "$DBSETUP" "${boot_args[@]}"
    assert_not_contains "$T/stop.out" "APP-STARTED" "$mode $sig: the app must not start"
    ok "$mode: $sig during litestream's restore stops the boot with $STOP_WANT in $STOP_MS ms"
  done
done
done_testing
