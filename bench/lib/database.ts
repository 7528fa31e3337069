// Benchmarks run against DATABASE_URL / TEST_DATABASE_URL, or a throwaway
// embedded PostgreSQL; each run works in a fresh database it drops after.
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { findBinaries, postgresRunAs } from '../../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster } from '../../src/postgres/cluster.ts'
import { freePort } from '../../test/helpers/ports.ts'

export interface BenchDatabase {
  url: string
  server: 'given' | 'embedded'
  close (): Promise<void>
}

export async function benchDatabase (): Promise<BenchDatabase> {
  let admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL
  let stopServer = async (): Promise<void> => {}
  if (!admin) {
    const dir = await mkdtemp(join(tmpdir(), 'toygres-bench-'))
    await chmod(dir, 0o755)
    const cluster = { binaries: findBinaries(), runAs: postgresRunAs(), dataDir: join(dir, 'pgdata') }
    const port = await freePort()
    await initCluster(cluster, 'bench')
    await configureCluster(cluster, { port, host: '127.0.0.1' })
    await startCluster(cluster)
    admin = `postgresql://postgres:bench@127.0.0.1:${port}/postgres`
    stopServer = async () => { await stopCluster(cluster, 'fast'); await rm(dir, { recursive: true, force: true }) }
  }
  const name = `toygres_bench_${randomBytes(4).toString('hex')}`
  const c = new pg.Client({ connectionString: admin })
  await c.connect()
  await c.query(`CREATE DATABASE ${name}`)
  await c.end()
  const url = new URL(admin)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    server: process.env.DATABASE_URL || process.env.TEST_DATABASE_URL ? 'given' : 'embedded',
    async close () {
      const d = new pg.Client({ connectionString: admin })
      await d.connect()
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await d.end()
      await stopServer()
    }
  }
}

/** --flag value pairs from argv, with defaults. */
export function flags<T extends Record<string, number>> (defaults: T): T {
  const out: Record<string, number> = { ...defaults }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, '')
    if (key in out && argv[i + 1] !== undefined) out[key] = Number(argv[++i])
  }
  return out as T
}
