// Stand-in for `npx prisma migrate deploy`, whose schema engine cannot be
// downloaded here: applies prisma/migrations/*/migration.sql that are not
// yet in _prisma_migrations, recording them as Prisma does. The benchmark
// runs this same command in both entrypoints.
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const Database = require('better-sqlite3')

const dir = path.join(__dirname, 'migrations')
const db = new Database(path.join(__dirname, 'dev.db'))
db.pragma('busy_timeout = 5000')
db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`)
const done = new Set(db.prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL')
  .all().map(r => r.migration_name))
for (const name of fs.readdirSync(dir).filter(n => fs.existsSync(path.join(dir, n, 'migration.sql'))).sort()) {
  if (done.has(name)) continue
  const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8')
  db.transaction(() => {
    db.exec(sql)
    db.prepare(`INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
      VALUES (?, ?, datetime('now'), ?, 1)`).run(crypto.randomUUID(),
      crypto.createHash('sha256').update(sql).digest('hex'), name)
  })()
  console.log(`migrate: applied ${name}`)
}
db.close()
