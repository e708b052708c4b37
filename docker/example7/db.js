// Prisma Client over the better-sqlite3 driver adapter, on the url
// prisma.config.ts names: a relative file: URL is opened against the
// working directory (/app/dev.db, a link to /data/dev.db).
const { PrismaClient } = require('@prisma/client')
const { PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3')

const url = process.env.DATABASE_URL ?? 'file:./dev.db'

function client() {
  return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url }) })
}

module.exports = { client, url }
