# A stalled stderr reader never freezes supervision: with dbsetup's stderr
# a pipe whose reader is stopped (SIGSTOP) and the replicator flooding its
# output, signals are still forwarded, a stop still stops the app and
# dbsetup exits within the stop timeout; lines that did not fit are
# dropped and counted in a note once the reader is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
FLOOD="yes 'flood line 0123456789 0123456789 0123456789 0123456789' | head -n 100000"

for mode in "${MODES[@]}"; do
  d=$T/$mode; mkdir -p "$d"
  mkfifo "$d/fifo"
  cat "$d/fifo" >"$d/err" &
  CAT=$!
  cleanup "kill -CONT $CAT 2>/dev/null; kill -KILL $CAT 2>/dev/null"
  start_bg "$mode" "$d/fifo" "$DBSETUP" --stop-timeout 5 --replicate "
    until [ -e $d/go1 ]; do sleep 0.05; done; $FLOOD; touch $d/flooded1
    until [ -e $d/go2 ]; do sleep 0.05; done; $FLOOD; touch $d/flooded2
    exec sleep 1000" -- "$PS" -o "$d/app.out" -r "$d/app.ready"
  wait_for 5 test -f "$d/app.ready" || fail "$mode: app not ready"

  # The reader stops; 6 MB of replicator output arrive.
  kill -STOP "$CAT"
  touch "$d/go1"
  wait_for 20 test -e "$d/flooded1" || fail "$mode: the replicator was blocked: dbsetup stopped reading its output"
  kill -HUP "$DPID"
  wait_for 5 has_line "$d/app.out" SIGHUP || fail "$mode: SIGHUP not forwarded while stderr was stalled"
  ok "$mode: output relayed and a signal forwarded with stderr's reader stopped"

  kill -CONT "$CAT"
  wait_for 10 grep -q "line(s) dropped: stderr was not being read" "$d/err" ||
    fail "$mode: no 'dropped' note once the reader was back"
  ok "$mode: '$(grep -o 'warn: [0-9]* line(s) dropped' "$d/err" | head -1)' once the reader was back"

  # Stalled again, flooded again: a stop still stops everything in time.
  kill -STOP "$CAT"
  touch "$d/go2"
  wait_for 20 test -e "$d/flooded2" || fail "$mode: the replicator was blocked the second time"
  t0=$(date +%s%3N)
  kill -TERM "$DPID"
  wait_bg
  t1=$(date +%s%3N)
  assert_eq 0 "$rc" "$mode: exit status"
  has_line "$d/app.out" SIGTERM || fail "$mode: the app did not get SIGTERM"
  [ $((t1 - t0)) -lt 5000 ] || fail "$mode: exit took $((t1 - t0)) ms with stderr stalled (stop timeout 5 s)"
  kill -CONT "$CAT"
  wait_for 5 eval "! kill -0 $CAT 2>/dev/null" || fail "$mode: stderr still held open after exit"
  assert_contains "$d/err" "[replicator] flood line" "$mode: relayed lines"
  ok "$mode: TERM with stderr stalled: app stopped, dbsetup exited in $((t1 - t0)) ms"
done

done_testing
