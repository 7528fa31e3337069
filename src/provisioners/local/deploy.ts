// deploy-postgres: claim the instance directory (with our mark, or not at
// all), reserve a port, copy the template, configure TLS, the network and
// the password, start the server. Each piece is created only when missing,
// so a repeat or a re-run after a crash half-way converges; a directory of
// that name without our mark fails the step at once, untouched.
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { configureCluster, isInitialised } from '../../postgres/cluster.ts'
import { majorOf } from '../../postgres/majors.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, DeploySpec, DeployPostgresOutput } from '../types.ts'
import type { LocalContext } from './context.ts'
import { doneStaging, stagingPath, sweep } from './copies.ts'
import { writeMeta, type InstanceMeta, type InstancePaths } from './layout.ts'
import { checkCidrs, reloadHba, writeHba } from './network.ts'
import { notOursError, ownershipOf } from './ownership.ts'
import { releasePort, reservePort } from './ports.ts'
import { scramVerifier } from '../../postgres/scram.ts'
import { livePid, runSingleUser, startServer } from './server.ts'
import { INSTANCE_SETTINGS } from './settings.ts'
import type { MajorBinaries } from './template.ts'
import { checkTls, hasTlsFrom, writeTls } from './tls.ts'

type Binaries = MajorBinaries & { version: string }

/**
 * deploy-postgres for the local provisioner (see the header), one call at a
 * time per instance. Throws PermanentProvisionerError for unusable TLS material
 * or CIDRs, a directory not ours, a major other than the one the instance runs
 * (no major upgrade locally) or one not installed, no free port, a full disk;
 * startServer's errors otherwise. A server a user stopped is configured but not
 * started.
 */
export function createDeploy (ctx: LocalContext): (input: DeploySpec, actx: ActivityContext) => Promise<DeployPostgresOutput> {
  /** A new instance directory appears whole, with instance.json in it (renamed into place), so none exists without our mark. */
  async function claim (paths: InstancePaths, input: DeploySpec, c: Binaries): Promise<{ meta: InstanceMeta, won: boolean }> {
    const port = await reservePort(ctx.home, paths.owner, ctx.ports)
    const meta: InstanceMeta = {
      instance_id: input.instance_id,
      control_plane_id: ctx.controlPlaneId,
      namespace: input.namespace,
      instance_name: input.instance_name,
      port,
      major: c.major,
      server_version: c.version,
      created_at: new Date().toISOString(),
      stopped_by_user: false,
      storage_size_gb: input.storage_size_gb,
      labels: input.labels,
      allowed_cidrs: input.allowed_cidrs
    }
    await mkdir(paths.namespaceDir, { recursive: true, mode: 0o755 })
    await sweep(paths.namespaceDir, '.claim-')
    const staging = stagingPath(paths.namespaceDir, '.claim-')
    try {
      await mkdir(staging, { mode: 0o755 }) // the server's OS user must be able to enter it
      await writeMeta(join(staging, 'instance.json'), meta)
      await rename(staging, paths.dir)
      return { meta, won: true }
    } catch (err) {
      await rm(staging, { recursive: true, force: true })
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      // Someone made the directory meanwhile: a concurrent deploy of this instance, or not ours.
      const now = await ownershipOf(paths, input, ctx.controlPlaneId)
      if (now.state === 'ours') {
        if (now.meta.port !== port) await releasePort(ctx.home, port, paths.owner)
        return { meta: now.meta, won: false }
      }
      await releasePort(ctx.home, port, paths.owner)
      throw notOursError(paths, now.state === 'foreign' ? now.reason : 'it appeared while this deploy ran')
    } finally {
      doneStaging(staging)
    }
  }

  /** A copy of the template, configured (port, TLS, network, password), renamed into place only when complete. */
  async function ensureDataDir (paths: InstancePaths, meta: InstanceMeta, input: DeploySpec, c: Binaries): Promise<boolean> {
    if (await isInitialised(paths.pgdata)) return false
    await sweep(paths.dir, 'pgdata.partial-')
    const staging = stagingPath(paths.dir, 'pgdata.partial-')
    try {
      await ctx.templates.copyTo(c, staging)
      const cluster = ctx.cluster(c, staging)
      await configureCluster(cluster, { port: meta.port, host: '127.0.0.1' }, INSTANCE_SETTINGS)
      await writeTls(staging, paths.rootCert, input.tls, c.runAs)
      await writeHba(staging, input.allowed_cidrs, c.runAs)
      await runSingleUser(cluster, `ALTER ROLE postgres PASSWORD '${scramVerifier(input.password)}'`)
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

  return async function deployPostgres (input, { signal, progress }) {
    checkTls(input.tls)
    checkCidrs(input.allowed_cidrs)
    const requested = majorOf(input.postgres_version)
    return ctx.serially(input, signal, async paths => {
      const created: string[] = []
      const existing: string[] = []
      const what = (kind: string): string => `${kind}/${input.instance_name}`
      const found = await ownershipOf(paths, input, ctx.controlPlaneId)
      if (found.state === 'foreign') throw notOursError(paths, found.reason)
      if (found.state === 'ours' && found.meta.major !== requested) {
        throw new PermanentProvisionerError(`local instance ${paths.key} runs PostgreSQL ${found.meta.major}, not ${requested}: a major upgrade is not supported locally`)
      }
      const c = await ctx.binariesFor(requested)
      let meta: InstanceMeta
      if (found.state === 'ours') {
        meta = found.meta
        existing.push(what('PortReservation'))
      } else {
        const claimed = await claim(paths, input, c)
        meta = claimed.meta
        ;(claimed.won ? created : existing).push(what('PortReservation'))
      }
      signal.throwIfAborted()

      const copied = await ensureDataDir(paths, meta, input, c)
      ;(copied ? created : existing).push(what('DataDirectory'))
      // An existing data directory converges to the spec: a certificate from
      // this CA, these networks. A running server reloads them (always: an
      // earlier attempt may have written them and crashed before the reload).
      if (copied || await hasTlsFrom(paths.pgdata, paths.rootCert, input.tls)) {
        ;(copied ? created : existing).push(what('Certificate'))
      } else {
        await writeTls(paths.pgdata, paths.rootCert, input.tls, c.runAs)
        created.push(what('Certificate'))
      }
      // After the certificate: a new one makes a new pg_hba.conf, whose reload is then confirmed (network.ts).
      if (!copied) await writeHba(paths.pgdata, input.allowed_cidrs, c.runAs)
      const recorded = { ...meta, storage_size_gb: input.storage_size_gb, labels: input.labels, allowed_cidrs: input.allowed_cidrs }
      if (JSON.stringify(recorded) !== JSON.stringify(meta)) await writeMeta(paths.meta, meta = recorded)
      signal.throwIfAborted()

      if (await livePid(paths.pgdata) !== undefined) {
        existing.push(what('Process'))
        await reloadHba(paths.pgdata, meta.port, signal)
      } else if (!meta.stopped_by_user) { // one a user stopped stays stopped until started
        progress(`starting PostgreSQL ${c.version} on 127.0.0.1:${meta.port}`)
        await startServer(ctx.cluster(c, paths.pgdata), signal)
        created.push(what('Process'))
      }
      ctx.log.info({ instance: paths.key, port: meta.port, major: meta.major, created, existing }, 'deployed local instance')
      return { instance_name: input.instance_name, namespace: input.namespace, created, existing }
    })
  }
}
