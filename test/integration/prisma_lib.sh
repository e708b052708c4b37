# The blog fixture as a Prisma app, for the boot tests (setup_prisma,
# setup_prisma7, ltx_boot); source lib.sh first.
#
# prisma_blog_app DIR [7]: makes DIR a Prisma app and cds into it: the
# fixture's three migrations in prisma/migrations, a schema with an sqlite
# datasource, and a seed, prisma/seed.sh, that appends "seeded" to
# $SEED_LOG and inserts users a@ and b@example.com.
#   Prisma 6 (default): the schema's url is file:./dev.db (prisma/dev.db,
#     beside the schema) and package.json's prisma.seed runs the seed.
#   Prisma 7: no url in the schema; prisma.config.ts names the schema, the
#     migrations, the seed and the url (DATABASE_URL ?? file:./dev.db, the
#     app folder's dev.db), and the seed writes DATABASE_URL's file. No
#     package.json: a test that wants one writes it.
prisma_blog_app() {
  mkdir -p "$1/prisma"
  cd "$1"
  cp -r "$DBS_FIXTURES/prisma/blog/migrations" prisma/
  if [ "${2:-6}" = 7 ]; then
    cat >prisma/schema.prisma <<'P'
generator client {
  provider = "prisma-client"
  output   = "../generated/prisma"
}

datasource db {
  provider = "sqlite"
}
P
    cat >prisma.config.ts <<'C'
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'sh prisma/seed.sh',
  },
  datasource: {
    url: process.env.DATABASE_URL ?? 'file:./dev.db',
  },
})
C
    cat >prisma/seed.sh <<'S'
echo seeded >>"$SEED_LOG"
db=${DATABASE_URL:-file:./dev.db}
sqlite3 -cmd '.timeout 5000' "${db#file:}" "insert into User(email,name) values('a@example.com','A'),('b@example.com','B');"
S
    return
  fi
  cat >prisma/schema.prisma <<'P'
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "sqlite"
  url      = "file:./dev.db"
}
P
  cat >package.json <<'J'
{
  "name": "blog",
  "scripts": { "start": "node server.js" },
  "prisma": { "seed": "sh prisma/seed.sh" }
}
J
  cat >prisma/seed.sh <<'S'
echo seeded >>"$SEED_LOG"
sqlite3 -cmd '.timeout 5000' prisma/dev.db "insert into User(email,name) values('a@example.com','A'),('b@example.com','B');"
S
}
