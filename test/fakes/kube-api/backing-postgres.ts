// A real PostgreSQL server standing in for a pod's container, so a test can
// connect with the password from the Secret exactly as a client would.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinaries, postgresRunAs } from '../../../src/postgres/binaries.ts'
import { configureCluster, initCluster, postmasterPid, startCluster, stopCluster } from '../../../src/postgres/cluster.ts'

export interface BackingPostgres {
  readonly hosts: string[]
  readonly dataDir: string
  readonly pid: number | undefined
  stop (): Promise<void>
}

export async function startBackingPostgres (hosts: string[], password: string): Promise<BackingPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-fake-pod-'))
  await chmod(dir, 0o755) // the postgres OS user must be able to enter it
  const cluster = { binaries: findBinaries(), runAs: postgresRunAs(), dataDir: join(dir, 'pgdata') }
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true })
  try {
    await initCluster(cluster, password, ['--no-sync'])
    await configureCluster(cluster, { port: 5432, host: hosts.join(',') })
    await startCluster(cluster)
  } catch (err) {
    await stopCluster(cluster, 'immediate').catch(() => {})
    await remove()
    throw err
  }
  const pid = await postmasterPid(cluster.dataDir)
  return {
    hosts,
    dataDir: dir,
    pid,
    async stop () {
      await stopCluster(cluster, 'immediate')
      await remove()
    }
  }
}
