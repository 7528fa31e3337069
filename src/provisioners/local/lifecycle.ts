// The server process of an existing instance: wait for it, restart, stop,
// start, bring back one that died, delete. Stops and reloads are signals to
// a postmaster proven to serve the instance's data directory (server.ts).
import { access, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isInitialised } from '../../postgres/cluster.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import type {
  ActivityContext, ChangeOutput, DeletePostgresInput, DeletePostgresOutput, GetConnectionStringsInput,
  GetConnectionStringsOutput, OwnedRef, RestartOutput, WaitForReadyInput, WaitForReadyOutput
} from '../types.ts'
import type { LocalContext } from './context.ts'
import { writeMeta, type InstanceMeta, type InstancePaths } from './layout.ts'
import { ownershipOf, requireOurs } from './ownership.ts'
import { releasePortsOf } from './ports.ts'
import { livePid, startServer, stopServer } from './server.ts'
import { waitUntilReady } from './wait.ts'

type Timed = OwnedRef & { timeout_seconds: number }

/**
 * The local provisioner's process methods (the Provisioner's waitForReady,
 * getConnectionStrings, restart, stop, start, recover and delete), each acting
 * only on a directory with this instance's mark: one missing or not ours is a
 * PermanentProvisionerError, except that recover returns false for a missing
 * one and delete leaves a missing or foreign one alone ({ deleted: false }).
 */
