#!/usr/bin/env bash
# Container start → first HTTP 200 from the example app: dbsetup as the
# ENTRYPOINT vs the docker-entrypoint.js that Fly's generator
# (@flydotio/dockerfile) writes for the same app, in the same image.
#
#   bash bench/bench-container.sh [BUILD_DIR]     (default build/)
#
# Cases (CASES, default both), each RUNS times (default 5), medians
# reported with the ratio fly/dbsetup:
#   restart  the volume already holds the database (a machine restart)
#   restore  a new empty volume, the backup in the bucket (a new machine)
# Offline substitutions, identical in both: `npx prisma migrate deploy`
# cannot download its engine here, so both run
# `node prisma/migrate-substitute.js` (bench/prisma-migrate-substitute.js);
# dbsetup is also measured with its native migrations (its default). The
# generated script resolves file:./dev.db against /app instead of the schema
# folder (a known defect); it is patched to prisma/dev.db so the app starts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-5}
cases=${CASES:-restart restore}
export DBS_SRC=$root DBS_PEERS=${DBS_PEERS:-$root/.peers}
export DBSETUP=$build/dbsetup DBS_TOOLS=$build/test/tools
. "$root/test/integration/lib.sh"
. "$root/test/container/lib.sh"
ct_images
ct_s3_start

# The real generator output for the example app. It only detects Prisma from
# the package's dependencies, so a copy of the app lists @prisma/client.
gen=$T/gen
mkdir -p "$gen/tool" "$gen/app"
(cd "$gen/tool" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
  @flydotio/dockerfile@0.7.10 >/dev/null)
cp -r "$root/docker/example/." "$gen/app/"
rm -f "$gen/app/Dockerfile" "$gen/app/.dockerignore"
(cd "$gen/app" && node -e '
  const fs = require("fs"); const p = JSON.parse(fs.readFileSync("package.json"))
  p.dependencies["@prisma/client"] = "^5.22.0"; p.devDependencies = { prisma: "^5.22.0" }
  fs.writeFileSync("package.json", JSON.stringify(p, null, 2))' &&
  NODE_ENV=test "$gen/tool/node_modules/.bin/dockerfile" --litestream --force >/dev/null)
entry=$gen/app/docker-entrypoint.js
grep -q "npx prisma migrate deploy" "$entry" || fail "generator output changed: no migrate step"
grep -q "path.resolve('./dev.db')" "$entry" || fail "generator output changed: no dev.db link"
sed -i -e "s|npx prisma migrate deploy|node prisma/migrate-substitute.js|" \
  -e "s|path.resolve('./dev.db')|path.resolve('prisma/dev.db')|" "$entry"
chmod +x "$entry"

ctx=$T/ctx
mkdir -p "$ctx"
cp "$entry" "$ctx/docker-entrypoint.js"
cp "$root/bench/prisma-migrate-substitute.js" "$ctx/migrate-substitute.js"
cat >"$ctx/Containerfile" <<CF
FROM $CT_IMAGE
COPY docker-entrypoint.js /app/docker-entrypoint.js
COPY migrate-substitute.js /app/prisma/migrate-substitute.js
CF
bench_image=localhost/dbsetup-example-bench:test
podman build -q -t "$bench_image" "$ctx" >/dev/null

declare -A entrypoints=(
  [fly]='["/app/docker-entrypoint.js"]'
  [dbsetup]='["dbsetup", "--"]'
  [dbsetup-same-migrate]='["dbsetup", "--migrate", "node prisma/migrate-substitute.js", "--"]'
)
order=(fly dbsetup dbsetup-same-migrate)

# One timed start: container start → first 200, in milliseconds.
start_once() { # variant volume [graceful]
  local port t0 t1
  port=$(ct_free_port)
  mkdir -p "$2"
  t0=$(date +%s%N)
  # shellcheck disable=SC2046
  podman run -d --name bench --network host -v "$2:/data" -e PORT="$port" $(ct_s3_env) ${CT_RUN_OPTS:-} \
    --entrypoint "${entrypoints[$1]}" "$bench_image" npm run start >/dev/null
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
    [ "$(podman inspect bench --format '{{.State.Status}}')" = running ] ||
      { podman logs bench >&2; fail "$1: the app did not start"; }
    [ $(( $(date +%s%N) - t0 )) -lt 60000000000 ] || fail "$1: no 200 within 60 s"
    sleep 0.01
  done
  t1=$(date +%s%N)
  # Fly's script cannot be stopped gracefully (node as PID 1 ignores
  # SIGTERM); only the boot that makes the backup needs a clean stop.
  if [ "${3:-}" = graceful ]; then ct_wait_synced bench; podman stop -t 10 bench >/dev/null; fi
  podman rm -f -t 0 bench >/dev/null
  echo $(( (t1 - t0) / 1000000 ))
}
cleanup "podman rm -f -t 0 bench >/dev/null 2>&1"
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# A backup in the bucket to restore from, made by the first boot.
case " $cases " in *" restore "*) start_once dbsetup "$T/first" graceful >/dev/null ;; esac

declare -A result
for case in $cases; do
  for v in "${order[@]}"; do
    : >"$T/$case-$v.ms"
    if [ "$case" = restart ]; then
      rm -rf "$T/vol-$v"; mkdir -p "$T/vol-$v"
      start_once "$v" "$T/vol-$v" >/dev/null # leaves the database on the volume
    fi
  done
  for ((i = 0; i < runs; i++)); do
    for v in "${order[@]}"; do # interleaved, so drift hits all alike
      vol=$T/vol-$v
      if [ "$case" = restore ]; then vol=$T/new-$v-$i; mkdir -p "$vol"; fi
      start_once "$v" "$vol" >>"$T/$case-$v.ms"
    done
  done
  for v in "${order[@]}"; do
    echo "$case $v: $(tr '\n' ' ' <"$T/$case-$v.ms")" >&2
    result[$case-$v]=$(median <"$T/$case-$v.ms")
  done
done

echo "container start → first HTTP 200 (median of $runs, ms)"
printf '%-9s %10s %10s %22s %14s\n' case fly dbsetup dbsetup-same-migrate "fly/dbsetup"
for case in $cases; do
  f=${result[$case-fly]} d=${result[$case-dbsetup]} s=${result[$case-dbsetup-same-migrate]}
  printf '%-9s %10s %10s %22s %14s\n' "$case" "$f" "$d" "$s" \
    "$(awk -v f="$f" -v d="$d" 'BEGIN { printf "%.2fx", f / d }')"
done
