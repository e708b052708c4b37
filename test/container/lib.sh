# shellcheck shell=bash disable=SC2034
# Helpers for the container tests and benchmark; source after
# test/integration/lib.sh. Builds (once, under a lock, with podman's layer
# cache) the images from the current source:
#   $CT_IMAGE     the example app with dbsetup as ENTRYPOINT
#   $CT_IMAGE7    the Prisma 7 example (docker/example7), with
#                 `ct_images --example7` (built only then)
#   $CT_BASE, $CT_NODE, $CT_LITESTREAM  the local base images
# and starts the patched s3rver on the host's loopback for containers run
# with --network host.
export CONTAINERS_CONF=$DBS_SRC/test/container/containers.conf
CT_STATE=${DBS_CONTAINER_STATE:-/var/cache/dbsetup-container}
# DBS_CONTAINER_TAG: another tag than `test` (scripts/container-setup.sh).
CT_IMAGE=localhost/dbsetup-example:${DBS_CONTAINER_TAG:-test}
CT_IMAGE7=localhost/dbsetup-example7:${DBS_CONTAINER_TAG:-test}
# Container names start with this (TAG- with another tag), so that a second
# tree's tests never remove the lead's containers.
CT_PREFIX=
[ "${DBS_CONTAINER_TAG:-test}" = test ] || CT_PREFIX=$DBS_CONTAINER_TAG-
CT_S3_KEY=AKIADBSCONTAINER0001 CT_S3_SECRET=dbs-container-secret/Key+0123456789
_ct_containers=()

# Builds (or finds cached) every image; scripts/container-setup.sh holds a
# lock, so parallel test scripts build once. --example7: the Prisma 7
# example instead of the Prisma 6 one.
ct_images() {
  DBS_PEERS=$DBS_PEERS bash "$DBS_SRC/scripts/container-setup.sh" "${1:---example}" \
    >"$T/container-setup.log" 2>&1 || { cat "$T/container-setup.log" >&2; fail "building the container images"; }
  # shellcheck disable=SC1091
  . "$CT_STATE/images.env"
  # shellcheck disable=SC2154
  CT_BASE=$base CT_NODE=$node CT_LITESTREAM=$litestream
}

# A TCP port nobody listens on, below the kernel's ephemeral range (where
# any outgoing connection may take a port between the check and the bind).
ct_free_port() {
  local p lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 21000 ] || lo=32768
  while :; do
    p=$((20000 + RANDOM % (lo - 20000)))
    ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

# Starts the patched s3rver (test/tools/s3rver/setup-peer.sh, run by
# scripts/peers.sh) with a bucket, on a fixed port and directory so that it
# can be stopped and brought back (lib_s3.sh's s3_start picks new ones);
# sets CT_S3_PORT, CT_S3_DIR, CT_BUCKET. Call again after ct_s3_stop to
# bring the same server back.
ct_s3_start() {
  CT_BUCKET=${CT_BUCKET:-dbs-test}
  CT_S3_DIR=${CT_S3_DIR:-$T/s3}
  local chosen=0 try
  [ -n "${CT_S3_PORT:-}" ] || { CT_S3_PORT=$(ct_free_port); chosen=1; }
  mkdir -p "$CT_S3_DIR"
  local s3rver=$DBS_PEERS/s3rver/node_modules/s3rver
  [ -f "$s3rver/lib/middleware/dbs-sigv4-verify.js" ] ||
    fail "no patched s3rver in $DBS_PEERS (run scripts/peers.sh)"
  for try in 1 2 3; do
    # The patched server verifies SigV4 with these credentials.
    DBS_S3RVER_ACCESS_KEY_ID=$CT_S3_KEY DBS_S3RVER_SECRET_ACCESS_KEY=$CT_S3_SECRET \
      node "$s3rver/bin/s3rver.js" -d "$CT_S3_DIR" -a 127.0.0.1 -p "$CT_S3_PORT" \
      --configure-bucket "$CT_BUCKET" >>"$T/s3rver.log" 2>&1 &
    CT_S3_PID=$!
    cleanup "kill $CT_S3_PID 2>/dev/null"
    local i
    for i in $(seq 1 400); do # 20 s
      kill -0 "$CT_S3_PID" 2>/dev/null || break
      curl -s -o /dev/null "http://127.0.0.1:$CT_S3_PORT/" && return 0
      sleep 0.05
    done
    # A port we chose was taken in the meantime: choose another.
    if [ "$chosen" = 1 ] && ! kill -0 "$CT_S3_PID" 2>/dev/null &&
      grep -q EADDRINUSE "$T/s3rver.log"; then
      echo "# s3rver: port $CT_S3_PORT taken meanwhile, try $try" >&2
      CT_S3_PORT=$(ct_free_port)
      continue
    fi
    break
  done
  fail "s3rver did not start (see $T/s3rver.log)"
}
ct_s3_stop() {
  kill "$CT_S3_PID" && wait "$CT_S3_PID" 2>/dev/null || true
}

