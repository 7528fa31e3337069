// The embedded control-plane database: a real PostgreSQL for the data
// directory (or where placement.ts puts its servers' data), so `npm start`
// works on a bare machine.
import { randomBytes } from 'node:crypto'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logging.ts'
import { configureCluster, initCluster, isClusterRunning, isInitialised, startCluster, stopCluster, type ClusterOptions } from '../postgres/cluster.ts'
import { canListen } from '../postgres/listen.ts'
import { announcePlacement, placeServers } from '../postgres/placement.ts'

export interface EmbeddedDatabase {
  readonly url: string
  stop (): Promise<void>
}

interface State { port: number, password: string }

export async function startEmbeddedDatabase (opts: { dataDir: string, port: number, binDir?: string | undefined, logger: Logger }): Promise<EmbeddedDatabase> {
  const placement = placeServers({ dataDir: opts.dataDir, binDir: opts.binDir })
  announcePlacement(placement, opts.logger)
  const cluster: ClusterOptions = { binaries: placement.binaries, runAs: placement.runAs, dataDir: join(placement.home, 'control-plane') }
  // Beside the cluster, so the two are kept or removed together; mode 0600.
  const stateFile = join(placement.home, 'control-plane.json')

  const portInUse = (): Error => new Error(`port ${opts.port} is in use: set TOYGRES_EMBEDDED_DB_PORT to a free port`)
  let state: State | undefined = await isInitialised(cluster.dataDir)
    ? JSON.parse(await readFile(stateFile, 'utf8')) as State
    : undefined
  const running = state !== undefined && await isClusterRunning(cluster)
  // PostgreSQL would say so in a dozen log lines; the user needs one.
  if (!running && !(await canListen(opts.port))) throw portInUse()
  if (state === undefined) {
    state = { port: opts.port, password: randomBytes(24).toString('base64url') }
    opts.logger.info({ dataDir: cluster.dataDir }, 'initialising the embedded control-plane database')
    await initCluster(cluster, state.password, ['--no-sync'])
    await configureCluster(cluster, { port: state.port, host: '127.0.0.1' })
    await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 })
  } else if (!running && state.port !== opts.port) {
    // The port setting changed (perhaps on our own advice): the later line wins.
    await appendFile(join(cluster.dataDir, 'postgresql.conf'), `\nport = ${opts.port}\n`)
    state = { ...state, port: opts.port }
    await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 })
  }
  if (!running) {
    await startCluster(cluster).catch((err: Error) => {
      throw /Address already in use|could not bind/.test(err.message) ? portInUse() : err
    })
  }
  opts.logger.info({ port: state.port }, 'embedded control-plane database is up')
  return {
    url: `postgresql://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/postgres`,
    stop: () => stopCluster(cluster)
  }
}
