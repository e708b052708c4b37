#!/usr/bin/env bash
# Installs the real peers the tests run against into $DBS_PEERS (default
# .peers/): litestream v0.3.13 (the binary Fly installs, from npm) and
# s3rver 3.7.1 patched to verify SigV4 (test/tools/s3rver/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${DBS_PEERS:-$root/.peers}
mkdir -p "$peers"
cd "$peers"
if [ ! -x litestream ] || ! ./litestream version | grep -q '^v0.3.13$'; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @flydotio/litestream-linux-x64@1.0.1 >/dev/null &&
    tar xzf flydotio-litestream-linux-x64-1.0.1.tgz)
  install -m 0755 "$tmp/package/litestream" litestream
  rm -rf "$tmp"
fi
./litestream version | grep -q '^v0.3.13$' || { echo "peers: litestream is not v0.3.13" >&2; exit 1; }
# Further peers add themselves here through their own setup scripts.
for s in "$root"/test/tools/*/setup-peer.sh; do
  [ -e "$s" ] || continue
  DBS_PEERS=$peers bash "$s"
done
echo "peers: ready in $peers"
