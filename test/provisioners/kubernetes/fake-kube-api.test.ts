// The fake API server keeps the promises a real one makes, since the
// provisioner's tests are only as good as it is.
import t from 'tap'
import { until } from '../../fakes/fake-kube/helpers.ts'
import { startFakeKubeApi } from '../../fakes/kube-api/index.ts'
import { deployInput, harness, never, INSTANCE_ID } from './helpers.ts'

async function fake (t: { teardown (fn: () => unknown): void }) {
  const kube = await startFakeKubeApi({ namespaces: ['toygres'] })
  t.teardown(() => kube.close())
  const token = /token: (\w+)/.exec(await (await import('node:fs/promises')).readFile(kube.kubeconfigPath, 'utf8'))![1]
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(kube.url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: await res.json() as any }
  }
  return { kube, call }
}

const secret = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, labels }, stringData: { password: 'p' } })

t.test('Status bodies, resourceVersions, selectors and namespaces', async t => {
  const { kube, call } = await fake(t)
  t.equal((await fetch(`${kube.url}/api/v1/namespaces`)).status, 401, 'a token is required')

  const created = await call('POST', '/api/v1/namespaces/toygres/secrets', secret('a', { team: 'x' }))
  t.equal(created.status, 201)
  t.match(created.body.metadata, { uid: /^[0-9a-f-]{36}$/, resourceVersion: /^\d+$/, creationTimestamp: /Z$/, namespace: 'toygres' })
  t.same(created.body.data, { password: Buffer.from('p').toString('base64') }, 'stringData is folded into data')
  t.equal(created.body.stringData, undefined)

  const again = await call('POST', '/api/v1/namespaces/toygres/secrets', secret('a'))
  t.match(again, { status: 409, body: { kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'secrets "a" already exists' } })
  t.match(await call('GET', '/api/v1/namespaces/toygres/secrets/b'), { status: 404, body: { kind: 'Status', reason: 'NotFound', details: { name: 'b', kind: 'secrets' } } })
  t.match(await call('POST', '/api/v1/namespaces/nowhere/secrets', secret('a')), { status: 404, body: { reason: 'NotFound', message: 'namespaces "nowhere" not found' } })

  const bad = await call('POST', '/api/v1/namespaces/toygres/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: '1-bad' }, spec: { ports: [{ port: 70000 }] } })
  t.equal(bad.status, 422)
  t.match(bad.body, { kind: 'Status', reason: 'Invalid', code: 422, message: /^Service "1-bad" is invalid: \[metadata\.name: Invalid value: "1-bad": a DNS-1035 label/ })
  t.same(bad.body.details.causes.map((c: { field: string }) => c.field), ['metadata.name', 'spec.ports[0].port'])

  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('b', { team: 'y' }))
  const list = await call('GET', '/api/v1/namespaces/toygres/secrets?labelSelector=team%3Dx')
  t.same(list.body.items.map((s: any) => s.metadata.name), ['a'])
  t.match(list.body, { kind: 'SecretList', metadata: { resourceVersion: /^\d+$/ } })
  t.same((await call('GET', '/api/v1/namespaces/toygres/secrets?labelSelector=team!%3Dx')).body.items.map((s: any) => s.metadata.name), ['b'])
  t.same((await call('GET', '/api/v1/namespaces/toygres/secrets?fieldSelector=metadata.name%3Db')).body.items.map((s: any) => s.metadata.name), ['b'])

  t.equal((await call('DELETE', '/api/v1/namespaces/toygres/secrets/a')).status, 200)
  t.equal((await call('DELETE', '/api/v1/namespaces/toygres/secrets/a')).status, 404)
})

t.test('as a real API server: unsupported field labels are 400, Service fields validated, /version served', async t => {
  const { kube, call } = await fake(t)
  t.match(await call('GET', '/api/v1/namespaces/toygres/pods?fieldSelector=spec.containers.image%3Dx'), { status: 400, body: { reason: 'BadRequest', message: 'field label not supported: spec.containers.image' } })
  t.match(await call('GET', '/api/v1/namespaces/toygres/events?fieldSelector=involvedObject.name%3Dx,involvedObject.kind%3DPod'), { status: 200 })
  t.match(await call('GET', '/api/v1/namespaces/toygres/secrets?fieldSelector=type%3DOpaque'), { status: 200 })
  const svc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { ports: [{ port: 5432 }], ...spec } })
  t.match(await call('POST', '/api/v1/namespaces/toygres/services', svc({ loadBalancerSourceRanges: ['10.0.0.0/8'] })), { status: 422, body: { message: /spec\.loadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'/ } })
  t.match(await call('POST', '/api/v1/namespaces/toygres/services', svc({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.1'] })), { status: 422, body: { message: /spec\.loadBalancerSourceRanges\[0\]: Invalid value: "10\.0\.0\.1": must be a list of IP ranges/ } })
  t.match(await call('POST', '/api/v1/namespaces/toygres/services', svc({ externalTrafficPolicy: 'Local' })), { status: 422, body: { message: /may only be set for externally-accessible services/ } })
  t.match(await call('GET', '/version'), { status: 200, body: { major: '1', gitVersion: /^v1\./ } })
  t.equal((await fetch(`${kube.url}/version`)).status, 401, 'only with a token, like everything else')
})

t.test('a watch resumes from a resourceVersion and streams events as they happen', async t => {
  const { kube, call } = await fake(t)
  const first = await call('POST', '/api/v1/namespaces/toygres/secrets', secret('a'))
  const token = /token: (\w+)/.exec(await (await import('node:fs/promises')).readFile(kube.kubeconfigPath, 'utf8'))![1]
  const res = await fetch(`${kube.url}/api/v1/namespaces/toygres/secrets?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`, { headers: { authorization: `Bearer ${token}` } })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  const events: Array<{ type: string, object: any }> = []
  let buffered = ''
  const next = async () => {
    while (!buffered.includes('\n')) {
      const chunk = await reader.read()
      if (chunk.done) throw new Error('watch ended early')
      buffered += chunk.value
    }
    const line = buffered.slice(0, buffered.indexOf('\n'))
    buffered = buffered.slice(line.length + 1)
    events.push(JSON.parse(line))
  }
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('b'))
  await call('DELETE', '/api/v1/namespaces/toygres/secrets/a')
  await next()
  await next()
  t.same(events.map(e => [e.type, e.object.metadata.name]), [['ADDED', 'b'], ['DELETED', 'a']], 'only what came after the resourceVersion')
  await reader.cancel()
})

t.test('the simulated controllers: pod, claims, ingress, garbage collection', async t => {
  const { kube, provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 30 }, never())
  const pod = kube.state.get('pods', 'toygres', 'orders-0')!
  t.match(pod.metadata.labels, { 'app.kubernetes.io/instance': 'orders', 'statefulset.kubernetes.io/pod-name': 'orders-0', 'controller-revision-hash': /^orders-[0-9a-f]{10}$/ })
  t.match(pod.status.conditions, [{ type: 'PodScheduled', status: 'True' }, {}, {}, { type: 'Ready', status: 'True' }])
  t.match(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0'), { status: { phase: 'Bound' }, spec: { resources: { requests: { storage: '10Gi' } } } })
  t.match(kube.state.get('services', 'toygres', 'orders')!.status.loadBalancer.ingress, [{ ip: /^127\.0\.0\.\d+$/ }])
  t.match(kube.state.get('services', 'toygres', 'orders')!.spec.clusterIP, /^127\.96\./)

  // The StatefulSet goes, its pod follows, its claim stays (as in Kubernetes).
  await kube.state.store.remove('statefulsets', 'toygres', 'orders')
  await new Promise<void>(resolve => {
    const stop = kube.state.store.subscribe(kube.state.store.resourceVersion, e => { if (e.resource === 'pods' && e.type === 'DELETED') { stop(); resolve() } })
    if (!kube.state.get('pods', 'toygres', 'orders-0')) { stop(); resolve() }
  })
  t.equal(kube.state.get('pods', 'toygres', 'orders-0'), undefined)
  t.ok(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0'))
})

t.test('wait-for-ready survives a dropped watch: it lists again and keeps watching', async t => {
  const { kube, provisioner } = await harness(t, { kubelet: 'manual' })
  await provisioner.deployPostgres(deployInput(), never())
  // The StatefulSet controller makes the pod a moment after deploy returns:
  // the second watch can open before it exists.
  const podMade = until(kube, () => kube.state.get('pods', 'toygres', 'orders-0'), 30_000, 'pod orders-0 made')
  let watches = 0
  let started: Promise<void> | undefined
  kube.events.on('watch', (resource: string) => {
    if (resource !== 'pods') return
    watches++
    if (watches === 1) kube.dropWatches()
    // Only now, with the second watch open (and the pod made), does the pod start.
    if (watches === 2) started = podMade.then(() => kube.startPod('toygres', 'orders-0'))
  })
  const ready = await provisioner.waitForReady({ namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 3600 }, never())
  t.equal(ready.ready, true)
  t.equal(watches, 2)
  await started
})
