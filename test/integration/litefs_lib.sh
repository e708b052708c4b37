# A two-node LiteFS cluster on one machine, for the litefs_* tests; source
# after lib.sh. Real LiteFS ($DBS_PEERS/litefs, v0.5.14, from
# scripts/peers.sh) with a static lease: node "a" is the primary, node "b"
# a replica of it. Each node has its own mount dir $T/<n>/mnt, data dir
# $T/<n>/vol/litefs and HTTP port on 127.0.0.1 (LFS_PORT_a, LFS_PORT_b).
#
# lfs_require: ends the test with an explicit SKIP line (status 0) unless
#   it runs as root with /dev/fuse, fusermount3 (Debian fuse3) and litefs.
# lfs_config NODE [EXEC [PRE]]: writes $T/NODE.yml (EXEC, a command line
#   run through LiteFS's exec:, is optional; without it LiteFS runs alone;
#   PRE, a command LiteFS runs to its end before EXEC).
# lfs_start NODE: starts `litefs mount -config $T/NODE.yml` in the
#   background (its output in $T/NODE.log), sets LFS_PID_NODE, and
#   registers the teardown. With LFS_SETSID=1, litefs leads a session and
#   process group of its own (as PID 1 of a container with a terminal). The node's app, if any, gets LFS_NODE, T and
#   the environment of the test.
# lfs_wait_ready NODE [SECS]: waits until the node's /info answers and its
#   mount is in /proc/self/mountinfo.
# lfs_info NODE: prints /info.    lfs_mounted NODE: is its mount there?
# lfs_wait_exit NODE [SECS]: waits for litefs to end, sets rc to its exit
#   status (fails the test when it does not end in time).
# lfs_app: writes $T/app.sh, an app in the example's manner: it runs
#   until stopped and, like docker/example/server.js, exits 128+N on
#   SIGTERM/SIGINT (logging it to $T/events), exits 3 when $T/crash-NODE
#   appears (the example's POST /crash), and leaves a child of its own
#   running (a worker holding the node's mount dir as its cwd; its pid in
#   $T/worker-NODE). And $T/repl.sh, a replicator (for --replicate) that
#   on SIGTERM logs whether the node's LiteFS mount is still up (its final
#   sync needs it), then exits 0.
# lfs_teardown: SIGTERM, then SIGKILL, to every litefs started here and
#   every process left under them, then unmounts whatever is still mounted
#   (fusermount3 -u, else a lazy umount). Registered by lfs_start; safe to
#   call twice.
LITEFS=$DBS_PEERS/litefs
LFS_NODES=()

lfs_require() {
  local why=
  [ "$(id -u)" -eq 0 ] || why="not root"
  [ -n "$why" ] || [ -c /dev/fuse ] || why="no /dev/fuse"
  [ -n "$why" ] || command -v fusermount3 >/dev/null || why="no fusermount3 (Debian fuse3: scripts/deps.sh)"
  [ -n "$why" ] || [ -x "$LITEFS" ] || why="no $LITEFS (scripts/peers.sh)"
  if [ -n "$why" ]; then
    echo "SKIP: LiteFS tests need root, /dev/fuse, fusermount3 and litefs: $why"
    exit 0
  fi
}

_lfs_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

lfs_config() { # NODE [EXEC [PRE]]
  local n=$1 exec=${2:-} pre=${3:-} port cand=false
  [ "$n" = a ] && cand=true
  if [ -z "${LFS_PORT_a:-}" ]; then
    LFS_PORT_a=$(_lfs_free_port)
    LFS_PORT_b=$(_lfs_free_port)
    while [ "$LFS_PORT_b" = "$LFS_PORT_a" ]; do LFS_PORT_b=$(_lfs_free_port); done
  fi
  port=LFS_PORT_$n
  mkdir -p "$T/$n/vol/litefs" "$T/$n/mnt" "$T/$n/app"
  # Every key LiteFS would otherwise default is spelled out: loopback
  # only, no tracing file, no backup service, no proxy. Values are quoted:
  # LiteFS expands $VARs in this file. hostname/advertise-url are the
  # primary's on both nodes (a static lease names the primary).
  {
    echo "fuse: { dir: \"$T/$n/mnt\" }"
    echo "data: { dir: \"$T/$n/vol/litefs\", retention: \"10m\" }"
    echo "http: { addr: \"127.0.0.1:${!port}\" }"
    echo "lease:"
    echo "  type: \"static\""
    echo "  candidate: $cand"
    echo "  hostname: \"node-a\""
    echo "  advertise-url: \"http://127.0.0.1:$LFS_PORT_a\""
    echo "tracing: { enabled: false }"
    echo "exit-on-error: true"
    if [ -n "$exec" ]; then
      echo "exec:"
      [ -z "$pre" ] || echo "  - cmd: \"$pre\""
      echo "  - cmd: \"$exec\""
    fi
  } >"$T/$n.yml"
}

lfs_app() {
  cat >"$T/app.sh" <<'APP'
#!/bin/sh
trap 'echo "app $LFS_NODE: SIGTERM" >>"$T/events"; exit 143' TERM
trap 'echo "app $LFS_NODE: SIGINT" >>"$T/events"; exit 130' INT
echo "app $LFS_NODE: started" >>"$T/events"
(cd "$T/$LFS_NODE/mnt" && exec sleep 600) &
echo $! >"$T/worker-$LFS_NODE"
while :; do
  [ ! -e "$T/crash-$LFS_NODE" ] || exit 3
  sleep 0.05
done
APP
  cat >"$T/repl.sh" <<'REPL'
#!/bin/sh
final() {
  if grep -q " $T/$LFS_NODE/mnt .* - fuse litefs " /proc/self/mountinfo; then up=up; else up=down; fi
  echo "repl $LFS_NODE: SIGTERM, mount $up" >>"$T/events"
  exit 0
}
trap final TERM
while :; do sleep 0.05; done
REPL
  chmod +x "$T/app.sh" "$T/repl.sh"
}

