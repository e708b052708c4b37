# When dbsetup is SIGKILLed as a subreaper (not PID 1), nothing of the
# app's or the replicator's process groups survives it: PR_SET_PDEATHSIG
# reaches only the direct children, the guardian kills their groups (here
# a shell that did not exec and its sleep, in each group).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"

# live_in_group PGID: the pids of live (not zombie) processes in PGID.
live_in_group() {
  ps -e -o pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ {print $1}'
}
groups_gone() { [ -z "$(live_in_group "$1")$(live_in_group "$2")" ]; }

for round in 1 2; do
  d=$T/r$round; mkdir -p "$d"
  start_bg child "$d/err" "$DBSETUP" --replicate 'sh -c "sleep 1000; :"' \
    -- sh -c 'sleep 1000; :'
  wait_for 5 grep -q "app started" "$d/err" || fail "app not started"
  wait_for 5 grep -q "replicator started" "$d/err" || fail "replicator not started"
  app=$(sed -n 's/.*app started (pid \([0-9]*\)).*/\1/p' "$d/err")
  repl=$(sed -n 's/.*replicator started (pid \([0-9]*\)).*/\1/p' "$d/err")
  cleanup "kill -KILL -$app -$repl 2>/dev/null"
  # Both groups hold a grandchild (the sleep) before dbsetup dies.
  wait_for 5 count_ge 2 eval "live_in_group $app | wc -l" || fail "app group: no grandchild"
  wait_for 5 count_ge 3 eval "live_in_group $repl | wc -l" || fail "replicator group: no grandchild"
  if [ $round = 2 ]; then
    # The guardian itself was killed once: dbsetup starts it again.
    # The guardian names itself after its fork: under load, a moment later.
    guardian() {
      g=$(ps -e -o pid=,comm= | awk '$2 == "dbsetup-guard" {print $1}' | while read -r p; do
        [ "$(awk '{print $4}' /proc/$p/stat)" = "$DPID" ] && echo "$p"; done)
      [ -n "$g" ]
    }
    wait_for 5 guardian || fail "no guardian among dbsetup's children"
    kill -KILL "$g"
    wait_for 3 grep -q "the guardian (pid $g) died: starting it again" "$d/err" || fail "guardian not restarted"
    sleep 0.2
  fi
  t0=$(date +%s%3N)
  kill -KILL "$DPID"
  wait_for 2 groups_gone "$app" "$repl" || {
    ps -e -o pid,ppid,pgid,stat,args | awk -v a="$app" -v r="$repl" '$3 == a || $3 == r' >&2
    fail "round $round: processes of the app's or the replicator's group survived dbsetup's SIGKILL"
  }
  t1=$(date +%s%3N)
  wait_bg
  [ $((t1 - t0)) -lt 1000 ] || fail "round $round: groups gone only after $((t1 - t0)) ms"
  ok "round $round: app's and replicator's groups gone $((t1 - t0)) ms after SIGKILL of dbsetup"
done
done_testing
