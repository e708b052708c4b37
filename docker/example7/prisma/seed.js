// The seed prisma.config.ts names (migrations.seed): one row. dbsetup runs
// it once, on a new database, as `prisma db seed` does: the command split
// at spaces, no shell. SEED_FAIL=1 makes it fail after its insert (the
// tests use it: dbsetup discards the half-seeded database).
const { client } = require('../db')

async function main() {
  const prisma = client()
  await prisma.post.create({ data: { title: 'hello from the seed' } })
  await prisma.$disconnect()
  console.log('seed: inserted 1 post')
  if (process.env.SEED_FAIL === '1') {
    console.log('seed: failing on purpose (SEED_FAIL=1)')
    process.exit(1)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
