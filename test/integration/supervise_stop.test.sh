# Stop sequence: app first, replicator last; SIGKILL after --stop-timeout;
# a second stop signal escalates; the app exiting by itself stops the
# replicator (SIGTERM to its whole group) and dbsetup waits for it; a
# stopped app is continued so that it can act on the stop signal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

for mode in "${MODES[@]}"; do
  d=$T/$mode; mkdir -p "$d"
  # The replicator is a shell that does not exec: only a group signal
  # reaches print-signals behind it.
  start_bg "$mode" "$d/order.err" "$DBSETUP" --stop-timeout 1 --replicator-stop-timeout 1 \
    --replicate "echo relay-check; $PS -o $d/repl.out -r $d/repl.ready -s $d/repl.stamp -d 200; echo replicator-done" \
    -- "$PS" -o "$d/app.out" -r "$d/app.ready" -s "$d/app.stamp" -d 300 -e 0
  wait_for 5 test -f "$d/repl.ready" -a -f "$d/app.ready" || fail "$mode: not ready"
  kill -s TERM "$DPID"
  wait_bg
  assert_eq 0 "$rc" "$mode: exit status after TERM"
  app_stop=$(cat "$d/app.stamp")
  repl_got=$(awk '$2 == "SIGTERM" {print $1}' "$d/repl.out")
  repl_stop=$(cat "$d/repl.stamp")
  [ -n "$repl_got" ] || fail "$mode: replicator never got SIGTERM"
  [ "$repl_got" -gt "$app_stop" ] || fail "$mode: replicator got SIGTERM ($repl_got) before the app was gone ($app_stop)"
  [ "$repl_stop" -gt "$repl_got" ] || fail "$mode: replicator stamps out of order"
  assert_contains "$d/order.err" "[replicator] relay-check" "$mode: replicator output relayed"
  assert_not_contains "$d/order.err" "[replicator] replicator-done" "$mode: the shell got SIGTERM too"
  rpid=$(sed -n 's/.*replicator started (pid \([0-9]*\)).*/\1/p' "$d/order.err")
  assert_contains "$d/order.err" "process group $rpid is gone" "$mode: waited for the group"
  assert_contains "$d/order.err" "replicator stopped after" "$mode: shutdown step logged"
  ok "$mode: TERM stops the app, then the replicator (group), which finishes"

  # An app that ignores TERM is killed after --stop-timeout.
  start_bg "$mode" "$d/kill.err" "$DBSETUP" --stop-timeout 0.5 -- "$PS" -I -r "$d/kill.ready" -o "$d/kill.out"
  wait_for 5 test -f "$d/kill.ready" || fail "$mode: not ready"
  t0=$(now_ns); kill -s TERM "$DPID"; wait_bg; t1=$(now_ns)
  assert_eq 137 "$rc" "$mode: SIGKILLed app"
  ms=$(( (t1 - t0) / 1000000 ))
  [ "$ms" -ge 450 ] && [ "$ms" -lt 3000 ] || fail "$mode: SIGKILL after $ms ms, expected ~500"
  has_line "$d/kill.out" SIGTERM || fail "$mode: app never saw SIGTERM"
  assert_contains "$d/kill.err" "sending SIGKILL to its process group" "$mode: escalation logged"
  ok "$mode: SIGKILL after --stop-timeout ($ms ms)"

  # A second stop signal escalates at once.
  start_bg "$mode" "$d/twice.err" "$DBSETUP" --stop-timeout 20 -- "$PS" -I -r "$d/twice.ready" -o "$d/twice.out"
  wait_for 5 test -f "$d/twice.ready" || fail "$mode: not ready"
  kill -s INT "$DPID"
  wait_for 3 has_line "$d/twice.out" SIGINT || fail "$mode: first INT not forwarded"
  t0=$(now_ns); kill -s TERM "$DPID"; wait_bg; t1=$(now_ns)
  assert_eq 137 "$rc" "$mode: second stop signal"
  ms=$(( (t1 - t0) / 1000000 ))
  [ "$ms" -lt 2000 ] || fail "$mode: second stop signal took $ms ms"
  ok "$mode: a second stop signal kills at once ($ms ms)"

  # The app exits by itself: the replicator gets SIGTERM, dbsetup waits.
  start_bg "$mode" "$d/self.err" "$DBSETUP" --replicator-stop-timeout 2 \
    --replicate "exec $PS -o $d/self-repl.out -r $d/self-repl.ready -s $d/self-repl.stamp -d 400" \
    -- sh -c "while [ ! -f $d/self-repl.ready ]; do sleep 0.02; done; exit 5"
  wait_bg
  assert_eq 5 "$rc" "$mode: app's own exit code"
  has_line "$d/self-repl.out" SIGTERM || fail "$mode: replicator got no SIGTERM"
  [ -f "$d/self-repl.stamp" ] || fail "$mode: dbsetup did not wait for the replicator's final 400 ms"
  ok "$mode: app exits → replicator gets SIGTERM and is waited for"

  # A replicator ignoring SIGTERM is killed after --replicator-stop-timeout.
  start_bg "$mode" "$d/rkill.err" "$DBSETUP" --replicator-stop-timeout 0.5 \
    --replicate "exec $PS -I -o $d/rkill.out -r $d/rkill.ready" \
    -- sh -c "while [ ! -f $d/rkill.ready ]; do sleep 0.02; done; exit 0"
  t0=$(now_ns); wait_bg; t1=$(now_ns)
  assert_eq 0 "$rc" "$mode: exit code with a stubborn replicator"
  ms=$(( (t1 - t0) / 1000000 ))
  [ "$ms" -ge 450 ] && [ "$ms" -lt 3000 ] || fail "$mode: replicator killed after $ms ms"
  assert_contains "$d/rkill.err" "replicator (pid" "$mode: replicator logged"
  assert_contains "$d/rkill.err" "exited with signal SIGKILL" "$mode: replicator SIGKILLed"
  ok "$mode: SIGKILL to the replicator after --replicator-stop-timeout"

  # Its shell dies at once, a member of its group ignores SIGTERM: dbsetup
  # waits for the group, then SIGKILLs it after the timeout.
  run in_mode "$mode" "$DBSETUP" --replicator-stop-timeout 0.5 \
    --replicate "($PS -I -o $d/member.out -r $d/member.ready -T 10; echo member-survived); true" \
    -- sh -c "while [ ! -f $d/member.ready ]; do sleep 0.02; done; exit 0" 2>"$d/member.err"
  assert_eq 0 "$rc" "$mode: exit code with a stubborn group member"
  has_line "$d/member.out" SIGTERM || fail "$mode: group member never got SIGTERM"
  assert_contains "$d/member.err" "still has processes" "$mode: group member SIGKILLed"
  assert_not_contains "$d/member.err" "[replicator] member-survived" "$mode: group member survived"
  wait_for 2 gone "$d/member.out" || fail "$mode: group member still running"
  ok "$mode: the replicator's whole process group is waited for, then killed"

  # A stopped app (SIGSTOP, Ctrl-Z) is continued after the stop signal, so
  # that it can act on it instead of waiting for SIGKILL.
  start_bg "$mode" "$d/stopped.err" "$DBSETUP" --stop-timeout 5 -- \
    "$PS" -o "$d/stopped.out" -r "$d/stopped.ready" -e 0
  wait_for 5 test -f "$d/stopped.ready" || fail "$mode: not ready"
  app=$(children_of "$DPID" | awk '{print $1}')
  [ -n "$app" ] || fail "$mode: no app process"
  kill -s STOP $app
  wait_for 3 sh -c "grep -q '^State:.*T' /proc/$app/status" || fail "$mode: app not stopped"
  t0=$(now_ns); kill -s TERM "$DPID"; wait_bg; t1=$(now_ns)
  ms=$(( (t1 - t0) / 1000000 ))
  assert_eq 0 "$rc" "$mode: a stopped app exits by itself on TERM"
  has_line "$d/stopped.out" SIGTERM || fail "$mode: the stopped app never saw SIGTERM"
  [ "$ms" -lt 3000 ] || fail "$mode: took $ms ms (SIGKILL after the timeout?)"
  ok "$mode: a stopped app is continued after the stop signal and exits on it ($ms ms)"
done

done_testing
