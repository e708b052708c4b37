# A replicator that dies while the app runs is restarted with backoff
# (1 s, then 2 s), its exit status logged, and the app is never disturbed;
# one that dies after the app exited is not restarted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

# The replicator's pid as seen from here (inside a namespace $$ differs).
kill_replicator() {
  local c
  for c in $(children_of "$DPID"); do
    if [ "$(tr '\0' ' ' <"/proc/$c/cmdline")" = "sleep 30 " ]; then
      kill -KILL "$c"
      return 0
    fi
  done
  return 1
}

for mode in "${MODES[@]}"; do
  d=$T/$mode; mkdir -p "$d"
  start_bg "$mode" "$d/err" "$DBSETUP" --replicator-stop-timeout 0.5 \
    --replicate "echo \$\$ >$d/repl.pid; date +%s%N >>$d/starts; echo started \$\$; exec sleep 30" \
    -- "$PS" -o "$d/app.out" -r "$d/app.ready"
  wait_for 5 test -f "$d/app.ready" -a -f "$d/repl.pid" || fail "$mode: not ready"
  app_pid=$(sed -n 's/.*app started (pid \([0-9]*\)).*/\1/p' "$d/err")

  wait_for 2 kill_replicator || fail "$mode: no replicator among dbsetup's children"
  wait_for 4 count_ge 2 lines_of "$d/starts" || fail "$mode: replicator not restarted"
  wait_for 2 kill_replicator || fail "$mode: no replicator among dbsetup's children"
  wait_for 5 count_ge 3 lines_of "$d/starts" || fail "$mode: replicator not restarted twice"
  mapfile -t s <"$d/starts"
  gap1=$(( (s[1] - s[0]) / 1000000 )) gap2=$(( (s[2] - s[1]) / 1000000 ))
  [ "$gap1" -ge 950 ] && [ "$gap1" -lt 2000 ] || fail "$mode: first restart after $gap1 ms, expected ~1000"
  [ "$gap2" -ge 1950 ] && [ "$gap2" -lt 3500 ] || fail "$mode: second restart after $gap2 ms, expected ~2000"
  assert_contains "$d/err" "exited with signal SIGKILL (exit code 137)" "$mode: exit status logged"
  assert_contains "$d/err" "restarting in 1 s" "$mode: first backoff logged"
  assert_contains "$d/err" "restarting in 2 s" "$mode: second backoff logged"
  assert_contains "$d/err" "[replicator] started" "$mode: output relayed with prefix"
  ok "$mode: replicator restarted after ${gap1} ms, then ${gap2} ms"

  [ -s "$d/app.out" ] && fail "$mode: the app got a signal: $(cat "$d/app.out")"
  [ "$(sed -n 's/.*app started (pid \([0-9]*\)).*/\1/p' "$d/err")" = "$app_pid" ] || fail "$mode: app restarted"
  kill -0 "$app_pid" 2>/dev/null || [ "$mode" = pid1 ] || fail "$mode: app gone"
  ok "$mode: the app kept running undisturbed"

  kill -s TERM "$DPID"
  wait_bg
  assert_eq 0 "$rc" "$mode: exit status"
  ok "$mode: stops cleanly after restarts"
done

# A replicator that dies during its first-sync wait after the app exited is
# not restarted: nothing is left to replicate for. dbsetup exits with the
# app's status as soon as the replicator is gone.
for mode in "${MODES[@]}"; do
  d=$T/$mode-gone; mkdir -p "$d"
  t0=$(date +%s%3N)
  run in_mode "$mode" "$DBSETUP" \
    --replicate "date +%s%N >>$d/starts; sleep 0.3; exit 3" \
    -- sh -c 'exit 7' 2>"$d/err"
  t1=$(date +%s%3N)
  assert_eq 7 "$rc" "$mode: exit status is the app's"
  assert_eq 1 "$(lines_of "$d/starts")" "$mode: replicator starts (restarted after the app exited)"
  assert_not_contains "$d/err" "restarting in" "$mode: restart announced"
  assert_contains "$d/err" "the app is gone: not restarting it" "$mode: reason logged"
  [ $((t1 - t0)) -lt 1500 ] || fail "$mode: took $((t1 - t0)) ms, expected to end when the replicator died"
  ok "$mode: replicator dying after the app exited is not restarted; exit 7 after $((t1 - t0)) ms"
done

done_testing
