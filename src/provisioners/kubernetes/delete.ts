// delete-postgres: every object with this instance's mark goes, found by the
// mark (never by name alone), each deleted with a uid precondition so a
// same-named successor is never hit. Then we wait until they are gone: a
// finalizer may hold any of them (pvc-protection while a pod still mounts a
// claim, or someone else's); at the deadline the error names the objects and
// the finalizers that hold them.
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node'
import type { ActivityContext, DeletePostgresInput, DeletePostgresOutput } from '../types.ts'
import type { Kind } from './client.ts'
import { markFor, type Kube } from './context.ts'
import { markSelector, type Mark } from './names.ts'
import { isOurs } from './ownership.ts'
import { waitFor } from './wait.ts'

/** Services first (the cloud releases the load balancer), then the StatefulSet and its pod, then what they used. */
const ORDER: Kind[] = ['Service', 'StatefulSet', 'Pod', 'PersistentVolumeClaim', 'Secret', 'ConfigMap']

interface Found { kind: Kind, object: KubernetesObject }

/**
 * delete-postgres on Kubernetes (see the header): deletes every object with the
 * mark, then waits up to `input.timeout_seconds` seconds until none is left; {
 * deleted: false } when there was none. The namespace stays. Throws
 * WaitTimeoutError at the deadline, naming up to three objects still there and
 * what holds them.
 */
export async function removeInstance (k: Kube, input: DeletePostgresInput, ctx: ActivityContext): Promise<DeletePostgresOutput> {
  const ns = input.namespace
  const mark = markFor(k, input)
  const first = await sweep(k, ns, mark, ctx.signal)
  if (first.length === 0) {
    k.log.info({ namespace: ns, instance: input.instance_name }, 'kubernetes: nothing of the instance to delete')
    return { deleted: false }
  }
  await waitFor<true>(k.kc, {
    what: `every object of instance ${input.instance_name} in ${ns} to be gone`,
    timeoutSeconds: input.timeout_seconds,
    ctx,
    watch: ORDER.map(kind => ({ path: k.client.path(kind, ns), labelSelector: markSelector(mark) })),
    evaluate: async () => {
      const left = await sweep(k, ns, mark, ctx.signal)
      return left.length === 0 ? { done: true } : { waiting: left.slice(0, 3).map(f => stillThere(f, ns)).join('; ') }
    }
  })
  k.log.info({ namespace: ns, instance: input.instance_name }, 'kubernetes: deleted postgres')
  return { deleted: true }
}

/** Lists what is left with the mark and deletes what is not yet being deleted; returns what is left. */
async function sweep (k: Kube, ns: string, mark: Mark, signal: AbortSignal): Promise<Found[]> {
  const left: Found[] = []
  for (const kind of ORDER) {
    for (const object of await k.client.list(kind, ns, { labelSelector: markSelector(mark) }, signal)) {
      // The selector found it; the check is the same rule everything else uses.
      if (!isOurs(object, mark)) continue
      left.push({ kind, object })
      if (object.metadata?.deletionTimestamp) continue
      await k.client.remove(kind, ns, object.metadata!.name!, signal, { uid: object.metadata?.uid })
    }
  }
  return left
}

/** Why an object is still there, in words that name it and what holds it. */
export function stillThere ({ kind, object }: Found, ns: string): string {
  const name = `${kind} ${ns}/${object.metadata?.name}`
  const finalizers = object.metadata?.finalizers ?? []
  if (!object.metadata?.deletionTimestamp) return `${name} is still there`
  if (kind === 'Pod' && finalizers.length === 0) {
    const grace = (object as V1Pod).metadata?.deletionGracePeriodSeconds
    return `${name} is stopping${grace ? ` (grace period ${grace} s)` : ''}`
  }
  if (finalizers.length === 0) return `${name} is being deleted`
  return `${name} is being deleted and held by ${finalizers.length === 1 ? 'finalizer' : 'finalizers'} ${finalizers.join(', ')}`
}
