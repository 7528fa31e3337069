// restart, stop and start, the Kubernetes way: a restart deletes the pod and
// the StatefulSet controller makes a new one on the same claim; stop scales
// the StatefulSet to 0 (the claim stays: StatefulSet claims are retained on
// scale-down by default, persistentVolumeClaimRetentionPolicy.whenScaled:
// Retain); start scales it back to 1. Each waits for the outcome.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, ChangeOutput, OwnedRef, RestartOutput } from '../types.ts'
import { markFor, readOwned, type Kube } from './context.ts'
import { stillThere } from './delete.ts'
import { objectNames } from './names.ts'
import { assertOurs } from './ownership.ts'
import { waitUntilReady } from './ready.ts'
import { waitFor } from './wait.ts'

type Timed = OwnedRef & { timeout_seconds: number }

/**
 * restart-postgres on Kubernetes: deletes the pod (that one only, by uid) and
 * waits up to `input.timeout_seconds` seconds for its successor to be Ready;
 * `process` is the new pod's uid. Throws PermanentProvisionerError when the
 * StatefulSet is missing, not this instance's, or scaled to 0 (stopped: start
 * it instead), and as waitUntilReady does.
 */
export async function restart (k: Kube, input: Timed, ctx: ActivityContext): Promise<RestartOutput> {
  const names = objectNames(input.instance_name)
  const sts = await readOwned<V1StatefulSet>(k, 'StatefulSet', input, names.statefulSet, ctx.signal)
  if (sts.spec?.replicas === 0) throw new PermanentProvisionerError(`the instance is stopped (StatefulSet ${input.namespace}/${names.statefulSet} has 0 replicas): start it instead`)
  const pod = await k.client.read<V1Pod>('Pod', input.namespace, names.pod, ctx.signal)
  if (pod) {
    assertOurs('Pod', pod, input.namespace, markFor(k, input))
    // Only this pod: if it was already replaced, the new one is the restart.
    await k.client.remove('Pod', input.namespace, names.pod, ctx.signal, { uid: pod.metadata?.uid })
  }
  const ready = await waitUntilReady(k, input, { timeoutSeconds: input.timeout_seconds, ctx, notUid: pod?.metadata?.uid })
  k.log.info({ namespace: input.namespace, instance: input.instance_name, pod: ready.uid }, 'kubernetes: restarted postgres')
  return { process: ready.uid }
}

/**
 * stop-postgres on Kubernetes: scales the StatefulSet to 0 and waits up to
 * `input.timeout_seconds` seconds until the pod is gone; the claim stays.
 * changed: false when it was at 0 already. Throws PermanentProvisionerError
 * when the StatefulSet is missing or not this instance's; WaitTimeoutError at
 * the deadline.
 */
export async function stop (k: Kube, input: Timed, ctx: ActivityContext): Promise<ChangeOutput> {
  const names = objectNames(input.instance_name)
  const ns = input.namespace
  const sts = await readOwned<V1StatefulSet>(k, 'StatefulSet', input, names.statefulSet, ctx.signal)
  const was = sts.spec?.replicas ?? 1
  if (was !== 0) await k.client.scale(ns, names.statefulSet, 0, ctx.signal)
  await waitFor<true>(k.kc, {
    what: `pod ${ns}/${names.pod} to stop`,
    timeoutSeconds: input.timeout_seconds,
    ctx,
    watch: [{ path: k.client.path('Pod', ns), fieldSelector: `metadata.name=${names.pod}` }],
    evaluate: async () => {
      const pod = await k.client.read<V1Pod>('Pod', ns, names.pod, ctx.signal)
      if (!pod) return { done: true }
      if (!pod.metadata?.deletionTimestamp) return { waiting: `waiting for StatefulSet ${names.statefulSet} to stop pod ${names.pod}` }
      return { waiting: stillThere({ kind: 'Pod', object: pod }, ns) }
    }
  })
  return { changed: was !== 0, detail: was !== 0 ? `StatefulSet ${names.statefulSet} scaled to 0: pod ${names.pod} stopped, volume ${names.pvc} kept` : 'already stopped' }
}

/**
 * start-postgres on Kubernetes: scales the StatefulSet to 1 when it is at 0,
 * then waits up to `input.timeout_seconds` seconds for the pod to be Ready
 * (whether or not it was stopped). Throws PermanentProvisionerError when the
 * StatefulSet is missing or not this instance's, and as waitUntilReady does.
 */
export async function start (k: Kube, input: Timed, ctx: ActivityContext): Promise<ChangeOutput> {
  const names = objectNames(input.instance_name)
  const sts = await readOwned<V1StatefulSet>(k, 'StatefulSet', input, names.statefulSet, ctx.signal)
  const was = sts.spec?.replicas ?? 1
  if (was === 0) await k.client.scale(input.namespace, names.statefulSet, 1, ctx.signal)
  const ready = await waitUntilReady(k, input, { timeoutSeconds: input.timeout_seconds, ctx })
  return { changed: was === 0, detail: was === 0 ? `StatefulSet ${names.statefulSet} scaled to 1: pod ${ready.name} is Ready` : `pod ${ready.name} is Ready` }
}
