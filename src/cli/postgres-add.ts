// npm run postgres:add -- <major>: makes another PostgreSQL major available
// to the local provisioner (src/postgres/add-major.ts). Instances can ask for
// it at once; a running control plane needs no restart.
import { ConfigError, loadConfig } from '../config.ts'
import { addMajor } from '../postgres/add-major.ts'
import { installedMajors } from '../postgres/majors.ts'
import { placeServers } from '../postgres/placement.ts'

const major = process.argv[2]
try {
  if (major === undefined || process.argv.length > 3) throw new ConfigError('usage: npm run postgres:add -- <major>, e.g. npm run postgres:add -- 17')
  const config = loadConfig(process.env)
  const placement = placeServers({ dataDir: config.dataDir, binDir: config.pgBinDir })
  if (placement.note) process.stdout.write(`${placement.note}\n`)
  const available = (await installedMajors(placement.home, placement.binaries)).get(major)
  if (available && !available.binaries.binDir.startsWith(placement.home)) {
    process.stdout.write(`PostgreSQL ${available.version} is already available: it is the bundled major (${available.binaries.binDir})\n`)
    process.exit(0)
  }
  const result = await addMajor({ home: placement.home, major })
  process.stdout.write(result.added
    ? `PostgreSQL ${result.version} installed in ${result.dir}: instances may now ask for postgres_version "${major}"\n`
    : `PostgreSQL ${result.version} is already installed in ${result.dir}\n`)
} catch (err) {
  process.stderr.write(`toygres: postgres:add failed: ${(err as Error).message}\n`)
  process.exit(1)
}
