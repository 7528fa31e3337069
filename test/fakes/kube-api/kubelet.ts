// What a kubelet would report for a pod: scheduling, image pulls, crashes, or
// a running container that turns Ready. Faults are chosen by image name.
import type { KubeObject } from './resources.ts'

export interface Faults {
  /** Images (with or without tag) whose pull always fails: ErrImagePull, then ImagePullBackOff. */
  neverPulls: string[]
  /** Images whose container exits at once: CrashLoopBackOff. */
  crashes: string[]
  /** Every pod stays Pending with PodScheduled=False, reason Unschedulable. */
  unschedulable: boolean
}

// Lowercase repository path, optional tag or digest: anything else cannot be pulled at all.
const IMAGE_REF = /^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+\/[a-z0-9]+([._/-][a-z0-9]+)*)?(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/

export function repository (image: string): string {
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  return colon > slash ? image.slice(0, colon) : image
}

export type PodOutcome =
  | { kind: 'unschedulable' }
  | { kind: 'waiting', reason: string, message: string, then?: { reason: string, message: string } }
  | { kind: 'run' }

export function podOutcome (pod: KubeObject, faults: Faults): PodOutcome {
  if (faults.unschedulable) return { kind: 'unschedulable' }
  const image: string = pod.spec?.containers?.[0]?.image ?? ''
  const listed = (list: string[]): boolean => list.includes(image) || list.includes(repository(image))
  if (!IMAGE_REF.test(image)) return { kind: 'waiting', reason: 'InvalidImageName', message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format` }
  if (listed(faults.neverPulls)) {
    return {
      kind: 'waiting',
      reason: 'ErrImagePull',
      message: `failed to pull and unpack image "${image}": not found`,
      then: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` }
    }
  }
  if (listed(faults.crashes)) return { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=postgres' }
  return { kind: 'run' }
}

const condition = (type: string, status: string, extra: Record<string, string> = {}): Record<string, string> =>
  ({ type, status, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...extra })

export function unschedulableStatus (): Record<string, unknown> {
  return { phase: 'Pending', conditions: [condition('PodScheduled', 'False', { reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.' })] }
}

export function waitingStatus (pod: KubeObject, reason: string, message: string, restartCount = 0): Record<string, unknown> {
  return {
    phase: 'Pending',
    conditions: [condition('PodScheduled', 'True'), condition('Initialized', 'True'), condition('ContainersReady', 'False'), condition('Ready', 'False')],
    containerStatuses: [{ name: pod.spec?.containers?.[0]?.name, image: pod.spec?.containers?.[0]?.image, imageID: '', ready: false, started: false, restartCount, state: { waiting: { reason, message } } }]
  }
}

export function runningStatus (pod: KubeObject, podIP: string): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  return {
    phase: 'Running',
    podIP,
    podIPs: [{ ip: podIP }],
    hostIP: '127.0.0.1',
    startTime: now,
    conditions: [condition('PodScheduled', 'True'), condition('Initialized', 'True'), condition('ContainersReady', 'True'), condition('Ready', 'True')],
    containerStatuses: [{ name: pod.spec?.containers?.[0]?.name, image: pod.spec?.containers?.[0]?.image, imageID: 'docker-pullable://fake', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }]
  }
}
