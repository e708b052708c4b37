#!/usr/bin/env bash
# ctest-labels: container
# ctest-timeout: 900
# `podman run -it` in a real terminal (tmux): Ctrl-Z does not leave the app
# stopped; Ctrl-C: the app gets SIGINT and the container exits 130.
. "$(dirname "$0")/lib.sh"
. "$DBS_SRC/test/container/lib.sh"
command -v tmux >/dev/null || fail "tmux is needed (scripts/container-setup.sh installs it)"
ct_images
ct_s3_start

CT_PORT=$(ct_free_port)
session=dbs-tty-$$
mkdir -p "$T/vol"
cat >"$T/run.sh" <<SH
podman run -it --rm --name tty-$$ --network host -v $T/vol:/data -e PORT=$CT_PORT \
  $(ct_s3_env) ${CT_RUN_OPTS:-} $CT_IMAGE
echo "exit=\$?" >$T/rc
sleep 60
SH
tmux new-session -d -s "$session" -x 200 -y 50 "bash $T/run.sh"
cleanup "tmux kill-session -t $session 2>/dev/null; podman rm -f -t 0 tty-$$ >/dev/null 2>&1"
up() { curl -sf -o /dev/null "http://127.0.0.1:$CT_PORT/" || test -s "$T/rc"; }
wait_for 60 up || true
curl -sf -o /dev/null "http://127.0.0.1:$CT_PORT/" ||
  { tmux capture-pane -p -S -200 -t "$session" >&2; cat "$T/rc" >&2 2>/dev/null; fail "tty: no HTTP 200"; }
ok "the app serves under podman run -it"

# Ctrl-Z stops the app (the terminal's foreground group), but with dbsetup
# as PID 1 nothing could ever continue it: dbsetup does, and it serves on.
tmux send-keys -t "$session" C-z
tmux_has() { tmux capture-pane -p -S -200 -t "$session" | grep -q "$1"; }
wait_for 10 tmux_has "as PID 1 nothing could continue it" ||
  { tmux capture-pane -p -S -200 -t "$session" >&2; fail "tty: Ctrl-Z not handled"; }
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$CT_PORT/" ||
  { tmux capture-pane -p -S -200 -t "$session" >&2; fail "tty: the app stays stopped after Ctrl-Z"; }
ok "Ctrl-Z as PID 1: the app is continued and serves on"

tmux send-keys -t "$session" C-c
wait_for 20 test -s "$T/rc" || { tmux capture-pane -p -S -200 -t "$session" >&2; fail "tty: container did not exit after Ctrl-C"; }
tmux capture-pane -p -S -200 -t "$session" >"$T/screen.txt"
assert_eq "exit=130" "$(cat "$T/rc")" "tty: exit status after Ctrl-C"
assert_contains "$T/screen.txt" "app: received SIGINT" "tty: the app got SIGINT"
ok "Ctrl-C: the app got SIGINT, exit 130"

done_testing
