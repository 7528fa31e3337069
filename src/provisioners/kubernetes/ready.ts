// Waiting for the instance's pod to be Ready: wait-for-ready, and the end of
// restart and start. Each evaluation reads the pod (and, when it is not
// Ready, what explains why: its events, its claims and theirs, the
// StatefulSet when the pod is missing), and podVerdict decides.
import type { CoreV1Event, V1PersistentVolumeClaim, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, OwnedRef } from '../types.ts'
import { markFor, type Kube } from './context.ts'
import { ingressOf } from './connection-strings.ts'
import { eventsAbout, latestWarning } from './events.ts'
import { objectNames, type Mark } from './names.ts'
import { assertOurs } from './ownership.ts'
import { podVerdict, type PodSituation } from './pod-state.ts'
import { waitFor, type Step } from './wait.ts'

const LOG_LINES = 20

export interface ReadyPod { name: string, uid: string }

export interface ReadyOptions {
  timeoutSeconds: number
  ctx: ActivityContext
  /** A pod with this uid does not count (the one a restart replaces). */
  notUid?: string | undefined
  /** Says what else is still on its way (the load balancer), to show beside the pod's reason. */
  alongside?: (() => Promise<string | undefined>) | undefined
}

/**
 * Waits up to `opts.timeoutSeconds` seconds for the instance's pod (other than
 * `opts.notUid`) to be Ready, reporting why not through ctx.progress; resolves
 * with its name and uid. Throws PermanentProvisionerError when podVerdict says
 * it never will be (with the log's last lines for a crash loop), when the pod
 * or the StatefulSet is not this instance's, or the StatefulSet is missing or
 * at 0 replicas; WaitTimeoutError at the deadline.
 */
export async function waitUntilReady (k: Kube, ref: OwnedRef, opts: ReadyOptions): Promise<ReadyPod> {
  const ns = ref.namespace
  const names = objectNames(ref.instance_name)
  const mark = markFor(k, ref)
  const { signal } = opts.ctx
  return waitFor<ReadyPod>(k.kc, {
    what: `pod ${ns}/${names.pod} to be Ready`,
    timeoutSeconds: opts.timeoutSeconds,
    ctx: opts.ctx,
    watch: [
      { path: k.client.path('Pod', ns), fieldSelector: `metadata.name=${names.pod}` },
      { path: k.client.path('PersistentVolumeClaim', ns), fieldSelector: `metadata.name=${names.pvc}` }
    ],
    evaluate: async () => {
      const step = await podStep(k, ns, ref.instance_name, mark, opts.notUid, signal)
      if (!('waiting' in step) || !opts.alongside) return step
      const also = await opts.alongside()
      return also ? { waiting: `${step.waiting}; ${also}` } : step
    }
  })
}

async function podStep (k: Kube, ns: string, instance: string, mark: Mark, notUid: string | undefined, signal: AbortSignal): Promise<Step<ReadyPod>> {
  const names = objectNames(instance)
  const pod = await k.client.read<V1Pod>('Pod', ns, names.pod, signal)
  if (!pod) return missingPod(k, ns, instance, mark, signal)
  assertOurs('Pod', pod, ns, mark)
  const uid = pod.metadata!.uid!
  if (uid === notUid) return { waiting: `pod ${names.pod} is being replaced` }
  const ready = pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True')
  if (ready && !pod.metadata?.deletionTimestamp) return { done: { name: names.pod, uid } }
  const verdict = podVerdict(await situation(k, ns, pod, signal), k.limits)
  switch (verdict.state) {
    case 'ready': return { done: { name: names.pod, uid } }
    case 'waiting': return { waiting: verdict.reason }
    case 'failed': return { fail: new PermanentProvisionerError(`pod ${ns}/${names.pod} cannot become ready: ${verdict.reason}`) }
    case 'crash-looping': {
      const tail = await lastLines(k, ns, names.pod, signal)
      return { fail: new PermanentProvisionerError(`pod ${ns}/${names.pod} cannot become ready: ${verdict.reason}${tail ? `; the last lines of its log:\n${tail}` : ''}`) }
    }
  }
}

/** The pod and what explains its state: its events, and when it is not scheduled, its claims and their events. */
async function situation (k: Kube, ns: string, pod: V1Pod, signal: AbortSignal): Promise<PodSituation> {
  const events = await eventsAbout(k.client, ns, 'Pod', pod.metadata!.name!, pod.metadata?.uid, signal)
  const claims = new Map<string, { claim: V1PersistentVolumeClaim | undefined, events: CoreV1Event[] }>()
  const unscheduled = pod.status?.conditions?.some(c => c.type === 'PodScheduled' && c.status === 'False')
  if (unscheduled) {
    for (const v of pod.spec?.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName
      if (!name) continue
      const claim = await k.client.read<V1PersistentVolumeClaim>('PersistentVolumeClaim', ns, name, signal)
      const claimEvents = claim ? await eventsAbout(k.client, ns, 'PersistentVolumeClaim', name, claim.metadata?.uid, signal) : []
      claims.set(name, { claim, events: claimEvents })
    }
  }
  return { pod, events, claims }
}

/** No pod: the StatefulSet has not made it yet, cannot (its events say why), or is not there at all. */
async function missingPod (k: Kube, ns: string, instance: string, mark: Mark, signal: AbortSignal): Promise<Step<ReadyPod>> {
  const names = objectNames(instance)
  const sts = await k.client.read<V1StatefulSet>('StatefulSet', ns, names.statefulSet, signal)
  if (!sts) return { fail: new PermanentProvisionerError(`StatefulSet ${ns}/${names.statefulSet} does not exist: deploy-postgres first`) }
  assertOurs('StatefulSet', sts, ns, mark)
  if (sts.spec?.replicas === 0) return { fail: new PermanentProvisionerError(`the instance is stopped: StatefulSet ${ns}/${names.statefulSet} has 0 replicas`) }
  const warning = latestWarning(await eventsAbout(k.client, ns, 'StatefulSet', names.statefulSet, sts.metadata?.uid, signal))
  return { waiting: warning ? `StatefulSet ${names.statefulSet} cannot create pod ${names.pod} yet: ${warning.message}` : `waiting for StatefulSet ${names.statefulSet} to create pod ${names.pod}` }
}

async function lastLines (k: Kube, ns: string, pod: string, signal: AbortSignal): Promise<string> {
  for (const previous of [true, false]) {
    try {
      const text = await k.client.logTail(ns, pod, { previous, tailLines: LOG_LINES }, signal)
      if (text.trim()) return text.trimEnd()
    } catch {
      // No log to read (the container never ran, or the node is gone): the reason stands on its own.
    }
  }
  return ''
}

/** For wait-for-ready: the load balancer is provisioned meanwhile, and the user may as well know it is still on its way. */
export function loadBalancerPending (k: Kube, ns: string, instance: string, signal: AbortSignal): () => Promise<string | undefined> {
  return async () => {
    const svc = await k.client.read<V1Service>('Service', ns, objectNames(instance).service, signal)
    if (svc?.spec?.type !== 'LoadBalancer' || ingressOf(svc)) return undefined
    return 'also waiting for the load balancer\'s address'
  }
}
