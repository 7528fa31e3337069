// What waiting will not fix fails, with the cluster's reason: at once when
// nothing can change it, after a few tries when a retry might (not found,
// crash loops), at the deadline with the last reason seen otherwise. Each
// leaves nothing behind once delete-postgres (the compensation) has run.
import t from 'tap'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../../../src/provisioners/provisioner.ts'
import { WaitTimeoutError } from '../../../src/provisioners/kubernetes/wait.ts'
import type { FakeKubeApi, FakeKubeApiOptions } from '../../fakes/kube-api/index.ts'
import { deployInput, harness, never, INSTANCE_ID, ctxOf } from './helpers.ts'

const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID }
// Far beyond the test's own timeout: passing means the failure was seen, not waited out.
const LONG = { ...ref, timeout_seconds: 3600 }
const RESOURCES = ['secrets', 'configmaps', 'services', 'statefulsets', 'pods', 'persistentvolumeclaims']

type Asserts = Pick<typeof t, 'same'>

async function leavesNothing (t: Asserts, kube: FakeKubeApi, provisioner: Awaited<ReturnType<typeof harness>>['provisioner']): Promise<void> {
  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never()), { deleted: true })
  for (const r of RESOURCES) t.same(kube.state.list(r, 'toygres').map(o => o.metadata.name), [], `no ${r} left`)
}

for (const [name, fake, image, reason] of [
  ['an image the registry does not have', { neverPulls: ['registry.invalid/postgres'] }, 'registry.invalid/postgres', /image registry\.invalid\/postgres:17 cannot be pulled: the registry answered "not found" to 3 pulls: rpc error: code = NotFound/],
  ['an image name that is not valid', {}, 'Not_A/Valid', /image Not_A\/Valid:17 cannot be used: InvalidImageName: Failed to apply default image tag/],
  ['a container that keeps crashing', { crashes: ['crashy/postgres'] }, 'crashy/postgres', /PostgreSQL has exited 4 times \(last exit code 1; CrashLoopBackOff after 3 restarts\); the last lines of its log:\n[\s\S]*FATAL: {2}fake kube-api: this container exits with code 1/]
] as const) {
  t.test(`${name} fails with the reason, long before the deadline`, { timeout: 30_000 }, async t => {
    const { kube, provisioner, logs } = await harness(t, fake as FakeKubeApiOptions, { image })
    await provisioner.deployPostgres(deployInput(), never())
    const ctx = never()
    const err = await provisioner.waitForReady(LONG, ctx).catch((e: unknown) => e) as Error
    t.type(err, PermanentProvisionerError)
    t.match(err.message, /^pod toygres\/orders-0 cannot become ready: /)
    t.match(err.message, reason)
    t.ok(ctx.reports.length > 0, `it said what it waited for: ${ctx.reports.join(' | ')}`)
    t.notOk(logs.join('').includes(deployInput().password))
    await leavesNothing(t, kube, provisioner)
  })
}

t.test('a not-found image is retried: the registry may just be slow to show a new tag', async t => {
  const { provisioner } = await harness(t, { neverPulls: ['postgres:17'] }, {})
  await provisioner.deployPostgres(deployInput(), never())
  const ctx = never()
  await t.rejects(provisioner.waitForReady(LONG, ctx), { name: 'PermanentProvisionerError', message: /postgres:17 cannot be pulled/ })
  t.ok(ctx.reports.some(r => /^pulling postgres:17: not found \(1 of 3 pulls before giving up\), retrying$/.test(r)), ctx.reports.join(' | '))
})

t.test('a pod no node can take: waits to the deadline, then fails with the scheduler\'s words', async t => {
  const { kube, provisioner } = await harness(t, { unschedulable: true })
  await provisioner.deployPostgres(deployInput(), never())
  const started = Date.now()
  const ctx = never()
  const err = await provisioner.waitForReady({ ...ref, timeout_seconds: 2 }, ctx).catch((e: unknown) => e) as Error
  t.type(err, WaitTimeoutError)
  t.ok(Date.now() - started >= 2000, 'not before the deadline: the autoscaler may still add a node')
  t.ok(Date.now() - started < 6000, 'and not long after it')
  t.match(err.message, /^gave up after 2 s waiting for pod toygres\/orders-0 to be Ready: no node can run pod orders-0 yet: 0\/1 nodes are available: 1 Insufficient cpu\./)
  await leavesNothing(t, kube, provisioner)
})

t.test('a claim whose volume is lost fails at once', async t => {
  const { kube, provisioner } = await harness(t, { volumeBindingDelayMs: 60_000 })
  await provisioner.deployPostgres(deployInput(), never())
  const waiting = provisioner.waitForReady(LONG, never())
  await until(kube, () => kube.state.get('pods', 'toygres', 'orders-0')?.status?.conditions?.some((c: any) => c.reason === 'Unschedulable'))
  kube.state.store.update('persistentvolumeclaims', 'toygres', 'data-orders-0', c => { c.status = { phase: 'Lost' } })
  await t.rejects(waiting, { name: 'PermanentProvisionerError', message: /PersistentVolumeClaim data-orders-0 lost its volume \(phase Lost\)/ })
})

