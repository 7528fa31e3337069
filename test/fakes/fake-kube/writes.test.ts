// Writes other than create/delete, as the API server takes them: PATCH in its
// three flavours, PUT with optimistic concurrency, update validation (422),
// admission (403), the scale subresource, StorageClasses and ConfigMaps,
// Events as an API, and the request log RBAC is derived from.
import t from 'tap'
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { configMap, fake, podState, secret, statefulSet, until } from './helpers.ts'

const MERGE = 'application/merge-patch+json'
const STRATEGIC = 'application/strategic-merge-patch+json'
const JSON_PATCH = 'application/json-patch+json'
const STS = '/apis/apps/v1/namespaces/toygres/statefulsets'

t.test('PATCH: merge, strategic merge and JSON patch', async t => {
  const { call } = await fake(t)
  t.equal((await call('POST', '/api/v1/namespaces/toygres/configmaps', configMap('cfg', { a: '1', b: '2' }))).status, 201)
  const merged = await call('PATCH', '/api/v1/namespaces/toygres/configmaps/cfg', { data: { b: null, c: '3' }, metadata: { labels: { x: 'y' } } }, MERGE)
  t.equal(merged.status, 200)
  t.same(merged.body.data, { a: '1', c: '3' }, 'null deletes a key, the rest merges')
  t.same(merged.body.metadata.labels, { x: 'y' })
  const jp = await call('PATCH', '/api/v1/namespaces/toygres/configmaps/cfg', [{ op: 'replace', path: '/data/a', value: '10' }, { op: 'add', path: '/data/d', value: '4' }, { op: 'remove', path: '/data/c' }], JSON_PATCH)
  t.same(jp.body.data, { a: '10', d: '4' })
  t.equal((await call('PATCH', '/api/v1/namespaces/toygres/configmaps/cfg', [{ op: 'test', path: '/data/a', value: 'nope' }], JSON_PATCH)).status, 422, 'a failed test op')
  t.equal((await call('PATCH', '/api/v1/namespaces/toygres/configmaps/cfg', { data: {} }, 'application/apply-patch+yaml')).status, 415)
  t.equal((await call('PATCH', '/api/v1/namespaces/toygres/configmaps/nope', { data: {} }, MERGE)).status, 404)

  t.equal((await call('POST', STS, statefulSet('db', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }))).status, 201)
  const smp = await call('PATCH', `${STS}/db`, {
    spec: { template: { spec: { containers: [{ name: 'postgres', image: 'postgres:17', env: [{ name: 'B', value: '20' }, { name: 'C', value: '3' }, { name: 'A', $patch: 'delete' }] }] } } }
  }, STRATEGIC)
  t.equal(smp.status, 200)
  const c = smp.body.spec.template.spec.containers
  t.equal(c.length, 1, 'containers merge by name, not replaced')
  t.equal(c[0].image, 'postgres:17')
  t.same(c[0].env, [{ name: 'B', value: '20' }, { name: 'C', value: '3' }], 'env merges by name; $patch: delete removes')
  t.same(c[0].ports, [{ name: 'postgresql', containerPort: 5432, protocol: 'TCP' }], 'untouched lists stay')
  t.equal(smp.body.metadata.generation, 2, 'a spec change bumps the generation')
  const fin = await call('PATCH', `${STS}/db`, { metadata: { finalizers: ['a/b'] } }, STRATEGIC)
  const fin2 = await call('PATCH', `${STS}/db`, { metadata: { finalizers: ['c/d'] } }, STRATEGIC)
  t.same(fin2.body.metadata.finalizers, ['a/b', 'c/d'], 'finalizers are a merged list')
  t.equal(fin.body.metadata.generation, 2, 'metadata changes leave the generation')
  const del = await call('PATCH', `${STS}/db`, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a/b', 'c/d'] } }, STRATEGIC)
  t.same(del.body.metadata.finalizers, [])
})

