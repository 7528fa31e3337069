// Pods that restart, get evicted or deleted, StatefulSets that roll, objects
// held by finalizers, namespaces that terminate, and pod logs (without a real
// PostgreSQL: the container's output is synthetic).
import t from 'tap'
import { distinct, fake, podState, reasons, record, secret, statefulSet, until } from './helpers.ts'

const STS = '/apis/apps/v1/namespaces/toygres/statefulsets'

async function ready (t: Parameters<typeof fake>[0], opts: Parameters<typeof fake>[1] = {}, image = 'postgres:18') {
  const f = await fake(t, opts)
  await f.call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  const pods = record(f.kube, 'pods', 'db-0')
  await f.call('POST', STS, statefulSet('db', { image }))
  return { ...f, pods }
}

t.test('a container that exits on its first start is restarted at once: no CrashLoopBackOff', async t => {
  const { kube, call, pods } = await ready(t, { crashOnce: ['crashy/postgres'] }, 'crashy/postgres:18')
  const pod = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return podState(p) === 'Ready' && p }, 5000)
  t.same(distinct(pods.map(e => podState(e.object))), ['Pending', 'Running', 'Terminated(1)', 'Running', 'Ready'])
  const cs = pod.status.containerStatuses[0]
  t.equal(cs.restartCount, 1)
  t.match(cs.lastState, { terminated: { exitCode: 1, reason: 'Error', containerID: /^containerd:\/\/[0-9a-f]{64}$/ } })
  t.not(cs.lastState.terminated.containerID, cs.containerID)
  t.notOk(reasons(kube, 'toygres', 'db-0').includes('Warning BackOff'))
  const previous = await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log?previous=true')
  t.equal(previous.status, 200)
  t.match(previous.headers.get('content-type'), 'text/plain')
  t.match(previous.text, /FATAL: {2}fake kube-api: this container exits with code 1/)
  const current = await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log')
  t.notMatch(current.text, /FATAL/)
  t.match(current.text, /database system is ready to accept connections/)
})

t.test('a container that exits twice: CrashLoopBackOff with the kubelet back-off, then Running', async t => {
  const { kube, pods } = await ready(t, { crashTimes: { 'crashy/postgres': 2 }, backoffBaseMs: 100 }, 'crashy/postgres:18')
  const pod = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return podState(p) === 'Ready' && p }, 5000)
  t.same(distinct(pods.map(e => podState(e.object))), ['Pending', 'Running', 'Terminated(1)', 'Running', 'Terminated(1)', 'CrashLoopBackOff', 'Running', 'Ready'])
  const loop = pods.find(e => podState(e.object) === 'CrashLoopBackOff')!.object
  t.equal(loop.status.containerStatuses[0].state.waiting.message, `back-off 100ms restarting failed container=postgres pod=db-0_toygres(${loop.metadata.uid})`)
  t.equal(loop.status.containerStatuses[0].restartCount, 1)
  t.equal(loop.status.phase, 'Running')
  t.equal(pod.status.containerStatuses[0].restartCount, 2)
  const backOff = kube.kubeEvents('toygres', 'db-0').find(e => e.reason === 'BackOff')!
  t.match(backOff, { type: 'Warning', message: `Back-off restarting failed container postgres in pod db-0_toygres(${loop.metadata.uid})`, source: { component: 'kubelet' } })
})

t.test('a container that always exits: the back-off doubles up to its cap', async t => {
  const { kube } = await ready(t, { crashes: ['crashy/postgres'], backoffBaseMs: 20, backoffMaxMs: 80 }, 'crashy/postgres:18')
  const messages = new Set<string>()
  await until(kube, () => {
    const w = kube.state.get('pods', 'toygres', 'db-0')?.status?.containerStatuses?.[0]?.state?.waiting
    if (w?.reason === 'CrashLoopBackOff') messages.add(w.message.split(' ')[1])
    return messages.has('80ms')
  }, 10_000, 'back-off at its cap')
  t.same([...messages].slice(0, 3), ['20ms', '40ms', '80ms'])
})

