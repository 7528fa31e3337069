// The verdict on a pod, as plain data: states a real cluster shows that the
// fake does not produce (an evicted pod's Failed phase, older kubelets'
// messages, registries' other ways of saying "not found"), and the rules
// that decide between waiting and failing.
import t from 'tap'
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node'
import { podVerdict, type PodSituation } from '../../../src/provisioners/kubernetes/pod-state.ts'
import { pullCause, saysNotFound } from '../../../src/provisioners/kubernetes/pull-errors.ts'
import { chronological } from '../../../src/provisioners/kubernetes/events.ts'

const LIMITS = { crashRestarts: 3, notFoundPulls: 3 }

function pod (status: V1Pod['status'], extra: Partial<V1Pod['metadata']> = {}): V1Pod {
  return { metadata: { name: 'orders-0', uid: 'u1', ...extra }, spec: { nodeName: 'n1', containers: [{ name: 'postgres', image: 'postgres:18' }] }, status }
}
const situation = (p: V1Pod, events: CoreV1Event[] = []): PodSituation => ({ pod: p, events, claims: new Map() })
const waiting = (reason: string, message?: string): V1Pod['status'] => ({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'postgres', image: 'postgres:18', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } }] })
const pullFailed = (message: string, count = 1): CoreV1Event => ({ metadata: {}, involvedObject: {}, reason: 'Failed', type: 'Warning', message: `Failed to pull image "postgres:18": ${message}`, count })

t.test('registries say "not found" in several ways; everything else is worth retrying', async t => {
  for (const m of [
    'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/postgres:99": failed to resolve reference "docker.io/library/postgres:99": docker.io/library/postgres:99: not found',
    'rpc error: code = Unknown desc = Error response from daemon: manifest for postgres:99 not found: manifest unknown: manifest unknown',
    'rpc error: code = Unknown desc = Error response from daemon: pull access denied for nosuchrepo, repository does not exist or may require \'docker login\'',
    'failed to resolve reference "ghcr.io/x/y:1": ghcr.io/x/y:1: not found'
  ]) t.ok(saysNotFound(m), m)
  for (const m of [
    'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/postgres:18": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/postgres/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.',
    'rpc error: code = DeadlineExceeded desc = failed to pull and unpack image "docker.io/library/postgres:18": context deadline exceeded',
    'failed to do request: Head "https://registry-1.docker.io/v2/library/postgres/manifests/18": dial tcp: lookup registry-1.docker.io: no such host',
    'unexpected status code https://myacr.azurecr.io/v2/postgres/manifests/18: 503 Service Unavailable'
  ]) t.notOk(saysNotFound(m), m)
  t.equal(pullCause('unexpected status code https://x/v2/y: 429 Too Many Requests - Server message: toomanyrequests: slow down'), '429 Too Many Requests')
  t.equal(pullCause('unexpected status code https://x/v2/y: 503 Service Unavailable'), '503 Service Unavailable')
  t.equal(pullCause('rpc error: code = DeadlineExceeded desc = failed to pull: context deadline exceeded'), 'context deadline exceeded')
})

t.test('image pulls: the back-off message with or without the error, not found counted over aggregated events', async t => {
  const limited = '429 Too Many Requests - Server message: toomanyrequests'
  t.same(podVerdict(situation(pod(waiting('ImagePullBackOff', `Back-off pulling image "postgres:18": ErrImagePull: ${limited}`))), LIMITS), { state: 'waiting', reason: 'pulling postgres:18: 429 Too Many Requests, retrying' })
  // Kubelets before 1.30 say only "Back-off pulling image": the error comes from the event.
  t.same(podVerdict(situation(pod(waiting('ImagePullBackOff', 'Back-off pulling image "postgres:18"')), [pullFailed(limited)]), LIMITS), { state: 'waiting', reason: 'pulling postgres:18: 429 Too Many Requests, retrying' })
  const notFound = 'rpc error: code = NotFound desc = failed to resolve reference: not found'
  t.match(podVerdict(situation(pod(waiting('ErrImagePull', notFound)), [pullFailed(notFound, 2)]), LIMITS), { state: 'waiting', reason: /not found \(2 of 3 pulls/ })
  t.match(podVerdict(situation(pod(waiting('ImagePullBackOff', 'Back-off pulling image "postgres:18"')), [pullFailed(notFound, 2), pullFailed(notFound, 1)]), LIMITS), { state: 'failed', reason: /answered "not found" to 3 pulls/ })
  t.match(podVerdict(situation(pod(waiting('ErrImageNeverPull', 'Container image "postgres:18" is not present with pull policy of Never'))), LIMITS), { state: 'failed', reason: /ErrImageNeverPull/ })
})

t.test('an evicted pod, a terminating pod, a running one not Ready yet', async t => {
  t.match(podVerdict(situation(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: ephemeral-storage.' })), LIMITS), { state: 'waiting', reason: 'pod orders-0 failed (Evicted: The node was low on resource: ephemeral-storage.); its StatefulSet replaces it' })
  t.match(podVerdict(situation(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }, { deletionTimestamp: new Date() })), LIMITS), { state: 'waiting', reason: /is being deleted/ }, 'Ready but terminating does not count')
  const running: V1Pod['status'] = { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'postgres', image: 'postgres:18', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] }
  const unhealthy: CoreV1Event = { metadata: {}, involvedObject: {}, reason: 'Unhealthy', type: 'Warning', message: 'Readiness probe failed: 127.0.0.1:5432 - no response' }
  t.same(podVerdict(situation(pod(running), [unhealthy]), LIMITS), { state: 'waiting', reason: 'PostgreSQL is starting in pod orders-0 (running, not Ready yet): Readiness probe failed: 127.0.0.1:5432 - no response' })
  t.same(podVerdict(situation(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] })), LIMITS), { state: 'ready' })
})

t.test('crash loops: tolerated up to the limit, then final', async t => {
  const crashing = (restartCount: number): V1Pod['status'] => ({ phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'postgres', image: 'postgres:18', imageID: '', ready: false, restartCount, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 2 } } }] })
  t.equal(podVerdict(situation(pod(crashing(2))), LIMITS).state, 'waiting')
  t.same(podVerdict(situation(pod(crashing(3))), LIMITS), { state: 'crash-looping', reason: 'PostgreSQL has exited 4 times (last exit code 2; CrashLoopBackOff after 3 restarts)' })
  t.equal(podVerdict(situation(pod(crashing(3))), { ...LIMITS, crashRestarts: 10 }).state, 'waiting', 'the limit is configurable')
})

t.test('events newest last: by time, then resourceVersion, whichever API wrote them', async t => {
  const e = (name: string, fields: Partial<CoreV1Event>): CoreV1Event => ({ involvedObject: {}, ...fields, metadata: { name, resourceVersion: fields.metadata?.resourceVersion } } as CoreV1Event)
  const sorted = chronological([
    e('series', { series: { lastObservedTime: new Date('2026-01-01T00:00:05Z') } as never, eventTime: new Date('2026-01-01T00:00:01Z') as never }),
    e('later', { lastTimestamp: new Date('2026-01-01T00:00:03Z'), metadata: { resourceVersion: '20' } }),
    e('earlier', { lastTimestamp: new Date('2026-01-01T00:00:03Z'), metadata: { resourceVersion: '10' } }),
    e('first', { lastTimestamp: new Date('2026-01-01T00:00:01Z') })
  ])
  t.same(sorted.map(x => x.metadata.name), ['first', 'earlier', 'later', 'series'])
})
