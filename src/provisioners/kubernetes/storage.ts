// resize-storage: grow the claim when its StorageClass allows expansion, then
// wait for the new capacity. Expansion is the storage provider's work
// (Resizing), then the kubelet's on the node that mounts the volume
// (FileSystemResizePending until a pod mounts it). Docs: "Expanding
// Persistent Volumes Claims"; the API refuses a class without
// allowVolumeExpansion (plugin/pkg/admission/storage/persistentvolume/resize)
// and any shrink (ValidatePersistentVolumeClaimUpdate).
import type { V1PersistentVolumeClaim, V1StatefulSet, V1StorageClass } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, ChangeOutput, ResizeStorageInput } from '../types.ts'
import { readOwned, type Kube } from './context.ts'
import { isForbidden } from './errors.ts'
import { eventsAbout, latestWarning } from './events.ts'
import { objectNames } from './names.ts'
import { bytesOf } from './quantity.ts'
import { waitFor } from './wait.ts'

type Outcome = 'grown' | 'on next start'

/**
 * resize-storage on Kubernetes (see the header): grows the claim to
 * `storage_size_gb` GiB (`<n>Gi`) and waits up to `input.timeout_seconds`
 * seconds for its capacity; for a stopped instance, only until the volume is
 * resized (its file system grows at the next start). Throws
 * PermanentProvisionerError for a size that is not a positive integer, a
 * shrink, a claim missing or not this instance's, a claim without a class or
 * whose class is missing or does not allow expansion, or a 403 on the patch;
 * WaitTimeoutError at the deadline.
 */
export async function resize (k: Kube, input: ResizeStorageInput, ctx: ActivityContext): Promise<ChangeOutput> {
  const ns = input.namespace
  const names = objectNames(input.instance_name)
  const { signal } = ctx
  if (!Number.isInteger(input.storage_size_gb) || input.storage_size_gb < 1) throw new PermanentProvisionerError(`storage_size_gb must be a positive integer, got ${input.storage_size_gb}`)
  const want = `${input.storage_size_gb}Gi`
  const claim = await readOwned<V1PersistentVolumeClaim>(k, 'PersistentVolumeClaim', input, names.pvc, signal)
  const requested = claim.spec?.resources?.requests?.storage
  if (bytesOf(want) < bytesOf(requested)) {
    throw new PermanentProvisionerError(`volume ${names.pvc} is ${requested} and cannot shrink to ${want}: Kubernetes volumes only grow`)
  }
  const changed = bytesOf(want) > bytesOf(requested)
  if (changed) {
    await assertExpandable(k, claim, signal)
    try {
      await k.client.patch('PersistentVolumeClaim', ns, names.pvc, { spec: { resources: { requests: { storage: want } } } }, signal)
    } catch (err) {
      if (isForbidden(err)) throw new PermanentProvisionerError(`volume ${names.pvc} cannot grow: ${(err as Error).message}`, { cause: err })
      throw err
    }
  }
  const outcome = await waitFor<Outcome>(k.kc, {
    what: `volume ${ns}/${names.pvc} to reach ${want}`,
    timeoutSeconds: input.timeout_seconds,
    ctx,
    watch: [{ path: k.client.path('PersistentVolumeClaim', ns), fieldSelector: `metadata.name=${names.pvc}` }],
    evaluate: async () => {
      const now = await readOwned<V1PersistentVolumeClaim>(k, 'PersistentVolumeClaim', input, names.pvc, signal)
      if (bytesOf(now.status?.capacity?.storage) >= bytesOf(want)) return { done: 'grown' }
      const pending = now.status?.conditions?.find(c => c.type === 'FileSystemResizePending' && c.status === 'True')
      if (pending && await stopped(k, ns, names.statefulSet, signal)) return { done: 'on next start' }
      const resizing = now.status?.conditions?.find(c => c.status === 'True')
      const warning = latestWarning(await eventsAbout(k.client, ns, 'PersistentVolumeClaim', names.pvc, now.metadata?.uid, signal))
      const state = resizing ? `${resizing.type}${resizing.message ? `: ${resizing.message}` : ''}` : 'waiting for the storage provider'
      return { waiting: `volume ${names.pvc} is growing to ${want} (${state})${warning ? `; ${warning.reason}: ${warning.message}` : ''}` }
    }
  })
  const detail = !changed
    ? `volume ${names.pvc} is already ${want}`
    : outcome === 'grown' ? `volume ${names.pvc} grown from ${requested} to ${want}` : `volume ${names.pvc} resized to ${want}; its file system grows when the instance next starts`
  return { changed, detail }
}

/** Fails with the class's name when it does not allow expansion; a class we may not read is left to the API server to judge. */
async function assertExpandable (k: Kube, claim: V1PersistentVolumeClaim, signal: AbortSignal): Promise<void> {
  const className = claim.spec?.storageClassName
  if (!className) throw new PermanentProvisionerError(`volume ${claim.metadata?.name} has no StorageClass, so it was not provisioned dynamically and cannot grow`)
  let sc: V1StorageClass | undefined
  try {
    sc = await k.client.read<V1StorageClass>('StorageClass', '', className, signal)
  } catch (err) {
    if (isForbidden(err)) return
    throw err
  }
  if (!sc) throw new PermanentProvisionerError(`volume ${claim.metadata?.name} cannot grow: its StorageClass "${className}" does not exist`)
  if (sc.allowVolumeExpansion !== true) {
    throw new PermanentProvisionerError(`volume ${claim.metadata?.name} cannot grow: its StorageClass "${className}" does not allow volume expansion (allowVolumeExpansion is not true)`)
  }
}

async function stopped (k: Kube, ns: string, sts: string, signal: AbortSignal): Promise<boolean> {
  return (await k.client.read<V1StatefulSet>('StatefulSet', ns, sts, signal))?.spec?.replicas === 0
}
