// What a real cluster goes through on the way to Ready is waited out, and
// said while it lasts, in the cluster's own words: a volume still being
// provisioned, a node still being added, a throttled or timed-out pull, a
// first start that crashes, a Secret that arrives late, an eviction, a
// cordoned node. Each case reaches Ready.
import t from 'tap'
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { buildConfigMap, buildStatefulSet, buildTlsSecret } from '../../../src/provisioners/kubernetes/manifests.ts'
import type { InstanceSpec } from '../../../src/provisioners/kubernetes/spec.ts'
import type { FakeKubeApi, FakeKubeApiOptions } from '../../fakes/kube-api/index.ts'
import { deployInput, harness, never, INSTANCE_ID, TEST_TLS } from './helpers.ts'

const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 60 }

const TIMEOUT_MESSAGE = 'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/postgres:17": failed to resolve reference "docker.io/library/postgres:17": failed to do request: Head "https://registry-1.docker.io/v2/library/postgres/manifests/17": dial tcp 54.236.113.205:443: i/o timeout'

for (const [name, fake, said] of [
  ['a volume provisioned after a while', { volumeBindingDelayMs: 1500 }, /^PersistentVolumeClaim data-orders-0 is not bound yet(; also waiting for the load balancer's address)?$/],
  ['a node added by the cluster autoscaler', { scaleUpAfterMs: 1500 }, /^no node can run pod orders-0 yet: 0\/1 nodes are available: 1 Insufficient cpu\. .*\(cluster-autoscaler: pod triggered scale-up: \[\{fake-node-pool 1->2 \(max: 3\)\}\]\)/],
  ['a registry that rate-limits the first pulls', { pullFailures: { count: 3 } }, /^pulling postgres:17: 429 Too Many Requests, retrying$/],
  ['a registry that times out', { pullFailures: { count: 2, message: TIMEOUT_MESSAGE } }, /^pulling postgres:17: i\/o timeout, retrying$/],
  // A back-off long enough to be seen however loaded the machine (the realistic 100 ms base can pass between two reads).
  ['a first start that crashes, twice', { crashTimes: { postgres: 2 }, backoffBaseMs: 1500 }, /^PostgreSQL has exited 2 times \(last exit code 1\); the kubelet restarts it after a back-off \(1 of 3 restarts before giving up\)$/],
  ['a storage class that binds on first use', { defaultStorageClass: { name: 'standard', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }, volumeBindingDelayMs: 800 }, /^the kubelet is creating the container of pod orders-0$|^pod orders-0 is waiting for the scheduler|^PersistentVolumeClaim/]
] as const) {
  t.test(`${name}: waited out, and said`, { timeout: 60_000 }, async t => {
    const { provisioner } = await harness(t, fake as FakeKubeApiOptions)
    await provisioner.deployPostgres(deployInput(), never())
    const ctx = never()
    const ready = await provisioner.waitForReady(ref, ctx)
    t.equal(ready.ready, true)
    t.ok(ctx.reports.some(r => said.test(r)), `one of: ${ctx.reports.join(' | ')}`)
  })
}

t.test('Secrets and the ConfigMap that arrive after the StatefulSet: FailedMount, then CreateContainerConfigError, then Ready', async t => {
  const { kube, provisioner } = await harness(t, { namespaces: ['toygres'] })
  const { core, apps } = clients(kube)
  const s = spec()
  // A deploy that crashed half-way, the other way round: the StatefulSet is there, what it mounts is not.
  await apps.createNamespacedStatefulSet({ namespace: 'toygres', body: buildStatefulSet(s) })
  const ctx = never()
  const waiting = provisioner.waitForReady(ref, ctx)
  await reported(ctx, /^pod orders-0 is waiting for its volumes: MountVolume\.SetUp failed for volume "(tls|config)" : (secret "orders-tls"|configmap "orders-config") not found$/)
  await core.createNamespacedSecret({ namespace: 'toygres', body: buildTlsSecret(s, TEST_TLS) })
  await core.createNamespacedConfigMap({ namespace: 'toygres', body: buildConfigMap(s) })
  await reported(ctx, /^pod orders-0 cannot start its container yet: CreateContainerConfigError: secret "orders-credentials" not found$/)
  const out = await provisioner.deployPostgres(deployInput(), never())
  t.same(out.created, ['Secret/orders-credentials', 'Service/orders-headless', 'Service/orders'])
  t.same(out.existing, ['Namespace/toygres', 'Secret/orders-tls', 'ConfigMap/orders-config', 'StatefulSet/orders'])
  t.equal((await waiting).ready, true)
})

t.test('a node drained during the wait: the pod is evicted, waits for a node, and comes back', async t => {
  const { kube, provisioner } = await harness(t, { containerCreatingMs: 1000 })
  await provisioner.deployPostgres(deployInput(), never())
  const ctx = never()
  const waiting = provisioner.waitForReady(ref, ctx)
  await until(kube, () => kube.state.get('pods', 'toygres', 'orders-0')?.spec?.nodeName)
  const first = kube.state.get('pods', 'toygres', 'orders-0')!.metadata.uid
  await kube.drainNode('fake-node-1')
  await reported(ctx, /^no node can run pod orders-0 yet: 0\/1 nodes are available: 1 node\(s\) were unschedulable\./)
  kube.uncordonNode('fake-node-1')
  t.equal((await waiting).ready, true)
  t.not(kube.state.get('pods', 'toygres', 'orders-0')!.metadata.uid, first, 'a new pod, made by the StatefulSet')
})

function spec (): InstanceSpec {
  const i = deployInput()
  return { ...i, mark: { instanceId: INSTANCE_ID, controlPlane: 'test-plane' }, image: 'postgres', control_plane_cidrs: [] }
}

function clients (kube: FakeKubeApi): { core: CoreV1Api, apps: AppsV1Api } {
  const kc = new KubeConfig()
  kc.loadFromFile(kube.kubeconfigPath)
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) }
}

/** Resolves once the wait has said something matching `re`. */
async function reported (ctx: { reports: string[] }, re: RegExp): Promise<void> {
  const end = Date.now() + 30_000
  while (!ctx.reports.some(r => re.test(r))) {
    if (Date.now() > end) throw new Error(`never said ${re}; said: ${ctx.reports.join(' | ')}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

function until (kube: FakeKubeApi, check: () => unknown): Promise<void> {
  return new Promise(resolve => {
    if (check()) return resolve()
    const stop = kube.state.store.subscribe(kube.state.store.resourceVersion, () => { if (check()) { stop(); resolve() } })
  })
}