lfs_start() { # NODE
  local n=$1
  [ ${#LFS_NODES[@]} -gt 0 ] || cleanup lfs_teardown
  LFS_NODES+=("$n")
  # No backup service, no Fly environment: LiteFS acts on both. The exec
  # command runs in the node's app dir.
  cd "$T/$n/app"
  ${LFS_SETSID:+setsid} env -u LITEFS_CLOUD_TOKEN -u LITEFS_CLOUD_ENDPOINT -u FLY_APP_NAME -u FLY_REGION \
    LFS_NODE="$n" T="$T" "$LITEFS" mount -config "$T/$n.yml" >"$T/$n.log" 2>&1 &
  eval "LFS_PID_$n=$!"
  cd - >/dev/null
}

lfs_mounted() { # NODE: the LiteFS mount of NODE is in mountinfo
  awk -v d="$T/$1/mnt" '{ for (i = 1; i <= NF; i++) if ($i == "-") break;
    if ($5 == d && $(i+1) == "fuse" && $(i+2) == "litefs") f = 1 } END { exit !f }' /proc/self/mountinfo
}

lfs_info() { # NODE
  local port=LFS_PORT_$1
  curl -sf --max-time 2 "http://127.0.0.1:${!port}/info"
}

lfs_wait_ready() { # NODE [SECS]
  local n=$1 pid=LFS_PID_$1
  wait_for "${2:-20}" _lfs_ready "$n" || {
    cat "$T/$n.log" >&2
    fail "litefs $n did not come up (log above)"
  }
}
_lfs_ready() {
  local pid=LFS_PID_$1
  kill -0 "${!pid}" 2>/dev/null || return 1
  lfs_mounted "$1" && lfs_info "$1" >/dev/null
}

lfs_wait_exit() { # NODE [SECS]: sets rc
  local n=$1 pid=LFS_PID_$1
  wait_for "${2:-20}" _lfs_gone "${!pid}" || fail "litefs $n still runs after ${2:-20} s"
  set +e; wait "${!pid}"; rc=$?; set -e
}
_lfs_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# Prints the pids of every descendant of PID (children first).
_lfs_descendants() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$c"
    _lfs_descendants "$c"
  done
}

lfs_teardown() {
  local n pid pids=() p
  for n in "${LFS_NODES[@]}"; do
    pid=LFS_PID_$n
    pid=${!pid}
    kill -0 "$pid" 2>/dev/null || continue
    pids+=("$pid" $(_lfs_descendants "$pid"))
    kill -TERM "$pid" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait_for 10 _lfs_gone "$p" || kill -KILL "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for n in "${LFS_NODES[@]}"; do
    if lfs_mounted "$n"; then
      fusermount3 -u "$T/$n/mnt" 2>/dev/null || umount -l "$T/$n/mnt" 2>/dev/null || true
    fi
  done
  LFS_NODES=()
}

# lfs_db_app: writes $T/dbapp.sh, an app that serves the node's database
# (its rows of "Post", read with sqlite3 through the app's path
# $T/NODE/app/app.db, go to $T/served-NODE every 50 ms), logs "app NODE:
# started" to $T/events and exits 0 on SIGTERM; and $T/seed.sh, a seed
# that inserts one user and one post and logs "seed NODE". With the blog
# migrations ($DBS_FIXTURES/prisma/blog/migrations) as
# $T/migrations, lfs_db_exec prints the exec line of dbsetup for NODE.
lfs_db_app() {
  cp -r "$DBS_FIXTURES/prisma/blog/migrations" "$T/migrations"
  cat >"$T/dbapp.sh" <<'APP'
#!/bin/sh
trap 'exit 0' TERM INT
echo "app $LFS_NODE: started" >>"$T/events"
while :; do
  if sqlite3 -cmd '.timeout 2000' "$T/$LFS_NODE/app/app.db" 'SELECT title FROM "Post" ORDER BY id' \
    >"$T/served-$LFS_NODE.tmp" 2>/dev/null; then
    mv "$T/served-$LFS_NODE.tmp" "$T/served-$LFS_NODE"
  fi
  sleep 0.05
done
APP
  cat >"$T/seed.sh" <<'SEED'
#!/bin/sh
echo "seed $LFS_NODE" >>"$T/events"
exec sqlite3 "$T/$LFS_NODE/app/app.db" \
  "INSERT INTO \"User\"(email) VALUES ('a@example.com'); INSERT INTO \"Post\"(title, authorId) VALUES ('seeded', 1);"
SEED
  chmod +x "$T/dbapp.sh" "$T/seed.sh"
}
lfs_db_exec() { # NODE [dbsetup options...]
  local n=$1
  shift
  echo "$DBSETUP --volume $T/$n/vol --db $T/$n/app/app.db --prisma-migrations $T/migrations --seed $T/seed.sh $* -- $T/dbapp.sh"
}
# The rows of _prisma_migrations of NODE's database, as sqlite3 prints them.
lfs_migrations() {
  sqlite3 -cmd '.timeout 5000' "$T/$1/mnt/app.db" 'SELECT id, checksum, migration_name, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name'
}
