#!/usr/bin/env bash
# Sets up what the example needs on a Debian 12 machine (root, or a user
# with sudo for apt) and runs dbsetup on the bundled example app
# (docker/example: a Prisma-layout SQLite app) with an embedded default: a
# temporary volume and a litestream file replica, so no S3 is needed. Boot,
# write, stop, wipe the volume, boot again from the backup, and show what
# happened at each step.
#
# Downloads on a fresh machine: about 15 Debian packages (compiler, cmake,
# the -dev libraries, curl, nodejs, npm), litestream v0.3.13 from npm
# (@flydotio/litestream-linux-<arch>, ~10 MB), the example's one npm
# dependency (better-sqlite3, a prebuilt binary). 15-35 s when everything
# is there; on a fresh machine apt dominates (estimated two to four minutes).
#
# Environment: KEEP=1 keeps the work directory and prints commands to
# explore it. dbsetup is built into build/example/dbsetup.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -t 1 ]; then bold=$'\033[1m' off=$'\033[0m'; else bold= off=; fi
start=$(date +%s)
step() { printf '%sexample [%3ss]: %s%s\n' "$bold" "$(($(date +%s) - start))" "$*" "$off"; }
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }

step "1/4 Debian packages for building dbsetup and running the example"
bash scripts/deps.sh example

step "2/4 litestream v0.3.13, the binary Fly installs (npm @flydotio/litestream-linux-<arch>)"
peers=${DBS_PEERS:-$root/.peers}
litestream=$peers/litestream
if [ -x "$litestream" ] && "$litestream" version | grep -q '^v0.3.13$'; then
  echo "example: already in $litestream"
else
  case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "example: no litestream package for $(uname -m)" >&2; exit 1 ;;
  esac
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@flydotio/litestream-linux-$arch@1.0.1" >/dev/null &&
    tar xzf ./*.tgz)
  mkdir -p "$peers"
  install -m 0755 "$tmp/package/litestream" "$litestream"
  rm -rf "$tmp"
  "$litestream" version | grep -q '^v0.3.13$' || { echo "example: litestream is not v0.3.13" >&2; exit 1; }
  echo "example: installed $litestream"
fi

step "3/4 building dbsetup into build/example (cmake, no tests)"
cmake -S . -B build/example -DDBSETUP_TESTS=OFF >/dev/null
log=$(mktemp)
# A line at each quarter of the build; the whole log only when it fails.
if ! cmake --build build/example -j "$(nproc)" 2>&1 | tee "$log" |
  awk '/^\[ *[0-9]+%\]/ { p = substr($0, 2) + 0; if (p >= next_at) {
         printf "example:   build %d%%\n", p; fflush(); next_at = (int(p / 25) + 1) * 25 } }'; then
  cat "$log" >&2
  exit 1
fi
rm -f "$log"
dbsetup=$root/build/example/dbsetup

work=$(mktemp -d "${TMPDIR:-/tmp}/dbsetup-example.XXXXXX")
pid=
finish() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then
    cat <<EOF

${bold}Kept $work${off}
  app/            the example app; app/prisma/dev.db links to data/dev.db
  data/dev.db     the database on the "volume"
  backup/         litestream's file replica of it
  litestream.yml  the configuration both used
Explore it:
  $dbsetup generations --litestream-config $work/litestream.yml $work/data/dev.db
  $dbsetup restore --litestream-config $work/litestream.yml -o $work/copy.db $work/data/dev.db
  (cd $work/app && $dbsetup migrate --status)
  $dbsetup --volume $work/data --litestream $litestream --litestream-config $work/litestream.yml -- sh -c 'cd $work/app && npm run start'
  rm -rf $work
EOF
  else
    rm -rf "$work"
  fi
}
trap finish EXIT

step "4/4 the example app's node modules (npm ci: better-sqlite3)"
cp -r docker/example "$work/app"
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
step "ready: $dbsetup"

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
boot() {
  (cd "$work/app" && PORT=$port exec "$dbsetup" --volume "$work/data" \
    --litestream "$litestream" \
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
  if [ "$rc" = 143 ]; then
    echo "dbsetup exited with status 143 = 128+SIGTERM: the app was stopped, as expected"
  else
    echo "dbsetup exited with status $rc"
  fi
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
say "5. Boot on a new empty volume: restored from the backup, so no seed"
boot
echo "rows: $(curl -fsS "http://127.0.0.1:$port/")"
stop
say "Generations in the backup"
"$dbsetup" generations --litestream-config "$work/litestream.yml" "$work/data/dev.db"
[ "${KEEP:-0}" = 1 ] || echo "(KEEP=1 keeps $work and prints commands to explore it)"
