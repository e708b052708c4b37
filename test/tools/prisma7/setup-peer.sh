#!/usr/bin/env bash
# Peer for test/integration/prisma_interop.test.sh (run with version 7),
# installed into $DBS_PEERS/prisma7 by scripts/peers.sh: the real Prisma 7
# CLI. As for the Prisma 6 peer, its WebAssembly schema engine with the libsql
# driver adapter (named in prisma.config.ts) runs `prisma migrate
# deploy/status/resolve` on SQLite files here, with no network. The
# better-sqlite3 adapter's source is installed too (without its native
# build) so tests can read how it opens a `file:` URL.
set -euo pipefail
dir=${DBS_PEERS:?}/prisma7
want=7.10.1
adapter=7.10.0
have=$(node -p "require('$dir/node_modules/prisma/package.json').version" 2>/dev/null || true)
[ "$have" = "$want" ] && [ -d "$dir/node_modules/@libsql/client" ] &&
  [ -d "$dir/node_modules/@prisma/adapter-libsql" ] && exit 0
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{ "private": true }' >package.json
npm install --no-audit --no-fund --silent \
  "prisma@$want" "@prisma/config@$want" "@prisma/adapter-libsql@$adapter" "@libsql/client@0.17.0"
node -p "require('$dir/node_modules/prisma/package.json').version" | grep -qx "$want"
