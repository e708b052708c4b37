# Exit statuses: the app's 0-255 exactly, 128+N, 126, 127, 64, --help.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

for mode in "${MODES[@]}"; do
  # Every code 0-255 as a plain child, a sample as PID 1 (the same code
  # path); a driver shell runs dbsetup and lists mismatches. Leak checking
  # is left to the other tests: under ASan it costs 0.2 s per run.
  codes=$(seq 0 255)
  [ "$mode" = child ] || codes="0 1 2 42 63 64 69 70 125 126 127 128 129 143 254 255"
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 in_mode "$mode" bash -c '
    for code in $1; do
      "$0" -q -- sh -c "exit $code"; got=$?
      [ "$got" = "$code" ] || echo "code $code -> $got"
    done' "$DBSETUP" "$codes" >"$T/exit-$mode.txt" 2>&1
  [ ! -s "$T/exit-$mode.txt" ] || { cat "$T/exit-$mode.txt"; fail "$mode: exit codes"; }
  ok "$mode: exit codes $(echo $codes | wc -w) of 0-255 pass through exactly"

  run in_mode "$mode" "$DBSETUP" -- sh -c 'kill -USR1 $$; sleep 5' 2>"$T/err"
  assert_eq 138 "$rc" "$mode: app killed by SIGUSR1"
  assert_contains "$T/err" "exited with signal SIGUSR1 (exit code 138)" "$mode: log"
  ok "$mode: death by signal N gives 128+N"

  run in_mode "$mode" "$DBSETUP" -- /nonexistent/app --flag 2>"$T/err"
  assert_eq 127 "$rc" "$mode: missing command"
  assert_contains "$T/err" "cannot run '/nonexistent/app': command not found" "$mode: 127 message"
  run in_mode "$mode" "$DBSETUP" -- no-such-command-dbs 2>"$T/err"
  assert_eq 127 "$rc" "$mode: command not in PATH"
  assert_not_contains "$T/err" "app started" "$mode: never reported as started"
  ok "$mode: command not found gives 127, named, never 'started'"

  printf 'echo hi\n' >"$T/not-exec"; chmod 644 "$T/not-exec"
  run in_mode "$mode" "$DBSETUP" -- "$T/not-exec" 2>"$T/err"
  assert_eq 126 "$rc" "$mode: not executable"
  assert_contains "$T/err" "cannot run '$T/not-exec': Permission denied" "$mode: 126 message"
  run in_mode "$mode" "$DBSETUP" -- "$T" 2>"$T/err"
  assert_eq 126 "$rc" "$mode: a directory"
  ok "$mode: not executable gives 126, named"

  # The replicator is stopped even when the app cannot be run.
  run in_mode "$mode" "$DBSETUP" --replicate "exec $PS -s $T/repl-$mode.stamp -T 10" \
    -- no-such-command-dbs 2>"$T/err"
  assert_eq 127 "$rc" "$mode: 127 with a replicator"
  assert_contains "$T/err" "sending SIGTERM to replicator" "$mode: replicator stopped"
  assert_contains "$T/err" "replicator stopped after" "$mode: replicator waited for"
  ok "$mode: replicator stopped after an exec failure"
done

run "$DBSETUP" 2>"$T/err"
assert_eq 64 "$rc" "no command"
assert_contains "$T/err" "no command given" "usage message"
run "$DBSETUP" --stop-timeout abc -- true 2>"$T/err"
assert_eq 64 "$rc" "bad option value"
run "$DBSETUP" --no-such-option -- true 2>"$T/err"
assert_eq 64 "$rc" "unknown option"
run "$DBSETUP" --help >"$T/out"
assert_eq 0 "$rc" "--help"
assert_contains "$T/out" "127    the command was not found" "--help lists exit statuses"
ok "usage errors give 64; --help gives 0 and the exit-status table"

done_testing
