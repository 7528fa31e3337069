// `npm test`: runs the suite against a real PostgreSQL. TEST_DATABASE_URL or
// DATABASE_URL when given; otherwise a throwaway embedded server started here.
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinaries, postgresRunAs } from '../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster } from '../src/postgres/cluster.ts'
import { freePort } from './helpers/ports.ts'

let adminUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
let cleanup = async (): Promise<void> => {}

if (!adminUrl) {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-test-db-'))
  await chmod(dir, 0o755) // the postgres OS user must be able to enter it
  const cluster = { binaries: findBinaries(), runAs: postgresRunAs(), dataDir: join(dir, 'pgdata') }
  const port = await freePort()
  await initCluster(cluster, 'toygres-test', ['--no-sync'])
  await configureCluster(cluster, { port, host: '127.0.0.1' })
  await startCluster(cluster)
  adminUrl = `postgresql://postgres:toygres-test@127.0.0.1:${port}/postgres`
  process.stdout.write(`# no TEST_DATABASE_URL: using an embedded PostgreSQL on port ${port}\n`)
  cleanup = async () => {
    await stopCluster(cluster, 'immediate')
    await rm(dir, { recursive: true, force: true })
  }
}

const tap = spawn('tap', process.argv.slice(2), {
  stdio: 'inherit',
  env: { ...process.env, TOYGRES_TEST_ADMIN_URL: adminUrl }
})
const code = await new Promise<number>(resolve => tap.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))))
await cleanup()
process.exit(code)