t.test('killContainer: the kubelet restarts it, restartCount goes up, exit 137', async t => {
  const { kube } = await ready(t)
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  t.ok(kube.killContainer('toygres', 'db-0'))
  const pod = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return p?.status?.containerStatuses?.[0]?.restartCount === 1 && podState(p) === 'Ready' && p }, 5000)
  t.match(pod.status.containerStatuses[0].lastState, { terminated: { exitCode: 137, reason: 'Error' } })
  t.notOk(kube.killContainer('toygres', 'nope'))
})

t.test('eviction, a direct delete, and a template change: the StatefulSet makes the pod again', async t => {
  const { kube, call } = await ready(t)
  const first = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return podState(p) === 'Ready' && p }, 5000)
  const claim = kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0')!

  await kube.evictPod('toygres', 'db-0')
  const second = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return p && p.metadata.uid !== first.metadata.uid && podState(p) === 'Ready' && p }, 5000, 'recreated')
  t.equal(second.metadata.name, 'db-0')
  t.same(second.spec.volumes.find((v: any) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } })
  t.equal(kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0')!.metadata.uid, claim.metadata.uid, 'the same claim')
  const killing = kube.kubeEvents('toygres', 'db-0').find(e => e.reason === 'Killing')!
  t.match(killing, { type: 'Normal', message: 'Stopping container postgres', involvedObject: { uid: first.metadata.uid }, source: { component: 'kubelet' } })

  const deleted = await call('DELETE', '/api/v1/namespaces/toygres/pods/db-0')
  t.equal(deleted.status, 200)
  t.match(deleted.body.metadata, { deletionTimestamp: /Z$/, deletionGracePeriodSeconds: 30 }, 'a graceful delete answers at once, the pod terminating')
  const third = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return p && p.metadata.uid !== second.metadata.uid && podState(p) === 'Ready' && p }, 5000, 'recreated again')

  const eviction = await call('POST', '/api/v1/namespaces/toygres/pods/db-0/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'db-0', namespace: 'toygres' } })
  t.match(eviction, { status: 201, body: { kind: 'Status', status: 'Success' } })
  const fourth = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return p && p.metadata.uid !== third.metadata.uid && podState(p) === 'Ready' && p }, 5000, 'evicted and back')

  // A template change rolls the pod: deleted, then made from the new template.
  await call('PATCH', `${STS}/db`, { spec: { template: { spec: { containers: [{ name: 'postgres', image: 'postgres:17' }] } } } }, 'application/strategic-merge-patch+json')
  const rolled = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return p && p.metadata.uid !== fourth.metadata.uid && podState(p) === 'Ready' && p }, 5000, 'rolled')
  t.equal(rolled.spec.containers[0].image, 'postgres:17')
  t.not(rolled.metadata.labels?.['controller-revision-hash'], fourth.metadata.labels?.['controller-revision-hash'])
  await until(kube, () => { const s = kube.state.get('statefulsets', 'toygres', 'db')!; return s.status.observedGeneration === 2 && s.status.updatedReplicas === 1 && s.status.readyReplicas === 1 }, 5000, 'status')
  t.pass('status caught up')
})

t.test('scaling up and down: ordinals in order, highest first', async t => {
  const { kube, call } = await ready(t)
  await call('PATCH', `${STS}/db`, { spec: { replicas: 3 } }, 'application/merge-patch+json')
  const created: string[] = []
  kube.state.store.subscribe(0, e => { if (e.resource === 'pods' && e.type === 'ADDED') created.push(e.object.metadata.name) })
  await until(kube, () => ['db-0', 'db-1', 'db-2'].every(n => podState(kube.state.get('pods', 'toygres', n)) === 'Ready'), 10_000, 'three ready')
  t.same(created, ['db-0', 'db-1', 'db-2'])
  const gone: string[] = []
  kube.state.store.subscribe(kube.state.store.resourceVersion, e => { if (e.resource === 'pods' && e.type === 'DELETED') gone.push(e.object.metadata.name) })
  await call('PATCH', `${STS}/db`, { spec: { replicas: 1 } }, 'application/merge-patch+json')
  await until(kube, () => gone.length === 2, 10_000, 'two gone')
  t.same(gone, ['db-2', 'db-1'])
})