t.test('PUT: a stale resourceVersion is 409 Conflict; none means last write wins', async t => {
  const { call } = await fake(t)
  const created = (await call('POST', '/api/v1/namespaces/toygres/secrets', secret('s', { k: 'v' }))).body
  const first = await call('PUT', '/api/v1/namespaces/toygres/secrets/s', { ...created, stringData: { k: 'w' } })
  t.equal(first.status, 200)
  t.same(first.body.data, { k: Buffer.from('w').toString('base64') })
  t.not(first.body.metadata.resourceVersion, created.metadata.resourceVersion)
  const stale = await call('PUT', '/api/v1/namespaces/toygres/secrets/s', { ...created, data: { k: 'eA==' } })
  t.match(stale, { status: 409, body: { kind: 'Status', reason: 'Conflict', code: 409, message: 'Operation cannot be fulfilled on secrets "s": the object has been modified; please apply your changes to the latest version and try again', details: { name: 's', kind: 'secrets' } } })
  const { resourceVersion: _, ...meta } = created.metadata
  t.equal((await call('PUT', '/api/v1/namespaces/toygres/secrets/s', { ...created, metadata: meta, data: { k: 'eA==' } })).status, 200)
  t.equal((await call('PUT', '/api/v1/namespaces/toygres/secrets/other', { ...created, metadata: { name: 'other' } })).status, 404)
  t.match(await call('PUT', '/api/v1/namespaces/toygres/secrets/s', { ...created, metadata: { name: 'x' } }), { status: 400, body: { message: 'the name of the object (x) does not match the name on the URL (s)' } })
  const stalePatch = await call('PATCH', '/api/v1/namespaces/toygres/secrets/s', { metadata: { resourceVersion: created.metadata.resourceVersion }, data: { k: 'eQ==' } }, MERGE)
  t.equal(stalePatch.status, 409, 'a patch naming a stale resourceVersion conflicts too')
})

t.test('update validation: StatefulSet, PVC and Service fields that cannot change', async t => {
  const { kube, call } = await fake(t, { defaultStorageClass: { name: 'fixed', allowVolumeExpansion: false }, storageClasses: [{ name: 'grows', allowVolumeExpansion: true }] })
  await call('POST', STS, statefulSet('db'))
  const sts = await call('PATCH', `${STS}/db`, { spec: { serviceName: 'other' } }, MERGE)
  t.match(sts, { status: 422, body: { reason: 'Invalid', message: "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" } })
  t.match((await call('PATCH', `${STS}/db`, { spec: { volumeClaimTemplates: [] } }, MERGE)).status, 422)
  t.equal((await call('PATCH', `${STS}/db`, { spec: { replicas: 2, minReadySeconds: 5 } }, MERGE)).status, 200)

  const pvc = (name: string, storageClassName?: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, ...(storageClassName ? { storageClassName } : {}) } })
  const a = await call('POST', '/api/v1/namespaces/toygres/persistentvolumeclaims', pvc('a'))
  t.equal(a.body.spec.storageClassName, 'fixed', 'DefaultStorageClass admission')
  t.equal((await call('GET', '/apis/storage.k8s.io/v1/storageclasses/fixed')).body.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true')
  t.same((await call('GET', '/apis/storage.k8s.io/v1/storageclasses')).body.items.map((s: any) => [s.metadata.name, s.allowVolumeExpansion]), [['fixed', false], ['grows', true]])
  const shrink = await call('PATCH', '/api/v1/namespaces/toygres/persistentvolumeclaims/a', { spec: { resources: { requests: { storage: '5Gi' } } } }, MERGE)
  t.match(shrink, { status: 422, body: { message: 'PersistentVolumeClaim "a" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than previous value' } })
  const grow = await call('PATCH', '/api/v1/namespaces/toygres/persistentvolumeclaims/a', { spec: { resources: { requests: { storage: '20Gi' } } } }, MERGE)
  t.match(grow, { status: 403, body: { reason: 'Forbidden', message: 'persistentvolumeclaims "a" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize' } })
  t.match(await call('PATCH', '/api/v1/namespaces/toygres/persistentvolumeclaims/a', { spec: { accessModes: ['ReadWriteMany'] } }, MERGE),
    { status: 422, body: { message: 'PersistentVolumeClaim "a" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' } })

  // An expansion the class allows: Resizing, FileSystemResizePending until a pod has it mounted, then the new capacity.
  await call('POST', '/api/v1/namespaces/toygres/persistentvolumeclaims', pvc('b', 'grows'))
  const seen: string[] = []
  kube.state.store.subscribe(kube.state.store.resourceVersion, e => { if (e.resource === 'persistentvolumeclaims' && e.object.metadata.name === 'b') seen.push(e.object.status?.conditions?.[0]?.type ?? `capacity=${e.object.status?.capacity?.storage}`) })
  t.equal((await call('PATCH', '/api/v1/namespaces/toygres/persistentvolumeclaims/b', { spec: { resources: { requests: { storage: '20Gi' } } } }, MERGE)).status, 200)
  await until(kube, () => kube.state.get('persistentvolumeclaims', 'toygres', 'b')!.status.conditions?.[0]?.type === 'FileSystemResizePending', 5000)
  t.match(kube.state.get('persistentvolumeclaims', 'toygres', 'b')!.status, { capacity: { storage: '10Gi' }, allocatedResources: { storage: '20Gi' }, conditions: [{ type: 'FileSystemResizePending', status: 'True', message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.' }] })
  await call('POST', '/api/v1/namespaces/toygres/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user' }, spec: { containers: [{ name: 'c', image: 'postgres:18', env: [{ name: 'POSTGRES_PASSWORD', value: 'x' }] }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'b' } }] } })
  await until(kube, () => kube.state.get('persistentvolumeclaims', 'toygres', 'b')!.status.capacity.storage === '20Gi', 5000)
  t.same(seen.filter((x, i) => i === 0 || seen[i - 1] !== x), ['capacity=10Gi', 'Resizing', 'FileSystemResizePending', 'capacity=20Gi'])
  t.same(kube.kubeEvents('toygres', 'b').map(e => e.reason), ['ExternalExpanding', 'Resizing', 'FileSystemResizeRequired', 'FileSystemResizeSuccessful'])
  t.match(kube.kubeEvents('toygres', 'b')[3], { source: { component: 'kubelet' }, message: /^MountVolume\.NodeExpandVolume succeeded for volume "pvc-[0-9a-f-]+" fake-node-1$/ })

  const svc = await call('POST', '/api/v1/namespaces/toygres/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { a: 'b' }, ports: [{ port: 5432 }] } })
  t.match(await call('PATCH', '/api/v1/namespaces/toygres/services/svc', { spec: { clusterIP: '127.96.9.9' } }, MERGE),
    { status: 422, body: { message: 'Service "svc" is invalid: spec.clusterIPs[0]: Invalid value: ["127.96.9.9"]: may not change once set' } })
  const { clusterIP: _ip, clusterIPs: _ips, ...spec } = svc.body.spec
  const put = await call('PUT', '/api/v1/namespaces/toygres/services/svc', { ...svc.body, spec: { ...spec, ports: [{ port: 6432 }] } })
  t.equal(put.status, 200)
  t.equal(put.body.spec.clusterIP, svc.body.spec.clusterIP, 'a PUT without clusterIP keeps the allocated one')
})

