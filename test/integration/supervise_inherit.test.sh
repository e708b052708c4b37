# Children start with exactly the signal mask and dispositions dbsetup was
# started with, and inherit no fd of dbsetup's beyond 0-2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/supervise_lib.sh"
SIGRUN=$DBS_TOOLS/sigrun SIGSTATE=$DBS_TOOLS/sigstate FDS=$DBS_TOOLS/fd-lister

# An unusual start state: HUP, USR1, RTMIN+1 blocked; QUIT, USR2, PIPE ignored.
START=(-b 1 -b 10 -b "$(( $(kill -l RTMIN) + 1 ))" -i 3 -i 12 -i 13)

for mode in "${MODES[@]}"; do
  d=$T/$mode; mkdir -p "$d"
  in_mode "$mode" "$SIGRUN" "${START[@]}" -- "$SIGSTATE" "$d/expected"
  grep -q 'SigBlk:.*[1-9a-f]' "$d/expected" || fail "$mode: sigrun did not block anything"
  in_mode "$mode" "$SIGRUN" "${START[@]}" -- "$DBSETUP" -q \
    --replicate "exec $SIGSTATE $d/repl" -- "$SIGSTATE" "$d/app" "$d/repl"
  assert_eq "$(cat "$d/expected")" "$(cat "$d/app")" "$mode: app's SigBlk/SigIgn"
  assert_eq "$(cat "$d/expected")" "$(cat "$d/repl")" "$mode: replicator's SigBlk/SigIgn"
  ok "$mode: app and replicator get the start-up mask and ignored set"

  in_mode "$mode" "$SIGSTATE" "$d/plain-expected"
  in_mode "$mode" "$DBSETUP" -q -- "$SIGSTATE" "$d/plain"
  assert_eq "$(cat "$d/plain-expected")" "$(cat "$d/plain")" "$mode: default start state"
  ok "$mode: default start state passes through too"

  # fds 5 and 9 are open (inheritable) when dbsetup starts: not passed on.
  in_mode "$mode" "$SIGRUN" -f 5 -f 9 -- "$FDS" "$d/fds-expected"
  grep -qx 5 "$d/fds-expected" && grep -qx 9 "$d/fds-expected" || fail "$mode: sigrun did not open fds 5 and 9"
  in_mode "$mode" "$SIGRUN" -f 5 -f 9 -- "$DBSETUP" -q \
    --replicate "exec $FDS $d/fds-repl" -- "$FDS" "$d/fds-app" "$d/fds-repl"
  assert_eq "0 1 2" "$(sort -n "$d/fds-app" | xargs)" "$mode: app's fds"
  assert_eq "0 1 2" "$(sort -n "$d/fds-repl" | xargs)" "$mode: replicator's fds"
  ok "$mode: no fd beyond 0-2 leaks into the app or the replicator"
done

# The app's stdin/stdout/stderr are dbsetup's own, untouched (no pipe).
echo from-stdin | "$DBSETUP" -q -- sh -c 'read l; echo "got $l"; readlink /proc/self/fd/0 /proc/self/fd/1' \
  >"$T/stdio" 2>/dev/null
assert_eq "got from-stdin" "$(head -1 "$T/stdio")" "app reads dbsetup's stdin"
assert_eq "$(readlink -f "$T/stdio")" "$(sed -n 3p "$T/stdio")" "app's stdout is dbsetup's file"
ok "the app inherits stdin/stdout untouched"

done_testing
