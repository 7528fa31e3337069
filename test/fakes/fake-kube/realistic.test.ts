// The realistic profile: a pod passes through the states a real cluster shows
// (unbound claim, scheduling, ContainerCreating, a throttled pull and its
// back-off) with the real components' events, in order.
import t from 'tap'
import { distinct, fake, loadBalancer, podState, reasons, record, secret, statefulSet, until } from './helpers.ts'

const RATE_LIMIT = /^rpc error: code = Unknown desc = failed to pull and unpack image "docker\.io\/library\/postgres:18": failed to copy: httpReadSeeker: failed open: unexpected status code https:\/\/registry-1\.docker\.io\/v2\/library\/postgres\/manifests\/sha256:[0-9a-f]{64}: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit\. You may increase the limit by authenticating and upgrading: https:\/\/www\.docker\.com\/increase-rate-limit$/

t.test('a StatefulSet pod from creation to Ready, through every transient state', async t => {
  const { kube, call } = await fake(t, { profile: 'realistic' })
  const pods = record(kube, 'pods', 'db-0')
  const claims = record(kube, 'persistentvolumeclaims', 'data-db-0')
  const services = record(kube, 'services', 'db')
  t.equal((await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))).status, 201)
  t.equal((await call('POST', '/api/v1/namespaces/toygres/services', loadBalancer('db'))).status, 201)
  t.equal((await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db'))).status, 201)
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 20_000, 'db-0 Ready')

  t.same(distinct(pods.map(e => podState(e.object))),
    ['Pending', 'Unschedulable', 'Pending', 'ContainerCreating', 'ErrImagePull', 'ImagePullBackOff', 'Running', 'Ready'])
  const unschedulable = pods.find(e => podState(e.object) === 'Unschedulable')!.object
  t.match(unschedulable.status.conditions, [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.' }])
  const errPull = pods.find(e => podState(e.object) === 'ErrImagePull')!.object.status.containerStatuses[0].state.waiting.message
  t.match(errPull, RATE_LIMIT)
  const backOff = pods.find(e => podState(e.object) === 'ImagePullBackOff')!.object.status.containerStatuses[0].state.waiting.message
  t.equal(backOff, `Back-off pulling image "postgres:18": ErrImagePull: ${errPull}`)

  // The claim was Pending (with the real provisioning events) before it was Bound, with capacity.
  t.same(distinct(claims.map(e => e.object.status?.phase)), ['Pending', 'Bound'])
  const claim = kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0')!
  t.match(claim, { spec: { storageClassName: 'standard', volumeName: /^pvc-/ }, status: { phase: 'Bound', capacity: { storage: '1Gi' } }, metadata: { finalizers: ['kubernetes.io/pvc-protection'] } })
  t.same(reasons(kube, 'toygres', 'data-db-0'), ['Normal ExternalProvisioning', 'Normal Provisioning', 'Normal ProvisioningSucceeded'])
  const [provisioning] = kube.kubeEvents('toygres', 'data-db-0')
  t.equal(provisioning!.message, "Waiting for a volume to be created either by the external provisioner 'disk.csi.fake.invalid' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
  t.match(provisioning, { source: { component: 'persistentvolume-controller' }, involvedObject: { kind: 'PersistentVolumeClaim', name: 'data-db-0', namespace: 'toygres', uid: claim.metadata.uid } })

  t.same(reasons(kube, 'toygres', 'db-0'), [
    'Warning FailedScheduling', 'Normal Scheduled', 'Normal Pulling', 'Warning Failed', 'Warning Failed', 'Normal BackOff', 'Warning Failed', 'Normal Pulled', 'Normal Created', 'Normal Started'
  ])
  const events = kube.kubeEvents('toygres', 'db-0')
  const byReason = (r: string, i = 0) => events.filter(e => e.reason === r)[i]!
  t.match(byReason('FailedScheduling'), { source: { component: 'default-scheduler' }, message: unschedulable.status.conditions[0].message })
  t.equal(byReason('Scheduled').message, 'Successfully assigned toygres/db-0 to fake-node-1')
  t.match(byReason('Pulling'), { message: 'Pulling image "postgres:18"', count: 2, source: { component: 'kubelet', host: 'fake-node-1' }, involvedObject: { fieldPath: 'spec.containers{postgres}' } })
  t.equal(byReason('Failed', 0).message, `Failed to pull image "postgres:18": ${errPull}`)
  t.equal(byReason('Failed', 1).message, 'Error: ErrImagePull')
  t.equal(byReason('BackOff').message, 'Back-off pulling image "postgres:18"')
  t.equal(byReason('Failed', 2).message, 'Error: ImagePullBackOff')
  t.equal(byReason('Pulled').message, 'Successfully pulled image "postgres:18" in 50ms (50ms including waiting). Image size: 158765432 bytes.')
  t.equal(byReason('Created').message, 'Created container: postgres')
  t.equal(byReason('Started').message, 'Started container postgres')
  t.ok(Date.parse(String(byReason('Pulling').lastTimestamp)) >= Date.parse(String(byReason('Pulling').firstTimestamp)), 'a repeated event moves lastTimestamp')

  // The load balancer's address came late, after EnsuringLoadBalancer.
  await until(kube, () => kube.state.get('services', 'toygres', 'db')?.status?.loadBalancer?.ingress, 5000, 'ingress')
  t.same(services.map(e => !!e.object.status?.loadBalancer?.ingress).filter((x, i, a) => i === 0 || a[i - 1] !== x), [false, true])
  t.same(reasons(kube, 'toygres', 'db', 'Service'), ['Normal EnsuringLoadBalancer', 'Normal EnsuredLoadBalancer'])
  t.match(kube.kubeEvents('toygres', 'db', 'Service')[0], { source: { component: 'service-controller' }, message: 'Ensuring load balancer' })

  // The StatefulSet controller said what it made, and reports the pod ready.
  t.same(kube.kubeEvents('toygres', 'db', 'StatefulSet').map(e => e.message), [
    'create Claim data-db-0 Pod db-0 in StatefulSet db success', 'create Pod db-0 in StatefulSet db successful'
  ])
  await until(kube, () => kube.state.get('statefulsets', 'toygres', 'db')!.status.readyReplicas === 1, 5000, 'readyReplicas')
  t.match(kube.state.get('statefulsets', 'toygres', 'db')!.status, { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, observedGeneration: 1, currentRevision: /^db-[0-9a-f]{10}$/ })
})

t.test('Insufficient cpu until the cluster autoscaler has added a node', async t => {
  const { kube, call } = await fake(t, { scaleUpAfterMs: 200 })
  const pods = record(kube, 'pods', 'db-0')
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db'))
  const pod = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return podState(p) === 'Ready' && p }, 10_000, 'Ready')
  t.equal(pod.spec.nodeName, 'fake-node-2', 'on the new node')
  t.ok(kube.state.get('nodes', undefined, 'fake-node-2'))
  t.same(distinct(pods.map(e => podState(e.object))), ['Pending', 'Unschedulable', 'Pending', 'Running', 'Ready'])
  t.equal(pods.find(e => podState(e.object) === 'Unschedulable')!.object.status.conditions[0].message,
    '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.')
  t.same(reasons(kube, 'toygres', 'db-0').slice(0, 3), ['Warning FailedScheduling', 'Normal TriggeredScaleUp', 'Normal Scheduled'])
  t.match(kube.kubeEvents('toygres', 'db-0')[1], { source: { component: 'cluster-autoscaler' }, message: 'pod triggered scale-up: [{fake-node-pool 1->2 (max: 3)}]' })
  t.equal(kube.kubeEvents('toygres', 'db-0')[2]!.message, 'Successfully assigned toygres/db-0 to fake-node-2')
})

