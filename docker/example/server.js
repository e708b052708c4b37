// A tiny HTTP app over the Post table:
//   GET  /          all posts as JSON
//   POST /posts?title=T   insert a post
//   GET  /whoami    the app's uid, gid and pid
//   POST /crash     exit 3 (to test crash handling)
// On SIGTERM or SIGINT it says whether litestream is still running (it must
// be: the app is stopped first), closes the database and exits 128+signal.
const fs = require('node:fs')
const http = require('node:http')
const db = require('./db').open()

const port = Number(process.env.PORT || 3000)
const list = db.prepare('SELECT id, title FROM "Post" ORDER BY id')
const insert = db.prepare('INSERT INTO "Post" ("title") VALUES (?)')

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body) + '\n')
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost')
  if (req.method === 'GET' && url.pathname === '/') return send(res, 200, list.all())
  if (req.method === 'POST' && url.pathname === '/posts') {
    const info = insert.run(url.searchParams.get('title') || 'untitled')
    return send(res, 201, { id: Number(info.lastInsertRowid) })
  }
  if (req.method === 'GET' && url.pathname === '/whoami')
    return send(res, 200, { uid: process.getuid(), gid: process.getgid(), pid: process.pid })
  if (req.method === 'POST' && url.pathname === '/crash') {
    console.log('app: crashing with exit code 3')
    db.close()
    return res.end('bye\n', () => process.exit(3))
  }
  send(res, 404, { error: 'not found' })
})

function replicatorRunning() {
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'litestream') return true
    } catch {}
  }
  return false
}

for (const [sig, num] of [['SIGTERM', 15], ['SIGINT', 2]]) {
  process.on(sig, () => {
    console.log(`app: received ${sig}; litestream running: ${replicatorRunning() ? 'yes' : 'no'}`)
    server.close()
    db.close()
    process.exit(128 + num)
  })
}

server.listen(port, () => console.log(`app: listening on ${port} as uid ${process.getuid()}`))