t.test('a namespace being deleted: create fails at once, and makes nothing', async t => {
  const { kube, provisioner } = await harness(t, { namespaces: ['shop'] })
  const kc = new KubeConfig()
  kc.loadFromFile(kube.kubeconfigPath)
  const core = kc.makeApiClient(CoreV1Api)
  // Something with a finalizer keeps the namespace Terminating (as a PVC in use or a backup would).
  await core.createNamespacedConfigMap({ namespace: 'shop', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', finalizers: ['example.com/keep'] } } })
  await core.deleteNamespace({ name: 'shop' })
  t.equal(kube.state.get('namespaces', undefined, 'shop')?.status.phase, 'Terminating')
  const started = Date.now()
  await t.rejects(provisioner.deployPostgres(deployInput({ namespace: 'shop' }), never()), {
    name: 'PermanentProvisionerError',
    message: 'namespace shop is being deleted (Terminating): Kubernetes accepts nothing new in it until it is gone; use another namespace or try again once it is deleted'
  })
  t.ok(Date.now() - started < 2000, 'at once')
  for (const r of ['secrets', 'services', 'statefulsets']) t.same(kube.state.list(r, 'shop'), [], `no ${r}`)
})

t.test('a load balancer that never gets an address: bounded wait with the reason, and abortable', async t => {
  const { provisioner } = await harness(t, { loadBalancer: 'none' })
  await provisioner.deployPostgres(deployInput(), never())
  const conn = { ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 1 }
  await t.rejects(provisioner.getConnectionStrings(conn, never()), { name: 'WaitTimeoutError', message: 'gave up after 1 s waiting for the load balancer of Service toygres/orders to get an address: waiting for the load balancer\'s address' })
  const ac = new AbortController()
  const waiting = provisioner.getConnectionStrings(conn, ctxOf(ac.signal))
  setImmediate(() => ac.abort(new Error('stop')))
  await t.rejects(waiting, { message: 'stop' })
})

t.test('a delete held by a finalizer: waits to the deadline, then names the object and the finalizer', async t => {
  const { kube, provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never())
  kube.hold('persistentvolumeclaims', 'toygres', 'data-orders-0', 'backup.example.com/snapshot')
  const ctx = never()
  const err = await provisioner.deletePostgres({ ...ref, timeout_seconds: 2 }, ctx).catch((e: unknown) => e) as Error
  t.type(err, WaitTimeoutError)
  t.match(err.message, /^gave up after 2 s waiting for every object of instance orders in toygres to be gone: PersistentVolumeClaim toygres\/data-orders-0 is being deleted and held by finalizer backup\.example\.com\/snapshot$/)
  t.same(kube.state.list('pods', 'toygres'), [], 'everything else went')
  kube.release('persistentvolumeclaims', 'toygres', 'data-orders-0', 'backup.example.com/snapshot')
  // The retry (delete-postgres is retried by its step policy) finds the claim gone.
  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never()), { deleted: false })
  for (const r of RESOURCES) t.same(kube.state.list(r, 'toygres').map(o => o.metadata.name), [], `no ${r} left`)
})

t.test('a 422 from the API server is a clear, permanent error', async t => {
  const { kube, provisioner } = await harness(t)
  const err = await provisioner.deployPostgres(deployInput({ namespace: 'Bad_Namespace' }), never()).catch((e: unknown) => e) as Error
  t.type(err, PermanentProvisionerError)
  t.match(err.message, /create Namespace Bad_Namespace failed: Namespace "Bad_Namespace" is invalid: metadata\.name: Invalid value: "Bad_Namespace"/)
  t.match(err.message, /HTTP 422 Invalid/)
  t.equal(kube.state.list('namespaces').length, 1, 'only default')
})

t.test('an instance name that would not fit is refused before any call', async t => {
  const { kube, provisioner } = await harness(t)
  await t.rejects(provisioner.deployPostgres(deployInput({ instance_name: 'x'.repeat(41) }), never()), { name: 'PermanentProvisionerError', message: /at most 40 characters/ })
  await t.rejects(provisioner.deployPostgres(deployInput({ postgres_version: '12' }), never()), PermanentProvisionerError)
  await t.rejects(provisioner.deployPostgres(deployInput({ allowed_cidrs: ['everywhere'] }), never()), { message: /"everywhere" is not an IPv4 or IPv6 network/ })
  await t.rejects(provisioner.deployPostgres(deployInput({ labels: { 'app.kubernetes.io/instance': 'other' } }), never()), { message: /is Toygres's own/ })
  t.same(kube.state.list('secrets'), [])
})

t.test('waiting for a pod honours the signal, whenever it comes', async t => {
  const { kube, provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput(), never())
  const ac = new AbortController()
  const waiting = provisioner.waitForReady(LONG, ctxOf(ac.signal))
  setImmediate(() => ac.abort(new Error('cancelled by the operation')))
  await t.rejects(waiting, { message: 'cancelled by the operation' })
  // And once the watch is open.
  const later = new AbortController()
  kube.events.once('watch', () => later.abort(new Error('cancelled later')))
  await t.rejects(provisioner.waitForReady(LONG, ctxOf(later.signal)), { message: 'cancelled later' })
})

t.test('connection strings for an instance that was never deployed', async t => {
  const { provisioner } = await harness(t)
  await t.rejects(provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 300 }, never()), { name: 'PermanentProvisionerError', message: /Service toygres\/orders not found/ })
  await t.rejects(provisioner.waitForReady({ ...ref, timeout_seconds: 300 }, never()), { name: 'PermanentProvisionerError', message: /StatefulSet toygres\/orders does not exist: deploy-postgres first/ })
})

/** Resolves once `check` holds for the fake's store (every change is looked at). */
function until (kube: FakeKubeApi, check: () => unknown): Promise<void> {
  return new Promise(resolve => {
    if (check()) return resolve()
    const stop = kube.state.store.subscribe(kube.state.store.resourceVersion, () => { if (check()) { stop(); resolve() } })
  })
}
