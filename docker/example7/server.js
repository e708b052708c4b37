// A tiny HTTP app over the Post table, with Prisma Client 7:
//   GET  /                all posts as JSON
//   POST /posts?title=T   insert a post
// On SIGTERM or SIGINT it disconnects and exits 128+signal.
const http = require('node:http')
const prisma = require('./db').client()

const port = Number(process.env.PORT || 3000)

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body) + '\n')
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost')
  if (req.method === 'GET' && url.pathname === '/')
    return send(res, 200, await prisma.post.findMany({
      select: { id: true, title: true }, orderBy: { id: 'asc' } }))
  if (req.method === 'POST' && url.pathname === '/posts') {
    const post = await prisma.post.create({
      data: { title: url.searchParams.get('title') || 'untitled' } })
    return send(res, 201, { id: post.id })
  }
  send(res, 404, { error: 'not found' })
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => send(res, 500, { error: String(e) }))
})

for (const [sig, num] of [['SIGTERM', 15], ['SIGINT', 2]]) {
  process.on(sig, async () => {
    console.log(`app: received ${sig}`)
    server.close()
    await prisma.$disconnect()
    process.exit(128 + num)
  })
}

server.listen(port, () => console.log(`app: listening on ${port} (Prisma 7)`))
