// Reads a pod's status the way an operator would: Ready, still starting, or
// stuck in a state that waiting will not fix.
import type { V1Pod } from '@kubernetes/client-node'

export type PodVerdict =
  | { state: 'ready' }
  | { state: 'failed', reason: string, message: string }
  | { state: 'pending', detail: string }

// Kubernetes retries these for ever, but they only clear when someone changes
// the spec or the registry. ErrImagePull may be a registry hiccup; it is still
// reported at once, because a retry of the whole activity will pull again.
const STUCK_WAITING_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'CrashLoopBackOff', 'InvalidImageName'])

export function podVerdict (pod: V1Pod | undefined): PodVerdict {
  if (!pod) return { state: 'pending', detail: 'pod not created yet' }
  const status = pod.status
  if (pod.metadata?.deletionTimestamp) return { state: 'pending', detail: 'pod is terminating' }
  const conditions = status?.conditions ?? []
  if (conditions.some(c => c.type === 'Ready' && c.status === 'True')) return { state: 'ready' }
  const scheduled = conditions.find(c => c.type === 'PodScheduled')
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { state: 'failed', reason: 'Unschedulable', message: scheduled.message ?? '' }
  }
  for (const c of [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])]) {
    const waiting = c.state?.waiting
    if (waiting?.reason && STUCK_WAITING_REASONS.has(waiting.reason)) {
      return { state: 'failed', reason: waiting.reason, message: `container ${c.name}: ${waiting.message ?? ''}` }
    }
  }
  if (status?.phase === 'Failed' || status?.phase === 'Succeeded') {
    return { state: 'failed', reason: status.reason ?? `Pod${status.phase}`, message: status.message ?? `pod phase is ${status.phase}` }
  }
  const waiting = status?.containerStatuses?.find(c => c.state?.waiting)?.state?.waiting
  return { state: 'pending', detail: `phase ${status?.phase ?? 'unknown'}${waiting?.reason ? `, ${waiting.reason}` : ''}` }
}

export function describePod (pod: V1Pod | undefined): string {
  const v = podVerdict(pod)
  return v.state === 'pending' ? v.detail : v.state === 'failed' ? `${v.reason}: ${v.message}` : 'Ready'
}
