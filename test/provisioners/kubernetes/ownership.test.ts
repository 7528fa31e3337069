// Someone else's objects survive everything Toygres does under the same
// names: a create (refused at once, with a reason), the compensation of that
// failed create (which removes only what the create made), and a delete.
// "Someone else" includes look-alikes: managed-by=toygres without our id,
// another instance of ours, the same instance id from another control plane.
import t from 'tap'
import { AppsV1Api, CoreV1Api, KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import {
  buildConfigMap, buildHeadlessService, buildSecret, buildService, buildStatefulSet, buildTlsSecret
} from '../../../src/provisioners/kubernetes/manifests.ts'
import { ownedLabels, selectorLabels, type Mark } from '../../../src/provisioners/kubernetes/names.ts'
import type { InstanceSpec } from '../../../src/provisioners/kubernetes/spec.ts'
import { PermanentProvisionerError } from '../../../src/provisioners/provisioner.ts'
import type { FakeKubeApi } from '../../fakes/kube-api/index.ts'
import { deployInput, harness, never, INSTANCE_ID, TEST_TLS } from './helpers.ts'

const OURS: Mark = { instanceId: INSTANCE_ID, controlPlane: 'test-plane' }
const ANOTHER_ID = '00000000-0000-4000-8000-0000000000ff'
const THIRD_ID = '00000000-0000-4000-8000-0000000000ee'

/** Labels that are not this instance's mark, from plainly foreign to nearly ours. */
const VARIANTS: Array<[string, (name: string) => Record<string, string>, RegExp]> = [
  ['another team\'s', () => ({ team: 'ledger', 'app.kubernetes.io/name': 'ledger' }), /is not managed by Toygres/],
  ['a look-alike (managed-by=toygres, no id)', name => ({ ...selectorLabels(name), 'app.kubernetes.io/managed-by': 'toygres' }), /is not managed by Toygres/],
  ['another Toygres instance\'s', name => ownedLabels(name, { instanceId: ANOTHER_ID, controlPlane: OURS.controlPlane }), /belongs to another Toygres instance \(00000000-0000-4000-8000-0000000000ff\)/],
  ['another control plane\'s (same instance id)', name => ownedLabels(name, { instanceId: INSTANCE_ID, controlPlane: 'plane-b' }), /is managed by another Toygres control plane \(plane-b\)/]
]

type Kind = 'Secret' | 'ConfigMap' | 'Service' | 'StatefulSet' | 'PersistentVolumeClaim'

/** Every object deploy makes, by name, with a foreign stand-in of the same name. */
const OBJECTS: Array<[Kind, string, (s: InstanceSpec) => KubernetesObject]> = [
  ['Secret', 'ledger-credentials', s => buildSecret(s, 'their-password')],
  ['Secret', 'ledger-tls', s => buildTlsSecret(s, TEST_TLS)],
  ['ConfigMap', 'ledger-config', s => buildConfigMap(s)],
  ['Service', 'ledger-headless', s => buildHeadlessService(s)],
  ['Service', 'ledger', s => buildService(s)],
  ['PersistentVolumeClaim', 'data-ledger-0', () => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-ledger-0' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } as KubernetesObject)],
  ['StatefulSet', 'ledger', s => buildStatefulSet(s)]
]

const RESOURCE: Record<Kind, string> = { Secret: 'secrets', ConfigMap: 'configmaps', Service: 'services', StatefulSet: 'statefulsets', PersistentVolumeClaim: 'persistentvolumeclaims' }

function spec (ns: string): InstanceSpec {
  return { ...deployInput({ namespace: ns, instance_name: 'ledger' }), mark: OURS, image: 'postgres', control_plane_cidrs: [] }
}

function api (kube: FakeKubeApi) {
  const kc = new KubeConfig()
  kc.loadFromFile(kube.kubeconfigPath)
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  return async (kind: Kind, namespace: string, body: any): Promise<void> => {
    if (kind === 'Secret') await core.createNamespacedSecret({ namespace, body })
    else if (kind === 'ConfigMap') await core.createNamespacedConfigMap({ namespace, body })
    else if (kind === 'Service') await core.createNamespacedService({ namespace, body })
    else if (kind === 'PersistentVolumeClaim') await core.createNamespacedPersistentVolumeClaim({ namespace, body })
    else await apps.createNamespacedStatefulSet({ namespace, body })
  }
}

t.test('foreign objects of every kind, with and without look-alike labels, survive a create, its compensation and a delete', { timeout: 120_000 }, async t => {
  const namespaces = OBJECTS.flatMap((_o, i) => VARIANTS.map((_v, j) => `case-${i}-${j}`))
  const { kube, provisioner } = await harness(t, { namespaces })
  const create = api(kube)
  for (const [i, [kind, name, build]] of OBJECTS.entries()) {
    for (const [j, [variant, labelsOf, says]] of VARIANTS.entries()) {
      const ns = `case-${i}-${j}`
      const foreign = build(spec(ns))
      foreign.metadata = { name, namespace: ns, labels: labelsOf('ledger') }
      if (kind === 'StatefulSet') {
        (foreign as any).spec.template.metadata.labels = { ...labelsOf('ledger'), ...(foreign as any).spec.selector.matchLabels }
        ;(foreign as any).spec.volumeClaimTemplates[0].metadata.labels = labelsOf('ledger')
      }
      await create(kind, ns, foreign)
      const theirs = kube.state.get(RESOURCE[kind], ns, name)!
      const input = deployInput({ namespace: ns, instance_name: 'ledger' })

      const err = await provisioner.deployPostgres(input, never()).catch((e: unknown) => e) as Error
      t.type(err, PermanentProvisionerError, `${kind} ${name}, ${variant}: create refused`)
      // A foreign StatefulSet has made its claim by now, and the claim is checked first.
      const which = kind === 'StatefulSet' ? '(StatefulSet named ledger|PersistentVolumeClaim named data-ledger-0)' : `${kind} named ${name}`
      t.match(err.message, new RegExp(`^a ${which} already exists in ${ns} and `), `${kind}: says which object`)
      t.match(err.message, says, `${kind}, ${variant}: says whose it is`)

      // The compensation, with this create's instance id, removes only what the create made.
      await provisioner.deletePostgres({ namespace: ns, instance_name: 'ledger', instance_id: INSTANCE_ID, timeout_seconds: 30 }, never())
      // And a delete of yet another instance of that name finds nothing of its own.
      t.same(await provisioner.deletePostgres({ namespace: ns, instance_name: 'ledger', instance_id: THIRD_ID, timeout_seconds: 30 }, never()), { deleted: false })

      const now = kube.state.get(RESOURCE[kind], ns, name)
      t.equal(now?.metadata.uid, theirs.metadata.uid, `${kind} ${name}, ${variant}: still there`)
      t.notOk(now?.metadata.deletionTimestamp, 'not being deleted')
      t.same(now?.metadata.labels, theirs.metadata.labels, 'not relabelled')
      const left = Object.values(RESOURCE).flatMap(r => kube.state.list(r, ns)).filter(o => o.metadata.labels?.['toygres.io/instance-id'] === INSTANCE_ID && o.metadata.labels?.['toygres.io/control-plane'] === 'test-plane')
      t.same(left.map(o => `${o.kind}/${o.metadata.name}`), [], 'nothing of ours is left behind')
    }
  }
})

t.test('the issue\'s data loss, replayed: another team\'s ledger in shop survives', { timeout: 60_000 }, async t => {
  const { kube, provisioner } = await harness(t, { namespaces: ['shop'] })
  const create = api(kube)
  const team = { team: 'ledger' }
  const theirs = spec('shop')
  await create('Service', 'shop', { ...buildService(theirs), metadata: { name: 'ledger', labels: team } })
  const sts = buildStatefulSet(theirs)
  sts.metadata = { name: 'ledger', labels: team }
  sts.spec!.template.metadata!.labels = { ...sts.spec!.selector.matchLabels, ...team }
  sts.spec!.volumeClaimTemplates![0]!.metadata!.labels = team
  await create('StatefulSet', 'shop', sts)
  await until(kube, () => kube.state.get('persistentvolumeclaims', 'shop', 'data-ledger-0'))
  const before = ['services/ledger', 'statefulsets/ledger', 'persistentvolumeclaims/data-ledger-0'].map(p => kube.state.get(p.split('/')[0]!, 'shop', p.split('/')[1]!)!.metadata.uid)

  const err = await provisioner.deployPostgres(deployInput({ namespace: 'shop', instance_name: 'ledger' }), never()).catch((e: unknown) => e) as Error
  t.equal(err.message, 'a Service named ledger already exists in shop and is not managed by Toygres')
  t.same(await provisioner.deletePostgres({ namespace: 'shop', instance_name: 'ledger', instance_id: INSTANCE_ID, timeout_seconds: 30 }, never()), { deleted: true }, 'the compensation removed what the create made')
  t.same(kube.state.list('secrets', 'shop'), [], 'our Secrets went')
  const after = ['services/ledger', 'statefulsets/ledger', 'persistentvolumeclaims/data-ledger-0'].map(p => kube.state.get(p.split('/')[0]!, 'shop', p.split('/')[1]!)?.metadata.uid)
  t.same(after, before, 'their Service, StatefulSet and volume are untouched')
  t.ok(kube.state.get('pods', 'shop', 'ledger-0'), 'and their pod runs on')
})

t.test('day-2 changes refuse what is not this instance\'s', async t => {
  const { kube, provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 30 }, never())
  const other = { namespace: 'toygres', instance_name: 'orders', instance_id: ANOTHER_ID }
  const said = /belongs to another Toygres instance \(00000000-0000-4000-8000-000000000001\); Toygres leaves it alone/
  for (const [what, call] of [
    ['restart', () => provisioner.restartPostgres({ ...other, timeout_seconds: 10 }, never())],
    ['stop', () => provisioner.stopPostgres({ ...other, timeout_seconds: 10 }, never())],
    ['start', () => provisioner.startPostgres({ ...other, timeout_seconds: 10 }, never())],
    ['password', () => provisioner.setPassword({ ...other, password: 'x' }, never())],
    ['resize', () => provisioner.resizeStorage({ ...other, storage_size_gb: 20, timeout_seconds: 600 }, never())],
    ['network', () => provisioner.applyNetwork({ ...other, allowed_cidrs: null }, never())],
    ['connection strings', () => provisioner.getConnectionStrings({ ...other, use_load_balancer: true, dns_label: null, timeout_seconds: 10 }, never())],
    ['wait', () => provisioner.waitForReady({ ...other, timeout_seconds: 10 }, never())],
    ['logs', async () => { for await (const line of provisioner.readLogs({ ...other, tail: 10, follow: false }, new AbortController().signal)) void line }]
  ] as const) {
    await t.rejects((call as () => Promise<unknown>)(), { name: 'PermanentProvisionerError', message: said }, what)
  }
  await t.rejects(provisioner.applyLabels({ ...other, labels: { a: 'b' } }, never()), { name: 'PermanentProvisionerError', message: /has no objects in toygres to label/ })
  t.equal(kube.state.get('statefulsets', 'toygres', 'orders')!.spec.replicas, 1, 'still running')
  t.equal(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0')!.spec.resources.requests.storage, '10Gi')
})

function until (kube: FakeKubeApi, check: () => unknown): Promise<void> {
  return new Promise(resolve => {
    if (check()) return resolve()
    const stop = kube.state.store.subscribe(kube.state.store.resourceVersion, () => { if (check()) { stop(); resolve() } })
  })
}
