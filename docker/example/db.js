// Opens the database where Prisma would: the schema's url, file:./dev.db,
// is relative to the schema's folder.
const path = require('node:path')
const Database = require('better-sqlite3')

function open() {
  const file = path.join(__dirname, 'prisma', 'dev.db')
  const db = new Database(file, { fileMustExist: true })
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  return db
}

module.exports = { open }