t.test('a finalizer holds a DELETE until it is released', async t => {
  const { kube, call } = await fake(t)
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('s', { k: 'v' }))
  kube.hold('secrets', 'toygres', 's')
  const del = await call('DELETE', '/api/v1/namespaces/toygres/secrets/s')
  t.equal(del.status, 200)
  t.match(del.body.metadata, { deletionTimestamp: /Z$/, deletionGracePeriodSeconds: 0, finalizers: ['fake.toygres.test/hold'] })
  t.equal((await call('GET', '/api/v1/namespaces/toygres/secrets/s')).status, 200, 'still there')
  t.equal((await call('DELETE', '/api/v1/namespaces/toygres/secrets/s')).status, 200, 'a second DELETE is no error')
  kube.release('secrets', 'toygres', 's')
  t.equal((await call('GET', '/api/v1/namespaces/toygres/secrets/s')).status, 404, 'gone with its last finalizer')

  // A client's own finalizer, removed by a patch.
  await call('POST', '/api/v1/namespaces/toygres/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: ['example.com/cleanup'] }, data: {} })
  await call('DELETE', '/api/v1/namespaces/toygres/configmaps/c')
  t.equal((await call('GET', '/api/v1/namespaces/toygres/configmaps/c')).status, 200)
  const patched = await call('PATCH', '/api/v1/namespaces/toygres/configmaps/c', [{ op: 'remove', path: '/metadata/finalizers' }], 'application/json-patch+json')
  t.equal(patched.status, 200)
  t.equal((await call('GET', '/api/v1/namespaces/toygres/configmaps/c')).status, 404)
})

t.test('pvc-protection: a claim in use stays Terminating until its pod is gone', async t => {
  const { kube, call } = await ready(t, { pvcProtection: true })
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  const del = await call('DELETE', '/api/v1/namespaces/toygres/persistentvolumeclaims/data-db-0')
  t.match(del.body.metadata, { deletionTimestamp: /Z$/, finalizers: ['kubernetes.io/pvc-protection'] })
  t.ok(kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0'), 'still there while the pod uses it')
  const pod = kube.state.get('pods', 'toygres', 'db-0')!
  t.match(await call('POST', STS.replace('statefulsets', 'statefulsets'), statefulSet('db')), { status: 409 })
  await call('DELETE', `${STS}/db`)
  await until(kube, () => !kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0'), 10_000, 'claim gone')
  t.notOk(kube.state.get('pods', 'toygres', 'db-0'), `pod ${pod.metadata.name} went first`)
})

t.test('a namespace goes through Terminating: content first, 403 for new content, held by finalizers', async t => {
  const { kube, call } = await ready(t, { namespaceTermination: true, pvcProtection: true })
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  await call('POST', '/api/v1/namespaces/toygres/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held' }, data: {} })
  kube.hold('configmaps', 'toygres', 'held')
  const del = await call('DELETE', '/api/v1/namespaces/toygres')
  t.match(del, { status: 200, body: { status: { phase: 'Terminating' }, metadata: { deletionTimestamp: /Z$/ } } })
  const refused = await call('POST', '/api/v1/namespaces/toygres/secrets', secret('late', { k: 'v' }))
  t.match(refused, {
    status: 403,
    body: {
      reason: 'Forbidden',
      message: 'secrets "late" is forbidden: unable to create new content in namespace toygres because it is being terminated',
      details: { name: 'late', kind: 'secrets', causes: [{ reason: 'NamespaceTerminating', message: 'namespace toygres is being terminated', field: 'metadata.namespace' }] }
    }
  })
  const sts = await call('POST', STS, statefulSet('other'))
  t.match(sts.body.message, 'statefulsets.apps "other" is forbidden: unable to create new content in namespace toygres because it is being terminated')
  const ns = await until(kube, () => {
    const n = kube.state.get('namespaces', undefined, 'toygres')
    return n?.status?.conditions?.some((c: any) => c.type === 'NamespaceFinalizersRemaining' && c.message === 'Some content in the namespace has finalizers remaining: fake.toygres.test/hold in 1 resource instances') &&
      !kube.state.get('pods', 'toygres', 'db-0') && n
  }, 10_000, 'only the held object left')
  t.equal(ns.status.phase, 'Terminating')
  t.same(kube.state.list('configmaps', 'toygres').map(c => c.metadata.name), ['held'])
  kube.release('configmaps', 'toygres', 'held')
  await until(kube, () => !kube.state.get('namespaces', undefined, 'toygres'), 10_000, 'namespace gone')
  t.pass('the namespace went once its content had')
})

