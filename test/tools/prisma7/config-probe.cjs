// Prints what the real Prisma 7 config loader (@prisma/config's
// loadConfigFromFile, the function the CLI calls) makes of the project in
// the working directory, one key=value line each, for comparison with
// dbsetup's discover-probe:
//   node config-probe.cjs PEER_NODE_MODULES [CONFIG_FILE]
// Exits 1 with the loader's error when it refuses the config.
const path = require('node:path')
const { loadConfigFromFile } = require(path.join(process.argv[2], '@prisma/config'))
loadConfigFromFile({ configFile: process.argv[3] }).then((r) => {
  if (r.error) {
    console.log('error=' + r.error._tag + (r.error.error ? ': ' + r.error.error.message : ''))
    process.exit(1)
  }
  const c = r.config
  console.log('file=' + (r.resolvedPath ?? ''))
  console.log('schema=' + (c.schema ?? ''))
  console.log('migrations=' + (c.migrations?.path ?? ''))
  console.log('seed=' + (c.migrations?.seed ?? ''))
  console.log('url=' + (c.datasource?.url ?? ''))
})
