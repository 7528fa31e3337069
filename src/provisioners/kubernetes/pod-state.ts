// Reads a pod the way an operator would: Ready, still on its way (and why, in
// the cluster's own words), or stuck in a way that waiting will not fix.
// Pure: the pod, its claims and the events about them in, a verdict out.
// The table in README.md lists every condition read here and why it is
// treated as it is.
import type { CoreV1Event, V1ContainerStatus, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node'
import { latest, latestWarning } from './events.ts'
import { lastPullError, notFoundPulls, pullCause, pullErrorOf, saysNotFound } from './pull-errors.ts'

export interface PodSituation {
  pod: V1Pod
  /** Events about this pod (its uid), oldest first. */
  events: CoreV1Event[]
  /** The pod's claims by name, undefined when missing, with the events about each. */
  claims: Map<string, { claim: V1PersistentVolumeClaim | undefined, events: CoreV1Event[] }>
}

export interface PodLimits {
  /** Restarts tolerated in CrashLoopBackOff before the wait fails. */
  crashRestarts: number
  /** Pulls answered "not found" before the wait fails. */
  notFoundPulls: number
}

export type PodVerdict =
  | { state: 'ready' }
  | { state: 'waiting', reason: string }
  | { state: 'failed', reason: string }
  /** Failed: the caller adds the last lines of the container's log. */
  | { state: 'crash-looping', reason: string }

/**
 * How the pod stands, from the situation alone: 'ready'; 'waiting', in the
 * cluster's words, for what heals by itself (scheduling, volumes, pulls, a
 * restart); 'failed' for what will not (a lost volume, an unusable image, one
 * the registry reported missing `limits.notFoundPulls` times); 'crash-looping'
 * after `limits.crashRestarts` restarts in CrashLoopBackOff. README.md's table
 * gives each condition and why.
 */
export function podVerdict (s: PodSituation, limits: PodLimits): PodVerdict {
  const { pod } = s
  const name = pod.metadata?.name ?? '?'
  const status = pod.status
  if (pod.metadata?.deletionTimestamp) {
    // Eviction, a node drain, a restart: the StatefulSet controller makes it again once it is gone.
    return { state: 'waiting', reason: `pod ${name} is being deleted (evicted, drained or restarted); its StatefulSet recreates it` }
  }
  const conditions = status?.conditions ?? []
  if (conditions.some(c => c.type === 'Ready' && c.status === 'True')) return { state: 'ready' }
  if (status?.phase === 'Failed' || status?.phase === 'Succeeded') {
    // The StatefulSet controller deletes a failed pod and creates it again (stateful_set_control.go, isFailed).
    return { state: 'waiting', reason: `pod ${name} ${status.phase === 'Failed' ? 'failed' : 'exited'}${status.reason ? ` (${status.reason}${status.message ? `: ${status.message}` : ''})` : ''}; its StatefulSet replaces it` }
  }
  const scheduled = conditions.find(c => c.type === 'PodScheduled')
  if (scheduled?.status === 'False') return unscheduled(s, scheduled.message ?? scheduled.reason ?? 'not scheduled')
  if (!pod.spec?.nodeName) return { state: 'waiting', reason: `pod ${name} is waiting for the scheduler` }
  const container = status?.containerStatuses?.find(c => c.name === 'postgres') ?? status?.containerStatuses?.[0]
  if (!container) return { state: 'waiting', reason: `pod ${name} is scheduled on ${pod.spec.nodeName}; waiting for the kubelet` }
  return containerVerdict(s, container, limits)
}

/**
 * The scheduler keeps retrying an unschedulable pod (schedule_one.go): an
 * unbound claim binds once its volume is provisioned, a missing node may be
 * added by the cluster autoscaler, a taint may go. So: waiting, with the
 * scheduler's message, or the claim's own story when a claim is the cause.
 */
function unscheduled (s: PodSituation, message: string): PodVerdict {
  for (const [claimName, { claim, events }] of s.claims) {
    if (!claim) return { state: 'waiting', reason: `PersistentVolumeClaim ${claimName} does not exist yet` }
    if (claim.status?.phase === 'Lost') return { state: 'failed', reason: `PersistentVolumeClaim ${claimName} lost its volume (phase Lost): the volume it was bound to no longer exists` }
    if (claim.metadata?.deletionTimestamp) return { state: 'waiting', reason: `PersistentVolumeClaim ${claimName} is being deleted; pod ${s.pod.metadata?.name} cannot start on it` }
    if (claim.status?.phase !== 'Bound') {
      const warning = latestWarning(events)
      return { state: 'waiting', reason: `PersistentVolumeClaim ${claimName} is not bound yet${warning ? `: ${warning.message}` : ''}` }
    }
  }
  const autoscaler = latest(s.events, e => e.reason === 'TriggeredScaleUp' || e.reason === 'NotTriggerScaleUp')
  const scaling = autoscaler ? ` (cluster-autoscaler: ${autoscaler.message})` : ''
  return { state: 'waiting', reason: `no node can run pod ${s.pod.metadata?.name} yet: ${message}${scaling}` }
}

function containerVerdict (s: PodSituation, c: V1ContainerStatus, limits: PodLimits): PodVerdict {
  const pod = s.pod.metadata?.name ?? '?'
  const image = s.pod.spec?.containers?.find(x => x.name === c.name)?.image ?? c.image
  const waiting = c.state?.waiting
  if (c.state?.running) {
    const unhealthy = latest(s.events, e => e.reason === 'Unhealthy')
    return { state: 'waiting', reason: `PostgreSQL is starting in pod ${pod} (running, not Ready yet)${unhealthy ? `: ${unhealthy.message}` : ''}` }
  }
  if (c.state?.terminated) {
    const t = c.state.terminated
    return { state: 'waiting', reason: `PostgreSQL exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}; the kubelet restarts it` }
  }
  switch (waiting?.reason) {
    case undefined:
    case 'ContainerCreating':
    case 'PodInitializing':
      return creating(s, pod, image)
    case 'ErrImagePull':
    case 'ImagePullBackOff': {
      const error = pullErrorOf(waiting.message) ?? lastPullError(s.events) ?? waiting.reason
      if (saysNotFound(error)) {
        const n = notFoundPulls(s.events)
        if (n >= limits.notFoundPulls) return { state: 'failed', reason: `image ${image} cannot be pulled: the registry answered "not found" to ${n} pulls: ${error}` }
        return { state: 'waiting', reason: `pulling ${image}: not found (${n} of ${limits.notFoundPulls} pulls before giving up), retrying` }
      }
      return { state: 'waiting', reason: `pulling ${image}: ${pullCause(error)}, retrying` }
    }
    // kubelet: the reference cannot be parsed (applyDefaultImageTag); no pull will ever be tried.
    case 'InvalidImageName':
    // imagePullPolicy Never and the image is not on the node: nothing will pull it.
    case 'ErrImageNeverPull':
      return { state: 'failed', reason: `image ${image} cannot be used: ${waiting.reason}: ${waiting.message ?? ''}` }
    case 'CrashLoopBackOff': {
      const exit = c.lastState?.terminated
      const what = `PostgreSQL has exited ${c.restartCount + 1} times (last exit code ${exit?.exitCode ?? 'unknown'}`
      if (c.restartCount >= limits.crashRestarts) return { state: 'crash-looping', reason: `${what}; CrashLoopBackOff after ${c.restartCount} restarts)` }
      return { state: 'waiting', reason: `${what}); the kubelet restarts it after a back-off (${c.restartCount} of ${limits.crashRestarts} restarts before giving up)` }
    }
    // A Secret or ConfigMap created moments ago may not have reached the kubelet yet (kubelet_pods.go makeEnvironmentVariables).
    case 'CreateContainerConfigError':
    default:
      return { state: 'waiting', reason: `pod ${pod} cannot start its container yet: ${waiting?.reason}${waiting?.message ? `: ${waiting.message}` : ''}` }
  }
}

/** ContainerCreating: the kubelet mounts volumes (FailedMount until a Secret exists), pulls, creates. */
function creating (s: PodSituation, pod: string, image: string | undefined): PodVerdict {
  const last = latest(s.events, e => ['FailedMount', 'FailedAttachVolume', 'FailedCreatePodSandBox', 'Pulling', 'Pulled', 'Created', 'Started', 'BackOff'].includes(e.reason ?? ''))
  if (last?.reason === 'FailedMount' || last?.reason === 'FailedAttachVolume') return { state: 'waiting', reason: `pod ${pod} is waiting for its volumes: ${last.message}` }
  if (last?.type === 'Warning') return { state: 'waiting', reason: `pod ${pod} is not running yet: ${last.reason}: ${last.message}` }
  if (last?.reason === 'Pulling') return { state: 'waiting', reason: `pulling ${image}` }
  return { state: 'waiting', reason: `the kubelet is creating the container of pod ${pod}` }
}