t.test('a cordoned node: unschedulable until uncordoned', async t => {
  const { kube, call } = await fake(t)
  await kube.drainNode('fake-node-1')
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db'))
  const p = await until(kube, () => { const x = kube.state.get('pods', 'toygres', 'db-0'); return podState(x) === 'Unschedulable' && x }, 5000)
  t.equal(p.status.conditions[0].message, '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.')
  kube.uncordonNode('fake-node-1')
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 10_000)
  t.pass('scheduled once the node was uncordoned')
})

t.test('a missing Secret: FailedMount for a volume, CreateContainerConfigError for env; both clear when it appears', async t => {
  const { kube, call } = await fake(t, { kubeletSyncMs: 20 })
  const pods = record(kube, 'pods', 'db-0')
  const sts = statefulSet('db', { volumes: [{ name: 'tls', secret: { secretName: 'db-tls' } }], volumeMounts: [{ name: 'tls', mountPath: '/tls' }] })
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', sts)
  await until(kube, () => kube.kubeEvents('toygres', 'db-0').some(e => e.reason === 'FailedMount'), 5000, 'FailedMount')
  const mount = kube.kubeEvents('toygres', 'db-0').find(e => e.reason === 'FailedMount')!
  t.match(mount, { type: 'Warning', message: 'MountVolume.SetUp failed for volume "tls" : secret "db-tls" not found', source: { component: 'kubelet' } })
  t.equal(podState(kube.state.get('pods', 'toygres', 'db-0')), 'ContainerCreating')
  await until(kube, () => Number(kube.kubeEvents('toygres', 'db-0').find(e => e.reason === 'FailedMount')?.count ?? 0) >= 2, 5000, 'FailedMount again')
  t.pass('the kubelet keeps retrying, and the event counts up')

  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-tls', { 'tls.key': 'k', 'tls.crt': 'c' }))
  const waiting = await until(kube, () => kube.state.get('pods', 'toygres', 'db-0')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && kube.state.get('pods', 'toygres', 'db-0'), 5000)
  t.equal(waiting.status.containerStatuses[0].state.waiting.message, 'secret "db-credentials" not found')
  t.ok(kube.kubeEvents('toygres', 'db-0').some(e => e.reason === 'Failed' && e.message === 'Error: secret "db-credentials" not found'))
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { nothing: 'x' }))
  await until(kube, () => kube.state.get('pods', 'toygres', 'db-0')?.status?.containerStatuses?.[0]?.state?.waiting?.message === "couldn't find key password in Secret toygres/db-credentials", 5000)
  await call('PATCH', '/api/v1/namespaces/toygres/secrets/db-credentials', { stringData: { password: 'pw' } }, 'application/merge-patch+json')
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  t.same(distinct(pods.map(e => podState(e.object))), ['Pending', 'ContainerCreating', 'CreateContainerConfigError', 'Running', 'Ready'])
})