t.test('the scale subresource: 1 → 0 → 1 and the pod follows', async t => {
  const { kube, call } = await fake(t)
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', STS, statefulSet('db'))
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  const scale = await call('GET', `${STS}/db/scale`)
  t.match(scale.body, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'db', namespace: 'toygres' }, spec: { replicas: 1 }, status: { selector: 'app=db' } })
  const stale = await call('PUT', `${STS}/db/scale`, { ...scale.body, metadata: { ...scale.body.metadata, resourceVersion: '1' }, spec: { replicas: 0 } })
  t.equal(stale.status, 409)
  t.match(await call('PUT', `${STS}/db/scale`, { ...scale.body, spec: { replicas: -1 } }), { status: 422, body: { message: 'Scale.autoscaling "db" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' } })
  // Without a resourceVersion: the controller may have written the StatefulSet's status since the GET.
  t.equal((await call('PUT', `${STS}/db/scale`, { ...scale.body, metadata: { name: 'db', namespace: 'toygres' }, spec: { replicas: 0 } })).status, 200)
  await until(kube, () => !kube.state.get('pods', 'toygres', 'db-0'), 5000, 'pod gone')
  t.ok(kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0'), 'the claim stays (whenScaled: Retain)')
  await until(kube, () => kube.state.get('statefulsets', 'toygres', 'db')!.status.replicas === 0, 5000)

  // Through @kubernetes/client-node, as a control plane would.
  const kc = new KubeConfig()
  kc.loadFromFile(kube.kubeconfigPath)
  const apps = kc.makeApiClient(AppsV1Api)
  const out = await apps.patchNamespacedStatefulSetScale({ namespace: 'toygres', name: 'db', body: { spec: { replicas: 1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  t.equal(out.spec?.replicas, 1)
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  t.same(kube.kubeEvents('toygres', 'db', 'StatefulSet').map(e => e.reason), ['SuccessfulCreate', 'SuccessfulCreate', 'SuccessfulDelete'], 'the second create is the same event, counted')
  t.equal(kube.kubeEvents('toygres', 'db', 'StatefulSet')[1]!.count, 2)
})

t.test('Events: list and watch with field selectors', async t => {
  const { kube, call, token } = await fake(t)
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', STS, statefulSet('db'))
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  const pod = kube.state.get('pods', 'toygres', 'db-0')!
  const list = await call('GET', `/api/v1/namespaces/toygres/events?fieldSelector=${encodeURIComponent(`involvedObject.name=db-0,involvedObject.kind=Pod,involvedObject.uid=${pod.metadata.uid}`)}`)
  t.equal(list.body.kind, 'EventList')
  t.same(list.body.items.map((e: any) => e.reason).sort(), ['Created', 'Pulled', 'Pulling', 'Scheduled', 'Started'])
  const e0 = list.body.items.find((e: any) => e.reason === 'Started')
  t.match(e0, { apiVersion: 'v1', kind: 'Event', type: 'Normal', count: 1, firstTimestamp: /Z$/, lastTimestamp: /Z$/, source: { component: 'kubelet', host: 'fake-node-1' }, involvedObject: { kind: 'Pod', name: 'db-0', namespace: 'toygres', uid: pod.metadata.uid, apiVersion: 'v1' }, metadata: { name: /^db-0\.[0-9a-f]+$/ } })
  t.same((await call('GET', '/api/v1/namespaces/toygres/events?fieldSelector=type%3DWarning')).body.items, [])
  t.same((await call('GET', '/api/v1/namespaces/toygres/events?fieldSelector=reason%3DScheduled')).body.items.map((e: any) => e.involvedObject.name), ['db-0'])

  const res = await fetch(`${kube.url}/api/v1/namespaces/toygres/events?watch=true&resourceVersion=${list.body.metadata.resourceVersion}&fieldSelector=involvedObject.name%3Ddb-0`, { headers: { authorization: `Bearer ${token}` } })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  t.ok(kube.killContainer('toygres', 'db-0'))
  let text = ''
  while (!text.includes('\n')) { const c = await reader.read(); if (c.done) break; text += c.value }
  await reader.cancel()
  const first = JSON.parse(text.slice(0, text.indexOf('\n')))
  t.match(first, { type: /ADDED|MODIFIED/, object: { kind: 'Event', involvedObject: { name: 'db-0' } } })
})

t.test('the request log: what RBAC would be asked, from raw HTTP and from client-node', async t => {
  const { kube, call } = await fake(t)
  const kc = new KubeConfig()
  kc.loadFromFile(kube.kubeconfigPath)
  const core = kc.makeApiClient(CoreV1Api)
  kube.clearRequests()
  await core.readNamespace({ name: 'toygres' })
  await core.listNamespacedPod({ namespace: 'toygres', fieldSelector: 'metadata.name=db-0' })
  await core.createNamespacedConfigMap({ namespace: 'toygres', body: configMap('c', { a: 'b' }) as never })
  await core.patchNamespacedConfigMap({ namespace: 'toygres', name: 'c', body: { data: { a: 'c' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  await core.replaceNamespacedConfigMap({ namespace: 'toygres', name: 'c', body: configMap('c', { a: 'd' }) as never })
  await core.deleteCollectionNamespacedConfigMap({ namespace: 'toygres', labelSelector: 'x=y' })
  await core.deleteNamespacedConfigMap({ namespace: 'toygres', name: 'c' })
  await call('GET', '/apis/apps/v1/namespaces/toygres/statefulsets/db/scale')
  await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log')
  await call('GET', '/api/v1/namespaces/toygres/events?watch=true&timeoutSeconds=1')
  await call('GET', '/apis/storage.k8s.io/v1/storageclasses')
  const r = (verb: string, resource: string, extra: Record<string, string> = {}) => ({ verb, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace: 'toygres', name: '', ...extra })
  t.same(kube.requests, [
    r('get', 'namespaces', { name: 'toygres' }),
    r('list', 'pods', { name: 'db-0' }),
    r('create', 'configmaps'),
    r('patch', 'configmaps', { name: 'c' }),
    r('update', 'configmaps', { name: 'c' }),
    r('deletecollection', 'configmaps'),
    r('delete', 'configmaps', { name: 'c' }),
    r('get', 'statefulsets', { apiGroup: 'apps', name: 'db', subresource: 'scale' }),
    r('get', 'pods', { name: 'db-0', subresource: 'log' }),
    r('watch', 'events'),
    r('list', 'storageclasses', { apiGroup: 'storage.k8s.io', namespace: '' })
  ])
  kube.clearRequests()
  t.same(kube.requests, [])
})