t.test('pod logs: 400s with the real messages, tailLines, timestamps, sinceSeconds, follow', async t => {
  const { kube, call, token } = await fake(t, { kubelet: 'manual', containerCreatingMs: 10 })
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', STS, statefulSet('db'))
  await until(kube, () => kube.state.get('pods', 'toygres', 'db-0'), 5000)
  t.match(await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log'), { status: 400, body: { reason: 'BadRequest', message: 'pod db-0 does not have a host assigned' } })
  t.match(await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log?container=nope'), { status: 400, body: { message: 'container nope is not valid for pod db-0' } })
  t.match(await call('GET', '/api/v1/namespaces/toygres/pods/nope/log'), { status: 404, body: { message: 'pods "nope" not found' } })
  const starting = kube.startPod('toygres', 'db-0')
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'ContainerCreating', 5000)
  t.match(await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log'), { status: 400, body: { message: 'container "postgres" in pod "db-0" is waiting to start: ContainerCreating' } })
  await starting
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  t.match(await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log?previous=true'), { status: 400, body: { message: 'previous terminated container "postgres" in pod "db-0" not found' } })
  const all = (await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log')).text.split('\n').filter(Boolean)
  const tail = await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log?tailLines=1&timestamps=true')
  t.match(tail.text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z .*ready to accept connections\n$/)
  t.equal(tail.text.slice(tail.text.indexOf(' ') + 1), `${all[all.length - 1]}\n`)
  t.equal((await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log?sinceSeconds=3600')).text.split('\n').filter(Boolean).length, all.length)
  t.equal((await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log?sinceTime=2999-01-01T00:00:00Z')).text, '')

  // follow streams until the container stops: here, the pod is deleted.
  const res = await fetch(`${kube.url}/api/v1/namespaces/toygres/pods/db-0/log?follow=true&tailLines=0`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(res.status, 200)
  const body = res.text()
  await kube.evictPod('toygres', 'db-0')
  t.match(await body, /received fast shutdown request\n.*database system is shut down\n$/s, 'the stream ends with the container')
})

t.test('propagationPolicy: Orphan leaves the pod, Foreground deletes it before its StatefulSet', async t => {
  const { kube, call } = await ready(t)
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  t.equal((await call('DELETE', `${STS}/db`, { propagationPolicy: 'Orphan' })).status, 200)
  await until(kube, () => !kube.state.get('statefulsets', 'toygres', 'db'), 5000)
  const orphan = kube.state.get('pods', 'toygres', 'db-0')!
  t.same(orphan.metadata.ownerReferences, [], 'the orphan lost its owner reference and stays')

  await call('DELETE', '/api/v1/namespaces/toygres/pods/db-0')
  await until(kube, () => !kube.state.get('pods', 'toygres', 'db-0'), 5000)
  await call('POST', STS, statefulSet('db'))
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  const order: string[] = []
  kube.state.store.subscribe(kube.state.store.resourceVersion, e => { if (e.type === 'DELETED' && (e.resource === 'pods' || e.resource === 'statefulsets')) order.push(e.resource) })
  const fg = await call('DELETE', `${STS}/db`, { propagationPolicy: 'Foreground' })
  t.match(fg.body.metadata, { deletionTimestamp: /Z$/, finalizers: ['foregroundDeletion'] })
  await until(kube, () => order.length === 2, 10_000)
  t.same(order, ['pods', 'statefulsets'])
})
