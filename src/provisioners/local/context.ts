// What every method of the local provisioner shares: where things are, who
// runs the servers, the installed majors, and one queue per instance.
import type { Logger } from '../../logging.ts'
import type { ClusterOptions } from '../../postgres/cluster.ts'
import { ADD_MAJOR_COMMAND, installedMajors, type InstalledMajor } from '../../postgres/majors.ts'
import type { Placement } from '../../postgres/placement.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { OwnedRef } from '../types.ts'
import { instancePaths, type InstanceMeta, type InstancePaths } from './layout.ts'
import { requireOurs } from './ownership.ts'
import type { PortRange } from './ports.ts'
import { createKeyedQueue } from './serial.ts'
import type { MajorBinaries, TemplateSource } from './template.ts'
import { permanentWhenDiskFull } from './errors.ts'

export interface LocalContext {
  readonly placement: Placement
  /** Where instances, templates, ports and added majors live. */
  readonly home: string
  readonly controlPlaneId: string
  readonly ports: PortRange
  readonly log: Logger
  readonly templates: TemplateSource
  /**
   * The instance's paths under `home`; throws PermanentProvisionerError for a
   * name, namespace or id that cannot be a path segment (layout.ts).
   */
  paths (ref: OwnedRef): InstancePaths
  /** The majors installed now. */
  majors (): Promise<Map<string, InstalledMajor>>
  /** The binaries of `major`, or a permanent error naming what is installed and how to add more. */
  binariesFor (major: string): Promise<MajorBinaries & { version: string }>
  /** What src/postgres/cluster.ts needs to run `c`'s programs, as the server's OS user, on `dataDir`. */
  cluster (c: MajorBinaries, dataDir: string): ClusterOptions
  /**
   * Runs `fn` after the calls before it for the same instance (in this
   * process), unless `signal` aborted meanwhile; a full disk becomes a
   * permanent error.
   */
  serially<T> (ref: OwnedRef, signal: AbortSignal, fn: (paths: InstancePaths) => Promise<T>): Promise<T>
  /** serially(), only on a directory with our mark for this instance. */
  owned<T> (ref: OwnedRef, signal: AbortSignal, fn: (paths: InstancePaths, meta: InstanceMeta) => Promise<T>): Promise<T>
}

/**
 * The LocalContext of one provisioner over `opts.placement`; nothing on disk is
 * touched until a method is called.
 */
export function createContext (opts: { placement: Placement, controlPlaneId: string, ports: PortRange, log: Logger, templates: TemplateSource }): LocalContext {
  const { placement } = opts
  const home = placement.home
  const queue = createKeyedQueue()
  const majors = (): Promise<Map<string, InstalledMajor>> => installedMajors(home, placement.binaries)
  const paths = (ref: OwnedRef): InstancePaths => instancePaths(home, ref)
  const serially = async <T>(ref: OwnedRef, signal: AbortSignal, fn: (p: InstancePaths) => Promise<T>): Promise<T> => {
    const p = paths(ref)
    signal.throwIfAborted()
    return queue.run(p.key, async () => {
      signal.throwIfAborted()
      return permanentWhenDiskFull(home, () => fn(p))
    })
  }
  return {
    ...opts,
    home,
    paths,
    majors,
    async binariesFor (major) {
      const installed = await majors()
      const found = installed.get(major)
      if (!found) {
        throw new PermanentProvisionerError(`PostgreSQL ${major} is not installed here (installed: ${[...installed.keys()].join(', ')}): add it with \`${ADD_MAJOR_COMMAND.replace('<major>', major)}\``)
      }
      return { major, version: found.version, binaries: found.binaries, runAs: placement.runAs }
    },
    cluster: (c, dataDir) => ({ binaries: c.binaries, runAs: c.runAs, dataDir }),
    serially,
    owned: (ref, signal, fn) => serially(ref, signal, async p => fn(p, await requireOurs(p, ref, opts.controlPlaneId)))
  }
}
