#!/usr/bin/env node
// A stand-in for Prisma's native `schema-engine` binary, for the real
// Prisma 7 CLI offline (PRISMA_SCHEMA_ENGINE_BINARY=this file). The
// migrations themselves run in Prisma's own schema engine compiled to
// WebAssembly (@prisma/schema-engine-wasm) over the libsql driver adapter;
// this file only speaks the binary's interface, as the 7.10.1 CLI uses it:
//   schema-engine [--datamodels FILE]... --datasource '{"url":...}'
//     JSON-RPC 2.0, one object per line on stdin/stdout; errors carry
//     data.{is_panic,message,error_code} (P3009, P3005...)
//   schema-engine --datasource '{"url":...}' cli can-connect-to-database|
//     create-database   exit 0, or 1 with a JSON log line on stderr
// Like the binary, it is started in the CLI's base folder and opens a
// relative file: URL from there. Needs DBS_PRISMA7_MODULES (the peer's
// node_modules).
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const modules = process.env.DBS_PRISMA7_MODULES
if (!modules) {
  process.stderr.write('schema-engine-wasm: DBS_PRISMA7_MODULES is not set\n')
  process.exit(2)
}
const require = createRequire(path.join(modules, 'x.js'))

const args = process.argv.slice(2)
const datamodels = []
let datasource = null
let cli = null
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--datamodels') datamodels.push(args[++i])
  else if (args[i] === '--datasource') datasource = JSON.parse(args[++i])
  else if (args[i] === '--enabled-preview-features' || args[i] === '--extension-types') i++
  else if (args[i] === 'cli') cli = args[++i]
  else if (args[i] === '--version') {
    console.log('schema-engine-wasm ' + JSON.parse(fs.readFileSync(path.join(modules, '@prisma/schema-engine-wasm/package.json'))).version)
    process.exit(0)
  }
}
const url = datasource?.url ?? ''

// The file a file: URL names, relative to the cwd (as SQLite opens it).
function filePath(u) {
  return path.resolve(u.replace(/^(file|sqlite):/, '').split('?')[0])
}

function logError(code, message) {
  // The CLI reads the lines after the first (the binary's start-up line).
  process.stderr.write(JSON.stringify({
    timestamp: new Date().toISOString(), level: 'INFO', target: 'schema_engine::logger',
    fields: { message: 'Starting schema engine CLI' },
  }) + '\n')
  process.stderr.write(JSON.stringify({
    timestamp: new Date().toISOString(), level: 'ERROR', target: 'schema_engine::logger',
    fields: { message, error_code: code },
  }) + '\n')
}

if (cli !== null) {
  const file = filePath(url)
  if (cli === 'can-connect-to-database') {
    if (fs.existsSync(file)) process.exit(0)
    logError('P1003', `Database \`${path.basename(file)}\` does not exist at \`${file}\``)
    process.exit(1)
  }
  if (cli === 'create-database') {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.closeSync(fs.openSync(file, 'a'))
    process.exit(0)
  }
  logError('P1000', `schema-engine-wasm: unsupported cli command ${cli}`)
  process.exit(1)
}

const { PrismaLibSql } = require('@prisma/adapter-libsql')
const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils')
const pkgDir = path.join(modules, '@prisma', 'schema-engine-wasm')
const glue = await import(pathToFileURL(path.join(pkgDir, 'schema_engine_bg.js')).href)
const module = new WebAssembly.Module(fs.readFileSync(path.join(pkgDir, 'schema_engine_bg.wasm')))
const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': glue })
glue.__wbg_set_wasm(instance.exports)
instance.exports.__wbindgen_start()

const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaLibSql({ url }))
const files = datamodels.map((f) => [f, fs.readFileSync(f, 'utf8')])
const engine = await glue.SchemaEngine.new({ datamodels: files.length ? files : undefined },
  () => {}, adapter)

// The binary's method names that differ from the WebAssembly class's.
const rename = { getDatabaseVersion: 'version', migrateDiff: 'diff' }

function reply(obj) {
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...obj }) + '\n')
}

let queue = Promise.resolve()
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (!line.trim()) return
  const req = JSON.parse(line)
  if (req.method === undefined) return // a reply to a notification
  queue = queue.then(async () => {
    const method = rename[req.method] ?? req.method
    try {
      if (typeof engine[method] !== 'function') throw new Error(`unsupported method ${req.method}`)
      const result = await engine[method](req.params ?? {})
      reply({ id: req.id, result: result ?? null })
    } catch (e) {
      const panic = e instanceof WebAssembly.RuntimeError
      reply({
        id: req.id,
        error: {
          code: 4466,
          message: 'An error happened. Check the data field for details.',
          data: { is_panic: panic, message: String(e?.message ?? e), meta: e?.meta ?? null,
            error_code: e?.code ?? null },
        },
      })
    }
  })
})
rl.on('close', () => { queue.then(() => process.exit(0)) })
