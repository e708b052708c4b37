#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs dbsetup on the
# bundled example app (docker/example: a Prisma-layout SQLite app) with an
# embedded default: a temporary volume and a litestream file replica, so no
# S3 is needed. Boot, write, stop, wipe the volume, boot again from the
# backup, and show what happened at each step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh
export DBS_PEERS=${DBS_PEERS:-$root/.peers}
bash scripts/peers.sh >/dev/null
cmake -S . -B build/example -DDBSETUP_TESTS=OFF >/dev/null
cmake --build build/example -j "$(nproc)" >/dev/null
dbsetup=$root/build/example/dbsetup

work=$(mktemp -d "${TMPDIR:-/tmp}/dbsetup-example.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cp -r docker/example "$work/app"
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
cat >"$work/litestream.yml" <<YML
# The embedded default: the example's database, replicated to a directory.
dbs:
  - path: $work/data/dev.db
    replicas:
      - type: file
        path: $work/backup
        sync-interval: 1s
YML
port=$((20000 + RANDOM % 20000))
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
boot() {
  (cd "$work/app" && PORT=$port exec "$dbsetup" --volume "$work/data" \
    --litestream "$DBS_PEERS/litestream" \
    --litestream-config "$work/litestream.yml" -- npm run start) &
  pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "example: the app did not come up" >&2
  exit 1
}
stop() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  echo "dbsetup exited with status $rc"
}

say "1. First boot on an empty volume: migrate, seed once, replicate"
boot
echo "rows: $(curl -fsS "http://127.0.0.1:$port/")"
say "2. A write"
curl -fsS -X POST "http://127.0.0.1:$port/posts?title=written-before-the-wipe"
sleep 2 # one sync-interval, so the write is in the backup before we stop
say "3. docker stop: SIGTERM reaches the app first, litestream last"
stop
say "4. The volume is lost"
rm -rf "$work/data"
ls -la "$work"
say "5. Boot on a new empty volume: restored from the backup, not seeded"
boot
echo "rows: $(curl -fsS "http://127.0.0.1:$port/")"
stop
say "Generations in the backup"
"$dbsetup" generations --litestream-config "$work/litestream.yml" "$work/data/dev.db"