t.test('an image that does not exist: ErrImagePull and ImagePullBackOff for ever, the back-off doubling', async t => {
  const { kube, call } = await fake(t, { neverPulls: ['postgres:99'], backoffBaseMs: 20, backoffMaxMs: 80 })
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db', { image: 'postgres:99' }))
  await until(kube, () => Number(kube.kubeEvents('toygres', 'db-0').find(e => e.reason === 'Pulling')?.count ?? 0) >= 4, 10_000, 'four pulls')
  const pod = kube.state.get('pods', 'toygres', 'db-0')!
  t.match(pod.status.containerStatuses[0].state.waiting.reason, /^(ErrImagePull|ImagePullBackOff)$/)
  const failed = kube.kubeEvents('toygres', 'db-0').find(e => e.reason === 'Failed')!
  t.equal(failed.message, 'Failed to pull image "postgres:99": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/postgres:99": failed to resolve reference "docker.io/library/postgres:99": docker.io/library/postgres:99: not found')
  const log = await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log')
  t.equal(log.status, 400)
  t.match(log.body.message, /^container "postgres" in pod "db-0" is waiting to start: (image can't be pulled|trying and failing to pull image)$/)
})

t.test('an image name that cannot be parsed: InvalidImageName', async t => {
  const { kube, call } = await fake(t)
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db', { image: 'Not_A/Valid' }))
  const pod = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return podState(p) === 'InvalidImageName' && p }, 5000)
  t.equal(pod.status.containerStatuses[0].state.waiting.message, 'Failed to apply default image tag "Not_A/Valid": couldn\'t parse image name "Not_A/Valid": invalid reference format')
  await until(kube, () => reasons(kube, 'toygres', 'db-0').includes('Warning InspectFailed'), 5000)
  t.pass()
})

t.test('pullFailures per image, with the runtime message given', async t => {
  const { kube, call } = await fake(t, { backoffBaseMs: 20, pullFailures: { 'postgres': { count: 2, message: 'rpc error: code = Unavailable desc = registry down' } } })
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db'))
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  const events = kube.kubeEvents('toygres', 'db-0')
  t.match(events.find(e => e.reason === 'Pulling'), { count: 3 })
  t.match(events.find(e => e.reason === 'Failed'), { count: 2, message: 'Failed to pull image "postgres:18": rpc error: code = Unavailable desc = registry down' })
  // Another image is not throttled.
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', { ...statefulSet('other', { image: 'mirror.example/postgres:18' }), metadata: { name: 'other' } })
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('other-credentials', { password: 'pw' }))
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'other-0')) === 'Ready', 5000)
  t.notOk(kube.kubeEvents('toygres', 'other-0').some(e => e.reason === 'Failed' && !String(e.message).startsWith('Error: secret')))
})

t.test('a WaitForFirstConsumer class: the claim waits for a pod, then binds', async t => {
  const { kube, call } = await fake(t, { volumeBindingDelayMs: 50, defaultStorageClass: { name: 'wffc', volumeBindingMode: 'WaitForFirstConsumer' } })
  await call('POST', '/api/v1/namespaces/toygres/persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'lonely' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } })
  await until(kube, () => reasons(kube, 'toygres', 'lonely').includes('Normal WaitForFirstConsumer'), 5000)
  t.equal(kube.kubeEvents('toygres', 'lonely')[0]!.message, 'waiting for first consumer to be created before binding')
  t.equal(kube.state.get('persistentvolumeclaims', 'toygres', 'lonely')!.status.phase, 'Pending')
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  const pods = record(kube, 'pods', 'db-0')
  await call('POST', '/apis/apps/v1/namespaces/toygres/statefulsets', statefulSet('db'))
  await until(kube, () => podState(kube.state.get('pods', 'toygres', 'db-0')) === 'Ready', 5000)
  t.notOk(pods.some(e => podState(e.object) === 'Unschedulable'), 'no FailedScheduling: the scheduler waits for the provisioning it asked for')
  t.match(kube.state.get('persistentvolumeclaims', 'toygres', 'data-db-0'), { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'fake-node-1' } }, status: { phase: 'Bound' } })
  t.equal(kube.state.get('persistentvolumeclaims', 'toygres', 'lonely')!.status.phase, 'Pending', 'a claim no pod uses stays Pending')
})
