# Helpers for the supervise_* integration tests; source after lib.sh.
# Every test runs dbsetup in two modes: "child" (a plain child of this
# shell: the subreaper path) and "pid1" (PID 1 of a new PID namespace).
PS=$DBS_TOOLS/print-signals
MODES=(child pid1)

# in_mode MODE CMD...: runs CMD as a plain child or as PID 1.
in_mode() {
  local mode=$1; shift
  if [ "$mode" = pid1 ]; then
    unshare --pid --fork --mount-proc --kill-child "$@"
  else
    "$@"
  fi
}

# start_bg MODE LOG CMD...: starts CMD in the background with stderr in LOG;
# sets BG (what to wait for) and DPID (dbsetup's pid as seen from here).
start_bg() {
  local mode=$1 log=$2; shift 2
  # A simple command, not a function, so that $! is the process itself.
  if [ "$mode" = pid1 ]; then
    unshare --pid --fork --mount-proc --kill-child "$@" 2>"$log" &
  else
    "$@" 2>"$log" &
  fi
  BG=$!
  if [ "$mode" = pid1 ]; then
    DPID=
    wait_for 5 _dbsetup_child_of "$BG" || fail "dbsetup did not start under unshare"
  else
    DPID=$BG
  fi
  cleanup "kill -KILL $BG $DPID 2>/dev/null"
}
_dbsetup_child_of() {
  DPID=$(cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}')
  [ -n "$DPID" ]
}

# wait_bg: waits for the background dbsetup; sets rc.
wait_bg() { set +e; wait "$BG"; rc=$?; set -e; }

# now_ns: CLOCK_REALTIME in ns, as print-signals writes it.
now_ns() { date +%s%N; }

# has_line FILE WORD: FILE has a line ending in WORD.
has_line() { [ -f "$1" ] && grep -q " $2\$" "$1"; }

# children_of PID: the pids whose parent is PID.
children_of() { cat "/proc/$1/task/$1/children" 2>/dev/null || true; }

# zombies_of PID: how many children of PID are zombies.
zombies_of() {
  local n=0 c
  for c in $(children_of "$1"); do
    [ "$(awk '{print $3}' "/proc/$c/stat" 2>/dev/null)" = Z ] && n=$((n + 1))
  done
  echo $n
}

# count_ge N CMD...: CMD's output (a number) is at least N; re-run by wait_for.
count_ge() { local n=$1; shift; [ "$("$@")" -ge "$n" ]; }
lines_of() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
matches_of() { grep -c -- "$2" "$1" || true; }

# gone PATTERN: no process has PATTERN in its command line.
gone() { ! pgrep -f -- "$1" >/dev/null; }

# stop_during MODE SIG LOG MARKER REASON VOL CMD...: starts CMD (a dbsetup
# boot) with start_bg, its stderr in LOG; once LOG shows MARKER (the
# phase to interrupt) sends SIG, and checks that dbsetup exits 128+SIG
# within 3 s, logs REASON and leaves nothing on VOL (its .dbsetup lock
# aside). Sets STOP_MS and STOP_WANT; the caller checks the rest.
stop_during() {
  local mode=$1 sig=$2 log=$3 marker=$4 reason=$5 vol=$6 t0 t1
  shift 6
  start_bg "$mode" "$log" "$@"
  wait_for 10 grep -q "$marker" "$log" || { cat "$log"; fail "$mode: never reached '$marker'"; }
  sleep 0.5
  t0=$(date +%s%3N)
  kill -"$sig" "$DPID"
  wait_bg
  t1=$(date +%s%3N)
  STOP_MS=$((t1 - t0))
  STOP_WANT=$((128 + $(kill -l "$sig")))
  assert_eq "$STOP_WANT" "$rc" "$mode $sig during '$marker': exit status"
  assert_contains "$log" "$reason" "$mode $sig: reason"
  [ -z "$(ls -A "$vol" 2>/dev/null | grep -v '^\.dbsetup')" ] ||
    { ls -la "$vol"; fail "$mode $sig: files left on the volume"; }
  [ "$STOP_MS" -lt 3000 ] || fail "$mode $sig: took $STOP_MS ms to stop"
}
