// Every activity run twice, and re-run after a crash half-way, converges.
import t from 'tap'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { buildNamespace, buildSecret } from '../../../src/provisioners/kubernetes/manifests.ts'
import { deployInput, harness, never, INSTANCE_ID } from './helpers.ts'

const MARK = { instanceId: INSTANCE_ID, controlPlane: 'test-plane' }

const ALL = ['Namespace/toygres', 'Secret/orders-credentials', 'Secret/orders-tls', 'ConfigMap/orders-config', 'Service/orders-headless', 'Service/orders', 'StatefulSet/orders']

t.test('each activity twice gives the same result', async t => {
  const { kube, provisioner } = await harness(t, { nodes: [{ name: 'n1', region: 'westeurope' }] })
  const input = deployInput()
  const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID }

  const first = await provisioner.deployPostgres(input, never())
  const second = await provisioner.deployPostgres(input, never())
  t.same(first.created, ALL)
  t.same(second, { instance_name: 'orders', namespace: 'toygres', created: [], existing: ALL }, 'the repeat creates nothing')
  t.equal(kube.state.list('statefulsets', 'toygres').length, 1)

  const ready1 = await provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never())
  const ready2 = await provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never())
  t.equal(ready1.ready && ready2.ready, true)
  t.equal(ready2.pod_name, 'orders-0')

  const conn = { ...ref, use_load_balancer: true, dns_label: 'orders', timeout_seconds: 300 }
  const s1 = await provisioner.getConnectionStrings(conn, never())
  t.same(await provisioner.getConnectionStrings(conn, never()), s1)

  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 300 }, never()), { deleted: true })
  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 300 }, never()), { deleted: false })
})

t.test('a deploy that crashed after the Secret converges, and so does its delete', async t => {
  const { kube, provisioner } = await harness(t)
  const input = deployInput()
  // The earlier attempt got as far as the namespace and the Secret.
  const kc = new KubeConfig()
  kc.loadFromFile(kube.kubeconfigPath)
  const core = kc.makeApiClient(CoreV1Api)
  await core.createNamespace({ body: buildNamespace('toygres') })
  await core.createNamespacedSecret({ namespace: 'toygres', body: buildSecret({ ...input, mark: MARK, image: 'postgres', control_plane_cidrs: [] }, input.password) })

  const out = await provisioner.deployPostgres(input, never())
  t.same(out.existing, ['Namespace/toygres', 'Secret/orders-credentials'])
  t.same(out.created, ['Secret/orders-tls', 'ConfigMap/orders-config', 'Service/orders-headless', 'Service/orders', 'StatefulSet/orders'])
  t.ok((await provisioner.waitForReady({ namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 30 }, never())).ready)

  // A delete that crashed after the StatefulSet went: the claim and the Secret are still there.
  await kc.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'toygres', name: 'orders' })
  const { AppsV1Api } = await import('@kubernetes/client-node')
  await kc.makeApiClient(AppsV1Api).deleteNamespacedStatefulSet({ namespace: 'toygres', name: 'orders' })
  t.same(await provisioner.deletePostgres({ namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 300 }, never()), { deleted: true })
  for (const r of ['secrets', 'configmaps', 'services', 'statefulsets', 'pods', 'persistentvolumeclaims']) t.same(kube.state.list(r, 'toygres'), [], `no ${r}`)
})

t.test('deleting in a namespace that does not exist deletes nothing', async t => {
  const { provisioner } = await harness(t)
  t.same(await provisioner.deletePostgres({ namespace: 'nowhere', instance_name: 'orders', instance_id: INSTANCE_ID, timeout_seconds: 300 }, never()), { deleted: false })
})
