#!/usr/bin/env bash
# Peer for test/integration/prisma_interop.test.sh, installed into
# $DBS_PEERS/prisma6 by scripts/peers.sh: the real Prisma 6 CLI. Its native
# schema engine is downloaded at run time (impossible offline), but its
# WebAssembly schema engine with the libsql driver adapter runs `prisma
# migrate deploy/status/resolve` on SQLite files here, with no network.
set -euo pipefail
dir=${DBS_PEERS:?}/prisma6
want=6.19.3
have=$(node -p "require('$dir/node_modules/prisma/package.json').version" 2>/dev/null || true)
[ "$have" = "$want" ] && [ -d "$dir/node_modules/@libsql/client" ] && exit 0
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{ "private": true }' >package.json
npm install --no-audit --no-fund --silent \
  "prisma@$want" "@prisma/adapter-libsql@$want" "@libsql/client@0.18.0"
node -p "require('$dir/node_modules/prisma/package.json').version" | grep -qx "$want"
