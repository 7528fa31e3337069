// Day-2 changes that a local instance takes as records, or as a
// configuration file: password, storage size, labels, allowed networks. Each
// acts only on a directory with our mark, and says plainly what it did.
import type { ActivityContext, ApplyLabelsInput, ApplyNetworkInput, ChangeOutput, ResizeStorageInput, SetPasswordInput } from '../types.ts'
import type { LocalContext } from './context.ts'
import { writeMeta, type InstanceMeta, type InstancePaths } from './layout.ts'
import { checkCidrs, reloadHba, writeHba } from './network.ts'

async function record (paths: InstancePaths, meta: InstanceMeta, next: InstanceMeta): Promise<boolean> {
  if (JSON.stringify(next) === JSON.stringify(meta)) return false
  await writeMeta(paths.meta, next)
  return true
}

const sortedLabels = (labels: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))

function describeNetworks (allowed: string[] | null): string {
  if (allowed === null) return 'pg_hba.conf allows any network over TLS (hostssl) and loopback in plain TCP or TLS'
  if (allowed.length === 0) return 'pg_hba.conf allows loopback only (plain TCP or TLS)'
  return `pg_hba.conf allows ${allowed.join(', ')} over TLS (hostssl) and loopback in plain TCP or TLS`
}

/**
 * The local provisioner's day-2 methods that change no process: setPassword,
 * resizeStorage, applyLabels and applyNetwork. Each acts only on a directory
 * with our mark (PermanentProvisionerError otherwise).
 */
export function createRecords (ctx: LocalContext) {
  return {
    /** Nothing to keep locally (see the detail it returns): always changed: false. */
    setPassword: (input: SetPasswordInput, { signal }: ActivityContext): Promise<ChangeOutput> => ctx.owned(input, signal, async () => ({
      changed: false,
      detail: 'nothing kept locally: the server stores only the SCRAM verifier, which is set over SQL'
    })),

    /** Records storage_size_gb in instance.json; there is no volume to grow. */
    resizeStorage: (input: ResizeStorageInput, { signal }: ActivityContext): Promise<ChangeOutput> => ctx.owned(input, signal, async (paths, meta) => {
      const changed = await record(paths, meta, { ...meta, storage_size_gb: input.storage_size_gb })
      return { changed, detail: `${changed ? 'recorded' : 'already recorded'}; a local instance has no volume to grow` }
    }),

    /** Records the labels in instance.json (keys sorted); there are no objects to label. */
    applyLabels: (input: ApplyLabelsInput, { signal }: ActivityContext): Promise<ChangeOutput> => ctx.owned(input, signal, async (paths, meta) => {
      const changed = await record(paths, { ...meta, labels: sortedLabels(meta.labels ?? {}) }, { ...meta, labels: sortedLabels(input.labels) })
      return { changed, detail: `${changed ? 'recorded' : 'already recorded'}; a local instance has no objects to label` }
    }),

    /**
     * Rewrites pg_hba.conf for `allowed_cidrs`, records them, and has a running
     * server reload it, waiting until the new file is in force (reloadHba: a
     * plain, retryable Error after 10 s). Throws PermanentProvisionerError for
     * a value that is not a CIDR.
     */
    applyNetwork: async (input: ApplyNetworkInput, { signal, progress }: ActivityContext): Promise<ChangeOutput> => {
      checkCidrs(input.allowed_cidrs)
      return ctx.owned(input, signal, async (paths, meta) => {
        const rewritten = await writeHba(paths.pgdata, input.allowed_cidrs, ctx.placement.runAs)
        const recorded = await record(paths, meta, { ...meta, allowed_cidrs: input.allowed_cidrs })
        // Reloaded even when the file was already right: an earlier attempt may have written it and crashed before the reload.
        progress('waiting for the server to load the new pg_hba.conf')
        const outcome = await reloadHba(paths.pgdata, meta.port, signal)
        const applied = outcome === 'reloaded' ? 'the server has loaded it' : 'the server is not running and loads it when it starts'
        return {
          changed: rewritten || recorded,
          detail: `${describeNetworks(input.allowed_cidrs)}; ${applied}; the server listens on 127.0.0.1 only, so no other network can reach it`
        }
      })
    }
  }
}
