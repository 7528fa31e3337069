// core/v1 Events about one object, newest last. What a component says in an
// event (FailedMount, FailedScheduling, Failed to pull image...) is often the
// only place the cluster says why something waits, so the provisioner quotes
// it. Events of the new events.k8s.io API read through core/v1 carry eventTime
// and series instead of lastTimestamp; both are handled.
import type { CoreV1Event } from '@kubernetes/client-node'
import type { KubeClient } from './client.ts'

/** The event's latest occurrence, in ms. */
export function lastSeen (e: CoreV1Event): number {
  const times = [e.series?.lastObservedTime, e.lastTimestamp, e.eventTime, e.firstTimestamp, e.metadata?.creationTimestamp]
    .map(t => (t ? new Date(t as unknown as string).getTime() : NaN))
    .filter(n => !Number.isNaN(n))
  return times.length > 0 ? Math.max(...times) : 0
}

const version = (e: CoreV1Event): bigint => {
  const rv = e.metadata?.resourceVersion ?? ''
  return /^\d+$/.test(rv) ? BigInt(rv) : 0n
}

/** Oldest first. Timestamps have second precision, so ties go by resourceVersion (as a number), then by the API's order. */
export function chronological (events: CoreV1Event[]): CoreV1Event[] {
  return events.map((e, i) => ({ e, i })).sort((a, b) => {
    const dt = lastSeen(a.e) - lastSeen(b.e)
    if (dt !== 0) return dt
    const dv = version(a.e) - version(b.e)
    return dv !== 0n ? (dv < 0n ? -1 : 1) : a.i - b.i
  }).map(x => x.e)
}

/** Events about the object with this uid (a same-named predecessor's are not its), oldest first. */
export async function eventsAbout (client: KubeClient, namespace: string, kind: string, name: string, uid: string | undefined, signal: AbortSignal): Promise<CoreV1Event[]> {
  const events = await client.list<CoreV1Event>('Event', namespace, { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` }, signal)
  return chronological(events.filter(e => !uid || !e.involvedObject.uid || e.involvedObject.uid === uid))
}

/**
 * The last event of `events` (oldest first, as eventsAbout returns them) that
 * `match` accepts; undefined when none does.
 */
export const latest = (events: CoreV1Event[], match: (e: CoreV1Event) => boolean): CoreV1Event | undefined => events.findLast(match)

/** The last event of type Warning; undefined when there is none. */
export const latestWarning = (events: CoreV1Event[]): CoreV1Event | undefined => latest(events, e => e.type === 'Warning')