export function createLifecycle (ctx: LocalContext) {
  /** Starts the server with the instance's own major and resolves with the new postmaster's pid once it accepts connections. */
  async function start (paths: InstancePaths, meta: InstanceMeta, { signal, progress }: ActivityContext, timeoutMs: number): Promise<number> {
    const c = await ctx.binariesFor(meta.major) // a permanent error when that major was removed
    progress(`starting PostgreSQL ${c.version} on 127.0.0.1:${meta.port}`)
    await startServer(ctx.cluster(c, paths.pgdata), signal, timeoutMs)
    await waitUntilReady(meta.port, paths.pgdata, timeoutMs, signal, progress)
    const pid = await livePid(paths.pgdata)
    if (pid === undefined) throw new Error(`the server of ${paths.key} exited right after it started: see its log (readLogs)`)
    return pid
  }

  async function stop (paths: InstancePaths, { progress }: ActivityContext, timeoutMs: number): Promise<number | undefined> {
    const pid = await livePid(paths.pgdata)
    if (pid === undefined) return undefined
    progress(`fast shutdown of postmaster ${pid}`)
    await stopServer(paths.pgdata, timeoutMs)
    return pid
  }

  /** Records whether a user stopped the instance; recover honours it. */
  async function markStopped (paths: InstancePaths, meta: InstanceMeta, stopped: boolean): Promise<InstanceMeta> {
    if (meta.stopped_by_user === stopped) return meta
    const next = { ...meta, stopped_by_user: stopped }
    await writeMeta(paths.meta, next)
    return next
  }

  return {
    /**
     * Waits up to `input.timeout_seconds` seconds for the instance's port to
     * accept connections; `pod_name` is the instance's name. Throws
     * PermanentProvisionerError when the directory is missing or not ours, or a
     * user stopped the instance; NotReadyError at the deadline.
     */
    async waitForReady (input: WaitForReadyInput, { signal, progress }: ActivityContext): Promise<WaitForReadyOutput> {
      const paths = ctx.paths(input)
      const meta = await requireOurs(paths, input, ctx.controlPlaneId)
      if (meta.stopped_by_user) throw new PermanentProvisionerError(`local instance ${paths.key} was stopped by a user: start it first`)
      const elapsed = await waitUntilReady(meta.port, paths.pgdata, input.timeout_seconds * 1000, signal, progress)
      return { ready: true, pod_name: input.instance_name, elapsed_seconds: elapsed / 1000 }
    },

    /**
     * 127.0.0.1 and the instance's port, sslmode=require, at once; never a DNS
     * name, whatever dns_label says. Throws PermanentProvisionerError when the
     * directory is missing or not ours.
     */
    async getConnectionStrings (input: GetConnectionStringsInput): Promise<GetConnectionStringsOutput> {
      const meta = await requireOurs(ctx.paths(input), input, ctx.controlPlaneId)
      // No DNS name even with a dns_label: there is no DNS to register locally,
      // and "localhost" may resolve to ::1, where the instance does not listen.
      return {
        ip_connection_string: localConnectionString(meta.port),
        dns_connection_string: null,
        external_ip: '127.0.0.1',
        dns_name: null
      }
    },

    /**
     * A fast shutdown, then a start with the instance's own major; `process` is
     * the new postmaster's pid. Clears a user's stop. `timeout_seconds` bounds
     * each wait on its own (the shutdown's fast phase, the start, readiness),
     * not their sum. Throws PermanentProvisionerError, before stopping
     * anything, when that major is no longer installed.
     */
    restartPostgres: (input: Timed, actx: ActivityContext): Promise<RestartOutput> => ctx.owned(input, actx.signal, async (paths, meta) => {
      await ctx.binariesFor(meta.major) // before stopping anything: it could not come back without them
      meta = await markStopped(paths, meta, false)
      const old = await stop(paths, actx, input.timeout_seconds * 1000)
      const pid = await start(paths, meta, actx, input.timeout_seconds * 1000)
      ctx.log.info({ instance: paths.key, from: old, to: pid }, 'restarted local instance')
      return { process: String(pid) }
    }),

    /**
     * Records the user's stop first, then stops the server (stopServer: a fast
     * shutdown for up to `timeout_seconds` seconds, then SIGQUIT, then
     * SIGKILL). changed: false only when it was stopped and recorded so
     * already.
     */
    stopPostgres: (input: Timed, actx: ActivityContext): Promise<ChangeOutput> => ctx.owned(input, actx.signal, async (paths, meta) => {
      // Recorded first, so that health monitoring does not bring it back meanwhile.
      const marked = !meta.stopped_by_user
      await markStopped(paths, meta, true)
      const pid = await stop(paths, actx, input.timeout_seconds * 1000)
      if (pid !== undefined) ctx.log.info({ instance: paths.key, pid }, 'stopped local instance')
      return {
        changed: marked || pid !== undefined,
        detail: `${pid === undefined ? 'already stopped' : `stopped postmaster ${pid} (fast shutdown)`}; it stays stopped until started`
      }
    }),

    /**
     * Clears a user's stop, starts the server when none runs, and waits up to
     * `timeout_seconds` seconds for it to accept connections (also when it ran
     * already). Throws PermanentProvisionerError when the instance's major is
     * no longer installed; NotReadyError at the deadline.
     */
    startPostgres: (input: Timed, actx: ActivityContext): Promise<ChangeOutput> => ctx.owned(input, actx.signal, async (paths, meta) => {
      const unmarked = meta.stopped_by_user
      meta = await markStopped(paths, meta, false)
      const running = await livePid(paths.pgdata)
      if (running !== undefined) {
        await waitUntilReady(meta.port, paths.pgdata, input.timeout_seconds * 1000, actx.signal, actx.progress)
        return { changed: unmarked, detail: `already running (postmaster ${running})` }
      }
      const pid = await start(paths, meta, actx, input.timeout_seconds * 1000)
      ctx.log.info({ instance: paths.key, pid }, 'started local instance')
      return { changed: true, detail: `started postmaster ${pid}` }
    }),

    /** Only a server that died: not one a user stopped, not one that runs, not one that is not ours. */
    recoverPostgres: (ref: OwnedRef, actx: ActivityContext): Promise<boolean> => ctx.serially(ref, actx.signal, async paths => {
      const found = await ownershipOf(paths, ref, ctx.controlPlaneId)
      if (found.state === 'absent') return false
      const meta = await requireOurs(paths, ref, ctx.controlPlaneId) // foreign: a permanent error saying so
      if (meta.stopped_by_user || !(await isInitialised(paths.pgdata)) || await livePid(paths.pgdata) !== undefined) return false
      const c = await ctx.binariesFor(meta.major)
      actx.progress(`starting PostgreSQL ${c.version} on 127.0.0.1:${meta.port} (it died)`)
      await startServer(ctx.cluster(c, paths.pgdata), actx.signal)
      ctx.log.info({ instance: paths.key }, 'restarted local instance after it died')
      return true
    }),

    /** Moves the directory away (the trash's name carries the id), then removes it: a crash half-way leaves something provably ours. */
    deletePostgres: (input: DeletePostgresInput, actx: ActivityContext): Promise<DeletePostgresOutput> => ctx.serially(input, actx.signal, async paths => {
      const found = await ownershipOf(paths, input, ctx.controlPlaneId)
      if (found.state === 'foreign') {
        ctx.log.warn({ instance: paths.key, reason: found.reason }, `not deleting local instance directory ${paths.key}: it is not managed by this control plane (${found.reason}); nothing was removed`)
        return { deleted: false }
      }
      let deleted = false
      if (found.state === 'ours') {
        await stop(paths, actx, input.timeout_seconds * 1000)
        await rm(paths.trash, { recursive: true, force: true }) // an earlier attempt's, already stopped
        await rename(paths.dir, paths.trash)
        deleted = true
      }
      if (await access(paths.trash).then(() => true, () => false)) {
        await stopServer(join(paths.trash, 'pgdata'), input.timeout_seconds * 1000)
        await rm(paths.trash, { recursive: true, force: true })
        deleted = true
      }
      if (await releasePortsOf(ctx.home, paths.owner) > 0) deleted = true
      if (deleted) ctx.log.info({ instance: paths.key }, 'deleted local instance')
      return { deleted }
    })
  }
}

/** A local instance's connection string: loopback, its port, TLS required; never a password. */
export function localConnectionString (port: number): string {
  return `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=require`
}
