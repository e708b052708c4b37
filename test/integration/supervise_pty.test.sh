# In a pseudo-terminal the app is the foreground process group: Ctrl-C
# reaches it (not dbsetup) and dbsetup exits 130; Ctrl-Z stops the app and
# dbsetup, and both continue together.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
PTYRUN=$DBS_TOOLS/ptyrun

for mode in "${MODES[@]}"; do
  d=$T/$mode; mkdir -p "$d"
  # The app dies of SIGINT by default (the tty sends it to the foreground
  # group). It starts no command once it is ready (see the Ctrl-Z case
  # below): a ^C that lands while dash is setting up a vfork reaches sh
  # (which holds it until its foreground command ends) but not the command
  # it is starting, so `touch ready; sleep 20` could run 20 s more.
  run in_mode "$mode" "$PTYRUN" -w "$d/ready" -- \
    "$DBSETUP" -- sh -c ": >$d/ready; exec sleep 20" >"$d/out" 2>"$d/ptyrun.err"
  assert_eq 130 "$rc" "$mode: exit status after Ctrl-C"
  assert_contains "$d/out" "exited with signal SIGINT (exit code 130)" "$mode: app died of SIGINT"
  assert_not_contains "$d/out" "received SIGINT" "$mode: Ctrl-C went to the app's group, not dbsetup"
  ok "$mode: Ctrl-C in a terminal reaches the app; dbsetup exits 130"

  # The app sees the terminal as its controlling tty, in the foreground.
  run in_mode "$mode" "$PTYRUN" -- "$DBSETUP" -q -- \
    sh -c 'test "$(ps -o tpgid= -p $$ | tr -d " ")" = "$(ps -o pgid= -p $$ | tr -d " ")" && echo FOREGROUND' >"$d/fg"
  assert_eq 0 "$rc" "$mode: foreground check ran"
  assert_contains "$d/fg" "FOREGROUND" "$mode: app is the terminal's foreground group"
  ok "$mode: the app is the terminal's foreground process group"

  # After the app (even one that failed to exec), the terminal is back
  # with the group that started dbsetup.
  run in_mode "$mode" "$PTYRUN" -- bash -c "
    '$DBSETUP' -q -- no-such-command-dbs; echo rc=\$?
    '$DBSETUP' -q -- true
    ps -o tpgid=,pgid= -p \$\$ | awk '\$1 == \$2 {print \"TERMINAL-BACK\"}'" >"$d/back"
  assert_contains "$d/back" "rc=127" "$mode: exec failure in a terminal"
  assert_contains "$d/back" "TERMINAL-BACK" "$mode: terminal given back"
  ok "$mode: the terminal is given back after the app"

  # Ctrl-Z stops the app (the foreground group) and dbsetup stops too, so
  # that the shell sees its job stopped; continued (fg), dbsetup gives the
  # terminal back to the app and continues it, and the app finishes.
  # The app starts nothing once it is ready: dash starts a foreground
  # command with vfork, and a Ctrl-Z between that vfork and the exec stops
  # the new child while sh waits for it in the kernel, where no stop signal
  # reaches it. sh then never stops, and neither dbsetup nor a job-control
  # shell (bash -m does the same) is told of any stop. So the ready file is
  # written by sh itself (no touch) after `sleep` was started with fork (&).
  rm -f "$d/zready"
  run in_mode "$mode" "$PTYRUN" -z -w "$d/zready" -- "$DBSETUP" -- \
    sh -c "sleep 2 & : >$d/zready; wait; echo APP-FINISHED" >"$d/z" 2>"$d/z.err"
  assert_eq 0 "$rc" "$mode: exit status after Ctrl-Z and fg"
  assert_contains "$d/z.err" "ptyrun: stopped" "$mode: dbsetup stopped with the app"
  assert_contains "$d/z" "the app was stopped (SIGTSTP, Ctrl-Z): stopping dbsetup too" "$mode: logged"
  assert_contains "$d/z" "continuing the app in the foreground" "$mode: resumed in the foreground"
  assert_contains "$d/z" "APP-FINISHED" "$mode: the app ran on to its end"
  ok "$mode: Ctrl-Z stops the app and dbsetup; continued, the app finishes in the foreground"
done

done_testing
