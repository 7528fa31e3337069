// A PostgreSQL server that lives only as long as a test run or a benchmark:
// its own temporary directory (enterable by the postgres OS user), a free
// port on 127.0.0.1, removed again by stop(). Its programs come from
// findBinaries(), which copies them where the postgres OS user can reach
// them when this clone sits in a private directory (src/postgres/bundle.ts).
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinaries, postgresRunAs } from '../../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster, type ClusterOptions } from '../../src/postgres/cluster.ts'
import { freePort } from './ports.ts'

export interface ThrowawayCluster {
  /** The `postgres` database, as the superuser. */
  readonly url: string
  readonly port: number
  /** The cluster as src/postgres/cluster.ts takes it, to stop and start it in a test. */
  readonly cluster: ClusterOptions
  stop (): Promise<void>
}

export async function startThrowawayCluster (prefix: string, password: string): Promise<ThrowawayCluster> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  await chmod(dir, 0o755) // the postgres OS user must be able to enter it
  const cluster = { binaries: findBinaries(), runAs: postgresRunAs(), dataDir: join(dir, 'pgdata') }
  const port = await freePort()
  await initCluster(cluster, password, ['--no-sync'])
  await configureCluster(cluster, { port, host: '127.0.0.1' })
  await startCluster(cluster)
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    cluster,
    async stop () {
      await stopCluster(cluster, 'immediate')
      await rm(dir, { recursive: true, force: true })
    }
  }
}