# The environment Fly gives an app with `fly storage create`.
ct_s3_env() {
  echo "-e BUCKET_NAME=$CT_BUCKET -e AWS_ENDPOINT_URL_S3=http://127.0.0.1:$CT_S3_PORT" \
    "-e AWS_ACCESS_KEY_ID=$CT_S3_KEY -e AWS_SECRET_ACCESS_KEY=$CT_S3_SECRET -e AWS_REGION=us-east-1"
}

# ct_run NAME VOLUME_DIR [podman run options...] [-- image args]: starts the
# example app detached on a free port ($CT_PORT), host network, the S3
# environment set, plus $CT_RUN_OPTS (for debugging). Removes the container
# at exit.
ct_run() {
  local name=$1 vol=$2; shift 2
  CT_PORT=$(ct_free_port)
  mkdir -p "$vol"
  podman rm -f "$name" >/dev/null 2>&1 || true
  # shellcheck disable=SC2046
  podman run -d --name "$name" --network host -v "$vol:/data" -e PORT="$CT_PORT" \
    $(ct_s3_env) ${CT_RUN_OPTS:-} "$@" >/dev/null || fail "podman run $name"
  _ct_containers+=("$name")
  cleanup "podman rm -f -t 0 $name >/dev/null 2>&1"
}

# Waits until the app answers GET / with 200; fails at once, with the
# logs, when the container stops first.
_ct_http_or_gone() { # name
  curl -sf -o /dev/null "http://127.0.0.1:$CT_PORT/" && return 0
  [ "$(podman inspect "$1" --format '{{.State.Status}}' 2>/dev/null)" = running ] || return 0
  return 1
}
ct_wait_http() { # name [seconds]
  wait_for "${2:-60}" _ct_http_or_gone "$1" || true
  if ! curl -sf -o /dev/null "http://127.0.0.1:$CT_PORT/"; then
    podman logs "$1" >&2 || true
    fail "$1: no HTTP 200 on port $CT_PORT (status: $(podman inspect "$1" \
      --format '{{.State.Status}} {{.State.ExitCode}}' 2>&1))"
  fi
}

# Waits for litestream's first upload. litestream 0.3.13 opens the database
# only at its first monitor tick (1 s after start), and when it is stopped
# before that it uploads nothing at all, not even on shutdown.
_ct_synced() { podman logs "$1" 2>&1 | grep -q "snapshot written"; }
ct_wait_synced() { # name
  wait_for 30 _ct_synced "$1" || { podman logs "$1" >&2; fail "$1: litestream never synced"; }
}

# Blocks until the container has exited; prints its exit code.
ct_wait_exit() { # name [seconds]
  timeout "${2:-60}" podman wait "$1" >/dev/null 2>&1 || true
  podman inspect "$1" --format '{{.State.ExitCode}} {{.State.Status}}' | {
    read -r code status
    [ "$status" = exited ] || { echo "still $status" >&2; echo -1; return; }
    echo "$code"
  }
}

ct_logs() { podman logs "$1" >"$T/$1.log" 2>&1; echo "$T/$1.log"; }

# Line number of the first line containing a string in a file (0: none).
ct_line_of() { grep -nF -- "$2" "$1" | head -1 | cut -d: -f1 | grep . || echo 0; }

# Restores the bucket's copy with the real litestream on the host into
# $T/NAME.db, proving what the replicator uploaded.
ct_restore_elsewhere() { # name
  local dir=$T/elsewhere-$1
  mkdir -p "$dir"
  cat >"$dir/litestream.yml" <<YML
dbs:
  - path: $dir/dev.db
    replicas:
      - type: s3
        endpoint: http://127.0.0.1:$CT_S3_PORT
        bucket: $CT_BUCKET
        path: litestream/dev.db
        region: us-east-1
        force-path-style: true
        access-key-id: $CT_S3_KEY
        secret-access-key: $CT_S3_SECRET
YML
  "$LITESTREAM" restore -config "$dir/litestream.yml" -o "$T/$1.db" "$dir/dev.db" \
    >"$dir/restore.log" 2>&1 || { cat "$dir/restore.log" >&2; fail "litestream restore $1"; }
}

ct_sql() { sqlite3 -cmd '.timeout 5000' "$@"; }
