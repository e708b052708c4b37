#!/usr/bin/env bash
# Peer for test/integration/prisma_interop*.test.sh, installed into
# $DBS_PEERS/prisma7 by scripts/peers.sh: the real Prisma 7 CLI.
# Prisma 7 dropped the config's `adapter` for migrations: `prisma migrate`
# always spawns the native schema-engine binary, which it downloads at run
# time (impossible offline). The Prisma schema engine is also published
# compiled to WebAssembly (@prisma/schema-engine-wasm, the build Prisma 6
# ran in-process with a driver adapter): schema-engine-wasm.mjs beside this
# file serves the native binary's JSON-RPC with it and the libsql adapter,
# and the tests point PRISMA_SCHEMA_ENGINE_BINARY at it.
set -euo pipefail
dir=${DBS_PEERS:?}/prisma7
want=7.10.1
adapter=7.10.0
# The engine build published next to 7.10.1's (8.1.0-1.d1b3f377 is not on
# npm; this is the following commit of the same 8.1.0 line).
engine=8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323
have=$(node -p "require('$dir/node_modules/prisma/package.json').version" 2>/dev/null || true)
[ "$have" = "$want" ] && [ -d "$dir/node_modules/@libsql/client" ] &&
  [ -d "$dir/node_modules/@prisma/adapter-libsql" ] &&
  [ -f "$dir/node_modules/@prisma/schema-engine-wasm/package.json" ] && exit 0
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{ "private": true }' >package.json
npm install --no-audit --no-fund --silent \
  "prisma@$want" "@prisma/config@$want" "@prisma/adapter-libsql@$adapter" "@libsql/client@0.17.0" \
  "@prisma/driver-adapter-utils@$adapter" "@prisma/schema-engine-wasm@$engine"
node -p "require('$dir/node_modules/prisma/package.json').version" | grep -qx "$want"
