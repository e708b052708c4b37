#!/usr/bin/env bash
# Installs the Debian 12 packages dbsetup builds and tests with (as root),
# skipping apt entirely when everything is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git ca-certificates
  libuv1-dev libyaml-dev libsqlite3-dev liblz4-dev libxxhash-dev libcurl4-openssl-dev
  libssl-dev libexpat1-dev libcmocka-dev
  sqlite3 lz4 tini hyperfine time util-linux procps psmisc curl openssl
  clang-format jq nodejs npm
  clang libclang-rt-14-dev) # the fuzz targets: clang, and libFuzzer in the rt package
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
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
