#!/usr/bin/env bash
# Installs the Debian 12 packages dbsetup builds and tests with (as root, or
# through sudo), skipping apt entirely when everything is already there.
# `deps.sh example`: only what scripts/example.sh needs (build dbsetup, run
# the Node example app, talk to it with curl).
set -euo pipefail
build=(build-essential cmake pkg-config ca-certificates
  libuv1-dev libyaml-dev libsqlite3-dev liblz4-dev libxxhash-dev libcurl4-openssl-dev
  libssl-dev libexpat1-dev)
if [ "${1:-}" = example ]; then
  pkgs=("${build[@]}" curl nodejs npm)
else
  pkgs=("${build[@]}" git libcmocka-dev
    sqlite3 lz4 tini hyperfine time util-linux procps psmisc curl openssl
    clang-format jq nodejs npm fuse3 # fuse3: LiteFS (the litefs tests)
    clang libclang-rt-14-dev) # the fuzz targets: clang, and libFuzzer in the rt package
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# nodejs/npm may come from elsewhere (a newer Node on PATH): accept that.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
read -r -a missing <<<"${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "deps: installing ${#missing[@]} packages: ${missing[*]}"
  echo "deps: apt-get update"
  $sudo apt-get update -qq
  echo "deps: apt-get install (a minute or two on a fresh machine)"
  # One line per package as it is unpacked: progress without apt's noise.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    "${missing[@]}" | { grep --line-buffered -E '^(Unpacking|Setting up) ' || true; } |
    sed -u 's/^/deps:   /'
else
  echo "deps: every package is installed"
fi
