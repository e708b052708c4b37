# Zombies: 100 orphaned grandchildren are reaped without stealing the app's
# exit status; descendants left at exit are stopped; with dbsetup SIGKILLed
# (not PID 1), its children die with it (parent-death signal).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

for mode in "${MODES[@]}"; do
  d=$T/$mode; mkdir -p "$d"
  # 100 orphans that exit 200 ms later, while the app keeps running.
  start_bg "$mode" "$d/err" "$DBSETUP" -v -- "$PS" -O 100 -o "$d/app.out" -r "$d/ready"
  wait_for 5 test -f "$d/ready" || fail "$mode: not ready"
  sleep 0.5
  wait_for 3 count_ge 100 matches_of "$d/err" 'reaped orphan' || fail "$mode: $(grep -c 'reaped orphan' "$d/err") of 100 orphans reaped"
  assert_eq 0 "$(zombies_of "$DPID")" "$mode: zombies among dbsetup's children"
  if [ "$mode" = child ]; then
    assert_eq "" "$(ps -o pid= --ppid $$ -o stat= | awk '$2 ~ /Z/')" "$mode: zombies left to the test shell"
  fi
  kill -s TERM "$DPID"
  wait_bg
  assert_eq 0 "$rc" "$mode: exit status"
  ok "$mode: 100 orphaned grandchildren reaped, no zombie left"

  # The app exits 42 while 100 of its orphans exit around it: the one
  # waiter routes every status by pid, so 42 is never lost.
  for i in 1 2 3; do
    run in_mode "$mode" "$DBSETUP" -q -- "$PS" -O 100 -x 42
    assert_eq 42 "$rc" "$mode: app status among orphans (round $i)"
  done
  ok "$mode: the app's exit status is never stolen by orphan reaping"

  # Orphans still running when the app exits are stopped before exit.
  run in_mode "$mode" "$DBSETUP" -- "$PS" -L 5 -x 0 -o "$d/linger.marker" 2>"$d/linger.err"
  assert_eq 0 "$rc" "$mode: exit status with lingering orphans"
  assert_contains "$d/linger.err" "sent SIGTERM to 5 remaining process(es)" "$mode: cleanup logged"
  wait_for 2 gone "$d/linger.marker" || fail "$mode: orphans outlived dbsetup"
  ok "$mode: remaining descendants are stopped before dbsetup exits"
done

# PID 1 of a namespace that still shows the host's /proc: leftovers are
# stopped with kill(-1), which stays inside the namespace; a process
# outside (reparented to the host's init, like the host's own) survives.
d=$T/nomount; mkdir -p "$d"
(exec -a "canary-$T" sleep 30 &)
cleanup "pkill -f 'canary-$T'"
wait_for 2 pgrep -f "canary-$T" >/dev/null || fail "no canary"
run unshare --pid --fork --kill-child "$DBSETUP" -- "$PS" -L 3 -x 0 -o "$d/marker" 2>"$d/err"
assert_eq 0 "$rc" "exit status without --mount-proc"
assert_contains "$d/err" "sent SIGTERM to all remaining processes" "blind cleanup logged"
wait_for 2 gone "$d/marker" || fail "orphans outlived dbsetup without --mount-proc"
pgrep -f "canary-$T" >/dev/null || fail "a process outside the namespace was killed"
ok "pid1 with the host's /proc: leftovers stopped, nothing outside touched"

# Not PID 1 and SIGKILLed: the app and replicator must not run on.
d=$T/pdeath; mkdir -p "$d"
start_bg child "$d/err" "$DBSETUP" --replicate "exec $PS -o $d/repl.marker -r $d/repl.ready" \
  -- "$PS" -o "$d/app.marker" -r "$d/app.ready"
wait_for 5 test -f "$d/app.ready" -a -f "$d/repl.ready" || fail "pdeath: not ready"
kill -KILL "$DPID"
wait_bg
wait_for 2 gone "$d/app.marker" || fail "the app survived dbsetup's SIGKILL"
wait_for 2 gone "$d/repl.marker" || fail "the replicator survived dbsetup's SIGKILL"
ok "child: app and replicator die with a SIGKILLed dbsetup"

done_testing
