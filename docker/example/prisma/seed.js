// The seed `prisma db seed` would run (package.json prisma.seed): one row.
const db = require('../db').open()
db.prepare('INSERT INTO "Post" ("title") VALUES (?)').run('hello from the seed')
console.log('seed: inserted 1 post')
db.close()
