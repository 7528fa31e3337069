// The embedded control-plane database: a real PostgreSQL under
// TOYGRES_DATA_DIR, so `npm start` works on a bare machine.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logging.ts'
import { assertReachable, findBinaries, postgresRunAs } from '../postgres/binaries.ts'
import { configureCluster, initCluster, isClusterRunning, isInitialised, startCluster, stopCluster, type ClusterOptions } from '../postgres/cluster.ts'

export interface EmbeddedDatabase {
  readonly url: string
  stop (): Promise<void>
}

interface State { port: number, password: string }

export async function startEmbeddedDatabase (opts: { dataDir: string, port: number, binDir?: string | undefined, logger: Logger }): Promise<EmbeddedDatabase> {
  await mkdir(opts.dataDir, { recursive: true, mode: 0o755 })
  const runAs = postgresRunAs()
  assertReachable(join(opts.dataDir, 'control-plane'), runAs)
  const cluster: ClusterOptions = { binaries: findBinaries(opts.binDir), runAs, dataDir: join(opts.dataDir, 'control-plane') }
  const stateFile = join(opts.dataDir, 'control-plane.json')

  let state: State
  if (await isInitialised(cluster.dataDir)) {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as State
  } else {
    state = { port: opts.port, password: randomBytes(24).toString('base64url') }
    opts.logger.info({ dataDir: cluster.dataDir }, 'initialising the embedded control-plane database')
    await initCluster(cluster, state.password, ['--no-sync'])
    await configureCluster(cluster, { port: state.port, host: '127.0.0.1' })
    await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 })
  }
  if (!(await isClusterRunning(cluster))) {
    await startCluster(cluster)
  }
  opts.logger.info({ port: state.port }, 'embedded control-plane database is up')
  return {
    url: `postgresql://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/postgres`,
    stop: () => stopCluster(cluster)
  }
}
