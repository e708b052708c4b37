# Every catchable signal reaches the app; TSTP/TTIN/TTOU never stop dbsetup;
# the process group gets signals, and with --signal-child-only only the app.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

# Standard signals one at a time (they do not queue), then real-time ones.
SIGS=(HUP QUIT USR1 USR2 ALRM WINCH CONT URG VTALRM PROF PWR TSTP IO XCPU XFSZ STKFLT)
RTMIN=$(kill -l RTMIN)
RTMAX=$(kill -l RTMAX)

for mode in "${MODES[@]}"; do
  out=$T/sig-$mode.out
  start_bg "$mode" "$T/sig-$mode.err" "$DBSETUP" -- "$PS" -o "$out" -r "$T/ready-$mode" -e 3
  wait_for 5 test -f "$T/ready-$mode" || fail "$mode: app not ready"
  for s in "${SIGS[@]}"; do
    kill -s "$s" "$DPID"
    name=SIG$s; [ "$s" != IO ] || name=SIGPOLL # glibc's name for it
    wait_for 3 has_line "$out" "$name" || { cat "$T/sig-$mode.err"; fail "$mode: SIG$s not forwarded"; }
  done
  ok "$mode: ${#SIGS[@]} standard signals reach the app"
  for ((n = RTMIN; n <= RTMAX; n++)); do
    kill -s "$n" "$DPID"
    wait_for 3 has_line "$out" "SIGRTMIN+$((n - RTMIN))" || fail "$mode: real-time signal $n not forwarded"
  done
  ok "$mode: every real-time signal ($RTMIN-$RTMAX) reaches the app"
  assert_contains "$T/sig-$mode.err" "forwarding SIGUSR1 to the app (process group" "$mode: forwarding logged"

  for s in TTIN TTOU TSTP; do kill -s "$s" "$DPID"; done
  sleep 0.2
  state=$(awk '{print $3}' "/proc/$DPID/stat")
  [ "$state" != T ] || fail "$mode: dbsetup stopped by a terminal signal"
  ! has_line "$out" SIGTTIN || fail "$mode: SIGTTIN forwarded"
  kill -s USR1 "$DPID"
  wait_for 3 count_ge 2 matches_of "$out" ' SIGUSR1$' || fail "$mode: dbsetup unresponsive after TTIN/TTOU/TSTP"
  ok "$mode: TSTP/TTIN/TTOU do not stop dbsetup"

  kill -s TERM "$DPID"
  wait_bg
  assert_eq 3 "$rc" "$mode: app's exit code after TERM"
  has_line "$out" SIGTERM || fail "$mode: SIGTERM not forwarded"
  ok "$mode: SIGTERM is forwarded and the app's exit code returned"

  # A grandchild in the app's process group gets forwarded signals...
  gc=$T/gc-$mode.out
  start_bg "$mode" "$T/gc-$mode.err" "$DBSETUP" -- "$PS" -o "$T/app-$mode.out" -r "$T/gready-$mode" -g "$gc"
  wait_for 5 test -f "$T/gready-$mode" -a -f "$gc.ready" || fail "$mode: grandchild not ready"
  kill -s USR2 "$DPID"
  wait_for 3 has_line "$gc" SIGUSR2 || fail "$mode: grandchild did not get SIGUSR2 through the group"
  kill -s TERM "$DPID"
  wait_bg
  assert_eq 0 "$rc" "$mode: exit after group test"
  ok "$mode: a grandchild gets signals through the process group"

  # ... and with --signal-child-only it does not.
  gc=$T/gc1-$mode.out
  start_bg "$mode" "$T/gc1-$mode.err" "$DBSETUP" --signal-child-only -- \
    "$PS" -o "$T/app1-$mode.out" -r "$T/g1ready-$mode" -g "$gc"
  wait_for 5 test -f "$T/g1ready-$mode" -a -f "$gc.ready" || fail "$mode: grandchild not ready"
  kill -s USR2 "$DPID"
  wait_for 3 has_line "$T/app1-$mode.out" SIGUSR2 || fail "$mode: app did not get SIGUSR2"
  sleep 0.3
  ! has_line "$gc" SIGUSR2 || fail "$mode: --signal-child-only still signalled the grandchild"
  kill -s TERM "$DPID"
  wait_bg
  assert_eq 0 "$rc" "$mode: exit after child-only test"
  assert_contains "$T/gc1-$mode.err" "forwarding SIGUSR2 to the app (pid" "$mode: child-only logged"
  ok "$mode: --signal-child-only signals the app's pid only"
done

done_testing
