# ctest-labels: integration;litefs
# ctest-timeout: 180
# dbsetup as LiteFS's exec command, against the real LiteFS v0.5.14: the
# exit contract of `litefs mount` (../shared/docs/litefs.md §1.3).
# - SIGTERM to litefs: litefs forwards it to dbsetup only; the app gets it
#   and exits 143 as apps do; then the replicator gets its SIGTERM while
#   the mount is still up (its final sync); dbsetup stops everything, reaps the app's
#   leftover worker (it sits in the mount dir: a survivor makes the
#   unmount fail), then dies of the same SIGTERM, so litefs closes: it
#   exits 0 and the mount is gone. Exiting 143 instead (dbsetup before
#   this) makes litefs exit 1 without unmounting.
# - The app ends on its own with 3: litefs exits 3, mount gone.
# - Own process group: a terminal's SIGINT to litefs's group reaches
#   dbsetup once (from litefs), not twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/litefs_lib.sh"
lfs_require
lfs_app

app_started() { grep -q "app $1: started" "$T/events" 2>/dev/null; }

# 0. The control: an exec command that exits 128+15 after the forwarded
#    SIGTERM (the app alone; dbsetup did the same before): litefs exits 1
#    and leaves its mount behind.
lfs_config a "$T/app.sh"
lfs_start a
lfs_wait_ready a
wait_for 20 app_started a || { cat "$T/a.log"; fail "the app never started"; }
kill -TERM "$LFS_PID_a"
lfs_wait_exit a 30
assert_eq 1 "$rc" "control: litefs's exit status when its child exits 143 on SIGTERM"
assert_contains "$T/a.log" "cannot wait for exec process: exit status 143" "control: litefs's error"
lfs_mounted a || fail "control: the mount is gone (expected it left behind)"
kill -KILL "$(cat "$T/worker-a")" 2>/dev/null || true
fusermount3 -u "$T/a/mnt" 2>/dev/null || umount -l "$T/a/mnt"
ok "control: a child exiting 143 after SIGTERM -> litefs exits 1, mount left behind"

# 1. SIGTERM to litefs, with a replicator: app first, then the
#    replicator (its final sync while the mount is still up), then litefs
#    unmounts.
rm -f "$T/events"
lfs_config a "$DBSETUP --replicate $T/repl.sh -- $T/app.sh"
lfs_start a
lfs_wait_ready a
wait_for 20 app_started a || { cat "$T/a.log"; fail "the app never started"; }
kill -TERM "$LFS_PID_a"
lfs_wait_exit a 30
cp "$T/a.log" "$T/a-term.log"
assert_eq "app a: started|app a: SIGTERM|repl a: SIGTERM, mount up" "$(tr '\n' '|' <"$T/events" | sed 's/|$//')" "order of the stop"
assert_eq 0 "$rc" "litefs's exit status after SIGTERM (log: $(tail -5 "$T/a.log" | tr '\n' '|'))"
! lfs_mounted a || fail "the mount is still there after litefs exited"
assert_contains "$T/a.log" "litefs shut down complete" "litefs closed cleanly"
! kill -0 "$(cat "$T/worker-a")" 2>/dev/null || fail "the app's worker survived"
ok "SIGTERM to litefs: app, then replicator (mount still up), litefs exits 0, mount gone, no survivor"

# 2. The app exits 3 on its own.
rm -f "$T/events"
lfs_start a
lfs_wait_ready a
wait_for 20 app_started a || { cat "$T/a.log"; fail "the app never started"; }
touch "$T/crash-a"
lfs_wait_exit a 30
rm -f "$T/crash-a"
assert_eq 3 "$rc" "litefs's exit status when the app exits 3"
! lfs_mounted a || fail "the mount is still there after the app exited 3"
ok "the app exits 3: litefs exits 3, mount gone"

# 3. SIGINT to litefs's whole process group (a terminal's Ctrl-C): the app
#    is stopped by one SIGINT, not killed by an escalation.
rm -f "$T/events"
LFS_SETSID=1 lfs_start a
lfs_wait_ready a
wait_for 20 app_started a || { cat "$T/a.log"; fail "the app never started"; }
kill -INT -- "-$LFS_PID_a"
lfs_wait_exit a 30
assert_contains "$T/events" "app a: SIGINT" "the app got the SIGINT"
assert_not_contains "$T/a.log" "killing the app now" "a second SIGINT escalated"
assert_eq 0 "$rc" "litefs's exit status after a group SIGINT"
! lfs_mounted a || fail "the mount is still there after a group SIGINT"
ok "SIGINT to the whole group (Ctrl-C): delivered once, litefs exits 0, mount gone"
done_testing
