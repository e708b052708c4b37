#!/usr/bin/env bash
# Installs s3rver 3.7.1 from npm into $DBS_PEERS/s3rver and patches it for
# dbsetup's tests (patch.js: CommonPrefixes below a prefix, SigV2 bucket
# resource, SigV4 verification, private buckets, PUTs answered only once
# written). Quick when already done: a stamp records the hash of the patch
# files applied.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${DBS_PEERS:?}"
dest=$DBS_PEERS/s3rver
mkdir -p "$dest"
want=$(cat "$here/patch.js" "$here/sigv4-verify.js" | sha256sum | cut -c1-16)
stamp=$dest/.dbs-patched
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
  [ -f "$dest/node_modules/s3rver/lib/middleware/dbs-sigv4-verify.js" ]; then
  exit 0
fi
cd "$dest"
[ -f package.json ] || printf '{"name":"dbs-s3rver-peer","private":true}\n' >package.json
if ! node -e 'process.exit(require("./node_modules/s3rver/package.json").version === "3.7.1" ? 0 : 1)' 2>/dev/null; then
  npm install --no-audit --no-fund --silent --no-save s3rver@3.7.1 >/dev/null
fi
node "$here/patch.js" "$dest/node_modules/s3rver" >/dev/null
echo "$want" >"$stamp"
echo "peers: s3rver 3.7.1 patched in $dest"
